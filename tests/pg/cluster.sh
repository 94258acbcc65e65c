#!/usr/bin/env bash
# Three futured on one PostgreSQL database (issue #13), through
# tests/pg/with-pg.sh: work submitted to one node is run by all; a queue's
# limit holds across the nodes; a long-poll on one node is answered by a
# completion on another; a cancel on one node ends the task another runs;
# futures are completed and cancels carry their message from any node;
# daemon.info lists the live nodes; and kill -9 of a node mid-run, again
# and again, loses and duplicates no acknowledged task, its tasks are
# taken over after its lease, and no attempt of a task overlaps another.
. "$(dirname "$0")/../integration/harness.sh"
: "${FUTURED_PG:?run me through tests/pg/with-pg.sh}"
. "$(dirname "$0")/nodes.sh"

LEASE=$(scaled 3)
NODE_ARGS=(--lease "$LEASE" --jobs 2 --kill-grace 0.5)
nodes_db cluster
# the node (1-3) whose futured is pid $1
node_of_pid() { local n; for n in 1 2 3; do [ "${NPID[$n]}" = "$1" ] && echo "$n"; done; }
gone() { ! alive "$1"; }

node 1; node 2; node 3
info=$(on 1 rpc daemon.info)
expect_jq "$info" '.database == "postgresql" and .cluster.node == "n1" and ([.cluster.nodes[].name] == ["n1", "n2", "n3"])' "daemon.info lists the three nodes"

# ---- work submitted to one node is run by all: each task prints the pid
# of the futured whose spawner started it (its parent's parent)
WHO="cut -d' ' -f4 /proc/\$PPID/stat; sleep 0.4"
ids=""
for i in $(seq 24); do ids="$ids $(on 1 submit "{\"kind\":\"exec\",\"shell\":\"$WHO\"}")"; done
for id in $ids; do on 2 wait_done "$id" 60; done
ran=$(for id in $ids; do on 3 rpc task.result "{\"id\":$id}" | jq -r .stdout; done | sort | uniq -c)
for n in 1 2 3; do
	grep -q " ${NPID[$n]}\$" <<<"$ran" || fail "node $n ran none of the 24 tasks submitted to node 1: $ran"
done
note "24 tasks from node 1 ran on: $(tr '\n' ' ' <<<"$ran")"

# ---- a queue limited to 2 runs at most 2, wherever
expect_jq "$(on 2 rpc queue.set '{"name":"two","concurrency":2}')" '.concurrency == 2' "queue.set on node 2"
ids=""
for i in $(seq 10); do ids="$ids $(on 3 submit "{\"kind\":\"exec\",\"shell\":\"$WHO\",\"queue\":\"two\"}")"; done
max=0
while :; do
	r=$(on 1 rpc task.list '{"queue":"two","state":"running"}' | jq '.tasks | length')
	[ "$r" -gt "$max" ] && max=$r
	[ "$r" -le 2 ] || fail "queue two runs $r tasks at once across the nodes"
	[ "$(on 1 rpc queue.list | jq '.queues[] | select(.name == "two") | .running + .waiting')" = 0 ] && break
	sleep 0.05
done
for id in $ids; do on 1 wait_done "$id" 60; done
ts=$(for id in $ids; do on 2 rpc task.get "{\"id\":$id}"; done | jq -s -c '[.[] | {s: .started_at, f: .finished_at, state}]')
expect_jq "$ts" 'all(.[]; .state == "succeeded")' "the tasks of queue two"
# at no start were two others already running
expect_jq "$ts" '. as $a | all($a[]; . as $t | ([$a[] | select(.s < $t.s and .f > $t.s)] | length) <= 1)' "queue two's tasks never ran three at once: $ts"
note "queue two: at most $max running when polled"

# ---- a long-poll on one node, answered by a completion on another
id=$(on 1 submit "{\"kind\":\"exec\",\"shell\":\"cut -d' ' -f4 /proc/\$PPID/stat >$T/runner; while [ ! -e $T/gate ]; do sleep 0.02; done; echo through\"}")
poll_until 20 test -s "$T/runner" || fail "the gated task did not start"
runner=$(node_of_pid "$(cat "$T/runner")")
[ -n "$runner" ] || fail "the gated task runs under no node: $(cat "$T/runner")"
other=$(( runner % 3 + 1 ))
( sleep 0.5; touch "$T/gate" ) &
r=$(on "$other" timed_call task.result "{\"id\":$id,\"timeout\":$(scaled 20)}")
secs=${r%% *}
expect_jq "${r#* }" '.result.stdout == "through\n"' "task.result on node $other of a task node $runner ran"
bc_true "$secs < $(scaled 5)" || fail "the long-poll on node $other took $secs s"

