#!/usr/bin/env bash
# task.wait and the long-polls of task.result/task.exception (issue #2):
# ALL_COMPLETED, FIRST_COMPLETED and FIRST_EXCEPTION semantics, timeout 0,
# answers pushed as soon as a task finishes (not at the next poll), a
# long-poll sent as a notification answered at once, 50 waiters on one task
# all answered, 800 (answered in slices) with a third hanging up,
# abandoned waits harmless, a batch holding a long-poll answered
# whole, NoSuchTask, and the server cap (--max-wait 1 clamps timeout 100 and
# null).  How long an answer took is curl's own time for the request; its
# upper bounds are scaled by FUTURED_TIME_SCALE (issue #11).
. "$(dirname "$0")/harness.sh"
start_daemon --jobs 4

# timed METHOD PARAMS -> "SECONDS RESPONSE" (curl's time for the request)
timed() { CURL_MAX=40 timed_call "$@"; }
# under BOUND SECONDS: is SECONDS below BOUND, scaled?
under() { bc_true "$2 < $(scaled "$1")"; }
secs() { echo "${1%% *}"; }
body() { echo "${1#* }"; }

# ---- ALL_COMPLETED (the default): answered when the last one finishes
t1=$(now)
a=$(submit '{"kind":"sleep","seconds":0.2}')
b=$(submit '{"kind":"sleep","seconds":0.6}')
x=$(timed task.wait "{\"ids\":[$a,$b],\"timeout\":20}")
dt=$(since "$t1")
expect_jq "$(body "$x")" "(.result.done | sort) == ([$a,$b] | sort) and .result.pending == []" "ALL_COMPLETED (default)"
bc_true "$dt >= 0.6" && under 2.5 "$(secs "$x")" || fail "ALL_COMPLETED on 0.2 s and 0.6 s sleeps answered after $(secs "$x")s"

# ---- FIRST_COMPLETED: answered as soon as the 0.3 s one is done
# (b, "long", stays pending to the end of the first daemon: cancelled there)
t1=$(now)
a=$(submit '{"kind":"sleep","seconds":0.3}')
b=$(submit '{"kind":"sleep","seconds":3600}')
x=$(timed task.wait "{\"ids\":[$a,$b],\"return_when\":\"FIRST_COMPLETED\",\"timeout\":30}")
dt=$(since "$t1")
expect_jq "$(body "$x")" ".result.done == [$a] and .result.pending == [$b]" "FIRST_COMPLETED"
bc_true "$dt >= 0.3" && under 2 "$(secs "$x")" || fail "FIRST_COMPLETED on a 0.3 s sleep answered after $(secs "$x")s (${dt}s after its submit)"
long=$b

# ---- FIRST_EXCEPTION: a failure answers at once; without one it is ALL_COMPLETED
ok=$(submit '{"kind":"sleep","seconds":0}')
wait_done "$ok"
f=$(submit '{"kind":"exec","shell":"sleep 0.2; exit 1"}')
x=$(timed task.wait "{\"ids\":[$f,$long,$ok],\"return_when\":\"FIRST_EXCEPTION\",\"timeout\":30}")
expect_jq "$(body "$x")" "(.result.done | sort) == ([$f,$ok] | sort) and .result.pending == [$long]" "FIRST_EXCEPTION"
under 2.5 "$(secs "$x")" || fail "FIRST_EXCEPTION answered after $(secs "$x")s"
a=$(submit '{"kind":"sleep","seconds":0.1}')
t1=$(now)
b=$(submit '{"kind":"sleep","seconds":0.5}')
x=$(timed task.wait "{\"ids\":[$a,$b],\"return_when\":\"FIRST_EXCEPTION\",\"timeout\":20}")
dt=$(since "$t1")
expect_jq "$(body "$x")" "(.result.done | sort) == ([$a,$b] | sort) and .result.pending == []" "FIRST_EXCEPTION without failures waits for all"
bc_true "$dt >= 0.5" || fail "FIRST_EXCEPTION without failures answered after $(secs "$x")s, before the 0.5 s sleep ended"
# an already failed task answers FIRST_EXCEPTION at once; a cancelled one is no exception
c=$(submit '{"kind":"sleep","seconds":60}')
rpc task.cancel "{\"id\":$c}" >/dev/null
x=$(timed task.wait "{\"ids\":[$c,$long],\"return_when\":\"FIRST_EXCEPTION\",\"timeout\":1}")
expect_jq "$(body "$x")" ".result.done == [$c] and .result.pending == [$long]" "FIRST_EXCEPTION with a cancelled task"
bc_true "$(secs "$x") >= 0.9" || fail "a cancellation ended FIRST_EXCEPTION early ($(secs "$x")s)"
x=$(timed task.wait "{\"ids\":[$f,$long],\"return_when\":\"FIRST_EXCEPTION\",\"timeout\":20}")
under 1 "$(secs "$x")" || fail "FIRST_EXCEPTION with a failed task took $(secs "$x")s"

