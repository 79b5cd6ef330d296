// The smoke suite every engine runs (Chromium, Firefox ESR, WebKitGTK): one browser per engine,
// one page per check group. Every wait polls a condition in the page against a generous
// deadline (the machine may be loaded); nothing sleeps in place of a check.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { artifacts, appViews, root } from '../lib.mjs';
import { startHookedServer } from './serve.mjs';

const DEADLINE = 120000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` until it returns something truthy; fails after `timeout` ms saying what it
 * waited for and the last thing it saw. */
export async function waitFor(cond, what, timeout = DEADLINE) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await cond();
      if (v && v.ready !== false) return v;
      last = v;
    } catch (e) {
      last = e.message;
    }
    if (Date.now() > end) throw new Error(`waited ${timeout / 1000} s for ${what}; last: ${JSON.stringify(last)}`);
    await sleep(200);
  }
}

// ---- functions that run in the page (self-contained: they are serialized) ----

/** Whether every rendered `canvas.plot` under `scope` has been drawn: its pixels are not all
 * equal (a canvas nothing was drawn on is uniformly transparent). A blank one is scrolled into
 * view, since the app draws only plots on screen. With `viewportOnly`, only the plots
 * intersecting the viewport count and nothing scrolls. */
function plotsDrawn({ scope, viewportOnly }) {
  const root = document.querySelector(scope);
  if (!root) {
    // Not mounted yet: what the page has got so far, so that a timeout says where loading
    // stopped (the first paint's status, the hook's errors, which files arrived and when).
    const fp = document.querySelector('[data-testid="first-paint-status"]');
    return {
      ready: false,
      why: `no ${scope} yet`,
      readyState: document.readyState,
      at_ms: Math.round(performance.now()),
      firstPaint: fp ? `${fp.hasAttribute('data-failed') ? 'failed: ' : ''}${fp.textContent}` : null,
      bindings: !!window.wasmBindings,
      errors: window.__dlErrors || null,
      files: performance.getEntriesByType('resource').map((e) => `${e.name.split('/').pop()} ${Math.round(e.responseEnd)} ms`),
    };
  }
  let all = [...root.querySelectorAll('canvas.plot')].filter((c) => c.getClientRects().length > 0 && c.width > 0 && c.height > 0);
  if (viewportOnly) {
    all = all.filter((c) => {
      const r = c.getBoundingClientRect();
      return r.bottom > 0 && r.top < window.innerHeight;
    });
  }
  if (!all.length) return viewportOnly ? { ready: true, plots: 0 } : { ready: false, why: `no rendered canvas.plot in ${scope}` };
  // Once seen drawn, a plot is not read again (reading pixels back is slow in WebKit).
  const seen = (window.__dlDrawnPlots ||= new WeakSet());
  const blank = all.filter((c) => {
    if (seen.has(c)) return false;
    const ctx = c.getContext('2d');
    if (!ctx) return true;
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    for (let i = 4; i < d.length; i += 4) {
      if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2] || d[i + 3] !== d[3]) {
        seen.add(c);
        return false;
      }
    }
    return true;
  });
  if (blank.length && !viewportOnly) blank[0].scrollIntoView({ block: 'center' });
  return { ready: blank.length === 0, plots: all.length, blank: blank.map((c) => c.dataset.testid || c.getAttribute('aria-label')) };
}

const hooked = () => Array.isArray(window.__dlErrors) && Array.isArray(window.__dlDownloads);

function clickTestid(id) {
  const el = document.querySelector(`[data-testid="${id}"]`);
  if (!el) throw new Error(`no [data-testid="${id}"]`);
  el.click();
  return true;
}

const text = (id) => document.querySelector(`[data-testid="${id}"]`)?.textContent ?? null;

/** Moves a range input a quarter of its range (away from the nearer end), as a user's drag
 * ends: sets the value and dispatches input and change. Returns the old and new positions. */
function moveRange(id) {
  const r = document.querySelector(`input[type="range"][data-testid="${id}"]`);
  if (!r) throw new Error(`no range input ${id}`);
  const lo = Number(r.min), hi = Number(r.max), v = Number(r.value);
  const step = Math.round((hi - lo) / 4);
  const nv = v - lo > (hi - lo) / 2 ? v - step : v + step;
  r.value = String(nv);
  r.dispatchEvent(new Event('input', { bubbles: true }));
  r.dispatchEvent(new Event('change', { bubbles: true }));
  return { from: v, to: Number(r.value) };
}

// ---- the suite ----

export function engineSuite(engine) {
  let srv;
  let browser;
  const shots = path.join(artifacts, 'engines', engine.name);

  before(async () => {
    fs.mkdirSync(shots, { recursive: true });
    srv = await startHookedServer();
    browser = await engine.start();
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  /** Console errors the protocol saw plus those the page's hook recorded. */
  async function errorsOf(page) {
    return [...page.nativeErrors(), ...((await page.eval(() => window.__dlErrors)) || [])];
  }

  /** Navigates and waits for the app to mount (the hook must be there, or errors would go
   * unseen). */
  async function visit(page, query, scope, landed) {
    await page.goto(srv.base + query);
    await waitFor(() => page.eval(hooked), `the error hook on ${query}`);
    if (landed) {
      // Where the page itself scrolled to, before the check below scrolls to blank plots.
      await waitFor(() => page.eval(plotsDrawn, { scope, viewportOnly: true }), `the plots on screen at ${query}`);
      await landed();
    }
    return waitFor(() => page.eval(plotsDrawn, { scope, viewportOnly: false }), `drawn plots in ${scope} at ${query}`);
  }

  const opts = { timeout: 15 * 60 * 1000 };

  test(`${engine.name}: every view (?view=<key>) renders with drawn plots and no console error`, opts, async (t) => {
    const page = await browser.newPage({ width: 1280, height: 900 });
    const views = appViews();
    assert.ok(views.length >= 10, `src/registry.rs VIEWS has ${views.length} views`);
    for (const key of views) {
      // ?view= scrolls the section to the top, again one frame later (WebKit has no CSS scroll
      // anchoring, so content growing above would leave it lower).
      const landed = async () => {
        const top = () => page.eval((k) => Math.round(document.getElementById(k).getBoundingClientRect().top), key);
        await waitFor(async () => Math.abs(await top()) <= 50, `?view=${key}: the section at the viewport's top`, 20000);
        await page.screenshot(path.join(shots, `view-${key}.png`), { fullPage: false });
      };
      const drawn = await visit(page, `?view=${key}`, `section#${key}`, landed);
      assert.ok(drawn.plots >= 1, `${key}: ${JSON.stringify(drawn)}`);
      assert.deepEqual(await errorsOf(page), [], `${engine.name} ?view=${key}`);
    }
    await page.close();
  });

  test(`${engine.name}: every embed (?embed=<key>) renders with drawn plots and no console error`, opts, async () => {
    const page = await browser.newPage({ width: 800, height: 600 });
    for (const key of appViews()) {
      const drawn = await visit(page, `?embed=${key}`, '[data-testid="embed"]');
      assert.ok(drawn.plots >= 1, `${key}: ${JSON.stringify(drawn)}`);
      assert.equal(await page.eval(() => document.querySelector('[data-testid="embed"]').dataset.view), key);
      // Back to the top, and two frames so the screenshot shows the scrolled page.
      await page.eval(() => new Promise((r) => { window.scrollTo(0, 0); requestAnimationFrame(() => requestAnimationFrame(r)); }));
      await page.screenshot(path.join(shots, `embed-${key}.png`), { fullPage: false });
      assert.deepEqual(await errorsOf(page), [], `${engine.name} ?embed=${key}`);
    }
    await page.close();
  });

  test(`${engine.name}: moving a slider changes the readouts and the plot`, opts, async () => {
    const page = await browser.newPage({ width: 800, height: 600 });
    await visit(page, '?embed=region-terms', '[data-testid="embed"]');
    const state = () => page.eval(() => ({
      u: document.querySelector('[data-testid="u-slider-num"]').value,
      minima: [...document.querySelectorAll('[data-testid^="min-"][data-value]')].map((e) => e.dataset.value),
      plot: document.querySelector('[data-testid="embed"] canvas.plot').toDataURL(),
    }));
    const before = await state();
    assert.ok(before.minima.length >= 2, `readouts: ${before.minima}`);
    const moved = await page.eval(moveRange, 'u-slider');
    assert.notEqual(moved.from, moved.to);
    const after = await waitFor(async () => {
      const s = await state();
      return s.u !== before.u && s.minima.join() !== before.minima.join() && s.plot !== before.plot
        ? s : { ready: false, u: s.u, minima: s.minima, plotChanged: s.plot !== before.plot };
    }, 'u, the minima and the plot to change after moving the u slider');
    assert.ok(Number(after.u) > 0 && Number(after.u) < 1, `u = ${after.u}`);
    await waitFor(() => page.eval(plotsDrawn, { scope: '[data-testid="embed"]' }), 'the plot redrawn');
    assert.deepEqual(await errorsOf(page), []);
    await page.close();
  });

  test(`${engine.name}: the WASM loss kernel computes the native build's bits`, opts, async () => {
    // crates/core/tests/fixtures/kernel_digest.txt is the native kernel's output (checked by
    // `cargo test --test losses32`): on four batches, the loss values and a hash of every
    // gradient's bits. The browser's WASM SIMD exp/ln and sums must give the gradients' bits.
    // The loss values are f64 closed forms of the kernel's sums, and some call `ln`, whose last
    // bit differs between WASM's libm and glibc (log-Dice: 1.1079299220280607 in the browser,
    // ...605 natively): they must agree to 4 units in the last place.
    const want = fs.readFileSync(path.join(root, 'crates', 'core', 'tests', 'fixtures', 'kernel_digest.txt'), 'utf8');
    const page = await browser.newPage({ width: 800, height: 600 });
    await visit(page, '?embed=region-terms', '[data-testid="embed"]');
    const have = await page.eval(() => window.wasmBindings.kernel_digest());
    const DECIMAL = /-?\d+\.\d+(?:e-?\d+)?/g;
    const numbers = (t) => (t.match(DECIMAL) || []).map(Number);
    assert.equal(want.split('\n').length, 5);
    assert.equal(have.replace(DECIMAL, '#'), want.replace(DECIMAL, '#'), 'the same losses, the same gradient hashes');
    const [h, w] = [numbers(have), numbers(want)];
    assert.ok(w.length > 100, `${w.length} values`);
    w.forEach((v, i) => assert.ok(Math.abs(h[i] - v) <= 4 * Number.EPSILON * Math.abs(v), `value ${i}: ${h[i]} in the browser, ${v} natively`));
    await page.close();
  });

  test(`${engine.name}: the trainer advances on Play and stops on Pause`, opts, async () => {
    const page = await browser.newPage({ width: 1000, height: 800 });
    await visit(page, '?embed=trainer', '[data-testid="embed"]');
    // The first evaluation (step 0) is in before training starts.
    await waitFor(() => page.eval(text, 'metric-step-0').then((t) => t === '0'), 'the step-0 evaluation');
    assert.equal(await page.eval(text, 'step-counter'), '0');
    // Plots draw only on screen: keep the loss plot in view.
    const lossPlot = () => page.eval(() => {
      const c = document.querySelector('[data-testid="plot-train-loss"]');
      c.scrollIntoView({ block: 'center' });
      return c.toDataURL();
    });
    const before = await lossPlot();
    await page.eval(clickTestid, 'play');
    await waitFor(() => page.eval(text, 'step-counter').then((t) => Number(t) >= 5), 'the step counter to reach 5');
    await waitFor(async () => (await lossPlot()) !== before, 'the training-loss plot to change');
    await page.eval(clickTestid, 'pause');
    await waitFor(() => page.eval(() => document.querySelector('[data-testid="pause"]').disabled), 'Pause to take effect');
    assert.ok(Number(await page.eval(text, 'step-counter')) >= 5);
    // Every run stops at the step the counter shows (with two workers, the one behind catches
    // up with the other).
    await waitFor(() => page.eval(() => {
      const n = document.querySelector('[data-testid="step-counter"]').textContent;
      return [0, 1, 2, 3].every((i) => document.querySelector(`[data-testid="run-status-${i}"]`)?.textContent === `paused at step ${n}`);
    }), 'every run paused at the counter\'s step');
    assert.deepEqual(await errorsOf(page), []);
    await page.close();
  });

  test(`${engine.name}: an export downloads the figure's CSV`, opts, async (t) => {
    const page = await browser.newPage({ width: 800, height: 600 });
    await visit(page, '?embed=family', '[data-testid="embed"]');
    const name = 'dicelens-family.csv';
    const click = () => page.eval(clickTestid, 'export-csv-dicelens-family');
    let downloaded = null;
    if (page.canDownload) {
      downloaded = await page.download(click, name, waitFor);
      assert.equal(downloaded.name, name);
    } else {
      // The driver cannot receive a download: the click records the link instead of starting it.
      await page.eval(() => { window.__dlHold = true; });
      await click();
      t.diagnostic(`${engine.name}: no file download (${page.noDownload}); checked the export link's blob instead`);
    }
    const link = await waitFor(() => page.eval(() => window.__dlDownloads.at(-1)), 'the export link to be clicked');
    assert.equal(link.name, name);
    assert.match(link.href, /^blob:/);
    // The blob behind the link is the CSV: a header, then rows of as many numeric fields.
    const blob = await page.eval((href) => fetch(href).then((r) => r.text()), link.href);
    if (downloaded) assert.equal(downloaded.bytes.toString('utf8'), blob, 'the downloaded file is the blob');
    const rows = blob.trim().split('\n');
    const width = rows[0].split(',').length;
    assert.ok(width >= 2 && rows.length >= 10, `CSV ${rows.length} rows × ${width}: ${rows[0]}`);
    for (const r of rows.slice(1)) {
      const f = r.split(',');
      assert.equal(f.length, width, r);
      assert.ok(f.some((x) => Number.isFinite(Number(x)) && x.trim() !== ''), r);
    }
    assert.deepEqual(await errorsOf(page), []);
    await page.close();
  });

  test(`${engine.name}: screenshot of the default page`, opts, async () => {
    const page = await browser.newPage({ width: 1280, height: 900 });
    await page.goto(srv.base);
    await waitFor(() => page.eval(hooked), 'the error hook');
    await waitFor(() => page.eval(plotsDrawn, { scope: 'main', viewportOnly: true }), 'the plots on screen drawn');
    await page.screenshot(path.join(artifacts, `engine-${engine.name}-default.png`), { fullPage: false });
    assert.deepEqual(await errorsOf(page), []);
    await page.close();
  });
}
