#!/usr/bin/env bash
# Every method of issue #2 over the Unix socket: success paths and the task
# object's shape, every error code reachable here (1 TaskFailed, 2
# TaskCancelled, 3 TaskNotDone, 4 NoSuchTask, 5 KeyConflict, 6 ShuttingDown
# on a kept-alive connection during shutdown, -32600, -32601, -32602, -32700)
# with its data, task.list filters (state, queue, label,
# unretrieved) and cursor pagination over 250 tasks, daemon.info and the
# rpc.discover OpenRPC document.  (Issue #11: the delayed task that must
# stay pending to the end is delayed an hour; the call during shutdown waits
# for the listener to close, not 0.3 s; how late a not_before task started
# is the daemon's started_at; upper bounds are scaled by FUTURED_TIME_SCALE.)
. "$(dirname "$0")/harness.sh"
start_daemon --jobs 4

TIME_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$'
SHAPE='(["id","kind","state","queue","priority","key","spec","labels","attempt",
  "max_retries","created_at","started_at","finished_at"] - keys) == []
  and (.id | type) == "number" and .id >= 1 and .id == (.id | floor)
  and (.created_at | test($re))'

# ---- task.submit: the task object
r=$(call task.submit '{"kind":"sleep","seconds":30,"result":{"answer":42},"labels":{"team":"a","env":"t"},"priority":7,"queue":"q1","key":"m-k1","retries":2}')
t=$(jq -c .result <<<"$r")
jq -e --arg re "$TIME_RE" "$SHAPE" <<<"$t" >/dev/null || fail "task object shape: $r"
expect_jq "$t" '.kind == "sleep" and (.state == "pending" or .state == "running")' "new task kind/state"
expect_jq "$t" '.queue == "q1" and .priority == 7 and .key == "m-k1" and .max_retries == 2' "submitted placement"
expect_jq "$t" '.labels == {"team":"a","env":"t"}' "labels kept"
expect_jq "$t" '.spec == {"kind":"sleep","seconds":30,"result":{"answer":42}}' "spec holds the kind and its fields only"
expect_jq "$t" '.finished_at == null and (has("result") | not) and (has("exception") | not)' "unfinished task has no outcome"
expect_jq "$t" '.attempt == 0 or .attempt == 1' "attempt before or at the first start"
long=$(jq .id <<<"$t")
g=$(call task.get "{\"id\":$long}")
expect_jq "$g" ".id == 1 and .result.id == $long and .result.spec == $(jq -c .spec <<<"$t") and .result.created_at == $(jq .created_at <<<"$t") and .result.labels == {\"team\":\"a\",\"env\":\"t\"}" "task.get returns the submitted task"

# defaults
d=$(submit '{"kind":"exec","argv":["true"]}')
wait_done "$d"
g=$(rpc task.get "{\"id\":$d}")
jq -e --arg re "$TIME_RE" "$SHAPE" <<<"$g" >/dev/null || fail "finished task object shape: $g"
expect_jq "$g" '.queue == "default" and .priority == 0 and .key == null and .labels == {} and .max_retries == 0' "defaults"
expect_jq "$g" '.state == "succeeded" and .attempt == 1 and .result.exit_code == 0' "finished exec task"
jq -e --arg re "$TIME_RE" '(.started_at | test($re)) and (.finished_at | test($re))
  and .created_at <= .started_at and .started_at <= .finished_at' <<<"$g" >/dev/null ||
    fail "timestamps of a finished task: $g"
[ "$d" -gt "$long" ] || fail "ids must grow: $d after $long"

# a notification submits too, and is committed by the time the empty 200 comes back
expect_eq "$(http_status '{"jsonrpc":"2.0","method":"task.submit","params":{"kind":"sleep","seconds":0,"labels":{"via":"notification"}}}' -H 'Content-Type: application/json')" 200 "notification submit status"
expect_eq "$(post '{"jsonrpc":"2.0","method":"task.submit","params":{"kind":"sleep","seconds":0,"labels":{"via":"notification"}}}')" "" "notification submit body"
expect_eq "$(rpc task.list '{"label":{"via":"notification"}}' | jq '.tasks | length')" 2 "notification submits created tasks"

