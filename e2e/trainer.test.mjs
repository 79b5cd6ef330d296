// Browser tests of the trainer panel: play / pause / step / reset, live plots, paint your own,
// bad values and divergence, screenshots at desktop and phone sizes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, launch, openPage, screenshot, canvasData, artifacts, urlParams } from './lib.mjs';

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

const $ = (id) => `[data-testid="${id}"]`;
const counter = async (page) => Number(await page.textContent($('step-counter')));

/** Opens the page, scrolled to the trainer, with its first evaluation drawn. */
async function openTrainer(opts = {}) {
  const o = await openPage(browser, srv.base + (opts.query || ''), opts);
  await o.page.locator('#trainer').scrollIntoViewIfNeeded();
  await o.page.waitForFunction((s) => document.querySelector(s)?.textContent === '0', $('metric-step-0'), { timeout: 30000 });
  return o;
}

/** Types into a field and commits it (a change event, as leaving the field does). */
async function typeInto(page, id, value) {
  await page.fill($(id), value);
  await page.press($(id), 'Tab');
}

test('play advances the step counter and the plots; pause stops; step adds one; reset returns to 0', async () => {
  const { page, context, errors } = await openTrainer({ viewport: { width: 1280, height: 900 } });
  assert.equal(await counter(page), 0);
  for (let i = 0; i < 4; i++) assert.match(await page.textContent($(`run-status-${i}`)), /ready/);
  // Readouts at step 0 are numbers or "—", never NaN.
  assert.match(await page.textContent($('metric-ece-0')), /^(\d|—)/);
  await page.locator($('plot-train-loss')).scrollIntoViewIfNeeded();
  const lossBefore = await canvasData(page, 'plot-train-loss');
  await page.click($('play'));
  // Plots draw only when on screen: bring the loss plot back after clicking.
  await page.locator($('plot-train-loss')).scrollIntoViewIfNeeded();
  await page.waitForFunction((s) => Number(document.querySelector(s).textContent) >= 5, $('step-counter'), { timeout: 30000 });
  assert.match(await page.textContent($('run-status-0')), /training/);
  // The training-loss plot follows (one plot redrawn per frame).
  await page.waitForFunction(({ s, before }) => document.querySelector(s).toDataURL() !== before,
    { s: $('plot-train-loss'), before: lossBefore }, { timeout: 15000 });
  const mid = await canvasData(page, 'plot-train-loss');
  const c1 = await counter(page);
  await page.waitForFunction(({ s, c }) => Number(document.querySelector(s).textContent) >= c + 5, { s: $('step-counter'), c: c1 }, { timeout: 30000 });
  await page.waitForFunction(({ s, before }) => document.querySelector(s).toDataURL() !== before,
    { s: $('plot-train-loss'), before: mid }, { timeout: 15000 });
  // The readouts follow with the next round of held-out evaluation (about once a second).
  await page.waitForFunction((s) => document.querySelector(s).textContent !== '0', $('metric-step-0'), { timeout: 15000 });
  // Pause: the step in flight completes, then the counter stops.
  await page.click($('pause'));
  await page.waitForTimeout(400);
  const paused = await counter(page);
  await page.waitForTimeout(1200);
  assert.equal(await counter(page), paused, 'counter stopped while paused');
  assert.match(await page.textContent($('run-status-0')), /paused at step/);
  // Single step.
  await page.click($('step'));
  await page.waitForFunction(({ s, c }) => Number(document.querySelector(s).textContent) === c + 1, { s: $('step-counter'), c: paused }, { timeout: 10000 });
  await page.waitForTimeout(600);
  assert.equal(await counter(page), paused + 1, 'exactly one step');
  // The readouts catch up with the single step.
  await page.waitForFunction(({ s, c }) => document.querySelector(s).textContent === String(c), { s: $('metric-step-0'), c: paused + 1 }, { timeout: 10000 });
  // Reset.
  await page.click($('reset'));
  await page.waitForFunction((s) => document.querySelector(s).textContent === '0', $('step-counter'), { timeout: 10000 });
  await page.waitForFunction((s) => document.querySelector(s)?.textContent === '0', $('metric-step-0'), { timeout: 10000 });
  assert.match(await page.textContent($('run-status-0')), /ready/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('painting a mask changes the image and every run\'s prediction on it', async () => {
  const { page, context, errors } = await openTrainer({ viewport: { width: 1280, height: 900 } });
  await page.locator($('paint-canvas')).scrollIntoViewIfNeeded();
  await page.waitForTimeout(300);
  const before = await Promise.all([0, 1, 2, 3].map((i) => canvasData(page, `paint-pred-${i}`)));
  const imgBefore = await canvasData(page, 'paint-image');
  const box = await page.locator($('paint-canvas')).boundingBox();
  await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.15);
  await page.mouse.down();
  for (let k = 0; k <= 10; k++) await page.mouse.move(box.x + box.width * (0.7 + 0.02 * k), box.y + box.height * (0.15 + 0.06 * k));
  await page.mouse.up();
  await page.waitForFunction(({ s, b }) => document.querySelector(s).toDataURL() !== b, { s: $('paint-pred-0'), b: before[0] }, { timeout: 10000 });
  assert.notEqual(await canvasData(page, 'paint-image'), imgBefore);
  for (let i = 1; i < 4; i++) assert.notEqual(await canvasData(page, `paint-pred-${i}`), before[i], `run ${i}`);
  // Keyboard alternative: clear, then a random shape, each redraws.
  const painted = await canvasData(page, 'paint-pred-0');
  await page.focus($('paint-clear'));
  await page.keyboard.press('Enter');
  await page.waitForFunction(({ s, b }) => document.querySelector(s).toDataURL() !== b, { s: $('paint-pred-0'), b: painted }, { timeout: 10000 });
  const cleared = await canvasData(page, 'paint-pred-0');
  await page.focus($('paint-random'));
  await page.keyboard.press('Enter');
  await page.waitForFunction(({ s, b }) => document.querySelector(s).toDataURL() !== b, { s: $('paint-pred-0'), b: cleared }, { timeout: 10000 });
  // Predictions follow training too.
  const atZero = await canvasData(page, 'paint-pred-0');
  await page.click($('step'));
  await page.click($('step'));
  await page.waitForFunction(({ s, b }) => document.querySelector(s).toDataURL() !== b, { s: $('paint-pred-0'), b: atZero }, { timeout: 10000 });
  assert.deepEqual(errors, []);
  await context.close();
});

test('bad typed values get an inline message; lr = 1e6 diverges with a message and no NaN anywhere', async () => {
  const { page, context, errors } = await openTrainer({ viewport: { width: 1280, height: 900 } });
  await typeInto(page, 'tr-lr', 'abc');
  assert.match(await page.textContent($('tr-lr-msg')), /'abc' is not a number: learning rate kept at 0\.01/);
  assert.equal(await page.inputValue($('tr-lr')), '0.01');
  await typeInto(page, 'tr-lr', '0');
  assert.match(await page.textContent($('tr-lr-msg')), /learning rate must be > 0/);
  await typeInto(page, 'tr-batch', '2.5');
  assert.match(await page.textContent($('tr-batch-msg')), /not a whole number/);
  await typeInto(page, 'tr-noise', '-1');
  assert.match(await page.textContent($('tr-noise-msg')), /noise must be between 0 and 3/);
  await typeInto(page, 'tr-batch', '8');
  assert.equal(await page.textContent($('tr-batch-msg')), '');
  await typeInto(page, 'tr-batch', '16');
  // The authors' preset button sets T = 10, λ = 1 on a region-term run.
  await typeInto(page, 'tr-lambda-3', '0.5');
  assert.equal(await page.inputValue($('tr-lambda-3')), '0.5');
  await page.click($('preset-3'));
  assert.equal(await page.inputValue($('tr-lambda-3')), '1');
  assert.equal(await page.inputValue($('tr-temp-3')), '10');
  assert.equal(await page.isDisabled($('tr-lambda-0')), true, 'λ is only for CE+L1 / CE+KL');
  // An absurd learning rate.
  await typeInto(page, 'tr-lr', '1e6');
  assert.equal(await page.textContent($('tr-lr-msg')), '');
  await page.waitForFunction((s) => document.querySelector(s)?.textContent === '0', $('metric-step-0'), { timeout: 10000 });
  await page.click($('play'));
  for (let i = 0; i < 4; i++) {
    await page.waitForFunction((s) => /diverged at step \d+ — learning rate too high\?/.test(document.querySelector(s).textContent), $(`run-status-${i}`), { timeout: 20000 });
  }
  await page.waitForTimeout(1000);
  const text = await page.$eval('#trainer', (el) => el.innerText);
  assert.ok(!/NaN|Infinity/.test(text), 'no NaN in the panel text');
  const values = await page.$$eval('#trainer [data-value]', (els) => els.map((e) => e.dataset.value));
  assert.ok(values.every((v) => !/NaN|Infinity/.test(v)), 'no NaN in data-values');
  assert.equal(await page.isDisabled($('play')), false, 'play is available again');
  await page.locator('#trainer').screenshot({ path: path.join(artifacts, 'trainer-diverged.png') });
  assert.deepEqual(errors, []);
  await context.close();
});

test('trainer settings load from the URL (tr… keys), follow the controls, and keep the app\'s own keys', async () => {
  const query = '?u=0.2&trloss=ce,dice&trseed=7&trlr=0.05&trmodel=logistic5&trlambda=2&trtemp=5&trsize=64&trbatch=8&trnoise=0.5';
  const { page, context, errors } = await openTrainer({ viewport: { width: 1280, height: 900 }, query });
  assert.equal(await page.inputValue($('loss-0')), 'ce');
  assert.equal(await page.inputValue($('loss-1')), 'dice');
  assert.equal(await page.inputValue($('loss-2')), 'off', 'runs the URL does not name are off');
  assert.equal(await page.inputValue($('loss-3')), 'off');
  assert.equal(await page.inputValue($('tr-seed')), '7');
  assert.equal(await page.inputValue($('tr-lr')), '0.05');
  assert.equal(await page.inputValue($('tr-model')), 'logistic5');
  assert.equal(await page.inputValue($('tr-size')), '64');
  assert.equal(await page.inputValue($('tr-batch')), '8');
  assert.equal(await page.inputValue($('tr-noise')), '0.5');
  assert.equal(await page.inputValue($('tr-lambda-0')), '2');
  assert.equal(await page.inputValue($('tr-temp-1')), '5');
  assert.equal(await page.locator($('trainer-url-notice')).count(), 0, 'no notice for good values');
  // Both URL writers ran: the app's keys and the trainer's are all there.
  let params = await urlParams(page);
  assert.equal(params.get('u'), '0.2');
  assert.equal(params.get('trloss'), 'ce,dice');
  assert.equal(params.get('trseed'), '7');
  assert.equal(params.get('trmodel'), 'logistic5');
  // A control changes its key (replaceState: no new history entry) and nothing else.
  const historyLength = await page.evaluate(() => history.length);
  await typeInto(page, 'tr-seed', '9');
  await page.selectOption($('loss-2'), 'ce-kl');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('trseed') === '9');
  params = await urlParams(page);
  assert.equal(params.get('trloss'), 'ce,dice,ce-kl');
  assert.equal(params.get('u'), '0.2', 'the trainer keeps the app\'s keys');
  assert.equal(await page.evaluate(() => history.length), historyLength);
  // The app's writer keeps the trainer's keys: move the u slider.
  await page.$eval($('u-slider'), (el) => { el.value = String(Number(el.max) * 0.5); el.dispatchEvent(new Event('input', { bubbles: true })); });
  await page.waitForFunction(() => new URL(location.href).searchParams.get('u') !== '0.2');
  params = await urlParams(page);
  assert.equal(params.get('trseed'), '9', 'the app keeps the trainer\'s keys');
  assert.equal(params.get('trloss'), 'ce,dice,ce-kl');
  // Back to the defaults: the trainer's keys leave the URL.
  await typeInto(page, 'tr-seed', '1');
  await page.waitForFunction(() => !new URL(location.href).searchParams.has('trseed'));
  // Reloading the written URL gives the same controls.
  await page.reload();
  await page.waitForSelector($('tr-seed'));
  assert.equal(await page.inputValue($('loss-2')), 'ce-kl');
  assert.equal(await page.inputValue($('tr-model')), 'logistic5');
  assert.deepEqual(errors, []);
  await context.close();
});

test('bad trainer URL values are clamped or refused with a visible notice, never a crash', async () => {
  const query = '?trloss=ce,bogus,dice,ce-l1,dice-ce&trlr=-1&trbatch=9999&trseed=abc&trmodel=resnet&trtemp=0&trsize=48&trnoise=' + 'x'.repeat(100);
  const { page, context, errors } = await openTrainer({ viewport: { width: 1280, height: 900 }, query });
  const notice = page.locator($('trainer-url-notice'));
  assert.equal(await notice.isVisible(), true);
  const text = await notice.textContent();
  for (const re of [/more than 4 runs/, /'bogus' is not a loss/, /trlr=-1 must be > 0/, /trbatch=9999 is outside 1…256; using 256/,
    /trseed=abc is not a whole number/, /trmodel=resnet is not one of cnn8, logistic5/, /trtemp=0 must be > 0/, /trsize=48 is not one of 32, 64/,
    /trnoise is 100 characters long/]) {
    assert.match(text, re);
  }
  await notice.screenshot({ path: path.join(artifacts, 'trainer-url-notice.png') });
  assert.equal(await page.inputValue($('loss-0')), 'ce');
  assert.equal(await page.inputValue($('loss-1')), 'dice', 'a refused entry keeps the default');
  assert.equal(await page.inputValue($('loss-3')), 'ce-l1');
  assert.equal(await page.inputValue($('tr-lr')), '0.01');
  assert.equal(await page.inputValue($('tr-batch')), '256');
  assert.equal(await page.inputValue($('tr-seed')), '1');
  assert.equal(await page.inputValue($('tr-model')), 'cnn8');
  assert.equal(await page.inputValue($('tr-size')), '32');
  assert.equal(await page.inputValue($('tr-temp-3')), '10');
  // The URL now holds what is used.
  const params = await urlParams(page);
  assert.equal(params.get('trbatch'), '256');
  assert.equal(params.has('trlr'), false);
  assert.equal(params.has('trseed'), false);
  assert.equal(params.has('trnoise'), false);
  // The runs work with the repaired settings, and the notice can be dismissed.
  await page.click($('step'));
  await page.waitForFunction((s) => document.querySelector(s).textContent === '1', $('step-counter'), { timeout: 20000 });
  await page.click($('trainer-url-notice-close'));
  assert.equal(await notice.count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test('screenshots at desktop 1280×800 and phone 390×844 after some training, no overflow', async () => {
  for (const [name, opts] of [
    ['desktop', { viewport: { width: 1280, height: 800 } }],
    ['phone', { viewport: { width: 390, height: 844 }, dpr: 2, touch: true }],
  ]) {
    const { page, context, errors } = await openTrainer(opts);
    await typeInto(page, 'tr-rate', '1000');
    await page.click($('play'));
    await page.waitForFunction((s) => Number(document.querySelector(s).textContent) >= 60, $('step-counter'), { timeout: 60000 });
    await page.click($('pause'));
    await page.waitForTimeout(1500);
    // Draw every plot: scroll each into view.
    for (const id of ['plot-train-loss', 'plot-proportions', 'plot-size-bins', 'plot-overlap', 'plot-calibration', 'paint-canvas']) {
      await page.locator($(id)).scrollIntoViewIfNeeded();
      await page.waitForTimeout(150);
    }
    // Nothing in the panel is wider than the panel (wide tables and the gallery scroll inside it).
    const overflow = await page.$eval('#trainer', (t) => {
      const right = t.getBoundingClientRect().right;
      let worst = t.scrollWidth - t.clientWidth;
      for (const el of t.querySelectorAll('h2, p, fieldset, .tr-run, .tr-table-wrap, .tr-gallery, .tr-paint, canvas.plot')) {
        worst = Math.max(worst, el.getBoundingClientRect().right - right);
      }
      return worst;
    });
    assert.ok(overflow <= 0, `${name}: nothing overflows the trainer panel (${overflow}px)`);
    const colored = await page.$eval($('plot-proportions'), (c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - d[i + 2]) > 60) n++;
      return n;
    });
    assert.ok(colored > 200, `${name}: scatter has markers (${colored} coloured pixels)`);
    await page.locator('#trainer').scrollIntoViewIfNeeded();
    await page.locator('#trainer').screenshot({ path: path.join(artifacts, `trainer-${name}.png`) });
    if (name === 'phone') {
      for (const [sel, file] of [['.tr-table-wrap', 'table'], ['.tr-plots', 'plots'], ['[data-testid="plot-calibration"]', 'calibration'], ['[data-testid="gallery"]', 'gallery'], ['.tr-paint', 'paint']]) {
        await page.locator(`#trainer ${sel}`).first().screenshot({ path: path.join(artifacts, `trainer-phone-${file}.png`) });
      }
    }
    await page.evaluate(() => document.querySelector('#trainer').scrollIntoView());
    await page.screenshot({ path: path.join(artifacts, `trainer-${name}-viewport.png`) });
    assert.deepEqual(errors, [], name);
    await context.close();
  }
});
