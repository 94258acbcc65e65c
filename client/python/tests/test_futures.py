"""Futures completed from outside, against a real futured: create_future
(kind "future"), set_result, set_exception, cancel with a message, and
as_completed over task.as_completed's cursor, in the blocking and the
asyncio client.  Orders are made by the test (it completes the futures one
after the other), never by timing; timeouts only guard against hangs."""
import asyncio
import concurrent.futures
import threading

import pytest

import futured
from futured import _common
from conftest import Daemon, wait_until
from test_client import LONG, T


def later(fn, *args):
    """Runs fn(*args) on a thread; join() it."""
    th = threading.Thread(target=fn, args=args, daemon=True)
    th.start()
    return th


# --- set_result, set_exception ------------------------------------------

def test_create_future_and_set_result(client, label):
    f = client.create_future(labels=label)
    assert f.info["kind"] == "future" and f.info["spec"] == {"kind": "future"}
    assert f.state == "running" and not f.done()
    assert f.set_result({"answer": [4, 2]}) == "succeeded"
    assert f.result(timeout=T) == {"answer": [4, 2]}
    assert f.state == "succeeded"
    g = client.submit(kind="future")
    assert client.set_result(g.id, None) == "succeeded"
    assert g.result(timeout=T) is None


def test_set_result_twice_is_invalid_state(client):
    f = client.create_future()
    f.set_result(1)
    with pytest.raises(futured.InvalidStateError) as info:
        f.set_result(2)
    err = info.value
    assert err.state == "succeeded" and err.task_id == f.id
    assert isinstance(err, futured.FuturedError)
    assert isinstance(err, concurrent.futures.InvalidStateError)
    assert isinstance(err, asyncio.InvalidStateError)
    assert "had already finished: succeeded" in str(err)
    with pytest.raises(futured.InvalidStateError):
        client.set_exception(f, "late")
    assert f.result(timeout=T) == 1     # unchanged


def test_set_exception(client):
    f = client.create_future()
    assert f.set_exception("bad input", type="ValueError",
                           data={"code": 7, "type": "Ignored"}) == "failed"
    with pytest.raises(futured.TaskFailed) as info:
        f.result(timeout=T)
    exc = info.value.exception
    assert exc == {"type": "ValueError", "message": "bad input", "code": 7}
    assert "ValueError: bad input" in str(info.value)
    with pytest.raises(futured.InvalidStateError) as again:
        f.set_result(1)
    assert again.value.state == "failed"
    # the default type; an exception instance gives its class and text
    g = client.create_future()
    client.set_exception(g.id, "plain")
    assert client.get(g)["exception"]["type"] == "Exception"
    h = client.create_future()
    h.set_exception(KeyError("k"))
    assert client.get(h)["exception"]["type"] == "KeyError"
    with pytest.raises(futured.InvalidParams) as bad:
        client.create_future().set_exception("m", type="not a type")
    assert bad.value.field == "type"


def test_set_exception_with_retries_waits_again(client):
    f = client.create_future(retries=1, retry_backoff=0.05)
    assert f.set_exception("first") in ("pending", "running")
    assert not f.done()
    wait_until(lambda: client.get(f)["state"] == "running",
               what="the retry of the future")
    assert client.get(f)["attempt"] == 2
    f.set_result("second")
    assert f.result(timeout=T) == "second"


def test_set_result_refusals(client):
    sleep = client.submit(seconds=LONG)
    with pytest.raises(futured.InvalidParams) as info:
        sleep.set_result(1)
    assert info.value.field == "id"
    sleep.cancel()
    with pytest.raises(futured.NoSuchTask):
        client.set_result(999999, 1)
    with pytest.raises(TypeError):
        client.set_exception(client.create_future(), 42)


def test_pending_future_and_dependents(client):
    f = client.create_future(delay=3600)
    assert f.state == "pending"
    dep = client.submit(["true"], after=[f])
    ctrl = client.submit(["true"])
    ctrl.result(timeout=T)
    assert dep.state == "pending"       # the scheduler had its chance
    f.set_result("go")                  # a pending future may be completed
    dep.result(timeout=T)
    assert dep.get()["started_at"] >= f.get()["finished_at"]
    g = client.create_future()
    dep2 = client.submit(["true"], after=[g])
    g.set_exception("no")
    with pytest.raises(futured.TaskFailed) as info:
        dep2.result(timeout=T)
    assert info.value.type == "DependencyFailed"


# --- cancel with a message ----------------------------------------------

def test_cancel_with_message(client):
    f = client.create_future()
    assert f.cancel(message="no longer needed")
    assert f.state == "cancelled"
    with pytest.raises(futured.TaskCancelled) as info:
        client.task(f.id).result(timeout=T)
    assert info.value.cancel_message == "no longer needed"
    assert str(info.value) == "task %d was cancelled: no longer needed" % f.id
    assert client.get(f)["exception"] == {"type": "CancelledError",
                                          "message": "no longer needed"}
    assert not client.cancel(f.id, message="again")
    with pytest.raises(futured.InvalidStateError) as again:
        f.set_result(1)
    assert again.value.state == "cancelled"
    g = client.create_future()
    assert client.cancel(g)
    with pytest.raises(futured.TaskCancelled) as plain:
        g.result(timeout=T)
    assert plain.value.cancel_message is None
    with pytest.raises(futured.InvalidParams) as long:
        client.cancel(client.create_future(), message="m" * 1025)
    assert long.value.field == "message"


# --- as_completed ---------------------------------------------------------

