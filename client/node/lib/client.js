/*
 * Client: JSON-RPC 2.0 calls, notifications and batches to one futured,
 * and the asyncio-shaped helpers built on them (submit, wait, list).
 */
import {
	InvalidStateError, MethodNotFound, TaskNotDone, TransportError,
	errorFromRpc,
} from './errors.js';
import {
	defaultParent, defaultSocketPath, defaultToken, defaultUrl,
	readTokenFile,
} from './paths.js';
import { POLL_MAX, deadlineOf, now, pace, pollSeconds } from './poll.js';
import { Task, TaskGroup } from './task.js';
import { Transport } from './transport.js';

/* The methods that may wait, and so need more than the usual time. */
const LONG_POLLS = new Set(['task.result', 'task.exception', 'task.wait',
    'task.as_completed', 'task.stream', 'task.output']);

const RETURN_WHEN = new Set(['ALL_COMPLETED', 'FIRST_COMPLETED',
    'FIRST_EXCEPTION']);

/* futured refuses a batch of more; so is a task.wait of more ids. */
const BATCH_MAX = 10_000;

/*
 * asCompleted({group}): a long-poll learns only of the members there were
 * when it was made, so a member that joins is seen within this long.
 */
const GROUP_TICK = 1;

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
	throw new TypeError('a task spec needs a kind (exec, sleep, http, ' +
	    'future, group), or argv, shell, url or seconds to tell it');
}

/*
 * task.submit's params: the kind told, the parent an id. parent undefined
 * is the task this process runs in ($FUTURED_TASK_ID), null none.
 */
function submitParams(spec) {
	const params = { ...spec, kind: kindOf(spec) };
	const parent = spec.parent === undefined ? defaultParent() : spec.parent;
	if (parent == null)
		delete params.parent;
	else
		params.parent = parent instanceof Task ? parent.id : parent;
	return params;
}

/*
 * A schedule's task: task.submit's params for each firing, the kind
 * guessed as submit guesses it. No default parent: $FUTURED_TASK_ID is
 * the process making the schedule, not its firings (futured refuses
 * parent, key, delay, not_before and after in it: each firing sets them).
 */
function scheduleTask(spec) {
	if (spec == null || typeof spec !== 'object')
		throw new TypeError('a schedule needs its task: task.submit\'s ' +
		    'params ({argv}, {shell}, {seconds}, {url}...)');
	const params = { ...spec, kind: kindOf(spec) };
	if (params.parent === undefined)
		delete params.parent;
	else if (params.parent instanceof Task)
		params.parent = params.parent.id;
	return params;
}

/* schedule.create or schedule.update's params; a task in them converted. */
function scheduleParams(name, schedule) {
	const params = { ...schedule, name };
	if (schedule.task !== undefined)
		params.task = scheduleTask(schedule.task);
	return params;
}

/* What asCompleted({group}) says when its timeout passes first. */
function groupUnfinished(id, left, ended) {
	return new TaskNotDone({ code: 3, message: `group ${id}: ${left} ` +
	    `members unfinished${ended ? '' : ', open'}`,
	    data: { state: null } });
}

/* The state after task.set_result or task.set_exception; a task that had
 * finished before (set false) is an InvalidStateError. */
function settled(task, r) {
	task._learn(r.state);
	if (!r.set)
		throw new InvalidStateError(task.id, r.state);
	return r.state;
}

