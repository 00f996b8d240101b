#!/usr/bin/env bash
# The core's layers and the one direction of their dependencies
# (docs/architecture.md).  A file in core/<layer>/ may include headers of its
# own layer and of the layers listed for it here, nothing else; this fails
# (exit 1, listing FILE:LINE) when one includes a higher layer.
#
#   usage: scripts/check_layers.sh [CORE_DIR]     (default: core/)
set -euo pipefail
core="${1:-$(dirname "$0")/../core}"

declare -A allowed=(
  [util]=""
  [config]="util"
  [store]="util"
  [analysis]="util config store"
  [report]="util config store analysis"
  [plugin]="util config"
  [run]="util config plugin store analysis report"
  [daemon]="util"
  [cli]="util config plugin store analysis report run daemon"
)

status=0
for layer in "${!allowed[@]}"; do
  [ -d "$core/$layer" ] || continue
  while IFS= read -r hit; do
    file=${hit%%:*}; rest=${hit#*:}; line=${rest%%:*}
    target=$(sed -E 's/.*#[[:space:]]*include[[:space:]]*"([a-z_]+)\/.*/\1/' <<<"$rest")
    [ "$target" = "$layer" ] && continue
    ok=0
    for a in ${allowed[$layer]}; do [ "$a" = "$target" ] && ok=1; done
    if [ $ok = 0 ]; then
      echo "$file:$line: core/$layer includes core/$target (a higher or unrelated layer; allowed: ${allowed[$layer]:-none})" >&2
      status=1
    fi
  done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[a-z_]+/' "$core/$layer" \
             --include='*.c' --include='*.h' || true)
done
# Includes name their layer ("run/run.h"): a relative path would slip past
# the check above.
while IFS= read -r hit; do
  echo "$hit: a relative include; name the layer instead (\"layer/file.h\")" >&2
  status=1
done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]*\.\./' "$core" \
           --include='*.c' --include='*.h' || true)
# Every source file belongs to a layer: nothing directly under core/.
for f in "$core"/*.c "$core"/*.h; do
  [ -e "$f" ] || continue
  echo "$f: a core source outside every layer folder" >&2
  status=1
done
[ $status = 0 ] && echo "check_layers: core/ includes point one way"
exit $status
