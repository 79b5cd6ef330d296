// Browser tests of the trainer's worker, loaded on demand (src/trainer/client.rs,
// assets/trainer-worker.js, crates/worker): not fetched on a plain page load, fetched once the
// trainer comes near, its module once for both workers; a clear loading state while its files are held back, with a Play pressed
// meanwhile starting once it is ready; a 404 on its script or on its module gives a message in
// the trainer and in the data view's example buttons, while the rest of the page keeps working.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, launch, artifacts, dist, SUB_PATH } from './lib.mjs';

let srv;
let browser;
before(async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  srv = await startServer();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await srv?.close();
});

const $ = (id) => `[data-testid="${id}"]`;
const WORKER_FILES = /\/(trainer-worker\.js|dicelens-worker\.js|dicelens-worker_bg\.wasm)$/;
const LOADING = "Loading the trainer's code…";

/** A context whose requests are recorded (page and worker alike) before the page opens. */
async function recorded(routes = async () => {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const requests = [];
  const external = [];
  context.on('request', (r) => {
    const u = new URL(r.url());
    requests.push(u.pathname);
    if (u.hostname !== '127.0.0.1') external.push(r.url());
  });
  await routes(context);
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  return { context, page, requests, errors, external };
}

test('the worker is not fetched on a plain page load at the top, and is fetched once the trainer comes near', async () => {
  const { context, page, requests, errors } = await recorded();
  await page.goto(srv.base);
  await page.waitForSelector($('min-kl'), { timeout: 30000 });
  await page.waitForLoadState('networkidle');
  assert.deepEqual(requests.filter((p) => WORKER_FILES.test(p)), [], 'no worker file before the trainer is near');
  assert.equal(await page.locator($('trainer-loading')).count(), 0, 'nothing is loading');
  assert.match(await page.textContent($('trainer-idle')), /loads when this section comes near or when you press Play/);
  // Scroll to the view above the trainer: within the margin, the worker's files are fetched.
  const wasm = page.waitForRequest((r) => r.url().endsWith('/dicelens-worker_bg.wasm'), { timeout: 30000 });
  await page.evaluate(() => document.querySelector('#trainer').previousElementSibling.scrollIntoView());
  await wasm;
  await page.locator('#trainer').scrollIntoViewIfNeeded();
  await page.waitForFunction((s) => document.querySelector(s)?.textContent === '0', $('metric-step-0'), { timeout: 30000 });
  assert.equal(await page.locator($('trainer-loading')).count(), 0, 'the loading notice is gone once ready');
  // One worker per shard: two where the browser reports two or more cores.
  const shards = await page.evaluate(() => Math.min(2, Math.max(1, navigator.hardwareConcurrency || 1)));
  for (const f of ['/trainer-worker.js', '/dicelens-worker.js']) {
    assert.equal(requests.filter((p) => p === f).length, shards, `${f} fetched once per worker (${shards})`);
  }
  // The module is downloaded and compiled once: the first worker passes it to the other.
  assert.equal(requests.filter((p) => p === '/dicelens-worker_bg.wasm').length, 1, 'the module fetched once');
  assert.deepEqual(errors, []);
  await context.close();
});

test('while the worker\'s script is held back the trainer says it is loading; a Play pressed then starts once it is ready', async () => {
  let release;
  const held = new Promise((r) => { release = r; });
  let asked;
  const requested = new Promise((r) => { asked = r; });
  const { context, page, errors } = await recorded(async (ctx) => {
    await ctx.route('**/dicelens-worker.js', async (route) => {
      asked();
      await held;
      await route.continue();
    });
  });
  await page.goto(srv.base + '?view=trainer');
  await requested;
  const loading = page.locator($('trainer-loading'));
  await loading.waitFor({ state: 'visible', timeout: 30000 });
  assert.equal(await loading.textContent(), LOADING);
  await page.locator('#trainer').screenshot({ path: path.join(artifacts, 'trainer-loading.png') });
  // No dead control: Play is enabled while loading, and pressed now it waits for the worker.
  assert.equal(await page.isDisabled($('play')), false);
  await page.click($('play'));
  assert.equal(await page.isDisabled($('play')), true, 'Play shows as on');
  assert.equal(await page.textContent($('step-counter')), '0');
  assert.equal(await loading.isVisible(), true, 'still loading: the script is held');
  release();
  await loading.waitFor({ state: 'detached', timeout: 30000 });
  await page.waitForFunction((s) => Number(document.querySelector(s).textContent) >= 3, $('step-counter'), { timeout: 30000 });
  assert.match(await page.textContent($('run-status-0')), /training \(step \d+\)/);
  await page.click($('pause'));
  assert.deepEqual(errors, []);
  await context.close();
});

test('from a sub-path (public_url "./") the worker\'s files come from that path, nothing from elsewhere, and it trains', async () => {
  const { context, page, requests, errors, external } = await recorded();
  await page.goto(srv.base.replace(/\/$/, '') + SUB_PATH + '?view=trainer');
  await page.waitForFunction((s) => document.querySelector(s)?.textContent === '0', $('metric-step-0'), { timeout: 30000 });
  const worker = requests.filter((p) => WORKER_FILES.test(p));
  const shards = await page.evaluate(() => Math.min(2, Math.max(1, navigator.hardwareConcurrency || 1)));
  assert.equal(worker.length, 2 * shards + 1, worker.join(', '));
  assert.ok(worker.every((p) => p.startsWith(SUB_PATH)), worker.join(', '));
  await page.click($('step'));
  await page.waitForFunction((s) => document.querySelector(s).textContent === '1', $('step-counter'), { timeout: 30000 });
  assert.deepEqual(external, [], 'offline: every request stays on the server of dist/');
  assert.deepEqual(errors, []);
  await context.close();
});

for (const [file, what] of [['dicelens-worker.js', /^The trainer's code could not be loaded \(dicelens-worker\.js: .+\)\./], ['dicelens-worker_bg.wasm', /^The trainer's code could not be loaded \(dicelens-worker_bg\.wasm: .+\)\./]]) {
  test(`a 404 on ${file} says so in the trainer and the data view; the rest of the page works`, async () => {
    const { context, page, errors } = await recorded(async (ctx) => {
      await ctx.route(`**/${file}`, (route) => route.fulfill({ status: 404, contentType: 'text/plain', body: 'not found' }));
    });
    await page.goto(srv.base + '?view=trainer');
    const msg = page.locator($('trainer-load-error'));
    await msg.waitFor({ state: 'visible', timeout: 30000 });
    const text = await msg.textContent();
    assert.match(text, /^The trainer's code could not be loaded \(/);
    assert.match(text, what);
    assert.match(text, /The rest of the page still works; reload the page to try again\.$/);
    assert.equal(await page.locator($('trainer-loading')).count(), 0, 'no longer says loading');
    // Controls that would do nothing are disabled, not dead.
    assert.equal(await page.isDisabled($('play')), true);
    assert.equal(await page.isDisabled($('step')), true);
    await page.locator('#trainer').screenshot({ path: path.join(artifacts, `trainer-404-${file}.png`) });
    // The data view's example buttons say the same.
    await page.locator('#data').scrollIntoViewIfNeeded();
    await page.click($('data-example-dice'));
    await page.waitForFunction((s) => /could not be loaded/.test(document.querySelector(s)?.textContent || ''), $('data-error'), { timeout: 30000 });
    assert.equal(await page.textContent($('data-error')), text);
    assert.equal(await page.locator($('data-busy')).count(), 0, 'the data view is not left busy');
    // A theory view still works: moving κ changes the family's readout.
    const before = await page.getAttribute($('opt-dice-fg'), 'data-value');
    await page.focus($('kappa-slider'));
    for (let i = 0; i < 20; i++) await page.keyboard.press('ArrowRight');
    await page.waitForFunction(([s, b]) => document.querySelector(s).dataset.value !== b, [$('opt-dice-fg'), before], { timeout: 10000 });
    // The only console errors are the browser's own lines about the failed request.
    assert.deepEqual(errors.filter((e) => !/Failed to load resource|404/.test(e)), []);
    await context.close();
  });
}

test('where the first worker cannot pass its compiled module, the other fetches it itself and both train', async () => {
  // The loader as served, but its post of the compiled module throws (as a DataCloneError
  // would in a browser that cannot pass one).
  const src = fs.readFileSync(path.join(dist, 'trainer-worker.js'), 'utf8');
  const broken = src.replace('postMessage({ module });', "throw new Error('cannot pass a compiled module');");
  assert.notEqual(broken, src, 'the loader posts its compiled module');
  const { context, page, requests, errors } = await recorded(async (ctx) => {
    await ctx.route('**/trainer-worker.js', (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: broken }));
  });
  await page.goto(srv.base + '?view=trainer');
  await page.waitForFunction((s) => document.querySelector(s)?.textContent === '0', $('metric-step-0'), { timeout: 30000 });
  await page.click($('step'));
  await page.waitForFunction((s) => document.querySelector(s).textContent === '1', $('step-counter'), { timeout: 30000 });
  // Every run answers, whichever worker trains it.
  for (let i = 0; i < 4; i++) {
    await page.waitForFunction((s) => /paused at step 1/.test(document.querySelector(s)?.textContent || ''), $(`run-status-${i}`), { timeout: 30000 });
  }
  const shards = await page.evaluate(() => Math.min(2, Math.max(1, navigator.hardwareConcurrency || 1)));
  assert.equal(requests.filter((p) => p === '/dicelens-worker_bg.wasm').length, shards, 'each worker fetched the module');
  assert.deepEqual(errors, []);
  await context.close();
});

test('while the page takes input the workers are told so (they work in short slices), and the runs keep training', async () => {
  const { context, page, errors } = await recorded();
  await page.goto(srv.base + '?view=trainer');
  await page.waitForFunction((s) => document.querySelector(s)?.textContent === '0', $('metric-step-0'), { timeout: 30000 });
  assert.equal(await page.evaluate(() => window.__dicelens?.calm ?? 0), 0, 'no input yet');
  await page.fill($('tr-rate'), '1000');
  await page.press($('tr-rate'), 'Tab');
  await page.click($('play'));
  // Keep a slider moving (each key an `input`) until the runs have trained 5 more steps.
  const counter = async () => Number(await page.textContent($('step-counter')));
  const from = await counter();
  await page.focus($('u-slider'));
  const end = Date.now() + 60000;
  let presses = 0;
  while ((await counter()) < from + 5) {
    assert.ok(Date.now() < end, `the runs trained ${(await counter()) - from} steps in 60 s of input`);
    await page.keyboard.press(presses % 40 < 20 ? 'ArrowRight' : 'ArrowLeft');
    presses += 1;
  }
  const told = await page.evaluate(() => window.__dicelens.calm);
  assert.ok(told >= 1 && told <= presses, `told ${told} times for ${presses} inputs`);
  await page.click($('pause'));
  assert.deepEqual(errors, []);
  await context.close();
});
