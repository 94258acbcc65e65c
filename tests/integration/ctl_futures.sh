#!/usr/bin/env bash
# futurectl and the futures completed from outside (kind future,
# task.set_result, task.set_exception, task.cancel's message,
# task.as_completed): `submit future` makes a running future that takes the
# common options (--key, --label, --timeout, --delay, --after; `submit --
# future` still runs a program of that name); `resolve ID VALUE` completes it
# (VALUE JSON when it parses, else a string; --string; `-` is stdin, every
# byte) and `result` prints the value; `reject ID TYPE MESSAGE [--data]`
# fails it and `result` exits 1 with "TYPE: MESSAGE"; completing a finished
# task exits 7 and says how it ended, leaving it as it was; a bad TYPE or
# --data is a usage error (2) and sends nothing; a task of another kind or no
# task is refused (4); `cancel --message` leaves CancelledError with the
# message in `get`, and `result`/`exception` say it (6); `wait
# --as-completed` prints "ID STATE" lines in the order the tasks finish, as
# they finish (three sleeps of different lengths, submitted longest first),
# --json lines {id, state}, and exits as wait does (1 failed, 5 timeout with
# the unfinished named, 6 cancelled); a task --after a future starts only once
# the future is resolved (and fails with DependencyFailed when it is
# rejected); `run future` waits for the value.
. "$(dirname "$0")/harness.sh"
[ -x "$FUTURECTL" ] || fail "no $FUTURECTL"
start_daemon --jobs 4

field() { rpc task.get "{\"id\":$1}" | jq -c ".$2"; }

# ---- submit future: a running future with the common options
c submit future
want_rc 0 "submit future"
[[ $out =~ ^[0-9]+$ ]] || fail "submit future printed '$out', want an id"
f1=$out
expect_jq "$(rpc task.get "{\"id\":$f1}")" '.kind == "future" and .spec == {"kind":"future"} and .state == "running"' "submit future makes a running future"
c submit --queue fq --priority 3 --label team=x future --key fut-k --label env=t
want_rc 0 "submit future with options before and after the kind"
fk=$out
expect_jq "$(rpc task.get "{\"id\":$fk}")" '.kind == "future" and .queue == "fq" and .priority == 3 and .key == "fut-k" and .labels == {"team":"x","env":"t"}' "the options reach the future"
c submit --queue fq --priority 3 --label team=x --label env=t --key fut-k future
expect_eq "$out" "$fk" "same key, same future"
c --json submit future --delay 3600
want_rc 0 "submit future --delay"
fd=$(jq -r .id <<<"$out")
expect_jq "$out" '.kind == "future" and .state == "pending"' "a delayed future is pending"
c submit future --env A=1
want_rc 2 "submit future with an exec field"
[[ $err == *"--env"* ]] || fail "submit future --env: $err"
c submit future -- true
want_rc 2 "submit future with a command too"
c submit -- future
want_rc 0 "submit -- future"
expect_eq "$(field "$out" spec)" '{"kind":"exec","argv":["future"]}' "after --, future is a program"

# ---- resolve: the value, as JSON or as a string
c resolve "$f1" '{"answer": [4, 2]}'
want_rc 0 "resolve"
expect_eq "$out" "resolved" "resolve's output"
c --json result "$f1"
want_rc 0 "result of a resolved future"
expect_eq "$out" '{"answer":[4,2]}' "the value resolve gave"
c result "$f1"
expect_jq "$out" '. == {"answer":[4,2]}' "result prints the value as JSON"
expect_eq "$(field "$f1" state)" '"succeeded"' "a resolved future succeeded"
# twice: 7, says how it ended, nothing changed
c resolve "$f1" 5
want_rc 7 "resolve of a finished future"
[[ $err == *"task $f1 had already finished: succeeded"* ]] || fail "resolve twice: $err"
c --json resolve "$f1" 5
want_rc 7 "--json resolve of a finished future"
expect_jq "$out" '.set == false and .state == "succeeded"' "--json resolve twice"
expect_eq "$(field "$f1" result)" '{"answer":[4,2]}' "the first value stays"
# not JSON: a string; --string; stdin with every byte; a pending future
for v in 'hello world' '42' '-7' '{"a":' '"quoted"' 'null'; do
	f=$(ctl submit future) || fail "submit future"
	c resolve "$f" "$v"
	want_rc 0 "resolve $v"
	case $v in
	'hello world'|'{"a":') want=$(jq -cn --arg s "$v" '$s') ;;
	*) want=$(jq -c . <<<"$v") ;;
	esac
	expect_eq "$(field "$f" result)" "$want" "resolve '$v'"
