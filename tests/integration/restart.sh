#!/usr/bin/env bash
# Persistence across restarts (issue #2): finished tasks (results, exceptions,
# cancellations) survive a SIGTERM restart and a kill -9 restart unchanged;
# ids keep growing; the socket file a kill -9 leaves behind does not stop the
# next start; a second daemon on the same state dir is refused; at kill -9 a
# running exec task's processes are ended (issue #11) and it becomes
# failed/DaemonRestarted (or is retried when it has retries left), pending
# tasks run after the restart, a delay keeps its deadline and a sleep in
# progress resumes to its original deadline; SIGTERM while children run (one
# ignoring SIGTERM) ends them, exits 0 within a few seconds (--drain 2 +
# --kill-grace 1), lets a task finish within the drain, answers a long-poll in
# flight, starts nothing new, and records the ended tasks DaemonRestarted.
# (Issue #11: the sleep in progress at the kill -9 sleeps 10 s, scaled by
# FUTURED_TIME_SCALE, so that the restart comes before its deadline; the
# long-poll is seen parked before the SIGTERM; upper bounds are scaled.)
. "$(dirname "$0")/harness.sh"

# epoch RFC3339 -> seconds since the epoch
epoch() { date -d "$1" +%s.%N; }
# (without "retrieved", which task.result below changes on purpose)
get() { rpc task.get "{\"id\":$1}" | jq -S "del(.retrieved)"; }

start_daemon --jobs 1 --kill-grace 1
s1=$(submit '{"kind":"sleep","seconds":0,"result":{"r":[1,"two",null]}}')
e1=$(submit '{"kind":"exec","shell":"echo hello; echo wörld >&2"}')
f1=$(submit '{"kind":"exec","shell":"echo bad >&2; exit 9"}')
c1=$(submit '{"kind":"sleep","seconds":0,"delay":60}')
rpc task.cancel "{\"id\":$c1}" >/dev/null
for id in $s1 $e1 $f1; do wait_done "$id"; done
for id in $s1 $e1 $f1 $c1; do get "$id" >"$T/before.$id"; done
pid1=$DPID

# ---- SIGTERM restart
stop_daemon 10
expect_eq "$DAEMON_RC" 0 "exit status after SIGTERM"
start_daemon --jobs 1 --kill-grace 1
[ "$DPID" != "$pid1" ] || fail "same pid after restart?"
for id in $s1 $e1 $f1 $c1; do
	expect_eq "$(get "$id")" "$(cat "$T/before.$id")" "task $id after a SIGTERM restart"
done
expect_jq "$(rpc task.result "{\"id\":$s1}")" '. == {"r":[1,"two",null]}' "sleep result after restart"
expect_jq "$(rpc task.result "{\"id\":$e1}")" '.stdout == "hello\n" and .stderr == "wörld\n"' "exec result after restart"
expect_jq "$(call task.result "{\"id\":$f1}")" ".error.code == 1 and .error.data.exception.exit_code == 9" "failure after restart"
expect_jq "$(call task.result "{\"id\":$c1}")" ".error.code == 2" "cancellation after restart"
n1=$(submit '{"kind":"sleep","seconds":0}')
[ "$n1" -gt "$c1" ] || fail "id $n1 after restart reuses or goes below $c1"
wait_done "$n1"

# ---- kill -9 restart, stale socket file
kill9_daemon
[ -S "$SOCK" ] || fail "no socket file left by kill -9 (the stale-socket case is not tested)"
start_daemon --jobs 1 --kill-grace 1
for id in $s1 $e1 $f1 $c1; do
	expect_eq "$(get "$id")" "$(cat "$T/before.$id")" "task $id after a kill -9 restart"
done
expect_eq "$(state "$n1")" succeeded "task finished before kill -9"

# ---- a second daemon on the same state dir is refused; the first keeps serving
setsid "$FUTURED" --state-dir "$STATE" --jobs 1 >"$T/second.log" 2>&1 </dev/null &
second=$!
SESSIONS="$SESSIONS $second"
poll_until 5 eval '! alive '"$second" || { kill -9 "$second"; fail "a second futured on $STATE keeps running"; }
wait "$second"
rc=$?
[ "$rc" != 0 ] || fail "a second futured on $STATE exited 0"
[ -s "$T/second.log" ] || fail "the refused second futured said nothing on stderr"
expect_jq "$(call daemon.info)" ".result.pid == $DPID" "the first daemon still owns $SOCK"
stop_daemon 10

