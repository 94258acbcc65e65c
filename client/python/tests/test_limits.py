"""Concurrency keys and rate limits against a real futured, in the blocking
and the asyncio client: set_rate_limit, a task submitted with rate_limit
and rate_key runs and keeps its limits, list_rate_limits, delete_rate_limit
(InvalidParams once gone); two futures with concurrency {key: 1}: the
second waits pending (waiting_for names the key) until the first is
resolved, then runs.  Keys and names are each test's own: the daemon is
shared."""
import asyncio
import uuid

import pytest

import futured
from conftest import wait_until
from test_client import T


def name():
    """A rate limit or key name no other test uses."""
    return "t-" + uuid.uuid4().hex[:12]


def test_rate_limit(client):
    n = name()
    r = client.set_rate_limit(n, 10, per=1, burst=5)
    assert r == {"name": n, "starts": 10, "per": 1, "burst": 5}
    assert client.set_rate_limit(n, 20)["per"] == 1
    listed = client.list_rate_limits()
    assert n in [x["name"] for x in listed["rate_limits"]]
    assert isinstance(listed["waiting"], int)

    t = client.submit(["echo", "limited"], rate_limit=n, rate_key="c:42")
    assert t.result(timeout=T)["stdout"] == "limited\n"
    assert t.get()["limits"] == {"rate_limit": n, "rate_key": "c:42"}

    assert client.delete_rate_limit(n) is None
    assert n not in [x["name"] for x in
                     client.list_rate_limits()["rate_limits"]]
    with pytest.raises(futured.InvalidParams) as info:
        client.delete_rate_limit(n)
    assert info.value.field == "name"
    with pytest.raises(futured.InvalidParams) as info:
        client.submit(["true"], rate_limit=n)
    assert info.value.field == "rate_limit"
    with pytest.raises(futured.InvalidParams) as info:
        client.set_rate_limit(name(), 0)
    assert info.value.field == "starts"


def test_concurrency_key(client):
    k = name()
    first = client.create_future(concurrency={k: 1})
    second = client.create_future(concurrency={k: 1})
    wait_until(lambda: first.state == "running", T, "the first running")
    info = second.get()
    assert info["state"] == "pending"
    assert info["waiting_for"] == {"limit": "concurrency", "key": k}
    assert info["limits"] == {"concurrency": {k: 1}}
    assert client.list_rate_limits()["waiting"] >= 1

    first.set_result("one")
    wait_until(lambda: second.state == "running", T, "the second running")
    assert "waiting_for" not in second.get()
    second.set_result("two")
    assert second.result(timeout=T) == "two"
    with pytest.raises(futured.InvalidParams) as info:
        client.create_future(concurrency={k: 0})
    assert info.value.field == "concurrency"


def test_limits_async(daemon):
    async def go():
        async with futured.AsyncClient(socket=daemon.socket,
                                       timeout=60) as c:
            n, k = name(), name()
            r = await c.set_rate_limit(n, 5, per=0.5)
            assert r["starts"] == 5 and r["per"] == 0.5 and r["burst"] == 1
            assert n in [x["name"] for x in
                         (await c.list_rate_limits())["rate_limits"]]
            t = await c.submit(["echo", "async"], rate_limit=n)
            assert (await t.result(timeout=T))["stdout"] == "async\n"

            first = await c.create_future(concurrency={k: 1})
            second = await c.create_future(concurrency={k: 1}, rate_limit=n)
            for _ in range(600):
                if (await first.get())["state"] == "running":
                    break
                await asyncio.sleep(0.05)
            info = await second.get()
            assert info["state"] == "pending"
            assert info["waiting_for"] == {"limit": "concurrency", "key": k}
            await first.set_result(1)
            for _ in range(600):
                if (await second.get())["state"] == "running":
                    break
                await asyncio.sleep(0.05)
            assert (await second.get())["state"] == "running"
            await second.set_result(2)
            assert await second.result(timeout=T) == 2

            await c.delete_rate_limit(n)
            with pytest.raises(futured.InvalidParams):
                await c.delete_rate_limit(n)
    asyncio.run(go())
