// Browser tests of the theory explorer: family optima against the core, URL state, bad URLs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
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

/** The core's family optima, from the native CLI. */
function coreFamily(args) {
  const bin = path.join(root, 'target', 'debug', 'dicelens');
  return JSON.parse(execFileSync(bin, ['family', ...args]).toString());
}

const num = async (page, testid) => Number(await page.getAttribute(`[data-testid="${testid}"]`, 'data-value'));

test('family optima for κ=0.5, σ=1, u=0.1 match the core: Dice about 3×u, CE exactly u', async () => {
  const { page, context, errors } = await openPage(browser, `${srv.base}?u=0.1&kappa=0.5&sigma=1&lambda=0.1`);
  await page.waitForSelector('[data-testid="opt-dice-fg"]');
  const core = coreFamily(['--u', '0.1', '--kappa', '0.5', '--sigma', '1', '--lambda', '0.1']);
  for (const [key, m] of Object.entries(core.optima)) {
    const shown = await num(page, `opt-${key}`);
    assert.ok(Math.abs(shown - m.s_hat) <= 1e-6 * m.s_hat, `${key}: ${shown} vs core ${m.s_hat}`);
  }
  const dice = await num(page, 'ratio-dice-fg');
  assert.ok(dice > 2.9 && dice < 3.1, `foreground Dice bias ${dice}`);
  assert.ok(Math.abs((await num(page, 'opt-ce')) - 0.1) < 1e-9);
  assert.match(await page.textContent('[data-testid="ratio-dice-fg"]'), /2\.99×/);
  await page.locator('#family').scrollIntoViewIfNeeded();
  await screenshot(page, 'family-desktop.png');
  assert.deepEqual(errors, []);
  await context.close();
});

test('every view renders, and moving κ redraws the family and bias map and updates the URL', async () => {
  const { page, context, errors } = await openPage(browser, srv.base, { viewport: { width: 1280, height: 4000 } });
  for (const id of ['plot-region-terms', 'plot-family', 'plot-bias-map']) {
    const colored = await page.$eval(`[data-testid="${id}"]`, (c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - d[i + 2]) > 60) n++;
      return n;
    });
    assert.ok(colored > 500, `${id} has curves (${colored} coloured pixels)`);
  }
  const fam = await canvasData(page, 'plot-family');
  const bias = await canvasData(page, 'plot-bias-map');
  const optBefore = await num(page, 'opt-dice-fg');
  await page.focus('[data-testid="kappa-slider"]');
  for (let i = 0; i < 100; i++) await page.keyboard.press('ArrowRight');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('kappa') !== '0.5');
  const kappa = Number((await urlParams(page)).get('kappa'));
  assert.ok(Math.abs(kappa - 1.0) < 1e-9, `κ after 100 steps of 0.005: ${kappa}`);
  await page.waitForFunction((o) => Number(document.querySelector('[data-testid="opt-dice-fg"]').dataset.value) !== o, optBefore);
  // The exact pass follows the preview one animation frame later.
  await page.waitForSelector('[data-testid="family-optima"][data-pass="exact"]');
  const core = coreFamily(['--u', '0.1', '--kappa', '1', '--sigma', '1']);
  assert.ok(Math.abs((await num(page, 'opt-dice-fg')) - core.optima['dice-fg'].s_hat) < 1e-6);
  assert.notEqual(await canvasData(page, 'plot-family'), fam);
  assert.notEqual(await canvasData(page, 'plot-bias-map'), bias);
  // The raw-values toggle redraws too.
  const before = await canvasData(page, 'plot-family');
  await page.click('[data-testid="normalized"]');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('norm') === '0');
  assert.notEqual(await canvasData(page, 'plot-family'), before);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the bias map draws its u line over the canvas: moving u moves it on a log axis and redraws no plot; PNG draws it in', async () => {
  const { page, context, errors } = await openPage(browser, `${srv.base}?u=0.003`, { viewport: { width: 1280, height: 4000 } });
  const cursor = '[data-testid="plot-bias-map-cursor"]';
  const x = () => page.$eval(cursor, (c) => Number(/translate\(([-\d.]+)px/.exec(c.style.transform)?.[1]));
  await page.waitForFunction((sel) => /translate/.test(document.querySelector(sel)?.style.transform || ''), cursor);
  const canvas = await canvasData(page, 'plot-bias-map');
  const savePng = async () => {
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-png-dicelens-bias-map"]')]);
    return fs.readFileSync(await dl.path());
  };
  const png = await savePng();
  const size = await page.$eval('[data-testid="plot-bias-map"]', (c) => [c.width, c.height]);
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], size, 'PNG at the canvas size');
  const xs = [await x()];
  for (const u of ['0.03', '0.3']) {
    const before = xs[xs.length - 1];
    await page.fill('[data-testid="u-slider-num"]', u);
    await page.press('[data-testid="u-slider-num"]', 'Enter');
    await page.waitForFunction(([sel, b]) => !document.querySelector(sel).style.transform.includes(`(${b}px`), [cursor, before]);
    xs.push(await x());
  }
  // Ten times u is the same step on a log axis (each x is rounded to 0.1 px, the plot frame to 1 px).
  assert.ok(xs[1] - xs[0] > 50, `the line moves right: ${xs}`);
  assert.ok(Math.abs((xs[2] - xs[1]) - (xs[1] - xs[0])) < 1.5, `equal steps for 0.003 → 0.03 → 0.3: ${xs}`);
  await page.waitForTimeout(300);
  assert.equal(await canvasData(page, 'plot-bias-map'), canvas, 'moving u redrew the bias map');
  const png2 = await savePng();
  assert.notDeepEqual(png2, png, 'the exported PNG has the u line where u is');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a URL with state reproduces it', async () => {
  const url = `${srv.base}?u=0.02&s=0.4&kappa=2&sigma=2&lambda=1&T=10&norm=0`;
  const { page, context, errors } = await openPage(browser, url);
  const field = (id) => page.inputValue(`[data-testid="${id}-num"]`);
  assert.equal(await field('u-slider'), '0.02');
  assert.equal(await field('s-slider'), '0.4');
  assert.equal(await field('kappa-slider'), '2');
  assert.equal(await field('sigma-slider'), '2');
  assert.equal(await field('lambda-slider'), '1');
  assert.equal(await field('temp-slider'), '10');
  assert.equal(await page.isChecked('[data-testid="normalized"]'), false);
  assert.equal(await page.textContent('[data-testid="notices"]'), '');
  const core = coreFamily(['--u', '0.02', '--kappa', '2', '--sigma', '2', '--lambda', '1', '--temp', '10']);
  assert.ok(Math.abs((await num(page, 'opt-ce-l1')) - core.optima['ce-l1'].s_hat) < 1e-6 * core.optima['ce-l1'].s_hat);
  assert.deepEqual(errors, []);
  await context.close();
});

