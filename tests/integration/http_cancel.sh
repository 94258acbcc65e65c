#!/usr/bin/env bash
# Cancelling http tasks (issue #4): task.cancel on a fetch in flight (/never)
# answers {cancelled: true} and the task is cancelled at once (task.result
# gives TaskCancelled); cancelling 20 of them at once closes their
# connections (futured's descriptors come back down); the daemon goes on
# fetching, and cancelling a finished fetch answers false.
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/http_lib.sh"

start_httpd
start_daemon

# ---- one fetch in flight
id=$(hsubmit /never)
wait_state "$id" running
sleep 0.2	# connected and waiting for the answer
t0=$(now)
expect_jq "$(rpc task.cancel "{\"id\":$id}")" '.cancelled == true' "task.cancel of a fetch in flight"
wait_done "$id" 5
el=$(since "$t0")
bc_true "$el < 1" || fail "cancelled fetch took $el s to finish"
expect_eq "$(state "$id")" cancelled "state of the cancelled fetch"
expect_jq "$(call task.result "{\"id\":$id}")" ".error.code == 2 and .error.data.id == $id" "task.result of the cancelled fetch"
expect_jq "$(rpc task.cancel "{\"id\":$id}")" '.cancelled == false' "cancelling it again"

# ---- the daemon still fetches
id=$(hsubmit /page/2)
expect_jq "$(outcome "$id")" '.state == "succeeded" and (.result.body | test("line two of 2"))' "a fetch after the cancel"
expect_jq "$(rpc task.cancel "{\"id\":$id}")" '.cancelled == false' "cancelling a finished fetch"

# ---- 20 at once: their connections close
fds0=$(nfds "$DPID")
ids=()
for i in $(seq 20); do ids+=("$(hsubmit /never)"); done
poll_until 10 eval '[ "$(rpc task.list "{\"state\":\"running\"}" | jq ".tasks | length")" = 20 ]' ||
    fail "20 /never fetches are not all running"
sleep 0.3
fds1=$(nfds "$DPID")
# one may reuse the connection the last fetch left open
[ "$fds1" -ge $((fds0 + 19)) ] || fail "20 fetches in flight hold $fds1 descriptors, $fds0 before"
for id in "${ids[@]}"; do
	expect_jq "$(rpc task.cancel "{\"id\":$id}")" '.cancelled == true' "cancel of fetch $id"
done
r=$(rpc task.wait "{\"ids\":[$(IFS=,; echo "${ids[*]}")],\"timeout\":5}")
expect_jq "$r" '.pending == []' "20 cancelled fetches done"
expect_jq "$(rpc task.list '{"state":"cancelled","limit":1000}')" '.tasks | length == 21' "cancelled tasks"
poll_until 5 eval '[ "$(nfds "$DPID")" -le $((fds0 + 2)) ]' ||
    fail "futured holds $(nfds "$DPID") descriptors after the cancels, $fds0 before them"
note "descriptors: $fds0 before, $fds1 with 20 fetches, $(nfds "$DPID") after the cancels"
id=$(hsubmit /page/3)
expect_jq "$(outcome "$id")" '.state == "succeeded"' "a fetch after 20 cancels"
expect_jq "$(rpc daemon.info)" '.counts.running == 0' "nothing left running"

stop_daemon
expect_eq "$DAEMON_RC" 0 "futured exit status"
stop_httpd