# ---- keys: ensure_future
k1=$(submit '{"kind":"sleep","seconds":60,"key":"m-same"}')
k2=$(submit '{"kind":"sleep","seconds":60,"key":"m-same"}')
expect_eq "$k2" "$k1" "same key, same spec: same task"
r=$(call task.submit '{"kind":"sleep","seconds":61,"key":"m-same"}')
expect_jq "$r" ".error.code == 5 and .error.message == \"KeyConflict\" and .error.data.key == \"m-same\" and .error.data.id == $k1" "KeyConflict data"

# ---- task.result / task.exception
s=$(submit '{"kind":"sleep","seconds":0.2,"result":{"answer":42}}')
expect_jq "$(call task.result "{\"id\":$s,\"timeout\":10}")" '.result == {"answer":42}' "sleep result"
expect_jq "$(call task.exception "{\"id\":$s}")" 'has("result") and .result == null' "exception of a succeeded task is null"
n=$(submit '{"kind":"sleep","seconds":0}')
expect_jq "$(call task.result "{\"id\":$n,\"timeout\":10}")" 'has("result") and .result == null' "sleep without result gives null"

pend=$(submit '{"kind":"sleep","seconds":0,"delay":3600}')	# pending to the end
expect_jq "$(call task.result "{\"id\":$pend}")" ".error.code == 3 and .error.message == \"TaskNotDone\" and .error.data.id == $pend and .error.data.state == \"pending\"" "TaskNotDone data"
expect_jq "$(call task.result "{\"id\":$pend,\"timeout\":0}")" '.error.code == 3' "timeout 0 answers at once"
expect_jq "$(call task.exception "{\"id\":$pend}")" ".error.code == 3 and .error.data.id == $pend" "task.exception of a pending task"

f=$(submit '{"kind":"exec","argv":["sh","-c","echo boom >&2; exit 5"]}')
r=$(call task.result "{\"id\":$f,\"timeout\":10}")
expect_jq "$r" ".error.code == 1 and .error.message == \"TaskFailed\" and .error.data.id == $f" "TaskFailed"
expect_jq "$r" '.error.data.exception.type == "ProcessError" and .error.data.exception.exit_code == 5 and (.error.data.exception.message | type) == "string"' "TaskFailed carries the exception"
e=$(rpc task.exception "{\"id\":$f}")
expect_jq "$e" '.type == "ProcessError" and .exit_code == 5' "task.exception of a failed task"
expect_jq "$(rpc task.get "{\"id\":$f}")" '.state == "failed" and .exception.type == "ProcessError" and (has("result") | not)' "failed task object"

# ---- task.cancel
c=$(submit '{"kind":"sleep","seconds":0,"delay":60}')
expect_jq "$(call task.cancel "{\"id\":$c}")" '.result == {"cancelled": true}' "cancel a pending task"
expect_jq "$(call task.cancel "{\"id\":$c}")" '.result == {"cancelled": false}' "cancel it again"
expect_eq "$(state "$c")" cancelled "cancelled state"
expect_jq "$(call task.result "{\"id\":$c}")" ".error.code == 2 and .error.message == \"TaskCancelled\" and .error.data.id == $c" "TaskCancelled from task.result"
expect_jq "$(call task.exception "{\"id\":$c}")" ".error.code == 2 and .error.data.id == $c" "TaskCancelled from task.exception"
expect_jq "$(call task.cancel "{\"id\":$d}")" '.result == {"cancelled": false}' "cancel a finished task"
expect_eq "$(state "$d")" succeeded "a finished task stays finished"

# ---- NoSuchTask from every method that takes ids
for m in task.get task.result task.exception task.cancel; do
	expect_jq "$(call "$m" '{"id":987654321}')" '.error.code == 4 and .error.message == "NoSuchTask" and .error.data.id == 987654321' "$m of an unknown id"
done
expect_jq "$(call task.wait "{\"ids\":[$d,987654321],\"timeout\":0}")" '.error.code == 4 and .error.data.id == 987654321' "task.wait with an unknown id"
expect_jq "$(call task.submit '{"kind":"sleep","seconds":0,"after":[987654321]}')" '.error.code == 4 and .error.data.id == 987654321' "after an unknown id"

