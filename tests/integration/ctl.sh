#!/usr/bin/env bash
# futurectl end to end (issue #2): submit prints an id (argv, --shell,
# --sleep, options mapped onto the task), run prints the output byte for byte
# and exits with the task's status (0, 3, 128+signal), result/exception/get/
# wait/cancel/list/info with their exit codes (0 ok, 1 failed, 4 refused,
# 5 not done, 6 cancelled), --json output that jq parses, FUTURED_SOCKET,
# an unreachable daemon -> exit 3 with one line on stderr, usage errors -> 2.
# (Issue #11: the sleep that must stay unfinished to the cancel sleeps an
# hour; upper bounds on how long futurectl took are scaled by
# FUTURED_TIME_SCALE.)
. "$(dirname "$0")/harness.sh"
[ -x "$FUTURECTL" ] || fail "no $FUTURECTL"
start_daemon --jobs 4

# ---- submit
c submit -- echo hi
want_rc 0 "submit"
[[ $out =~ ^[0-9]+$ ]] || fail "submit printed '$out', want an id alone"
hi=$out
expect_jq "$(rpc task.get "{\"id\":$hi}")" '.kind == "exec" and .spec.argv == ["echo","hi"]' "submit -- CMD makes an argv task"
c submit --shell 'echo $((1+2))'
want_rc 0 "submit --shell"
sh=$out
expect_jq "$(rpc task.get "{\"id\":$sh}")" '.spec.shell == "echo $((1+2))"' "submit --shell"
c submit --sleep 0.1 --result '{"a":1}'
want_rc 0 "submit --sleep"
sl=$out
expect_jq "$(rpc task.get "{\"id\":$sl}")" '.kind == "sleep" and .spec.seconds == 0.1 and .spec.result == {"a":1}' "submit --sleep --result"
c submit --queue cq --priority 5 --label team=x --label env=t --key ctl-k --env FOO=bar --cwd / --timeout 30 --retries 2 -- sh -c 'echo $FOO'
want_rc 0 "submit with options"
op=$out
expect_jq "$(rpc task.get "{\"id\":$op}")" '.queue == "cq" and .priority == 5 and .labels == {"team":"x","env":"t"} and .key == "ctl-k" and .max_retries == 2 and .spec.env == {"FOO":"bar"} and .spec.cwd == "/"' "submit options reach the task"
c submit --key ctl-k --queue cq --priority 5 --label team=x --label env=t --env FOO=bar --cwd / --timeout 30 --retries 2 -- sh -c 'echo $FOO'
want_rc 0 "submit with the same key"
expect_eq "$out" "$op" "same key, same task"
c --json submit -- true
want_rc 0 "--json submit"
expect_jq "$out" '(if type == "object" then .id else . end) | type == "number"' "--json submit output"
c submit -- sh -c 'exit 0' extra-arg "with space"
expect_jq "$(rpc task.get "{\"id\":$out}")" '.spec.argv == ["sh","-c","exit 0","extra-arg","with space"]' "arguments after -- kept as given"

# ---- run
c run -- true
want_rc 0 "run -- true"
c run -- sh -c 'echo hi; exit 3'
want_rc 3 "run exit 3"
[[ $out == *hi* ]] || fail "run did not print the output: '$out'"
c run -- sh -c 'kill -TERM $$'
want_rc 143 "run of a task killed by SIGTERM"
c run -- sh -c 'echo to-err >&2; echo to-out'
want_rc 0 "run with stderr"
[ "$out" = to-out ] || fail "run stdout: '$out', want 'to-out'"
[[ $err == *to-err* ]] || fail "run did not print the task's stderr on stderr: '$err'"
ctl run -- printf 'x\ny\0z' >"$T/bytes" 2>/dev/null
printf 'x\ny\0z' | cmp -s - "$T/bytes" || fail "run output not byte for byte: $(od -c "$T/bytes" | head -3)"
out=$(printf 'from stdin\n' | ctl run --stdin-file - -- cat)
rc=$?
want_rc 0 "run --stdin-file -"
[ "$out" = "from stdin" ] || fail "run --stdin-file -: '$out'"
c run --sleep 0.1
want_rc 0 "run --sleep"
c run -- /no/such/program
[ "$rc" != 0 ] && [ "$rc" != 2 ] && [ "$rc" != 3 ] || fail "run of a missing program exited $rc"
[ -n "$err" ] || fail "run of a missing program said nothing on stderr"

