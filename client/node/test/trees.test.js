/*
 * Task trees and groups on a real futured: submit's parent (undefined:
 * $FUTURED_TASK_ID; null: none; a Task or id) and child_policy, a Node
 * script run by an exec task whose submits are its children, createGroup,
 * closeGroup, taskGroup (its result, GroupFailed with the members'
 * failures, the body throwing, a member refused by a failed group) and
 * asCompleted({group}). Orders are made by the test, never by timing.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import {
	Client, GroupFailed, InvalidParams, NoSuchTask, Task, TaskFailed,
	TaskGroup, TaskNotDone, defaultParent,
} from '../index.js';
import { startDaemon } from './helpers/daemon.js';

const here = dirname(fileURLToPath(import.meta.url));
const LONG = 600;

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

afterEach(() => {
	delete process.env.FUTURED_TASK_ID;
});

/* The error a promise rejects with (null when it resolves). */
const failure = (p) => p.then(() => null, (e) => e);

/* Polls fn until it is truthy: a hang guard, no timing asserted. */
async function until(fn, what) {
	for (let i = 0; i < 600; i++) {
		const v = await fn();
		if (v)
			return v;
		await sleep(50);
	}
	throw new Error(`${what}: not within 30 s`);
}

const parentOf = async (t) => (await t.get()).parent;

describe('parent and child_policy', () => {
	test('the default parent is $FUTURED_TASK_ID', async () => {
		const p = await client.createFuture();
		assert.equal(defaultParent(), null);
		assert.equal(await parentOf(await client.submit({ seconds: 0 })),
		    undefined);
		process.env.FUTURED_TASK_ID = String(p.id);
		assert.equal(defaultParent(), p.id);
		const kid = await client.submit({ seconds: 0 });
		assert.equal(await parentOf(kid), p.id);
		assert.equal(await parentOf(await client.submit(
		    { seconds: 0, parent: null })), undefined);
		const other = await client.createFuture({ parent: null });
		assert.equal(await parentOf(await client.submit(
		    { seconds: 0, parent: other })), other.id);
		assert.equal(await parentOf(await client.submit(
		    { seconds: 0, parent: other.id })), other.id);
		const [entry] = await client.submitMany([{ seconds: 0 }]);
		assert.equal(await parentOf(entry.task), p.id);
		const kids = [];
		for await (const t of p.children())
			kids.push(t.id);
		assert.deepEqual(kids, [entry.task.id, kid.id]);
		const listed = [];
		for await (const t of client.list({ parent: p }))
			listed.push(t.id);
		assert.deepEqual(listed, kids);
		for (const bad of ['', '0', 'x', '-3', '1.5', '9'.repeat(17)]) {
			process.env.FUTURED_TASK_ID = bad;
			assert.equal(defaultParent(), null, bad);
		}
		process.env.FUTURED_TASK_ID = '99999999';
		const err = await failure(client.submit({ seconds: 0 }));
		assert.ok(err instanceof NoSuchTask, String(err));
		assert.equal(err.data.field, 'parent');
		delete process.env.FUTURED_TASK_ID;
		await p.setResult(null);
		await p.result();
		const refused = await failure(client.submit(
		    { seconds: 0, parent: p }));
		assert.ok(refused instanceof InvalidParams, String(refused));
		assert.equal(refused.field, 'parent');
		await other.cancel();
	});

	test('child_policy, and a parent waiting for its children', async () => {
		const p = await client.submit({ argv: ['true'],
		    child_policy: 'cancel' });
		assert.equal((await p.get()).child_policy, 'cancel');
		const bad = await failure(client.submit({ seconds: 0,
		    child_policy: 'reap' }));
		assert.ok(bad instanceof InvalidParams);
		assert.equal(bad.field, 'child_policy');
		const w = await client.createFuture();
		const kid = await client.createFuture({ parent: w });
		assert.equal(await w.setResult('mine'), 'running');
		assert.equal(await w.done(), false);
		await kid.setResult(1);
		assert.equal(await w.result(), 'mine');
	});

	test('a Node script in an exec task makes children', async () => {
		const out = join(daemon.dir, 'script-ids.json');
		const script = `
			import { writeFileSync } from 'node:fs';
			import { Client } from ${JSON.stringify(resolve(here,
			    '../index.js'))};
			const c = new Client();
			const gate = await c.createFuture();
			const results = await c.taskGroup(async (g) => {
				await g.submit({ seconds: 0, result: 'a' });
				await g.submit({ argv: ['echo', 'b'] });
			});
			const member = await c.get(results[0].id);
			writeFileSync(process.argv[1], JSON.stringify({
				gate: gate.id, group: member.parent,
				members: results.map((r) => r.id),
				states: results.map((r) => r.state) }));
			c.close();
			console.log('script-done');
		`;
		const p = await client.submit({ argv: [process.execPath,
		    '--input-type=module', '-e', script, out] });
		await until(async () => (await p.get()).attempts, 'the script');
		const info = await p.get();
		assert.equal(info.state, 'running');	// waits for the gate
		assert.equal(info.attempts[0].outcome, 'succeeded');
		const ids = JSON.parse(readFileSync(out, 'utf8'));
		assert.deepEqual(ids.states, ['succeeded', 'succeeded']);
		const kids = [];
		for await (const t of p.children())
			kids.push(t.id);
		assert.deepEqual(kids, [ids.group, ids.gate]);
		assert.equal(await parentOf(client.task(ids.group)), p.id);
		await client.setResult(ids.gate, 'open');
		assert.equal((await p.result()).stdout, 'script-done\n');
	});
});

