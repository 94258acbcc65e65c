"""A real futured for the tests.

The daemon is $FUTURED, else $FUTURED_BUILD/daemon/futured, else
<repo>/build/daemon/futured.  One daemon serves the whole session (on a
temporary state dir, with TCP on a port the kernel picks); tests tell their
tasks apart by id or by a label of their own.  It is stopped with SIGTERM
at the end (SIGKILL if it does not exit in time).
"""
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.dirname(HERE)                         # client/python
REPO = os.path.dirname(os.path.dirname(PKG))
sys.path.insert(0, PKG)                             # no install needed

# Run from inside a task of another futured (FUTURED_TASK_ID set), the
# client would make every task here that task's child: not in this daemon.
os.environ.pop("FUTURED_TASK_ID", None)

import futured  # noqa: E402

# Generous: the tests run on slow, shared, loaded machines.
START_TIMEOUT = 60
STOP_TIMEOUT = 30


def futured_binary():
    if os.environ.get("FUTURED"):
        return os.path.abspath(os.environ["FUTURED"])
    build = os.environ.get("FUTURED_BUILD") or os.path.join(REPO, "build")
    return os.path.join(os.path.abspath(build), "daemon", "futured")


class Daemon:
    """One futured process on its own state dir."""

    def __init__(self, state_dir, *args):
        self.state_dir = str(state_dir)
        self.socket = os.path.join(self.state_dir, "futured.sock")
        self.log_path = os.path.join(self.state_dir + ".log")
        binary = futured_binary()
        if not os.access(binary, os.X_OK):
            raise RuntimeError("no futured at %s: build it, or set FUTURED "
                               "or FUTURED_BUILD" % binary)
        self.log = open(self.log_path, "wb")
        env = dict(os.environ)
        env.pop("FUTURED_SOCKET", None)
        self.proc = subprocess.Popen(
            [binary, "--state-dir", self.state_dir, "--config", "/dev/null",
             "--drain", "2", "--kill-grace", "2"] + list(args),
            stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT, env=env)
        try:
            self.info = self._ready()
        except BaseException:
            self.stop()
            raise

    def _ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("futured exited with %s:\n%s"
                                   % (self.proc.returncode, self.log_text()))
            if os.path.exists(self.socket):
                try:
                    with futured.Client(socket=self.socket,
                                        timeout=10) as c:
                        return c.info()
                except futured.TransportError:
                    pass
            if time.monotonic() > deadline:
                raise RuntimeError("futured not ready after %d s:\n%s"
                                   % (START_TIMEOUT, self.log_text()))
            time.sleep(0.05)

    @property
    def url(self):
        for where in self.info["listen"]:
            if where.startswith("tcp:"):
                return "http://" + where[len("tcp:"):]
        return None

    @property
    def token(self):
        with open(os.path.join(self.state_dir, "token")) as f:
            return f.readline().strip()

    def log_text(self):
        self.log.flush()
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope="session")
def daemon(tmp_path_factory):
    d = Daemon(tmp_path_factory.mktemp("futured") / "state",
               "--listen", "127.0.0.1:0", "--jobs", "4")
    yield d
    d.stop()


@pytest.fixture
def client(daemon):
    with futured.Client(socket=daemon.socket, timeout=60) as c:
        yield c


@pytest.fixture
def label():
    """A label no other test's tasks carry."""
    return {"test": uuid.uuid4().hex[:16]}


def wait_until(predicate, timeout=30, what="condition"):
    """Polls predicate until it is true (no timing is asserted: the
    timeout only bounds a test that would otherwise hang)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("%s not met within %d s" % (what, timeout))
        time.sleep(0.05)
