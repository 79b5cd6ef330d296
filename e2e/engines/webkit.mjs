// WebKitGTK (Safari's engine): Debian's webkit2gtk-driver `WebKitWebDriver` driving
// `MiniBrowser --automation`, under `xvfb-run -a` (MiniBrowser needs an X display), through
// plain W3C WebDriver `fetch` calls (no client library: webdriverio and puppeteer-core
// conflict in one package.json).
//
// The driver interface every engine module implements (./chromium.mjs, ./firefox.mjs):
//   start() -> { newPage({width, height}) -> page, close() }
//   page.goto(url)            navigates and waits for the load event
//   page.eval(fn, arg)        runs `fn(arg)` in the page (async allowed), returns JSON
//   page.nativeErrors()       console/page errors the protocol reported since the last call
//                             (none here: WebDriver classic has no log API; the page's own hook,
//                             ./hook.mjs, records them in every engine)
//   page.screenshot(file)     a PNG (here the viewport: classic WebDriver has no full page)
//   page.canDownload          whether page.download works; else page.noDownload says why
//   page.download(click, name, waitFor)  runs click(), returns {name, bytes} of the download
//   page.close()
import fs from 'node:fs';
import net from 'node:net';
import { spawn } from 'node:child_process';

export const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER || '/usr/bin/WebKitWebDriver';
/** Debian's MiniBrowser (package libwebkit2gtk-4.1-0) under /usr/lib/<multiarch>/. */
export const MINIBROWSER = process.env.MINIBROWSER || (() => {
  const arch = fs.readdirSync('/usr/lib').find((d) => fs.existsSync(`/usr/lib/${d}/webkit2gtk-4.1/MiniBrowser`));
  return `/usr/lib/${arch ?? 'x86_64-linux-gnu'}/webkit2gtk-4.1/MiniBrowser`;
})();
export const XVFB_RUN = '/usr/bin/xvfb-run';

const freePort = () => new Promise((resolve, reject) => {
  const s = net.createServer();
  s.on('error', reject);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const webkit = {
  name: 'webkit',
  async start() {
    for (const f of [WEBKIT_DRIVER, MINIBROWSER, XVFB_RUN]) {
      if (!fs.existsSync(f)) throw new Error(`${f} is missing: run scripts/setup.sh`);
    }
    const port = await freePort();
    // Its own process group, so closing ends xvfb-run, Xvfb, the driver and MiniBrowser.
    const child = spawn(XVFB_RUN, ['-a', '-s', '-screen 0 1600x1200x24', WEBKIT_DRIVER, `--port=${port}`, '--host=127.0.0.1'],
      { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
    let exited = null;
    child.on('exit', (code, signal) => { exited = `exited with ${code ?? signal}`; });
    const base = `http://127.0.0.1:${port}`;
    const stop = () => { try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ } };
    // Should this process end without closing (a crash, a cancelled run), end the group too.
    process.once('exit', stop);

    async function call(method, path, body) {
      const res = await fetch(base + path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(180000),
      });
      const json = await res.json().catch(() => ({}));
      if (!res.ok) {
        const v = json.value || {};
        throw new Error(`WebDriver ${method} ${path}: ${v.error || res.status}: ${v.message || ''}`);
      }
      return json.value;
    }

    let sessionId;
    try {
      // The driver listens once Xvfb is up (generous: the machine may be loaded).
      const deadline = Date.now() + 60000;
      for (;;) {
        if (exited) throw new Error(`WebKitWebDriver ${exited}: ${stderr}`);
        try { if ((await call('GET', '/status')).ready) break; } catch { /* not listening yet */ }
        if (Date.now() > deadline) throw new Error(`WebKitWebDriver did not start: ${stderr}`);
        await sleep(250);
      }
      ({ sessionId } = await call('POST', '/session', {
        capabilities: { alwaysMatch: { 'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] } } },
      }));
      await call('POST', `/session/${sessionId}/timeouts`, { script: 120000, pageLoad: 120000 });
    } catch (e) {
      stop();
      throw e;
    }
    const s = (p) => `/session/${sessionId}${p}`;

    const page = {
      goto: (url) => call('POST', s('/url'), { url }),
      async eval(fn, arg) {
        // execute/async with an explicit callback: the result of `fn` is awaited either way.
        const script = `const done = arguments[arguments.length - 1];
          Promise.resolve().then(() => (${fn})(arguments[0]))
            .then((v) => done({ ok: v === undefined ? null : v }), (e) => done({ err: String((e && e.stack) || e) }));`;
        const r = await call('POST', s('/execute/async'), { script, args: [arg === undefined ? null : arg] });
        if (r && 'err' in r) throw new Error(`in the page: ${r.err}`);
        return r?.ok;
      },
      nativeErrors: () => [],
      async screenshot(file) {
        fs.writeFileSync(file, Buffer.from(await call('GET', s('/screenshot')), 'base64'));
      },
      canDownload: false,
      noDownload: 'W3C WebDriver classic has no download API, and MiniBrowser would ask where to save',
      async close() { await call('POST', s('/url'), { url: 'about:blank' }); },
    };

    return {
      /** The one session's window, sized so the page's viewport is width × height. */
      async newPage({ width, height }) {
        await call('POST', s('/window/rect'), { width, height });
        // MiniBrowser's window includes its toolbar: grow the window by the difference.
        const inner = await page.eval(() => [window.innerWidth, window.innerHeight]);
        if (inner[0] !== width || inner[1] !== height) {
          await call('POST', s('/window/rect'), { width: width + (width - inner[0]), height: height + (height - inner[1]) });
        }
        return page;
      },
      async close() {
        try { await call('DELETE', s('')); } catch { /* the driver may be gone already */ }
        if (!exited) {
          const gone = new Promise((r) => child.once('exit', r));
          stop();
          await Promise.race([gone, sleep(10000)]);
        }
        process.removeListener('exit', stop);
      },
    };
  },
};
