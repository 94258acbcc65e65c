#!/usr/bin/env bash
# Output while a task runs (issue #3): task.output on a running task (held
# between lines by gate files) returns what is there (offset `next`
# advances, eof false), at once without a timeout; a call with a timeout at
# the end parks in the daemon and answers with the next line (long-poll); after
# the task finished the whole output is there with eof true; stderr is read
# the same way; futurectl logs ID prints what is there and exits (also while
# the task runs), logs --stderr the error output, and logs -f writes the
# lines as they come and exits 0 once the task has ended.  (Issue #11: the
# long-poll's timeout and the bound that tells it from its deadline are
# both scaled by FUTURED_TIME_SCALE.)
. "$(dirname "$0")/harness.sh"

out() { rpc task.output "$1"; }
# data_is JSON TEXT WHAT: the answer's data is TEXT and a newline, eof true
data_is() {
	jq -e --arg w "$2" '.data == ($w + "\n") and .eof == true and .next == (.data | length)' <<<"$1" >/dev/null ||
	    fail "$3: want $2 and eof on: $1"
}

start_daemon --jobs 4
# gate NAME: shell code that waits until the test creates $T/NAME
gate() { echo "while [ ! -e $T/$1 ]; do sleep 0.02; done"; }
# watches: the daemon's count of parked waits
watches() { rpc daemon.info | jq .waiters; }

# line1, then (gate g1) line2, then (gate g2) line3 .. line6 every 0.1 s
prog="echo line1; echo err1 >&2; $(gate g1); echo line2; echo err2 >&2; $(gate g2); for i in 3 4 5 6; do sleep 0.1; echo line\$i; echo err\$i >&2; done"
want=$(printf 'line%s\n' 1 2 3 4 5 6)
wante=$(printf 'err%s\n' 1 2 3 4 5 6)
a=$(submit "$(jq -cn --arg s "$prog" '{kind: "exec", shell: $s}')")

# ---- futurectl logs -f from the start, in the background
timeout "$(scaled 30)" "$FUTURECTL" --socket "$SOCK" logs -f "$a" >"$T/follow.out" 2>"$T/follow.err" &
lf=$!
BG_PIDS="$BG_PIDS $lf"
timeout "$(scaled 30)" "$FUTURECTL" --socket "$SOCK" logs --follow --stderr "$a" >"$T/followe.out" 2>&1 &
lfe=$!
BG_PIDS="$BG_PIDS $lfe"

# ---- while running (held at gate g1)
poll_until 10 eval '[ "$(out "{\"id\":$a}" | jq -r .data)" != "" ]' || fail "no output from the running task"
r=$(out "{\"id\":$a}")
expect_jq "$r" '.data == "line1\n" and .eof == false and .next == 6' "task.output while running"
expect_jq "$(out "{\"id\":$a,\"stream\":\"stderr\"}")" '.data == "err1\n" and .eof == false' "task.output stderr while running"
expect_eq "$(state "$a")" running "the task while its output is read"
# logs -f prints the first line while the task runs
poll_until 10 eval 'grep -q "^line1$" $T/follow.out' || fail "logs -f printed nothing while the task ran"
alive "$lf" || fail "logs -f ended while the task runs"
# futurectl logs (no -f) prints what is there and exits, the task still running
expect_eq "$(ctl logs "$a")" line1 "futurectl logs while running"
expect_eq "$(ctl logs --stderr "$a")" err1 "futurectl logs --stderr while running"
# without a timeout the answer is immediate, even with nothing new
expect_jq "$(CURL_MAX=10 out "{\"id\":$a,\"offset\":6}")" '.data == "" and .next == 6 and .eof == false' "task.output at the end without a timeout"
# with a timeout: the call waits (parked in the daemon) until the next line
w0=$(watches)
CURL_MAX=30 out "{\"id\":$a,\"offset\":6,\"timeout\":$(scaled 20)}" >"$T/lp.out" &
lp=$!
BG_PIDS="$BG_PIDS $lp"
poll_until 10 eval '[ "$(watches)" -gt '"$w0"' ]' || fail "task.output with a timeout did not wait"
alive "$lp" || fail "the long-poll answered with nothing new: $(cat "$T/lp.out")"
t0=$(now)
touch "$T/g1"
wait "$lp"
expect_jq "$(cat "$T/lp.out")" '.data == "line2\n" and .next == 12 and .eof == false' "long-poll at offset 6"
bc_true "$(since "$t0") < $(scaled 15)" || fail "the long-poll answered only at its deadline"
expect_eq "$(state "$a")" running "the task at gate g2"
touch "$T/g2"

# ---- after the end
wait_done "$a"
r=$(out "{\"id\":$a}")
data_is "$r" "$want" "task.output after the end"
expect_jq "$(out "{\"id\":$a,\"offset\":$(jq .next <<<"$r"),\"timeout\":10}")" '.data == "" and .eof == true' "task.output at the end of a finished task (no wait)"
expect_jq "$(out "{\"id\":$a,\"offset\":3,\"limit\":4}")" '.data == "e1\nl" and .next == 7 and .eof == false' "task.output offset 3 limit 4"
data_is "$(out "{\"id\":$a,\"stream\":\"stderr\"}")" "$wante" "task.output stderr"
expect_jq "$(call task.output "{\"id\":$a,\"stream\":\"stdin\"}")" '.error.code == -32602 and .error.data.field == "stream"' "task.output stream stdin"
expect_jq "$(call task.output '{"id":987654321}')" '.error.code == 4' "task.output of an unknown task"

# ---- futurectl logs after the end; logs -f finished by itself
wait "$lf"
expect_eq "$?" 0 "exit status of logs -f"
expect_eq "$(cat "$T/follow.out")" "$want" "what logs -f wrote"
[ ! -s "$T/follow.err" ] || fail "logs -f stderr: $(cat "$T/follow.err")"
wait "$lfe"
expect_eq "$?" 0 "exit status of logs -f --stderr"
expect_eq "$(cat "$T/followe.out")" "$wante" "what logs -f --stderr wrote"
expect_eq "$(ctl logs "$a")" "$want" "futurectl logs after the end"
expect_eq "$(ctl logs --stderr "$a")" "$wante" "futurectl logs --stderr after the end"
expect_eq "$(ctl logs -f "$a")" "$want" "futurectl logs -f of a finished task"
expect_jq "$(ctl --json logs "$a" | jq -s -c .)" '.[0].eof == true and (.[0].data | startswith("line1"))' "futurectl logs --json"

# raw bytes: no JSON quoting, no added newline; a failed task's output too
b=$(submit "$(jq -cn '{kind: "exec", shell: "printf \"tab\\there \\\"q\\\" \\\\\\\\ no newline\"; exit 4"}')")
wait_done "$b"
ctl logs "$b" >"$T/raw.out" || fail "futurectl logs of a failed task"
printf 'tab\there "q" \\ no newline' >"$T/raw.want"
cmp -s "$T/raw.out" "$T/raw.want" || fail "logs wrote $(od -c "$T/raw.out" | head -3)"
# more than one page (64 KiB) without -f
big=$(submit '{"kind":"exec","shell":"seq 1 30000"}')
wait_done "$big"
ctl logs "$big" >"$T/big.out" || fail "futurectl logs of a big output"
seq 1 30000 | cmp -s - "$T/big.out" || fail "futurectl logs of a big output: $(wc -c <"$T/big.out") bytes"
ctl logs 987654321 >/dev/null 2>&1
expect_eq "$?" 4 "futurectl logs of an unknown task"

stop_daemon
note "output: ok"
