#!/bin/sh
# preview.sh URL...: fetch pages through futured and print the first 3
# non-empty lines of each, like preview.py, with curl and jq on the raw
# JSON-RPC: one batch of task.submit (an http task per URL, all fetched at
# once by the daemon), task.wait until none is pending, one batch of
# task.result.  Output and exit status are preview.py's: 0 when every fetch
# succeeded, 1 when one failed, 2 on a usage or protocol error.
#
#   FUTURED_SOCKET=/tmp/fd/futured.sock ./examples/preview.sh \
#       http://127.0.0.1:8080/page/1 http://127.0.0.1:8080/redirect/2
set -eu

FETCH_TIMEOUT=30	# seconds per fetch (the tasks' timeout)
WAIT=30			# seconds per task.wait long-poll

if [ $# -eq 0 ] || [ "${1#-}" != "$1" ]; then
	echo "usage: preview.sh URL..." >&2
	exit 2
fi
if [ -n "${FUTURED_SOCKET:-}" ]; then
	sock=$FUTURED_SOCKET
elif [ "$(id -u)" -eq 0 ]; then
	sock=/var/lib/futured/futured.sock
else
	sock=${XDG_STATE_HOME:-$HOME/.local/state}/futured/futured.sock
fi

# rpc: POSTs the JSON-RPC request (or batch) on stdin, prints the answer
rpc() {
	curl -sS --fail --max-time $((WAIT + 30)) --unix-socket "$sock" \
	    -H 'Content-Type: application/json' --data-binary @- \
	    http://localhost/rpc
}
die() { echo "preview.sh: $*" >&2; exit 2; }

submitted=$(jq -nc --argjson t "$FETCH_TIMEOUT" '$ARGS.positional | to_entries |
    map({jsonrpc: "2.0", id: (.key + 1), method: "task.submit",
         params: {kind: "http", url: .value, timeout: $t}})' --args "$@" |
    rpc 2>/dev/null) || die "cannot reach futured on $sock"
ids=$(printf "%s\n" "$submitted" | jq -c 'if all(.[]; has("result")) then
    map(.result.id) else empty end')
if [ -z "$ids" ]; then
	printf '%s\n' "$submitted" | jq -r '[$ARGS.positional, .] | transpose[] |
	    select(.[1] | has("error")) | "preview.sh: \(.[0]): " +
	    "\(.[1].error.message) (\(.[1].error.code)): \(.[1].error.data)"' \
	    --args "$@" >&2
	exit 2
fi

pending=$ids
while [ "$pending" != "[]" ]; do
	pending=$(jq -nc --argjson ids "$pending" --argjson t "$WAIT" \
	    '{jsonrpc: "2.0", id: 1, method: "task.wait",
	      params: {ids: $ids, timeout: $t}}' | rpc | jq -c '.result.pending') ||
	    die "task.wait failed"
	[ "$pending" != null ] || die "task.wait failed"
done

results=$(printf "%s\n" "$ids" | jq -c 'to_entries | map({jsonrpc: "2.0", id: (.key + 1),
    method: "task.result", params: {id: .value}})' | rpc) || die "task.result failed"
printf "%s\n" "$results" | jq -r '
def blank: "[ \t\r\f\u000b]";
def lines: split("\n") | map(sub("^\(blank)+"; "") | sub("\(blank)+$"; "")) |
    map(select(length > 0));
def nbytes: (length / 4 * 3) -
    (if endswith("==") then 2 elif endswith("=") then 1 else 0 end);
[$ARGS.positional, .] | transpose[] | .[0] as $url | .[1] as $a |
if $a | has("result") then
	$a.result as $r |
	(if $r.url == $url then $url else "\($url) -> \($r.url)" end) +
	    " [\($r.status)]",
	(if $r.body_encoding == "base64" then
		"  (\($r.body | nbytes) bytes of binary)"
	else
		$r.body | lines | .[:3][] | "  " + .
	end)
elif $a.error.code == 1 then
	"\($url) [\($a.error.data.exception.type): \($a.error.data.exception.message)]"
elif $a.error.code == 2 then
	"\($url) [cancelled]"
else
	"\($url) [error \($a.error.code): \($a.error.message)]"
end' --args "$@"
printf "%s\n" "$results" | jq -e 'all(.[]; has("result"))' >/dev/null || exit 1
