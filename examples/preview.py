#!/usr/bin/env python3
"""preview.py URL...: fetch pages through futured and preview them.

The asyncio seed program made durable: every URL becomes an `http` task
(one JSON-RPC batch of task.submit), the daemon fetches them all at once
from its one thread, task.wait waits for the lot, and task.result hands
back each page, of which the first 3 non-empty lines are printed:

    http://127.0.0.1:8080/page/1 [200]
      <!-- page 1 -->
      line one of 1
      line two of 1

A redirected URL shows where it ended (`URL -> FINAL [200]`), a body that
is not UTF-8 its size, a failed fetch its exception (`URL [HttpError:
HTTP 404 from URL]`).  Exit status: 0 when every fetch succeeded, 1 when
one failed, 2 on a usage or protocol error.

Python 3 standard library only: JSON-RPC 2.0 over HTTP/1.1 on futured's
Unix socket, $FUTURED_SOCKET (else the daemon's default).
"""
import base64
import http.client
import json
import os
import socket
import sys

FETCH_TIMEOUT = 30      # seconds per fetch (the tasks' timeout)
WAIT = 30               # seconds per task.wait long-poll (the daemon caps it)
LINES = 3
BLANK = " \t\r\f\v"


class UnixHTTPConnection(http.client.HTTPConnection):
    """An HTTPConnection to a Unix socket instead of a TCP port."""

    def __init__(self, socket_path, timeout=WAIT + 30):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = socket_path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


class RpcError(Exception):
    def __init__(self, error):
        super().__init__("%s (%s): %s" % (error.get("message"),
                         error.get("code"), json.dumps(error.get("data"))))
        self.error = error


class Futured:
    """A JSON-RPC client of futured: single calls and batches."""

    def __init__(self, socket_path):
        self.conn = UnixHTTPConnection(socket_path)
        self.next_id = 1

    def _post(self, payload):
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        for attempt in (1, 2):
            try:
                self.conn.request("POST", "/rpc", body, headers)
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError):
                # the daemon closed a kept-alive connection: once more
                self.conn.close()
                if attempt == 2:
                    raise
        if resp.status != 200:
            raise RuntimeError("futured answered HTTP %d" % resp.status)
        return json.loads(data)

    def _request(self, method, params):
        req = {"jsonrpc": "2.0", "id": self.next_id, "method": method,
               "params": params}
        self.next_id += 1
        return req

    def call(self, method, params):
        answer = self._post(self._request(method, params))
        if "error" in answer:
            raise RpcError(answer["error"])
        return answer["result"]

    def batch(self, calls):
        """[(method, params)] -> the answers, in the same order."""
        return self._post([self._request(m, p) for m, p in calls])


def default_socket():
    if os.environ.get("FUTURED_SOCKET"):
        return os.environ["FUTURED_SOCKET"]
    if os.geteuid() == 0:
        return "/var/lib/futured/futured.sock"
    state = os.environ.get("XDG_STATE_HOME") or os.path.expanduser(
        "~/.local/state")
    return os.path.join(state, "futured", "futured.sock")


def preview(url, answer):
    """Prints one URL's preview; False when its fetch failed."""
    if "error" in answer:
        err = answer["error"]
        if err.get("code") == 1:            # TaskFailed
            exc = err["data"]["exception"]
            print("%s [%s: %s]" % (url, exc["type"], exc["message"]))
        elif err.get("code") == 2:          # TaskCancelled
            print("%s [cancelled]" % url)
        else:
            print("%s [error %s: %s]" % (url, err.get("code"),
                                         err.get("message")))
        return False
    r = answer["result"]
    where = url if r["url"] == url else "%s -> %s" % (url, r["url"])
    print("%s [%d]" % (where, r["status"]))
    if r["body_encoding"] == "base64":
        print("  (%d bytes of binary)" % len(base64.b64decode(r["body"])))
        return True
    lines = [l.strip(BLANK) for l in r["body"].split("\n")]
    for line in [l for l in lines if l][:LINES]:
        print("  " + line)
    return True


def main(argv):
    urls = argv[1:]
    if not urls or urls[0].startswith("-"):
        print("usage: preview.py URL...", file=sys.stderr)
        return 2
    fut = Futured(default_socket())
    try:
        answers = fut.batch([("task.submit", {"kind": "http", "url": u,
                                              "timeout": FETCH_TIMEOUT})
                             for u in urls])
    except OSError as e:
        print("preview.py: cannot reach futured on %s: %s" %
              (fut.conn.socket_path, e.strerror or e), file=sys.stderr)
        return 2
    ids = []
    for url, a in zip(urls, answers):
        if "error" in a:
            print("preview.py: %s: %s" % (url, RpcError(a["error"])),
                  file=sys.stderr)
            return 2
        ids.append(a["result"]["id"])
    pending = ids
    while pending:
        pending = fut.call("task.wait", {"ids": pending,
                                         "timeout": WAIT})["pending"]
    answers = fut.batch([("task.result", {"id": i}) for i in ids])
    ok = [preview(u, a) for u, a in zip(urls, answers)]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (OSError, RpcError, RuntimeError, ValueError) as e:
        print("preview.py: %s" % e, file=sys.stderr)
        sys.exit(2)
