#!/usr/bin/env bash
# GET /metrics (issue #15): Prometheus' text format that promtool accepts;
# counters of submitted, started, retried and finished tasks by kind, queue
# and outcome that match what was done; gauges per state that match
# daemon.info; queue gauges; histograms whose counts match; HTTP refusals;
# process metrics.  On TCP: the token, or --metrics-public 1.
. "$(dirname "$0")/harness.sh"
command -v promtool >/dev/null || fail "promtool is not installed (scripts/deps.sh installs prometheus)"
start_daemon --listen 127.0.0.1:0

metrics() { curl -s --max-time "$(scaled 10)" --unix-socket "$SOCK" http://localhost/metrics; }
# sample TEXT NAME{LABELS} -> its value ("" when absent)
sample() { awk -v n="$2" '$1 == n { print $2 }' <<<"$1"; }

# ---- the format, before anything ran
m=$(metrics)
promtool check metrics <<<"$m" || fail "promtool check metrics (fresh daemon): $(promtool check metrics <<<"$m" 2>&1 | head -5)"
expect_eq "$(sample "$m" 'futured_tasks{state="pending"}')" 0 "no task pending yet"
expect_eq "$(sample "$m" "futured_build_info{version=\"$(rpc daemon.info | jq -r .version)\"}")" 1 "build info"
[ "$(sample "$m" process_open_fds)" -gt 3 ] || fail "process_open_fds: $(sample "$m" process_open_fds)"
[ "$(sample "$m" process_resident_memory_bytes)" -gt 1000000 ] || fail "process_resident_memory_bytes"
hdr=$(curl -s -D - -o /dev/null --unix-socket "$SOCK" http://localhost/metrics)
[[ $hdr == *"Content-Type: text/plain; version=0.0.4; charset=utf-8"* ]] || fail "content type: $hdr"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST --unix-socket "$SOCK" http://localhost/metrics)" 405 "POST /metrics"
expect_eq "$(curl -s -I -o /dev/null -w '%{http_code} %{size_download}' --unix-socket "$SOCK" http://localhost/metrics)" "200 0" "HEAD /metrics: no body"

# ---- work of every outcome, in queue "obs"
ok1=$(submit '{"kind":"exec","argv":["true"],"queue":"obs"}')
ok2=$(submit '{"kind":"sleep","seconds":0,"queue":"obs"}')
bad=$(submit '{"kind":"exec","argv":["sh","-c","exit 3"],"queue":"obs","retries":2,"retry_backoff":0.01}')
slow=$(submit '{"kind":"exec","argv":["sleep","60"],"queue":"obs"}')
wait_state "$slow" running
ctl queue pause --create held >/dev/null || fail "pause held"
held=$(submit '{"kind":"sleep","seconds":0,"queue":"held"}')
wait_done "$ok1"; wait_done "$ok2"; wait_done "$bad" 30
ctl cancel "$slow" >/dev/null || fail "cancel"
wait_done "$slow"
expect_eq "$(state "$bad")" failed "the failing task failed"

m=$(metrics)
promtool check metrics <<<"$m" || fail "promtool check metrics: $(promtool check metrics <<<"$m" 2>&1 | head -5)"
expect_eq "$(sample "$m" 'futured_tasks_submitted_total{kind="exec",queue="obs"}')" 3 "exec submitted to obs"
expect_eq "$(sample "$m" 'futured_tasks_submitted_total{kind="sleep",queue="obs"}')" 1 "sleep submitted to obs"
expect_eq "$(sample "$m" 'futured_tasks_submitted_total{kind="sleep",queue="held"}')" 1 "sleep submitted to held"
expect_eq "$(sample "$m" 'futured_tasks_finished_total{kind="exec",queue="obs",outcome="succeeded"}')" 1 "exec succeeded"
expect_eq "$(sample "$m" 'futured_tasks_finished_total{kind="exec",queue="obs",outcome="failed"}')" 1 "exec failed"
expect_eq "$(sample "$m" 'futured_tasks_finished_total{kind="exec",queue="obs",outcome="cancelled"}')" 1 "exec cancelled"
expect_eq "$(sample "$m" 'futured_task_attempts_retried_total{kind="exec",queue="obs"}')" 2 "two retries of the failing task"
expect_eq "$(sample "$m" 'futured_task_attempts_started_total{kind="exec",queue="obs"}')" 5 "attempts started: 1 + 3 + 1"
# histograms: every started attempt waited; every ended attempt ran
expect_eq "$(sample "$m" 'futured_task_queue_wait_seconds_count{kind="exec"}')" 5 "queue wait observations"
expect_eq "$(sample "$m" 'futured_task_queue_wait_seconds_bucket{kind="exec",le="+Inf"}')" 5 "queue wait +Inf bucket"
expect_eq "$(sample "$m" 'futured_task_run_seconds_count{kind="exec"}')" 5 "run time observations (3 attempts failed, 1 ok, 1 cancelled)"
[ "$(sample "$m" futured_store_commit_seconds_count)" -gt 0 ] || fail "no commit observed"
[ "$(sample "$m" futured_loop_turn_cpu_seconds_count)" -gt 0 ] || fail "no loop turn observed"
# gauges: the same counts as daemon.info
info=$(rpc daemon.info)
for s in pending running succeeded failed cancelled; do
	expect_eq "$(sample "$m" "futured_tasks{state=\"$s\"}")" "$(jq ".counts.$s" <<<"$info")" "futured_tasks $s = daemon.info's"
done
expect_eq "$(sample "$m" futured_tasks_failed_unretrieved)" 1 "one failure not retrieved"
expect_eq "$(sample "$m" 'futured_queue_paused{queue="held"}')" 1 "held is paused"
# the tasks this node holds: on PostgreSQL a paused queue's task is claimed
# by no node until the queue is resumed
expect_eq "$(sample "$m" 'futured_queue_tasks{queue="held",state="pending"}')" "$([ -n "${FUTURED_PG:-}" ] && echo 0 || echo 1)" "held's pending tasks here"
ctl queue set --create obs --concurrency 3 >/dev/null || fail "queue set"
expect_eq "$(sample "$(metrics)" 'futured_queue_concurrency_limit{queue="obs"}')" 3 "obs's limit"
ctl queue resume held >/dev/null
wait_done "$held"

# ---- refusals are counted by status
curl -s -o /dev/null --unix-socket "$SOCK" http://localhost/nope
expect_eq "$(sample "$(metrics)" 'futured_http_refused_total{status="404"}')" 1 "a 404 counted"

# ---- TCP: the token; then --metrics-public 1
port=$(rpc daemon.info | jq -r '.listen[] | select(startswith("tcp:"))' | sed 's/.*://')
tok=$(tr -d '\n' <"$STATE/token")
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")" 401 "metrics on TCP without the token"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" "http://127.0.0.1:$port/metrics")" 200 "metrics on TCP with the token"
stop_daemon
start_daemon --listen 127.0.0.1:0 --metrics-public 1
port=$(rpc daemon.info | jq -r '.listen[] | select(startswith("tcp:"))' | sed 's/.*://')
m=$(curl -s "http://127.0.0.1:$port/metrics")
promtool check metrics <<<"$m" || fail "public metrics: promtool"
expect_eq "$(sample "$m" 'futured_tasks{state="succeeded"}')" 3 "the store's counts after a restart"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"daemon.info"}' "http://127.0.0.1:$port/rpc")" 401 "--metrics-public opens /metrics only"
# ---- the loop turns: a submission takes one: read, commit, answer
# (issue 18: the work budget once took libevent's coarse clock for the
# turn and spun until its tick, a hundred turns and more a request; the
# answer once waited a turn for the socket's write event)
turns() { sample "$(metrics)" futured_loop_turn_cpu_seconds_count; }
t0=$(turns)
l=$("$FUTURED_BUILD/bench/rpcload" -s "$SOCK" -n 300 -p '{"kind":"sleep","seconds":0,"queue":"turns"}' submit) ||
	fail "rpcload: $l"
[[ $l == *"errors=0 "* ]] || fail "rpcload: $l"
t1=$(turns)
# (sqlite answers a commit in its turn; PostgreSQL's answers come in
# turns of their own, one a reply, so only sqlite's count is bounded here)
if [ -z "${FUTURED_PG:-}" ]; then
	(( t1 - t0 < 2 * 300 )) || fail "300 submissions took $((t1 - t0)) loop turns (want < 600)"
fi
exit 0
