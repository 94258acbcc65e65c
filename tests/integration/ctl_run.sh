#!/usr/bin/env bash
# futurectl in the user's hands (issue #14): run streams stdout and stderr
# as they come and exits with the task's status; Ctrl-C cancels, a second
# Ctrl-C (here: one while the cancel waits for a stopped daemon) stops
# waiting; --detach; task.output's stream "both"; exceptions with their
# stderr tail; futured's errors in words; --timeout for result and
# exception; wait by queue, label or all; progress and colour on a
# terminal (script(1) gives one), none with NO_COLOR.  Order and outcome
# only: every wait is a poll for an event, bounded by scaled deadlines.
. "$(dirname "$0")/harness.sh"
[ -x "$FUTURECTL" ] || fail "no $FUTURECTL"
start_daemon --jobs 4

# bg_run NAME ARGS...: futurectl in the background (no timeout wrapper, so
# that signals reach it); sets P
bg_run() {
	local name=$1
	shift
	"$FUTURECTL" --socket "$SOCK" "$@" >"$T/$name.out" 2>"$T/$name.err" &
	P=$!
	BG_PIDS="$BG_PIDS $P"
}
has() { grep -q -- "$2" "$1" 2>/dev/null; }

# ---- run streams: the first lines are out while the task still waits for
# the gate only the test opens once it saw them
gate=$T/gate
bg_run stream run -- sh -c "echo first; echo err-one >&2; while [ ! -e '$gate' ]; do sleep 0.05; done; echo second; echo err-two >&2; exit 3"
poll_until 30 has "$T/stream.out" first || fail "run wrote no stdout while the task ran: $(cat "$T/stream.err")"
poll_until 30 has "$T/stream.err" err-one || fail "run wrote no stderr while the task ran"
has "$T/stream.out" second && fail "second line before the gate opened"
touch "$gate"
wait "$P"
rc=$?
expect_eq "$rc" 3 "run's exit status is the task's"
expect_eq "$(cat "$T/stream.out")" "first
second" "run's stdout, each line once"
expect_eq "$(cat "$T/stream.err")" "err-one
err-two" "run's stderr, each line once"

# bytes that are not a line yet come too
bg_run partial run -- sh -c "printf 'no newline'; while [ ! -e '$gate.2' ]; do sleep 0.05; done; printf ' end'"
poll_until 30 has "$T/partial.out" "no newline" || fail "run held back output without a newline"
touch "$gate.2"
wait "$P" || fail "partial: exit status $?"
expect_eq "$(cat "$T/partial.out")" "no newline end" "run's partial lines"

# a process that fails writes its output once (streamed, not replayed)
c run -- sh -c 'echo out; echo oops >&2; exit 7'
want_rc 7 "run of a failing process"
expect_eq "$out" out "failing run's stdout once"
expect_eq "$err" oops "failing run's stderr once"
# kinds without output, and --json, still print the result
c run --sleep 0.1 --result '{"x":0.1}'
want_rc 0 "run --sleep"
expect_jq "$out" '.x == 0.1' "run --sleep's result"
[[ $out == *'0.1'* && $out != *'0.1000'* ]] || fail "real not in its shortest form: $out"
c --json run -- sh -c 'echo j'
want_rc 0 "run --json"
expect_jq "$out" '.stdout == "j\n" and .exit_code == 0' "run --json prints the result object"

# ---- --detach
c run --detach -- sh -c 'echo detached'
want_rc 0 "run --detach"
[[ $out =~ ^[0-9]+$ ]] || fail "run --detach printed '$out', want an id"
c result --wait "$out"
expect_eq "$out" detached "the detached task ran"

# ---- Ctrl-C cancels, and run shows how the task ended
bg_run int run -- sh -c 'echo started; exec sleep 3600'
poll_until 30 has "$T/int.out" started || fail "ctrl-c: the task did not start"
kill -INT "$P"
wait "$P"
rc=$?
expect_eq "$rc" 6 "run after Ctrl-C exits as cancelled"
id=$(sed -n 's/.*cancelling task \([0-9]*\) .*/\1/p' "$T/int.err")
[ -n "$id" ] || fail "ctrl-c: no 'cancelling task N': $(cat "$T/int.err")"
has "$T/int.err" "task $id was cancelled" || fail "ctrl-c: end not told: $(cat "$T/int.err")"
expect_eq "$(state "$id")" cancelled "the task Ctrl-C cancelled"

