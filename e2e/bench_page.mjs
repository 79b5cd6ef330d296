// The page half of the benchmark command (scripts/bench.sh), issue 13's figures:
//  - `first_plot`: the time from navigation start until the first plot is drawn, cold cache, on
//    Lighthouse's "Slow 4G" (150 ms latency, 1.6 Mbit/s down, 750 kbit/s up) with a 4× CPU
//    slowdown, against a static server that serves dist/ gzip-compressed; and the gzip bytes
//    transferred before it. "Drawn" is the app's performance mark `dicelens:first-plot`, set
//    when the first PlotCanvas draw has filled its canvas (src/widgets/perf.rs): the canvas
//    holds the plot's pixels then, and shows them at the browser's next paint. When the page
//    shows a picture drawn at build time first (index.html's first paint), the first plot is
//    that picture's `load` (mark `dicelens:first-paint`); the live canvas's time and bytes are
//    printed beside it (`live_median_ms`, `gzip_kb_before_live_plot`).
//  - `drag_frames`: one slider `input` per animation frame for 240 frames at 1280×800 with a
//    view scrolled to the top of the window, and the share of frame intervals (from the
//    requestAnimationFrame time stamps) longer than 20 ms, for the u and κ sliders (the worse
//    of the two is the view's figure; median of 3 runs each). `no-input` is the control: the
//    same frames without input, the noise of a shared machine.
//  - `trainer_throughput`: steps per second per run while the four default cnn8 runs train.
// Prints one JSON line per figure. Speed is measured here, never asserted in tests.
// Environment: DICELENS_DIST (the dist/ to serve), BENCH_ONLY=first_plot,drag_frames,...,
// BENCH_REPS (load repetitions, default 3), BENCH_VIEWS=family,landscape (drag views).
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import os from 'node:os';
import { launch, dist } from './lib.mjs';

const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null;
const want = (name) => !only || only.has(name);
const REPS = Number(process.env.BENCH_REPS || 3);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[s.length >> 1] : null;
};
const r1 = (x) => (x == null ? null : +x.toFixed(1));

/**
 * The machine's speed now: the fastest of five runs of a fixed arithmetic loop in this
 * process (milliseconds; smaller is faster). The project machine's two vCPUs share their
 * cores with other work outside it, and its speed moves by up to 1.7× within minutes, so each
 * frame figure carries this beside the load average, taken once the figure's page is closed
 * (docs/PERFORMANCE.md). Compare it between this script's lines only: the same loop run
 * elsewhere compiles and runs differently (52 ms in a bare `node -e` when this read 82–90 ms).
 */
function cpuCalibMs() {
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    let x = 0.5;
    for (let i = 0; i < 2e7; i++) x = x * 1.0000001 + 1e-9 * (i & 7);
    best = Math.min(best, performance.now() - t);
    if (!Number.isFinite(x)) throw new Error('calibration overflowed');
  }
  return r1(best);
}

const MIME = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css',
  '.wasm': 'application/wasm', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json',
};

