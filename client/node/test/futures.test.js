/*
 * Futures on a real futured: results, exceptions, cancel, wait, the typed
 * errors. The daemon caps long-polls at 2 s so that every wait longer than
 * that has to be called again by the client, as against a busy daemon.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import {
	Client, FuturedError, InvalidParams, KeyConflict, MethodNotFound,
	NoSuchTask, Task, TaskCancelled, TaskFailed, TaskNotDone,
} from '../index.js';
import { startDaemon } from './helpers/daemon.js';

let daemon;
let client;

before(async () => {
	daemon = await startDaemon(['--max-wait', '2', '--drain', '0',
	    '--kill-grace', '1']);
	client = new Client({ socket: daemon.socket });
});

after(async () => {
	client?.close();
	await daemon?.stop();
});

/* A shell command that blocks until the test creates the file $GATE. */
const AWAIT_GATE = 'while [ ! -e "$GATE" ]; do sleep 0.05; done';

let gates = 0;
function gate() {
	const path = join(daemon.dir, `gate-${++gates}`);
	return { env: { GATE: path }, open: () => writeFileSync(path, '') };
}

describe('results', () => {
	test('an exec task answers its result', async () => {
		const t = await client.submit({ argv: ['sh', '-c', 'echo hi'] });
		assert.ok(t instanceof Task);
		assert.equal(t.info.kind, 'exec');
		const r = await t.result();
		assert.equal(r.stdout, 'hi\n');
		assert.equal(r.exit_code, 0);
		assert.equal(await t.done(), true);
		assert.equal(await t.exception(), null);
		assert.equal((await t.get()).state, 'succeeded');
	});

	test('sleep and shell kinds, kind given or guessed', async () => {
		const s = await client.submit({ kind: 'sleep', seconds: 0,
		    result: { x: [1, 2] } });
		assert.deepEqual(await s.result(), { x: [1, 2] });
		const sh = await client.submit({ shell: 'printf "%s" "$A"',
		    env: { A: 'from env' } });
		assert.equal((await sh.result()).stdout, 'from env');
	});

	test('a failing task rejects with TaskFailed and its exception',
	    async () => {
		const t = await client.submit({ argv: ['python3', '-c',
		    'raise ValueError("boom")'] });
		const err = await t.result().then(() => null, (e) => e);
		assert.ok(err instanceof TaskFailed, String(err));
		assert.ok(err instanceof FuturedError);
		assert.equal(err.code, 1);
		assert.equal(err.taskId, t.id);
		assert.equal(err.exception.type, 'ProcessError');
		assert.equal(err.exception.exit_code, 1);
		assert.match(err.exception.stderr_tail, /ValueError: boom/);
		assert.match(err.message, /ValueError: boom/);

		const ex = await t.exception();
		assert.equal(ex.type, 'ProcessError');
		assert.equal((await t.get()).retrieved, true);
	});

	test('exit status and a missing program', async () => {
		const t = await client.submit({ shell: 'echo out; exit 3' });
		await assert.rejects(t.result(), (e) => e instanceof TaskFailed &&
		    e.exception.exit_code === 3 && e.exception.stdout === 'out\n');
		const m = await client.submit({ argv: ['/nonexistent/program'] });
		await assert.rejects(m.result(), (e) => e instanceof TaskFailed &&
		    e.exception.type === 'SpawnError');
	});

	test('result times out with TaskNotDone, across capped polls',
	    async () => {
		const t = await client.submit({ kind: 'sleep', seconds: 3600 });
		await assert.rejects(t.result({ timeout: 0 }), (e) =>
		    e instanceof TaskNotDone && e.state === 'running' &&
		    e.taskId === t.id);
		// Longer than the daemon's 2 s cap: the client asks again.
		await assert.rejects(t.exception({ timeout: 2.5 }), TaskNotDone);
		assert.equal(await t.wait({ timeout: 0.1 }), false);
		assert.equal(await t.cancel(), true);
	});

	test('an AbortSignal ends a wait', async () => {
		const t = await client.submit({ kind: 'sleep', seconds: 3600 });
		const ctl = new AbortController();
		const r = t.result({ signal: ctl.signal });
		ctl.abort();
		await assert.rejects(r, { name: 'AbortError' });
		assert.equal(await t.cancel(), true);
	});

	test('result waits past the cap for a task that ends later',
	    async () => {
		const g = gate();
		const t = await client.submit({ shell: `${AWAIT_GATE}; echo late`,
		    env: g.env });
		const r = t.result();
		// Beyond the 2 s cap, so at least one poll comes back empty.
		await sleep(2500);
		g.open();
		assert.equal((await r).stdout, 'late\n');
	});
});

describe('cancel', () => {
	test('a running exec task is cancelled once', async () => {
		const t = await client.submit({ argv: ['sleep', '1000'] });
		assert.equal(await t.cancel(), true);
		await assert.rejects(t.result(), (e) => e instanceof TaskCancelled &&
		    e.code === 2 && e.taskId === t.id);
		await assert.rejects(t.exception(), TaskCancelled);
		assert.equal(await t.cancel(), false);
		assert.equal(await t.cancelled(), true);
		assert.equal((await client.get(t.id)).state, 'cancelled');
	});

	test('a finished task is not cancelled', async () => {
		const t = await client.submit({ kind: 'sleep', seconds: 0 });
		await t.result();
		assert.equal(await client.cancel(t.id), false);
		assert.equal(await t.cancelled(), false);
	});
});

