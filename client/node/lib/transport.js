/*
 * HTTP/1.1 POSTs of JSON-RPC bodies to futured, on its Unix socket or over
 * TCP with a bearer token, on kept-alive connections.
 */
import http from 'node:http';
import https from 'node:https';

import { AuthenticationError, TransportError } from './errors.js';

/*
 * futured closes a connection idle for 300 s; closing ours well before
 * keeps a request from being written to a connection the daemon is closing.
 */
const IDLE_MS = 60_000;

/* Errors of a reused connection that the daemon closed before reading. */
const STALE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

export class Transport {
	/* { socket } or { url, token }; token is sent when given. */
	constructor({ socket, url, token }) {
		let mod = http;

		if (url != null) {
			const u = new URL(url);
			if (u.protocol !== 'http:' && u.protocol !== 'https:')
				throw new TypeError(`futured url must be http:// or ` +
				    `https://, not ${url}`);
			mod = u.protocol === 'https:' ? https : http;
			this.target = {
				// URL keeps an IPv6 literal's brackets; http.request wants none.
				hostname: u.hostname.replace(/^\[(.*)\]$/, '$1'),
				port: u.port || (u.protocol === 'https:' ? 443 : 80),
				path: u.pathname === '/' ? '/rpc' : u.pathname + u.search,
			};
			this.where = u.origin + this.target.path;
		} else {
			// Agent pools are keyed by socketPath, so keep-alive works here too.
			this.target = { socketPath: socket, host: 'localhost', path: '/rpc' };
			this.where = `unix:${socket}`;
		}
		this.mod = mod;
		this.agent = new mod.Agent({ keepAlive: true, timeout: IDLE_MS });
		this.headers = { 'Content-Type': 'application/json' };
		if (token != null)
			this.headers.Authorization = `Bearer ${token}`;
	}

	/*
	 * Posts one body (a request object or a batch array); resolves to the
	 * parsed answer, or undefined for the empty answer to notifications.
	 * timeoutMs bounds the silence while waiting, long-polls included.
	 */
	post(payload, { timeoutMs, signal } = {}) {
		const body = Buffer.from(JSON.stringify(payload), 'utf8');
		return this.#attempt(body, timeoutMs, signal, true);
	}

	#attempt(body, timeoutMs, signal, mayRetry) {
		return new Promise((resolve, reject) => {
			let answered = false;
			const req = this.mod.request({
				...this.target,
				method: 'POST',
				agent: this.agent,
				headers: { ...this.headers, 'Content-Length': body.length },
				signal,
			});

			if (timeoutMs != null && Number.isFinite(timeoutMs))
				req.setTimeout(Math.max(1, Math.ceil(timeoutMs)), () => {
					req.destroy(new TransportError(`no answer from ` +
					    `futured at ${this.where} within ` +
					    `${Math.round(timeoutMs / 1000)} s`,
					    { timedOut: true }));
				});

			req.on('error', (err) => {
				if (answered)
					return;
				/*
				 * A kept-alive connection the daemon closed as we wrote
				 * to it never carried the request: once more on a new one
				 * (Node's documented remedy for this race).
				 */
				if (mayRetry && req.reusedSocket && STALE.has(err.code)) {
					this.#attempt(body, timeoutMs, signal, false)
					    .then(resolve, reject);
					return;
				}
				reject(this.#wrap(err));
			});

			req.on('response', (res) => {
				answered = true;
				const chunks = [];
				res.on('data', (c) => chunks.push(c));
				res.on('error', (err) => reject(this.#wrap(err)));
				res.on('close', () => {
					if (!res.complete)
						reject(new TransportError(`futured at ` +
						    `${this.where} closed the connection ` +
						    `mid-answer`));
				});
				res.on('end', () => {
					try {
						resolve(this.#answer(res,
						    Buffer.concat(chunks).toString('utf8')));
					} catch (err) {
						reject(err);
					}
				});
			});

			req.end(body);
		});
	}

	#answer(res, text) {
		if (res.statusCode !== 200)
			throw this.#refusal(res, text);
		if (text.trim() === '')
			return undefined;
		try {
			return JSON.parse(text);
		} catch (err) {
			throw new TransportError(`futured at ${this.where} answered ` +
			    `JSON that does not parse: ${err.message}`, { cause: err });
		}
	}

	/* An HTTP-level refusal: {status, error, reason} in the body. */
	#refusal(res, text) {
		let reason = null;
		try {
			reason = JSON.parse(text).reason ?? null;
		} catch {
			reason = text.trim() || null;
		}
		const status = res.statusCode;
		const retry = Number.parseFloat(res.headers['retry-after']);
		const opts = {
			status,
			reason,
			retryAfter: Number.isFinite(retry) ? retry : null,
		};
		const msg = `futured at ${this.where} refused the request: HTTP ` +
		    `${status} ${res.statusMessage ?? ''}`.trimEnd() +
		    (reason ? ` (${reason})` : '');
		if (status === 401)
			return new AuthenticationError(msg, opts);
		return new TransportError(msg, opts);
	}

	#wrap(err) {
		// Aborts stay AbortErrors, so callers recognise their own signal.
		if (err instanceof TransportError || err?.name === 'AbortError')
			return err;
		return new TransportError(`cannot reach futured at ${this.where}: ` +
		    `${err.message}`, { cause: err });
	}

	close() {
		this.agent.destroy();
	}
}
