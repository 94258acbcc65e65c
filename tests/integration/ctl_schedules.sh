#!/usr/bin/env bash
# futurectl schedule (PROTOCOL.md "Schedules"): `schedule add NAME --every 1
# -- date +%s` makes a schedule whose firings are tasks of that command,
# labelled schedule=NAME and scheduled_at=TIME (to the second) with the key
# schedule:NAME:SECONDS, and they succeed: at least two within a few seconds;
# `schedule ls` shows it (WHEN "every 1s", the latest firing's task and
# outcome, its counts) and `show --json` agrees; after `schedule pause` the
# number of its tasks stops growing (one firing already in flight allowed)
# and next_at is null; `schedule resume` makes it fire again; `run-now`
# prints the id of a new task labelled schedule=NAME (key
# schedule:NAME:trigger:MS), paused or not, and `run-now --wait` prints the
# task's output; `rm` deletes it, its tasks stay, and `show`, `rm`, `pause`
# and `run-now` of it are NoSuchSchedule: exit 4, "no schedule NAME"; `add`
# of a taken name is ScheduleExists (4, "schedule NAME exists"), of a bad
# cron expression or an unknown --tz is refused (4) naming the field; a
# `--cron '* * * * *'` schedule's next firing is on a minute boundary;
# usage errors (no subcommand, an unknown one, neither --cron nor --every,
# --key, a bad --overlap) exit 2 and send nothing.
. "$(dirname "$0")/harness.sh"
[ -x "$FUTURECTL" ] || fail "no $FUTURECTL"
start_daemon --jobs 4

# tasks NAME [STATE] -> the tasks schedule NAME made (JSON array)
tasks() {
	local st=()
	[ -n "${2:-}" ] && st=(--state "$2")
	ctl --json list --label "schedule=$1" "${st[@]}" --limit 1000 | jq -c .tasks
}
# ntasks NAME [STATE] -> how many
ntasks() { tasks "$@" | jq length; }
# show NAME -> the schedule object
show() { ctl --json schedule show "$1"; }
# at_least N NAME [STATE]: schedule NAME made N tasks (in STATE)
at_least() { [ "$(ntasks "$2" "${3:-}")" -ge "$1" ]; }
# wait_unfinished NAME: every task of schedule NAME has ended
wait_unfinished() {
	local id
	for id in $(jq -r '.[] | select(.state == "pending" or .state == "running") | .id' <<<"$(tasks "$1")"); do
		wait_done "$id"
	done
}

# ---- usage errors: 2, nothing sent
c schedule
want_rc 2 "schedule without a subcommand"
[[ $err == *usage:* ]] || fail "schedule alone: $err"
c schedule frobnicate
want_rc 2 "an unknown schedule subcommand"
c schedule add nowhen -- true
want_rc 2 "add without --cron or --every"
[[ $err == *--cron* ]] || fail "add without a when: $err"
c schedule add both --cron '* * * * *' --every 5 -- true
want_rc 2 "add with --cron and --every"
c schedule add keyed --every 5 --key k -- true
want_rc 2 "add --key"
[[ $err == *--key* ]] || fail "add --key: $err"
c schedule add delayed --every 5 --delay 3 -- true
want_rc 2 "add --delay"
c schedule add badov --every 5 --overlap sometimes -- true
want_rc 2 "add --overlap sometimes"
c schedule add
want_rc 2 "add without a name"
c schedule run-now --overlap sometimes x
want_rc 2 "run-now --overlap sometimes"
c schedule show
want_rc 2 "show without a name"
c --json schedule ls
want_rc 0 "schedule ls with none"
expect_jq "$out" '.schedules == []' "nothing was created by the usage errors"

# ---- add --every 1: firings that succeed
c schedule add tick --every 1 --label team=sched -- date +%s
want_rc 0 "add --every 1"
[[ $out == "schedule tick: next firing "* ]] || fail "add's output: $out"
poll_until 30 at_least 2 tick succeeded ||
    fail "fewer than 2 succeeded firings of tick within $(scaled 30) s: $(tasks tick)"
ts=$(tasks tick succeeded)
expect_jq "$ts" 'all(.[]; .spec == {"kind":"exec","argv":["date","+%s"]}
    and .labels.schedule == "tick" and .labels.team == "sched"
    and (.labels.scheduled_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"))
    and .key == "schedule:tick:\(.labels.scheduled_at | fromdateiso8601)"
    and (.result.stdout | test("^[0-9]+\n$")))' "the firings' tasks"
expect_jq "$ts" '[.[].labels.scheduled_at] | length == (unique | length)' "one task a firing time"

