#!/usr/bin/env bash
# The preview examples (issue #4): examples/preview.sh (curl and jq on the
# raw JSON-RPC) and examples/preview.py (Python standard library over the
# Unix socket) submit their URLs as http tasks in one batch, wait for all,
# and print the first 3 non-empty lines of each page, the final url of a
# redirect, the size of a binary body and the exception of a failed fetch;
# both print the same, exit 1 when a fetch failed and 0 when none did, and
# fetch at once (20 pages of 0.5 s take about 0.5 s, not 10 s: by the
# tasks' timestamps, and the example's whole run under 4 s, scaled by
# FUTURED_TIME_SCALE, issue #11).
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/http_lib.sh"

EX=$FUTURED_SRC/examples
start_httpd
start_daemon
export FUTURED_SOCKET=$SOCK

# run_ex sh|py ARGS... -> the example's output; its exit status in $T/rc
run_ex() {
	local ex=$1 rc=0
	shift
	case $ex in
	sh)	timeout "$(scaled 60)" sh "$EX/preview.sh" "$@" || rc=$? ;;
	py)	timeout "$(scaled 60)" "$PYTHON" "$EX/preview.py" "$@" || rc=$? ;;
	esac
	echo "$rc" >"$T/rc"
}

urls=("$HURL/page/1" "$HURL/redirect/2" "$HURL/binary" "$HURL/status/404"
    "http://127.0.0.1:1/" "$HURL/slow/300")
cat >"$T/want" <<WANT
$HURL/page/1 [200]
  line one of 1
  line two of 1
  line three of 1
$HURL/redirect/2 -> $HURL/page/0 [200]
  line one of 0
  line two of 0
  line three of 0
$HURL/binary [200]
  (256 bytes of binary)
$HURL/status/404 [HttpError: HTTP 404 from $HURL/status/404]
$HURL/slow/300 [200]
  line one of 300
  line two of 300
  line three of 300
WANT
for ex in sh py; do
	out=$(run_ex "$ex" "${urls[@]}")
	expect_eq "$(cat "$T/rc")" 1 "exit status of preview.$ex with failed fetches"
	# the refused connection's message is curl's: check its start only
	grep -q '^http://127\.0\.0\.1:1/ \[ConnectionError: .*\]$' <<<"$out" ||
	    fail "preview.$ex: no ConnectionError line for port 1 in: $out"
	diff -u "$T/want" <(grep -v '^http://127\.0\.0\.1:1/ ' <<<"$out") >&2 ||
	    fail "preview.$ex printed other lines than expected"
	# (curl's message holds a time in ms)
	sed 's/ after [0-9]* ms: / after N ms: /' <<<"$out" >"$T/out.$ex"
done
diff -u "$T/out.sh" "$T/out.py" >&2 || fail "preview.sh and preview.py print differently"

# ---- every fetch succeeds: exit 0; 20 slow pages at once
urls=()
for i in $(seq 20); do urls+=("$HURL/slow/$((500 + i))"); done
for ex in sh py; do
	t0=$(now)
	out=$(run_ex "$ex" "${urls[@]}")
	el=$(since "$t0")
	expect_eq "$(cat "$T/rc")" 0 "exit status of preview.$ex"
	expect_eq "$(grep -c '^  line three of 5[0-9][0-9]$' <<<"$out")" 20 "pages previewed by preview.$ex"
	expect_eq "$(sed -n 2p <<<"$out")" "  line one of 501" "preview.$ex keeps the order of its arguments"
	bc_true "$el < $(scaled 4)" || fail "preview.$ex took $el s for 20 pages of 0.5 s"
	span=$(span_secs "$(rpc task.list '{"limit":20}' | jq -c .tasks)")
	bc_true "$span < $(scaled 2)" || fail "the 20 fetches of preview.$ex took $span s from the first start to the last end"
done

# ---- usage and a daemon that is not there: exit 2
for ex in sh py; do
	run_ex "$ex" >/dev/null 2>&1
	expect_eq "$(cat "$T/rc")" 2 "preview.$ex without URLs"
	FUTURED_SOCKET=$T/nowhere.sock run_ex "$ex" "$HURL/page/1" >/dev/null 2>"$T/err"
	expect_eq "$(cat "$T/rc")" 2 "preview.$ex without a daemon"
	grep -q . "$T/err" || fail "preview.$ex without a daemon says nothing"
	# a URL futured refuses (-32602) is reported, naming the field
	run_ex "$ex" "$HURL/page/1" "ftp://127.0.0.1/x" >/dev/null 2>"$T/err"
	expect_eq "$(cat "$T/rc")" 2 "preview.$ex with an ftp:// URL"
	grep -q 'url' "$T/err" || fail "preview.$ex does not name the invalid field: $(cat "$T/err")"
done

stop_daemon
expect_eq "$DAEMON_RC" 0 "futured exit status"
stop_httpd
