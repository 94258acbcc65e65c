"""TCP with the bearer token (the session's daemon listens on 127.0.0.1 on
a port the kernel picked, reported by daemon.info)."""
import asyncio

import pytest

import futured
from test_client import T


def test_tcp_with_token(daemon):
    assert daemon.url is not None
    with futured.Client(url=daemon.url, token=daemon.token) as c:
        assert c.info()["pid"] == daemon.info["pid"]
        assert c.submit(["echo", "tcp"]).result(timeout=T)["stdout"] == \
            "tcp\n"


def test_tcp_token_file_and_env(daemon, monkeypatch):
    token_file = daemon.state_dir + "/token"
    with futured.Client(url=daemon.url, token_file=token_file) as c:
        assert c.info()["pid"] == daemon.info["pid"]
    monkeypatch.setenv("FUTURED_TOKEN", daemon.token)
    with futured.Client(url=daemon.url) as c:
        assert c.info()["pid"] == daemon.info["pid"]


def test_tcp_wrong_token_is_auth_error(daemon):
    with futured.Client(url=daemon.url, token="wrong") as c:
        with pytest.raises(futured.AuthError) as info:
            c.info()
        assert info.value.status == 401
        assert isinstance(info.value, futured.HTTPError)
        # the refusal closed the connection; the client still works
        with pytest.raises(futured.AuthError):
            c.submit(["true"])
        b = c.batch()
        b.call("daemon.info")
        with pytest.raises(futured.AuthError):
            b.send()


def test_async_tcp(daemon):
    async def go():
        async with futured.AsyncClient(url=daemon.url,
                                       token=daemon.token) as c:
            t = await c.submit(["echo", "atcp"])
            assert (await t)["stdout"] == "atcp\n"
        async with futured.AsyncClient(url=daemon.url, token="nope") as c:
            with pytest.raises(futured.AuthError):
                await c.info()
    asyncio.run(go())