# ---- task.wait success
expect_jq "$(call task.wait "{\"ids\":[$d,$s,$f],\"timeout\":5}")" ".result.pending == [] and (.result.done | sort) == ([$d,$s,$f] | sort)" "wait on finished tasks"
expect_jq "$(call task.wait "{\"ids\":[$d,$pend],\"timeout\":0}")" ".result.done == [$d] and .result.pending == [$pend]" "wait timeout 0"

# ---- JSON-RPC errors reach the client as such
expect_jq "$(post '{"jsonrpc":"2.0","id":1,"method":"task.get","params":{"id":1}')" '.error.code == -32700 and .id == null' "-32700"
expect_jq "$(post '{"jsonrpc":"2.0","id":3,"method":7}')" '.error.code == -32600 and .id == 3' "-32600"
expect_jq "$(post '{"jsonrpc":"2.0","id":4,"method":"task.nope"}')" '.error.code == -32601 and .id == 4' "-32601"
expect_jq "$(call task.submit '{"kind":"exec","argv":["x"],"env":{"A=B":"1"}}')" '.error.code == -32602 and .error.data.field == "env.A=B" and (.error.data.reason | length) > 0' "-32602 data"

# ---- task.list: 250 tasks, filters, pagination
python3 -c '
import json
print(json.dumps([{"jsonrpc":"2.0","id":i,"method":"task.submit","params":{"kind":"sleep","seconds":0,"queue":"pg","labels":{"batch":"pg","parity":["even","odd"][i % 2]}}} for i in range(250)]))' >"$T/batch.json"
curl -s --max-time "$(scaled 30)" --unix-socket "$SOCK" -H 'Expect:' --data-binary @"$T/batch.json" http://localhost/rpc >"$T/batch.out"
jq -e 'length == 250 and ([.[].id] == [range(0; 250)])' "$T/batch.out" >/dev/null || fail "batch of 250 submits: $(head -c 300 "$T/batch.out")"
jq -c '[.[].result.id]' "$T/batch.out" >"$T/ids.json"
w=$(CURL_MAX=40 rpc task.wait "{\"ids\":$(cat "$T/ids.json"),\"timeout\":$(scaled 30)}")
expect_jq "$w" '.pending == [] and (.done | length) == 250' "250 sleep tasks done"
all_ids=$(jq -c 'sort' "$T/ids.json")

# pages of 7 with the queue filter; tasks submitted meanwhile are newer and do not show up
cursor=null pages=0
: >"$T/seen"
while :; do
	p=$(rpc task.list "{\"queue\":\"pg\",\"limit\":7,\"cursor\":$cursor}")
	expect_jq "$p" '(.tasks | type) == "array" and (.tasks | length) <= 7 and has("next")' "task.list page"
	expect_jq "$p" '[.tasks[].id] == ([.tasks[].id] | sort | reverse) and all(.tasks[]; .queue == "pg")' "page newest first, queue filtered"
	jq '.tasks[].id' <<<"$p" >>"$T/seen"
	pages=$((pages + 1))
	[ "$pages" = 1 ] && submit '{"kind":"sleep","seconds":0,"queue":"pg"}' >/dev/null
	cursor=$(jq -c .next <<<"$p")
	[ "$cursor" = null ] && break
	expect_jq "$cursor" 'type == "string"' "next is an opaque string cursor"
	[ "$pages" -lt 100 ] || fail "pagination does not end"
done
expect_eq "$pages" 36 "pages of 7 over 250 tasks"
expect_eq "$(sort -u "$T/seen" | wc -l)" 250 "distinct ids across pages"
expect_eq "$(wc -l <"$T/seen")" 250 "ids across pages (no duplicates)"
expect_eq "$(jq -sc 'sort' "$T/seen")" "$all_ids" "pages hold exactly the submitted tasks"

