#!/usr/bin/env bash
# Task trees and groups (issue #16), against a real futured: an exec task
# finds FUTURED_SOCKET and FUTURED_TASK_ID and what it submits with that
# parent is its child; child_policy wait (the default) keeps the parent
# running until its children ended, cancel cancels them, abandon leaves
# them; cancelling a parent cancels its descendants with a message; a group
# ends with its members' outcomes, the first failure cancelling the rest
# unless it gathers exceptions; its timeout cancels them; all of it
# survives kill -9; bad calls are answered.
. "$(dirname "$0")/harness.sh"

start_daemon --jobs 4
# child PARAMS FILE: what a task's shell runs to submit PARAMS as a child
# of itself, appending the new id to FILE
cat >"$T/sub.sh" <<'SH'
curl -s --unix-socket "$FUTURED_SOCKET" -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"task.submit\",\"params\":$1}" http://localhost/rpc | jq .result.id >>"$2"
SH
child() {
	printf "sh %s '%s,\"parent\":'\"\$FUTURED_TASK_ID\"'}' %s" "$T/sub.sh" "${1%\}}" "$2"
}
ids_of() { grep -o '[0-9][0-9]*' "$1" | paste -sd' ' -; }

# ---- the environment a task needs to submit children
id=$(submit '{"kind":"exec","shell":"echo \"$FUTURED_TASK_ID $FUTURED_SOCKET\""}')
wait_done "$id"
expect_jq "$(rpc task.result "{\"id\":$id}")" ".stdout == \"$id $SOCK\\n\"" "FUTURED_TASK_ID and FUTURED_SOCKET"

# ---- child_policy wait (default): the parent runs until its children end
f=$T/wait.ids
p=$(submit "{\"kind\":\"exec\",\"shell\":$(jq -Rs . <<<"$(child '{"kind":"future"}' "$f"); $(child "{\"kind\":\"sleep\",\"seconds\":$(scaled 0.5),\"result\":2}" "$f"); echo parent-done")}")
poll_until 20 eval '[ "$(rpc task.get "{\"id\":$p}" | jq ".attempts | length")" = 1 ]' || fail "the parent's attempt did not end"
read -r fut slp <<<"$(ids_of "$f")"
[ -n "$fut" ] && [ -n "$slp" ] || fail "the parent's children were not submitted: $(cat "$f")"
expect_jq "$(rpc task.get "{\"id\":$p}")" '.state == "running" and .waiting_for_children == true and .attempts[0].outcome == "succeeded"' "a parent whose children run"
expect_jq "$(rpc task.list '{"state":"running","limit":500}')" "[.tasks[] | select(.id == $p)][0].waiting_for_children == true" "task.list shows it waiting too"
expect_jq "$(rpc task.output "{\"id\":$p}")" '.eof == true and .data == "parent-done\n"' "the output of a parent whose attempt ended is whole"
expect_jq "$(rpc task.get "{\"id\":$fut}")" ".parent == $p" "the child names its parent"
expect_jq "$(rpc task.list "{\"parent\":$p}")" "[.tasks[].id] == [$slp,$fut]" "task.list by parent"
expect_jq "$(rpc task.list '{"parent":0,"limit":500}')" "[.tasks[].id] | (index($p) != null and index($fut) == null)" "task.list of tasks without a parent"
wait_done "$slp"
expect_eq "$(state "$p")" running "the parent while a child still runs"
rpc task.set_result "{\"id\":$fut,\"result\":1}" >/dev/null
wait_done "$p"
expect_jq "$(rpc task.get "{\"id\":$p}")" '.state == "succeeded" and .result.stdout == "parent-done\n" and (.attempts | length) == 1' "the parent, its children ended"

# ---- child_policy cancel and abandon
f=$T/cancel.ids
p=$(submit "{\"kind\":\"exec\",\"child_policy\":\"cancel\",\"shell\":$(jq -Rs . <<<"$(child '{"kind":"sleep","seconds":3600}' "$f")")}")
wait_done "$p"
c=$(ids_of "$f")
expect_jq "$(rpc task.get "{\"id\":$p}")" '.state == "succeeded" and .child_policy == "cancel"' "a cancel-policy parent"
wait_done "$c"
expect_jq "$(rpc task.get "{\"id\":$c}")" ".state == \"cancelled\" and .exception.message == \"parent $p ended\"" "its child, cancelled"
f=$T/abandon.ids
p=$(submit "{\"kind\":\"exec\",\"child_policy\":\"abandon\",\"shell\":$(jq -Rs . <<<"$(child '{"kind":"future"}' "$f")")}")
wait_done "$p"
c=$(ids_of "$f")
wait_state "$c" running
expect_eq "$(state "$c")" running "the abandoned child goes on"
rpc task.set_result "{\"id\":$c}" >/dev/null

