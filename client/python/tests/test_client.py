"""The blocking client against a real futured.  No test asserts a duration:
each asserts an order or an outcome, with timeouts only as hang guards."""
import concurrent.futures
import http.server
import os
import socket
import sys
import threading

import pytest

import futured
from futured import (FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED)
from conftest import REPO, wait_until

PRIMES_100 = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53,
              59, 61, 67, 71, 73, 79, 83, 89, 97]
LONG = 600          # a task that only ends when cancelled
T = 60              # hang guard for waits


def test_exec_argv_result(client):
    t = client.submit(["sh", "-c", "echo hi"])
    assert isinstance(t, futured.Task) and t.id > 0
    r = t.result(timeout=T)
    assert r["stdout"] == "hi\n" and r["exit_code"] == 0
    assert t.done() and t.state == "succeeded" and not t.cancelled()
    assert t.exception() is None
    assert t.get()["spec"]["argv"] == ["sh", "-c", "echo hi"]


def test_exec_shell_stdin_env(client, tmp_path):
    t = client.submit("read x; echo \"$x $GREETING $(pwd)\"", stdin="hello\n",
                      env={"GREETING": "world"}, cwd=tmp_path)
    assert t.result(timeout=T)["stdout"] == "hello world %s\n" % tmp_path


def test_capture_json(client):
    t = client.submit(["echo", '{"a": [1, 2]}'], capture="json")
    assert t.result(timeout=T) == {"a": [1, 2]}


def test_sleep_result(client):
    assert client.submit(seconds=0.05, result={"x": 1}).result(T) == {"x": 1}
    assert client.submit(kind="sleep", seconds=0).result(T) is None


def test_failing_task_raises_task_failed(client):
    t = client.submit([sys.executable, "-c", "raise ValueError('boom')"])
    with pytest.raises(futured.TaskFailed) as info:
        t.result(timeout=T)
    err = info.value
    assert err.code == 1 and err.task_id == t.id
    assert err.exception.type == "ProcessError"
    assert err.exception["exit_code"] == 1
    assert "ValueError: boom" in err.exception.stderr_tail
    assert "ValueError: boom" in err.stderr_tail
    assert "ValueError: boom" in str(err)
    # exception() returns what result() raises, and it was retrieved
    exc = t.exception()
    assert isinstance(exc, futured.TaskFailed)
    assert exc.exception["type"] == "ProcessError"
    assert t.state == "failed" and t.get()["retrieved"] is True


def test_exception_of_fresh_handle(client):
    t = client.submit(["sh", "-c", "echo oops >&2; exit 3"])
    assert t.wait(T)
    exc = client.task(t.id).exception(timeout=T)
    assert exc.exception.exit_code == 3
    assert exc.stderr_tail == "oops\n"


def test_cancel_running_exec(client):
    t = client.submit(["sleep", str(LONG)])
    wait_until(lambda: t.state == "running", what="task running")
    assert t.cancel() is True
    assert t.cancelled() and t.done()
    with pytest.raises(futured.TaskCancelled) as info:
        t.result(timeout=T)
    assert isinstance(info.value, concurrent.futures.CancelledError)
    with pytest.raises(futured.TaskCancelled):
        client.task(t.id).exception(timeout=T)
    assert t.cancel() is False      # finished already
    assert client.cancel(t.id) is False


def test_result_timeout_is_task_not_done(client):
    t = client.submit(seconds=LONG)
    with pytest.raises(futured.TaskNotDone) as info:
        t.result(timeout=0.2)
    assert isinstance(info.value, TimeoutError)
    assert info.value.state in ("pending", "running")
    assert not t.wait(timeout=0)
    assert not t.done()
    assert t.cancel()


def test_wait_first_completed(client):
    slow = client.submit(seconds=LONG)
    fast = client.submit(seconds=0.05)
    done, pending = client.wait([slow, fast], return_when=FIRST_COMPLETED,
                                timeout=T)
    assert done == {fast} and pending == {slow}
    slow.cancel()
    done, pending = client.wait([slow, fast], timeout=T)
    assert done == {slow, fast} and not pending


def test_wait_first_exception(client):
    slow = client.submit(seconds=LONG)
    ok = client.submit(seconds=0.05)
    # fails only once ok has succeeded: a wait that stopped at ok's
    # completion would find it still pending
    bad = client.submit(["sh", "-c", "exit 1"], after=[ok])
    done, pending = client.wait([slow, ok, bad], return_when=FIRST_EXCEPTION,
                                timeout=T)
    assert bad in done and ok in done and pending == {slow}
    slow.cancel()


