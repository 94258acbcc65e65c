#!/usr/bin/env bash
# Concurrency keys and rate limits on three futured sharing one
# PostgreSQL database (issue #17): tasks with limits run on one node, the
# limits node (the holder of an advisory lock taken with the lease), so a
# key's limit and a rate hold across the cluster, wherever the tasks were
# submitted; other tasks run anywhere; when the limits node dies another
# takes over and the keyed tasks left finish.
. "$(dirname "$0")/../integration/harness.sh"
: "${FUTURED_PG:?run me through tests/pg/with-pg.sh}"
. "$(dirname "$0")/nodes.sh"

NODE_ARGS=(--lease "$(scaled 3)" --jobs 4)
nodes_db limits
TS='def ts: (sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) + (capture("\\.(?<f>[0-9]+)Z$").f | "0." + . | tonumber);'
# the limits node: the one whose log says so last
limits_node() {
	local n
	for n in 1 2 3; do
		[ -n "${NPID[$n]}" ] || continue
		grep 'limits node' "${NSTATE[$n]}/daemon.log" 2>/dev/null | tail -1 |
		    grep -q 'this node is the' && echo "$n"
	done
}

node 1; node 2; node 3
poll_until 20 eval '[ -n "$(limits_node)" ]' || fail "no node became the limits node"
[ "$(limits_node | wc -l)" = 1 ] || fail "more than one limits node: $(limits_node)"
ln=$(limits_node)

# ---- a key's limit across the nodes: 30 tasks of key k (limit 2)
# submitted to every node; never more than 2 at once
ids=""
for i in $(seq 30); do
	n=$(( i % 3 + 1 ))
	ids="$ids $(on "$n" submit '{"kind":"sleep","seconds":0.1,"labels":{"run":"key"},"concurrency":{"k":2}}')"
done
# plain tasks run on every node meanwhile
for i in $(seq 6); do on $(( i % 3 + 1 )) submit '{"kind":"sleep","seconds":0}' >/dev/null; done
for id in $ids; do on 1 wait_done "$id" 60; done
tasks=$(on 1 rpc task.list '{"label":{"run":"key"},"limit":100}' | jq -c "$TS"' [.tasks[] | {s: (.started_at | ts), f: (.finished_at | ts), state}]')
expect_jq "$tasks" 'length == 30 and all(.[]; .state == "succeeded")' "the keyed tasks succeeded"
maxrun=$(jq '. as $t | [$t[] | .s as $at | [$t[] | select(.s <= $at and .f > $at)] | length] | max' <<<"$tasks")
[ "$maxrun" -le 2 ] || fail "key k (limit 2) ran $maxrun tasks at once across the nodes"
[ "$maxrun" = 2 ] || note "key k ran at most $maxrun at once"

# ---- a rate across the nodes: 10 a second, 40 tasks from every node
on 2 rpc rate.set '{"name":"api","starts":10,"per":1}' >/dev/null
poll_until 10 eval '[ "$(on 3 rpc rate.list | jq ".rate_limits | length")" = 1 ]' || fail "node 3 never heard of the rate limit"
ids=""
for i in $(seq 40); do
	ids="$ids $(on $(( i % 3 + 1 )) submit '{"kind":"sleep","seconds":0,"labels":{"run":"rate"},"rate_limit":"api"}')"
done
for id in $ids; do on 1 wait_done "$id" 60; done
starts=$(on 1 rpc task.list '{"label":{"run":"rate"},"limit":100}' | jq -c "$TS"' [.tasks[] | .started_at | ts] | sort')
expect_jq "$starts" '. as $s | [range(0; length - 12) | $s[. + 12] - $s[.]] | min >= 0.999' "no second holds more than 12 starts of a 10/s limit across the nodes"

# ---- the limits node dies: another takes over, keyed tasks go on
for i in $(seq 6); do
	ids="$ids $(on $(( (ln % 3) + 1 )) submit '{"kind":"sleep","seconds":0,"concurrency":{"k2":1}}')"
done
kill9_node "$ln"
poll_until 30 eval '[ -n "$(limits_node)" ] && [ "$(limits_node)" != "$ln" ]' || fail "no node took over as the limits node"
other=$(limits_node)
more=""
for i in $(seq 4); do more="$more $(on "$other" submit '{"kind":"sleep","seconds":0,"concurrency":{"k2":1}}')"; done
for id in $more; do on "$other" wait_done "$id" 60; done
for n in 1 2 3; do if [ -n "${NPID[$n]}" ]; then stop_node "$n"; fi; done
note "limits_cluster: ok (limits node n$ln, then n$other)"