# ---- result
wait_done "$hi"
c result "$hi"
want_rc 0 "result"
[[ $out == *hi* ]] || fail "result printed '$out'"
c --json result "$hi"
want_rc 0 "--json result"
expect_jq "$out" '.exit_code == 0 and .stdout == "hi\n"' "--json result output"
long=$(submit '{"kind":"sleep","seconds":3600}')	# cancelled below
c result "$long"
want_rc 5 "result of an unfinished task"
t0=$(now)
c result --wait=0.5 "$long"
want_rc 5 "result --wait=0.5 of a long sleep"
el=$(since "$t0")
bc_true "$el >= 0.4 && $el < $(scaled 3)" || fail "result --wait=0.5 returned after ${el}s"
s2=$(submit '{"kind":"sleep","seconds":0.3,"result":"later"}')
c --json result "$s2" --wait=10
want_rc 0 "result ID --wait=10"
expect_eq "$out" '"later"' "result after waiting"
fl=$(submit '{"kind":"exec","shell":"echo boom >&2; exit 2"}')
wait_done "$fl"
c result "$fl"
want_rc 1 "result of a failed task"
[ -n "$out$err" ] || fail "result of a failed task printed nothing"
c result 987654321
want_rc 4 "result of an unknown id"
cn=$(submit '{"kind":"sleep","seconds":0,"delay":60}')
c cancel "$cn"
want_rc 0 "cancel"
c result "$cn"
want_rc 6 "result of a cancelled task"

# ---- exception (marks the failure retrieved)
f2=$(submit '{"kind":"exec","argv":["false"]}')
wait_done "$f2"
expect_jq "$(rpc task.list '{"unretrieved":true,"limit":1000}')" "[.tasks[].id] | index($f2) != null" "unretrieved before futurectl exception"
c exception "$f2"
want_rc 0 "exception of a failed task"
[[ $out == *ProcessError* ]] || fail "exception printed '$out'"
expect_jq "$(rpc task.list '{"unretrieved":true,"limit":1000}')" "[.tasks[].id] | index($f2) == null" "futurectl exception retrieves"
c --json exception "$fl"
want_rc 0 "--json exception"
expect_jq "$out" '.type == "ProcessError" and .exit_code == 2' "--json exception output"
c exception "$hi"
want_rc 0 "exception of a succeeded task"
expect_eq "$out" none "exception of a succeeded task"
c --json exception "$hi"
expect_eq "$out" null "--json exception of a succeeded task"
c exception "$cn"
want_rc 6 "exception of a cancelled task"

# ---- get
c --json get "$hi"
want_rc 0 "--json get"
expect_jq "$out" ".id == $hi and .state == \"succeeded\" and .result.stdout == \"hi\\n\"" "--json get output"
c get "$hi"
want_rc 0 "get"
[[ $out == *succeeded* ]] || fail "get does not show the state: '$out'"
c get 987654321
want_rc 4 "get of an unknown id"
[ -n "$err" ] || fail "get of an unknown id said nothing on stderr"

# ---- wait
c wait "$hi" "$sh"
want_rc 0 "wait on succeeded tasks"
c wait "$hi" "$fl"
want_rc 1 "wait with a failed task"
t0=$(now)
c wait --timeout 0.5 "$hi" "$long"
want_rc 5 "wait --timeout 0.5 with a long sleep"
el=$(since "$t0")
bc_true "$el >= 0.4 && $el < $(scaled 3)" || fail "wait --timeout 0.5 took ${el}s"
q=$(submit '{"kind":"sleep","seconds":0.3}')
t0=$(now)
c --json wait --any "$q" "$long"
want_rc 0 "wait --any"
el=$(since "$t0")
bc_true "$el < $(scaled 3)" || fail "wait --any took ${el}s"
expect_jq "$out" ".done == [$q] and .pending == [$long]" "--json wait --any output"
bad=$(submit '{"kind":"exec","shell":"sleep 0.2; exit 1"}')
t0=$(now)
c wait --first-exception "$bad" "$long"
want_rc 1 "wait --first-exception with a failure"
el=$(since "$t0")
bc_true "$el < $(scaled 3)" || fail "wait --first-exception took ${el}s"
c wait 987654321
want_rc 4 "wait on an unknown id"

