#!/usr/bin/env bash
# futurectl and task trees (issue #16): an exec task whose shell runs
# `$FUTURECTL submit` (the path passed with --env) makes children of itself,
# as FUTURED_TASK_ID says (`get` shows their parent; --no-parent makes a
# top-level task, --parent another parent; the same default for `run`; a
# parent from the environment that futured refuses is explained); the
# parent stays running, its own work done, until its last child has ended
# (the default child policy) and then ends with its own outcome; `tree ID`
# shows the children indented under it in id order with their states and
# what they run, `tree` without an id the unfinished tasks without a parent
# with their trees, `--json` as nested objects, `--max` cutting it short
# with "…"; `submit group` + `submit --parent G` members + `close G` give
# the group's result, `close` twice exits 7, `close` of a sleep or of no
# task 4, of an empty group "closed; succeeded"; --return-exceptions gathers
# failures, without it the first failure cancels the rest (result exits 1,
# ExceptionGroup); --child-policy is checked before sending and kept;
# `wait --as-completed --group G` prints members as they finish (members
# joining while it waits too) and ends only once the group has ended,
# with wait's exit statuses.
. "$(dirname "$0")/harness.sh"
[ -x "$FUTURECTL" ] || fail "no $FUTURECTL"
# a test run from inside a task of another futured: its id is no parent here
unset FUTURED_TASK_ID
start_daemon --jobs 4

field() { rpc task.get "{\"id\":$1}" | jq -c ".$2"; }
# attempts_done ID: the task's own work has ended (its attempt is recorded)
attempts_done() { [ "$(field "$1" 'attempts | length')" -ge 1 ]; }

# ---- an exec task whose shell submits with futurectl: its children
other=$(ctl submit future) || fail "submit future"
sh="\"\$FUTURECTL\" submit --sleep 0.2 >$T/kids &&
\"\$FUTURECTL\" submit --sleep 3600 >>$T/kids &&
\"\$FUTURECTL\" submit --no-parent --sleep 3600 >$T/top &&
\"\$FUTURECTL\" submit --parent $other future >$T/elsewhere &&
echo parent-done"
c submit --env FUTURECTL="$FUTURECTL" --shell "$sh"
want_rc 0 "submit the parent"
p=$out
poll_until 20 attempts_done "$p" || fail "the parent's own work did not end"
expect_jq "$(rpc task.get "{\"id\":$p}")" '.state == "running" and .attempts[0].outcome == "succeeded"' "the parent after its shell ended"
read -r short long <<<"$(paste -sd' ' "$T/kids")"
top=$(<"$T/top")
elsewhere=$(<"$T/elsewhere")
[[ $short =~ ^[0-9]+$ && $long =~ ^[0-9]+$ ]] || fail "the children's ids: $(cat "$T/kids")"
expect_eq "$(field "$short" parent)/$(field "$long" parent)" "$p/$p" "the children name the task that submitted them"
c get "$long"
[[ $out == *$'\nparent:      '"$p"$'\n'* ]] || fail "get shows no parent: $out"
expect_eq "$(field "$top" parent)" null "--no-parent inside a task: no parent"
c get "$top"
[[ $out != *parent:* ]] || fail "get of a task without a parent: $out"
expect_eq "$(field "$elsewhere" parent)" "$other" "--parent inside a task wins over FUTURED_TASK_ID"

# ---- the parent waits for its children (child policy wait)
wait_done "$short"
expect_eq "$(state "$long")" running "the long child"
expect_eq "$(state "$p")" running "the parent while a child runs"
c tree "$p"
want_rc 0 "tree of the parent"
mapfile -t lines <<<"$out"
expect_eq "${#lines[@]}" 3 "tree of the parent: lines ($out)"
[[ ${lines[0]} == "$p running exec \"\$FUTURECTL\" submit --sleep 0.2 "*"echo parent-done [waits for its children]" ]] ||
    fail "tree: the parent's line: ${lines[0]}"
