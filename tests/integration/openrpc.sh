#!/usr/bin/env bash
# rpc.discover serves futured's OpenRPC 1.2.6 document (issue #12), and the
# document agrees with what the daemon does:
# - it is proto/openrpc.json as it is, but for info.version (daemon.info's
#   version) and info.x-protocol-version (daemon.info's protocol_version);
# - tests/openrpc/check.py passes on it (the vendored OpenRPC meta-schema,
#   every $ref resolves, params by name each with a schema and a boolean
#   required, a result for every method, valid component schemas) with the
#   methods it names, which are exactly the method names proto/proto.h
#   defines;
# - every method it names is served (called with {}, none answers -32601)
#   and a name it does not list is -32601; a method with no required param
#   answers {} with a result, one with required params answers {} with
#   -32602 naming one of them; a param it does not list is -32602 naming it,
#   and no param it lists is refused as unknown;
# - the answers of every method are valid against its result schema, or
#   are errors it lists, with the document's message and data (check.py
#   --responses): successes for tasks of every kind (http ones when
#   tests/httpd/test-httpd is built) in every state, and the errors
#   reachable here: 1 to 5 and 8, -32700, -32600, -32601, -32602.
. "$(dirname "$0")/harness.sh"
start_daemon --jobs 2

CHECK=$FUTURED_SRC/tests/openrpc/check.py
[ -f "$CHECK" ] || fail "no $CHECK"
# an interpreter with jsonschema: python3's own, else Debian's
# (python3-jsonschema, which check.py also looks for by itself)
CHECK_PY=""
for py in "$PYTHON" /usr/bin/python3; do
	if [ -x "$py" ] && "$py" -c 'import sys; sys.path.append("/usr/lib/python3/dist-packages"); import jsonschema' 2>/dev/null; then
		CHECK_PY=$py
		break
	fi
done
[ -n "$CHECK_PY" ] || fail "needs python3's jsonschema (apt-get install python3-jsonschema)"
DOC=$T/openrpc.json
RESP=$T/responses.jsonl
: >"$RESP"

# keep METHOD WHAT RESPONSE [SCHEMA]: for check.py --responses (METHOD "":
# the request as a whole; SCHEMA: a component its result must match too)
keep() {
	jq -ce --arg m "$1" --arg w "$2" --arg s "${4-}" '{method: (if $m == "" then null else $m end),
	    what: $w, response: .} + (if $s == "" then {} else {schema: ("#/components/schemas/" + $s)} end)' \
	    <<<"$3" >>"$RESP" 2>/dev/null || fail "$1 ($2): not a JSON response: $(head -c 300 <<<"$3")"
}
# kcall METHOD WHAT [PARAMS] -> the response, kept
kcall() {
	local r
	r=$(call "$1" "${3-}")
	keep "$1" "$2" "$r"
	echo "$r"
}

# ---- the document, its versions
r=$(kcall rpc.discover "the document")
jq -e '.result | type == "object"' <<<"$r" >/dev/null || fail "rpc.discover: $(head -c 300 <<<"$r")"
jq .result <<<"$r" >"$DOC"
info=$(kcall daemon.info "")
expect_jq "$info" '.result.version | type == "string"' "daemon.info version"
expect_jq "$(cat "$DOC")" ".info.version == $(jq .result.version <<<"$info")" "info.version is daemon.info's version"
expect_jq "$(cat "$DOC")" ".info[\"x-protocol-version\"] == $(jq .result.protocol_version <<<"$info")" "info.x-protocol-version is daemon.info's protocol_version"
a=$(jq -S 'del(.info.version, .info["x-protocol-version"])' "$DOC")
b=$(jq -S 'del(.info.version, .info["x-protocol-version"])' "$FUTURED_SRC/proto/openrpc.json") ||
    fail "no $FUTURED_SRC/proto/openrpc.json"
[ "$a" = "$b" ] || fail "rpc.discover is not proto/openrpc.json as it is: $(diff <(echo "$b") <(echo "$a") | head -20)"

