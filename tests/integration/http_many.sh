#!/usr/bin/env bash
# A thousand fetches at once in one thread (issue #4): 1,000 http tasks on
# /slow/1000, submitted in one batch, all run at the same time (the whole lot
# takes seconds, not 1,000 x 1 s) and all succeed; meanwhile futured stays
# one thread (/proc/PID/status Threads, sampled while they run) and its
# memory stays bounded (peak RSS, VmHWM, under 200 MB); afterwards its
# descriptors come back down.  (Issue #11: each fetch takes 1 s, not 0.2 s,
# so that a loaded machine starting the thousand over a few tenths of a
# second still runs half of them at once; how long the lot took is from the
# first start to the last end, under 20 s scaled by FUTURED_TIME_SCALE.)
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/http_lib.sh"

N=1000
# measured: about 32 MB at the peak; sanitizers multiply memory
RSS_MAX_KB=$((128 * 1024))

# 1,000 connections on each side, plus the daemon's own descriptors
ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((N + 200)) ]; then
	echo "# SKIP: needs $((N + 200)) descriptors, ulimit -n is $(ulimit -n)"
	rm -rf "$T"
	trap - EXIT
	exit 77
fi

start_httpd
start_daemon
fds0=$(nfds "$DPID")
grep -q 'libasan\|libtsan' "/proc/$DPID/maps" && RSS_MAX_KB=$((RSS_MAX_KB * 4))

# futured's threads and RSS, sampled every 10 ms in the background
sample() {
	while [ ! -e "$T/stop" ]; do
		awk '/^Threads:/ { t = $2 } /^VmRSS:/ { r = $2 }
		    END { print t, r }' "/proc/$DPID/status"
		sleep 0.01
	done >"$T/samples"
}
sample &
BG_PIDS="$BG_PIDS $!"
SAMPLER=$!
jq -nc --arg u "$HURL/slow/1000" --argjson n "$N" \
    '[range($n) | {jsonrpc: "2.0", id: ., method: "task.submit",
      params: {kind: "http", url: $u, labels: {n: tostring}}}]' >"$T/batch.json"
t0=$(now)
r=$(post "@$T/batch.json")
ids=$(jq -c '[.[].result.id]' <<<"$r")
expect_jq "$ids" "length == $N and all(.[]; type == \"number\")" "$N submissions in one batch"
note "submitted $N in $(since "$t0") s"

while :; do
	r=$(rpc task.wait "{\"ids\":$ids,\"timeout\":0}")
	[ "$(jq '.pending | length' <<<"$r")" = 0 ] && break
	bc_true "$(since "$t0") > $(scaled 40)" && fail "$N fetches not done within $(scaled 40) s: $(jq '.pending | length' <<<"$r") pending"
	sleep 0.05
done
touch "$T/stop"
wait "$SAMPLER"
read -r samples maxthr maxrss < <(awk '{ n++; if ($1 > t) t = $1; if ($2 > r) r = $2 }
    END { print n, t, r }' "$T/samples")
hwm=$(hwm_kb "$DPID")
# how many ran at once: a sweep over their started_at and finished_at
r=$(rpc task.list "{\"state\":\"succeeded\",\"limit\":1000}")
maxrun=$(jq -r '.tasks[] | "\(.started_at) 1\n\(.finished_at) -1"' <<<"$r" | LC_ALL=C sort |
    awk '{ n += $2; if (n > m) m = n } END { print m + 0 }')
el=$(span_secs "$(jq -c .tasks <<<"$r")")
note "$N fetches of /slow/1000 in $el s, at most $maxrun running at once"
note "$samples samples: at most $maxthr threads, RSS at most $maxrss kB; peak RSS (VmHWM) $hwm kB"

[ "$samples" -ge 3 ] || fail "only $samples samples of futured's threads"
expect_eq "$maxthr" 1 "futured's threads while $N fetches run"
[ "$(threads "$DPID")" = 1 ] || fail "futured has $(threads "$DPID") threads after the fetches"
[ "$hwm" -lt "$RSS_MAX_KB" ] || fail "futured's peak RSS is $hwm kB with $N fetches (bound $RSS_MAX_KB kB)"
[ "$maxrun" -ge $((N / 2)) ] || fail "at most $maxrun of $N fetches ran at once"
bc_true "$el < $(scaled 20)" || fail "$N fetches of /slow/1000 took $el s: not concurrent"

# all succeeded, each with its own page
expect_jq "$r" ".tasks | length == $N" "succeeded fetches"
expect_jq "$r" 'all(.tasks[]; .kind == "http" and .result.status == 200 and (.result.body | test("line one of 1000")) and .attempt == 1)' "results of the fetches"
expect_jq "$(rpc daemon.info)" ".counts.failed == 0 and .counts.running == 0 and .counts.succeeded == $N" "counts after the fetches"
# curl keeps finished connections for reuse, within --http-max
fds1=$(nfds "$DPID")
note "descriptors: $fds0 before, $fds1 after the fetches"
[ "$fds1" -le $((fds0 + N)) ] || fail "futured holds $fds1 descriptors after $N fetches, $fds0 before"

stop_daemon
expect_eq "$DAEMON_RC" 0 "futured exit status"
stop_httpd
