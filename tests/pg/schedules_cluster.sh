#!/usr/bin/env bash
# Schedules on three futured sharing one PostgreSQL database (issue #17):
# every node arms every schedule, and each firing is made once, by one
# node, even while nodes are killed (-9) and restarted; a schedule made or
# changed on one node is seen by the others; a firing another node took
# and never made (it died) is made by the others, under its key.
. "$(dirname "$0")/../integration/harness.sh"
: "${FUTURED_PG:?run me through tests/pg/with-pg.sh}"
. "$(dirname "$0")/nodes.sh"

NODE_ARGS=(--lease "$(scaled 3)" --jobs 2)
nodes_db sched
sched() { on "$1" rpc schedule.get "{\"name\":\"$2\"}"; }
# times N NAME -> the scheduled times of the schedule's tasks, sorted
times() {
	on "$1" rpc task.list "{\"label\":{\"schedule\":\"$2\"},\"limit\":1000}" |
	    jq -c '[.tasks[].labels.scheduled_at] | sort'
}

node 1; node 2; node 3

# ---- made on one node, seen by the others
r=$(on 1 rpc schedule.create '{"name":"tick","every":1,"catchup":"all","catchup_window":3600,"overlap":"allow_all","task":{"kind":"sleep","seconds":0}}')
expect_jq "$r" '.name == "tick"' "create on node 1"
expect_jq "$(sched 2 tick)" '.every == 1' "node 2 reads it"
expect_jq "$(on 3 rpc schedule.create '{"name":"tick","every":5,"task":{"kind":"sleep","seconds":0}}')" '.error.code == 12' "the name is taken on node 3 too"

# ---- each firing once while nodes die and come back
poll_until 30 eval '[ "$(times 1 tick | jq length)" -ge 3 ]' || fail "no firings: $(sched 1 tick)"
for round in 1 2 3; do
	victim=$(( (round % 3) + 1 ))
	kill9_node "$victim"
	sleep 1.5
	node "$victim"
	sleep 1
done
on 2 rpc schedule.pause '{"name":"tick"}' >/dev/null
first=$(times 2 tick | jq -r '.[0]')
sleep "$(scaled 1)"
t=$(times 2 tick)
expect_jq "$t" 'length == (unique | length)' "no firing made twice across the nodes"
# every second from the first firing to the pause has its task: none lost
expect_jq "$t" '(map(fromdateiso8601) | (.[-1] - .[0] + 1)) == length' "no firing lost while nodes died: $(jq -c 'map(fromdateiso8601) | [.[0], .[-1], length]' <<<"$t")"
s=$(sched 3 tick)
expect_jq "$s" ".fired == $(jq length <<<"$t") and .paused == true" "the count every node reads"

# ---- a change on one node reaches the others' timers
on 3 rpc schedule.update '{"name":"tick","every":3600}' >/dev/null
on 1 rpc schedule.resume '{"name":"tick"}' >/dev/null
n=$(times 1 tick | jq length)
sleep "$(scaled 3)"
expect_eq "$(times 1 tick | jq length)" "$n" "no node fires the old every-1s timing"
expect_jq "$(on 2 rpc schedule.trigger '{"name":"tick"}')" '.outcome == "fired"' "trigger on node 2"
expect_jq "$(on 1 rpc schedule.delete '{"name":"tick"}')" '.deleted == true' "delete on node 1"
poll_until 10 eval '[ "$(sched 3 tick | jq .error.code)" = 13 ]' || fail "node 3 still has the deleted schedule"

for n in 1 2 3; do stop_node "$n"; done
note "schedules_cluster: ok"
