#!/usr/bin/env bash
# The HTTP edges of issue #11 (defects 3, 4, 9), on raw sockets:
# - a declared Content-Length over --max-request (10 GB, 20 digits) with no
#   body following is answered 413 at once, then the connection lingers a
#   bounded time and closes; a client still sending gets its 413;
# - a chunked body with an invalid chunk size is 400, a chunk size past any
#   limit 413; HTTP errors have JSON bodies {status, error, reason}; 405
#   carries Allow: POST, 401 WWW-Authenticate: Bearer, 503 Retry-After;
#   an unknown method is 501, HTTP/2.0 505, 100 KB of headers 431;
# - pipelined requests are answered in order, Expect: 100-continue and
#   HTTP/1.0 keep-alive work;
# - 2,000 clients connecting at once are all accepted and answered, and
#   10,000 idle connections leave the daemon answering at once (the
#   listening backlog was 128: libevent's listen(fd, 128) over futured's).
. "$(dirname "$0")/harness.sh"

start_daemon --max-request 1048576 --listen 127.0.0.1:0 --max-requests 50
port=$(rpc daemon.info | jq -r '.listen[] | select(startswith("tcp:")) | sub(".*:"; "")')
tok=$(tr -d '\n' <"$STATE/token")
long=$(submit '{"kind":"sleep","seconds":600}')	# what the long-polls wait for

"$PYTHON" - "$SOCK" "$port" "$tok" "$long" <<'PY' || fail "raw HTTP cases: see above"
import json, socket, sys, time
path, port, tok, long_id = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
failed = []
def check(cond, what):
    if not cond:
        failed.append(what)
        print("FAIL:", what, file=sys.stderr)
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(20)
    return s
def read_answer(s):
    """One answer: (status, headers dict, body bytes)."""
    data = b""
    while b"\r\n\r\n" not in data:
        c = s.recv(65536)
        if not c:
            break
        data += c
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines[0].startswith("HTTP/1.1 ") else 0
    hdrs = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    n = int(hdrs.get("content-length", "0"))
    while len(rest) < n:
        c = s.recv(65536)
        if not c:
            break
        rest += c
    return status, hdrs, rest[:n], rest[n:]
def json_error(body, status, what):
    try:
        j = json.loads(body)
    except Exception:
        check(False, "%s: body is not JSON: %r" % (what, body[:200]))
        return
    check(j.get("status") == status and isinstance(j.get("error"), str)
          and isinstance(j.get("reason"), str), "%s: JSON error body %r" % (what, j))
def closed_within(s, secs):
    s.settimeout(secs)
    try:
        while s.recv(65536):
            pass
        return True
    except (socket.timeout, ConnectionResetError):
        return False
INFO = b'{"jsonrpc":"2.0","id":1,"method":"daemon.info"}'

# defect 3: a declared length over the limit, nothing following
for cl in (b"10000000000", b"99999999999999999999", b"1048577"):
    s = conn()
    t0 = time.time()
    s.sendall(b"POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: " + cl + b"\r\n\r\n")
    st, h, body, _ = read_answer(s)
    dt = time.time() - t0
    check(st == 413, "Content-Length %s: status %d" % (cl, st))
    check(h.get("connection") == "close", "Content-Length %s: Connection: close" % cl)
    json_error(body, 413, "Content-Length %s" % cl)
    # it lingers at most HTTP_LINGER_IDLE (2 s) for bytes that never come
    check(closed_within(s, 8), "Content-Length %s: connection not closed after the 413" % cl)
    s.close()
# a client that keeps sending is answered first, then cut off at the bound
s = conn()
s.sendall(b"POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n")
st, h, body, _ = read_answer(s)
check(st == 413, "still sending: status %d" % st)
s.settimeout(0.5)
sent, t0, closed = 0, time.time(), False
while time.time() - t0 < 30:
    try:
        sent += s.send(b"x" * 4096)
        time.sleep(0.05)
    except (BrokenPipeError, ConnectionResetError):
        closed = True
        break
    except socket.timeout:
        pass
