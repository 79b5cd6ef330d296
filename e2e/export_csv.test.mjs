// The export is the screen and the CLI is the page: for every theory view, at a state away from
// the defaults given in the URL, the CSV the view's export button downloads is the CSV
// `dicelens figure <view>` writes from the same keys: the same header and rows, the same text
// cells, and numbers equal up to the last bits (WebAssembly's ln/exp are not the system
// libm's). Both go through one codec (plot::query) and one `Figure::compute`, which the view's
// own memo shares.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, launch, openPage, root, appViews } from './lib.mjs';

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

/** A state away from every default (each view reads its own keys from it). */
const STATE = {
  u: '0.07', s: '0.2', kappa: '1.3', sigma: '0.7', lambda: '0.4', T: '3', c: '0.1', a: '0.08',
  p: '0.6', pfg: '0.8', pbg: '0.1', u3: '0.6,0.3,0.1', s3: '0.4,0.4,0.2', term: 'dice',
  sizes: '0.01,0.05,0.2', l1: 'ce', norm: '0',
};

/** Views with a figure (the trainer's plots are its runs'; the data view's are your files'). */
const FIGURES = appViews().filter((v) => !['trainer', 'data'].includes(v));

test('every view\'s CSV export equals dicelens figure at the same URL state', { timeout: 20 * 60 * 1000 }, async () => {
  assert.ok(FIGURES.length >= 11, `views with a figure: ${FIGURES}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dl-export-'));
  const bin = path.join(root, 'target', 'debug', 'dicelens');
  const query = new URLSearchParams(STATE).toString();
  for (const view of FIGURES) {
    const cliFile = path.join(dir, `cli-${view}.csv`);
    const args = ['figure', view, ...Object.entries(STATE).flatMap(([k, v]) => [`--${k}`, v]), '--out', cliFile];
    execFileSync(bin, args);
    // One fresh page per view (Chromium holds back a page's downloads after a burst).
    const { page, context, errors } = await openPage(browser, `${srv.base}?${query}`);
    // The landscapes export each map; the first is the one `figure landscape` draws (l1).
    const name = view === 'landscape' ? 'dicelens-landscape-0' : `dicelens-${view}`;
    const button = page.locator(`[data-testid="export-csv-${name}"]`);
    await button.scrollIntoViewIfNeeded();
    // Heavy views draw their exact pass once the sliders rest; the export computes at the
    // current state on click, whatever the screen shows.
    const [dl] = await Promise.all([page.waitForEvent('download'), button.click()]);
    const pageFile = path.join(dir, `page-${view}.csv`);
    await dl.saveAs(pageFile);
    const fromPage = fs.readFileSync(pageFile, 'utf8');
    const fromCli = fs.readFileSync(cliFile, 'utf8');
    assert.ok(fromPage.split('\n').length > 3, `${view}: CSV rows`);
    const rows = (t) => t.trim().split('\n').map((l) => l.split(','));
    const [a, b] = [rows(fromPage), rows(fromCli)];
    assert.equal(a.length, b.length, `${view}: rows`);
    for (let i = 0; i < a.length; i++) {
      assert.equal(a[i].length, b[i].length, `${view} row ${i}: cells`);
      for (let j = 0; j < a[i].length; j++) {
        const [x, y] = [a[i][j], b[i][j]];
        const [nx, ny] = [Number(x), Number(y)];
        if (x === '' || y === '' || Number.isNaN(nx) || Number.isNaN(ny)) {
          assert.equal(x, y, `${view} row ${i} cell ${j}`);
        } else {
          assert.ok(Math.abs(nx - ny) <= 1e-9 + 1e-6 * Math.abs(ny), `${view} row ${i} cell ${j}: page ${x}, CLI ${y}`);
        }
      }
    }
    assert.deepEqual(errors, [], view);
    await context.close();
  }
});
