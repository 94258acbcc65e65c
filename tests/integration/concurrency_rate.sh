#!/usr/bin/env bash
# Concurrency keys and rate limits (issue #17) against a real futured: at
# most N tasks with a key run at once, across queues; a saturated key
# never blocks the tasks behind it; 1,000 tasks of 10 keys never exceed a
# key's limit; a rate limit's starts hold to its rate over 10 s, a bucket
# a key; the wait shows in task.get and /metrics; limits survive kill -9;
# bad input is refused naming the field; an end wakes the best waiter of
# each queue.  Futures the test completes hold the keys, so no sleep races
# the load.
. "$(dirname "$0")/harness.sh"

# jq: an RFC 3339 time with milliseconds as epoch seconds
TS='def ts: (sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) + (capture("\\.(?<f>[0-9]+)Z$").f | "0." + . | tonumber);'

start_daemon

# ---- a key's limit, across queues, and no head-of-line blocking
a1=$(submit '{"kind":"future","concurrency":{"cust:A":1}}')
a2=$(submit '{"kind":"future","concurrency":{"cust:A":1}}')
a3=$(submit '{"kind":"future","queue":"other","concurrency":{"cust:A":1}}')
b1=$(submit '{"kind":"future","concurrency":{"cust:B":1}}')
wait_state "$a1" running
wait_state "$b1" running
expect_eq "$(state "$a2")" pending "a second task of a key with limit 1"
expect_eq "$(state "$a3")" pending "the key holds in another queue too"
expect_jq "$(rpc task.get "{\"id\":$a2}")" '.waiting_for == {"limit":"concurrency","key":"cust:A"} and .limits == {"concurrency":{"cust:A":1}}' "task.get shows the wait"
expect_eq "$(curl -s --unix-socket "$SOCK" http://localhost/metrics | grep '^futured_limit_waiting_tasks{limit="concurrency"} ')" 'futured_limit_waiting_tasks{limit="concurrency"} 2' "the wait in /metrics"
rpc task.set_result "{\"id\":$a1}" >/dev/null
poll_until 10 eval '[ "$(state "$a2")" = running ] || [ "$(state "$a3")" = running ]' || fail "no A task started after the first ended"
sleep 0.2
running=0
for id in $a2 $a3; do [ "$(state "$id")" = running ] && running=$((running + 1)); done
expect_eq "$running" 1 "one A task at a time"
# several keys: it waits for the fullest
c1=$(submit '{"kind":"future","concurrency":{"cust:B":1,"db":5}}')
expect_jq "$(rpc task.get "{\"id\":$c1}")" '.state == "pending" and .waiting_for.key == "cust:B"' "a task of two keys waits for the full one"
rpc task.set_result "{\"id\":$b1}" >/dev/null
wait_state "$c1" running
# a cancelled waiter leaves the line
for id in $a2 $a3; do [ "$(state "$id")" = pending ] && wa=$id; done
rpc task.cancel "{\"id\":$wa}" >/dev/null
expect_eq "$(state "$wa")" cancelled "a waiting task cancelled"
for id in $a2 $a3 $c1; do rpc task.cancel "{\"id\":$id}" >/dev/null; done

# ---- 1,000 tasks of 10 keys, limit 2 each: never more than 2 at once
body='['
for i in $(seq 0 999); do
	body="$body{\"jsonrpc\":\"2.0\",\"id\":$i,\"method\":\"task.submit\",\"params\":{\"kind\":\"sleep\",\"seconds\":0.01,\"labels\":{\"run\":\"keys\"},\"concurrency\":{\"k$((i % 10))\":2}}},"