# ---- a second Ctrl-C while the cancel waits (the daemon stopped) stops
# waiting, and says which task and how to see it
bg_run int2 run -- sh -c 'echo started; exec sleep 3600'
poll_until 30 has "$T/int2.out" started || fail "ctrl-c 2: the task did not start"
kill -STOP "$DPID"
kill -INT "$P"
poll_until 30 has "$T/int2.err" "cancelling task" || { kill -CONT "$DPID"; fail "ctrl-c 2: first Ctrl-C not acted on"; }
kill -INT "$P"
wait "$P"
rc=$?
kill -CONT "$DPID"
expect_eq "$rc" 130 "run after a second Ctrl-C"
id=$(sed -n 's/.*cancelling task \([0-9]*\) .*/\1/p' "$T/int2.err")
has "$T/int2.err" "stopped waiting for task $id" || fail "ctrl-c 2: not told: $(cat "$T/int2.err")"
ctl cancel "$id" >/dev/null 2>&1
wait_done "$id" 30

# ---- task.output stream both
long=$(submit "{\"kind\":\"exec\",\"shell\":\"printf ab; printf XY >&2; while [ ! -e '$gate.3' ]; do sleep 0.05; done\"}")
poll_until 30 test "$(call task.output "{\"id\":$long,\"stream\":\"both\"}" | jq -r '.result.stdout.data + .result.stderr.data')" = abXY ||
    fail "stream both: $(call task.output "{\"id\":$long,\"stream\":\"both\"}")"
r=$(call task.output "{\"id\":$long,\"stream\":\"both\",\"offsets\":{\"stdout\":1,\"stderr\":2}}")
expect_jq "$r" '.result == {"stdout":{"data":"b","next":2},"stderr":{"data":"","next":2},"eof":false}' "stream both from offsets"
r=$(call task.output "{\"id\":$long,\"stream\":\"both\",\"offsets\":{\"stdout\":2,\"stderr\":2},\"timeout\":0.2}")
expect_jq "$r" '.result.stdout.data == "" and .result.stderr.data == "" and .result.eof == false' "stream both: nothing new by the timeout"
r=$(call task.output "{\"id\":$long,\"stream\":\"both\",\"offset\":1}")
expect_jq "$r" '.error.code == -32602 and .error.data.field == "offset"' "stream both refuses offset"
r=$(call task.output "{\"id\":$long,\"offsets\":{\"stdout\":1}}")
expect_jq "$r" '.error.code == -32602 and .error.data.field == "offsets"' "offsets needs stream both"
r=$(call task.output "{\"id\":$long,\"stream\":\"both\",\"offsets\":{\"stdin\":1}}")
expect_jq "$r" '.error.code == -32602 and .error.data.field == "offsets"' "offsets of an unknown stream"
r=$(call task.output "{\"id\":$long,\"stream\":\"both\",\"offsets\":{\"stderr\":-1}}")
expect_jq "$r" '.error.code == -32602 and .error.data.field == "offsets.stderr"' "a negative offset"
touch "$gate.3"
wait_done "$long" 30
r=$(call task.output "{\"id\":$long,\"stream\":\"both\"}")
expect_jq "$r" '.result == {"stdout":{"data":"ab","next":2},"stderr":{"data":"XY","next":2},"eof":true}' "stream both of a finished task"

# a limit below one character still moves on: the whole character
u8=$(submit '{"kind":"exec","shell":"printf \"\\303\\251x\""}')
wait_done "$u8" 30
expect_jq "$(call task.output "{\"id\":$u8,\"limit\":1}")" '.result == {"data":"é","next":2,"eof":false}' "limit 1 on a 2-byte character"
expect_jq "$(call task.output "{\"id\":$u8,\"limit\":1,\"offset\":2}")" '.result == {"data":"x","next":3,"eof":true}' "and on from there"

# ---- exceptions with their stderr tail
c run -- python3 -c 'raise ValueError("boom")'
want_rc 1 "run of a python that raises"
pid=$(call task.list '{"limit":1}' | jq -r '.result.tasks[0].id')
c exception "$pid"
want_rc 0 "exception"
[[ $out == "ProcessError: exited with status 1"* ]] || fail "exception's first line: $out"
[[ $out == *"| ValueError: boom"* ]] || fail "exception shows no stderr tail: $out"
c get "$pid"
[[ $out == *"ValueError: boom"* ]] || fail "get shows no stderr tail: $out"
c result "$pid"
want_rc 1 "result of the failed task"
[[ $err == *"task $pid failed: ProcessError"*"ValueError: boom"* ]] || fail "result's error shows no stderr tail: $err"

