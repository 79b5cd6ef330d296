// Browser tests of embeds that lead with the plot, and of the host-page messages
// (dicelens:resize, dicelens:get, dicelens:play / dicelens:pause).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, openPage, screenshot } from './lib.mjs';

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

const THEORY = ['region-terms', 'family', 'bias-map', 'simplex', 'decomposition', 'matching', 'gradients', 'ambiguous', 'landscape'];

for (const [w, h] of [[800, 600], [390, 844]]) {
  test(`embeds at ${w}×${h}: the first plot starts within the first 300 px`, async () => {
    const { page, context, errors } = await openPage(browser, `${srv.base}?embed=region-terms`, { viewport: { width: w, height: h }, waitFor: 'canvas.plot' });
    for (const view of THEORY) {
      await page.goto(`${srv.base}?embed=${view}`);
      await page.waitForSelector('main canvas.plot');
      const top = await page.$eval('main canvas.plot', (c) => c.getBoundingClientRect().top + window.scrollY);
      assert.ok(top <= 300, `${view} at ${w}×${h}: the first plot starts ${top} px down`);
      // The shared controls come after the view.
      const order = await page.evaluate(() => {
        const main = document.querySelector('.embed main');
        const controls = document.querySelector('.embed aside.controls');
        return controls ? Boolean(main.compareDocumentPosition(controls) & Node.DOCUMENT_POSITION_FOLLOWING) : true;
      });
      assert.ok(order, `${view}: controls follow the view`);
      if (view === 'landscape' || view === 'family') await screenshot(page, `embed-${view}-${w}x${h}.png`);
    }
    assert.deepEqual(errors, []);
    await context.close();
  });
}

test('host messages: dicelens:resize reports the height, dicelens:get answers, the trainer plays and pauses', async () => {
  // A host document on the test server's origin (a 404 page is enough to hold iframes).
  const { page, context, errors } = await openPage(browser, `${srv.base}host-page`, { waitFor: null, viewport: { width: 1000, height: 800 } });
  const origin = new URL(srv.base).origin;
  await page.evaluate(({ origin }) => {
    window.got = [];
    window.addEventListener('message', (ev) => {
      if (ev.origin === origin && typeof ev.data?.type === 'string') window.got.push({ ...ev.data, from: ev.source === document.getElementById('w-fam').contentWindow ? 'fam' : 'tr' });
    });
    document.body.innerHTML = '';
    for (const [id, q] of [['w-fam', 'embed=family&u=0.2'], ['w-tr', 'embed=trainer']]) {
      const f = document.createElement('iframe');
      f.id = id;
      f.style.cssText = 'width: 900px; height: 500px; border: 0';
      f.src = `/dist/index.html?${q}&parent=${encodeURIComponent(origin)}`;
      document.body.append(f);
    }
  }, { origin });
  // The family widget reports its content height (taller than the 500 px iframe).
  await page.waitForFunction(() => window.got.some((m) => m.type === 'dicelens:resize' && m.from === 'fam' && m.height > 500), null, { timeout: 30000 });
  const height = await page.evaluate(() => window.got.filter((m) => m.type === 'dicelens:resize' && m.from === 'fam').at(-1).height);
  const fam = page.frameLocator('#w-fam');
  await fam.locator('[data-testid="opt-dice-fg"]').waitFor();
  const inner = await fam.locator('html').evaluate((el) => Math.ceil(el.getBoundingClientRect().height));
  assert.ok(Math.abs(inner - height) <= 2 || height > 500, `reported ${height}, content ${inner}`);
  // dicelens:get is answered with the state.
  await page.evaluate(() => { window.got = window.got.filter((m) => m.type !== 'dicelens:state'); });
  await page.evaluate(() => document.getElementById('w-fam').contentWindow.postMessage({ type: 'dicelens:get' }, '*'));
  await page.waitForFunction(() => window.got.some((m) => m.type === 'dicelens:state' && m.from === 'fam'));
  const st = await page.evaluate(() => window.got.find((m) => m.type === 'dicelens:state' && m.from === 'fam'));
  assert.equal(st.view, 'family');
  assert.equal(st.state.u, 0.2);
  // The trainer embed plays and pauses on the host's word.
  const tr = page.frameLocator('#w-tr');
  await tr.locator('[data-testid="play"]').waitFor();
  await page.evaluate(() => document.getElementById('w-tr').contentWindow.postMessage({ type: 'dicelens:play' }, '*'));
  await tr.locator('[data-testid="play"]:disabled').waitFor();
  await tr.locator('[data-testid="step-counter"]').filter({ hasNotText: /^0$/ }).waitFor();
  await page.evaluate(() => document.getElementById('w-tr').contentWindow.postMessage({ type: 'dicelens:pause' }, '*'));
  await tr.locator('[data-testid="pause"]:disabled').waitFor();
  // A second pause cannot apply: the widget says so instead of failing silently.
  await page.evaluate(() => document.getElementById('w-tr').contentWindow.postMessage({ type: 'dicelens:pause' }, '*'));
  await tr.locator('.notice', { hasText: 'dicelens:pause was ignored' }).waitFor();
  assert.deepEqual(errors.filter((e) => !e.includes('404')), []);
  await context.close();
});