p=$(rpc task.list '{"queue":"pg"}')
expect_jq "$p" '(.tasks | length) == 100 and (.next | type) == "string"' "default limit 100"
p=$(rpc task.list '{"queue":"pg","limit":1000}')
expect_jq "$p" '(.tasks | length) == 251 and .next == null' "limit 1000 holds all, next null"
p=$(rpc task.list '{"label":{"parity":"even"},"limit":1000}')
expect_jq "$p" '(.tasks | length) == 125 and all(.tasks[]; .labels.parity == "even")' "label filter"
p=$(rpc task.list '{"label":{"batch":"pg","parity":"odd"},"limit":1000}')
expect_jq "$p" '(.tasks | length) == 125 and all(.tasks[]; .labels.parity == "odd" and .labels.batch == "pg")' "label filter, two pairs"
expect_jq "$(rpc task.list '{"label":{"batch":"pg","parity":"none"}}')" '.tasks == [] and .next == null' "label filter, all pairs must match"
expect_jq "$(rpc task.list '{"queue":"pg","state":"succeeded","limit":1000}')" '(.tasks | length) == 251 and all(.tasks[]; .state == "succeeded")' "state filter"
expect_jq "$(rpc task.list '{"queue":"pg","state":"failed"}')" '.tasks == []' "state filter, none"
expect_jq "$(rpc task.list '{"state":"pending","limit":1000}')" "[.tasks[].id] | index($pend) != null" "pending filter lists the delayed task"
expect_jq "$(rpc task.list '{"state":"cancelled","limit":1000}')" "[.tasks[] | select(.state != \"cancelled\")] == [] and ([.tasks[].id] | index($c) != null)" "cancelled filter"
expect_jq "$(rpc task.list '{"queue":"no-such-queue"}')" '.tasks == [] and .next == null' "unknown queue lists nothing"

# unretrieved: a failure nobody looked at; task.wait does not retrieve,
# task.exception and task.result do (as asyncio's result() does)
u1=$(submit '{"kind":"exec","argv":["false"],"queue":"ur"}')
u2=$(submit '{"kind":"exec","argv":["false"],"queue":"ur"}')
wait_done "$u1"
wait_done "$u2"
expect_jq "$(rpc task.list '{"queue":"ur","unretrieved":true}')" "([.tasks[].id] | sort) == ([$u1,$u2] | sort)" "unretrieved failures listed"
expect_jq "$(rpc task.list '{"unretrieved":true,"limit":1000}')" "all(.tasks[]; .state == \"failed\") and ([.tasks[].id] | index($f) == null)" "only unretrieved failures listed ($f was retrieved)"
rpc task.exception "{\"id\":$u1}" >/dev/null
rpc task.result "{\"id\":$u2}" >/dev/null
expect_jq "$(rpc task.list '{"queue":"ur","unretrieved":true}')" '.tasks == []' "retrieved failures no longer listed"
expect_jq "$(rpc task.list '{"queue":"ur","unretrieved":false}')" '(.tasks | length) == 2' "unretrieved false does not filter"

# ---- filters are data, not query text: quotes, LIKE wildcards, JSON-path characters
lab=$(submit '{"kind":"sleep","seconds":0,"queue":"inj","labels":{"a.b":"x","we\"ird":"y","$[0]":"z","pct":"50%"}}')
wait_done "$lab"
expect_jq "$(rpc task.list '{"label":{"a.b":"x"}}')" "[.tasks[].id] == [$lab]" "label name with a dot"
expect_jq "$(rpc task.list '{"label":{"we\"ird":"y"}}')" "[.tasks[].id] == [$lab]" "label name with a quote"
expect_jq "$(rpc task.list '{"label":{"$[0]":"z"}}')" "[.tasks[].id] == [$lab]" "label name like a JSON path"
expect_jq "$(rpc task.list '{"label":{"pct":"50%"}}')" "[.tasks[].id] == [$lab]" "label value with %"
for f in '{"label":{"a":"x"}}' '{"label":{"pct":"%"}}' '{"label":{"pct":"5_%"}}' \
    "{\"label\":{\"a.b' OR '1'='1\":\"x\"}}" '{"label":{"a.b":"x'"'"' OR '"'"'1'"'"'='"'"'1"}}' \
    '{"queue":"%"}' '{"queue":"in_"}' "{\"queue\":\"inj' OR '1'='1\"}" '{"queue":"INJ"}'; do
	expect_jq "$(call task.list "$f")" '.result.tasks == [] and .result.next == null' "task.list $f matches nothing"
done

