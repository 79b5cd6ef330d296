// Browser tests of the first live plot: real Chromium, a real slider, numbers from the core.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startServer, launch, openPage, screenshot, canvasData, root, SUB_PATH, urlParams, readoutsCurrent } from './lib.mjs';

let srv;
let browser;
before(async () => {
  srv = await startServer();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await srv?.close();
});

/** The core's answer, from the native CLI (independent of the WASM build under test). */
function coreRegion(u, s) {
  const bin = path.join(root, 'target', 'debug', 'dicelens');
  const out = execFileSync(bin, ['region', '--u', String(u), '--s', String(s)]);
  return JSON.parse(out.toString());
}

async function readState(page) {
  await readoutsCurrent(page);
  const u = Number(await page.inputValue('[data-testid="u-slider-num"]'));
  const s = Number(await page.getAttribute('[data-testid="current-s"]', 'data-value'));
  const minima = {};
  for (const key of ['kl', 'dice-fg', 'dice-mean', 'l1']) {
    minima[key] = {
      s: Number(await page.getAttribute(`[data-testid="min-${key}"]`, 'data-value')),
      text: (await page.textContent(`[data-testid="min-${key}"]`)).trim(),
      min: Number(await page.getAttribute(`[data-testid="minval-${key}"]`, 'data-value')),
    };
  }
  return { u, s, minima };
}

function assertMatchesCore(state) {
  const core = coreRegion(state.u, state.s);
  for (const [key, m] of Object.entries(state.minima)) {
    assert.ok(Math.abs(m.s - core.terms[key].s_min) < 1e-12, `${key} minimizer ${m.s} vs ${core.terms[key].s_min}`);
    assert.ok(Math.abs(m.min - core.terms[key].min) < 1e-9, `${key} minimum ${m.min} vs ${core.terms[key].min}`);
  }
}

test('page loads with the paper named, a drawn plot and no console errors', async () => {
  const { page, context, errors, external } = await openPage(browser, srv.base);
  assert.match(await page.textContent('header'), /Do we really need Dice\?/);
  const st = await readState(page);
  assert.equal(st.u, 0.1);
  assert.equal(st.minima.kl.s, 0.1);
  assert.equal(st.minima['dice-fg'].s, 0);
  assert.equal(st.minima['dice-mean'].s, 0);
  assertMatchesCore(st);
  // The canvas has been drawn at device resolution and is not blank.
  const dims = await page.$eval('[data-testid="plot-region-terms"]', (c) => {
    const ctx = c.getContext('2d');
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let colored = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - d[i + 2]) > 60) colored++;
    return { w: c.width, cw: c.clientWidth, colored };
  });
  assert.equal(dims.w, dims.cw);
  assert.ok(dims.colored > 1000, `curves drawn (${dims.colored} coloured pixels)`);
  await screenshot(page, 'region-terms-desktop.png');
  assert.deepEqual(errors, []);
  assert.deepEqual(external, []);
  await context.close();
});

test('keyboard on the slider changes u, the readouts (as the core computes) and the canvas', async () => {
  const { page, context, errors } = await openPage(browser, srv.base);
  const before = await readState(page);
  const pixelsBefore = await canvasData(page, 'plot-region-terms');
  const historyBefore = await page.evaluate(() => history.length);
  await page.focus('[data-testid="u-slider"]');
  for (let i = 0; i < 60; i++) await page.keyboard.press('ArrowRight');
  await page.waitForFunction((u0) => Number(document.querySelector('[data-testid="u-slider-num"]').value) !== u0, before.u);
  const afterKeys = await readState(page);
  assert.ok(afterKeys.u > before.u, `u grew: ${before.u} -> ${afterKeys.u}`);
  assert.equal(afterKeys.minima.kl.s, afterKeys.u);
  assert.notEqual(afterKeys.minima.kl.text, before.minima.kl.text);
  assertMatchesCore(afterKeys);
  assert.notEqual(await canvasData(page, 'plot-region-terms'), pixelsBefore);
  // The URL follows (replace navigation, no new history entries).
  assert.equal(Number((await urlParams(page)).get('u')), afterKeys.u);
  assert.equal(await page.evaluate(() => history.length), historyBefore, 'no history entry per tick');
  // End key: u = 0.999, where the two-class Dice term flips to the other vertex.
  await page.keyboard.press('End');
  await page.waitForFunction(() => document.querySelector('[data-testid="min-dice-mean"]').dataset.value === '1');
  const atEnd = await readState(page);
  assert.equal(atEnd.u, 0.999);
  assertMatchesCore(atEnd);
  assert.deepEqual(errors, []);
  await context.close();
});

