// Probe (not a test; run by hand: `node e2e/ready_probe.mjs` after `trunk build --release`): the
// time from opening `?view=trainer` to the trainer being ready (run 1's readout shows step 0),
// over a throttled server (one shared 1.6 Mbit/s link, 150 ms before each response, gzip), with
// the worker module compiled once and passed to the second worker (A), or fetched by each
// worker (B: the loader's post of the module made to throw, its fallback). Prints both lists (ms).
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { launch, dist } from './lib.mjs';
const MIME = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.svg': 'image/svg+xml', '.png': 'image/png' };
const RATE = 1.6e6 / 8; // bytes/s shared
let linkFree = 0; // time the shared link is free
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const server = http.createServer(async (req, res) => {
  let url = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  if (url.endsWith('/')) url += 'index.html';
  const file = path.join(dist, path.normalize(url));
  if (!fs.existsSync(file) || fs.statSync(file).isDirectory()) { res.writeHead(404); res.end(); return; }
  const body = zlib.gzipSync(fs.readFileSync(file), { level: 9 });
  await sleep(150);
  res.writeHead(200, { 'content-type': MIME[path.extname(file)] || 'application/octet-stream', 'content-encoding': 'gzip', 'cache-control': 'no-store' });
  // Send in 8 KB chunks, each waiting for its slot on the shared link.
  for (let i = 0; i < body.length; i += 8192) {
    const chunk = body.subarray(i, i + 8192);
    const now = performance.now();
    const start = Math.max(now, linkFree);
    linkFree = start + (chunk.length / RATE) * 1000;
    await sleep(linkFree - now);
    res.write(chunk);
  }
  res.end();
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}/`;
const src = fs.readFileSync(path.join(dist, 'trainer-worker.js'), 'utf8');
const broken = src.replace('postMessage({ module });', "throw new Error('x');");
const browser = await launch();
const out = { A: [], B: [] };
for (let r = 0; r < 4; r++) {
  for (const v of ['A', 'B']) {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
    if (v === 'B') await ctx.route('**/trainer-worker.js', (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: broken }));
    const page = await ctx.newPage();
    const t0 = Date.now();
    await page.goto(base + '?view=trainer', { waitUntil: 'commit' });
    await page.waitForFunction(() => document.querySelector('[data-testid="metric-step-0"]')?.textContent === '0', null, { timeout: 120000, polling: 50 });
    out[v].push(Date.now() - t0);
    await ctx.close();
  }
}
console.log(JSON.stringify(out));
await browser.close();
server.close();
