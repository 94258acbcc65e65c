"""What the blocking and the asyncio clients share: where the daemon is,
how a call is framed and its answer read, the submit params, deadlines.
Nothing here does I/O."""
from __future__ import annotations

import json
import math
import os
import re
import time
from typing import (Any, Dict, Iterable, List, Mapping, Optional, Sequence,
                    Tuple, Union)
from urllib.parse import urlsplit

from .errors import (FuturedError, HTTPError, AuthError, ServerBusy,
                     RequestTooLarge, ProtocolError, TaskNotDone,
                     InvalidStateError, YieldDecodeError, error_from_json)

FIRST_COMPLETED = "FIRST_COMPLETED"
FIRST_EXCEPTION = "FIRST_EXCEPTION"
ALL_COMPLETED = "ALL_COMPLETED"
RETURN_WHEN = (FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED)

DONE_STATES = ("succeeded", "failed", "cancelled")

# One long-poll chunk.  The daemon clamps waits to --max-wait (60 s by
# default) and answers what is true then; staying below it keeps each HTTP
# exchange short enough that a dead peer is noticed by the I/O timeout.
POLL = 30.0

# The daemon refuses larger batches and task.wait id lists (LimitExceeded).
MAX_BATCH = 10000
MAX_WAIT_IDS = 10000

# 503 means the daemon refused before reading the body, so nothing ran:
# resending is safe.  A few times, then the caller hears of it.
BUSY_RETRIES = 5

LONG_POLLS = frozenset(("task.result", "task.exception", "task.wait",
                        "task.as_completed", "task.stream", "task.output"))

# as_completed(group=...): a long-poll learns only of the members there
# were when it was made, so a member that joins is seen within this long.
GROUP_TICK = 1.0

TaskRef = Union[int, "TaskLike"]


class TaskLike:
    """Anything with an ``id``: Task and AsyncTask."""
    id: int


def default_state_dir() -> str:
    """The daemon's default state directory, as futured and futurectl
    compute it (proto/fp-paths.c)."""
    s = os.environ.get("STATE_DIRECTORY")
    if s:
        return s.split(":", 1)[0]
    if os.geteuid() == 0:
        return "/var/lib/futured"
    s = os.environ.get("XDG_STATE_HOME")
    # The XDG spec says to ignore a relative XDG_STATE_HOME.
    if s and s.startswith("/"):
        return os.path.join(s, "futured")
    return os.path.join(os.path.expanduser("~"), ".local", "state",
                        "futured")


def default_socket() -> str:
    """``$FUTURED_SOCKET``, else ``<default state dir>/futured.sock``."""
    return os.environ.get("FUTURED_SOCKET") or os.path.join(
        default_state_dir(), "futured.sock")


def default_url() -> Optional[str]:
    """``$FUTURED_URL`` when ``$FUTURED_SOCKET`` is not set, else None:
    where a client given neither a socket nor a URL goes over TCP (futured
    sets both for its tasks when it also listens on TCP; the socket
    wins)."""
    if os.environ.get("FUTURED_SOCKET"):
        return None
    return os.environ.get("FUTURED_URL") or None


def read_token(path: str) -> str:
    """The token of a token file: its first line, blanks stripped."""
    with open(path, encoding="utf-8") as f:
        token = f.readline().strip()
    if not token:
        raise FuturedError("token file %s holds no token" % path)
    return token


def default_token() -> Optional[str]:
    """``$FUTURED_TOKEN``, else the default state dir's token when this
    user can read it (a local user of a local daemon, as futurectl does),
    else None (and the daemon will answer 401)."""
    if os.environ.get("FUTURED_TOKEN"):
        return os.environ["FUTURED_TOKEN"].strip()
    path = os.path.join(default_state_dir(), "token")
    if os.access(path, os.R_OK):
        try:
            return read_token(path)
        except (OSError, FuturedError):
            return None
    return None


