#!/usr/bin/env bash
# http tasks across a daemon's death (issue #4): kill -9 of futured while a
# fetch waits for /never, and a fetch of /slow with retries 1 is in flight,
# and a third waits for an --http-max slot; after the restart the first is
# failed with DaemonRestarted, the second is fetched again and succeeds with
# attempt 2 (attempts: failed DaemonRestarted, succeeded), the third runs
# and succeeds.  A clean stop (SIGTERM) ends a fetch still in flight after
# --drain with the same DaemonRestarted.  (Issue #11: the /slow fetch takes
# 5 s, scaled by FUTURED_TIME_SCALE, so that it is still in flight when the
# test has seen all three placed and kills the daemon; it was 1.5 s, which
# the test's own steps outlasted under load.)
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/http_lib.sh"

start_httpd
start_daemon --http-max 2

# ---- kill -9 in flight
ms=$(scaled 5000)
a=$(hsubmit /never)
b=$(hsubmit "/slow/$ms" '"retries":1,"retry_backoff":0.1')
c=$(hsubmit /page/5)
wait_state "$a" running
wait_state "$b" running
expect_eq "$(state "$c")" pending "third fetch with --http-max 2"
expect_eq "$(state "$b")" running "the /slow fetch just before the kill"
kill9_daemon
start_daemon --http-max 2

o=$(outcome "$a" 5)
expect_jq "$o" '.state == "failed" and .exception.type == "DaemonRestarted" and .attempt == 1' "fetch of /never across kill -9"
o=$(outcome "$b" 20)
expect_jq "$o" ".state == \"succeeded\" and .attempt == 2 and .result.status == 200 and (.result.body | test(\"line one of $ms\"))" "fetch with retries 1 across kill -9"
t=$(rpc task.get "{\"id\":$b}")
expect_jq "$t" '[.attempts[] | [.attempt, .outcome]] == [[1, "failed"], [2, "succeeded"]] and .attempts[0].exception.type == "DaemonRestarted"' "attempts of the retried fetch"
o=$(outcome "$c" 5)
expect_jq "$o" '.state == "succeeded" and .attempt == 1 and (.result.body | test("line one of 5"))' "the fetch that waited for a slot"
expect_jq "$(rpc daemon.info)" '.counts.running == 0 and .counts.pending == 0' "nothing left after the restart"

# ---- SIGTERM: a fetch still in flight after --drain ends the same way
stop_daemon
start_daemon --drain 0.5
d=$(hsubmit /never)
wait_state "$d" running
t0=$(now)
stop_daemon 10
el=$(since "$t0")
expect_eq "$DAEMON_RC" 0 "futured exit status after draining"
bc_true "$el < $(scaled 5)" || fail "SIGTERM with --drain 0.5 took $el s"
start_daemon
o=$(outcome "$d" 5)
expect_jq "$o" '.state == "failed" and .exception.type == "DaemonRestarted"' "fetch in flight at SIGTERM"
id=$(hsubmit /page/1)
expect_jq "$(outcome "$id")" '.state == "succeeded"' "a fetch after the restarts"

stop_daemon
expect_eq "$DAEMON_RC" 0 "futured exit status"
stop_httpd
