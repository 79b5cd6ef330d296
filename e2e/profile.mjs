// Developer tool: a CPU profile of 200 scripted slider moves, self time per function.
// Usage: node e2e/profile.mjs [slider-testid] [viewport-height] [#view-to-scroll-to]; for function names build a
// dist with data-wasm-opt="0" data-keep-debug="true" and set DICELENS_DIST to it.
import { startServer, launch } from './lib.mjs';
const slider = process.argv[2] || 'u-slider';
const height = Number(process.argv[3] || 800);
const scrollTo = process.argv[4];
const srv = await startServer();
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1280, height } });
await page.goto(srv.base);
await page.waitForSelector('[data-testid="min-kl"]');
if (scrollTo) await page.evaluate((sel) => document.querySelector(sel).scrollIntoView({ block: 'start' }), scrollTo);
await page.waitForTimeout(500);
const cdp = await page.context().newCDPSession(page);
await cdp.send('Profiler.enable');
await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
await cdp.send('Profiler.start');
await page.evaluate(async (id) => {
  const el = document.querySelector(`[data-testid="${id}"]`);
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  for (let i = 0; i < 200; i++) {
    await frame();
    el.value = String(200 + (i * 37) % 600);
    el.dispatchEvent(new Event('input', { bubbles: true }));
    await new Promise((r) => setTimeout(r, 0));
  }
}, slider);
const { profile } = await cdp.send('Profiler.stop');
const self = new Map();
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const dt = profile.timeDeltas;
const counts = new Map();
profile.samples.forEach((id, i) => counts.set(id, (counts.get(id) || 0) + (dt[i] || 0)));
for (const n of profile.nodes) {
  const k = n.callFrame.functionName || `(anon ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber})`;
  self.set(k, (self.get(k) || 0) + (counts.get(n.id) || 0));
}
const parent = new Map();
for (const n of profile.nodes) for (const c of (n.children || [])) parent.set(c, n.id);
for (const want of ['__wbg_offsetHeight_91ca9e2be23502e5', '__wbg_clientWidth_269ea87f17b863bf', 'replaceState']) {
  const seen = new Set();
  for (const n of profile.nodes) if (n.callFrame.functionName === want) {
    let chain = []; let id = parent.get(n.id);
    for (let d = 0; d < 6 && id; d++) { const m = byId.get(id); chain.push(m.callFrame.functionName || '?'); id = parent.get(id); }
    const k = chain.join(' < '); if (!seen.has(k)) { seen.add(k); console.log(want, '<', k, (counts.get(n.id)||0)/1000); }
  }
}
const tot = [...self.values()].reduce((a, b) => a + b, 0);
console.log('total ms', (tot / 1000).toFixed(1));
for (const [k, v] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log((v / 1000).toFixed(1).padStart(8), k);
await browser.close(); await srv.close();