test('mouse drag on the slider and on the plot', async () => {
  const { page, context, errors } = await openPage(browser, srv.base);
  const before = await readState(page);
  const pixelsBefore = await canvasData(page, 'plot-region-terms');
  const box = await page.locator('[data-testid="u-slider"]').boundingBox();
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width * 0.3, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.8, y, { steps: 8 });
  await page.mouse.up();
  await page.waitForFunction((u0) => Number(document.querySelector('[data-testid="u-slider-num"]').value) !== u0, before.u);
  const dragged = await readState(page);
  assert.ok(dragged.u > 0.5, `u after dragging to 80% of the log-odds scale: ${dragged.u}`);
  assert.equal(dragged.minima['dice-mean'].s, 1);
  assertMatchesCore(dragged);
  assert.notEqual(await canvasData(page, 'plot-region-terms'), pixelsBefore);
  // Pressing on the plot moves the current ŝ (scrolled into sight first: the caption above
  // it can push it below the fold, and a click there would land outside the viewport).
  await page.locator('[data-testid="plot-region-terms"]').scrollIntoViewIfNeeded();
  const plot = await page.locator('[data-testid="plot-region-terms"]').boundingBox();
  const pixelsBeforeClick = await canvasData(page, 'plot-region-terms');
  await page.mouse.click(plot.x + plot.width * 0.75, plot.y + plot.height / 2);
  await page.waitForFunction((s0) => Number(document.querySelector('[data-testid="current-s"]').textContent) !== s0, before.s);
  const clicked = await readState(page);
  // The ŝ line is drawn over the canvas where the click was, and the plot is not redrawn.
  const line = await page.$eval('[data-testid="plot-region-terms-cursor"]', (c) => ({
    x: Number(/translate\(([-\d.]+)px/.exec(c.style.transform)?.[1]),
    shown: getComputedStyle(c).display !== 'none',
  }));
  assert.ok(line.shown && Math.abs(line.x - plot.width * 0.75) < 2, `ŝ line at ${line.x} px, clicked at ${plot.width * 0.75}`);
  assert.equal(await canvasData(page, 'plot-region-terms'), pixelsBeforeClick, 'moving ŝ redrew the plot');
  assert.ok(clicked.s > 0.55 && clicked.s < 0.95, `ŝ after clicking at 75% width: ${clicked.s}`);
  const core = coreRegion(clicked.u, clicked.s);
  const atS = Number(await page.textContent('[data-testid="at-s-l1"]'));
  assert.ok(Math.abs(atS - core.terms.l1.at_s) < 6e-5, `L1 at ŝ ${atS} vs ${core.terms.l1.at_s}`);
  assert.deepEqual(errors, []);
  await context.close();
});

// Off screen, the readouts under the region-terms and family plots wait for the input to rest
// and say so with aria-busy; on screen they follow every input. A typed value's
// reactive updates run in microtasks, before any timer, and the readouts catch up no sooner
// than a timer 150 ms later: so `until` is checked on every DOM change, and `early` says
// whether it held before a zero-delay timer could run. The machine's load cannot change that.
// After a scroll: two rendered frames (the intersection observers report after a frame's
// rendering), then a pause, before the blocks are assumed to know whether they are on screen.
async function settleScroll(page) {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 0)))));
  await page.waitForTimeout(300);
}

async function afterTyped(page, u, until) {
  return page.evaluate(async ([u, until]) => {
    const q = (id) => document.querySelector(`[data-testid="${id}"]`);
    const blocks = ['alt-region-terms', 'alt-family'].map((id) => q(id).closest('.readouts-block'));
    const read = () => ({
      busy: blocks.map((b) => b.getAttribute('aria-busy')),
      region: q('alt-region-terms').textContent,
      family: q('alt-family').textContent,
    });
    const before = read();
    const holds = new Function('s', 'before', `return ${until};`);
    let timerRan = false;
    const seen = [];
    const done = new Promise((resolve) => {
      const mo = new MutationObserver(() => {
        const s = read();
        seen.push(s);
        if (holds(s, before)) { mo.disconnect(); resolve({ state: s, early: !timerRan }); }
      });
      for (const b of blocks) mo.observe(b, { attributes: true, subtree: true, childList: true, characterData: true });
    });
    setTimeout(() => { timerRan = true; }, 0);
    const never = new Promise((resolve) => setTimeout(() => resolve({ state: read(), early: false, timedOut: true }), 10000));
    const el = q('u-slider-num');
    el.value = String(u);
    el.dispatchEvent(new Event('change', { bubbles: true }));
    const r = await Promise.race([done, never]);
    return { before, seen, ...r };
  }, [u, until]);
}