# ---- dependencies, not_before (with a zone offset), retries
a=$(submit "{\"kind\":\"exec\",\"shell\":\"while [ ! -e $T/dep-gate ]; do sleep 0.05; done\"}")
b=$(submit '{"kind":"sleep","seconds":0.2}')
dep=$(submit "{\"kind\":\"sleep\",\"seconds\":0,\"after\":[$a,$b]}")
expect_eq "$(state "$dep")" pending "task after two unfinished ones"
wait_done "$b"
expect_eq "$(state "$dep")" pending "task after one finished and one unfinished"
touch "$T/dep-gate"
wait_done "$dep"
ga=$(rpc task.get "{\"id\":$a}")
gd=$(rpc task.get "{\"id\":$dep}")
[[ "$(jq -r .started_at <<<"$gd")" > "$(jq -r .finished_at <<<"$ga")" ]] ||
    [ "$(jq -r .started_at <<<"$gd")" = "$(jq -r .finished_at <<<"$ga")" ] ||
    fail "a dependent task started ($(jq -r .started_at <<<"$gd")) before its last dependency finished ($(jq -r .finished_at <<<"$ga"))"
at=$(echo "$(date +%s.%N) + 1.5" | bc)
nb=$(TZ=Etc/GMT-2 date -d "@$at" +%Y-%m-%dT%H:%M:%S.%3N+02:00)
nbt=$(submit "{\"kind\":\"sleep\",\"seconds\":0,\"not_before\":\"$nb\"}")
wait_done "$nbt" 10
g=$(rpc task.get "{\"id\":$nbt}")
st=$(date -d "$(jq -r .started_at <<<"$g")" +%s.%N)
ct=$(date -d "$(jq -r .created_at <<<"$g")" +%s.%N)
bc_true "$st >= $at - 0.01" || fail "not_before $nb: started at $st, before $at"
# late by: from its not_before, or from its submit if that came later
from=$at
bc_true "$ct > $at" && from=$ct
lag=$(echo "$st - $from" | bc)
bc_true "$lag < $(scaled 2.5)" || fail "not_before $nb (1.5 s ahead, +02:00) started ${lag}s after it"

past=$(submit '{"kind":"sleep","seconds":0,"not_before":"2001-02-03T04:05:06Z","result":"p"}')
expect_jq "$(call task.result "{\"id\":$past,\"timeout\":5}")" '.result == "p"' "not_before in the past runs at once"
rt=$(submit '{"kind":"exec","argv":["false"],"retries":2,"retry_backoff":0.1}')
expect_jq "$(CURL_MAX=30 rpc task.exception "{\"id\":$rt,\"timeout\":15}")" '.type == "ProcessError"' "retried task's last exception"
expect_jq "$(rpc task.get "{\"id\":$rt}")" '.state == "failed" and .attempt == 3 and .max_retries == 2' "2 retries: 3 attempts"

# ---- daemon.info
i1=$(rpc daemon.info)
expect_jq "$i1" "(.version | type) == \"string\" and (.version | length) > 0 and .pid == $DPID" "daemon.info version, pid"
expect_jq "$i1" '(.uptime | type) == "number" and .uptime >= 0' "daemon.info uptime"
expect_eq "$(cd "$(jq -r .state_dir <<<"$i1")" && pwd -P)" "$(cd "$STATE" && pwd -P)" "daemon.info state_dir"
expect_jq "$i1" '(.limits | type) == "object" and (.limits | length) > 0' "daemon.info limits"
expect_jq "$i1" "(.listen | type) == \"array\" and (.listen | index(\"unix:$SOCK\")) != null" "daemon.info listen"
expect_jq "$i1" '. as $i | all(["pending","running","succeeded","failed","cancelled"][]; ($i.counts[.] | type) == "number")' "daemon.info counts per state"
# the counts against task.list, once no task changed state in between
# (a task of the tests above may still be ending)
listed() {
	local st
	for st in pending running succeeded failed cancelled; do
		rpc task.list "{\"state\":\"$st\",\"limit\":1000}" | jq -c '.tasks | length'
	done | paste -sd' '
}
counted() { jq -r '[.counts.pending, .counts.running, .counts.succeeded, .counts.failed, .counts.cancelled] | map(tostring) | join(" ")' <<<"$1"; }
for try in $(seq 50); do
	c0=$(counted "$(rpc daemon.info)")
	l=$(listed)
	[ "$(counted "$(rpc daemon.info)")" = "$c0" ] && break
