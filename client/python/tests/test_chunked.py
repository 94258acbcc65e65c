"""Waits longer than the daemon's long-poll cap: a daemon with --max-wait
0.25 answers every wait within a quarter second, so the client must call
again until its own timeout (or for ever)."""
import asyncio

import pytest

import futured
from futured import FIRST_COMPLETED, FIRST_EXCEPTION
from conftest import Daemon
from test_client import LONG, T


@pytest.fixture(scope="module")
def capped(tmp_path_factory):
    d = Daemon(tmp_path_factory.mktemp("capped") / "state",
               "--max-wait", "0.25")
    yield d
    d.stop()


@pytest.fixture
def cclient(capped):
    with futured.Client(socket=capped.socket, timeout=60) as c:
        yield c


def test_result_across_polls(cclient):
    assert cclient.info()["limits"]["max_wait"] == 0.25
    t = cclient.submit(seconds=0.8, result="late")
    assert t.result(timeout=T) == "late"
    t = cclient.submit(seconds=0.8)
    assert t.wait() is True
    t = cclient.submit(["sh", "-c", "sleep 0.8; exit 4"])
    assert t.exception(timeout=T).exception["exit_code"] == 4


def test_wait_across_polls(cclient):
    slow = cclient.submit(seconds=LONG)
    fast = cclient.submit(seconds=0.8)
    done, pending = cclient.wait([slow, fast], timeout=T,
                                 return_when=FIRST_COMPLETED)
    assert done == {fast} and pending == {slow}
    # The first polls end at the cap with ok done and nothing failed yet:
    # FIRST_EXCEPTION must keep waiting until bad fails.
    ok = cclient.submit(seconds=0.05)
    bad = cclient.submit(["sh", "-c", "sleep 0.8; exit 1"])
    done, pending = cclient.wait([slow, ok, bad], timeout=T,
                                 return_when=FIRST_EXCEPTION)
    assert done == {ok, bad} and pending == {slow}
    slow.cancel()


def test_stream_and_output_across_polls(cclient):
    t = cclient.submit("sleep 0.8; echo 1 >&3; echo out; sleep 0.8; "
                       "echo 2 >&3")
    assert list(t.stream(timeout=T)) == [1, 2]
    assert "".join(t.iter_output(timeout=T)) == "out\n"


def test_caller_timeout_shorter_than_task(cclient):
    t = cclient.submit(seconds=LONG)
    with pytest.raises(futured.TaskNotDone):
        t.result(timeout=0.6)
    with pytest.raises(futured.TaskNotDone):
        list(t.stream(timeout=0.6))
    assert t.wait(timeout=0.6) is False
    t.cancel()


def test_async_across_polls(capped):
    async def go():
        async with futured.AsyncClient(socket=capped.socket) as c:
            a = await c.submit(seconds=0.8, result="a")
            b = await c.submit("sleep 0.8; echo 7 >&3")
            z = await c.submit(seconds=0, result=0)
            assert await asyncio.gather(a, z) == ["a", 0]
            assert [x async for x in b.stream(timeout=T)] == [7]
    asyncio.run(go())
