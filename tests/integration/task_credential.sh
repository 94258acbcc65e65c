#!/usr/bin/env bash
# A task's credential over TCP (issue #16): with --listen, an exec task
# finds FUTURED_URL and FUTURED_TOKEN, a bearer credential that acts as
# that task's parent and nothing more: it submits children (their parent
# forced to the task), reads, and cancels, closes or completes its own
# children; anything else answers ReadOnly (11); it is refused (401) once
# the task's own part is over, and a forged one never works.
. "$(dirname "$0")/harness.sh"

start_daemon --listen 127.0.0.1:0
addr=$(rpc daemon.info | jq -r '.listen[] | select(startswith("tcp:"))')
URL=http://${addr#tcp:}
other=$(submit '{"kind":"future"}')

# the task runs each call in $T/calls (METHOD PARAMS per line) over TCP
# with its credential, answers to $T/answers; then waits for $T/go
cat >"$T/task.sh" <<'SH'
echo "$FUTURED_URL $FUTURED_TOKEN" >"$T_DIR/env"
while read -r method params; do
	curl -s -H "Authorization: Bearer $FUTURED_TOKEN" -H 'Expect:' \
	    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$method\",\"params\":$params}" \
	    "$FUTURED_URL/rpc"
	echo
done <"$T_DIR/calls" >"$T_DIR/answers"
while [ ! -e "$T_DIR/go" ]; do sleep 0.05; done
SH
cat >"$T/calls" <<EOF2
task.submit {"kind":"future"}
task.submit {"kind":"group"}
task.submit {"kind":"sleep","seconds":0,"parent":$other}
task.get {"id":$other}
task.cancel {"id":$other}
queue.set {"name":"q","concurrency":1}
task.retry {"id":$other}
EOF2
p=$(submit "{\"kind\":\"exec\",\"argv\":[\"sh\",\"$T/task.sh\"],\"env\":{\"T_DIR\":\"$T\"}}")
poll_until 20 eval '[ "$(wc -l <"$T/answers" 2>/dev/null)" = 7 ]' || fail "the task's calls were not all answered: $(cat "$T/answers" 2>/dev/null)"
read -r url token <"$T/env"
expect_eq "$url" "$URL" "FUTURED_URL"
[[ $token =~ ^task-$p-[0-9a-f]{32}$ ]] || fail "FUTURED_TOKEN is not a credential of task $p: $token"
mapfile -t A <"$T/answers"
expect_jq "${A[0]}" ".result.parent == $p and .result.kind == \"future\"" "a child submitted with the credential"
child=$(jq .result.id <<<"${A[0]}")
group=$(jq .result.id <<<"${A[1]}")
expect_jq "${A[2]}" '.error.code == 11 and .error.data.method == "task.submit"' "a submit naming another parent"
expect_jq "${A[3]}" ".result.id == $other" "a read"
expect_jq "${A[4]}" '.error.code == 11 and .error.data.method == "task.cancel"' "a cancel of a task not its child"
expect_jq "${A[5]}" '.error.code == 11' "queue.set"
expect_jq "${A[6]}" '.error.code == 11' "task.retry"
expect_eq "$(state "$other")" running "the other task after the refused calls"
# while it runs, its children obey it
call_as() { curl -s -H "Authorization: Bearer $token" -H 'Expect:' -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}" "$URL/rpc"; }
expect_jq "$(call_as task.set_result "{\"id\":$child,\"result\":3}")" '.result.set == true' "set_result of its child"
expect_jq "$(call_as task.close "{\"id\":$group}")" '.result.closed == true' "close of its group"
expect_jq "$(call_as task.set_result "{\"id\":$other,\"result\":3}")" '.error.code == 11' "set_result of a task not its child"
expect_jq "$(call_as task.cancel '{"id":99999999}')" '.error.code == 4' "a cancel of no task"
forged="task-$p-$(printf '%032x' 7)"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $forged" -d '{}' "$URL/rpc")" 401 "a forged credential"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer task-$other-${token##*-}" -d '{}' "$URL/rpc")" 401 "the secret with another task's id"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$URL/metrics")" 401 "the credential on /metrics"
touch "$T/go"
wait_done "$p"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" -d '{"jsonrpc":"2.0","id":1,"method":"daemon.info"}' "$URL/rpc")" 401 "the credential once the task ended"
expect_jq "$(rpc task.result "{\"id\":$p}")" '.exit_code == 0' "the task"
stop_daemon