done
expect_eq "$c0" "$l" "daemon.info counts (pending running succeeded failed cancelled) against task.list"
poll_until 5 eval 'bc_true "$(rpc daemon.info | jq .uptime) > $(jq .uptime <<<"$i1")"' || fail "uptime does not grow"

# ---- rpc.discover
doc=$(rpc rpc.discover)
expect_jq "$doc" '(.openrpc | type) == "string" and (.openrpc | startswith("1.")) and (.info.title | type) == "string" and (.info.version | type) == "string"' "OpenRPC header"
expect_jq "$doc" '(.methods | type) == "array" and all(.methods[]; (.name | type) == "string" and (.params | type) == "array")' "OpenRPC methods"
for m in task.submit task.get task.result task.exception task.wait task.cancel task.list daemon.info rpc.discover; do
	expect_jq "$doc" "[.methods[].name] | index(\"$m\") != null" "rpc.discover lists $m"
done
for m in $(jq -r '.methods[].name' <<<"$doc"); do
	r=$(call "$m" '{"id":987654321,"ids":[987654321],"timeout":0}')
	expect_jq "$r" '.error.code != -32601' "$m is listed by rpc.discover but not served"
done

# ---- 6 ShuttingDown: after SIGTERM the listener closes, but a kept-alive
# connection can still carry a call while a running task drains; it must be
# refused with ShuttingDown (or the connection closed), never served
sd=$(submit "{\"kind\":\"exec\",\"shell\":\"while [ ! -e $T/sd-gate ]; do sleep 0.05; done\"}")
wait_state "$sd" running
"$PYTHON" - "$SOCK" "$DPID" "$T/sd-gate" >"$T/sd.out" <<'PY' || fail "keep-alive call during shutdown: $(cat "$T/sd.out")"
import json, os, signal, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.settimeout(10)
def call(obj):
    body = json.dumps(obj).encode()
    s.sendall(b"POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body) + body)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    n = int([l.split(b":", 1)[1] for l in lines if l.lower().startswith(b"content-length:")][0])
    while len(rest) < n:
        chunk = s.recv(65536)
        if not chunk:
            return None
        rest += chunk
    return lines[0].decode(), json.loads(rest[:n])
first = call({"jsonrpc": "2.0", "id": 1, "method": "daemon.info"})
assert first and first[0].startswith("HTTP/1.1 200"), first
os.kill(int(sys.argv[2]), signal.SIGTERM)
# the listener closes once the daemon has the signal: then it is shutting down
scale = float(os.environ.get("FUTURED_TIME_SCALE", "1"))
end = time.time() + 10 * scale
while True:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(sys.argv[1])
    except OSError:
        break
    finally:
        probe.close()
    if time.time() > end:
        sys.exit("the listener still accepts 10 s after SIGTERM")
    time.sleep(0.02)
try:
    r = call({"jsonrpc": "2.0", "id": 2, "method": "task.submit",
              "params": {"kind": "sleep", "seconds": 0, "labels": {"late": "yes"}}})
except OSError:
    r = None
open(sys.argv[3], "w").close()    # the running task may now end, within the drain
print("closed" if r is None else r[0] + " " + json.dumps(r[1]))
PY
late=$(<"$T/sd.out")
if [ "$late" != closed ]; then
	[[ $late == "HTTP/1.1 200"* ]] || fail "call during shutdown: $late"
	expect_jq "${late#* * * }" '.error.code == 6 and .error.message == "ShuttingDown" and .id == 2' "call during shutdown"
fi
p=$DPID
DPID=""
poll_until 15 eval '! alive '"$p" || fail "futured still running 15 s after SIGTERM"
wait "$p"
expect_eq "$?" 0 "exit status after SIGTERM"
start_daemon
expect_jq "$(rpc task.list '{"label":{"late":"yes"}}')" '.tasks == []' "nothing submitted during shutdown"
expect_jq "$(rpc task.get "{\"id\":$sd}")" '.state == "succeeded"' "a task finishing within the drain"
stop_daemon
expect_eq "$DAEMON_RC" 0 "exit status after SIGTERM"
note "ok: methods, errors, list filters, 36 pages over 250 tasks; a call during shutdown: ${late:0:60}"
