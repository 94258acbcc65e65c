#!/usr/bin/env bash
# TCP transport and its token (issue #2): --listen 127.0.0.1:0 binds an
# ephemeral port reported by daemon.info's listen; every TCP request needs
# "Authorization: Bearer <token>" (none, wrong, truncated, extended, other
# scheme -> 401; right -> 200 and the JSON-RPC answer, on /rpc and /); the
# token file and the Unix socket are mode 0600; the token survives a restart;
# futurectl --url URL --token-file F works end to end and fails with a wrong
# token.
. "$(dirname "$0")/harness.sh"
start_daemon --listen 127.0.0.1:0

info=$(rpc daemon.info)
expect_jq "$info" "(.listen | index(\"unix:$SOCK\")) != null" "listen has the Unix socket"
addr=$(jq -r '[.listen[] | select(startswith("tcp:"))][0] // empty' <<<"$info")
[[ $addr =~ ^tcp:127\.0\.0\.1:([0-9]+)$ ]] || fail "no tcp:127.0.0.1:PORT in daemon.info listen: $info"
port=${BASH_REMATCH[1]}
[ "$port" -gt 0 ] || fail "port 0 reported"
URL=http://127.0.0.1:$port

expect_eq "$(stat -c %a "$STATE/token")" 600 "token file mode"
expect_eq "$(stat -c %a "$SOCK")" 600 "socket mode"
tok=$(tr -d '\n' <"$STATE/token")
[ ${#tok} -ge 16 ] || fail "token of ${#tok} characters is too short to be a secret"

BODY='{"jsonrpc":"2.0","id":7,"method":"daemon.info"}'
# tcp_status [curl args...] -> HTTP status of BODY posted over TCP
tcp_status() {
	curl -s -o "$T/tcp.out" -w '%{http_code}' --max-time "$(scaled 10)" -H 'Expect:' \
	    -H 'Content-Type: application/json' --data-binary "$BODY" "$@"
}
expect_eq "$(tcp_status "$URL/rpc")" 401 "no token"
expect_eq "$(tcp_status -H "Authorization: Bearer wrong" "$URL/rpc")" 401 "wrong token"
expect_eq "$(tcp_status -H "Authorization: Bearer " "$URL/rpc")" 401 "empty token"
expect_eq "$(tcp_status -H "Authorization: Bearer ${tok%?}" "$URL/rpc")" 401 "truncated token"
expect_eq "$(tcp_status -H "Authorization: Bearer ${tok}x" "$URL/rpc")" 401 "extended token"
expect_eq "$(tcp_status -H "Authorization: Basic $tok" "$URL/rpc")" 401 "token under another scheme"
expect_eq "$(tcp_status -H "Authorization: $tok" "$URL/rpc")" 401 "token without a scheme"
expect_eq "$(tcp_status "$URL/")" 401 "no token on /"
expect_eq "$(tcp_status -H "Authorization: Bearer $tok" "$URL/rpc")" 200 "right token"
expect_jq "$(cat "$T/tcp.out")" ".id == 7 and .result.pid == $DPID" "answer over TCP"
expect_eq "$(tcp_status -H "Authorization: Bearer $tok" "$URL/")" 200 "right token on /"
expect_jq "$(cat "$T/tcp.out")" ".id == 7 and .result.pid == $DPID" "answer over TCP on /"
# a bad request over TCP is still authenticated first, then answered as JSON-RPC
BODY='{"jsonrpc":"2.0","id":8,"method":"no.such"}'
expect_eq "$(tcp_status "$URL/rpc")" 401 "no token, unknown method"
expect_eq "$(tcp_status -H "Authorization: Bearer $tok" "$URL/rpc")" 200 "right token, unknown method"
expect_jq "$(cat "$T/tcp.out")" '.id == 8 and .error.code == -32601' "-32601 over TCP"
# nothing was submitted by the refused requests
BODY='{"jsonrpc":"2.0","id":9,"method":"task.submit","params":{"kind":"sleep","seconds":0,"labels":{"via":"tcp"}}}'
expect_eq "$(tcp_status -H "Authorization: Bearer wrong" "$URL/rpc")" 401 "wrong token, submit"
expect_jq "$(rpc task.list '{"label":{"via":"tcp"}}')" '.tasks == []' "a refused submit creates nothing"
expect_eq "$(tcp_status -H "Authorization: Bearer $tok" "$URL/rpc")" 200 "right token, submit"
expect_jq "$(rpc task.list '{"label":{"via":"tcp"}}')" '(.tasks | length) == 1' "an authenticated submit over TCP"

# futurectl over TCP
[ -x "$FUTURECTL" ] || fail "no $FUTURECTL"
out=$(timeout "$(scaled 30)" "$FUTURECTL" --url "$URL" --token-file "$STATE/token" --json info)
rc=$?
expect_eq "$rc" 0 "futurectl --url info exit status"
expect_jq "$out" ".pid == $DPID" "futurectl --url info output"
out=$(timeout "$(scaled 30)" "$FUTURECTL" --url "$URL" --token-file "$STATE/token" run -- sh -c 'echo over-tcp; exit 4')
rc=$?
expect_eq "$rc" 4 "futurectl --url run exit status"
[[ $out == *over-tcp* ]] || fail "futurectl --url run output: $out"
printf 'not-the-token\n' >"$T/badtoken"
chmod 600 "$T/badtoken"
timeout "$(scaled 30)" "$FUTURECTL" --url "$URL" --token-file "$T/badtoken" info >"$T/bad.out" 2>"$T/bad.err"
rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "futurectl with a wrong token exited $rc"
[ -s "$T/bad.err" ] || fail "futurectl with a wrong token said nothing on stderr"

# the token is kept across restarts (clients hold it)
stop_daemon
expect_eq "$DAEMON_RC" 0 "exit status"
start_daemon --listen 127.0.0.1:0
expect_eq "$(tr -d '\n' <"$STATE/token")" "$tok" "token after restart"
addr=$(rpc daemon.info | jq -r '[.listen[] | select(startswith("tcp:"))][0] // empty')
[[ $addr =~ ^tcp:127\.0\.0\.1:([0-9]+)$ ]] || fail "no tcp address after restart"
BODY='{"jsonrpc":"2.0","id":7,"method":"daemon.info"}'
expect_eq "$(tcp_status -H "Authorization: Bearer $tok" "http://127.0.0.1:${BASH_REMATCH[1]}/rpc")" 200 "old token after restart"

# two daemons on port 0 do not collide
STATE_A=$STATE SOCK_A=$SOCK DPID_A=$DPID
DPID="" STATE=""
start_daemon --listen 127.0.0.1:0
addr2=$(rpc daemon.info | jq -r '[.listen[] | select(startswith("tcp:"))][0] // empty')
[[ $addr2 =~ ^tcp:127\.0\.0\.1:[0-9]+$ ]] && [ "$addr2" != "$addr" ] || fail "second daemon on port 0: $addr2 (first: $addr)"
tok2=$(tr -d '\n' <"$STATE/token")
[ "$tok2" != "$tok" ] || fail "two state dirs got the same token"
stop_daemon
DPID=$DPID_A STATE=$STATE_A SOCK=$SOCK_A
stop_daemon
expect_eq "$DAEMON_RC" 0 "exit status"
note "ok: TCP on port $port with its token"
