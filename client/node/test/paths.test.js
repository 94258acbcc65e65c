/*
 * The default socket: the same answer as futured's and futurectl's
 * (proto/fp-paths.c). No daemon needed.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';

import { Client, defaultSocketPath, defaultStateDir } from '../index.js';

const NAMES = ['FUTURED_SOCKET', 'STATE_DIRECTORY', 'XDG_STATE_HOME', 'HOME'];
let saved;

beforeEach(() => {
	saved = Object.fromEntries(NAMES.map((n) => [n, process.env[n]]));
	for (const n of ['FUTURED_SOCKET', 'STATE_DIRECTORY', 'XDG_STATE_HOME'])
		delete process.env[n];
});

afterEach(() => {
	for (const [n, v] of Object.entries(saved))
		if (v === undefined)
			delete process.env[n];
		else
			process.env[n] = v;
});

test('FUTURED_SOCKET comes first', () => {
	process.env.FUTURED_SOCKET = '/run/x/f.sock';
	process.env.STATE_DIRECTORY = '/var/lib/other';
	assert.equal(defaultSocketPath(), '/run/x/f.sock');
	assert.equal(new Client().socket, '/run/x/f.sock');
});

test("systemd's STATE_DIRECTORY, its first entry", () => {
	process.env.STATE_DIRECTORY = '/var/lib/futured-a:/var/lib/b';
	assert.equal(defaultStateDir(), '/var/lib/futured-a');
	assert.equal(defaultSocketPath(), '/var/lib/futured-a/futured.sock');
});

test('root, else XDG_STATE_HOME (absolute only), else ~/.local/state',
    () => {
	const root = process.geteuid() === 0;
	process.env.HOME = '/home/someone';
	process.env.XDG_STATE_HOME = '/xdg';
	assert.equal(defaultStateDir(), root ? '/var/lib/futured' :
	    '/xdg/futured');
	process.env.XDG_STATE_HOME = 'relative';
	assert.equal(defaultStateDir(), root ? '/var/lib/futured' :
	    join('/home/someone', '.local', 'state', 'futured'));
});

test('socket and url together are refused', () => {
	assert.throws(() => new Client({ socket: '/s', url: 'http://h:1' }),
	    TypeError);
	assert.throws(() => new Client({ url: 'ftp://h:1', token: 't' }),
	    TypeError);
});
