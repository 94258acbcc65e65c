#!/usr/bin/env bash
# Queues (issue #3): queue.set concurrency 1 never lets more than one task of
# that queue run (polled through queue.list and task.list while they run,
# and checked on their timestamps afterwards), for exec and sleep tasks
# alike, while other queues keep running; a paused queue starts nothing and
# resuming it starts what waits; settings persist across SIGTERM and kill -9
# restarts; futurectl queue ls / set / pause / resume print and change them.
. "$(dirname "$0")/harness.sh"

# qget NAME -> the queue's object in queue.list
qget() { rpc queue.list | jq -c --arg n "$1" '.queues[] | select(.name == $n)'; }

start_daemon --jobs 8

# ---- concurrency 1
expect_jq "$(rpc queue.set '{"name":"one","concurrency":1}')" '.name == "one" and .concurrency == 1 and .paused == false' "queue.set concurrency 1"
# exec tasks that wait for the gate $T/go, then sleeps: five for queue one
ids=""
for i in 1 2 3; do ids="$ids $(submit "{\"kind\":\"exec\",\"shell\":\"while [ ! -e $T/go ]; do sleep 0.02; done; sleep 0.2\",\"queue\":\"one\"}")"; done
for i in 1 2; do ids="$ids $(submit '{"kind":"sleep","seconds":0.3,"queue":"one"}')"; done
other=$(submit "{\"kind\":\"exec\",\"shell\":\"while [ ! -e $T/go ]; do sleep 0.02; done\",\"queue\":\"other\"}")
# before the gate opens: the first task of queue one runs, blocked; the rest wait
first=$(echo $ids | cut -d' ' -f1)
wait_state "$first" running
wait_state "$other" running
for i in 1 2 3; do
	expect_jq "$(qget one)" '.running == 1 and .waiting == 4' "queue one while its first task is blocked"
	expect_jq "$(rpc task.list '{"queue":"one","state":"running"}')" "[.tasks[].id] == [$first]" "running tasks of queue one"
done
# open the gate: they run one at a time (polled, then checked on timestamps)
touch "$T/go"
t0=$(now)
while :; do
	q=$(qget one)
	r=$(jq .running <<<"$q")
	l=$(rpc task.list '{"queue":"one","state":"running"}' | jq '.tasks | length')
	[ "$r" -le 1 ] && [ "$l" -le 1 ] || fail "queue one runs $r (task.list: $l) tasks at once: $q"
	[ "$(jq '.running + .waiting' <<<"$q")" = 0 ] && break
	bc_true "$(since "$t0") < $(scaled 30)" || fail "queue one not drained in $(scaled 30) s: $q"
	sleep 0.05
done
wait_done "$other"
ts=$(for id in $ids; do rpc task.get "{\"id\":$id}"; done | jq -s -c 'sort_by(.started_at)')
expect_jq "$ts" 'all(.[]; .state == "succeeded")' "tasks of queue one"
expect_jq "$ts" '[range(1; length) as $i | .[$i].started_at >= .[$i - 1].finished_at] | all' "tasks of queue one ran one after another"

# ---- pause and resume (futurectl)
out=$(ctl queue pause --create two) || fail "futurectl queue pause"
expect_jq "$(qget two)" '.paused == true' "queue two after pause"
grep -Eq '^two +- +yes +0 +0 *$' <<<"$out" || fail "futurectl queue pause printed: $out"
p1=$(submit '{"kind":"exec","shell":"echo p1","queue":"two"}')
p2=$(submit '{"kind":"sleep","seconds":0,"queue":"two"}')
o=$(submit '{"kind":"sleep","seconds":0}')
wait_done "$o"		# the daemon schedules, just not queue two
r=$(rpc task.wait "{\"ids\":[$p1,$p2],\"return_when\":\"FIRST_COMPLETED\",\"timeout\":1}")
expect_jq "$r" '.done == []' "paused queue's tasks after 1 s"
expect_eq "$(state "$p1") $(state "$p2")" "pending pending" "tasks of a paused queue"
expect_jq "$(qget two)" '.running == 0 and .waiting == 2' "queue.list of the paused queue"
ctl queue ls >"$T/ls.out" || fail "futurectl queue ls"
head -1 "$T/ls.out" | grep -Eq '^NAME +CONCURRENCY +PAUSED +RUNNING +WAITING$' || fail "queue ls header: $(head -1 "$T/ls.out")"
grep -Eq '^two +- +yes +0 +2$' "$T/ls.out" || fail "queue ls row of two: $(cat "$T/ls.out")"
grep -Eq '^one +1 +no +0 +0$' "$T/ls.out" || fail "queue ls row of one: $(cat "$T/ls.out")"
# columns line up: every row has the header's column starts
awk 'NR == 1 { c = index($0, "PAUSED") } NR > 1 && substr($0, c - 1, 1) != " " { exit 1 }' "$T/ls.out" ||
    fail "queue ls columns not aligned: $(cat "$T/ls.out")"
