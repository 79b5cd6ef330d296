// Browser tests of the gradients view: readouts equal `dicelens grad`, the caption equals
// `dicelens explain --view gradients`, and the pfg slider moves the numbers and the plot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
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
/** The core's per-pixel gradients, from the native CLI. */
const coreGrad = (args) => JSON.parse(execFileSync(bin, ['grad', ...args]).toString());
/** The view's caption sentences, from the native CLI. */
const coreCaption = (args) =>
  JSON.parse(execFileSync(bin, ['explain', '--view', 'gradients', ...args]).toString()).sentences.join(' ');

const value = async (page, testid) => Number(await page.getAttribute(`[data-testid="${testid}"]`, 'data-value'));

/** Every readout equals the CLI's number (null: the cell says NaN and shows "—"). */
async function assertReadoutsMatch(page, core) {
  let compared = 0;
  for (const [key, g] of Object.entries(core)) {
    for (const side of ['fg', 'bg']) {
      const id = `grad-${key}-${side}`;
      const shown = await value(page, id);
      if (g[side] === null) {
        assert.ok(Number.isNaN(shown), `${id}: ${shown} for an undefined gradient`);
        assert.equal((await page.textContent(`[data-testid="${id}"]`)).trim(), '—');
      } else {
        assert.ok(Math.abs(shown - g[side]) <= 1e-12 * Math.max(1, Math.abs(g[side])), `${id}: ${shown} vs core ${g[side]}`);
      }
      compared++;
    }
  }
  assert.equal(compared, 16, 'eight losses, two pixels each');
}

function colouredPixels(page, testid) {
  return page.$eval(`[data-testid="${testid}"]`, (c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - d[i + 2]) > 60) n++;
    return n;
  });
}

for (const [query, args] of [
  ['u=0.01&pfg=0.6&pbg=0.1', ['--u', '0.01', '--pfg', '0.6', '--pbg', '0.1']],
  ['u=0.3&lambda=1&T=10', ['--u', '0.3', '--lambda', '1', '--T', '10']],
]) {
  test(`gradients at ?${query}: readouts and caption equal the CLI's, no console error`, async () => {
    const { page, context, errors } = await openPage(browser, `${srv.base}?view=gradients&${query}`, { waitFor: '[data-testid="grad-ce-fg"]' });
    await page.locator('#gradients').scrollIntoViewIfNeeded();
    await assertReadoutsMatch(page, coreGrad(args));
    // Four significant digits in the text.
    const ce = coreGrad(args).ce.fg;
    assert.equal((await page.textContent('[data-testid="grad-ce-fg"]')).trim(), ce.toPrecision(4));
    await page.waitForFunction(
      (want) => document.querySelector('[data-testid="caption-gradients"]').textContent === want,
      coreCaption(args),
    );
    assert.equal(await page.getAttribute('#gradients [data-testid="origin"]', 'data-origin'), 'model');
    assert.ok((await colouredPixels(page, 'plot-gradients')) > 500, 'the plot has curves');
    await page.locator('#gradients').screenshot({ path: path.join(root, 'e2e', 'artifacts', `gradients-${query.replace(/[&=]/g, '_')}.png`) });
    assert.equal(await page.textContent('[data-testid="notices"]'), '');
    assert.deepEqual(errors, []);
    await context.close();
  });
}

test('moving the pfg slider changes CE\'s foreground push, the plot and the URL', async () => {
  const { page, context, errors } = await openPage(browser, `${srv.base}?view=gradients`, { waitFor: '[data-testid="grad-ce-fg"]' });
  await page.locator('#gradients').scrollIntoViewIfNeeded();
  const before = await value(page, 'grad-ce-fg');
  assert.ok(Math.abs(before - (0.7 - 1)) < 1e-12, `default p_fg = 0.7: ${before}`);
  const pixels = await canvasData(page, 'plot-gradients');
  await page.focus('[data-testid="pfg-slider"]');
  for (let i = 0; i < 20; i++) await page.keyboard.press('ArrowRight');
  await page.waitForFunction(
    (b) => Number(document.querySelector('[data-testid="grad-ce-fg"]').dataset.value) !== b,
    before,
  );
  const pfg = Number(await page.inputValue('[data-testid="pfg-slider-num"]'));
  assert.ok(pfg > 0.7, `p_fg grew: ${pfg}`);
  // CE pushes a pixel by its error p − y, whatever u: the readout follows the slider.
  assert.ok(Math.abs((await value(page, 'grad-ce-fg')) - (pfg - 1)) < 1e-3, `CE fg vs p_fg ${pfg}`);
  assert.notEqual(await canvasData(page, 'plot-gradients'), pixels);
  const params = await urlParams(page);
  assert.ok(Number(params.get('pfg')) > 0.7, `pfg in the URL: ${params.get('pfg')}`);
  // A typed value gives exactly the CLI's numbers.
  await page.fill('[data-testid="pbg-slider-num"]', '0.2');
  await page.press('[data-testid="pbg-slider-num"]', 'Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid="grad-ce-bg"]').dataset.value === '0.2');
  await page.fill('[data-testid="pfg-slider-num"]', '0.9');
  await page.press('[data-testid="pfg-slider-num"]', 'Enter');
  await page.waitForFunction(() => Math.abs(Number(document.querySelector('[data-testid="grad-ce-fg"]').dataset.value) + 0.1) < 1e-12);
  await assertReadoutsMatch(page, coreGrad(['--pfg', '0.9', '--pbg', '0.2']));
  await screenshot(page, 'gradients-after-slider.png');
  assert.deepEqual(errors, []);
  await context.close();
});