# ---- cancelling a parent cancels its descendants
g=$(submit '{"kind":"future"}')
k1=$(submit "{\"kind\":\"future\",\"parent\":$g}")
k2=$(submit "{\"kind\":\"sleep\",\"seconds\":3600,\"parent\":$k1}")
k3=$(submit "{\"kind\":\"sleep\",\"seconds\":3600,\"parent\":$g,\"delay\":3600}")
expect_jq "$(rpc task.cancel "{\"id\":$g,\"message\":\"release aborted\"}")" '.cancelled == true' "cancel the root"
for k in $k1 $k2 $k3; do
	expect_jq "$(rpc task.get "{\"id\":$k}")" '.state == "cancelled" and .exception.message == "release aborted"' "descendant $k"
done
g=$(submit '{"kind":"future"}')
k1=$(submit "{\"kind\":\"future\",\"parent\":$g}")
rpc task.cancel "{\"id\":$g}" >/dev/null
expect_jq "$(rpc task.get "{\"id\":$k1}")" ".exception.message == \"parent $g was cancelled\"" "the message without the cancel's own"

# ---- bad parents
expect_jq "$(call task.submit "{\"kind\":\"sleep\",\"seconds\":0,\"parent\":$g}")" ".error.code == -32602 and .error.data.field == \"parent\" and (.error.data.reason | test(\"finished\"))" "a finished parent"
expect_jq "$(call task.submit '{"kind":"sleep","seconds":0,"parent":99999999}')" '.error.code == 4 and .error.data.field == "parent"' "an unknown parent"
expect_jq "$(call task.submit '{"kind":"sleep","seconds":0,"parent":"7"}')" '.error.data.field == "parent"' "a parent not an id"
expect_jq "$(call task.submit '{"kind":"sleep","seconds":0,"child_policy":"kill"}')" '.error.data.field == "child_policy"' "an unknown child_policy"

