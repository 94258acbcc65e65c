#!/usr/bin/env bash
# A full disk (issue #2): with the database unable to grow (a file size
# limit makes writes fail with EFBIG, as on a full disk), task.submit
# answers StoreError (7) and acknowledges nothing, reads keep working, the
# daemon keeps serving; a finished task whose final state could not be
# written keeps trying and, after a restart with room, nothing acknowledged
# is lost and nothing refused appears.
. "$(dirname "$0")/harness.sh"

new_state
ulimit -S -f 160		# KiB: room for the schema and a few tasks
start_daemon
ulimit -S -f unlimited
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
[ "$n" = "${#ok[@]}" ] || fail "$n tasks stored, ${#ok[@]} acknowledged"
echo "ok: ${#ok[@]} acknowledged, $refused refused with StoreError, all acknowledged kept"
