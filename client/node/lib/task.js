/*
 * Task: a handle on one of futured's futures, by id. It holds no state of
 * its own beyond the last task object seen and, once an answer told it,
 * the final state (which never changes): every question goes to the
 * daemon, so handles made by different clients (or processes) agree.
 */
import { TaskFailed } from './errors.js';
import { POLL_MAX, anySignal, merge, now, pace } from './poll.js';

const STREAMS = new Set(['stdout', 'stderr', 'both']);
const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

export class Task {
	constructor(client, id, info = null) {
		if (!Number.isSafeInteger(id) || id < 1)
			throw new TypeError(`a task id is an integer from 1 to ` +
			    `2^53-1, not ${id}`);
		this.client = client;
		this.id = id;
		// The task object of the last submit or get(): a snapshot.
		this.info = info;
		// succeeded, failed or cancelled once known, else null
		this.finalState = null;
		this._learn(info?.state);
	}

	/* Keeps a state an answer gave when it is final. */
	_learn(state) {
		if (FINAL.has(state))
			this.finalState = state;
	}

	async get({ signal } = {}) {
		this.info = await this.client.call('task.get', { id: this.id },
		    { signal });
		this._learn(this.info?.state);
		return this.info;
	}

	/*
	 * The result, waiting up to timeout seconds (undefined or null: as
	 * long as it takes). Rejects with TaskFailed (carrying the exception),
	 * TaskCancelled, or TaskNotDone when the timeout passes first.
	 */
	result({ timeout, signal } = {}) {
		return this.client._pollFuture('task.result', this.id, timeout,
		    signal);
	}

	/*
	 * The exception object, or null when the task succeeded; waits as
	 * result() does. futured then counts the exception as retrieved.
	 */
	exception({ timeout, signal } = {}) {
		return this.client._pollFuture('task.exception', this.id, timeout,
		    signal);
	}

	/* Whether the task has finished, in whatever state. */
	async done({ signal } = {}) {
		const r = await this.client.call('task.wait',
		    { ids: [this.id], timeout: 0 }, { signal });
		return r.done.length === 1;
	}

	async cancelled({ signal } = {}) {
		return (await this.get({ signal })).state === 'cancelled';
	}

	/*
	 * Resolves to true once cancelled here; false when already finished.
	 * message (at most 1,024 bytes, asyncio's cancel(msg)) is kept: the
	 * task's exception is then {type: "CancelledError", message}, and its
	 * TaskCancelled has it as cancelMessage.
	 */
	async cancel({ message, signal } = {}) {
		const params = { id: this.id };
		if (message != null)
			params.message = message;
		const r = await this.client.call('task.cancel', params, { signal });
		if (r.cancelled)
			this._learn('cancelled');
		return r.cancelled;
	}

	/* Completes this future with value: see Client.setResult. */
	setResult(value, opts) {
		return this.client.setResult(this, value, opts);
	}

	/* Completes this future with a failure: see Client.setException. */
	setException(message, opts) {
		return this.client.setException(this, message, opts);
	}

	/* Closes this group: see Client.closeGroup. */
	close(opts) {
		return this.client.closeGroup(this, opts);
	}

	/* The tasks whose parent this one is (a group's members), newest first. */
	async *children({ signal } = {}) {
		for await (const info of this.client.list({ parent: this.id },
		    { signal }))
			yield new Task(this.client, info.id, info);
	}

	/* Waits for the task to finish: true when it has, false on timeout. */
	async wait({ timeout, signal } = {}) {
		const { done } = await this.client.wait([this], { timeout, signal });
		return done.length === 1;
	}

	/*
	 * The task's stdout or stderr ('both': the two interleaved as they
	 * come), as {stream, data, offset} chunks while it runs, until it has
	 * finished and all is read.
	 */
	outputStream({ stream = 'stdout', offset = 0, limit, signal } = {}) {
		if (!STREAMS.has(stream))
			throw new TypeError(`stream must be stdout, stderr or both, ` +
			    `not ${stream}`);
		/*
		 * futured ends a read before a UTF-8 sequence it would cut, and
		 * answers a limit below one sequence with no data, forever.
		 */
		if (limit != null && !(Number.isInteger(limit) && limit >= 4))
			throw new RangeError(`limit must be at least 4 bytes (one ` +
			    `UTF-8 sequence), not ${limit}`);
		if (stream !== 'both')
			return this.#output(stream, offset, limit, signal);
		const ctl = new AbortController();
		const [both, release] = anySignal([signal, ctl.signal]);
		return merge([
			this.#output('stdout', offset, limit, both),
			this.#output('stderr', offset, limit, both),
		], () => {
			ctl.abort();
			release();
		});
	}

