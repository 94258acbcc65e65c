#!/usr/bin/env bash
# Schedules (issue #17) against a real futured: schedule.create .. trigger
# answer as PROTOCOL.md says, bad definitions are refused naming the field,
# firings make tasks labelled and keyed by their time, the overlap policies
# (driven by `future` tasks the test completes, and by triggers on a paused
# schedule, so no sleep races the load), pause and resume, catch-up after
# kill -9 (all, or the latest; older firings counted as missed, no firing
# made twice), a cron schedule in a zone, jitter.
. "$(dirname "$0")/harness.sh"

start_daemon

sched() { rpc schedule.get "{\"name\":\"$1\"}"; }
# tasks NAME -> the ids of the schedule's tasks, oldest first
tasks() {
	rpc task.list "{\"label\":{\"schedule\":\"$1\"},\"limit\":1000}" |
	    jq -c '[.tasks[] | .id] | sort'
}
ntasks() { tasks "$1" | jq length; }

# ---- the object, and a cron schedule's next firing in its zone
r=$(rpc schedule.create '{"name":"nine","cron":"0 9 * * *","tz":"Europe/Paris","task":{"kind":"sleep","seconds":0}}')
expect_jq "$r" '.name == "nine" and .cron == "0 9 * * *" and .tz == "Europe/Paris" and .overlap == "skip" and .catchup == "latest" and .catchup_window == 60 and .jitter == 0 and .paused == false and .last == null and .buffered == null and .fired == 0 and .skipped == 0 and .missed == 0 and (has("every") | not)' "schedule.create's answer"
# 09:00 in Paris is 08:00Z in winter, 07:00Z in summer
expect_jq "$r" '.next_at | test("T0[78]:00:00.000Z$")' "09:00 Paris as UTC"
expect_jq "$(sched nine)" '.name == "nine" and .task == {"kind":"sleep","seconds":0}' "schedule.get"
r=$(rpc schedule.create '{"name":"daily","cron":"@daily","task":{"kind":"sleep","seconds":0},"paused":true}')
expect_jq "$r" '.paused == true and .next_at == null and .tz == "UTC"' "created paused"
expect_jq "$(rpc schedule.list)" '[.schedules[].name] == ["daily","nine"]' "schedule.list by name"
expect_jq "$(rpc schedule.list '{"paused":true}')" '[.schedules[].name] == ["daily"]' "schedule.list {paused}"
r=$(rpc schedule.update '{"name":"daily","every":3600}')
expect_jq "$r" '.every == 3600 and (has("cron") | not) and (has("tz") | not) and .paused == true' "update: every replaces cron"
r=$(rpc schedule.resume '{"name":"daily"}')
expect_jq "$r" '.paused == false and .next_at != null' "resume"
r=$(rpc schedule.pause '{"name":"daily"}')
expect_jq "$r" '.paused == true and .next_at == null' "pause"
expect_jq "$(rpc schedule.delete '{"name":"daily"}')" '. == {"name":"daily","deleted":true}' "delete"
expect_jq "$(sched daily)" '.error.code == 13 and .error.message == "NoSuchSchedule" and .error.data.name == "daily"' "get after delete"

