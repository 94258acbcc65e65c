#!/usr/bin/env bash
# futurectl's target from the environment (the exec tasks of a futured
# that listens on TCP get FUTURED_URL and FUTURED_TOKEN besides
# FUTURED_SOCKET): with neither --socket nor --url, $FUTURED_SOCKET, else
# $FUTURED_URL with the bearer token $FUTURED_TOKEN, else the default
# socket.  FUTURED_URL and FUTURED_TOKEN alone reach the daemon over TCP
# (info, run); a wrong FUTURED_TOKEN exits 3 as a wrong --token-file does;
# --token-file wins over FUTURED_TOKEN; FUTURED_SOCKET wins over
# FUTURED_URL, --socket and --url over both; FUTURED_TOKEN is not sent to
# a --url the command line names; a FUTURED_TOKEN that cannot be a header
# or a FUTURED_URL that is not one is a usage error (2).  The token of a
# task is the daemon's business (tested there): this uses the daemon's own.
. "$(dirname "$0")/harness.sh"
[ -x "$FUTURECTL" ] || fail "no $FUTURECTL"
start_daemon --listen 127.0.0.1:0

addr=$(rpc daemon.info | jq -r '[.listen[] | select(startswith("tcp:"))][0] // empty')
[[ $addr =~ ^tcp:127\.0\.0\.1:([0-9]+)$ ]] || fail "no tcp:127.0.0.1:PORT in daemon.info listen: $addr"
URL=http://127.0.0.1:${BASH_REMATCH[1]}
tok=$(tr -d '\n' <"$STATE/token")
[ -n "$tok" ] || fail "no token in $STATE/token"
# nothing listens on this port (bound, never listening)
NOPORT=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# a default state dir without a socket or a token, so that what works
# works through the variables under test
mkdir "$T/nostate" || fail "mkdir"

