// cdp.js: a small driver of Debian's chromium over the Chrome DevTools
// Protocol, for the dashboard's end-to-end tests.  No npm package and no
// port: it speaks CDP on the pipe of --remote-debugging-pipe (chromium reads
// NUL-terminated JSON messages from its fd 3 and writes them to its fd 4).
// Every wait has a timeout, multiplied by FUTURED_TEST_SCALE, and fails with
// an Error naming what it waited for.
//
//   const cdp = require('./cdp.js');
//   const browser = await cdp.launch({ width: 1280, height: 900 });
//   const page = await browser.newPage();
//   await page.goto('http://127.0.0.1:8080/');
//   ...
//   await browser.close();
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const SCALE = (() => {
  const s = Number(process.env.FUTURED_TEST_SCALE || 1);
  return Number.isFinite(s) && s > 0 ? s : 1;
})();
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const LAUNCH_TIMEOUT = 30000;   // ms, before scaling
const CALL_TIMEOUT = 30000;     // ms, before scaling: any one CDP call
const KILL_GRACE = 3000;        // ms from SIGTERM to SIGKILL
const STDERR_KEEP = 64 * 1024;  // bytes of chromium's stderr kept

const scaled = (ms) => Math.round(ms * SCALE);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const short = (x, n = 160) => {
  const s = typeof x === 'string' ? x : String(x);
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n)}…` : one;
};

// Browsers not closed yet: killed (with their process group) and their
// profiles removed when node exits, whatever the reason.
const live = new Set();
process.on('exit', () => { for (const b of live) b._killNow(); });

function pidAlive(pid) {
  try {
    // a zombie waits for its parent to reap it: it runs no more
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch (e) {
    return false;
  }
}

// Processes (not zombies) whose command line mentions `needle`, or whose
// process group is `pgid`: what of a chromium is still running.
function processesOf(needle, pgid) {
  const found = [];
  let entries = [];
  try { entries = fs.readdirSync('/proc'); } catch (e) { return found; }
  for (const d of entries) {
    if (!/^[0-9]+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (rest[0] === 'Z') continue;
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if ((needle && cmd.includes(needle)) || (pgid && Number(rest[2]) === pgid))
        found.push({ pid: Number(d), cmd: short(cmd, 120) });
    } catch (e) { /* gone meanwhile */ }
  }
  return found;
}

class Browser {
  constructor(proc, profile) {
    this.proc = proc;
    this.pid = proc.pid;
    this.profile = profile;
    this.exited = false;
    this.exitStatus = null;
    this.nextId = 1;
    this.pending = new Map();     // id -> {resolve, reject, method, sessionId, timer}
    this.sessions = new Map();    // sessionId -> Page
    this.handlers = [];           // browser-level events: {name, cb}
    this._log = '';               // chromium's stderr and stdout, the tail
    this._closing = null;
    this.exitPromise = new Promise((resolve) => { this._onExit = resolve; });

    const keep = (chunk) => {
      this._log += chunk.toString('utf8');
      if (this._log.length > STDERR_KEEP) this._log = this._log.slice(-STDERR_KEEP);
    };
    proc.stderr.on('data', keep);
    proc.stdout.on('data', keep);

    // The pipe: bytes up to a NUL are one message; a chunk may hold part of
    // a message, several, or end inside a UTF-8 sequence, so the bytes are
    // kept until a NUL comes and only then decoded.
    let parts = [];
    this._in = proc.stdio[4];
    this._out = proc.stdio[3];
    this._in.on('data', (chunk) => {
      let start = 0;
      for (;;) {
        const nul = chunk.indexOf(0, start);
        if (nul < 0) {
          if (start < chunk.length) parts.push(chunk.subarray(start));
          break;
        }
        parts.push(chunk.subarray(start, nul));
        const text = Buffer.concat(parts).toString('utf8');
        parts = [];
        start = nul + 1;
        if (text) this._receive(text);
      }
    });
    // chromium gone: the pipe breaks; its exit says the rest
    for (const s of [this._in, this._out, proc.stdin, proc.stdout, proc.stderr])
      if (s) s.on('error', () => {});
    proc.on('error', (e) => this._gone(`could not run ${CHROMIUM}: ${e.message}`));
    proc.on('exit', (code, signal) =>
      this._gone(`chromium exited (${signal ? `signal ${signal}` : `code ${code}`})`));
  }

  // chromium's stderr (and stdout), the last `n` characters, less the
  // lines it always prints in a container (no D-Bus; Debian's wrapper
  // script stumbling on two /dev/shm mounts)
  log(n = 4000) {
    return this._log.split('\n')
      .filter((l) => !/ERROR:dbus\/|^\/usr\/bin\/chromium: [0-9]+: \[: /.test(l))
      .join('\n').slice(-n);
  }

  _gone(why) {
    if (this.exited) return;
    this.exited = true;
    this.exitStatus = why;
    const tail = this.log(1500);
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error(`${why} while waiting for the answer to ${p.method}` +
        (tail ? `\n--- chromium stderr (tail) ---\n${tail}` : '')));
      this.pending.delete(id);
    }
    for (const page of this.sessions.values()) {
      page.closed = true;
      page.closeReason = why;
      for (const w of page.waiters) w();
    }
    this._onExit();
  }

  _receive(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch (e) {
      this._log += `\n[cdp.js] unparsable message from chromium: ${short(text, 300)}\n`;
      return;
    }
    if (msg.id !== undefined) {
      const p = this.pending.get(msg.id);
      if (!p) return;   // timed out already
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.error) {
        p.reject(new Error(`${p.method}: ${msg.error.message}` +
          (msg.error.data ? ` (${msg.error.data})` : '')));
      } else {
        p.resolve(msg.result);
      }
      return;
    }
    if (msg.sessionId) {
      const page = this.sessions.get(msg.sessionId);
      if (page) page._event(msg.method, msg.params || {});
      return;
    }
    if (msg.method === 'Target.detachedFromTarget') {
      const page = this.sessions.get(msg.params.sessionId);
      if (page) page._detached('the page was closed or detached');
    }
    for (const h of this.handlers.slice()) if (h.name === msg.method) h.cb(msg.params || {});
  }

  // A CDP call; `sessionId` routes it to a page.  Rejects on an error
  // answer, on a timeout and when chromium exits.
  send(method, params = {}, { sessionId, timeout = CALL_TIMEOUT } = {}) {
    if (this.exited) {
      return Promise.reject(new Error(`${this.exitStatus || 'chromium has exited'}: cannot send ${method}`));
    }
    const id = this.nextId++;
    const msg = { id, method, params };
    if (sessionId) msg.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      const ms = scaled(timeout);
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`timed out after ${ms} ms waiting for the answer to ${method}`));
      }, ms);
      this.pending.set(id, { resolve, reject, method, sessionId, timer });
      this._out.write(`${JSON.stringify(msg)}\0`);
    });
  }

  // browser-level events (Target.*)
  on(name, cb) {
    const h = { name, cb };
    this.handlers.push(h);
    return () => { this.handlers = this.handlers.filter((x) => x !== h); };
  }

  _rejectSession(sessionId, why) {
    for (const [id, p] of this.pending) {
      if (p.sessionId !== sessionId) continue;
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new Error(`${why} while waiting for the answer to ${p.method}`));
    }
  }

  async newPage() {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new Page(this, targetId, sessionId);
    this.sessions.set(sessionId, page);
    await page._init();
    // headless chromium's window keeps ~90 px of its height for browser UI
    // it does not draw: the launch size is set as the page's viewport
    await page.setViewport(this.width, this.height);
    return page;
  }

  // Synchronous: for process.on('exit').
  _killNow() {
    try { process.kill(-this.pid, 'SIGKILL'); } catch (e) { /* no group left */ }
    try { process.kill(this.pid, 'SIGKILL'); } catch (e) { /* gone */ }
    try {
      fs.rmSync(this.profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    } catch (e) { /* at exit: nothing more to do */ }
    live.delete(this);
  }

  // Kills chromium (SIGTERM, then SIGKILL after 3 s), waits until none of
  // its processes runs and removes its profile.  Safe to call twice.
  close() {
    if (!this._closing) this._closing = this._close();
    return this._closing;
  }

  async _close() {
    if (!this.exited) {
      try { process.kill(this.pid, 'SIGTERM'); } catch (e) { /* gone already */ }
      const t = setTimeout(() => {
        try { process.kill(this.pid, 'SIGKILL'); } catch (e) { /* gone */ }
      }, KILL_GRACE);
      const ms = KILL_GRACE + scaled(10000);
      let bound;
      const late = new Promise((r) => { bound = setTimeout(r, ms); });
      await Promise.race([this.exitPromise, late]);
      clearTimeout(t);
      clearTimeout(bound);
      if (!this.exited) {
        throw new Error(`close: chromium ${this.pid} has not exited ${ms} ms after SIGTERM and SIGKILL`);
      }
    }
    // what the browser process leaves (zygotes, renderers, its crash
    // handlers) dies with it; SIGKILL its group for stragglers, then wait
    try { process.kill(-this.pid, 'SIGKILL'); } catch (e) { /* empty group */ }
    const end = Date.now() + scaled(10000);
    let left = processesOf(this.profile, this.pid);
    while (left.length && Date.now() < end) {
      for (const p of left) { try { process.kill(p.pid, 'SIGKILL'); } catch (e) { /* gone */ } }
      await sleep(50);
      left = processesOf(this.profile, this.pid);
    }
    for (const s of [this._in, this._out, this.proc.stdout, this.proc.stderr]) if (s) s.destroy();
    live.delete(this);
    fs.rmSync(this.profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    if (left.length) {
      throw new Error(`chromium processes still running after close: ` +
        left.map((p) => `${p.pid} ${p.cmd}`).join('; '));
    }
  }
}

// Keys press() knows: what chromium's Input.dispatchKeyEvent wants.
const KEYS = {
  Enter: { key: 'Enter', code: 'Enter', windowsVirtualKeyCode: 13, text: '\r' },
  Tab: { key: 'Tab', code: 'Tab', windowsVirtualKeyCode: 9 },
  Escape: { key: 'Escape', code: 'Escape', windowsVirtualKeyCode: 27 },
};

const UNSERIALIZABLE = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };

function describeException(d) {
  let s = (d.exception && (d.exception.description || d.exception.value)) || d.text || 'exception';
  if (d.exception && d.exception.description === undefined && d.text && d.exception.value !== undefined)
    s = `${d.text} ${JSON.stringify(d.exception.value)}`;
  return String(s);
}

function where(url, line, col) {
  if (!url) return '';
  return line === undefined || line === null ? ` (${url})`
    : ` (${url}:${line + 1}${col !== undefined && col !== null ? `:${col + 1}` : ''})`;
}

class Page {
  constructor(browser, targetId, sessionId) {
    this.browser = browser;
    this.targetId = targetId;
    this.sessionId = sessionId;
    this.closed = false;
    this.closeReason = null;
    this.problems = [];           // consoleErrors()
    this.handlers = [];           // on(): {name, cb}
    this.mainFrameId = targetId;  // a page's main frame has its target's id
    this.committedLoader = null;  // the main frame's current document
    this.loaded = new Set();      // loaderIds whose load event fired
    this.waiters = new Set();     // fns run on each event (goto's waits)
    this.dialogs = false;
  }

  send(method, params = {}, { timeout } = {}) {
    if (this.closed) {
      const why = this.browser.exited ? this.browser.exitStatus : `the page is closed: ${this.closeReason}`;
      return Promise.reject(new Error(`${why}: cannot send ${method}`));
    }
    return this.browser.send(method, params, { sessionId: this.sessionId, timeout });
  }

  async _init() {
    await Promise.all(['Page.enable', 'Runtime.enable', 'Log.enable', 'Network.enable']
      .map((m) => this.send(m)));
    await this.send('Page.setLifecycleEventsEnabled', { enabled: true });
    const { frameTree } = await this.send('Page.getFrameTree');
    this.mainFrameId = frameTree.frame.id;
    if (!this.committedLoader) this.committedLoader = frameTree.frame.loaderId;
  }

  _detached(why) {
    this.closed = true;
    if (!this.closeReason) this.closeReason = why;
    this.browser.sessions.delete(this.sessionId);
    this.browser._rejectSession(this.sessionId, why);
  }

  _event(method, p) {
    switch (method) {
      case 'Page.frameNavigated':
        if (!p.frame.parentId) {
          this.mainFrameId = p.frame.id;
          this.committedLoader = p.frame.loaderId;
        }
        break;
      case 'Page.lifecycleEvent':
        if (p.name === 'load' && p.frameId === this.mainFrameId) this.loaded.add(p.loaderId);
        break;
      case 'Page.loadEventFired':
        if (this.committedLoader) this.loaded.add(this.committedLoader);
        break;
      case 'Runtime.consoleAPICalled':
        if (p.type === 'error' || p.type === 'assert') {
          const text = (p.args || []).map((a) => (a.value !== undefined ? String(a.value)
            : a.unserializableValue || a.description || a.type)).join(' ');
          const f = p.stackTrace && p.stackTrace.callFrames && p.stackTrace.callFrames[0];
          this.problems.push(`console.${p.type}: ${text}${f ? where(f.url, f.lineNumber, f.columnNumber) : ''}`);
        }
        break;
      case 'Runtime.exceptionThrown': {
        const d = p.exceptionDetails;
        this.problems.push(`exception: ${describeException(d)}${where(d.url, d.lineNumber, d.columnNumber)}`);
        break;
      }
      case 'Log.entryAdded':
        if (p.entry.level === 'error') {
          const e = p.entry;
          this.problems.push(`${e.source || 'log'}: ${e.text}${where(e.url, e.lineNumber)}`);
        }
        break;
      case 'Inspector.targetCrashed':
        this.problems.push('the page crashed (Inspector.targetCrashed)');
        this.browser._rejectSession(this.sessionId, 'the page crashed');
        break;
      case 'Inspector.detached':
        this._detached(`the page was detached (${p.reason})`);
        break;
      default:
    }
    for (const h of this.handlers.slice()) {
      if (h.name === method) {
        try { h.cb(p); } catch (e) { this.problems.push(`cdp.js: on(${method}) handler threw: ${e.message}`); }
      }
    }
    for (const w of this.waiters) w();
  }

  // Raw CDP events of this page's session; returns a function that stops.
  on(name, cb) {
    const h = { name, cb };
    this.handlers.push(h);
    return () => { this.handlers = this.handlers.filter((x) => x !== h); };
  }

  // console.error / console.assert, uncaught exceptions, and chromium's
  // error log (failed loads, CSP violations), as strings.
  consoleErrors() { return this.problems.slice(); }

  clearConsoleErrors() { this.problems.length = 0; }

  // Every alert/confirm/prompt/beforeunload is accepted.
  async autoAcceptDialogs() {
    if (this.dialogs) return;
    this.dialogs = true;
    this.on('Page.javascriptDialogOpening', () => {
      this.send('Page.handleJavaScriptDialog', { accept: true }).catch(() => {});
    });
  }

  // Resolves when `test()` is true, checked now and on every event of the
  // page; rejects after `timeout` (already scaled) naming `what`.
  _until(test, ms, what) {
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (err) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.waiters.delete(check);
        if (err) reject(err); else resolve();
      };
      const check = () => {
        if (this.closed || this.browser.exited) {
          finish(new Error(`${this.closeReason || this.browser.exitStatus || 'the page was closed'} while waiting for ${what}`));
        } else if (test()) {
          finish();
        }
      };
      const timer = setTimeout(() => finish(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
      this.waiters.add(check);
      check();
    });
  }

  // Navigates and waits for the load event of the new document.  A change
  // of the fragment alone loads nothing and returns at once.
  async goto(url, { timeout = 30000 } = {}) {
    const ms = scaled(timeout);
    const end = Date.now() + ms;
    const r = await this.send('Page.navigate', { url }, { timeout });
    if (r.errorText) throw new Error(`goto ${url}: navigation failed: ${r.errorText}`);
    if (!r.loaderId) return;
    await this._until(() => this.loaded.has(r.loaderId), Math.max(1, end - Date.now()),
      `the load event of ${url}`);
  }

  async _evaluate(fn, args, timeout) {
    const expression = typeof fn === 'function'
      ? `(${fn.toString()}).apply(globalThis, ${JSON.stringify(args)})`
      : String(fn);
    const r = await this.send('Runtime.evaluate', {
      expression, awaitPromise: true, returnByValue: true, userGesture: true,
    }, { timeout });
    if (r.exceptionDetails) {
      throw new Error(`evaluate ${short(typeof fn === 'function' ? fn.toString() : fn, 100)}: ` +
        describeException(r.exceptionDetails));
    }
    const v = r.result;
    if (v.unserializableValue !== undefined) {
      if (v.unserializableValue in UNSERIALIZABLE) return UNSERIALIZABLE[v.unserializableValue];
      if (/^-?[0-9]+n$/.test(v.unserializableValue)) return BigInt(v.unserializableValue.slice(0, -1));
      return v.unserializableValue;
    }
    return v.value;
  }

  // Runs a function (with JSON arguments) or an expression in the page and
  // returns its value (awaited if a promise, returned by value: JSON-like).
  evaluate(fn, ...args) { return this._evaluate(fn, args); }

  // Polls evaluate(fn, ...args) every `interval` ms until its value is
  // truthy and returns that value.  An exception (say, while a page is
  // being replaced) counts as "not yet" and is reported on timeout.
  async waitFor(fn, { timeout = 10000, interval = 100 } = {}, ...args) {
    const ms = scaled(timeout);
    const end = Date.now() + ms;
    let last = null;
    for (;;) {
      const left = end - Date.now();
      try {
        // the call itself may not outlast the wait (a dialog blocks it)
        const v = await this._evaluate(fn, args, Math.max(left, 1000) / SCALE);
        if (v) return v;
        last = null;
      } catch (e) {
        if (this.closed || this.browser.exited) throw e;
        last = e;
      }
      if (Date.now() >= end) {
        throw new Error(`waitFor timed out after ${ms} ms waiting for ` +
          `${short(typeof fn === 'function' ? fn.toString() : fn, 200)}` +
          (args.length ? ` with ${short(JSON.stringify(args), 200)}` : '') +
          (last ? `; last error: ${last.message}` : ''));
      }
      await sleep(Math.min(interval, Math.max(0, end - Date.now())));
    }
  }

  async waitForSelector(sel, { timeout = 10000, visible = false } = {}) {
    try {
      return await this.waitFor((s, vis) => {
        const el = document.querySelector(s);
        if (!el) return false;
        if (!vis) return true;
        const r = el.getBoundingClientRect();
        const st = getComputedStyle(el);
        return r.width > 0 && r.height > 0 && st.visibility !== 'hidden' && st.display !== 'none';
      }, { timeout }, sel, visible);
    } catch (e) {
      if (!/^waitFor timed out/.test(e.message)) throw e;
      const last = e.message.match(/; last error: .*/s);
      throw new Error(`waitForSelector: no ${visible ? 'visible ' : ''}element matches ` +
        `${JSON.stringify(sel)} after ${scaled(timeout)} ms${last ? last[0] : ''}`);
    }
  }

  // A real click: the element scrolled into view, then a left button
  // pressed and released at its centre.
  async click(sel, { timeout = 10000 } = {}) {
    await this.waitForSelector(sel, { visible: true, timeout });
    const box = await this.evaluate((s) => {
      const el = document.querySelector(s);
      if (!el) return null;
      el.scrollIntoView({ block: 'center', inline: 'center', behavior: 'instant' });
      const r = el.getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    }, sel);
    if (!box) throw new Error(`click: no element matches ${JSON.stringify(sel)}`);
    const at = { x: box.x, y: box.y };
    await this.send('Input.dispatchMouseEvent', { type: 'mouseMoved', ...at });
    await this.send('Input.dispatchMouseEvent',
      { type: 'mousePressed', ...at, button: 'left', buttons: 1, clickCount: 1 });
    await this.send('Input.dispatchMouseEvent',
      { type: 'mouseReleased', ...at, button: 'left', buttons: 0, clickCount: 1 });
  }

  // Focuses the element, selects what it holds (so the text replaces it,
  // as a user's select-all then typing would; {replace: false} appends)
  // and inserts the text as typed input.
  async type(sel, text, { replace = true, timeout = 10000 } = {}) {
    await this.waitForSelector(sel, { timeout });
    const ok = await this.evaluate((s, rep) => {
      const el = document.querySelector(s);
      if (!el) return false;
      el.focus();
      if (rep) {
        if (typeof el.select === 'function') {
          el.select();
        } else if (el.isContentEditable) {
          const range = document.createRange();
          range.selectNodeContents(el);
          const selection = getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
        }
      }
      return true;
    }, sel, replace);
    if (!ok) throw new Error(`type: no element matches ${JSON.stringify(sel)}`);
    await this.send('Input.insertText', { text: String(text) });
  }

  // A key pressed and released where the focus is: 'Enter', 'Tab', 'Escape'.
  async press(key) {
    const k = KEYS[key];
    if (!k) throw new Error(`press: unknown key ${JSON.stringify(key)} (known: ${Object.keys(KEYS).join(', ')})`);
    const base = { key: k.key, code: k.code, windowsVirtualKeyCode: k.windowsVirtualKeyCode,
      nativeVirtualKeyCode: k.windowsVirtualKeyCode };
    await this.send('Input.dispatchKeyEvent', k.text
      ? { type: 'keyDown', ...base, text: k.text, unmodifiedText: k.text }
      : { type: 'rawKeyDown', ...base });
    await this.send('Input.dispatchKeyEvent', { type: 'keyUp', ...base });
  }

  async text(sel) {
    const t = await this.evaluate((s) => {
      const el = document.querySelector(s);
      return el ? [el.textContent] : null;
    }, sel);
    if (!t) throw new Error(`text: no element matches ${JSON.stringify(sel)}`);
    return t[0];
  }

  url() { return this.evaluate(() => location.href); }

  async screenshot(file, { fullPage = false } = {}) {
    const params = { format: 'png' };
    if (fullPage) {
      const m = await this.send('Page.getLayoutMetrics');
      const size = m.cssContentSize || m.contentSize;
      params.captureBeyondViewport = true;
      params.clip = { x: 0, y: 0, width: Math.ceil(size.width), height: Math.ceil(size.height), scale: 1 };
    }
    const r = await this.send('Page.captureScreenshot', params);
    const png = Buffer.from(r.data, 'base64');
    fs.writeFileSync(file, png);
    return png;
  }

  setViewport(width, height, { mobile = false, deviceScaleFactor = 1 } = {}) {
    return this.send('Emulation.setDeviceMetricsOverride', { width, height, mobile, deviceScaleFactor });
  }

  // The cookies chromium would send to the page's URL (HttpOnly ones too).
  async cookies() {
    const { cookies } = await this.send('Network.getCookies', { urls: [await this.url()] });
    return cookies;
  }

  async close() {
    if (this.closed) return;
    await this.browser.send('Target.closeTarget', { targetId: this.targetId });
    this._detached('the page was closed');
  }
}

// Starts chromium headless with a fresh profile; resolves once it answers.
async function launch({ width = 1280, height = 900 } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'futured-chromium-'));
  const tmp = path.join(profile, 'tmp');
  fs.mkdirSync(tmp);
  const args = [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
    '--no-first-run', '--no-default-browser-check', '--disable-extensions',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--metrics-recording-only', '--mute-audio',
    // tests: no throttled timers in pages not in front, no layout scrollbars
    '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
    '--disable-backgrounding-occluded-windows', '--hide-scrollbars',
    `--window-size=${width},${height}`,
    `--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank',
  ];
  let proc;
  try {
    proc = spawn(CHROMIUM, args, {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
      // its own process group, to kill whatever it starts
      detached: true,
      // all it writes stays in the profile, removed on close: its crash
      // handler's reports (else in ~/.config/chromium), and its temp files,
      // the process singleton's socket dir (else one
      // /tmp/org.chromium.Chromium.XXXXXX left behind per run) and the
      // shared memory files of --disable-dev-shm-usage
      env: { ...process.env, BREAKPAD_DUMP_LOCATION: path.join(profile, 'crash-reports'), TMPDIR: tmp },
    });
  } catch (e) {
    fs.rmSync(profile, { recursive: true, force: true });
    throw new Error(`could not run ${CHROMIUM}: ${e.message}`);
  }
  const browser = new Browser(proc, profile);
  browser.width = width;
  browser.height = height;
  live.add(browser);
  // a test that forgets close() still ends (and kills chromium at exit);
  // every pending wait holds a timer, which keeps node alive meanwhile
  proc.unref();
  for (const s of [proc.stdout, proc.stderr, proc.stdio[3], proc.stdio[4]]) if (s && s.unref) s.unref();
  try {
    const v = await browser.send('Browser.getVersion', {}, { timeout: LAUNCH_TIMEOUT });
    browser.version = v.product;
    return browser;
  } catch (e) {
    const tail = browser.log(3000);
    let also = '';
    try { await browser.close(); } catch (e2) { also = `; ${e2.message}`; }
    process.stderr.write(`cdp.js: chromium did not start; the tail of its stderr:\n${tail || '(empty)'}\n`);
    throw new Error(`chromium did not start (${CHROMIUM}): ${e.message.split('\n')[0]}${also}` +
      ' (the tail of its stderr is printed above)');
  }
}

module.exports = { launch, scale: SCALE, processesOf, pidAlive };
