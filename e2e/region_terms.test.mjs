// Browser tests of the first live plot: real Chromium, a real slider, numbers from the core.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startServer, launch, openPage, screenshot, canvasData, root, SUB_PATH, urlParams } from './lib.mjs';

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
  await page.mouse.click(plot.x + plot.width * 0.75, plot.y + plot.height / 2);
  await page.waitForFunction((s0) => Number(document.querySelector('[data-testid="current-s"]').textContent) !== s0, before.s);
  const clicked = await readState(page);
  assert.ok(clicked.s > 0.55 && clicked.s < 0.95, `ŝ after clicking at 75% width: ${clicked.s}`);
  const core = coreRegion(clicked.u, clicked.s);
  const atS = Number(await page.textContent('[data-testid="at-s-l1"]'));
  assert.ok(Math.abs(atS - core.terms.l1.at_s) < 6e-5, `L1 at ŝ ${atS} vs ${core.terms.l1.at_s}`);
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