describe('groups', () => {
	test('createGroup, closeGroup, the result', async () => {
		const g = await client.createGroup({ labels: { t: 'g' } });
		assert.deepEqual(g.info.spec, { kind: 'group' });
		const m1 = await client.submit({ seconds: 0, result: 'a',
		    parent: g });
		const m2 = await client.createFuture({ parent: g });
		assert.equal(await client.closeGroup(g), true);
		assert.equal(await g.close(), false);
		const refused = await failure(client.submit({ seconds: 0,
		    parent: g }));
		assert.ok(refused instanceof InvalidParams);
		await m2.setResult({ b: 2 });
		assert.deepEqual(await g.result(), [
			{ id: m1.id, state: 'succeeded', result: 'a' },
			{ id: m2.id, state: 'succeeded', result: { b: 2 } },
		]);
		assert.equal(await client.closeGroup(g.id), false);
		const empty = await client.createGroup();
		assert.equal(await empty.close(), true);
		assert.deepEqual(await empty.result(), []);
		const s = await client.submit({ seconds: LONG });
		assert.ok(await failure(s.close()) instanceof InvalidParams);
		await s.cancel();
		const gather = await client.createGroup({ return_exceptions: true });
		assert.deepEqual(gather.info.spec,
		    { kind: 'group', return_exceptions: true });
		assert.throws(() => client.createGroup({ kind: 'future' }),
		    TypeError);
		await gather.close();
	});

	test('a failed group rejects with GroupFailed', async () => {
		const g = await client.createGroup();
		const slow = await client.submit({ seconds: LONG, parent: g });
		const bad = await client.submit({ argv: ['sh', '-c',
		    'echo boom >&2; exit 3'], parent: g });
		const err = await failure(g.result());
		assert.ok(err instanceof GroupFailed, String(err));
		assert.ok(err instanceof TaskFailed);
		assert.equal(err.taskId, g.id);
		assert.equal(err.exception.type, 'ExceptionGroup');
		assert.deepEqual(err.exceptions.map((e) => e.taskId), [bad.id]);
		assert.ok(err.exceptions[0] instanceof TaskFailed);
		assert.equal(err.exceptions[0].exception.type, 'ProcessError');
		assert.match(err.exceptions[0].exception.stderr_tail, /boom/);
		assert.equal((await slow.get()).state, 'cancelled');
		// nested: a member that is a group fails as a GroupFailed
		const outer = await client.createGroup();
		const inner = await client.createGroup({ parent: outer });
		await client.submit({ argv: ['false'], parent: inner });
		const nested = await failure(outer.result());
		assert.ok(nested instanceof GroupFailed);
		assert.deepEqual(nested.exceptions.map((e) => e.taskId),
		    [inner.id]);
		assert.ok(nested.exceptions[0] instanceof GroupFailed);
	});

	test('taskGroup: members, their results', async () => {
		let f;
		let a;
		let gid;
		const results = await client.taskGroup(async (g) => {
			assert.ok(g instanceof TaskGroup && g instanceof Task);
			gid = g.id;
			a = await g.submit({ seconds: 0, result: 1 });
			f = await g.createFuture();
			setImmediate(() => f.setResult(2));
			const inner = await g.createGroup();
			await inner.close();
			assert.throws(() => g.submit({ seconds: 0, parent: null }),
			    TypeError);
		}, { labels: { tg: 'ok' } });
		assert.deepEqual(results.map((r) => [r.state, r.result ?? null]),
		    [['succeeded', 1], ['succeeded', 2], ['succeeded', []]]);
		assert.deepEqual(results.slice(0, 2).map((r) => r.id), [a.id, f.id]);
		assert.equal(await parentOf(a), gid);
		assert.equal(await parentOf(f), gid);
		const gathered = await client.taskGroup(async (g) => {
			await g.submit({ argv: ['false'] });
			await g.submit({ seconds: 0 });
		}, { return_exceptions: true });
		assert.deepEqual(gathered.map((r) => r.state),
		    ['failed', 'succeeded']);
	});

	test('taskGroup rejects with GroupFailed when a member fails',
	    async () => {
		let slow;
		let bad;
		const err = await failure(client.taskGroup(async (g) => {
			slow = await g.submit({ seconds: LONG });
			bad = await g.submit({ argv: ['sh', '-c', 'exit 4'] });
		}));
		assert.ok(err instanceof GroupFailed, String(err));
		assert.deepEqual(err.exceptions.map((e) => e.exception.exit_code),
		    [4]);
		assert.equal((await slow.get()).state, 'cancelled');
		assert.equal((await bad.get()).state, 'failed');
	});

	test('taskGroup: the body throwing cancels the group', async () => {
		let g;
		let m;
		const err = await failure(client.taskGroup(async (group) => {
			g = group;
			m = await group.submit({ seconds: LONG });
			throw new RangeError('stop');
		}));
		assert.ok(err instanceof RangeError);
		assert.equal((await g.get()).state, 'cancelled');
		const info = await m.get();
		assert.equal(info.state, 'cancelled');
		assert.equal(info.exception.message,
		    'taskGroup: the body threw RangeError: stop');
	});

	test('taskGroup: a member refused by the failed group', async () => {
		let bad;
		const err = await failure(client.taskGroup(async (g) => {
			bad = await g.submit({ argv: ['false'] });
			await until(async () => (await g.get()).state === 'failed',
			    'the group\'s failure');
			await g.submit({ seconds: 0 });	// refused
		}));
		assert.ok(err instanceof GroupFailed, String(err));
		assert.ok(err.cause instanceof InvalidParams);
		assert.deepEqual(err.exceptions.map((e) => e.taskId), [bad.id]);
	});

	test('taskGroup: an abort while waiting cancels the group', async () => {
		const ctl = new AbortController();
		let g;
		const p = failure(client.taskGroup(async (group) => {
			g = group;
			await group.submit({ seconds: LONG });
		}, {}, { signal: ctl.signal }));
		await until(async () => g && (await g.get()).attempts,
		    'the close');
		ctl.abort();
		const err = await p;
		assert.equal(err?.name, 'AbortError');
		assert.equal((await g.get()).state, 'cancelled');
	});
});

