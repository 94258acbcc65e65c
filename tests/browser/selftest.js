// selftest.js: proves cdp.js against a tiny local HTTP server, with no
// futured: node tests/browser/selftest.js (exit 0: ok; 1: what failed).
'use strict';
const assert = require('node:assert');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const cdp = require('./cdp.js');

const PAGE1 = `<!doctype html>
<html><head><meta charset="utf-8"><title>selftest</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/app.css"></head>
<body>
<form id="form"><input id="q" name="q" value="old"> <button id="go" type="submit">Go</button></form>
<p id="out"></p>
<input id="n" type="number" value="2">
<button id="later">later</button>
<div id="spacer"></div>
<button id="ask">ask</button>
<p id="answer"></p>
<p id="uni">é€😀</p>
<script src="/app.js"></script>
</body></html>`;

const APP_JS = `'use strict';
window.submits = 0;
document.getElementById('form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  window.submits++;
  document.getElementById('out').textContent = 'you typed: ' + document.getElementById('q').value;
});
document.getElementById('later').addEventListener('click', () => {
  window.clickedAt = performance.now();
  setTimeout(() => {
    const p = document.createElement('p');
    p.id = 'late';
    p.textContent = 'arrived';
    document.getElementById('later').after(p);
  }, 300);
});
document.getElementById('ask').addEventListener('click', () => {
  document.getElementById('answer').textContent = 'answer: ' + confirm('sure?');
});
`;

// the #ask button below the fold: click() must scroll to it
const APP_CSS = '#spacer { height: 1500px; } body { font-family: sans-serif; }';

const PAGE2 = `<!doctype html><html><head><title>boom</title></head>
<body><p>boom page</p><script>console.error('boom');</script></body></html>`;

// a strict CSP broken by an inline script, and a missing image
const PAGE3 = `<!doctype html><html><head><title>csp</title></head>
<body><script>window.inlineRan = true;</script><img src="/missing.png" alt=""></body></html>`;

