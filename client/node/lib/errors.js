/*
 * Errors: FuturedError and its subclasses are JSON-RPC errors futured
 * answered (one class per row of PROTOCOL.md's error table, plus the
 * standard codes); TransportError is everything that kept an answer from
 * arriving (no daemon, a refused HTTP request, no answer in time).
 */

/* The last non-empty line of a stderr tail: usually the one that says why. */
function lastLine(text) {
	if (typeof text !== 'string')
		return null;
	const lines = text.split('\n').map((l) => l.trim()).filter((l) => l);
	return lines.length > 0 ? lines[lines.length - 1] : null;
}

function field(data, name) {
	return data !== null && typeof data === 'object' ? data[name] : undefined;
}

export class FuturedError extends Error {
	/* error: the JSON-RPC error object, {code, message, data?}. */
	constructor(error, options) {
		const e = error ?? {};
		super(new.target.describe(e), options);
		this.name = new.target.name;
		this.code = e.code;
		this.rpcMessage = e.message;
		this.data = e.data === undefined ? null : e.data;
	}

	static describe(e) {
		const data = e.data == null ? '' : ': ' + JSON.stringify(e.data);
		return `${e.message} (${e.code})${data}`;
	}

	/* The task the error is about, when it names one. */
	get taskId() {
		const id = field(this.data, 'id');
		return typeof id === 'number' ? id : null;
	}
}

export class TaskFailed extends FuturedError {
	static describe(e) {
		const ex = field(e.data, 'exception') ?? {};
		const why = lastLine(ex.stderr_tail);
		return `task ${field(e.data, 'id')} failed: ${ex.type}: ${ex.message}` +
		    (why !== null ? ` (stderr: ${why})` : '');
	}

	/* The task's exception object: {type, message, ...}. */
	get exception() {
		return field(this.data, 'exception') ?? null;
	}
}

/* The members' failures of a group's ExceptionGroup: [{id, exception}]. */
function memberFailures(data) {
	const list = field(field(data, 'exception'), 'exceptions');
	return Array.isArray(list) ? list.filter((m) => m !== null &&
	    typeof m === 'object') : [];
}

/*
 * A group failed (code 1, so a TaskFailed too): a member failed, which
 * cancelled the others, and its exception is {type: "ExceptionGroup",
 * message, exceptions: [{id, exception}]}. `exceptions` are the members'
 * failures, each a TaskFailed (a GroupFailed for a member that is a
 * group), in id order, as an AggregateError's `errors`.
 */
export class GroupFailed extends TaskFailed {
	#members = null;

	get exceptions() {
		this.#members ??= memberFailures(this.data).map((m) =>
		    errorFromRpc({ code: 1, message: 'TaskFailed',
		    data: { id: m.id, exception: m.exception } }));
		return this.#members;
	}
}

export class TaskCancelled extends FuturedError {
	static describe(e) {
		const why = field(e.data, 'message');
		return `task ${field(e.data, 'id')} was cancelled` +
		    (typeof why === 'string' ? `: ${why}` : '');
	}

	/* The message the cancel gave (cancel({message})), or null. */
	get cancelMessage() {
		const why = field(this.data, 'message');
		return typeof why === 'string' ? why : null;
	}
}

export class TaskNotDone extends FuturedError {
	static describe(e) {
		// one made here for several tasks (asCompleted) names no task
		if (field(e.data, 'id') == null)
			return e.message;
		return `task ${field(e.data, 'id')} is not done yet ` +
		    `(${field(e.data, 'state')})`;
	}

	get state() {
		return field(this.data, 'state') ?? null;
	}
}

export class NoSuchTask extends FuturedError {
	static describe(e) {
		const where = field(e.data, 'field');
		return `no task ${field(e.data, 'id')}` +
		    (where ? ` (in ${where})` : '');
	}
}

export class KeyConflict extends FuturedError {
	static describe(e) {
		return `key ${JSON.stringify(field(e.data, 'key'))} belongs to ` +
		    `task ${field(e.data, 'id')}, submitted with another spec`;
	}

	get key() {
		return field(this.data, 'key') ?? null;
	}
}

export class ShuttingDown extends FuturedError {
	static describe() {
		return 'futured is shutting down';
	}
}

