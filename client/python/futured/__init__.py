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
``submit``, ``create_future``, ``set_result``, ``set_exception``,
``wait``, ``as_completed``, ``list``, ``queues``, ``info``);
``Task`` / ``AsyncTask`` behave like futures (``result``, ``exception``,
``done``, ``cancel``, ``set_result``, ``set_exception``, ``wait``,
``stream``, ``iter_output``); the errors of
PROTOCOL.md are exceptions under ``FuturedError`` (``TaskFailed``,
``NoSuchTask``, ``InvalidParams``...).
"""
from ._common import (ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION,
                      BatchEntry, default_socket, default_state_dir)
from .aio import AsyncBatch, AsyncClient, AsyncTask
from .client import Batch, Client, StreamOverflow, Task, WaitResult
from .errors import (AuthError, FuturedError, HTTPError, InternalError,
                     InvalidParams, InvalidRequest, InvalidStateError,
                     KeyConflict,
                     LimitExceeded, MethodNotFound, NoSuchQueue, NoSuchTask,
                     ParseError, QueueNotEmpty,
                     ProtocolError, RequestTooLarge, ServerBusy,
                     ShuttingDown, StoreError, TaskCancelled, TaskException,
                     TaskFailed, TaskNotDone, TransportError,
                     YieldDecodeError)

__version__ = "0.1.0"

# The protocol version this client speaks (daemon.info's
# protocol_version).
PROTOCOL_VERSION = 1

__all__ = [
    "Client", "Task", "Batch", "BatchEntry", "WaitResult",
    "AsyncClient", "AsyncTask", "AsyncBatch",
    "FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED",
    "default_socket", "default_state_dir", "StreamOverflow",
    "FuturedError", "TransportError", "ProtocolError", "HTTPError",
    "AuthError", "ServerBusy", "RequestTooLarge",
    "ParseError", "InvalidRequest", "MethodNotFound", "InvalidParams",
    "InternalError", "InvalidStateError",
    "TaskFailed", "TaskCancelled", "TaskNotDone", "NoSuchTask",
    "KeyConflict", "ShuttingDown", "StoreError", "LimitExceeded",
    "NoSuchQueue", "QueueNotEmpty", "TaskException", "YieldDecodeError",
    "PROTOCOL_VERSION", "__version__",
]
