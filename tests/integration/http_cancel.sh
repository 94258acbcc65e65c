#!/usr/bin/env bash
# Cancelling http tasks (issue #4): task.cancel on a fetch in flight (/never)
# answers {cancelled: true} and the task is cancelled at once (task.result
# gives TaskCancelled); cancelling 20 of them at once closes their
# connections (futured's descriptors come back down); the daemon goes on
# fetching, and cancelling a finished fetch answers false.  (Issue #11: the
# test waits for the server to accept the fetch's connection and for the
# descriptors to be open, not for a fixed time; the cancelled fetch is done
# when task.cancel answers, and the answer takes under 1 s, scaled.)
# Issue 18: 300 submitted in one batch and cancelled by the next, some
# before curl had them.
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/http_lib.sh"

start_httpd
start_daemon

# conns: CONNS = the connections test-httpd accepted, less the test's own
# requests for /connections (not in a subshell: it counts them)
CONNS_SEEN=0
conns() {
	local n
	n=$(curl -s --max-time 10 "$HURL/connections")
	CONNS_SEEN=$((CONNS_SEEN + 1))
	CONNS=$((n - CONNS_SEEN))
}

# ---- one fetch in flight
conns
c0=$CONNS
id=$(hsubmit /never)
wait_state "$id" running
# connected and waiting for the answer
poll_until 10 eval 'conns; [ "$CONNS" -gt '"$c0"' ]' || fail "test-httpd did not see the fetch connect"
x=$(timed_call task.cancel "{\"id\":$id}")
expect_jq "${x#* }" '.result.cancelled == true' "task.cancel of a fetch in flight"
expect_jq "$(rpc task.wait "{\"ids\":[$id],\"timeout\":0}")" ".done == [$id]" "the fetch once task.cancel answered"
bc_true "${x%% *} < $(scaled 1)" || fail "task.cancel of a fetch in flight took ${x%% *} s"
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
# one may reuse the connection the last fetch left open
poll_until 10 eval '[ "$(nfds "$DPID")" -ge $((fds0 + 19)) ]' ||
    fail "20 fetches in flight hold $(nfds "$DPID") descriptors, $fds0 before"
fds1=$(nfds "$DPID")
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

# ---- 300 in one batch, cancelled by the next: fetch.c hands curl 128
# transfers a turn, so some are cancelled before curl has them, some
# while they connect, some in flight
fds0=$(nfds "$DPID")
was=$(rpc task.list '{"state":"cancelled","limit":1000}' | jq '.tasks | length')
jq -nc --arg u "$HURL/never" '[range(300) | {jsonrpc: "2.0", id: ., method: "task.submit", params: {kind: "http", url: $u}}]' >"$T/b300.json"
ids=$(post "@$T/b300.json" | jq -c '[.[].result.id]')
expect_jq "$ids" 'length == 300 and all(.[]; type == "number")' "300 fetches in one batch"
jq -c '[.[] | {jsonrpc: "2.0", id: ., method: "task.cancel", params: {id: .}}]' <<<"$ids" >"$T/c300.json"
expect_jq "$(post "@$T/c300.json")" 'length == 300 and all(.[]; .result.cancelled == true)' "300 cancels in the next batch"
expect_jq "$(rpc task.wait "{\"ids\":$ids,\"timeout\":5}")" '.pending == []' "300 cancelled fetches done"
expect_jq "$(rpc task.list '{"state":"cancelled","limit":1000}')" ".tasks | length == $((was + 300))" "cancelled tasks"
poll_until 5 eval '[ "$(nfds "$DPID")" -le $((fds0 + 2)) ]' ||
    fail "futured holds $(nfds "$DPID") descriptors after 300 cancels, $fds0 before them"
id=$(hsubmit /page/4)
expect_jq "$(outcome "$id")" '.state == "succeeded"' "a fetch after 300 cancels"
expect_jq "$(rpc daemon.info)" '.counts.running == 0' "nothing left running"

stop_daemon
expect_eq "$DAEMON_RC" 0 "futured exit status"
stop_httpd