done
body="${body%,}]"
r=$(post "$body")
expect_jq "$r" 'length == 1000 and all(.[]; .result.id != null)' "1,000 submitted"
last=$(jq '[.[].result.id] | max' <<<"$r")
wait_done "$last" 120
poll_until 120 eval '[ "$(rpc daemon.info | jq ".counts.pending + .counts.running")" = 0 ]' || fail "the keyed tasks did not all finish"
tasks=$(rpc task.list '{"label":{"run":"keys"},"limit":1000}' | jq -c "$TS"' [.tasks[] | {k: (.limits.concurrency | keys[0]), s: (.started_at | ts), f: (.finished_at | ts), state}]')
expect_jq "$tasks" 'length == 1000 and all(.[]; .state == "succeeded")' "all 1,000 succeeded"
# the most of one key running at any start (a waiter starts a turn after
# the task it waited for finished: finished_at <= its started_at)
maxrun=$(jq '[group_by(.k)[] as $t | $t[] | .s as $at | [$t[] | select(.s <= $at and .f > $at)] | length] | max' <<<"$tasks")
[ "$maxrun" -le 2 ] || fail "a key with limit 2 ran $maxrun tasks at once"
[ "$maxrun" -ge 1 ] || fail "no keyed task overlap computed"

# ---- a rate limit: 50 starts a second, held over 10 s within 5%
expect_jq "$(rpc rate.set '{"name":"api","starts":50,"per":1}')" '. == {"name":"api","starts":50,"per":1,"burst":1}' "rate.set"
body='['
for i in $(seq 0 649); do
	body="$body{\"jsonrpc\":\"2.0\",\"id\":$i,\"method\":\"task.submit\",\"params\":{\"kind\":\"sleep\",\"seconds\":0,\"labels\":{\"run\":\"rate\"},\"rate_limit\":\"api\"}},"
done
body="${body%,}]"
r=$(post "$body")
expect_jq "$r" 'length == 650 and all(.[]; .result.id != null)' "650 submitted"
some=$(jq '.[600].result.id' <<<"$r")
# (on PostgreSQL a task waits for a token once the limits node claimed it)
poll_until 10 eval "rpc task.get '{\"id\":$some}' | jq -e '.waiting_for != null' >/dev/null" || true
expect_jq "$(rpc task.get "{\"id\":$some}")" '.waiting_for == {"limit":"rate","name":"api","key":""}' "a task waiting for a token"
expect_jq "$(rpc rate.list)" '.waiting > 0 and .rate_limits[0].name == "api"' "rate.list counts the waiting"
# every one of them done (the tokens need not go in the order of the ids)
poll_until 120 eval '[ "$(rpc daemon.info | jq ".counts.pending + .counts.running")" = 0 ]' || fail "the rate-limited tasks did not all finish"
starts=$(rpc task.list '{"label":{"run":"rate"},"limit":1000}' | jq -c "$TS"' [.tasks[] | .started_at | ts] | sort')
# at most one start a token: no 1 s window holds more than 50 + 1 (the
# burst), + 1 (a token that came while the loop was late)
expect_jq "$starts" '. as $s | [range(0; length - 52) | $s[. + 52] - $s[.]] | min >= 0.999' "no second holds more than 52 starts"
# over the first 10 s: 500 starts, within 5%
n10=$(jq '.[0] as $t0 | [.[] | select(. < $t0 + 10)] | length' <<<"$starts")
[ "$n10" -le 526 ] || fail "$n10 starts in 10 s at 50/s (more than 5% over)"
if [ "${FUTURED_TIME_SCALE:-1}" = 1 ]; then
	[ "$n10" -ge 475 ] || fail "$n10 starts in 10 s at 50/s (more than 5% under)"
fi
note "rate: $n10 starts in the first 10 s at 50/s"