# ---- stream items and output of a task another node runs
rm -f "$T/runner" "$T/gate2"
id=$(on 1 submit "{\"kind\":\"exec\",\"shell\":\"cut -d' ' -f4 /proc/\$PPID/stat >$T/runner; echo 1 >&3; while [ ! -e $T/gate2 ]; do sleep 0.02; done; echo 2 >&3; echo out\"}")
poll_until 20 test -s "$T/runner" || fail "the streaming task did not start"
runner=$(node_of_pid "$(cat "$T/runner")")
other=$(( runner % 3 + 1 ))
expect_jq "$(on "$other" rpc task.stream "{\"id\":$id,\"timeout\":$(scaled 10)}")" '.items == [{"seq": 0, "value": 1}] and .done == false' "first item on node $other of a task node $runner runs"
( sleep 0.5; touch "$T/gate2" ) &
expect_jq "$(on "$other" rpc task.stream "{\"id\":$id,\"from\":1,\"timeout\":$(scaled 10)}")" '.items == [{"seq": 1, "value": 2}]' "the next item, waited for on node $other"
expect_jq "$(on "$other" rpc task.output "{\"id\":$id,\"timeout\":$(scaled 10)}")" '.data == "out\n" and .eof == true' "task.output on node $other, once the task ended"

# ---- output of a task another node runs, read while it runs (shared
# every 0.25 s), from one attempt only, and gone from the database at its end
rm -f "$T/runner"
id=$(on 1 submit "{\"kind\":\"exec\",\"retries\":1,\"retry_backoff\":0.1,\"shell\":\"if [ ! -e $T/first ]; then touch $T/first; echo first; exit 3; fi; echo second; echo err >&2; cut -d' ' -f4 /proc/\$PPID/stat >$T/runner; while [ ! -e $T/gate3 ]; do sleep 0.02; done; echo third\"}")
poll_until 20 test -s "$T/runner" || fail "the task's second attempt did not start"
runner=$(node_of_pid "$(cat "$T/runner")")
other=$(( runner % 3 + 1 ))
r=$(on "$other" rpc task.output "{\"id\":$id,\"timeout\":$(scaled 10)}")
expect_jq "$r" '.data == "second\n" and .next == 7 and .eof == false' "stdout of the running second attempt on node $other (node $runner runs it)"
expect_jq "$(on "$other" rpc task.output "{\"id\":$id,\"stream\":\"stderr\",\"timeout\":$(scaled 10)}")" '.data == "err\n" and .eof == false' "its stderr on node $other"
expect_jq "$(on "$other" rpc task.output "{\"id\":$id,\"offset\":3}")" '.data == "ond\n" and .next == 7' "from an offset, without waiting"
expect_jq "$(on "$other" rpc task.output "{\"id\":$id,\"offset\":7}")" '.data == "" and .next == 7 and .eof == false' "nothing new yet, without waiting"
[ "$(psql -qX "$URI" -Atc "SELECT count(*) FROM futured.task_output WHERE task_id = $id")" -ge 2 ] ||
    fail "the running task's output is not in the database"
( sleep 0.5; touch "$T/gate3" ) &
expect_jq "$(on "$other" rpc task.output "{\"id\":$id,\"offset\":7,\"timeout\":$(scaled 10)}")" '.data == "third\n"' "the next line, waited for on node $other"
on "$other" wait_done "$id" 20
expect_jq "$(on "$other" rpc task.output "{\"id\":$id}")" '.data == "second\nthird\n" and .eof == true' "the whole output once it ended"
expect_eq "$(psql -qX "$URI" -Atc "SELECT count(*) FROM futured.task_output WHERE task_id = $id")" 0 "shared output rows left after the task ended"

