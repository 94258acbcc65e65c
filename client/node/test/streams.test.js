/*
 * What a running task hands out before it ends: the items it yields on fd 3
 * (task.stream) and its output (task.output). The tasks block on a gate
 * file until the test has seen their first piece, which proves the pieces
 * arrive while the task runs without measuring any time.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Client, NoSuchTask } from '../index.js';
import { EXAMPLES, startDaemon } from './helpers/daemon.js';

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

const AWAIT_GATE = 'while [ ! -e "$GATE" ]; do sleep 0.05; done';

let gates = 0;
function gate() {
	const path = join(daemon.dir, `gate-${++gates}`);
	return { env: { GATE: path }, open: () => writeFileSync(path, '') };
}

describe('task.stream', () => {
	test('the items of examples/primes.sh, in order', async () => {
		const t = await client.submit({ argv: ['sh',
		    join(EXAMPLES, 'primes.sh'), '30'] });
		const values = [];
		const seqs = [];
		for await (const item of t.stream()) {
			seqs.push(item.seq);
			values.push(item.value);
		}
		assert.deepEqual(values, [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
		assert.deepEqual(seqs, values.map((_, i) => i));
		assert.equal((await t.result()).stdout, '10 primes up to 30\n');
	});

	test('items arrive while the task runs; bad lines are errors',
	    async () => {
		const g = gate();
		const t = await client.submit({ env: g.env, shell:
		    `echo 1 >&3; ${AWAIT_GATE}; ` +
		    `echo '{"n": 2}' >&3; echo notjson >&3; echo '"end"' >&3` });
		const it = t.stream();
		const seen = [];
		for await (const item of it) {
			seen.push(item);
			if (seen.length === 1) {
				// The task is still blocked: this item came early.
				assert.equal(await t.done(), false);
				g.open();
			}
		}
		assert.deepEqual(seen.map((i) => i.seq), [0, 1, 2, 3]);
		assert.equal(seen[0].value, 1);
		assert.deepEqual(seen[1].value, { n: 2 });
		assert.equal(seen[2].error.type, 'YieldDecodeError');
		assert.equal(seen[2].error.line, 'notjson');
		assert.equal(seen[3].value, 'end');
		assert.equal(it.overflow, false);
		await t.result();
	});

	test('from skips items already read; a finished stream ends',
	    async () => {
		const t = await client.submit({ shell:
		    'for i in 0 1 2 3 4; do echo $i >&3; done' });
		await t.result();
		const rest = [];
		for await (const item of t.stream({ from: 3 }))
			rest.push(item.value);
		assert.deepEqual(rest, [3, 4]);
	});

	test('breaking out of the loop stops asking', async () => {
		const g = gate();
		const t = await client.submit({ env: g.env,
		    shell: `echo 7 >&3; ${AWAIT_GATE}; echo 8 >&3` });
		const it = t.stream();
		for await (const item of it) {
			assert.equal(item.value, 7);
			break;
		}
		assert.deepEqual(await it.next(), { done: true, value: undefined });
		g.open();
		await t.result();
	});

	test('an unknown task', async () => {
		const it = client.task(999999).stream();
		await assert.rejects(it.next(), NoSuchTask);
	});
});

describe('task.output', () => {
	test('stdout chunks arrive while the task runs', async () => {
		const g = gate();
		const t = await client.submit({ env: g.env, shell:
		    `echo first; ${AWAIT_GATE}; echo second` });
		const chunks = [];
		for await (const c of t.outputStream()) {
			assert.equal(c.stream, 'stdout');
			chunks.push(c);
			if (chunks.length === 1) {
				assert.equal(c.data, 'first\n');
				assert.equal(c.offset, 0);
				assert.equal(await t.done(), false);
				g.open();
			}
		}
		assert.equal(chunks.map((c) => c.data).join(''),
		    'first\nsecond\n');
		assert.equal(chunks[chunks.length - 1].offset +
		    chunks[chunks.length - 1].data.length, 'first\nsecond\n'.length);
	});

	test('both streams, and all of one at once', async () => {
		const g = gate();
		const t = await client.submit({ env: g.env, shell:
		    `echo out1; echo err1 >&2; ${AWAIT_GATE}; ` +
		    'echo out2; echo err2 >&2; exit 1' });
		const text = { stdout: '', stderr: '' };
		let opened = false;
		for await (const c of t.outputStream({ stream: 'both' })) {
			text[c.stream] += c.data;
			if (!opened && text.stdout === 'out1\n' &&
			    text.stderr === 'err1\n') {
				opened = true;
				g.open();
			}
		}
		assert.deepEqual(text, { stdout: 'out1\nout2\n',
		    stderr: 'err1\nerr2\n' });
		// A failed task's output is still there, from its exception.
		assert.equal(await t.output({ stream: 'stderr' }), 'err1\nerr2\n');
		assert.equal(await t.output(), 'out1\nout2\n');
	});

	test('breaking out of both streams ends the other poll', async () => {
		const g = gate();
		const t = await client.submit({ env: g.env,
		    shell: `echo only-stdout; ${AWAIT_GATE}` });
		for await (const c of t.outputStream({ stream: 'both' })) {
			assert.deepEqual([c.stream, c.data], ['stdout',
			    'only-stdout\n']);
			break;
		}
		g.open();
		await t.result();
	});

	test('a sleep task has no output', async () => {
		const t = await client.submit({ kind: 'sleep', seconds: 0 });
		assert.equal(await t.output(), '');
	});
});
