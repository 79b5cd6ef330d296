// Browser tests of "teach and embed": the guided tour, share links, embeds in the course-page
// example with the postMessage API, figure export, axe-core, malformed page-mode keys.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, launch, openPage, screenshot, root, SUB_PATH, urlParams, tourSteps, tourStep, appViews } from './lib.mjs';

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

const num = async (page, testid) => Number(await page.getAttribute(`[data-testid="${testid}"]`, 'data-value'));
const param = async (page, key) => (await urlParams(page)).get(key);
const VIEWS = appViews();

/** Answers the open step's predict-first question with its right choice (data-answer). */
async function answerTour(page) {
  const answer = await page.getAttribute('[data-testid="tour-question"]', 'data-answer');
  assert.ok(await page.isVisible('[data-testid="tour-hidden"]'), 'the explanation waits for an answer');
  assert.equal(await page.$('[data-testid="tour-text"]'), null);
  await page.click(`[data-testid="tour-choice-${answer}"]`);
  assert.equal((await page.textContent('[data-testid="tour-feedback"]')).trim(), 'Right.');
  await page.waitForSelector('[data-testid="tour-text"]');
}

test('the tour: deep link, next/previous set the state, live numbers, controls keep working', async () => {
  const steps = tourSteps();
  const n = steps.length;
  const fam = tourStep('step_family');
  const fix = tourStep('step_fix');
  const simplex = steps.findIndex((s) => s.view === 'simplex') + 1;
  const { page, context, errors } = await openPage(browser, `${srv.base}?tour=1`);
  await page.waitForSelector('[data-testid="tour"]');
  assert.equal(await page.textContent('[data-testid="tour-step"]'), `Step 1 of ${n}`);
  assert.ok(await page.$eval(`#${steps[0].view}`, (e) => e.classList.contains('tour-focus')));
  assert.equal(await page.isDisabled('[data-testid="tour-prev"]'), true);
  for (let i = 1; i < fam; i++) await page.click('[data-testid="tour-next"]');
  assert.equal(await page.textContent('[data-testid="tour-step"]'), `Step ${fam} of ${n}`);
  assert.equal(await param(page, 'tour'), String(fam));
  assert.ok(await page.$eval('#family', (e) => e.classList.contains('tour-focus')));
  assert.ok(!(await page.$eval(`#${steps[0].view}`, (e) => e.classList.contains('tour-focus'))));
  assert.equal(await param(page, 'kappa'), steps[fam - 1].set.kappa);
  await answerTour(page);
  // The step's live numbers are the family view's readouts (its exact pass).
  const quotes = async () => {
    await page.waitForFunction(() => document.querySelector('[data-testid="family-optima"]').dataset.pass === 'exact');
    const r = await num(page, 'ratio-dice-fg');
    const text = await page.textContent('[data-testid="tour-text"]');
    return { r, text, ok: text.includes(`foreground-only Dice ${r > 1 ? 'over' : 'under'}-estimates u (${r.toFixed(2)}×)`) };
  };
  const q = await quotes();
  assert.ok(q.ok, `tour text "${q.text}" should quote foreground Dice's bias ${q.r}`);
  assert.match(q.text, /foreground-only Dice over-estimates u \(2\.99×\)/);
  // Every control still works while the tour is open, and the text follows it.
  await page.fill('#u-slider-num', '0.05');
  await page.press('#u-slider-num', 'Enter');
  await page.waitForFunction(() => {
    const q = (id) => document.querySelector(`[data-testid="${id}"]`);
    const r = Number(q('ratio-dice-fg').dataset.value);
    return q('family-optima').dataset.pass === 'exact' && Math.abs(Number(q('opt-ce').dataset.value) - 0.05) < 1e-9 &&
      q('tour-text').textContent.includes(`(${r.toFixed(2)}×)`);
  });
  assert.equal(await param(page, 'u'), '0.05');
  assert.notEqual((await quotes()).r.toFixed(2), q.r.toFixed(2), 'the bias moved with u');
  // The fix step sets λ = 1 and T = 10; Previous goes back.
  for (let i = fam; i < fix; i++) await page.click('[data-testid="tour-next"]');
  assert.equal(await param(page, 'lambda'), steps[fix - 1].set.lambda);
  assert.equal(await param(page, 'T'), steps[fix - 1].set.T);
  assert.deepEqual([steps[fix - 1].set.lambda, steps[fix - 1].set.T], ['1', '10']);
  await page.click('[data-testid="tour-prev"]');
  assert.equal(await param(page, 'tour'), String(fix - 1));
  assert.ok(await page.$eval(`#${steps[fix - 2].view}`, (e) => e.classList.contains('tour-focus')));
  await answerTour(page);
  await screenshot(page, 'tour-desktop.png');
  await page.click('[data-testid="tour-close"]');
  assert.equal(await page.$('[data-testid="tour"]'), null);
  assert.equal(await param(page, 'tour'), null);
  assert.equal(await page.$('.tour-focus'), null);
  // ?tour=<simplex step> opens the simplex step with Dice's term selected.
  await page.goto(`${srv.base}?tour=${simplex}`);
  await page.waitForSelector('[data-testid="tour"]');
  assert.ok(await page.isChecked('[data-testid="term-dice"]'));
  assert.ok(await page.$eval('#simplex', (e) => e.classList.contains('tour-focus')));
  assert.deepEqual(errors, []);
  await context.close();
});