test('readouts off screen wait for the input to rest and say so; on screen they follow it', async () => {
  const { page, context, errors } = await openPage(browser, srv.base, { viewport: { width: 1280, height: 900 } });
  await page.waitForSelector('[data-testid="family-optima"][data-pass="exact"]');
  await page.evaluate(() => document.querySelector('#simplex').scrollIntoView({ block: 'start' }));
  await settleScroll(page);
  const off = await afterTyped(page, 0.3, "s.busy[0] === 'true' && s.busy[1] === 'true'");
  assert.deepEqual(off.before.busy, [null, null]);
  assert.ok(off.early, 'both blocks say they are behind within the input\'s own updates');
  assert.equal(off.state.region, off.before.region, 'region-terms text unchanged while the input may go on');
  assert.equal(off.state.family, off.before.family, 'family text unchanged while the input may go on');
  await readoutsCurrent(page);
  assert.match(await page.textContent('[data-testid="alt-region-terms"]'), /^At ground-truth proportion u = 0\.300,/);
  assert.match(await page.textContent('[data-testid="alt-family"]'), /^With u = 0\.300,/);
  assert.equal(await page.getAttribute('[data-testid="family-optima"]', 'data-pass'), 'exact');
  assertMatchesCore(await readState(page));

  // On screen (a viewport tall enough for both blocks): the text follows the input at once.
  await page.setViewportSize({ width: 1280, height: 4000 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForFunction(() => {
    const r = document.querySelector('[data-testid="alt-family"]').getBoundingClientRect();
    return r.bottom > 0 && r.bottom < innerHeight;
  });
  await settleScroll(page);
  const on = await afterTyped(page, 0.05, 's.region !== before.region && s.family !== before.family');
  assert.ok(on.early, 'both texts changed within the input\'s own updates');
  assert.ok(on.seen.every((s) => s.busy[0] === null && s.busy[1] === null), 'never marked behind');
  assert.match(on.state.region, /^At ground-truth proportion u = 0\.050,/);
  assert.match(on.state.family, /^With u = 0\.050,/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('plots follow the system colour scheme while the page is open', async () => {
  const { page, context, errors } = await openPage(browser, srv.base);
  // Mean brightness of the plot's top-left corner (background, outside the axes).
  const corner = () => page.$eval('[data-testid="plot-region-terms"]', (c) => {
    const d = c.getContext('2d').getImageData(0, 0, 8, 8).data;
    let sum = 0;
    for (let i = 0; i < d.length; i += 4) sum += (d[i] + d[i + 1] + d[i + 2]) / 3;
    return sum / (d.length / 4);
  });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.waitForFunction(() => true);
  assert.ok((await corner()) > 200, 'light background');
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.waitForFunction(() => {
    const d = document.querySelector('[data-testid="plot-region-terms"]').getContext('2d').getImageData(0, 0, 1, 1).data;
    return d[0] < 80;
  });
  assert.ok((await corner()) < 80, 'dark background after the scheme changed');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.waitForFunction(() => document.querySelector('[data-testid="plot-region-terms"]').getContext('2d').getImageData(0, 0, 1, 1).data[0] > 200);
  assert.deepEqual(errors, []);
  await context.close();
});

test('typed values and URL values are clamped with a visible message, never a crash', async () => {
  const { page, context, errors } = await openPage(browser, `${srv.base}?u=7&s=abc`);
  const notices = await page.textContent('[data-testid="notices"]');
  assert.match(notices, /u=7 is outside/);
  assert.match(notices, /s=abc is not a number/);
  assert.equal((await readState(page)).u, 0.999);
  await page.fill('[data-testid="u-slider-num"]', '0');
  await page.press('[data-testid="u-slider-num"]', 'Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid="u-slider-num"]').value === '0.001');
  assert.match(await page.textContent('.field-msg'), /outside/);
  assertMatchesCore(await readState(page));
  assert.deepEqual(errors, []);
  await context.close();
});

test('dist works from a sub-path, on a phone-sized high-DPI screen', async () => {
  const { page, context, errors, external } = await openPage(browser, srv.base + SUB_PATH.slice(1) + '?u=0.02', {
    viewport: { width: 390, height: 844 }, dpr: 2, touch: true,
  });
  assert.equal((await readState(page)).u, 0.02);
  const c = await page.$eval('[data-testid="plot-region-terms"]', (el) => ({ w: el.width, cw: el.clientWidth }));
  assert.equal(c.w, c.cw * 2, 'canvas backing store at device pixel ratio');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal overflow (${overflow}px)`);
  await screenshot(page, 'region-terms-phone.png');
  assert.deepEqual(errors, []);
  assert.deepEqual(external, []);
  await context.close();
});
