// Browser tests of the References section: seven entries rendered from the core's table, each
// BibTeX equal to its entry in docs/CITATION.bib, the Cite button (keyboard too) setting a status,
// the header's Cite link, and a phone-sized layout without horizontal overflow.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
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

const KEYS = ['liu2024dice', 'bertels2019softdice', 'milletari2016vnet', 'sudre2017generalised', 'isensee2021nnunet', 'monai2022', 'seglossbias'];
const bib = fs.readFileSync(path.join(root, 'docs', 'CITATION.bib'), 'utf8');
const COPIED = 'BibTeX copied to the clipboard.';
const REFUSED = /^The browser refused clipboard access: select the bibtex above and copy it\.$/;

test('the References section lists seven works, each with its BibTeX from docs/CITATION.bib', async () => {
  const { page, context, errors } = await openPage(browser, `${srv.base}#references`, { waitFor: '[data-testid="references"]' });
  assert.equal(await page.$$eval('[data-testid="references"] > li.reference', (l) => l.length), 7);
  const pres = await page.$$eval('[data-testid^="bibtex-"]', (p) => p.map((e) => e.getAttribute('data-testid')));
  assert.deepEqual(pres, KEYS.map((k) => `bibtex-${k}`));
  for (const key of KEYS) {
    const text = await page.textContent(`[data-testid="bibtex-${key}"]`);
    assert.ok(text.startsWith('@') && text.includes(`{${key},`), `${key}: ${text}`);
    assert.ok(bib.includes(text), `${key}: the page's BibTeX is docs/CITATION.bib's entry`);
    const use = await page.textContent(`[data-testid="ref-${key}"] .ref-use`);
    assert.ok(use.trim().length > 20, `${key}: a line on what DiceLens uses it for`);
    assert.equal(await page.$eval(`[data-testid="ref-${key}"] a`, (a) => a.href.startsWith('https://')), true);
  }
  // The paper comes first, and the block next to the Cite button is its entry.
  const paper = await page.textContent('[data-testid="cite-bibtex"]');
  assert.equal(paper, await page.textContent('[data-testid="bibtex-liu2024dice"]'));
  assert.match(paper, /Medical Image Analysis/);
  assert.match(paper, /2104\.08717/);
  // The header's Cite link and the nav link lead here.
  assert.equal(await page.getAttribute('[data-testid="cite-link"]', 'href'), '#references');
  assert.equal(await page.$$eval('nav a[href="#references"]', (a) => a.length), 1);
  // Keyboard: a summary opens its details with Enter.
  await page.focus('[data-testid="ref-milletari2016vnet"] summary');
  await page.keyboard.press('Enter');
  assert.equal(await page.$eval('[data-testid="ref-milletari2016vnet"] details', (d) => d.open), true);
  assert.ok(await page.isVisible('[data-testid="bibtex-milletari2016vnet"]'));
  await screenshot(page, 'references-desktop.png');
  assert.deepEqual(errors, []);
  await context.close();
});

test('Cite copies the paper\'s BibTeX (or says the browser refused), by mouse and by keyboard', async () => {
  const { page, context, errors } = await openPage(browser, `${srv.base}#references`, { waitFor: '[data-testid="cite"]' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(srv.base).origin });
  assert.equal((await page.textContent('[data-testid="cite-status"]')).trim(), '');
  await page.click('[data-testid="cite"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="cite-status"]').textContent.trim() !== '');
  const status = (await page.textContent('[data-testid="cite-status"]')).trim();
  assert.ok(status === COPIED || REFUSED.test(status), `status: ${status}`);
  if (status === COPIED) {
    const clip = await page.evaluate(() => navigator.clipboard.readText());
    assert.equal(clip, await page.textContent('[data-testid="cite-bibtex"]'));
    assert.ok(bib.includes(clip));
  }
  // Keyboard: focus the button and press Enter. With clipboard access, the clipboard is cleared
  // first and must hold the entry again; without it, the status still says what to do.
  if (status === COPIED) await page.evaluate(() => navigator.clipboard.writeText(''));
  await page.focus('[data-testid="cite"]');
  await page.keyboard.press('Enter');
  if (status === COPIED) {
    await page.waitForFunction(async () => (await navigator.clipboard.readText()) !== '');
    assert.match(await page.evaluate(() => navigator.clipboard.readText()), /^@article\{liu2024dice,/);
  }
  const again = (await page.textContent('[data-testid="cite-status"]')).trim();
  assert.ok(again === COPIED || REFUSED.test(again), `status: ${again}`);
  assert.deepEqual(errors, []);
  await context.close();
});

test('References on a phone: no horizontal overflow, long BibTeX lines scroll inside their box', async () => {
  const { page, context, errors } = await openPage(browser, `${srv.base}#references`, { viewport: { width: 390, height: 844 }, touch: true, dpr: 2, waitFor: '[data-testid="references"]' });
  await page.click('[data-testid="ref-sudre2017generalised"] summary');
  const section = await page.$eval('#references', (s) => ({ scroll: s.scrollWidth, client: s.clientWidth }));
  assert.ok(section.scroll <= section.client + 1, `section overflows: ${JSON.stringify(section)}`);
  const pre = await page.$eval('[data-testid="bibtex-sudre2017generalised"]', (p) => ({ w: p.getBoundingClientRect().width, scroll: p.scrollWidth }));
  assert.ok(pre.w <= 390, `pre fits the screen: ${JSON.stringify(pre)}`);
  await screenshot(page, 'references-phone.png');
  assert.deepEqual(errors, []);
  await context.close();
});
