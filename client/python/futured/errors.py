"""The errors futured answers, as Python exceptions.

Every error this library raises is a :class:`FuturedError`.  Errors the
daemon answers in JSON-RPC carry its ``code``, ``message`` and ``data``
and are raised as the subclass named after the error table of
PROTOCOL.md (``TaskFailed`` for code 1, ``InvalidParams`` for -32602 ...);
a code this version does not know is raised as :class:`FuturedError`
itself, since codes are append-only and a newer daemon may add some.
Failures below JSON-RPC (no daemon, an HTTP refusal such as 401, an answer
that is not JSON-RPC) are :class:`TransportError` and its subclasses.
"""
from __future__ import annotations

import asyncio
import builtins
import concurrent.futures
import json
from typing import Any, Dict, List, Optional, Tuple, Type

__all__ = [
    "FuturedError", "TransportError", "ProtocolError", "HTTPError",
    "AuthError", "ServerBusy", "RequestTooLarge",
    "ParseError", "InvalidRequest", "MethodNotFound", "InvalidParams",
    "InternalError",
    "TaskFailed", "GroupFailed", "TaskCancelled", "TaskNotDone", "NoSuchTask",
    "KeyConflict", "ShuttingDown", "StoreError", "LimitExceeded",
    "NoSuchQueue", "QueueNotEmpty", "ScheduleExists", "NoSuchSchedule",
    "YieldDecodeError", "InvalidStateError",
    "TaskException", "error_from_json",
]


def _bases(*classes: type) -> Tuple[type, ...]:
    """The classes without repeats: several of the standard library's
    timeout and cancel exceptions are one class on newer Pythons and
    distinct on 3.9, and a class may not name the same base twice."""
    out = []
    for c in classes:
        if c not in out:
            out.append(c)
    return tuple(out)


class FuturedError(Exception):
    """Base class of every error of this library.

    ``code`` is the JSON-RPC error code (None for transport errors),
    ``message`` the error's message as the daemon wrote it (``"TaskFailed"``,
    ``"Invalid params"`` ...), ``data`` its data object (``{}`` when none).
    """

    code: Optional[int] = None

    def __init__(self, message: str, code: Optional[int] = None,
                 data: Any = None) -> None:
        # One positional argument only: OSError-derived subclasses (the
        # TimeoutError family) would read a second one as errno/strerror.
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.data = data if data is not None else {}

    @property
    def task_id(self) -> Optional[int]:
        """The task the error is about (``data.id``), when it names one."""
        if isinstance(self.data, dict) and isinstance(self.data.get("id"),
                                                      int):
            return self.data["id"]
        return None

    def _detail(self) -> str:
        if self.data in (None, {}):
            return ""
        return ": " + json.dumps(self.data, ensure_ascii=False)

    def __str__(self) -> str:
        if self.code is None:
            return self.message
        return "%s (%s)%s" % (self.message, self.code, self._detail())

    def __repr__(self) -> str:
        return "%s(%r, code=%r, data=%r)" % (type(self).__name__,
                                             self.message, self.code,
                                             self.data)

    # pickle (concurrent.futures' process pools, multiprocessing) rebuilds
    # an exception from its args, which hold only the message.
    def __reduce__(self):
        return (_rebuild, (type(self), self.message, self.code, self.data))


def _rebuild(cls, message, code, data):
    return cls(message, code, data)


# --- below JSON-RPC -------------------------------------------------------

class TransportError(FuturedError):
    """The daemon could not be reached or did not answer JSON-RPC: the
    socket is missing, the connection broke, an I/O timeout passed.  The
    underlying OSError, when there is one, is the ``__cause__``."""


class ProtocolError(TransportError):
    """The answer was not the JSON-RPC futured speaks (not JSON, an answer
    for another id...): a bug on one side, or not futured at the other
    end."""


class HTTPError(TransportError):
    """An HTTP-level refusal (any status but 200).  ``status`` is the HTTP
    status, ``reason`` the daemon's explanation from its JSON body, ``body``
    the parsed body (or its text when not JSON)."""

    def __init__(self, status: int, reason: str = "", body: Any = None,
                 headers: Optional[Dict[str, str]] = None) -> None:
        self.status = status
        self.reason = reason
        self.body = body
        self.headers = headers or {}
        text = "HTTP %d" % status
        if isinstance(body, dict) and body.get("error"):
            text += " %s" % body["error"]
        if reason:
            text += ": %s" % reason
        super().__init__(text, None, body if isinstance(body, dict) else None)

    def __reduce__(self):
        return (type(self), (self.status, self.reason, self.body,
                             self.headers))