expect_eq "${lines[1]}" "├── $short succeeded sleep 0.2" "tree: the first child"
expect_eq "${lines[2]}" "└── $long running sleep 3600" "tree: the last child"
c --json tree "$p"
want_rc 0 "tree --json"
expect_jq "$out" ".id == $p and .state == \"running\" and ([.children[].id] == [$short,$long]) and ([.children[].children | length] == [0,0]) and (.children[1].state == \"running\") and (has(\"truncated\") | not)" "tree --json: nested"
# cut short: the newest child kept, "…" for the older one
c tree --max 2 "$p"
want_rc 0 "tree --max 2"
expect_eq "$(sed -n 2,3p <<<"$out")" "├── …
└── $long running sleep 3600" "tree --max 2: the older child left out"
[[ $err == *"cut short at 2 tasks"* ]] || fail "tree --max: $err"
c --json tree --max 1 "$p"
expect_jq "$out" ".children == [] and .truncated == true" "tree --json --max 1"
ctl cancel "$long" >/dev/null || fail "cancel the long child"
wait_done "$p"
expect_jq "$(rpc task.get "{\"id\":$p}")" '.state == "succeeded" and .result.stdout == "parent-done\n"' "the parent, its children ended: its own outcome"
bc_true "$(date -d "$(field "$p" finished_at | jq -r .)" +%s.%N) >= $(date -d "$(field "$long" finished_at | jq -r .)" +%s.%N)" ||
    fail "the parent ended before its last child"

# ---- the default parent from the environment, for run too; refused
FUTURED_TASK_ID=$other ctl run --sleep 0 --result 7 >"$T/run.out" || fail "run inside a task"
expect_eq "$(cat "$T/run.out")" 7 "run's result"
rt=$(rpc task.list "{\"parent\":$other}" | jq '.tasks[0].id')
expect_jq "$(rpc task.get "{\"id\":$rt}")" ".kind == \"sleep\" and .parent == $other" "run inside a task makes a child"
FUTURED_TASK_ID=$other c submit --no-parent --sleep 0
want_rc 0 "submit --no-parent with FUTURED_TASK_ID"
expect_eq "$(field "$out" parent)" null "--no-parent"
wait_done "$out"
FUTURED_TASK_ID=99999999 c submit --sleep 0
want_rc 4 "a parent from the environment futured does not know"
[[ $err == *"no task 99999999 to be the parent"* && $err == *"--no-parent"* ]] ||
    fail "an unknown parent from the environment: $err"
FUTURED_TASK_ID=$p c submit --sleep 0
want_rc 4 "a finished parent from the environment"
[[ $err == *"parent"* && $err == *"FUTURED_TASK_ID, $p"* ]] || fail "a finished parent: $err"
c submit --parent 0 --sleep 0
want_rc 2 "--parent 0"
c submit --parent "$p" --no-parent --sleep 0
want_rc 0 "--no-parent after --parent"
expect_eq "$(field "$out" parent)" null "the last of --parent and --no-parent counts"
wait_done "$out"

# ---- --child-policy: checked here, kept
c submit --child-policy reap --sleep 0
want_rc 2 "an unknown --child-policy"
[[ $err == *"--child-policy"* ]] || fail "bad --child-policy: $err"
c submit --child-policy cancel group
want_rc 2 "a group with --child-policy cancel"
c submit --return-exceptions --sleep 0
want_rc 2 "--return-exceptions for a sleep"
[[ $err == *"--return-exceptions"* ]] || fail "--return-exceptions for a sleep: $err"
c submit --child-policy abandon --sleep 3600
want_rc 0 "submit --child-policy abandon"
ab=$out
expect_eq "$(field "$ab" child_policy)" '"abandon"' "the child policy is kept"
c get "$ab"
[[ $out == *"children:    left running when its own work ends (child_policy abandon)"* ]] || fail "get of a child policy: $out"

# ---- tree without an id: the unfinished tasks without a parent
fin=$(ctl submit --sleep 0)
wait_done "$fin"
c tree
want_rc 0 "tree without an id"
grep -qx "$other running future" <<<"$out" || fail "tree: the open future at the top: $out"
grep -qx "├── $elsewhere running future" <<<"$out" || fail "tree: the future's child under it: $out"
grep -qx "$top running sleep 3600" <<<"$out" || fail "tree: the --no-parent task at the top: $out"
grep -qx "$ab running sleep 3600 \[child_policy abandon\]" <<<"$out" || fail "tree: its child policy: $out"
! grep -q "^$fin \|^$p \|^$elsewhere " <<<"$out" || fail "tree: a finished task or a child at the top: $out"
[[ $(grep -c "^[0-9]" <<<"$out") == 3 ]] || fail "tree: three roots, in id order: $out"
[[ $(grep "^[0-9]" <<<"$out" | cut -d' ' -f1 | paste -sd' ') == "$other $top $ab" ]] || fail "tree: roots in id order: $out"
c --json tree
expect_jq "$out" "[.[].id] == [$other,$top,$ab] and ([.[0].children[].id] | index($elsewhere) != null)" "tree --json without an id: an array"
c tree 99999999
want_rc 4 "tree of no task"
c tree "$p" "$other"
want_rc 2 "tree of two ids"
c tree --max 0
want_rc 2 "tree --max 0"

