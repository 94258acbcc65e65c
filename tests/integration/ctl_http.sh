#!/usr/bin/env bash
# futurectl's own HTTP client (issue #6: futurectl no longer loads libcurl):
# URLs it refuses before connecting (https://, not a URL) with exit 2 and
# one line; an unreachable --url or --socket -> exit 3; one kept-alive
# connection for all the calls of a `run`; a Unix socket with a full
# listen backlog is waited for; a server that closes an idle
# kept-alive connection is reconnected to once; a server that hangs up in
# the middle of an answer, or answers garbage, is an error, not a hang; a
# real daemon over TCP with its token.
. "$(dirname "$0")/harness.sh"
[ -x "$FUTURECTL" ] || fail "no $FUTURECTL"

# u URL ARGS...: futurectl --url URL; sets rc, out, err
u() {
	local url=$1
	shift
	timeout "$(scaled 30)" "$FUTURECTL" --url "$url" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	out=$(<"$T/out")
	err=$(<"$T/err")
}
one_line() { [ "$(wc -l <"$T/err")" = 1 ] || fail "$1: stderr is not one line: $err"; }

u https://127.0.0.1:1/ info
want_rc 2 "https URL"
one_line "https URL"
[[ $err == *"plain HTTP only"* ]] || fail "https URL: message: $err"
u "not a url" info
want_rc 2 "malformed URL"
one_line "malformed URL"
u ftp://127.0.0.1/ info
want_rc 2 "ftp URL"

# nothing listens on this port (bound, never listening)
port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
u "http://127.0.0.1:$port" info
want_rc 3 "refused TCP"
one_line "refused TCP"
[[ $err == *"cannot reach futured"*"is futured running?"* ]] || fail "refused TCP: message: $err"
timeout "$(scaled 30)" "$FUTURECTL" --socket "$T/no.sock" info >"$T/out" 2>"$T/err"
rc=$?; err=$(<"$T/err")
want_rc 3 "missing socket"
[[ $err == *"no such socket"*"is futured running?"* ]] || fail "missing socket: message: $err"
# a file that is no socket, and a directory, are told as such
timeout "$(scaled 30)" "$FUTURECTL" --socket /etc/passwd info >"$T/out" 2>"$T/err"
rc=$?; err=$(<"$T/err")
want_rc 3 "--socket /etc/passwd"
[[ $err == *"/etc/passwd: not a socket"* ]] || fail "--socket /etc/passwd: message: $err"
timeout "$(scaled 30)" "$FUTURECTL" --socket "$T" info >"$T/out" 2>"$T/err"
rc=$?; err=$(<"$T/err")
want_rc 3 "--socket DIR"
[[ $err == *"a directory, not a socket"* ]] || fail "--socket DIR: message: $err"
# a URL's port out of range, or not a number, says so
u "http://127.0.0.1:72707" info
want_rc 2 "port 72707"
[[ $err == *"port is out of range (1 to 65535)"* ]] || fail "port 72707: message: $err"
u "http://127.0.0.1:80x/" info
want_rc 2 "port 80x"
[[ $err == *"port is not a number"* ]] || fail "port 80x: message: $err"

# A fake futured: task.submit -> {id: 7}, task.output -> no output and
# the end, task.result -> 42.  MODE close:
# it closes the connection after each answer without saying so (as a
# daemon that dropped an idle connection would); keep: keep-alive; cut: it
# sends half an answer and hangs up; junk: it answers with no HTTP at all.
cat >"$T/fake.py" <<'PY'
import json, socket, sys, threading
mode, portfile, log = sys.argv[1], sys.argv[2], sys.argv[3]
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(16)
open(portfile, "w").write(str(srv.getsockname()[1]))
def serve(conn):
    buf = b""
    while True:
        while b"\r\n\r\n" not in buf:
            d = conn.recv(65536)
            if not d:
                conn.close(); return
            buf += d
        head, buf = buf.split(b"\r\n\r\n", 1)
        n = int([l.split(b":")[1] for l in head.split(b"\r\n")
                 if l.lower().startswith(b"content-length")][0])
        while len(buf) < n:
            buf += conn.recv(65536)
        req, buf = json.loads(buf[:n]), buf[n:]
        with open(log, "a") as f:
            f.write(req["method"] + "\n")
        res = {"id": 7} if req["method"] == "task.submit" else 42
        if req["method"] == "task.output":
            empty = {"data": "", "next": 0}
            res = {"stdout": empty, "stderr": empty, "eof": True}
        body = json.dumps({"jsonrpc": "2.0", "id": req["id"], "result": res}).encode()
        msg = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        if mode == "cut":
            conn.sendall(msg[:len(msg) - 5]); conn.close(); return
        if mode == "junk":
            conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n"); conn.close(); return
        conn.sendall(msg)
        if mode == "close":
            conn.close(); return
while True:
    c, _ = srv.accept()
    with open(log, "a") as f:
        f.write("connect\n")
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
# fake MODE: starts the fake server; sets FPORT and FLOG
fake() {
	FLOG=$T/fake-$1.log
	"$PYTHON" "$T/fake.py" "$1" "$T/port-$1" "$FLOG" &
	BG_PIDS="$BG_PIDS $!"
	poll_until 10 test -s "$T/port-$1" || fail "fake server ($1) did not start"
	FPORT=$(<"$T/port-$1")
}
count() { grep -c "^$1\$" "$FLOG"; }

