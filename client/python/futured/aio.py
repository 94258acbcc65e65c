"""The asyncio client: :class:`AsyncClient`, :class:`AsyncTask`,
:class:`AsyncBatch`.

The same API as the blocking client, as coroutines, on asyncio streams
(``asyncio.open_unix_connection`` / ``open_connection``) with a small
HTTP/1.1 exchange of its own: no threads.  Each call in flight has a
connection of its own (at most ``max_connections`` at once, idle ones kept
for reuse), so ``asyncio.gather`` of many ``task.result()`` long-polls
runs them side by side.  An AsyncClient belongs to the event loop that
uses it; used from another loop, it drops the first loop's connections.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import ssl
import time
import warnings
from typing import (Any, AsyncIterator, Dict, Iterable, List, Optional,
                    Sequence, Set, Tuple, Union)

from . import _common as c
from ._common import (ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION,
                      Deadline)
from .client import StreamOverflow, WaitResult
from .errors import (FuturedError, HTTPError, MethodNotFound, ProtocolError,
                     ServerBusy, TaskCancelled, TaskFailed, TaskNotDone,
                     TransportError)

__all__ = ["AsyncClient", "AsyncTask", "AsyncTaskGroup", "AsyncBatch"]

# Header block size we accept (the daemon's are a few hundred bytes).
_LIMIT = 1 << 20


class _Stale(Exception):
    """The kept-alive connection was closed before any byte of an answer."""


class _Conn:
    """One HTTP/1.1 connection on asyncio streams."""

    def __init__(self, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.used = False

    @classmethod
    async def open(cls, target: c.Target) -> "_Conn":
        if target.socket is not None:
            r, w = await asyncio.open_unix_connection(target.socket,
                                                      limit=_LIMIT)
        else:
            r, w = await asyncio.open_connection(
                target.host, target.port, limit=_LIMIT,
                ssl=ssl.create_default_context() if target.tls else None)
        return cls(r, w)

    def usable(self) -> bool:
        return not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        try:
            self.writer.close()
        except Exception:
            # Its loop is closed already (an AsyncClient left open when
            # asyncio.run ended): the socket is freed when collected.
            pass

    async def closed(self) -> None:
        try:
            await self.writer.wait_closed()
        except Exception:
            pass                # it is closed, which is what was wanted

    async def exchange(self, head: bytes, body: bytes
                       ) -> Tuple[int, Dict[str, str], bytes, bool]:
        """Sends one request, reads its answer: (status, headers, body,
        whether the connection stays open)."""
        reused = self.used
        self.used = True
        try:
            self.writer.write(head + body)
            await self.writer.drain()
            block = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as e:
            if reused and not e.partial:
                raise _Stale() from e
            raise ConnectionResetError("connection closed by futured") \
                from e
        except (BrokenPipeError, ConnectionResetError) as e:
            if reused:
                raise _Stale() from e
            raise
        status, headers, version = _parse_head(block)
        while 100 <= status < 200:      # 100 Continue and such: skip
            block = await self.reader.readuntil(b"\r\n\r\n")
            status, headers, version = _parse_head(block)
        data = await self._body(status, headers)
        conn = headers.get("connection", "").lower()
        keep = ("close" not in conn if version >= (1, 1)
                else "keep-alive" in conn)
        if "content-length" not in headers and \
                "chunked" not in headers.get("transfer-encoding", ""):
            keep = False                # the body ended with the connection
        return status, headers, data, keep

    async def _body(self, status: int, headers: Dict[str, str]) -> bytes:
        r = self.reader
        if status in (204, 304):
            return b""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            parts = []
            while True:
                line = await r.readuntil(b"\r\n")
                size = int(line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while (await r.readuntil(b"\r\n")) != b"\r\n":
                        pass            # trailers
                    return b"".join(parts)
                parts.append(await r.readexactly(size))
                await r.readexactly(2)
        if "content-length" in headers:
            return await r.readexactly(int(headers["content-length"]))
        return await r.read()


def _parse_head(block: bytes) -> Tuple[int, Dict[str, str], Tuple[int, int]]:
    lines = block.decode("iso-8859-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ValueError("not an HTTP status line: %r" % lines[0])
    major, _, minor = parts[0][5:].partition(".")
    headers: Dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        name = name.strip().lower()
        value = value.strip()
        headers[name] = headers[name] + ", " + value if name in headers \
            else value
    return int(parts[1]), headers, (int(major), int(minor or 0))


class _AsyncTransport:
    """POSTs JSON-RPC bodies, keeping idle connections for reuse."""

    MAX_IDLE = 16

    def __init__(self, target: c.Target,
                 max_connections: Optional[int]) -> None:
        self.target = target
        self.max_connections = max_connections
        self._idle: List[_Conn] = []
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._sem: Optional[asyncio.Semaphore] = None
        lines = ["POST /rpc HTTP/1.1"] + ["%s: %s" % kv for kv in
                                          target.headers.items()]
        self._head = "\r\n".join(lines).encode("latin-1")

    def _bind(self) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # Streams belong to the loop that opened them.
            for conn in self._idle:
                conn.close()
            self._idle = []
            self._loop = loop
            self._sem = asyncio.Semaphore(self.max_connections) \
                if self.max_connections else None

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        for conn in idle:
            await conn.closed()

    async def post(self, body: bytes, timeout: float) -> Any:
        """The decoded answer to one POST (None for an empty body)."""
        self._bind()
        for attempt in range(c.BUSY_RETRIES + 1):
            if self._sem is not None:
                async with self._sem:
                    status, headers, data = await self._exchange(body,
                                                                 timeout)
            else:
                status, headers, data = await self._exchange(body, timeout)
            answer = c.decode_body(status, headers, data, self.target.where)
            if isinstance(answer, ServerBusy) and attempt < c.BUSY_RETRIES:
                await asyncio.sleep(c.retry_after(headers))
                continue
            if isinstance(answer, HTTPError):
                raise answer
            return answer
        raise AssertionError("unreachable")

    async def _conn(self, fresh: bool) -> _Conn:
        while self._idle and not fresh:
            conn = self._idle.pop()
            if conn.usable():
                return conn
            conn.close()
        return await _Conn.open(self.target)

    async def _exchange(self, body: bytes, timeout: float):
        head = self._head + b"\r\nContent-Length: %d\r\n\r\n" % len(body)
        retried = False
        while True:
            conn: Optional[_Conn] = None
            try:
                conn = await asyncio.wait_for(self._conn(retried), timeout)
                status, headers, data, keep = await asyncio.wait_for(
                    conn.exchange(head, body), timeout)
            except _Stale as e:
                conn.close()
                # A kept-alive connection the daemon closed meanwhile (300 s
                # idle, or a restart): the request never ran; once more on
                # a new connection, the other idle ones being as old.
                if not retried:
                    retried = True
                    for old in self._idle:
                        old.close()
                    self._idle = []
                    continue
                raise self._error(e.__cause__ or e, timeout) from e
            except asyncio.TimeoutError as e:
                if conn is not None:
                    conn.close()
                raise TransportError("no answer from futured at %s within "
                                     "%.3g s" % (self.target.where, timeout)
                                     ) from e
            except (OSError, asyncio.IncompleteReadError,
                    asyncio.LimitOverrunError, ValueError) as e:
                if conn is not None:
                    conn.close()
                raise self._error(e, timeout) from e
            except BaseException:
                # Cancelled mid-exchange (asyncio.wait_for, a task
                # cancelled): closing tells the daemon the waiter is gone.
                if conn is not None:
                    conn.close()
                raise
            if keep and len(self._idle) < self.MAX_IDLE:
                self._idle.append(conn)
            else:
                conn.close()
            return status, headers, data

    def _error(self, e: BaseException, timeout: float) -> TransportError:
        where = self.target.where
        if isinstance(e, (ValueError, asyncio.LimitOverrunError)):
            return ProtocolError("futured at %s answered garbled HTTP: %s"
                                 % (where, e))
        reason = getattr(e, "strerror", None) or str(e) or type(e).__name__
        return TransportError("cannot reach futured at %s: %s"
                              % (where, reason))


class AsyncClient:
    """An asyncio client of futured: :class:`futured.Client`'s API, each
    call a coroutine.  ``max_connections`` bounds the calls in flight at
    once (None: no bound); the others wait their turn.  Close it with
    ``await client.close()`` or ``async with``."""

    def __init__(self, socket: Optional[str] = None,
                 url: Optional[str] = None, token: Optional[str] = None,
                 timeout: float = 30.0, *,
                 token_file: Optional[str] = None,
                 max_connections: Optional[int] = 100) -> None:
        self._target = c.Target(socket, url, token, token_file)
        self.timeout = float(timeout)
        self._http = _AsyncTransport(self._target, max_connections)
        self._ids = itertools.count(1)

    @property
    def socket(self) -> Optional[str]:
        return self._target.socket

    @property
    def url(self) -> Optional[str]:
        return None if self._target.socket else self._target.where

    def __repr__(self) -> str:
        return "<futured.AsyncClient %s>" % self._target.where

    async def close(self) -> None:
        """Closes the idle connections.  Close the client in the event loop
        that used it (``async with`` does)."""
        await self._http.close()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def _next_id(self) -> int:
        return next(self._ids)

    def _task_from(self, obj: Dict[str, Any]) -> "AsyncTask":
        return AsyncTask(self, obj["id"], obj)

    async def call(self, method: str, /, **params: Any) -> Any:
        """Calls ``method`` with ``params``; its result or its error."""
        rid = self._next_id()
        body = c.encode(c.request(method, params, rid))
        answer = await self._http.post(body, c.io_timeout(self.timeout,
                                                          method, params))
        return c.result_of(answer, rid)

    async def notify(self, method: str, /, **params: Any) -> None:
        """Sends ``method`` as a notification: nothing is answered."""
        await self._http.post(c.encode(c.request(method, params, None)),
                              self.timeout)

    def batch(self) -> "AsyncBatch":
        """A batch of calls sent as one request: ``async with
        client.batch() as b: ...`` then ``b.results``, or ``await
        b.send()``."""
        return AsyncBatch(self)

    async def submit(self, cmd: Union[None, str, Sequence[str]] = None, /,
                     **fields: Any) -> "AsyncTask":
        """Submits a task (see ``Client.submit``); its AsyncTask."""
        return self._task_from(await self.call(
            "task.submit", **c.submit_params(cmd, fields)))

    async def create_future(self, **fields: Any) -> "AsyncTask":
        """Submits a task of kind ``future`` (see
        ``Client.create_future``)."""
        return await self.submit(kind="future", **fields)

    async def create_group(self, return_exceptions: bool = False,
                           **fields: Any) -> "AsyncTask":
        """Submits a task of kind ``group`` (see
        ``Client.create_group``)."""
        return await self.submit(**c.group_params(return_exceptions,
                                                  fields))

    async def close_group(self, task: Any) -> bool:
        """Closes a group (see ``Client.close_group``)."""
        return c.closed(task, await self.call("task.close",
                                              id=c.task_id(task)))

    @contextlib.asynccontextmanager
    async def task_group(self, return_exceptions: bool = False,
                         **fields: Any) -> AsyncIterator["AsyncTaskGroup"]:
        """``asyncio.TaskGroup`` over a durable group (see
        ``Client.task_group``)::

            async with client.task_group() as g:
                await g.submit(["make", "-C", "web"])
                await g.submit(["make", "-C", "api"])
            print(await g.result())

        The block being cancelled (``asyncio.CancelledError``) cancels the
        group, as any exception does; so does the waiting task being
        cancelled while it waits for the group's end."""
        info = (await self.create_group(return_exceptions, **fields)).info
        group = AsyncTaskGroup(self, info["id"], info)
        try:
            yield group
        except BaseException as e:
            await group._abort(e)
            raise
        await group._finish()

    def task(self, task_id: int) -> "AsyncTask":
        """The AsyncTask handle of an existing id (no call is made)."""
        return AsyncTask(self, c.task_id(task_id))

    async def get(self, task: Any) -> Dict[str, Any]:
        return await self.call("task.get", id=c.task_id(task))

    async def cancel(self, task: Any, message: Optional[str] = None) -> bool:
        """See ``Client.cancel``."""
        ok = bool((await self.call("task.cancel",
                                   **c.cancel_params(task, message)))
                  ["cancelled"])
        if ok:
            c.learn(task, "cancelled")
        return ok

    async def set_result(self, task: Any, value: Any) -> str:
        """See ``Client.set_result``."""
        return c.settled(task, await self.call(
            "task.set_result", id=c.task_id(task), result=value))

    async def set_exception(self, task: Any, message: Any,
                            type: Optional[str] = None,
                            data: Optional[Dict[str, Any]] = None) -> str:
        """See ``Client.set_exception``."""
        return c.settled(task, await self.call(
            "task.set_exception", **c.exception_params(task, message, type,
                                                       data)))

    async def wait(self, tasks: Iterable[Any],
                   timeout: Optional[float] = None,
                   return_when: str = ALL_COMPLETED) -> WaitResult:
        """``(done, pending)`` like ``asyncio.wait`` (see
        ``Client.wait``)."""
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
                    t = min(t, 0.5)
                ans = await self.call("task.wait", ids=g,
                                      return_when=return_when, timeout=t)
                now_done += ans["done"]
                still += ans["pending"]
            done += now_done
            pending = still
            if not pending or deadline.expired():
                break
            if return_when == FIRST_COMPLETED and done:
                break
            if return_when == FIRST_EXCEPTION and now_done and \
                    await self._any_failed(now_done, objs):
                break
        return WaitResult({objs[i] for i in done},
                          {objs[i] for i in pending})

    async def _any_failed(self, ids: List[int], objs: Dict[int, Any]
                          ) -> bool:
        """See Client._any_failed."""
        unknown = []
        for i in ids:
            state = objs[i]._final if isinstance(objs[i], AsyncTask) \
                else None
            if state == "failed":
                return True
            if state is None:
                unknown.append(i)
        if not unknown:
            return False
        b = self.batch()
        entries = [b.call("task.get", id=i) for i in unknown]
        await b.send()
        for i, e in zip(unknown, entries):
            obj = e.result()
            if isinstance(objs[i], AsyncTask):
                objs[i]._seen(obj)
            if obj["state"] == "failed":
                return True
        return False

    async def as_completed(self, tasks: Optional[Iterable[Any]] = None,
                           timeout: Optional[float] = None, *,
                           group: Any = None) -> AsyncIterator[Any]:
        """Yields the tasks (or ids) given as they finish: ``async for t in
        client.as_completed(tasks)`` (see ``Client.as_completed``), or
        with ``group=`` the group's members as AsyncTasks.
        (``asyncio.as_completed`` works too, on ``[t.result() for t in
        tasks]``.)"""
        if (tasks is None) == (group is None):
            raise TypeError("as_completed() takes tasks or group=, "
                            "one of them")
        if group is not None:
            async for t in self._as_completed_group(c.task_id(group),
                                                    timeout):
                yield t
            return
        ids, objs = c.unique_ids(tasks)
        if len(ids) > c.MAX_WAIT_IDS:
            async for t in self._as_completed_by_wait(ids, objs, timeout):
                yield t
            return
        deadline = Deadline(timeout)
        cursor: Optional[str] = None
        remaining = len(ids)
        yielded: Set[int] = set()
        while remaining:
            try:
                ans = await self.call("task.as_completed", ids=ids,
                                      timeout=deadline.chunk(),
                                      **c.drop_none({"cursor": cursor}))
            except MethodNotFound:
                if cursor is not None:
                    raise
                async for t in self._as_completed_by_wait(ids, objs,
                                                          timeout):
                    yield t
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

    async def _as_completed_group(self, gid: int, timeout: Optional[float]
                                  ) -> AsyncIterator["AsyncTask"]:
        """See Client._as_completed_group."""
        deadline = Deadline(timeout)
        cursor: Optional[str] = None
        ended = False
        yielded: Set[int] = set()
        while True:
            tick = min(deadline.chunk(), c.GROUP_TICK)
            ans = await self.call("task.as_completed", group=gid,
                                  timeout=tick,
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
                ended = bool((await self.call(
                    "task.wait", ids=[gid], timeout=min(
                        deadline.chunk(), c.GROUP_TICK)))["done"])
            if deadline.expired() and not (remaining == 0 and ended):
                raise c.not_done(gid, None, "group %d: %d members "
                                 "unfinished%s" % (gid, remaining, "" if
                                                   ended else ", open"))

    async def _as_completed_by_wait(self, ids: List[int],
                                    objs: Dict[int, Any],
                                    timeout: Optional[float]
                                    ) -> AsyncIterator[Any]:
        """See Client._as_completed_by_wait."""
        deadline = Deadline(timeout)
        pending = [objs[i] for i in ids]
        while pending:
            remaining = None if deadline.at is None else max(
                0.0, deadline.at - time.monotonic())
            done, rest = await self.wait(pending, remaining, FIRST_COMPLETED)
            if not done:
                raise c.not_done(None, None, "%d (of %d) tasks unfinished"
                                 % (len(pending), len(ids)))
            for t in pending:
                if t in done:
                    yield t
            pending = [t for t in pending if t in rest]

    async def list(self, state: Optional[str] = None,
                   queue: Optional[str] = None,
                   label: Optional[Dict[str, str]] = None,
                   unretrieved: Optional[bool] = None,
                   limit: Optional[int] = None,
                   page_size: int = 100, parent: Any = None
                   ) -> AsyncIterator[Dict[str, Any]]:
        """Task objects, newest first: ``async for t in client.list()``
        (``parent``: see ``Client.list``)."""
        params = c.drop_none({"state": state, "queue": queue,
                              "label": label, "unretrieved": unretrieved,
                              "parent": c.list_parent(parent)})
        n = 0
        cursor = None
        while True:
            size = page_size if limit is None else min(page_size, limit - n)
            if size <= 0:
                return
            page = await self.call("task.list", **params,
                                   **c.drop_none({"limit": size,
                                                  "cursor": cursor}))
            for obj in page["tasks"]:
                yield obj
                n += 1
            cursor = page.get("next")
            if not cursor or not page["tasks"]:
                return

    async def retry(self, task: Any) -> "AsyncTask":
        """See ``Client.retry``."""
        return self._task_from(await self.call("task.retry",
                                               id=c.task_id(task)))

    async def delete(self, tasks: Optional[Iterable[Any]] = None, *,
                     cancel: bool = False, **where: Any) -> Dict[str, Any]:
        """See ``Client.delete``."""
        return await self.call("task.delete",
                               **c.delete_params(tasks, cancel, where))

    async def delete_queue(self, name: str) -> None:
        """See ``Client.delete_queue``."""
        await self.call("queue.delete", name=name)

    async def queues(self) -> List[Dict[str, Any]]:
        return (await self.call("queue.list"))["queues"]

    async def set_queue(self, name: str, concurrency: Optional[int] = None,
                        paused: Optional[bool] = None,
                        create: Optional[bool] = None) -> Dict[str, Any]:
        """See ``Client.set_queue``."""
        return await self.call("queue.set", name=name,
                               **c.drop_none({"concurrency": concurrency,
                                              "paused": paused,
                                              "create": create}))

    async def pause_queue(self, name: str) -> Dict[str, Any]:
        return await self.set_queue(name, paused=True)

    async def resume_queue(self, name: str) -> Dict[str, Any]:
        return await self.set_queue(name, paused=False)

    async def set_rate_limit(self, name: str, starts: float,
                             per: Optional[float] = None,
                             burst: Optional[float] = None
                             ) -> Dict[str, Any]:
        """See ``Client.set_rate_limit``."""
        return await self.call("rate.set", name=name, starts=starts,
                               **c.drop_none({"per": per, "burst": burst}))

    async def list_rate_limits(self) -> Dict[str, Any]:
        """See ``Client.list_rate_limits``."""
        return await self.call("rate.list")

    async def delete_rate_limit(self, name: str) -> None:
        """See ``Client.delete_rate_limit``."""
        await self.call("rate.delete", name=name)

    async def create_schedule(self, name: str,
                              cmd: Union[None, str, Sequence[str]] = None,
                              /, *, cron: Optional[str] = None,
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
        """See ``Client.create_schedule``."""
        params = c.drop_none({"cron": cron, "every": every, "tz": tz,
                              "start_at": start_at, "end_at": end_at,
                              "jitter": jitter, "overlap": overlap,
                              "catchup": catchup,
                              "catchup_window": catchup_window,
                              "paused": paused})
        return await self.call("schedule.create", name=name,
                               task=c.schedule_task(cmd, task, fields),
                               **params)

    async def get_schedule(self, name: str) -> Dict[str, Any]:
        """See ``Client.get_schedule``."""
        return await self.call("schedule.get", name=name)

    async def schedules(self, paused: Optional[bool] = None
                        ) -> List[Dict[str, Any]]:
        """See ``Client.schedules``."""
        return (await self.call("schedule.list",
                                **c.drop_none({"paused": paused})
                                ))["schedules"]

    async def update_schedule(self, name: str,
                              cmd: Union[None, str, Sequence[str]] = None,
                              /, *, task: Optional[Dict[str, Any]] = None,
                              **changes: Any) -> Dict[str, Any]:
        """See ``Client.update_schedule``."""
        return await self.call("schedule.update",
                               **c.schedule_update_params(name, cmd, task,
                                                          changes))

    async def delete_schedule(self, name: str) -> None:
        """See ``Client.delete_schedule``."""
        await self.call("schedule.delete", name=name)

    async def pause_schedule(self, name: str) -> Dict[str, Any]:
        return await self.call("schedule.pause", name=name)

    async def resume_schedule(self, name: str) -> Dict[str, Any]:
        return await self.call("schedule.resume", name=name)

    async def trigger_schedule(self, name: str,
                               overlap: Optional[str] = None
                               ) -> Dict[str, Any]:
        """See ``Client.trigger_schedule``."""
        return await self.call("schedule.trigger", name=name,
                               **c.drop_none({"overlap": overlap}))

    async def info(self) -> Dict[str, Any]:
        return await self.call("daemon.info")

    async def discover(self) -> Dict[str, Any]:
        return await self.call("rpc.discover")


class AsyncBatch(c.BatchBase):
    """``Batch`` for the AsyncClient: ``await b.send()``, or ``async with
    client.batch() as b:``."""

    async def send(self) -> List[Any]:
        if self.results is not None:
            raise RuntimeError("this batch was sent already")
        for reqs, timeout in self._chunks():
            answer = await self._client._http.post(c.encode(reqs), timeout)
            self._answer(reqs, answer)
        return self._finish()

    async def __aenter__(self) -> "AsyncBatch":
        return self

    async def __aexit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is None and self.results is None:
            await self.send()


class AsyncTask:
    """A task of the daemon, used like an ``asyncio.Future``: ``await
    task`` is ``await task.result()``, so tasks go straight into
    ``asyncio.gather``, ``asyncio.wait_for`` and ``asyncio.as_completed``.
    Unlike a Future, ``done()``, ``cancel()`` and ``state()`` are
    coroutines: they ask the daemon."""

    def __init__(self, client: AsyncClient, task_id: int,
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
        return "<AsyncTask %d%s%s>" % (self.id, " " + kind if kind else "",
                                       " " + state if state else "")

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, AsyncTask) and other.id == self.id and \
            other.client is self.client

    def __hash__(self) -> int:
        return hash(self.id)

    def __await__(self):
        return self.result().__await__()

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

    async def get(self) -> Dict[str, Any]:
        return self._seen(await self.client.call("task.get", id=self.id))

    async def state(self) -> str:
        return self._final or (await self.get())["state"]

    async def done(self) -> bool:
        if self._final:
            return True
        return bool((await self.client.call("task.wait", ids=[self.id],
                                            timeout=0))["done"])

    async def running(self) -> bool:
        return await self.state() == "running"

    async def cancelled(self) -> bool:
        return await self.state() == "cancelled"

    async def cancel(self, message: Optional[str] = None) -> bool:
        """See ``Client.cancel``."""
        return await self.client.cancel(self, message)

    async def set_result(self, value: Any) -> str:
        """See ``Client.set_result``."""
        return await self.client.set_result(self, value)

    async def close(self) -> bool:
        """Closes this group (see ``Client.close_group``)."""
        return await self.client.close_group(self)

    async def children(self) -> AsyncIterator["AsyncTask"]:
        """See ``Task.children``."""
        async for obj in self.client.list(parent=self.id):
            yield self.client._task_from(obj)

    async def set_exception(self, message: Any, type: Optional[str] = None,
                            data: Optional[Dict[str, Any]] = None) -> str:
        """See ``Client.set_exception``."""
        return await self.client.set_exception(self, message, type, data)

    async def wait(self, timeout: Optional[float] = None) -> bool:
        if self._final:
            return True
        deadline = Deadline(timeout)
        while True:
            ans = await self.client.call("task.wait", ids=[self.id],
                                         timeout=deadline.chunk())
            if ans["done"]:
                return True
            if deadline.expired():
                return False

    async def result(self, timeout: Optional[float] = None) -> Any:
        """The result; TaskFailed, TaskCancelled or TaskNotDone as
        ``Task.result``."""
        if self._outcome is None:
            deadline = Deadline(timeout)
            while True:
                try:
                    value = await self.client.call(
                        "task.result", id=self.id, timeout=deadline.chunk())
                except TaskNotDone:
                    if deadline.expired():
                        raise
                    continue
                except (TaskFailed, TaskCancelled) as e:
                    self._settle(e)
                    break
                self._settle(None, value)
                break
        kind, value = self._outcome
        if kind == "error":
            raise value
        return value

    async def exception(self, timeout: Optional[float] = None
                        ) -> Optional[TaskFailed]:
        """The failure as a TaskFailed, None when it succeeded."""
        if self._outcome is None:
            deadline = Deadline(timeout)
            while True:
                try:
                    exc = await self.client.call(
                        "task.exception", id=self.id,
                        timeout=deadline.chunk())
                except TaskNotDone:
                    if deadline.expired():
                        raise
                    continue
                except TaskCancelled as e:
                    self._settle(e)
                    break
                if exc is None:
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

    async def stream(self, start: int = 0, timeout: Optional[float] = None,
                     raw: bool = False, check: bool = True
                     ) -> AsyncIterator[Any]:
        """The items the task yields: ``async for item in task.stream()``
        (see ``Task.stream``)."""
        deadline = Deadline(timeout)
        seq = start
        warned = False
        while True:
            ans = await self.client.call("task.stream", id=self.id,
                                         timeout=deadline.chunk(),
                                         **{"from": seq})
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
            await self.result(timeout=0)

    async def iter_output(self, stream: str = "stdout", offset: int = 0,
                          timeout: Optional[float] = None
                          ) -> AsyncIterator[Any]:
        """The task's stdout (or stderr) as it is written: ``async for
        chunk in task.iter_output()``; ``stream="both"`` yields ``(name,
        text)`` pairs (see ``Task.iter_output``)."""
        deadline = Deadline(timeout)
        if stream == "both":
            offsets = {"stdout": offset, "stderr": offset}
            while True:
                ans = await self.client.call("task.output", id=self.id,
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
            ans = await self.client.call("task.output", id=self.id,
                                         stream=stream, offset=offset,
                                         timeout=deadline.chunk())
            if ans["data"]:
                yield ans["data"]
            offset = ans["next"]
            if ans["eof"]:
                return
            if not ans["data"] and deadline.expired():
                raise c.not_done(self.id)

    async def output(self, stream: str = "stdout") -> str:
        """The task's stdout (or stderr) so far, without waiting."""
        parts = []
        offset = 0
        while True:
            ans = await self.client.call("task.output", id=self.id,
                                         stream=stream, offset=offset)
            parts.append(ans["data"])
            offset = ans["next"]
            if ans["eof"] or not ans["data"]:
                return "".join(parts)


class AsyncTaskGroup(AsyncTask):
    """The group of ``AsyncClient.task_group()`` (see ``TaskGroup``)."""

    async def submit(self, cmd: Union[None, str, Sequence[str]] = None, /,
                     **fields: Any) -> AsyncTask:
        """A member: ``AsyncClient.submit`` with ``parent`` this group."""
        return await self.client.submit(cmd, **c.member_fields(self, fields))

    async def create_future(self, **fields: Any) -> AsyncTask:
        """A member of kind future."""
        return await self.client.create_future(
            **c.member_fields(self, fields))

    async def create_group(self, return_exceptions: bool = False,
                           **fields: Any) -> AsyncTask:
        """A member that is a group."""
        return await self.client.create_group(
            return_exceptions, **c.member_fields(self, fields))

    def as_completed(self, timeout: Optional[float] = None
                     ) -> AsyncIterator[AsyncTask]:
        """The members as they finish: ``async for t in
        g.as_completed()``."""
        return self.client.as_completed(group=self, timeout=timeout)

    async def _abort(self, exc: BaseException) -> None:
        """See TaskGroup._abort.  The cancel is shielded: the block may
        have raised because its own task is being cancelled."""
        if c.group_refused(exc, self.id):
            try:
                await self.result()
            except TaskFailed as failure:
                raise failure from exc
            except FuturedError:
                pass
        with contextlib.suppress(FuturedError):
            await asyncio.shield(self.cancel(c.cancel_message(exc)))

    async def _finish(self) -> None:
        """See TaskGroup._finish."""
        await self.close()
        try:
            await self.result()
        except FuturedError:
            raise
        except BaseException as e:
            with contextlib.suppress(FuturedError):
                await asyncio.shield(self.cancel(c.cancel_message(e)))
            raise
