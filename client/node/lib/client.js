/*
 * Client: JSON-RPC 2.0 calls, notifications and batches to one futured,
 * and the asyncio-shaped helpers built on them (submit, wait, list).
 */
import { TaskNotDone, TransportError, errorFromRpc } from './errors.js';
import {
	defaultSocketPath, defaultToken, readTokenFile,
} from './paths.js';
import { POLL_MAX, deadlineOf, now, pace, pollSeconds } from './poll.js';
import { Task } from './task.js';
import { Transport } from './transport.js';

/* The methods that may wait, and so need more than the usual time. */
const LONG_POLLS = new Set(['task.result', 'task.exception', 'task.wait',
    'task.stream', 'task.output']);

const RETURN_WHEN = new Set(['ALL_COMPLETED', 'FIRST_COMPLETED',
    'FIRST_EXCEPTION']);

/* futured refuses a batch of more; so is a task.wait of more ids. */
const BATCH_MAX = 10_000;

/* Guesses a spec's kind from its fields, so {argv} alone is enough. */
function kindOf(spec) {
	if (spec.kind != null)
		return spec.kind;
	if (spec.argv != null || spec.shell != null)
		return 'exec';
	if (spec.url != null)
		return 'http';
	if (spec.seconds != null)
		return 'sleep';
	throw new TypeError('a task spec needs a kind (exec, sleep, http), or ' +
	    'argv, shell, url or seconds to tell it');
}

function toCall(c) {
	if (Array.isArray(c))
		return { method: c[0], params: c[1] ?? {}, notify: false };
	if (c == null || typeof c.method !== 'string')
		throw new TypeError('a batch call is [method, params] or ' +
		    '{method, params, notify}');
	return { method: c.method, params: c.params ?? {}, notify: !!c.notify };
}

export class Client {
	#transport;
	#nextId = 1;

