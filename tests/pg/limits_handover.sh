#!/usr/bin/env bash
# The limits node's role moves while its keyed task still runs (#17's
# left-over): node 1, the limits node, runs a task of key k (limit 1)
# and holds a second one, claimed, waiting for the key; its lease
# connection is ended, so the advisory lock goes and node 2 takes the
# role, but node 1 lives on and its task runs on.  Node 1 gives the
# waiting task back; node 2 must not start a task of k until the running
# one ends (before, it claimed and started one at once: two tasks of a
# key of limit 1 at the same time); a task of another key runs meanwhile.
# Then the tasks of k run on node 2, one after the other.  A task of
# another key that waits for its retry an hour away is given back too.
. "$(dirname "$0")/../integration/harness.sh"
: "${FUTURED_PG:?run me through tests/pg/with-pg.sh}"
. "$(dirname "$0")/nodes.sh"

TS='def ts: (sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) + (capture("\\.(?<f>[0-9]+)Z$").f | "0." + . | tonumber);'
nodes_db handover
is_limits_node() { grep 'limits node' "${NSTATE[$1]}/daemon.log" 2>/dev/null | tail -1 | grep -q 'this node is the'; }
# a task of key $1 that says it started in $T/$2.started and ends once
# $T/$2.release exists
keyed() {
	jq -nc --arg key "$1" --arg m "$T/$2" '{kind: "exec", argv: ["sh", "-c",
	    "touch \"$0.started\"; while [ ! -e \"$0.release\" ]; do sleep 0.05; done", $m],
	    concurrency: {($key): 1}}'
}

# node 1 first, so that it is the limits node; its lease is the longer,
# so that node 2 renews (and tries the lock) between node 1's renewals
NODE_ARGS=(--lease "$(scaled 6)" --jobs 4)
node 1
poll_until 20 is_limits_node 1 || fail "node 1 did not become the limits node"
NODE_ARGS=(--lease "$(scaled 3)")
node 2
t1=$(on 1 submit "$(keyed k t1)")
poll_until 20 test -e "$T/t1.started" || fail "the first task of k did not start"
state_on() { on "$1" state "$2"; }
owner() { psql -qX "$URI" -Atc "SELECT coalesce(owner, '-') FROM futured.tasks WHERE id = $1"; }
t1b=$(on 1 submit "$(keyed k t1b)")
poll_until 20 eval '[ "$(owner '"$t1b"')" = n1 ]' || fail "node 1 did not claim the second task of k: owner $(owner "$t1b")"
# and one waiting for its retry an hour away
rt=$(on 1 submit '{"kind":"exec","argv":["false"],"retries":1,"retry_backoff":3600,"concurrency":{"r":1}}')
poll_until 20 eval '[ "$(on 1 rpc task.get "{\"id\":$rt}" | jq -c "[.state, (.attempts | length)]")" = "[\"pending\",1]" ]' ||
    fail "the task of key r did not fail its first attempt"

# node 1's lease connection ended (it holds the lock): node 2 takes the
# role; node 1 makes its connection again and lives on
lease_backend() {
	psql -qX "$URI" -Atc "SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'futured-lease'"
}
for try in 1 2 3 4 5; do
	b=$(lease_backend)
	[ -n "$b" ] || fail "no lease connection holds the limits lock"
	psql -qX "$URI" -Atc "SELECT pg_terminate_backend($b)" >/dev/null
	poll_until 20 grep -q 'store: postgresql: lease:' "${NSTATE[1]}/daemon.log" ||
	    fail "node 1 did not see its lease connection end"
	poll_until "$(scaled 6)" is_limits_node 2 && break
	# node 1 took the lock again first: once more
	: >"${NSTATE[1]}/daemon.log"
done
is_limits_node 2 || fail "node 2 never became the limits node (5 tries)"
alive "${NPID[1]}" || fail "node 1 exited when its lease connection ended"
expect_jq "$(on 1 rpc task.get "{\"id\":$t1}")" '.state == "running"' "the first task of k on node 1, after the handover"
poll_until 20 eval '[ "$(owner '"$t1b"')" != n1 ]' || fail "node 1 kept the task of k it had not started"
poll_until 20 eval '[ "$(owner '"$rt"')" = - ]' || fail "node 1 kept the task waiting for its retry: owner $(owner "$rt")"
grep -q 'no longer the limits node: [0-9]* waiting tasks with limits given back' "${NSTATE[1]}/daemon.log" ||
    fail "node 1 did not say it gave tasks back"
expect_jq "$(on 2 rpc task.get "{\"id\":$rt}")" '.state == "pending" and (.attempts | length) == 1' "the task waiting for its retry, given back"

# a second task of k waits for the first; one of key j runs meanwhile
t2=$(on 2 submit "$(keyed k t2)")
j=$(on 2 submit '{"kind":"sleep","seconds":0,"concurrency":{"j":1}}')
on 2 wait_done "$j" 30
expect_jq "$(on 2 rpc task.get "{\"id\":$j}")" '.state == "succeeded"' "the task of key j, while node 1 holds k"
sleep "$(scaled 1)"
[ -e "$T/t2.started" ] && fail "a second task of key k (limit 1) started on node 2 while the first ran on node 1"
[ -e "$T/t1b.started" ] && fail "the task of k given back started while the first ran"
expect_jq "$(on 2 rpc task.get "{\"id\":$t2}")" '.state == "pending"' "the third task of k while the first runs"

# the first ends: the others run on node 2, the older first, one at a time
touch "$T/t1.release"
on 1 wait_done "$t1" 30
poll_until 30 test -e "$T/t1b.started" || fail "the task of k given back never started once the first ended"
expect_eq "$(owner "$t1b")" n2 "the node that runs the task given back"
[ -e "$T/t2.started" ] && fail "two tasks of k started on node 2 at once"
touch "$T/t1b.release"
poll_until 30 test -e "$T/t2.started" || fail "the third task of k never started"
touch "$T/t2.release"
on 2 wait_done "$t2" 30
all=$(on 2 rpc task.list '{"limit":10}' | jq -c "$TS"' [.tasks[] | select(.id == '"$t1"' or .id == '"$t1b"' or .id == '"$t2"') | {id, state, s: (.started_at | ts), f: (.finished_at | ts)}] | sort_by(.s)')
expect_jq "$all" 'length == 3 and all(.[]; .state == "succeeded") and .[1].s >= .[0].f and .[2].s >= .[1].f' "the tasks of k, one after the other: $all"
expect_jq "$(on 1 rpc task.cancel "{\"id\":$rt}")" '.cancelled == true' "the retry given back, cancelled from node 1"
expect_eq "$(state_on 2 "$rt")" cancelled "the retry given back, after the cancel"
stop_node 1
stop_node 2
note "limits_handover: ok"