def test_wait_timeout_and_ids(client):
    slow = client.submit(seconds=LONG)
    done, pending = client.wait([slow.id], timeout=0.1)
    assert done == set() and pending == {slow.id}
    slow.cancel()
    assert client.wait([slow.id, slow.id], return_when=ALL_COMPLETED).done == {slow.id}


def test_as_completed_order(client):
    slow = client.submit(seconds=LONG)
    fast = client.submit(seconds=0.05)
    it = client.as_completed([slow, fast], timeout=T)
    assert next(it) == fast
    slow.cancel()
    assert next(it) == slow
    assert list(it) == []


def test_no_such_task(client):
    with pytest.raises(futured.NoSuchTask) as info:
        client.task(999999).result()
    assert info.value.code == 4 and info.value.task_id == 999999
    with pytest.raises(futured.NoSuchTask):
        client.get(999999)
    with pytest.raises(LookupError):
        client.cancel(999999)


def test_invalid_params(client):
    with pytest.raises(futured.InvalidParams) as info:
        client.submit(["true"], priority=5000)
    assert info.value.code == -32602 and info.value.field == "priority"
    with pytest.raises(futured.InvalidParams) as info:
        client.submit(["true"], no_such_field=1)
    assert info.value.field == "no_such_field"
    with pytest.raises(futured.InvalidParams) as info:
        client.submit(kind="exec", argv=[])
    assert info.value.field == "argv"
    with pytest.raises(futured.InvalidParams):
        client.call("task.get", id="seven")
    with pytest.raises(ValueError):        # InvalidParams is a ValueError
        client.submit(url="ftp://example.com/")


def test_method_not_found(client):
    with pytest.raises(futured.MethodNotFound) as info:
        client.call("no.such.method")
    assert info.value.data["method"] == "no.such.method"


def test_key_conflict_and_idempotency(client, label):
    key = "k-" + label["test"]
    a = client.submit(seconds=0, key=key)
    assert client.submit(seconds=0, key=key).id == a.id
    with pytest.raises(futured.KeyConflict) as info:
        client.submit(seconds=1, key=key)
    assert info.value.task_id == a.id and info.value.key == key


def test_dependency_failed_and_task_timeout(client):
    bad = client.submit(["false"])
    dep = client.submit(["true"], after=[bad])
    with pytest.raises(futured.TaskFailed) as info:
        dep.result(timeout=T)
    assert info.value.type == "DependencyFailed"
    slow = client.submit(["sleep", str(LONG)], timeout=0.2)
    with pytest.raises(futured.TaskFailed) as info:
        slow.result(timeout=T)
    assert info.value.type == "TimeoutError"


def test_batch_many_submits_one_request(client):
    posts = []
    real = client._http.post

    def counting(body, timeout):
        posts.append(len(body))
        return real(body, timeout)

    client._http.post = counting
    with client.batch() as b:
        for i in range(1000):
            b.submit(seconds=0, result=i)
    assert len(posts) == 1
    tasks = b.results
    assert len(tasks) == 1000
    assert all(isinstance(t, futured.Task) for t in tasks)
    ids = [t.id for t in tasks]
    assert ids == sorted(ids) and len(set(ids)) == 1000
    done, pending = client.wait(tasks, timeout=T)
    assert len(done) == 1000 and not pending
    rb = client.batch()
    entries = [rb.call("task.result", id=t.id) for t in tasks]
    rb.send()
    assert [e.result() for e in entries] == list(range(1000))


def test_batch_errors_per_entry(client, label):
    b = client.batch()
    ok = b.submit(["true"])
    bad = b.submit(kind="exec", argv=[])
    missing = b.call("task.get", id=999999)
    b.notify("task.submit", kind="sleep", seconds=0, labels=label)
    info = b.call("daemon.info")
    results = b.send()
    assert len(results) == 4            # the notification has no entry
    assert isinstance(results[0], futured.Task)
    assert isinstance(results[1], futured.InvalidParams)
    assert isinstance(results[2], futured.NoSuchTask)
    assert results[3]["protocol_version"] == 1
    assert ok.result() == results[0] and info.exception() is None
    with pytest.raises(futured.InvalidParams):
        bad.result()
    assert isinstance(missing.exception(), futured.NoSuchTask)
    assert ok.result().result(timeout=T)["exit_code"] == 0


def test_batch_split(client, monkeypatch):
    monkeypatch.setattr(futured._common, "MAX_BATCH", 3)
    b = client.batch()
    for i in range(7):
        b.submit(seconds=0, result=i)
    tasks = b.send()
    assert [t.result(T) for t in tasks] == list(range(7))


