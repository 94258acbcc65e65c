#!/usr/bin/env bash
# Fire and forget (issue #3): `futurectl submit --no-wait-reply` sends
# task.submit as a JSON-RPC notification (no "id" member, checked on the
# wire with a stand-in server), prints nothing, exits 0, and the daemon
# creates and runs the task: the count in task.list goes up by exactly one
# (polled, bounded); a notification that futured cannot accept is dropped
# without an answer, and futurectl still prints nothing.
. "$(dirname "$0")/harness.sh"

# ---- on the wire: a stand-in server records the request and answers 200, empty
fake=$T/fake.sock
cat >"$T/fake.py" <<'PY'
import os, socket, sys
path, out = sys.argv[1], sys.argv[2]
scale = float(os.environ.get("FUTURED_TIME_SCALE", "1"))
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
s.settimeout(20 * scale)
c, _ = s.accept()
c.settimeout(20 * scale)
buf = b""
while b"\r\n\r\n" not in buf:
    buf += c.recv(65536)
head, body = buf.split(b"\r\n\r\n", 1)
n = 0
for line in head.split(b"\r\n")[1:]:
    k, _, v = line.partition(b":")
    if k.strip().lower() == b"content-length":
        n = int(v)
while len(body) < n:
    body += c.recv(65536)
open(out, "wb").write(body)
c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n")
c.close()
PY
"$PYTHON" "$T/fake.py" "$fake" "$T/wire.json" &
fp=$!
BG_PIDS="$BG_PIDS $fp"
poll_until 10 test -S "$fake" || fail "the stand-in server did not start"
out=$(timeout "$(scaled 20)" "$FUTURECTL" --socket "$fake" submit --no-wait-reply --label ff=wire -- echo hi)
expect_eq "$?" 0 "exit status of submit --no-wait-reply (stand-in server)"
expect_eq "$out" "" "stdout of submit --no-wait-reply"
wait "$fp" || fail "the stand-in server failed"
w=$(cat "$T/wire.json")
expect_jq "$w" '(has("id") | not) and .jsonrpc == "2.0" and .method == "task.submit"' "the request on the wire"
expect_jq "$w" '.params.kind == "exec" and .params.argv == ["echo","hi"] and .params.labels == {ff: "wire"}' "its params"

# ---- on a real daemon
start_daemon --jobs 2
count() { rpc task.list '{"limit":1000}' | jq '.tasks | length'; }
base=$(count)
ctl submit --no-wait-reply --label ff=1 --shell "echo ran > $T/ff.ran" >"$T/ff.out" 2>"$T/ff.err"
expect_eq "$?" 0 "exit status of submit --no-wait-reply"
[ ! -s "$T/ff.out" ] && [ ! -s "$T/ff.err" ] || fail "submit --no-wait-reply printed: $(cat "$T/ff.out" "$T/ff.err")"
poll_until 10 eval '[ "$(count)" -gt '"$base"' ]' || fail "no task created by submit --no-wait-reply"
expect_eq "$(count)" $((base + 1)) "tasks after one submit --no-wait-reply"
t=$(rpc task.list '{"label":{"ff":"1"}}' | jq -c '.tasks')
expect_jq "$t" 'length == 1' "the fire-and-forget task by its label"
id=$(jq '.[0].id' <<<"$t")
wait_done "$id"
expect_eq "$(state "$id")" succeeded "the fire-and-forget task"
poll_until 5 test -s "$T/ff.ran" || fail "the fire-and-forget task did not run"
# a sleep, a second time: one more each time
ctl submit --no-wait-reply --label ff=2 --sleep 0 >"$T/ff2.out" || fail "submit --no-wait-reply --sleep"
[ ! -s "$T/ff2.out" ] || fail "submit --no-wait-reply --sleep printed: $(cat "$T/ff2.out")"
poll_until 10 eval '[ "$(count)" -eq '"$((base + 2))"' ]' || fail "tasks after two submits --no-wait-reply: $(count)"
# refused by the daemon (KeyConflict): nothing answered, nothing printed, no task
ctl submit --key ffk --sleep 0 >/dev/null || fail "submit --key ffk"
ctl submit --no-wait-reply --key ffk --sleep 5 >"$T/ff3.out" 2>&1
expect_eq "$?" 0 "exit status of a refused notification"
[ ! -s "$T/ff3.out" ] || fail "a refused notification printed: $(cat "$T/ff3.out")"
# bad options are still caught before sending
ctl submit --no-wait-reply --priority 5000 --sleep 0 >/dev/null 2>&1
expect_eq "$?" 2 "submit --no-wait-reply with a bad option"
ctl submit --key ffk2 --sleep 0 >/dev/null || fail "a request after the notifications"
expect_eq "$(count)" $((base + 4)) "tasks at the end (2 notifications, 2 keyed submits)"

stop_daemon
note "fire-and-forget: ok"
