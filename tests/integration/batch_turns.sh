#!/usr/bin/env bash
# A large batch runs over several loop turns (issue #13's loop stalls): a
# few milliseconds of its calls a turn, each turn committing its part, so
# other clients are answered while it runs; its answer still comes whole,
# in order, once everything it did is committed.  Seen from outside: a
# daemon.info answered while a batch of 10,000 submissions runs counts
# some of its tasks but not all (with the batch in one turn, a call either
# comes before it, seeing none, or after it, seeing all).  Likewise
# starting: 10,000 tasks that become ready at once (their queue resumed)
# start over several turns, and a daemon.info sees some of them done.
. "$(dirname "$0")/harness.sh"

N=10000
start_daemon
python3 - "$N" >"$T/batch.json" <<'PY'
import json, sys
n = int(sys.argv[1])
print(json.dumps([{"jsonrpc": "2.0", "id": i, "method": "task.submit",
                   "params": {"kind": "sleep", "seconds": 3600,
                              "queue": "big"}} for i in range(n)]))
PY
# every task, as daemon.info counts them
total() { rpc daemon.info | jq '[.counts[]] | add'; }

# daemon.info asked again and again on one connection while a batch runs
# (a process a call, curl and jq, can be slower than the whole batch on a
# loaded machine): the totals it saw, one a line, after a first "ready"
poll_totals() {
	"$PYTHON" - "$SOCK" "$1" "$(scaled 60)" <<'PY'
import http.client, json, socket, sys, time
class Conn(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(sys.argv[1])
c = Conn("localhost")
def total():
    c.request("POST", "/rpc", json.dumps({"jsonrpc": "2.0", "id": 1,
              "method": "daemon.info", "params": {}}),
              {"Content-Type": "application/json"})
    return sum(json.loads(c.getresponse().read())["result"]["counts"].values())
total()
print("ready", flush=True)
end = time.monotonic() + float(sys.argv[3])
while time.monotonic() < end:
    n = total()
    print(n, flush=True)
    if n >= int(sys.argv[2]):
        sys.exit(0)
sys.exit(1)
PY
}

seen="" before=0
for try in 1 2 3 4 5; do
	poll_totals $((before + N)) >"$T/totals.$try" &
	ppid=$!
	poll_until 30 grep -q ready "$T/totals.$try" ||
	    fail "the poller's first daemon.info was not answered (try $try)"
	curl -s --max-time "$(scaled 60)" --unix-socket "$SOCK" -H 'Expect:' \
	    --data-binary @"$T/batch.json" http://localhost/rpc >"$T/answer.$try" ||
	    fail "the batch's curl failed (try $try)"
	wait "$ppid" || fail "daemon.info never counted the batch's $N tasks (try $try): $(tail -1 "$T/totals.$try")"
	expect_jq "$(cat "$T/answer.$try")" "length == $N and ([.[].id] == [range($N)]) and all(.[]; .result.id | type == \"number\") and ([.[].result.id] | . == sort)" "the answer to batch $try: $N results in order, ids growing"
	after=$(total)
	expect_eq "$after" $((before + N)) "tasks after batch $try"
	n=$(awk -v a="$before" -v z="$((before + N))" '$1 ~ /^[0-9]+$/ && $1 > a && $1 < z { print $1 - a; exit }' "$T/totals.$try")
	[ -n "$n" ] && seen="$n of $N (try $try)"
	before=$after
	[ -n "$seen" ] && break
done
[ -n "$seen" ] || fail "no daemon.info was answered while a batch of $N ran (5 tries)"
note "daemon.info answered in the middle of a batch: $seen"

# a paused queue of 10,000 sleep-0 tasks, resumed: they start (and end)
# over several loop turns, others answered in between
python3 - "$N" >"$T/ready.json" <<'PY'
import json, sys
n = int(sys.argv[1])
print(json.dumps([{"jsonrpc": "2.0", "id": i, "method": "task.submit",
                   "params": {"kind": "sleep", "seconds": 0,
                              "queue": "ready"}} for i in range(n)]))
PY
succeeded() { rpc daemon.info | jq .counts.succeeded; }
seen=""
for try in 1 2 3 4 5; do
	expect_jq "$(rpc queue.set '{"name":"ready","paused":true}')" '.paused == true' "queue ready paused (try $try)"
	done0=$(succeeded)
	curl -s --max-time "$(scaled 60)" --unix-socket "$SOCK" -H 'Expect:' \
	    --data-binary @"$T/ready.json" http://localhost/rpc >"$T/ready.$try" ||
	    fail "the ready tasks' curl failed (try $try)"
	expect_jq "$(cat "$T/ready.$try")" "length == $N and all(.[]; .result.id | type == \"number\")" "$N ready tasks submitted (try $try)"
	before=$((before + N))
	# resumed, then daemon.info asked again and again on one connection
	# (a process a call would be slower than the start of all of them):
	# the counts of succeeded tasks it saw
	"$PYTHON" - "$SOCK" "$((done0 + N))" "$(scaled 60)" >"$T/seen.$try" <<'PY' ||
import http.client, json, socket, sys, time
class Conn(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(sys.argv[1])
c = Conn("localhost")
def call(method, params):
    c.request("POST", "/rpc", json.dumps({"jsonrpc": "2.0", "id": 1,
              "method": method, "params": params}),
              {"Content-Type": "application/json"})
    return json.loads(c.getresponse().read())["result"]
assert call("queue.set", {"name": "ready", "paused": False})["paused"] is False
end = time.monotonic() + float(sys.argv[3])
while time.monotonic() < end:
    n = call("daemon.info", {})["counts"]["succeeded"]
    print(n)
    if n >= int(sys.argv[2]):
        sys.exit(0)
sys.exit(1)
PY
	    fail "the $N resumed tasks were not all done within $(scaled 60) s (try $try): $(tail -1 "$T/seen.$try")"
	n=$(awk -v a="$done0" -v z="$((done0 + N))" '$1 > a && $1 < z { print $1 - a; exit }' "$T/seen.$try")
	[ -n "$n" ] && seen="$n of $N (try $try)" && break
done
[ -n "$seen" ] || fail "no daemon.info was answered while $N ready tasks started (5 tries)"
note "daemon.info answered while a resumed queue's tasks started: $seen done"

# after a restart every acknowledged task is there
stop_daemon
start_daemon
expect_eq "$(total)" "$before" "tasks after a restart"
stop_daemon
expect_eq "$DAEMON_RC" 0 "exit status"
note "ok: a batch of $N answered whole; daemon.info answered in its middle"
