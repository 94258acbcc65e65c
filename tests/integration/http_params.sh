#!/usr/bin/env bash
# Validation of the http kind's fields (issue #4): a URL that is not
# http:// or https:// (file://, ftp://, gopher://, none), a missing or
# malformed url, a method that is not an HTTP token ("GE T"), headers that
# are not an object of strings or hold CR, LF or NUL, a bad header name, a
# body that is not a string, a max_body out of range, flags that are not
# booleans and fields of other kinds are all -32602 with data.field naming
# the parameter, and no task is created.  Valid variants are accepted.
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/http_lib.sh"

start_daemon

# bad FIELD PARAMS-FIELDS: task.submit {kind: http, PARAMS-FIELDS} -> -32602 on FIELD
bad() {
	local r
	r=$(call task.submit "{\"kind\":\"http\"${2:+,$2}}")
	jq -e --arg f "$1" '.error.code == -32602 and .error.data.field == $f and
	    (.error.data.reason | type == "string" and length > 0)' <<<"$r" >/dev/null ||
	    fail "task.submit {kind: http, $2}: want -32602 on $1, got $r"
}
U='"url":"http://127.0.0.1:1/x"'

bad url ''
bad url '"url":null'
bad url '"url":"file:///etc/passwd"'
bad url '"url":"ftp://127.0.0.1/x"'
bad url '"url":"gopher://127.0.0.1/x"'
bad url '"url":"127.0.0.1/x"'
bad url '"url":"http:/127.0.0.1/x"'
bad url '"url":""'
bad url '"url":42'
bad url '"url":["http://127.0.0.1/"]'
bad url '"url":"http://127.0.0.1/a b"'
bad url '"url":"http://127.0.0.1/a\nb"'
bad url '"url":"http://127.0.0.1/\u0000"'
bad method "$U,\"method\":\"GE T\""
bad method "$U,\"method\":\"GET\\r\\n\""
bad method "$U,\"method\":\"\""
bad method "$U,\"method\":7"
bad method "$U,\"method\":\"G(E)T\""
bad headers "$U,\"headers\":[\"X-A: 1\"]"
bad headers "$U,\"headers\":\"X-A: 1\""
bad headers.X-A "$U,\"headers\":{\"X-A\":\"1\\r\\nX-Injected: 2\"}"
bad headers.X-A "$U,\"headers\":{\"X-A\":\"one\\ntwo\"}"
bad headers.X-A "$U,\"headers\":{\"X-A\":\"a\\u0000b\"}"
bad headers.X-A "$U,\"headers\":{\"X-A\":1}"
bad headers.X-A "$U,\"headers\":{\"X-A\":null}"
bad 'headers.X A' "$U,\"headers\":{\"X A\":\"1\"}"
bad 'headers.X:A' "$U,\"headers\":{\"X:A\":\"1\"}"
bad headers. "$U,\"headers\":{\"\":\"1\"}"
bad body "$U,\"body\":{\"a\":1}"
bad body "$U,\"body\":1"
bad max_body "$U,\"max_body\":-1"
bad max_body "$U,\"max_body\":1.5"
bad max_body "$U,\"max_body\":\"10\""
bad max_body "$U,\"max_body\":1099511627776"
bad follow_redirects "$U,\"follow_redirects\":\"no\""
bad follow_redirects "$U,\"follow_redirects\":0"
bad raise_for_status "$U,\"raise_for_status\":1"
bad seconds "$U,\"seconds\":1"
bad argv "$U,\"argv\":[\"true\"]"
bad data "$U,\"data\":\"x\""
bad timeout "$U,\"timeout\":0"
bad timeout "$U,\"timeout\":-1"
expect_jq "$(rpc task.list)" '.tasks == []' "no task created by the invalid submissions"

# ---- valid variants (port 1: they fail to connect)
n=0
for p in \
    '"url":"HTTP://127.0.0.1:1/x"' \
    '"url":"https://127.0.0.1:1/x"' \
    "$U,\"method\":\"PATCH\",\"headers\":{\"X-A\":\"\",\"Accept\":\"*/*\"},\"body\":\"\"" \
    "$U,\"method\":\"M-SEARCH\",\"max_body\":0,\"follow_redirects\":false,\"raise_for_status\":false" \
    "$U,\"max_body\":1073741824,\"timeout\":1,\"retries\":0"; do
	id=$(submit "{\"kind\":\"http\",$p}")
	wait_done "$id" 10
	n=$((n + 1))
done
# a null kind field is the same as an absent one (PROTOCOL.md)
for f in method headers body max_body follow_redirects raise_for_status; do
	r=$(call task.submit "{\"kind\":\"http\",$U,\"$f\":null}")
	jq -e '.result.spec == {kind: "http", url: "http://127.0.0.1:1/x"}' <<<"$r" >/dev/null || {
		fail "task.submit {kind: http, url, $f: null}: want a task without $f in its spec, got $r"
		continue
	}
	wait_done "$(jq .result.id <<<"$r")" 10
	n=$((n + 1))
done
r=$(rpc task.list)
expect_jq "$r" ".tasks | length == $n" "valid submissions created tasks"
expect_jq "$r" 'all(.tasks[]; .state == "failed" and .exception.type == "ConnectionError")' "valid submissions ran (and found nothing on port 1)"

stop_daemon
expect_eq "$DAEMON_RC" 0 "futured exit status"
