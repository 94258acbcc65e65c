# http_lib.sh: sourced by tests/integration/http_*.sh after harness.sh
# (issue #4); not a test itself.  Starts tests/httpd/test-httpd, whose
# pages the http tasks fetch, and adds helpers for http tasks.  The server
# is one of BG_PIDS, so the harness kills it whatever happens; a test that
# gets to its end stops it with stop_httpd, which also checks that it shuts
# down cleanly.
HTTPD=$FUTURED_BUILD/tests/httpd/test-httpd
[ -x "$HTTPD" ] || fail "no $HTTPD (make check builds it)"

HPID=""		# the running test-httpd
HURL=""		# its base URL, http://127.0.0.1:PORT

# start_httpd: test-httpd on a port of its choosing (its first line)
start_httpd() {
	local port
	"$HTTPD" >"$T/httpd.port" 2>>"$T/httpd.log" </dev/null &
	HPID=$!
	BG_PIDS="$BG_PIDS $HPID"
	poll_until 10 test -s "$T/httpd.port" ||
	    fail "test-httpd printed no port within $(scaled 10) s"
	port=$(head -n 1 "$T/httpd.port")
	[[ $port =~ ^[0-9]+$ ]] || fail "test-httpd printed '$port', not a port"
	HURL=http://127.0.0.1:$port
}

# stop_httpd: SIGTERM; it must exit 0 within 5 s (scaled)
stop_httpd() {
	local p=$HPID rc
	[ -n "$p" ] || return 0
	HPID=""
	kill -TERM "$p"
	poll_until 5 eval '! alive '"$p" || fail "test-httpd still runs $(scaled 5) s after SIGTERM"
	wait "$p"
	rc=$?
	[ "$rc" = 0 ] || fail "test-httpd exited with $rc: $(tail -n 20 "$T/httpd.log")"
}

# hsubmit PATH [JSON FIELDS]: an http task fetching $HURL/PATH -> its id;
# the fields are spliced into the params: hsubmit /page/1 '"timeout":2'
hsubmit() {
	submit "{\"kind\":\"http\",\"url\":\"$HURL$1\"${2:+,$2}}"
}

# outcome ID -> {state, result, exception, attempt} of a finished task
outcome() {
	wait_done "$1" "${2:-20}"
	rpc task.get "{\"id\":$1}" |
	    jq -c '{state, result, exception, attempt, error}'
}

# rss_kb PID, threads PID: from /proc/PID/status
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
threads() { awk '/^Threads:/ { print $2 }' "/proc/$1/status"; }

# epoch RFC3339 -> seconds since the epoch
epoch() { date -d "$1" +%s.%N; }
# ran_secs ID -> seconds from the task's started_at to its finished_at
ran_secs() {
	local t s f
	t=$(rpc task.get "{\"id\":$1}")
	s=$(date -d "$(jq -r .started_at <<<"$t")" +%s.%N)
	f=$(date -d "$(jq -r .finished_at <<<"$t")" +%s.%N)
	echo "$f - $s" | bc
}

# span_secs TASKS_JSON -> seconds from the first started_at to the last
# finished_at of the tasks (an array of task objects)
span_secs() {
	local s
	s=$(jq -r '"\(map(.started_at) | min) \(map(.finished_at) | max)"' <<<"$1")
	echo "$(epoch "${s#* }") - $(epoch "${s% *}")" | bc
}

# hwm_kb PID: the peak RSS (VmHWM); nfds PID: open descriptors
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
nfds() { ls "/proc/$1/fd" | wc -l; }
