#!/usr/bin/env bash
# Futures completed from outside, cancels with a reason and as_completed
# (issue #16), against a real futured: a `future` task waits until
# task.set_result or task.set_exception completes it (or its timeout, or a
# cancel); dependents and waiters learn of it like of any task; it survives
# kill -9 waiting; bad calls are answered, nothing lost; task.as_completed
# hands back completions in the order they happen, resumable by its cursor.
. "$(dirname "$0")/harness.sh"

start_daemon

# ---- a future waits, running, until set_result
f=$(submit '{"kind":"future","labels":{"flow":"approve"}}')
wait_state "$f" running
expect_jq "$(rpc task.get "{\"id\":$f}")" '.kind == "future" and .spec == {"kind":"future"}' "the future's object"
# a long-poll on it is parked, then answered by set_result
post "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"task.result\",\"params\":{\"id\":$f,\"timeout\":$(scaled 20)}}" >"$T/waiter" &
BG_PIDS="${BG_PIDS:-} $!"
waiter=$!
poll_until 10 eval '[ "$(rpc daemon.info | jq .waiters)" -ge 1 ]' || fail "the waiter on the future never parked"
# a dependent runs only once the future succeeded
d=$(submit "{\"kind\":\"sleep\",\"seconds\":0,\"result\":\"deployed\",\"after\":[$f]}")
expect_eq "$(state "$d")" pending "a dependent of an unresolved future"
r=$(rpc task.set_result "{\"id\":$f,\"result\":{\"approved_by\":\"ana\",\"n\":[1,2]}}")
expect_jq "$r" '. == {"set":true,"state":"succeeded"}' "set_result"
wait "$waiter"
expect_jq "$(cat "$T/waiter")" '.result == {"approved_by":"ana","n":[1,2]}' "the parked task.result got the value"
wait_done "$d"
expect_jq "$(rpc task.result "{\"id\":$d}")" '. == "deployed"' "the dependent ran after set_result"
# a second completion is refused as asyncio's InvalidStateError would be
expect_jq "$(rpc task.set_result "{\"id\":$f,\"result\":2}")" '. == {"set":false,"state":"succeeded"}' "set_result twice"
expect_jq "$(rpc task.set_exception "{\"id\":$f,\"message\":\"late\"}")" '. == {"set":false,"state":"succeeded"}' "set_exception after set_result"
expect_jq "$(rpc task.result "{\"id\":$f}")" '. == {"approved_by":"ana","n":[1,2]}' "the first value stays"
# no result given is null
f0=$(submit '{"kind":"future"}')
expect_jq "$(rpc task.set_result "{\"id\":$f0}")" '.set == true' "set_result without result"
expect_jq "$(call task.result "{\"id\":$f0}")" '.result == null and (.error | not)' "its result is null"

# ---- set_exception: a failure with type, message and data; dependents fail
f=$(submit '{"kind":"future"}')
d=$(submit "{\"kind\":\"sleep\",\"seconds\":0,\"after\":[$f]}")
r=$(rpc task.set_exception "{\"id\":$f,\"type\":\"Rejected\",\"message\":\"not today\",\"data\":{\"by\":\"bo\",\"type\":\"ignored\"}}")
expect_jq "$r" '. == {"set":true,"state":"failed"}' "set_exception"
expect_jq "$(rpc task.get "{\"id\":$f}")" '.state == "failed" and .exception == {"by":"bo","type":"Rejected","message":"not today"} and .retrieved == false' "the failed future"
expect_jq "$(call task.result "{\"id\":$f}")" '.error.code == 1 and .error.data.exception.type == "Rejected"' "task.result of a rejected future"
expect_jq "$(rpc task.get "{\"id\":$f}")" '.retrieved == true' "its failure retrieved by task.result"
wait_done "$d"
expect_jq "$(rpc task.get "{\"id\":$d}")" '.exception.type == "DependencyFailed"' "a dependent of a rejected future"
f=$(submit '{"kind":"future"}')
expect_jq "$(rpc task.set_exception "{\"id\":$f,\"message\":\"no\"}")" '.set == true' "set_exception without type"
expect_jq "$(rpc task.get "{\"id\":$f}")" '.exception == {"type":"Exception","message":"no"}' "the default type"