check(closed, "a client sending forever was not cut off (sent %d bytes)" % sent)
s.close()

# defect 4: chunked bodies
for chunk, want in ((b"zz\r\nabc\r\n0\r\n\r\n", 400), (b"ffffffffffffffffff\r\n", 413),
                    (b"200000\r\n", 413)):
    s = conn()
    s.sendall(b"POST /rpc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk)
    st, h, body, _ = read_answer(s)
    check(st == want, "chunk %r: status %d, want %d" % (chunk[:20], st, want))
    json_error(body, want, "chunk %r" % chunk[:20])
    s.close()
# a good chunked body still works
s = conn()
s.sendall(b"POST /rpc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
          + b"%x\r\n" % len(INFO) + INFO + b"\r\n0\r\n\r\n")
st, h, body, _ = read_answer(s)
check(st == 200 and json.loads(body)["id"] == 1, "chunked daemon.info: %d %r" % (st, body[:100]))
s.close()

# every HTTP error: JSON, the right headers
def raw(req, sock=None):
    s = sock or conn()
    s.sendall(req)
    r = read_answer(s)
    s.close()
    return r
st, h, body, _ = raw(b"GET /rpc HTTP/1.1\r\nHost: x\r\n\r\n")
check(st == 405 and h.get("allow") == "POST", "GET: %d %r" % (st, h))
json_error(body, 405, "GET")
st, h, body, _ = raw(b"POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
check(st == 404, "unknown path: %d" % st)
json_error(body, 404, "unknown path")
st, h, body, _ = raw(b"FOO /rpc HTTP/1.1\r\nHost: x\r\n\r\n")
check(st == 501, "unknown method: %d" % st)
json_error(body, 501, "unknown method")
st, h, body, _ = raw(b"POST /rpc HTTP/2.0\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
check(st == 505, "HTTP/2.0: %d" % st)
st, h, body, _ = raw(b"POST /rpc HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n")
check(st == 431, "100 KB header: %d" % st)
json_error(body, 431, "100 KB header")
st, h, body, _ = raw(b"POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: x1\r\n\r\n")
check(st == 400, "bad Content-Length: %d" % st)
json_error(body, 400, "bad Content-Length")
st, h, body, _ = raw(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n")
check(st in (400, 501), "TLS hello on plain HTTP: %d" % st)
t = socket.create_connection(("127.0.0.1", port), timeout=20)
st, h, body, _ = raw(b"POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(INFO) + INFO, t)
check(st == 401 and h.get("www-authenticate") == "Bearer", "TCP without token: %d %r" % (st, h))
json_error(body, 401, "TCP without token")
t = socket.create_connection(("127.0.0.1", port), timeout=20)
st, h, body, _ = raw(b"POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok.encode()
                     + b"\r\nContent-Length: %d\r\n\r\n" % len(INFO) + INFO, t)
check(st == 200 and json.loads(body)["id"] == 1, "TCP with token: %d" % st)

# 503: --max-requests 50, 50 long-polls in flight
polls = []
for i in range(50):
    s = conn()
    b = json.dumps({"jsonrpc": "2.0", "id": i, "method": "task.wait",
                    "params": {"ids": [long_id], "timeout": 30}}).encode()
    s.sendall(b"POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(b) + b)
    polls.append(s)
time.sleep(0.5)
st, h, body, _ = raw(b"POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(INFO) + INFO)
check(st == 503 and h.get("retry-after") == "1", "saturated: %d %r" % (st, h))
json_error(body, 503, "saturated")
for s in polls:
    s.close()    # gone clients free their slots
time.sleep(0.5)
st, h, body, _ = raw(b"POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(INFO) + INFO)
check(st == 200, "after the long-polls hung up: %d" % st)

# pipelining, 100-continue, HTTP/1.0 keep-alive
s = conn()
two = b"".join(b"POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(x) + x
               for x in (b'{"jsonrpc":"2.0","id":"a","method":"daemon.info"}',
                         b'{"jsonrpc":"2.0","id":"b","method":"daemon.info"}'))
s.sendall(two)
st, h, body, rest = read_answer(s)
check(st == 200 and json.loads(body)["id"] == "a", "pipelined first: %d %r" % (st, body[:80]))
if rest:
    s2 = s
st2, h2, body2, _ = read_answer(s) if not rest else (None, None, None, None)
if rest:
    # the second answer started in the same read
    data = rest
    while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < int(
            [l for l in data.split(b"\r\n") if l.lower().startswith(b"content-length")][0].split(b":")[1]):
        data += s.recv(65536)
    body2 = data.partition(b"\r\n\r\n")[2]
    st2 = 200 if data.startswith(b"HTTP/1.1 200") else 0
check(st2 == 200 and json.loads(body2)["id"] == "b", "pipelined second: %r %r" % (st2, body2))
s.close()
s = conn()
s.sendall(b"POST /rpc HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(INFO))
data = s.recv(100)
check(data.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), "100-continue: %r" % data)
s.sendall(INFO)
st, h, body, _ = read_answer(s)
check(st == 200, "after 100-continue: %d" % st)
s.close()
s = conn()
for i in range(2):
    s.sendall(b"POST /rpc HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: %d\r\n\r\n" % len(INFO) + INFO)
    st, h, body, _ = read_answer(s)
    check(st == 200, "HTTP/1.0 keep-alive request %d: %d" % (i, st))
s.close()
sys.exit(1 if failed else 0)
PY
alive "$DPID" || fail "futured died on the raw HTTP cases"

# ---- defect 9: 2,000 clients at once, then 10,000 idle connections
stop_daemon
start_daemon
ulimit -n 12000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
want_idle=10000
[ "$(ulimit -n)" -ge 10100 ] || fail "need 10,100 descriptors for 10,000 idle connections, have $(ulimit -n)"
"$PYTHON" - "$SOCK" "$want_idle" <<'PY' || fail "many connections: see above"
import json, selectors, socket, sys, time
path, idle = sys.argv[1], int(sys.argv[2])
body = b'{"jsonrpc":"2.0","id":7,"method":"daemon.info"}'
req = b"POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body
sel = selectors.DefaultSelector()
refused = 0
socks = []
for i in range(2000):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(path)
    except BlockingIOError:
        refused += 1          # EAGAIN: the backlog was full
        s.close()
        continue
    socks.append(s)
for s in socks:
    s.send(req)
    sel.register(s, selectors.EVENT_READ, b"")
answered, deadline = 0, time.time() + 120
bufs = {s: b"" for s in socks}
while answered + 0 < len(socks) and time.time() < deadline:
    for key, _ in sel.select(timeout=1):
        s = key.fileobj
        d = s.recv(65536)
        bufs[s] += d
        if not d or b'"id":7' in bufs[s]:
            sel.unregister(s)
            answered += 1 if b'"id":7' in bufs[s] else 0
            if not d:
                answered += 0
for s in socks:
    s.close()
if refused or answered != 2000:
    sys.exit("2,000 clients at once: %d refused with EAGAIN, %d answered" % (refused, answered))
held = []
for i in range(idle):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    held.append(s)
t0 = time.time()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(30)
s.connect(path)
s.sendall(req)
data = b""
while b'"id":7' not in data:
    d = s.recv(65536)
    if not d:
        break
    data += d
dt = time.time() - t0
if b'"id":7' not in data:
    sys.exit("daemon.info not answered with %d idle connections: %r" % (idle, data[:200]))
print("# daemon.info with %d idle connections: %.3f s" % (idle, dt))
for s in held:
    s.close()
PY
expect_jq "$(rpc daemon.info)" '.pid > 0' "daemon.info after the connection storms"
stop_daemon
note "ok: HTTP edges, 2,000 clients at once, $want_idle idle connections"
