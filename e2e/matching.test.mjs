// Browser tests of the matching view: it renders without console errors, its readouts and
// caption equal the native CLI's (`dicelens figure matching --out x.csv`, `dicelens explain`)
// at two URL states (one of them an embed), and moving a control changes the readouts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, launch, openPage, screenshot, canvasData, root, urlParams } from './lib.mjs';

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

const bin = path.join(root, 'target', 'debug', 'dicelens');

/** The CLI's CSV of the view at a state, as a map `quantity-class` (or `quantity`) → value. */
function coreMatching(state) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dicelens-matching-'));
  const out = path.join(dir, 'x.csv');
  execFileSync(bin, ['figure', 'matching', '--u3', state.u3, '--s3', state.s3, '--kappa', String(state.kappa), '--sigma', String(state.sigma), '--out', out]);
  const rows = fs.readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(rows[0], 'quantity,class,value');
  const m = new Map();
  for (const r of rows.slice(1)) {
    const [q, k, v] = r.split(',');
    m.set(k === '' ? q : `${q}-${k}`, Number(v));
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return m;
}

function coreCaption(state) {
  const out = execFileSync(bin, ['explain', '--view', 'matching', '--u3', state.u3, '--s3', state.s3, '--kappa', String(state.kappa), '--sigma', String(state.sigma)]);
  return JSON.parse(out.toString()).sentences.join(' ');
}

/** Readout test ids and the CSV rows they must equal. */
const READOUTS = [
  ...[0, 1, 2].flatMap((k) => [
    [`match-c-${k}`, `c-${k}`],
    [`match-neglogm-${k}`, `neg_log_m-${k}`],
    [`match-weight-ce-${k}`, `weight_ce-${k}`],
    [`match-weight-dice-${k}`, `weight_dice-${k}`],
  ]),
  ['match-ce', 'ce'],
  ['match-dice-bound', 'dice_bound'],
  ['match-dice', 'dice_matching'],
  ['match-gap', 'gap'],
];

const value = async (page, testid) => Number(await page.getAttribute(`[data-testid="${testid}"]`, 'data-value'));

async function assertReadoutsMatch(page, state) {
  const core = coreMatching(state);
  for (const [testid, key] of READOUTS) {
    const shown = await value(page, testid);
    const want = core.get(key);
    assert.ok(Number.isFinite(shown) && Number.isFinite(want), `${testid}: ${shown} vs ${want}`);
    // WASM and native libm may differ in the last bits of exp/ln.
    assert.ok(Math.abs(shown - want) <= 1e-9 * (1 + Math.abs(want)), `${testid}: page ${shown} vs CLI ${want} at ${JSON.stringify(state)}`);
  }
  assert.equal((await page.textContent('[data-testid="caption-matching"]')).trim(), coreCaption(state));
}

test('matching view renders, and its readouts and caption equal the CLI at a URL state', async () => {
  const state = { u3: '0.7,0.25,0.05', s3: '0.5,0.3,0.2', kappa: 0.5, sigma: 1 };
  const url = `${srv.base}?view=matching&u3=${state.u3}&s3=${state.s3}&kappa=${state.kappa}&sigma=${state.sigma}`;
  const { page, context, errors, external } = await openPage(browser, url, { waitFor: '[data-testid="match-ce"]' });
  await page.locator('#matching').scrollIntoViewIfNeeded();
  await assertReadoutsMatch(page, state);
  // The identities the view shows: CE = Σ u_k C_k, bound = mean C_k, gap = bound − matching ≥ 0.
  const c = await Promise.all([0, 1, 2].map((k) => value(page, `match-c-${k}`)));
  const u = state.u3.split(',').map(Number);
  assert.ok(Math.abs((await value(page, 'match-ce')) - (u[0] * c[0] + u[1] * c[1] + u[2] * c[2])) < 1e-12);
  assert.ok(Math.abs((await value(page, 'match-dice-bound')) - (c[0] + c[1] + c[2]) / 3) < 1e-12);
  assert.ok((await value(page, 'match-gap')) > 0);
  assert.match(await page.textContent('[data-testid="caption-matching"]'), /differ only in how they weight the classes/);
  // Both origins are said: the paper's identity, DiceLens's model.
  const origins = await page.$$eval('#matching [data-testid="origin"]', (els) => els.map((e) => e.dataset.origin));
  assert.deepEqual(origins, ['paper', 'model']);
  // The canvas is drawn (coloured bars).
  await page.waitForFunction(() => {
    const c = document.querySelector('[data-testid="plot-matching"]');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - d[i + 2]) > 60) n++;
    return n > 2000;
  });
  await page.locator('#matching').screenshot({ path: path.join(root, 'e2e', 'artifacts', 'matching-desktop.png') });
  assert.equal(await page.textContent('[data-testid="notices"]'), '');
  assert.deepEqual(errors, []);
  assert.deepEqual(external, []);
  await context.close();
});

