/*
 * The default target from the environment, as futurectl's: with neither
 * socket nor url, $FUTURED_SOCKET, else $FUTURED_URL with $FUTURED_TOKEN
 * (futured sets both for its tasks when it listens on TCP), else the
 * default socket. The first tests need no daemon; the last reach one over
 * TCP with only the variables.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, test } from 'node:test';

import { AuthenticationError, Client, defaultUrl } from '../index.js';
import { startDaemon } from './helpers/daemon.js';

const NAMES = ['FUTURED_SOCKET', 'FUTURED_URL', 'FUTURED_TOKEN',
    'STATE_DIRECTORY'];
let saved;
let empty;			/* a default state dir: no socket, no token */
let daemon;
let url;
let token;
let pid;
const clients = [];

function client(opts) {
	const c = new Client(opts);
	clients.push(c);
	return c;
}

before(async () => {
	empty = mkdtempSync(join(tmpdir(), 'futured-env-'));
	daemon = await startDaemon(['--listen', '127.0.0.1:0', '--drain', '0',
	    '--kill-grace', '1']);
	const info = await client({ socket: daemon.socket }).info();
	const tcp = info.listen.find((l) => l.startsWith('tcp:'));
	assert.ok(tcp, `a tcp listener in ${info.listen}`);
	pid = info.pid;
	url = `http://${tcp.slice('tcp:'.length)}`;
	token = readFileSync(join(daemon.dir, 'token'), 'utf8').split('\n')[0];
});

after(async () => {
	clients.forEach((c) => c.close());
	await daemon?.stop();
	rmSync(empty, { recursive: true, force: true });
});

beforeEach(() => {
	saved = Object.fromEntries(NAMES.map((n) => [n, process.env[n]]));
	for (const n of NAMES)
		delete process.env[n];
	process.env.STATE_DIRECTORY = empty;
});

afterEach(() => {
	for (const [n, v] of Object.entries(saved))
		if (v === undefined)
			delete process.env[n];
		else
			process.env[n] = v;
});

test('FUTURED_URL when no socket is named or set', () => {
	process.env.FUTURED_URL = 'http://127.0.0.1:7070';
	process.env.FUTURED_TOKEN = 'tok';
	assert.equal(defaultUrl(), 'http://127.0.0.1:7070');
	const c = client();
	assert.equal(c.url, 'http://127.0.0.1:7070');
	assert.equal(c.socket, null);
	assert.equal(c.where, 'http://127.0.0.1:7070/rpc');
});

test('FUTURED_SOCKET wins over FUTURED_URL; named ones over both', () => {
	process.env.FUTURED_SOCKET = '/run/x/f.sock';
	process.env.FUTURED_URL = 'http://127.0.0.1:7070';
	assert.equal(defaultUrl(), null);
	const c = client();
	assert.equal(c.socket, '/run/x/f.sock');
	assert.equal(c.url, null);
	assert.equal(client({ socket: '/s' }).socket, '/s');
	assert.equal(client({ url: 'http://h:1' }).url, 'http://h:1');
	delete process.env.FUTURED_SOCKET;
	assert.equal(client({ socket: '/s' }).url, null);
});

test('neither: the default socket', () => {
	process.env.FUTURED_TOKEN = 'tok';
	assert.equal(defaultUrl(), null);
	assert.equal(client().socket, join(empty, 'futured.sock'));
	process.env.FUTURED_URL = '';		// empty is unset
	assert.equal(client().socket, join(empty, 'futured.sock'));
});

test('a bad FUTURED_URL or FUTURED_TOKEN is refused at once', () => {
	process.env.FUTURED_URL = 'ftp://h/';
	assert.throws(() => new Client(), TypeError);
	process.env.FUTURED_URL = 'http://127.0.0.1:7070';
	process.env.FUTURED_TOKEN = 'a\r\nX-Injected: 1';
	assert.throws(() => new Client(), /control character/);
});

test('FUTURED_URL and FUTURED_TOKEN reach the daemon over TCP', async () => {
	process.env.FUTURED_URL = url;
	process.env.FUTURED_TOKEN = `${token}\n`;
	const c = client();
	assert.equal(c.url, url);
	assert.equal((await c.info()).pid, pid);
	const t = await c.submit({ argv: ['echo', 'over env'] });
	assert.equal((await t.result()).stdout, 'over env\n');
	process.env.FUTURED_TOKEN = 'not-the-token';
	await assert.rejects(client().info(), AuthenticationError);
	// and the socket, when set too, wins (it needs no token)
	process.env.FUTURED_SOCKET = daemon.socket;
	const s = client();
	assert.equal(s.socket, daemon.socket);
	assert.equal((await s.info()).protocol_version, 1);
});

test('a given token or tokenFile wins over FUTURED_TOKEN', async () => {
	process.env.FUTURED_URL = url;
	process.env.FUTURED_TOKEN = 'not-the-token';
	assert.equal((await client({ token }).info()).protocol_version, 1);
	assert.equal((await client({ tokenFile: join(daemon.dir, 'token') })
	    .info()).protocol_version, 1);
	const bad = join(empty, 'bad-token');
	writeFileSync(bad, 'not-the-token\n');
	process.env.FUTURED_TOKEN = token;
	await assert.rejects(client({ tokenFile: bad }).info(),
	    AuthenticationError);
	// none at all: the daemon wants one
	delete process.env.FUTURED_TOKEN;
	await assert.rejects(client().info(), AuthenticationError);
});
