/*
 * futured's dashboard: a page of static files that speaks JSON-RPC to /rpc
 * and follows /events like any client (see proto/PROTOCOL.md).
 *
 * No framework and no build step.  Task data is untrusted: every text goes
 * through textContent (never innerHTML), and the CSP forbids inline style,
 * so looks live in app.css and JS only toggles classes and `hidden`.
 */
'use strict';

(function () {

/* ================================================================ helpers */

const $ = (id) => document.getElementById(id);
const STATES = ['pending', 'running', 'succeeded', 'failed', 'cancelled'];
const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);
const PAGE = 50;

/* An element with props (text, class, data, on, attributes) and children. */
function el(tag, props, ...kids) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(props || {})) {
		if (v == null || v === false)
			continue;
		if (k === 'text') e.textContent = v;
		else if (k === 'class') e.className = v;
		else if (k === 'data') Object.assign(e.dataset, v);
		else if (k === 'on') for (const [t, f] of Object.entries(v)) e.addEventListener(t, f);
		else e.setAttribute(k, v === true ? '' : String(v));
	}
	for (const kid of kids)
		if (kid != null && kid !== false)
			e.append(kid);	/* strings become text nodes */
	return e;
}

const pad = (n) => String(n).padStart(2, '0');
const ts = (iso) => (iso ? Date.parse(iso) / 1000 : null);	/* seconds */
const sleep = (ms, signal) => new Promise((resolve) => {
	const t = setTimeout(resolve, ms);
	if (signal) signal.addEventListener('abort', () => { clearTimeout(t); resolve(); });
});