# ---- timeouts: 0 answers at once, a number waits that long, done ids at once
x=$(timed task.wait "{\"ids\":[$long],\"timeout\":0}")
expect_jq "$(body "$x")" ".result.done == [] and .result.pending == [$long]" "timeout 0"
under 0.5 "$(secs "$x")" || fail "timeout 0 took $(secs "$x")s"
x=$(timed task.wait "{\"ids\":[$long],\"timeout\":1}")
expect_jq "$(body "$x")" ".result.pending == [$long]" "timeout 1 on a long sleep"
bc_true "$(secs "$x") >= 0.9" && under 2.5 "$(secs "$x")" || fail "timeout 1 answered after $(secs "$x")s"
x=$(timed task.wait "{\"ids\":[$a,$b],\"timeout\":30}")
under 0.5 "$(secs "$x")" || fail "wait on finished tasks took $(secs "$x")s"
expect_jq "$(body "$x")" ".result.pending == []" "wait on finished tasks"

# ---- task.result / task.exception long-polls
t1=$(now)
s=$(submit '{"kind":"sleep","seconds":0.5,"result":"r"}')
x=$(timed task.result "{\"id\":$s,\"timeout\":10}")
dt=$(since "$t1")
expect_jq "$(body "$x")" '.result == "r"' "task.result waits for the result"
bc_true "$dt >= 0.5" && under 2 "$(secs "$x")" || fail "task.result of a 0.5 s sleep answered after $(secs "$x")s"
x=$(timed task.result "{\"id\":$long,\"timeout\":0.5}")
expect_jq "$(body "$x")" ".error.code == 3 and .error.data.id == $long" "task.result TaskNotDone after its timeout"
bc_true "$(secs "$x") >= 0.45" && under 2 "$(secs "$x")" || fail "task.result timeout 0.5 answered after $(secs "$x")s"
e=$(submit '{"kind":"exec","shell":"sleep 0.3; echo nope >&2; exit 4"}')
x=$(timed task.exception "{\"id\":$e,\"timeout\":10}")
expect_jq "$(body "$x")" '.result.type == "ProcessError" and .result.exit_code == 4' "task.exception waits for the exception"
under 2 "$(secs "$x")" || fail "task.exception answered after $(secs "$x")s"
x=$(timed task.exception "{\"id\":$long,\"timeout\":0.3}")
expect_jq "$(body "$x")" '.error.code == 3' "task.exception TaskNotDone after its timeout"

# ---- a long-poll sent as a notification is answered at once (with nothing)
for m in "task.wait\",\"params\":{\"ids\":[$long],\"timeout\":30}" "task.result\",\"params\":{\"id\":$long,\"timeout\":30}"; do
	read -r st dt < <(http_status "{\"jsonrpc\":\"2.0\",\"method\":\"$m}" -o "$T/nb" -w '%{http_code} %{time_total}')
	expect_eq "$st" 200 "long-poll notification status"
	[ ! -s "$T/nb" ] || fail "long-poll notification answered with a body: $(cat "$T/nb")"
	under 1 "$dt" || fail "long-poll notification took ${dt}s"
done

# ---- 50 waiters on one task, all answered when it finishes
w=$(submit '{"kind":"sleep","seconds":1,"result":"w"}')
pids=""
for i in $(seq 50); do
	if [ $((i % 2)) = 0 ]; then
		p="{\"jsonrpc\":\"2.0\",\"id\":$i,\"method\":\"task.wait\",\"params\":{\"ids\":[$w],\"timeout\":20}}"
	else
		p="{\"jsonrpc\":\"2.0\",\"id\":$i,\"method\":\"task.result\",\"params\":{\"id\":$w,\"timeout\":20}}"
	fi
	curl -s --max-time 30 --unix-socket "$SOCK" -H 'Expect:' -o "$T/w.$i" --data-binary "$p" http://localhost/rpc &
	pids="$pids $!"
