/*
 * Long-poll plumbing. futured caps every wait (--max-wait, 60 s by
 * default) and answers with what is true at the deadline, so a wait longer
 * than that is a loop of calls; these helpers keep the loop honest.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/*
 * At most this long per call: futured's default cap, and what futurectl
 * asks, so the HTTP timeout stays bounded even against a raised cap.
 */
export const POLL_MAX = 60;

/* A poll that asked this long but came back sooner with nothing is paced. */
const PACE_MIN_ASKED = 1;
const PACE_S = 0.2;

export function now() {
	return performance.now() / 1000;
}

/* Seconds -> an absolute deadline on now()'s clock; Infinity: no limit. */
export function deadlineOf(timeout) {
	if (timeout == null)
		return Infinity;
	if (typeof timeout !== 'number' || !(timeout >= 0))
		throw new TypeError(`timeout must be seconds >= 0, not ${timeout}`);
	return now() + timeout;
}

/* The timeout to ask for: the time left, at most one poll's worth. */
export function pollSeconds(deadline) {
	const left = deadline - now();
	if (left <= 0)
		return 0;
	// Whole milliseconds: futured does not need nanosecond precision.
	return Math.min(POLL_MAX, Math.round(left * 1000) / 1000);
}

/*
 * A daemon whose cap is 0 (or that answers early for any reason) would
 * turn a wait into a busy loop; a short pause keeps it a gentle one.
 */
export async function pace(started, asked, signal) {
	if (asked >= PACE_MIN_ASKED && now() - started < PACE_S)
		await sleep(PACE_S * 1000, undefined, { signal });
}

/*
 * One signal aborted when any of signals is (AbortSignal.any is Node 20):
 * returns [signal, release] where release drops the listeners added.
 */
export function anySignal(signals) {
	const live = signals.filter((s) => s != null);
	if (live.length <= 1)
		return [live[0], () => {}];
	const ctl = new AbortController();
	const undo = [];
	for (const s of live) {
		if (s.aborted) {
			ctl.abort(s.reason);
			break;
		}
		const on = () => ctl.abort(s.reason);
		s.addEventListener('abort', on, { once: true });
		undo.push(() => s.removeEventListener('abort', on));
	}
	return [ctl.signal, () => undo.forEach((f) => f())];
}

/*
 * Interleaves async iterators in the order their values arrive. Each of
 * them long-polls, so one left waiting when the consumer stops would hold
 * its request open for up to a poll: abort() ends those at once.
 */
export async function* merge(iterators, abort) {
	const pending = new Map();
	const step = (it) => {
		const p = it.next().then((r) => ({ it, r }));
		p.catch(() => {});
		pending.set(it, p);
	};

	iterators.forEach(step);
	try {
		while (pending.size > 0) {
			const { it, r } = await Promise.race(pending.values());
			if (r.done) {
				pending.delete(it);
				continue;
			}
			pending.delete(it);
			yield r.value;
			step(it);
		}
	} finally {
		abort();
	}
}
