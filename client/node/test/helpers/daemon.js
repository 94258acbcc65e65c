/*
 * A real futured for the tests: a temporary state dir, the socket waited
 * for, and a stop (SIGTERM, then SIGKILL) that runs however the tests end.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync }
    from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const here = dirname(fileURLToPath(import.meta.url));

/*
 * Run from inside a task of another futured (FUTURED_TASK_ID set), the
 * client would make every task of the tests that task's child: not in the
 * daemons started here.
 */
delete process.env.FUTURED_TASK_ID;

/* Generous: the machine running the tests may be slow and loaded. */
const START_S = 60;
const STOP_S = 30;

export const EXAMPLES = resolve(here, '../../../../examples');

export function futuredBinary() {
	if (process.env.FUTURED)
		return process.env.FUTURED;
	if (process.env.FUTURED_BUILD)
		return join(process.env.FUTURED_BUILD, 'daemon', 'futured');
	return resolve(here, '../../../../build/daemon/futured');
}

/*
 * Every daemon still running when the process exits gets a SIGKILL (its
 * spawner then ends the tasks' processes): the test process may end by
 * process.exit() or a signal, when no after() hook runs.
 */
const running = new Set();
function killAll() {
	for (const d of running) {
		try {
			d.proc.kill('SIGKILL');
		} catch {
			// already gone
		}
		rmSync(d.dir, { recursive: true, force: true });
	}
	running.clear();
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
	process.once(sig, () => {
		killAll();
		// Dying of the same signal tells the parent what happened.
		process.kill(process.pid, sig);
	});

function canConnect(path) {
	return new Promise((ok) => {
		const s = connect(path);
		s.once('connect', () => {
			s.destroy();
			ok(true);
		});
		s.once('error', () => ok(false));
	});
}

/*
 * Starts futured; args are extra options (e.g. ['--listen',
 * '127.0.0.1:0']). Resolves to {dir, socket, proc, log(), stop()}.
 */
export async function startDaemon(args = []) {
	const dir = mkdtempSync(join(tmpdir(), 'futured-node-'));
	const socket = join(dir, 'futured.sock');
	const logFile = join(dir, 'futured.log');
	const fd = openSync(logFile, 'w');
	const proc = spawn(futuredBinary(), ['--state-dir', dir, '--config',
	    '/dev/null', ...args], { stdio: ['ignore', fd, fd] });
	closeSync(fd);

	let exited = null;
	const exit = new Promise((ok) => proc.once('exit', (code, signal) => {
		exited = { code, signal };
		ok(exited);
	}));
	proc.once('error', (err) => {
		exited = { error: err };
	});

	const d = {
		dir,
		socket,
		proc,
		log: () => existsSync(logFile) ? readFileSync(logFile, 'utf8') : '',
		async stop() {
			if (exited === null) {
				proc.kill('SIGTERM');
				// Cancelled once futured exits: a live timer would keep
				// the test process running for the whole grace.
				const ctl = new AbortController();
				const t = sleep(STOP_S * 1000, 'timeout',
				    { signal: ctl.signal }).catch(() => null);
				const first = await Promise.race([exit, t]);
				ctl.abort();
				if (first === 'timeout') {
					proc.kill('SIGKILL');
					await exit;
				}
			}
			running.delete(d);
			rmSync(dir, { recursive: true, force: true });
			return exited;
		},
	};
	running.add(d);

	const deadline = Date.now() + START_S * 1000;
	while (!(await canConnect(socket))) {
		if (exited !== null || Date.now() > deadline) {
			const why = exited?.error?.message ??
			    (exited ? `exited ${JSON.stringify(exited)}` : 'timed out');
			const log = d.log();
			await d.stop();
			throw new Error(`futured did not start (${why}):\n${log}`);
		}
		await sleep(50);
	}
	return d;
}