done
BG_PIDS=$pids
t0=$(now)
for p in $pids; do wait "$p"; done
BG_PIDS=""
dt=$(since "$t0")
under 4 "$dt" || fail "50 waiters on a 1 s sleep answered after ${dt}s"
for i in $(seq 50); do
	if [ $((i % 2)) = 0 ]; then want=".result.done == [$w]"; else want='.result == "w"'; fi
	expect_jq "$(cat "$T/w.$i")" "$want and .id == $i" "waiter $i"
done

# ---- 800 waiters on one task (several of the daemon's answer slices of
# 256), a third of them hanging up before the answers go out: every waiter
# still connected gets its own answer, and
# the daemon goes on serving.  The task ends when the script opens its gate,
# once the daemon holds all 800 waits and a third have hung up.
many=$(submit "$(jq -cn --arg g "$T/many.go" '{kind: "exec", capture: "json",
    shell: "while [ ! -e \($g) ]; do sleep 0.05; done; echo \\\"m\\\""}')")
cat >"$T/many.py" <<'PY'
import json, os, socket, sys, time
sock, tid, n, gate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
scale = float(os.environ.get("FUTURED_TIME_SCALE", "1"))
def waiters():
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    s.settimeout(10 * scale)
    body = b'{"jsonrpc":"2.0","id":0,"method":"daemon.info"}'
    s.sendall(b"POST /rpc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
              b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    return json.loads(data.split(b"\r\n\r\n", 1)[1])["result"]["waiters"]
w0 = waiters()
conns = []
for i in range(n):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    if i % 2:
        req = {"jsonrpc": "2.0", "id": i, "method": "task.result",
               "params": {"id": tid, "timeout": 20}}
    else:
        req = {"jsonrpc": "2.0", "id": i, "method": "task.wait",
               "params": {"ids": [tid], "timeout": 20}}
    body = json.dumps(req).encode()
    s.sendall(b"POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body) + body)
    conns.append(s)
# every wait parked in the daemon, then a third, spread over the list, hang
# up; then the task may finish
end = time.time() + 30 * scale
while waiters() < w0 + n:
    if time.time() > end:
        sys.exit("the daemon holds %d waits, not %d" % (waiters() - w0, n))
    time.sleep(0.05)
for i in range(0, n, 3):
    conns[i].close()
open(gate, "w").close()
bad = 0
for i, s in enumerate(conns):
    if i % 3 == 0:
        continue
    s.settimeout(20 * scale)
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    n_len = int([l.split(b":")[1] for l in head.split(b"\r\n")
                 if l.lower().startswith(b"content-length")][0])
    while len(body) < n_len:
        body += s.recv(65536)
    r = json.loads(body)
    want = "m" if i % 2 else {"done": [tid], "pending": []}
    if r.get("id") != i or r.get("result") != want:
        bad += 1
        print("waiter %d: %r" % (i, r))
print("answered=%d bad=%d" % (n - len(range(0, n, 3)), bad))
sys.exit(1 if bad else 0)
PY
out=$("$PYTHON" "$T/many.py" "$SOCK" "$many" 800 "$T/many.go") || fail "800 waiters: $out"
expect_eq "$(tail -1 <<<"$out")" "answered=533 bad=0" "800 waiters, a third gone"
expect_jq "$(call daemon.info)" '.result.waiters == 0' "no waiter left registered"

# ---- clients that give up on a wait leave the daemon serving
ab=$(submit '{"kind":"sleep","seconds":1.5}')
pids=""
for i in $(seq 20); do
	curl -s --max-time 0.3 --unix-socket "$SOCK" -H 'Expect:' -o /dev/null \
	    --data-binary "{\"jsonrpc\":\"2.0\",\"id\":$i,\"method\":\"task.wait\",\"params\":{\"ids\":[$ab],\"timeout\":20}}" http://localhost/rpc &
	pids="$pids $!"
done
BG_PIDS=$pids
for p in $pids; do wait "$p"; done
BG_PIDS=""
wait_done "$ab"
alive "$DPID" || fail "futured died after abandoned waits"
expect_jq "$(call daemon.info)" ".result.pid == $DPID" "daemon.info after abandoned waits"

# ---- a batch holding a long-poll is answered whole, in order, once the wait ends
x=$(CURL_MAX=20 timed_post "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"task.wait\",\"params\":{\"ids\":[$long],\"timeout\":1}},{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"daemon.info\"},{\"jsonrpc\":\"2.0\",\"method\":\"task.wait\",\"params\":{\"ids\":[$long],\"timeout\":30}}]")
r=$(body "$x") dt=$(secs "$x")
expect_jq "$r" "length == 2 and .[0].id == 1 and .[0].result.pending == [$long] and .[1].id == 2 and (.[1].result | type) == \"object\"" "batch with a long-poll"
bc_true "$dt >= 0.9" && under 3 "$dt" || fail "batch with a 1 s long-poll answered after ${dt}s"

# ---- a wait on 3,000 tasks (done one by one, each counted once) answers
# when the last is done, FIRST_EXCEPTION on the one failure among them
many=$(post "$(jq -nc '[range(3000) | {jsonrpc: "2.0", id: ., method: "task.submit",
    params: (if . == 2000 then {kind: "sleep", seconds: 0.5, timeout: 0.2}
    else {kind: "sleep", seconds: (0.2 + (. % 10) / 10)} end)}]')" |
    jq -c '[.[].result.id]')
