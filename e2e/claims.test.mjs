// Browser tests of the generated captions ("teaching fidelity"): at 30 random URL states (fixed
// seed), every number the family and region-terms captions print equals the page's readouts,
// the captions equal `dicelens explain` at the same keys, and the tour's family step quotes the
// same ratios as the family view's readouts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startServer, launch, openPage, root, tourStep, appViews } from './lib.mjs';

let srv;
let browser;
before(async () => {
  srv = await startServer();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await srv?.close();
});

const bin = path.join(root, 'target', 'debug', 'dicelens');
/** The view's generated sentences, from the native CLI, joined as the app's paragraph. */
const explain = (view, keys) => {
  const args = Object.entries(keys).flatMap(([k, v]) => [`--${k}`, v]);
  const out = JSON.parse(execFileSync(bin, ['explain', '--view', view, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }).toString());
  assert.equal(out.view, view);
  return out.sentences.filter((s) => s !== '').join(' ');
};

/** splitmix64, as the native sweep tests use: uniform numbers in [0, 1). */
function splitmix64(seed) {
  const M = (1n << 64n) - 1n;
  let s = BigInt(seed) & M;
  return () => {
    s = (s + 0x9e3779b97f4a7c15n) & M;
    let z = s;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
    z ^= z >> 31n;
    return Number(z >> 11n) / 2 ** 53;
  };
}

/** 4 significant digits (the app writes URLs at that precision), as the URL string. */
const sig4 = (v) => String(Number(v.toPrecision(4)));
const clampStr = (v, lo, hi) => sig4(Math.min(hi, Math.max(lo, v)));

/** The random states: u log-uniform, T in {1, 10, uniform}, the others uniform. */
function states(n, seed) {
  const r = splitmix64(seed);
  const out = [];
  for (let i = 0; i < n; i++) {
    const u = clampStr(Math.exp(Math.log(0.001) + r() * (Math.log(0.999) - Math.log(0.001))), 0.001, 0.999);
    const kappa = clampStr(5 * r(), 0, 5);
    const sigma = clampStr(0.05 + 3.95 * r(), 0.05, 4);
    const lambda = clampStr(10 * r(), 0, 10);
    const pick = r();
    const T = pick < 1 / 3 ? '1' : pick < 2 / 3 ? '10' : clampStr(0.1 + 19.9 * r(), 0.1, 20);
    const s = clampStr(0.001 + 0.998 * r(), 0.001, 0.999);
    out.push({ u, kappa, sigma, lambda, T, s });
  }
  return out;
}

// The app's number formats for prose (crates/core/src/claims/mod.rs: fmt_prop, fmt_param).
const fmtProp = (v) => (v === 0 || v === 1 ? v.toFixed(0) : v < 0.01 ? v.toFixed(4) : v.toFixed(3));
const trimZeros = (s) => s.replace(/0+$/, '').replace(/\.$/, '');
/** A parameter as `fmt_param` prints it: 3 decimals at most, two significant digits below 0.0005. */
const fmtParam = (v) => {
  const s = trimZeros(v.toFixed(3));
  return (s === '0' || s === '-0') && v !== 0 ? trimZeros(v.toFixed(Math.min(100, Math.ceil(-Math.log10(Math.abs(v))) + 1))) : s;
};

/** The sentence fragments that print the state's parameters in the family caption. */
function familyParamFragments(st) {
  const [u, k, s, l, t] = [st.u, st.kappa, st.sigma, st.lambda, st.T].map(Number);
  const out = [`At u = ${fmtProp(u)}, `, `At κ = ${fmtParam(k)}, σ = ${fmtParam(s)}: `];
  if (t === 1) out.push(`At T = ${fmtParam(t)} (λ = ${fmtParam(l)}) the region term reads`);
  else if (l === 0) out.push(`With λ = ${fmtParam(l)} the region term is off`);
  else out.push(`At T = ${fmtParam(t)} (λ = ${fmtParam(l)})`);
  return out;
}

