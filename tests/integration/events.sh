#!/usr/bin/env bash
# GET /events (issue #15): Server-Sent Events of task transitions and queue
# changes, in order, filtered by queue, label, task and type; resumed with
# Last-Event-ID (exactly the missed events), a reset for an id out of the
# window or of another run; bad filters answered 400; a client that does
# not read is dropped with its buffer bounded, and the daemon goes on.
. "$(dirname "$0")/harness.sh"
start_daemon

STREAMS=""
# stream NAME QUERY [curl args...]: reads /events?QUERY into $T/NAME.sse
stream() {
	local name=$1 query=$2
	shift 2
	curl -sN --max-time "$(scaled 120)" --unix-socket "$SOCK" "$@" \
	    "http://localhost/events?$query" >"$T/$name.sse" 2>/dev/null &
	STREAMS="$STREAMS $!"
	# connected once the retry line is in
	poll_until 10 grep -q '^retry: ' "$T/$name.sse" || fail "stream $name did not start"
}
stop_streams() { for p in $STREAMS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; STREAMS=""; }
# (no trap of its own: harness.sh's cleanup, which a trap here would
# replace, ends the streams with every other job, the daemon included)
# types NAME -> the event types received, one line "task type" each
types() { sed -n 's/^data: //p' "$T/$1.sse" | jq -r '"\(.task // .queue) \(.type)"'; }
# want_events NAME N: waits until NAME has N data lines
want_events() {
	poll_until 20 eval '[ "$(grep -c "^data: " "$T/'"$1"'.sse")" -ge '"$2"' ]' ||
	    fail "stream $1: $(grep -c '^data: ' "$T/$1.sse") events, want $2: $(cat "$T/$1.sse")"
}

# ---- bad filters: 400 with a reason, nothing streamed
for q in 'foo=1' 'task=abc' 'task=-3' 'label=nokv' 'queue=%zz' 'queue=a%00b' 'queue'; do
	r=$(curl -s -w ' %{http_code}' --max-time 5 --unix-socket "$SOCK" "http://localhost/events?$q")
	[[ $r == *'"status":400'*' 400' ]] || fail "events?$q: $r"
done
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST --max-time 5 --unix-socket "$SOCK" http://localhost/events)" 405 "POST /events"
expect_eq "$(curl -s -I -o /dev/null -w '%{http_code} %{size_download}' --max-time 5 --unix-socket "$SOCK" http://localhost/events)" "200 0" "HEAD /events: no stream"

# ---- one stream of everything, filtered ones beside it
stream all ''
stream qa 'queue=qa'
stream lab 'label=team%3Dblue'
stream fin 'type=task.succeeded,task.failed,queue'
a=$(submit '{"kind":"exec","argv":["true"],"queue":"qa"}')
wait_done "$a"	# all of a's events before stream one and b's
stream one "task=$a"	# after the fact: sees nothing of a (done before)
b=$(submit '{"kind":"exec","argv":["sh","-c","exit 1"],"queue":"qb","labels":{"team":"blue"},"retries":1,"retry_backoff":0.01}')
wait_done "$a"; wait_done "$b" 20
ctl queue pause --create qc >/dev/null || fail "pause qc"
want_events all 9