done
f=$(ctl submit future)
c resolve --string "$f" 42
want_rc 0 "resolve --string"
expect_eq "$(field "$f" result)" '"42"' "resolve --string 42 is a string"
f=$(ctl submit future)
printf 'two\nlines\n' >"$T/value"
c resolve "$f" - <"$T/value"
want_rc 0 "resolve - (text)"
expect_eq "$(field "$f" result)" '"two\nlines\n"' "resolve - keeps every byte"
f=$(ctl submit future)
printf '{"from": "stdin"}\n' >"$T/value"
c resolve "$f" - <"$T/value"
expect_eq "$(field "$f" result)" '{"from":"stdin"}' "resolve - with JSON"
c resolve "$fd" true
want_rc 0 "resolve of a pending future"
expect_eq "$(field "$fd" state)/$(field "$fd" result)" '"succeeded"/true' "a pending future resolved"
c resolve "$f1"
want_rc 2 "resolve without a value"
c resolve "$f1" 1 --json
want_rc 2 "resolve with an option after the operands"
[[ $err == *"options go before ID"* ]] || fail "option after operands: $err"

# ---- reject: TYPE: MESSAGE, --data
f2=$(ctl submit future)
c reject --data '{"code": 7, "type": "Ignored"}' "$f2" ValueError "bad input"
want_rc 0 "reject"
expect_eq "$out" "rejected" "reject's output"
c result "$f2"
want_rc 1 "result of a rejected future"
[[ $err == *"task $f2 failed: ValueError: bad input"* ]] || fail "result of a rejected future: $err"
c --json exception "$f2"
want_rc 0 "exception of a rejected future"
expect_jq "$out" '. == {"type":"ValueError","message":"bad input","code":7}' "the exception: type and message win over --data"
c reject "$f2" Exception again
want_rc 7 "reject of a finished future"
[[ $err == *"task $f2 had already finished: failed"* ]] || fail "reject twice: $err"
c reject "$f1" Exception late
want_rc 7 "reject of a resolved future"
[[ $err == *"already finished: succeeded"* ]] || fail "reject of a resolved future: $err"
f3=$(ctl submit future)
c reject "$f3" 'not a type' msg
want_rc 2 "reject with a bad TYPE"
[[ $err == *TYPE* ]] || fail "reject with a bad TYPE: $err"
c reject --data '[1]' "$f3" E msg
want_rc 2 "reject --data that is no object"
c reject --data '{' "$f3" E msg
want_rc 2 "reject --data that is no JSON"
c reject "$f3" E
want_rc 2 "reject without a message"
expect_eq "$(field "$f3" state)" '"running"' "nothing was sent for the bad rejects"
# a future with retries waits again after a reject
fr=$(ctl submit future --retries 1 --retry-backoff 0.1)
c reject "$fr" E first
want_rc 0 "reject of a future with retries"
[[ $out == rejected* ]] || fail "reject with retries: $out"
wait_state "$fr" running
expect_eq "$(field "$fr" attempt)" 2 "the retry's attempt"
c resolve "$fr" '"second"'
want_rc 0 "resolve of the retry"
expect_eq "$(field "$fr" result)" '"second"' "the retry's value"

