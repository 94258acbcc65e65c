#!/usr/bin/env bash
# The main connection to PostgreSQL is lost and made again without the
# loop waiting on the network (issue #13), through tests/pg/with-pg.sh.
# While another session holds this node's lock, each reconnect finds it
# taken and tries again a second later: meanwhile the node answers every
# call at once (StoreError, for what needs the database); once the lock
# is free it connects again, its running sleep is still its own, and new
# work runs.  The lease's and the ids' own connections, lost, are made
# again likewise.  A rate limit set during the outage (StoreError) is
# not in force once connected again.
# (Connecting used to block the loop: up to 5 s on the lock each try.)
. "$(dirname "$0")/../integration/harness.sh"
: "${FUTURED_PG:?run me through tests/pg/with-pg.sh}"

DB=$(psql -qX "${FUTURED_PG//\{db\}/postgres}" -Atc "CREATE DATABASE reconnect" >/dev/null && echo reconnect) ||
    fail "cannot create the database"
URI=${FUTURED_PG//\{db\}/$DB}
LEASE=$(scaled 3)
start_daemon --store "$URI" --node n1 --lease "$LEASE"
long=$(submit '{"kind":"sleep","seconds":3600}')
poll_until 20 eval '[ "$(state "$long")" = running ]' || fail "the long sleep did not start"

# another session ends futured's connection and takes its node lock,
# holding it until the test ends it (HOLD seconds at most)
HOLD=$(scaled 120)	# ended by the test once it has seen enough
psql -qX "$URI" -Atc "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'futured'" \
    -c "SELECT pg_advisory_lock(hashtext('futured node futured n1'))" \
    -c "SELECT pg_sleep($HOLD)" >/dev/null 2>"$T/holder.err" &
holder=$!
poll_until 30 grep -q "still locked by an earlier session" "$STATE/daemon.log" ||
    fail "no reconnect found the node's lock taken"

# twenty calls answered while the lock is still held: a loop that waited
# for the lock (5 s a try) would have answered a few at most
answered=0
for i in $(seq 20); do
	expect_jq "$(rpc task.get "{\"id\":$long}")" '.error.code == 7' "task.get during the outage: StoreError ($i)"
	answered=$((answered + 1))
done
alive "$holder" || fail "the lock holder ended before 20 calls were answered ($(cat "$T/holder.err"))"
r=$(call task.submit '{"kind":"sleep","seconds":0}')
expect_jq "$r" '.error.code == 7' "a submit while the database cannot be reached: StoreError"
# a rate limit set meanwhile is not stored: it must not stay in force
expect_jq "$(call rate.set '{"name":"ghost","starts":1}')" '.error.code == 7' "rate.set while the database cannot be reached: StoreError"
grep -q "connected again" "$STATE/daemon.log" && fail "connected again while the lock was held"
note "$answered calls answered while another session held the node's lock"

# the lock freed: connected again, and new work runs
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
psql -qX "$URI" -Atc "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()" >/dev/null
poll_until 30 grep -q "connected again" "$STATE/daemon.log" || fail "not connected again once the lock was free"
id=$(submit '{"kind":"sleep","seconds":0}')
wait_done "$id" 20
expect_jq "$(rpc task.get "{\"id\":$id}")" '.state == "succeeded"' "work after the reconnect"
expect_jq "$(rpc task.get "{\"id\":$long}")" '.state == "running"' "the long sleep after the reconnect"
expect_jq "$(rpc task.cancel "{\"id\":$long}")" '.cancelled == true' "cancel of the long sleep after the reconnect"
poll_until 10 eval '[ "$(rpc rate.list | jq -c "[.rate_limits[].name]")" = "[]" ]' ||
    fail "the rate limit refused during the outage is in force after the reconnect: $(rpc rate.list)"

# the lease's own connection lost: made again on the loop at the next
# renewal, well within the lease (else the node would exit)
lease_pid() { psql -qX "$URI" -Atc "SELECT pid FROM pg_stat_activity WHERE application_name = 'futured-lease'"; }
old=$(lease_pid)
[ -n "$old" ] || fail "no lease connection"
psql -qX "$URI" -Atc "SELECT pg_terminate_backend($old)" >/dev/null
poll_until 30 eval 'p=$(lease_pid); [ -n "$p" ] && [ "$p" != "$old" ]' || fail "the lease connection was not made again"
sleep "$LEASE"
alive "$DPID" || fail "the node exited after losing its lease connection"
expect_eq "$(psql -qX "$URI" -Atc "SELECT count(*) FROM futured.nodes WHERE name = 'n1' AND lease_until > extract(epoch FROM clock_timestamp())")" 1 "n1's lease, renewed on the new connection"

# the id connection lost: made again on the loop when more ids are asked
# for; a batch that needs them all gets them
ids_pid() { psql -qX "$URI" -Atc "SELECT pid FROM pg_stat_activity WHERE application_name = 'futured-ids'"; }
old=$(ids_pid)
[ -n "$old" ] || fail "no id connection"
psql -qX "$URI" -Atc "SELECT pg_terminate_backend($old)" >/dev/null
batch=$(jq -nc '[range(3000) | {jsonrpc: "2.0", id: ., method: "task.submit", params: {kind: "sleep", seconds: 0}}]')
r=$(post "$batch")
expect_jq "$r" 'length == 3000 and ([.[].result.id] | unique | length) == 3000' "3,000 submits once the id connection was lost"
poll_until 20 eval 'p=$(ids_pid); [ -n "$p" ] && [ "$p" != "$old" ]' ||
    fail "the id connection was not made again (was $old, now '$(ids_pid)')"
r=$(post "$batch")
expect_jq "$r" 'length == 3000 and ([.[].result.id] | unique | length) == 3000' "3,000 more submits on the new id connection"
stop_daemon
expect_eq "$DAEMON_RC" 0 "exit status"
note "ok: the node answered while reconnecting, and ran new work once connected"
