// The dashboard in a real browser (issue #15): Debian's chromium, headless,
// driven over the DevTools protocol (cdp.js).  Run by dashboard.sh, which
// starts futured; here: log in through futurectl ui's link, watch a task
// appear and change state without a reload, cancel one from the UI, filter,
// open a task and watch its output grow, the queues and rate limits, the
// schedules (pause, resume, run now), a phone-width screen,
// the keyboard, logout; and no console error anywhere.
'use strict';
const assert = require('node:assert');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const cdp = require('./cdp.js');

const SOCK = process.env.SOCK;        // futured's Unix socket: the test's own calls
const LINK = process.env.LINK;        // futurectl ui's one-time link
const BASE = new URL(LINK).origin;
const GATES = process.env.GATES;      // a directory for gate files
const SHOT = process.env.SCREENSHOT;  // where to keep the overview's picture

let rpcId = 0;
function rpc(method, params = {}) {
  const body = JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method, params });
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: SOCK, path: '/rpc', method: 'POST',
      headers: { 'Content-Type': 'application/json' } }, (res) => {
      let data = '';
      res.on('data', (c) => { data += c; });
      res.on('end', () => {
        const r = JSON.parse(data);
        if (r.error) reject(new Error(`${method}: ${JSON.stringify(r.error)}`));
        else resolve(r.result);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
const submit = async (spec) => (await rpc('task.submit', spec)).id;
const gate = (name) => path.join(GATES, name);
// a shell task that waits for gate files (the test decides when it goes on)
const gated = (script) => ({ kind: 'exec', argv: ['sh', '-c', script] });

function step(what) { process.stdout.write(`# ${what}\n`); }

async function main() {
  const browser = await cdp.launch({ width: 1280, height: 900 });
  try {
    const page = await browser.newPage();
    await page.autoAcceptDialogs();

    step('the login link opens the dashboard and leaves a strict cookie');
    await page.goto(LINK);
    await page.waitFor(() => location.pathname === '/ui/');
    await page.waitForSelector('#view-overview', { visible: true });
    const cookies = await page.cookies();
    const session = cookies.find((c) => c.name === 'futured_session');
    assert.ok(session, 'a futured_session cookie');
    assert.strictEqual(session.httpOnly, true, 'HttpOnly');
    assert.strictEqual(session.sameSite, 'Strict', 'SameSite=Strict');
    assert.strictEqual(await page.evaluate(() => document.cookie.includes('futured_session')), false,
      'the page cannot read the session cookie');

    step('the overview counts tasks live');
    const before = await page.waitFor(() => {
      const t = (document.querySelector('#count-succeeded') || {}).textContent;
      return /^[0-9]+$/.test((t || '').trim()) ? String(Number(t)) : null;
    }, { timeout: 15000 }).then(Number);
    await submit({ kind: 'exec', argv: ['true'] });
    await page.waitFor((n) => Number(document.querySelector('#count-succeeded').textContent) > n,
      { timeout: 15000 }, before);
    await page.waitForSelector('#chart-throughput canvas');
    await page.waitForSelector('#chart-latency canvas');

    step('a submitted task appears in the table and changes state without a reload');
    await page.goto(`${BASE}/ui/#/tasks`);
    await page.waitForSelector('#task-table', { visible: true });
    await page.evaluate(() => { window.__noReload = 1; });
    const live = await submit(gated(`echo started; while [ ! -e ${gate('live')} ]; do sleep 0.05; done`));
    await page.waitFor((id) => document.querySelector(`tr[data-task-id="${id}"]`), { timeout: 15000 }, live);
    assert.strictEqual(await waitRowState(page, live, 'running'), 'running');
    fs.writeFileSync(gate('live'), '');
    assert.strictEqual(await waitRowState(page, live, 'succeeded'), 'succeeded');
    assert.strictEqual(await page.evaluate(() => window.__noReload), 1, 'no reload happened');

    step('a task is cancelled from the UI');
    const victim = await submit({ kind: 'exec', argv: ['sleep', '300'] });
    await page.waitFor((id) => document.querySelector(`tr[data-task-id="${id}"] button.cancel-task`),
      { timeout: 15000 }, victim);
    await waitRowState(page, victim, 'running');
    await page.click(`tr[data-task-id="${victim}"] button.cancel-task`);
    assert.strictEqual(await waitRowState(page, victim, 'cancelled'), 'cancelled');
    assert.strictEqual((await rpc('task.get', { id: victim })).state, 'cancelled', 'futured has it cancelled');

    step('the filter shows only the matching tasks');
    const blue = [];
    for (let i = 0; i < 3; i++) blue.push(await submit({ kind: 'sleep', seconds: 0, queue: 'blue' }));
    const red = await submit({ kind: 'sleep', seconds: 0, queue: 'red' });
    await rpc('task.wait', { ids: [...blue, red], timeout: 30 });
    await page.click('#filter-queue');
    await page.type('#filter-queue', 'blue');
    await page.press('Enter');
    await page.waitFor(() => location.hash.includes('queue=blue'));
    const shown = await page.waitFor((want) => {
      const ids = [...document.querySelectorAll('#task-table tr[data-task-id]')]
        .map((r) => Number(r.dataset.taskId));
      return ids.length === want.length && want.every((id) => ids.includes(id)) ? ids : null;
    }, { timeout: 15000 }, blue);
    assert.ok(!shown.includes(red), 'the red task is filtered out');

    step('cancel every task a filter matches');
    const bulk = [];
    for (let i = 0; i < 3; i++) bulk.push(await submit({ kind: 'exec', argv: ['sleep', '300'], queue: 'bulk' }));
    await page.goto(`${BASE}/ui/#/tasks?queue=bulk`);
    await page.waitFor((want) => want.every((id) => document.querySelector(`tr[data-task-id="${id}"]`)),
      { timeout: 15000 }, bulk);
    await page.click('#bulk-cancel');
    for (const id of bulk) assert.strictEqual(await waitRowState(page, id, 'cancelled'), 'cancelled');
    for (const id of bulk) assert.strictEqual((await rpc('task.get', { id })).state, 'cancelled');

    step('a task opened follows its output as it grows');
    const chatty = await submit(gated(
      `for i in 1 2 3; do echo line$i; while [ ! -e ${gate('out')}$i ]; do sleep 0.05; done; done`));
    await page.goto(`${BASE}/ui/#/task/${chatty}`);
    await page.waitForSelector('#view-task', { visible: true });
    for (let i = 1; i <= 3; i++) {
      await page.waitFor((want) => (document.querySelector('#task-stdout') || {}).textContent?.includes(want),
        { timeout: 15000 }, `line${i}`);
      fs.writeFileSync(`${gate('out')}${i}`, '');
    }
    await page.waitFor(() => document.querySelector('#task-state')?.textContent.trim() === 'succeeded',
      { timeout: 15000 });
    const out = await page.text('#task-stdout');
    assert.strictEqual(out.trim(), 'line1\nline2\nline3', 'the whole output, once');
    const spec = await page.text('#task-spec');
    assert.ok(spec.includes('"argv"'), 'the spec is shown');

    step('a failed task shows its exception and stderr tail; retried from the UI');
    const boom = await submit(gated('echo "ValueError: boom" >&2; exit 3'));
    await rpc('task.wait', { ids: [boom], timeout: 30 });
    await page.goto(`${BASE}/ui/#/task/${boom}`);
    await page.waitFor(() => (document.querySelector('#task-exception') || {}).textContent?.includes('ValueError: boom'),
      { timeout: 15000 });
    await page.click('#task-retry');
    const retried = await pollRetry(boom);
    assert.ok(retried > boom, 'a new task for the retry');

    step('a group shows its members, each linking to its task');
    const grp = await submit({ kind: 'group' });
    const members = [await submit({ kind: 'future', parent: grp }), await submit({ kind: 'sleep', seconds: 0, parent: grp })];
    await page.goto(`${BASE}/ui/#/task/${grp}`);
    const shownMembers = await page.waitFor((n) => {
      const links = [...document.querySelectorAll('#task-children li a')].map((a) => a.getAttribute('href'));
      return links.length === n && links;
    }, { timeout: 15000 }, members.length);
    assert.deepStrictEqual(shownMembers.sort(), members.map((m) => `#/task/${m}`).sort(), 'the members, linked');
    await page.goto(`${BASE}/ui/#/task/${members[0]}`);
    await page.waitFor((g) => [...document.querySelectorAll('#task-details dd a')].some((a) => a.getAttribute('href') === `#/task/${g}`),
      { timeout: 15000 }, grp);
    await rpc('task.cancel', { id: grp });

    step('queues: pause and resume from the UI');
    await rpc('queue.set', { name: 'gold', concurrency: 2 });
    await page.goto(`${BASE}/ui/#/queues`);
    await page.waitForSelector('#queue-table tr[data-queue="gold"] button.queue-pause');
    await page.click('#queue-table tr[data-queue="gold"] button.queue-pause');
    await waitPaused('gold', true);
    await page.waitForSelector('#queue-table tr[data-queue="gold"] button.queue-resume');
    await page.click('#queue-table tr[data-queue="gold"] button.queue-resume');
    await waitPaused('gold', false);
    await page.type('#queue-table tr[data-queue="gold"] input.queue-limit', '5');
    await page.click('#queue-table tr[data-queue="gold"] button.queue-limit-set');
    await waitQueue('gold', (q) => q.concurrency === 5, 'limit 5');

    step('rate limits are listed with the queues');
    await rpc('rate.set', { name: 'api', starts: 10, per: 60, burst: 3 });
    await page.goto(`${BASE}/ui/#/`);	// entering the view reads them
    await page.waitForSelector('#view-overview', { visible: true });
    await page.goto(`${BASE}/ui/#/queues`);
    await page.waitFor(() => {
      const tr = document.querySelector('#rate-table tr[data-rate="api"]');
      return tr && [...tr.cells].map((c) => c.textContent.trim()).join('|') === 'api|10|1 min|3';
    }, { timeout: 15000 }).catch(async () => {
      throw new Error(`rate row: ${await page.evaluate(() => document.querySelector('#rate-table tbody').textContent)}`);
    });
    await rpc('rate.delete', { name: 'api' });

    step('schedules: listed, paused, resumed and run now from the UI');
    // it starts in 2099, so only "run now" fires it during the test
    await rpc('schedule.create', { name: 'nightly', cron: '0 3 * * *', start_at: '2099-01-01T00:00:00Z',
      task: { kind: 'sleep', seconds: 0 } });
    await page.goto(`${BASE}/ui/#/schedules`);
    await page.waitForSelector('#schedule-table tr[data-schedule="nightly"] button.schedule-pause', { timeout: 15000 });
    assert.strictEqual(await page.evaluate(() =>
      document.querySelector('#schedule-table tr[data-schedule="nightly"] .s-when').textContent), '0 3 * * *', 'its cron');
    await page.click('#schedule-table tr[data-schedule="nightly"] button.schedule-pause');
    await waitSchedule('nightly', (x) => x.paused === true, 'paused');
    await page.waitForSelector('#schedule-table tr[data-schedule="nightly"] button.schedule-resume');
    await page.click('#schedule-table tr[data-schedule="nightly"] button.schedule-resume');
    await waitSchedule('nightly', (x) => x.paused === false, 'resumed');
    await page.waitForSelector('#schedule-table tr[data-schedule="nightly"] button.schedule-pause');
    await page.click('#schedule-table tr[data-schedule="nightly"] button.schedule-trigger');
    const fired = await waitSchedule('nightly', (x) => x.fired === 1 && x.last && x.last.task != null, 'fired once');
    await page.waitFor((id) => document.querySelector(`#schedule-table tr[data-schedule="nightly"] .s-last a[href="#/task/${id}"]`),
      { timeout: 15000 }, fired.last.task);
    // a schedule made elsewhere shows up without a reload
    await rpc('schedule.create', { name: 'often', every: 3600, task: { kind: 'sleep', seconds: 0 } });
    await page.waitFor(() => /^every 1 h$/.test(
      document.querySelector('#schedule-table tr[data-schedule="often"] .s-when')?.textContent || ''), { timeout: 15000 });

    step('the overview, for the README');
    await page.goto(`${BASE}/ui/#/`);
    await page.waitForSelector('#chart-throughput canvas');
    await new Promise((r) => setTimeout(r, 500));
    if (SHOT) await page.screenshot(SHOT);

    step('a phone-width screen: nothing wider than the screen');
    await page.setViewport(360, 740, { mobile: true, deviceScaleFactor: 2 });
    for (const view of ['#/', '#/tasks', `#/task/${chatty}`, '#/queues', '#/schedules']) {
      await page.goto(`${BASE}/ui/${view}`);
      await page.waitFor(() => document.querySelector('[id^="view-"]:not([hidden])'));
      await new Promise((r) => setTimeout(r, 300));
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(wide <= 361, `${view} is ${wide}px wide on a 360px screen`);
    }
    await page.setViewport(1280, 900);

    step('the keyboard reaches the navigation');
    await page.goto(`${BASE}/ui/#/`);
    await page.waitForSelector('#view-overview', { visible: true });
    let reached = false;
    for (let i = 0; i < 8 && !reached; i++) {
      await page.press('Tab');
      reached = await page.evaluate(() => {
        const a = document.activeElement;
        return a && a.tagName === 'A' && a.getAttribute('href') === '#/tasks';
      });
    }
    assert.ok(reached, 'Tab reaches the Tasks link');
    await page.press('Enter');
    await page.waitForSelector('#view-tasks', { visible: true });

    step('logout ends the session');
    await page.click('#logout');
    await page.waitFor(() => location.pathname === '/login');
    await page.goto(`${BASE}/ui/`);
    await page.waitFor(() => location.pathname === '/login');

    step('the login form: a wrong token, then the token');
    await page.type('#login-token', 'wrong');
    await page.press('Enter');
    await page.waitFor(() => location.search === '?error=token' &&
      /wrong token/i.test(document.querySelector('#login-error')?.textContent || ''));
    await page.type('#login-token', process.env.TOKEN);
    await page.press('Enter');
    await page.waitFor(() => location.pathname === '/ui/');
    await page.waitForSelector('#view-overview', { visible: true });

    step('no console errors');
    assert.deepStrictEqual(page.consoleErrors(), [], 'console errors');
  } finally {
    await browser.close();
  }

  async function waitRowState(page, id, want) {
    return page.waitFor((id, want) => {
      const row = document.querySelector(`tr[data-task-id="${id}"]`);
      const badge = row && row.querySelector('[class*="state-"]');
      return badge && badge.textContent.trim() === want ? want : null;
    }, { timeout: 20000 }, id, want);
  }
  async function pollRetry(old) {
    for (let i = 0; i < 100; i++) {
      const r = await rpc('task.list', { label: { 'futured.retry_of': String(old) } });
      if (r.tasks.length > 0) return r.tasks[0].id;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`no retry of task ${old}`);
  }
  async function waitQueue(name, ok, what) {
    for (let i = 0; i < 100; i++) {
      const q = (await rpc('queue.list')).queues.find((x) => x.name === name);
      if (q && ok(q)) return;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`queue ${name}: not ${what}`);
  }
  async function waitSchedule(name, ok, what) {
    const tries = 100 * Number(process.env.FUTURED_TEST_SCALE || 1);
    for (let i = 0; i < tries; i++) {
      const x = (await rpc('schedule.list')).schedules.find((y) => y.name === name);
      if (x && ok(x)) return x;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`schedule ${name}: not ${what}`);
  }
  async function waitPaused(name, want) {
    for (let i = 0; i < 100; i++) {
      const q = (await rpc('queue.list')).queues.find((x) => x.name === name);
      if (q && q.paused === want) return;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`queue ${name} not paused=${want}`);
  }
}

main().then(() => { step('ok'); process.exit(0); },
  (e) => { process.stderr.write(`FAIL: ${e.stack || e}\n`); process.exit(1); });