const LOSS = {
  CE: 'ce',
  'CE+L1': 'ce-l1',
  'CE+KL': 'ce-kl',
  'foreground-only Dice': 'dice-fg',
  'two-class mean Dice (background included)': 'dice-mean',
};
const PHRASE = { 'sits at the truth u': 'at', 'over-estimates u': 'over', 'under-estimates u': 'under' };
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const CLAUSE = new RegExp(
  `(${Object.keys(LOSS).sort((a, b) => b.length - a.length).map(esc).join('|')}) (${Object.keys(PHRASE).map(esc).join('|')}) \\(([^)×]*)×\\)`,
  'g',
);
/** The side a ratio lies on, as crates/core/src/claims/mod.rs decides it (AT_U_TOL = 1e-3). */
const sideOf = (r) => (Math.abs(r - 1) < 1e-3 ? 'at' : r > 1 ? 'over' : 'under');
/** A ratio as `fmt_ratio` prints it: a third decimal where two would print 1.00 off the "at u" band, two significant digits below 0.005. */
const fmtRatio = (r) => {
  if (r.toFixed(2) === '1.00' && sideOf(r) !== 'at') return r.toFixed(3);
  if (r.toFixed(2) === '0.00' && r > 0) return r.toFixed(Math.min(10, Math.ceil(-Math.log10(r)) + 1));
  return r.toFixed(2);
};

/**
 * Checks every "<loss> <side> (<ratio>×)" clause of `text` against the readouts, and returns
 * the text with the checked clauses cut out and the loss keys seen.
 */
function checkClauses(text, ratios, where) {
  const seen = [];
  const rest = text.replace(CLAUSE, (_, name, phrase, shown) => {
    const key = LOSS[name];
    const r = ratios[key];
    assert.ok(Number.isFinite(r), `${where}: readout ratio-${key} is ${r}`);
    assert.equal(shown, fmtRatio(r), `${where}: "${name} … (${shown}×)" vs readout ratio-${key} = ${r}`);
    assert.equal(PHRASE[phrase], sideOf(r), `${where}: "${name} ${phrase}" vs readout ratio-${key} = ${r}`);
    seen.push(key);
    return '‹clause›';
  });
  return { rest, seen };
}

/** Cuts out the typed constants a caption may print; anything numeric left over is unchecked. */
function assertNoOtherNumbers(rest, constants, where) {
  for (const c of constants) rest = rest.split(c).join('‹const›');
  assert.doesNotMatch(rest, /\d/, `${where}: a number the test does not check: "${rest}"`);
}

/** Every readout and caption the checks need, read in one task (so all from one render). */
const snapshot = (page) =>
  page.evaluate((keys) => {
    const q = (id) => document.querySelector(`[data-testid="${id}"]`);
    const ratios = {};
    for (const k of keys) ratios[k] = Number(q(`ratio-${k}`)?.dataset.value);
    return {
      pass: q('family-optima')?.dataset.pass,
      ratios,
      family: q('caption-family')?.textContent ?? null,
      region: q('caption-region-terms')?.textContent ?? null,
      regionMin: Object.fromEntries(['kl', 'dice-fg', 'dice-mean', 'l1'].map((k) => [k, Number(q(`min-${k}`)?.dataset.value)])),
      tour: q('tour-text')?.textContent ?? null,
      slider: Object.fromEntries(['u', 'kappa', 'sigma', 'lambda', 'temp', 's'].map((k) => [k, document.getElementById(`${k}-slider-num`)?.value])),
      notices: q('notices')?.textContent ?? '',
    };
  }, Object.values(LOSS));

