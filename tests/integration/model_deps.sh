#!/usr/bin/env bash
# Dependencies, `after` (issue #3): a diamond a -> b, c -> d runs in order
# (b and c start after a finished, d after both b and c finished, by the
# tasks' timestamps and by the files they write); a failed or a cancelled
# dependency fails its dependents with DependencyFailed without running them
# (their marker file never appears), transitively; an unknown dependency id
# is refused with 4 NoSuchTask before anything is created; a dependent keeps
# waiting across a kill -9 restart and runs once its dependency is done.
# (Issue #11: b and c show that they run side by side by waiting for each
# other, not by sleeps of 0.5 s and 0.2 s that a loaded machine can
# stagger.)
. "$(dirname "$0")/harness.sh"

# get ID FIELD -> the task's FIELD (raw)
field() { rpc task.get "{\"id\":$1}" | jq -r ".$2"; }
# exec PARAMS for a shell command (the command must not contain double quotes)
sh_task() { echo "{\"kind\":\"exec\",\"shell\":\"$1\"${2:+,$2}}"; }

# gate NAME: shell code that waits until the test creates $T/NAME
gate() { echo "while [ ! -e $T/$1 ]; do sleep 0.02; done"; }

start_daemon --jobs 4

# ---- the diamond; a waits for the gate "go" until all four are submitted;
# b and c each wait for the other to have started (b.up, c.up), so they
# finish only if they run side by side
a=$(submit "$(sh_task "$(gate go); echo a >> $T/order")")
b=$(submit "$(sh_task "test -s $T/order && touch $T/b.up && $(gate c.up); echo b >> $T/order" "\"after\":[$a]")")
c=$(submit "$(sh_task "test -s $T/order && touch $T/c.up && $(gate b.up); echo c >> $T/order" "\"after\":[$a]")")
d=$(submit "$(sh_task "cat $T/order" "\"after\":[$b,$c]")")
wait_state "$a" running
expect_jq "$(rpc task.get "{\"id\":$d}")" ".state == \"pending\" and .after == [$b,$c]" "d while a runs"
expect_eq "$(state "$b") $(state "$c")" "pending pending" "b and c while a runs"
touch "$T/go"
wait_done "$d"
expect_eq "$(state "$d")" succeeded "state of d"
# d read the file once a, b and c had all written it, a first
expect_jq "$(rpc task.result "{\"id\":$d}")" '.stdout == "a\nc\nb\n" or .stdout == "a\nb\nc\n"' "what d saw"
for id in $a $b $c; do expect_eq "$(state "$id")" succeeded "state of $id"; done
# timestamps are RFC 3339 UTC with milliseconds: they compare as strings
ts=$(for id in $a $b $c $d; do rpc task.get "{\"id\":$id}"; done | jq -s -c '.')
expect_jq "$ts" '.[1].started_at >= .[0].finished_at and .[2].started_at >= .[0].finished_at' "b and c start after a finished"
expect_jq "$ts" '.[3].started_at >= .[1].finished_at and .[3].started_at >= .[2].finished_at' "d starts after b and c finished"
# b and c ran side by side (--jobs 4)
expect_jq "$ts" '.[2].started_at < .[1].finished_at and .[1].started_at < .[2].finished_at' "b and c overlap"

# ---- a failed dependency: DependencyFailed, nothing runs, transitively
f=$(submit "$(sh_task "exit 3")")
g=$(submit "$(sh_task "touch $T/g.ran" "\"after\":[$f]")")
h=$(submit "$(sh_task "touch $T/h.ran" "\"after\":[$g]")")
wait_done "$h"
for id in $g $h; do
	expect_jq "$(rpc task.get "{\"id\":$id}")" '.state == "failed" and .exception.type == "DependencyFailed" and .started_at == null' "dependent $id of a failed task"
done
expect_jq "$(rpc task.exception "{\"id\":$g}")" ".type == \"DependencyFailed\" and (.message | test(\"$f\"))" "g's exception names the dependency"
[ ! -e "$T/g.ran" ] && [ ! -e "$T/h.ran" ] || fail "a dependent of a failed task ran"
# submitted after the dependency failed: fails at once, does not run
g2=$(submit "$(sh_task "touch $T/g2.ran" "\"after\":[$f]")")
wait_done "$g2"
expect_jq "$(rpc task.get "{\"id\":$g2}")" '.state == "failed" and .exception.type == "DependencyFailed"' "dependent submitted after the failure"
[ ! -e "$T/g2.ran" ] || fail "g2 ran"
# futurectl reports it like any failure
ctl result "$g2" >/dev/null 2>"$T/g2.err"
expect_eq "$?" 1 "futurectl result of a DependencyFailed task"
grep -q "DependencyFailed" "$T/g2.err" || fail "futurectl result: $(cat "$T/g2.err")"

# ---- a cancelled dependency
x=$(submit '{"kind":"sleep","seconds":0,"delay":60}')
y=$(submit "$(sh_task "touch $T/y.ran" "\"after\":[$x]")")
expect_eq "$(state "$y")" pending "dependent of a delayed task"
expect_jq "$(rpc task.cancel "{\"id\":$x}")" '.cancelled == true' "cancel the dependency"
wait_done "$y"
expect_jq "$(rpc task.get "{\"id\":$y}")" '.state == "failed" and .exception.type == "DependencyFailed"' "dependent of a cancelled task"
[ ! -e "$T/y.ran" ] || fail "dependent of a cancelled task ran"

# ---- unknown dependency: 4 NoSuchTask, no task created
before=$(rpc task.list '{"limit":1}' | jq '.tasks[0].id')
r=$(call task.submit "$(sh_task "touch $T/u.ran" '"after":[987654321]')")
expect_jq "$r" '.error.code == 4 and .error.data.id == 987654321' "unknown dependency"
r=$(call task.submit "$(sh_task "true" "\"after\":[$a,987654322]")")
expect_jq "$r" '.error.code == 4 and .error.data.id == 987654322' "one unknown dependency among known ones"
expect_eq "$(rpc task.list '{"limit":1}' | jq '.tasks[0].id')" "$before" "newest task after refused submits"
ctl submit --after 987654321 -- true >/dev/null 2>&1
expect_eq "$?" 4 "futurectl submit --after an unknown id"

# ---- a dependent keeps waiting across kill -9, then runs
# (the dependency waits for a gate; kill -9 ends its attempt, its retry waits again)
s=$(submit "$(sh_task "echo \$\$ >> $T/s.pids; $(gate s.go); echo dep" '"retries":1,"retry_backoff":0.1')")
e=$(submit "$(sh_task "touch $T/e.ran; echo after-restart" "\"after\":[$s]")")
wait_state "$s" running
kill9_daemon
kill -9 $(cat "$T/s.pids") 2>/dev/null	# the crashed daemon's orphan
start_daemon --jobs 4
wait_state "$s" running
expect_eq "$(state "$e")" pending "dependent after the restart"
[ ! -e "$T/e.ran" ] || fail "dependent ran before its dependency finished"
touch "$T/s.go"
wait_done "$e" 15
expect_jq "$(rpc task.get "{\"id\":$s}")" '.state == "succeeded" and .attempt == 2' "the dependency after the restart"
expect_jq "$(rpc task.result "{\"id\":$e}")" '.stdout == "after-restart\n"' "the dependent's result"
[ -e "$T/e.ran" ] || fail "dependent did not run"
expect_jq "[$(rpc task.get "{\"id\":$s}"),$(rpc task.get "{\"id\":$e}")]" '.[1].started_at >= .[0].finished_at' "dependent started after its dependency finished"

stop_daemon
note "dependencies: ok"