# ---- ls and show
c schedule ls
want_rc 0 "schedule ls"
expect_eq "$(head -n 1 <<<"$out" | tr -s ' ')" "NAME WHEN NEXT LAST TASK OUTCOME FIRED SKIPPED MISSED" "ls's header"
row=$(awk '$1 == "tick"' <<<"$out")
[[ $row == "tick "*" every 1s "* ]] || fail "ls's row of tick: '$row'"
read -r fired skipped missed <<<"$(awk '{ print $(NF-2), $(NF-1), $NF }' <<<"$row")"
[[ $fired =~ ^[0-9]+$ && $skipped =~ ^[0-9]+$ && $missed =~ ^[0-9]+$ ]] || fail "ls's counts: '$row'"
[ "$fired" -ge 2 ] || fail "ls says tick fired $fired times: '$row'"
[[ $row =~ \ (pending|running|succeeded)\  ]] || fail "ls's outcome of tick: '$row'"
s=$(show tick)
expect_jq "$s" '.name == "tick" and .every == 1 and .paused == false
    and .overlap == "skip" and .catchup == "latest" and .catchup_window == 60
    and .task.argv == ["date","+%s"] and .fired >= 2 and (.next_at | type) == "string"
    and (.last.task | type) == "number" and (.last.scheduled_at | type) == "string"' "show --json tick"
c --json schedule ls
expect_jq "$out" '[.schedules[].name] == ["tick"]' "ls --json"
c schedule show tick
want_rc 0 "show"
[[ $out == *"when:"*"every 1s"* && $out == *"command:"*"date +%s"* ]] || fail "show tick: $out"

# ---- pause: the number of tasks stops growing (one firing in flight allowed)
c schedule pause tick
want_rc 0 "pause"
[[ $(awk '$1 == "tick"' <<<"$out") == *" paused "* ]] || fail "pause's output: $out"
expect_jq "$(show tick)" '.paused == true and .next_at == null' "a paused schedule"
n0=$(ntasks tick)
sleep 2.5
n1=$(ntasks tick)
sleep 2.5
n2=$(ntasks tick)
[ "$n2" -le $((n0 + 1)) ] || fail "after pausing, tick's tasks went on: $n0, then $n1, then $n2"
f0=$(show tick | jq .fired)
sleep 1.5
expect_eq "$(show tick | jq .fired)" "$f0" "a paused schedule's fired count"

# ---- resume: it fires again
c schedule resume tick
want_rc 0 "resume"
expect_jq "$(show tick)" '.paused == false and (.next_at | type) == "string"' "a resumed schedule"
poll_until 30 at_least $((n2 + 1)) tick ||
    fail "no firing of tick within $(scaled 30) s after resume"

# ---- run-now, paused or not
c schedule pause tick
want_rc 0 "pause again"
wait_unfinished tick
c schedule run-now --overlap allow_all tick
want_rc 0 "run-now"
[[ $out =~ ^[0-9]+$ ]] || fail "run-now printed '$out', want a task id"
now_id=$out
wait_done "$now_id"
expect_jq "$(rpc task.get "{\"id\":$now_id}")" '.labels.schedule == "tick" and .labels.team == "sched"
    and (.key | startswith("schedule:tick:trigger:")) and .state == "succeeded"' "run-now's task"
c --json schedule run-now --overlap allow_all tick
want_rc 0 "run-now --json"
expect_jq "$out" '.outcome == "fired" and (.task | type) == "number" and (.scheduled_at | type) == "string"' "run-now --json"
wait_done "$(jq .task <<<"$out")"
c schedule run-now --wait --overlap allow_all tick
want_rc 0 "run-now --wait"
[[ $out =~ ^[0-9]+$ ]] || fail "run-now --wait printed '$out', want date's output"
expect_jq "$(show tick)" '.paused == true' "run-now leaves it paused"

# ---- rm: gone, its tasks stay
before=$(ntasks tick)
c schedule rm tick
want_rc 0 "rm"
expect_eq "$out" "deleted schedule tick" "rm's output"
[ "$(ntasks tick)" -ge "$before" ] || fail "rm deleted tick's tasks"
for sub in show rm pause resume run-now; do
	c schedule "$sub" tick
	want_rc 4 "$sub of a deleted schedule"
	[[ $err == *"no schedule tick"* ]] || fail "$sub of a deleted schedule: $err"
done

# ---- refusals by futured: 4, naming the field
c schedule add badcron --cron '61 * * * *' -- true
want_rc 4 "add with minute 61"
[[ $err == *cron* ]] || fail "add with a bad cron: $err"
c schedule add badtz --cron '0 * * * *' --tz Mars/Olympus_Mons -- true
want_rc 4 "add with an unknown zone"
[[ $err == *tz* ]] || fail "add with an unknown --tz: $err"
c schedule add dup --every 1h --paused -- true
want_rc 0 "add dup"
expect_eq "$out" "schedule dup: paused (resume starts it)" "add --paused's output"
c schedule add dup --every 2h -- true
want_rc 4 "add of a name taken"
[[ $err == *"schedule dup exists"* ]] || fail "add of a taken name: $err"
expect_jq "$(show dup)" '.every == 3600 and .paused == true' "the first dup stays"
c --json schedule ls
expect_jq "$out" '[.schedules[].name] == ["dup"]' "the refused adds made nothing"

# ---- a cron schedule fires on minute boundaries
c --json schedule add minutely --cron '* * * * *' -- true
want_rc 0 "add --cron '* * * * *'"
expect_jq "$out" '.cron == "* * * * *" and .tz == "UTC"
    and (.next_at | test(":00(\\.000)?Z$"))' "a minutely schedule's next_at"
c schedule rm minutely
want_rc 0 "rm minutely"
exit 0