function serve() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const send = (status, type, body, headers = {}) => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...headers });
      res.end(body);
    };
    const csp = { 'Content-Security-Policy': "default-src 'self'" };
    switch (url.pathname) {
      case '/':
        send(200, 'text/html; charset=utf-8', PAGE1, {
          ...csp,
          'Set-Cookie': ['sid=s3cret; Path=/; HttpOnly; SameSite=Strict', 'theme=dark; Path=/'],
        });
        break;
      case '/app.js': send(200, 'text/javascript', APP_JS, csp); break;
      case '/app.css': send(200, 'text/css', APP_CSS, csp); break;
      case '/boom': send(200, 'text/html; charset=utf-8', PAGE2); break;
      case '/csp': send(200, 'text/html; charset=utf-8', PAGE3, csp); break;
      // chromium asks for one after each load: a 404 would be a console error
      case '/favicon.ico': res.writeHead(204); res.end(); break;
      default: send(404, 'text/plain', 'not found');
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function until(test, what, ms = 10000) {
  const end = Date.now() + ms * cdp.scale;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const step = (what) => process.stdout.write(`# ${what}\n`);

function pngSize(buf) {
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

async function gone(pid, profile, what) {
  const end = Date.now() + 10000 * cdp.scale;
  let left;
  for (;;) {
    left = cdp.processesOf(profile, pid);
    if (!cdp.pidAlive(pid) && left.length === 0) break;
    if (Date.now() > end) {
      assert.fail(`${what}: chromium ${pid} still running: ${cdp.pidAlive(pid)}; ` +
        left.map((p) => `${p.pid} ${p.cmd}`).join('; '));
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(!fs.existsSync(profile), `${what}: the profile ${profile} is removed`);
}

async function main() {
  const t0 = Date.now();
  const server = await serve();
  const base = `http://127.0.0.1:${server.address().port}`;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cdp-selftest-'));
  let browser;
  try {
    step('launch');
    browser = await cdp.launch({ width: 1280, height: 900 });
    const { pid, profile } = browser;
    assert.ok(pid > 0 && fs.existsSync(profile), 'a chromium and its profile');
    await until(() => fs.readdirSync(path.join(profile, 'tmp')).some((f) => f.startsWith('org.chromium.')),
      'chromium\'s temp files in the profile');
    const page = await browser.newPage();
    await page.autoAcceptDialogs();
    const events = [];
    page.on('Network.responseReceived', (p) => events.push(p.response.url));
    assert.deepStrictEqual(await page.evaluate(() => [innerWidth, innerHeight]), [1280, 900],
      'the launch size is the viewport');

    step('goto, evaluate, url');
    await page.goto(`${base}/`);
    assert.strictEqual(await page.url(), `${base}/`);
    assert.strictEqual(await page.evaluate(() => document.title), 'selftest');
    assert.strictEqual(await page.evaluate('1 + 2'), 3, 'an expression');
    assert.strictEqual(await page.evaluate((a, b) => a + b, 40, 2), 42, 'a function with arguments');
    assert.deepStrictEqual(await page.evaluate((o) => ({ ...o, n: o.n + 1 }), { s: 'x"\'\\', n: 1 }),
      { s: 'x"\'\\', n: 2 }, 'arguments and results by value');
    assert.strictEqual(await page.evaluate(async () => {
      await new Promise((r) => setTimeout(r, 50));
      return 'awaited';
    }), 'awaited', 'a promise is awaited');
    assert.ok(Number.isNaN(await page.evaluate(() => NaN)), 'NaN comes back');
    await assert.rejects(page.evaluate(() => { throw new Error('thrown in page'); }),
      /thrown in page/, 'an exception in the page throws');
    assert.ok(events.includes(`${base}/app.js`), 'on() gets raw CDP events');

    step('multi-byte text and a message far larger than one pipe chunk');
    assert.strictEqual(await page.text('#uni'), 'é€😀');
    const big = await page.evaluate(() => 'é€😀'.repeat(100000));
    assert.strictEqual(big.length, 4 * 100000);
    assert.strictEqual(big, 'é€😀'.repeat(100000));

    step('type, press Enter submits the form (from /app.js)');
    await page.type('#q', 'hello wörld');
    assert.strictEqual(await page.evaluate(() => document.querySelector('#q').value), 'hello wörld',
      'the text replaces the old value');
    await page.press('Enter');
    await page.waitFor(() => window.submits === 1);
    assert.strictEqual(await page.text('#out'), 'you typed: hello wörld');
    await page.type('#n', '5');
    assert.strictEqual(await page.evaluate(() => document.querySelector('#n').value), '5',
      'a number input is replaced too');
    await page.type('#n', '7', { replace: false });
    assert.strictEqual(await page.evaluate(() => document.querySelector('#n').value), '57');

    step('press Tab moves the focus, Escape is delivered');
    await page.evaluate(() => document.querySelector('#q').focus());
    await page.press('Tab');
    assert.strictEqual(await page.evaluate(() => document.activeElement.id), 'go');
    await page.evaluate(() => {
      window.keys = [];
      document.addEventListener('keydown', (e) => window.keys.push(`${e.key}/${e.code}/${e.keyCode}`));
    });
    await page.press('Escape');
    assert.deepStrictEqual(await page.evaluate(() => window.keys), ['Escape/Escape/27']);
    await assert.rejects(page.press('F13'), /unknown key/);

    step('click, waitForSelector, waitFor');
    await page.click('#later');
    assert.ok(await page.evaluate(() => !document.querySelector('#late') ||
      performance.now() - window.clickedAt >= 300), 'not there before 300 ms');
    await page.waitForSelector('#late', { visible: true });
    assert.strictEqual(await page.text('#late'), 'arrived');
    assert.ok(await page.waitFor(() => document.querySelector('#late')), 'an element is truthy');
    assert.strictEqual(await page.waitFor((id) => document.getElementById(id).textContent, {}, 'late'),
      'arrived', 'waitFor returns the value');
    await assert.rejects(page.waitFor(() => window.never === 1, { timeout: 300 }),
      /waitFor timed out after \d+ ms waiting for .*window\.never === 1/, 'a timeout names the wait');
    await assert.rejects(page.waitForSelector('#nothing', { timeout: 300 }),
      /waitForSelector: no element matches "#nothing"/);
    await assert.rejects(page.text('#nothing'), /text: no element matches/);

    step('click scrolls to a button below the fold; its confirm() is accepted');
    assert.strictEqual(await page.evaluate(() => scrollY), 0);
    await page.click('#ask');
    await page.waitFor(() => document.querySelector('#answer').textContent === 'answer: true');
    assert.ok(await page.evaluate(() => scrollY) > 0, 'scrolled');

    step('cookies, HttpOnly included');
    const cookies = await page.cookies();
    const sid = cookies.find((c) => c.name === 'sid');
    const theme = cookies.find((c) => c.name === 'theme');
    assert.ok(sid, `the sid cookie (got ${JSON.stringify(cookies)})`);
    assert.strictEqual(sid.value, 's3cret');
    assert.strictEqual(sid.httpOnly, true, 'sid is HttpOnly');
    assert.strictEqual(sid.sameSite, 'Strict');
    assert.ok(theme && theme.httpOnly === false, 'theme is not HttpOnly');
    assert.strictEqual(await page.evaluate(() => document.cookie), 'theme=dark',
      'the page sees only what is not HttpOnly');

    step('screenshots: 1280x900, then 360x740');
    const shot1 = path.join(tmp, 'desktop.png');
    await page.screenshot(shot1);
    const png1 = fs.readFileSync(shot1);
    assert.deepStrictEqual(pngSize(png1), { width: 1280, height: 900 });
    await page.setViewport(360, 740);
    assert.deepStrictEqual(await page.evaluate(() => [innerWidth, innerHeight]), [360, 740]);
    const shot2 = path.join(tmp, 'phone.png');
    await page.screenshot(shot2);
    const png2 = fs.readFileSync(shot2);
    assert.ok(png2.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
      'the file starts with the PNG signature');
    assert.ok(png2.length > 1000, `the PNG is ${png2.length} bytes`);
    assert.deepStrictEqual(pngSize(png2), { width: 360, height: 740 });
    const full = await page.screenshot(path.join(tmp, 'full.png'), { fullPage: true });
    assert.ok(pngSize(full).height > 1500, `a full page is taller (${pngSize(full).height})`);
    await page.setViewport(360, 740, { mobile: true, deviceScaleFactor: 2 });
    assert.strictEqual(await page.evaluate(() => devicePixelRatio), 2);

    step('page 1 had no console error');
    await new Promise((r) => setTimeout(r, 200 * cdp.scale));  // the favicon's request
    assert.deepStrictEqual(page.consoleErrors(), [], 'no console errors on page 1');

    step('page 2: console.error is caught');
    const page2 = await browser.newPage();
    await page2.goto(`${base}/boom`);
    await page2.waitFor(() => document.readyState === 'complete');
    await until(() => page2.consoleErrors().length > 0, 'the console error of page 2');
    const errs2 = page2.consoleErrors();
    assert.strictEqual(errs2.length, 1, `one error: ${JSON.stringify(errs2)}`);
    assert.match(errs2[0], /^console\.error: boom \(http:\/\/127\.0\.0\.1:\d+\/boom:\d+:\d+\)$/);
    assert.deepStrictEqual(page.consoleErrors(), [], 'page 1 does not get page 2\'s');

    step('a CSP violation, a failed load, an uncaught exception');
    await page2.goto(`${base}/csp`);
    await page2.evaluate(() => { setTimeout(() => { throw new Error('uncaught one'); }, 0); });
    await until(() => page2.consoleErrors().length >= 4, 'four problems on /csp');
    const all = page2.consoleErrors().join('\n');
    assert.match(all, /Content Security Policy/, all);
    assert.match(all, /404.*\/missing\.png/, all);
    assert.match(all, /exception: .*uncaught one/, all);
    assert.strictEqual(await page2.evaluate(() => window.inlineRan), undefined, 'the inline script was blocked');

    step('goto fails on a navigation error');
    const closed = http.createServer();
    await new Promise((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = closed.address().port;
    await new Promise((r) => closed.close(r));
    await assert.rejects(page2.goto(`http://127.0.0.1:${deadPort}/`),
      /navigation failed: net::ERR_CONNECTION_REFUSED/);

    step('close: no chromium left');
    const t1 = Date.now();
    await browser.close();
    const closeMs = Date.now() - t1;
    await gone(pid, profile, 'close()');
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the child pid is gone');
    await assert.rejects(page.evaluate('1'), /closed|exited/, 'a closed browser refuses calls');
    step(`closed in ${closeMs} ms`);

    step('chromium dying rejects what waits for it');
    browser = await cdp.launch();
    const b2 = browser;
    const p2 = await b2.newPage();
    const hang = p2.evaluate(() => new Promise(() => {}));
    const hangWait = p2.waitFor(() => false, { timeout: 60000 });
    await new Promise((r) => setTimeout(r, 100));
    process.kill(b2.pid, 'SIGKILL');
    await assert.rejects(hang, /chromium exited \(signal SIGKILL\) while waiting for the answer to Runtime\.evaluate/);
    await assert.rejects(hangWait, /chromium exited/);
    await b2.close();
    await gone(b2.pid, b2.profile, 'a killed chromium');

    step('a script that exits without close() leaves no chromium');
    const out = execFileSync(process.execPath, ['-e', `
      require(${JSON.stringify(require.resolve('./cdp.js'))}).launch().then((b) => {
        console.log(JSON.stringify({ pid: b.pid, profile: b.profile }));
        // no close(), no exit(): node ends when nothing is left to do
      });`], { encoding: 'utf8', timeout: 60000 * cdp.scale });
    const orphan = JSON.parse(out.trim().split('\n').pop());
    await gone(orphan.pid, orphan.profile, 'exit without close()');

    step(`ok (${Date.now() - t0} ms)`);
  } finally {
    if (browser) await browser.close().catch(() => {});
    server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e) => {
  process.stderr.write(`selftest FAILED: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
