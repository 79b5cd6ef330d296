// Browser tests of the loss landscapes: maps drawn, CE's minimum at ŝ = u, a click drops a ball
// whose paths are drawn on both maps, and the URL reproduces them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, openPage, screenshot, canvasData, urlParams } from './lib.mjs';

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

test('landscapes: CE minimum at ŝ = u, click drops a ball on both maps, URL reproduces the paths', async () => {
  const { page, context, errors } = await openPage(browser, `${srv.base}?u=0.1&kappa=0.5&sigma=1&view=landscape`, { viewport: { width: 1400, height: 1000 } });
  await page.locator('#landscape').scrollIntoViewIfNeeded();
  // The maps refine progressively: a coarse pass first, then the final 160×160.
  await page.waitForSelector('[data-testid="land-min-1"][data-cells="160"]');
  // Map 2 is CE: its minimum predicts the truth (ŝ = u) at a calibrated t* = 2κ/σ² = 1.
  const ceMin = await page.textContent('[data-testid="land-min-1"]');
  assert.match(ceMin, /^CE: Minimum [0-9.]+ at b = -2\.[0-9]+, t = (0\.9|1\.0)[0-9]*: ŝ = 0\.(099|100|101)/, ceMin);
  assert.equal(await page.$('[data-testid="land-path-0"]'), null);
  const before0 = await canvasData(page, 'plot-landscape-0');
  const before1 = await canvasData(page, 'plot-landscape-1');
  // Fastest animation, then click near the top-left of map 1's plotting area (b small, t large).
  await page.fill('[data-testid="land-speed"]', '200');
  const box = await page.locator('[data-testid="plot-landscape-0"]').boundingBox();
  await page.mouse.click(box.x + box.width * 0.3, box.y + box.height * 0.3);
  await page.waitForSelector('[data-testid="land-path-1"]');
  const ball = (await urlParams(page)).get('ball');
  assert.match(ball, /^-?[0-9.]+,-?[0-9.]+$/);
  // The paths run step by step; wait until both have ended, then both maps show them.
  const done = (p) => p.waitForSelector('[data-testid="land-path-0"][data-done="true"] ~ [data-testid="land-path-1"][data-done="true"]', { timeout: 90000 });
  await done(page);
  assert.notEqual(await canvasData(page, 'plot-landscape-0'), before0, 'map 1 shows the path');
  assert.notEqual(await canvasData(page, 'plot-landscape-1'), before1, 'map 2 shows the path');
  const steps = [await page.getAttribute('[data-testid="land-path-0"]', 'data-steps'), await page.getAttribute('[data-testid="land-path-1"]', 'data-steps')];
  const ceText = await page.textContent('[data-testid="land-path-1"]');
  assert.match(ceText, /converged .* ŝ = 0\.(099|100|101)/, ceText);
  // Hovering one map shows a readout of both losses there.
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
  await page.waitForFunction(() => document.querySelector('[data-testid="land-readout"]').textContent.startsWith('b = '));
  await page.locator('#landscape').screenshot({ path: 'e2e/artifacts/landscape-desktop.png' });
  // The same URL reproduces the same paths.
  await urlParams(page);
  const other = await openPage(browser, page.url(), { viewport: { width: 1400, height: 1000 } });
  await other.page.locator('#landscape').scrollIntoViewIfNeeded();
  await other.page.fill('[data-testid="land-speed"]', '200');
  await done(other.page);
  assert.deepEqual([await other.page.getAttribute('[data-testid="land-path-0"]', 'data-steps'), await other.page.getAttribute('[data-testid="land-path-1"]', 'data-steps')], steps);
  assert.equal(await other.page.textContent('[data-testid="land-path-1"]'), ceText);
  // A bad ball is refused with a notice.
  const bad = await openPage(browser, `${srv.base}?ball=999,abc&l1=nope`);
  const notices = await bad.page.textContent('[data-testid="notices"]');
  assert.ok(notices.includes('ball=999,abc') && notices.includes('l1=nope'), notices);
  assert.deepEqual([...errors, ...other.errors, ...bad.errors], []);
  await bad.context.close();
  await other.context.close();
  await context.close();
});
