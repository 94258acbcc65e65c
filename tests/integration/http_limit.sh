#!/usr/bin/env bash
# Limits on fetches (issue #4): with --http-max 10, 50 slow fetches never
# have more than 10 running (task.list state=running, polled while they run,
# and their started_at/finished_at afterwards), run 10 at once, and succeed;
# the fetches waiting for a slot do not hold up sleep or exec tasks behind
# them, which run and finish while every fetch still waits, and one of those
# waiting is cancelled without running; with --http-per-host 2, six fetches
# of one host take three rounds; 600 fetches from one host at --http-max
# 300 reuse at most 300 connections.
#
# Issue #11: ten /never fetches hold the ten slots while the 50 are
# submitted, cancelled and overtaken (no window of time decides what still
# waits), and are cancelled in one batch right before the test polls the
# 50, which take a second each, five rounds.
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/http_lib.sh"

# max_running IDS_JSON -> the most tasks of those that ran at once
max_running() {
	local r
	r=$(rpc task.list '{"limit":1000}')
	jq -r --argjson ids "$1" '.tasks[] | select(.started_at != null) |
	    select(.id as $i | $ids | index($i)) |
	    "\(.started_at) 1\n\(.finished_at) -1"' <<<"$r" | LC_ALL=C sort |
	    awk '{ n += $2; if (n > m) m = n } END { print m + 0 }'
}
epoch() { date -d "$1" +%s.%N; }

start_httpd
start_daemon --http-max 10 --jobs 2
expect_jq "$(rpc daemon.info)" '.pid > 0' "futured with --http-max 10"

# ---- the ten slots held by fetches that never end
never=$(jq -nc --arg u "$HURL/never" \
    '[range(10) | {jsonrpc: "2.0", id: ., method: "task.submit",
      params: {kind: "http", url: $u}}]' | post @- | jq -c '[.[].result.id]')
expect_jq "$never" 'length == 10 and all(.[]; type == "number")' "ten /never submissions"
poll_until 10 eval '[ "$(rpc task.list "{\"state\":\"running\"}" | jq ".tasks | length")" = 10 ]' ||
    fail "ten /never fetches are not all running: $(rpc task.list '{"state":"running"}' | jq -c '[.tasks[].id]')"

# ---- 50 fetches behind them, then a sleep and an exec
jq -nc --arg u "$HURL/slow/1000" \
    '[range(50) | {jsonrpc: "2.0", id: ., method: "task.submit",
      params: {kind: "http", url: $u}}]' >"$T/batch.json"
ids=$(post "@$T/batch.json" | jq -c '[.[].result.id]')
expect_jq "$ids" 'length == 50 and all(.[]; type == "number")' "50 submissions"
s=$(submit '{"kind":"sleep","seconds":0.1,"result":"slept"}')
x=$(submit '{"kind":"exec","argv":["echo","ran"]}')
expect_jq "$(rpc task.list '{"state":"running","limit":1000}')" "[.tasks[] | select(.kind == \"http\") | .id] | sort == ($never | sort)" "only the /never fetches run"

# a fetch waiting for a slot is cancelled without running
last=$(jq '.[-1]' <<<"$ids")
expect_jq "$(rpc task.cancel "{\"id\":$last}")" '.cancelled == true' "cancel of a fetch waiting for a slot"
expect_jq "$(rpc task.get "{\"id\":$last}")" '.state == "cancelled" and .attempt == 0 and .started_at == null' "the fetch cancelled while waiting"

# ---- others are not held up behind the waiting fetches: done while they wait
wait_done "$s" 5
wait_done "$x" 5
expect_jq "$(rpc task.result "{\"id\":$s}")" '. == "slept"' "the sleep's result"
expect_jq "$(rpc task.result "{\"id\":$x}")" '.stdout == "ran\n"' "the exec's result"
expect_jq "$(rpc task.list '{"state":"pending","limit":1000}')" "[.tasks[] | select(.kind == \"http\")] | length == 49" "the 49 fetches still wait for a slot"
for id in "$s" "$x"; do
	t=$(rpc task.get "{\"id\":$id}")
	el=$(echo "$(epoch "$(jq -r .finished_at <<<"$t")") - $(epoch "$(jq -r .created_at <<<"$t")")" | bc)
	bc_true "$el < $(scaled 3)" || fail "task $id behind 50 waiting fetches took $el s from its submit to its end"
done