def test_as_completed_in_the_order_completed(client):
    a, b, c = (client.create_future() for _ in range(3))
    # handles of their own: they learn the states from as_completed alone
    ha, hb, hc = (client.task(t.id) for t in (a, b, c))
    it = client.as_completed([ha, hb, hc], timeout=T)
    later(c.set_result, "c")
    assert next(it) is hc
    b.set_exception("b")
    assert next(it) is hb
    a.cancel()
    assert next(it) is ha
    assert list(it) == []
    # each Task yielded knows its final state: nothing is asked
    calls = []
    orig = client.call
    client.call = lambda m, **p: calls.append(m) or orig(m, **p)
    try:
        assert [t.state for t in (ha, hb, hc)] == ["cancelled", "failed",
                                                   "succeeded"]
    finally:
        client.call = orig
    assert calls == []


def test_as_completed_finished_ones_in_given_order_and_ids(client):
    a, b = client.create_future(), client.create_future()
    b.set_result(2)
    a.set_result(1)
    assert list(client.as_completed([b.id, a.id, b.id], timeout=T)) == \
        [b.id, a.id]
    assert list(client.as_completed([], timeout=T)) == []


def test_as_completed_timeout(client):
    done, never = client.create_future(), client.create_future()
    done.set_result(1)
    it = client.as_completed([never, done], timeout=0.3)
    assert next(it) is done
    with pytest.raises(futured.TaskNotDone) as info:
        next(it)
    assert isinstance(info.value, TimeoutError)
    assert "1 (of 2) tasks unfinished" in str(info.value)
    never.cancel()


def test_as_completed_follows_the_cursor(tmp_path):
    """A daemon whose waits end after 1 s: as_completed calls again and
    again, each call with the last cursor, and every task comes once."""
    d = Daemon(tmp_path / "s", "--max-wait", "1")
    try:
        # an I/O timeout under the daemon's wait: only the time a long-poll
        # asks for keeps the exchange alive
        with futured.Client(socket=d.socket, timeout=0.9) as client:
            fs = [client.create_future() for _ in range(3)]
            sent = []
            orig = client.call

            def spy(method, **params):
                if method == "task.as_completed":
                    sent.append(params.get("cursor"))
                return orig(method, **params)
            client.call = spy

            def complete():
                for f in (fs[1], fs[0], fs[2]):
                    threading.Event().wait(1.2)
                    orig("task.set_result", id=f.id, result=f.id)
            th = later(complete)
            got = list(client.as_completed(fs, timeout=T))
            th.join()
            assert got == [fs[1], fs[0], fs[2]]
            assert len(sent) >= 4 and sent[0] is None
            assert all(isinstance(s, str) for s in sent[1:])
    finally:
        d.stop()


def test_as_completed_by_wait(client, monkeypatch):
    """More ids than one task.as_completed takes, and a daemon without the
    method: task.wait does it."""
    a, b = client.create_future(), client.create_future()
    monkeypatch.setattr(_common, "MAX_WAIT_IDS", 1)
    it = client.as_completed([a, b], timeout=T)
    later(b.set_result, 2)
    assert next(it) is b
    a.set_result(1)
    assert list(it) == [a]
    monkeypatch.undo()

    c = client.create_future()
    orig = client.call

    def old_daemon(method, **params):
        if method == "task.as_completed":
            raise futured.MethodNotFound("Method not found", -32601,
                                         {"method": method})
        return orig(method, **params)
    monkeypatch.setattr(client, "call", old_daemon)
    c.set_result(3)
    assert list(client.as_completed([c], timeout=T)) == [c]


# --- asyncio ---------------------------------------------------------------

def run(coro_fn, daemon, **kw):
    async def main():
        async with futured.AsyncClient(socket=daemon.socket, timeout=60,
                                       **kw) as c:
            return await coro_fn(c)
    return asyncio.run(main())


def test_async_futures(daemon):
    async def go(c):
        f = await c.create_future()
        assert isinstance(f, futured.AsyncTask) and f.info["kind"] == "future"
        waiter = asyncio.ensure_future(f.result(timeout=T))
        assert await f.set_result([1, 2]) == "succeeded"
        assert await waiter == [1, 2]
        with pytest.raises(futured.InvalidStateError):
            await f.set_exception("late")
        g = await c.create_future()
        assert await c.set_exception(g.id, ValueError("v")) == "failed"
        with pytest.raises(futured.TaskFailed) as info:
            await g
        assert info.value.type == "ValueError"
        h = await c.create_future()
        assert await h.cancel(message="why")
        assert await h.state() == "cancelled"
        with pytest.raises(futured.TaskCancelled) as cancelled:
            await c.task(h.id).result(timeout=T)
        assert cancelled.value.cancel_message == "why"
    run(go, daemon)


def test_async_as_completed(daemon):
    async def go(c):
        a, b, x = [await c.create_future() for _ in range(3)]
        handles = [c.task(t.id) for t in (a, b, x)]
        seen = []

        async def consume():
            async for t in c.as_completed(handles, timeout=T):
                seen.append(t)
                if len(seen) == 1:
                    await a.set_exception("a")
                elif len(seen) == 2:
                    await x.cancel()
        consumer = asyncio.ensure_future(consume())
        await b.set_result("b")
        await asyncio.wait_for(consumer, T)
        assert [t.id for t in seen] == [b.id, a.id, x.id]
        assert seen[0] is handles[1]
        assert [t._final for t in seen] == ["succeeded", "failed",
                                            "cancelled"]
        ids = []
        async for i in c.as_completed([x.id, a.id], timeout=T):
            ids.append(i)
        assert ids == [x.id, a.id]
        never = await c.create_future()
        with pytest.raises(futured.TaskNotDone):
            async for _ in c.as_completed([never], timeout=0.2):
                pass
        await never.cancel()
    run(go, daemon)
