#!/usr/bin/env bash
# Concurrency limits and scheduling order (issue #2): with --jobs 2, twenty
# `sleep 0.3` exec tasks never run more than two at a time (seen by task.list
# and by the processes themselves) and all finish; sleep tasks cost no job
# slot; with --jobs 1, pending exec tasks start by priority (higher first),
# first come first served within a priority.  (Issue #11: how long the 20
# took is from the first one's started_at to the last one's finished_at,
# not a clock in the shell around the polling; upper bounds are scaled by
# FUTURED_TIME_SCALE.)
. "$(dirname "$0")/harness.sh"
epoch() { date -d "$1" +%s.%N; }

# ---- --jobs 2
start_daemon --jobs 2
log=$T/intervals
python3 - "$log" >"$T/batch.json" <<'PY'
import json, sys
log = sys.argv[1]
sh = 'echo "s $(date +%%s.%%N)" >> %s; sleep 0.3; echo "e $(date +%%s.%%N)" >> %s' % (log, log)
print(json.dumps([{"jsonrpc": "2.0", "id": i, "method": "task.submit",
                   "params": {"kind": "exec", "shell": sh}} for i in range(20)]))
PY
ids=$(curl -s --max-time "$(scaled 30)" --unix-socket "$SOCK" -H 'Expect:' --data-binary @"$T/batch.json" http://localhost/rpc | jq -c '[.[].result.id]')
expect_jq "$ids" 'length == 20 and all(.[]; type == "number")' "20 submits"
maxrun=0
for _ in $(seq 400); do
	n=$(rpc task.list '{"state":"running","limit":1000}' | jq '.tasks | length')
	[ "$n" -gt "$maxrun" ] && maxrun=$n
	[ "$(rpc task.wait "{\"ids\":$ids,\"timeout\":0}" | jq '.pending | length')" = 0 ] && break
	sleep 0.03
done
w=$(rpc task.wait "{\"ids\":$ids,\"timeout\":0}")
expect_jq "$w" '.pending == [] and (.done | length) == 20' "all 20 finished"
r=$(rpc task.list '{"state":"succeeded","limit":1000}')
expect_jq "$r" "(.tasks | length) == 20" "all 20 succeeded"
span=$(jq -r '"\(.tasks | map(.started_at) | min) \(.tasks | map(.finished_at) | max)"' <<<"$r")
dt=$(echo "$(epoch "${span#* }") - $(epoch "${span% *}")" | bc)
[ "$maxrun" -le 2 ] || fail "task.list showed $maxrun running with --jobs 2"
[ "$maxrun" = 2 ] || fail "never saw 2 running with --jobs 2 (max $maxrun): no parallelism"
# what the processes saw: at most 2 between their start and end lines
conc=$(python3 - "$log" <<'PY'
import sys
ev = []
for line in open(sys.argv[1]):
    k, t = line.split()
    ev.append((float(t), 0 if k == "e" else 1))
ev.sort()
n = best = 0
for _, k in ev:
    n += 1 if k else -1
    best = max(best, n)
print(best, len(ev))
PY
)
expect_eq "$conc" "2 40" "processes running at once (max, events)"
bc_true "$dt >= 2.9 && $dt < $(scaled 10)" || fail "20 x sleep 0.3 at --jobs 2 took ${dt}s (want about 3)"

# sleep tasks take no job slot: 2 long exec tasks hold both, 50 sleeps still finish
gate=$T/gate
b1=$(submit "{\"kind\":\"exec\",\"shell\":\"while [ ! -e $gate ]; do sleep 0.05; done\"}")
b2=$(submit "{\"kind\":\"exec\",\"shell\":\"while [ ! -e $gate ]; do sleep 0.05; done\"}")
wait_state "$b1" running
wait_state "$b2" running
sl=$(python3 -c 'import json; print(json.dumps([{"jsonrpc":"2.0","id":i,"method":"task.submit","params":{"kind":"sleep","seconds":0.2,"result":i}} for i in range(50)]))' |
    curl -s --max-time "$(scaled 30)" --unix-socket "$SOCK" -H 'Expect:' --data-binary @- http://localhost/rpc | jq -c '[.[].result.id]')
w=$(CURL_MAX=20 rpc task.wait "{\"ids\":$sl,\"timeout\":$(scaled 5)}")
expect_jq "$w" '.pending == [] and (.done | length) == 50' "50 sleep tasks done while --jobs is full"
expect_eq "$(state "$b1") $(state "$b2")" "running running" "exec tasks still hold the slots"
touch "$gate"
wait_done "$b1"
wait_done "$b2"
stop_daemon
expect_eq "$DAEMON_RC" 0 "exit status"

# ---- --jobs 1: priority order, FIFO within a priority
new_state
start_daemon --jobs 1
gate=$T/gate1
order=$T/order
blk=$(submit "{\"kind\":\"exec\",\"shell\":\"while [ ! -e $gate ]; do sleep 0.05; done\"}")
wait_state "$blk" running
ids=""
for spec in A:0 B:5 C:-5 D:5 E:0 F:1000 G:-1000; do
	name=${spec%%:*} prio=${spec#*:}
	id=$(submit "{\"kind\":\"exec\",\"shell\":\"echo $name >> $order\",\"priority\":$prio}")
	ids="$ids${ids:+,}$id"
done
for id in ${ids//,/ }; do expect_eq "$(state "$id")" pending "task $id waits behind --jobs 1"; done
touch "$gate"
w=$(CURL_MAX=30 rpc task.wait "{\"ids\":[$ids],\"timeout\":$(scaled 20)}")
expect_jq "$w" '.pending == []' "prioritised tasks finished"
expect_eq "$(tr '\n' ' ' <"$order")" "F B D A E C G " "start order by priority, FIFO within one"
# started_at agrees with the order they ran in
st=$(for id in ${ids//,/ }; do rpc task.get "{\"id\":$id}"; done | jq -sc 'map({key: (.spec.shell | split(" ")[1]), value: .started_at}) | from_entries')
expect_jq "$st" '[.F, .B, .D, .A, .E, .C, .G] | . == sort and all(.[]; type == "string")' "started_at follows the run order"
stop_daemon
expect_eq "$DAEMON_RC" 0 "exit status"
note "ok: --jobs 2 max $maxrun running, 20 x 0.3 s in ${dt}s; priority order holds"