# ---- a bucket a key; a change applies at once; delete frees the waiters
rpc rate.set '{"name":"slow","starts":1,"per":3600}' >/dev/null
k1=$(submit '{"kind":"sleep","seconds":0,"rate_limit":"slow","rate_key":"a"}')
k2=$(submit '{"kind":"sleep","seconds":0,"rate_limit":"slow","rate_key":"b"}')
k3=$(submit '{"kind":"sleep","seconds":0,"rate_limit":"slow","rate_key":"a"}')
wait_done "$k1"
wait_done "$k2"
expect_jq "$(rpc task.get "{\"id\":$k3}")" '.state == "pending" and .waiting_for == {"limit":"rate","name":"slow","key":"a"}' "key a's bucket is empty, b's was not"
rpc rate.set '{"name":"slow","starts":100,"per":1}' >/dev/null
wait_done "$k3"
k4=$(submit '{"kind":"sleep","seconds":0,"rate_limit":"slow","rate_key":"z"}')
wait_done "$k4"
sleep 0.05	# z's bucket full again at 100/s (1 token in 10 ms)
rpc rate.set '{"name":"slow","starts":1,"per":3600}' >/dev/null
# the token z's bucket filled at 100/s is still there: one more starts
k5a=$(submit '{"kind":"sleep","seconds":0,"rate_limit":"slow","rate_key":"z"}')
wait_done "$k5a"
k5=$(submit '{"kind":"sleep","seconds":0,"rate_limit":"slow","rate_key":"z"}')
expect_eq "$(state "$k5")" pending "key z's bucket is empty"
expect_jq "$(rpc rate.delete '{"name":"slow"}')" '. == {"name":"slow","deleted":true}' "rate.delete"
wait_done "$k5"
expect_jq "$(rpc task.submit '{"kind":"sleep","seconds":0,"rate_limit":"slow"}')" '.error.code == -32602 and .error.data.field == "rate_limit"' "a deleted rate limit is refused"

# ---- a change of rate re-arms the buckets' timers at once
rpc rate.set '{"name":"turn","starts":1,"per":3600}' >/dev/null
r1=$(submit '{"kind":"sleep","seconds":0,"rate_limit":"turn"}')
r2=$(submit '{"kind":"sleep","seconds":0,"rate_limit":"turn"}')
wait_done "$r1"
expect_eq "$(state "$r2")" pending "the second start of a 1-an-hour limit"
rpc rate.set '{"name":"turn","starts":2,"per":1}' >/dev/null
wait_done "$r2"
r3=$(submit '{"kind":"sleep","seconds":0,"rate_limit":"turn"}')
wait_done "$r3" 10	# not an hour: the timer follows the new rate
# task.retry keeps the limits
expect_jq "$(rpc task.retry "{\"id\":$r3}")" '.limits == {"rate_limit":"turn"}' "task.retry keeps rate_limit"
# a group that times out gives its key back
g=$(submit '{"kind":"group","timeout":0.3,"concurrency":{"grp":1}}')
wait_done "$g"
expect_jq "$(rpc task.get "{\"id\":$g}")" '.state == "failed" and .exception.type == "TimeoutError"' "the group timed out"
after=$(submit '{"kind":"sleep","seconds":0,"concurrency":{"grp":1}}')
wait_done "$after" 10