# ---- kill -9 with work in flight: running (no retries, with retries), pending, delayed, sleeping
start_daemon --jobs 2 --kill-grace 1
SL=$(scaled 10)
sl=$(submit "{\"kind\":\"sleep\",\"seconds\":$SL,\"result\":\"slept\"}")
o1=$(submit "{\"kind\":\"exec\",\"shell\":\"echo \$\$ > $T/orphan1.pid; exec sleep 304.$UNIQ\"}")
o2=$(submit "{\"kind\":\"exec\",\"shell\":\"if [ -e $T/retry.flag ]; then echo second; else touch $T/retry.flag; echo \$\$ > $T/orphan2.pid; exec sleep 305.$UNIQ; fi\",\"retries\":1,\"retry_backoff\":0.1}")
p1=$(submit "{\"kind\":\"exec\",\"argv\":[\"touch\",\"$T/p1\"]}")
p2=$(submit "{\"kind\":\"exec\",\"argv\":[\"touch\",\"$T/p2\"]}")
dl=$(submit '{"kind":"sleep","seconds":0,"delay":2.5,"result":"late"}')
wait_state "$o1" running
wait_state "$o2" running
wait_state "$sl" running
poll_until 5 eval '[ -s $T/orphan1.pid ] && [ -s $T/orphan2.pid ]' || fail "exec tasks did not start"
expect_eq "$(state "$p1") $(state "$p2")" "pending pending" "tasks behind --jobs 2"
# let the sleep task be well under way, so a restart from scratch would be visible
poll_until 5 eval 'bc_true "$(now) - $(epoch "$(rpc task.get "{\"id\":$sl}" | jq -r .created_at)") > 1.5"' ||
    fail "the sleep task is not 1.5 s under way"
kill9_daemon
orphan1=$(cat "$T/orphan1.pid") orphan2=$(cat "$T/orphan2.pid")
# issue #11: the spawner ends what the killed daemon ran (SIGTERM)
poll_until 5 eval '! alive '"$orphan1"' && ! alive '"$orphan2" ||
    fail "the exec tasks' processes outlived the killed daemon"
start_daemon --jobs 2 --kill-grace 1
# the new daemon runs before the sleep's deadline, or its resuming is not seen
up=$(rpc daemon.info | jq -r .started_at)
sl_end=$(echo "$(epoch "$(rpc task.get "{\"id\":$sl}" | jq -r .created_at)") + $SL" | bc)
bc_true "$(epoch "$up") < $sl_end - 1" || fail "the restart came $(echo "$(epoch "$up") - $sl_end + $SL" | bc) s after the sleep's submit, too close to its end ($SL s): raise FUTURED_TIME_SCALE"
e=$(CURL_MAX=30 rpc task.exception "{\"id\":$o1,\"timeout\":10}")
expect_jq "$e" '.type == "DaemonRestarted" and (.message | type) == "string"' "running exec task at kill -9"
expect_jq "$(rpc task.get "{\"id\":$o1}")" '.state == "failed" and .attempt == 1' "DaemonRestarted task"
r=$(CURL_MAX=30 rpc task.result "{\"id\":$o2,\"timeout\":15}")
expect_jq "$r" '.stdout == "second\n"' "a task with retries left is retried after kill -9"
expect_jq "$(rpc task.get "{\"id\":$o2}")" '.state == "succeeded" and .attempt == 2' "retried task attempt"
for p in $p1 $p2; do wait_done "$p"; expect_eq "$(state "$p")" succeeded "pending task $p after restart"; done
[ -e "$T/p1" ] && [ -e "$T/p2" ] || fail "pending tasks did not run after restart"
expect_jq "$(CURL_MAX=20 rpc task.result "{\"id\":$dl,\"timeout\":10}")" '. == "late"' "delayed task after kill -9"
g=$(rpc task.get "{\"id\":$dl}")
gap=$(echo "$(epoch "$(jq -r .started_at <<<"$g")") - $(epoch "$(jq -r .created_at <<<"$g")")" | bc)
bc_true "$gap >= 2.4" || fail "delayed task started ${gap}s after submit (delay 2.5)"
expect_jq "$(CURL_MAX=30 rpc task.result "{\"id\":$sl,\"timeout\":$(scaled 20)}")" '. == "slept"' "sleep task after kill -9"
g=$(rpc task.get "{\"id\":$sl}")
span=$(echo "$(epoch "$(jq -r .finished_at <<<"$g")") - $(epoch "$(jq -r .created_at <<<"$g")")" | bc)
bc_true "$span >= $SL - 0.1 && $span < $SL + $(scaled 1.2)" || fail "$SL s sleep interrupted by kill -9 (1.5 s in) finished ${span}s after submit (want its original deadline)"
alive "$orphan1" && fail "could not end orphan $orphan1"

