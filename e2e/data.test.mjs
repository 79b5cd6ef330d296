// Browser tests of the data view ("audit your own segmentation"): the example sets, .npy files
// and a PNG set picked through the file inputs give the readouts `dicelens audit` prints for
// the same data; bad files each get their message and the previous data stays.
//
// Same data on both sides: the example sets are compared with `dicelens audit --example ce|dice`
// (both train the same deterministic run); uploaded .npy files are written here (known answers)
// or by `dicelens audit --example dice --write-labels/--write-logits`; the PNG set is written
// here and compared with the CLI on the equivalent .npy files (uint8 labels, probabilities
// v/255 as float64, --probs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { startServer, launch, openPage, screenshot, root } from './lib.mjs';

let srv;
let browser;
let dir;
before(async () => {
  srv = await startServer();
  browser = await launch();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dl-data-'));
});
after(async () => {
  await browser?.close();
  await srv?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const BIN = path.join(root, 'target', 'debug', 'dicelens');
const BINS = ['small', 'medium', 'large'];
const LONG = { timeout: 180000 };

/** `dicelens audit ...` as JSON. */
function cli(args) {
  return JSON.parse(execFileSync(BIN, ['audit', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 }));
}

/** A version-1 .npy file: `descr` ('|u1', '<i8', '<f4', '<f8'), C order. */
function writeNpy(name, descr, shape, bytes) {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${dims}, }`;
  while ((10 + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const pre = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(pre);
  pre.writeUInt16LE(header.length, 8);
  const file = path.join(dir, name);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]));
  return file;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
/** An 8-bit greyscale PNG of `w × h` pixel values. */
function writePng(name, w, h, grey) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const raw = Buffer.alloc(h * (w + 1));
  for (let y = 0; y < h; y++) {
    raw[y * (w + 1)] = 0; // filter: none
    for (let x = 0; x < w; x++) raw[y * (w + 1) + 1 + x] = grey[y * w + x];
  }
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  const file = path.join(dir, name);
  fs.writeFileSync(file, png);
  return file;
}

const sel = (id) => `[data-testid="${id}"]`;

/** The view's readouts: numbers from data-value, null where the cell shows "—". */
async function readouts(page) {
  const get = async (id) => {
    const el = await page.$(sel(id));
    if (!el) return undefined;
    const v = await el.getAttribute('data-value');
    const text = (await el.textContent()).trim();
    if (v === '' || v === null) {
      assert.equal(text, '—', `${id} is empty but shows ${text}`);
      return null;
    }
    return Number(v);
  };
  const out = { n_images: await get('data-n-images'), ece: await get('data-ece'), dice: await get('data-dice'), bins: {} };
  for (const b of BINS) {
    out.bins[b] = { n: await get(`data-n-${b}`), ratio_soft: await get(`data-ratio-soft-${b}`), ratio_hard: await get(`data-ratio-hard-${b}`) };
  }
  return out;
}

const close = (a, b, rel = 1e-9) => Math.abs(a - b) <= rel * Math.max(1, Math.abs(b));

/** The readouts equal `dicelens audit`'s JSON. */
function assertSame(r, j, what) {
  assert.equal(r.n_images, j.n_images, `${what}: n_images`);
  for (const key of ['ece', 'dice']) {
    if (j[key] === null) assert.equal(r[key], null, `${what}: ${key}`);
    else assert.ok(close(r[key], j[key]), `${what}: ${key} ${r[key]} vs CLI ${j[key]}`);
  }
  for (const b of BINS) {
    assert.equal(r.bins[b].n, j.bins[b].n, `${what}: ${b} n`);
    for (const key of ['ratio_soft', 'ratio_hard']) {
      const [x, y] = [r.bins[b][key], j.bins[b][key]];
      if (y === null) assert.equal(x, null, `${what}: ${b} ${key} should be — (CLI null), got ${x}`);
      else assert.ok(close(x, y), `${what}: ${b} ${key} ${x} vs CLI ${y}`);
    }
  }
}

/** Waits until the view shows exactly `source` (set only when a load succeeded: the file names,
 * labels then predictions) and is not busy. */
async function shown(page, source) {
  await page.waitForFunction(
    ([id, want]) => {
      const el = document.querySelector(id);
      return el && el.textContent.trim() === `Showing: ${want}` && !document.querySelector('[data-testid="data-busy"]');
    },
    [sel('data-source'), source],
    LONG,
  );
}

async function openData() {
  const o = await openPage(browser, `${srv.base}?view=data#data`, { waitFor: sel('data-example-ce') });
  await o.page.locator('#data').scrollIntoViewIfNeeded();
  return o;
}

/** Picks files: predictions cleared first, so no stale pair is audited in between. */
async function pick(page, labels, preds = []) {
  await page.setInputFiles(sel('data-preds'), []);
  await page.setInputFiles(sel('data-labels'), labels);
  if (preds.length) await page.setInputFiles(sel('data-preds'), preds);
}

test('the example sets equal dicelens audit --example', LONG, async () => {
  const { page, context, errors } = await openData();
  for (const [kind, word] of [['ce', 'CE'], ['dice', 'Dice']]) {
    await page.click(sel(`data-example-${kind}`));
    await shown(page, `example: 48 held-out images, cnn8 after 300 steps of ${word}`);
    const r = await readouts(page);
    assertSame(r, cli(['--example', kind]), `example ${kind}`);
    assert.equal(r.n_images, 48);
    for (const id of ['plot-data-sizes', 'plot-data-ratios', 'plot-data-reliability']) assert.ok(await page.$(sel(id)), id);
    const caption = await page.textContent(sel('caption-data'));
    assert.match(caption, /^48 images, 48 foreground regions by size/);
    assert.match(caption, /In DiceLens's toy model \(κ = 0\.5, σ = 1\)/);
    assert.ok(await page.$(`#data [data-testid="data-toy"] [data-origin="model"]`), 'the toy prediction carries the model badge');
    await screenshot(page, `data-example-${kind}.png`);
  }
  // The toy model follows κ: its ratio for Dice changes, the data's readouts do not.
  const before = await readouts(page);
  const toy = Number(await page.getAttribute(sel('data-toy-dice-fg'), 'data-value'));
  await page.focus(sel('kappa-slider'));
  for (let i = 0; i < 20; i++) await page.keyboard.press('ArrowRight');
  await page.waitForFunction(([id, t]) => Number(document.querySelector(id).dataset.value) !== t, [sel('data-toy-dice-fg'), toy]);
  assert.deepEqual(await readouts(page), before);
  assert.deepEqual(errors, []);
  await context.close();
});

test('.npy files through the file inputs equal dicelens audit', LONG, async () => {
  // Known answers: 16×16 binary images; image i has c[i] foreground pixels predicted pf[i],
  // background pb[i] (the CLI test checks the closed forms; here the page must agree).
  const c = [2, 10, 64, 128];
  const pf = [0.9, 0.8, 0.7, 0.6];
  const pb = [0.1, 0.6, 0.2, 0.3];
  const n = 256;
  const y = new Uint8Array(c.length * n);
  const z = new Float32Array(c.length * n);
  const p = new Float64Array(c.length * n);
  c.forEach((ci, i) => {
    for (let j = 0; j < n; j++) {
      const fg = j < ci;
      y[i * n + j] = fg ? 1 : 0;
      const q = fg ? pf[i] : pb[i];
      p[i * n + j] = q;
      z[i * n + j] = Math.log(q / (1 - q));
    }
  });
  const yf = writeNpy('known_y.npy', '|u1', [4, 16, 16], y);
  const zf = writeNpy('known_z.npy', '<f4', [4, 1, 16, 16], z);
  const pfile = writeNpy('known_p.npy', '<f8', [4, 1, 16, 16], p);

  const { page, context, errors } = await openData();
  await pick(page, [yf], [zf]);
  await shown(page, 'known_y.npy, known_z.npy');
  const r = await readouts(page);
  assertSame(r, cli(['--labels', yf, '--logits', zf]), 'known logits');
  assert.ok(close(r.bins.medium.ratio_hard, 25.6), `medium hard ${r.bins.medium.ratio_hard}`);
  // Probabilities: choose the kind, then the file.
  await page.selectOption(sel('data-preds-kind'), 'probs');
  await page.setInputFiles(sel('data-preds'), [pfile]);
  await shown(page, 'known_y.npy, known_p.npy');
  assertSame(await readouts(page), cli(['--labels', yf, '--probs', pfile]), 'known probs');
  await page.selectOption(sel('data-preds-kind'), 'logits');

  // The CLI's own example files.
  const ey = path.join(dir, 'ex_y.npy');
  const ez = path.join(dir, 'ex_z.npy');
  execFileSync(BIN, ['audit', '--example', 'dice', '--write-labels', ey, '--write-logits', ez]);
  await pick(page, [ey], [ez]);
  await shown(page, 'ex_y.npy, ex_z.npy');
  assertSame(await readouts(page), cli(['--labels', ey, '--logits', ez]), 'example files');

  // Labels only: sizes, no ratios (— in every ratio cell).
  await pick(page, [yf]);
  await shown(page, 'known_y.npy');
  assertSame(await readouts(page), cli(['--labels', yf]), 'labels only');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a PNG set through the file inputs equals dicelens audit', LONG, async () => {
  // Four 20×20 masks ({0, 255}, non-zero = foreground) with foreground counts 3, 25, 60, 150,
  // and probability maps: 200 on the foreground, 40 + 10·i on the background.
  const w = 20;
  const h = 20;
  const counts = [3, 25, 60, 150];
  const labels = [];
  const probs = [];
  const y = new Uint8Array(counts.length * w * h);
  const p = new Float64Array(counts.length * w * h);
  counts.forEach((ci, i) => {
    const m = new Uint8Array(w * h);
    const q = new Uint8Array(w * h);
    for (let j = 0; j < w * h; j++) {
      const fg = (j * 7) % (w * h) < ci; // scattered pixels
      m[j] = fg ? 255 : 0;
      q[j] = fg ? 200 : 40 + 10 * i;
      y[i * w * h + j] = fg ? 1 : 0;
      p[i * w * h + j] = q[j] / 255;
    }
    labels.push(writePng(`mask_${i}.png`, w, h, m));
    probs.push(writePng(`prob_${i}.png`, w, h, q));
  });
  const yf = writeNpy('png_y.npy', '|u1', [4, h, w], y);
  const pfile = writeNpy('png_p.npy', '<f8', [4, 1, h, w], p);
  const { page, context, errors } = await openData();
  await pick(page, labels, probs);
  await shown(page, [...labels, ...probs].map((f) => path.basename(f)).join(', '));
  assertSame(await readouts(page), cli(['--labels', yf, '--probs', pfile]), 'PNG set');
  // Class-valued masks (0/1/2) are read as classes.
  await pick(page, [writePng('classes.png', 4, 1, new Uint8Array([0, 1, 2, 2]))]);
  await shown(page, 'classes.png');
  assert.equal((await readouts(page)).bins.large.n, 2);
  assert.deepEqual(errors, []);
  await context.close();
});

test('bad files get one clear message and the previous data stays', LONG, async () => {
  const { page, context, errors } = await openData();
  const yf = writeNpy('good_y.npy', '<i8', [2, 8, 8], new BigInt64Array(128).map((_, j) => BigInt(j % 64 < 5 + 20 * (j >= 64) ? 1 : 0)));
  const zf = writeNpy('good_z.npy', '<f8', [2, 1, 8, 8], new Float64Array(128).map((_, j) => (j % 64 < 8 ? 2 : -2)));
  await pick(page, [yf], [zf]);
  await shown(page, 'good_y.npy, good_z.npy');
  const good = await readouts(page);
  assertSame(good, cli(['--labels', yf, '--logits', zf]), 'good files');

  const junk = path.join(dir, 'junk.npy');
  fs.writeFileSync(junk, 'this is not numpy');
  const nan = new Float64Array(128).fill(0.5);
  nan[70] = NaN;
  const outOfRange = new Uint8Array(128);
  outOfRange[3] = 7;
  const big = path.join(dir, 'huge.npy');
  fs.closeSync(fs.openSync(big, 'w'));
  fs.truncateSync(big, 2_000_000_000); // sparse: nothing is written, and the page must not read it

  /** Sets one input (one load), waits for `message`, checks the data stayed, restores. */
  async function refused(what, input, files, message, restore, reference) {
    await page.setInputFiles(sel(input), files);
    await page.waitForFunction(
      ([id, m]) => document.querySelector(id)?.textContent.includes(m) && !document.querySelector('[data-testid="data-busy"]'),
      [sel('data-error'), message],
      LONG,
    ).catch(async (e) => {
      const shownError = await page.textContent(sel('data-error')).catch(() => '(none)');
      throw new Error(`${what}: expected '${message}', the page shows '${shownError}' (${e.message})`);
    });
    assert.equal(await page.locator(sel('data-error')).count(), 1, `${what}: one message`);
    assert.deepEqual(await readouts(page), reference, `${what}: the previous data must stay`);
    // A good load clears the message.
    await page.setInputFiles(sel(input), restore);
    await page.waitForFunction(
      (id) => !document.querySelector(id) && !document.querySelector('[data-testid="data-busy"]'),
      sel('data-error'),
      LONG,
    );
    assert.deepEqual(await readouts(page), reference, `${what}: restored`);
  }

  await refused('not a .npy file', 'data-labels', [junk], 'labels file: not a .npy file', [yf], good);
  await refused('float labels', 'data-labels', [writeNpy('float_y.npy', '<f8', [2, 8, 8], new Float64Array(128))], 'labels must be integers', [yf], good);
  await refused('labels out of range', 'data-labels', [writeNpy('y7.npy', '|u1', [2, 8, 8], outOfRange)], 'label 7 in image 0 (pixel 3) is outside {0, 1}', [yf], good);
  await refused('shape mismatch', 'data-preds', [writeNpy('z3.npy', '<f8', [3, 1, 8, 8], new Float64Array(192))], 'shape mismatch: labels are [2, 8, 8]', [zf], good);
  await refused('NaN', 'data-preds', [writeNpy('nan_z.npy', '<f8', [2, 1, 8, 8], nan)], 'logit in image 1 (channel 0, pixel 6) is NaN', [zf], good);
  await refused('integer predictions', 'data-preds', [writeNpy('int_z.npy', '|u1', [2, 1, 8, 8], new Uint8Array(128))], 'predictions must be float32 or float64', [zf], good);
  await refused('a 2 GB file', 'data-preds', [big], 'predictions file is 2000000000 bytes (2.00 GB)', [zf], good);

  // A photo given as a mask (labels only, so the PNG path is taken).
  await page.setInputFiles(sel('data-preds'), []);
  await shown(page, 'good_y.npy');
  const labelsOnly = await readouts(page);
  const photo = new Uint8Array(32 * 32).map((_, j) => (j * 37) % 256);
  await refused('a photo as a mask', 'data-labels', [writePng('photo.png', 32, 32, photo)], 'photo.png is not a mask', [yf], labelsOnly);
  await screenshot(page, 'data-error.png');
  assert.deepEqual(errors, []);
  await context.close();
});