class Target:
    """Where to connect: a Unix socket path, or host/port (and TLS) of a
    URL, with the headers every request carries.  With neither socket nor
    url: ``$FUTURED_SOCKET``, else ``$FUTURED_URL`` (its token ``token``,
    ``token_file``, ``$FUTURED_TOKEN``, ...), else the default socket."""

    def __init__(self, socket: Optional[str], url: Optional[str],
                 token: Optional[str], token_file: Optional[str]) -> None:
        if socket is not None and url is not None:
            raise ValueError("give socket or url, not both")
        what = "url"
        if socket is None and url is None:
            url, what = default_url(), "$FUTURED_URL"
        self.headers = {"Content-Type": "application/json",
                        "Accept": "application/json"}
        if url is None:
            self.socket: Optional[str] = os.fspath(socket or default_socket())
            self.host, self.port, self.tls = "localhost", None, False
            self.where = "unix:" + self.socket
            self.headers["Host"] = "localhost"
            return
        u = urlsplit(url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError("%s must be http://HOST:PORT, not %r"
                             % (what, url))
        self.socket = None
        self.tls = u.scheme == "https"
        self.host = u.hostname
        self.port = u.port or (443 if self.tls else 80)
        self.where = url
        if token is None and token_file is not None:
            token = read_token(token_file)
        if token is None:
            token = default_token()
        if token is not None:
            # A line break would end the header early (asyncio's client
            # writes the header lines itself).
            if re.search(r"[\x00-\x1f\x7f]", token):
                raise ValueError("the token holds a control character")
            self.headers["Authorization"] = "Bearer " + token
        hostport = self.host if ":" not in self.host else "[%s]" % self.host
        self.headers["Host"] = "%s:%d" % (hostport, self.port)


def encode(payload: Any) -> bytes:
    """JSON as the daemon reads it.  NaN and infinities are not JSON, so
    they are refused here rather than by the daemon's parser."""
    try:
        return json.dumps(payload, ensure_ascii=False, allow_nan=False,
                          separators=(",", ":")).encode("utf-8")
    except ValueError as e:
        raise ValueError("params are not JSON: %s" % e) from None


def decode_body(status: int, headers: Mapping[str, str], body: bytes,
                where: str) -> Any:
    """The JSON of a 200 answer (None for an empty one: notifications),
    or the HTTPError of any other status."""
    if status == 200:
        if not body.strip():
            return None
        try:
            return json.loads(body)
        except ValueError as e:
            raise ProtocolError("%s answered JSON that does not parse: %s"
                                % (where, e)) from None
    if status in (202, 204) and not body.strip():
        return None
    try:
        parsed: Any = json.loads(body) if body.strip() else None
    except ValueError:
        parsed = body.decode("utf-8", "replace")
    reason = parsed.get("reason", "") if isinstance(parsed, dict) else ""
    cls = {401: AuthError, 413: RequestTooLarge,
           503: ServerBusy}.get(status, HTTPError)
    return cls(status, reason, parsed, dict(headers))


def retry_after(headers: Mapping[str, str]) -> float:
    """Seconds a 503 asks to wait (Retry-After), within reason."""
    for k, v in headers.items():
        if k.lower() == "retry-after":
            try:
                return min(max(float(v), 0.05), 10.0)
            except ValueError:
                break
    return 1.0


def request(method: str, params: Mapping[str, Any],
            req_id: Optional[int]) -> Dict[str, Any]:
    """A JSON-RPC request object; a notification when req_id is None."""
    req: Dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params:
        req["params"] = dict(params)
    if req_id is not None:
        req["id"] = req_id
    return req


def result_of(answer: Any, req_id: int) -> Any:
    """The result of a single call's answer, or its error raised."""
    if not isinstance(answer, dict):
        raise ProtocolError("answer is not a JSON-RPC response: %.200r"
                            % (answer,))
    if "error" in answer:
        raise error_from_json(answer["error"])
    if answer.get("id") != req_id or "result" not in answer:
        raise ProtocolError("answer is not the response to request %d: "
                            "%.200r" % (req_id, answer))
    return answer["result"]


def io_timeout(base: float, method: str, params: Mapping[str, Any]) -> float:
    """How long to wait for the answer of one call: the client's timeout,
    plus the wait a long-poll asks for (the daemon's cap when it asks for
    null, which we never send but a raw call may)."""
    if method in LONG_POLLS and "timeout" in params:
        t = params["timeout"]
        if t is None:
            return base + 60.0
        if isinstance(t, (int, float)) and t > 0:
            return base + float(t)
    return base


def drop_none(fields: Mapping[str, Any]) -> Dict[str, Any]:
    """Params without the Nones: the daemon reads null as absent anyway,
    and short requests are easier to read in its logs."""
    return {k: v for k, v in fields.items() if v is not None}


def delete_params(tasks: Any, cancel: bool,
                  where: Dict[str, Any]) -> Dict[str, Any]:
    """task.delete's params: ids (with cancel), or a filter."""
    unknown = set(where) - {"state", "queue", "label", "older_than", "all"}
    if unknown:
        raise TypeError("delete() got unknown filter %s" % sorted(unknown))
    if tasks is not None:
        return {"ids": [task_id(t) for t in tasks], "cancel": cancel}
    return drop_none(where)


class _Auto:
    """The type of :data:`AUTO`."""

    def __repr__(self) -> str:
        return "futured.AUTO"

    def __reduce__(self) -> str:
        return "AUTO"           # the one instance, by its module's name


#: ``submit(parent=AUTO)``, the default: the task this process runs in
#: (``$FUTURED_TASK_ID``, which futured sets for the processes of its exec
#: tasks), so that a script's tasks are children of its own; no parent
#: outside futured.  ``parent=None`` submits a task without one.
AUTO = _Auto()


def default_parent() -> Optional[int]:
    """``$FUTURED_TASK_ID`` as an int: the task this process is (or was
    started by), when futured started it; else None.  A value that is
    not a task id is ignored, as futurectl ignores it."""
    s = os.environ.get("FUTURED_TASK_ID", "")
    if re.fullmatch(r"[1-9][0-9]{0,15}", s) and int(s) < 2 ** 53:
        return int(s)
    return None


def parent_id(parent: Any) -> Optional[int]:
    """task.submit's ``parent`` for ``parent=``: AUTO is
    :func:`default_parent`, None none, else a Task (a group) or an id."""
    if parent is AUTO:
        return default_parent()
    if parent is None:
        return None
    return task_id(parent)


def task_id(t: Any) -> int:
    """The id of a Task, an AsyncTask or an int."""
    i = getattr(t, "id", t)
    if isinstance(i, bool) or not isinstance(i, int):
        raise TypeError("a task or a task id expected, not %r" % (t,))
    return i


def submit_params(cmd: Union[None, str, Sequence[str]],
                  fields: Mapping[str, Any]) -> Dict[str, Any]:
    """task.submit's params from ``submit(cmd, **fields)``.

    ``cmd`` is an exec task's argv (a list) or shell command (a string).
    Without ``kind``, it is exec for ``cmd``/``argv``/``shell``, sleep for
    ``seconds``, http for ``url``; a future (no fields of its own) needs
    ``kind="future"``, a group ``kind="group"``.  ``after`` may hold
    Tasks; ``parent`` is AUTO (the default), None (none), a Task or an
    id."""
    params = drop_none({k: v for k, v in fields.items() if k != "parent"})
    parent = parent_id(fields.get("parent", AUTO))
    if parent is not None:
        params["parent"] = parent
    if cmd is not None:
        if isinstance(cmd, (bytes, bytearray)):
            raise TypeError("cmd must be str or a sequence of str")
        if isinstance(cmd, str):
            params["shell"] = cmd
        else:
            params["argv"] = [os.fspath(a) for a in cmd]
    if "kind" not in params:
        if "argv" in params or "shell" in params:
            params["kind"] = "exec"
        elif "seconds" in params:
            params["kind"] = "sleep"
        elif "url" in params:
            params["kind"] = "http"
        else:
            raise TypeError("submit() needs a command (argv list or shell "
                            "string), seconds=, url= or kind= (a future: "
                            "kind=\"future\", a group: kind=\"group\")")
    if "after" in params:
        params["after"] = [task_id(t) for t in params["after"]]
    if "cwd" in params:
        params["cwd"] = os.fspath(params["cwd"])
    return params


def schedule_task(cmd: Union[None, str, Sequence[str]],
                  task: Optional[Mapping[str, Any]],
                  fields: Mapping[str, Any]) -> Dict[str, Any]:
    """A schedule's ``task``, task.submit's params for each firing:
    ``task`` as given (a dict), or ``cmd`` and ``fields`` as for
    ``submit()``.  No default parent: AUTO would be the process making the
    schedule, not the firings; the daemon refuses ``parent``, ``key``,
    ``delay``, ``not_before`` and ``after``, which each firing sets."""
    if task is not None:
        if cmd is not None or fields:
            raise TypeError("give task= or a command and its fields, "
                            "not both")
        return dict(task)
    if cmd is None and not fields:
        raise TypeError("a schedule needs its task: a command (argv list "
                        "or shell string), task.submit's fields, or task=")
    return submit_params(cmd, dict({"parent": None}, **fields))


#: schedule.create's own params, besides ``name`` and ``task``.
SCHEDULE_FIELDS = ("cron", "every", "tz", "start_at", "end_at", "jitter",
                   "overlap", "catchup", "catchup_window", "paused")


def schedule_update_params(name: str, cmd: Union[None, str, Sequence[str]],
                           task: Optional[Mapping[str, Any]],
                           changes: Mapping[str, Any]) -> Dict[str, Any]:
    """schedule.update's params: the changes given, None sent as null
    (which clears ``start_at`` and ``end_at``); a ``cmd`` or ``task``
    replaces the task."""
    unknown = set(changes) - set(SCHEDULE_FIELDS)
    if unknown:
        raise TypeError("update_schedule() got unknown field %s (the "
                        "task's go in task=)" % sorted(unknown))
    params = dict(changes, name=name)
    if cmd is not None or task is not None:
        params["task"] = schedule_task(cmd, task, {})
    return params


def group_params(return_exceptions: bool,
                 fields: Mapping[str, Any]) -> Dict[str, Any]:
    """``create_group``'s fields: kind group, ``return_exceptions`` only
    when true (so the spec reads {"kind": "group"} otherwise)."""
    if "kind" in fields or "return_exceptions" in fields:
        raise TypeError("create_group() makes the kind group; "
                        "return_exceptions is its own argument")
    out = dict(fields, kind="group")
    if return_exceptions:
        out["return_exceptions"] = True
    return out


def member_fields(group: Any, fields: Mapping[str, Any]) -> Dict[str, Any]:
    """A member's submit fields: ``parent`` is the group."""
    if "parent" in fields:
        raise TypeError("a member's parent is its group")
    return dict(fields, parent=task_id(group))


def closed(task: Any, answer: Mapping[str, Any]) -> bool:
    """task.close's answer: whether it closed the group now (False when
    it was closed or finished before); the task learns a final state."""
    learn(task, answer.get("state"))
    return bool(answer.get("closed"))


def cancel_message(exc: BaseException) -> str:
    """What a task group's cancel says when its block raised exc (within
    task.cancel's 1,024 bytes)."""
    text = "task_group: the block raised %s" % type(exc).__name__
    if str(exc):
        text += ": %s" % exc
    return text.encode("utf-8")[:1024].decode("utf-8", "ignore")


def group_refused(exc: BaseException, gid: int) -> bool:
    """Whether exc is futured refusing a member of group gid because the
    group is closed (a member's failure closes it) or has finished:
    -32602 on ``parent``, naming it."""
    data = getattr(exc, "data", None)
    if getattr(exc, "code", None) != -32602 or not isinstance(data, dict) \
            or data.get("field") != "parent":
        return False
    return re.search(r"\b%d\b" % gid, str(data.get("reason", ""))) \
        is not None


def list_parent(parent: Any) -> Optional[int]:
    """task.list's ``parent`` filter: a Task or id, 0 for the tasks
    without a parent, None for no filter."""
    if parent is None:
        return None
    if parent == 0 and not isinstance(parent, bool):
        return 0
    return task_id(parent)


def learn(obj: Any, state: Optional[str]) -> None:
    """Tells a Task or AsyncTask (not an id) a state an answer gave: it
    keeps a final one, as it keeps one it saw itself."""
    f = getattr(obj, "_learn", None)
    if f is not None and state in DONE_STATES:
        f(state)


def cancel_params(task: Any, message: Optional[str]) -> Dict[str, Any]:
    """task.cancel's params: the id, and the message when there is one."""
    return drop_none({"id": task_id(task), "message": message})


def exception_params(task: Any, message: Any, type: Optional[str],
                     data: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """task.set_exception's params.  ``message`` may be an exception
    instance: its text, and its class's name as the type unless one is
    given.  The type defaults to ``"Exception"``, as the daemon's."""
    if isinstance(message, BaseException):
        if type is None:
            type = message.__class__.__name__
        message = str(message)
    if not isinstance(message, str):
        raise TypeError("message must be a str or an exception, not %r"
                        % (message,))
    return drop_none({"id": task_id(task), "type": type or "Exception",
                      "message": message,
                      "data": dict(data) if data is not None else None})


def settled(task: Any, answer: Mapping[str, Any]) -> str:
    """The state after task.set_result or task.set_exception; when the
    task had finished before (``set`` false), InvalidStateError."""
    state = answer.get("state")
    if not answer.get("set"):
        learn(task, state)
        raise InvalidStateError("already finished", None,
                                {"id": task_id(task), "state": state})
    learn(task, state)
    return state


def completed(objs: Mapping[int, Any], item: Mapping[str, Any]) -> Any:
    """The object given for a task task.as_completed handed back ({id,
    state}), which learns its state."""
    obj = objs[item["id"]]
    learn(obj, item.get("state"))
    return obj


class Deadline:
    """A caller's timeout as a point in time: None waits for ever, 0 asks
    once without waiting.  ``chunk()`` is the next long-poll's timeout."""

    def __init__(self, timeout: Optional[float]) -> None:
        if timeout is not None and (not isinstance(timeout, (int, float))
                                    or math.isnan(timeout)):
            raise TypeError("timeout must be a number or None")
        self.timeout = timeout
        self.at = None if timeout is None else time.monotonic() + max(
            timeout, 0)

    def chunk(self) -> float:
        if self.at is None:
            return POLL
        return round(max(0.0, min(POLL, self.at - time.monotonic())), 3)

    def expired(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at


def not_done(tid: Optional[int], state: Optional[str] = None,
             what: str = "timed out") -> TaskNotDone:
    """A TaskNotDone made here (a timeout the client counts itself)."""
    data: Dict[str, Any] = {"state": state}
    if tid is not None:
        data["id"] = tid
    return TaskNotDone(what, 3, data)


def stream_item(tid: int, item: Mapping[str, Any]) -> Any:
    """A stream item's value, or its YieldDecodeError raised."""
    if "error" in item:
        err = dict(item.get("error") or {})
        raise YieldDecodeError(str(err.get("message", "not JSON")), None,
                               {"id": tid, "seq": item.get("seq"),
                                "line": err.get("line"),
                                "error": err})
    return item.get("value")


def wait_groups(ids: List[int]) -> List[List[int]]:
    """task.wait takes at most MAX_WAIT_IDS ids."""
    return [ids[i:i + MAX_WAIT_IDS] for i in range(0, len(ids),
                                                   MAX_WAIT_IDS)] or [[]]


def unique_ids(tasks: Iterable[Any]) -> Tuple[List[int], Dict[int, Any]]:
    """Task ids in order without repeats (the daemon refuses duplicates),
    and the object given for each."""
    ids: List[int] = []
    objs: Dict[int, Any] = {}
    for t in tasks:
        i = task_id(t)
        if i not in objs:
            ids.append(i)
            objs[i] = t
    return ids, objs


class BatchEntry:
    """One call of a batch.  After the batch was sent, ``result()`` returns
    its result (a Task for a submit) or raises its error, ``exception()``
    returns the error or None."""

    __slots__ = ("method", "params", "id", "_wrap", "_sent", "_value",
                 "_error")

    def __init__(self, method: str, params: Dict[str, Any], req_id: int,
                 wrap: Any = None) -> None:
        self.method = method
        self.params = params
        self.id = req_id
        self._wrap = wrap
        self._sent = False
        self._value: Any = None
        self._error: Optional[FuturedError] = None

    def _set(self, answer: Any) -> None:
        self._sent = True
        try:
            value = result_of(answer, self.id)
            self._value = self._wrap(value) if self._wrap else value
        except FuturedError as e:
            self._error = e

    def _fail(self, error: FuturedError) -> None:
        self._sent = True
        self._error = error

    def done(self) -> bool:
        """Whether the batch was sent and this entry answered."""
        return self._sent

    def result(self) -> Any:
        if not self._sent:
            raise RuntimeError("the batch was not sent yet")
        if self._error is not None:
            raise self._error
        return self._value

    def exception(self) -> Optional[FuturedError]:
        if not self._sent:
            raise RuntimeError("the batch was not sent yet")
        return self._error

    def outcome(self) -> Any:
        """The result, or the error instance in its place."""
        return self._error if self._error is not None else self._value

    def __repr__(self) -> str:
        state = ("error %r" % self._error if self._error else
                 "result %.60r" % (self._value,)) if self._sent else "unsent"
        return "<BatchEntry %s %s>" % (self.method, state)


class BatchBase:
    """The calls of a batch, before and after sending; the blocking and the
    asyncio Batch add ``send``."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._entries: List[BatchEntry] = []
        self._notifications: List[Dict[str, Any]] = []
        self._order: List[Any] = []     # entries and notifications, in order
        self.results: Optional[List[Any]] = None

    def call(self, method: str, /, **params: Any) -> BatchEntry:
        """Adds a call; its BatchEntry answers once the batch is sent."""
        return self._add(method, params, None)

    def notify(self, method: str, /, **params: Any) -> None:
        """Adds a notification: it runs in order with the calls, and leaves
        no entry in the results."""
        n = request(method, params, None)
        self._notifications.append(n)
        self._order.append(n)

    def submit(self, cmd: Union[None, str, Sequence[str]] = None, /,
               **fields: Any) -> BatchEntry:
        """Adds a task.submit (the params of ``Client.submit``); its entry's
        result is a Task."""
        return self._add("task.submit", submit_params(cmd, fields),
                         lambda obj: self._client._task_from(obj))

    def _add(self, method: str, params: Dict[str, Any],
             wrap: Any) -> BatchEntry:
        if self.results is not None:
            raise RuntimeError("this batch was sent already")
        e = BatchEntry(method, dict(params), self._client._next_id(), wrap)
        self._entries.append(e)
        self._order.append(e)
        return e

    def __len__(self) -> int:
        return len(self._order)

    def _chunks(self) -> List[Tuple[List[Any], float]]:
        """The requests to send, MAX_BATCH members each, and each one's
        I/O timeout (its longest long-poll's)."""
        out = []
        for i in range(0, len(self._order), MAX_BATCH):
            part = self._order[i:i + MAX_BATCH]
            reqs, t = [], self._client.timeout
            for m in part:
                if isinstance(m, BatchEntry):
                    reqs.append(request(m.method, m.params, m.id))
                    t = max(t, io_timeout(self._client.timeout, m.method,
                                          m.params))
                else:
                    reqs.append(m)
            out.append((reqs, t))
        return out

    def _answer(self, reqs: List[Any], answer: Any) -> None:
        """Hands each entry of one sent request its answer."""
        entries = {r["id"]: None for r in reqs if "id" in r}
        mine = [e for e in self._entries if e.id in entries]
        if answer is None:
            answer = []
        if isinstance(answer, dict):
            # One error for the whole batch (too many members, not JSON):
            # every entry of it failed alike.
            err = error_from_json(answer.get("error")) if "error" in answer \
                else ProtocolError("batch answered by a single result")
            for e in mine:
                e._fail(err)
            return
        if not isinstance(answer, list):
            raise ProtocolError("batch answer is not an array: %.200r"
                                % (answer,))
        by_id = {a.get("id"): a for a in answer if isinstance(a, dict)}
        for e in mine:
            if e.id in by_id:
                e._set(by_id[e.id])
            else:
                e._fail(ProtocolError("no answer for batch entry %d (%s)"
                                      % (e.id, e.method)))

    def _finish(self) -> List[Any]:
        self.results = [e.outcome() for e in self._entries]
        return self.results

    @property
    def entries(self) -> List[BatchEntry]:
        """The BatchEntry of each call, in order (notifications have
        none)."""
        return list(self._entries)
