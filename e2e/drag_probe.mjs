// Developer tool: what runs in the frames of a slider drag (issue 13). For one view scrolled to
// the top of a 1280×800 window, 120 frames with one slider `input` each; per frame: the input's
// own handling (the event and the effects it runs), the time of timer and animation-frame
// callbacks the app ran (each with the effects it caused), and the app's recorded work
// (window.__dicelens.work: plot draws, landscape passes). Medians and p95 in ms.
// Usage: node e2e/drag_probe.mjs <#view> [slider-testid] [frames]
import { startServer, launch } from './lib.mjs';
const sel = process.argv[2] || '#family';
const slider = process.argv[3] || 'u-slider';
const frames = Number(process.argv[4] || 120);
const srv = await startServer(process.env.DIST);
const browser = await launch();
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
await context.addInitScript(() => {
  const rec = (window.__probe = { timeout: [], raf: [] });
  const wrap = (orig, name) => function (cb, ...a) {
    if (typeof cb !== 'function' || cb.__mine) return orig.call(window, cb, ...a);
    return orig.call(window, (...x) => {
      const t = performance.now();
      cb(...x);
      queueMicrotask(() => rec[name].push([t, performance.now() - t]));
    }, ...a);
  };
  window.setTimeout = wrap(window.setTimeout, 'timeout');
  window.requestAnimationFrame = wrap(window.requestAnimationFrame, 'raf');
});
const page = await context.newPage();
await page.goto(srv.base + (process.env.PROBE_QUERY || ''));
await page.waitForSelector('[data-testid="min-kl"]');
if (process.env.PROBE_PLAY) {
  await page.locator('#trainer').scrollIntoViewIfNeeded();
  await page.waitForFunction(() => document.querySelector('[data-testid="metric-step-0"]')?.textContent === '0', null, { timeout: 60000 });
  await page.fill('[data-testid="tr-rate"]', '1000');
  await page.press('[data-testid="tr-rate"]', 'Tab');
  await page.click('[data-testid="play"]');
}
await page.evaluate((s) => document.querySelector(s).scrollIntoView({ block: 'start' }), sel);
await page.waitForTimeout(1000);
const r = await page.evaluate(async ([id, frames]) => {
  const el = document.querySelector(`[data-testid="${id}"]`) || document.createElement("input");
  window.__dicelens.work = {};
  window.__probe.timeout = [];
  window.__probe.raf = [];
  const stamps = [];
  const input = [];
  let i = 0;
  await new Promise((resolve) => {
    const tick = (t) => {
      stamps.push(t);
      if (i === frames) return resolve();
      const k = (i * 4) % 800;
      el.value = String(300 + (k < 400 ? k : 800 - k));
      const t0 = performance.now();
      el.dispatchEvent(new Event('input', { bubbles: true }));
      queueMicrotask(() => input.push(performance.now() - t0));
      i += 1;
      requestAnimationFrame(tick);
    };
    tick.__mine = true;
    requestAnimationFrame(tick);
  });
  const deltas = stamps.slice(1).map((t, j) => t - stamps[j]);
  const work = {};
  for (const [k, v] of Object.entries(window.__dicelens.work || {})) work[k] = [...v];
  // Timer and frame callbacks per frame interval.
  const per = (list) => deltas.map((_, j) => list.filter(([t]) => t >= stamps[j] && t < stamps[j + 1]).reduce((a, [, d]) => a + d, 0));
  return { deltas, input, work, timeout: per(window.__probe.timeout), raf: per(window.__probe.raf), nTimeout: window.__probe.timeout.length, nRaf: window.__probe.raf.length };
}, [slider, frames]);
const q = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s.length ? +s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(2) : null; };
const line = (name, xs) => console.log(name.padEnd(34), 'n', String(xs.length).padStart(4), 'med', String(q(xs, 0.5)).padStart(7), 'p95', String(q(xs, 0.95)).padStart(7), 'max', String(q(xs, 1)).padStart(7));
console.log(`${sel} ${slider}: frames > 20 ms: ${(100 * r.deltas.filter((x) => x > 20).length / r.deltas.length).toFixed(1)}%  (timeouts ${r.nTimeout}, rafs ${r.nRaf})`);
line('frame interval', r.deltas);
line('input + its effects', r.input);
line('timer callbacks per frame', r.timeout);
line('app rAF callbacks per frame', r.raf);
for (const [k, v] of Object.entries(r.work)) line('work ' + k, v);
await browser.close(); await srv.close();
