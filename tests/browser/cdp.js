// cdp.js: a small driver of Debian's chromium over the DevTools protocol,
// for the dashboard's end-to-end tests.  It speaks CDP on the pipe of
// --remote-debugging-pipe (fds 3 and 4, NUL-separated JSON), so it needs
// no npm package and no port.  Every wait has a timeout, multiplied by
// FUTURED_TEST_SCALE, and fails naming what it waited for.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const SCALE = Number(process.env.FUTURED_TEST_SCALE || 1) || 1;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const live = new Set();	// browsers to kill if the test exits early

process.on('exit', () => { for (const b of live) b.kill(); });

class Browser {
  constructor(proc, profile) {
    this.proc = proc;
    this.profile = profile;
    this.nextId = 1;
    this.pending = new Map();	// id -> {resolve, reject, method}
    this.listeners = new Map();	// sessionId -> [fn(method, params)]
    this.stderr = '';
    this.exited = false;
    let buf = '';
    proc.stdio[4].on('data', (chunk) => {
      buf += chunk.toString('utf8');
      let nul;
      while ((nul = buf.indexOf('\0')) >= 0) {
        const text = buf.slice(0, nul);
        buf = buf.slice(nul + 1);
        if (text) this.dispatch(JSON.parse(text));
      }
    });
    proc.stderr.on('data', (c) => { this.stderr = (this.stderr + c).slice(-8000); });
    proc.on('exit', () => {
      this.exited = true;
      live.delete(this);
      for (const p of this.pending.values())
        p.reject(new Error(`chromium exited during ${p.method}: ${this.stderr.slice(-1000)}`));
      this.pending.clear();
    });
  }

  dispatch(msg) {
    if (msg.id !== undefined) {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
      else p.resolve(msg.result);
      return;
    }
    for (const fn of this.listeners.get(msg.sessionId || '') || []) fn(msg.method, msg.params);
  }

  send(method, params = {}, sessionId) {
    if (this.exited) return Promise.reject(new Error(`chromium has exited (${method})`));
    const id = this.nextId++;
    const msg = { id, method, params };
    if (sessionId) msg.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.proc.stdio[3].write(JSON.stringify(msg) + '\0');
    });
  }

  listen(sessionId, fn) {
    if (!this.listeners.has(sessionId)) this.listeners.set(sessionId, []);
    this.listeners.get(sessionId).push(fn);
  }

  async newPage() {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new Page(this, sessionId);
    await page.init();
    return page;
  }

  kill() {
    if (!this.exited) {
      try { this.proc.kill('SIGKILL'); } catch (e) { /* gone */ }
    }
  }

  async close() {
    if (!this.exited) {
      try { await Promise.race([this.send('Browser.close'), sleep(3000)]); } catch (e) { /* exiting */ }
      for (let i = 0; i < 30 && !this.exited; i++) await sleep(100);
      if (!this.exited) this.proc.kill('SIGTERM');
      for (let i = 0; i < 30 && !this.exited; i++) await sleep(100);
      this.kill();
      for (let i = 0; i < 30 && !this.exited; i++) await sleep(100);
    }
    live.delete(this);
    fs.rmSync(this.profile, { recursive: true, force: true });
  }
}

class Page {
  constructor(browser, sessionId) {
    this.browser = browser;
    this.sessionId = sessionId;
    this.errors = [];
    this.handlers = [];
    this.loads = 0;
    browser.listen(sessionId, (method, params) => this.onEvent(method, params));
  }

  send(method, params) { return this.browser.send(method, params, this.sessionId); }

  async init() {
    await Promise.all(['Page.enable', 'Runtime.enable', 'Log.enable', 'Network.enable']
      .map((m) => this.send(m)));
    await this.send('Page.setLifecycleEventsEnabled', { enabled: true });
  }