# ---- the slots free: never more than 10 of the 50 running, polled and by
# their timestamps; ten at once
cancels=$(jq -c '[.[] | {jsonrpc: "2.0", id: ., method: "task.cancel", params: {id: .}}]' <<<"$never")
expect_jq "$(post "$cancels")" 'length == 10 and all(.[]; .result.cancelled == true)' "cancel of the ten /never fetches"
t0=$(now)
maxpoll=0 polls=0
while :; do
	n=$(rpc task.list '{"state":"running","limit":1000}' | jq '[.tasks[] | select(.kind == "http")] | length')
	[ "$n" -gt "$maxpoll" ] && maxpoll=$n
	polls=$((polls + 1))
	[ "$(rpc task.wait "{\"ids\":$ids,\"timeout\":0}" | jq '.pending | length')" = 0 ] && break
	bc_true "$(since "$t0") > $(scaled 30)" && fail "50 fetches not done within $(scaled 30) s"
done
mr=$(max_running "$ids")
r=$(rpc task.list '{"state":"succeeded","limit":1000}')
span=$(jq -r '[.tasks[] | select(.kind == "http")] | "\(map(.started_at) | min) \(map(.finished_at) | max)"' <<<"$r")
span=$(echo "$(epoch "${span#* }") - $(epoch "${span% *}")" | bc)
note "49 fetches of /slow/1000 with --http-max 10: $span s from the first start to the last end; $polls polls saw at most $maxpoll running; at most $mr by their timestamps"
[ "$maxpoll" -le 10 ] || fail "$maxpoll fetches running at once with --http-max 10"
[ "$maxpoll" -ge 5 ] || fail "only $maxpoll fetches seen running at once"
expect_eq "$mr" 10 "fetches running at once by their timestamps, --http-max 10"
bc_true "$span >= 4.9" || fail "49 fetches of 1 s, 10 at a time, took only $span s"
expect_jq "$r" '[.tasks[] | select(.kind == "http" and .result.status == 200)] | length == 49' "49 fetches succeeded"
# the sleep and the exec were done before the first of them started
first_start=$(jq -r '[.tasks[] | select(.kind == "http") | .started_at] | min' <<<"$r")
for id in "$s" "$x"; do
	expect_jq "$(rpc task.get "{\"id\":$id}")" ".finished_at < \"$first_start\"" "task $id done before the fetches started ($first_start)"
done
stop_daemon
expect_eq "$DAEMON_RC" 0 "futured exit status"

# ---- --http-per-host 2: six fetches of 0.3 s take three rounds
STATE=""
start_daemon --http-per-host 2
ids=""
t0=$(now)
for i in 1 2 3 4 5 6; do ids="$ids${ids:+,}$(hsubmit /slow/300)"; done
r=$(rpc task.wait "{\"ids\":[$ids],\"timeout\":$(scaled 10)}")
el=$(since "$t0")
expect_jq "$r" '.pending == []' "six fetches with --http-per-host 2"
note "six fetches of /slow/300 with --http-per-host 2: $el s"
bc_true "$el >= 0.85" || fail "six fetches of 0.3 s, two at a time, took only $el s"
r=$(rpc task.list '{"state":"succeeded"}')
expect_jq "$r" '.tasks | length == 6' "six fetches succeeded"

# ---- connections are reused across a burst larger than libcurl's own
# idle cache: 600 fetches from one host at --http-max 300 open at most
# 300 connections (they used to open and close most of them)
stop_daemon
start_daemon --http-max 300
c0=$(curl -s --max-time 10 "$HURL/connections")
jq -nc --arg u "$HURL/slow/100" \
    '[range(600) | {jsonrpc: "2.0", id: ., method: "task.submit",
      params: {kind: "http", url: $u}}]' >"$T/burst.json"
ids=$(post "@$T/burst.json" | jq -c '[.[].result.id]')
expect_jq "$ids" 'length == 600 and all(.[]; type == "number")' "600 submissions"
r=$(CURL_MAX=60 rpc task.wait "{\"ids\":$ids,\"timeout\":50}")
expect_jq "$r" '.pending == []' "600 fetches done"
expect_jq "$(rpc daemon.info)" '.counts.failed == 0' "no fetch failed"
c1=$(curl -s --max-time 10 "$HURL/connections")
opened=$((c1 - c0 - 1))		# minus our own /connections request
note "600 fetches at --http-max 300 opened $opened connections"
[ "$opened" -le 300 ] || fail "600 fetches at --http-max 300 opened $opened connections"

stop_daemon
expect_eq "$DAEMON_RC" 0 "futured exit status"
stop_httpd