class AuthError(HTTPError):
    """HTTP 401: TCP needs ``Authorization: Bearer TOKEN`` with the first
    line of the daemon's token file, and the token sent was missing or
    wrong."""


class ServerBusy(HTTPError):
    """HTTP 503: the daemon answers ``--max-requests`` requests already.
    The client retries a few times after ``Retry-After`` before raising
    this."""


class RequestTooLarge(HTTPError):
    """HTTP 413: the request body is over the daemon's ``--max-request``
    (4 MiB by default); split the batch."""


# --- standard JSON-RPC errors ------------------------------------------

class ParseError(FuturedError):
    """-32700: the daemon could not parse the request as JSON."""
    code = -32700


class InvalidRequest(FuturedError):
    """-32600: the request is JSON but not a JSON-RPC request."""
    code = -32600


class MethodNotFound(FuturedError):
    """-32601: no such method (``data.method``)."""
    code = -32601

    def __str__(self) -> str:
        return "method not found: %s" % self.data.get("method", "?") \
            if isinstance(self.data, dict) else super().__str__()


class InvalidParams(FuturedError, ValueError):
    """-32602: a parameter is missing, unknown or out of range.  ``field``
    is its path (``argv[2]``, ``env.PATH``, ``after[0]``), ``reason`` why
    it was refused.  Also a ValueError, which is what it is."""
    code = -32602

    @property
    def field(self) -> Optional[str]:
        return self.data.get("field") if isinstance(self.data, dict) else None

    @property
    def reason(self) -> Optional[str]:
        return self.data.get("reason") if isinstance(self.data,
                                                     dict) else None

    def __str__(self) -> str:
        if self.field is None:
            return super().__str__()
        return "invalid params: %s: %s" % (self.field, self.reason)


class InternalError(FuturedError):
    """-32603: the daemon failed to serve the call (``data.reason``)."""
    code = -32603


# --- futured's own errors -------------------------------------------------

class TaskException(dict):
    """A task's exception object as the daemon stores it: a dict (so it
    prints and serializes as sent) whose keys also read as attributes:
    ``type`` (``ProcessError``, ``SpawnError``, ``TimeoutError``,
    ``HttpError``, ``ConnectionError``, ``DependencyFailed``,
    ``DaemonRestarted``, ``ResultDecodeError``), ``message``, and the
    type's own fields (``exit_code`` or ``signal``, ``stderr_tail``,
    ``stdout``, ``stderr``, ``status``, ``url``, ``timeout`` ...).  A field
    the object lacks reads as AttributeError, as for any object."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        return "TaskException(%s)" % dict.__repr__(self)


class TaskFailed(FuturedError):
    """Code 1: the task failed.  ``exception`` is its exception object (a
    :class:`TaskException`); ``type`` and ``stderr_tail`` are shortcuts
    into it.  Raised by ``Task.result()``, returned by
    ``Task.exception()``."""
    code = 1

    @property
    def exception(self) -> TaskException:
        exc = self.data.get("exception") if isinstance(self.data,
                                                       dict) else None
        return TaskException(exc if isinstance(exc, dict) else {})

    @property
    def type(self) -> Optional[str]:
        """The exception's type, e.g. ``"ProcessError"``."""
        return self.exception.get("type")

    @property
    def stderr_tail(self) -> str:
        """The last 4 KiB of the task's stderr ("" when it kept none)."""
        return self.exception.get("stderr_tail") or ""

    def __str__(self) -> str:
        exc = self.exception
        text = "task %s failed: %s: %s" % (self.task_id, exc.get("type"),
                                           exc.get("message"))
        # The last line of stderr is where most programs say why
        # (a Python traceback's "ValueError: boom"), worth a log line.
        lines = [ln for ln in self.stderr_tail.splitlines() if ln.strip()]
        if lines:
            text += " (%s)" % lines[-1].strip()
        return text


class TaskCancelled(FuturedError, *_bases(concurrent.futures.CancelledError)):
    """Code 2: the task was cancelled.  Also a
    ``concurrent.futures.CancelledError``, as a cancelled Future raises
    (but never ``asyncio.CancelledError``, which would read as the
    cancellation of the awaiting coroutine itself).  ``cancel_message`` is
    the message the cancel gave (``cancel(message=...)``), or None."""
    code = 2

    @property
    def cancel_message(self) -> Optional[str]:
        m = self.data.get("message") if isinstance(self.data, dict) else None
        return m if isinstance(m, str) else None

    def __str__(self) -> str:
        if self.cancel_message is None:
            return "task %s was cancelled" % self.task_id
        return "task %s was cancelled: %s" % (self.task_id,
                                               self.cancel_message)