  onEvent(method, p) {
    if (method === 'Page.loadEventFired') this.loads++;
    else if (method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'assert'))
      this.errors.push(`console.${p.type}: ${p.args.map((a) => a.value ?? a.description ?? '').join(' ')}`);
    else if (method === 'Runtime.exceptionThrown') {
      const d = p.exceptionDetails;
      this.errors.push(`exception: ${d.exception?.description || d.text} (${d.url || ''}:${d.lineNumber})`);
    } else if (method === 'Log.entryAdded' && p.entry.level === 'error')
      this.errors.push(`log: ${p.entry.text} (${p.entry.url || ''})`);
    for (const h of this.handlers) if (h.name === method) h.cb(p);
  }

  on(name, cb) { this.handlers.push({ name, cb }); }

  consoleErrors() { return this.errors.slice(); }

  async autoAcceptDialogs() {
    this.on('Page.javascriptDialogOpening', () => {
      this.send('Page.handleJavaScriptDialog', { accept: true }).catch(() => {});
    });
  }

  async goto(url, { timeout = 20000 } = {}) {
    const before = this.loads;
    const r = await this.send('Page.navigate', { url });
    if (r.errorText) throw new Error(`goto ${url}: ${r.errorText}`);
    // a change of the hash alone loads nothing
    if (!r.loaderId) return;
    await this.until(() => this.loads > before, timeout, `the load of ${url}`);
  }

  async until(fn, timeout, what) {
    const end = Date.now() + timeout * SCALE;
    while (!fn()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
  }

  async evaluate(fn, ...args) {
    const expression = typeof fn === 'function'
      ? `(${fn})(...${JSON.stringify(args)})` : String(fn);
    const r = await this.send('Runtime.evaluate',
      { expression, awaitPromise: true, returnByValue: true, userGesture: true });
    if (r.exceptionDetails) {
      const d = r.exceptionDetails;
      throw new Error(`evaluate: ${d.exception?.description || d.text}`);
    }
    return r.result.value;
  }

  async waitFor(fn, { timeout = 10000, interval = 100 } = {}, ...args) {
    const end = Date.now() + timeout * SCALE;
    let last;
    for (;;) {
      try {
        const v = await this.evaluate(fn, ...args);
        if (v) return v;
      } catch (e) {
        last = e;	// a page being replaced: try again
      }
      if (Date.now() > end)
        throw new Error(`timed out waiting for ${String(fn).slice(0, 200)} (${JSON.stringify(args)})` +
          (last ? `: ${last.message}` : ''));
      await sleep(interval);
    }
  }

  waitForSelector(sel, { timeout = 10000, visible = false } = {}) {
    return this.waitFor((sel, visible) => {
      const el = document.querySelector(sel);
      if (!el) return false;
      if (!visible) return true;
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
    }, { timeout }, sel, visible);
  }

  async click(sel) {
    await this.waitForSelector(sel, { visible: true });
    const box = await this.evaluate((sel) => {
      const el = document.querySelector(sel);
      el.scrollIntoView({ block: 'center', inline: 'center' });
      const r = el.getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    }, sel);
    const ev = { x: box.x, y: box.y, button: 'left', clickCount: 1 };
    await this.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x: box.x, y: box.y });
    await this.send('Input.dispatchMouseEvent', { type: 'mousePressed', ...ev });
    await this.send('Input.dispatchMouseEvent', { type: 'mouseReleased', ...ev });
  }

  async type(sel, text) {
    await this.waitForSelector(sel, { visible: true });
    await this.evaluate((sel) => {
      const el = document.querySelector(sel);
      el.focus();
      if ('value' in el) el.value = '';
    }, sel);
    await this.send('Input.insertText', { text });
  }

  async press(key) {
    const keys = {
      Enter: { code: 'Enter', windowsVirtualKeyCode: 13, text: '\r' },
      Tab: { code: 'Tab', windowsVirtualKeyCode: 9 },
      Escape: { code: 'Escape', windowsVirtualKeyCode: 27 },
    };
    const k = keys[key];
    if (!k) throw new Error(`press: unknown key ${key}`);
    await this.send('Input.dispatchKeyEvent', { type: k.text ? 'keyDown' : 'rawKeyDown', key, ...k });
    await this.send('Input.dispatchKeyEvent', { type: 'keyUp', key, code: k.code,
      windowsVirtualKeyCode: k.windowsVirtualKeyCode });
  }

  text(sel) {
    return this.evaluate((sel) => {
      const el = document.querySelector(sel);
      return el ? el.textContent : null;
    }, sel);
  }

  url() { return this.evaluate(() => location.href); }

  async screenshot(file, { fullPage = false } = {}) {
    const r = await this.send('Page.captureScreenshot',
      { format: 'png', captureBeyondViewport: fullPage });
    fs.writeFileSync(file, Buffer.from(r.data, 'base64'));
  }

  setViewport(width, height, { mobile = false, deviceScaleFactor = 1 } = {}) {
    return this.send('Emulation.setDeviceMetricsOverride',
      { width, height, mobile, deviceScaleFactor });
  }

  async cookies() {
    const r = await this.send('Network.getCookies', { urls: [await this.url()] });
    return r.cookies;
  }
}

async function launch({ width = 1280, height = 900 } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'futured-chromium-'));
  const args = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
    '--no-first-run', '--no-default-browser-check', '--disable-extensions',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--metrics-recording-only', '--mute-audio', '--hide-scrollbars',
    `--window-size=${width},${height}`, `--user-data-dir=${profile}`,
    '--remote-debugging-pipe', 'about:blank'];
  const proc = spawn(CHROMIUM, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  const browser = new Browser(proc, profile);
  live.add(browser);
  const end = Date.now() + 30000 * SCALE;
  for (;;) {
    try {
      await Promise.race([browser.send('Browser.getVersion'), sleep(2000).then(() => {
        throw new Error('no answer yet');
      })]);
      return browser;
    } catch (e) {
      if (browser.exited || Date.now() > end) {
        await browser.close();
        throw new Error(`chromium did not start: ${e.message}\n${browser.stderr.slice(-2000)}`);
      }
    }
  }
}

module.exports = { launch };
