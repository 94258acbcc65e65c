#!/usr/bin/env bash
# The primes example (issue #3): `futurectl follow $(futurectl submit --cwd
# SRC -- ./examples/primes.sh 100)`, the command examples/README.md shows,
# prints the primes up to 100 in order (2 3 5 7 ... 97), one JSON number a
# line, and exits 0 while a sleep task and an exec task run concurrently
# (both still running when follow ends); the primes arrive while the
# generator runs, not all at its end (a longer run, primes up to 1000, read
# line by line with timestamps); the task's stdout is its summary line.
. "$(dirname "$0")/harness.sh"

ex=$FUTURED_SRC/examples/primes.sh
[ -x "$ex" ] || fail "no executable $ex"
want="2 3 5 7 11 13 17 19 23 29 31 37 41 43 47 53 59 61 67 71 73 79 83 89 97"

start_daemon --jobs 4
export FUTURED_SOCKET=$SOCK

# (both outlive the rest of the test, whatever the load: they are cancelled)
sl=$(ctl submit --sleep 600 --result '"slept"') || fail "submit the sleep task"
bg=$(ctl submit -- sleep 600) || fail "submit the exec task"
wait_state "$bg" running

# the command from examples/README.md, run from the source tree
out=$(cd "$FUTURED_SRC" && timeout "$(scaled 30)" "$FUTURECTL" follow $(timeout "$(scaled 10)" "$FUTURECTL" submit --cwd "$PWD" -- ./examples/primes.sh 100))
expect_eq "$?" 0 "exit status of follow"
expect_eq "$(tr '\n' ' ' <<<"$out")" "$want " "primes up to 100 from follow"
expect_eq "$(state "$sl") $(state "$bg")" "running running" "the other tasks while follow ran"
id=$(rpc task.list '{"limit":1}' | jq '.tasks[0].id')
expect_jq "$(rpc task.get "{\"id\":$id}")" '.state == "succeeded" and .result.stdout == "25 primes up to 100\n" and .spec.argv == ["./examples/primes.sh","100"]' "the primes task"
expect_eq "$(ctl --json follow "$id" | tail -1)" '{"seq":24,"value":97}' "follow --json, last item"

# ---- streamed, not batched: stamp each line as it arrives.  The generator
# starts once follow waits for its first item (a gate the test opens when
# daemon.info counts follow's long-poll), so a follow started late cannot
# read the items as a batch (issue #11)
id=$(ctl submit --cwd "$FUTURED_SRC" --shell "while [ ! -e $T/primes.go ]; do sleep 0.05; done; exec ./examples/primes.sh 1000") ||
    fail "submit primes 1000"
w0=$(rpc daemon.info | jq .waiters)
ctl follow "$id" | while IFS= read -r line; do echo "$(now) $line"; done >"$T/stamped" &
fp=$!
BG_PIDS="$BG_PIDS $fp"
poll_until 10 eval '[ "$(rpc daemon.info | jq .waiters)" -gt '"$w0"' ]' || fail "futurectl follow does not wait for the first item"
touch "$T/primes.go"
wait "$fp"
expect_eq "$(wc -l <"$T/stamped")" 168 "primes up to 1000"
expect_eq "$(tail -1 "$T/stamped" | cut -d' ' -f2)" 997 "the last prime up to 1000"
fin=$(date -d "$(rpc task.get "{\"id\":$id}" | jq -r .finished_at)" +%s.%N)
first=$(head -1 "$T/stamped" | cut -d' ' -f1)
bc_true "$fin - $first > 1" || fail "the first prime arrived $(echo "$fin - $first" | bc) s before the task finished (168 primes, 20 ms each)"

# ---- the script outside futured writes its items to stdout
expect_eq "$("$ex" 20 | tr '\n' ' ')" "2 3 5 7 11 13 17 19 8 primes up to 20 " "primes.sh run directly"
"$ex" x >/dev/null 2>&1
expect_eq "$?" 2 "primes.sh with a bad N"

rpc task.cancel "{\"id\":$bg}" >/dev/null
rpc task.cancel "{\"id\":$sl}" >/dev/null
stop_daemon
note "primes example: ok"
