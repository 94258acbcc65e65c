/*
 * TCP: every request needs the bearer token from <state-dir>/token.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import {
	AuthenticationError, Client, FuturedError, TaskFailed, TransportError,
} from '../index.js';
import { startDaemon } from './helpers/daemon.js';

let daemon;
let url;
let token;
const clients = [];

function client(opts) {
	const c = new Client(opts);
	clients.push(c);
	return c;
}

before(async () => {
	daemon = await startDaemon(['--listen', '127.0.0.1:0', '--drain', '0',
	    '--kill-grace', '1']);
	// Port 0: the kernel picks; daemon.info says which.
	const info = await client({ socket: daemon.socket }).info();
	const tcp = info.listen.find((l) => l.startsWith('tcp:'));
	assert.ok(tcp, `a tcp listener in ${info.listen}`);
	url = `http://${tcp.slice('tcp:'.length)}`;
	token = readFileSync(join(daemon.dir, 'token'), 'utf8').split('\n')[0];
});

after(async () => {
	clients.forEach((c) => c.close());
	await daemon?.stop();
});

test('the right token: calls and long-polls work over TCP', async () => {
	const c = client({ url, token });
	assert.equal((await c.info()).protocol_version, 1);
	const t = await c.submit({ argv: ['sh', '-c', 'echo over tcp'] });
	assert.equal((await t.result()).stdout, 'over tcp\n');
	const f = await c.submit({ shell: 'echo nope >&2; exit 2' });
	await assert.rejects(f.result(), (e) => e instanceof TaskFailed &&
	    e.exception.stderr_tail.includes('nope'));
});

test('the token from a file, or from FUTURED_TOKEN', async () => {
	const fromFile = client({ url, tokenFile: join(daemon.dir, 'token') });
	assert.equal((await fromFile.info()).protocol_version, 1);
	const saved = process.env.FUTURED_TOKEN;
	process.env.FUTURED_TOKEN = token;
	try {
		assert.equal((await client({ url }).info()).protocol_version, 1);
	} finally {
		if (saved === undefined)
			delete process.env.FUTURED_TOKEN;
		else
			process.env.FUTURED_TOKEN = saved;
	}
});

test('a wrong token is an AuthenticationError (HTTP 401)', async () => {
	const c = client({ url, token: 'not-the-token' });
	const err = await c.info().then(() => null, (e) => e);
	assert.ok(err instanceof AuthenticationError, String(err));
	assert.ok(err instanceof TransportError);
	assert.ok(!(err instanceof FuturedError));
	assert.equal(err.status, 401);
	// Nothing was submitted: the refusal comes before the body is read.
	await assert.rejects(c.submit({ kind: 'sleep', seconds: 0 }),
	    AuthenticationError);
	await assert.rejects(c.notify('task.submit', { kind: 'sleep',
	    seconds: 0 }), AuthenticationError);
});

test('no daemon at the address is a TransportError', async () => {
	const c = client({ socket: join(daemon.dir, 'no-such.sock') });
	await assert.rejects(c.info(), (e) => e instanceof TransportError &&
	    e.cause?.code === 'ENOENT');
});
