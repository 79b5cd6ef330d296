// The canvas backend's drawing order (vendor/plotters-canvas, DICELENS.md). Lines of one style
// wait in one open path while other things are drawn, and are stroked later; text may be drawn
// before a waiting path is stroked only where the two cannot touch. The check here watches the
// real canvas calls of every plot in the app, at several states, and measures each label's ink
// with the canvas itself: a segment added before a label but stroked after it must stay
// clear of the label by its stroke's reach (half its width times the miter limit). It also
// checks what the batching is for: a chart's tick marks share one stroke, and the chart's own
// background fill is skipped where the page painted it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch } from './lib.mjs';

let srv;
let browser;
before(async () => { srv = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); await srv?.close(); });

/** Wraps the 2-D context's path, stroke, text and fill calls; results in `window.__cv`. */
function watchCanvas() {
  const P = CanvasRenderingContext2D.prototype;
  const cv = (window.__cv = { violations: [], strokes: {}, thinStrokes: {}, fullFills: {}, reordered: 0, texts: 0 });
  const state = new WeakMap();
  let seq = 0;
  const of = (ctx) => {
    let s = state.get(ctx);
    if (!s) { s = { segs: [], last: null, texts: [] }; state.set(ctx, s); }
    return s;
  };
  const id = (ctx) => ctx.canvas.dataset?.testid || 'offscreen';
  const at = (ctx, x, y) => { const m = ctx.getTransform(); return [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f]; };
  const bump = (o, k) => { o[k] = (o[k] || 0) + 1; };
  // Distance from segment (a, b) to the box [x0, y0, x1, y1] (0 if they meet).
  const ptBox = ([x, y], [x0, y0, x1, y1]) => Math.hypot(Math.max(x0 - x, 0, x - x1), Math.max(y0 - y, 0, y - y1));
  const ptSeg = ([px, py], [ax, ay], [bx, by]) => {
    const dx = bx - ax; const dy = by - ay; const l2 = dx * dx + dy * dy;
    const t = l2 > 0 ? Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / l2)) : 0;
    return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
  };
  const segBox = (a, b, box) => {
    const [x0, y0, x1, y1] = box;
    // Sample the segment finely enough to find a crossing (segments here are short).
    const n = Math.max(2, Math.ceil(Math.hypot(b[0] - a[0], b[1] - a[1])));
    for (let i = 0; i <= n; i++) {
      const p = [a[0] + (b[0] - a[0]) * i / n, a[1] + (b[1] - a[1]) * i / n];
      if (p[0] >= x0 && p[0] <= x1 && p[1] >= y0 && p[1] <= y1) return 0;
    }
    const corners = [[x0, y0], [x1, y0], [x0, y1], [x1, y1]];
    return Math.min(ptBox(a, box), ptBox(b, box), ...corners.map((c) => ptSeg(c, a, b)));
  };
  const wrap = (name, f) => { const orig = P[name]; P[name] = function (...a) { f(this, a); return orig.apply(this, a); }; };
  wrap('beginPath', (ctx) => { const s = of(ctx); s.segs = []; s.last = null; s.texts = []; });
  wrap('moveTo', (ctx, [x, y]) => { of(ctx).last = at(ctx, x, y); });
  wrap('lineTo', (ctx, [x, y]) => {
    const s = of(ctx); const p = at(ctx, x, y);
    if (s.last) s.segs.push([s.last, p, ++seq]);
    s.last = p;
  });
  wrap('fillText', (ctx, [text, x, y]) => {
    cv.texts++;
    const m = ctx.measureText(text);
    const corners = [
      at(ctx, x - m.actualBoundingBoxLeft, y - m.actualBoundingBoxAscent),
      at(ctx, x + m.actualBoundingBoxRight, y - m.actualBoundingBoxAscent),
      at(ctx, x - m.actualBoundingBoxLeft, y + m.actualBoundingBoxDescent),
      at(ctx, x + m.actualBoundingBoxRight, y + m.actualBoundingBoxDescent),
    ];
    const xs = corners.map((c) => c[0]); const ys = corners.map((c) => c[1]);
    of(ctx).texts.push({ text, box: [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)], seq: ++seq });
  });
  wrap('stroke', (ctx) => {
    const s = of(ctx);
    bump(cv.strokes, id(ctx));
    if (ctx.lineWidth <= 1) bump(cv.thinStrokes, id(ctx));
    const reach = (ctx.lineWidth / 2) * ctx.miterLimit;
    for (const t of s.texts) {
      for (const [a, b, k] of s.segs) {
        if (k > t.seq) continue;
        cv.reordered++;
        const d = segBox(a, b, t.box);
        if (d <= reach) {
          cv.violations.push({ canvas: id(ctx), text: t.text, box: t.box.map(Math.round), seg: [a, b].map((p) => p.map(Math.round)), distance: d, reach });
        }
      }
    }
    s.texts = [];
  });
  wrap('fillRect', (ctx, [x, y, w, h]) => {
    const m = ctx.getTransform();
    const [cx, cy] = at(ctx, x, y);
    if (cx <= 0 && cy <= 0 && cx + w * m.a >= ctx.canvas.width && cy + h * m.d >= ctx.canvas.height) bump(cv.fullFills, id(ctx));
  });
}

