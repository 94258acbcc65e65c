#!/usr/bin/env bash
# The dashboard's access (issue #15): on TCP, without the token or a
# session, only the login page and what it loads; `futurectl ui`'s link
# works once and sets an HttpOnly, SameSite=Strict session cookie; the
# login form takes the token; a session reaches /ui, /events, /metrics and
# /rpc, the last only with its CSRF token; a form of another origin is
# refused; logout ends the session; --ui-read-only sessions change nothing.
. "$(dirname "$0")/harness.sh"
start_daemon

# ---- without TCP, futurectl ui says how to get it
c ui
want_rc 4 "futurectl ui without --listen"
[[ $err == *"--listen"* ]] || fail "futurectl ui without TCP: $err"
stop_daemon
start_daemon --listen 127.0.0.1:0
port=$(rpc daemon.info | jq -r '.listen[] | select(startswith("tcp:"))' | sed 's/.*://')
U=http://127.0.0.1:$port
tok=$(tr -d '\n' <"$STATE/token")
JAR=$T/jar
# get PATH [curl args] -> "STATUS LOCATION" (headers in $T/h, body in $T/b)
get() {
	local p=$1
	shift
	curl -s -D "$T/h" -o "$T/b" -w '%{http_code} %{redirect_url}' --max-time "$(scaled 10)" "$@" "$U$p"
}
header() { grep -i "^$1:" "$T/h" | head -1 | cut -d' ' -f2- | tr -d '\r'; }

# ---- nobody: the login page only
expect_eq "$(get /ui/)" "303 $U/login" "/ui/ without a session"
expect_eq "$(get /ui/app.js)" "303 $U/login" "/ui/app.js without a session"
expect_eq "$(get /ui/session)" "303 $U/login" "/ui/session without a session"
expect_eq "$(get /login)" "200 " "the login page"
[[ $(header Content-Type) == text/html* ]] || fail "login page type: $(header Content-Type)"
[[ $(header Content-Security-Policy) == *"default-src 'self'"*"frame-ancestors 'none'"* ]] || fail "login page CSP: $(header Content-Security-Policy)"
grep -q 'id="login-form"' "$T/b" || fail "login page has no form"
expect_eq "$(get /login/login.js)" "200 " "the login page's script"
expect_eq "$(get /login/app.css)" "200 " "the login page's style"
expect_eq "$(get /login/app.js)" "404 " "the dashboard's script is not public"
expect_eq "$(get /login/../ui/app.js --path-as-is)" "404 " "no way around by dots"
for p in /events /metrics /rpc /; do
	expect_eq "$(get "$p" | cut -d' ' -f1)" 401 "$p without a session"
done

