#!/usr/bin/env bash
# run-examples.sh: runs the Python client's examples against a real futured
# and checks that each shows what it is meant to show.
#
# Starts futured on a scratch state dir (and a second one with a 2-second
# retention for never_retrieved.py), a local HTTP server with a few pages
# for page_preview.py, runs each example with PYTHONPATH=client/python and
# FUTURED_SOCKET set, checks its output, and stops everything it started.
# Exit status: 0 when every example passed, 1 otherwise.
#
#   FUTURED_BUILD=build examples/run-examples.sh    # dir with daemon/futured
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
build=${FUTURED_BUILD:-$top/build}
futured=$build/daemon/futured
futurectl=$build/client/futurectl
python=${PYTHON:-python3}
export PYTHONPATH="$top/client/python${PYTHONPATH:+:$PYTHONPATH}"
unset FUTURED_TOKEN FUTURED_URL

for f in "$futured" "$futurectl"; do
	[ -x "$f" ] || { echo "run-examples: no $f (set FUTURED_BUILD)" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-examples.XXXXXX")
pids=()

# Stops what we started: SIGTERM, then SIGKILL to whatever has not exited
# 30 s later (futured drains its running tasks first).
cleanup() {
	local pid i
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${pids[@]}"; do
		for ((i = 0; i < 300; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_futured NAME ARGS...: a futured on $tmp/NAME, ready on return.
start_futured() {
	local name=$1 i
	shift
	"$futured" --state-dir "$tmp/$name" --config /dev/null --jobs 4 \
	    --drain 2 --kill-grace 2 "$@" >"$tmp/$name.log" 2>&1 &
	pids+=($!)
	for ((i = 0; i < 600; i++)); do
		"$futurectl" --socket "$tmp/$name/futured.sock" info \
		    >/dev/null 2>&1 && return 0
		kill -0 "${pids[-1]}" 2>/dev/null || break
		sleep 0.1
	done
	echo "run-examples: futured ($name) did not start:" >&2
	cat "$tmp/$name.log" >&2
	exit 1
}

start_futured main
start_futured short --retention 2
sock=$tmp/main/futured.sock

# The pages page_preview.py fetches, from a port the kernel picks.
mkdir "$tmp/www"
for n in 1 2; do
	printf '<!-- page %s -->\n\nline one of %s\nline two of %s\nline three\n' \
	    $n $n $n >"$tmp/www/page$n.html"
done
"$python" -u -m http.server --bind 127.0.0.1 --directory "$tmp/www" 0 \
    >"$tmp/http.log" 2>&1 &
pids+=($!)
port=
for ((i = 0; i < 600; i++)); do
	port=$(sed -n 's/.* port \([0-9][0-9]*\) .*/\1/p' "$tmp/http.log" | head -1)
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { echo "run-examples: http.server did not start" >&2; exit 1; }
base=http://127.0.0.1:$port

passed=0
failed=0
out=$tmp/out

# run NAME SOCKET ARGS...: runs examples/NAME.py; its output in $out, its
# exit status in $rc.
run() {
	local name=$1 socket=$2
	shift 2
	FUTURED_SOCKET=$socket timeout 300 "$python" "$here/$name.py" "$@" \
	    >"$out" 2>&1
	rc=$?
}
ok() { echo "ok   $1"; passed=$((passed + 1)); }
fail() {
	echo "FAIL $1: $2"
	sed 's/^/     | /' "$out"
	failed=$((failed + 1))
}

# 1. print_numbers: A 1..5 and B 1..5, each in order, the two interleaved.
run print_numbers "$sock"
if [ $rc -ne 0 ]; then
	fail print_numbers "exit status $rc"
elif [ "$(grep '^A ' "$out" | tr '\n' ' ')" != "A 1 A 2 A 3 A 4 A 5 " ] ||
    [ "$(grep '^B ' "$out" | tr '\n' ' ')" != "B 1 B 2 B 3 B 4 B 5 " ]; then
	fail print_numbers "numbers missing or out of order"
elif ! awk '/^A /{ if (!fa) fa = NR; la = NR } /^B /{ if (!fb) fb = NR; lb = NR }
    END { exit !(fb < la && fa < lb) }' "$out"; then
	fail print_numbers "the two tasks' output is not interleaved"
else
	ok print_numbers
fi

# 2. page_preview: each page's first 3 non-empty lines; a 404 as HttpError.
run page_preview "$sock" "$base/page1.html" "$base/page2.html" "$base/missing.html"
expect="$base/page1.html [200]
  <!-- page 1 -->
  line one of 1
  line two of 1
$base/page2.html [200]
  <!-- page 2 -->
  line one of 2
  line two of 2"
if [ $rc -ne 1 ]; then
	fail page_preview "exit status $rc, not 1 (one URL is missing)"
elif [ "$(head -8 "$out")" != "$expect" ]; then
	fail page_preview "the previews differ from the pages"
elif ! grep -q "^$base/missing.html \[HttpError: .*404" "$out"; then
	fail page_preview "the missing page is not an HttpError 404"
else
	ok page_preview
fi

# 3. primes_email: 2 3 5 ... 97 from the stream, then the email check.
run primes_email "$sock" 100
primes=$(grep -x '[0-9][0-9]*' "$out" | tr '\n' ' ')
want="2 3 5 7 11 13 17 19 23 29 31 37 41 43 47 53 59 61 67 71 73 79 83 89 97 "
if [ $rc -ne 0 ]; then
	fail primes_email "exit status $rc"
elif [ "$primes" != "$want" ]; then
	fail primes_email "primes: $primes"
elif ! grep -qx "25 primes up to 100" "$out" ||
    ! grep -qx "email: you have 3 new messages" "$out"; then
	fail primes_email "no result or no email line"
else
	ok primes_email
fi

# 4. never_retrieved: the warning in the (short retention) daemon's log.
run never_retrieved "$tmp/short/futured.sock"
id=$(sed -n 's/^task \([0-9][0-9]*\) failed; its exception was never retrieved$/\1/p' "$out")
warning="Task exception was never retrieved: task $id (exec): ProcessError"
for ((i = 0; i < 300; i++)); do
	grep -qF "$warning" "$tmp/short.log" && break
	sleep 0.1
done
if [ $rc -ne 0 ] || [ -z "$id" ]; then
	fail never_retrieved "exit status $rc"
elif ! grep -q "unretrieved: \[$id\]" "$out"; then
	fail never_retrieved "task $id not listed as unretrieved"
elif ! grep -qF "$warning" "$tmp/short.log"; then
	fail never_retrieved "no '$warning' in the daemon's log"
else
	ok never_retrieved
	# the warning and the stderr tail lines logged after it, if any
	awk -v w="$warning" 'index($0, w) { on = 1; print; next }
	    on && / \| / { print; next } { on = 0 }' "$tmp/short.log" |
	    sed 's/^/     futured: /'
fi

# 5. fire_and_forget: the notified task ran; futurectl finds it by label.
run fire_and_forget "$sock" "fired by run-examples"
tag=$(sed -n 's/^fired a task labelled run=\([0-9a-f]*\);.*/\1/p' "$out")
listed=$("$futurectl" --socket "$sock" --json list --label "run=$tag" 2>&1)
if [ $rc -ne 0 ] || [ -z "$tag" ]; then
	fail fire_and_forget "exit status $rc"
elif ! grep -qE "^task [0-9]+ succeeded: logged: fired by run-examples$" "$out"; then
	fail fire_and_forget "the fired task did not succeed"
elif ! printf '%s\n' "$listed" | grep -q '"state": *"succeeded"'; then
	fail fire_and_forget "futurectl list --label run=$tag: $listed"
else
	ok fire_and_forget
fi

echo "run-examples: $passed passed, $failed failed"
[ $failed -eq 0 ]