# ---- bad input: the field is named, nothing is made
bad() {
	local params=$1 field=$2 what=$3 r
	r=$(rpc schedule.create "$params")
	expect_jq "$r" ".error.code == -32602 and .error.data.field == \"$field\"" "$what"
}
T0='"task":{"kind":"sleep","seconds":0}'
bad "{\"name\":\"x\",$T0}" cron "neither cron nor every"
bad "{\"name\":\"x\",\"cron\":\"* * * * *\",\"every\":5,$T0}" every "both cron and every"
bad "{\"name\":\"x\",\"cron\":\"61 * * * *\",$T0}" cron "minute 61"
bad "{\"name\":\"x\",\"cron\":\"* * * *\",$T0}" cron "four fields"
bad "{\"name\":\"x\",\"cron\":\"0 0 L * *\",$T0}" cron "L"
bad "{\"name\":\"x\",\"cron\":\"@reboot\",$T0}" cron "@reboot"
bad "{\"name\":\"x\",\"cron\":\"0 0 30 2 *\",$T0}" cron "never fires"
bad "{\"name\":\"x\",\"cron\":\"*/0 * * * *\",$T0}" cron "step 0"
bad "{\"name\":\"x\",\"cron\":\"* * * * *\",\"tz\":\"Mars/Olympus\",$T0}" tz "unknown zone"
bad "{\"name\":\"x\",\"cron\":\"* * * * *\",\"tz\":\"../../etc/passwd\",$T0}" tz "a path as a zone"
bad "{\"name\":\"x\",\"every\":5,\"tz\":\"UTC\",$T0}" tz "tz with every"
bad "{\"name\":\"x\",\"every\":0.5,$T0}" every "half a second"
bad "{\"name\":\"x\",\"every\":0,$T0}" every "every 0"
bad "{\"name\":\"x\",\"every\":5,\"jitter\":6,$T0}" jitter "jitter beyond the interval"
bad "{\"name\":\"x\",\"every\":5,\"start_at\":\"2030-01-02T00:00:00Z\",\"end_at\":\"2030-01-01T00:00:00Z\",$T0}" end_at "end before start"
bad "{\"name\":\"x\",\"every\":5,\"start_at\":\"yesterday\",$T0}" start_at "a time that is not RFC 3339"
bad "{\"name\":\"x\",\"every\":5,\"overlap\":\"queue\",$T0}" overlap "an unknown overlap policy"
bad "{\"name\":\"x\",\"every\":5,\"start_at\":1e300,$T0}" start_at "start_at far past 9999"
bad "{\"name\":\"x\",\"every\":5,\"end_at\":-5,$T0}" end_at "end_at before 1970"
bad '{"name":"x","every":5,"task":{"kind":"sleep","seconds":0,"rate_limit":"nope"}}' task.rate_limit "a task naming no rate limit"
bad "{\"name\":\"x\",\"every\":5,\"catchup\":\"some\",$T0}" catchup "an unknown catch-up"
bad "{\"name\":\"x\",\"every\":5,\"catchup_window\":0,$T0}" catchup_window "catch-up window 0"
bad '{"name":"x","every":5}' task "no task"
bad '{"name":"x","every":5,"task":[1]}' task "a task that is not an object"
bad '{"name":"x","every":5,"task":{"kind":"sleep","seconds":0,"key":"k"}}' task "the task's key"
bad '{"name":"x","every":5,"task":{"kind":"sleep","seconds":0,"delay":1}}' task "the task's delay"
bad '{"name":"x","every":5,"task":{"kind":"sleep","seconds":0,"labels":{"schedule":"y"}}}' task "the label schedule"
bad '{"name":"x","every":5,"task":{"kind":"teleport"}}' task.kind "an unknown kind"
bad '{"name":"x","every":5,"task":{"kind":"sleep"}}' task.seconds "a sleep without seconds"
bad '{"name":"x","every":5,"task":{"kind":"exec","argv":[]}}' task.argv "an empty argv"
bad "{\"name\":\"no/slash\",\"every\":5,$T0}" name "a name with a slash"
bad "{\"name\":\"x\",\"every\":5,\"color\":\"red\",$T0}" color "an unknown field"
bad "{\"name\":\"x\",\"every\":5,\"paused\":\"yes\",$T0}" paused "paused not a boolean"
expect_jq "$(rpc schedule.create "{\"name\":\"nine\",\"every\":5,$T0}")" '.error.code == 12 and .error.message == "ScheduleExists" and .error.data.name == "nine"' "a taken name"
expect_jq "$(sched nine)" '.cron == "0 9 * * *"' "the taken name's schedule unchanged"
expect_jq "$(sched x)" '.error.code == 13' "nothing made of the refused ones"
for m in update pause resume delete trigger get; do
	expect_jq "$(rpc schedule.$m '{"name":"ghost"}')" '.error.code == 13' "schedule.$m of no schedule"
done
expect_jq "$(rpc schedule.update '{"name":"nine","cron":"99 * * * *"}')" '.error.code == -32602 and .error.data.field == "cron"' "update to a bad cron"
expect_jq "$(rpc schedule.update '{"name":"nine","name2":1}')" '.error.code == -32602 and .error.data.field == "name2"' "update with an unknown field"
expect_jq "$(sched nine)" '.cron == "0 9 * * *" and .tz == "Europe/Paris"' "a refused update changed nothing"
expect_jq "$(rpc schedule.trigger '{"name":"nine","overlap":"sometimes"}')" '.error.code == -32602 and .error.data.field == "overlap"' "trigger with a bad overlap"
expect_jq "$(rpc schedule.list '{"paused":1}')" '.error.code == -32602 and .error.data.field == "paused"' "list {paused: 1}"
rpc schedule.delete '{"name":"nine"}' >/dev/null

