// Browser half of the benchmark command (scripts/bench.sh): the loss workload in WASM in
// headless Chromium, and the size of dist/. Prints one JSON line per figure.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { startServer, launch, dist } from './lib.mjs';

function distSize() {
  const files = fs.readdirSync(dist).filter((f) => /\.(wasm|js|css)$/.test(f));
  let raw = 0;
  let gzip = 0;
  const parts = {};
  for (const f of files) {
    const buf = fs.readFileSync(path.join(dist, f));
    const gz = zlib.gzipSync(buf, { level: 9 }).length;
    raw += buf.length;
    gzip += gz;
    parts[path.extname(f).slice(1)] = { raw: buf.length, gzip: gz };
  }
  return { bench: 'dist_size', raw_bytes: raw, gzip_bytes: gzip, raw_kb: +(raw / 1024).toFixed(1), gzip_kb: +(gzip / 1024).toFixed(1), goal_gzip_kb: 250, parts };
}

// BENCH_ONLY=trainer_frame_time,wasm_cnn_train_step (comma-separated) runs only those parts.
const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null;
const want = (name) => !only || only.has(name);

const srv = await startServer();
const browser = await launch();
try {
  const page = await browser.newPage();
  await page.goto(srv.base);
  await page.waitForFunction(() => window.wasmBindings && window.wasmBindings.bench_losses_and_gradients, null, { timeout: 30000 });
  for (const [all, name, goal] of [[false, 'wasm_all_losses_4_gradients', 6], [true, 'wasm_all_losses_10_gradients', null]]) {
    if (!want(name)) continue;
    const times = await page.evaluate((a) => Array.from(window.wasmBindings.bench_losses_and_gradients(a, 20)), all);
    if (times.length === 0) throw new Error('WASM benchmark returned no times (non-finite checksum)');
    console.log(JSON.stringify({ bench: name, shape: [4, 3, 256, 256], dtype: 'float32', loss_values: 10, gradients: all ? 10 : 4, median_ms: +times[times.length >> 1].toFixed(3), min_ms: +times[0].toFixed(3), reps: times.length, goal_ms: goal }));
  }
  // One cnn8 training step (binary CE, Adam, batch 16, 32×32), the native benchmark's workload.
  if (want('wasm_cnn_train_step')) {
    // The training code lives in the trainer's worker module (crates/worker): load it into the
    // page (its glue defines `wasm_bindgen`; outside a worker it only exports its hooks).
    const times = await page.evaluate(async () => {
      await new Promise((resolve, reject) => {
        const s = document.createElement('script');
        s.src = './dicelens-worker.js';
        s.onload = resolve;
        s.onerror = reject;
        document.head.appendChild(s);
      });
      await wasm_bindgen({ module_or_path: './dicelens-worker_bg.wasm' });
      // A first round unmeasured: V8 starts the module in its baseline compiler and swaps in
      // optimised code only as functions get hot, so the first steps ran 2–3× slower and the
      // median of one round swung from 4.3 to 10 ms (min 4.2–6.9) with when that happened.
      wasm_bindgen.bench_train_step(30);
      return Array.from(wasm_bindgen.bench_train_step(30));
    });
    if (times.length === 0) throw new Error('WASM train-step benchmark returned no times (the run diverged)');
    console.log(JSON.stringify({ bench: 'wasm_cnn_train_step', model: 'cnn8', batch: 16, size: 32, optimizer: 'adam', median_ms: +times[times.length >> 1].toFixed(3), min_ms: +times[0].toFixed(3), reps: times.length, goal_ms: 10 }));
  }
  // The page's frame time while the trainer panel trains its four default cnn8 runs: the
  // deltas between animation frames over 5 s of playing, with the panel on screen. `work`
  // gives the p95 and the longest of each piece of work the page's frames do (applying the
  // worker's reports: a gallery column, a plot redraw), recorded by the app in
  // window.__dicelens.work; the training steps and evaluations run in the trainer's worker,
  // whose mean times the page shows (`step_ms_in_page` / `eval_ms_in_page`, as it reports them).
  // Measured twice: with the top of the panel on screen (controls, table), and scrolled to the
  // live plots, which then redraw after every held-out evaluation.
  for (const [onScreen, label] of [['#trainer', 'panel top'], ['[data-testid="plot-train-loss"]', 'live plots']]) {
    if (!want('trainer_frame_time')) break;
    const tp = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await tp.goto(srv.base);
    await tp.waitForSelector('[data-testid="metric-step-0"]');
    await tp.locator('#trainer').scrollIntoViewIfNeeded();
    await tp.waitForFunction(() => document.querySelector('[data-testid="metric-step-0"]').textContent === '0', null, { timeout: 30000 });
    await tp.fill('[data-testid="tr-rate"]', '1000');
    await tp.press('[data-testid="tr-rate"]', 'Tab');
    await tp.click('[data-testid="play"]');
    await tp.locator(onScreen).scrollIntoViewIfNeeded();
    await tp.waitForTimeout(1000);
    const r = await tp.evaluate(async () => {
      window.__dicelens.work = {};
      const steps0 = Number(document.querySelector('[data-testid="step-counter"]').textContent);
      const deltas = [];
      let last = performance.now();
      const t0 = last;
      await new Promise((resolve) => {
        const tick = (t) => {
          deltas.push(t - last);
          last = t;
          if (t - t0 < 5000) requestAnimationFrame(tick); else resolve();
        };
        requestAnimationFrame(tick);
      });
      const steps1 = Number(document.querySelector('[data-testid="step-counter"]').textContent);
      const rate = document.querySelector('[data-testid="measured-rate"]').dataset;
      deltas.shift();
      deltas.sort((a, b) => a - b);
      const work = {};
      for (const [name, list] of Object.entries(window.__dicelens.work || {})) {
        const t = Array.from(list).sort((a, b) => a - b);
        work[name] = { n: t.length, p95_ms: +t[Math.min(t.length - 1, Math.floor(0.95 * t.length))].toFixed(2), max_ms: +t[t.length - 1].toFixed(2) };
      }
      return { deltas, work, steps: steps1 - steps0, seconds: (last - t0) / 1000, stepMs: Number(rate.stepMs), evalMs: Number(rate.evalMs) };
    });
    const q = (p) => +r.deltas[Math.min(r.deltas.length - 1, Math.floor(p * r.deltas.length))].toFixed(2);
    console.log(JSON.stringify({ bench: 'trainer_frame_time', on_screen: label, runs: 4, model: 'cnn8', frames: r.deltas.length, median_ms: q(0.5), p95_ms: q(0.95), max_ms: q(1), steps_per_s_per_run: +(r.steps / r.seconds).toFixed(1), step_ms_in_page: r.stepMs, eval_ms_in_page: r.evalMs, goal_p95_ms: 20, work: r.work }));
    await tp.close();
  }
  // Interactive speed: 200 scripted moves of each slider; time from the input event to the end
  // of all recomputation and redrawing, at a desktop viewport and with every view on screen.
  // The landscapes (issue 5): both 160×160 maps recomputed and redrawn per move, goal 16 ms median.
  // The measure is per visible plots: a 1280×800 window at the top of the page and
  // scrolled to each theory view in turn. A 1280×4000 window with every theory view on screen
  // at once is the stress case (reported, not the goal's setting).
  const theory = ['u-slider', 'kappa-slider', 's-slider'];
  for (const [height, label, scrollTo, sliders] of [
    [800, 'desktop viewport 1280x800', null, theory],
    ...['family', 'bias-map', 'simplex', 'decomposition', 'ambiguous'].map((v) => [800, `1280x800 scrolled to #${v}`, `#${v}`, theory]),
    [4000, 'every view on screen (1280x4000, stress case)', null, theory],
    [900, 'landscape view on screen (1280x900)', '#landscape', ['kappa-slider', 'u-slider']],
  ]) {
  const progressive = scrollTo === '#landscape';
  const name = progressive ? 'landscape_slider_input_to_drawn' : 'slider_input_to_drawn';
  if (!want(name)) continue;
  const ui = await browser.newPage({ viewport: { width: 1280, height } });
  await ui.goto(srv.base);
  await ui.waitForSelector('[data-testid="min-kl"]');
  if (scrollTo) {
    await ui.evaluate((sel) => document.querySelector(sel).scrollIntoView({ block: 'start' }), scrollTo);
    await ui.waitForTimeout(500);
  }
  for (const id of sliders) {
    const times = await ui.evaluate(async ([id, progressive]) => {
      const el = document.querySelector(`[data-testid="${id}"]`);
      const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
      const out = [];
      const settled = () => new Promise((r) => setTimeout(r, 0));
      const drawn = [];
      const firsts = [];
      const finals = [];
      if (window.__dicelens) window.__dicelens.work = {};
      for (let i = 0; i < 200; i++) {
        await frame();
        // From the input event until every effect (recompute + redraw) has run: effects run as
        // microtasks, so a 0 ms timeout fires only after all of them (and after any paint the
        // browser slots in). `drawn` is the measure: input event to the end of the last
        // plot's drawing, recorded by the app (window.__dicelens.last).
        window.__dicelens.last = undefined;
        window.__dicelens.seq = [];
        const t0 = performance.now();
        el.value = String(200 + (i * 37) % 600);
        el.dispatchEvent(new Event('input', { bubbles: true }));
        await settled();
        out.push(performance.now() - t0);
        // A progressive view's final pass comes on the animation frame after the input rests
        // (src/widgets/deferred.rs, REST_MS = 150 ms): wait for it (both maps drawn twice), at
        // most 500 ms.
        if (progressive) {
          const t1 = performance.now();
          while ((window.__dicelens.seq || []).length < 4 && performance.now() - t1 < 500) await frame();
        }
        if (typeof window.__dicelens.last === 'number') drawn.push(window.__dicelens.last);
        if (progressive) {
          // Both landscape maps drawn once (the coarse pass): the second draw after the input;
          // the final pass: the last draw.
          const seq = window.__dicelens.seq || [];
          if (seq.length >= 2) firsts.push(seq[1]);
          if (seq.length >= 4) finals.push(seq[3]);
        } else if (i % 10 === 9) {
          // The family's exact optima and the bias map come on the animation frame after the
          // input rests (REST_MS = 150 ms after it): every tenth move, rest 300 ms and take
          // the input to the last draw.
          await new Promise((r) => setTimeout(r, 300));
          await settled();
          if (typeof window.__dicelens.last === 'number') finals.push(window.__dicelens.last);
        }
      }
      drawn.sort((a, b) => a - b);
      out.sort((a, b) => a - b);
      // Median time of each plot's draw (its memos' recomputation included) during the moves.
      const draws = {};
      for (const [k, v] of Object.entries(window.__dicelens.work || {})) {
        if (!k.startsWith('draw:') && !k.startsWith('landscape')) continue;
        const t = [...v].sort((a, b) => a - b);
        draws[k.replace(/^draw:/, '')] = +t[t.length >> 1].toFixed(2);
      }
      firsts.sort((a, b) => a - b);
      finals.sort((a, b) => a - b);
      return { out, drawn, draws, firsts, finals };
    }, [id, progressive]);
    const q = (t, p) => (t.length ? +t[Math.min(t.length - 1, Math.floor(p * t.length))].toFixed(2) : null);
    const { out, drawn, draws, firsts, finals } = times;
    // The landscapes refine progressively: the first draw after a move is the coarse pass
    // (both maps, 32² to 64² cells as fit the frame), the last one the final 160×160 maps, on
    // the frame after the input rests (so at least REST_MS = 150 ms after it, by design).
    const goals = progressive
      ? { coarse_pass_drawn_median_ms: q(firsts, 0.5), coarse_pass_drawn_p95_ms: q(firsts, 0.95), final_160_drawn_median_ms: q(finals, 0.5), final_160_drawn_p95_ms: q(finals, 0.95), rest_ms: 150, goal_median_ms: 16 }
      : { rest_pass_drawn_median_ms: q(finals, 0.5), rest_pass_drawn_p95_ms: q(finals, 0.95), rest_ms: 150, goal_median_ms: 4, goal_p95_ms: 8 };
    console.log(JSON.stringify({ bench: name, viewport: label, slider: id, moves: out.length, plots_redrawn_moves: drawn.length, drawn_median_ms: q(drawn, 0.5), drawn_p95_ms: q(drawn, 0.95), settled_median_ms: q(out, 0.5), settled_p95_ms: q(out, 0.95), ...goals, draw_median_ms_by_plot: draws }));
  }
  await ui.close();
  }
} finally {
  await browser.close();
  await srv.close();
}
if (want('dist_size')) console.log(JSON.stringify(distSize()));
