#!/usr/bin/env bash
# Idempotency keys, asyncio.ensure_future made durable (issue #3): submitting
# the same key and spec returns the same task, also once it has finished
# (nothing runs twice); the same key with another spec is refused with 5
# KeyConflict naming the existing task; futurectl submit --key behaves the
# same (the id again, exit 4 on a conflict); keys survive a kill -9 restart,
# so a client that retries its submit after the crash gets the task it
# created before, whether that task was pending or already finished.
. "$(dirname "$0")/harness.sh"

start_daemon --jobs 2

# ---- same key, same spec: the same task
p='{"kind":"exec","shell":"echo run >> '"$T"'/k1.runs; echo one","key":"k1"}'
a=$(submit "$p")
b=$(submit "$p")
expect_eq "$b" "$a" "resubmitting key k1"
wait_done "$a"
c=$(submit "$p")
expect_eq "$c" "$a" "resubmitting key k1 once its task finished"
expect_eq "$(state "$a")" succeeded "state of k1's task"
expect_eq "$(wc -l <"$T/k1.runs")" 1 "times k1's task ran"
expect_jq "$(rpc task.get "{\"id\":$a}")" '.key == "k1"' "task.get shows the key"

# ---- same key, another spec: KeyConflict with the existing task
r=$(call task.submit '{"kind":"exec","shell":"echo two","key":"k1"}')
expect_jq "$r" ".error.code == 5 and .error.message == \"KeyConflict\" and .error.data.key == \"k1\" and .error.data.id == $a" "another spec under key k1"
# a key is not a spec: another key with the same spec is another task
d=$(submit '{"kind":"exec","shell":"echo run >> '"$T"'/k1.runs; echo one","key":"k1b"}')
[ "$d" != "$a" ] || fail "key k1b returned k1's task $a"

# ---- futurectl submit --key
s1=$(ctl submit --key ctl-k --sleep 0 --result '"r"') || fail "futurectl submit --key"
s2=$(ctl submit --key ctl-k --sleep 0 --result '"r"') || fail "futurectl submit --key again"
expect_eq "$s2" "$s1" "futurectl submit --key twice"
out=$(ctl submit --key ctl-k --sleep 1 2>"$T/conflict.err")
rc=$?
expect_eq "$rc" 4 "futurectl exit status on KeyConflict"
expect_eq "$out" "" "stdout on KeyConflict"
grep -q "KeyConflict" "$T/conflict.err" || fail "KeyConflict not reported: $(cat "$T/conflict.err")"
expect_jq "$(ctl --json submit --key ctl-k --sleep 0 --result '"r"')" ".id == $s1" "futurectl --json submit --key"

# ---- keys survive kill -9: pending (delayed) and finished tasks
pp='{"kind":"sleep","seconds":0,"delay":300,"result":"late","key":"crash-pending"}'
pend=$(submit "$pp")
fin=$(submit '{"kind":"exec","shell":"echo run >> '"$T"'/fin.runs","key":"crash-done"}')
wait_done "$fin"
expect_eq "$(state "$pend")" pending "delayed task before the crash"
kill9_daemon
start_daemon --jobs 2

# the client did not hear back and retries the same submit
again=$(submit "$pp")
expect_eq "$again" "$pend" "retried submit of a pending keyed task after kill -9"
fin2=$(submit '{"kind":"exec","shell":"echo run >> '"$T"'/fin.runs","key":"crash-done"}')
expect_eq "$fin2" "$fin" "retried submit of a finished keyed task after kill -9"
expect_eq "$(wc -l <"$T/fin.runs")" 1 "times the finished keyed task ran"
expect_jq "$(call task.submit '{"kind":"sleep","seconds":9,"key":"crash-pending"}')" \
    ".error.code == 5 and .error.data.id == $pend" "KeyConflict after kill -9"
expect_eq "$(ctl submit --key ctl-k --sleep 0 --result '"r"')" "$s1" "futurectl submit --key after kill -9"
expect_eq "$(state "$pend")" pending "the delayed keyed task after kill -9"
n=$(rpc task.list '{"limit":1000}' | jq '[.tasks[] | select(.key == "crash-pending")] | length')
expect_eq "$n" 1 "tasks with key crash-pending"

# ---- one key twice in one request (one loop turn), and another key with
# two specs: the second of each waits for the first and finds its task
# (with a store that answers later, both would find none and insert two)
body='[{"jsonrpc":"2.0","id":1,"method":"task.submit","params":{"kind":"sleep","seconds":0,"key":"twin"}},
 {"jsonrpc":"2.0","id":2,"method":"task.submit","params":{"kind":"sleep","seconds":0,"key":"twin"}},
 {"jsonrpc":"2.0","id":3,"method":"task.submit","params":{"kind":"sleep","seconds":0,"key":"rival"}},
 {"jsonrpc":"2.0","id":4,"method":"task.submit","params":{"kind":"sleep","seconds":1,"key":"rival"}},
 {"jsonrpc":"2.0","id":5,"method":"task.submit","params":{"kind":"sleep","seconds":0,"key":"twin"}}]'
r=$(post "$body")
expect_jq "$r" 'length == 5 and all(.[0:4][]; .id != null)' "the batch of twins"
expect_jq "$r" '(map(select(.id == 1 or .id == 2 or .id == 5) | .result.id) | unique | length) == 1 and .[0].result.id != null' "three submissions of key twin: one task"
expect_jq "$r" '(.[] | select(.id == 4) | .error.code) == 5 and (.[] | select(.id == 4) | .error.data.id) == (.[] | select(.id == 3) | .result.id)' "key rival with another spec: KeyConflict naming the first"
n=$(rpc task.list '{"limit":1000}' | jq '[.tasks[] | select(.key == "twin")] | length')
expect_eq "$n" 1 "tasks with key twin"

stop_daemon
note "keys: ok"