describe('asCompleted({group})', () => {
	test('members as they finish, until the group ends', async () => {
		const g = await client.createGroup({ return_exceptions: true });
		const a = await client.createFuture({ parent: g });
		const b = await client.createFuture({ parent: g });
		const seen = [];
		let joined;
		const consumer = (async () => {
			for await (const t of client.asCompleted({ group: g,
			    timeout: 60 })) {
				assert.ok(t instanceof Task);
				seen.push([t.id, t.finalState]);
				if (seen.length === 1)
					joined = await client.submit({ seconds: 0,
					    parent: g });
				else if (seen.length === 2)
					await a.setException('no');
			}
		})();
		await b.setResult(2);
		await until(() => seen.length === 3, 'three members');
		assert.deepEqual(seen, [[b.id, 'succeeded'],
		    [joined.id, 'succeeded'], [a.id, 'failed']]);
		// every member came, the group is open: it goes on until g ends
		let over = false;
		consumer.then(() => {
			over = true;
		});
		await sleep(1500);
		assert.equal(over, false);
		await g.close();
		await consumer;
		const again = [];
		for await (const t of client.asCompleted({ group: g.id }))
			again.push(t.id);
		assert.deepEqual(again, [a.id, b.id, joined.id]);

		const open = await client.createGroup();
		const err = await failure((async () => {
			for await (const _ of client.asCompleted({ group: open,
			    timeout: 0.3 }))
				;
		})());
		assert.ok(err instanceof TaskNotDone, String(err));
		await assert.rejects(client.asCompleted({}).next(), TypeError);
		await assert.rejects(client.asCompleted([a], { group: open })
		    .next(), TypeError);
		await open.close();
	});

	test('TaskGroup.asCompleted', async () => {
		const results = await client.taskGroup(async (g) => {
			const x = await g.submit({ seconds: 0 });
			const it = g.asCompleted();
			const first = await it.next();
			assert.equal(first.value.id, x.id);
			await it.return();
		});
		assert.equal(results.length, 1);
	});
});