expect_jq "$many" 'length == 3000 and all(type == "number")' "3,000 submitted"
failed=$(jq '.[2000]' <<<"$many")
x=$(timed task.wait "{\"ids\":$(jq -c ". + [$long]" <<<"$many"),\"return_when\":\"FIRST_EXCEPTION\",\"timeout\":60}")
expect_jq "$(body "$x")" "(.result.done | index($failed)) != null and (.result.pending | index($long)) != null" "FIRST_EXCEPTION among 3,000"
under 20 "$(secs "$x")" || fail "FIRST_EXCEPTION among 3,000 answered after $(secs "$x")s"
x=$(timed task.wait "{\"ids\":$many,\"timeout\":60}")
expect_jq "$(body "$x")" "(.result.done | length) == 3000 and .result.pending == [] and .result.done == $many" "ALL_COMPLETED on 3,000"

# ---- unknown ids
expect_jq "$(call task.wait "{\"ids\":[$long,987654321],\"timeout\":5}")" '.error.code == 4 and .error.data.id == 987654321' "task.wait NoSuchTask"
expect_jq "$(call task.result '{"id":987654321,"timeout":5}')" '.error.code == 4' "task.result NoSuchTask"
expect_eq "$(state "$long")" running "the long sleep at the end"
expect_jq "$(rpc task.cancel "{\"id\":$long}")" '.cancelled == true' "cancel the long sleep"
stop_daemon
expect_eq "$DAEMON_RC" 0 "exit status"

# ---- the server cap: --max-wait 1 clamps long timeouts and null
new_state
start_daemon --max-wait 1
z=$(submit '{"kind":"sleep","seconds":60}')
x=$(timed task.wait "{\"ids\":[$z],\"timeout\":100}")
expect_jq "$(body "$x")" ".result.pending == [$z] and .result.done == []" "capped wait answers with the pending ids"
bc_true "$(secs "$x") >= 0.9" && under 3 "$(secs "$x")" || fail "timeout 100 under --max-wait 1 answered after $(secs "$x")s"
x=$(timed task.wait "{\"ids\":[$z]}")
bc_true "$(secs "$x") >= 0.9" && under 3 "$(secs "$x")" || fail "wait without timeout under --max-wait 1 answered after $(secs "$x")s"
x=$(timed task.wait "{\"ids\":[$z],\"timeout\":null}")
bc_true "$(secs "$x") >= 0.9" && under 3 "$(secs "$x")" || fail "timeout null under --max-wait 1 answered after $(secs "$x")s"
x=$(timed task.result "{\"id\":$z,\"timeout\":null}")
expect_jq "$(body "$x")" '.error.code == 3' "task.result timeout null: TaskNotDone at the cap"
bc_true "$(secs "$x") >= 0.9" && under 3 "$(secs "$x")" || fail "task.result timeout null under --max-wait 1 answered after $(secs "$x")s"
x=$(timed task.exception "{\"id\":$z,\"timeout\":100}")
bc_true "$(secs "$x") >= 0.9" && under 3 "$(secs "$x")" || fail "task.exception timeout 100 under --max-wait 1 answered after $(secs "$x")s"
stop_daemon
expect_eq "$DAEMON_RC" 0 "exit status"
note "ok: wait semantics, long-polls and the cap"