/* Local time; the date only when not today. */
function fmtTime(iso) {
	if (!iso) return '';
	const d = new Date(iso);
	if (isNaN(d)) return String(iso);
	const hms = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
	if (d.toDateString() === new Date().toDateString()) return hms;
	return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hms}`;
}

function fmtDuration(s) {
	if (s == null || !isFinite(s)) return '';
	if (s < 0) s = 0;
	if (s < 1) return `${Math.round(s * 1000)} ms`;
	if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
	const m = Math.floor(s / 60);
	if (m < 60) return `${m}m ${pad(Math.floor(s % 60))}s`;
	const h = Math.floor(m / 60);
	if (h < 48) return `${h}h ${pad(m % 60)}m`;
	return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/* A period given in seconds, in its largest whole unit: 60 → "1 min". */
function fmtPeriod(s) {
	for (const [n, u] of [[86400, 'd'], [3600, 'h'], [60, 'min']])
		if (s >= n && s % n === 0) return `${s / n} ${u}`;
	return `${Number(Number(s).toFixed(3))} s`;
}

/* What a task does, in a line: argv, method and URL, the sleep, or what it waits for. */
function describe(t) {
	const s = t.spec || {};
	switch (t.kind || s.kind) {
	case 'exec': return Array.isArray(s.argv) ? s.argv.join(' ') : String(s.shell ?? '');
	case 'http': return `${s.method || 'GET'} ${s.url || ''}`;
	case 'sleep': return `${Number(Number(s.seconds).toFixed(3))} s`;
	case 'future': return 'waits for set_result';
	case 'group': return s.return_exceptions ? 'group (gathers exceptions)' : 'group';
	default: return '';
	}
}

function badge(state, id) {
	return el('span', { id, class: `badge state-${state}` }, state);
}

/* Time a task ran: finished − started, or so far while it runs. */
function taskDuration(t) {
	const start = ts(t.started_at);
	if (start == null) return '';
	if (t.state === 'running') return fmtDuration(serverNow() - start);
	const end = ts(t.finished_at);
	return end != null && end >= start ? fmtDuration(end - start) : '';
}

/*
 * fn at most once per ms, the last call never lost; calls made while fn
 * runs (it may be async) are folded into one more run after it.
 */
function throttled(fn, ms) {
	let last = 0, timer = null, running = false, again = false;
	const run = async () => {
		timer = null;
		if (running) { again = true; return; }
		running = true;
		last = Date.now();
		try { await fn(); } catch (e) { report(e); }
		running = false;
		if (again) { again = false; kick(); }
	};
	const kick = () => {
		if (timer == null)
			timer = setTimeout(run, Math.max(0, last + ms - Date.now()));
	};
	kick.cancel = () => { clearTimeout(timer); timer = null; again = false; };
	return kick;
}

/* ============================================================ session, RPC */

const session = { csrf: '', readOnly: false, version: '', session: false };
let rpcSeq = 0;
let leavingPage = false;

class RpcError extends Error {
	constructor(e) {
		super(e.message || 'error');
		this.name = 'RpcError';
		this.code = e.code;
		this.data = e.data;
	}
}
/* Thrown to unwind callers once the page is on its way to /login. */
class Leaving extends Error {}

function goLogin() {
	if (!leavingPage) {
		leavingPage = true;
		closeEvents();
		location.href = '/login';
	}
	throw new Leaving('no session');
}

async function post(body, signal) {
	const res = await fetch('/rpc', {
		method: 'POST',
		credentials: 'same-origin',
		headers: { 'Content-Type': 'application/json', 'X-Futured-CSRF': session.csrf },
		body: JSON.stringify(body),
		signal,
	});
	if (res.status === 401)
		goLogin();
	if (!res.ok) {
		let reason = '';
		try { reason = (await res.json()).reason || ''; } catch (e) { /* not JSON */ }
		throw new Error(`HTTP ${res.status}${reason ? `: ${reason}` : ''}`);
	}
	return res.json();
}

/* One call; a JSON-RPC error is shown in the banner unless opts.quiet. */
async function rpc(method, params, opts = {}) {
	const msg = await post({ jsonrpc: '2.0', id: ++rpcSeq, method, params: params || {} }, opts.signal);
	if (msg.error) {
		const err = new RpcError(msg.error);
		if (!opts.quiet) showError(err);
		throw err;
	}
	return msg.result;
}

/* Several calls in one request: [[method, params]] → [{result} | {error}]. */
async function rpcBatch(calls, opts = {}) {
	if (!calls.length) return [];
	const body = calls.map(([method, params]) => ({ jsonrpc: '2.0', id: ++rpcSeq, method, params: params || {} }));
	const answers = await post(body, opts.signal);
	if (!Array.isArray(answers)) {	/* the batch as a whole was refused */
		const err = new RpcError(answers.error || { message: 'bad batch answer' });
		showError(err);
		throw err;
	}
	const byId = new Map(answers.map((a) => [a.id, a]));
	return body.map((b) => byId.get(b.id) || { error: { code: -32603, message: 'no answer' } });
}

/* =================================================== banner and notices */

function showError(e) {
	if (leavingPage || !e) return;
	e.shown = true;
	$('error-message').textContent = e instanceof RpcError ? `${e.message} (error ${e.code})` : String(e.message || e);
	$('error-data').textContent = e.data !== undefined ? JSON.stringify(e.data) : '';
	$('error-banner').hidden = false;
}

/* The end of every async path: what was not shown yet goes to the banner. */
function report(e) {
	if (!e || e instanceof Leaving || e.name === 'AbortError' || e.shown) return;
	showError(e);
}

const spawn = (fn) => { Promise.resolve().then(fn).catch(report); };

function notice(text) {
	$('notice-text').textContent = text;
	$('notice').hidden = false;
}

/* ============================================================ live events */

let es = null;

function setLive(text, on) {
	const s = $('live-status');
	s.textContent = text;
	s.classList.toggle('on', on);
	s.classList.toggle('off', !on);
}

function openEvents() {
	if (leavingPage) return;
	es = new EventSource('/events');
	es.onopen = () => setLive('live', true);
	es.onerror = () => {
		setLive('reconnecting…', false);
		/* CLOSED: refused (the session may be gone), not a dropped stream */
		if (es && es.readyState === EventSource.CLOSED) {
			es = null;
			setTimeout(() => spawn(reopenEvents), 3000);
		}
	};
	es.onmessage = (m) => {
		let ev;
		try { ev = JSON.parse(m.data); } catch (e) { return; }
		onServerEvent(ev);
	};
	/* Events were missed: what is shown may be stale. */
	es.addEventListener('reset', () => {
		spawn(seedStats);
		if (current && current.reload) spawn(() => current.reload());
	});
}

async function reopenEvents() {
	if (es || leavingPage) return;
	try {
		await checkSession();	/* goes to /login when the session ended */
	} catch (e) {
		if (!(e instanceof Leaving)) setTimeout(() => spawn(reopenEvents), 5000);
		return;
	}
	openEvents();
}

function closeEvents() {
	if (es) { es.close(); es = null; }
}

function onServerEvent(ev) {
	recordEvent(ev);
	if (current && current.onEvent) current.onEvent(ev);
}

/* ================================================= chart data from events */

const BUCKET = 5, WINDOW = 300, MAX_SAMPLES = 5000;
const stats = {
	buckets: new Map(),	/* bucket start (server s) → counts and samples */
	seen: new Map(),	/* what was counted (seeded or live) → when */
	skew: 0,		/* server clock − this browser's, seconds */
	dirty: true,
};

const serverNow = () => Date.now() / 1000 + stats.skew;
const bucketOf = (t) => Math.floor(t / BUCKET) * BUCKET;

function bucket(t) {
	const b = bucketOf(t);
	let x = stats.buckets.get(b);
	if (!x) {
		x = { succeeded: 0, failed: 0, cancelled: 0, runs: [], maxRun: null, waits: [] };
		stats.buckets.set(b, x);
	}
	return x;
}

/* Keeps a bounded sample: under a flood the median stays fair, memory flat. */
function sample(arr, v) {
	if (arr.length < MAX_SAMPLES) arr.push(v);
	else arr[Math.floor(Math.random() * arr.length)] = v;
}

/* Counts what key names once: seeding and live events may both see it. */
function note(key, t, fn) {
	if (t == null || isNaN(t) || t < serverNow() - WINDOW - BUCKET || stats.seen.has(key))
		return;
	if (stats.seen.size < 200000) stats.seen.set(key, t);
	fn(bucket(t));
	stats.dirty = true;
}

function addRun(b, run) {
	if (run == null || !isFinite(run)) return;
	sample(b.runs, run);
	b.maxRun = b.maxRun == null ? run : Math.max(b.maxRun, run);
}

function recordFinish(id, state, t, run) {
	note(`f${id}`, t, (b) => { b[state]++; addRun(b, run); });
}

function recordEvent(ev) {
	const t = ts(ev.at);
	if (ev.type === 'task.started' && ev.wait != null)
		note(`s${ev.task}.${ev.attempt}`, t, (b) => sample(b.waits, ev.wait));
	else if (ev.type === 'task.retrying' && ev.run != null)
		note(`r${ev.task}.${ev.attempt}`, t, (b) => addRun(b, ev.run));
	else if (ev.type === 'task.succeeded' || ev.type === 'task.failed' || ev.type === 'task.cancelled')
		recordFinish(ev.task, ev.type.slice(5), t, ev.run);
}

/* Seeds the charts from the tasks that finished or started lately. */
async function seedStats() {
	const states = ['succeeded', 'failed', 'cancelled', 'running'];
	const answers = await rpcBatch(states.map((state) => ['task.list', { state, limit: 200 }]));
	for (const a of answers)
		for (const t of (a.result && a.result.tasks) || [])
			seedTask(t);
	stats.dirty = true;
}

function seedTask(t) {
	const start = ts(t.started_at), end = ts(t.finished_at);
	/* the wait is known only for a first attempt without dependencies */
	if (start != null && t.attempt <= 1 && !t.after) {
		const ready = Math.max(ts(t.created_at) || 0, ts(t.not_before) || 0);
		if (ready && start >= ready)
			note(`s${t.id}.${t.attempt}`, start, (b) => sample(b.waits, start - ready));
	}
	if (end == null || !FINISHED.has(t.state)) return;
	const last = Array.isArray(t.attempts) && t.attempts.length ? t.attempts[t.attempts.length - 1] : null;
	let run = null;
	if (last && last.started_at && last.finished_at) run = ts(last.finished_at) - ts(last.started_at);
	else if (start != null && t.state !== 'cancelled' && end >= start) run = end - start;
	recordFinish(t.id, t.state, end, run);
}

function pruneStats() {
	const oldest = bucketOf(serverNow()) - WINDOW;
	for (const b of stats.buckets.keys()) if (b < oldest) stats.buckets.delete(b);
	for (const [k, t] of stats.seen) if (t < oldest - BUCKET) stats.seen.delete(k);
}

function median(a) {
	const s = a.slice().sort((x, y) => x - y), m = s.length >> 1;
	return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/* The last five minutes as uPlot data: [x, …series]. */
function chartData() {
	pruneStats();
	const end = bucketOf(serverNow());
	const x = [], ok = [], fail = [], canc = [], med = [], max = [], wait = [];
	for (let t = end - WINDOW + BUCKET; t <= end; t += BUCKET) {
		const b = stats.buckets.get(t);
		x.push(t);
		ok.push(b ? b.succeeded / BUCKET : 0);
		fail.push(b ? b.failed / BUCKET : 0);
		canc.push(b ? b.cancelled / BUCKET : 0);
		med.push(b && b.runs.length ? median(b.runs) : null);
		max.push(b ? b.maxRun : null);
		wait.push(b && b.waits.length ? median(b.waits) : null);
	}
	return { throughput: [x, ok, fail, canc], latency: [x, med, max, wait] };
}

/* ================================================================= charts */

const charts = { list: [], ro: null };

function cssVar(name) {
	return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function chartSeries() {
	const rate = (u, v) => (v == null ? '–' : `${v.toFixed(2)}/s`);
	const secs = (u, v) => (v == null ? '–' : fmtDuration(v));
	return {
		throughput: [
			{ label: 'succeeded', stroke: cssVar('--ok'), width: 2, value: rate },
			{ label: 'failed', stroke: cssVar('--fail'), width: 2, value: rate },
			{ label: 'cancelled', stroke: cssVar('--cancel'), width: 2, value: rate },
		],
		latency: [
			{ label: 'median run', stroke: cssVar('--run'), width: 2, value: secs, points: { show: true, size: 4 } },
			{ label: 'max run', stroke: cssVar('--purple'), width: 1.5, dash: [5, 4], value: secs, points: { show: true, size: 4 } },
			{ label: 'median wait', stroke: cssVar('--pend'), width: 2, value: secs, points: { show: true, size: 4 } },
		],
	};
}

/* Short local clock labels ("12:05", ":30"): the window is five minutes. */
function clockLabel(t) {
	const d = new Date(t * 1000);
	return d.getSeconds() ? `:${pad(d.getSeconds())}` : `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function makeChart(box, series, data) {
	const axis = {
		stroke: cssVar('--muted'),
		grid: { stroke: cssVar('--line'), width: 1 },
		ticks: { stroke: cssVar('--line'), width: 1 },
	};
	const u = new uPlot({
		width: Math.max(box.clientWidth, 100),
		height: Math.max(box.clientHeight - 40, 80),
		scales: { x: { time: true }, y: { range: (self, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
		axes: [Object.assign({}, axis, { space: 60, values: (self, splits) => splits.map(clockLabel) }),
			Object.assign({}, axis, { size: 56 })],
		cursor: { drag: { x: false, y: false } },
		series: [{ label: 'time', value: (self, v) => (v == null ? '–' : new Date(v * 1000).toLocaleTimeString()) }, ...series],
	}, data, box);
	fitChart(u, box);
	return u;
}

/* Fits the plot and its legend in the fixed-size box. */
function fitChart(u, box) {
	const w = box.clientWidth;
	if (!w) return;	/* hidden */
	const legend = u.root.querySelector('.u-legend');
	const h = Math.max(box.clientHeight - (legend ? legend.offsetHeight : 0), 60);
	if (w !== u.width || h !== u.height) u.setSize({ width: w, height: h });
}

function ensureCharts() {
	if (charts.list.length || typeof uPlot === 'undefined') return;
	const data = chartData(), series = chartSeries();
	const tp = $('chart-throughput'), lat = $('chart-latency');
	charts.list = [
		{ u: makeChart(tp, series.throughput, data.throughput), box: tp, key: 'throughput' },
		{ u: makeChart(lat, series.latency, data.latency), box: lat, key: 'latency' },
	];
	if (!charts.ro) {
		/* the boxes never change size because of the charts: no loop */
		charts.ro = new ResizeObserver(() => requestAnimationFrame(() => {
			for (const c of charts.list) fitChart(c.u, c.box);
		}));
		charts.ro.observe(tp);
		charts.ro.observe(lat);
	}
	stats.dirty = false;
}

function destroyCharts() {
	for (const c of charts.list) c.u.destroy();
	charts.list = [];
}

function drawCharts(force) {
	if (!charts.list.length || (!stats.dirty && !force)) return;
	const data = chartData();
	for (const c of charts.list) c.u.setData(data[c.key]);
	stats.dirty = false;
}

/* =============================================================== overview */

const overview = {
	el: 'view-overview',
	timers: [],
	querySig: '',

	enter() {
		ensureCharts();
		drawCharts(true);
		this.refreshSoon();
		this.timers = [
			setInterval(() => this.refreshSoon(), 5000),
			setInterval(() => drawCharts(false), 1000),
			/* the window slides even without events */
			setInterval(() => drawCharts(true), BUCKET * 1000),
		];
	},
	leave() {
		this.timers.forEach(clearInterval);
		this.timers = [];
		this.refreshSoon.cancel();
	},
	onEvent() { this.refreshSoon(); },
	reload() { this.refreshSoon(); },
};

/* daemon.info and queue.list in one request, at most once a second. */
overview.refreshSoon = throttled(async () => {
	const [info, queues] = await rpcBatch([['daemon.info', {}], ['queue.list', {}]]);
	if (current !== overview) return;
	if (info.error) throw new RpcError(info.error);
	const counts = info.result.counts || {};
	for (const s of STATES) $(`count-${s}`).textContent = String(counts[s] ?? 0);
	if (queues.result) renderOverviewQueues(queues.result.queues || []);
}, 1000);

function renderOverviewQueues(queues) {
	/* rebuilt only when it changed, so focus and hover stay put */
	const sig = JSON.stringify(queues);
	if (sig === overview.querySig) return;
	overview.querySig = sig;
	const rows = queues.map((q) => el('tr', { data: { queue: q.name } },
		el('td', null, el('a', { href: `#/tasks?${new URLSearchParams({ queue: q.name })}` }, q.name)),
		el('td', { class: 'num' }, String(q.running)),
		el('td', { class: 'num' }, String(q.waiting)),
		el('td', { class: 'num' }, q.concurrency ? String(q.concurrency) : '—'),
		el('td', null, q.paused ? 'yes' : 'no')));
	if (!rows.length) rows.push(el('tr', null, el('td', { colspan: 5, class: 'empty' }, 'No queue.')));
	document.querySelector('#overview-queues tbody').replaceChildren(...rows);
}

/* ================================================================== tasks */

const tasks = {
	el: 'view-tasks',
	filter: {},		/* state, queue, label ('k=v'), kind, text */
	cursors: [],		/* the cursors of the pages before this one */
	cursor: null,		/* this page's */
	next: null,
	rows: new Map(),	/* id → task shown */
	trimmed: false,		/* live rows pushed some off: `next` skips them */
	token: 0,		/* the current load; older answers are dropped */
	created: new Set(),	/* ids of new tasks to look at */
	timer: null,

	enter(query) {
		this.filter = filterFrom(query);
		fillFilterForm(this.filter);
		this.cursors = [];
		clearInterval(this.timer);	/* entered again for the same hash */
		this.timer = setInterval(refreshRunningDurations, 5000);
		return loadTasks(null);
	},
	leave() {
		clearInterval(this.timer);
		this.token++;
		this.created.clear();
	},
	reload() { return loadTasks(this.cursor); },
	onEvent(ev) {
		if (!ev.task) return;
		if (this.rows.has(ev.task)) patchRow(ev);
		else if (ev.type === 'task.created' && !this.cursor && eventMatches(ev, this.filter)) {
			this.created.add(ev.task);
			insertCreatedSoon();
		}
	},
};

function filterFrom(query) {
	const f = {};
	for (const k of ['state', 'queue', 'label', 'kind', 'text']) {
		const v = (query && query.get(k) || '').trim();
		if (v) f[k] = v;
	}
	return f;
}

function fillFilterForm(f) {
	$('filter-state').value = f.state || '';
	$('filter-queue').value = f.queue || '';
	$('filter-label').value = f.label || '';
	$('filter-kind').value = f.kind || '';
	$('filter-text').value = f.text || '';
}

/* 'k=v' (or 'k:v', as /events takes it) → {k: v}; null when malformed. */
function parseLabel(s) {
	if (!s) return undefined;
	let i = s.indexOf('=');
	if (i < 0) i = s.indexOf(':');
	if (i <= 0) return null;
	return { [s.slice(0, i)]: s.slice(i + 1) };
}

/* task.list's params for a filter; a state may be forced (bulk actions). */
function listParams(f, state) {
	const p = {};
	if (state || f.state) p.state = state || f.state;
	if (f.queue) p.queue = f.queue;
	if (f.kind) p.kind = f.kind;
	if (f.text) p.text = f.text;
	const label = parseLabel(f.label);
	if (label) p.label = label;
	return p;
}

function checkLabel(f) {
	if (parseLabel(f.label) === null) {
		showError(new Error('The label filter is key=value.'));
		return false;
	}
	return true;
}

/* Whether a task event may belong to the filtered list (text: checked later). */
function eventMatches(ev, f) {
	if (f.state && f.state !== ev.state) return false;
	if (f.queue && f.queue !== ev.queue) return false;
	if (f.kind && f.kind !== ev.kind) return false;
	const label = parseLabel(f.label);
	if (label) for (const [k, v] of Object.entries(label)) if (!ev.labels || ev.labels[k] !== v) return false;
	return true;
}

/* Close to the server's text filter: the spec or labels as JSON, key or id. */
function textMatches(t, text) {
	return JSON.stringify(t.spec).includes(text) || JSON.stringify(t.labels || {}).includes(text) ||
	    t.key === text || String(t.id) === text;
}

async function loadTasks(cursor) {
	const token = ++tasks.token;
	tasks.created.clear();
	if (!checkLabel(tasks.filter)) { renderTasks([], null); return; }
	const params = Object.assign(listParams(tasks.filter), { limit: PAGE });
	if (cursor) params.cursor = cursor;
	const r = await rpc('task.list', params);
	if (token !== tasks.token) return;
	tasks.cursor = cursor;
	tasks.next = r.next;
	tasks.trimmed = false;
	renderTasks(r.tasks || []);
}

function renderTasks(list) {
	tasks.rows = new Map(list.map((t) => [t.id, t]));
	$('task-table').tBodies[0].replaceChildren(...list.map(taskRow));
	updatePager();
}

function updatePager() {
	$('task-empty').hidden = tasks.rows.size > 0;
	$('page-prev').disabled = tasks.cursors.length === 0;
	$('page-next').disabled = !tasks.next;
	$('page-info').textContent = tasks.rows.size ? `page ${tasks.cursors.length + 1}` : '';
}

function taskRow(t) {
	const desc = describe(t);
	const tr = el('tr', { data: { taskId: String(t.id) } },
		el('td', { class: 'num' }, el('a', { href: `#/task/${t.id}` }, String(t.id))),
		el('td', null, t.kind),
		el('td', { class: 'desc', title: desc }, desc.length > 120 ? `${desc.slice(0, 119)}…` : desc),
		el('td', null, t.queue),
		el('td', { class: 'state' }, badge(t.state)),
		el('td', { class: 'attempt num' }, String(t.attempt)),
		el('td', { class: 'created', title: t.created_at }, fmtTime(t.created_at)),
		el('td', { class: 'duration num' }, taskDuration(t)),
		session.readOnly ? null : el('td', { class: 'actions rw' }, ...rowButtons(t)));
	return tr;
}

function rowButtons(t) {
	const b = [];
	if (!FINISHED.has(t.state))
		b.push(el('button', { type: 'button', class: 'cancel-task small danger', 'aria-label': `Cancel task ${t.id}` }, 'Cancel'));
	if (t.state === 'failed' || t.state === 'cancelled')
		b.push(el('button', { type: 'button', class: 'retry-task small', 'aria-label': `Retry task ${t.id}` }, 'Retry'));
	return b;
}

/* A task event for a shown row: its cells change in place. */
function patchRow(ev) {
	const t = tasks.rows.get(ev.task);
	t.state = ev.state;
	t.attempt = ev.attempt;
	if (ev.type === 'task.started') { t.started_at = ev.at; delete t.finished_at; }
	if (FINISHED.has(ev.state)) t.finished_at = ev.at;
	updateRow(t);
}

function rowOf(id) {
	return $('task-table').querySelector(`tr[data-task-id="${id}"]`);
}

function updateRow(t) {
	const tr = rowOf(t.id);
	if (!tr) return;
	tr.querySelector('td.state').replaceChildren(badge(t.state));
	tr.querySelector('td.attempt').textContent = String(t.attempt);
	tr.querySelector('td.duration').textContent = taskDuration(t);
	const actions = tr.querySelector('td.actions');
	if (actions) actions.replaceChildren(...rowButtons(t));
}

function refreshRunningDurations() {
	for (const t of tasks.rows.values())
		if (t.state === 'running') updateRow(t);
}

/* New tasks matching the filter join the first page, newest on top. */
const insertCreatedSoon = throttled(async () => {
	const ids = [...tasks.created].sort((a, b) => b - a).slice(0, PAGE);
	tasks.created.clear();
	const token = tasks.token;
	const answers = await rpcBatch(ids.map((id) => ['task.get', { id }]));
	if (token !== tasks.token || tasks.cursor) return;
	const tbody = $('task-table').tBodies[0];
	for (const a of answers) {
		const t = a.result;
		if (!t || tasks.rows.has(t.id)) continue;
		if (tasks.filter.text && !textMatches(t, tasks.filter.text)) continue;
		tasks.rows.set(t.id, t);
		const before = [...tbody.rows].find((r) => Number(r.dataset.taskId) < t.id);
		tbody.insertBefore(taskRow(t), before || null);
	}
	while (tbody.rows.length > PAGE) {
		const last = tbody.rows[tbody.rows.length - 1];
		tasks.rows.delete(Number(last.dataset.taskId));
		last.remove();
		tasks.trimmed = true;
	}
	if (tasks.trimmed && !tasks.next) tasks.next = 'refetch';
	updatePager();
}, 500);

async function pageOlder() {
	let next = tasks.next;
	if (tasks.trimmed) {
		/* rows were pushed off this page: ask again where it ends now */
		const r = await rpc('task.list', Object.assign(listParams(tasks.filter), { limit: PAGE }));
		next = r.next;
	}
	if (!next) return loadTasks(tasks.cursor);
	tasks.cursors.push(tasks.cursor);
	return loadTasks(next);
}

function pageNewer() {
	if (!tasks.cursors.length) return;
	return loadTasks(tasks.cursors.pop());
}

function applyFilter(ev) {
	ev.preventDefault();
	const f = filterFrom(new URLSearchParams(new FormData($('task-filter'))));
	if (!checkLabel(f)) return;
	const hash = `#/tasks${Object.keys(f).length ? `?${new URLSearchParams(f)}` : ''}`;
	if (location.hash === hash) spawn(() => tasks.enter(new URLSearchParams(f)));
	else location.hash = hash;
}

/* Pages through every task matching the filter in one state. */
async function eachMatching(state, fn) {
	let cursor = null;
	do {
		const params = Object.assign(listParams(tasks.filter, state), { limit: 500 });
		if (cursor) params.cursor = cursor;
		const r = await rpc('task.list', params);
		if (r.tasks.length) await fn(r.tasks);
		cursor = r.next;	/* id-based: changing the tasks does not shift it */
	} while (cursor);
}

/* Calls method on each task of the filter in the states; a summary. */
async function bulk(states, method, what) {
	let ok = 0, failed = 0, firstError = null;
	for (const state of states.filter((s) => !tasks.filter.state || tasks.filter.state === s)) {
		await eachMatching(state, async (list) => {
			const answers = await rpcBatch(list.map((t) => [method, { id: t.id }]));
			for (const a of answers) {
				if (a.error) { failed++; firstError = firstError || a.error; }
				else if (method !== 'task.cancel' || a.result.cancelled) ok++;
			}
		});
	}
	if (firstError) showError(new RpcError(firstError));
	notice(`${what}: ${ok} task${ok === 1 ? '' : 's'}${failed ? `, ${failed} refused` : ''}.`);
	tasks.cursors = [];
	await loadTasks(null);
}

async function bulkCancel() {
	if (!checkLabel(tasks.filter) || !confirm('Cancel every unfinished task matching the filter?')) return;
	await bulk(['pending', 'running'], 'task.cancel', 'Cancelled');
}

async function bulkRetry() {
	if (!checkLabel(tasks.filter) || !confirm('Retry every failed task matching the filter (each as a new task)?')) return;
	await bulk(['failed'], 'task.retry', 'Retried');
}

async function bulkDelete() {
	const f = tasks.filter;
	if (!checkLabel(f)) return;
	if (f.state && !FINISHED.has(f.state)) {
		notice('Only finished tasks are deleted: this filter matches none.');
		return;
	}
	if (!confirm('Delete every finished task matching the filter, with its result and output?')) return;
	let deleted = 0;
	if (f.kind || f.text) {
		/* task.delete filters by state, queue and label only: go by ids */
		for (const state of f.state ? [f.state] : [...FINISHED])
			await eachMatching(state, async (list) => {
				deleted += (await rpc('task.delete', { ids: list.map((t) => t.id) })).deleted;
			});
	} else {
		const p = {};
		if (f.state) p.state = f.state;
		if (f.queue) p.queue = f.queue;
		if (f.label) p.label = parseLabel(f.label);
		if (!Object.keys(p).length) p.all = true;	/* {} deletes nothing */
		deleted = (await rpc('task.delete', p)).deleted;
	}
	notice(`Deleted ${deleted} task${deleted === 1 ? '' : 's'}.`);
	tasks.cursors = [];
	await loadTasks(null);
}

/* Row buttons and clicks, delegated from the table body. */
function onTaskTableClick(ev) {
	const tr = ev.target.closest('tr[data-task-id]');
	if (!tr) return;
	const id = Number(tr.dataset.taskId);
	const button = ev.target.closest('button');
	if (button && button.classList.contains('cancel-task')) {
		spawn(() => rowAction(id, 'task.cancel', button));
	} else if (button && button.classList.contains('retry-task')) {
		spawn(() => rowAction(id, 'task.retry', button));
	} else if (!button && !ev.target.closest('a') && !String(window.getSelection() || '')) {
		location.hash = `#/task/${id}`;	/* the whole row leads to the task */
	}
}

async function rowAction(id, method, button) {
	if (session.readOnly) return;
	button.disabled = true;
	try {
		const r = await rpc(method, { id });
		if (method === 'task.retry') notice(`Task ${id} retried as task ${r.id}.`);
		const t = await rpc('task.get', { id }, { quiet: true }).catch(() => null);
		if (t && tasks.rows.has(id)) { tasks.rows.set(id, t); updateRow(t); }
	} finally {
		button.disabled = false;
	}
}

/* =================================================================== task */

const task = {
	el: 'view-task',
	id: null,
	task: null,
	sig: '',
	outCtl: null,		/* aborts the output long-poll */
	itemsCtl: null,		/* aborts the stream long-poll */
	outAttempt: -1,		/* the attempt whose output is shown */

	enter(id) {
		this.id = id;
		this.task = null;
		this.sig = '';
		this.outAttempt = -1;
		$('task-title').textContent = `Task ${id}`;
		const st = $('task-state');
		st.textContent = '';
		st.className = 'badge';
		$('task-retried').hidden = true;
		$('task-details').replaceChildren();
		$('task-stdout').textContent = '';
		$('task-stderr').textContent = '';
		$('task-items').replaceChildren();
		$('task-output-attempt').textContent = '';
		$('task-cancel').hidden = true;
		$('task-retry').hidden = true;
		return loadTask(true);
	},
	leave() {
		this.id = null;
		stopFollowing();
		this.refreshSoon.cancel();
	},
	reload() { return loadTask(false); },
	onEvent(ev) {
		if (ev.task !== this.id || !this.task) return;
		setTaskState(ev.state);
		/* a new attempt writes its output from offset 0 again */
		if (ev.type === 'task.started' && ev.attempt > this.outAttempt)
			followOutput(ev.attempt);
		this.refreshSoon();
	},
};

task.refreshSoon = throttled(() => (task.id != null ? loadTask(false) : null), 1000);

function stopFollowing() {
	if (task.outCtl) task.outCtl.abort();
	if (task.itemsCtl) task.itemsCtl.abort();
	task.outCtl = task.itemsCtl = null;
}

function setTaskState(state) {
	const st = $('task-state');
	st.textContent = state;
	st.className = `badge state-${state}`;
	const ro = session.readOnly;
	$('task-cancel').hidden = ro || FINISHED.has(state);
	$('task-retry').hidden = ro || !FINISHED.has(state);
}

async function loadTask(first) {
	const id = task.id;
	let t;
	try {
		t = await rpc('task.get', { id }, { quiet: !first });
	} catch (e) {
		if (e instanceof RpcError && e.code === 4 && task.id === id)
			$('task-details').replaceChildren(el('p', { class: 'empty' }, `No task ${id} (deleted, or never was).`));
		throw e;
	}
	if (task.id !== id) return;
	task.task = t;
	setTaskState(t.state);
	const sig = JSON.stringify(t);
	if (sig !== task.sig) {	/* re-rendered only when it changed */
		task.sig = sig;
		$('task-details').replaceChildren(...taskDetails(t));
		loadChildren(id).catch(() => {});
	}
	if (first) {
		followOutput(t.attempt);
		followItems();
	}
}

function link(href, text) {
	return el('a', { href }, text);
}

const tasksHref = (params) => `#/tasks?${new URLSearchParams(params)}`;

function kvRow(dl, name, value) {
	if (value == null || value === '') return;
	dl.append(el('dt', null, name), el('dd', null, value));
}

function taskDetails(t) {
	const dl = el('dl', { class: 'kv' });
	kvRow(dl, 'Kind', t.kind);
	kvRow(dl, 'Queue', link(tasksHref({ queue: t.queue }), t.queue));
	kvRow(dl, 'Priority', String(t.priority ?? 0));
	kvRow(dl, 'Key', t.key == null ? '—' : el('code', null, t.key));
	const labels = Object.entries(t.labels || {});
	kvRow(dl, 'Labels', labels.length ? el('span', { class: 'chips' }, ...labels.map(([k, v]) =>
		el('a', { class: 'chip', href: tasksHref({ label: `${k}=${v}` }) }, `${k}=${v}`))) : '—');
	if (Array.isArray(t.after) && t.after.length)
		kvRow(dl, 'After', el('span', { class: 'chips' }, ...t.after.map((d) => link(`#/task/${d}`, `#${d}`))));
	if (t.parent != null) kvRow(dl, 'Parent', link(`#/task/${t.parent}`, `#${t.parent}`));
	if (t.child_policy) kvRow(dl, 'Child policy', t.child_policy);
	kvRow(dl, 'Attempt', `${t.attempt} of ${(t.max_retries || 0) + 1}`);
	kvRow(dl, 'Created', fmtTime(t.created_at));
	kvRow(dl, 'Not before', fmtTime(t.not_before));
	kvRow(dl, 'Started', fmtTime(t.started_at));
	kvRow(dl, 'Finished', fmtTime(t.finished_at));
	kvRow(dl, 'Duration', taskDuration(t));
	kvRow(dl, 'Timeout', t.timeout != null ? fmtDuration(t.timeout) : null);
	if (t.state === 'failed') kvRow(dl, 'Retrieved', t.retrieved ? 'yes' : 'no');
	const parts = [dl, el('h2', null, 'Spec'), el('pre', { id: 'task-spec' }, JSON.stringify(t.spec, null, 2))];
	if (Array.isArray(t.attempts) && t.attempts.length)
		parts.push(el('h2', null, 'Attempts'), el('ol', { class: 'attempts' }, ...t.attempts.map(attemptItem)));
	if (t.state === 'succeeded' && 'result' in t)
		parts.push(el('h2', null, 'Result'), el('pre', { id: 'task-result' }, resultText(t)));
	if (t.exception)
		parts.push(el('h2', null, 'Exception'), el('pre', { id: 'task-exception', class: 'error' }, exceptionText(t.exception)));
	parts.push(el('div', { id: 'task-children' }));
	return parts;
}

/* A task's children (a group's members), filled in after the details. */
async function loadChildren(id) {
	const r = await rpc('task.list', { parent: id, limit: 100 }, { quiet: true });
	const box = $('task-children');
	if (!box || task.id !== id || !r.tasks.length) return;
	box.replaceChildren(el('h2', null, r.next ? 'Children (the newest 100)' : 'Children'),
		el('ul', { class: 'children' }, ...r.tasks.map((c) =>
			el('li', null, link(`#/task/${c.id}`, `#${c.id}`), ' ', badge(c.state), ` ${c.kind}`))));
}

function attemptItem(a) {
	const run = a.started_at && a.finished_at ? ts(a.finished_at) - ts(a.started_at) : null;
	const ex = a.exception ? ` — ${a.exception.type}: ${a.exception.message}` : '';
	return el('li', { value: a.attempt }, badge(a.outcome),
		` ${fmtTime(a.started_at)} → ${fmtTime(a.finished_at)}${run != null ? ` (${fmtDuration(run)})` : ''}${ex}`);
}

/* An exec result's stdout and stderr are shown as the output already. */
function resultText(t) {
	let r = t.result;
	if (t.kind === 'exec' && r && typeof r === 'object' && !Array.isArray(r) && (t.spec || {}).capture !== 'json') {
		r = Object.assign({}, r);
		delete r.stdout;
		delete r.stderr;
	}
	return JSON.stringify(r, null, 2);
}

function exceptionText(x) {
	const lines = [`${x.type}: ${x.message}`];
	const rest = Object.assign({}, x);
	for (const k of ['type', 'message', 'stdout', 'stderr', 'stderr_tail']) delete rest[k];
	for (const [k, v] of Object.entries(rest))
		lines.push(`${k}: ${k === 'duration' ? fmtDuration(v) : typeof v === 'string' ? v : JSON.stringify(v)}`);
	if (x.stderr_tail) lines.push('', '--- stderr (tail) ---', x.stderr_tail);
	return lines.join('\n');
}

/* Appends text to a pre, following the end if the reader was there. */
function appendOutput(pre, text) {
	if (!text) return;
	const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
	pre.append(text);
	if (atEnd) pre.scrollTop = pre.scrollHeight;
}

/*
 * A long-poll loop: call() until it says done; stops when signal aborts.
 * A network error is retried after a pause; a JSON-RPC error ends it.
 */
async function follow(signal, call) {
	while (!signal.aborted) {
		const began = Date.now();
		let done, idle;
		try {
			[done, idle] = await call();
		} catch (e) {
			if (signal.aborted || e instanceof Leaving) return;
			if (e instanceof RpcError) { showError(e); return; }
			await sleep(2000, signal);
			continue;
		}
		if (done) return;
		/* an answer with nothing new, at once: do not spin */
		if (idle && Date.now() - began < 1000) await sleep(1000, signal);
	}
}

/* stdout and stderr of the attempt, as they come (task.output "both"). */
function followOutput(attempt) {
	if (task.outCtl) task.outCtl.abort();
	const ctl = task.outCtl = new AbortController();
	const id = task.id, offsets = { stdout: 0, stderr: 0 };
	const out = $('task-stdout'), err = $('task-stderr');
	task.outAttempt = attempt;
	out.textContent = '';
	err.textContent = '';
	$('task-output-attempt').textContent = attempt > 1 ? `(attempt ${attempt})` : '';
	spawn(() => follow(ctl.signal, async () => {
		const r = await rpc('task.output', { id, stream: 'both', offsets, timeout: 25 }, { signal: ctl.signal, quiet: true });
		if (ctl.signal.aborted) return [true];
		appendOutput(out, r.stdout.data);
		appendOutput(err, r.stderr.data);
		offsets.stdout = r.stdout.next;
		offsets.stderr = r.stderr.next;
		return [r.eof, !r.stdout.data && !r.stderr.data];
	}));
}

/* The items the task yields (task.stream). */
function followItems() {
	const ctl = task.itemsCtl = new AbortController();
	const id = task.id, list = $('task-items');
	let from = 0, overflowShown = false;
	spawn(() => follow(ctl.signal, async () => {
		const r = await rpc('task.stream', { id, from, timeout: 25 }, { signal: ctl.signal, quiet: true });
		if (ctl.signal.aborted) return [true];
		const atEnd = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
		list.append(...r.items.map(itemEntry));
		if (atEnd) list.scrollTop = list.scrollHeight;
		if (r.overflow && !overflowShown) {
			overflowShown = true;
			list.after(el('p', { class: 'note' }, 'The stream is full: later items were dropped.'));
		}
		from = r.next;
		return [r.done, !r.items.length];
	}));
}

function itemEntry(it) {
	if (it.error)
		return el('li', { value: it.seq, class: 'item-error' },
			`${it.error.type}: ${it.error.message}${it.error.line != null ? ` — ${it.error.line}` : ''}`);
	return el('li', { value: it.seq }, JSON.stringify(it.value));
}

async function taskAction(method) {
	if (session.readOnly || task.id == null) return;
	const id = task.id;
	const r = await rpc(method, { id });
	if (method === 'task.retry' && task.id === id) {
		const note = $('task-retried');
		note.replaceChildren('Retried as ', link(`#/task/${r.id}`, `task ${r.id}`), '.');
		note.hidden = false;
	}
	if (task.id === id) await loadTask(false);
}

/* ================================================================= queues */

/* A view read again every 2 s while shown, through its refreshSoon. */
function startPolling(view) {
	clearInterval(view.timer);
	view.timer = setInterval(() => view.refreshSoon(), 2000);
}

function stopPolling(view) {
	clearInterval(view.timer);
	view.timer = null;
	view.refreshSoon.cancel();
}

const queues = {
	el: 'view-queues',
	timer: null,
	enter() {
		startPolling(this);	/* rate limits change without an event */
		return refreshQueues();
	},
	leave() { stopPolling(this); },
	reload() { return refreshQueues(); },
	onEvent(ev) {
		if (ev.type === 'queue.changed' && ev.settings) upsertQueue(ev.settings);
		else if (ev.type === 'queue.deleted') removeQueue(ev.queue);
		else this.refreshSoon();	/* task events move running/waiting */
	},
};

queues.refreshSoon = throttled(() => (current === queues ? refreshQueues() : null), 1000);

async function refreshQueues() {
	const [r, rates] = await rpcBatch([['queue.list', {}], ['rate.list', {}]]);
	if (current !== queues) return;
	if (r.error) throw new RpcError(r.error);
	if (rates.error) throw new RpcError(rates.error);
	const names = new Set();
	for (const q of r.result.queues || []) { names.add(q.name); upsertQueue(q); }
	for (const tr of [...queueBody().rows])
		if (!names.has(tr.dataset.queue)) tr.remove();
	$('queue-empty').hidden = queueBody().rows.length > 0;
	if (rates.result) renderRates(rates.result);
}

/* Rate limits: read-only here (futurectl rate set, rate.set). */
function renderRates(r) {
	const num = (v) => String(Math.round(v * 1000) / 1000);
	const rows = (r.rate_limits || []).map((x) => el('tr', { data: { rate: x.name } },
		el('td', null, x.name),
		el('td', { class: 'num' }, num(x.starts)),
		el('td', { class: 'num' }, fmtPeriod(x.per)),
		el('td', { class: 'num' }, num(x.burst))));
	$('rate-table').tBodies[0].replaceChildren(...rows);
	$('rate-empty').hidden = rows.length > 0;
	$('rate-waiting').textContent = r.waiting ? `${r.waiting} ready tasks wait for a token or a concurrency key.` : '';
}

const queueBody = () => $('queue-table').tBodies[0];

function queueRowOf(name) {
	return [...queueBody().rows].find((tr) => tr.dataset.queue === name) || null;
}

/* Updates a row in place (focus stays in its form), or adds it in order. */
function upsertQueue(q) {
	let tr = queueRowOf(q.name);
	if (!tr) {
		tr = queueRow(q);
		const before = [...queueBody().rows].find((r) => r.dataset.queue > q.name);
		queueBody().insertBefore(tr, before || null);
		$('queue-empty').hidden = true;
	}
	tr.classList.toggle('paused', !!q.paused);
	tr.querySelector('.q-limit').textContent = String(q.concurrency);
	tr.querySelector('.q-paused').textContent = q.paused ? 'yes' : 'no';
	tr.querySelector('.q-running').textContent = String(q.running ?? 0);
	tr.querySelector('.q-waiting').textContent = String(q.waiting ?? 0);
	const toggle = tr.querySelector('.queue-toggle');
	if (toggle) {
		toggle.classList.toggle('queue-pause', !q.paused);
		toggle.classList.toggle('queue-resume', !!q.paused);
		toggle.textContent = q.paused ? 'Resume' : 'Pause';
	}
	const input = tr.querySelector('input.queue-limit');
	/* what the user is typing is left alone */
	if (input && document.activeElement !== input && !input.dataset.dirty) input.value = String(q.concurrency);
}

function removeQueue(name) {
	const tr = queueRowOf(name);
	if (tr) tr.remove();
	$('queue-empty').hidden = queueBody().rows.length > 0;
}

function queueRow(q) {
	const tr = el('tr', { data: { queue: q.name } },
		el('td', null, link(tasksHref({ queue: q.name }), q.name)),
		el('td', { class: 'q-limit num' }),
		el('td', { class: 'q-paused' }),
		el('td', { class: 'q-running num' }),
		el('td', { class: 'q-waiting num' }));
	if (!session.readOnly)
		tr.append(el('td', { class: 'actions rw' },
			el('button', { type: 'button', class: 'queue-toggle small' }),
			' ',
			el('form', { class: 'limit-form' },
				el('input', { class: 'queue-limit', type: 'number', min: 0, max: 1000000, step: 1, required: true,
					inputmode: 'numeric', 'aria-label': `Concurrency limit of ${q.name}`,
					on: { input: (e) => { e.target.dataset.dirty = '1'; } } }),
				el('button', { type: 'submit', class: 'queue-limit-set small' }, 'Set limit'))));
	return tr;
}

function onQueueClick(ev) {
	const button = ev.target.closest('button.queue-toggle');
	const tr = ev.target.closest('tr[data-queue]');
	if (!button || !tr) return;
	const paused = button.classList.contains('queue-pause');
	spawn(() => queueSet({ name: tr.dataset.queue, paused }, button));
}

function onQueueSubmit(ev) {
	const form = ev.target.closest('form.limit-form');
	const tr = ev.target.closest('tr[data-queue]');
	if (!form || !tr) return;
	ev.preventDefault();
	const input = form.querySelector('input.queue-limit');
	const n = Number(input.value);
	if (!Number.isInteger(n) || n < 0) { input.reportValidity(); return; }
	spawn(async () => {
		await queueSet({ name: tr.dataset.queue, concurrency: n }, form.querySelector('button'));
		delete input.dataset.dirty;
		input.blur();
	});
}

async function queueSet(params, button) {
	if (session.readOnly) return;
	button.disabled = true;
	try {
		upsertQueue(await rpc('queue.set', params));
	} finally {
		button.disabled = false;
	}
}

/* ============================================================== schedules */

/*
 * Schedules change with time, not only with events: read again every 2 s,
 * one read at a time; an error of those reads is not shown again and
 * again (the first read's is).
 */
const schedules = {
	el: 'view-schedules',
	timer: null,
	enter() {
		startPolling(this);
		return refreshSchedules();
	},
	leave() { stopPolling(this); },
	reload() { return refreshSchedules(); },
};

schedules.refreshSoon = throttled(() => (current === schedules ? refreshSchedules({ quiet: true }) : null), 1000);

const scheduleBody = () => $('schedule-table').tBodies[0];

async function refreshSchedules(opts = {}) {
	const r = await rpc('schedule.list', {}, opts);
	if (current !== schedules) return;
	const rows = new Map([...scheduleBody().rows].map((tr) => [tr.dataset.schedule, tr]));
	const names = new Set();
	for (const s of r.schedules || []) { names.add(s.name); upsertSchedule(s, rows); }
	for (const [name, tr] of rows)
		if (!names.has(name)) tr.remove();
	$('schedule-empty').hidden = scheduleBody().rows.length > 0;
}

function scheduleWhen(s) {
	if (s.cron) return s.tz && s.tz !== 'UTC' ? `${s.cron} (${s.tz})` : s.cron;
	return `every ${fmtPeriod(s.every)}`;
}

/* Updates a row in place, or adds it in name order (rows: name → row). */
function upsertSchedule(s, rows) {
	let tr = rows.get(s.name);
	if (!tr) {
		tr = scheduleRow(s);
		const before = [...scheduleBody().rows].find((r) => r.dataset.schedule > s.name);
		scheduleBody().insertBefore(tr, before || null);
		rows.set(s.name, tr);
	}
	tr.classList.toggle('paused', !!s.paused);
	tr.querySelector('.s-when').textContent = scheduleWhen(s);
	tr.querySelector('.s-next').textContent = s.paused ? '—' : fmtTime(s.next_at) || '—';
	const last = tr.querySelector('.s-last');
	if (s.last && s.last.task != null)
		last.replaceChildren(link(`#/task/${s.last.task}`, `task ${s.last.task}`),
			s.last.state ? ` ${s.last.state}` : '');
	else if (s.last && s.last.error)
		last.textContent = `${fmtTime(s.last.scheduled_at)}, no task: ${s.last.error}`;
	else
		last.textContent = s.last ? `${fmtTime(s.last.scheduled_at)}, no task` : '—';
	tr.querySelector('.s-fired').textContent = String(s.fired ?? 0);
	tr.querySelector('.s-skipped').textContent = String(s.skipped ?? 0);
	tr.querySelector('.s-missed').textContent = String(s.missed ?? 0);
	tr.querySelector('.s-paused').textContent = s.paused ? 'yes' : 'no';
	const toggle = tr.querySelector('.schedule-toggle');
	if (toggle) {
		toggle.classList.toggle('schedule-pause', !s.paused);
		toggle.classList.toggle('schedule-resume', !!s.paused);
		toggle.textContent = s.paused ? 'Resume' : 'Pause';
	}
}

function scheduleRow(s) {
	const tr = el('tr', { data: { schedule: s.name } },
		el('td', null, link(tasksHref({ label: `schedule=${s.name}` }), s.name)),
		el('td', { class: 's-when' }),
		el('td', { class: 's-next' }),
		el('td', { class: 's-last' }),
		el('td', { class: 's-fired num' }),
		el('td', { class: 's-skipped num' }),
		el('td', { class: 's-missed num' }),
		el('td', { class: 's-paused' }));
	if (!session.readOnly)
		tr.append(el('td', { class: 'actions rw' },
			el('button', { type: 'button', class: 'schedule-toggle small' }),
			' ',
			el('button', { type: 'button', class: 'schedule-trigger small' }, 'Run now')));
	return tr;
}

function onScheduleClick(ev) {
	const button = ev.target.closest('button');
	const tr = ev.target.closest('tr[data-schedule]');
	if (!button || !tr || session.readOnly) return;
	const name = tr.dataset.schedule;
	let method;
	if (button.classList.contains('schedule-trigger')) method = 'schedule.trigger';
	else if (button.classList.contains('schedule-pause')) method = 'schedule.pause';
	else if (button.classList.contains('schedule-resume')) method = 'schedule.resume';
	else return;
	spawn(async () => {
		button.disabled = true;
		try {
			const r = await rpc(method, { name });
			if (method === 'schedule.trigger' && r.outcome !== 'fired')
				notice(`${name}: ${r.outcome}, under its overlap policy (its last task has not ended).`);
			await refreshSchedules();
		} finally {
			button.disabled = false;
		}
	});
}

/* ================================================================= router */

const views = { overview, tasks, task, queues, schedules };
let current = null;

/* #/, #/tasks?…, #/task/ID, #/queues, #/schedules → a view and its argument. */
function parseHash() {
	const h = location.hash.replace(/^#/, '') || '/';
	const q = h.indexOf('?');
	const path = q < 0 ? h : h.slice(0, q);
	const query = new URLSearchParams(q < 0 ? '' : h.slice(q + 1));
	let m;
	if (path === '/' || path === '') return ['overview'];
	if (path === '/tasks') return ['tasks', query];
	if ((m = /^\/task\/([1-9][0-9]{0,15})$/.exec(path))) return ['task', Number(m[1])];
	if (path === '/queues') return ['queues'];
	if (path === '/schedules') return ['schedules'];
	return null;
}

function route() {
	const r = parseHash();
	if (!r) { location.replace('#/'); return; }
	const [name, arg] = r;
	$('notice').hidden = true;	/* it spoke of the view being left */
	if (current) current.leave();
	current = views[name];
	for (const s of document.querySelectorAll('.view')) s.hidden = s.id !== current.el;
	const navName = name === 'task' ? 'tasks' : name;
	for (const a of document.querySelectorAll('nav a[data-view]')) {
		if (a.dataset.view === navName) a.setAttribute('aria-current', 'page');
		else a.removeAttribute('aria-current');
	}
	document.title = `${name === 'task' ? `Task ${arg}` : name[0].toUpperCase() + name.slice(1)} · futured`;
	spawn(() => current.enter(arg));
}

/* =================================================================== boot */

/* The session's facts; without a session the server redirects to /login. */
async function checkSession() {
	let res, s;
	try {
		res = await fetch('/ui/session', { credentials: 'same-origin', cache: 'no-store' });
	} catch (e) {
		throw new Error('futured cannot be reached');
	}
	const type = res.headers.get('Content-Type') || '';
	if (res.redirected || !res.ok || !type.includes('json')) goLogin();
	try { s = await res.json(); } catch (e) { goLogin(); }
	return s;
}

function wire() {
	$('error-dismiss').addEventListener('click', () => { $('error-banner').hidden = true; });
	$('notice-dismiss').addEventListener('click', () => { $('notice').hidden = true; });
	$('task-filter').addEventListener('submit', applyFilter);
	$('filter-clear').addEventListener('click', () => {
		fillFilterForm({});
		if (location.hash === '#/tasks') spawn(() => tasks.enter(null));
		else location.hash = '#/tasks';
	});
	$('page-next').addEventListener('click', () => spawn(pageOlder));
	$('page-prev').addEventListener('click', () => spawn(pageNewer));
	$('bulk-cancel').addEventListener('click', () => spawn(bulkCancel));
	$('bulk-retry').addEventListener('click', () => spawn(bulkRetry));
	$('bulk-delete').addEventListener('click', () => spawn(bulkDelete));
	$('task-table').tBodies[0].addEventListener('click', onTaskTableClick);
	$('task-cancel').addEventListener('click', () => spawn(() => taskAction('task.cancel')));
	$('task-retry').addEventListener('click', () => spawn(() => taskAction('task.retry')));
	queueBody().addEventListener('click', onQueueClick);
	queueBody().addEventListener('submit', onQueueSubmit);
	scheduleBody().addEventListener('click', onScheduleClick);
	$('logout-form').addEventListener('submit', () => { leavingPage = true; closeEvents(); stopFollowing(); });
	window.addEventListener('hashchange', route);
	window.addEventListener('pagehide', () => { closeEvents(); stopFollowing(); });
	/* back from the page cache with the stream closed: start afresh */
	window.addEventListener('pageshow', (e) => { if (e.persisted) location.reload(); });
	/* canvas colours come from CSS: redraw the charts in the new scheme */
	matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
		destroyCharts();
		if (current === overview) { ensureCharts(); drawCharts(true); }
	});
}

/* The server's clock, from daemon.info, so buckets match event times. */
async function syncClock() {
	const info = await rpc('daemon.info', {});
	const now = Date.parse(info.started_at) / 1000 + info.uptime;
	if (isFinite(now)) stats.skew = now - Date.now() / 1000;
}

async function boot() {
	wire();
	const s = await checkSession();
	session.csrf = s.csrf || '';
	session.readOnly = !!s.read_only;
	session.version = s.version || '';
	session.session = !!s.session;
	document.body.classList.toggle('read-only', session.readOnly);
	$('read-only-note').hidden = !session.readOnly;
	$('version').textContent = session.version ? `v${session.version}` : '';
	/* a trusted connection (no session) has nothing to log out of */
	$('logout-form').hidden = !session.session;
	openEvents();
	route();
	setInterval(pruneStats, 10000);	/* also while no chart is drawn */
	await syncClock();
	await seedStats();
	if (current === overview) drawCharts(true);
}

spawn(boot);

})();
