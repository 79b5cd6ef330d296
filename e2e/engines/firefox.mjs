// Firefox ESR (Debian's firefox-esr) through puppeteer-core over WebDriver BiDi: no geckodriver.
// Downloads are allowed into a temporary directory per page (BiDi browser.setDownloadBehavior).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

export const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';

export const firefox = {
  name: 'firefox',
  async start() {
    if (!fs.existsSync(FIREFOX)) throw new Error(`${FIREFOX} is missing: run scripts/setup.sh`);
    const browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      headless: true,
      protocolTimeout: 180000,
    });
    return {
      async newPage({ width, height }) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dicelens-ff-dl-'));
        const context = await browser.createBrowserContext({ downloadBehavior: { policy: 'allow', downloadPath: dir } });
        const page = await context.newPage();
        await page.setViewport({ width, height });
        const errors = [];
        page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
        page.on('pageerror', (e) => errors.push(String(e)));
        return {
          goto: (url) => page.goto(url, { timeout: 120000 }),
          eval: (fn, arg) => page.evaluate(fn, arg),
          nativeErrors: () => errors.splice(0),
          screenshot: (file, o = {}) => page.screenshot({ path: file, fullPage: !!o.fullPage }),
          canDownload: true,
          /** Runs `click` and returns the file that lands in the download directory (Firefox
           * writes `<name>.part` first and renames it when complete). */
          async download(click, name, waitFor) {
            await click();
            const file = path.join(dir, name);
            await waitFor(async () => fs.existsSync(file) && !fs.existsSync(`${file}.part`) && fs.statSync(file).size > 0,
              `${name} in the download directory`);
            return { name, bytes: fs.readFileSync(file) };
          },
          async close() {
            await context.close();
            fs.rmSync(dir, { recursive: true, force: true });
          },
        };
      },
      close: () => browser.close(),
    };
  },
};