def test_notify_fire_and_forget(client, label):
    assert client.notify("task.submit", kind="exec",
                         argv=["sh", "-c", "echo fired"], labels=label) is None
    found = wait_until(lambda: list(client.list(label=label)),
                       what="notified task listed")
    assert len(found) == 1
    t = client.task(found[0]["id"])
    assert t.result(timeout=T)["stdout"] == "fired\n"
    # a batch of notifications only: nothing answered, every one runs
    b = client.batch()
    for i in range(3):
        b.notify("task.submit", kind="sleep", seconds=0, labels=label)
    assert b.send() == []
    wait_until(lambda: len(list(client.list(label=label))) == 4,
               what="notified tasks listed")
    # a refused notification is not answered, only counted
    before = client.info()["refused_notifications"]
    client.notify("task.submit", kind="exec", argv=[])
    assert client.info()["refused_notifications"] == before + 1


def test_list_paging(client, label):
    ids = [client.submit(seconds=0, labels=label).id for _ in range(5)]
    listed = [t["id"] for t in client.list(label=label, page_size=2)]
    assert listed == ids[::-1]                  # newest first
    assert [t["id"] for t in client.list(label=label, limit=3)] == \
        ids[::-1][:3]
    assert all(t["labels"] == label for t in client.list(label=label))


def test_unretrieved(client, label):
    t = client.submit(["false"], labels=label)
    t.wait(T)
    assert [x["id"] for x in client.list(label=label, unretrieved=True)] \
        == [t.id]
    t.exception()
    assert list(client.list(label=label, unretrieved=True)) == []


def test_stream_primes(client):
    t = client.submit(["sh", os.path.join(REPO, "examples", "primes.sh"),
                       "100"])
    assert list(t.stream(timeout=T)) == PRIMES_100
    assert t.result(timeout=T)["stdout"] == "25 primes up to 100\n"


def test_stream_items_and_errors(client):
    t = client.submit('echo \'{"n": 1}\' >&3; echo "not json" >&3; '
                      'echo 3 >&3')
    with pytest.raises(futured.YieldDecodeError) as info:
        list(t.stream(timeout=T))
    assert info.value.seq == 1 and info.value.line == "not json"
    raw = list(t.stream(raw=True, timeout=T))
    assert [i["seq"] for i in raw] == [0, 1, 2]
    assert raw[0]["value"] == {"n": 1} and "error" in raw[1]
    assert list(t.stream(start=2, timeout=T)) == [3]


def test_stream_of_failing_task_raises_at_end(client):
    t = client.submit("echo 1 >&3; echo 2 >&3; exit 5")
    items = []
    with pytest.raises(futured.TaskFailed):
        for x in t.stream(timeout=T):
            items.append(x)
    assert items == [1, 2]
    assert list(t.stream(check=False, timeout=T)) == [1, 2]


def test_output_streaming(client):
    t = client.submit("echo a; sleep 0.2; echo b; echo err >&2")
    chunks = list(t.iter_output(timeout=T))
    assert "".join(chunks) == "a\nb\n"
    assert "".join(t.iter_output("stderr", timeout=T)) == "err\n"
    assert t.output() == "a\nb\n" and t.output("stderr") == "err\n"


def test_output_both_streams(client):
    t = client.submit("echo a; echo b >&2; sleep 0.2; echo c; echo d >&2")
    pairs = list(t.iter_output("both", timeout=T))
    assert "".join(x for n, x in pairs if n == "stdout") == "a\nc\n"
    assert "".join(x for n, x in pairs if n == "stderr") == "b\nd\n"


def test_output_while_running(client):
    t = client.submit("echo first; sleep %d" % LONG)
    it = t.iter_output(timeout=T)
    assert next(it) == "first\n"        # before the task ends
    assert t.output() == "first\n"
    t.cancel()
    assert list(it) == []


def test_queues(client, label):
    name = "py-" + label["test"]
    # a task names the queue into being
    blocker = client.submit(seconds=LONG, queue=name)
    q = client.set_queue(name, concurrency=1, paused=True)
    assert q["name"] == name and q["paused"] is True
    t = client.submit(seconds=0, result="ran", queue=name)
    assert t.state == "pending"
    assert any(x["name"] == name and x["paused"] for x in client.queues())
    blocker.cancel()
    assert client.resume_queue(name)["paused"] is False
    assert t.result(timeout=T) == "ran"