# ---- a cancel on one node ends the task another runs
rm -f "$T/runner"
id=$(on 2 submit "{\"kind\":\"exec\",\"shell\":\"cut -d' ' -f4 /proc/\$PPID/stat >$T/runner; echo \$\$ >$T/child; exec sleep 300\"}")
poll_until 20 test -s "$T/child" || fail "the task to cancel did not start"
runner=$(node_of_pid "$(cat "$T/runner")")
other=$(( runner % 3 + 1 ))
expect_jq "$(on "$other" rpc task.cancel "{\"id\":$id}")" '.cancelled == true' "task.cancel on node $other of a task node $runner runs"
expect_eq "$(on "$other" state "$id")" cancelled "the cancelled task's state"
poll_until 10 gone "$(cat "$T/child")" || fail "the cancelled task's process lives on"
# a task nobody claimed yet is cancelled by whoever is asked
expect_jq "$(on 1 rpc queue.set '{"name":"held","paused":true}')" '.paused == true' "pause queue held"
id=$(on 1 submit '{"kind":"sleep","seconds":1,"queue":"held"}')
expect_jq "$(on 3 rpc task.cancel "{\"id\":$id}")" '.cancelled == true' "cancel of an unclaimed task"
expect_eq "$(on 2 state "$id")" cancelled "the unclaimed cancelled task"

# ---- futures (issue #16) completed from a node that does not hold them:
# the holder is asked through the database; and one nobody holds yet is
# completed by whoever is asked
holder_of() { psql -qX "$URI" -Atc "SELECT owner FROM futured.tasks WHERE id = $1 AND state = 1"; }
for how in result exception cancel; do
	f=$(on 1 submit '{"kind":"future"}')
	poll_until 20 eval '[ -n "$(holder_of '"$f"')" ]' || fail "future $f was not claimed"
	h=$(holder_of "$f")
	h=${h#n}
	other=$(( h % 3 + 1 ))
	case $how in
	result)
		expect_jq "$(on "$other" rpc task.set_result "{\"id\":$f,\"result\":{\"v\":[1,\"x\"]}}")" '. == {"set":true,"state":"succeeded"}' "set_result on node $other of a future node $h holds"
		expect_jq "$(on "$h" rpc task.result "{\"id\":$f}")" '. == {"v":[1,"x"]}' "its value, read on the holder" ;;
	exception)
		expect_jq "$(on "$other" rpc task.set_exception "{\"id\":$f,\"type\":\"Denied\",\"message\":\"no\"}")" '. == {"set":true,"state":"failed"}' "set_exception on node $other of a future node $h holds"
		expect_jq "$(on "$h" rpc task.get "{\"id\":$f}")" '.exception == {"type":"Denied","message":"no"}' "its exception" ;;
	cancel)
		expect_jq "$(on "$other" rpc task.cancel "{\"id\":$f,\"message\":\"why not\"}")" '. == {"cancelled":true}' "cancel with a message on node $other of a future node $h holds"
		expect_jq "$(on "$h" call task.result "{\"id\":$f}")" '.error.code == 2 and .error.data.message == "why not"' "the cancel's message" ;;
	esac
	expect_jq "$(on "$h" rpc task.set_result "{\"id\":$f,\"result\":0}")" '.set == false' "a second completion of future $f"
done
f=$(on 1 submit '{"kind":"future","queue":"held"}')
expect_jq "$(on 3 rpc task.set_result "{\"id\":$f,\"result\":\"early\"}")" '. == {"set":true,"state":"succeeded"}' "set_result of an unclaimed future"
expect_jq "$(on 2 rpc task.result "{\"id\":$f}")" '. == "early"' "the unclaimed future's value on another node"
f=$(on 1 submit '{"kind":"future","queue":"held"}')
expect_jq "$(on 2 rpc task.cancel "{\"id\":$f,\"message\":\"not needed\"}")" '.cancelled == true' "cancel with a message of an unclaimed future"
expect_jq "$(on 3 rpc task.get "{\"id\":$f}")" '.exception.message == "not needed"' "the unclaimed cancel's message"
e=$(on 1 submit '{"kind":"sleep","seconds":1,"queue":"held"}')
expect_jq "$(on 3 call task.set_result "{\"id\":$e,\"result\":1}")" '.error.data.field == "id"' "set_result of an unclaimed sleep"

