#!/usr/bin/env bash
# Timeouts and cancellation (issue #2): a timed-out process tree fails with
# TimeoutError and leaves no process behind; a tree that ignores SIGTERM is
# SIGKILLed after --kill-grace (not before); cancelling a pending task makes it
# cancelled at once and it never runs; cancelling a running tree (also one
# ignoring SIGTERM) ends every process; cancelling a finished task answers
# {cancelled: false}; result/exception of a cancelled task -> TaskCancelled;
# waiters on a task are answered when it is cancelled.  (Issue #11: how long
# a task ran is the daemon's started_at to finished_at, or to the last mark
# the task wrote, not a clock in the shell; upper bounds are scaled by
# FUTURED_TIME_SCALE.)
. "$(dirname "$0")/harness.sh"
start_daemon --jobs 2 --kill-grace 2

# strays PATTERN: processes whose command line holds PATTERN
strays() { pgrep -f "$1"; }
no_strays() { poll_until "${2:-5}" eval '! strays "'"$1"'" >/dev/null' || fail "$3: left behind: $(pgrep -af "$1")"; }
epoch() { date -d "$1" +%s.%N; }
# ran ID -> seconds from the task's started_at to its finished_at
ran() {
	local t
	t=$(rpc task.get "{\"id\":$1}")
	echo "$(epoch "$(jq -r .finished_at <<<"$t")") - $(epoch "$(jq -r .started_at <<<"$t")")" | bc
}

# ---- timeout of a process tree
long="sleep 300.$UNIQ"
tid=$(submit "{\"kind\":\"exec\",\"shell\":\"$long & $long; wait\",\"timeout\":0.5}")
e=$(CURL_MAX=30 rpc task.exception "{\"id\":$tid,\"timeout\":15}")
expect_jq "$e" '.type == "TimeoutError" and (.message | type) == "string"' "timeout of a process tree"
dt=$(ran "$tid")
bc_true "$dt >= 0.45 && $dt < $(scaled 4)" || fail "TimeoutError after ${dt}s for timeout 0.5 (kill-grace 2)"
expect_eq "$(state "$tid")" failed "timed-out task state"
no_strays "$long" 5 "timeout"

# ---- a tree ignoring SIGTERM is killed after --kill-grace, not before: it
# still writes its marks a second after the SIGTERM (timeout 0.5), and none
# after the SIGKILL (timeout 0.5 + kill-grace 2)
mark=$T/alive.log
stub="sleep 301.$UNIQ"
tid=$(submit "{\"kind\":\"exec\",\"shell\":\"trap '' TERM; $stub & while :; do date +%s.%N >> $mark; sleep 0.1; done\",\"timeout\":0.5}")
e=$(CURL_MAX=30 rpc task.exception "{\"id\":$tid,\"timeout\":15}")
expect_jq "$e" '.type == "TimeoutError"' "timeout of a SIGTERM-ignoring tree"
no_strays "$stub" 5 "SIGKILL after kill-grace"
life=$(echo "$(tail -n 1 "$mark") - $(epoch "$(rpc task.get "{\"id\":$tid}" | jq -r .started_at)")" | bc)
bc_true "$life >= 1.5 && $life < $(scaled 5)" || fail "SIGTERM-ignoring tree lived ${life}s (timeout 0.5 + kill-grace 2 = 2.5)"

# ---- timeout of a sleep task
sid=$(submit '{"kind":"sleep","seconds":30,"timeout":0.3}')
expect_jq "$(CURL_MAX=20 rpc task.exception "{\"id\":$sid,\"timeout\":10}")" '.type == "TimeoutError"' "timeout of a sleep task"

# ---- cancel a pending task: cancelled at once, never runs
gate=$T/gate
b1=$(submit "{\"kind\":\"exec\",\"shell\":\"while [ ! -e $gate ]; do sleep 0.05; done\"}")
b2=$(submit "{\"kind\":\"exec\",\"shell\":\"while [ ! -e $gate ]; do sleep 0.05; done\"}")
wait_state "$b1" running
wait_state "$b2" running
p=$(submit "{\"kind\":\"exec\",\"argv\":[\"touch\",\"$T/ran\"]}")
q=$(submit '{"kind":"exec","argv":["true"]}')
expect_eq "$(state "$p")" pending "task behind full --jobs"
expect_jq "$(call task.cancel "{\"id\":$p}")" '.result == {"cancelled": true}' "cancel pending"
expect_jq "$(rpc task.get "{\"id\":$p}")" '.state == "cancelled" and (.finished_at | type) == "string"' "cancelled at once"
expect_jq "$(call task.result "{\"id\":$p}")" ".error.code == 2 and .error.data.id == $p" "result of a cancelled task"
expect_jq "$(call task.exception "{\"id\":$p}")" ".error.code == 2 and .error.data.id == $p" "exception of a cancelled task"
touch "$gate"
wait_done "$q"
[ ! -e "$T/ran" ] || fail "a cancelled pending task ran"
expect_eq "$(state "$p")" cancelled "cancelled task stays cancelled"