/* A TaskNotDone of our own: several tasks unfinished at the timeout. */
function unfinished(left, total) {
	return new TaskNotDone({ code: 3, message: `${left} (of ${total}) ` +
	    `tasks unfinished`, data: { state: null } });
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
	 * the wait a long-poll asked for; default 60). Neither socket nor url:
	 * $FUTURED_SOCKET, else $FUTURED_URL (with the token as for url),
	 * else the default socket.
	 */
	constructor(opts = {}) {
		const { socket, tokenFile, timeout = 60 } = opts;
		let { url, token } = opts;

		if (socket != null && url != null)
			throw new TypeError('give socket or url, not both');
		if (typeof timeout !== 'number' || !(timeout > 0))
			throw new TypeError(`timeout must be seconds > 0, not ${timeout}`);
		if (socket == null && url == null)
			url = defaultUrl();
		if (url != null) {
			if (token == null && tokenFile != null)
				token = readTokenFile(tokenFile);
			if (token == null)
				token = process.env.FUTURED_TOKEN?.trim() || defaultToken();
			// A line break would end the header early; Node's own check
			// would fail each call instead of this one.
			if (token != null && /[\x00-\x1f\x7f]/.test(token))
				throw new TypeError('the token holds a control character');
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
	/*
	 * spec.parent: the task (or group, a Task or an id) the new one is a
	 * child of; undefined (the default) is the task this process runs in
	 * when futured started it ($FUTURED_TASK_ID), else none; null is none.
	 * spec.child_policy: wait (default), cancel or abandon.
	 */
	async submit(spec, { signal } = {}) {
		const info = await this.call('task.submit', submitParams(spec),
		    { signal });
		return new Task(this, info.id, info);
	}

	/*
	 * Many submissions in one batch: one entry per spec, in order, {ok:
	 * true, task} or {ok: false, error}. Each entry stands alone: a batch
	 * is not a transaction.
	 */
	async submitMany(specs, opts = {}) {
		const entries = await this.batch(Array.from(specs, (s) =>
		    ['task.submit', submitParams(s)]), opts);
		return entries.map((e) => e.ok ?
		    { ok: true, task: new Task(this, e.result.id, e.result) } :
		    { ok: false, error: e.error });
	}

	/*
	 * A task of kind future (asyncio's loop.create_future(), made
	 * durable): nothing runs it; it waits until setResult, setException
	 * or cancel (from any client) or its timeout ends it. common: the
	 * common fields (timeout, key, after, labels, queue...).
	 */
	createFuture(common = {}, opts = {}) {
		return this.submit({ ...common, kind: 'future' }, opts);
	}

	/*
	 * A task of kind group (asyncio's TaskGroup, or with return_exceptions
	 * gather, made durable): nothing runs it; its members are the tasks
	 * submitted with parent set to it until closeGroup closes it, and it
	 * ends once closed and every member has. Its result is [{id, state,
	 * result | exception}] in id order; without return_exceptions the
	 * first member that fails cancels the others and result() rejects
	 * with GroupFailed. spec: return_exceptions and the common fields.
	 */
	createGroup(spec = {}, opts = {}) {
		if (spec.kind != null && spec.kind !== 'group')
			throw new TypeError(`createGroup makes the kind group, ` +
			    `not ${spec.kind}`);
		return this.submit({ ...spec, kind: 'group' }, opts);
	}

	/*
	 * task.close: no member joins the group any more, and it ends once
	 * every member has. Resolves to false when it was closed or had
	 * finished before. (close() closes this client's connections.)
	 */
	async closeGroup(task, { signal } = {}) {
		const t = this.#taskOf(task);
		const r = await this.call('task.close', { id: t.id }, { signal });
		t._learn(r.state);
		return r.closed;
	}

	/*
	 * asyncio.TaskGroup over a durable group: makes a group (spec as for
	 * createGroup), runs body(g) with it as a TaskGroup (whose submit,
	 * createFuture and createGroup make members), then closes it and
	 * resolves to its result once it has ended; rejects with GroupFailed
	 * when a member failed (unless return_exceptions). When body throws,
	 * the group is cancelled, its members with it, and the error goes on
	 * (futured refusing a member because the group failed meanwhile
	 * becomes that GroupFailed); signal aborting the wait cancels it too.
	 */
	async taskGroup(body, spec = {}, { signal } = {}) {
		const info = (await this.createGroup(spec, { signal })).info;
		const group = new TaskGroup(this, info.id, info);
		try {
			await body(group);
		} catch (err) {
			await group._abort(err);
			throw err;
		}
		return group._finish(signal);
	}

	/* A handle on an existing task; nothing is asked of futured. */
	task(id) {
		return new Task(this, id);
	}

	#taskOf(t) {
		return t instanceof Task ? t : this.task(t);
	}

	get(id, opts) {
		return this.task(id).get(opts);
	}

	/* task (a Task or an id); opts {message, signal}: see Task.cancel. */
	cancel(task, opts) {
		return this.#taskOf(task).cancel(opts);
	}

	/*
	 * Completes a future (a Task or id of kind future) with the result
	 * value (any JSON), as Future.set_result: resolves to its state,
	 * "succeeded". Rejects with InvalidStateError when it had already
	 * finished (nothing changed), InvalidParams when it is of another kind.
	 */
	async setResult(task, value, { signal } = {}) {
		const t = this.#taskOf(task);
		return settled(t, await this.call('task.set_result',
		    { id: t.id, result: value }, { signal }));
	}

	/*
	 * Completes a future with a failure, as Future.set_exception: its
	 * exception is {type, message} plus the members of data. message may
	 * be an Error (its message, and its name as the type). type defaults
	 * to "Exception" (1-64 of [A-Za-z0-9._]). Resolves to the state:
	 * "failed", or "pending"/"running" when it has retries left and waits
	 * again; InvalidStateError when it had already finished.
	 */
	async setException(task, message, { type, data, signal } = {}) {
		const t = this.#taskOf(task);
		if (message instanceof Error) {
			type ??= message.name;
			message = message.message;
		}
		if (typeof message !== 'string')
			throw new TypeError(`message must be a string or an Error, ` +
			    `not ${message}`);
		const params = { id: t.id, type: type ?? 'Exception', message };
		if (data != null)
			params.data = data;
		return settled(t, await this.call('task.set_exception', params,
		    { signal }));
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
		const byId = this.#unique(tasks, 'task.wait');
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

	/* id -> Task, each id once (futured refuses duplicates), in order. */
	#unique(tasks, method) {
		const byId = new Map();
		for (const t of tasks) {
			const task = this.#taskOf(t);
			if (!byId.has(task.id))
				byId.set(task.id, task);
		}
		if (byId.size > BATCH_MAX)
			throw new RangeError(`${method} takes at most ${BATCH_MAX} ` +
			    `tasks, not ${byId.size}`);
		return byId;
	}

	/*
	 * asyncio.as_completed: the tasks (Task objects or ids; Tasks are
	 * yielded) as they finish, in the order they finish (those finished
	 * already first, in the order given), each once: task.as_completed
	 * long-polls with the cursor of the last answer. A Task yielded knows
	 * its finalState. Throws TaskNotDone when timeout seconds pass first.
	 * asCompleted({group}): a group's members (any task's children), as
	 * Tasks, members joining meanwhile too, until the group has ended.
	 */
	async *asCompleted(tasks, opts = {}) {
		if (tasks != null && typeof tasks[Symbol.iterator] !== 'function') {
			opts = tasks;
			tasks = null;
		}
		const { timeout, signal, group } = opts;
		if ((tasks == null) === (group == null))
			throw new TypeError('asCompleted takes tasks or {group}, ' +
			    'one of them');
		if (group != null) {
			yield* this.#asCompletedGroup(this.#taskOf(group).id,
			    deadlineOf(timeout), signal);
			return;
		}
		const byId = this.#unique(tasks, 'task.as_completed');
		const deadline = deadlineOf(timeout);
		const ids = [...byId.keys()];
		const params = { ids };
		const yielded = new Set();
		let remaining = ids.length;

		while (remaining > 0) {
			params.timeout = pollSeconds(deadline);
			const started = now();
			let r;
			try {
				r = await this._call('task.as_completed', params,
				    params.timeout, signal);
			} catch (err) {
				if (!(err instanceof MethodNotFound) || 'cursor' in params)
					throw err;
				// a futured older than task.as_completed
				yield* this.#asCompletedByWait(byId, deadline, signal);
				return;
			}
			params.cursor = r.cursor;
			remaining = r.remaining;
			// each once, even from an answer that repeated one
			const fresh = r.done.filter(({ id }) => byId.has(id) &&
			    !yielded.has(id));
			for (const { id, state } of fresh) {
				const task = byId.get(id);
				yielded.add(id);
				task._learn(state);
				yield task;
			}
			if (remaining > 0 && fresh.length === 0) {
				if (now() >= deadline)
					throw unfinished(remaining, ids.length);
				await pace(started, params.timeout, signal);
			}
		}
	}

	/*
	 * The members of group gid as they finish. All handed back (remaining
	 * 0) ends it only once the group can take no more: it has ended, and
	 * a call made since said so; until then the group is waited for a
	 * tick at a time, members joining meanwhile.
	 */
	async *#asCompletedGroup(gid, deadline, signal) {
		const params = { group: gid };
		const yielded = new Set();
		let ended = false;

		for (;;) {
			params.timeout = Math.min(pollSeconds(deadline), GROUP_TICK);
			const started = now();
			const r = await this._call('task.as_completed', params,
			    params.timeout, signal);
			params.cursor = r.cursor;
			const fresh = r.done.filter(({ id }) => !yielded.has(id));
			for (const { id, state } of fresh) {
				const task = this.task(id);
				yielded.add(id);
				task._learn(state);
				yield task;
			}
			if (r.remaining === 0 && ended)
				return;
			if (r.remaining === 0) {
				const asked = Math.min(pollSeconds(deadline), GROUP_TICK);
				ended = (await this._call('task.wait', { ids: [gid],
				    timeout: asked }, asked, signal)).done.length > 0;
			}
			if (now() >= deadline && !(r.remaining === 0 && ended))
				throw groupUnfinished(gid, r.remaining, ended);
			if (r.remaining > 0 && fresh.length === 0)
				await pace(started, params.timeout, signal);
		}
	}

	/* asCompleted over task.wait: those done after each wait, in order. */
	async *#asCompletedByWait(byId, deadline, signal) {
		let pending = [...byId.values()];
		while (pending.length > 0) {
			const timeout = deadline === Infinity ? undefined :
			    Math.max(0, deadline - now());
			const r = await this.wait(pending, {
				returnWhen: 'FIRST_COMPLETED', timeout, signal,
			});
			if (r.done.length === 0)
				throw unfinished(pending.length, byId.size);
			yield* r.done;
			pending = r.pending;
		}
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
	 * parent: a Task or id, 0 for tasks without one; limit: the page
	 * size}), newest first, page after page.
	 */
	async *list(filter = {}, { signal } = {}) {
		const params = { ...filter };
		delete params.cursor;
		if (params.parent instanceof Task)
			params.parent = params.parent.id;
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

	/*
	 * rate.set: makes (or changes, at once) the token bucket name:
	 * settings {starts, per? (seconds, default 1), burst? (default 1)}.
	 * Each start of a task submitted with rate_limit: name takes a token
	 * (with rate_key, from that key's bucket). Resolves to {name, starts,
	 * per, burst}.
	 */
	setRateLimit(name, settings = {}, { signal } = {}) {
		return this.call('rate.set', { ...settings, name }, { signal });
	}

	/*
	 * rate.list: {rate_limits: [{name, starts, per, burst}], waiting},
	 * waiting the ready tasks held back now by a concurrency key or a
	 * rate limit (task.get's waiting_for says which).
	 */
	listRateLimits({ signal } = {}) {
		return this.call('rate.list', {}, { signal });
	}

	/*
	 * rate.delete: the tasks waiting for its tokens start. InvalidParams
	 * for an unknown name. Resolves to undefined.
	 */
	async deleteRateLimit(name, { signal } = {}) {
		await this.call('rate.delete', { name }, { signal });
	}

	/*
	 * schedule.create: a durable, named recipe that submits a task at each
	 * firing. schedule: {cron, tz?} or {every} (seconds), start_at?,
	 * end_at?, jitter?, overlap? ('skip', 'buffer_one', 'allow_all',
	 * 'cancel_other'), catchup? ('latest', 'all'), catchup_window?,
	 * paused?, and task: a spec as for submit (no key, delay, not_before,
	 * after or parent: each firing sets them). Resolves to the schedule;
	 * ScheduleExists when the name is taken.
	 */
	createSchedule(name, schedule, { signal } = {}) {
		if (schedule?.task === undefined)
			throw new TypeError('createSchedule needs schedule.task');
		return this.call('schedule.create', scheduleParams(name, schedule),
		    { signal });
	}

	/* schedule.get: the schedule; NoSuchSchedule when there is none. */
	getSchedule(name, { signal } = {}) {
		return this.call('schedule.get', { name }, { signal });
	}

	/* schedule.list: the schedules by name; filter {paused?}. */
	async listSchedules(filter = {}, { signal } = {}) {
		return (await this.call('schedule.list', { ...filter },
		    { signal })).schedules;
	}

	/*
	 * schedule.update: changes any of createSchedule's fields (task
	 * replaces the task); the rest stays. null clears start_at, end_at.
	 */
	updateSchedule(name, changes = {}, { signal } = {}) {
		return this.call('schedule.update', scheduleParams(name, changes),
		    { signal });
	}

	/* schedule.delete: the tasks it made stay. Resolves to undefined. */
	async deleteSchedule(name, { signal } = {}) {
		await this.call('schedule.delete', { name }, { signal });
	}

	/* schedule.pause: it fires nothing until resumed; the schedule. */
	pauseSchedule(name, { signal } = {}) {
		return this.call('schedule.pause', { name }, { signal });
	}

	/* schedule.resume: its next firing is computed from now. */
	resumeSchedule(name, { signal } = {}) {
		return this.call('schedule.resume', { name }, { signal });
	}

	/*
	 * schedule.trigger: fires it now, paused or not, under its overlap
	 * policy or overlap. Resolves to {outcome, task, scheduled_at}:
	 * outcome 'fired' with task the new task's id (client.task(r.task)),
	 * or 'skipped' or 'buffered' with task null.
	 */
	triggerSchedule(name, { overlap, signal } = {}) {
		return this.call('schedule.trigger', overlap == null ? { name } :
		    { name, overlap }, { signal });
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
