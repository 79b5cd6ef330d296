// Shared helpers for the browser tests: a static server for dist/ (also under a sub-path),
// Debian Chromium through playwright-core, console-error capture, and screenshots.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '..');
export const dist = process.env.DICELENS_DIST || path.join(root, 'dist');
export const artifacts = path.join(here, 'artifacts');
export const SUB_PATH = '/courses/seg/dicelens/';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

/** Serves `dir` at `/` and at SUB_PATH on 127.0.0.1 with a free port. */
export async function startServer(dir = dist) {
  const server = http.createServer((req, res) => {
    let url = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let base = dir;
    // The course-page example and dist/ side by side, as in the repository.
    if (url.startsWith('/examples/')) { base = path.join(root, 'examples'); url = url.slice('/examples'.length); }
    else if (url.startsWith('/dist/')) url = url.slice('/dist'.length);
    else if (url.startsWith(SUB_PATH)) url = '/' + url.slice(SUB_PATH.length);
    if (url.endsWith('/')) url += 'index.html';
    const file = path.join(base, path.normalize(url));
    if (!file.startsWith(base) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': MIME[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return { base: `http://127.0.0.1:${port}/`, server, close: () => new Promise((r) => server.close(r)) };
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

/** Opens a page that records console errors, page errors and requests leaving localhost. */
export async function openPage(browser, url, opts = {}) {
  const context = await browser.newContext({ viewport: opts.viewport || { width: 1280, height: 900 }, deviceScaleFactor: opts.dpr || 1, hasTouch: !!opts.touch });
  const page = await context.newPage();
  const errors = [];
  const external = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => { if (!r.url().startsWith('http://127.0.0.1')) external.push(r.url()); });
  await page.goto(url);
  if (opts.waitFor !== null) await page.waitForSelector(opts.waitFor || '[data-testid="min-kl"]', { timeout: 30000 });
  return { page, context, errors, external };
}

export async function screenshot(page, name) {
  fs.mkdirSync(artifacts, { recursive: true });
  const file = path.join(artifacts, name);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Waits until no block of readouts waits for the input to rest. Readouts off screen follow
 * the input only once it rests, and mark their block `aria-busy="true"` meanwhile
 * (src/widgets/deferred.rs, `readouts`). The short pause lets the last input's effects run. */
export async function readoutsCurrent(page) {
  await page.waitForTimeout(50);
  await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'), null, { timeout: 30000 });
}

/** Pixels of a canvas as a data URL, to tell whether a redraw changed anything. */
export async function canvasData(page, testid) {
  return page.$eval(`[data-testid="${testid}"]`, (c) => c.toDataURL());
}

/** The page's query parameters once the app's URL writer has caught up: it writes the address
 * bar once the input rests, and marks `<html data-url-pending>` while a write waits
 * (src/url.rs). The short pause lets the last input's effects run first. */
export async function urlParams(page) {
  await page.waitForTimeout(100);
  await page.waitForFunction(() => !document.documentElement.hasAttribute('data-url-pending'), null, { timeout: 30000 });
  return new URL(page.url()).searchParams;
}

/** The guided tour's steps as src/tour.rs declares them (STEPS, in order): title, the view it
 * highlights, the state it sets (URL keys), and the names of its text and question functions.
 * Tests find a step by what it is (e.g. `text === 'step_family'`), never by a typed number,
 * so they keep working as steps are added. */
export function tourSteps() {
  const src = fs.readFileSync(path.join(root, 'src', 'tour.rs'), 'utf8');
  const start = src.indexOf('pub const STEPS');
  if (start < 0) throw new Error('src/tour.rs has no STEPS');
  const body = src.slice(start, src.indexOf('\n];', start));
  return body.split(/\n\s*Step \{/).slice(1).map((s) => {
    const field = (name) => s.match(new RegExp(`\\b${name}:\\s*"((?:[^"\\\\]|\\\\.)*)"`))?.[1];
    const fn = (name) => s.match(new RegExp(`\\b${name}:\\s*(\\w+)`))?.[1];
    const setSrc = s.match(/\bset:\s*&\[([\s\S]*?)\]\s*,/)?.[1] ?? '';
    const set = Object.fromEntries([...setSrc.matchAll(/\(\s*"([^"]+)"\s*,\s*"([^"]*)"\s*\)/g)].map((m) => [m[1], m[2]]));
    return { title: field('title'), view: field('view'), set, text: fn('text'), predict: fn('predict') };
  });
}

/** The 1-based number of the tour step whose text function is `text` (e.g. 'step_family'). */
export function tourStep(text) {
  const i = tourSteps().findIndex((s) => s.text === text);
  if (i < 0) throw new Error(`src/tour.rs has no step with text: ${text}`);
  return i + 1;
}

/** The app's view keys as the view registry (src/registry.rs) declares them, in order, so
 * tests cover views as they are added. */
export function appViews() {
  const src = fs.readFileSync(path.join(root, 'src', 'registry.rs'), 'utf8');
  const m = src.match(/pub const VIEWS:[^=]*=\s*\[([\s\S]*?)\n\];/);
  if (!m) throw new Error('src/registry.rs has no VIEWS');
  const keys = [...m[1].matchAll(/^\s*key: "([^"]+)",/gm)].map((x) => x[1]);
  if (keys.length < 12) throw new Error(`src/registry.rs: only ${keys.length} views read`);
  return keys;
}