# ---- what is not a future, or no task
sl=$(ctl submit --sleep 3600)
c resolve "$sl" 1
want_rc 4 "resolve of a sleep"
[[ $err == *"Invalid params: id"* ]] || fail "resolve of a sleep: $err"
c reject "$sl" E m
want_rc 4 "reject of a sleep"
c resolve 999999 1
want_rc 4 "resolve of no task"
[[ $err == *"no task 999999"* ]] || fail "resolve of no task: $err"
ctl cancel "$sl" >/dev/null || fail "cancel the sleep"

# ---- cancel --message
f4=$(ctl submit future)
c cancel "$f4" --message "no longer needed"
want_rc 0 "cancel --message"
expect_eq "$out" "cancelled" "cancel's output"
c get "$f4"
[[ $out == *"CancelledError: no longer needed"* ]] || fail "get of a cancelled future: $out"
expect_jq "$(rpc task.get "{\"id\":$f4}")" '.state == "cancelled" and .exception == {"type":"CancelledError","message":"no longer needed"}' "the task object keeps the message"
c result "$f4"
want_rc 6 "result of a cancelled future"
[[ $err == *"task $f4 was cancelled: no longer needed"* ]] || fail "result after cancel --message: $err"
c exception "$f4"
want_rc 6 "exception of a cancelled future"
c resolve "$f4" 1
want_rc 7 "resolve of a cancelled future"
[[ $err == *"already finished: cancelled"* ]] || fail "resolve after cancel: $err"
c cancel "$f4" --message again
want_rc 0 "cancel of a cancelled task"
expect_eq "$out" "already finished" "cancel twice"
c cancel --message "$(head -c 1025 /dev/zero | tr '\0' m)" "$f3"
want_rc 2 "cancel --message over 1,024 bytes"
expect_eq "$(field "$f3" state)" '"running"' "the long message sent nothing"
c cancel "$f3"
want_rc 0 "cancel without a message"
c result "$f3"
[[ $err == *"task $f3 was cancelled" ]] || fail "cancelled without a message: $err"

# ---- a future's own --timeout
ft=$(ctl submit future --timeout 0.3)
c result --timeout 30 "$ft"
want_rc 1 "result of a future that timed out"
[[ $err == *TimeoutError* ]] || fail "future --timeout: $err"

# ---- wait --as-completed: in the order they finish, as they finish
long=$(ctl submit --sleep "$(scaled 3)")
short=$(ctl submit --sleep 0.2)
mid=$(ctl submit --sleep "$(scaled 1.5)")
# each line read: the state of the long sleep then, to show lines come as
# the tasks finish rather than all at the end
ctl wait --as-completed "$long" "$short" "$mid" | while read -r id st; do
	echo "$id $st $(state "$long")"