# ---- a future completed before it started (its delay not over)
f=$(submit '{"kind":"future","delay":3600}')
expect_eq "$(state "$f")" pending "a delayed future"
expect_jq "$(rpc task.set_result "{\"id\":$f,\"result\":7}")" '. == {"set":true,"state":"succeeded"}' "set_result on a pending future"
expect_jq "$(rpc task.result "{\"id\":$f}")" '. == 7' "its result"

# ---- its timeout fails it; with retries it waits again
f=$(submit '{"kind":"future","timeout":0.2}')
wait_done "$f"
expect_jq "$(rpc task.get "{\"id\":$f}")" '.state == "failed" and .exception.type == "TimeoutError" and .exception.timeout == 0.2' "an expired future"
f=$(submit '{"kind":"future","retries":1,"retry_backoff":0.05}')
wait_state "$f" running
expect_jq "$(rpc task.set_exception "{\"id\":$f,\"message\":\"first\"}")" '. == {"set":true,"state":"pending"}' "set_exception with a retry left"
poll_until 10 eval '[ "$(rpc task.get "{\"id\":$f}" | jq -c "[.state, .attempt]")" = "[\"running\",2]" ]' || fail "the future did not wait again after set_exception"
expect_jq "$(rpc task.set_result "{\"id\":$f,\"result\":\"second\"}")" '.set == true' "set_result on the second attempt"
expect_jq "$(rpc task.get "{\"id\":$f}")" '.state == "succeeded" and .result == "second" and (.attempts | length) == 2 and .attempts[0].exception.message == "first"' "a future that failed once"

# ---- bad calls are answered and change nothing
f=$(submit '{"kind":"future"}')
e=$(submit '{"kind":"sleep","seconds":3600}')
wait_state "$f" running
wait_state "$e" running
expect_jq "$(call task.set_result "{\"id\":$e,\"result\":1}")" '.error.code == -32602 and .error.data.field == "id" and (.error.data.reason | test("kind sleep"))' "set_result on a sleep"
expect_eq "$(state "$e")" running "the sleep after a refused set_result"
expect_jq "$(call task.set_result '{"id":99999999,"result":1}')" '.error.code == 4' "set_result on an unknown id"
expect_jq "$(call task.set_result '{"result":1}')" '.error.code == -32602 and .error.data.field == "id"' "set_result without id"
expect_jq "$(call task.set_result "{\"id\":$f,\"value\":1}")" '.error.code == -32602 and .error.data.field == "value"' "an unknown parameter"
expect_jq "$(call task.set_exception "{\"id\":$f}")" '.error.code == -32602 and .error.data.field == "message"' "set_exception without message"
expect_jq "$(call task.set_exception "{\"id\":$f,\"message\":\"m\",\"type\":\"no spaces\"}")" '.error.data.field == "type"' "a type with a space"
expect_jq "$(call task.set_exception "{\"id\":$f,\"message\":\"m\",\"type\":\"\"}")" '.error.data.field == "type"' "an empty type"
expect_jq "$(call task.set_exception "{\"id\":$f,\"message\":\"m\",\"data\":[1]}")" '.error.data.field == "data"' "data not an object"
expect_jq "$(call task.set_exception "{\"id\":$f,\"message\":7}")" '.error.data.field == "message"' "a message not a string"
expect_jq "$(call task.submit '{"kind":"future","seconds":1}')" '.error.code == -32602 and .error.data.field == "seconds"' "a field a future does not have"
expect_eq "$(state "$f")" running "the future after the refused calls"

