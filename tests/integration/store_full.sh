#!/usr/bin/env bash
# A full disk (issue #2): with the database unable to grow (a file size
# limit makes writes fail with EFBIG, as on a full disk), task.submit
# answers StoreError (7) and acknowledges nothing, reads keep working, the
# daemon keeps serving; a sleep 0 (finished in its submit's turn) is
# refused alike; a batch holding a long-poll past its failed turn still
# answers StoreError; so does every call of a failed turn, with its id; a
# finished task whose final state could not be
# written keeps trying; queue and rate settings changed in a failed turn
# go back to the stored ones (issue 17's left-over) and, after a restart with room, nothing acknowledged
# is lost and nothing refused appears.
. "$(dirname "$0")/harness.sh"

new_state
ulimit -S -f 180		# KiB: room for the schema and a few tasks
start_daemon
ulimit -S -f unlimited
long=$(rpc task.submit '{"kind":"sleep","seconds":3600}' | jq -r .id)
[ -n "$long" ] && [ "$long" != null ] || fail "no room for even one task"
# settings made while there is room, changed below in turns that fail
expect_jq "$(rpc queue.set '{"name":"kept","concurrency":2,"create":true}')" '.concurrency == 2' "queue.set with room"
expect_jq "$(rpc rate.set '{"name":"kept","starts":5}')" '.starts == 5' "rate.set with room"
big=$(python3 -c 'print("x" * 20000)')
ok=() refused=0
for i in $(seq 1 20); do
	r=$(rpc task.submit "{\"kind\":\"sleep\",\"seconds\":0.2,\"result\":$i,\"labels\":{\"pad\":\"$big\"}}")
	id=$(jq -r '.id // empty' <<<"$r")
	if [ -n "$id" ]; then
		ok+=("$id:$i")
	else
		[ "$(jq -r .error.code <<<"$r")" = 7 ] || fail "submit on a full disk: $r"
		jq -e '.error.data.reason | test("nothing was changed")' <<<"$r" >/dev/null ||
		    fail "StoreError without a reason: $r"
		refused=$((refused + 1))
	fi
done
[ "$refused" -gt 0 ] || fail "the file size limit never filled the database"
# a sleep 0 finishes in the turn of its own submit: refused the same way,
# and nothing of it outlives the dropped submission (the retries of its
# final state would run on a freed task: the sanitizer run checks that)
for i in 1 2 3; do
	r=$(rpc task.submit "{\"kind\":\"sleep\",\"seconds\":0,\"labels\":{\"pad\":\"$big\"}}")
	[ "$(jq -r .error.code <<<"$r")" = 7 ] || fail "sleep 0 on a full disk: $r"
done
# a batch whose submit fails while its other call long-polls past that
# turn: the answer, sent later, still says nothing was changed
r=$(post "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"task.submit\",\"params\":{\"kind\":\"sleep\",\"seconds\":0,\"labels\":{\"pad\":\"$big\"}}},{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"task.wait\",\"params\":{\"ids\":[$long],\"timeout\":0.3}}]")
expect_jq "$r" 'length == 2 and all(.[]; .error.code == 7)' "a batch with a failed submit and a long-poll"
# every answer of a failed turn becomes StoreError, each with its own id,
# invalid requests' too (their id is echoed, not null)
r=$(post "[{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":5},{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"task.get\",\"params\":[]},{\"jsonrpc\":\"2.0\",\"method\":\"daemon.info\"},{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"method\":\"task.submit\",\"params\":{\"kind\":\"sleep\",\"seconds\":0,\"labels\":{\"pad\":\"$big\"}}}]")
expect_jq "$r" '[.[] | [.id, .error.code]] == [[7, 7], [8, 7], ["s", 7]]' "ids of a failed turn's answers"
# settings changed in a turn that fails answer StoreError and change
# nothing: queue.list and rate.list show the stored ones
pad="{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"task.submit\",\"params\":{\"kind\":\"sleep\",\"seconds\":0,\"labels\":{\"pad\":\"$big\"}}}"
for call in '"method":"queue.set","params":{"name":"kept","concurrency":7}' \
    '"method":"queue.set","params":{"name":"new","concurrency":3,"create":true}' \
    '"method":"queue.delete","params":{"name":"kept"}' \
    '"method":"rate.set","params":{"name":"kept","starts":9}' \
    '"method":"rate.set","params":{"name":"new","starts":1}' \
    '"method":"rate.delete","params":{"name":"kept"}'; do
	r=$(post "[{\"jsonrpc\":\"2.0\",\"id\":1,$call},$pad]")
	expect_jq "$r" 'length == 2 and all(.[]; .error.code == 7)' "a failed turn with $call"
done
expect_jq "$(rpc queue.list)" '[.queues[] | select(.name == "kept" or .name == "new") | {name, concurrency}] == [{"name":"kept","concurrency":2}]' "queues after the failed turns"
expect_jq "$(rpc rate.list)" '[.rate_limits[] | {name, starts}] == [{"name":"kept","starts":5}]' "rate limits after the failed turns"
sleep 1.3	# the retry of a final state runs after 1 s
[ "${#ok[@]}" -gt 0 ] || fail "not even the first task fitted"
# reads still answer, the daemon is alive
[ "$(rpc daemon.info | jq -r .pid)" = "$DPID" ] || fail "daemon.info on a full disk"
rpc task.get '{"id":1}' | jq -e .id >/dev/null || fail "task.get on a full disk"
grep -q "not stored; dropped" "$STATE/daemon.log" || fail "dropped submissions not logged"
sleep 0.5
kill9_daemon
start_daemon
for pair in "${ok[@]}"; do
	id=${pair%%:*} want=${pair##*:}
	got=$(rpc task.result "{\"id\":$id,\"timeout\":10}")
	[ "$got" = "$want" ] || fail "acknowledged task $id after restart: $got (want $want)"
done
n=$(rpc task.list '{"limit":1000}' | jq '.tasks|length')
[ "$n" = "$((${#ok[@]} + 1))" ] || fail "$n tasks stored, ${#ok[@]} + 1 acknowledged"
echo "ok: ${#ok[@]} acknowledged, $refused refused with StoreError, all acknowledged kept"