test('malformed URLs load with defaults or clamped values and a notice, never a crash', async () => {
  const cases = [
    ['u=abc', /u=abc is not a number/, 'u-slider', '0.1'],
    ['u=-1', /u=-1 is outside/, 'u-slider', '0.001'],
    ['u=1e308', /u=1e308 is outside/, 'u-slider', '0.999'],
    ['kappa=NaN', /kappa=NaN is not a number/, 'kappa-slider', '0.5'],
    [`sigma=${'9'.repeat(10240)}`, /sigma is 10240 characters long/, 'sigma-slider', '1'],
    ['norm=yes', /norm=yes is not 0 or 1/, 'u-slider', '0.1'],
  ];
  for (const [query, notice, field, expected] of cases) {
    const { page, context, errors } = await openPage(browser, `${srv.base}?${query}`);
    assert.match(await page.textContent('[data-testid="notices"]'), notice, query.slice(0, 40));
    assert.equal(await page.inputValue(`[data-testid="${field}-num"]`), expected, query.slice(0, 40));
    assert.ok(Number(await page.getAttribute('[data-testid="min-kl"]', 'data-value')) > 0);
    assert.deepEqual(errors, [], query.slice(0, 40));
    await context.close();
  }
});

test('phone-size screenshots of every view, with no horizontal overflow', async () => {
  const { page, context, errors } = await openPage(browser, srv.base, { viewport: { width: 390, height: 844 }, dpr: 2, touch: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal overflow (${overflow}px)`);
  for (const id of ['region-terms', 'family', 'bias-map']) {
    await page.locator(`#${id}`).scrollIntoViewIfNeeded();
    await page.waitForTimeout(100);
    await page.locator(`#${id}`).screenshot({ path: path.join(root, 'e2e', 'artifacts', `${id}-phone.png`) });
  }
  await screenshot(page, 'all-phone.png');
  assert.deepEqual(errors, []);
  await context.close();
});

test('simplex: dragging moves ŝ and u, the heat map follows the chosen term', async () => {
  const { page, context, errors } = await openPage(browser, `${srv.base}#simplex`);
  await page.locator('#simplex').scrollIntoViewIfNeeded();
  await page.waitForFunction(() => document.querySelector('[data-testid="simplex-marks"]').dataset.marks);
  const marks = async () => (await page.getAttribute('[data-testid="simplex-marks"]', 'data-marks')).split(',').map(Number);
  const box = await page.locator('[data-testid="plot-simplex"]').boundingBox();
  const [ux, uy, sx, sy] = await marks();
  const s3Before = await page.inputValue('[data-testid="s3-field"]');
  const pixels = await canvasData(page, 'plot-simplex');
  // Drag ŝ up toward the class-2 corner.
  await page.mouse.move(box.x + sx, box.y + sy);
  await page.mouse.down();
  await page.mouse.move(box.x + sx, box.y + sy - 120, { steps: 6 });
  await page.mouse.up();
  await page.waitForFunction((v) => document.querySelector('[data-testid="s3-field"]').value !== v, s3Before);
  const s3 = (await page.inputValue('[data-testid="s3-field"]')).split(',').map(Number);
  assert.ok(s3[2] > 0.35, `class-2 share of ŝ grew: ${s3}`);
  assert.ok(Math.abs(s3[0] + s3[1] + s3[2] - 1) < 1e-3);
  assert.notEqual(await canvasData(page, 'plot-simplex'), pixels);
  assert.equal((await urlParams(page)).get('s3'), s3.join(','));
  // Drag u toward the class-1 corner: Dice's minimizing vertex stays the largest class.
  const u3Before = await page.inputValue('[data-testid="u3-field"]');
  await page.mouse.move(box.x + ux, box.y + uy);
  await page.mouse.down();
  await page.mouse.move(box.x + ux + 200, box.y + uy, { steps: 6 });
  await page.mouse.up();
  await page.waitForFunction((v) => document.querySelector('[data-testid="u3-field"]').value !== v, u3Before);
  const u3 = (await page.inputValue('[data-testid="u3-field"]')).split(',').map(Number);
  assert.ok(u3[1] > 0.25, `class-1 share of u grew: ${u3}`);
  const largest = u3.indexOf(Math.max(...u3));
  const dice = (await page.getAttribute('[data-testid="min3-dice"]', 'data-value')).split(',').map(Number);
  assert.equal(dice[largest], 1, `Dice's minimizer is the vertex of the largest class ${largest}: ${dice}`);
  assert.equal(await page.getAttribute('[data-testid="min3-kl"]', 'data-value'), u3.join(','));
  // The heat map follows the selected term.
  const before = await canvasData(page, 'plot-simplex');
  await page.check('[data-testid="term-dice"]');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('term') === 'dice');
  assert.notEqual(await canvasData(page, 'plot-simplex'), before);
  // A typed triple that does not sum to 1 is rescaled, with a message.
  await page.fill('[data-testid="u3-field"]', '2,1,1');
  await page.press('[data-testid="u3-field"]', 'Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid="u3-field"]').value === '0.5,0.25,0.25');
  assert.match(await page.textContent('#simplex .field-msg'), /rescaled/);
  await page.locator('#simplex').screenshot({ path: path.join(root, 'e2e', 'artifacts', 'simplex-desktop.png') });
  assert.deepEqual(errors, []);
  await context.close();
});

