#!/usr/bin/env bash
# A task cancelled while its claim commits stays cancelled and never starts
# (PostgreSQL, through tests/pg/with-pg.sh).  A claim's rows come back
# before its commit does; a cancel that lands between them used to be
# undone: the commit resumed the task as if still pending, and its start
# wrote "running" over the cancel (the trees test's rare "child of a
# cancel-policy parent never ends" under load).  Here a deferred trigger
# holds the claim's commit open until the test has cancelled the task.
. "$(dirname "$0")/../integration/harness.sh"
: "${FUTURED_PG:?run me through tests/pg/with-pg.sh}"

DB=$(psql -qX "${FUTURED_PG//\{db\}/postgres}" -Atc "CREATE DATABASE claim_cancel" >/dev/null && echo claim_cancel) ||
    fail "cannot create the database"
URI=${FUTURED_PG//\{db\}/$DB}
start_daemon --store "$URI" --node n1 --log-level debug	# the claim's reference shows
sql() { psql -qX "$URI" -v ON_ERROR_STOP=1 -Atc "$1"; }

# The gate: a claim of a task labelled "gate" signals (a sequence is not
# rolled back or hidden by the transaction) and waits, in its commit, for
# a row in gate_open; at most GATE seconds, so a failing test cannot hang.
GATE=$(scaled 20)
sql "CREATE SEQUENCE public.gate_entered;
CREATE TABLE public.gate_open (x int);
CREATE FUNCTION public.gate() RETURNS trigger LANGUAGE plpgsql AS \$\$
DECLARE i int := 0;
BEGIN
	PERFORM nextval('public.gate_entered');
	WHILE NOT EXISTS (SELECT 1 FROM public.gate_open) AND i < $GATE * 100 LOOP
		PERFORM pg_sleep(0.01);
		i := i + 1;
	END LOOP;
	RETURN NULL;
END \$\$;
CREATE CONSTRAINT TRIGGER gate AFTER UPDATE ON futured.tasks
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
	WHEN (OLD.owner IS NULL AND NEW.owner IS NOT NULL AND NEW.labels LIKE '%\"gate\"%')
	EXECUTE FUNCTION public.gate();" || fail "cannot make the gate"

id=$(submit "{\"kind\":\"exec\",\"shell\":\"touch $T/started; sleep 3600\",\"labels\":{\"gate\":\"1\"}}")
# the claim's rows are out (they come before its commit), the commit waits
poll_until 20 eval '[ "$(sql "SELECT is_called FROM public.gate_entered")" = t ]' ||
    fail "the task's claim never reached its commit"
# and futured has read them: the claim holds the task in memory
poll_until 20 grep -q "task_ref: task $id ref [0-9]* (claim)" "$STATE/daemon.log" ||
    fail "futured did not read the claim's rows"
cancel_out=$T/cancel.json
call task.cancel "{\"id\":$id,\"message\":\"while claimed\"}" >"$cancel_out" &
canceller=$!
sleep "$(scaled 0.3)"
sql "INSERT INTO public.gate_open VALUES (1)" || fail "cannot open the gate"
wait "$canceller"
expect_jq "$(cat "$cancel_out")" '.result.cancelled == true' "task.cancel while the claim commits"
wait_done "$id"
# a barrier: a task submitted after it has been claimed, run and ended
b=$(submit '{"kind":"exec","shell":"echo after"}')
wait_done "$b"
expect_jq "$(rpc task.get "{\"id\":$id}")" '.state == "cancelled" and .exception.message == "while claimed" and ((.attempts // []) | length) == 0' "the cancelled task, after its claim committed"
[ -e "$T/started" ] && fail "the cancelled task was started"
expect_eq "$(sql "SELECT state FROM futured.tasks WHERE id = $id")" 4 "its stored state (cancelled)"
stop_daemon
