#!/usr/bin/env bash
# The queue daemon's socket: garbage, malformed and oversized requests get
# an error reply and the daemon goes on; a second user's task runs as that
# user, and a user may cancel only their own tasks (root any).
source "$(dirname "$0")/lib.sh"
source "$SRC_DIR/tests/cli/queue_lib.sh"

start_daemon --cpus 0 --no-pin --memory 1G

# ---- garbage on the socket ----------------------------------------------------
python3 - "$SOCK" <<'PY' || fail "garbage replies"
import json, socket, sys
path = sys.argv[1]

def exchange(payload, n=1):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(path)
    s.sendall(payload)
    buf = b""
    while buf.count(b"\n") < n:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    return [json.loads(l) for l in buf.split(b"\n") if l]

cases = [
    (b"hello\n", "a request must be one JSON object"),
    (b"[1,2,3]\n", "a request must be one JSON object"),
    (b"\xff\xfe\x00garbage\n", "a request must be one JSON object"),
    (b'{"op":"queue"}\n', "unsupported protocol version"),
    (b'{"v":2,"op":"queue"}\n', "unsupported protocol version"),
    (b'{"v":1}\n', "needs an 'op'"),
    (b'{"v":1,"op":"reboot"}\n', "unknown op 'reboot'"),
    (b'{"v":1,"op":"submit"}\n', "'task' must be an object"),
    (b'{"v":1,"op":"submit","task":{"kind":"command","cwd":"/","output_dir":"/tmp","argv":[]}}\n',
     "needs 'argv'"),
    (b'{"v":1,"op":"submit","task":{"kind":"config","cwd":"relative","config":"/x"}}\n',
     "'cwd' must be an absolute path"),
    (b'{"v":1,"op":"submit","task":{"kind":"command","cwd":"/","output_dir":"/tmp","argv":["true"],"cpus":1e300}}\n',
     "'cpus' must be a whole number"),
    (b'{"v":1,"op":"submit","task":{"kind":"command","cwd":"/","output_dir":"/tmp","argv":[1]}}\n',
     "'argv' must be an array of strings"),
    (b'{"v":1,"op":"cancel","ids":"all"}\n', "'ids' must be a non-empty array"),
    (b'{"v":1,"op":"wait","id":-4}\n', "no such task"),
    (b"x" * 200000 + b"\n", "request longer than 65536 bytes"),
    (b'{"v":1,"op":"queue","pad":"' + b"y" * 70000 + b'"}\n', "request longer than 65536 bytes"),
]
for payload, want in cases:
    replies = exchange(payload)
    assert replies, "no reply to %r" % payload[:40]
    r = replies[0]
    assert r.get("v") == 1 and r.get("ok") is False and want in r.get("error", ""), (payload[:60], r)
# several requests on one connection, a bad one between good ones
rs = exchange(b'{"v":1,"op":"ping"}\nnope\n{"v":1,"op":"ping"}\n', 3)
assert [r["ok"] for r in rs] == [True, False, True], rs
# a client that sends half a line and goes away
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
s.sendall(b'{"v":1,"op":')
s.close()
print("garbage: %d cases answered" % len(cases))
PY
# Every message follows the published schema: requests, replies (also the
# errors above), the events of a followed task.
/usr/bin/python3 - "$SOCK" "$SRC_DIR/docs/schema/queue-protocol.schema.json" "$T" <<'PY' || fail "protocol schema"
import json, socket, sys
import jsonschema
path, schema, tdir = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
v = jsonschema.Draft202012Validator(schema)
def check(m):
    errs = list(v.iter_errors(m))
    assert not errs, (m, [e.message for e in errs[:3]])
def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(120)
    s.connect(path)
    return s, s.makefile("rb")
def send(s, m):
    check(m)
    s.sendall(json.dumps(m).encode() + b"\n")
f, fr = connect()
send(f, {"v": 1, "op": "follow"})
check(json.loads(fr.readline()))
c, cr = connect()
for m in ({"v": 1, "op": "ping"}, {"v": 1, "op": "queue"}, {"v": 1, "op": "cancel", "ids": [999]},
          {"v": 1, "op": "nope"}):
    c.sendall(json.dumps(m).encode() + b"\n")
    check(json.loads(cr.readline()))