# ---- task trees across the nodes (issue #16): a group's members run on
# any node, it is closed from a node that may not hold it, and it ends
# with all their results; a parent waits for children other nodes run; a
# cancel reaches descendants wherever they are
gr=$(on 1 submit '{"kind":"group"}')
poll_until 20 eval '[ -n "$(holder_of '"$gr"')" ]' || fail "the group was not claimed"
members=""
for n in 1 2 3 1 2 3; do members="$members $(on "$n" submit "{\"kind\":\"exec\",\"shell\":\"$WHO\",\"parent\":$gr}")"; done
h=$(holder_of "$gr"); h=${h#n}; other=$(( h % 3 + 1 ))
expect_jq "$(on "$other" rpc task.close "{\"id\":$gr}")" '.closed == true' "task.close on node $other of the group node $h holds"
on 2 wait_done "$gr" 60
r=$(on 3 rpc task.result "{\"id\":$gr}")
expect_jq "$r" "[.[].id] == ([$(echo $members | tr ' ' ',')] | sort) and all(.[]; .state == \"succeeded\")" "the group's members in id order, all succeeded"
ran=$(jq -r '.[].result.stdout' <<<"$r" | sort -u | wc -l)
note "the group's 6 members ran under $ran futured process(es)"
p=$(on 1 submit '{"kind":"future"}')
c1=$(on 2 submit "{\"kind\":\"future\",\"parent\":$p}")
c2=$(on 3 submit "{\"kind\":\"sleep\",\"seconds\":3600,\"parent\":$c1}")
poll_until 20 eval '[ -n "$(holder_of '"$p"')" ] && [ -n "$(holder_of '"$c1"')" ]' || fail "the tree was not claimed"
on 3 rpc task.set_result "{\"id\":$p,\"result\":\"own\"}" >/dev/null
poll_until 20 eval '[ "$(on 1 rpc task.get "{\"id\":$p}" | jq ".attempts | length")" = 1 ]' || fail "the parent's own part did not end"
expect_eq "$(on 1 state "$p")" running "a parent whose child another node may run"
expect_jq "$(on 2 rpc task.cancel "{\"id\":$p,\"message\":\"stop all\"}")" '.cancelled == true' "cancel of the waiting parent"
for k in $c1 $c2; do
	poll_until 20 eval '[ "$(on 1 state '"$k"')" = cancelled ]' || fail "descendant $k not cancelled across the nodes"
	expect_jq "$(on 3 rpc task.get "{\"id\":$k}")" '.exception.message == "stop all"' "descendant $k's message"
done
# a member failing on another node than its group's fails the group and
# cancels the other members, wherever they run
gr=$(on 1 submit '{"kind":"group"}')
poll_until 20 eval '[ -n "$(holder_of '"$gr"')" ]' || fail "the group was not claimed"
sl=$(on 2 submit "{\"kind\":\"sleep\",\"seconds\":3600,\"parent\":$gr}")
poll_until 20 eval '[ -n "$(holder_of '"$sl"')" ]' || fail "the sleeping member was not claimed"
ex=$(on 3 submit "{\"kind\":\"exec\",\"shell\":\"exit 3\",\"parent\":$gr}")
on 1 wait_done "$gr" 60
expect_jq "$(on 2 rpc task.get "{\"id\":$gr}")" ".state == \"failed\" and ([.exception.exceptions[].id] == [$ex])" "a group whose member failed elsewhere"
poll_until 20 eval '[ "$(on 1 state '"$sl"')" = cancelled ]' || fail "the sleeping member of the failed group runs on"
# a group nobody holds, cancelled: its running members are too
gr=$(on 1 submit '{"kind":"group","queue":"held"}')
m=$(on 2 submit "{\"kind\":\"sleep\",\"seconds\":3600,\"parent\":$gr}")
poll_until 20 eval '[ -n "$(holder_of '"$m"')" ]' || fail "the member was not claimed"
expect_jq "$(on 3 rpc task.cancel "{\"id\":$gr}")" '.cancelled == true' "cancel of a group nobody holds"
poll_until 20 eval '[ "$(on 1 state '"$m"')" = cancelled ]' || fail "the member of a cancelled unheld group runs on"
# set_exception asked of another node, retries left: it waits again, and
# the request, left in the row, is not applied to the next attempt
f=$(on 1 submit '{"kind":"future","retries":2,"retry_backoff":0.05}')
poll_until 20 eval '[ -n "$(holder_of '"$f"')" ]' || fail "the future was not claimed"
h=$(holder_of "$f"); h=${h#n}; other=$(( h % 3 + 1 ))
expect_jq "$(on "$other" rpc task.set_exception "{\"id\":$f,\"message\":\"once\"}")" '. == {"set":true,"state":"pending"}' "set_exception on node $other, retries left"
poll_until 20 eval '[ "$(on 1 rpc task.get "{\"id\":$f}" | jq -c "[.state, .attempt]")" = "[\"running\",2]" ]' || fail "the future did not wait again: $(on 1 rpc task.get "{\"id\":$f}")"
sleep "$(scaled 2)"	# ticks of every node: the old request stays old
expect_jq "$(on 1 rpc task.get "{\"id\":$f}")" '.state == "running" and .attempt == 2' "the second attempt, after the old request was seen again"
on "$h" rpc task.cancel "{\"id\":$f}" >/dev/null

# ---- a node that hangs (SIGSTOP): its spawner ends its tasks before its
# lease runs out, another node takes them over, and the node exits when it
# wakes up to find its work taken
rm -f "$T/runner" "$T/first"
id=$(on 1 submit "{\"kind\":\"exec\",\"retries\":1,\"retry_backoff\":0.1,\"shell\":\"if [ -e $T/first ]; then kill -0 \$(cat $T/first) 2>/dev/null && echo overlap; echo second; else echo \$\$ >$T/first; cut -d' ' -f4 /proc/\$PPID/stat >$T/runner; exec sleep 300; fi\"}")
poll_until 20 test -s "$T/runner" || fail "the task of the node to stop did not start"
hung=$(node_of_pid "$(cat "$T/runner")")
other=$(( hung % 3 + 1 ))
kill -STOP "${NPID[$hung]}"
poll_until "$LEASE" gone "$(cat "$T/first")" || fail "node $hung hangs: its task still runs after its lease"
on "$other" wait_done "$id" 60
expect_jq "$(on "$other" rpc task.result "{\"id\":$id}")" '.stdout == "second\n"' "the hung node's task, run again elsewhere, never beside the first attempt"
expect_jq "$(on "$other" rpc task.get "{\"id\":$id}")" '.attempt == 2 and .attempts[0].exception.type == "DaemonRestarted"' "the hung node's attempt"
kill -CONT "${NPID[$hung]}"
poll_until 20 eval '! alive '"${NPID[$hung]}" || fail "node $hung runs on after waking to a lease another node took"
wait "${NPID[$hung]}" 2>/dev/null
grep -q "exiting.*another node\|another node took its work" "${NSTATE[$hung]}/daemon.log" || fail "node $hung did not say why it stopped"
node "$hung"

# ---- a node that stops cleanly ends its lease as it leaves: its running
# sleep goes on elsewhere (to its deadline) without waiting for the lease
owner_of() { psql -qX "$URI" -Atc "SELECT coalesce(owner, '') FROM futured.tasks WHERE id = $1"; }
moved() { local o; o=$(owner_of "$1"); [ -n "$o" ] && [ "$o" != "$2" ]; }
id=$(on 1 submit '{"kind":"sleep","seconds":3600}')
poll_until 20 eval '[ "$(on 1 state '"$id"')" = running ]' || fail "the sleep to hand over did not start"
owner=$(owner_of "$id")
n=${owner#n}
stop_node "$n"
expect_eq "$(psql -qX "$URI" -Atc "SELECT count(*) FROM futured.nodes WHERE name = '$owner' AND lease_until > extract(epoch FROM clock_timestamp())")" 0 "live leases of node $owner once it stopped"
poll_until 20 moved "$id" "$owner" || fail "the running sleep of the stopped node $owner was not taken: owner $(owner_of "$id")"
other=$(( n % 3 + 1 ))
expect_jq "$(on "$other" rpc task.get "{\"id\":$id}")" '.state == "running" and .attempt == 1' "the sleep node $owner left, resumed by $(owner_of "$id")"
expect_jq "$(on "$other" rpc task.cancel "{\"id\":$id}")" '.cancelled == true' "cancel of the handed-over sleep"
node "$n"

# ---- a node killed with more running tasks than one adoption round takes
# (256): all of them are taken, round after round, and its row in nodes
# goes with the round that takes the last
stop_node 2; stop_node 3
batch=$(jq -nc '[range(600) | {jsonrpc: "2.0", id: ., method: "task.submit", params: {kind: "sleep", seconds: 3600}}]')
ids=$(on 1 post "$batch" | jq -r '.[].result.id')
[ "$(wc -w <<<"$ids")" = 600 ] || fail "600 sleeps to adopt: submitted $(wc -w <<<"$ids")"
running_of() { psql -qX "$URI" -Atc "SELECT count(*) FROM futured.tasks WHERE state = 1 AND owner = '$1'"; }
poll_until 60 eval '[ "$(running_of n1)" = 600 ]' || fail "node 1 runs $(running_of n1) of the 600 sleeps"
node 2; node 3
kill9_node 1
taken() { [ "$(psql -qX "$URI" -Atc "SELECT count(*) FROM futured.tasks WHERE state = 1 AND owner IN ('n2', 'n3')")" = 600 ]; }
poll_until 60 taken || fail "600 running sleeps of the killed node 1: $(running_of n1) still its, $(running_of n2) on n2, $(running_of n3) on n3"
poll_until 20 eval '[ "$(psql -qX "$URI" -Atc "SELECT count(*) FROM futured.nodes WHERE name = '"'n1'"'")" = 0 ]' ||
    fail "the killed node 1 is still in nodes once its work was taken"
grep -q "node n1 left or let its lease run out" "${NSTATE[2]}/daemon.log" "${NSTATE[3]}/daemon.log" ||
    fail "no node said it took node 1's work"
cat "${NSTATE[2]}/daemon.log" "${NSTATE[3]}/daemon.log" | grep -q "adopted 256 running tasks" ||
    fail "node 1's 600 running sleeps were not taken in rounds of 256: $(grep -h adopted "${NSTATE[2]}/daemon.log" "${NSTATE[3]}/daemon.log")"
note "600 running sleeps of a killed node: $(running_of n2) taken by n2, $(running_of n3) by n3"
on 2 post "$(jq -nc --arg ids "$ids" '[$ids | split("\n")[] | select(. != "") | {jsonrpc: "2.0", id: 1, method: "task.cancel", params: {id: tonumber}}]')" >/dev/null
poll_until 30 eval '[ "$(psql -qX "$URI" -Atc "SELECT count(*) FROM futured.tasks WHERE state = 1")" = 0 ]' ||
    fail "the 600 sleeps were not all cancelled"
node 1

# ---- kill -9 a node mid-run, again and again: each attempt logs its start
# and end; tasks with a retry are run again elsewhere after the lease
LOG=$T/attempts
all=""
for round in 1 2 3; do
	ids=""
	for i in $(seq 8); do
		ids="$ids $(on 1 submit "{\"kind\":\"exec\",\"retries\":1,\"retry_backoff\":0.1,\"shell\":\"echo start \$FUTURED_TASK_ID \$(date +%s.%N) >>$LOG; sleep 1.5; echo end \$FUTURED_TASK_ID \$(date +%s.%N) >>$LOG\"}")"
	done
	all="$all $ids"
	victim=$(( round % 3 + 1 ))
	poll_until 20 eval '[ "$(on '"$victim"' rpc daemon.info | jq .running_processes)" -gt 0 ]' ||
	    fail "round $round: node $victim runs nothing to kill"
	kill9_node "$victim"
	for id in $ids; do on $(( victim % 3 + 1 )) wait_done "$id" 90; done
	node "$victim"
done
# every acknowledged task finished once: succeeded (after a retry where its
# node died); an attempt cut short by a kill never ends (its process died
# with its node, before the retry could start), so each task ends once
for id in $all; do
	t=$(on 2 rpc task.get "{\"id\":$id}")
	expect_jq "$t" '.state == "succeeded"' "task $id across the kills"
	starts=$(grep -c "^start $id " "$LOG")
	ends=$(grep -c "^end $id " "$LOG")
	[ "$ends" = 1 ] || fail "task $id ended $ends times (started $starts)"
	[ "$starts" -le 2 ] || fail "task $id started $starts times"
	expect_jq "$t" ".attempt == $starts" "task $id's attempts against its starts"
done
killed=$(awk '$1 == "start" { s[$2]++ } END { n = 0; for (t in s) if (s[t] > 1) n++; print n }' "$LOG")
[ "$killed" -gt 0 ] || fail "no attempt was cut short by the kills"
note "3 kills: $killed tasks retried on another node, none lost, none twice"
for n in 1 2 3; do stop_node "$n"; done