# ---- futured's errors in words, with their data
c get 999999
want_rc 4 "get 999999"
expect_eq "$err" "futurectl: NoSuchTask: no task 999999 (never submitted, or deleted)" "get 999999"
[[ $err != *"{"* ]] || fail "raw JSON in an error: $err"
c submit --after 999998 -- true
want_rc 4 "submit --after an unknown task"
[[ $err == *"no task 999998 to start after"* ]] || fail "after: $err"
ctl submit --key kw -- true >/dev/null
c submit --key kw -- false
want_rc 4 "KeyConflict"
[[ $err == *'KeyConflict: key "kw" is task '*"'s, submitted with another spec" ]] || fail "KeyConflict: $err"

# ---- --timeout means the time to wait, for result and exception too
sl=$(ctl submit --sleep 3600)
c result --timeout 0.2 "$sl"
want_rc 5 "result --timeout of an unfinished task"
[[ $err == *"task $sl is not done (running)"* ]] || fail "result --timeout: $err"
c exception --timeout 0.2 "$sl"
want_rc 5 "exception --timeout"
c result --timeout soon "$sl"
want_rc 2 "result --timeout with a bad value"
c result --wait=0.2 "$sl"
want_rc 5 "result --wait=S, the older spelling"

# ---- wait by queue, label, or every unfinished task
a=$(ctl submit --queue wq --sleep 0.3)
b=$(ctl submit --queue wq --label team=x --sleep 0.4)
o=$(ctl submit --queue other --sleep 3600)
c wait --queue wq
want_rc 0 "wait --queue"
expect_eq "$(head -1 <<<"$out")" "done: $a $b" "wait --queue waited for the queue's tasks"
expect_eq "$(state "$a")/$(state "$b")" "succeeded/succeeded" "the queue's tasks ended"
d=$(ctl submit --label team=y --sleep 0.2)
e=$(ctl submit --label team=x --sleep 0.2)
c wait --label team=x
want_rc 0 "wait --label"
expect_eq "$(head -1 <<<"$out")" "done: $e" "wait --label: only team=x's unfinished tasks"
c wait --all --timeout 0.3
want_rc 5 "wait --all with a task that does not end"
[[ $out == *"pending:"*"$o"* ]] || fail "wait --all: the long task pending: $out"
[[ $out != *" $a"* ]] || fail "wait --all waited for a finished task: $out"
c wait --queue wq 5
want_rc 2 "wait: ids and a filter"
c wait --queue nothing-here
want_rc 0 "wait on a queue with nothing unfinished"
call task.cancel "{\"id\":$o}" >/dev/null
call task.cancel "{\"id\":$sl}" >/dev/null

# ---- a terminal: progress while waiting, colour unless NO_COLOR
if command -v script >/dev/null; then
	w=$(ctl submit --sleep 2)
	script -qec "'$FUTURECTL' --socket '$SOCK' result --wait $w" /dev/null >"$T/tty.out" </dev/null
	has "$T/tty.out" "task $w running, waited" || fail "no progress on a terminal: $(cat -v "$T/tty.out")"
	TERM=xterm script -qec "'$FUTURECTL' --socket '$SOCK' list --state succeeded --limit 1" /dev/null >"$T/col.out" </dev/null
	grep -q $'\033\\[32msucceeded' "$T/col.out" || fail "no colour on a terminal: $(cat -v "$T/col.out")"
	NO_COLOR=1 TERM=xterm script -qec "'$FUTURECTL' --socket '$SOCK' list --state succeeded --limit 1" /dev/null >"$T/nocol.out" </dev/null
	grep -q $'\033' "$T/nocol.out" && fail "colour despite NO_COLOR: $(cat -v "$T/nocol.out")"
	c --color=always list --state succeeded --limit 1
	[[ $out == *$'\033[32msucceeded'* ]] || fail "--color=always"
	c --color=sometimes list
	want_rc 2 "--color with a bad value"
else
	fail "script(1) is missing (bsdutils)"
fi
c list --state succeeded --limit 1
[[ $out != *$'\033'* ]] || fail "colour into a file"
exit 0