	async *#output(stream, offset, limit, signal) {
		const params = { id: this.id, stream, offset, timeout: POLL_MAX };
		if (limit != null)
			params.limit = limit;
		for (;;) {
			const started = now();
			const r = await this.client._call('task.output', params,
			    POLL_MAX, signal);
			if (r.data !== '')
				yield { stream, data: r.data, offset: params.offset };
			if (r.eof)
				return;
			if (r.data === '' && r.next === params.offset)
				await pace(started, POLL_MAX, signal);
			params.offset = r.next;
		}
	}

	/* All of stdout or stderr, once the task has finished. */
	async output({ stream = 'stdout', signal } = {}) {
		if (stream !== 'stdout' && stream !== 'stderr')
			throw new TypeError(`stream must be stdout or stderr, ` +
			    `not ${stream}`);
		let text = '';
		for await (const chunk of this.outputStream({ stream, signal }))
			text += chunk.data;
		return text;
	}

	/*
	 * The items the task yields (lines of JSON on its fd 3), as they come:
	 * {seq, value}, or {seq, error} for a line that is not JSON. Ends once
	 * the task has finished and every item is read. The iterator's
	 * `overflow` turns true when futured reports it dropped items.
	 */
	stream({ from = 0, signal } = {}) {
		const client = this.client;
		const params = { id: this.id, from, timeout: POLL_MAX };
		const it = (async function* items() {
			for (;;) {
				const started = now();
				const r = await client._call('task.stream', params,
				    POLL_MAX, signal);
				if (r.overflow)
					it.overflow = true;
				yield* r.items;
				params.from = r.next;
				if (r.done)
					return;
				if (r.items.length === 0)
					await pace(started, POLL_MAX, signal);
			}
		})();
		it.overflow = false;
		return it;
	}

	toJSON() {
		return { id: this.id };
	}

	toString() {
		return `Task(${this.id})`;
	}
}

/* A member's spec: its parent is the group. */
function memberSpec(group, spec) {
	if (spec.parent !== undefined)
		throw new TypeError('a member\'s parent is its group');
	return { ...spec, parent: group.id };
}

/* What a task group's cancel says (within task.cancel's 1,024 bytes). */
function cancelMessage(err) {
	let text = `taskGroup: the body threw ${err?.name ?? typeof err}` +
	    (err?.message ? `: ${err.message}` : '');
	while (Buffer.byteLength(text) > 1024)
		text = text.slice(0, -1);
	return text;
}

/*
 * futured refusing a member of group gid because it is closed (a member's
 * failure closes it) or has finished: -32602 on parent, naming it.
 */
function refusedBy(err, gid) {
	return err?.code === -32602 && err.data?.field === 'parent' &&
	    new RegExp(`\\b${gid}\\b`).test(String(err.data?.reason));
}

/*
 * The group of Client.taskGroup: a Task (its result is the group's) whose
 * submit, createFuture and createGroup make members (parent the group).
 */
export class TaskGroup extends Task {
	/* A member: Client.submit with parent this group. */
	submit(spec, opts) {
		return this.client.submit(memberSpec(this, spec), opts);
	}

	/* A member of kind future. */
	createFuture(common = {}, opts) {
		return this.client.createFuture(memberSpec(this, common), opts);
	}

	/* A member that is a group. */
	createGroup(spec = {}, opts) {
		return this.client.createGroup(memberSpec(this, spec), opts);
	}

	/* The members as they finish: Client.asCompleted({group}). */
	asCompleted(opts = {}) {
		return this.client.asCompleted({ ...opts, group: this });
	}

	/*
	 * The body threw err: the group is cancelled, its members with it.
	 * When err is futured refusing a member because the group failed
	 * meanwhile, that failure is thrown instead (err its cause), once the
	 * group has ended, as at the end of the body.
	 */
	async _abort(err) {
		if (refusedBy(err, this.id)) {
			const failure = await this.result().then(() => null,
			    (e) => e instanceof TaskFailed ? e : null);
			if (failure !== null) {
				failure.cause ??= err;
				throw failure;
			}
		}
		await this.cancel({ message: cancelMessage(err) }).catch(() => {});
	}

	/* The body ended: close the group, wait for its end; an abort cancels it. */
	async _finish(signal) {
		await this.close({ signal });
		try {
			return await this.result({ signal });
		} catch (err) {
			if (signal?.aborted)
				await this.cancel({ message: cancelMessage(err) })
				    .catch(() => {});
			throw err;
		}
	}
}
