// Screenshots of every view's section, at desktop and phone sizes, for a person to look at
// (not a test): node e2e/shots.mjs [outdir] [view ...]
import path from 'node:path';
import fs from 'node:fs';
import { startServer, launch } from './lib.mjs';

const out = process.argv[2] || 'e2e/artifacts/shots';
const only = process.argv.slice(3);
fs.mkdirSync(out, { recursive: true });
const srv = await startServer();
const browser = await launch();
const views = only.length ? only : ['region-terms', 'family', 'bias-map', 'simplex', 'decomposition', 'matching', 'gradients', 'temperature', 'pooled', 'ambiguous', 'landscape', 'trainer', 'references'];
for (const [name, vp, dpr] of [['desktop', { width: 1280, height: 900 }, 1], ['phone', { width: 390, height: 844 }, 2]]) {
  const context = await browser.newContext({ viewport: vp, deviceScaleFactor: dpr });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.log(`console error (${name}): ${m.text()}`); });
  await page.goto(srv.base);
  await page.waitForSelector('[data-testid="min-kl"]');
  for (const v of views) {
    const el = await page.$(`#${v}`);
    if (!el) { console.log(`no #${v}`); continue; }
    await el.scrollIntoViewIfNeeded();
    await page.waitForTimeout(800);
    await el.screenshot({ path: path.join(out, `${v}-${name}.png`) });
  }
  await context.close();
}
await browser.close();
await srv.close();
console.log(`screenshots in ${out}`);
