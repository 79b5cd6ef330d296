// Browser tests of the temperature view: renders, readouts equal the native CLI's CSV at two
// URL states, a slider changes a readout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, launch, openPage, screenshot, root } from './lib.mjs';

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

/** The view's numbers from `dicelens figure temperature --out x.csv` (same compute as the app). */
function cliCsv(args) {
  const bin = path.join(root, 'target', 'debug', 'dicelens');
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dl-temp-')), 'x.csv');
  execFileSync(bin, ['figure', 'temperature', ...args, '--out', out]);
  const rows = fs.readFileSync(out, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  return rows.map(([quantity, loss, temp, value]) => ({ quantity, loss, temp: Number(temp), value: Number(value) }));
}

const num = async (page, testid) => Number(await page.getAttribute(`[data-testid="${testid}"]`, 'data-value'));
const close = (a, b, rel = 1e-6) => Math.abs(a - b) <= rel * Math.max(1e-9, Math.abs(b));

const STATES = [
  ['u=0.1&s=0.3&kappa=0.5&sigma=1&lambda=1&T=10', ['--u', '0.1', '--s', '0.3', '--kappa', '0.5', '--sigma', '1', '--lambda', '1', '--T', '10']],
  ['u=0.02&s=0.05&kappa=2&sigma=2&lambda=0.5&T=4', ['--u', '0.02', '--s', '0.05', '--kappa', '2', '--sigma', '2', '--lambda', '0.5', '--T', '4']],
];

for (const [query, args] of STATES) {
  test(`temperature readouts equal the CLI at ${query}`, async () => {
    const { page, context, errors } = await openPage(browser, `${srv.base}?${query}#temperature`, { waitFor: '[data-testid="temp-soft-ce-l1"]' });
    await page.locator('#temperature').scrollIntoViewIfNeeded();
    const rows = cliCsv(args);
    const pick = (q, l = '') => rows.find((r) => r.quantity === q && r.loss === l).value;
    for (const loss of ['ce', 'ce-l1', 'ce-kl']) {
      const soft = await num(page, `temp-soft-${loss}`);
      const hard = await num(page, `temp-hard-${loss}`);
      assert.ok(close(soft, pick('soft_ratio', loss)), `${loss} soft ${soft} vs ${pick('soft_ratio', loss)}`);
      assert.ok(close(hard, pick('hard_ratio', loss)), `${loss} hard ${hard} vs ${pick('hard_ratio', loss)}`);
    }
    assert.ok(close(await num(page, 'temp-s-t'), pick('s_t')));
    assert.ok(close(await num(page, 'temp-hard'), pick('hard')));
    // The caption is generated: it names the state's T and λ.
    const caption = await page.textContent('[data-testid="caption-temperature"]');
    const t = new URLSearchParams(query).get('T');
    assert.match(caption, new RegExp(`At T = ${t}, λ = `));
    assert.equal(await page.getAttribute('#temperature [data-testid="origin"]', 'data-origin'), 'model');
    await screenshot(page, `temperature-${t}.png`);
    assert.deepEqual(errors, []);
    await context.close();
  });
}

test('at T = 1 the caption says CE+L1 sits at u; moving T changes the readout', async () => {
  const { page, context, errors } = await openPage(browser, `${srv.base}?u=0.1&lambda=1&T=1#temperature`, { waitFor: '[data-testid="temp-soft-ce-l1"]' });
  await page.locator('#temperature').scrollIntoViewIfNeeded();
  const before = await num(page, 'temp-soft-ce-l1');
  assert.ok(Math.abs(before - 1) < 1e-3, `CE+L1 at T = 1: ${before}`);
  assert.match(await page.textContent('[data-testid="caption-temperature"]'), /CE\+L1's soft optimum sits at the truth u/);
  await page.focus('[data-testid="temp-slider"]');
  for (let i = 0; i < 20; i++) await page.keyboard.press('ArrowRight');
  await page.waitForFunction((b) => Number(document.querySelector('[data-testid="temp-soft-ce-l1"]').dataset.value) !== b, before);
  const after = await num(page, 'temp-soft-ce-l1');
  assert.ok(after > 1.001, `CE+L1's soft optimum moves off u as T grows: ${after}`);
  assert.deepEqual(errors, []);
  await context.close();
});
