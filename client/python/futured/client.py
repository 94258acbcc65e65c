"""The blocking client: :class:`Client`, :class:`Task`, :class:`Batch`."""
from __future__ import annotations

import contextlib
import http.client
import itertools
import socket as _socket
import ssl
import threading
import time
import warnings
from typing import (Any, Dict, Iterable, Iterator, List, NamedTuple,
                    Optional, Sequence, Set, Union)

from . import _common as c
from ._common import (ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION,
                      Deadline)
from .errors import (FuturedError, HTTPError, MethodNotFound, ServerBusy,
                     TaskCancelled, TaskFailed, TaskNotDone, TransportError,
                     ProtocolError)

__all__ = ["Client", "Task", "TaskGroup", "Batch", "WaitResult",
           "StreamOverflow"]


class StreamOverflow(UserWarning):
    """A task yielded more than its stream holds (1,000,000 items or
    256 MiB): the daemon dropped the items past that."""


class WaitResult(NamedTuple):
    """``Client.wait``'s answer, like ``concurrent.futures.wait``'s: two
    sets of tasks."""
    done: Set[Any]
    pending: Set[Any]


# --- HTTP ---------------------------------------------------------------

class _UnixHTTPConnection(http.client.HTTPConnection):
    """An HTTPConnection to a Unix socket instead of a TCP port."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self) -> None:
        s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            s.settimeout(self.timeout)
            s.connect(self.unix_path)
        except BaseException:
            s.close()
            raise
        self.sock = s


class _Transport:
    """POSTs JSON-RPC bodies, keeping idle connections for reuse.  Each
    request takes a connection of its own for its duration, so threads
    share one Client without waiting for each other's long-polls."""

    MAX_IDLE = 8

    def __init__(self, target: c.Target) -> None:
        self.target = target
        self._lock = threading.Lock()
        self._idle: List[http.client.HTTPConnection] = []

    def _connection(self, fresh: bool = False) -> http.client.HTTPConnection:
        with self._lock:
            if self._idle and not fresh:
                return self._idle.pop()
        t = self.target
        if t.socket is not None:
            return _UnixHTTPConnection(t.socket, timeout=30)
        if t.tls:
            return http.client.HTTPSConnection(
                t.host, t.port, timeout=30,
                context=ssl.create_default_context())
        return http.client.HTTPConnection(t.host, t.port, timeout=30)

    def _release(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if conn.sock is not None and len(self._idle) < self.MAX_IDLE:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def post(self, body: bytes, timeout: float) -> Any:
        """The decoded answer to one POST (None for an empty body)."""
        for attempt in range(c.BUSY_RETRIES + 1):
            status, headers, data = self._exchange(body, timeout)
            answer = c.decode_body(status, headers, data, self.target.where)
            if isinstance(answer, ServerBusy) and attempt < c.BUSY_RETRIES:
                time.sleep(c.retry_after(headers))
                continue
            if isinstance(answer, HTTPError):
                raise answer
            return answer
        raise AssertionError("unreachable")

    def _exchange(self, body: bytes, timeout: float):
        """One POST: (status, headers, body)."""
        retried = False
        while True:
            conn = self._connection(fresh=retried)
            reused = conn.sock is not None
            conn.timeout = timeout
            if conn.sock is not None:
                conn.sock.settimeout(timeout)
            sent = False
            try:
                conn.request("POST", "/rpc", body, self.target.headers)
                sent = True
                resp = conn.getresponse()
                data = resp.read()
            except (BrokenPipeError, ConnectionResetError,
                    http.client.RemoteDisconnected) as e:
                conn.close()
                # A kept-alive connection the daemon closed meanwhile (it
                # does after 300 s idle, or it restarted) fails before any
                # answer: the request never ran, so it goes once more on a
                # new connection.  Not when the connection was new, nor on
                # a reset while reading the answer (the daemon may have
                # run the call and died).
                stale = not sent or isinstance(
                    e, http.client.RemoteDisconnected)
                if reused and stale and not retried:
                    retried = True
                    self.close()    # the other idle ones are as old
                    continue
                raise self._error(e, timeout) from e
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                raise self._error(e, timeout) from e
            except BaseException:
                # KeyboardInterrupt mid-answer: the connection is in an
                # unknown place of the exchange and cannot be reused.
                conn.close()
                raise
            headers = {k: v for k, v in resp.getheaders()}
            if resp.will_close:
                conn.close()
            self._release(conn)
            return resp.status, headers, data

    def _error(self, e: BaseException, timeout: float) -> TransportError:
        where = self.target.where
        if isinstance(e, _socket.timeout):
            return TransportError("no answer from futured at %s within "
                                  "%.3g s" % (where, timeout))
        if isinstance(e, http.client.HTTPException) and not isinstance(
                e, http.client.RemoteDisconnected):
            return ProtocolError("futured at %s answered garbled HTTP: %r"
                                 % (where, e))
        reason = getattr(e, "strerror", None) or str(e) or type(e).__name__
        return TransportError("cannot reach futured at %s: %s"
                              % (where, reason))


# --- the client -----------------------------------------------------------

class Client:
    """A blocking client of futured.

    ``Client()`` talks to the Unix socket ``$FUTURED_SOCKET``, else over
    TCP to ``$FUTURED_URL`` (with ``$FUTURED_TOKEN``: futured sets both for
    its tasks when it listens on TCP), else to the daemon's default socket
    (``<state-dir>/futured.sock``, the state dir being
    ``$STATE_DIRECTORY``, ``/var/lib/futured`` for root, else
    ``$XDG_STATE_HOME/futured`` or ``~/.local/state/futured``).
    ``Client(socket=PATH)`` names the socket; ``Client(url="http://HOST:PORT",
    token=TOKEN)`` uses TCP (a daemon started with ``--listen``), the token
    defaulting to ``token_file``'s first line, ``$FUTURED_TOKEN``, else the
    default state dir's token file when readable.

    ``timeout`` is the I/O timeout of one call in seconds; a long-poll
    waits that much longer than what it asks of the daemon.  Connections
    are kept alive and reused; a Client may be shared by threads (each
    request takes a connection of its own).  Close it with ``close()`` or
    use it as a context manager.
    """

    def __init__(self, socket: Optional[str] = None,
                 url: Optional[str] = None, token: Optional[str] = None,
                 timeout: float = 30.0, *,
                 token_file: Optional[str] = None) -> None:
        self._target = c.Target(socket, url, token, token_file)
        self.timeout = float(timeout)
        self._http = _Transport(self._target)
        self._ids = itertools.count(1)

    @property
    def socket(self) -> Optional[str]:
        """The Unix socket path, or None for TCP."""
        return self._target.socket

    @property
    def url(self) -> Optional[str]:
        """The URL for TCP, or None for a Unix socket."""
        return None if self._target.socket else self._target.where

    def __repr__(self) -> str:
        return "<futured.Client %s>" % self._target.where

    def close(self) -> None:
        """Closes the idle connections (a later call opens one again)."""
        self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _next_id(self) -> int:
        # itertools.count's next() holds the GIL throughout: thread-safe.
        return next(self._ids)

    def _task_from(self, obj: Dict[str, Any]) -> "Task":
        return Task(self, obj["id"], obj)

    # --- JSON-RPC ---------------------------------------------------------

    def call(self, method: str, /, **params: Any) -> Any:
        """Calls ``method`` with ``params`` (by name) and returns its result,
        or raises its error (a FuturedError subclass).  ``from`` and other
        keywords Python reserves go as ``**{"from": 0}``."""
        rid = self._next_id()
        body = c.encode(c.request(method, params, rid))
        answer = self._http.post(body, c.io_timeout(self.timeout, method,
                                                    params))
        return c.result_of(answer, rid)

    def notify(self, method: str, /, **params: Any) -> None:
        """Sends ``method`` as a JSON-RPC notification (no id): the daemon
        runs it and answers nothing; a refusal is only logged by the daemon
        and counted in ``daemon.info``'s ``refused_notifications``.
        ``notify("task.submit", ...)`` is fire-and-forget."""
        self._http.post(c.encode(c.request(method, params, None)),
                        self.timeout)

    def batch(self) -> "Batch":
        """A batch of calls sent as one JSON-RPC batch (one HTTP request per
        10,000 calls)::

            with client.batch() as b:
                for n in range(1000):
                    b.submit(["echo", str(n)])
            tasks = b.results          # Tasks, or errors in their place
        """
        return Batch(self)

    # --- tasks ------------------------------------------------------------

    def submit(self, cmd: Union[None, str, Sequence[str]] = None, /,
               **fields: Any) -> "Task":
        """Submits a task and returns its :class:`Task`.

        ``cmd`` makes an exec task: a list is its ``argv``, a string its
        ``shell`` command (run by ``/bin/sh -c``).  Otherwise ``seconds=``
        makes a sleep task and ``url=`` an http task, or give ``kind=``.
        Every other task.submit param goes by name, a None being absent:

        - exec: ``argv``, ``shell``, ``env``, ``cwd``, ``stdin``,
          ``capture`` (``"text"``/``"json"``), ``max_output``;
        - sleep: ``seconds``, ``result``;
        - http: ``url``, ``method``, ``headers``, ``body``, ``max_body``,
          ``follow_redirects``, ``raise_for_status``;
        - future (``kind="future"``): none; see ``create_future``;
        - group (``kind="group"``): ``return_exceptions``; see
          ``create_group`` and ``task_group``;
        - any: ``queue``, ``priority``, ``timeout`` (the task's), ``delay``
          or ``not_before``, ``retries``, ``retry_backoff``, ``key``,
          ``after`` (Tasks or ids), ``labels``, ``parent``,
          ``child_policy``, ``concurrency`` (``{KEY: N}``: at most N
          running tasks with KEY at once), ``rate_limit`` (a rate limit's
          name, see ``set_rate_limit``) and ``rate_key`` (a bucket of it
          per key).

        ``parent`` is the task (or group) the new one is a child of.  Its
        default, :data:`futured.AUTO`, is the task this process runs in
        when futured started it (``$FUTURED_TASK_ID``), else none; None
        submits a task without a parent (do, when this client talks to
        another futured than the one running this process).  A parent
        whose own work has ended stays running until its children have
        (``child_policy="wait"``, the default; ``"cancel"`` cancels them,
        ``"abandon"`` leaves them).

        A param the daemon does not know raises InvalidParams naming it.
        """
        return self._task_from(self.call("task.submit",
                                         **c.submit_params(cmd, fields)))

    def create_future(self, **fields: Any) -> "Task":
        """Submits a task of kind ``future`` (``loop.create_future()``,
        made durable): nothing runs it; it waits, running, until
        ``set_result``, ``set_exception`` or ``cancel`` (from any client)
        or its ``timeout`` ends it.  ``fields`` are the common ones
        (``timeout``, ``key``, ``after``, ``labels``, ``queue``...)."""
        return self.submit(kind="future", **fields)

    def create_group(self, return_exceptions: bool = False,
                     **fields: Any) -> "Task":
        """Submits a task of kind ``group`` (``asyncio.TaskGroup``, or with
        ``return_exceptions`` ``asyncio.gather``, made durable): nothing
        runs it; its members are the tasks submitted with ``parent`` set
        to it until ``close_group`` closes it, and it ends once closed and
        every member has ended.  Its result is ``[{id, state, result |
        exception}]`` in id order; without ``return_exceptions`` the first
        member that fails cancels the others and ``result()`` raises
        GroupFailed.  ``fields`` are the common ones (``timeout`` bounds
        the whole group, ``parent``, ``key``, ``labels``...).
        ``task_group()`` does all of it in a ``with`` block."""
        return self.submit(**c.group_params(return_exceptions, fields))

    def close_group(self, task: Any) -> bool:
        """Closes a group (a Task or id; ``task.close``): no member joins
        any more, and it ends once every member has.  False when it was
        closed or had finished before.  InvalidParams for a task of
        another kind.  (``close()`` closes this client's connections.)"""
        return c.closed(task, self.call("task.close", id=c.task_id(task)))

    @contextlib.contextmanager
    def task_group(self, return_exceptions: bool = False,
                   **fields: Any) -> Iterator["TaskGroup"]:
        """``asyncio.TaskGroup`` over a durable group::

            with client.task_group() as g:
                g.submit(["make", "-C", "web"])
                g.submit(["make", "-C", "api"])
            print(g.result())   # [{id, state, result}, ...]

        Entering makes a group (``create_group(return_exceptions,
        **fields)``) and yields it as a :class:`TaskGroup`, whose
        ``submit``, ``create_future`` and ``create_group`` make members.
        Leaving the block closes the group and waits for it: GroupFailed
        (an ExceptionGroup on Python 3.11+) when a member failed, which
        cancelled the others (unless ``return_exceptions``).  When the
        block raises, the group is cancelled (its members with it) and
        the exception goes on, unless it is futured refusing a member of
        a group that failed meanwhile: then GroupFailed, from it.  An
        interrupt (Ctrl-C) while waiting cancels the group too."""
        info = self.create_group(return_exceptions, **fields).info
        group = TaskGroup(self, info["id"], info)
        try:
            yield group
        except BaseException as e:
            group._abort(e)
            raise
        group._finish()

    def task(self, task_id: int) -> "Task":
        """The Task handle of an existing id (no call is made)."""
        return Task(self, c.task_id(task_id))

    def get(self, task: Any) -> Dict[str, Any]:
        """The task object (a dict, see PROTOCOL.md) of a Task or id."""
        return self.call("task.get", id=c.task_id(task))

    def cancel(self, task: Any, message: Optional[str] = None) -> bool:
        """Cancels a Task or id; False when it had finished already.
        ``message`` (asyncio's ``cancel(msg)``, at most 1,024 bytes) is kept:
        the task's exception is then ``{type: "CancelledError", message}``
        and its TaskCancelled carries it (``cancel_message``)."""
        ok = bool(self.call("task.cancel", **c.cancel_params(task, message))
                  ["cancelled"])
        if ok:
            c.learn(task, "cancelled")
        return ok

    def set_result(self, task: Any, value: Any) -> str:
        """Completes a future (a Task or id of kind ``future``) with the
        result ``value`` (any JSON), as ``Future.set_result``; returns its
        state, ``"succeeded"``.  InvalidStateError when it had finished
        already (nothing changed; ``.state`` says how), InvalidParams when
        the task is of another kind."""
        return c.settled(task, self.call("task.set_result",
                                         id=c.task_id(task), result=value))

    def set_exception(self, task: Any, message: Any,
                      type: Optional[str] = None,
                      data: Optional[Dict[str, Any]] = None) -> str:
        """Completes a future with a failure, as ``Future.set_exception``:
        its exception is ``{type, message}`` plus the members of ``data``.
        ``type`` defaults to ``"Exception"`` (1-64 of ``[A-Za-z0-9._]``);
        ``message`` may be an exception instance (its text, and its class's
        name as the type).  Returns the state: ``"failed"``, or
        ``"pending"``/``"running"`` when the future has retries left and
        waits again.  InvalidStateError when it had finished already."""
        return c.settled(task, self.call(
            "task.set_exception", **c.exception_params(task, message, type,
                                                       data)))

    def retry(self, task: Any) -> "Task":
        """task.retry: runs a finished Task or id again as a new Task
        (labelled ``futured.retry_of``); the old one stays as it was.
        TaskNotDone while it is pending or running."""
        return self._task_from(self.call("task.retry", id=c.task_id(task)))

    def delete(self, tasks: Optional[Iterable[Any]] = None, *,
               cancel: bool = False, **where: Any) -> Dict[str, Any]:
        """task.delete: the given Tasks or ids (unfinished ones only with
        ``cancel=True``), or the finished tasks a filter selects:
        ``state=``, ``queue=``, ``label={..}``, ``older_than=`` seconds,
        ``all=True``.  Returns ``{deleted, unfinished, missing}``."""
        return self.call("task.delete", **c.delete_params(tasks, cancel,
                                                          where))

    def wait(self, tasks: Iterable[Any], timeout: Optional[float] = None,
             return_when: str = ALL_COMPLETED) -> WaitResult:
        """Waits for tasks like ``concurrent.futures.wait``: returns
        ``(done, pending)``, two sets of the objects given (Tasks or ids),
        once ``return_when`` holds (``FIRST_COMPLETED``,
        ``FIRST_EXCEPTION``: a task failed, or all are done;
        ``ALL_COMPLETED``) or ``timeout`` seconds have passed."""
        if return_when not in c.RETURN_WHEN:
            raise ValueError("return_when must be one of %s"
                             % ", ".join(c.RETURN_WHEN))
        ids, objs = c.unique_ids(tasks)
        deadline = Deadline(timeout)
        done: List[int] = []
        pending = ids
        while pending:
            groups = c.wait_groups(pending)
            now_done: List[int] = []
            still: List[int] = []
            for g in groups:
                t = deadline.chunk()
                if len(groups) > 1 and return_when != ALL_COMPLETED:
                    # Groups cannot share one long-poll: each gets a short
                    # look so that none goes unwatched for long.
                    t = min(t, 0.5)
                ans = self.call("task.wait", ids=g, return_when=return_when,
                                timeout=t)
                now_done += ans["done"]
                still += ans["pending"]
            done += now_done
            pending = still
            if not pending or deadline.expired():
                break
            if return_when == FIRST_COMPLETED and done:
                break
            if return_when == FIRST_EXCEPTION and now_done and \
                    self._any_failed(now_done, objs):
                break
        return WaitResult({objs[i] for i in done},
                          {objs[i] for i in pending})

    def _any_failed(self, ids: List[int], objs: Dict[int, Any]) -> bool:
        """Whether one of these finished tasks failed.  task.wait says only
        done or pending, and a wait can end at the daemon's cap with tasks
        done that succeeded, so FIRST_EXCEPTION asks their states (once:
        a Task remembers its final state)."""
        unknown = []
        for i in ids:
            t = objs[i]
            state = t._final if isinstance(t, Task) else None
            if state == "failed":
                return True
            if state is None:
                unknown.append(i)
        if not unknown:
            return False
        b = self.batch()
        entries = [b.call("task.get", id=i) for i in unknown]
        b.send()
        for i, e in zip(unknown, entries):
            obj = e.result()
            if isinstance(objs[i], Task):
                objs[i]._seen(obj)
            if obj["state"] == "failed":
                return True
        return False

    def as_completed(self, tasks: Optional[Iterable[Any]] = None,
                     timeout: Optional[float] = None, *,
                     group: Any = None) -> Iterator[Any]:
        """Yields the tasks (or ids) given as they finish, in the order
        they finish (those finished already first, in the order given),
        like ``concurrent.futures.as_completed``; a Task yielded knows its
        final state (``.state`` asks nothing).  TaskNotDone (a
        TimeoutError) when ``timeout`` passes first.  It follows
        task.as_completed's cursor, so each task comes once.

        ``group=`` (a Task or id) instead of tasks: the group's members
        (the children of any task), as Tasks, members that join while it
        runs too, until the group has ended and every member came."""
        if (tasks is None) == (group is None):
            raise TypeError("as_completed() takes tasks or group=, "
                            "one of them")
        if group is not None:
            yield from self._as_completed_group(c.task_id(group), timeout)
            return
        ids, objs = c.unique_ids(tasks)
        if len(ids) > c.MAX_WAIT_IDS:
            yield from self._as_completed_by_wait(ids, objs, timeout)
            return
        deadline = Deadline(timeout)
        cursor: Optional[str] = None
        remaining = len(ids)
        yielded: Set[int] = set()
        while remaining:
            try:
                ans = self.call("task.as_completed", ids=ids,
                                timeout=deadline.chunk(),
                                **c.drop_none({"cursor": cursor}))
            except MethodNotFound:
                if cursor is not None:
                    raise
                # a futured older than task.as_completed
                yield from self._as_completed_by_wait(ids, objs, timeout)
                return
            cursor, remaining = ans["cursor"], ans["remaining"]
            # each once, even from an answer that repeated one
            fresh = [d for d in ans["done"] if d["id"] in objs and
                     d["id"] not in yielded]
            for item in fresh:
                yielded.add(item["id"])
                yield c.completed(objs, item)
            if remaining and not fresh and deadline.expired():
                raise c.not_done(None, None, "%d (of %d) tasks unfinished"
                                 % (remaining, len(ids)))

    def _as_completed_group(self, gid: int, timeout: Optional[float]
                            ) -> Iterator["Task"]:
        """The members of group gid as they finish.  All handed back
        (remaining 0) ends it only once the group can take no more: it
        has ended, and a call made since said so; until then the group is
        waited for a tick at a time, members joining meanwhile."""
        deadline = Deadline(timeout)
        cursor: Optional[str] = None
        ended = False
        yielded: Set[int] = set()
        while True:
            tick = min(deadline.chunk(), c.GROUP_TICK)
            ans = self.call("task.as_completed", group=gid, timeout=tick,
                            **c.drop_none({"cursor": cursor}))
            cursor, remaining = ans["cursor"], ans["remaining"]
            for item in ans["done"]:
                if item["id"] not in yielded:
                    yielded.add(item["id"])
                    yield c.completed({item["id"]: self.task(item["id"])},
                                      item)
            if remaining == 0 and ended:
                return
            if remaining == 0:
                ended = bool(self.call("task.wait", ids=[gid], timeout=min(
                    deadline.chunk(), c.GROUP_TICK))["done"])
            if deadline.expired() and not (remaining == 0 and ended):
                raise c.not_done(gid, None, "group %d: %d members "
                                 "unfinished%s" % (gid, remaining, "" if
                                                   ended else ", open"))

    def _as_completed_by_wait(self, ids: List[int], objs: Dict[int, Any],
                              timeout: Optional[float]) -> Iterator[Any]:
        """as_completed over task.wait, for more ids than one call of
        task.as_completed takes: those done after each wait, in the order
        given."""
        deadline = Deadline(timeout)
        pending = [objs[i] for i in ids]
        while pending:
            remaining = None if deadline.at is None else max(
                0.0, deadline.at - time.monotonic())
            done, rest = self.wait(pending, remaining, FIRST_COMPLETED)
            if not done:
                raise c.not_done(None, None, "%d (of %d) tasks unfinished"
                                 % (len(pending), len(ids)))
            for t in pending:       # in the order given
                if t in done:
                    yield t
            pending = [t for t in pending if t in rest]

    def list(self, state: Optional[str] = None, queue: Optional[str] = None,
             label: Optional[Dict[str, str]] = None,
             unretrieved: Optional[bool] = None, limit: Optional[int] = None,
             page_size: int = 100, parent: Any = None
             ) -> Iterator[Dict[str, Any]]:
        """Task objects (dicts), newest first, page after page of
        task.list; ``limit`` stops after that many.  ``parent``: the
        children of that task (a Task or id), 0 the tasks without a
        parent."""
        params = c.drop_none({"state": state, "queue": queue,
                              "label": label, "unretrieved": unretrieved,
                              "parent": c.list_parent(parent)})
        n = 0
        cursor = None
        while True:
            size = page_size if limit is None else min(page_size, limit - n)
            if size <= 0:
                return
            page = self.call("task.list", **params,
                             **c.drop_none({"limit": size,
                                            "cursor": cursor}))
            for obj in page["tasks"]:
                yield obj
                n += 1
            cursor = page.get("next")
            if not cursor or not page["tasks"]:
                return

    # --- queues and the daemon -------------------------------------------

    def queues(self) -> List[Dict[str, Any]]:
        """``[{name, concurrency, paused, running, waiting}]``."""
        return self.call("queue.list")["queues"]

    def set_queue(self, name: str, concurrency: Optional[int] = None,
                  paused: Optional[bool] = None,
                  create: Optional[bool] = None) -> Dict[str, Any]:
        """Sets a queue's concurrency (0: no limit beyond --jobs) and/or
        pauses or resumes it; returns the queue.  A new queue is made
        unless ``create=False`` (then NoSuchQueue)."""
        return self.call("queue.set", name=name,
                         **c.drop_none({"concurrency": concurrency,
                                        "paused": paused,
                                        "create": create}))

    def pause_queue(self, name: str) -> Dict[str, Any]:
        return self.set_queue(name, paused=True)

    def resume_queue(self, name: str) -> Dict[str, Any]:
        return self.set_queue(name, paused=False)

    def delete_queue(self, name: str) -> None:
        """queue.delete: a queue without pending or running tasks
        (QueueNotEmpty otherwise, NoSuchQueue when there is none)."""
        self.call("queue.delete", name=name)

    # --- rate limits ------------------------------------------------------

    def set_rate_limit(self, name: str, starts: float,
                       per: Optional[float] = None,
                       burst: Optional[float] = None) -> Dict[str, Any]:
        """rate.set: makes (or changes, at once) the token bucket ``name``:
        ``starts`` tokens every ``per`` seconds (default 1), at most
        ``burst`` held (default 1: starts evenly spaced).  Each start of a
        task submitted with ``rate_limit=name`` takes one (with
        ``rate_key``, from that key's own bucket).  Returns ``{name,
        starts, per, burst}``; InvalidParams for a value out of range."""
        return self.call("rate.set", name=name, starts=starts,
                         **c.drop_none({"per": per, "burst": burst}))

    def list_rate_limits(self) -> Dict[str, Any]:
        """rate.list: ``{rate_limits: [{name, starts, per, burst}],
        waiting}``, ``waiting`` the ready tasks held back now by a
        concurrency key or a rate limit (``task.get``'s ``waiting_for``
        says which)."""
        return self.call("rate.list")

    def delete_rate_limit(self, name: str) -> None:
        """rate.delete: the tasks waiting for its tokens start; later
        submissions naming it, and an unknown ``name``, raise
        InvalidParams."""
        self.call("rate.delete", name=name)

    # --- schedules --------------------------------------------------------

    def create_schedule(self, name: str,
                        cmd: Union[None, str, Sequence[str]] = None, /, *,
                        cron: Optional[str] = None,
                        every: Optional[float] = None,
                        tz: Optional[str] = None,
                        start_at: Optional[str] = None,
                        end_at: Optional[str] = None,
                        jitter: Optional[float] = None,
                        overlap: Optional[str] = None,
                        catchup: Optional[str] = None,
                        catchup_window: Optional[float] = None,
                        paused: Optional[bool] = None,
                        task: Optional[Dict[str, Any]] = None,
                        **fields: Any) -> Dict[str, Any]:
        """schedule.create: a durable, named recipe that submits a task at
        each firing; returns the schedule object (``next_at``, ``last``,
        ``fired``...).

        When: ``cron`` (five fields, in ``tz``, default ``"UTC"``) or
        ``every`` (seconds), between ``start_at`` and ``end_at`` (RFC 3339
        strings); ``jitter`` seconds of delay at most.  ``overlap`` (a
        firing while the previous firing's task is unfinished): ``"skip"``
        (default), ``"buffer_one"``, ``"allow_all"``, ``"cancel_other"``;
        ``catchup`` (firings missed while futured was down, within
        ``catchup_window`` seconds): ``"latest"`` (default) or ``"all"``;
        ``paused`` creates it paused.

        The task: ``cmd`` and ``fields`` as for ``submit()`` (``queue``,
        ``timeout``, ``labels``, ``retries``...), or ``task=`` with
        task.submit's params as a dict.  Each firing sets its task's key,
        start and the labels ``schedule`` and ``scheduled_at``; the daemon
        refuses ``key``, ``delay``, ``not_before``, ``after`` and
        ``parent`` (InvalidParams).  A name taken raises ScheduleExists;
        a bad cron expression or zone InvalidParams naming it::

            client.create_schedule("nightly", ["./backup.sh"],
                                   cron="30 2 * * *", tz="Europe/Paris",
                                   timeout=7200)
        """
        params = c.drop_none({"cron": cron, "every": every, "tz": tz,
                              "start_at": start_at, "end_at": end_at,
                              "jitter": jitter, "overlap": overlap,
                              "catchup": catchup,
                              "catchup_window": catchup_window,
                              "paused": paused})
        return self.call("schedule.create", name=name,
                         task=c.schedule_task(cmd, task, fields), **params)

    def get_schedule(self, name: str) -> Dict[str, Any]:
        """schedule.get: the schedule object; NoSuchSchedule when there is
        none of that name."""
        return self.call("schedule.get", name=name)

    def schedules(self, paused: Optional[bool] = None
                  ) -> List[Dict[str, Any]]:
        """schedule.list: the schedule objects by name (``paused``: only
        the paused ones, or only the others)."""
        return self.call("schedule.list",
                         **c.drop_none({"paused": paused}))["schedules"]

    def update_schedule(self, name: str,
                        cmd: Union[None, str, Sequence[str]] = None, /, *,
                        task: Optional[Dict[str, Any]] = None,
                        **changes: Any) -> Dict[str, Any]:
        """schedule.update: changes any of ``create_schedule``'s fields by
        name (``cron``, ``every``, ``tz``, ``start_at``...); the rest
        stays.  None is sent as null, which clears ``start_at`` and
        ``end_at``.  ``cmd`` (an exec task of that command) or ``task=``
        replaces the task.  Returns the schedule."""
        return self.call("schedule.update",
                         **c.schedule_update_params(name, cmd, task,
                                                    changes))

    def delete_schedule(self, name: str) -> None:
        """schedule.delete: the tasks it made stay (one running is not
        cancelled); NoSuchSchedule when there is none."""
        self.call("schedule.delete", name=name)

    def pause_schedule(self, name: str) -> Dict[str, Any]:
        """schedule.pause: it fires nothing until resumed; the schedule."""
        return self.call("schedule.pause", name=name)

    def resume_schedule(self, name: str) -> Dict[str, Any]:
        """schedule.resume: its next firing is computed from now."""
        return self.call("schedule.resume", name=name)

    def trigger_schedule(self, name: str, overlap: Optional[str] = None
                         ) -> Dict[str, Any]:
        """schedule.trigger: fires it now, paused or not, under its
        overlap policy or ``overlap``.  Returns ``{outcome, task,
        scheduled_at}``: ``outcome`` ``"fired"`` with ``task`` the new
        task's id (``client.task(r["task"])``), or ``"skipped"`` or
        ``"buffered"`` with ``task`` None."""
        return self.call("schedule.trigger", name=name,
                         **c.drop_none({"overlap": overlap}))

    def info(self) -> Dict[str, Any]:
        """daemon.info: version, pid, listen addresses, counts, limits..."""
        return self.call("daemon.info")

    def discover(self) -> Dict[str, Any]:
        """rpc.discover: the OpenRPC document of every method."""
        return self.call("rpc.discover")


class Batch(c.BatchBase):
    """Calls gathered to go in one JSON-RPC batch.  ``call``, ``notify``
    and ``submit`` add to it (each call returning a BatchEntry); ``send()``
    (or leaving the ``with`` block without an exception) sends it and
    returns the results in order: each call's result (a Task for a
    submit) or its error, the FuturedError instance in its place.  A batch
    is not a transaction: each call succeeds or fails by itself.

    Beyond 10,000 calls (the daemon's limit) the batch goes as several
    requests.  A failure of the request itself (TransportError, an HTTP
    refusal such as AuthError or RequestTooLarge) is raised by ``send()``;
    the entries of requests sent before it keep their answers."""

    def send(self) -> List[Any]:
        if self.results is not None:
            raise RuntimeError("this batch was sent already")
        for reqs, timeout in self._chunks():
            answer = self._client._http.post(c.encode(reqs), timeout)
            self._answer(reqs, answer)
        return self._finish()

    def __enter__(self) -> "Batch":
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is None and self.results is None:
            self.send()


# --- tasks ---------------------------------------------------------------

class Task:
    """A task of the daemon, used like a ``concurrent.futures.Future``.

    Every method asks the daemon (the task may be anywhere in its life);
    once the task's outcome is known it is remembered, as a Future
    remembers it.  Waits of any length are made of long-polls the daemon
    caps; ``timeout=None`` waits for ever, ``0`` does not wait.
    """

    def __init__(self, client: Client, task_id: int,
                 info: Optional[Dict[str, Any]] = None) -> None:
        self.client = client
        self.id = task_id
        self._info = info
        self._final: Optional[str] = None
        self._outcome: Optional[tuple] = None
        if info is not None:
            self._seen(info)

    def __repr__(self) -> str:
        kind = self._info.get("kind") if self._info else None
        # Only a final state: a state seen earlier may be stale by now.
        state = self._final
        return "<Task %d%s%s>" % (self.id, " " + kind if kind else "",
                                  " " + state if state else "")

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Task) and other.id == self.id and \
            other.client is self.client

    def __hash__(self) -> int:
        return hash(self.id)

    def _seen(self, obj: Dict[str, Any]) -> Dict[str, Any]:
        self._info = obj
        if obj.get("state") in c.DONE_STATES:
            self._final = obj["state"]
        return obj

    def _learn(self, state: str) -> None:
        self._final = state

    @property
    def info(self) -> Optional[Dict[str, Any]]:
        """The task object last seen (from submit or get()), not fetched."""
        return self._info

    def get(self) -> Dict[str, Any]:
        """The task object, fetched now (task.get)."""
        return self._seen(self.client.call("task.get", id=self.id))

    @property
    def state(self) -> str:
        """``pending``, ``running``, ``succeeded``, ``failed`` or
        ``cancelled`` (asked of the daemon until final)."""
        return self._final or self.get()["state"]

    def done(self) -> bool:
        """Whether the task has finished (succeeded, failed or
        cancelled)."""
        if self._final:
            return True
        return bool(self.client.call("task.wait", ids=[self.id],
                                     timeout=0)["done"])

    def running(self) -> bool:
        return self.state == "running"

    def cancelled(self) -> bool:
        return self.state == "cancelled"

    def cancel(self, message: Optional[str] = None) -> bool:
        """Cancels the task (a running one's process group gets SIGTERM);
        False when it had finished already.  ``message``: see
        ``Client.cancel``."""
        return self.client.cancel(self, message)

    def set_result(self, value: Any) -> str:
        """Completes this future with ``value`` (see
        ``Client.set_result``)."""
        return self.client.set_result(self, value)

    def close(self) -> bool:
        """Closes this group (see ``Client.close_group``)."""
        return self.client.close_group(self)

    def children(self) -> Iterator["Task"]:
        """The tasks whose parent this one is (a group's members),
        newest first, as Tasks (task.list by parent)."""
        for obj in self.client.list(parent=self.id):
            yield self.client._task_from(obj)

    def set_exception(self, message: Any, type: Optional[str] = None,
                      data: Optional[Dict[str, Any]] = None) -> str:
        """Completes this future with a failure (see
        ``Client.set_exception``)."""
        return self.client.set_exception(self, message, type, data)

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Waits until the task finishes; whether it did within
        ``timeout``."""
        if self._final:
            return True
        deadline = Deadline(timeout)
        while True:
            ans = self.client.call("task.wait", ids=[self.id],
                                   timeout=deadline.chunk())
            if ans["done"]:
                return True
            if deadline.expired():
                return False

    def result(self, timeout: Optional[float] = None) -> Any:
        """The task's result, waiting up to ``timeout`` seconds for it.
        Raises TaskFailed (with the task's exception object) when it failed,
        TaskCancelled when it was cancelled, TaskNotDone (a TimeoutError)
        when it is still unfinished."""
        if self._outcome is None:
            deadline = Deadline(timeout)
            while True:
                try:
                    value = self.client.call("task.result", id=self.id,
                                             timeout=deadline.chunk())
                except TaskNotDone:
                    if deadline.expired():
                        raise
                    continue
                except (TaskFailed, TaskCancelled) as e:
                    self._settle(e)
                    break
                self._settle(None, value)
                break
        return self._unwrap()

    def exception(self, timeout: Optional[float] = None
                  ) -> Optional[TaskFailed]:
        """The task's failure as a TaskFailed (its ``exception`` attribute
        holds the exception object), None when it succeeded.  Marks the
        exception retrieved.  Raises TaskCancelled or TaskNotDone as
        ``result()`` does."""
        if self._outcome is None:
            deadline = Deadline(timeout)
            while True:
                try:
                    exc = self.client.call("task.exception", id=self.id,
                                           timeout=deadline.chunk())
                except TaskNotDone:
                    if deadline.expired():
                        raise
                    continue
                except TaskCancelled as e:
                    self._settle(e)
                    break
                if exc is None:
                    # The result is not fetched: it may be large, and
                    # result() fetches it if asked.
                    self._final = "succeeded"
                    return None
                self._settle(TaskFailed("TaskFailed", 1,
                                        {"id": self.id, "exception": exc}))
                break
        kind, value = self._outcome
        if kind == "error" and isinstance(value, TaskCancelled):
            raise value
        return value if kind == "error" else None

    def _settle(self, error: Optional[FuturedError], value: Any = None
                ) -> None:
        if error is None:
            self._outcome = ("result", value)
            self._final = "succeeded"
        else:
            self._outcome = ("error", error)
            self._final = "cancelled" if isinstance(
                error, TaskCancelled) else "failed"

    def _unwrap(self) -> Any:
        kind, value = self._outcome
        if kind == "error":
            raise value
        return value

    def stream(self, start: int = 0, timeout: Optional[float] = None,
               raw: bool = False, check: bool = True) -> Iterator[Any]:
        """Iterates the items the task yields (each JSON line it writes to
        fd 3, ``$FUTURED_YIELD_FD``) as they come, until it finishes.

        Like a generator, a task that failed or was cancelled raises
        TaskFailed or TaskCancelled once its items are consumed (unless
        ``check`` is False).  An item that is not JSON raises
        YieldDecodeError; with ``raw`` the daemon's items ``{seq, value}`` /
        ``{seq, error}`` are yielded as they are instead.  TaskNotDone
        when ``timeout`` passes with the task unfinished."""
        deadline = Deadline(timeout)
        seq = start
        warned = False
        while True:
            ans = self.client.call("task.stream", id=self.id,
                                   timeout=deadline.chunk(), **{"from": seq})
            for item in ans["items"]:
                seq = item["seq"] + 1
                yield item if raw else c.stream_item(self.id, item)
            seq = ans.get("next", seq)
            if ans.get("overflow") and not warned:
                warned = True
                warnings.warn("task %d yielded more than its stream holds; "
                              "later items were dropped" % self.id,
                              StreamOverflow, stacklevel=2)
            if ans["done"]:
                break
            if not ans["items"] and deadline.expired():
                raise c.not_done(self.id)
        if check:
            self.result(timeout=0)

    def iter_output(self, stream: str = "stdout", offset: int = 0,
                    timeout: Optional[float] = None) -> Iterator[Any]:
        """Iterates the task's stdout (or ``stream="stderr"``) as it is
        written, in chunks of text, until the task finishes.  With
        ``stream="both"`` one long-poll follows the two and the chunks come
        as ``(name, text)`` pairs, ``name`` being ``"stdout"`` or
        ``"stderr"`` (their order within one answer is not kept: they are
        two pipes).  TaskNotDone when ``timeout`` passes first."""
        deadline = Deadline(timeout)
        if stream == "both":
            offsets = {"stdout": offset, "stderr": offset}
            while True:
                ans = self.client.call("task.output", id=self.id,
                                       stream="both", offsets=offsets,
                                       timeout=deadline.chunk())
                got = False
                for name in ("stdout", "stderr"):
                    if ans[name]["data"]:
                        got = True
                        yield name, ans[name]["data"]
                    offsets[name] = ans[name]["next"]
                if ans["eof"]:
                    return
                if not got and deadline.expired():
                    raise c.not_done(self.id)
        while True:
            ans = self.client.call("task.output", id=self.id, stream=stream,
                                   offset=offset, timeout=deadline.chunk())
            if ans["data"]:
                yield ans["data"]
            offset = ans["next"]
            if ans["eof"]:
                return
            if not ans["data"] and deadline.expired():
                raise c.not_done(self.id)

    def output(self, stream: str = "stdout") -> str:
        """The task's stdout (or stderr) so far, without waiting."""
        parts = []
        offset = 0
        while True:
            ans = self.client.call("task.output", id=self.id, stream=stream,
                                   offset=offset)
            parts.append(ans["data"])
            offset = ans["next"]
            if ans["eof"] or not ans["data"]:
                return "".join(parts)