/** dist/ served as a static host would: gzip (level 9, compressed once) to clients that accept it. */
async function gzipServer(dir) {
  const cache = new Map();
  const server = http.createServer((req, res) => {
    let url = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (url.endsWith('/')) url += 'index.html';
    const file = path.join(dir, path.normalize(url));
    if (!file.startsWith(dir) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    if (!cache.has(file)) {
      const raw = fs.readFileSync(file);
      cache.set(file, { raw, gz: zlib.gzipSync(raw, { level: 9 }) });
    }
    const { raw, gz } = cache.get(file);
    const gzip = /\bgzip\b/.test(req.headers['accept-encoding'] || '');
    const body = gzip ? gz : raw;
    res.writeHead(200, {
      'content-type': MIME[path.extname(file)] || 'application/octet-stream',
      'content-length': body.length,
      'cache-control': 'no-cache',
      ...(gzip ? { 'content-encoding': 'gzip', vary: 'accept-encoding' } : {}),
    });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((r) => server.close(r)) };
}

// Builds without the app's mark: the first `mark_drawn` (which counts `__dicelens.draws`
// right after a plot's draw) sets the same mark.
const MARK_SHIM = () => {
  let draws = 0;
  const o = { times: [] };
  Object.defineProperty(o, 'draws', {
    get: () => draws,
    set: (v) => {
      if (draws === 0 && v >= 1 && performance.getEntriesByName('dicelens:first-plot').length === 0) {
        performance.mark('dicelens:first-plot');
      }
      draws = v;
    },
    enumerable: true,
  });
  window.__dicelens = o;
};

/** One cold load: a fresh context (empty cache), Slow 4G, 4× CPU slowdown. */
async function coldLoad(browser, url, viewport) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  await context.addInitScript(MARK_SHIM);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8,
  });
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  const urls = new Map();
  const bytes = new Map();
  cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
  cdp.on('Network.loadingFinished', (e) => bytes.set(urls.get(e.requestId), (bytes.get(urls.get(e.requestId)) || 0) + e.encodedDataLength));
  await page.goto(url, { waitUntil: 'commit' });
  await page.waitForFunction(() => performance.getEntriesByName('dicelens:first-plot').length > 0, null, { timeout: 120000, polling: 250 });
  const t = await page.evaluate(() => {
    const at = (name) => performance.getEntriesByName(name)[0]?.startTime ?? null;
    const ends = {};
    for (const e of performance.getEntriesByType('navigation')) ends[e.name] = e.responseEnd;
    for (const e of performance.getEntriesByType('resource')) ends[e.name] = e.responseEnd;
    return { picture: at('dicelens:first-paint'), live: at('dicelens:first-plot'), ends };
  });
  await page.waitForTimeout(500);
  // Bytes of every response that had fully arrived when a plot was drawn.
  const upTo = (mark) => {
    let sum = 0;
    const files = {};
    for (const [u, b] of bytes) {
      const end = t.ends[u] ?? t.ends[u.replace(/#.*$/, '')];
      if (mark != null && end != null && end <= mark) {
        sum += b;
        files[u.split('/').pop() || 'index.html'] = b;
      }
    }
    return { sum, files };
  };
  let total = 0;
  for (const b of bytes.values()) total += b;
  // The first plot is the build-time picture when the page has one (index.html), else the
  // live canvas.
  const first = t.picture ?? t.live;
  const live = upTo(t.live);
  await context.close();
  return { ms: first, picture: t.picture != null, before: upTo(first).sum, files: upTo(first).files, live_ms: t.live, live_before: live.sum, total };
}

const VIEWS = {
  'region-terms': '#region-terms',
  family: '#family',
  'bias-map': '#bias-map',
  simplex: '#simplex',
  landscape: '#landscape',
  'trainer-idle': '#trainer',
  'trainer-training': '#trainer',
  // The control: the same frames with no input at all (the machine's own noise).
  'no-input': '#region-terms',
};

/** The default runs with a step budget that lasts the measurement. */
const LONG_RUNS = '?trsteps=100000';

/** Plays the trainer's four default runs as fast as the page allows. */
async function play(page) {
  await page.locator('#trainer').scrollIntoViewIfNeeded();
  await page.waitForFunction(() => document.querySelector('[data-testid="metric-step-0"]')?.textContent === '0', null, { timeout: 60000 });
  await page.fill('[data-testid="tr-rate"]', '1000');
  await page.press('[data-testid="tr-rate"]', 'Tab');
  await page.click('[data-testid="play"]');
}

/** 240 frames, each with one `input` of `slider`; frame intervals from rAF time stamps. */
async function dragFrames(page, slider, frames = 240) {
  return page.evaluate(async ([id, frames]) => {
    const el = id ? document.querySelector(`[data-testid="${id}"]`) : null;
    const stamps = [];
    let i = 0;
    await new Promise((resolve) => {
      const tick = (t) => {
        stamps.push(t);
        if (i === frames) return resolve();
        // A drag: 4 positions per frame, back and forth between 300 and 700 (of 1000).
        const k = (i * 4) % 800;
        if (el) {
          el.value = String(300 + (k < 400 ? k : 800 - k));
          el.dispatchEvent(new Event('input', { bubbles: true }));
        }
        i += 1;
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    const deltas = stamps.slice(1).map((t, j) => t - stamps[j]);
    return deltas;
  }, [slider, frames]);
}

const srv = await gzipServer(path.resolve(dist));
const browser = await launch();
try {
  if (want('first_plot')) {
    for (const [label, query, viewport] of [
      ['whole page 390x844', '', { width: 390, height: 844 }],
      ['embed=family 800x600', '?embed=family', { width: 800, height: 600 }],
    ]) {
      const runs = [];
      for (let r = 0; r < REPS; r++) runs.push(await coldLoad(browser, srv.base + query, viewport));
      const ms = runs.map((x) => x.ms);
      const before = runs.map((x) => x.before);
      console.log(JSON.stringify({
        bench: 'first_plot', page: label, network: 'Slow 4G (150 ms, 1.6 Mbit/s down, 750 kbit/s up), CPU 4x, gzip, cold cache',
        median_ms: Math.round(median(ms)), runs_ms: ms.map(Math.round), goal_ms: 2500,
        gzip_bytes_before_first_plot: median(before), gzip_kb_before_first_plot: r1(median(before) / 1024), goal_kb: 250,
        first_plot_is_picture: runs.every((x) => x.picture),
        live_median_ms: Math.round(median(runs.map((x) => x.live_ms))), live_runs_ms: runs.map((x) => Math.round(x.live_ms)),
        gzip_kb_before_live_plot: r1(median(runs.map((x) => x.live_before)) / 1024),
        gzip_bytes_total: median(runs.map((x) => x.total)), files_before: runs[0].files,
      }));
    }
  }
  if (want('drag_frames')) {
    const views = process.env.BENCH_VIEWS ? process.env.BENCH_VIEWS.split(',') : Object.keys(VIEWS);
    for (const view of views) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      // Runs that train throughout (the default budget ends within seconds at full speed).
      await page.goto(srv.base + (view === 'trainer-training' ? LONG_RUNS : ''));
      await page.waitForSelector('[data-testid="min-kl"]');
      if (view === 'trainer-training') await play(page);
      await page.evaluate((sel) => document.querySelector(sel).scrollIntoView({ block: 'start' }), VIEWS[view]);
      await page.waitForTimeout(view === 'trainer-training' ? 1500 : 800);
      const by = {};
      for (const slider of view === 'no-input' ? [null] : ['u-slider', 'kappa-slider']) {
        const shares = [];
        const p95s = [];
        const rates = [];
        for (let r = 0; r < 3; r++) {
          // While runs train: their steps per second per run during the drag (the workers
          // work in short slices while the page takes input; host.rs, `Host::pace`).
          const steps = () => page.evaluate(() => Number(document.querySelector('[data-testid="step-counter"]')?.textContent));
          const s0 = view === 'trainer-training' ? [await steps(), Date.now()] : null;
          const d = await dragFrames(page, slider);
          if (s0) rates.push(((await steps()) - s0[0]) / ((Date.now() - s0[1]) / 1000));
          shares.push(d.filter((x) => x > 20).length / d.length);
          const s = [...d].sort((a, b) => a - b);
          p95s.push(s[Math.floor(0.95 * s.length)]);
          await page.waitForTimeout(300);
        }
        by[slider || 'none'] = {
          share_over_20ms_pct: r1(100 * median(shares)), runs_pct: shares.map((x) => r1(100 * x)), p95_ms: r1(median(p95s)),
          ...(rates.length ? { steps_per_s_per_run_while_dragging: r1(median(rates)) } : {}),
        };
      }
      const worst = Math.max(...Object.values(by).map((x) => x.share_over_20ms_pct));
      // The machine's load (1-minute average) as the view was measured: frame figures mean
      // little on a busy machine.
      await page.close();
      console.log(JSON.stringify({ bench: 'drag_frames', view, viewport: '1280x800', frames: 240, reps: 3, share_over_20ms_pct: worst, goal_pct: 1, by_slider: by, load_1min: r1(os.loadavg()[0]), cpu_calib_ms: cpuCalibMs() }));
    }
  }
  if (want('trainer_throughput')) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(srv.base + LONG_RUNS);
    await page.waitForSelector('[data-testid="min-kl"]');
    await play(page);
    await page.waitForTimeout(1000);
    const r = await page.evaluate(async () => {
      const n = () => Number(document.querySelector('[data-testid="step-counter"]').textContent);
      const s0 = n();
      const stamps = [];
      const t0 = performance.now();
      await new Promise((resolve) => {
        const tick = (t) => { stamps.push(t); if (t - t0 < 5000) requestAnimationFrame(tick); else resolve(); };
        requestAnimationFrame(tick);
      });
      const deltas = stamps.slice(1).map((t, j) => t - stamps[j]);
      return { steps: n() - s0, seconds: (performance.now() - t0) / 1000, over: deltas.filter((x) => x > 20).length / deltas.length };
    });
    await page.close();
    console.log(JSON.stringify({ bench: 'trainer_throughput', runs: 4, model: 'cnn8', steps_per_s_per_run: r1(r.steps / r.seconds), frames_over_20ms_pct: r1(100 * r.over), goal_steps_per_s: 40, load_1min: r1(os.loadavg()[0]), cpu_calib_ms: cpuCalibMs() }));
  }
} finally {
  await browser.close();
  await srv.close();
}
