#!/usr/bin/env bash
# Crash-safe children (issue #11, defects 1 and 2): an attempt's processes
# never outlive the attempt.
# - kill -9 of futured while a task with retries runs: its processes are
#   ended (by the spawner) before the next futured starts, so the retry
#   never overlaps the first attempt (the issue's own reproduction);
# - a task that ignores SIGTERM and has a grandchild: SIGKILL after
#   --kill-grace; the next futured waits for them (the tasks lock) and only
#   then marks the task DaemonRestarted;
# - futured and its spawner killed together: the main process dies with the
#   spawner (PR_SET_PDEATHSIG), the next futured ends the rest of the
#   recorded group before it serves;
# - a spawn in the turn of its submission, before the commit (the commit is
#   held up by another writer of the database), then kill -9: the process
#   dies on its own, and resubmitting the same key runs it once;
# - the spawner killed alone: running attempts end (DaemonRestarted, or a
#   retry), a new spawner serves;
# - background processes: when a task's main process exits, the rest of its
#   group gets SIGTERM (SIGKILL after the grace) and the task ends at once.
. "$(dirname "$0")/harness.sh"

GRACE=1
# gone PID...: none of them alive
gone() { local p; for p; do alive "$p" && return 1; done; return 0; }
spawner_of() { pgrep -P "$1" -f -- '--spawner' | head -1; }

# ---- the issue's reproduction: retries, kill -9, restart
start_daemon --kill-grace $GRACE
dup=$T/dup
id=$(submit "{\"kind\":\"exec\",\"retries\":1,\"retry_backoff\":0.1,\"shell\":\"echo start \$\$ >>$dup; for p in \$(cat $T/pids 2>/dev/null); do kill -0 \$p 2>/dev/null && echo overlap \$p >>$dup; done; echo \$\$ >>$T/pids; sleep 4; echo end \$\$ >>$dup\"}")
poll_until 10 test -s "$T/pids" || fail "the task did not start"
first=$(head -1 "$T/pids")
kill9_daemon
poll_until 5 gone "$first" || fail "attempt 1 (pid $first) outlived the killed daemon"
start_daemon --kill-grace $GRACE
wait_done "$id" 30
expect_jq "$(rpc task.get "{\"id\":$id}")" '.state == "succeeded" and .attempt == 2' "the retried task"
expect_eq "$(grep -c '^start' "$dup")" 2 "attempts started"
expect_eq "$(grep -c '^end' "$dup")" 1 "attempts that ran to their end"
grep -q overlap "$dup" && fail "the retry ran while attempt 1 was alive: $(cat "$dup")"
stop_daemon

# ---- SIGTERM ignored, a grandchild: SIGKILL after the grace; the next
# futured waits for them before it marks the task
start_daemon --kill-grace $GRACE
id=$(submit "{\"kind\":\"exec\",\"shell\":\"trap '' TERM; sleep 300.$UNIQ & echo \$! >$T/gc; echo \$\$ >$T/main; while :; do sleep 0.1; done\"}")
poll_until 10 eval '[ -s $T/gc ] && [ -s $T/main ]' || fail "the task did not start"
main=$(cat "$T/main") gc=$(cat "$T/gc")
kill9_daemon
t0=$(now)
start_daemon --kill-grace $GRACE
dt=$(since "$t0")
gone "$main" "$gc" || fail "futured served while the earlier attempt's processes lived"
grep -q 'processes of an earlier futured .* are still being ended' "$STATE/daemon.log" ||
    note "the old spawner was done before the new futured looked (${dt}s)"
expect_jq "$(rpc task.exception "{\"id\":$id,\"timeout\":10}")" '.type == "DaemonRestarted"' "the ended task"
stop_daemon

# ---- futured and its spawner killed together: the next futured ends the
# group it recorded (the grandchild; the main process died with the spawner)
start_daemon --kill-grace $GRACE
rm -f "$T/gc" "$T/main"
id=$(submit "{\"kind\":\"exec\",\"retries\":1,\"retry_backoff\":0.1,\"shell\":\"if [ -e $T/second ]; then echo again; exit 0; fi; touch $T/second; sleep 301.$UNIQ & echo \$! >$T/gc; echo \$\$ >$T/main; wait\"}")
poll_until 10 eval '[ -s $T/gc ] && [ -s $T/main ]' || fail "the task did not start"
main=$(cat "$T/main") gc=$(cat "$T/gc")
sleep 0.3	# the commit that records its group
sp=$(spawner_of "$DPID")
[ -n "$sp" ] || fail "no spawner under futured $DPID"
kill -STOP "$sp"	# it must not see futured go first and end the group itself
kill -9 "$DPID" "$sp"
wait "$DPID" 2>/dev/null
DPID=""
poll_until 5 gone "$main" || fail "the main process outlived its spawner"
alive "$gc" || fail "the grandchild is gone already (nothing left for the recovery to end)"
start_daemon --kill-grace $GRACE
gone "$gc" || fail "futured served while the recorded group's grandchild $gc lived"
grep -q "ending process group $main of an earlier futured" "$STATE/daemon.log" ||
    fail "recovery did not say it ended group $main"