# ---- cancel
c --json cancel "$hi"
want_rc 0 "cancel of a finished task"
expect_jq "$out" '(if type == "object" then .cancelled else . end) == false' "--json cancel of a finished task"
c --json cancel "$long"
want_rc 0 "cancel of a running sleep"
expect_jq "$out" '(if type == "object" then .cancelled else . end) == true' "--json cancel of a running sleep"
expect_eq "$(state "$long")" cancelled "state after futurectl cancel"
c cancel 987654321
want_rc 4 "cancel of an unknown id"

# ---- list
c --json list --state succeeded --limit 2
want_rc 0 "list --json"
expect_jq "$out" '(if type == "object" then .tasks else . end) | length == 2 and all(.[]; .state == "succeeded")' "--json list --state --limit"
c --json list --queue cq
expect_jq "$out" "(if type == \"object\" then .tasks else . end) | map(.id) == [$op]" "--json list --queue"
c --json list --label team=x
expect_jq "$out" "(if type == \"object\" then .tasks else . end) | map(.id) == [$op]" "--json list --label"
c list
want_rc 0 "list"
[[ $out == *"$hi"* ]] || fail "list does not show task $hi"
c list --state nonsense
[ "$rc" = 2 ] || [ "$rc" = 4 ] || fail "list --state nonsense exited $rc"

# ---- info
c --json info
want_rc 0 "--json info"
expect_jq "$out" ".pid == $DPID and (.version | type) == \"string\"" "--json info output"
c info
want_rc 0 "info"
[ -n "$out" ] || fail "info printed nothing"
out=$(FUTURED_SOCKET=$SOCK timeout "$(scaled 30)" "$FUTURECTL" --json info)
rc=$?
want_rc 0 "FUTURED_SOCKET"
expect_jq "$out" ".pid == $DPID" "info through FUTURED_SOCKET"

# ---- unreachable daemon: exit 3, one line on stderr
for cmd in info "submit -- true" "run -- true" "result 1" "list"; do
	timeout "$(scaled 30)" "$FUTURECTL" --socket "$T/no-such.sock" $cmd >"$T/out" 2>"$T/err"
	rc=$?
	expect_eq "$rc" 3 "futurectl $cmd with no daemon: exit status"
	[ ! -s "$T/out" ] || fail "futurectl $cmd with no daemon printed on stdout: $(cat "$T/out")"
	expect_eq "$(wc -l <"$T/err")" 1 "futurectl $cmd with no daemon: lines on stderr ($(cat "$T/err"))"
done
out=$(timeout "$(scaled 30)" "$FUTURECTL" --url http://127.0.0.1:1 --token-file "$STATE/token" info 2>"$T/err")
rc=$?
expect_eq "$rc" 3 "futurectl --url to a closed port: exit status"
expect_eq "$(wc -l <"$T/err")" 1 "futurectl --url to a closed port: lines on stderr"

# ---- usage errors: exit 2, nothing on stdout
for args in "" "frobnicate" "--bogus info" "submit" "submit --" "result" "get" "cancel" "wait" \
    "list --limit" "submit --priority -- true" "result --wait=soon 1" "get not-a-number"; do
	ctl $args >"$T/out" 2>"$T/err"
	rc=$?
	expect_eq "$rc" 2 "futurectl $args: exit status"
	[ ! -s "$T/out" ] || fail "futurectl $args printed on stdout: $(head -c 200 "$T/out")"
	[ -s "$T/err" ] || fail "futurectl $args said nothing on stderr"
done

stop_daemon
expect_eq "$DAEMON_RC" 0 "exit status"
note "ok: futurectl end to end"