/** Waits until the family readouts are the exact pass at `st` and the captions print `st`. */
async function settle(page, st, tour = false) {
  const want = familyParamFragments(st);
  const regionWant = `At u = ${fmtProp(Number(st.u))}, `;
  try {
    await page.waitForFunction(
      ({ want, regionWant, tour }) => {
        const q = (id) => document.querySelector(`[data-testid="${id}"]`);
        const fam = q('caption-family')?.textContent ?? '';
        return (
          q('family-optima')?.dataset.pass === 'exact' &&
          want.every((w) => fam.includes(w)) &&
          (q('caption-region-terms')?.textContent ?? '').startsWith(regionWant) &&
          (!tour || (q('tour-text')?.textContent ?? '').length > 0)
        );
      },
      { want, regionWant, tour },
      { timeout: 90000 },
    );
  } catch (e) {
    const snap = await snapshot(page);
    assert.fail(`state ${JSON.stringify(st)} did not settle (${e.message.split('\n')[0]}): expected fragments ${JSON.stringify(want)}; page: ${JSON.stringify(snap)}`);
  }
}

const query = (st) => new URLSearchParams(st).toString();
const STATES = states(30, 0x5eed_d1ce);

test('30 random states: every number in the family and region-terms captions equals the readouts and `dicelens explain`; the tour quotes the same ratios', async () => {
  const { page, context, errors } = await openPage(browser, `${srv.base}?${query(STATES[0])}`, { waitFor: '[data-testid="family-optima"]' });
  const famStep = tourStep('step_family');
  let tourChecks = 0;
  for (const [i, st] of STATES.entries()) {
    const where = `state ${i} ?${query(st)}`;
    if (i > 0) await page.goto(`${srv.base}?${query(st)}`);
    await settle(page, st);
    const snap = await snapshot(page);
    assert.equal(snap.notices, '', `${where}: no notices (the state is in range)`);

    // The region-terms caption prints u as the u control holds it.
    assert.equal(Number(snap.slider.u), Number(st.u), `${where}: u control`);
    const ur = `At u = ${fmtProp(Number(snap.slider.u))}, `;
    assert.ok(snap.region.startsWith(ur), `${where}: region caption "${snap.region}" starts with "${ur}"`);
    // Where each Dice region term is smallest: the region-terms view's minimizer readouts.
    let region = snap.region.slice(ur.length);
    for (const [phrase, key] of [['the foreground-only term at ŝ = ', 'dice-fg'], ['the two-class mean at ŝ = ', 'dice-mean']]) {
      const m = region.match(new RegExp(`${esc(phrase)}([0-9.]+) `));
      assert.ok(m, `${where}: caption-region-terms says where the ${key} region term is smallest: "${snap.region}"`);
      assert.equal(m[1], fmtProp(snap.regionMin[key]), `${where}: "${m[0]}" vs readout min-${key} = ${snap.regionMin[key]}`);
      region = region.replace(m[0], '‹min› ');
    }
    const meanAt = snap.regionMin['dice-mean'] === 0 ? '(predict no foreground)' : '(predict everything foreground)';
    assert.ok(region.includes(`‹min› ${meanAt}`), `${where}: the two-class mean's extreme is described as ${meanAt}: "${snap.region}"`);
    assertNoOtherNumbers(region, ['the L1 term'], `${where} caption-region-terms`);
    assert.equal(snap.region, explain('region-terms', st), `${where}: caption-region-terms vs dicelens explain`);

    // The family caption: each loss's side and ratio equal its readout; the parameters equal
    // the controls; no other number appears.
    const { rest, seen } = checkClauses(snap.family, snap.ratios, `${where} caption-family`);
    assert.deepEqual([...seen].sort(), Object.values(LOSS).sort(), `${where}: the caption names each of CE, CE+L1, CE+KL and both Dice once: "${snap.family}"`);
    let left = rest;
    const controls = { u: snap.slider.u, kappa: snap.slider.kappa, sigma: snap.slider.sigma, lambda: snap.slider.lambda, T: snap.slider.temp };
    for (const [k, v] of Object.entries(controls)) assert.equal(Number(v), Number(st[k]), `${where}: ${k} control`);
    for (const f of familyParamFragments(controls)) {
      assert.ok(left.includes(f), `${where}: caption-family has "${f}"`);
      left = left.replace(f, '‹param›');
    }
    assertNoOtherNumbers(left, ['log((u+ŝ)/2u)', '(ŝ = 0)', 'only at T = 1 are'], `${where} caption-family`);
    assert.equal(snap.family, explain('family', st), `${where}: caption-family vs dicelens explain`);

    // The tour's family step, at every tenth state: set the state with the typed fields while
    // the step is open (opening a step sets its own state), then compare with the readouts.
    if (i % 10 === 3) {
      await page.goto(`${srv.base}?tour=${famStep}&reveal=1`);
      await page.waitForSelector('[data-testid="tour-text"]');
      assert.equal(await page.$('[data-testid="tour-question"]'), null, 'reveal=1: no question');
      for (const [k, id] of [['u', 'u'], ['kappa', 'kappa'], ['sigma', 'sigma'], ['lambda', 'lambda'], ['T', 'temp']]) {
        await page.fill(`#${id}-slider-num`, st[k]);
        await page.press(`#${id}-slider-num`, 'Enter');
      }
      await settle(page, st, true);
      const t = await snapshot(page);
      assert.ok(await page.$eval('#family', (e) => e.classList.contains('tour-focus')), `${where}: tour step ${famStep} shows the family view`);
      const { rest: tourRest, seen: tourSeen } = checkClauses(t.tour, t.ratios, `${where} tour step ${famStep}`);
      assert.ok(tourSeen.includes('dice-fg') && tourSeen.includes('dice-mean'), `${where}: the tour names both Dice with their ratios: "${t.tour}"`);
      assertNoOtherNumbers(tourRest, ['log((u+ŝ)/2u)'], `${where} tour step ${famStep}`);
      tourChecks++;
    }
  }
  assert.equal(tourChecks, 3);
  assert.deepEqual(errors, []);
  await context.close();
});

