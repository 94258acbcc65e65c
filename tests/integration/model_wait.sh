#!/usr/bin/env bash
# futurectl wait on many tasks (issue #3): while it waits it reports each
# task that finishes on stderr as "done ID STATE", in the order they finish,
# when stderr is not a terminal, and one progress line rewritten with \r,
# "done/total, N failed, elapsed", when it is (a pty via script(1), when
# available); stdout and the exit status stay as before: done/pending/failed
# lines or --json {done, pending} in the order given, 1 when one failed, 5
# when --timeout ran out, 6 when one was cancelled; --any and
# --first-exception stop early; 300 tasks finishing at different times are
# each reported once.
. "$(dirname "$0")/harness.sh"

start_daemon --jobs 4

# gated NAME [STATUS] -> id of an exec task that waits for the file $T/NAME, then exits STATUS
gated() { submit "{\"kind\":\"exec\",\"shell\":\"while [ ! -e $T/$1 ]; do sleep 0.02; done; exit ${2:-0}\"}"; }
# lines FILE N: wait until FILE has N lines
lines() { poll_until 15 eval '[ "$(wc -l <'"$1"')" -ge '"$2"' ]' || fail "$1: $(cat "$1")"; }

# ---- not a terminal: "done ID STATE" lines as they finish (c, then b, then a)
a=$(gated ga)
b=$(gated gb 1)
c=$(gated gc)
timeout "$(scaled 30)" "$FUTURECTL" --socket "$SOCK" wait "$a" "$b" "$c" >"$T/w.out" 2>"$T/w.err" &
wp=$!
BG_PIDS="$BG_PIDS $wp"
touch "$T/gc"
lines "$T/w.err" 1
touch "$T/gb"
lines "$T/w.err" 2
[ ! -s "$T/w.out" ] || fail "wait printed before all were done: $(cat "$T/w.out")"
touch "$T/ga"
wait "$wp"
expect_eq "$?" 1 "wait exit status with a failed task"
expect_eq "$(cat "$T/w.out")" "$(printf 'done: %s %s %s\npending:\nfailed: %s' "$a" "$b" "$c" "$b")" "wait stdout"
expect_eq "$(cat "$T/w.err")" "$(printf 'done %s succeeded\ndone %s failed\ndone %s succeeded' "$c" "$b" "$a")" "wait stderr (completion order)"
# --json: the same answer shape, ids in the order given
ctl --json wait "$c" "$a" >"$T/j.out" 2>"$T/j.err"
expect_eq "$?" 0 "wait --json exit status"
expect_eq "$(cat "$T/j.out")" "{\"done\":[$c,$a],\"pending\":[]}" "wait --json stdout"
expect_eq "$(wc -l <"$T/j.err")" 2 "wait --json stderr lines"

# ---- --any, --first-exception, --timeout, cancelled
s1=$(submit '{"kind":"sleep","seconds":0.2}')
s2=$(submit '{"kind":"sleep","seconds":600}')	# cancelled below
s3=$(submit '{"kind":"sleep","seconds":600}')
ctl wait --any "$s2" "$s1" "$s3" >"$T/any.out" 2>"$T/any.err"
expect_eq "$?" 0 "wait --any exit status"
expect_eq "$(cat "$T/any.out")" "$(printf 'done: %s\npending: %s %s' "$s1" "$s2" "$s3")" "wait --any stdout"
expect_eq "$(cat "$T/any.err")" "done $s1 succeeded" "wait --any stderr"
e=$(submit '{"kind":"exec","shell":"sleep 0.2; exit 3"}')
ctl wait --first-exception "$s2" "$e" >"$T/fe.out" 2>"$T/fe.err"
expect_eq "$?" 1 "wait --first-exception exit status"
expect_eq "$(cat "$T/fe.out")" "$(printf 'done: %s\npending: %s\nfailed: %s' "$e" "$s2" "$e")" "wait --first-exception stdout"
t0=$(now)
ctl wait --timeout 0.5 "$s2" "$s3" >"$T/to.out" 2>"$T/to.err"
expect_eq "$?" 5 "wait --timeout exit status"
el=$(since "$t0")
bc_true "$el >= 0.45 && $el < $(scaled 10)" || fail "wait --timeout 0.5 took $el s"
expect_eq "$(cat "$T/to.out")" "$(printf 'done:\npending: %s %s' "$s2" "$s3")" "wait --timeout stdout"
[ ! -s "$T/to.err" ] || fail "wait --timeout stderr: $(cat "$T/to.err")"
rpc task.cancel "{\"id\":$s2}" >/dev/null
rpc task.cancel "{\"id\":$s3}" >/dev/null
ctl wait "$s1" "$s2" "$s3" >"$T/c.out" 2>"$T/c.err"
expect_eq "$?" 6 "wait exit status with cancelled tasks"
expect_eq "$(tail -1 "$T/c.out")" "cancelled: $s2 $s3" "wait stdout with cancelled tasks"
expect_eq "$(sort "$T/c.err" | tr '\n' ' ')" "done $s1 succeeded done $s2 cancelled done $s3 cancelled " "wait stderr with cancelled tasks"
ctl wait 987654321 >/dev/null 2>&1
expect_eq "$?" 4 "wait for an unknown task"

