/*
 * Futures completed from outside, on a real futured: createFuture (kind
 * future), setResult, setException, cancel with a message, and
 * asCompleted over task.as_completed's cursor. The daemon caps long-polls
 * at 2 s, so a wait longer than that takes several calls. Orders are made
 * by the test (it completes the futures one after the other), never by
 * timing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import {
	Client, InvalidParams, InvalidStateError, MethodNotFound, NoSuchTask,
	Task, TaskCancelled, TaskFailed, TaskNotDone,
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

/* The error a promise rejects with (null when it resolves). */
const failure = (p) => p.then(() => null, (e) => e);

describe('setResult and setException', () => {
	test('a future resolved once', async () => {
		const f = await client.createFuture({ labels: { t: 'resolve' } });
		assert.ok(f instanceof Task);
		assert.equal(f.info.kind, 'future');
		assert.deepEqual(f.info.spec, { kind: 'future' });
		assert.equal(f.info.state, 'running');
		const waiting = f.result();
		assert.equal(await f.setResult({ answer: [4, 2] }), 'succeeded');
		assert.deepEqual(await waiting, { answer: [4, 2] });
		assert.equal(f.finalState, 'succeeded');

		const err = await failure(client.setResult(f.id, 5));
		assert.ok(err instanceof InvalidStateError, String(err));
		assert.equal(err.taskId, f.id);
		assert.equal(err.state, 'succeeded');
		assert.match(err.message, /had already finished: succeeded/);
		await assert.rejects(f.setException('late'), InvalidStateError);
		assert.deepEqual(await f.result(), { answer: [4, 2] });

		const g = await client.submit({ kind: 'future' });
		assert.equal(await client.setResult(g), 'succeeded');
		assert.equal(await g.result(), null);
	});

	test('a future rejected: TYPE, message and data', async () => {
		const f = await client.createFuture();
		assert.equal(await f.setException('bad input', { type: 'ValueError',
		    data: { code: 7, type: 'Ignored' } }), 'failed');
		const err = await failure(f.result());
		assert.ok(err instanceof TaskFailed, String(err));
		assert.deepEqual(err.exception, { type: 'ValueError',
		    message: 'bad input', code: 7 });
		assert.match(err.message, /ValueError: bad input/);
		const again = await failure(f.setResult(1));
		assert.ok(again instanceof InvalidStateError);
		assert.equal(again.state, 'failed');

		const g = await client.createFuture();
		await client.setException(g.id, 'plain');
		assert.equal((await g.get()).exception.type, 'Exception');
		const h = await client.createFuture();
		await h.setException(new RangeError('too far'));
		assert.deepEqual((await h.get()).exception,
		    { type: 'RangeError', message: 'too far' });
		const bad = await client.createFuture();
		await assert.rejects(bad.setException('m', { type: 'not a type' }),
		    (e) => e instanceof InvalidParams && e.field === 'type');
		await assert.rejects(client.setException(bad, 42), TypeError);
		await bad.cancel();
	});

	test('a rejected future with retries waits again', async () => {
		const f = await client.createFuture({ retries: 1,
		    retry_backoff: 0.05 });
		assert.ok(['pending', 'running'].includes(
		    await f.setException('first')));
		assert.equal(f.finalState, null);
		for (let i = 0; (await f.get()).state !== 'running'; i++) {
			assert.ok(i < 600, 'the retry never started');
			await sleep(50);
		}
		assert.equal(f.info.attempt, 2);
		await f.setResult('second');
		assert.equal(await f.result(), 'second');
	});

	test('a task of another kind, or none', async () => {
		const s = await client.submit({ kind: 'sleep', seconds: 3600 });
		await assert.rejects(s.setResult(1), (e) =>
		    e instanceof InvalidParams && e.field === 'id');
		await s.cancel();
		await assert.rejects(client.setResult(999999, 1), NoSuchTask);
	});

	test('a pending future, and tasks after it', async () => {
		const f = await client.createFuture({ delay: 3600 });
		assert.equal(f.info.state, 'pending');
		const dep = await client.submit({ argv: ['true'], after: [f.id] });
		const ctrl = await client.submit({ argv: ['true'] });
		await ctrl.result();
		// the scheduler had its chance: the dependent still waits
		assert.equal((await dep.get()).state, 'pending');
		await f.setResult('go');
		await dep.result();
		assert.ok((await dep.get()).started_at >=
		    (await f.get()).finished_at);

		const g = await client.createFuture();
		const dep2 = await client.submit({ argv: ['true'], after: [g.id] });
		await g.setException('no');
		await assert.rejects(dep2.result(), (e) => e instanceof TaskFailed &&
		    e.exception.type === 'DependencyFailed');
	});
});