test('an embedded matching view matches the CLI at a second state, and its controls change the readouts', async () => {
  const state = { u3: '0.2,0.3,0.5', s3: '0.3,0.3,0.4', kappa: 2, sigma: 3 };
  const url = `${srv.base}?embed=matching&u3=${state.u3}&s3=${state.s3}&kappa=${state.kappa}&sigma=${state.sigma}`;
  const { page, context, errors } = await openPage(browser, url, { waitFor: '[data-testid="match-ce"]', viewport: { width: 390, height: 900 }, dpr: 2 });
  await assertReadoutsMatch(page, state);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal overflow on a phone (${overflow}px)`);
  await screenshot(page, 'matching-embed-phone.png');

  // A class slider of the view: class 2's ground truth up by 20 steps of the log scale.
  const weightBefore = await value(page, 'match-weight-ce-2');
  const pixels = await canvasData(page, 'plot-matching');
  await page.focus('[data-testid="u3-2-slider"]');
  for (let i = 0; i < 20; i++) await page.keyboard.press('ArrowRight');
  await page.waitForFunction((w) => Number(document.querySelector('[data-testid="match-weight-ce-2"]').dataset.value) !== w, weightBefore);
  const u3 = (await urlParams(page)).get('u3');
  assert.notEqual(u3, state.u3);
  const parts = u3.split(',').map(Number);
  assert.ok(Math.abs(parts.reduce((a, b) => a + b, 0) - 1) < 1e-3, `u3 on the simplex: ${u3}`);
  assert.ok(Math.abs((await value(page, 'match-weight-ce-2')) - parts[2]) < 1e-3);
  // Plots off screen wait to redraw until they come into sight (focusing the slider, below the
  // plot in an embed, can scroll it away): bring it back, then wait for the redraw.
  await page.locator('[data-testid="plot-matching"]').scrollIntoViewIfNeeded();
  await page.waitForFunction((p) => document.querySelector('[data-testid="plot-matching"]').toDataURL() !== p, pixels);

  // The shared σ control of the embed: typing a value changes the Jensen gap.
  const gapBefore = await value(page, 'match-gap');
  await page.fill('[data-testid="sigma-slider-num"]', '0.5');
  await page.press('[data-testid="sigma-slider-num"]', 'Enter');
  await page.waitForFunction((g) => Number(document.querySelector('[data-testid="match-gap"]').dataset.value) !== g, gapBefore);
  const moved = { ...state, u3: (await urlParams(page)).get('u3'), sigma: 0.5 };
  await assertReadoutsMatch(page, moved);

  // Too much for classes 1 and 2 of the prediction: rescaled, with a message, never a crash.
  await page.fill('[data-testid="s3-1-slider-num"]', '0.9');
  await page.press('[data-testid="s3-1-slider-num"]', 'Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid="match-msg"]').textContent.includes('rescaled'));
  assert.deepEqual(errors, []);
  await context.close();
});

test('a term that is ≥ 0 never prints as -0.0000 (κ = σ = 0: every gap is a rounding error from zero)', async () => {
  const { page, context, errors } = await openPage(browser, `${srv.base}?view=matching&kappa=0&sigma=0`, { waitFor: '[data-testid="match-gap"]' });
  const cells = await page.$$eval('#matching td', (tds) => tds.map((td) => [td.dataset.testid, td.textContent.trim(), Number(td.dataset.value)]));
  assert.ok(cells.length > 10);
  for (const [id, text, v] of cells) {
    assert.doesNotMatch(text, /^[-−]0\.0+$/, `${id} prints ${text} (value ${v})`);
  }
  // The gap is a rounding error from zero here; it prints as zero.
  const gap = cells.find(([id]) => id === 'match-gap');
  assert.ok(Math.abs(gap[2]) < 1e-12, `gap ${gap[2]}`);
  assert.equal(gap[1], '0.0000');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a class without pixels is refused with a message, not a crash', async () => {
  const { page, context, errors } = await openPage(browser, `${srv.base}?embed=matching&u3=1,0,0`, { waitFor: '[data-testid="match-error"]' });
  assert.match(await page.textContent('[data-testid="match-error"]'), /has no pixels/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('dragging a class slider writes the address bar only once the input rests, like every slider', async () => {
  // The address bar is written once the input has rested for 150 ms (src/url.rs: one
  // replaceState can cost a whole frame). Every call is timed here against the last input
  // event before it; the drag is one input per animation frame, so a write during it is one
  // that did not wait.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript(() => {
    window.__writes = [];
    const orig = history.replaceState;
    history.replaceState = function (...a) { window.__writes.push(performance.now()); return orig.apply(this, a); };
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${srv.base}?view=matching`);
  await page.waitForSelector('[data-testid="match-gap"]');
  await page.locator('[data-testid="u3-1-slider"]').scrollIntoViewIfNeeded();
  await urlParams(page);
  for (const id of ['u3-1-slider', 's3-2-slider', 'u-slider']) {
    const r = await page.evaluate(async (id) => {
      const el = document.querySelector(`[data-testid="${id}"]`);
      const start = Number(el.value);
      const inputs = [];
      window.__writes = [];
      await new Promise((resolve) => {
        let i = 0;
        const tick = () => {
          if (i === 30) return resolve();
          el.value = String(start + (i % 2 ? 10 : 20) + i);
          inputs.push(performance.now());
          el.dispatchEvent(new Event('input', { bubbles: true }));
          i += 1;
          requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      });
      // Then rest until the write.
      const t0 = performance.now();
      while (!window.__writes.length && performance.now() - t0 < 10000) await new Promise((r) => setTimeout(r, 20));
      return { inputs, writes: window.__writes };
    }, id);
    assert.ok(r.writes.length >= 1, `${id}: the address bar was written after the drag`);
    for (const w of r.writes) {
      const last = Math.max(...r.inputs.filter((t) => t <= w));
      assert.ok(w - last >= 150, `${id}: a write ${(w - last).toFixed(1)} ms after an input`);
    }
  }
  assert.deepEqual(errors, []);
  await context.close();
});
