"""The asyncio client against a real futured (asyncio.run in plain test
functions: no pytest plugin)."""
import asyncio
import os
import sys

import pytest

import futured
from futured import FIRST_COMPLETED
from conftest import REPO
from test_client import LONG, PRIMES_100, T


def run(coro_fn, daemon, **kw):
    """Runs coro_fn(client) on a fresh loop with a fresh AsyncClient."""
    async def main():
        async with futured.AsyncClient(socket=daemon.socket, timeout=60,
                                       **kw) as c:
            return await coro_fn(c)
    return asyncio.run(main())


def test_submit_result_gather(daemon):
    async def go(c):
        tasks = [await c.submit(["echo", str(i)]) for i in range(5)]
        assert all(isinstance(t, futured.AsyncTask) for t in tasks)
        results = await asyncio.gather(*(t.result(timeout=T)
                                         for t in tasks))
        assert [r["stdout"] for r in results] == ["%d\n" % i
                                                  for i in range(5)]
        # an AsyncTask is awaitable: gather takes the tasks themselves
        assert await asyncio.gather(*tasks) == results
        assert await tasks[0].done() and await tasks[0].state() == \
            "succeeded"
    run(go, daemon)


def test_asyncio_as_completed_order(daemon):
    async def go(c):
        slow = await c.submit(seconds=LONG, result="slow")
        fast = await c.submit(seconds=0.05, result="fast")
        order = []
        for fut in asyncio.as_completed([slow.result(), fast.result()],
                                        timeout=T):
            try:
                order.append(await fut)
            except futured.TaskCancelled:
                order.append("cancelled")
            if order == ["fast"]:
                assert await slow.cancel()
        assert order == ["fast", "cancelled"]
    run(go, daemon)


def test_client_as_completed_and_wait(daemon):
    async def go(c):
        slow = await c.submit(seconds=LONG)
        fast = await c.submit(seconds=0.05)
        done, pending = await c.wait([slow, fast], timeout=T,
                                     return_when=FIRST_COMPLETED)
        assert done == {fast} and pending == {slow}
        seen = []
        async for t in c.as_completed([slow, fast], timeout=T):
            seen.append(t)
            if t == fast:
                await slow.cancel()
        assert seen == [fast, slow]
        assert await slow.cancelled()
    run(go, daemon)


def test_failure_and_errors(daemon):
    async def go(c):
        t = await c.submit([sys.executable, "-c",
                            "raise ValueError('boom')"])
        with pytest.raises(futured.TaskFailed) as info:
            await t
        assert "ValueError: boom" in info.value.exception["stderr_tail"]
        exc = await t.exception()
        assert exc.exception.type == "ProcessError"
        with pytest.raises(futured.NoSuchTask):
            await c.task(999999).result()
        with pytest.raises(futured.InvalidParams) as info:
            await c.submit(["true"], retries=-1)
        assert info.value.field == "retries"
        with pytest.raises(futured.TaskNotDone):
            slow = await c.submit(seconds=LONG)
            await slow.result(timeout=0.1)
        await slow.cancel()
        with pytest.raises(futured.TaskCancelled):
            await slow.result()
    run(go, daemon)


def test_cancelled_long_poll_leaves_client_usable(daemon):
    async def go(c):
        slow = await c.submit(seconds=LONG)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(slow.result(), 0.2)
        assert (await c.info())["pid"] > 0
        assert not await slow.done()
        await slow.cancel()
    run(go, daemon)


def test_stream_and_output(daemon):
    async def go(c):
        t = await c.submit(["sh", os.path.join(REPO, "examples",
                                               "primes.sh"), "100"])
        primes = [p async for p in t.stream(timeout=T)]
        assert primes == PRIMES_100
        out = await c.submit("echo a; sleep 0.1; echo b >&2; echo c")
        chunks = [x async for x in out.iter_output(timeout=T)]
        assert "".join(chunks) == "a\nc\n"
        assert await out.output("stderr") == "b\n"
        both = [x async for x in out.iter_output("both", timeout=T)]
        assert sorted(both) == [("stderr", "b\n"), ("stdout", "a\nc\n")]
        bad = await c.submit("echo 1 >&3; exit 2")
        items = []
        with pytest.raises(futured.TaskFailed):
            async for x in bad.stream(timeout=T):
                items.append(x)
        assert items == [1]
    run(go, daemon)


def test_batch_and_notify(daemon, label):
    async def go(c):
        async with c.batch() as b:
            for i in range(500):
                b.submit(seconds=0, result=i)
            b.call("task.get", id=999999)
        tasks, missing = b.results[:-1], b.results[-1]
        assert isinstance(missing, futured.NoSuchTask)
        assert await asyncio.gather(*tasks) == list(range(500))
        await c.notify("task.submit", kind="sleep", seconds=0, labels=label)
        for _ in range(600):
            found = [x async for x in c.list(label=label)]
            if found:
                break
            await asyncio.sleep(0.05)
        assert len(found) == 1
    run(go, daemon)


def test_many_concurrent_long_polls_bounded(daemon):
    async def go(c):
        tasks = [await c.submit(seconds=0.05 * (i % 3), result=i)
                 for i in range(30)]
        assert await asyncio.gather(*tasks) == list(range(30))
    run(go, daemon, max_connections=4)


def test_two_loops_one_client(daemon):
    c = futured.AsyncClient(socket=daemon.socket, max_connections=2)

    async def once():
        try:
            return await c.info()
        finally:
            await c.close()

    # the second loop gets connections and a semaphore of its own
    assert asyncio.run(once())["pid"] > 0
    assert asyncio.run(once())["pid"] > 0


def test_retry_and_delete(daemon, label):
    async def body(c):
        t = await c.submit(seconds=0, result="once", labels=label)
        assert await t == "once"
        again = await c.retry(t)
        assert await again == "once" and again.id != t.id
        r = await c.delete([t, again])
        assert r["deleted"] == 2 and r["unfinished"] == [] == r["missing"]
    run(body, daemon)