# ---- SIGTERM while children run (one ignoring SIGTERM, one finishing within
# the --drain period), a long-poll in flight: ended after --drain 2 plus
# --kill-grace 1 (PROTOCOL.md), exit 0, no child left
stop_daemon 10
start_daemon --jobs 3 --kill-grace 1 --drain 2
r1=$(submit "{\"kind\":\"exec\",\"shell\":\"echo \$\$ > $T/run1.pid; exec sleep 306.$UNIQ\"}")
r2=$(submit "{\"kind\":\"exec\",\"shell\":\"trap '' TERM; echo \$\$ > $T/run2.pid; while :; do sleep 0.1; done\"}")
r3=$(submit "{\"kind\":\"exec\",\"shell\":\"while [ ! -e $T/r3-gate ]; do sleep 0.05; done; echo finished-in-drain\"}")
p3=$(submit "{\"kind\":\"exec\",\"argv\":[\"touch\",\"$T/p3\"]}")
wait_state "$r1" running
wait_state "$r2" running
wait_state "$r3" running
poll_until 5 eval '[ -s $T/run1.pid ] && [ -s $T/run2.pid ]' || fail "children did not start"
run1=$(cat "$T/run1.pid") run2=$(cat "$T/run2.pid")
expect_eq "$(state "$p3")" pending "task behind --jobs 3"
w0=$(rpc daemon.info | jq .waiters)
curl -s --max-time "$(scaled 40)" --unix-socket "$SOCK" -H 'Expect:' -o "$T/lp" -w '%{http_code}' \
    --data-binary "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"task.wait\",\"params\":{\"ids\":[$p3],\"timeout\":30}}" \
    http://localhost/rpc >"$T/lp.code" &
LP=$!
BG_PIDS=$LP
# the long-poll parked in the daemon (one refused at the SIGTERM would not
# test its answer)
poll_until 10 eval '[ "$(rpc daemon.info | jq .waiters)" -gt '"$w0"' ]' || fail "the long-poll on task $p3 is not parked"
t0=$(now)
p=$DPID
DPID=""
kill -TERM "$p"
touch "$T/r3-gate"	# r3 ends within the drain
# once the long-poll is answered the daemon is shutting down: a new call is
# refused or answered ShuttingDown, never served
poll_until 10 eval '! alive '"$LP" || fail "a long-poll in flight was not answered at SIGTERM"
late=$(curl -s --max-time "$(scaled 5)" --unix-socket "$SOCK" -H 'Expect:' \
    --data-binary '{"jsonrpc":"2.0","id":1,"method":"task.submit","params":{"kind":"sleep","seconds":0}}' http://localhost/rpc)
[ -z "$late" ] || expect_jq "$late" '.error.code == 6 and .error.message == "ShuttingDown"' "a call during shutdown"
late=${late:+answered ShuttingDown}
poll_until 8 eval '! alive '"$p" || { kill -9 "$p"; fail "futured still running $(scaled 8) s after SIGTERM (--drain 2, --kill-grace 1)"; }
wait "$p"
rc=$?
dt=$(since "$t0")
expect_eq "$rc" 0 "exit status after SIGTERM with children running"
bc_true "$dt >= 2.5" || fail "futured exited ${dt}s after SIGTERM: sooner than --drain 2 + --kill-grace 1 allow for a SIGTERM-ignoring child"
wait "$LP"
BG_PIDS=""
# the drain is for running tasks: a slot freed by r3 must not start p3
[ ! -e "$T/p3" ] || fail "a pending task was started during shutdown (after a task finished within --drain)"
expect_eq "$(cat "$T/lp.code")" 200 "long-poll at shutdown: HTTP status"
expect_jq "$(cat "$T/lp")" "(.result.pending == [$p3] and .result.done == []) or .error.code == 6" "long-poll at shutdown: answered with what is true"
poll_until 3 eval '! alive '"$run1"' && ! alive '"$run2" || fail "children left running after SIGTERM: $(ps -o pid,args -p "$run1,$run2" | tail -n +2)"
start_daemon --jobs 3 --kill-grace 1 --drain 2
for r in $r1 $r2; do
	expect_jq "$(CURL_MAX=20 rpc task.exception "{\"id\":$r,\"timeout\":10}")" '.type == "DaemonRestarted"' "task $r running at SIGTERM"
done
expect_jq "$(rpc task.get "{\"id\":$r3}")" '.state == "succeeded" and .result.stdout == "finished-in-drain\n"' "a task finishing within --drain"
wait_done "$p3"
[ -e "$T/p3" ] || fail "the pending task did not run after the SIGTERM restart"
stop_daemon 10
expect_eq "$DAEMON_RC" 0 "final exit status"
note "ok: restarts keep every outcome; SIGTERM with children took ${dt}s; a call during shutdown was ${late:-refused}"