/** Whether `dicelens explain` knows the view (the trainer has no generated caption). */
const explainable = (view) => {
  try {
    explain(view, {});
    return true;
  } catch {
    return false;
  }
};

test('every view: origin badges (paper or model), and its generated caption equals `dicelens explain` at two states', async () => {
  const views = appViews();
  const { page, context, errors } = await openPage(browser, srv.base, { waitFor: '[data-testid="family-optima"]' });
  let captions = 0;
  for (const st of [{}, STATES[7]]) {
    if (Object.keys(st).length) await page.goto(`${srv.base}?${query(st)}`);
    for (const view of views) {
      const where = `${view} at ?${query(st)}`;
      await page.locator(`#${view}`).scrollIntoViewIfNeeded();
      const origins = await page.$$eval(`#${view} [data-testid="origin"]`, (es) => es.map((e) => e.dataset.origin));
      assert.ok(origins.length >= 1, `${where}: an origin badge`);
      for (const o of origins) assert.ok(['paper', 'model'].includes(o), `${where}: data-origin="${o}"`);
      if (!explainable(view)) continue;
      const want = explain(view, st);
      const sel = `#${view} [data-testid="caption-${view}"]`;
      if (want === '') {
        const shown = await page.$(sel);
        assert.ok(!shown || (await shown.textContent()).trim() === '', `${where}: the CLI has no sentences, the page shows none`);
        continue;
      }
      // The views compute off the input's frame: wait for the caption to reach the CLI's text,
      // then compare (so a real difference fails with both texts).
      await page
        .waitForFunction(([s, w]) => document.querySelector(s)?.textContent === w, [sel, want], { timeout: 60000 })
        .catch(() => {});
      assert.equal(await page.$eval(sel, (e) => e.textContent).catch(() => null), want, `${where}: caption vs dicelens explain --view ${view}`);
      captions++;
    }
  }
  assert.ok(captions >= 12, `checked ${captions} captions`);
  assert.deepEqual(errors, []);
  await context.close();
});
