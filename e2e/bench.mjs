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

const srv = await startServer();
const browser = await launch();
try {
  const page = await browser.newPage();
  await page.goto(srv.base);
  await page.waitForFunction(() => window.wasmBindings && window.wasmBindings.bench_losses_and_gradients, null, { timeout: 30000 });
  for (const [all, name, goal] of [[false, 'wasm_all_losses_4_gradients', 4], [true, 'wasm_all_losses_10_gradients', null]]) {
    const times = await page.evaluate((a) => Array.from(window.wasmBindings.bench_losses_and_gradients(a, 20)), all);
    if (times.length === 0) throw new Error('WASM benchmark returned no times (non-finite checksum)');
    console.log(JSON.stringify({ bench: name, shape: [4, 3, 256, 256], dtype: 'float32', loss_values: 10, gradients: all ? 10 : 4, median_ms: +times[times.length >> 1].toFixed(3), min_ms: +times[0].toFixed(3), reps: times.length, goal_ms: goal }));
  }
} finally {
  await browser.close();
  await srv.close();
}
console.log(JSON.stringify(distSize()));
