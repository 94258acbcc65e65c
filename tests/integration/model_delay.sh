#!/usr/bin/env bash
# Delays (issue #3): a task with `delay` or `not_before` is pending right
# after submit and does not start before its time (started_at against
# created_at + delay and against not_before), then runs and its result
# arrives; both deadlines survive a kill -9 restart (the task neither starts
# early nor is lost); `delay` together with `not_before` is refused with
# -32602 naming the field (and by futurectl before sending, exit 2).
. "$(dirname "$0")/harness.sh"

epoch() { date -d "$1" +%s.%N; }
# started_after ID TIME: seconds from TIME (RFC 3339) to the task's started_at
started_after() {
	echo "$(epoch "$(rpc task.get "{\"id\":$1}" | jq -r .started_at)") - $(epoch "$2")" | bc -l
}
created() { rpc task.get "{\"id\":$1}" | jq -r .created_at; }
rfc3339_in() { date -u -d "@$(echo "$(now) + $1" | bc)" +%Y-%m-%dT%H:%M:%S.%3NZ; }

start_daemon --jobs 2

# submit_pending PARAMS -> the new task's id; its submit answer says pending
submit_pending() {
	local r
	r=$(call task.submit "$1")
	jq -e '.result.state == "pending" and .result.started_at == null' <<<"$r" >/dev/null ||
	    fail "submit answer of $1: $r"
	jq .result.id <<<"$r"
}

# ---- delay
d=$(submit_pending '{"kind":"sleep","seconds":0,"delay":3,"result":"delayed"}')
expect_eq "$(state "$d")" pending "delayed task right after submit"
de=$(submit_pending "{\"kind\":\"exec\",\"shell\":\"touch $T/de.ran\",\"delay\":3}")
expect_eq "$(state "$de")" pending "delayed exec task right after submit"
[ ! -e "$T/de.ran" ] || fail "delayed exec task ran at once"

# ---- not_before
nb=$(rfc3339_in 3)
n=$(submit_pending "{\"kind\":\"sleep\",\"seconds\":0,\"not_before\":\"$nb\",\"result\":\"nb\"}")
expect_jq "$(rpc task.get "{\"id\":$n}")" ".state == \"pending\" and .not_before == \"$nb\"" "not_before task right after submit"
# a not_before in the past: runs at once
p=$(submit '{"kind":"sleep","seconds":0,"not_before":"2000-01-01T00:00:00Z","result":"past"}')
expect_jq "$(rpc task.result "{\"id\":$p,\"timeout\":5}")" '. == "past"' "not_before in the past"

# ---- futurectl --delay / --not-before
c=$(ctl --json submit --delay 3 --sleep 0 --result '"ctl"') || fail "futurectl submit --delay"
expect_jq "$c" '.state == "pending"' "futurectl submit --delay"
c=$(jq .id <<<"$c")
c2=$(ctl --json submit --not-before "$(rfc3339_in 3)" --sleep 0) || fail "futurectl submit --not-before"
expect_jq "$c2" '.state == "pending" and has("not_before")' "futurectl submit --not-before"
c2=$(jq .id <<<"$c2")

# ---- the results arrive, and nothing started before its time
expect_jq "$(rpc task.result "{\"id\":$d,\"timeout\":15}")" '. == "delayed"' "result of the delayed task"
wait_done "$de"
[ -e "$T/de.ran" ] || fail "delayed exec task did not run"
expect_jq "$(rpc task.result "{\"id\":$n,\"timeout\":15}")" '. == "nb"' "result of the not_before task"
expect_eq "$(ctl --json result --wait=15 "$c")" '"ctl"' "futurectl result of the delayed task"
wait_done "$c2"
for id in $d $de $c; do
	bc_true "$(started_after "$id" "$(created "$id")") >= 2.99" || fail "task $id started $(started_after "$id" "$(created "$id")") s after submit, delay 3"
done
bc_true "$(started_after "$n" "$nb") >= -0.001" || fail "task $n started $(started_after "$n" "$nb") s after its not_before"

# ---- delay and not_before together
r=$(call task.submit "{\"kind\":\"sleep\",\"seconds\":0,\"delay\":1,\"not_before\":\"$(rfc3339_in 1)\"}")
expect_jq "$r" '.error.code == -32602 and (.error.data.field == "delay" or .error.data.field == "not_before")' "delay with not_before"
ctl submit --delay 1 --not-before "$(rfc3339_in 1)" --sleep 0 >/dev/null 2>"$T/both.err"
expect_eq "$?" 2 "futurectl submit --delay --not-before"
r=$(call task.submit '{"kind":"sleep","seconds":0,"delay":-1}')
expect_jq "$r" '.error.code == -32602 and .error.data.field == "delay"' "negative delay"

# ---- kill -9 restart: deadlines kept, nothing lost, nothing early (8 s,
# scaled by FUTURED_TIME_SCALE: the restart must come before them)
KD=$(scaled 8)
kd=$(submit "{\"kind\":\"exec\",\"shell\":\"touch $T/kd.ran; echo kd\",\"delay\":$KD}")
knb=$(rfc3339_in "$KD")
kn=$(submit "{\"kind\":\"sleep\",\"seconds\":0,\"not_before\":\"$knb\",\"result\":\"kn\"}")
kill9_daemon
start_daemon --jobs 2
expect_eq "$(state "$kd") $(state "$kn")" "pending pending" "delayed tasks right after the restart"
[ ! -e "$T/kd.ran" ] || fail "delayed task ran before its time"
expect_jq "$(CURL_MAX=40 rpc task.result "{\"id\":$kd,\"timeout\":$(scaled 20)}")" '.stdout == "kd\n"' "delayed exec after kill -9"
expect_jq "$(CURL_MAX=40 rpc task.result "{\"id\":$kn,\"timeout\":$(scaled 20)}")" '. == "kn"' "not_before task after kill -9"
bc_true "$(started_after "$kd" "$(created "$kd")") >= $KD - 0.01" || fail "task $kd started $(started_after "$kd" "$(created "$kd")") s after submit, delay $KD"
bc_true "$(started_after "$kn" "$knb") >= -0.001" || fail "task $kn started before its not_before"

# PROTOCOL.md: "after, not_before and timeout appear when they were given";
# they are part of the future's record, also once the task has run
expect_jq "$(rpc task.get "{\"id\":$n}")" ".not_before == \"$nb\"" "not_before of a task that has run"

stop_daemon
note "delays: ok"
