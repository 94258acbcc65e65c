/*
 * futured: the Node.js client of the futured job daemon (JSON-RPC 2.0 over
 * HTTP/1.1, on a Unix socket or TCP with a bearer token). No dependencies
 * beyond Node's own modules; see README.md.
 */
export { Client } from './lib/client.js';
export { Task, TaskGroup } from './lib/task.js';
export {
	AuthenticationError, FuturedError, GroupFailed, InternalError,
	InvalidParams,
	InvalidRequest, InvalidStateError, KeyConflict, LimitExceeded,
	MethodNotFound, NoSuchSchedule, NoSuchTask,
	ParseError, ScheduleExists, ShuttingDown, StoreError, TaskCancelled,
	TaskFailed,
	TaskNotDone, TransportError, errorFromRpc,
} from './lib/errors.js';
export {
	defaultParent, defaultSocketPath, defaultStateDir, defaultUrl,
} from './lib/paths.js';