# ---- bad input
badsub() {
	expect_jq "$(rpc task.submit "$1")" ".error.code == -32602 and .error.data.field == \"$2\"" "$3"
}
badsub '{"kind":"sleep","seconds":0,"concurrency":5}' concurrency "concurrency not an object"
badsub '{"kind":"sleep","seconds":0,"concurrency":{}}' concurrency "no key"
badsub '{"kind":"sleep","seconds":0,"concurrency":{"a":0}}' concurrency "a limit of 0"
badsub '{"kind":"sleep","seconds":0,"concurrency":{"a":1.5}}' concurrency "a limit not an integer"
badsub '{"kind":"sleep","seconds":0,"concurrency":{"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1}}' concurrency "nine keys"
badsub "{\"kind\":\"sleep\",\"seconds\":0,\"concurrency\":{\"$(printf 'k%.0s' $(seq 129))\":1}}" concurrency "a key of 129 bytes"
badsub '{"kind":"sleep","seconds":0,"rate_key":"a"}' rate_key "rate_key without rate_limit"
badsub '{"kind":"sleep","seconds":0,"rate_limit":"nope"}' rate_limit "an unknown rate limit"
badsub '{"kind":"sleep","seconds":0,"rate_limit":"a b"}' rate_limit "a rate limit name with a space"
badrate() {
	expect_jq "$(rpc "$1" "$2")" ".error.code == -32602 and .error.data.field == \"$3\"" "$4"
}
badrate rate.set '{"name":"x"}' starts "rate.set without starts"
badrate rate.set '{"name":"x","starts":0}' starts "starts 0"
badrate rate.set '{"name":"x","starts":1,"per":0}' per "per 0"
badrate rate.set '{"name":"x","starts":1,"burst":0.5}' burst "burst below 1"
badrate rate.set '{"name":"x","starts":"many"}' starts "starts not a number"
badrate rate.set '{"starts":1}' name "rate.set without a name"
badrate rate.delete '{"name":"ghost"}' name "rate.delete of no limit"
badrate rate.list '{"x":1}' x "rate.list with a param"

# ---- kill -9: a running key holder and its waiter come back as they were
rpc rate.set '{"name":"kept","starts":7,"per":2}' >/dev/null
h=$(submit '{"kind":"future","concurrency":{"cust:K":1}}')
w=$(submit '{"kind":"future","concurrency":{"cust:K":1}}')
wait_state "$h" running
kill9_daemon
start_daemon
expect_jq "$(rpc rate.list)" '.rate_limits | map(select(.name == "kept")) == [{"name":"kept","starts":7,"per":2,"burst":1}]' "a rate limit across kill -9"
wait_state "$h" running
expect_jq "$(rpc task.get "{\"id\":$w}")" '.state == "pending" and .waiting_for.key == "cust:K"' "the waiter still waits after kill -9"
rpc task.set_result "{\"id\":$h}" >/dev/null
wait_state "$w" running
rpc task.set_result "{\"id\":$w}" >/dev/null
wait_done "$w"
# a task left parked on a bucket at the stop (its memory is freed last)
rpc rate.set '{"name":"never","starts":1,"per":86400}' >/dev/null
submit '{"kind":"sleep","seconds":0,"rate_limit":"never"}' >/dev/null
p=$(submit '{"kind":"sleep","seconds":0,"rate_limit":"never"}')
expect_eq "$(state "$p")" pending "parked at the stop"
stop_daemon
expect_eq "$DAEMON_RC" 0 "futured stopped with a task parked"

# ---- an end wakes the best waiter of each queue, not the whole line:
# 40 waiters of one key go one at a time, the highest priority first, then
# the oldest; a waiter woken into a full queue waits there without holding
# the others back; each waiter is parked about once (waking the whole line
# parked all but one again at every end: 40 * 41 / 2 in all)
new_state
start_daemon --log-level debug
rpc queue.set '{"name":"full","concurrency":1}' >/dev/null
h=$(submit '{"kind":"future","concurrency":{"herd":1}}')
wait_state "$h" running
# parked in queue full, whose one slot then goes to a long sleep: woken,
# it waits there for its queue
wf=$(submit '{"kind":"future","queue":"full","concurrency":{"herd":1}}')
expect_jq "$(rpc task.get "{\"id\":$wf}")" '.waiting_for.key == "herd"' "the waiter of queue full waits for the key"
blocker=$(submit '{"kind":"sleep","seconds":3600,"queue":"full"}')
wait_state "$blocker" running
r=$(post "$(jq -nc '[range(40) | {jsonrpc: "2.0", id: ., method: "task.submit", params: ({kind: "future", concurrency: {herd: 1}} + (if . == 39 then {priority: 5} else {} end))}]')")
line=$(jq -r '[.[].result.id] | .[39], .[:39][] ' <<<"$r")
expect_eq "$(wc -w <<<"$line")" 40 "40 waiters submitted"
rpc task.set_result "{\"id\":$h}" >/dev/null
for id in $line; do
	wait_state "$id" running
	expect_eq "$(state "$wf")" pending "the waiter of the full queue while the others go"
	rpc task.set_result "{\"id\":$id}" >/dev/null