# ---- groups: TaskGroup
gr=$(submit '{"kind":"group"}')
wait_state "$gr" running
m1=$(submit "{\"kind\":\"sleep\",\"seconds\":$(scaled 0.3),\"result\":\"a\",\"parent\":$gr}")
m2=$(submit "{\"kind\":\"future\",\"parent\":$gr}")
expect_eq "$(state "$gr")" running "an open group"
expect_jq "$(rpc task.close "{\"id\":$gr}")" '. == {"closed":true,"state":"running"}' "task.close"
expect_jq "$(rpc task.close "{\"id\":$gr}")" '.closed == false' "task.close twice"
expect_jq "$(call task.submit "{\"kind\":\"sleep\",\"seconds\":0,\"parent\":$gr}")" '.error.data.field == "parent" and (.error.data.reason | test("closed"))' "a member of a closed group"
rpc task.set_result "{\"id\":$m2,\"result\":{\"b\":2}}" >/dev/null
wait_done "$gr"
expect_jq "$(rpc task.result "{\"id\":$gr}")" ". == [{\"id\":$m1,\"state\":\"succeeded\",\"result\":\"a\"},{\"id\":$m2,\"state\":\"succeeded\",\"result\":{\"b\":2}}]" "the group's result"
# the first failure cancels the rest
gr=$(submit '{"kind":"group"}')
m1=$(submit "{\"kind\":\"sleep\",\"seconds\":3600,\"parent\":$gr}")
m3=$(submit "{\"kind\":\"future\",\"parent\":$gr}")
m2=$(submit "{\"kind\":\"exec\",\"shell\":\"exit 3\",\"parent\":$gr}")
wait_done "$gr"
expect_jq "$(call task.submit "{\"kind\":\"sleep\",\"seconds\":0,\"parent\":$gr}")" '.error.data.field == "parent"' "a member of a failed group"
r=$(rpc task.get "{\"id\":$gr}")
expect_jq "$r" ".state == \"failed\" and .exception.type == \"ExceptionGroup\" and ([.exception.exceptions[].id] == [$m2]) and .exception.exceptions[0].exception.type == \"ProcessError\"" "a failed group"
for m in $m1 $m3; do
	expect_jq "$(rpc task.get "{\"id\":$m}")" ".state == \"cancelled\" and .exception.message == \"group $gr: member $m2 failed\"" "member $m of the failed group"
done
# gather: return_exceptions
gr=$(submit '{"kind":"group","return_exceptions":true}')
m2=$(submit "{\"kind\":\"future\",\"parent\":$gr}")
m1=$(submit "{\"kind\":\"exec\",\"shell\":\"exit 4\",\"parent\":$gr}")
wait_done "$m1"
expect_eq "$(state "$m2")" running "a member after another failed, gathering"
rpc task.close "{\"id\":$gr}" >/dev/null
rpc task.set_result "{\"id\":$m2,\"result\":9}" >/dev/null
wait_done "$gr"
expect_jq "$(rpc task.result "{\"id\":$gr}")" "length == 2 and .[0] == {\"id\":$m2,\"state\":\"succeeded\",\"result\":9} and .[1].state == \"failed\" and .[1].exception.exit_code == 4" "a gathering group's result"
# as_completed over a group's members, as they finish, members joining
gr=$(submit '{"kind":"group"}')
m1=$(submit "{\"kind\":\"future\",\"parent\":$gr}")
m2=$(submit "{\"kind\":\"future\",\"parent\":$gr}")
r=$(rpc task.as_completed "{\"group\":$gr,\"timeout\":0}")
expect_jq "$r" '.done == [] and .remaining == 2' "as_completed of a group at first"
cur=$(jq -c .cursor <<<"$r")
rpc task.set_result "{\"id\":$m2}" >/dev/null
r=$(rpc task.as_completed "{\"group\":$gr,\"cursor\":$cur}")
expect_jq "$r" ".done == [{\"id\":$m2,\"state\":\"succeeded\"}] and .remaining == 1" "the future member first"
cur=$(jq -c .cursor <<<"$r")
m3=$(submit "{\"kind\":\"sleep\",\"seconds\":0,\"parent\":$gr}")
wait_done "$m3"
r=$(rpc task.as_completed "{\"group\":$gr,\"cursor\":$cur}")
expect_jq "$r" ".done == [{\"id\":$m3,\"state\":\"succeeded\"}] and .remaining == 1" "a member that joined later, with the old cursor"
cur=$(jq -c .cursor <<<"$r")
r=$(rpc task.as_completed "{\"group\":$gr,\"cursor\":$cur,\"timeout\":0}")
expect_jq "$r" ".done == [] and .remaining == 1 and .group_state == \"running\"" "the group still open, a member unfinished"
rpc task.close "{\"id\":$gr}" >/dev/null
rpc task.set_result "{\"id\":$m1}" >/dev/null
wait_done "$gr"
r=$(rpc task.as_completed "{\"group\":$gr,\"cursor\":$cur,\"timeout\":$(scaled 20)}")
expect_jq "$r" ".done == [{\"id\":$m1,\"state\":\"succeeded\"}] and .remaining == 0" "the last member"
cur=$(jq -c .cursor <<<"$r")
expect_jq "$(rpc task.as_completed "{\"group\":$gr,\"cursor\":$cur}")" '.done == [] and .remaining == 0 and .group_state == "succeeded"' "the group ended: all members came"
expect_jq "$(call task.as_completed "{\"group\":$gr,\"ids\":[$m1]}")" '.error.data.field == "group"' "ids and group"
expect_jq "$(call task.as_completed '{"group":99999999}')" '.error.code == 4' "an unknown group"
expect_jq "$(call task.as_completed "{\"group\":$gr,\"cursor\":\"h000\"}")" '.error.data.field == "cursor"' "a cursor longer than the group"
# empty, cancelled, expired
gr=$(submit '{"kind":"group"}')
expect_jq "$(rpc task.close "{\"id\":$gr}")" '.closed == true' "closing an empty group"
wait_done "$gr"
expect_jq "$(rpc task.result "{\"id\":$gr}")" '. == []' "an empty group's result"
gr=$(submit '{"kind":"group"}')
m1=$(submit "{\"kind\":\"sleep\",\"seconds\":3600,\"parent\":$gr}")
rpc task.cancel "{\"id\":$gr}" >/dev/null
expect_eq "$(state "$m1")" cancelled "a member of a cancelled group"
# (its queue paused until the member is in: the timeout counts from the
# start, which must not come before the member under load)
rpc queue.set '{"name":"expiring","paused":true}' >/dev/null
gr=$(submit '{"kind":"group","timeout":0.3,"queue":"expiring"}')
m1=$(submit "{\"kind\":\"future\",\"parent\":$gr}")
rpc queue.set '{"name":"expiring","paused":false}' >/dev/null
wait_done "$gr"
expect_jq "$(rpc task.get "{\"id\":$gr}")" '.exception.type == "TimeoutError"' "an expired group"
expect_jq "$(rpc task.get "{\"id\":$m1}")" ".state == \"cancelled\" and .exception.message == \"group $gr timed out\"" "a member of an expired group"
# a group closed before it started (its delay): it ends at once, never starting
gr=$(submit '{"kind":"group","delay":3600}')
expect_jq "$(rpc task.close "{\"id\":$gr}")" '.closed == true' "closing a delayed group"
wait_done "$gr"
expect_jq "$(rpc task.get "{\"id\":$gr}")" '.state == "succeeded" and .result == [] and .attempt == 0' "a delayed group closed"
# bad calls
s1=$(submit '{"kind":"sleep","seconds":3600}')
expect_jq "$(call task.close "{\"id\":$s1}")" '.error.code == -32602 and .error.data.field == "id"' "task.close of a sleep"
expect_jq "$(call task.close '{"id":99999999}')" '.error.code == 4' "task.close of an unknown id"
expect_jq "$(call task.submit '{"kind":"group","retries":1}')" '.error.data.field == "retries"' "a group with retries"
expect_jq "$(call task.submit '{"kind":"group","child_policy":"abandon"}')" '.error.data.field == "child_policy"' "a group that would not wait"
expect_jq "$(call task.submit '{"kind":"group","return_exceptions":"yes"}')" '.error.data.field == "return_exceptions"' "return_exceptions not a boolean"
rpc task.cancel "{\"id\":$s1}" >/dev/null

# ---- a group and a future take no slot of their queue
rpc queue.set '{"name":"one","concurrency":1}' >/dev/null
gr=$(submit '{"kind":"group","queue":"one"}')
fu=$(submit '{"kind":"future","queue":"one"}')
m1=$(submit "{\"kind\":\"exec\",\"shell\":\"true\",\"queue\":\"one\",\"parent\":$gr}")
wait_done "$m1"
rpc task.close "{\"id\":$gr}" >/dev/null
wait_done "$gr"
rpc task.set_result "{\"id\":$fu}" >/dev/null

# ---- kill -9: a waiting parent, an open group and a closed one survive
p=$(submit '{"kind":"future"}')
c=$(submit "{\"kind\":\"future\",\"parent\":$p}")
# (resolved while still pending, it would stay pending: below)
wait_state "$p" running
rpc task.set_result "{\"id\":$p,\"result\":\"mine\"}" >/dev/null
expect_eq "$(state "$p")" running "a resolved future with a running child"
open=$(submit '{"kind":"group"}')
om=$(submit "{\"kind\":\"future\",\"parent\":$open}")
closed=$(submit '{"kind":"group"}')
cm=$(submit "{\"kind\":\"future\",\"parent\":$closed}")
rpc task.close "{\"id\":$closed}" >/dev/null
# an exec parent running at the kill: its attempt is lost (DaemonRestarted),
# and it still waits for the child that comes after it in the store
f=$T/kill.ids
ep=$(submit "{\"kind\":\"exec\",\"shell\":$(jq -Rs . <<<"$(child '{"kind":"future"}' "$f"); exec sleep 300")}")
poll_until 20 test -s "$f" || fail "the exec parent submitted no child"
ec=$(ids_of "$f")
# a future resolved while pending, its child still running
pf=$(submit '{"kind":"future","delay":3600}')
pc=$(submit "{\"kind\":\"future\",\"parent\":$pf}")
rpc task.set_result "{\"id\":$pf,\"result\":\"early\"}" >/dev/null
expect_eq "$(state "$pf")" pending "a future resolved before it started, its child running"
kill9_daemon
start_daemon --jobs 4
expect_jq "$(rpc task.get "{\"id\":$ep}")" '.state == "running" and .attempts[0].exception.type == "DaemonRestarted"' "the exec parent after kill -9"
expect_eq "$(state "$pf")" pending "the resolved future after kill -9"
rpc task.set_result "{\"id\":$ec}" >/dev/null
rpc task.set_result "{\"id\":$pc}" >/dev/null
wait_done "$ep"
expect_jq "$(rpc task.get "{\"id\":$ep}")" '.state == "failed" and .exception.type == "DaemonRestarted"' "the exec parent, its child ended"
wait_done "$pf"
expect_jq "$(rpc task.result "{\"id\":$pf}")" '. == "early"' "the resolved future, its child ended"
expect_eq "$(state "$p")" running "the waiting parent after kill -9"
expect_eq "$(state "$open")" running "the open group after kill -9"
expect_jq "$(call task.submit "{\"kind\":\"sleep\",\"seconds\":0,\"parent\":$closed}")" '.error.data.field == "parent"' "the closed group is closed still"
n=$(submit "{\"kind\":\"sleep\",\"seconds\":0,\"result\":\"late\",\"parent\":$open}")
rpc task.set_result "{\"id\":$c}" >/dev/null
wait_done "$p"
expect_jq "$(rpc task.result "{\"id\":$p}")" '. == "mine"' "the parent's own result after the restart"
rpc task.close "{\"id\":$open}" >/dev/null
rpc task.set_result "{\"id\":$om,\"result\":1}" >/dev/null
wait_done "$open"
expect_jq "$(rpc task.result "{\"id\":$open}")" "[.[].id] == [$om,$n]" "the open group's members after the restart"
rpc task.set_exception "{\"id\":$cm,\"message\":\"no\"}" >/dev/null
wait_done "$closed"
expect_jq "$(rpc task.get "{\"id\":$closed}")" '.state == "failed" and .exception.exceptions[0].exception.message == "no"' "the closed group after the restart"
stop_daemon