fake keep
u "http://127.0.0.1:$FPORT" run -- true
want_rc 0 "run against a keep-alive server"
expect_eq "$out" 42 "run's result"
expect_eq "$(count connect)" 1 "connections for submit, output, result with keep-alive"
expect_eq "$(count task.submit)" 1 "submits"

fake close
u "http://127.0.0.1:$FPORT/" run -- true
want_rc 0 "run against a server that drops idle connections"
expect_eq "$out" 42 "run's result after reconnecting"
expect_eq "$(count connect)" 3 "connections: one a call, each dropped after its answer"
expect_eq "$(count task.submit)" 1 "the submit is not sent twice"

fake cut
u "http://127.0.0.1:$FPORT" info
want_rc 3 "answer cut short"
one_line "answer cut short"
[[ $err == *"closed before the answer ended"* ]] || fail "answer cut short: message: $err"

fake junk
u "http://127.0.0.1:$FPORT" info
want_rc 3 "not HTTP"
one_line "not HTTP"
[[ $err == *"bad HTTP answer"* ]] || fail "not HTTP: message: $err"

# a Unix socket whose listen backlog is full (connect says EAGAIN): futurectl
# keeps trying until the daemon accepts, instead of failing at once.  The
# stand-in daemon accepts once the test opens its gate, which it does when
# futurectl has been seen retrying (issue #11: was a fixed second)
cat >"$T/busy.py" <<'PY'
import json, os, socket, sys, time
path, ready, gate = sys.argv[1], sys.argv[2], sys.argv[3]
srv = socket.socket(socket.AF_UNIX)
srv.bind(path)
srv.listen(0)
fillers = []
while True:		# fill the backlog ourselves
    c = socket.socket(socket.AF_UNIX)
    c.setblocking(False)
    try:
        c.connect(path)
    except BlockingIOError:
        c.close()
        break
    fillers.append(c)
open(ready, "w").write(str(len(fillers)))
while not os.path.exists(gate):
    time.sleep(0.02)
for c in fillers:	# their accepted ends read EOF at once
    c.close()
while True:
    conn, _ = srv.accept()
    conn.settimeout(10)
    try:
        data = b""
        while b"\r\n\r\n" not in data:
            d = conn.recv(65536)
            if not d:
                break
            data += d
    except socket.timeout:
        data = b""
    if b"\r\n\r\n" not in data:
        conn.close()	# a filler
        continue
    head, body = data.split(b"\r\n\r\n", 1)
    n = int([l.split(b":")[1] for l in head.split(b"\r\n")
             if l.lower().startswith(b"content-length")][0])
    conn.settimeout(5)
    while len(body) < n:
        body += conn.recv(65536)
    req = json.loads(body[:n])
    out = json.dumps({"jsonrpc": "2.0", "id": req["id"], "result": 42}).encode()
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(out) + out)
    conn.close()
PY
"$PYTHON" "$T/busy.py" "$T/busy.sock" "$T/busy.ready" "$T/busy.go" &
BG_PIDS="$BG_PIDS $!"
poll_until 10 test -s "$T/busy.ready" || fail "busy server did not start"
"$FUTURECTL" --socket "$T/busy.sock" result 5 >"$T/out" 2>"$T/err" &
fc=$!
BG_PIDS="$BG_PIDS $fc"
# retrying: futurectl has gone round its connect loop (EAGAIN, a 5 ms pause)
# some 20 times: each pause is a voluntary context switch, and before its
# first connect it has made none
retrying() {
	local n
	n=$(awk '/^voluntary_ctxt_switches:/ { print $2 }' "/proc/$fc/status" 2>/dev/null)
	[ "${n:-0}" -ge 20 ]
}
poll_until 10 eval 'retrying || ! alive '"$fc"
alive "$fc" || fail "futurectl did not wait for a daemon with a full backlog ($(cat "$T/busy.ready") fillers): $(cat "$T/err")"
touch "$T/busy.go"
poll_until 30 eval '! alive '"$fc" || fail "futurectl still runs after the daemon accepts"
wait "$fc"
rc=$?; out=$(<"$T/out"); err=$(<"$T/err")
want_rc 0 "a daemon with a full backlog"
expect_eq "$out" 42 "answer once the daemon accepts"

# the real daemon over TCP: the token from its state dir, or a wrong one
start_daemon --listen 127.0.0.1:0
addr=$(rpc daemon.info | jq -r '[.listen[] | select(startswith("tcp:"))][0] // empty')
[[ $addr =~ ^tcp:(127\.0\.0\.1:[0-9]+)$ ]] || fail "no TCP address in daemon.info: $addr"
url=http://${BASH_REMATCH[1]}
u "$url" --token-file "$STATE/token" run -- echo hi
want_rc 0 "run over TCP with the token"
expect_eq "$out" hi "run over TCP prints the output"
echo wrong >"$T/badtoken"
u "$url" --token-file "$T/badtoken" info
want_rc 3 "wrong token"
[[ $err == *"HTTP 401"* ]] || fail "wrong token: message: $err"