# ---- groups: submit group, members, close
g=$(ctl submit group) || fail "submit group"
expect_jq "$(rpc task.get "{\"id\":$g}")" '.kind == "group" and .spec == {"kind":"group"} and .state == "running"' "submit group"
m1=$(ctl submit --parent "$g" --sleep 3600) || fail "member 1"
m2=$(ctl submit --parent "$g" future) || fail "member 2"
c tree "$g"
expect_eq "$out" "$g running group [open]
├── $m1 running sleep 3600
└── $m2 running future" "tree of an open group"
c close "$g"
want_rc 0 "close"
expect_eq "$out" closed "close's output"
c close "$g"
want_rc 7 "close twice"
[[ $err == *"group $g was already closed: running; nothing changed"* ]] || fail "close twice: $err"
c --json close "$g"
want_rc 7 "--json close twice"
expect_jq "$out" '. == {"closed":false,"state":"running"}' "--json close twice"
c submit --parent "$g" --sleep 0
want_rc 4 "a member of a closed group"
head -n1 <<<"$(ctl tree "$g")" | grep -qx "$g running group \[closed\]" || fail "tree of a closed group"
ctl resolve "$m2" '{"b": 2}' >/dev/null || fail "resolve member 2"
c result "$g"
want_rc 5 "result of a closed group with a member running"
ctl cancel "$m1" >/dev/null || fail "cancel member 1"
c result --timeout "$(scaled 20)" "$g"
want_rc 0 "result of the group"
expect_jq "$out" ". == [{\"id\":$m1,\"state\":\"cancelled\"},{\"id\":$m2,\"state\":\"succeeded\",\"result\":{\"b\":2}}]" "the group's result"
c close "$g"
want_rc 7 "close of a finished group"
[[ $err == *"group $g had already finished: succeeded"* ]] || fail "close of a finished group: $err"
c close "$(ctl submit group)"
want_rc 0 "close of an empty group"
expect_eq "$out" "closed; succeeded" "an empty group ends at once"
s=$(ctl submit --sleep 3600)
c close "$s"
want_rc 4 "close of a sleep"
[[ $err == *"Invalid params: id"* ]] || fail "close of a sleep: $err"
expect_eq "$(state "$s")" running "the sleep left alone"
ctl cancel "$s" >/dev/null
c close 99999999
want_rc 4 "close of no task"
c close
want_rc 2 "close without an id"

# the first failure cancels the others; --return-exceptions gathers
g=$(ctl submit group)
f1=$(ctl submit --parent "$g" --sleep 3600)
f2=$(ctl submit --parent "$g" -- sh -c 'exit 3')
wait_done "$g"
c result "$g"
want_rc 1 "result of a failed group"
[[ $err == *"task $g failed: ExceptionGroup"* ]] || fail "a failed group: $err"
expect_jq "$(rpc task.get "{\"id\":$f1}")" ".state == \"cancelled\" and .exception.message == \"group $g: member $f2 failed\"" "the member the failure cancelled"
c tree "$g"
[[ $out == *"├── $f1 cancelled sleep 3600 [CancelledError: group $g: member $f2 failed]"* ]] || fail "tree of a failed group: $out"
g=$(ctl submit group --return-exceptions)
expect_jq "$(rpc task.get "{\"id\":$g}")" '.spec == {"kind":"group","return_exceptions":true}' "submit group --return-exceptions"
f1=$(ctl submit --parent "$g" -- sh -c 'exit 4')
f2=$(ctl submit --parent "$g" future)
wait_done "$f1"
expect_eq "$(state "$f2")" running "a member after another failed, gathering"
ctl resolve "$f2" 9 >/dev/null || fail "resolve f2"
ctl close "$g" >/dev/null || fail "close the gathering group"
c --json result --timeout "$(scaled 20)" "$g"
want_rc 0 "result of a gathering group"
expect_jq "$out" "length == 2 and .[0].state == \"failed\" and .[0].exception.exit_code == 4 and .[1] == {\"id\":$f2,\"state\":\"succeeded\",\"result\":9}" "a gathering group's result"

