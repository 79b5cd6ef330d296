// The first paint (index.html, scripts/first_paint.sh): before the wasm arrives the page shows
// its header and the default state's figure, drawn at build time by `dicelens figure`; the app
// replaces it when it mounts; a module that fails to load says so. The wasm is held back with
// a route that answers only when the test lets it, so nothing here depends on timing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, launch, root, dist, appViews } from './lib.mjs';

let srv;
let browser;
before(async () => { srv = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); await srv?.close(); });

/** index.html's list of views with a picture. */
function firstPaintViews() {
  const html = fs.readFileSync(path.join(root, 'index.html'), 'utf8');
  const m = html.match(/FIRST_PAINT_VIEWS = \[([^\]]*)\]/);
  assert.ok(m, 'index.html has no FIRST_PAINT_VIEWS');
  return [...m[1].matchAll(/'([^']+)'/g)].map((x) => x[1]);
}

/** A page whose wasm is held until `release()` (or answered 404 with `fail`). */
async function heldPage(url, { viewport = { width: 1280, height: 900 }, colorScheme = 'light', fail = false } = {}) {
  const context = await browser.newContext({ viewport, colorScheme });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  let held = null;
  let release = () => {};
  const released = new Promise((r) => { release = r; });
  await page.route(/_bg\.wasm$/, async (route) => {
    if (fail) return route.fulfill({ status: 404, contentType: 'text/plain', body: 'not found' });
    held = route;
    await released;
    await route.continue();
  });
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  return { page, context, errors, release, isHeld: () => held !== null };
}

const status = (page) => page.$eval('[data-testid="first-paint-status"]', (e) => e.textContent);
const imgSrc = (page) => page.$eval('[data-testid="first-paint-img"]', (e) => (e.complete && e.naturalWidth > 0 ? e.currentSrc : null));

test('the page shows its header and the default figure before the wasm, then the app replaces them', { timeout: 120000 }, async () => {
  const { page, context, errors, release, isHeld } = await heldPage(srv.base);
  await page.waitForFunction(() => performance.getEntriesByName('dicelens:first-paint').length > 0, null, { timeout: 30000 });
  assert.ok(isHeld(), 'the wasm was requested and is held');
  assert.ok(await page.isVisible('#first-paint'));
  assert.match(await imgSrc(page), /\/first-paint\/region-terms-wide\.svg$/);
  assert.equal(await status(page), 'The default state, drawn ahead of time. Loading the interactive figures…');
  const staticHeader = await page.$eval('#first-paint .subtitle', (e) => e.textContent.replace(/\s+/g, ' ').trim());
  const staticTitle = await page.$eval('#first-paint h1', (e) => e.textContent);
  assert.equal(await page.$('[data-testid="min-kl"]'), null, 'the app has not mounted');
  release();
  await page.waitForSelector('[data-testid="min-kl"]', { timeout: 60000 });
  assert.equal(await page.$('#first-paint'), null, 'the first paint is gone once the app mounts');
  const liveHeader = await page.$eval('.site-header .subtitle', (e) => e.textContent.replace(/\s+/g, ' ').trim());
  assert.equal(await page.$eval('.site-header h1', (e) => e.textContent), staticTitle);
  assert.equal(liveHeader, `${staticHeader} Cite`, 'index.html repeats the app\'s header word for word');
  assert.deepEqual(errors, []);
  await context.close();
});

test('embeds get their own view\'s picture, narrow and dark when the reader is; a state away from the defaults gets none', { timeout: 120000 }, async () => {
  const cases = [
    ['?embed=family', { width: 800, height: 600 }, 'light', /\/first-paint\/family-wide\.svg$/],
    ['?embed=matching', { width: 390, height: 844 }, 'dark', /\/first-paint\/matching-narrow-dark\.svg$/],
    ['?view=family', { width: 390, height: 844 }, 'light', /\/first-paint\/region-terms-narrow\.svg$/],
  ];
  for (const [q, viewport, colorScheme, want] of cases) {
    const { page, context } = await heldPage(srv.base + q, { viewport, colorScheme });
    await page.waitForFunction(() => performance.getEntriesByName('dicelens:first-paint').length > 0, null, { timeout: 30000 });
    assert.match(await imgSrc(page), want, q);
    assert.equal(await page.isVisible('#first-paint header'), !q.includes('embed'), `${q}: the header shows on the whole page only`);
    await context.close();
  }
  for (const q of ['?u=0.2', '?embed=family&kappa=2', '?embed=landscape', '?embed=trainer']) {
    const { page, context } = await heldPage(srv.base + q);
    await page.waitForSelector('[data-testid="first-paint-status"]');
    assert.equal(await page.$('[data-testid="first-paint-img"]'), null, `${q}: no picture of a state it was not drawn at`);
    assert.equal(await status(page), 'Loading the interactive figures…', q);
    assert.ok(await page.isVisible('[data-testid="first-paint-status"]'), q);
    await context.close();
  }
});

test('a wasm that fails to load leaves the picture and says so', { timeout: 120000 }, async () => {
  const { page, context } = await heldPage(srv.base + '?embed=family', { fail: true });
  await page.waitForSelector('[data-testid="first-paint-status"][data-failed]', { timeout: 30000 });
  assert.equal(await status(page), 'The interactive figures could not be loaded (the picture is the default state, drawn ahead of time). Check the connection and reload the page.');
  assert.match(await imgSrc(page), /family-wide\.svg$/);
  await context.close();
});

test('every listed view is a view, has its four pictures, and they are what dicelens figure draws', () => {
  const views = firstPaintViews();
  const keys = appViews();
  assert.ok(views.length >= 9, `only ${views.length} views listed`);
  for (const v of views) {
    assert.ok(keys.includes(v), `${v} is not a view of src/registry.rs`);
    for (const variant of ['wide', 'wide-dark', 'narrow', 'narrow-dark']) {
      assert.ok(fs.existsSync(path.join(dist, 'first-paint', `${v}-${variant}.svg`)), `dist/first-paint/${v}-${variant}.svg`);
    }
  }
  const bin = path.join(root, 'target', 'debug', 'dicelens');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dicelens-fp-'));
  for (const [v, args, variant] of [['family', [], 'wide'], ['region-terms', ['--dark'], 'wide-dark']]) {
    const out = path.join(dir, `${v}.svg`);
    execFileSync(bin, ['figure', v, '--width', '800', '--height', '480', ...args, '--out', out]);
    assert.equal(fs.readFileSync(path.join(dist, 'first-paint', `${v}-${variant}.svg`), 'utf8'), fs.readFileSync(out, 'utf8'), `${v}-${variant}.svg is the CLI's figure`);
  }
});
