#!/usr/bin/env bash
# The http kind, successful fetches (issue #4): a 200 gives {status,
# headers, body, body_encoding, body_truncated, url, duration} with the
# page's body and the final url, headers with lowercase names (repeated
# ones joined with ", "); request headers reach the server; the method and
# body are sent as given (POST, PUT, DELETE, HEAD, an empty header value);
# a 201 and a 204 are successes; redirects are followed to the final url
# (10 at most, 11 is a ConnectionError), follow_redirects false stops at
# the 302 (an HttpError, or the result with raise_for_status false);
# raise_for_status false turns a 404 into a result.
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/http_lib.sh"

start_httpd
start_daemon

# ---- 200: body, headers, final url
id=$(hsubmit /page/7)
o=$(outcome "$id")
expect_jq "$o" '.state == "succeeded" and .attempt == 1' "GET /page/7"
expect_jq "$o" '.result | .status == 200 and .body_encoding == "utf-8" and .body_truncated == false' "result of /page/7"
expect_jq "$o" '.result.body == "\nline one of 7\n\nline two of 7\n  \nline three of 7\nline four of 7\n"' "body of /page/7"
expect_jq "$o" ".result.url == \"$HURL/page/7\"" "url of /page/7"
expect_jq "$o" '.result.headers | .["content-type"] == "text/html; charset=utf-8" and .["content-length"] == "64"' "response headers (lowercase names)"
expect_jq "$o" '.result.duration | type == "number" and . >= 0 and . < 5' "duration"
expect_jq "$(rpc task.result "{\"id\":$id}")" '.status == 200 and (.body | test("line three of 7"))' "task.result of /page/7"
expect_jq "$(rpc task.get "{\"id\":$id}")" ".spec == {kind: \"http\", url: \"$HURL/page/7\"}" "spec of the task"

# ---- response headers: lowercase names, repeated ones joined with ", "
id=$(hsubmit '/status/200?h=X-Dup:a&h=x-dup:b%20c&h=Set-Cookie:k=v&h=Set-Cookie:k2=v2&h=X-Empty:')
o=$(outcome "$id")
expect_jq "$o" '.result.headers | .["x-dup"] == "a, b c" and .["set-cookie"] == "k=v, k2=v2" and .["x-empty"] == ""' "repeated response headers"
expect_jq "$o" '.result.headers | keys | all(. == ascii_downcase)' "response header names are lowercase"

# ---- request headers arrive (GET /echo)
id=$(hsubmit /echo '"headers":{"X-Futured-Test":"one two","Accept":"text/plain","X-Empty":""}')
o=$(outcome "$id")
expect_jq "$o" '.state == "succeeded" and .result.headers["content-type"] == "application/json"' "GET /echo"
e=$(jq -r .result.body <<<"$o")
expect_jq "$e" '.method == "GET" and .uri == "/echo" and .body == ""' "what the server got for GET /echo"
expect_jq "$e" '.headers | .["x-futured-test"] == "one two" and .accept == "text/plain" and .["x-empty"] == ""' "request headers at the server"
expect_jq "$e" '.headers["user-agent"] | startswith("futured/")' "user agent"

# ---- method and body: POST, PUT, DELETE
id=$(hsubmit /echo '"method":"POST","body":"{\"a\": [1, 2]}\nsecond line é","headers":{"Content-Type":"application/json"}')
e=$(outcome "$id" | jq -r .result.body)
expect_jq "$e" '.method == "POST" and .body == "{\"a\": [1, 2]}\nsecond line é"' "POST body at the server"
expect_jq "$e" '.headers["content-type"] == "application/json" and .headers["content-length"] == ("{\"a\": [1, 2]}\nsecond line é" | utf8bytelength | tostring)' "POST headers at the server"
id=$(hsubmit /echo?x=1 '"method":"PUT","body":""')
e=$(outcome "$id" | jq -r .result.body)
expect_jq "$e" '.method == "PUT" and .uri == "/echo?x=1" and .body == ""' "PUT with an empty body"
id=$(hsubmit /echo '"method":"DELETE"')
expect_jq "$(outcome "$id" | jq -r .result.body)" '.method == "DELETE"' "DELETE"
id=$(hsubmit /page/1 '"method":"HEAD"')
expect_jq "$(outcome "$id")" '.state == "succeeded" and .result.status == 200 and .result.body == "" and .result.body_truncated == false' "HEAD"
id=$(hsubmit /status/204)
expect_jq "$(outcome "$id")" '.state == "succeeded" and .result.status == 204 and .result.body == ""' "204 No Content"

# ---- redirects: followed to the final url; at most 10
id=$(hsubmit /redirect/3)
o=$(outcome "$id")
expect_jq "$o" ".state == \"succeeded\" and .result.status == 200 and .result.url == \"$HURL/page/0\"" "3 redirects followed"
expect_jq "$o" '(.result.body | test("line one of 0")) and (.result.headers | has("location") | not)' "body and headers of the last response"
id=$(hsubmit /redirect/10)
expect_jq "$(outcome "$id")" ".state == \"succeeded\" and .result.url == \"$HURL/page/0\"" "10 redirects followed"
id=$(hsubmit /redirect/11)
expect_jq "$(outcome "$id")" '.state == "failed" and .exception.type == "ConnectionError" and .exception.curl_code == 47' "11 redirects: too many"

# ---- follow_redirects false: the 302 itself
id=$(hsubmit /redirect/2 '"follow_redirects":false')
o=$(outcome "$id")
expect_jq "$o" ".state == \"failed\" and .exception.type == \"HttpError\" and .exception.status == 302 and .exception.url == \"$HURL/redirect/2\"" "follow_redirects false: HttpError 302"
expect_jq "$o" '.exception.headers.location == "/redirect/1" and .exception.body == "see /redirect/1\n"' "the 302's location and body"
id=$(hsubmit /redirect/2 '"follow_redirects":false,"raise_for_status":false')
o=$(outcome "$id")
expect_jq "$o" ".state == \"succeeded\" and .result.status == 302 and .result.headers.location == \"/redirect/1\" and .result.url == \"$HURL/redirect/2\"" "follow_redirects and raise_for_status false: the 302 as result"

# ---- raise_for_status false: a 404 is a result
id=$(hsubmit /status/404 '"raise_for_status":false')
o=$(outcome "$id")
expect_jq "$o" '.state == "succeeded" and .result.status == 404 and .result.body == "status 404\n" and .result.body_truncated == false' "raise_for_status false on a 404"
expect_jq "$(rpc task.get "{\"id\":$id}")" '.spec.raise_for_status == false' "raise_for_status kept in the spec"
id=$(hsubmit /status/201 '"raise_for_status":true')
expect_jq "$(outcome "$id")" '.state == "succeeded" and .result.status == 201' "201 is a success"

stop_daemon
expect_eq "$DAEMON_RC" 0 "futured exit status"
stop_httpd