/** Scrolls every plot of the page into view in turn, so that each draws. */
async function drawAll(page) {
  const ids = await page.$$eval('canvas.plot', (cs) => cs.map((c) => c.dataset.testid));
  for (const tid of ids) {
    await page.locator(`[data-testid="${tid}"]`).scrollIntoViewIfNeeded();
    await page.waitForFunction((t) => (window.__dicelens?.work?.[`draw:${t}`]?.length ?? 0) > 0, tid, { timeout: 30000 });
  }
  return ids;
}

test('text drawn while lines wait for their stroke never touches them, in every plot', async () => {
  let texts = 0;
  let reordered = 0;
  for (const [query, viewport] of [
    ['', { width: 1280, height: 900 }],
    ['?u=0.003&kappa=2&sigma=0.3&s=0.9&ball=2,1&dark=1', { width: 1280, height: 900 }],
    ['?u=0.6&kappa=0.2&sigma=3&s=0.02&ball=-4,-1', { width: 390, height: 844 }],
  ]) {
    const context = await browser.newContext({ viewport });
    await context.addInitScript(watchCanvas);
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(srv.base + query);
    await page.waitForSelector('[data-testid="min-kl"]');
    const ids = await drawAll(page);
    assert.ok(ids.length >= 15, `plots found: ${ids.join(', ')}`);
    // A slider drag on top: every frame redraws the region-terms plot with new axes.
    await page.locator('#region-terms').scrollIntoViewIfNeeded();
    const slider = page.locator('[data-testid="u-slider"]');
    await slider.focus();
    for (let i = 0; i < 8; i++) await page.keyboard.press('ArrowRight');
    await page.waitForTimeout(300);
    const cv = await page.evaluate(() => window.__cv);
    assert.deepEqual(cv.violations.slice(0, 5), [], `${query}: text drawn under lines that were stroked after it`);
    texts += cv.texts;
    reordered += cv.reordered;
    assert.deepEqual(errors, []);
    await context.close();
  }
  // The check looked at real text and at real reordered segments.
  assert.ok(texts > 500, `labels drawn: ${texts}`);
  assert.ok(reordered > 500, `segments stroked after a later label: ${reordered}`);
});

test('a chart strokes its tick marks together and skips the background fill the page painted', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript(watchCanvas);
  const page = await context.newPage();
  await page.goto(srv.base);
  await page.waitForSelector('[data-testid="min-kl"]');
  await page.locator('#region-terms').scrollIntoViewIfNeeded();
  const slider = page.locator('[data-testid="u-slider"]');
  await slider.focus();
  for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowRight');
  await page.waitForTimeout(300);
  const r = await page.evaluate(() => ({
    draws: window.__dicelens.work['draw:plot-region-terms'].length,
    thin: window.__cv.thinStrokes['plot-region-terms'],
    fills: window.__cv.fullFills['plot-region-terms'],
  }));
  assert.ok(r.draws >= 5, `draws: ${r.draws}`);
  // The region-terms chart has 13 labelled ticks. Its 1-px strokes: the grid, the axes with
  // their ticks (a label next to a tick mark of its own may start a new path), the u guide and
  // the outlines of the four minimum markers. One stroke per tick made 22.
  const thinPerDraw = r.thin / r.draws;
  assert.ok(thinPerDraw <= 10, `1-px strokes per draw: ${thinPerDraw}`);
  // One full-canvas fill per draw: the page's background, not the chart's own again.
  assert.equal(r.fills, r.draws, `full-canvas fills ${r.fills} in ${r.draws} draws`);
  await context.close();
});