send(c, {"v": 1, "op": "submit", "task": {"kind": "command", "argv": ["true"], "cwd": tdir,
                                         "output_dir": tdir + "/runs", "name": "schema"}})
reply = json.loads(cr.readline())
check(reply)
events = []
while True:
    e = json.loads(fr.readline())
    check(e)
    events.append(e["event"])
    if e["event"] == "finished" and e["task"]["id"] == reply["id"]:
        assert e["task"]["state"] == "succeeded", e
        break
assert events[:2] == ["submitted", "started"], events
print("schema: requests, replies and events %s match" % events)
PY
run_bc queue
expect_rc 0 "the daemon after garbage"
run_bc submit --wait -- true
expect_rc 0 "a task after garbage"
kill -0 "$DAEMON_PID" || fail "the daemon died"
pass "garbage, malformed and oversized requests get an error reply; the daemon goes on"

# ---- a second user ---------------------------------------------------------------
if [ "$(id -u)" != 0 ]; then
  echo "skip - a second user's tasks (needs root to create a user)"
  exit 0
fi
user="bcq$$"
useradd -M -U -s /bin/sh "$user" || fail "useradd"
cleanup_hooks+=("userdel $user 2>/dev/null")
stop_daemons; DAEMON_PIDS=()
chmod 755 "$T"
start_daemon --cpus 0 --no-pin --memory 1G --socket-group "$user"
[ "$(stat -c '%a %G' "$SOCK")" = "660 $user" ] || fail "socket mode/group: $(stat -c '%a %G' "$SOCK")"
gate="$T/gate"
# root's task holds the CPU until the gate opens
A=$("$BENCHCTL" submit --name root-task -- sh -c "for i in \$(seq 1200); do [ -e '$gate' ] && exit 0; sleep 0.05; done")
wait_until "root's task" state_is "$A" running
mkdir -m 777 "$T/u"
as_user() { (cd "$T/u" && runuser -u "$user" -- env BENCHCTL_SOCKET="$SOCK" "$BENCHCTL" "$@"); }
B=$(as_user submit --name user-task -- sh -c 'id -un > whoami')
[ "$(task_state "$B")" = pending ] || fail "user task not pending"
[ "$(qjson "[t['user'] for t in q['pending'] if t['id']==$B][0]")" = "$user" ] || fail "owner"
set +e
as_user cancel "$A" >"$T/c.out" 2>"$T/c.err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "a user cancelled root's task (exit $rc)"
expect_in "$(cat "$T/c.err")" "task $A belongs to root: only its owner or root may cancel it"
[ "$(task_state "$A")" = running ] || fail "root's task is no longer running"
touch "$gate"
wait_until "the user's task" state_is "$B" succeeded
[ "$(cat "$T/u/whoami")" = "$user" ] || fail "the task ran as $(cat "$T/u/whoami")"
[ "$(stat -c %U "$T/u/runs")" = "$user" ] || fail "the run store belongs to $(stat -c %U "$T/u/runs")"
# root may cancel anyone's task
C=$(as_user submit --name user-long -- sleep 300)
wait_until "the user's long task" state_is "$C" running
run_bc cancel "$C"
expect_rc 0 "root cancels a user's task"
wait_until "the user's long task to stop" state_is "$C" cancelled
pass "a second user's task runs as that user; they cannot cancel root's task, root can cancel theirs"

# As root, a state directory others can write to is refused (a planted
# journal would run tasks as the users it names; a link would be followed).
mkdir -p "$T/open-state" && chmod 0777 "$T/open-state"
run_bc daemon --foreground --socket "$T/open.sock" --state "$T/open-state" --cpus 0 --memory 64M
expect_rc 1 "a root daemon with a world-writable state directory"
expect_in "$ERR" "must be a directory owned by root and writable by no one else" "open state directory"
[ ! -e "$T/open.sock" ] || fail "the refused daemon left a socket"
chmod 0755 "$T/open-state"
ln -s /etc/hostname "$T/open-state/journal.jsonl"
run_bc daemon --foreground --socket "$T/open.sock" --state "$T/open-state" --cpus 0 --memory 64M
expect_rc 1 "a journal that is a link"
expect_in "$ERR" "journal.jsonl" "a journal that is a link"
pass "a root daemon refuses a state directory others can write to, and a journal that is a link"