done
rpc task.cancel "{\"id\":$blocker}" >/dev/null
wait_state "$wf" running
rpc task.set_result "{\"id\":$wf}" >/dev/null
wait_done "$wf"
parks=$(grep -c 'task_ref: task [0-9]* ref [0-9]* (limits_park)' "$STATE/daemon.log")
[ "$parks" -ge 41 ] || fail "only $parks parkings of 41 waiters: the count is wrong"
[ "$parks" -le 123 ] || fail "41 waiters were parked $parks times: an end woke more than the best of each queue"
note "41 waiters of one key parked $parks times in all"

# each waiter states its own limit: the best waiter a key has no room for
# does not keep a later one it has room for waiting
h1=$(submit '{"kind":"future","queue":"qb","concurrency":{"mixed":3}}')
h2=$(submit '{"kind":"future","queue":"qb","concurrency":{"mixed":3}}')
h3=$(submit '{"kind":"future","queue":"qb","concurrency":{"mixed":3}}')
for id in $h1 $h2 $h3; do wait_state "$id" running; done
t1=$(submit '{"kind":"future","queue":"qa","priority":5,"concurrency":{"mixed":1}}')
t3=$(submit '{"kind":"future","queue":"qa","concurrency":{"mixed":3}}')
expect_eq "$(state "$t3")" pending "a waiter of limit 3 while 3 run"
rpc task.set_result "{\"id\":$h1}" >/dev/null
wait_state "$t3" running
expect_eq "$(state "$t1")" pending "a waiter of limit 1 while 2 run"
for id in $h2 $h3 $t3; do rpc task.set_result "{\"id\":$id}" >/dev/null; done
wait_state "$t1" running
rpc task.set_result "{\"id\":$t1}" >/dev/null

# a waiter woken into a full queue, then cancelled there: the next waiter
# of that queue still runs once the queue has room
rpc queue.set '{"name":"narrow","concurrency":1}' >/dev/null
h=$(submit '{"kind":"future","concurrency":{"solo":1}}')
wait_state "$h" running
w1=$(submit '{"kind":"future","queue":"narrow","concurrency":{"solo":1}}')
w2=$(submit '{"kind":"future","queue":"narrow","concurrency":{"solo":1}}')
blk=$(submit '{"kind":"sleep","seconds":3600,"queue":"narrow"}')
wait_state "$blk" running
rpc task.set_result "{\"id\":$h}" >/dev/null
sleep 0.2
expect_eq "$(state "$w1")" pending "woken into a full queue"
rpc task.cancel "{\"id\":$w1}" >/dev/null
rpc task.cancel "{\"id\":$blk}" >/dev/null
wait_state "$w2" running
rpc task.set_result "{\"id\":$w2}" >/dev/null

# a woken waiter that ends as it starts (sleep 0) releases the key while
# the wake still goes through the line (the key's memory must stay)
h=$(submit '{"kind":"future","concurrency":{"brief":1}}')
wait_state "$h" running
z=$(submit '{"kind":"sleep","seconds":0,"queue":"qz","concurrency":{"brief":1}}')
f=$(submit '{"kind":"future","queue":"qf","concurrency":{"brief":1}}')
expect_eq "$(state "$z")" pending "sleep 0 waiting for the key"
rpc task.set_result "{\"id\":$h}" >/dev/null
wait_done "$z"
wait_state "$f" running
rpc task.set_result "{\"id\":$f}" >/dev/null
wait_done "$f"
stop_daemon
note "concurrency_rate: ok"
