/*
 * Batches, notifications and listing on a real futured.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import {
	Client, InvalidParams, LimitExceeded, MethodNotFound, NoSuchTask, Task,
} from '../index.js';
import { startDaemon } from './helpers/daemon.js';

let daemon;
let client;

before(async () => {
	daemon = await startDaemon(['--drain', '0', '--kill-grace', '1']);
	client = new Client({ socket: daemon.socket });
});

after(async () => {
	client?.close();
	await daemon?.stop();
});

/* Tasks carrying label t=value, newest first (the order of task.list). */
async function labelled(value, pageSize) {
	const out = [];
	for await (const t of client.list({ label: { t: value },
	    limit: pageSize }))
		out.push(t);
	return out;
}

/* Polls until check() holds: for effects nothing answers (notifications). */
async function eventually(check, what) {
	for (let i = 0; i < 600; i++) {
		if (await check())
			return;
		await sleep(50);
	}
	assert.fail(`never happened: ${what}`);
}

describe('batch', () => {
	test('1000 submits in one request, then waited for', async () => {
		const N = 1000;
		const entries = await client.batch(Array.from({ length: N },
		    (_, i) => ['task.submit', { kind: 'sleep', seconds: 0,
		    result: i, labels: { t: 'batch-1000' } }]));
		assert.equal(entries.length, N);
		assert.ok(entries.every((e) => e.ok), 'every submit succeeded');
		const ids = entries.map((e) => e.result.id);
		for (let i = 1; i < N; i++)
			assert.ok(ids[i] > ids[i - 1], 'ids grow in request order');

		const { done, pending } = await client.wait(ids);
		assert.equal(done.length, N);
		assert.equal(pending.length, 0);

		const results = await client.batch(ids.map((id) =>
		    ['task.result', { id }]));
		assert.deepEqual(results.map((e) => e.result),
		    Array.from({ length: N }, (_, i) => i));

		// Paged 250 at a time: all of them, newest first.
		const listed = await labelled('batch-1000', 250);
		assert.deepEqual(listed.map((t) => t.id), [...ids].reverse());
	});

	test('errors stay with their entry, in order', async () => {
		const t = await client.submit({ kind: 'sleep', seconds: 0 });
		const entries = await client.batch([
			['task.get', { id: 999999 }],
			{ method: 'task.get', params: { id: t.id } },
			['no.such.method'],
			['task.submit', { kind: 'exec', argv: [] }],
			{ method: 'task.submit', params: { kind: 'sleep', seconds: 0,
			    labels: { t: 'batch-notify' } }, notify: true },
			['daemon.info'],
		]);
		assert.equal(entries.length, 6);
		assert.ok(entries[0].error instanceof NoSuchTask);
		assert.equal(entries[1].result.id, t.id);
		assert.ok(entries[2].error instanceof MethodNotFound);
		assert.ok(entries[3].error instanceof InvalidParams);
		assert.equal(entries[3].error.field, 'argv');
		assert.deepEqual(entries[4], { ok: true, result: undefined,
		    notification: true });
		assert.equal(entries[5].result.protocol_version, 1);
		assert.deepEqual(entries.map((e) => e.ok),
		    [false, true, false, false, true, true]);
		await eventually(async () =>
		    (await labelled('batch-notify')).length === 1,
		    'the batched notification submitted its task');
	});

	test('submitMany hands back Tasks', async () => {
		const entries = await client.submitMany([
			{ argv: ['echo', 'a'] },
			{ kind: 'sleep', seconds: 0, result: 'b' },
			{ kind: 'sleep' },
		]);
		assert.ok(entries[0].task instanceof Task);
		assert.equal((await entries[0].task.result()).stdout, 'a\n');
		assert.equal(await entries[1].task.result(), 'b');
		assert.equal(entries[2].ok, false);
		assert.ok(entries[2].error instanceof InvalidParams);
		assert.equal(entries[2].error.field, 'seconds');
	});

	test('more than 10,000 calls is refused as a whole', async () => {
		const calls = Array.from({ length: 10_001 },
		    () => ['daemon.info']);
		await assert.rejects(client.batch(calls), (e) =>
		    e instanceof LimitExceeded && e.code === 8 &&
		    e.limit === 'batch' && e.data.max === 10_000);
	});

	test('an empty batch asks nothing', async () => {
		assert.deepEqual(await client.batch([]), []);
	});
});

describe('notify', () => {
	test('a notified submit creates its task, unanswered', async () => {
		const r = await client.notify('task.submit', { kind: 'sleep',
		    seconds: 0, result: 'fired', labels: { t: 'notify-1' } });
		assert.equal(r, undefined);
		let found = [];
		await eventually(async () => {
			found = await labelled('notify-1');
			return found.length === 1;
		}, 'the notified task is listed');
		assert.equal(found[0].kind, 'sleep');
		assert.equal(await client.task(found[0].id).result(), 'fired');
	});

	test('a refused notification is only counted', async () => {
		const before = (await client.info()).refused_notifications;
		await client.notify('task.submit', { kind: 'sleep' });
		await eventually(async () =>
		    (await client.info()).refused_notifications === before + 1,
		    'daemon.info counts the refused notification');
	});
});

describe('list', () => {
	test('filters by state and pages', async () => {
		const ts = [];
		for (let i = 0; i < 5; i++)
			ts.push(await client.submit({ kind: 'sleep', seconds: 0,
			    labels: { t: 'list-5', i: String(i) } }));
		await client.wait(ts);
		const listed = await labelled('list-5', 2);
		assert.deepEqual(listed.map((t) => t.id),
		    ts.map((t) => t.id).reverse());
		const page = await client.listPage({ label: { t: 'list-5' },
		    limit: 2 });
		assert.equal(page.tasks.length, 2);
		assert.equal(typeof page.next, 'string');
		const one = [];
		for await (const t of client.list({ label: { t: 'list-5', i: '3' },
		    state: 'succeeded' }))
			one.push(t.id);
		assert.deepEqual(one, [ts[3].id]);
	});
});