def test_info_and_discover(client, daemon):
    info = client.info()
    assert info["protocol_version"] == futured.PROTOCOL_VERSION
    assert info["state_dir"] == daemon.state_dir
    methods = {m["name"] for m in client.discover()["methods"]}
    assert {"task.submit", "task.wait", "task.stream"} <= methods


def test_http_task(client):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            code = 200 if self.path == "/ok" else 404
            body = b"<h1>page</h1>\nline two\n"
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = "http://127.0.0.1:%d" % server.server_address[1]
        ok = client.submit(url=base + "/ok", timeout=T)
        missing = client.submit(url=base + "/missing", timeout=T)
        r = ok.result(timeout=T)
        assert r["status"] == 200 and r["body"].startswith("<h1>page</h1>")
        with pytest.raises(futured.TaskFailed) as info:
            missing.result(timeout=T)
        assert info.value.type == "HttpError"
        assert info.value.exception["status"] == 404
    finally:
        server.shutdown()
        server.server_close()


def test_threads_share_a_client(client):
    def work(i):
        t = client.submit(["echo", str(i)])
        return t.result(timeout=T)["stdout"]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        out = list(pool.map(work, range(40)))
    assert out == ["%d\n" % i for i in range(40)]


def test_default_socket_from_env(daemon, monkeypatch):
    monkeypatch.setenv("FUTURED_SOCKET", daemon.socket)
    assert futured.default_socket() == daemon.socket
    with futured.Client() as c:
        assert c.socket == daemon.socket and c.info()["pid"] > 0


def test_unreachable_socket(tmp_path):
    with futured.Client(socket=str(tmp_path / "none.sock")) as c:
        with pytest.raises(futured.TransportError) as info:
            c.info()
    assert "none.sock" in str(info.value)


def test_stale_keepalive_connection_is_replaced(client):
    # Calls reuse one kept-alive connection; one that died meanwhile (as
    # when the daemon closes it after 300 s idle) is replaced without the
    # caller noticing.
    client.info()
    idle = client._http._idle
    assert len(idle) == 1
    conn = idle[0]
    assert client.info()["pid"] > 0
    assert client._http._idle == [conn]         # reused
    conn.sock.shutdown(socket.SHUT_RDWR)
    assert client.info()["pid"] > 0
    assert client._http._idle and client._http._idle[0] is not conn


def test_retry_is_a_new_task(client, label):
    t = client.submit(["sh", "-c", "exit 4"], labels=label, retries=1)
    with pytest.raises(futured.TaskFailed):
        t.result(timeout=T)
    again = client.retry(t)
    assert again.id != t.id
    info = again.get()
    assert info["labels"] == dict(label, **{"futured.retry_of": str(t.id)})
    assert info["spec"] == t.get()["spec"] and info["max_retries"] == 1
    with pytest.raises(futured.TaskFailed):
        again.result(timeout=T)
    assert t.get()["state"] == "failed"     # the old future is unchanged
    running = client.submit(seconds=LONG)
    with pytest.raises(futured.TaskNotDone):
        client.retry(running)
    running.cancel()


def test_delete_by_ids_and_filter(client, label):
    done = client.submit(seconds=0, result="x", labels=label)
    assert done.result(timeout=T) == "x"
    running = client.submit(seconds=LONG, labels=label)
    r = client.delete([done, running, 999999991])
    assert r == {"deleted": 1, "unfinished": [running.id],
                 "missing": [999999991]}
    with pytest.raises(futured.NoSuchTask):
        done.get()
    assert running.state == "running"
    assert client.delete([running], cancel=True)["deleted"] == 1
    with pytest.raises(futured.NoSuchTask):
        running.get()
    kept = client.submit(seconds=0, labels=label)
    kept.wait(timeout=T)
    assert client.delete(label=label, state="failed")["deleted"] == 0
    assert client.delete(label=label)["deleted"] == 1
    with pytest.raises(TypeError):
        client.delete(colour="red")
    with pytest.raises(futured.InvalidParams):
        client.delete(state="running")


def test_delete_queue(client, label):
    name = "pyq-" + label["test"]
    with pytest.raises(futured.NoSuchQueue):
        client.set_queue(name, paused=True, create=False)
    client.set_queue(name, paused=True)
    t = client.submit(seconds=0, queue=name)
    with pytest.raises(futured.QueueNotEmpty) as e:
        client.delete_queue(name)
    assert e.value.data["tasks"] == 1
    t.cancel()
    client.delete_queue(name)
    assert all(q["name"] != name for q in client.queues())
    with pytest.raises(futured.NoSuchQueue):
        client.delete_queue(name)
