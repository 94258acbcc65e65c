/*
 * Concurrency keys and rate limits on a real futured: setRateLimit, a task
 * submitted with rate_limit and rate_key runs and keeps its limits,
 * listRateLimits, deleteRateLimit (InvalidParams once gone); two futures
 * with concurrency {key: 1}: the second waits pending (waiting_for names
 * the key) until the first is resolved, then runs.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { Client, InvalidParams } from '../index.js';
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

/* A rate limit or key name no other test uses. */
const newName = () => `t-${randomUUID().slice(0, 12)}`;

/* The error a promise rejects with (null when it resolves). */
const failure = (p) => p.then(() => null, (e) => e);

/* Polls task t until it is in state (30 s at most: a hang guard only). */
async function waitState(t, state) {
	for (let i = 0; i < 600; i++) {
		if ((await t.get()).state === state)
			return;
		await sleep(50);
	}
	assert.fail(`task ${t.id} not ${state} within 30 s`);
}

describe('limits', () => {
	test('setRateLimit, a task taking its tokens, list, delete',
	    async () => {
		const name = newName();
		const r = await client.setRateLimit(name,
		    { starts: 10, per: 1, burst: 5 });
		assert.deepEqual({ ...r },
		    { name, starts: 10, per: 1, burst: 5 });
		assert.equal((await client.setRateLimit(name, { starts: 20 })).per,
		    1);
		const listed = await client.listRateLimits();
		assert.ok(listed.rate_limits.some((x) => x.name === name));
		assert.equal(typeof listed.waiting, 'number');

		const t = await client.submit({ argv: ['echo', 'limited'],
		    rate_limit: name, rate_key: 'c:42' });
		assert.equal((await t.result()).stdout, 'limited\n');
		assert.deepEqual((await t.get()).limits,
		    { rate_limit: name, rate_key: 'c:42' });

		assert.equal(await client.deleteRateLimit(name), undefined);
		assert.ok(!(await client.listRateLimits()).rate_limits.some((x) =>
		    x.name === name));
		const gone = await failure(client.deleteRateLimit(name));
		assert.ok(gone instanceof InvalidParams);
		assert.equal(gone.field, 'name');
		const unknown = await failure(client.submit({ argv: ['true'],
		    rate_limit: name }));
		assert.ok(unknown instanceof InvalidParams);
		assert.equal(unknown.field, 'rate_limit');
		const zero = await failure(client.setRateLimit(newName(),
		    { starts: 0 }));
		assert.ok(zero instanceof InvalidParams);
		assert.equal(zero.field, 'starts');
	});

	test('a concurrency key of limit 1: the second waits', async () => {
		const key = newName();
		const first = await client.createFuture({ concurrency: { [key]: 1 } });
		const second = await client.createFuture({
		    concurrency: { [key]: 1 } });
		await waitState(first, 'running');
		const info = await second.get();
		assert.equal(info.state, 'pending');
		assert.deepEqual(info.waiting_for, { limit: 'concurrency', key });
		assert.deepEqual(info.limits, { concurrency: { [key]: 1 } });
		assert.ok((await client.listRateLimits()).waiting >= 1);

		await first.setResult('one');
		await waitState(second, 'running');
		assert.equal((await second.get()).waiting_for, undefined);
		await second.setResult('two');
		assert.equal(await second.result(), 'two');
		const zero = await failure(client.createFuture({
		    concurrency: { [key]: 0 } }));
		assert.ok(zero instanceof InvalidParams);
		assert.equal(zero.field, 'concurrency');
	});
});