test('the decomposition caption states the u of the bars it describes, also while they wait off screen', async () => {
  // At the top of the page the decomposition is off screen: its bars follow u once the input
  // rests. Its sentence reads u beside the bars' own ŝ and region term, so a caption that took
  // the new u at once would say "below u = 0.500 … negative (+0.288)" until then.
  const { page, context, errors } = await openPage(browser, srv.base, { viewport: { width: 1280, height: 900 } });
  await page.waitForFunction(() => /above u = 0\.100\)/.test(document.querySelector('[data-testid="caption-decomposition"]')?.textContent ?? ''));
  const seen = await page.evaluate(async () => {
    const cap = document.querySelector('[data-testid="caption-decomposition"]');
    const texts = [cap.textContent];
    const done = new Promise((resolve) => {
      // A MutationObserver sees every text the caption takes, before any timer runs.
      const mo = new MutationObserver(() => {
        texts.push(cap.textContent);
        if (/u = 0\.500/.test(cap.textContent) && /\(-/.test(cap.textContent)) { mo.disconnect(); resolve(); }
      });
      mo.observe(cap, { subtree: true, childList: true, characterData: true });
    });
    const el = document.querySelector('[data-testid="u-slider-num"]');
    el.value = '0.5';
    el.dispatchEvent(new Event('change', { bubbles: true }));
    await Promise.race([done, new Promise((r) => setTimeout(r, 20000))]);
    return texts;
  });
  assert.match(seen.at(-1), /below u = 0\.500\) the foreground's Dice region term is negative \(-0\.\d{3}\)/);
  for (const t of seen) {
    assert.doesNotMatch(t, /positive \(-|negative \(\+/, `a caption that contradicts its own number: ${t}`);
  }
  // At u = ŝ = 0.3 the family's ŝ is a hair above u: the sentence used to read "At ŝ = 0.300
  // (above u = 0.300) … positive (+0.000)".
  await page.fill('[data-testid="u-slider-num"]', '0.3');
  await page.press('[data-testid="u-slider-num"]', 'Enter');
  await page.waitForFunction(() => /u = 0\.300|both 0\.300/.test(document.querySelector('[data-testid="caption-decomposition"]').textContent));
  const atU = await page.textContent('[data-testid="caption-decomposition"]');
  assert.match(atU, /^At ŝ ≈ u \(both 0\.300\) the foreground's Dice region term is 0\.000 to three decimals/);
  assert.doesNotMatch(atU, /[+-]0\.000/);
  // Nor do the text alternative and the table print a KL or a region term as "-0.0000" (KL is
  // never negative; a rounding error below zero used to show).
  await page.waitForFunction(() => /ŝ = 0\.300/.test(document.querySelector('[data-testid="alt-decomposition"]').textContent));
  const numbers = await page.evaluate(() => [document.querySelector('[data-testid="alt-decomposition"]').textContent,
    ...[...document.querySelectorAll('#decomposition table.decomp td')].map((td) => td.textContent)].join(' | '));
  assert.match(numbers, /KL 0\.0000 \+ precision/);
  assert.doesNotMatch(numbers, /-0\.0+(?!\d*[1-9])/, numbers);
  assert.deepEqual(errors, []);
  await context.close();
});

test('decomposition: every bar\'s parts sum to its loss; ambiguous pixels: CE calibrated, Dice all-or-nothing', async () => {
  const { page, context, errors } = await openPage(browser, `${srv.base}?p=0.5&s=0.2`, { viewport: { width: 1280, height: 4000 } });
  await page.waitForSelector('[data-testid="decomp-total-0"]');
  for (let i = 0; i < 6; i++) {
    const sum = await num(page, `decomp-sum-${i}`);
    const total = await num(page, `decomp-total-${i}`);
    assert.ok(Math.abs(sum - total) <= 1e-9 * Math.max(1, Math.abs(total)), `bar ${i}: ${sum} vs ${total}`);
  }
  assert.ok((await num(page, 'decomp-total-0')) > 0);
  assert.equal(await num(page, 'qstar-ce'), 0.5);
  assert.equal(await num(page, 'qstar-dice'), 1);
  assert.ok(Math.abs((await num(page, 'volbias-dice')) - 1 / 3) < 1e-9, 'Dice over-segments by a third at p = 0.5');
  await page.fill('[data-testid="p-slider-num"]', '0.1');
  await page.press('[data-testid="p-slider-num"]', 'Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid="qstar-dice"]').dataset.value === '0');
  assert.equal(await num(page, 'qstar-ce'), 0.1);
  assert.ok((await num(page, 'volbias-dice')) < 0);
  for (const id of ['plot-decomposition', 'plot-ambiguous', 'plot-simplex']) {
    const colored = await page.$eval(`[data-testid="${id}"]`, (c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - d[i + 2]) > 60) n++;
      return n;
    });
    assert.ok(colored > 500, `${id} drawn (${colored})`);
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test('library presets change the numbers as the libraries would', async () => {
  const { page, context, errors } = await openPage(browser, `${srv.base}?u=0.05&kappa=0.5&sigma=1`);
  await page.waitForSelector('[data-testid="opt-preset"]');
  const paper = await num(page, 'opt-preset');
  assert.ok(Math.abs(paper - (await num(page, 'opt-dice-fg'))) < 1e-6, 'paper preset = plain foreground Dice');
  await page.selectOption('[data-testid="preset"]', 'nnunet');
  await page.waitForFunction((v) => Number(document.querySelector('[data-testid="opt-preset"]').dataset.value) !== v, paper);
  const nnunet = await num(page, 'opt-preset');
  assert.ok(nnunet < paper, `nnU-Net adds CE, which pulls ŝ* toward u: ${nnunet} < ${paper}`);
  assert.match(await page.textContent('[data-testid="preset-desc"]'), /nnU-Net/);
  assert.equal((await urlParams(page)).get('preset'), 'nnunet');
  const { page: p2, context: c2 } = await openPage(browser, `${srv.base}?preset=bogus`);
  assert.match(await p2.textContent('[data-testid="notices"]'), /preset=bogus/);
  await c2.close();
  assert.deepEqual(errors, []);
  await context.close();
});
