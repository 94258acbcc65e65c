# harness.sh: sourced by tests/integration/*.sh (issue #2); not a test itself.
#
# Starts futured on a temp state dir (own session, logs kept in the state dir),
# talks to it over its Unix socket, and on exit stops the daemon and every
# process the test started: the daemon's whole session (task children stay in
# it even after a kill -9 orphans them) and any background helper listed in
# BG_PIDS.  The temp dir is removed when the test passes; on failure it is kept
# and the daemon logs are printed.
#
# Environment: FUTURED_BUILD (tree holding daemon/futured, client/futurectl),
# FUTURED_SRC (tree holding tests/rpc); both default to this checkout.
# KEEP_T=1 keeps the temp dir (state dirs, logs) of a passing test too.
#
# FUTURED_TIME_SCALE (default 1; a number >= 1) stretches the time limits
# the tests set on themselves, for a machine slower or busier than they
# were written for (issue #11).  `scaled N` prints N times it, and the
# harness's own limits scale with it: poll_until, wait_done, wait_state,
# stop_daemon, start_daemon's wait for daemon.info (10 s), the curl bound of
# post/call/rpc/http_status/timed_post (CURL_MAX, 30 s) and ctl's (30 s).
# Tests scale the same way the upper bounds that are the point of a test
# (an answer comes promptly) and the few task durations that must outlast
# steps of the test; lower bounds ("not before") stay as written.  The rest
# waits on order and outcome (a gate file the test creates, a long-poll
# seen parked in daemon.info, the daemon's own timestamps), not on a window
# of time, so that at 1 `make -j16 check` passes on two cores.
set -u

H_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${FUTURED_SRC:=$(cd "$H_DIR/../.." && pwd)}"
: "${FUTURED_BUILD:=$FUTURED_SRC}"
FUTURED=$FUTURED_BUILD/daemon/futured
FUTURECTL=$FUTURED_BUILD/client/futurectl
TEST_NAME=$(basename "$0" .sh)

# run inside a futured task (FUTURED_TASK_ID set), futurectl would make
# every task of the test a child of a task this daemon does not know
unset FUTURED_TASK_ID FUTURED_URL FUTURED_TOKEN
MAIN_PID=$$
FAILS=""	# file of failures, once the temp dir exists
# fail MESSAGE: the test fails.  Called in a command substitution it still
# stops the whole test (SIGUSR1 to the main shell).  With KEEP_GOING=1 it
# only records the failure and the test goes on (to list every failure).
fail() {
	echo "FAIL: $TEST_NAME: $*" >&2
	[ -n "$FAILS" ] && echo "$*" >>"$FAILS"
	if [ -n "${KEEP_GOING:-}" ] && [ -n "$FAILS" ]; then
		return 1
	fi
	[ "$BASHPID" = "$MAIN_PID" ] || kill -USR1 "$MAIN_PID" 2>/dev/null
	exit 1
}
note() { echo "# $*"; }

: "${FUTURED_TIME_SCALE:=1}"
[[ $FUTURED_TIME_SCALE =~ ^[0-9]+([.][0-9]+)?$ ]] &&
    awk -v s="$FUTURED_TIME_SCALE" 'BEGIN { exit !(s >= 1) }' ||
    fail "FUTURED_TIME_SCALE=$FUTURED_TIME_SCALE: want a number >= 1"
export FUTURED_TIME_SCALE	# for the helpers the tests start (Python)
# curl_max: CURL_MAX_S = CURL_MAX (30), scaled; no subshell at 1, as every
# request uses it
curl_max() {
	if [ "$FUTURED_TIME_SCALE" = 1 ]; then
		CURL_MAX_S=${CURL_MAX:-30}
	else
		CURL_MAX_S=$(scaled "${CURL_MAX:-30}")
	fi
}
# scaled N -> N * FUTURED_TIME_SCALE (N itself at 1)
scaled() {
	if [ "$FUTURED_TIME_SCALE" = 1 ]; then
		echo "$1"
	else
		awk -v n="$1" -v s="$FUTURED_TIME_SCALE" 'BEGIN { printf "%.6g\n", n * s }'
	fi
}

for _t in jq curl python3 bc setsid timeout pkill pgrep; do
	command -v "$_t" >/dev/null || fail "needs $_t"
done
# the interpreter itself, not a version-manager shim (much slower to start)
PYTHON=$(python3 -c 'import sys; print(sys.executable)') || fail "python3 does not run"
[ -x "$FUTURED" ] || fail "no $FUTURED (build first, or set FUTURED_BUILD)"