# ---- cancel with a message
r=$(rpc task.cancel "{\"id\":$f,\"message\":\"superseded by v2\"}")
expect_jq "$r" '. == {"cancelled":true}' "cancel with a message"
expect_jq "$(rpc task.get "{\"id\":$f}")" '.state == "cancelled" and .exception == {"type":"CancelledError","message":"superseded by v2"}' "the message in the cancelled task"
expect_jq "$(call task.result "{\"id\":$f}")" ".error.code == 2 and .error.data == {\"id\":$f,\"message\":\"superseded by v2\"}" "TaskCancelled carries the message"
expect_jq "$(call task.exception "{\"id\":$f}")" '.error.code == 2 and .error.data.message == "superseded by v2"' "task.exception too"
expect_jq "$(rpc task.set_result "{\"id\":$f,\"result\":1}")" '. == {"set":false,"state":"cancelled"}' "set_result on a cancelled future"
expect_jq "$(rpc task.cancel "{\"id\":$e}")" '.cancelled == true' "cancel without a message"
expect_jq "$(rpc task.get "{\"id\":$e}")" '.state == "cancelled" and (has("exception") | not)' "no exception without a message"
expect_jq "$(call task.result "{\"id\":$e}")" ".error.data == {\"id\":$e}" "TaskCancelled without a message"
long=$(head -c 1025 /dev/zero | tr '\0' x)
x=$(submit '{"kind":"sleep","seconds":3600}')
wait_state "$x" running
expect_jq "$(call task.cancel "{\"id\":$x,\"message\":\"$long\"}")" '.error.data.field == "message"' "a message over 1,024 bytes"
expect_jq "$(call task.cancel "{\"id\":$x,\"message\":[\"m\"]}")" '.error.data.field == "message"' "a message not a string"
expect_eq "$(state "$x")" running "the task after refused cancels"
expect_jq "$(rpc task.cancel "{\"id\":$x,\"message\":null}")" '.cancelled == true' "a null message is none"

# ---- as_completed: in the order they finish, resumable by the cursor
# futures, completed in the order the test chooses: c, a, then b
a=$(submit '{"kind":"future"}')
b=$(submit '{"kind":"future"}')
c=$(submit '{"kind":"future"}')
ids="[$a,$b,$c]"
r=$(rpc task.as_completed "{\"ids\":$ids,\"timeout\":0}")
expect_jq "$r" '.done == [] and .remaining == 3' "as_completed before any finished"
cur=$(jq -c .cursor <<<"$r")
# a parked call answers with the first to finish
w0=$(rpc daemon.info | jq .waiters)
post "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"task.as_completed\",\"params\":{\"ids\":$ids,\"cursor\":$cur,\"timeout\":$(scaled 20)}}" >"$T/parked" &
BG_PIDS="${BG_PIDS:-} $!"
parked=$!
poll_until 10 eval '[ "$(rpc daemon.info | jq .waiters)" -gt "$w0" ]' || fail "the as_completed call never parked"
rpc task.set_result "{\"id\":$c,\"result\":3}" >/dev/null
wait "$parked"
r=$(jq -c .result <"$T/parked")
expect_jq "$r" ".done == [{\"id\":$c,\"state\":\"succeeded\"}] and .remaining == 2" "the first to finish, to a parked call"
cur=$(jq -c .cursor <<<"$r")
rpc task.set_result "{\"id\":$a,\"result\":1}" >/dev/null
r=$(rpc task.as_completed "{\"ids\":$ids,\"cursor\":$cur,\"timeout\":$(scaled 20)}")
expect_jq "$r" ".done == [{\"id\":$a,\"state\":\"succeeded\"}] and .remaining == 1" "then the second"
cur=$(jq -c .cursor <<<"$r")
# the same cursor again: the same answer (a client that lost it resumes)
expect_jq "$(rpc task.as_completed "{\"ids\":$ids,\"cursor\":$cur,\"timeout\":0}")" '.done == [] and .remaining == 1' "nothing new since the cursor"
rpc task.set_exception "{\"id\":$b,\"message\":\"no\"}" >/dev/null
r=$(rpc task.as_completed "{\"ids\":$ids,\"cursor\":$cur,\"timeout\":$(scaled 20)}")
expect_jq "$r" ".done == [{\"id\":$b,\"state\":\"failed\"}] and .remaining == 0" "the future last"
cur=$(jq -c .cursor <<<"$r")
expect_jq "$(rpc task.as_completed "{\"ids\":$ids,\"cursor\":$cur}")" '.done == [] and .remaining == 0' "all handed back: answered at once"
# without a cursor: everything finished, in the order of ids
expect_jq "$(rpc task.as_completed "{\"ids\":[$c,$a,$b]}")" "[.done[].id] == [$c,$a,$b] and .remaining == 0" "already finished, in the order given"
expect_jq "$(call task.as_completed "{\"ids\":$ids,\"cursor\":\"h\"}")" '.error.code == -32602 and .error.data.field == "cursor"' "a cursor of other ids"
expect_jq "$(call task.as_completed "{\"ids\":$ids,\"cursor\":\"hz\"}")" '.error.data.field == "cursor"' "a cursor with a bad digit"
expect_jq "$(call task.as_completed "{\"ids\":$ids,\"cursor\":\"h8\"}")" '.error.data.field == "cursor"' "a cursor naming a fourth id of three"
expect_jq "$(call task.as_completed "{\"ids\":$ids,\"cursor\":7}")" '.error.data.field == "cursor"' "a cursor not a string"
expect_jq "$(call task.as_completed "{\"ids\":[$a,$a]}")" '.error.data.field == "ids"' "duplicate ids"
expect_jq "$(call task.as_completed '{"ids":[99999999]}')" '.error.code == 4' "an unknown id"
expect_jq "$(rpc task.as_completed '{}')" '.done == [] and .remaining == 0' "no ids: nothing to wait for"
# a cursor names its ids in their order: others, or these reordered, are refused
expect_jq "$(call task.as_completed "{\"ids\":[$b,$a,$c],\"cursor\":$cur}")" '.error.data.field == "cursor"' "the cursor with the ids reordered"
expect_jq "$(call task.as_completed "{\"ids\":[$a,$b,$f0],\"cursor\":$cur}")" '.error.data.field == "cursor"' "the cursor with other ids"

# ---- as_completed over a label: the tasks so labelled, as they finish
l1=$(submit '{"kind":"future","labels":{"batch":"b7"}}')
l2=$(submit '{"kind":"future","labels":{"batch":"b7","x":"y"}}')
submit '{"kind":"future","labels":{"batch":"b8"}}' >/dev/null
r=$(rpc task.as_completed '{"label":{"batch":"b7"},"timeout":0}')
expect_jq "$r" '.done == [] and .remaining == 2' "as_completed over a label"
cur=$(jq -c .cursor <<<"$r")
rpc task.set_result "{\"id\":$l2}" >/dev/null
r=$(rpc task.as_completed "{\"label\":{\"batch\":\"b7\"},\"cursor\":$cur}")
expect_jq "$r" ".done == [{\"id\":$l2,\"state\":\"succeeded\"}] and .remaining == 1" "the labelled task that finished"
cur=$(jq -c .cursor <<<"$r")
l3=$(submit '{"kind":"sleep","seconds":0,"labels":{"batch":"b7"}}')
wait_done "$l3"
rpc task.set_exception "{\"id\":$l1,\"message\":\"x\"}" >/dev/null
r=$(rpc task.as_completed "{\"label\":{\"batch\":\"b7\"},\"cursor\":$cur}")
expect_jq "$r" "[.done[].id] == [$l1,$l3] and .remaining == 0" "the rest, a task labelled later among them"
expect_jq "$(call task.as_completed "{\"label\":{\"batch\":\"b8\"},\"cursor\":$cur}")" '.error.data.field == "cursor"' "a cursor of another label"
expect_jq "$(call task.as_completed '{"label":{}}')" '.error.data.field == "label"' "an empty label filter"
expect_jq "$(call task.as_completed "{\"label\":{\"a\":\"b\"},\"ids\":[$l1]}")" '.error.data.field == "label"' "label and ids"

# ---- a waiting future survives kill -9 and a restart, and still completes
f=$(submit '{"kind":"future","key":"approval-42"}')
g=$(submit "{\"kind\":\"future\",\"timeout\":$(scaled 4)}")
wait_state "$f" running
wait_state "$g" running
kill9_daemon
start_daemon
expect_eq "$(state "$f")" running "a future after kill -9"
expect_jq "$(rpc task.set_result "{\"id\":$f,\"result\":\"after restart\"}")" '.set == true' "set_result after the restart"
expect_jq "$(rpc task.result "{\"id\":$f}")" '. == "after restart"' "its value"
wait_done "$g" 30
expect_jq "$(rpc task.get "{\"id\":$g}")" '.exception.type == "TimeoutError" and .attempt == 1' "its timeout still counted after the restart"
stop_daemon