# e [NAME=VALUE...] -- ARGS...: futurectl ARGS with FUTURED_SOCKET,
# FUTURED_URL and FUTURED_TOKEN unset but for those given, and the default
# state dir empty; sets rc, out and err
e() {
	local vars=()
	while [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	shift
	env -u FUTURED_SOCKET -u FUTURED_URL -u FUTURED_TOKEN \
	    STATE_DIRECTORY="$T/nostate" "${vars[@]}" \
	    timeout "$(scaled 30)" "$FUTURECTL" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	out=$(<"$T/out")
	err=$(<"$T/err")
}
one_line() { [ "$(wc -l <"$T/err")" = 1 ] || fail "$1: stderr is not one line: $err"; }

# ---- FUTURED_URL and FUTURED_TOKEN alone
e FUTURED_URL="$URL" FUTURED_TOKEN="$tok" -- --json info
want_rc 0 "FUTURED_URL + FUTURED_TOKEN info"
expect_jq "$out" ".pid == $DPID" "info through FUTURED_URL"
e FUTURED_URL="$URL" FUTURED_TOKEN="$tok" -- run -- sh -c 'echo over-env; exit 4'
want_rc 4 "FUTURED_URL run"
expect_eq "$out" over-env "FUTURED_URL run output"
# the token as a shell's $(cat token) or an editor may leave it
e FUTURED_URL="$URL" FUTURED_TOKEN="$tok"$'\n' -- info
want_rc 0 "FUTURED_TOKEN with a trailing newline"

e FUTURED_URL="$URL" FUTURED_TOKEN=not-the-token -- info
want_rc 3 "wrong FUTURED_TOKEN"
one_line "wrong FUTURED_TOKEN"
[[ $err == *"$URL"*"refused the token"*'$FUTURED_TOKEN'* ]] || fail "wrong FUTURED_TOKEN: message: $err"
printf 'not-the-token\n' >"$T/badtoken"
e -- --url "$URL" --token-file "$T/badtoken" info
bad_file_rc=$rc
e FUTURED_URL="$URL" FUTURED_TOKEN=not-the-token -- info
expect_eq "$rc" "$bad_file_rc" "a wrong FUTURED_TOKEN exits as a wrong --token-file"
e FUTURED_URL="$URL" -- info
want_rc 3 "FUTURED_URL without a token"
[[ $err == *"wants a token"* ]] || fail "FUTURED_URL without a token: message: $err"
e FUTURED_URL="$URL" FUTURED_TOKEN= -- info
want_rc 3 "empty FUTURED_TOKEN is none"

# --token-file wins over FUTURED_TOKEN, either way round
e FUTURED_URL="$URL" FUTURED_TOKEN=not-the-token -- --token-file "$STATE/token" info
want_rc 0 "--token-file over a wrong FUTURED_TOKEN"
e FUTURED_URL="$URL" FUTURED_TOKEN="$tok" -- --token-file "$T/badtoken" info
want_rc 3 "a wrong --token-file over FUTURED_TOKEN"
[[ $err == *"check --token-file"* ]] || fail "wrong --token-file: message: $err"

# a token that cannot be a header line; a FUTURED_URL that is not a URL
e FUTURED_URL="$URL" FUTURED_TOKEN=$'a\r\nX-Injected: 1' -- info
want_rc 2 "FUTURED_TOKEN with a line break"
one_line "FUTURED_TOKEN with a line break"
[[ $err == *'$FUTURED_TOKEN holds no usable token'* ]] || fail "FUTURED_TOKEN with a line break: message: $err"
e FUTURED_URL=ftp://127.0.0.1/ FUTURED_TOKEN="$tok" -- info
want_rc 2 "FUTURED_URL ftp://"
one_line "FUTURED_URL ftp://"
[[ $err == *'$FUTURED_URL ftp://127.0.0.1/'* ]] || fail "FUTURED_URL ftp://: message: $err"

# ---- precedence
e FUTURED_SOCKET="$SOCK" FUTURED_URL="http://127.0.0.1:$NOPORT" FUTURED_TOKEN=nope -- --json info
want_rc 0 "FUTURED_SOCKET over FUTURED_URL"
expect_jq "$out" ".pid == $DPID" "info through FUTURED_SOCKET with FUTURED_URL set"
e FUTURED_SOCKET="$T/no.sock" FUTURED_URL="$URL" FUTURED_TOKEN="$tok" -- info
want_rc 3 "FUTURED_SOCKET chosen over a working FUTURED_URL"
[[ $err == *"$T/no.sock"* ]] || fail "FUTURED_SOCKET over FUTURED_URL: message names $err"
e FUTURED_URL="http://127.0.0.1:$NOPORT" FUTURED_TOKEN="$tok" -- --socket "$SOCK" info
want_rc 0 "--socket over FUTURED_URL"
e FUTURED_SOCKET="$T/no.sock" FUTURED_URL="http://127.0.0.1:$NOPORT" -- --url "$URL" --token-file "$STATE/token" info
want_rc 0 "--url over FUTURED_SOCKET and FUTURED_URL"
e FUTURED_SOCKET="$SOCK" -- info
want_rc 0 "FUTURED_SOCKET alone"
e FUTURED_TOKEN="$tok" -- info
want_rc 3 "FUTURED_TOKEN alone: the default socket"
[[ $err == *"$T/nostate/futured.sock"* ]] || fail "FUTURED_TOKEN alone: message: $err"
# the token futured gave with FUTURED_URL goes there, not to another URL
e FUTURED_TOKEN="$tok" -- --url "$URL" info
want_rc 3 "FUTURED_TOKEN is not sent to --url"
[[ $err == *"wants a token"* ]] || fail "FUTURED_TOKEN and --url: message: $err"

# --token-file needs a URL to go with
e FUTURED_SOCKET="$SOCK" FUTURED_URL="$URL" -- --token-file "$STATE/token" info
want_rc 2 "--token-file when FUTURED_SOCKET wins"
[[ $err == *"--token-file goes with --url"* ]] || fail "--token-file without a URL: message: $err"
e -- --token-file "$STATE/token" info
want_rc 2 "--token-file without --url or FUTURED_URL"
e FUTURED_URL="$URL" -- --socket "$SOCK" --token-file "$STATE/token" info
want_rc 2 "--token-file with --socket"

stop_daemon
expect_eq "$DAEMON_RC" 0 "exit status"
note "ok: futurectl's target from FUTURED_SOCKET, FUTURED_URL and FUTURED_TOKEN"
