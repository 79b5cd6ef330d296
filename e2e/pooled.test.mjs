// Browser tests of the pooled view: renders, readouts equal the native CLI's CSV at two URL
// states, a slider and the sizes field change readouts, a bad sizes value gives a notice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, launch, openPage, screenshot, root, urlParams } from './lib.mjs';

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

/** `dicelens figure pooled --out x.csv` rows: image,u,loss,soft_ratio,hard_ratio. */
function cliCsv(args) {
  const bin = path.join(root, 'target', 'debug', 'dicelens');
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dl-pooled-')), 'x.csv');
  execFileSync(bin, ['figure', 'pooled', ...args, '--out', out]);
  const rows = fs.readFileSync(out, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  return rows.map(([image, u, loss, soft, hard]) => ({ image, u: Number(u), loss, soft: Number(soft), hard: Number(hard) }));
}

const num = async (page, testid) => Number(await page.getAttribute(`[data-testid="${testid}"]`, 'data-value'));
const close = (a, b, rel = 1e-6) => Math.abs(a - b) <= rel * Math.max(1e-9, Math.abs(b));

const STATES = [
  ['kappa=0.5&sigma=1&lambda=1&T=10', ['--kappa', '0.5', '--sigma', '1', '--lambda', '1', '--T', '10']],
  ['kappa=2&sigma=1.5&lambda=0.3&T=1&sizes=0.002,0.05,0.4', ['--kappa', '2', '--sigma', '1.5', '--lambda', '0.3', '--T', '1', '--sizes', '0.002,0.05,0.4']],
];

for (const [query, args] of STATES) {
  test(`pooled readouts equal the CLI at ${query}`, async () => {
    const { page, context, errors } = await openPage(browser, `${srv.base}?${query}#pooled`, { waitFor: '[data-testid="pooled-mean-soft-ce"]' });
    await page.locator('#pooled').scrollIntoViewIfNeeded();
    const rows = cliCsv(args);
    let compared = 0;
    for (const r of rows.filter((r) => r.image !== 'pooled')) {
      const soft = await num(page, `pooled-${r.loss}-soft-${r.image}`);
      const hard = await num(page, `pooled-${r.loss}-hard-${r.image}`);
      assert.ok(close(soft, r.soft), `${r.loss} image ${r.image} soft ${soft} vs ${r.soft}`);
      assert.ok(close(hard, r.hard), `${r.loss} image ${r.image} hard ${hard} vs ${r.hard}`);
      compared++;
    }
    assert.equal(compared, 3 * (args.includes('--sizes') ? 3 : 8));
    const pooled = await num(page, 'pooled-mean-soft-ce');
    assert.ok(Math.abs(pooled - 1) < 1e-8, `CE's pooled soft proportion / mean u = ${pooled}`);
    assert.ok(close(pooled, rows.find((r) => r.image === 'pooled' && r.loss === 'ce').soft));
    assert.match(await page.textContent('[data-testid="caption-pooled"]'), /CE's pooled soft proportion sits at the truth u/);
    assert.equal(await page.getAttribute('#pooled [data-testid="origin"]', 'data-origin'), 'model');
    await screenshot(page, `pooled-${compared}.png`);
    assert.deepEqual(errors, []);
    await context.close();
  });
}

test('moving κ and editing the sizes change the readouts and the URL', async () => {
  const { page, context, errors } = await openPage(browser, `${srv.base}?lambda=1&T=10#pooled`, { waitFor: '[data-testid="pooled-mean-soft-ce"]' });
  await page.locator('#pooled').scrollIntoViewIfNeeded();
  const before = await num(page, 'pooled-ce-l1-hard-0');
  await page.focus('[data-testid="kappa-slider"]');
  for (let i = 0; i < 40; i++) await page.keyboard.press('ArrowRight');
  await page.waitForFunction((b) => Number(document.querySelector('[data-testid="pooled-ce-l1-hard-0"]').dataset.value) !== b, before);
  await page.fill('[data-testid="sizes-input"]', '0.01,0.1,0.3');
  await page.press('[data-testid="sizes-input"]', 'Enter');
  await page.dispatchEvent('[data-testid="sizes-input"]', 'change');
  await page.waitForFunction(() => !document.querySelector('[data-testid="pooled-ce-soft-3"]'));
  assert.ok(await page.$('[data-testid="pooled-ce-soft-2"]'));
  assert.equal((await urlParams(page)).get('sizes'), '0.01,0.1,0.3');
  // A bad value is refused with a message, the batch kept.
  await page.fill('[data-testid="sizes-input"]', '0.01');
  await page.dispatchEvent('[data-testid="sizes-input"]', 'change');
  await page.waitForSelector('[data-testid="sizes-error"]');
  assert.ok(await page.$('[data-testid="pooled-ce-soft-2"]'));
  assert.deepEqual(errors, []);
  await context.close();
});

test('a bad sizes URL value loads the default batch with a notice', async () => {
  const { page, context, errors } = await openPage(browser, `${srv.base}?sizes=0.1,abc#pooled`, { waitFor: '[data-testid="pooled-mean-soft-ce"]' });
  assert.match(await page.textContent('[data-testid="notices"]'), /sizes=0\.1,abc is not 2 to 12/);
  assert.ok(await page.$('[data-testid="pooled-ce-soft-7"]'));
  assert.deepEqual(errors, []);
  await context.close();
});