expect_jq "$(ctl queue ls --json)" '.queues | map(select(.name == "two"))[0] | .paused == true and .waiting == 2' "futurectl queue ls --json"
expect_jq "$(ctl --json queue resume two)" '.name == "two" and .paused == false' "futurectl queue resume --json"
wait_done "$p1"
wait_done "$p2"
expect_jq "$(rpc task.result "{\"id\":$p1}")" '.stdout == "p1\n"' "a resumed queue's task"

# ---- futurectl queue set, and refusals
out=$(ctl queue set --create three --concurrency 2) || fail "futurectl queue set"
grep -Eq '^three +2 +no +0 +0$' <<<"$out" || fail "futurectl queue set printed: $out"
expect_jq "$(qget three)" '.concurrency == 2 and .paused == false' "queue three after futurectl queue set"
expect_jq "$(ctl queue set three --concurrency 0 --json)" '.concurrency == 0' "futurectl queue set --concurrency 0"
ctl queue set three >/dev/null 2>&1;			expect_eq "$?" 2 "queue set without --concurrency"
ctl queue set three --concurrency -1 >/dev/null 2>&1;	expect_eq "$?" 2 "queue set --concurrency -1"
ctl queue set 'no spaces' --concurrency 1 >/dev/null 2>&1;	expect_eq "$?" 2 "queue set with a bad name"
ctl queue pause >/dev/null 2>&1;			expect_eq "$?" 2 "queue pause without a name"
ctl queue frobnicate >/dev/null 2>&1;			expect_eq "$?" 2 "an unknown queue subcommand"
expect_jq "$(call queue.set '{"name":"x","concurrency":"2"}')" '.error.code == -32602 and .error.data.field == "concurrency"' "queue.set concurrency as a string"
ctl queue --help | grep -q "pause NAME" || fail "futurectl queue --help"

# ---- settings persist: SIGTERM and kill -9 restarts
ctl queue set --create three --concurrency 2 >/dev/null || fail "queue set three"
ctl queue pause three >/dev/null || fail "queue pause three"
w=$(submit "{\"kind\":\"exec\",\"shell\":\"touch $T/w.ran\",\"queue\":\"three\"}")
stop_daemon
start_daemon --jobs 8
expect_jq "$(qget three)" '.concurrency == 2 and .paused == true and .waiting == 1' "queue three after a SIGTERM restart"
expect_jq "$(qget one)" '.concurrency == 1 and .paused == false' "queue one after a SIGTERM restart"
kill9_daemon
start_daemon --jobs 8
expect_jq "$(qget three)" '.concurrency == 2 and .paused == true and .waiting == 1' "queue three after a kill -9 restart"
expect_jq "$(qget one)" '.concurrency == 1' "queue one after a kill -9 restart"
expect_eq "$(state "$w")" pending "task of the paused queue after restarts"
[ ! -e "$T/w.ran" ] || fail "a task of a paused queue ran"
# the limit still holds after the restart
ids=""
for i in 1 2 3; do ids="$ids $(submit '{"kind":"exec","shell":"sleep 0.3","queue":"one"}')"; done
ctl queue resume three >/dev/null || fail "queue resume three"
wait_done "$w"
[ -e "$T/w.ran" ] || fail "the resumed task did not run"
for id in $ids; do wait_done "$id"; done
ts=$(for id in $ids; do rpc task.get "{\"id\":$id}"; done | jq -s -c 'sort_by(.started_at)')
expect_jq "$ts" '[range(1; length) as $i | .[$i].started_at >= .[$i - 1].finished_at] | all' "queue one's limit after restarts"

stop_daemon
note "queues: ok"