class TaskGroup(Task):
    """The group of ``Client.task_group()``: a Task (its ``result()`` is
    the group's) whose ``submit``, ``create_future`` and ``create_group``
    make members (``parent`` the group)."""

    def submit(self, cmd: Union[None, str, Sequence[str]] = None, /,
               **fields: Any) -> Task:
        """A member: ``Client.submit`` with ``parent`` this group."""
        return self.client.submit(cmd, **c.member_fields(self, fields))

    def create_future(self, **fields: Any) -> Task:
        """A member of kind future (see ``Client.create_future``)."""
        return self.client.create_future(**c.member_fields(self, fields))

    def create_group(self, return_exceptions: bool = False,
                     **fields: Any) -> Task:
        """A member that is a group (see ``Client.create_group``)."""
        return self.client.create_group(return_exceptions,
                                        **c.member_fields(self, fields))

    def as_completed(self, timeout: Optional[float] = None
                     ) -> Iterator[Task]:
        """The members as they finish (``Client.as_completed(group=)``)."""
        return self.client.as_completed(group=self, timeout=timeout)

    def _abort(self, exc: BaseException) -> None:
        """The block raised exc: the group is cancelled, its members with
        it.  When exc is futured refusing a member because the group
        failed meanwhile, that failure is raised instead (from exc),
        once the group has ended, as on leaving the block."""
        if c.group_refused(exc, self.id):
            try:
                self.result()
            except TaskFailed as failure:
                raise failure from exc
            except FuturedError:
                pass
        with contextlib.suppress(FuturedError):
            self.cancel(c.cancel_message(exc))

    def _finish(self) -> None:
        """The block ended: the group is closed and waited for; an
        interrupt (Ctrl-C) while waiting cancels it."""
        self.close()
        try:
            self.result()
        except FuturedError:
            raise
        except BaseException as e:
            with contextlib.suppress(FuturedError):
                self.cancel(c.cancel_message(e))
            raise
