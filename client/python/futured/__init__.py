"""futured: a Python client of the futured job daemon.

futured runs work handed to it over JSON-RPC 2.0 (child processes, sleeps,
HTTP fetches) and keeps every task's future in sqlite.  This package is its
client, standard library only::

    import futured

    with futured.Client() as client:            # $FUTURED_SOCKET, or the default
        task = client.submit(["sh", "-c", "echo hi"])
        print(task.result()["stdout"])          # hi

and the same with asyncio::

    async with futured.AsyncClient() as client:
        task = await client.submit("echo hi")
        print((await task)["stdout"])

``Client`` / ``AsyncClient`` make calls (``call``, ``notify``, ``batch``,
``submit``, ``create_future``, ``create_group``, ``close_group``,
``task_group``, ``set_result``, ``set_exception``, ``wait``,
``as_completed``, ``list``, ``queues``, ``create_schedule``,
``schedules``, ``trigger_schedule``, ``info``);
``Task`` / ``AsyncTask`` behave like futures (``result``, ``exception``,
``done``, ``cancel``, ``set_result``, ``set_exception``, ``close``,
``wait``, ``stream``, ``iter_output``); the errors of
PROTOCOL.md are exceptions under ``FuturedError`` (``TaskFailed``,
``GroupFailed``, ``NoSuchTask``, ``InvalidParams``...).

Inside a task of futured (``$FUTURED_TASK_ID`` set), ``submit`` makes
children of that task unless ``parent=`` says otherwise (``AUTO``, the
default; None for none), and ``task_group`` is ``asyncio.TaskGroup`` made
durable::

    with futured.Client() as client:
        with client.task_group() as g:
            for host in ("a", "b"):
                g.submit(["ssh", host, "uptime"])
        print(g.result())                       # [{id, state, result}, ...]
"""
from ._common import (ALL_COMPLETED, AUTO, FIRST_COMPLETED, FIRST_EXCEPTION,
                      BatchEntry, default_parent, default_socket,
                      default_state_dir, default_url)
from .aio import AsyncBatch, AsyncClient, AsyncTask, AsyncTaskGroup
from .client import (Batch, Client, StreamOverflow, Task, TaskGroup,
                     WaitResult)
from .errors import (AuthError, FuturedError, GroupFailed, HTTPError,
                     InternalError,
                     InvalidParams, InvalidRequest, InvalidStateError,
                     KeyConflict,
                     LimitExceeded, MethodNotFound, NoSuchQueue, NoSuchTask,
                     NoSuchSchedule, ParseError, QueueNotEmpty,
                     ProtocolError, RequestTooLarge, ScheduleExists,
                     ServerBusy,
                     ShuttingDown, StoreError, TaskCancelled, TaskException,
                     TaskFailed, TaskNotDone, TransportError,
                     YieldDecodeError)

__version__ = "0.1.0"

# The protocol version this client speaks (daemon.info's
# protocol_version).
PROTOCOL_VERSION = 1

__all__ = [
    "Client", "Task", "TaskGroup", "Batch", "BatchEntry", "WaitResult",
    "AsyncClient", "AsyncTask", "AsyncTaskGroup", "AsyncBatch",
    "FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED", "AUTO",
    "default_parent", "default_socket", "default_state_dir", "default_url",
    "StreamOverflow",
    "FuturedError", "TransportError", "ProtocolError", "HTTPError",
    "AuthError", "ServerBusy", "RequestTooLarge",
    "ParseError", "InvalidRequest", "MethodNotFound", "InvalidParams",
    "InternalError", "InvalidStateError",
    "TaskFailed", "GroupFailed", "TaskCancelled", "TaskNotDone",
    "NoSuchTask",
    "KeyConflict", "ShuttingDown", "StoreError", "LimitExceeded",
    "NoSuchQueue", "QueueNotEmpty", "ScheduleExists", "NoSuchSchedule",
    "TaskException", "YieldDecodeError",
    "PROTOCOL_VERSION", "__version__",
]
