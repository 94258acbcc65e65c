#!/usr/bin/env bash
# Streams, async generators (issue #3): a generator yielding 10,000 items on
# fd 3 is read by two concurrent `futurectl follow` processes, each printing
# every item exactly once and in order (compared with seq 0 9999) and exiting
# 0; a line that is not JSON becomes a YieldDecodeError item (follow prints
# it on stderr as "futurectl: item N: YieldDecodeError: ...") and the items
# after it still arrive; task.stream with a timeout waits for the next item
# (long-poll: parked in the daemon until a gated generator yields; a
# generator sleeping 1 s before an item) and for the end;
# follow --from and --json; follow exits 1 for a failed and 6 for a
# cancelled task, and 4 for an unknown one.  (Issue #11: the long-polls'
# timeouts and the bounds that tell them from their deadlines are both
# scaled by FUTURED_TIME_SCALE.)
. "$(dirname "$0")/harness.sh"

start_daemon --jobs 4

# ---- 10,000 items, two readers
gen='i=0; while [ $i -lt 10000 ]; do echo $i >&3; i=$((i + 1)); [ $((i % 1000)) -eq 0 ] && sleep 0.05; done; echo finished'
g=$(submit "$(jq -cn --arg s "$gen" '{kind: "exec", shell: $s}')")
for r in 1 2; do
	timeout "$(scaled 60)" "$FUTURECTL" --socket "$SOCK" follow "$g" >"$T/follow$r.out" 2>"$T/follow$r.err" &
	BG_PIDS="$BG_PIDS $!"
	eval "f$r=$!"
done
seq 0 9999 >"$T/want"
for r in 1 2; do
	eval "wait \$f$r"
	rc=$?
	expect_eq "$rc" 0 "exit status of follow reader $r"
	cmp -s "$T/want" "$T/follow$r.out" || fail "reader $r: $(wc -l <"$T/follow$r.out") lines, first difference: $(cmp "$T/want" "$T/follow$r.out" 2>&1)"
	[ ! -s "$T/follow$r.err" ] || fail "reader $r stderr: $(head -3 "$T/follow$r.err")"
done
expect_jq "$(rpc task.get "{\"id\":$g}")" '.state == "succeeded" and .result.stdout == "finished\n"' "the generator"
expect_jq "$(rpc task.stream "{\"id\":$g,\"from\":0}")" '(.items | length) == 1000 and .items[0] == {seq: 0, value: 0} and .next == 1000 and .done == false' "first page of the finished stream"
expect_jq "$(rpc task.stream "{\"id\":$g,\"from\":9999}")" '.items == [{seq: 9999, value: 9999}] and .next == 10000 and .done == true' "last page of the finished stream"
expect_jq "$(rpc task.stream "{\"id\":$g,\"from\":10000,\"timeout\":5}")" '.items == [] and .done == true' "past the end of a finished stream"

# ---- an invalid line: an error item, the rest still arrive
b=$(submit "$(jq -cn '{kind: "exec", shell: "echo 1 >&3; echo not json >&3; echo \"{\\\"a\\\": [2]}\" >&3; echo \\\"three\\\" >&3"}')")
wait_done "$b"
s=$(rpc task.stream "{\"id\":$b}")
expect_jq "$s" '.items | length == 4' "items of the generator with a bad line"
expect_jq "$s" '.items[0] == {seq: 0, value: 1} and .items[2] == {seq: 2, value: {a: [2]}} and .items[3] == {seq: 3, value: "three"}' "the good items"
expect_jq "$s" '.items[1].seq == 1 and .items[1].error.type == "YieldDecodeError" and .items[1].error.line == "not json" and (.items[1].error.message | length > 0) and (.items[1] | has("value") | not)' "the error item"
ctl follow "$b" >"$T/bad.out" 2>"$T/bad.err"
expect_eq "$?" 0 "follow exit status with an error item"
expect_eq "$(cat "$T/bad.out")" "$(printf '1\n{"a":[2]}\n"three"')" "follow stdout with an error item"
grep -Eq '^futurectl: item 1: YieldDecodeError: .+' "$T/bad.err" || fail "follow stderr: $(cat "$T/bad.err")"
expect_eq "$(wc -l <"$T/bad.err")" 1 "lines on follow's stderr"
# --json: the raw items, the error one included, on stdout
ctl --json follow "$b" >"$T/bad.json" 2>"$T/bad.json.err" || fail "follow --json"
expect_jq "$(jq -s -c . "$T/bad.json")" '(. | length) == 4 and .[1].error.type == "YieldDecodeError" and .[3] == {seq: 3, value: "three"}' "follow --json"
[ ! -s "$T/bad.json.err" ] || fail "follow --json stderr: $(cat "$T/bad.json.err")"
# --from
expect_eq "$(ctl follow --from 2 "$b")" "$(printf '{"a":[2]}\n"three"')" "follow --from 2"