describe('cancel with a message', () => {
	test('the message is kept and told', async () => {
		const f = await client.createFuture();
		assert.equal(await f.cancel({ message: 'no longer needed' }), true);
		assert.equal(f.finalState, 'cancelled');
		const err = await failure(client.task(f.id).result());
		assert.ok(err instanceof TaskCancelled, String(err));
		assert.equal(err.cancelMessage, 'no longer needed');
		assert.equal(err.message,
		    `task ${f.id} was cancelled: no longer needed`);
		assert.deepEqual((await client.get(f.id)).exception,
		    { type: 'CancelledError', message: 'no longer needed' });
		assert.equal(await client.cancel(f.id, { message: 'again' }), false);
		const late = await failure(f.setResult(1));
		assert.equal(late?.state, 'cancelled');

		const g = await client.createFuture();
		assert.equal(await client.cancel(g), true);
		const plain = await failure(g.result());
		assert.equal(plain.cancelMessage, null);
		assert.equal(plain.message, `task ${g.id} was cancelled`);
		const h = await client.createFuture();
		await assert.rejects(h.cancel({ message: 'm'.repeat(1025) }),
		    (e) => e instanceof InvalidParams && e.field === 'message');
		await h.cancel();
	});
});

describe('asCompleted', () => {
	test('in the order completed, as they are', async () => {
		const [a, b, c] = await Promise.all([1, 2, 3].map(() =>
		    client.createFuture()));
		// handles of their own: they learn the states from asCompleted
		const handles = [a, b, c].map((t) => client.task(t.id));
		const seen = [];
		await c.setResult('c');
		for await (const t of client.asCompleted(handles)) {
			seen.push(t);
			if (t.id === c.id)
				await b.setException('b');
			else if (t.id === b.id)
				await a.cancel();
		}
		assert.deepEqual(seen.map((t) => t.id), [c.id, b.id, a.id]);
		assert.equal(seen[0], handles[2]);
		assert.deepEqual(seen.map((t) => t.finalState),
		    ['succeeded', 'failed', 'cancelled']);

		// finished ones come in the order given; ids give Tasks
		const ids = [];
		for await (const t of client.asCompleted([b.id, a.id, b.id]))
			ids.push(t.id);
		assert.deepEqual(ids, [b.id, a.id]);
		for await (const t of client.asCompleted([]))
			assert.fail(`nothing to yield, yielded ${t}`);
	});

	test('across capped polls, with the cursor', async () => {
		const [a, b] = await Promise.all([1, 2].map(() =>
		    client.createFuture()));
		const spy = new Client({ socket: daemon.socket });
		const sent = [];
		const call = spy._call.bind(spy);
		spy._call = (method, params, ...rest) => {
			if (method === 'task.as_completed')
				sent.push(params.cursor);
			return call(method, params, ...rest);
		};
		const seen = [];
		const it = (async () => {
			for await (const t of spy.asCompleted([a, b]))
				seen.push(t.id);
		})();
		await b.setResult(2);
		// past the 2 s cap: an empty answer comes between the two
		for (let i = 0; seen.length === 0; i++) {
			assert.ok(i < 600, 'asCompleted yielded nothing');
			await sleep(50);
		}
		await sleep(2500);
		await a.setResult(1);
		await it;
		spy.close();
		assert.deepEqual(seen, [b.id, a.id]);
		assert.ok(sent.length >= 3, `calls: ${sent.length}`);
		assert.equal(sent[0], undefined);
		assert.ok(sent.slice(1).every((x) => typeof x === 'string'));
	});

	test('a timeout throws TaskNotDone after the finished ones',
	    async () => {
		const done = await client.createFuture();
		const never = await client.createFuture();
		await done.setResult(1);
		const seen = [];
		const err = await failure((async () => {
			for await (const t of client.asCompleted([never, done],
			    { timeout: 0.3 }))
				seen.push(t.id);
		})());
		assert.deepEqual(seen, [done.id]);
		assert.ok(err instanceof TaskNotDone, String(err));
		assert.match(err.message, /1 \(of 2\) tasks unfinished/);
		await never.cancel();
	});

	test('a futured without task.as_completed: task.wait', async () => {
		const old = new Client({ socket: daemon.socket });
		const call = old._call.bind(old);
		old._call = (method, ...rest) => method === 'task.as_completed' ?
		    Promise.reject(new MethodNotFound({ code: -32601,
		    message: 'Method not found', data: { method } })) :
		    call(method, ...rest);
		const [a, b] = await Promise.all([1, 2].map(() =>
		    client.createFuture()));
		await b.setResult(2);
		const seen = [];
		for await (const t of old.asCompleted([a, b])) {
			seen.push(t.id);
			if (seen.length === 1)
				await a.setResult(1);
		}
		old.close();
		assert.deepEqual(seen, [b.id, a.id]);
	});

	test('a raw call of task.as_completed may wait past the timeout',
	    async () => {
		const f = await client.createFuture();
		const short = new Client({ socket: daemon.socket, timeout: 0.5 });
		// a long-poll: its own 1.5 s are added to the client's 0.5 s
		const r = await short.call('task.as_completed',
		    { ids: [f.id], timeout: 1.5 });
		assert.deepEqual(r.done, []);
		assert.equal(r.remaining, 1);
		short.close();
		await f.cancel();
	});
});
