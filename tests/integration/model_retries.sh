#!/usr/bin/env bash
# Retries (issue #3): `retries: 2` on a task that always fails runs it three
# times and ends failed with attempt 3, an `attempts` array of three failed
# outcomes in task.get (numbered 1..3, each with its exception) and the last
# attempt's exception as the task's; a task that fails once then succeeds
# (marker file) ends succeeded with attempt 2 and attempts [failed,
# succeeded]; retry_backoff spaces the attempts; a task running when futured
# is killed with kill -9 and that has retries left is retried after the
# restart and succeeds (without retries it fails with DaemonRestarted).
. "$(dirname "$0")/harness.sh"

epoch() { date -d "$1" +%s.%N; }

start_daemon --jobs 4

# ---- always failing, retries 2
f=$(submit "{\"kind\":\"exec\",\"shell\":\"n=\$(wc -l < $T/f.runs 2>/dev/null || echo 0); echo run >> $T/f.runs; echo attempt \$((n + 1)) >&2; exit \$((n + 3))\",\"retries\":2,\"retry_backoff\":0.1}")
wait_done "$f"
t=$(rpc task.get "{\"id\":$f}")
expect_jq "$t" '.state == "failed" and .attempt == 3 and .max_retries == 2' "always failing task with retries 2"
expect_jq "$t" '.attempts | length == 3' "attempts of the always failing task"
expect_jq "$t" '[.attempts[] | .attempt] == [1,2,3] and all(.attempts[]; .outcome == "failed" and .exception.type == "ProcessError")' "outcomes of the three attempts"
expect_jq "$t" '[.attempts[] | .exception.exit_code] == [3,4,5]' "exit codes of the three attempts"
expect_jq "$t" '.exception.exit_code == 5 and .exception.message == .attempts[2].exception.message and (.exception.stderr | test("attempt 3"))' "the task's exception is the last attempt's"
expect_jq "$t" 'all(.attempts[]; .started_at <= .finished_at) and .attempts[0].finished_at <= .attempts[1].started_at and .attempts[1].finished_at <= .attempts[2].started_at' "attempt timestamps"
expect_eq "$(wc -l <"$T/f.runs")" 3 "times the always failing task ran"
# backoff 0.1 s, doubling, +-25% jitter: at least 0.075 s before attempt 2
gap=$(echo "$(epoch "$(jq -r .attempts[1].started_at <<<"$t")") - $(epoch "$(jq -r .attempts[0].finished_at <<<"$t")")" | bc -l)
bc_true "$gap >= 0.07" || fail "attempt 2 started $gap s after attempt 1, backoff 0.1"
expect_jq "$(call task.result "{\"id\":$f}")" '.error.code == 1 and .error.data.exception.exit_code == 5' "task.result of the failed task"
ctl get "$f" | grep -Eq '^attempt: +3 of 3$' || fail "futurectl get: $(ctl get "$f")"

# ---- fails once, then succeeds
o=$(submit "{\"kind\":\"exec\",\"shell\":\"if [ -e $T/o.flag ]; then echo second; else touch $T/o.flag; echo first >&2; exit 1; fi\",\"retries\":2,\"retry_backoff\":0.1}")
wait_done "$o"
t=$(rpc task.get "{\"id\":$o}")
expect_jq "$t" '.state == "succeeded" and .attempt == 2 and .result.stdout == "second\n" and (has("exception") | not)' "task failing once, then succeeding"
expect_jq "$t" '[.attempts[] | [.attempt, .outcome]] == [[1,"failed"],[2,"succeeded"]]' "its attempts"
expect_jq "$t" '.attempts[0].exception.exit_code == 1' "its first attempt's exception"
# a failing task without retries: one attempt
n=$(submit '{"kind":"exec","shell":"exit 2"}')
wait_done "$n"
expect_jq "$(rpc task.get "{\"id\":$n}")" '.state == "failed" and .attempt == 1 and (.attempts | length) == 1' "failing task without retries"

# ---- kill -9 while running: retried after the restart (retries 1), or DaemonRestarted (none)
k=$(submit "{\"kind\":\"exec\",\"shell\":\"if [ -e $T/k.flag ]; then echo after-restart; else touch $T/k.flag; echo \$\$ > $T/k.pid; exec sleep 307.$UNIQ; fi\",\"retries\":1,\"retry_backoff\":0.1}")
z=$(submit "{\"kind\":\"exec\",\"shell\":\"echo \$\$ > $T/z.pid; exec sleep 308.$UNIQ\"}")
poll_until 10 eval '[ -s $T/k.pid ] && [ -s $T/z.pid ]' || fail "tasks did not start"
wait_state "$k" running
kill9_daemon
# the crashed daemon's children are orphans now: end them (by pid)
kill -9 "$(cat "$T/k.pid")" "$(cat "$T/z.pid")" 2>/dev/null
start_daemon --jobs 4
wait_done "$k"
t=$(rpc task.get "{\"id\":$k}")
expect_jq "$t" '.state == "succeeded" and .attempt == 2 and .result.stdout == "after-restart\n"' "task running at kill -9 with retries 1"
expect_jq "$t" '.attempts | length == 2 and .[0].outcome == "failed" and .[0].exception.type == "DaemonRestarted" and .[1].outcome == "succeeded"' "its attempts"
wait_done "$z"
expect_jq "$(rpc task.get "{\"id\":$z}")" '.state == "failed" and .exception.type == "DaemonRestarted" and .attempt == 1' "task running at kill -9 without retries"

# ---- futurectl submit --retries
c=$(ctl submit --retries 1 --retry-backoff 0 --shell "echo x >> $T/c.runs; exit 1") || fail "futurectl submit --retries"
wait_done "$c"
expect_jq "$(rpc task.get "{\"id\":$c}")" '.attempt == 2 and .max_retries == 1' "futurectl submit --retries 1"
expect_eq "$(wc -l <"$T/c.runs")" 2 "times the futurectl task ran"

stop_daemon
note "retries: ok"