# ---- the methods: the document's, proto.h's, check.py
mapfile -t METHODS < <(jq -r '.methods[].name' "$DOC")
[ "${#METHODS[@]}" -gt 0 ] || fail "the document names no method"
defined=$(sed -nE 's/^#define[[:space:]]+FP_[A-Z_]+[[:space:]]+"([a-z_]+\.[a-z_.]+)".*/\1/p' \
    "$FUTURED_SRC/proto/proto.h" | sort)
[ -n "$defined" ] || fail "no method names in $FUTURED_SRC/proto/proto.h"
expect_eq "$(printf '%s\n' "${METHODS[@]}" | sort)" "$defined" "the document's methods are proto.h's"
"$CHECK_PY" "$CHECK" "$DOC" "${METHODS[@]}" >"$T/check.out" 2>&1 ||
    fail "check.py on the served document: $(cat "$T/check.out")"
note "$(tail -n 1 "$T/check.out")"

# ---- every method is served; what the document says of params holds
for m in "${METHODS[@]}"; do
	req=$(jq -c --arg m "$m" '[.methods[] | select(.name == $m) | .params[] | select(.required) | .name]' "$DOC")
	r=$(kcall "$m" "{}" '{}')
	expect_jq "$r" '.error.code != -32601' "$m is in the document but not served"
	if [ "$req" = "[]" ]; then
		expect_jq "$r" 'has("result")' "$m has no required param: {} answers"
	else
		expect_jq "$r" ".error.code == -32602 and (.error.data.field as \$f | $req | index(\$f) != null) and .error.data.reason == \"required\"" \
		    "$m {} names a required param of $req"
	fi
	r=$(kcall "$m" "an unknown param" '{"futured_no_such_param":1}')
	expect_jq "$r" '.error.code == -32602 and .error.data.field == "futured_no_such_param" and .error.data.reason == "unknown parameter"' \
	    "$m: a param the document does not list"
	while IFS= read -r p; do
		r=$(kcall "$m" "$p null" "{$(jq -Rc . <<<"$p"):null}")
		expect_jq "$r" "(.error.code == -32602 and .error.data.field == $(jq -Rc . <<<"$p") and (.error.data.reason | startswith(\"unknown parameter\"))) | not" \
		    "$m: its param $p is refused as unknown"
	done < <(jq -r --arg m "$m" '.methods[] | select(.name == $m) | .params[].name' "$DOC")
done
nope=rpc.undocumented
jq -e --arg m "$nope" '[.methods[].name] | index($m) == null' "$DOC" >/dev/null || fail "$nope is in the document"
r=$(call "$nope")
keep "" "a method not in the document" "$r"
expect_jq "$r" ".error.code == -32601 and .error.data.method == \"$nope\"" "a method the document does not list"

# ---- answers agree with the schemas
kcall queue.set "" '{"name":"oq","concurrency":2}' >/dev/null
kcall queue.set "bad name" '{"name":"no way"}' >/dev/null
kcall queue.list "" >/dev/null
r=$(kcall task.submit "sleep" '{"kind":"sleep","seconds":0.1,"result":{"x":[1]},"queue":"oq","priority":-3,"key":"o-k","labels":{"t":"o"},"retries":1,"retry_backoff":0.5,"timeout":5}')
sl=$(jq -r .result.id <<<"$r")
[[ $sl =~ ^[0-9]+$ ]] || fail "task.submit sleep: $r"
kcall task.submit "same key, another spec" '{"kind":"sleep","seconds":0.2,"key":"o-k"}' >/dev/null
ex=$(jq -r .result.id <<<"$(kcall task.submit "exec" \
    '{"kind":"exec","shell":"printf '"'"'{\"a\":1}\\nnot json\\n'"'"' >&3; echo out; echo err >&2","env":{"A":"b"},"stdin":"in","max_output":1000}')")