done >"$T/ac.out"
rc=${PIPESTATUS[0]}
expect_eq "$rc" 0 "wait --as-completed of three sleeps"
expect_eq "$(cat "$T/ac.out")" "$short succeeded running
$mid succeeded running
$long succeeded succeeded" "wait --as-completed: finishing order, as they finish"
c --json wait --as-completed "$long" "$short" "$mid"
want_rc 0 "--json wait --as-completed of finished tasks"
expect_eq "$out" "{\"id\":$long,\"state\":\"succeeded\"}
{\"id\":$short,\"state\":\"succeeded\"}
{\"id\":$mid,\"state\":\"succeeded\"}" "finished ones come in the order of the ids"
# exit statuses as wait's: failed 1, cancelled 6, timeout 5
c wait --as-completed "$f2" "$f1"
want_rc 1 "as-completed with a failed task"
expect_eq "$out" "$f2 failed
$f1 succeeded" "as-completed with a failed task"
c wait --as-completed "$f4" "$f1"
want_rc 6 "as-completed with a cancelled task"
f5=$(ctl submit future)
c wait --as-completed --timeout 0.5 "$f1" "$f5"
want_rc 5 "as-completed, timeout"
expect_eq "$out" "$f1 succeeded" "as-completed, timeout: the finished one"
[[ $err == *"not done within the timeout: $f5" ]] || fail "as-completed timeout: $err"
# futures completed while it waits, in the order completed (f6's line is
# seen before f5 is rejected: were both done before its call, it would
# print them in the order of the ids)
f6=$(ctl submit future)
ctl wait --as-completed "$f5" "$f6" >"$T/ac2.out" 2>"$T/ac2.err" &
acp=$!
ctl resolve "$f6" 6 >/dev/null || fail "resolve f6"
poll_until 10 test -s "$T/ac2.out" || fail "as-completed printed nothing after a resolve"
ctl reject "$f5" E five >/dev/null || fail "reject f5"
wait "$acp"
expect_eq "$?" 1 "as-completed of a resolved and a rejected future"
expect_eq "$(cat "$T/ac2.out")" "$f6 succeeded
$f5 failed" "as-completed: in the order they were completed"
c wait --as-completed --any "$f1"
want_rc 2 "--as-completed with --any"
c wait --as-completed --queue no-such-queue
want_rc 0 "as-completed of an empty selection"

# ---- --after a future: starts only once it is resolved
gate=$(ctl submit future)
dep=$(ctl submit --after "$gate" -- sh -c "echo ran >$T/dep.ran")
ctrl=$(ctl submit -- true)
wait_done "$ctrl"
expect_eq "$(field "$dep" state)" '"pending"' "a dependent of an unresolved future waits"
[ ! -e "$T/dep.ran" ] || fail "the dependent ran before the resolve"
ctl resolve "$gate" go >/dev/null || fail "resolve the gate"
wait_done "$dep"
expect_eq "$(field "$dep" state)" '"succeeded"' "the dependent ran after the resolve"
[ -e "$T/dep.ran" ] || fail "the dependent did not run"
bc_true "$(date -d "$(field "$dep" started_at | jq -r .)" +%s.%N) >= $(date -d "$(field "$gate" finished_at | jq -r .)" +%s.%N)" ||
    fail "the dependent started before the future was resolved"
gate2=$(ctl submit future)
dep2=$(ctl submit --after "$gate2" -- sh -c "echo ran >$T/dep2.ran")
ctl reject "$gate2" Abort no >/dev/null || fail "reject gate2"
wait_done "$dep2"
expect_jq "$(rpc task.get "{\"id\":$dep2}")" '.state == "failed" and .exception.type == "DependencyFailed"' "a dependent of a rejected future"
[ ! -e "$T/dep2.ran" ] || fail "the dependent of a rejected future ran"

# ---- run future: waits for the value; submit --no-wait-reply future
ctl run --label run=fut future >"$T/run.out" 2>"$T/run.err" &
runp=$!
poll_until 10 eval '[ "$(rpc task.list "{\"label\":{\"run\":\"fut\"}}" | jq ".tasks | length")" = 1 ]' || fail "run future made no future"
rf=$(rpc task.list '{"label":{"run":"fut"}}' | jq '.tasks[0].id')
expect_eq "$(field "$rf" kind)" '"future"' "run future's kind"
ctl resolve "$rf" '{"ok": true}' >/dev/null || fail "resolve run's future"
wait "$runp"
expect_eq "$?" 0 "run future"
expect_jq "$(cat "$T/run.out")" '. == {"ok":true}' "run future prints the value"
c submit --no-wait-reply --label nr=fut future
want_rc 0 "submit --no-wait-reply future"
expect_eq "$out" "" "no reply, nothing printed"
poll_until 10 eval '[ "$(rpc task.list "{\"label\":{\"nr\":\"fut\"}}" | jq "[.tasks[] | select(.kind == \"future\")] | length")" = 1 ]' ||
    fail "submit --no-wait-reply future made no future"