# ---- wait --as-completed --group: members as they finish, until it ends
g=$(ctl submit group)
a=$(ctl submit --parent "$g" future)
b=$(ctl submit --parent "$g" future)
ctl wait --as-completed --group "$g" >"$T/acg.out" 2>"$T/acg.err" &
acp=$!
ctl resolve "$b" 2 >/dev/null || fail "resolve b"
poll_until 10 test -s "$T/acg.out" || fail "wait --group printed nothing after a member ended"
expect_eq "$(cat "$T/acg.out")" "$b succeeded" "the member that ended first, first"
# a member joining while it waits
j=$(ctl submit --parent "$g" --sleep 0)
poll_until 10 eval '[ "$(wc -l <"$T/acg.out")" -ge 2 ]' || fail "the member that joined was not printed"
ctl resolve "$a" 1 >/dev/null || fail "resolve a"
poll_until 10 eval '[ "$(wc -l <"$T/acg.out")" -ge 3 ]' || fail "the last member was not printed"
# every member printed, but the group is open: it goes on waiting
sleep 1
alive "$acp" || fail "wait --group ended while its group was still open"
ctl close "$g" >/dev/null || fail "close g"
wait "$acp"
expect_eq "$?" 0 "wait --as-completed --group"
expect_eq "$(cat "$T/acg.out")" "$b succeeded
$j succeeded
$a succeeded" "wait --group: the members in the order they ended"
c --json wait --as-completed --group "$g"
want_rc 0 "--json wait --group of an ended group"
expect_eq "$out" "{\"id\":$a,\"state\":\"succeeded\"}
{\"id\":$b,\"state\":\"succeeded\"}
{\"id\":$j,\"state\":\"succeeded\"}" "finished members in id order"
# exit statuses as wait's: failed, timeout (with the group named)
g=$(ctl submit group --return-exceptions)
x=$(ctl submit --parent "$g" future)
y=$(ctl submit --parent "$g" future)
ctl reject "$x" E no >/dev/null || fail "reject x"
c wait --as-completed --group "$g" --timeout 0.5
want_rc 1 "wait --group with a failed member, then a timeout"
expect_eq "$out" "$x failed" "the failed member"
[[ $err == *"not done within the timeout: group $g (unfinished; 1 of its members unfinished)"* ]] || fail "wait --group timeout: $err"
ctl resolve "$y" 1 >/dev/null || fail "resolve y"
c wait --as-completed --group "$g" --timeout 0.5
want_rc 1 "wait --group of an open group, every member done, one failed"
[[ $err == *"group $g (unfinished; 0 of its members unfinished)"* ]] || fail "wait --group of an open group: $err"
g2=$(ctl submit group)
ctl submit --parent "$g2" --sleep 0 >/dev/null || fail "member of g2"
c wait --as-completed --group "$g2" --timeout 0.5
want_rc 5 "wait --group of an open group with every member done"
ctl close "$g2" >/dev/null
ctl close "$g" >/dev/null
c wait --as-completed --group "$g"
want_rc 1 "wait --group of a closed group, a member failed"
expect_eq "$out" "$x failed
$y succeeded" "wait --group: every member of the ended group"
# the children of any task
c wait --as-completed --group "$p"
want_rc 6 "wait --group of an exec task's children (one cancelled)"
expect_eq "$out" "$short succeeded
$long cancelled" "an exec task's children"
c wait --group "$g"
want_rc 2 "--group without --as-completed"
c wait --as-completed --group "$g" "$x"
want_rc 2 "--group with ids"
c wait --as-completed --group "$g" --queue default
want_rc 2 "--group with a selection"
c wait --as-completed --group nope
want_rc 2 "--group not an id"
c wait --as-completed --group 99999999
want_rc 4 "--group of no task"

# the tasks this test left running
for t in $other $top $ab; do ctl cancel "$t" >/dev/null; done
exit 0