# ---- firings make tasks: labels, keys, counts, last
rpc schedule.create '{"name":"tick","every":1,"task":{"kind":"exec","argv":["true"],"labels":{"team":"ops"}}}' >/dev/null
poll_until 20 eval '[ "$(ntasks tick)" -ge 3 ]' || fail "an every-1s schedule made fewer than 3 tasks: $(sched tick)"
rpc schedule.pause '{"name":"tick"}' >/dev/null
ids=$(tasks tick)
for id in $(jq -r '.[]' <<<"$ids"); do wait_done "$id"; done
t=$(rpc task.get "{\"id\":$(jq '.[0]' <<<"$ids")}")
expect_jq "$t" '.labels.schedule == "tick" and .labels.team == "ops" and (.labels.scheduled_at | test("^[0-9-]+T[0-9:]+Z$")) and (.key | test("^schedule:tick:[0-9]+$"))' "a firing's task"
expect_jq "$t" '(.key | ltrimstr("schedule:tick:") | tonumber) == (.labels.scheduled_at | fromdateiso8601)' "its key names its time"
n=$(jq length <<<"$ids")
s=$(sched tick)
expect_jq "$s" ".fired == $n and .last.task == $(jq '.[-1]' <<<"$ids") and .last.state == \"succeeded\"" "fired and last"
# every firing its own time
expect_jq "$(rpc task.list '{"label":{"schedule":"tick"},"limit":1000}')" '[.tasks[].labels.scheduled_at] | length == (unique | length)' "no time fired twice"
m=$(curl -s --unix-socket "$SOCK" http://localhost/metrics | sed -n 's/^futured_schedule_firings_total{outcome="fired"} //p')
[ -n "$m" ] && [ "$m" -ge "$n" ] || fail "futured_schedule_firings_total{outcome=\"fired\"} is '$m', want at least $n"
# paused: no more tasks (one in flight when it paused may land)
n1=$(ntasks tick)
sleep "$(scaled 2.5)"
n2=$(ntasks tick)
[ "$n2" -le "$((n1 + 1))" ] || fail "a paused schedule went on firing: $n1 then $n2"

# ---- overlap, with triggers on a paused schedule of futures
fut() {
	rpc schedule.create "{\"name\":\"$1\",\"every\":3600,\"overlap\":\"$2\",\"paused\":true,\"task\":{\"kind\":\"future\"}}" >/dev/null
}
trig() { rpc schedule.trigger "{\"name\":\"$1\"${2:+,\"overlap\":\"$2\"}}"; }
# skip
fut ov_skip skip
r=$(trig ov_skip)
expect_jq "$r" '.outcome == "fired" and (.task | type) == "number" and (.scheduled_at | type) == "string"' "a trigger fires"
f1=$(jq .task <<<"$r")
wait_state "$f1" running
expect_jq "$(trig ov_skip)" '.outcome == "skipped" and .task == null' "skip while the last runs"
expect_jq "$(sched ov_skip)" '.skipped == 1 and .fired == 1 and .last.task == '"$f1" "skip counted"
expect_jq "$(trig ov_skip allow_all)" '.outcome == "fired"' "a trigger's own overlap policy"
rpc task.set_result "{\"id\":$f1,\"result\":1}" >/dev/null
# buffer_one: the buffered firing runs when the last ends
fut ov_buf buffer_one
f1=$(trig ov_buf | jq .task)
wait_state "$f1" running
expect_jq "$(trig ov_buf)" '.outcome == "buffered"' "buffered while the last runs"
expect_jq "$(trig ov_buf)" '.outcome == "skipped"' "a second firing meanwhile is skipped"
expect_jq "$(sched ov_buf)" '.buffered != null and .skipped == 1 and .fired == 1' "one buffered"
rpc task.set_result "{\"id\":$f1,\"result\":1}" >/dev/null
poll_until 20 eval '[ "$(ntasks ov_buf)" = 2 ]' || fail "the buffered firing never ran: $(sched ov_buf)"
expect_jq "$(sched ov_buf)" '.buffered == null and .fired == 2' "the buffered one ran"
# a paused schedule keeps a timed buffered firing until it resumes (a
# trigger's, asked for, runs paused or not: above)
rpc schedule.create '{"name":"ov_bufp","every":1,"overlap":"buffer_one","task":{"kind":"future"}}' >/dev/null
poll_until 20 eval '[ "$(sched ov_bufp | jq -r .buffered)" != null ]' || fail "no timed firing was buffered: $(sched ov_bufp)"
rpc schedule.pause '{"name":"ov_bufp"}' >/dev/null
f=$(tasks ov_bufp | jq '.[0]')
expect_eq "$(ntasks ov_bufp)" 1 "one task while buffering"
rpc task.set_result "{\"id\":$f,\"result\":1}" >/dev/null
wait_done "$f"
sleep "$(scaled 0.5)"
expect_eq "$(ntasks ov_bufp)" 1 "a paused schedule fires nothing, not even its buffered firing"
expect_jq "$(sched ov_bufp)" '.buffered != null' "the buffered firing kept while paused"
rpc schedule.resume '{"name":"ov_bufp"}' >/dev/null
poll_until 20 eval '[ "$(ntasks ov_bufp)" -ge 2 ]' || fail "the buffered firing did not run on resume: $(sched ov_bufp)"
rpc schedule.pause '{"name":"ov_bufp"}' >/dev/null
# allow_all
fut ov_all allow_all
for i in 1 2 3; do expect_jq "$(trig ov_all)" '.outcome == "fired"' "allow_all $i"; done
expect_eq "$(ntasks ov_all)" 3 "allow_all runs them all"
# cancel_other: the previous is cancelled with a reason
fut ov_cancel cancel_other
f1=$(trig ov_cancel | jq .task)
wait_state "$f1" running
f2=$(trig ov_cancel | jq .task)
[ "$f2" != "$f1" ] || fail "cancel_other made no new task"
wait_state "$f2" running
wait_done "$f1"
expect_jq "$(rpc task.get "{\"id\":$f1}")" '.state == "cancelled" and .exception.message == "schedule ov_cancel fired again"' "cancel_other cancelled the previous"
expect_eq "$(state "$f2")" running "the new one runs"
# a timed skip: every 1 s while a future holds it
rpc schedule.create '{"name":"ov_timed","every":1,"task":{"kind":"future"}}' >/dev/null
poll_until 20 eval '[ "$(sched ov_timed | jq .skipped)" -ge 2 ]' || fail "timed firings were not skipped: $(sched ov_timed)"
expect_eq "$(ntasks ov_timed)" 1 "one task while the first runs"
f=$(tasks ov_timed | jq '.[0]')
rpc task.set_result "{\"id\":$f,\"result\":1}" >/dev/null
poll_until 20 eval '[ "$(ntasks ov_timed)" -ge 2 ]' || fail "firings did not resume after the task ended"
rpc schedule.delete '{"name":"ov_timed"}' >/dev/null
expect_jq "$(rpc task.get "{\"id\":$f}")" '.state == "succeeded"' "a deleted schedule's tasks stay"

# ---- jitter: a firing's task waits 0 <= j < jitter
rpc schedule.create '{"name":"jit","every":1,"jitter":0.9,"task":{"kind":"sleep","seconds":0}}' >/dev/null
poll_until 20 eval '[ "$(ntasks jit)" -ge 2 ]' || fail "the jittered schedule made no tasks"
rpc schedule.pause '{"name":"jit"}' >/dev/null
t=$(rpc task.get "{\"id\":$(tasks jit | jq '.[0]')}")
expect_jq "$t" '(.not_before | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) - (.labels.scheduled_at | fromdateiso8601) | . >= 0 and . < 1' "jitter within [0, 0.9)"

# ---- kill -9: catch-up within the window, the rest missed, nothing twice
rpc schedule.create '{"name":"cu_latest","every":1,"catchup_window":3600,"task":{"kind":"sleep","seconds":0}}' >/dev/null
rpc schedule.create '{"name":"cu_all","every":1,"catchup":"all","catchup_window":3600,"overlap":"allow_all","task":{"kind":"sleep","seconds":0}}' >/dev/null
rpc schedule.create '{"name":"cu_window","every":1,"catchup":"all","catchup_window":1,"overlap":"allow_all","task":{"kind":"sleep","seconds":0}}' >/dev/null
poll_until 20 eval '[ "$(ntasks cu_all)" -ge 2 ]' || fail "cu_all never fired"
kill9_daemon
down=$(now)
sleep 7
up=$(now)
start_daemon
answered=$(now)
# fired_after NAME T: the times of NAME's firings scheduled after T
fired_after() {
	rpc task.list "{\"label\":{\"schedule\":\"$1\"},\"limit\":1000}" |
	    jq -c "[.tasks[] | .labels.scheduled_at | fromdateiso8601 | select(. > $2)]"
}
# late NAME [FROM TO]: firings made at the start for a time futured was
# down (scheduled in FROM..TO, default down..up)
late() { fired_after "$1" "${2:-$down}" | jq "map(select(. < ${3:-$up})) | length"; }
# first_after NAME T: the earliest firing of NAME scheduled after T
first_after() { fired_after "$1" "$2" | jq min; }
# every whole second futured was down
want=$(jq -n "[range(($down | floor) + 1; $up)] | map(select(. < $up)) | length")
poll_until 20 eval '[ "$(late cu_all)" -ge "$want" ]' || fail "catchup all ran $(late cu_all) of the $want firings futured missed: $(sched cu_all)"
expect_eq "$(late cu_all)" "$want" "catchup all: each missed firing once"
# catchup latest: one task, for the newest firing due when futured loaded
# its schedules.  That was after `up` (on a busy machine, seconds after)
# and before futured answered, so the firing is later than up - 1, no
# later than the answer, and none before it ran.
expect_eq "$(late cu_latest "$down" "$(jq -n "$up - 1")")" 0 "catchup latest runs none of the older firings"
expect_jq "$(first_after cu_latest "$down")" ". != null and . > $up - 1 and . <= $answered" "catchup latest runs the newest"
expect_jq "$(sched cu_latest)" ".missed >= $((want - 1))" "catchup latest: the older ones missed"
expect_jq "$(sched cu_window)" ".missed >= $((want - 2))" "firings older than the window missed"
[ "$(late cu_window)" -le 2 ] || fail "a 1 s window ran $(late cu_window) late firings"
for n in cu_all cu_latest tick; do
	expect_jq "$(rpc task.list "{\"label\":{\"schedule\":\"$n\"},\"limit\":1000}")" '[.tasks[].key] | length == (unique | length)' "$n: no firing made twice across kill -9"
done
rpc schedule.pause '{"name":"cu_all"}' >/dev/null
# (a firing in flight at the pause lands: its count follows its task)
poll_until 10 eval '[ "$(sched cu_all | jq .fired)" = "$(ntasks cu_all)" ]' ||
    fail "cu_all: fired $(sched cu_all | jq .fired) for $(ntasks cu_all) tasks"
# the schedules survived, paused ones paused
expect_jq "$(sched tick)" '.paused == true' "a paused schedule across kill -9"
expect_jq "$(rpc schedule.list)" '[.schedules[].name] | index("ov_buf") != null' "schedules across kill -9"

# ---- a long downtime (sqlite: the row edited while futured is down):
# 100,000 missed seconds are counted by arithmetic, the last 100 within
# the window run, at once
if [ -z "${FUTURED_PG:-}" ]; then
	rpc schedule.create '{"name":"long","every":1,"catchup":"all","catchup_window":3600,"overlap":"allow_all","paused":true,"task":{"kind":"sleep","seconds":0}}' >/dev/null
	stop_daemon
	python3 - "$STATE/futured.db" <<'PY' || fail "cannot age the schedule"
import json, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
(state,) = db.execute("SELECT state FROM schedules WHERE name = 'long'").fetchone()
st = json.loads(state)
now = int(time.time())
st.update(next_at=now - 100000, created_at=now - 100001, paused=False)
db.execute("UPDATE schedules SET state = ? WHERE name = 'long'", (json.dumps(st),))
db.commit()
PY
	start_daemon
	poll_until 30 eval '[ "$(ntasks long)" -ge 100 ]' || fail "a long downtime's catch-up: $(sched long)"
	expect_jq "$(sched long)" '.missed >= 99890 and .missed <= 99990 and .fired >= 100' "100,000 missed firings counted"
	rpc schedule.delete '{"name":"long"}' >/dev/null
fi

# ---- a graceful restart keeps them too, and a firing left taken is made
stop_daemon
start_daemon
expect_jq "$(sched ov_all)" '.fired == 3 and .overlap == "allow_all"' "a schedule across a restart"
note "schedules: ok"