class TaskNotDone(FuturedError, *_bases(concurrent.futures.TimeoutError,
                                        asyncio.TimeoutError, TimeoutError)):
    """Code 3: the task had not finished within the timeout given.  Also a
    ``TimeoutError`` (the builtin, ``concurrent.futures``' and
    ``asyncio``'s), as ``Future.result(timeout)`` raises.  ``state`` is the
    task's state then, when known."""
    code = 3

    @property
    def state(self) -> Optional[str]:
        return self.data.get("state") if isinstance(self.data, dict) else None

    def __str__(self) -> str:
        if self.task_id is None:
            return self.message
        return "task %s is not done (%s)" % (self.task_id,
                                             self.state or "unfinished")


class NoSuchTask(FuturedError, LookupError):
    """Code 4: no task has this id (or it was deleted after its
    retention).  Also a LookupError."""
    code = 4

    def __str__(self) -> str:
        text = "no such task: %s" % self.task_id
        if isinstance(self.data, dict) and self.data.get("field"):
            text += " (in %s)" % self.data["field"]
        return text


class KeyConflict(FuturedError):
    """Code 5: the ``key`` belongs to an existing task (``task_id``) whose
    spec differs."""
    code = 5

    @property
    def key(self) -> Optional[str]:
        return self.data.get("key") if isinstance(self.data, dict) else None

    def __str__(self) -> str:
        return "key %r belongs to task %s with another spec" % (self.key,
                                                                self.task_id)


class ShuttingDown(FuturedError):
    """Code 6: the daemon is stopping and accepts no change."""
    code = 6


class StoreError(FuturedError):
    """Code 7: the daemon could not commit (disk full, database out of
    reach): nothing of the call was stored; it is safe to retry."""
    code = 7


class LimitExceeded(FuturedError):
    """Code 8: a limit was passed; ``data`` is ``{limit, max, value}``."""
    code = 8

    def __str__(self) -> str:
        d = self.data if isinstance(self.data, dict) else {}
        return "limit exceeded: %s (%s, at most %s)" % (
            d.get("limit"), d.get("value"), d.get("max"))


class NoSuchQueue(FuturedError, LookupError):
    """Code 9: no such queue (``data.name``): it has no task and no
    settings."""
    code = 9

    def __str__(self) -> str:
        d = self.data if isinstance(self.data, dict) else {}
        text = "no such queue: %s" % d.get("name")
        return text + (" (%s)" % d["reason"] if d.get("reason") else "")


class QueueNotEmpty(FuturedError):
    """Code 10: the queue still holds tasks (``data.name``)."""
    code = 10


class ScheduleExists(FuturedError):
    """Code 12: ``create_schedule`` of a name another schedule has
    (``name``)."""
    code = 12

    @property
    def name(self) -> Optional[str]:
        return self.data.get("name") if isinstance(self.data, dict) else None

    def __str__(self) -> str:
        return "schedule %s exists" % self.name


class NoSuchSchedule(FuturedError, LookupError):
    """Code 13: no schedule has this name (``name``).  Also a
    LookupError."""
    code = 13

    @property
    def name(self) -> Optional[str]:
        return self.data.get("name") if isinstance(self.data, dict) else None

    def __str__(self) -> str:
        return "no such schedule: %s" % self.name


class YieldDecodeError(FuturedError, ValueError):
    """A line a task wrote to its yield pipe that was not JSON (or over
    1 MiB), met while iterating ``Task.stream()``.  ``seq`` is the item's
    number, ``line`` the text (absent for an over-long line).  Not a
    daemon error code: the daemon reports it as a stream item."""

    @property
    def seq(self) -> Optional[int]:
        return self.data.get("seq")

    @property
    def line(self) -> Optional[str]:
        return self.data.get("line")

    def __str__(self) -> str:
        return "task %s yielded item %s that is not JSON: %s" % (
            self.task_id, self.seq, self.message)