js=$(jq -r .result.id <<<"$(kcall task.submit "exec capture json" '{"kind":"exec","argv":["echo","[1,2]"],"capture":"json"}')")
bad=$(jq -r .result.id <<<"$(kcall task.submit "exec that fails" '{"kind":"exec","argv":["sh","-c","echo x; echo y >&2; exit 3"],"retries":1,"retry_backoff":0}')")
sp=$(jq -r .result.id <<<"$(kcall task.submit "exec in no directory" "{\"kind\":\"exec\",\"argv\":[\"true\"],\"cwd\":\"$T/none\"}")")
to=$(jq -r .result.id <<<"$(kcall task.submit "exec that times out" '{"kind":"exec","argv":["sleep","30"],"timeout":0.2}')")
for id in "$sl" "$ex" "$js" "$bad" "$sp" "$to"; do
	[[ $id =~ ^[0-9]+$ ]] || fail "a task.submit failed: $(tail -n 3 "$RESP")"
done
pend=$(jq -r .result.id <<<"$(kcall task.submit "delayed" '{"kind":"sleep","seconds":0,"delay":3600}')")
nb=$(jq -r .result.id <<<"$(kcall task.submit "not_before, after" "{\"kind\":\"sleep\",\"seconds\":0,\"not_before\":\"2001-02-03T04:05:06+01:00\",\"after\":[$sl]}")")
dep=$(jq -r .result.id <<<"$(kcall task.submit "after a pending task" "{\"kind\":\"sleep\",\"seconds\":0,\"after\":[$pend]}")")
kcall task.submit "after no task" '{"kind":"sleep","seconds":0,"after":[987654321]}' >/dev/null
kcall task.submit "two kinds' fields" '{"kind":"sleep","seconds":0,"argv":["x"]}' >/dev/null
kcall task.result "unfinished" "{\"id\":$pend}" >/dev/null
kcall task.exception "unfinished" "{\"id\":$pend,\"timeout\":0}" >/dev/null
kcall task.get "pending" "{\"id\":$pend}" >/dev/null
kcall task.wait "some pending" "{\"ids\":[$pend,$sl],\"timeout\":0}" >/dev/null
kcall task.cancel "pending" "{\"id\":$pend}" >/dev/null
kcall task.cancel "cancelled" "{\"id\":$pend}" >/dev/null
kcall task.result "cancelled" "{\"id\":$pend}" >/dev/null
for id in "$sl" "$ex" "$js" "$bad" "$sp" "$to" "$nb" "$dep"; do
	wait_done "$id"
	kcall task.get "finished" "{\"id\":$id}" >/dev/null
	kcall task.result "finished" "{\"id\":$id}" >/dev/null
done
keep task.result "exec, capture text" "$(call task.result "{\"id\":$ex}")" ExecResult
for id in "$bad" "$sp" "$to" "$dep" "$sl"; do
	kcall task.exception "finished" "{\"id\":$id}" >/dev/null
done
expect_jq "$(call task.get "{\"id\":$dep}")" '.result.exception.type == "DependencyFailed"' "a task after a cancelled one"
kcall task.wait "finished" "{\"ids\":[$sl,$ex,$bad],\"return_when\":\"FIRST_EXCEPTION\"}" >/dev/null
r=$(kcall task.stream "" "{\"id\":$ex,\"from\":0}")
expect_jq "$r" '.result.items[0].value == {"a":1} and .result.items[1].error.type == "YieldDecodeError" and .result.done == true' "task.stream items"
kcall task.output "stdout" "{\"id\":$ex}" >/dev/null
kcall task.output "stderr" "{\"id\":$ex,\"stream\":\"stderr\",\"offset\":1,\"limit\":2}" >/dev/null
kcall task.output "json" "{\"id\":$js,\"timeout\":0}" >/dev/null
kcall task.list "" '{"limit":3}' >/dev/null
r=$(kcall task.list "a page" '{"state":"succeeded","label":{"t":"o"},"queue":"oq","limit":1,"unretrieved":false}')
kcall task.list "next page" "{\"limit\":2,\"cursor\":$(jq -c .result.next <<<"$r")}" >/dev/null
# http tasks, when the test server is built (make check builds it)
if [ -x "$FUTURED_BUILD/tests/httpd/test-httpd" ]; then
	. "$H_DIR/http_lib.sh"
	start_httpd
	h1=$(jq -r .result.id <<<"$(kcall task.submit "http" "{\"kind\":\"http\",\"url\":\"$HURL/page/1\",\"method\":\"POST\",\"headers\":{\"X-A\":\"b\"},\"body\":\"x\",\"max_body\":20,\"follow_redirects\":false,\"timeout\":10}")")
	h2=$(jq -r .result.id <<<"$(kcall task.submit "http 404" "{\"kind\":\"http\",\"url\":\"$HURL/status/404\"}")")
	h3=$(jq -r .result.id <<<"$(kcall task.submit "http 404 as a result" "{\"kind\":\"http\",\"url\":\"$HURL/status/404\",\"raise_for_status\":false}")")
	h4=$(jq -r .result.id <<<"$(kcall task.submit "http redirect loop" "{\"kind\":\"http\",\"url\":\"$HURL/redirect-loop\"}")")
	for id in "$h1" "$h2" "$h3" "$h4"; do
		[[ $id =~ ^[0-9]+$ ]] || fail "an http task.submit failed: $(tail -n 4 "$RESP")"
		wait_done "$id"
		kcall task.get "http, finished" "{\"id\":$id}" >/dev/null
	done
	keep task.result "http" "$(call task.result "{\"id\":$h1}")" HttpResult
	keep task.result "http 404 as a result" "$(call task.result "{\"id\":$h3}")" HttpResult
	r=$(kcall task.exception "http 404" "{\"id\":$h2}")
	expect_jq "$r" '.result.type == "HttpError" and .result.status == 404' "an HttpError"
	r=$(kcall task.exception "http redirect loop" "{\"id\":$h4}")
	expect_jq "$r" '.result.type == "ConnectionError"' "a ConnectionError"
	stop_httpd
else
	note "no $FUTURED_BUILD/tests/httpd/test-httpd: http answers not checked"
fi
kcall task.get "no such task" '{"id":987654321}' >/dev/null
kcall task.get "id out of range" '{"id":9007199254740992}' >/dev/null
kcall daemon.info "at the end" >/dev/null
# errors of a request as a whole
keep "" "parse error" "$(post '{"jsonrpc":"2.0","id":1,')"
keep "" "invalid request" "$(post '{"jsonrpc":"2.0","id":1,"method":7}')"
"$PYTHON" -c 'import json; print(json.dumps([{"jsonrpc":"2.0","id":i,"method":"daemon.info"} for i in range(10001)]))' >"$T/big.json"
keep "" "a batch of 10,001" "$(curl -s --max-time "$(scaled 30)" --unix-socket "$SOCK" -H 'Expect:' --data-binary @"$T/big.json" http://localhost/rpc)"
# LimitExceeded from queue.set: 1,000 queues at most (queues with settings:
# one with none and no task is freed at once)
"$PYTHON" -c 'import json; print(json.dumps([{"jsonrpc":"2.0","id":i,"method":"queue.set","params":{"name":"lq%d" % i,"paused":True}} for i in range(1000)]))' >"$T/queues.json"
curl -s --max-time "$(scaled 30)" --unix-socket "$SOCK" -H 'Expect:' --data-binary @"$T/queues.json" http://localhost/rpc >"$T/queues.out"
r=$(jq -c '[.[] | select(.error)][0]' "$T/queues.out")
expect_jq "$r" '.error.code == 8' "queue.set past 1,000 queues"
keep queue.set "past 1,000 queues" "$r"
"$CHECK_PY" "$CHECK" --responses "$DOC" "$RESP" >"$T/responses.out" 2>&1 ||
    fail "answers that disagree with the document: $(cat "$T/responses.out")"
note "$(tail -n 1 "$T/responses.out")"

stop_daemon
expect_eq "$DAEMON_RC" 0 "exit status after SIGTERM"
note "ok: rpc.discover: ${#METHODS[@]} methods, checked against the meta-schema, proto.h and the daemon"