	/*
	 * opts: socket (a Unix socket path) or url (http://HOST:PORT, with
	 * token or tokenFile), timeout (seconds to wait for an answer beyond
	 * the wait a long-poll asked for; default 60).
	 */
	constructor(opts = {}) {
		const { socket, url, tokenFile, timeout = 60 } = opts;
		let { token } = opts;

		if (socket != null && url != null)
			throw new TypeError('give socket or url, not both');
		if (typeof timeout !== 'number' || !(timeout > 0))
			throw new TypeError(`timeout must be seconds > 0, not ${timeout}`);
		if (url != null) {
			if (token == null && tokenFile != null)
				token = readTokenFile(tokenFile);
			if (token == null)
				token = process.env.FUTURED_TOKEN || defaultToken();
			this.url = url;
			this.socket = null;
		} else {
			this.socket = socket ?? defaultSocketPath();
			this.url = null;
		}
		this.timeout = timeout;
		this.#transport = new Transport({
			socket: this.socket, url: this.url, token,
		});
	}

	/* Where this client connects: "unix:PATH" or the URL it posts to. */
	get where() {
		return this.#transport.where;
	}

	#request(method, params) {
		return { jsonrpc: '2.0', id: this.#nextId++, method, params };
	}

	/*
	 * One call that may wait `wait` seconds in futured: the HTTP timeout
	 * is that plus the client's, so a long-poll is not cut short.
	 */
	async _call(method, params, wait, signal) {
		const answer = await this.#transport.post(
		    this.#request(method, params ?? {}),
		    { timeoutMs: (wait + this.timeout) * 1000, signal });
		if (answer == null || typeof answer !== 'object' ||
		    Array.isArray(answer))
			throw new TransportError(`futured at ${this.where} answered ` +
			    `${method} with no JSON-RPC response`);
		if (answer.error !== undefined)
			throw errorFromRpc(answer.error);
		return answer.result;
	}

	/*
	 * A raw call: resolves to the result, rejects with the FuturedError
	 * futured answered. opts.timeout (seconds) replaces the HTTP timeout.
	 */
	call(method, params = {}, { timeout, signal } = {}) {
		let wait = 0;
		if (timeout != null)
			wait = timeout - this.timeout;
		else if (LONG_POLLS.has(method))
			wait = typeof params?.timeout === 'number' ? params.timeout :
			    POLL_MAX;
		return this._call(method, params, wait, signal);
	}

	/*
	 * A JSON-RPC notification (no id): futured acts on it and answers
	 * nothing, not even an error (it logs refused ones and counts them in
	 * daemon.info's refused_notifications). Resolves once delivered.
	 */
	async notify(method, params = {}, { signal } = {}) {
		await this.#transport.post({ jsonrpc: '2.0', method, params },
		    { timeoutMs: this.timeout * 1000, signal });
	}

	/*
	 * Several calls in one request. calls: [method, params] pairs or
	 * {method, params, notify} objects. Resolves to one entry per call, in
	 * order: {ok: true, result} or {ok: false, error}; a notification's
	 * entry is {ok: true, result: undefined, notification: true}.
	 * A batch refused as a whole (over 10,000 calls) rejects.
	 */
	async batch(calls, { timeout, signal } = {}) {
		const list = Array.from(calls, toCall);
		if (list.length === 0)
			return [];
		let wait = 0;
		for (const c of list)
			if (LONG_POLLS.has(c.method) && !c.notify)
				wait = Math.max(wait, typeof c.params.timeout === 'number' ?
				    c.params.timeout : POLL_MAX);
		const payload = list.map((c) => c.notify ?
		    { jsonrpc: '2.0', method: c.method, params: c.params } :
		    this.#request(c.method, c.params));
		const answer = await this.#transport.post(payload, {
			timeoutMs: (timeout ?? wait + this.timeout) * 1000,
			signal,
		});

		if (answer != null && !Array.isArray(answer)) {
			if (answer.error !== undefined)
				throw errorFromRpc(answer.error);
			throw new TransportError(`futured at ${this.where} answered a ` +
			    `batch with no JSON-RPC response`);
		}
		const byId = new Map();
		for (const a of answer ?? [])
			byId.set(a.id, a);
		return payload.map((p) => {
			if (p.id === undefined)
				return { ok: true, result: undefined, notification: true };
			const a = byId.get(p.id);
			if (a === undefined)
				throw new TransportError(`futured's batch answer lacks ` +
				    `the answer to ${p.method} (id ${p.id})`);
			return a.error !== undefined ?
			    { ok: false, error: errorFromRpc(a.error) } :
			    { ok: true, result: a.result };
		});
	}

	/* task.submit: resolves to the Task (an existing one for a known key). */
	async submit(spec, { signal } = {}) {
		const info = await this.call('task.submit',
		    { ...spec, kind: kindOf(spec) }, { signal });
		return new Task(this, info.id, info);
	}

	/*
	 * Many submissions in one batch: one entry per spec, in order, {ok:
	 * true, task} or {ok: false, error}. Each entry stands alone: a batch
	 * is not a transaction.
	 */
	async submitMany(specs, opts = {}) {
		const entries = await this.batch(Array.from(specs, (s) =>
		    ['task.submit', { ...s, kind: kindOf(s) }]), opts);
		return entries.map((e) => e.ok ?
		    { ok: true, task: new Task(this, e.result.id, e.result) } :
		    { ok: false, error: e.error });
	}

	/* A handle on an existing task; nothing is asked of futured. */
	task(id) {
		return new Task(this, id);
	}

	get(id, opts) {
		return this.task(id).get(opts);
	}

	cancel(id, opts) {
		return this.task(id).cancel(opts);
	}

	/* task.result / task.exception, called again until the caller's timeout. */
	async _pollFuture(method, id, timeout, signal) {
		const deadline = deadlineOf(timeout);
		for (;;) {
			const asked = pollSeconds(deadline);
			const started = now();
			try {
				return await this._call(method, { id, timeout: asked },
				    asked, signal);
			} catch (err) {
				if (!(err instanceof TaskNotDone) || now() >= deadline)
					throw err;
			}
			await pace(started, asked, signal);
		}
	}

	/*
	 * asyncio.wait: tasks (Task objects or ids) until returnWhen is met or
	 * timeout seconds pass (undefined: no limit). Resolves to {done,
	 * pending}, each a Task array in the order given.
	 */
	async wait(tasks, { returnWhen = 'ALL_COMPLETED', timeout, signal } = {}) {
		if (!RETURN_WHEN.has(returnWhen))
			throw new TypeError(`returnWhen must be ALL_COMPLETED, ` +
			    `FIRST_COMPLETED or FIRST_EXCEPTION, not ${returnWhen}`);
		const byId = new Map();
		for (const t of tasks) {
			const task = t instanceof Task ? t : this.task(t);
			// asyncio.wait takes a set; futured refuses duplicate ids.
			if (!byId.has(task.id))
				byId.set(task.id, task);
		}
		if (byId.size > BATCH_MAX)
			throw new RangeError(`task.wait takes at most ${BATCH_MAX} ` +
			    `tasks, not ${byId.size}`);
		const deadline = deadlineOf(timeout);
		const done = new Set();
		let pending = [...byId.keys()];

		while (pending.length > 0) {
			const asked = pollSeconds(deadline);
			const started = now();
			const r = await this._call('task.wait', {
				ids: pending, return_when: returnWhen, timeout: asked,
			}, asked, signal);
			r.done.forEach((id) => done.add(id));
			pending = r.pending;
			if (pending.length === 0 || now() >= deadline)
				break;
			if (returnWhen === 'FIRST_COMPLETED' && done.size > 0)
				break;
			/*
			 * futured's answer looks the same whether a task failed or
			 * its wait reached the cap: only the states of the tasks that
			 * just finished tell.
			 */
			if (returnWhen === 'FIRST_EXCEPTION' && r.done.length > 0 &&
			    await this.#anyFailed(r.done, signal))
				break;
			if (r.done.length === 0)
				await pace(started, asked, signal);
		}
		const split = { done: [], pending: [] };
		for (const [id, task] of byId)
			(done.has(id) ? split.done : split.pending).push(task);
		return split;
	}

	async #anyFailed(ids, signal) {
		const entries = await this.batch(ids.map((id) =>
		    ['task.get', { id }]), { signal });
		return entries.some((e) => {
			if (!e.ok)
				throw e.error;
			return e.result.state === 'failed';
		});
	}

	/* One page of task.list: {tasks, next}. */
	listPage(params = {}, { signal } = {}) {
		return this.call('task.list', params, { signal });
	}

	/*
	 * Every task matching filter ({state, queue, label, unretrieved,
	 * limit: the page size}), newest first, page after page.
	 */
	async *list(filter = {}, { signal } = {}) {
		const params = { ...filter };
		delete params.cursor;
		for (;;) {
			const page = await this.listPage(params, { signal });
			yield* page.tasks;
			if (page.next == null)
				return;
			params.cursor = page.next;
		}
	}

	/* queue.list: [{name, concurrency, paused, running, waiting}]. */
	async listQueues({ signal } = {}) {
		return (await this.call('queue.list', {}, { signal })).queues;
	}

	/* queue.set: settings {concurrency?, paused?}; resolves to the queue. */
	setQueue(name, settings = {}, { signal } = {}) {
		return this.call('queue.set', { ...settings, name }, { signal });
	}

	info({ signal } = {}) {
		return this.call('daemon.info', {}, { signal });
	}

	discover({ signal } = {}) {
		return this.call('rpc.discover', {}, { signal });
	}

	/* Closes the kept-alive connections; calls in flight are cut off. */
	close() {
		this.#transport.close();
	}
}