expect_jq "$(rpc task.result "{\"id\":$id,\"timeout\":10}")" '.stdout == "again\n"' "the retry after the recovery"
stop_daemon

# ---- the spawn before its commit: another writer holds the database lock,
# so the turn's commit waits (busy timeout); the child already runs
start_daemon --kill-grace $GRACE
rm -f "$T/main"
"$PYTHON" - "$STATE/futured.db" "$T/locked" "$T/release" <<'PY' &
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.02)
db.execute("ROLLBACK")
PY
locker=$!
BG_PIDS="$BG_PIDS $locker"
poll_until 10 test -e "$T/locked" || fail "the locking writer did not start"
spec="{\"kind\":\"exec\",\"key\":\"once-$UNIQ\",\"shell\":\"echo \$\$ >>$T/main; sleep 302.$UNIQ\"}"
curl -s --max-time 30 --unix-socket "$SOCK" -H 'Expect:' -o /dev/null \
    --data-binary "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"task.submit\",\"params\":$spec}" http://localhost/rpc &
BG_PIDS="$BG_PIDS $!"
poll_until 4 test -s "$T/main" || fail "the child did not start before the commit"
early=$(head -1 "$T/main")
kill9_daemon
touch "$T/release"
wait "$locker"
poll_until 5 gone "$early" || fail "a child spawned before its commit outlived the killed daemon"
start_daemon --kill-grace $GRACE
r=$(call task.submit "$spec")
id=$(jq -r .result.id <<<"$r")
expect_jq "$r" '.result.state == "running" or .result.state == "pending"' "resubmitting the key after the crash"
poll_until 10 eval '[ "$(wc -l <"$T/main")" -ge 2 ]' || fail "the resubmitted task did not start"
expect_eq "$(wc -l <"$T/main")" 2 "starts of the keyed task (one before the crash, one after)"
rpc task.cancel "{\"id\":$id}" >/dev/null
stop_daemon

# ---- the spawner killed alone: its attempts end, a new one serves
start_daemon --kill-grace $GRACE
rm -f "$T/main"
a=$(submit "{\"kind\":\"exec\",\"shell\":\"echo \$\$ >$T/main; exec sleep 303.$UNIQ\"}")
b=$(submit "{\"kind\":\"exec\",\"retries\":1,\"retry_backoff\":0.1,\"shell\":\"[ -e $T/b1 ] && exit 0; touch $T/b1; exec sleep 304.$UNIQ\"}")
poll_until 10 eval '[ -s $T/main ] && [ -e $T/b1 ]' || fail "tasks did not start"
sleep 0.2
sp=$(spawner_of "$DPID")
kill -9 "$sp"
expect_jq "$(rpc task.exception "{\"id\":$a,\"timeout\":10}")" '.type == "DaemonRestarted"' "a task whose spawner died"
poll_until 5 gone "$(cat "$T/main")" || fail "the task's process outlived its spawner"
wait_done "$b"
expect_jq "$(rpc task.get "{\"id\":$b}")" '.state == "succeeded" and .attempt == 2' "a task with retries whose spawner died"
[ -n "$(spawner_of "$DPID")" ] && [ "$(spawner_of "$DPID")" != "$sp" ] || fail "no new spawner"
expect_eq "$(ctl run -- sh -c 'echo fine')" fine "a task after the spawner restarted"
stop_daemon

# ---- defect 2: background processes end with their task
start_daemon --kill-grace $GRACE
t0=$(now)
out=$(ctl run -- sh -c "sleep 305.$UNIQ & echo \$! >$T/bg; echo bg")
dt=$(since "$t0")
expect_eq "$out" bg "output of a task that leaves a background process"
bc_true "$dt < 2.5 * ${FUTURED_TIME_SCALE:-1}" || fail "a task with a background sleep took ${dt}s"
poll_until 2 gone "$(cat "$T/bg")" || fail "the background process outlived its task"
# one that ignores SIGTERM: SIGKILL after --kill-grace, the task ends then
t0=$(now)
out=$(ctl run -- sh -c "(trap '' TERM; exec sleep 306.$UNIQ) & echo \$! >$T/bg; sleep 0.1; echo bg2")
dt=$(since "$t0")
expect_eq "$out" bg2 "output of a task whose background process ignores SIGTERM"
bc_true "$dt >= $GRACE" || fail "the task ended ${dt}s after start, before the SIGKILL of its straggler"
gone "$(cat "$T/bg")" || fail "a SIGTERM-ignoring background process outlived its task"
stop_daemon
note "ok: no attempt outlives itself; background processes end with their task"
