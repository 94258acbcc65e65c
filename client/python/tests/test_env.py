"""The default target from the environment, as futurectl's: with neither
socket= nor url=, $FUTURED_SOCKET, else $FUTURED_URL with $FUTURED_TOKEN
(futured sets both for its tasks when it listens on TCP), else the default
socket.  The first tests need no daemon; the last reach the session's over
TCP with only the variables."""
import asyncio

import pytest

import futured
from futured import _common

NAMES = ("FUTURED_SOCKET", "FUTURED_URL", "FUTURED_TOKEN")
CLIENTS = (futured.Client, futured.AsyncClient)


@pytest.fixture
def env(monkeypatch, tmp_path):
    """No target variable set, and an empty default state dir (no socket,
    no token file)."""
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path))
    return monkeypatch


def auth(client):
    return client._target.headers.get("Authorization")


@pytest.mark.parametrize("cls", CLIENTS)
def test_url_and_token_from_env(env, cls):
    env.setenv("FUTURED_URL", "http://127.0.0.1:7070")
    env.setenv("FUTURED_TOKEN", "tok\n")
    assert futured.default_url() == "http://127.0.0.1:7070"
    c = cls()
    assert c.url == "http://127.0.0.1:7070" and c.socket is None
    assert auth(c) == "Bearer tok"


@pytest.mark.parametrize("cls", CLIENTS)
def test_socket_wins_over_url(env, cls):
    env.setenv("FUTURED_SOCKET", "/run/x/f.sock")
    env.setenv("FUTURED_URL", "http://127.0.0.1:7070")
    env.setenv("FUTURED_TOKEN", "tok")
    assert futured.default_url() is None
    c = cls()
    assert c.socket == "/run/x/f.sock" and c.url is None
    assert auth(c) is None
    # named ones win over both
    assert cls(socket="/s").socket == "/s"
    c = cls(url="http://h:1")
    assert c.url == "http://h:1" and auth(c) == "Bearer tok"


@pytest.mark.parametrize("cls", CLIENTS)
def test_default_socket_without_either(env, tmp_path, cls):
    env.setenv("FUTURED_TOKEN", "tok")
    assert futured.default_url() is None
    c = cls()
    assert c.socket == str(tmp_path / "futured.sock") and c.url is None
    env.setenv("FUTURED_URL", "")           # empty is unset
    assert cls().socket == str(tmp_path / "futured.sock")


@pytest.mark.parametrize("cls", CLIENTS)
def test_given_token_wins_over_env(env, tmp_path, cls):
    env.setenv("FUTURED_URL", "http://127.0.0.1:7070")
    env.setenv("FUTURED_TOKEN", "from-env")
    token_file = tmp_path / "tok"
    token_file.write_text("from-file\n")
    assert auth(cls(token_file=str(token_file))) == "Bearer from-file"
    assert auth(cls(token="given")) == "Bearer given"
    env.delenv("FUTURED_TOKEN")
    assert auth(cls()) is None              # and the daemon answers 401
    (tmp_path / "token").write_text("state-dir\n")
    assert auth(cls()) == "Bearer state-dir"


@pytest.mark.parametrize("cls", CLIENTS)
def test_bad_env_url_or_token(env, cls):
    env.setenv("FUTURED_URL", "ftp://h/")
    with pytest.raises(ValueError, match=r"\$FUTURED_URL"):
        cls()
    env.setenv("FUTURED_URL", "http://127.0.0.1:7070")
    env.setenv("FUTURED_TOKEN", "a\r\nX-Injected: 1")
    with pytest.raises(ValueError, match="control character"):
        cls()


def test_env_reaches_the_daemon_over_tcp(daemon, env):
    env.setenv("FUTURED_URL", daemon.url)
    env.setenv("FUTURED_TOKEN", daemon.token)
    with futured.Client() as c:
        assert c.socket is None and c.url == daemon.url
        assert c.info()["pid"] == daemon.info["pid"]
    env.setenv("FUTURED_TOKEN", "not-the-token")
    with futured.Client() as c:
        with pytest.raises(futured.AuthError):
            c.info()
    # the socket, when set too, wins (and works with any token)
    env.setenv("FUTURED_SOCKET", daemon.socket)
    with futured.Client() as c:
        assert c.socket == daemon.socket
        assert c.info()["pid"] == daemon.info["pid"]


def test_async_env_reaches_the_daemon_over_tcp(daemon, env):
    env.setenv("FUTURED_URL", daemon.url)
    env.setenv("FUTURED_TOKEN", daemon.token)

    async def go():
        async with futured.AsyncClient() as c:
            assert c.url == daemon.url
            assert (await c.info())["pid"] == daemon.info["pid"]
        env.setenv("FUTURED_TOKEN", "not-the-token")
        async with futured.AsyncClient() as c:
            with pytest.raises(futured.AuthError):
                await c.info()
    asyncio.run(go())


def test_default_url_is_exported():
    assert futured.default_url is _common.default_url
    assert "default_url" in futured.__all__
