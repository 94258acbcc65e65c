/*
 * Where futured keeps its socket and token by default: the same answer as
 * the daemon's and futurectl's (proto/fp-paths.c), so that a client started
 * by the same user finds a daemon started with no options.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';

export function defaultStateDir() {
	const env = process.env;
	// systemd separates several StateDirectory= entries with ':'.
	if (env.STATE_DIRECTORY)
		return env.STATE_DIRECTORY.split(':')[0];
	if (typeof process.geteuid === 'function' && process.geteuid() === 0)
		return '/var/lib/futured';
	// The XDG spec says to ignore a relative XDG_STATE_HOME.
	if (env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/'))
		return join(env.XDG_STATE_HOME, 'futured');
	const home = env.HOME ? env.HOME : userInfo().homedir;
	return join(home, '.local', 'state', 'futured');
}

export function defaultSocketPath() {
	if (process.env.FUTURED_SOCKET)
		return process.env.FUTURED_SOCKET;
	return join(defaultStateDir(), 'futured.sock');
}

/*
 * $FUTURED_URL when $FUTURED_SOCKET is not set, else null: where a client
 * given neither socket nor url goes over TCP. futured sets both for its
 * tasks when it also listens on TCP; the socket wins.
 */
export function defaultUrl() {
	if (process.env.FUTURED_SOCKET)
		return null;
	return process.env.FUTURED_URL || null;
}

/*
 * $FUTURED_TASK_ID as a number: the task this process is (or was started
 * by), when futured started it; else null. submit's default parent, so a
 * script's tasks are children of its own. A value that is not a task id
 * is ignored, as futurectl ignores it.
 */
export function defaultParent() {
	const s = process.env.FUTURED_TASK_ID ?? '';
	if (!/^[1-9][0-9]{0,15}$/.test(s))
		return null;
	const id = Number(s);
	return Number.isSafeInteger(id) ? id : null;
}

/* The token is the file's first line; trailing blanks are an editor's. */
export function readTokenFile(file) {
	const token = readFileSync(file, 'utf8').split('\n')[0].trim();
	if (token === '' || /[\x00-\x1f\x7f]/.test(token))
		throw new Error(`token file ${file} holds no usable token`);
	return token;
}

/*
 * The default state dir's token when this user can read it: a local user
 * of a local daemon needs no configuration; anyone else gets a 401 that
 * says what is missing.
 */
export function defaultToken() {
	try {
		return readTokenFile(join(defaultStateDir(), 'token'));
	} catch {
		return null;
	}
}
