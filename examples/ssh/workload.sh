#!/bin/sh
# The measured workload, uploaded over SFTP into the run's private directory
# on the host and run from there.  Five timed repetitions of sorting
# $SORT_LINES random numbers; one CSV row each, written next to it.
out="$BENCHCTL_HOST_TMPDIR/sort-times.csv"
n=${SORT_LINES:-200000}
echo "iteration,seconds,lines" > "$out"
i=1
while [ $i -le 5 ]; do
  t0=$(date +%s%N)
  awk -v n="$n" 'BEGIN { srand(42); for (j = 0; j < n; j++) print int(rand() * 1e9) }' | sort -n > /dev/null
  t1=$(date +%s%N)
  echo "$i,$(( (t1 - t0) / 1000 ))e-6,$n" >> "$out"
  i=$((i + 1))
done
echo "sorted $n numbers 5 times on $(hostname) ($(uname -sr))"
