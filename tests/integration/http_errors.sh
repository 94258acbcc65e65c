#!/usr/bin/env bash
# The http kind's failures (issue #4), each with its exception type: a 404
# or 500 is an HttpError with status, headers, url and the first 4 KiB of
# the body; a refused connection (port 1), a connection reset before any
# answer and a redirect loop are ConnectionErrors with curl_code; a fetch
# that outlives its task's timeout (/slow/5000 with timeout 0.5, /never with
# timeout 1) is a TimeoutError as soon as the timeout runs out.  task.result
# reports them as TaskFailed; the server and futured keep serving.
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/http_lib.sh"

start_httpd
start_daemon

# ---- HttpError
for code in 404 500; do
	id=$(hsubmit /status/$code)
	o=$(outcome "$id")
	expect_jq "$o" ".state == \"failed\" and .exception.type == \"HttpError\" and .exception.status == $code" "HTTP $code"
	expect_jq "$o" ".exception | .url == \"$HURL/status/$code\" and .body == \"status $code\n\" and .body_encoding == \"utf-8\" and .headers[\"content-length\"] == \"11\"" "HttpError $code fields"
	expect_jq "$o" ".exception.message | test(\"$code\")" "HttpError $code message"
	r=$(call task.result "{\"id\":$id}")
	expect_jq "$r" ".error.code == 1 and .error.data.id == $id and .error.data.exception.status == $code" "task.result of HTTP $code"
done
# the body of an HttpError: its first 4 KiB
id=$(hsubmit '/status/503?bytes=10000')
o=$(outcome "$id")
expect_jq "$o" '.exception | .type == "HttpError" and .status == 503 and (.body | length) == 4096 and .body_truncated == true' "HttpError keeps 4 KiB of a 10000-byte body"
expect_jq "$(rpc task.exception "{\"id\":$id}")" '.type == "HttpError" and .status == 503' "task.exception of the 503"

# ---- ConnectionError
id=$(submit '{"kind":"http","url":"http://127.0.0.1:1/"}')
o=$(outcome "$id")
expect_jq "$o" '.state == "failed" and .exception.type == "ConnectionError" and .exception.curl_code == 7 and (.exception.message | length > 0)' "connection refused (port 1)"
id=$(hsubmit /reset)
o=$(outcome "$id")
# RST without an answer: 56 (recv failure); 52 (empty reply) if the FIN wins
expect_jq "$o" '.state == "failed" and .exception.type == "ConnectionError" and (.exception.curl_code == 56 or .exception.curl_code == 52)' "connection reset"
id=$(hsubmit /redirect-loop)
o=$(outcome "$id")
expect_jq "$o" '.state == "failed" and .exception.type == "ConnectionError" and .exception.curl_code == 47 and (.exception.message | test("redirect"; "i"))' "redirect loop"

# ---- TimeoutError: ends when the timeout runs out, not when the server answers
# (how long each ran is the daemon's started_at to finished_at, issue #11;
# upper bounds scaled by FUTURED_TIME_SCALE)
slow=$(hsubmit /slow/5000 '"timeout":0.5')
never=$(hsubmit /never '"timeout":1')
o=$(outcome "$slow" 5)
expect_jq "$o" '.state == "failed" and .exception.type == "TimeoutError" and .exception.timeout == 0.5' "/slow/5000 with timeout 0.5"
o=$(outcome "$never" 5)
expect_jq "$o" '.state == "failed" and .exception.type == "TimeoutError" and .exception.timeout == 1' "/never with timeout 1"
d=$(ran_secs "$slow")
bc_true "$d >= 0.45 && $d < $(scaled 2)" || fail "/slow/5000 with timeout 0.5 ran $d s"
d=$(ran_secs "$never")
bc_true "$d >= 0.95 && $d < $(scaled 2.5)" || fail "/never with timeout 1 ran $d s"

# ---- both keep serving
id=$(hsubmit /page/1)
expect_jq "$(outcome "$id")" '.state == "succeeded" and .result.status == 200' "a fetch after the failures"
expect_jq "$(rpc daemon.info)" '.counts.running == 0' "nothing left running"

stop_daemon
expect_eq "$DAEMON_RC" 0 "futured exit status"
stop_httpd