T=$(mktemp -d "${TMPDIR:-/tmp}/futured-$TEST_NAME.XXXXXX") || fail "mktemp"
[ ${#T} -lt 70 ] || fail "temp dir $T too long for a Unix socket path (set TMPDIR)"
FAILS=$T/failures

DPID=""		# the running daemon, "" when none
STATE=""	# its state dir
SOCK=""		# its socket
SESSIONS=""	# session ids of every daemon started (= their pids)
BG_PIDS=""	# helpers started in the background by the test
DAEMON_RC=""	# exit status of the last stopped daemon

# alive PID: the process exists and is not a zombie
alive() {
	local st
	{ st=$(<"/proc/$1/stat"); } 2>/dev/null || return 1
	st=${st##*) }
	[ -n "$st" ] && [ "${st%% *}" != Z ]
}

cleanup() {
	local rc=$? p s log
	trap - EXIT
	if [ -s "$FAILS" ]; then
		[ "$rc" != 0 ] || rc=1
		echo "---- $(wc -l <"$FAILS") failure(s) in $TEST_NAME" >&2
	fi
	for p in $BG_PIDS; do kill -9 "$p" 2>/dev/null; done
	# every background job of this shell still running: daemons get a
	# SIGTERM and 5 s, then everything left gets SIGKILL
	for p in $(jobs -p); do kill -TERM "$p" 2>/dev/null; done
	for _ in $(seq 100); do
		[ -n "$(jobs -pr)" ] || break
		sleep 0.05
	done
	for p in $(jobs -p); do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	# everything left in a daemon's session: tasks' process groups, orphans.
	# A session id cannot be reused while the session has members; a live
	# process with that pid (our daemons are gone) means it was reused.
	for s in $SESSIONS; do
		[ -e "/proc/$s" ] || pkill -KILL -s "$s" 2>/dev/null
	done
	# a sanitizer build reports into the daemon's log: any report fails
	for log in "$T"/*/daemon.log "$T"/*.log; do
		[ -f "$log" ] || continue
		if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log"; then
			echo "---- sanitizer report in $log" >&2
			[ "$rc" != 0 ] || rc=1
		fi
	done
	if [ "$rc" = 0 ]; then
		[ -n "${KEEP_T:-}" ] || rm -rf "$T"
	else
		for log in "$T"/*/daemon.log; do
			[ -f "$log" ] || continue
			echo "---- $log (last 150 lines)" >&2
			tail -n 150 "$log" >&2
		done
		echo "---- kept $T" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' USR1
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# now -> seconds since the epoch (bash's own clock when it has one: under
# load, starting date(1) is what takes the time)
now() {
	if [[ ${EPOCHREALTIME-} =~ ^[0-9]+[.][0-9]+$ ]]; then
		echo "$EPOCHREALTIME"
	else
		date +%s.%N
	fi
}
# since T0 -> seconds elapsed
since() { echo "$(now) - $1" | bc; }
# is EXPR (bc) true?
bc_true() { [ "$(echo "$1" | bc -l)" = 1 ]; }
# usecs SECONDS -> microseconds, as an integer (no process started)
usecs() {
	local i=${1%%.*} f=""
	[[ $1 == *.* ]] && f=${1#*.}
	f=${f}000000
	echo $((10#${i:-0} * 1000000 + 10#${f:0:6}))
}
# deadline SECONDS -> the time (usecs) SECONDS, scaled, from now
deadline() { echo $(($(usecs "$(now)") + $(usecs "$(scaled "$1")"))); }
# past DEADLINE: is it past?
past() { [ "$(usecs "$(now)")" -gt "$1" ]; }

# poll_until SECONDS CMD...: runs CMD every 50 ms until it succeeds; 1 once
# SECONDS (scaled) have gone by
poll_until() {
	local end
	end=$(deadline "$1")
	shift
	while :; do
		"$@" && return 0
		past "$end" && return 1
		sleep 0.05
	done
}

# pg_state_db: the URI of $STATE's database on FUTURED_PG, created once
pg_state_db() {
	local db
	db=ft_$(basename "$(dirname "$STATE")")_$(basename "$STATE")
	db=$(tr 'A-Z' 'a-z' <<<"$db" | tr -c 'a-z0-9\n' '_')
	psql -qX "${FUTURED_PG//\{db\}/postgres}" -c "CREATE DATABASE $db" >/dev/null 2>&1 || true
	echo "${FUTURED_PG//\{db\}/$db}"
}
new_state() { STATE=$(mktemp -d "$T/st.XXXX") || fail "mktemp"; SOCK=$STATE/futured.sock; }

# start_daemon [futured args...]: on $STATE (a new one when unset), ready once
# daemon.info answers on the socket with the daemon's pid (within 10 s, scaled)
start_daemon() {
	local info end fd closefds
	[ -n "$DPID" ] && fail "start_daemon: one is already running"
	[ -n "$STATE" ] || new_state
	SOCK=$STATE/futured.sock
	local a prev=""
	for a in "$@"; do
		case $prev in --socket) SOCK=$a ;; esac
		case $a in --socket=*) SOCK=${a#--socket=} ;; esac
		prev=$a
	done
	# an installed /etc/futured/futured.conf must not change what is tested
	case " $* " in *" --config "*) ;; *) set -- --config /dev/null "$@" ;; esac
	# FUTURED_PG (a libpq URI template, {db} for the database): the state
	# dir's own database on that PostgreSQL, as ../shared/contract does
	if [ -n "${FUTURED_PG:-}" ]; then
		case " $* " in *" --store "*) ;; *) set -- --store "$(pg_state_db)" "$@" ;; esac
	fi
	echo "==== start: futured --state-dir $STATE $*" >>"$STATE/daemon.log"
	# descriptors this shell inherited (from make, a terminal) are not the daemon's
	closefds=""
	for fd in /proc/$BASHPID/fd/*; do
		fd=${fd##*/}
		[ "$fd" -gt 2 ] 2>/dev/null && closefds="$closefds $fd>&-"
	done
	eval 'setsid "$FUTURED" --state-dir "$STATE" "$@" >>"$STATE/daemon.log" 2>&1 </dev/null '"$closefds"' &'
	DPID=$!
	SESSIONS="$SESSIONS $DPID"
	end=$(deadline 10)
	while :; do
		if ! alive "$DPID"; then
			wait "$DPID"
			DAEMON_RC=$?
			DPID=""
			fail "futured exited with $DAEMON_RC at start (args: $*)"
		fi
		if [ -S "$SOCK" ]; then
			info=$(CURL_MAX=2 post '{"jsonrpc":"2.0","id":0,"method":"daemon.info"}' 2>/dev/null)
			if [ -n "$info" ]; then
				[ "$(jq -r .result.pid <<<"$info" 2>/dev/null)" = "$DPID" ] ||
				    fail "daemon.info pid is not the started futured's ($DPID): $info"
				return 0
			fi
		fi
		past "$end" && break
		sleep 0.05
	done
	fail "futured did not answer daemon.info on $SOCK within $(scaled 10) s"
}

# stop_daemon [SECONDS]: SIGTERM, fail unless it exits within SECONDS (20:
# the default --drain 10 plus --kill-grace 5 and some slack; scaled); sets
# DAEMON_RC
stop_daemon() {
	local p=$DPID lim=${1:-20}
	[ -n "$p" ] || return 0
	DPID=""
	kill -TERM "$p" 2>/dev/null
	if ! poll_until "$lim" eval '! alive '"$p"; then
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
		fail "futured still running $(scaled "$lim") s after SIGTERM"
	fi
	wait "$p"
	DAEMON_RC=$?
}

# kill9_daemon: a crash; the socket file and task children stay behind
kill9_daemon() {
	[ -n "$DPID" ] || return 0
	kill -9 "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=""
}

# post BODY -> response body of POST /rpc on the socket; curl gives up after
# CURL_MAX (30) seconds, scaled
post() {
	local CURL_MAX_S
	curl_max
	# @FILE (@- stdin) as curl reads it; else the body itself, on stdin:
	# a large batch does not fit in an argument
	case $1 in
	@*)	curl -s --max-time "$CURL_MAX_S" --unix-socket "$SOCK" -H 'Expect:' \
		    -H 'Content-Type: application/json' --data-binary "$1" \
		    http://localhost/rpc ;;
	*)	printf '%s' "$1" | curl -s --max-time "$CURL_MAX_S" \
		    --unix-socket "$SOCK" -H 'Expect:' \
		    -H 'Content-Type: application/json' --data-binary @- \
		    http://localhost/rpc ;;
	esac
}
# call METHOD [PARAMS] -> the whole response
call() {
	local params=${2-}
	[ -n "$params" ] || params='{}'
	post "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$params}"
}
# timed_post BODY -> "SECONDS RESPONSE": SECONDS is curl's own time for the
# request (connect to the last byte of the answer), free of the process
# starts that a clock in the shell adds to it under load
timed_post() {
	local out CURL_MAX_S
	curl_max
	out=$(curl -s --max-time "$CURL_MAX_S" --unix-socket "$SOCK" \
	    -H 'Expect:' -H 'Content-Type: application/json' -w '\n%{time_total}' \
	    --data-binary "$1" http://localhost/rpc)
	echo "${out##*$'\n'} ${out%$'\n'*}"
}
# timed_call METHOD [PARAMS] -> "SECONDS RESPONSE", as timed_post
timed_call() {
	local params=${2-}
	[ -n "$params" ] || params='{}'
	timed_post "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$params}"
}
# rpc METHOD [PARAMS] -> the result, or {"error": ...}
rpc() {
	call "$@" | jq -c 'if has("result") then .result else {error: .error} end'
}
# http_status BODY [curl args...] -> HTTP status of POST /rpc
http_status() {
	local body=$1 CURL_MAX_S
	shift
	curl_max
	curl -s -o /dev/null -w '%{http_code}' --max-time "$CURL_MAX_S" \
	    --unix-socket "$SOCK" -H 'Expect:' --data-binary "$body" "$@" http://localhost/rpc
}

expect_eq() { [ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"; }
# expect_jq JSON FILTER WHAT: FILTER (jq) must yield true on JSON
expect_jq() {
	# jq -e passes on no input at all: an empty answer is a failure
	[ -n "${1//[[:space:]]/}" ] || fail "$3: want $2 on an empty answer"
	jq -e "$2" <<<"$1" >/dev/null 2>&1 ||
	    fail "$3: want $2 on: $(head -c 800 <<<"$1")"
}

# submit PARAMS -> the new task's id (fails the test otherwise)
submit() {
	local r id
	r=$(call task.submit "$1")
	id=$(jq -r '.result.id // empty' <<<"$r" 2>/dev/null)
	[[ $id =~ ^[0-9]+$ ]] || fail "task.submit $1: $r"
	echo "$id"
}
# state ID -> the task's state
state() { call task.get "{\"id\":$1}" | jq -r .result.state; }
# wait_done ID [SECONDS]: fails unless the task finishes within SECONDS (20,
# scaled); long-polls again when the daemon's --max-wait ends a wait sooner
wait_done() {
	local r lim=${2:-20} end left
	end=$(deadline "$lim")
	while :; do
		left=$((end - $(usecs "$(now)")))
		[ "$left" -gt 0 ] || left=0
		r=$(CURL_MAX=$((lim + 10)) rpc task.wait "{\"ids\":[$1],\"timeout\":$((left / 1000000)).$(printf %06d $((left % 1000000)))}")
		[ "$(jq -c .done <<<"$r")" = "[$1]" ] && return 0
		[ "$left" -gt 0 ] && [ "$(jq -c .pending <<<"$r")" = "[$1]" ] || break
	done
	fail "task $1 not done within $(scaled "$lim") s: $r; it is $(call task.get "{\"id\":$1}" | jq -c '.result | {state, parent, waiting_for_children, attempts} // .')"
}
# wait_state ID STATE [SECONDS]: polls task.get (10 s, scaled)
wait_state() {
	poll_until "${3:-10}" eval '[ "$(state '"$1"')" = '"$2"' ]' ||
	    fail "task $1 not $2 within $(scaled "${3:-10}") s (is $(state "$1"))"
}

# ctl ARGS...: futurectl on this daemon's socket, bounded (30 s, scaled)
ctl() {
	[ -x "$FUTURECTL" ] || fail "no $FUTURECTL (build first, or set FUTURED_BUILD)"
	timeout "$(scaled 30)" "$FUTURECTL" --socket "$SOCK" "$@"
}

# c ARGS...: futurectl on our socket; sets rc, out (stdout) and err (stderr)
c() {
	ctl "$@" >"$T/out" 2>"$T/err"
	rc=$?
	out=$(<"$T/out")
	err=$(<"$T/err")
}
# want_rc N WHAT: the last c (or u) exited with N
want_rc() { [ "$rc" = "$1" ] || fail "$2: exit status $rc, want $1 (stdout: ${out:0:300}; stderr: ${err:0:300})"; }

# a tag unique to this run, for process names that pgrep -f can find
UNIQ=$$$RANDOM