# ---- long-poll: task.stream with a timeout waits for the next item
# the generator yields 0, then 1 and 2 each after a gate file, sleeping 1 s
# before item 2
gate() { echo "while [ ! -e $T/$1 ]; do sleep 0.02; done"; }
watches() { rpc daemon.info | jq .waiters; }
l=$(submit "$(jq -cn --arg s "echo 0 >&3; $(gate l1); echo 1 >&3; $(gate l2); sleep 1; echo 2 >&3" '{kind: "exec", shell: $s}')")
poll_until 10 eval '[ "$(rpc task.stream "{\"id\":$l}" | jq ".items | length")" -ge 1 ]' || fail "no first item"
# without a timeout the answer is immediate
expect_jq "$(CURL_MAX=10 rpc task.stream "{\"id\":$l,\"from\":1}")" '.items == [] and .next == 1 and .done == false' "task.stream without a timeout, nothing new"
w0=$(watches)
CURL_MAX=30 rpc task.stream "{\"id\":$l,\"from\":1,\"timeout\":$(scaled 20)}" >"$T/lp.out" &
lp=$!
BG_PIDS="$BG_PIDS $lp"
poll_until 10 eval '[ "$(watches)" -gt '"$w0"' ]' || fail "task.stream with a timeout did not wait"
alive "$lp" || fail "the long-poll answered with nothing new: $(cat "$T/lp.out")"
t0=$(now)
touch "$T/l1"
wait "$lp"
expect_jq "$(cat "$T/lp.out")" '.items == [{seq: 1, value: 1}] and .next == 2 and .done == false' "long-poll for item 1"
bc_true "$(since "$t0") < $(scaled 15)" || fail "the long-poll answered only at its deadline"
# the generator sleeps 1 s before item 2: the call waits for it
touch "$T/l2"
t0=$(now)
s=$(CURL_MAX=30 rpc task.stream "{\"id\":$l,\"from\":2,\"timeout\":$(scaled 20)}")
el=$(since "$t0")
expect_jq "$s" '.items == [{seq: 2, value: 2}]' "long-poll for item 2"
bc_true "$el < $(scaled 15)" || fail "the long-poll for item 2 took $el s"
# waiting past the last item ends with done when the task finishes
s=$(CURL_MAX=30 rpc task.stream "{\"id\":$l,\"from\":3,\"timeout\":$(scaled 20)}")
expect_jq "$s" '.items == [] and .next == 3 and .done == true' "long-poll past the last item"
expect_eq "$(state "$l")" succeeded "the slow generator"

# ---- follow's exit status: failed 1, cancelled 6, unknown 4
x=$(submit '{"kind":"exec","shell":"echo 7 >&3; exit 3"}')
ctl follow "$x" >"$T/x.out" 2>/dev/null
expect_eq "$?" 1 "follow of a failing generator"
expect_eq "$(cat "$T/x.out")" 7 "items of the failing generator"
c=$(submit "{\"kind\":\"exec\",\"shell\":\"echo 8 >&3; exec sleep 309.$UNIQ\"}")
timeout "$(scaled 30)" "$FUTURECTL" --socket "$SOCK" follow "$c" >"$T/c.out" 2>"$T/c.err" &
fc=$!
BG_PIDS="$BG_PIDS $fc"
poll_until 10 eval '[ -s $T/c.out ]' || fail "follow printed nothing of a running generator"
expect_eq "$(cat "$T/c.out")" 8 "the item printed while the generator runs"
alive "$fc" || fail "follow ended while the generator runs"
expect_jq "$(rpc task.cancel "{\"id\":$c}")" '.cancelled == true' "cancel the generator"
wait "$fc"
expect_eq "$?" 6 "follow of a cancelled generator"
ctl follow 987654321 >/dev/null 2>&1
expect_eq "$?" 4 "follow of an unknown task"
ctl follow >/dev/null 2>&1
expect_eq "$?" 2 "follow without an id"

stop_daemon
note "streams: ok"