# ---- the one-time link
c ui
want_rc 0 "futurectl ui"
[[ $out =~ ^$U/login\?code=[0-9a-f]{48}$ ]] || fail "futurectl ui printed: $out"
link=$out
expect_eq "$(get "${link#"$U"}" -c "$JAR")" "303 $U/ui/" "the link logs in"
cookie=$(header Set-Cookie)
[[ $cookie == futured_session=*"; Path=/; HttpOnly; SameSite=Strict; Max-Age="* ]] || fail "cookie: $cookie"
expect_eq "$(get "${link#"$U"}")" "303 $U/login?error=code" "the link works once"
expect_eq "$(get /login?code=nothex)" "303 $U/login?error=code" "a made-up code"

# ---- with the session
expect_eq "$(get /ui/ -b "$JAR")" "200 " "/ui/ with the session"
grep -q '/ui/app.js' "$T/b" || fail "the dashboard page loads app.js"
[[ $(header Content-Security-Policy) == *"script-src 'self'"* ]] || fail "dashboard CSP"
expect_eq "$(header X-Frame-Options)" DENY "no framing"
expect_eq "$(get /ui/vendor/uPlot.iife.min.js -b "$JAR")" "200 " "uPlot is served"
expect_eq "$(get /ui/nope.js -b "$JAR")" "404 " "an unknown file"
expect_eq "$(get /ui/session -b "$JAR")" "200 " "the session's facts"
csrf=$(jq -r .csrf "$T/b")
[[ $csrf =~ ^[0-9a-f]{48}$ ]] || fail "csrf: $(cat "$T/b")"
expect_jq "$(cat "$T/b")" '.read_only == false and .session == true' "session facts"
INFO='{"jsonrpc":"2.0","id":1,"method":"daemon.info"}'
expect_eq "$(get /rpc -b "$JAR" -H 'Content-Type: application/json' -d "$INFO" | cut -d' ' -f1)" 401 "/rpc with the cookie, no CSRF token"
# the token with its last digit changed (to 1 if it was 0: a 1 in 16 case)
wrong=${csrf%?}0
[ "$wrong" != "$csrf" ] || wrong=${csrf%?}1
expect_eq "$(get /rpc -b "$JAR" -H "X-Futured-CSRF: $wrong" -d "$INFO" | cut -d' ' -f1)" 401 "/rpc with a wrong CSRF token"
expect_eq "$(get /rpc -b "$JAR" -H "X-Futured-CSRF: $csrf" -d "$INFO" | cut -d' ' -f1)" 200 "/rpc with the cookie and the CSRF token"
expect_jq "$(cat "$T/b")" '.result.pid > 0' "daemon.info through the session"
expect_eq "$(get /metrics -b "$JAR" | cut -d' ' -f1)" 200 "/metrics with the session"
r=$(curl -sN --max-time 2 -b "$JAR" "$U/events" | head -c 200)
[[ $r == "retry: "* ]] || fail "/events with the session: $r"

# ---- the login form
expect_eq "$(get /login -d "token=$tok")" "303 $U/ui/" "the form with the token"
[[ $(header Set-Cookie) == futured_session=* ]] || fail "the form's cookie"
expect_eq "$(get /login -d "token=wrong")" "303 $U/login?error=token" "the form with a wrong token"
expect_eq "$(get /login -d "nothing=1")" "303 $U/login?error=token" "the form without a token"
expect_eq "$(get /login -H 'Origin: http://evil.example' -d "token=$tok" | cut -d' ' -f1)" 403 "a form of another origin"
expect_eq "$(get /login -H "Origin: http://127.0.0.1:$port" -d "token=$tok" | cut -d' ' -f1)" 303 "a form of this origin"
expect_eq "$(get /login -H "Origin: null" -d "token=$tok" | cut -d' ' -f1)" 403 "a form of an opaque origin"
expect_eq "$(get /login/login.js)" "200 " "again the login page's script"
expect_eq "$(header Referrer-Policy)" same-origin "no Referer leaves for another site"
expect_eq "$(get /logout | cut -d' ' -f1)" 405 "GET /logout"

# ---- logout ends the session
expect_eq "$(get /logout -b "$JAR" -X POST)" "303 $U/login" "logout"
[[ $(header Set-Cookie) == "futured_session=; "*"Max-Age=0" ]] || fail "logout clears the cookie: $(header Set-Cookie)"
expect_eq "$(get /ui/ -b "$JAR")" "303 $U/login" "the session is gone"

# ---- read-only sessions
stop_daemon
start_daemon --listen 127.0.0.1:0 --ui-read-only 1
port=$(rpc daemon.info | jq -r '.listen[] | select(startswith("tcp:"))' | sed 's/.*://')
U=http://127.0.0.1:$port
rm -f "$JAR"
get "$(ctl ui | sed "s|^$U||")" -c "$JAR" >/dev/null
expect_eq "$(get /ui/session -b "$JAR")" "200 " "read-only session"
expect_jq "$(cat "$T/b")" '.read_only == true' "the page is told it is read-only"
csrf=$(jq -r .csrf "$T/b")
id=$(submit '{"kind":"sleep","seconds":60}')
for m in "task.submit {\"kind\":\"sleep\",\"seconds\":0}" "task.cancel {\"id\":$id}" "task.result {\"id\":$id}" "queue.set {\"name\":\"x\",\"paused\":true}"; do
	get /rpc -b "$JAR" -H "X-Futured-CSRF: $csrf" -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"${m%% *}\",\"params\":${m#* }}" >/dev/null
	expect_jq "$(cat "$T/b")" ".error.code == 11 and .error.message == \"ReadOnly\" and .error.data.method == \"${m%% *}\"" "read-only: ${m%% *}"
done
get /rpc -b "$JAR" -H "X-Futured-CSRF: $csrf" -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"task.get\",\"params\":{\"id\":$id}}" >/dev/null
expect_jq "$(cat "$T/b")" '.result.state == "running"' "read-only: task.get"
expect_eq "$(state "$id")" running "nothing was cancelled"
expect_jq "$(call task.cancel "{\"id\":$id}")" '.result.cancelled == true' "the socket is not read-only"
exit 0