expect_eq "$(types all)" "$a task.created
$a task.started
$a task.succeeded
$b task.created
$b task.started
$b task.retrying
$b task.started
$b task.failed
qc queue.changed" "every event, in order (stream all)"
expect_eq "$(types qa)" "$a task.created
$a task.started
$a task.succeeded" "queue=qa"
want_events lab 5
expect_eq "$(types lab)" "$b task.created
$b task.started
$b task.retrying
$b task.started
$b task.failed" "label team=blue"
want_events fin 3
expect_eq "$(types fin)" "$a task.succeeded
$b task.failed
qc queue.changed" "type=task.succeeded,task.failed,queue"
expect_eq "$(grep -c '^data: ' "$T/one.sse")" 0 "task=$a connected after it ended: nothing"
# what the events say
last=$(sed -n 's/^data: //p' "$T/all.sse" | jq -c "select(.task == $b and .type == \"task.failed\")")
expect_jq "$last" '.kind == "exec" and .queue == "qb" and .state == "failed" and .attempt == 2 and .labels.team == "blue" and .exception.type == "ProcessError" and (.run >= 0)' "the failed event"
started=$(sed -n 's/^data: //p' "$T/all.sse" | jq -c "select(.task == $a and .type == \"task.started\")")
expect_jq "$started" '.wait >= 0 and .state == "running" and .attempt == 1' "the started event"
qc=$(sed -n 's/^data: //p' "$T/all.sse" | jq -c 'select(.type == "queue.changed")')
expect_jq "$qc" '.settings.paused == true and .settings.name == "qc"' "the queue event"
# ids: RUN-SEQ, increasing
ids=$(sed -n 's/^id: //p' "$T/all.sse")
run=$(head -1 <<<"$ids" | cut -d- -f1)
expect_eq "$(cut -d- -f1 <<<"$ids" | sort -u)" "$run" "one run in the ids"
expect_eq "$(cut -d- -f2 <<<"$ids" | tr '\n' ' ')" "$(cut -d- -f2 <<<"$ids" | sort -n | tr '\n' ' ')" "ids increase"

# ---- resume: exactly what came after the id given
third=$(sed -n 3p <<<"$ids")
stream resumed '' -H "Last-Event-ID: $third"
want_events resumed 6
expect_eq "$(types resumed)" "$(types all | tail -n +4)" "resumed after the third event"
# an id of another run, or garbage: reset, then live events only
for bad in "1-1" "garbage" "$((run + 1))-2"; do
	stream "reset$bad" '' -H "Last-Event-ID: $bad"
	grep -q '^event: reset' "$T/reset$bad.sse" || fail "Last-Event-ID $bad: no reset: $(cat "$T/reset$bad.sse")"
	expect_eq "$(grep -c '^data: {"type":"task' "$T/reset$bad.sse")" 0 "Last-Event-ID $bad: no old events"
done
stop_streams

# ---- a client that does not read is dropped; the others go on
python3 - "$SOCK" "$T" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(sys.argv[1])
s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
open(sys.argv[2] + "/slow.ready", "w").close()
time.sleep(300)     # never reads; killed by the test
EOF
SLOW=$!
STREAMS="$SLOW"
poll_until 10 test -e "$T/slow.ready" || fail "slow client did not connect"
stream fast 'type=task.succeeded'
# 4,000 tasks: 12,000 events, about 2 MB: more than the 1 MiB a client may owe
"$PYTHON" -c 'import json; print(json.dumps([{"jsonrpc":"2.0","id":i,"method":"task.submit","params":{"kind":"sleep","seconds":0,"labels":{"pad":"x"*60}}} for i in range(4000)]))' >"$T/many.json"
post "@$T/many.json" >"$T/many.out"
expect_eq "$(jq '[.[] | select(.result.id)] | length' "$T/many.out")" 4000 "4,000 submitted"
poll_until 60 grep -q "dropped a client that does not read" "$STATE/daemon.log" ||
    fail "the slow client was not dropped"
want_events fast 4000
m=$(curl -s --unix-socket "$SOCK" http://localhost/metrics)
expect_eq "$(awk '$1 == "futured_events_clients_dropped_total" { print $2 }' <<<"$m")" 1 "one client dropped"
expect_eq "$(awk '$1 == "futured_events_clients" { print $2 }' <<<"$m")" 1 "the fast client is still there"
rss=$(awk '$1 == "process_resident_memory_bytes" { print $2 }' <<<"$m")
[ "$rss" -lt 200000000 ] || fail "resident memory $rss after 12,000 events"
stop_streams
expect_jq "$(rpc daemon.info)" '.pid > 0' "the daemon answers"
exit 0