# ---- cancel a delayed task
dl=$(submit '{"kind":"exec","argv":["true"],"delay":30}')
expect_jq "$(call task.cancel "{\"id\":$dl}")" '.result == {"cancelled": true}' "cancel delayed"
expect_eq "$(state "$dl")" cancelled "delayed task cancelled"

# ---- cancel a task waiting to retry
rb=$(submit '{"kind":"exec","argv":["false"],"retries":3,"retry_backoff":30}')
poll_until 10 eval '[ "$(rpc task.get "{\"id\":'"$rb"'}" | jq -r "(.attempt | tostring) + .state")" = 1pending ]' ||
    fail "task $rb not pending for a retry after its first failure: $(rpc task.get "{\"id\":$rb}")"
expect_jq "$(call task.cancel "{\"id\":$rb}")" '.result == {"cancelled": true}' "cancel during retry backoff"
expect_jq "$(rpc task.get "{\"id\":$rb}")" '.state == "cancelled" and .attempt == 1' "cancelled during backoff"

# ---- cancel a running process tree
tree="sleep 302.$UNIQ"
r=$(submit "{\"kind\":\"exec\",\"shell\":\"$tree & $tree; wait\"}")
wait_state "$r" running
poll_until 5 eval '[ "$(pgrep -f "^'"$tree"'" | wc -l)" = 2 ]' || fail "the tree did not start: $(pgrep -af "$tree")"
x=$(timed_call task.cancel "{\"id\":$r}")
expect_jq "${x#* }" '.result == {"cancelled": true}' "cancel running"
expect_eq "$(state "$r")" cancelled "running task cancelled"
bc_true "${x%% *} < $(scaled 3)" || fail "cancel of a running task took ${x%% *}s"
no_strays "$tree" 5 "cancel of a running tree"
expect_jq "$(call task.result "{\"id\":$r}")" ".error.code == 2 and .error.data.id == $r" "result after cancel"

# ---- cancel a running tree that ignores SIGTERM: gone after kill-grace
stub2="sleep 303.$UNIQ"
r2=$(submit "{\"kind\":\"exec\",\"shell\":\"trap '' TERM; $stub2 & wait; wait\"}")
wait_state "$r2" running
poll_until 5 eval 'pgrep -f "^'"$stub2"'" >/dev/null' || fail "the stubborn tree did not start"
expect_jq "$(call task.cancel "{\"id\":$r2}")" '.result == {"cancelled": true}' "cancel SIGTERM-ignoring task"
no_strays "$stub2" 7 "cancel of a SIGTERM-ignoring tree"
expect_eq "$(state "$r2")" cancelled "stubborn task cancelled"

# ---- waiters are answered when the task is cancelled
lw=$(submit '{"kind":"sleep","seconds":600}')
w0=$(rpc daemon.info | jq .waiters)
curl -s --max-time 30 --unix-socket "$SOCK" -H 'Expect:' -o "$T/w1" \
    --data-binary "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"task.wait\",\"params\":{\"ids\":[$lw],\"timeout\":25}}" http://localhost/rpc &
W1=$!
curl -s --max-time 30 --unix-socket "$SOCK" -H 'Expect:' -o "$T/w2" \
    --data-binary "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"task.result\",\"params\":{\"id\":$lw,\"timeout\":25}}" http://localhost/rpc &
W2=$!
BG_PIDS="$W1 $W2"
# the two long-polls parked in the daemon (a wait arriving after the cancel
# would get the same answer at once: it would not test the waking)
poll_until 10 eval '[ "$(rpc daemon.info | jq .waiters)" -ge $((w0 + 2)) ]' ||
    fail "the two long-polls on task $lw are not parked"
t0=$(now)
expect_jq "$(call task.cancel "{\"id\":$lw}")" '.result == {"cancelled": true}' "cancel a sleep task with waiters"
wait "$W1"
wait "$W2"
BG_PIDS=""
bc_true "$(since "$t0") < $(scaled 3)" || fail "waiters answered $(since "$t0")s after the cancel"
expect_jq "$(cat "$T/w1")" ".result.done == [$lw] and .result.pending == []" "task.wait answered by the cancel"
expect_jq "$(cat "$T/w2")" ".error.code == 2 and .error.data.id == $lw" "task.result answered TaskCancelled by the cancel"

# ---- cancel a finished task
fin=$(submit '{"kind":"exec","argv":["echo","done"]}')
wait_done "$fin"
expect_jq "$(call task.cancel "{\"id\":$fin}")" '.result == {"cancelled": false}' "cancel finished"
expect_jq "$(rpc task.get "{\"id\":$fin}")" '.state == "succeeded" and .result.stdout == "done\n"' "finished task untouched by cancel"
expect_jq "$(call task.cancel "{\"id\":$tid}")" '.result == {"cancelled": false}' "cancel a failed task"
expect_eq "$(state "$tid")" failed "failed task untouched by cancel"

alive "$DPID" || fail "futured died"
stop_daemon
expect_eq "$DAEMON_RC" 0 "exit status after SIGTERM"
note "ok: timeouts and cancellation"