# ---- many tasks: each reported once, all done
params=$(for i in $(seq 0 299); do
	echo "{\"jsonrpc\":\"2.0\",\"id\":$i,\"method\":\"task.submit\",\"params\":{\"kind\":\"sleep\",\"seconds\":$((i % 3 == 2 ? 8 : i % 3)).$((i % 7))$((i % 10)),\"result\":$i}}"
done | jq -s -c .)
ids=$(post "$params" | jq -r '[.[].result.id] | map(tostring) | join(" ")')
[ "$(wc -w <<<"$ids")" = 300 ] || fail "batch submit of 300 sleeps: $ids"
# sleeps of 0 .. 1.69 s, and a third of 8 .. 8.69 s: cut short with --timeout 2
ctl wait --timeout 2 $ids >"$T/m1.out" 2>"$T/m1.err"
expect_eq "$?" 5 "wait --timeout 2 on 300 tasks"
n1=$(wc -l <"$T/m1.err")
[ "$n1" -ge 1 ] && [ "$n1" -le 200 ] || fail "tasks reported done after 2 s: $n1"
expect_eq "$(sed -n 's/^done: //p' "$T/m1.out" | wc -w)" "$n1" "done ids after 2 s"
# then a wait for all of them (the longest is 8.69 s)
ctl wait $ids >"$T/m.out" 2>"$T/m.err"
expect_eq "$?" 0 "wait on 300 tasks"
expect_eq "$(awk '{ print $2 }' "$T/m.err" | sort -n | tr '\n' ' ')" "$(tr ' ' '\n' <<<"$ids" | sort -n | tr '\n' ' ')" "ids reported on stderr, once each"
awk '$1 != "done" || $3 != "succeeded" || NF != 3 { exit 1 }' "$T/m.err" || fail "stderr lines: $(grep -v succeeded "$T/m.err" | head -3)"
expect_eq "$(head -1 "$T/m.out")" "done: $ids" "done line of 300 tasks"

# ---- on a terminal: one progress line rewritten with \r
if script -qec true /dev/null >/dev/null 2>&1; then
	p1=$(gated gp1)
	p2=$(gated gp2 1)
	p3=$(gated gp3)
	SHELL=/bin/sh timeout "$(scaled 30)" script -qec "'$FUTURECTL' --socket '$SOCK' wait $p1 $p2 $p3 >'$T/tty.out'" /dev/null >"$T/tty.raw" 2>&1 &
	sp=$!
	BG_PIDS="$BG_PIDS $sp"
	progress() { poll_until 15 eval 'tr "\r" "\n" <$T/tty.raw | grep -Eq "^'"$1"', [0-9.]+m?s *$"' || fail "no progress '$1': $(od -c "$T/tty.raw" | head)"; }
	progress "0/3, 0 failed"
	touch "$T/gp1"
	progress "1/3, 0 failed"
	touch "$T/gp2"
	progress "2/3, 1 failed"
	touch "$T/gp3"
	wait "$sp"
	expect_eq "$?" 1 "wait on a terminal, exit status"
	expect_eq "$(cat "$T/tty.out")" "$(printf 'done: %s %s %s\npending:\nfailed: %s' "$p1" "$p2" "$p3" "$p2")" "wait on a terminal, stdout"
	tr '\r' '\n' <"$T/tty.raw" | sed 's/ *$//' | grep -v '^$' >"$T/tty.lines"
	tail -1 "$T/tty.lines" | grep -Eq '^3/3, 1 failed, [0-9.]+m?s$' || fail "last progress: $(cat "$T/tty.lines")"
	! grep -q '^done ' "$T/tty.lines" || fail "'done ID' lines on a terminal: $(cat "$T/tty.lines")"
	grep -q $'\r' "$T/tty.raw" || fail "the progress line is not rewritten with \\r"
else
	note "no script(1): the terminal progress line is not tested"
fi

stop_daemon
note "wait progress: ok"
