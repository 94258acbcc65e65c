#!/usr/bin/env bash
# A chain of 20,000 tasks, each the child of the one before (issue #16):
# cancelling its root cancels every one of them, without futured
# recursing once per level (a stack overflow in 2026-12-06's first cut);
# and a parent at the end of a chain of waiting parents ends them all.
# On sqlite, where ids are consecutive, so a batch names its own parents.
. "$(dirname "$0")/harness.sh"

start_daemon
N=20000
# chain ROOT: N submits in batches of 1,000, task i's parent task i - 1
chain() {
	local root=$1 kind=$2 b i body
	for ((b = 0; b < N; b += 1000)); do
		body="["
		for ((i = b; i < b + 1000; i++)); do
			[ "$i" -gt "$b" ] && body="$body,"
			body="$body{\"jsonrpc\":\"2.0\",\"id\":$i,\"method\":\"task.submit\",\"params\":{\"kind\":\"$kind\",\"parent\":$((root + i))}}"
		done
		r=$(post "$body]")
		expect_jq "$r" "length == 1000 and all(.[]; .result.id != null) and .[999].result.id == $((root + b + 1000))" "batch $b of the chain"
	done
}
root=$(submit '{"kind":"future"}')
chain "$root" future
leaf=$((root + N))
expect_jq "$(rpc task.get "{\"id\":$leaf}")" ".parent == $((leaf - 1)) and .state == \"running\"" "the chain's last task"
expect_jq "$(rpc task.cancel "{\"id\":$root,\"message\":\"all of it\"}")" '.cancelled == true' "cancelling the chain's root"
expect_jq "$(rpc task.get "{\"id\":$leaf}")" '.state == "cancelled" and .exception.message == "all of it"' "the chain's last task, cancelled"
alive "$DPID" || fail "futured died cancelling a deep chain"
expect_jq "$(rpc daemon.info)" ".counts.running == 0 and .counts.cancelled == $((N + 1))" "nothing of the chain left running"

# waiting parents all the way down: the leaf's end ends all of them
root=$(submit '{"kind":"future"}')
chain "$root" future
for ((b = root; b < root + N; b += 10000)); do	# batches hold 10,000
	for ((i = b; i < b + 10000; i++)); do echo "{\"jsonrpc\":\"2.0\",\"id\":$i,\"method\":\"task.set_result\",\"params\":{\"id\":$i,\"result\":$i}}"; done |
	    jq -s . >"$T/resolve.json"
	expect_jq "$(post "@$T/resolve.json")" "length == 10000 and all(.[]; .result.set == true and .result.state == \"running\")" "each parent resolved, waiting for its child"
done
expect_eq "$(state "$root")" running "the root, waiting for the chain"
rpc task.set_result "{\"id\":$((root + N))}" >/dev/null
wait_done "$root" 60
expect_jq "$(rpc task.result "{\"id\":$root}")" ". == $root" "the root ended with its own result"
alive "$DPID" || fail "futured died settling a deep chain"
stop_daemon