export class StoreError extends FuturedError {
	static describe(e) {
		return `futured's store failed, nothing was acknowledged: ` +
		    `${field(e.data, 'reason')}`;
	}
}

export class LimitExceeded extends FuturedError {
	static describe(e) {
		return `limit ${JSON.stringify(field(e.data, 'limit'))} exceeded: ` +
		    `${field(e.data, 'value')} (at most ${field(e.data, 'max')})`;
	}

	get limit() {
		return field(this.data, 'limit') ?? null;
	}
}

/* 12: createSchedule of a name another schedule has (data.name). */
export class ScheduleExists extends FuturedError {
	static describe(e) {
		return `schedule ${field(e.data, 'name')} exists`;
	}

	get scheduleName() {
		return field(this.data, 'name') ?? null;
	}
}

/* 13: no schedule has this name (data.name). */
export class NoSuchSchedule extends FuturedError {
	static describe(e) {
		return `no schedule ${field(e.data, 'name')}`;
	}

	get scheduleName() {
		return field(this.data, 'name') ?? null;
	}
}

export class ParseError extends FuturedError {
	static describe(e) {
		return `futured could not parse the request: ` +
		    `${field(e.data, 'reason')}`;
	}
}

export class InvalidRequest extends FuturedError {
	static describe(e) {
		return `invalid JSON-RPC request: ${field(e.data, 'reason')}`;
	}
}

export class MethodNotFound extends FuturedError {
	static describe(e) {
		return `no method ${JSON.stringify(field(e.data, 'method'))}`;
	}
}

export class InvalidParams extends FuturedError {
	static describe(e) {
		return `invalid params: ${field(e.data, 'field')}: ` +
		    `${field(e.data, 'reason')}`;
	}

	/* The path of the parameter futured refused: "argv[2]", "env.PATH". */
	get field() {
		return field(this.data, 'field') ?? null;
	}

	get reason() {
		return field(this.data, 'reason') ?? null;
	}
}

export class InternalError extends FuturedError {
	static describe(e) {
		return `futured internal error: ${field(e.data, 'reason')}`;
	}
}

/* Codes are append-only in the protocol, so this table only ever grows. */
const BY_CODE = new Map([
	[1, TaskFailed],
	[2, TaskCancelled],
	[3, TaskNotDone],
	[4, NoSuchTask],
	[5, KeyConflict],
	[6, ShuttingDown],
	[7, StoreError],
	[8, LimitExceeded],
	[12, ScheduleExists],
	[13, NoSuchSchedule],
	[-32700, ParseError],
	[-32600, InvalidRequest],
	[-32601, MethodNotFound],
	[-32602, InvalidParams],
	[-32603, InternalError],
]);

/*
 * The error class for a JSON-RPC error object; FuturedError for new codes,
 * GroupFailed for a group's ExceptionGroup naming its members' failures.
 */
export function errorFromRpc(error) {
	let Cls = BY_CODE.get(error?.code) ?? FuturedError;
	if (Cls === TaskFailed && field(field(error.data, 'exception'),
	    'type') === 'ExceptionGroup' && memberFailures(error.data).length > 0)
		Cls = GroupFailed;
	return new Cls(error);
}

export class TransportError extends Error {
	/*
	 * opts: status (the HTTP status of a refusal), reason (futured's
	 * explanation), retryAfter (seconds, with 503), timedOut, cause.
	 */
	constructor(message, opts = {}) {
		super(message, opts.cause !== undefined ? { cause: opts.cause } :
		    undefined);
		this.name = new.target.name;
		this.status = opts.status ?? null;
		this.reason = opts.reason ?? null;
		this.retryAfter = opts.retryAfter ?? null;
		this.timedOut = opts.timedOut ?? false;
	}
}

/* HTTP 401: the TCP listener wants the right bearer token. */
export class AuthenticationError extends TransportError {}

/*
 * setResult or setException of a task that had already finished (`state`
 * says how; nothing was changed), as asyncio's InvalidStateError. Not an
 * error futured answers: it answers {set: false, state}.
 */
export class InvalidStateError extends Error {
	constructor(taskId, state) {
		super(`task ${taskId} had already finished: ${state}`);
		this.name = new.target.name;
		this.taskId = taskId;
		this.state = state;
	}
}
