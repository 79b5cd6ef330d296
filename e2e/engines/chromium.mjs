// Chromium through playwright-core (the launch of ../lib.mjs), behind the engines' driver
// interface (see ./webkit.mjs for the interface's description).
import fs from 'node:fs';
import { launch } from '../lib.mjs';

export const chromium = {
  name: 'chromium',
  async start() {
    const browser = await launch();
    return {
      async newPage({ width, height }) {
        const context = await browser.newContext({ viewport: { width, height }, acceptDownloads: true });
        const page = await context.newPage();
        const errors = [];
        page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
        page.on('pageerror', (e) => errors.push(String(e)));
        return {
          goto: (url) => page.goto(url, { timeout: 120000 }),
          eval: (fn, arg) => page.evaluate(fn, arg),
          nativeErrors: () => errors.splice(0),
          screenshot: (file, o = {}) => page.screenshot({ path: file, fullPage: !!o.fullPage }),
          canDownload: true,
          /** Runs `click` and returns the downloaded file's bytes. */
          async download(click) {
            const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 120000 }), click()]);
            const file = await dl.path();
            return { name: dl.suggestedFilename(), bytes: fs.readFileSync(file) };
          },
          close: () => context.close(),
        };
      },
      close: () => browser.close(),
    };
  },
};