test('the tour on a phone leaves the page usable', async () => {
  const { page, context, errors } = await openPage(browser, `${srv.base}?tour=4`, { viewport: { width: 390, height: 844 }, touch: true, dpr: 2 });
  await page.waitForSelector('[data-testid="tour"]');
  const box = await page.$eval('[data-testid="tour"]', (e) => e.getBoundingClientRect().toJSON());
  assert.ok(box.width <= 390 && box.height <= 844 * 0.45, `tour panel ${JSON.stringify(box)}`);
  await page.screenshot({ path: path.join(root, 'e2e', 'artifacts', 'tour-phone.png') });
  assert.deepEqual(errors, []);
  await context.close();
});

test('share: the link round-trips every view state', async () => {
  const { page, context, errors } = await openPage(browser, `${srv.base}?u=0.2&kappa=1.5&term=l1&a=0.1`);
  await page.click('[data-testid="share"]');
  const initial = await num(page, 'opt-dice-fg');
  await page.fill('#sigma-slider-num', '2');
  await page.press('#sigma-slider-num', 'Enter');
  const link = await page.inputValue('[data-testid="share-link"]');
  const url = new URL(link);
  assert.equal(url.searchParams.get('u'), '0.2');
  assert.equal(url.searchParams.get('kappa'), '1.5');
  assert.equal(url.searchParams.get('sigma'), '2');
  assert.equal(url.searchParams.get('term'), 'l1');
  // Off screen, the family's exact optima follow once the controls rest (data-pass="exact").
  await page.waitForFunction((v) => {
    const t = document.querySelector('[data-testid="family-optima"]');
    return t.dataset.pass === 'exact' && Number(document.querySelector('[data-testid="opt-dice-fg"]').dataset.value) !== v;
  }, initial);
  const before = await num(page, 'opt-dice-fg');
  const other = await openPage(browser, link);
  assert.equal(await num(other.page, 'opt-dice-fg'), before);
  assert.ok(await other.page.isChecked('[data-testid="term-l1"]'));
  assert.equal(await other.page.inputValue('#a-slider-num'), '0.1');
  // The embed snippet carries the state and the chosen view.
  await page.selectOption('[data-testid="embed-view"]', 'simplex');
  await page.uncheck('[data-testid="embed-controls"]');
  const snippet = await page.inputValue('[data-testid="embed-snippet"]');
  assert.match(snippet, /^<iframe src="[^"]*embed=simplex[^"]*controls=0/);
  assert.match(snippet, /sigma=2/);
  assert.deepEqual([...errors, ...other.errors], []);
  await other.context.close();
  await context.close();
});

test('every view embeds alone (under the sub-path), with an "open in DiceLens" link carrying the state', async () => {
  for (const view of VIEWS) {
    const { page, context, errors, external } = await openPage(browser, `${srv.base}${SUB_PATH.slice(1)}?embed=${view}&u=0.05`, { waitFor: '[data-testid="embed"]', viewport: { width: 800, height: 700 } });
    await page.waitForSelector(`#${view} canvas, #${view} table`);
    assert.equal(await page.$('.site-header'), null, `${view}: no page chrome`);
    assert.equal(await page.$$eval('main > section.panel', (s) => s.length), 1);
    const full = new URL(await page.getAttribute('[data-testid="open-full"]', 'href'));
    assert.equal(full.searchParams.get('view'), view);
    assert.equal(full.searchParams.get('embed'), null);
    assert.equal(full.searchParams.get('u'), '0.05');
    assert.ok(full.pathname.startsWith(SUB_PATH));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${view}: horizontal overflow ${overflow}px`);
    assert.deepEqual(errors, [], view);
    assert.deepEqual(external, [], view);
    await context.close();
  }
  const { page, context } = await openPage(browser, `${srv.base}?embed=family&controls=0`, { waitFor: '[data-testid="embed"]', viewport: { width: 390, height: 844 }, touch: true, dpr: 2 });
  assert.equal(await page.$('#u-slider'), null, 'controls=0 shows no shared sliders');
  assert.equal(await page.isVisible('[data-testid="normalized"]'), false);
  await screenshot(page, 'embed-family-phone.png');
  await context.close();
});

test('course-page example: two embeds, dicelens:set from the allowed origin only, dicelens:state reported as text', async () => {
  const { page, context, errors } = await openPage(browser, `${srv.base}examples/course-page.html`, { waitFor: null, viewport: { width: 1100, height: 900 } });
  const fam = page.frameLocator('#w-family');
  const bias = page.frameLocator('#w-bias');
  await fam.locator('[data-testid="opt-dice-fg"]').waitFor();
  await bias.locator('[data-testid="plot-bias-map"]').waitFor();
  assert.equal(await bias.locator('#u-slider').count(), 0, 'controls=0');
  // The host page's slider posts dicelens:set; both widgets follow.
  await page.$eval('#host-u', (el) => { el.value = '0.25'; el.dispatchEvent(new Event('input')); });
  await fam.locator('#u-slider-num').evaluate((el) => new Promise((r) => { const t = () => (el.value === '0.25' ? r() : setTimeout(t, 20)); t(); }));
  // The widget reports its state back; the page shows it as text.
  await page.waitForFunction(() => document.querySelector('#reported').textContent.includes('u = 0.25'));
  assert.match(await page.textContent('#reported'), /view family/);
  // Bad values are refused with a notice, and nothing is inserted as HTML.
  await page.evaluate(() => {
    const w = document.getElementById('w-family').contentWindow;
    w.postMessage({ type: 'dicelens:set', state: { kappa: '<img src=x onerror="window.pwned=1">', sigma: 99 } }, '*');
  });
  await fam.locator('.notice', { hasText: 'dicelens:set value kappa' }).waitFor();
  assert.equal(await fam.locator('img').count(), 0);
  assert.equal(await fam.locator('#sigma-slider-num').inputValue(), '4');
  // A widget whose author named another origin ignores this page's messages.
  const port = new URL(srv.base).port;
  await page.evaluate((src) => {
    const f = document.createElement('iframe');
    f.id = 'w-other';
    f.style.height = '600px';
    f.src = src;
    document.body.append(f);
  }, `/dist/index.html?embed=region-terms&u=0.1&parent=${encodeURIComponent('https://elsewhere.example')}`);
  const other = page.frameLocator('#w-other');
  await other.locator('[data-testid="min-kl"]').waitFor();
  await page.evaluate(() => document.getElementById('w-other').contentWindow.postMessage({ type: 'dicelens:set', state: { u: 0.3 } }, '*'));
  // A message the same widget would accept if it came from the right origin: sent to the
  // family widget at the same time, it lands there, so the wait below is long enough.
  await page.evaluate(() => document.getElementById('w-family').contentWindow.postMessage({ type: 'dicelens:set', state: { u: 0.3 } }, '*'));
  await fam.locator('#u-slider-num').evaluate((el) => new Promise((r) => { const t = () => (el.value === '0.3' ? r() : setTimeout(t, 20)); t(); }));
  assert.equal(await other.locator('#u-slider-num').inputValue(), '0.1');
  assert.ok(port);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  await screenshot(page, 'course-page.png');
  assert.deepEqual(errors, []);
  await context.close();
});

test('export: PNG at the pixel ratio and at 2×, SVG that parses, CSV of the plotted data', async () => {
  // One fresh page per view: Chromium holds back a page's downloads after a burst of them (a
  // page that exported 20-odd files in a row once stopped starting downloads, and the test
  // timed out waiting for one), so no page here makes more than five.
  const dir = path.join(root, 'e2e', 'artifacts', 'exports');
  fs.mkdirSync(dir, { recursive: true });
  const save = async (testid, p) => {
    const button = p.locator(`[data-testid="${testid}"]`);
    await button.scrollIntoViewIfNeeded();
    const [dl] = await Promise.all([p.waitForEvent('download'), button.click()]);
    const file = path.join(dir, dl.suggestedFilename());
    await dl.saveAs(file);
    return fs.readFileSync(file);
  };
  const pngSize = (b) => [b.readUInt32BE(16), b.readUInt32BE(20)];
  const errors = [];
  for (const view of ['region-terms', 'family', 'bias-map', 'simplex', 'decomposition', 'ambiguous']) {
    const { page, context, errors: pageErrors } = await openPage(browser, `${srv.base}?u=0.1`, { dpr: 2 });
    await page.locator(`#${view}`).scrollIntoViewIfNeeded();
    const canvas = await page.$eval(`#${view} canvas.plot`, (c) => [c.width, c.height]);
    const png = await save(`export-png-dicelens-${view}`, page);
    assert.equal(png.subarray(1, 4).toString(), 'PNG');
    assert.deepEqual(pngSize(png), canvas, `${view}: PNG at the device pixel ratio`);
    const png2 = pngSize(await save(`export-png2-dicelens-${view}`, page));
    // Twice the CSS size (the page runs at DPR 2), up to the rounding of a fractional height.
    assert.ok(Math.abs(png2[0] - canvas[0]) <= 1 && Math.abs(png2[1] - canvas[1]) <= 1, `${view}: 2× PNG ${png2} vs ${canvas}`);
    const svg = (await save(`export-svg-dicelens-${view}`, page)).toString();
    const parsed = await page.evaluate((s) => {
      const d = new DOMParser().parseFromString(s, 'image/svg+xml');
      return { root: d.documentElement.nodeName, err: d.getElementsByTagName('parsererror').length, n: d.getElementsByTagName('*').length };
    }, svg);
    assert.deepEqual([parsed.root, parsed.err], ['svg', 0], `${view}: SVG parses`);
    assert.ok(parsed.n > 30, `${view}: SVG has ${parsed.n} elements`);
    const csv = (await save(`export-csv-dicelens-${view}`, page)).toString().trim().split('\n');
    assert.ok(csv.length > 5, `${view}: CSV rows`);
    errors.push(...pageErrors);
    await context.close();
  }
  // The trainer's plots export too (here before training: axes and the CSV header): SVGs from
  // one page, CSVs from another.
  for (const kind of ['svg', 'csv']) {
    const tr = await openPage(browser, `${srv.base}?u=0.1`);
    await tr.page.locator('#trainer').scrollIntoViewIfNeeded();
    for (const plot of ['loss', 'proportions', 'size-bins', 'overlap', 'calibration']) {
      const text = (await save(`export-${kind}-dicelens-trainer-${plot}`, tr.page)).toString();
      if (kind === 'svg') assert.ok(text.startsWith('<svg') && text.trim().endsWith('</svg>'), `trainer ${plot}: SVG`);
      else assert.match(text, /^run,/, `trainer ${plot}: CSV header`);
    }
    assert.deepEqual(tr.errors, []);
    await tr.context.close();
  }
  // The family CSV is the plotted data: CE is smallest at ŝ ≈ u.
  const rows = fs.readFileSync(path.join(dir, 'dicelens-family.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
  const ce = rows[0].indexOf('ce');
  const best = rows.slice(1).reduce((a, r) => (Number(r[ce]) < Number(a[ce]) ? r : a));
  assert.ok(Math.abs(Number(best[1]) - 0.1) < 0.01, `CE smallest at ŝ = ${best[1]}`);
  assert.deepEqual(errors, []);
});

test('malformed embed=, tour=, parent=, controls= load the normal page with notices', async () => {
  const bad = `embed=nope&tour=99&parent=${encodeURIComponent('javascript:alert(1)')}&controls=maybe`;
  const { page, context, errors } = await openPage(browser, `${srv.base}?${bad}`);
  const notices = await page.textContent('[data-testid="notices"]');
  for (const key of ['embed=nope', 'tour=99', 'parent=javascript', 'controls=maybe']) {
    assert.ok(notices.includes(key), `notice for ${key}: ${notices}`);
  }
  assert.ok(await page.$('.site-header'));
  assert.equal(await page.$('[data-testid="tour"]'), null);
  assert.deepEqual(errors, []);
  await context.close();
});

async function axe(page) {
  await page.addScriptTag({ path: path.join(root, 'node_modules', 'axe-core', 'axe.min.js') });
  const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return res.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

test('axe-core: no serious or critical violations on the page (light and dark) and in every embed', async () => {
  for (const scheme of ['light', 'dark']) {
    const { page, context } = await openPage(browser, `${srv.base}?tour=2`);
    await page.emulateMedia({ colorScheme: scheme });
    await page.click('[data-testid="share"]');
    assert.deepEqual(await axe(page), [], `full page, ${scheme}`);
    await context.close();
  }
  for (const view of VIEWS) {
    const { page, context } = await openPage(browser, `${srv.base}?embed=${view}`, { waitFor: '[data-testid="embed"]' });
    assert.deepEqual(await axe(page), [], `embed=${view}`);
    await context.close();
  }
});