describe('wait', () => {
	test('FIRST_COMPLETED returns the finished one', async () => {
		const slow = await client.submit({ kind: 'sleep', seconds: 3600 });
		const fast = await client.submit({ kind: 'sleep', seconds: 0 });
		const { done, pending } = await client.wait([slow, fast],
		    { returnWhen: 'FIRST_COMPLETED' });
		assert.deepEqual(done.map((t) => t.id), [fast.id]);
		assert.deepEqual(pending.map((t) => t.id), [slow.id]);
		// The Task objects given are the ones handed back.
		assert.equal(done[0], fast);
		await slow.cancel();
	});

	test('ALL_COMPLETED by ids, and a timeout leaves tasks pending',
	    async () => {
		const a = await client.submit({ kind: 'sleep', seconds: 0 });
		const b = await client.submit({ argv: ['true'] });
		const all = await client.wait([b.id, a.id, a.id]);
		assert.deepEqual(all.done.map((t) => t.id), [b.id, a.id]);
		assert.deepEqual(all.pending, []);

		const c = await client.submit({ kind: 'sleep', seconds: 3600 });
		const some = await client.wait([a, c], { timeout: 0.5 });
		assert.deepEqual(some.done.map((t) => t.id), [a.id]);
		assert.deepEqual(some.pending.map((t) => t.id), [c.id]);
		await c.cancel();
	});

	test('FIRST_EXCEPTION waits past successes and capped polls',
	    async () => {
		const ok = await client.submit({ kind: 'sleep', seconds: 0 });
		await ok.result();
		const g = gate();
		const bad = await client.submit({ shell: `${AWAIT_GATE}; exit 4`,
		    env: g.env });
		const slow = await client.submit({ kind: 'sleep', seconds: 3600 });
		const w = client.wait([ok, bad, slow],
		    { returnWhen: 'FIRST_EXCEPTION' });
		// Past the 2 s cap: an answer with only `ok` done must not end it.
		await sleep(2500);
		g.open();
		const { done, pending } = await w;
		assert.deepEqual(done.map((t) => t.id), [ok.id, bad.id]);
		assert.deepEqual(pending.map((t) => t.id), [slow.id]);
		await slow.cancel();
		await assert.rejects(bad.result(), TaskFailed);
	});
});

describe('errors', () => {
	test('NoSuchTask for an unknown id', async () => {
		const err = await client.get(999999).then(() => null, (e) => e);
		assert.ok(err instanceof NoSuchTask, String(err));
		assert.equal(err.code, 4);
		assert.equal(err.taskId, 999999);
		await assert.rejects(client.task(999999).result(), NoSuchTask);
		await assert.rejects(client.wait([999999]), NoSuchTask);
	});

	test('InvalidParams names the field', async () => {
		await assert.rejects(client.submit({ kind: 'exec', argv: [] }),
		    (e) => e instanceof InvalidParams && e.code === -32602 &&
		    e.field === 'argv' && typeof e.reason === 'string');
		await assert.rejects(client.submit({ kind: 'sleep', seconds: 1,
		    bogus: 1 }), (e) => e instanceof InvalidParams &&
		    e.field === 'bogus');
		await assert.rejects(client.call('task.get', [1]),
		    (e) => e instanceof InvalidParams && e.field === 'params');
		await assert.rejects(client.call('task.get', { id: 0 }),
		    (e) => e instanceof InvalidParams && e.field === 'id');
		assert.throws(() => client.task(0), TypeError);
	});

	test('MethodNotFound', async () => {
		await assert.rejects(client.call('task.nope'),
		    (e) => e instanceof MethodNotFound && e.code === -32601 &&
		    e.data.method === 'task.nope');
	});

	test('a key returns the same task; another spec is a KeyConflict',
	    async () => {
		const a = await client.submit({ kind: 'sleep', seconds: 0,
		    key: 'node-key-1' });
		const b = await client.submit({ kind: 'sleep', seconds: 0,
		    key: 'node-key-1' });
		assert.equal(b.id, a.id);
		await assert.rejects(client.submit({ kind: 'sleep', seconds: 1,
		    key: 'node-key-1' }), (e) => e instanceof KeyConflict &&
		    e.key === 'node-key-1' && e.taskId === a.id);
	});
});

describe('daemon', () => {
	test('daemon.info and rpc.discover', async () => {
		const info = await client.info();
		assert.equal(info.protocol_version, 1);
		assert.equal(info.limits.max_wait, 2);
		assert.ok(info.listen.includes(`unix:${daemon.socket}`));
		const doc = await client.discover();
		const names = doc.methods.map((m) => m.name);
		for (const m of ['task.submit', 'task.result', 'task.wait',
		    'task.stream', 'task.output', 'queue.set', 'daemon.info'])
			assert.ok(names.includes(m), m);
	});

	test('queues: a paused queue holds its tasks until resumed',
	    async () => {
		const q = await client.setQueue('node-q', { paused: true });
		assert.deepEqual([q.name, q.paused], ['node-q', true]);
		const t = await client.submit({ kind: 'sleep', seconds: 0,
		    result: 'ran', queue: 'node-q' });
		assert.equal((await t.get()).state, 'pending');
		const listed = (await client.listQueues()).find((x) =>
		    x.name === 'node-q');
		assert.equal(listed.paused, true);
		await client.setQueue('node-q', { paused: false, concurrency: 1 });
		assert.equal(await t.result(), 'ran');
	});

	test('FUTURED_SOCKET is the default socket', async () => {
		const saved = process.env.FUTURED_SOCKET;
		process.env.FUTURED_SOCKET = daemon.socket;
		try {
			const c = new Client();
			assert.equal(c.socket, daemon.socket);
			assert.equal((await c.info()).protocol_version, 1);
			c.close();
		} finally {
			if (saved === undefined)
				delete process.env.FUTURED_SOCKET;
			else
				process.env.FUTURED_SOCKET = saved;
		}
	});
});