class InvalidStateError(FuturedError,
                        *_bases(concurrent.futures.InvalidStateError,
                                asyncio.InvalidStateError)):
    """``set_result()`` or ``set_exception()`` of a task that had already
    finished (``state`` says how: ``succeeded``, ``failed`` or
    ``cancelled``); nothing was changed.  Also the ``InvalidStateError``
    of ``concurrent.futures`` and ``asyncio``, as ``Future.set_result``
    raises.  Not a daemon error code: the daemon answers ``set: false``."""

    @property
    def state(self) -> Optional[str]:
        return self.data.get("state") if isinstance(self.data, dict) else None

    def __str__(self) -> str:
        return "task %s had already finished: %s" % (self.task_id,
                                                     self.state)


def _member_errors(data: Any) -> List[TaskFailed]:
    """The TaskFailed of each member an ExceptionGroup names
    (``exception.exceptions``: ``[{id, exception}]``)."""
    exc = data.get("exception") if isinstance(data, dict) else None
    members = exc.get("exceptions") if isinstance(exc, dict) else None
    if not isinstance(members, list):
        return []
    return [task_failed(m.get("id"), m.get("exception"))
            for m in members if isinstance(m, dict)]


_GROUP_FAILED_DOC = """A group failed (code 1, like any task failure, so a TaskFailed
    too): a member failed, which cancelled the others, and its exception
    is ``{type: "ExceptionGroup", message, exceptions: [{id,
    exception}]}``.  ``exceptions`` holds the members' failures, each a
    TaskFailed (a GroupFailed for a member that is a group), in id order;
    the members the failure cancelled are not among them.  Raised by a
    group's ``result()`` and on leaving ``task_group()``.  On Python 3.11
    and later it is also an ``ExceptionGroup``, as ``asyncio.TaskGroup``
    raises, so ``except* TaskFailed`` sees the members' failures."""

if hasattr(builtins, "ExceptionGroup"):
    class GroupFailed(TaskFailed, builtins.ExceptionGroup):  # type: ignore
        __doc__ = _GROUP_FAILED_DOC

        # ExceptionGroup takes (message, exceptions) and keeps message
        # read-only: the members come from data, message stays the
        # daemon's ("TaskFailed").
        def __new__(cls, message: str, code: Optional[int] = None,
                    data: Any = None) -> "GroupFailed":
            return super().__new__(cls, message, _member_errors(data))

        def __init__(self, message: str, code: Optional[int] = None,
                     data: Any = None) -> None:
            builtins.BaseExceptionGroup.__init__(self, message,
                                                 self.exceptions)
            self.data = data if data is not None else {}

        def derive(self, excs: Any) -> Any:
            # what except* leaves of it: a plain group that still says
            # which task failed
            return builtins.ExceptionGroup(str(self), excs)
else:
    class GroupFailed(TaskFailed):  # type: ignore[no-redef]
        __doc__ = _GROUP_FAILED_DOC

        def __init__(self, message: str, code: Optional[int] = None,
                     data: Any = None) -> None:
            super().__init__(message, code, data)
            self._exceptions = tuple(_member_errors(data))

        @property
        def exceptions(self) -> Tuple[TaskFailed, ...]:
            return self._exceptions


def _is_group_failure(data: Any) -> bool:
    """Whether a TaskFailed's data is a group's ExceptionGroup naming at
    least one member."""
    exc = data.get("exception") if isinstance(data, dict) else None
    return isinstance(exc, dict) and exc.get("type") == "ExceptionGroup" \
        and bool(_member_errors(data))


def task_failed(tid: Any, exc: Any) -> TaskFailed:
    """The TaskFailed of task ``tid`` whose exception object is ``exc``
    (a GroupFailed for a group's ExceptionGroup)."""
    return error_from_json({"code": 1, "message": "TaskFailed",
                            "data": {"id": tid, "exception": exc}})


_BY_CODE: Dict[int, Type[FuturedError]] = {
    cls.code: cls for cls in (
        ParseError, InvalidRequest, MethodNotFound, InvalidParams,
        InternalError, TaskFailed, TaskCancelled, TaskNotDone, NoSuchTask,
        KeyConflict, ShuttingDown, StoreError, LimitExceeded, NoSuchQueue,
        QueueNotEmpty, ScheduleExists, NoSuchSchedule)
}


def error_from_json(error: Any) -> FuturedError:
    """The exception for a JSON-RPC error object ``{code, message, data}``."""
    if not isinstance(error, dict) or not isinstance(error.get("code"), int):
        return ProtocolError("malformed JSON-RPC error: %r" % (error,))
    cls = _BY_CODE.get(error["code"], FuturedError)
    if cls is TaskFailed and _is_group_failure(error.get("data")):
        cls = GroupFailed
    return cls(str(error.get("message", "")), error["code"],
               error.get("data"))
