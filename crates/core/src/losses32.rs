//! The `f32` loss kernel: every loss value and the gradients of several losses of one batch of
//! `f32` logits, in one fused pass per image, computing in `f32` as PyTorch does for `f32`
//! input.
//!
//! For each image, in blocks of [`BLOCK`] pixels:
//! 1. softmax (or sigmoid) and log-sum-exp with the vectorised [`exp_nonpos_f32`] / [`ln_f32`], the
//!    probabilities kept for this image only, and the per-class sums of
//!    [`crate::losses::ClassStats`];
//! 2. once the image's sums are known, the gradient of every requested loss, block by block
//!    (the block's probabilities stay in L1 while all the gradients are written).
//!
//! Per-pixel arithmetic is `f32`; the per-class sums are accumulated in `f64` (8 partial sums;
//! the pixel counts in `f32` per block, exactly), and the loss values and the gradients'
//! per-class coefficients are the `f64` closed forms the reference [`crate::Evaluator`] uses
//! (`Sums::losses`, `Sums::image_coefficients`). The `f64` [`crate::Evaluator`] stays the
//! reference (checked against PyTorch/MONAI fixtures in `tests/golden.rs`); `tests/losses32.rs`
//! checks this path against it.
//!
//! Differences from the `f64` path, all from `f32` range and rounding: a probability below
//! `1.2e-38` is 0 (so plain log-Dice can be undefined here where it is not in `f64`, and the
//! plain Dice of a class absent from the labels and predicted below that is 1, both empty,
//! where `f64` gives 0); logits that differ by more than `f32::MAX` give an infinite CE.

// Index loops over 8-lane chunks read several arrays at once; that is the clearest way to
// write them, and they compile to straight-line code.
#![allow(clippy::needless_range_loop)]

use ndarray::{Array4, ArrayView3, ArrayView4};

use crate::error::LossError;
use crate::losses::{
    check_dims, first_non_finite, validate_shapes, ClassStats, LossKind, Losses, Mode,
    RegionConfig, Sums,
};
use crate::math32::{exp_nonpos_f32, ln_1p_f32, ln_f32};

/// Pixels per block: the block's temporaries stay in L1.
pub const BLOCK: usize = 256;

/// Lanes of the partial sums.
const L: usize = 8;

/// One loss's gradient coefficients for the current image, in `f32`: `a`, `c` (Dice, with
/// the region term merged in at `T = 1`), `r` (region term at `T ≠ 1`), and the CE weight.
#[derive(Debug, Clone, Default)]
struct Coefs32 {
    a: Vec<f32>,
    c: Vec<f32>,
    r: Vec<f32>,
    w: f32,
    region: bool,
}

/// The kernel with its scratch (one image's probabilities and labels), reusable across calls
/// so that a loop allocates nothing.
#[derive(Debug, Clone, Default)]
pub struct Fused32 {
    probs: Vec<f32>,
    probs_t: Vec<f32>,
    /// Binary mode: `1 − σ(z)` and `σ(Tz)(1 − σ(Tz))`, each without cancellation.
    probs_b: Vec<f32>,
    labels: Vec<u32>,
    a64: Vec<f64>,
    c64: Vec<f64>,
    r64: Vec<f64>,
    coefs: Vec<Coefs32>,
}

/// Every loss value of `logits (B, K, H, W)` and `labels (B, H, W)`, and the gradient of
/// `kinds[q]` with respect to the logits into `grads[q]` (each `(B, K, H, W)`), in `f32`.
/// See [`Fused32::run`].
pub fn losses_and_gradients_f32(
    logits: ArrayView4<f32>,
    labels: ArrayView3<i64>,
    cfg: RegionConfig,
    kinds: &[LossKind],
    grads: &mut [Array4<f32>],
) -> Result<Losses, LossError> {
    Fused32::default().run(logits, labels, cfg, kinds, grads)
}

impl Fused32 {
    /// A kernel with empty scratch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every loss value (as [`crate::Evaluator::losses`]) and the gradient of each loss of
    /// `kinds` into the matching array of `grads`.
    ///
    /// Refuses what [`crate::Evaluator::new`] refuses, with the same error; also a `grads`
    /// whose length differs from `kinds`' or an array of the wrong shape, and plain log-Dice
    /// in `kinds` where some `f32` Dice coefficient is 0 (its gradient is undefined there).
    ///
    /// Natively on x86-64 with AVX2 the same code runs 8 lanes wide (the same operations lane
    /// by lane and the same fixed-order sums, so the same bits as [`Fused32::run_baseline`]).
    pub fn run(
        &mut self,
        logits: ArrayView4<f32>,
        labels: ArrayView3<i64>,
        cfg: RegionConfig,
        kinds: &[LossKind],
        grads: &mut [Array4<f32>],
    ) -> Result<Losses, LossError> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            return unsafe { self.run_avx2(logits, labels, cfg, kinds, grads) };
        }
        self.run_impl(logits, labels, cfg, kinds, grads)
    }

    /// [`Fused32::run`] compiled for the target's baseline (SSE2 natively, `simd128` in WASM),
    /// whatever the CPU offers.
    pub fn run_baseline(
        &mut self,
        logits: ArrayView4<f32>,
        labels: ArrayView3<i64>,
        cfg: RegionConfig,
        kinds: &[LossKind],
        grads: &mut [Array4<f32>],
    ) -> Result<Losses, LossError> {
        self.run_impl(logits, labels, cfg, kinds, grads)
    }

    /// [`Fused32::run_impl`] compiled with AVX2 (8 lanes); no FMA, so the results are those of
    /// the baseline build.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn run_avx2(
        &mut self,
        logits: ArrayView4<f32>,
        labels: ArrayView3<i64>,
        cfg: RegionConfig,
        kinds: &[LossKind],
        grads: &mut [Array4<f32>],
    ) -> Result<Losses, LossError> {
        self.run_impl(logits, labels, cfg, kinds, grads)
    }

    /// The kernel; inlined into [`Fused32::run_baseline`] and [`Fused32::run_avx2`] so that
    /// each compiles it for its own instruction set.
    #[inline(always)]
    fn run_impl(
        &mut self,
        logits: ArrayView4<f32>,
        labels: ArrayView3<i64>,
        cfg: RegionConfig,
        kinds: &[LossKind],
        grads: &mut [Array4<f32>],
    ) -> Result<Losses, LossError> {
        cfg.validate()?;
        let mode = check_dims(logits.dim(), labels.dim())?;
        let (batch, channels, height, width) = logits.dim();
        if grads.len() != kinds.len() {
            return Err(LossError::Undefined(format!(
                "{} gradient arrays for {} losses",
                grads.len(),
                kinds.len()
            )));
        }
        let mut gs: Vec<&mut [f32]> = Vec::with_capacity(grads.len());
        for g in grads.iter_mut() {
            if g.dim() != logits.dim() {
                return Err(LossError::Undefined(format!(
                    "gradient buffer has shape {:?}, expected {:?}",
                    g.dim(),
                    logits.dim()
                )));
            }
            gs.push(
                g.as_slice_mut().ok_or_else(|| {
                    LossError::Undefined("gradient buffer is not contiguous".into())
                })?,
            );
        }
        let n = height * width;
        let classes = if mode == Mode::Binary { 2 } else { channels };
        let zstd = logits.as_standard_layout();
        let z = zstd
            .as_slice()
            .expect("a standard-layout array is contiguous");
        let ystd = labels.as_standard_layout();
        let y = ystd
            .as_slice()
            .expect("a standard-layout array is contiguous");
        let mut sums = Sums {
            mode,
            batch,
            channels,
            classes,
            height,
            width,
            stats: vec![ClassStats::default(); batch * classes],
            cfg,
        };
        let use_t = cfg.temp != 1.0;
        self.probs.resize(channels * n, 0.0);
        self.probs_t
            .resize(if use_t { channels * n } else { 0 }, 0.0);
        self.probs_b
            .resize(if mode == Mode::Binary { n } else { 0 }, 0.0);
        self.labels.resize(n, 0);
        self.a64.resize(classes, 0.0);
        self.c64.resize(classes, 0.0);
        self.r64.resize(classes, 0.0);
        self.coefs.resize(kinds.len(), Coefs32::default());
        for b in 0..batch {
            // Labels as u32, each checked against the class count (a negative one wraps).
            let mut bad = false;
            for (o, &v) in self.labels.iter_mut().zip(&y[b * n..(b + 1) * n]) {
                bad |= (v as u64) >= classes as u64;
                *o = v as u32;
            }
            if bad {
                return Err(refusal(&logits, &labels, None));
            }
            let zb = &z[b * channels * n..(b + 1) * channels * n];
            let st = &mut sums.stats[b * classes..(b + 1) * classes];
            let finite = match mode {
                Mode::Multiclass => self.softmax_pass(zb, channels, n, cfg.temp as f32, st),
                Mode::Binary => self.sigmoid_pass(zb, n, cfg.temp as f32, st),
            };
            if !finite {
                return Err(refusal(&logits, &labels, None));
            }
            for (q, &kind) in kinds.iter().enumerate() {
                if let Err(e) =
                    sums.image_coefficients(kind, b, &mut self.a64, &mut self.c64, &mut self.r64)
                {
                    return Err(refusal(&logits, &labels, Some(e)));
                }
                let co = &mut self.coefs[q];
                co.w = sums.ce_weight(kind) as f32;
                co.region = use_t && self.r64.iter().any(|&v| v != 0.0);
                co.a.clear();
                co.c.clear();
                co.r.clear();
                if mode == Mode::Binary {
                    // σ's background is 1 − s: its coefficients enter with a minus.
                    let r1 = self.r64[1] - self.r64[0];
                    co.a.push(self.a64[1] as f32);
                    co.c.push((self.c64[1] + if use_t { 0.0 } else { r1 }) as f32);
                    co.r.push(r1 as f32);
                } else {
                    // The softmax gradient is unchanged by a constant added to every c_j (or
                    // r_j), since Σ_k s_k = 1. Subtract, in f64, their average Σ_k ŝ_k c_k
                    // (the image mean of Σ_k s_k c_k): the f32 coefficients then keep the
                    // differences that matter (KL's r_j are all ≈ −λ/(BN) where ŝ ≈ u, and
                    // huge for a class predicted nowhere).
                    let st = sums.stats(b);
                    let nf = n as f64;
                    if !use_t {
                        for (c, r) in self.c64.iter_mut().zip(&self.r64) {
                            *c += r;
                        }
                    }
                    let c_mid = (0..classes).map(|j| st[j].mass * self.c64[j]).sum::<f64>() / nf;
                    let r_mid = (0..classes)
                        .map(|j| st[j].mass_t * self.r64[j])
                        .sum::<f64>()
                        / nf;
                    for j in 0..classes {
                        co.a.push(self.a64[j] as f32);
                        co.c.push((self.c64[j] - c_mid) as f32);
                        co.r.push((self.r64[j] - r_mid) as f32);
                    }
                }
            }
            let off = b * channels * n;
            let t = cfg.temp as f32;
            for i0 in (0..n).step_by(BLOCK) {
                let m = BLOCK.min(n - i0);
                for (q, g) in gs.iter_mut().enumerate() {
                    let g = &mut g[off..off + channels * n];
                    match mode {
                        Mode::Multiclass => {
                            self.softmax_grad(&self.coefs[q], channels, n, i0, m, t, g)
                        }
                        Mode::Binary => self.sigmoid_grad(&self.coefs[q], i0, m, t, g),
                    }
                }
            }
        }
        Ok(sums.losses())
    }

    /// Softmax of image `zb (K, N)` into `self.probs` (and at temperature `t` into
    /// `self.probs_t`), and the image's per-class sums into `st`. Returns false if some logit
    /// is not finite.
    #[inline(always)]
    fn softmax_pass(
        &mut self,
        zb: &[f32],
        k: usize,
        n: usize,
        t: f32,
        st: &mut [ClassStats],
    ) -> bool {
        let use_t = t != 1.0;
        let mut mx = [0f32; BLOCK];
        let mut sum = [0f32; BLOCK];
        let mut sum_t = [0f32; BLOCK];
        let mut lns = [0f32; BLOCK];
        let mut chk = [0f32; BLOCK];
        let (mut hit, mut tps, mut nll) = ([0f32; BLOCK], [0f32; BLOCK], [0f32; BLOCK]);
        let mut finite = true;
        for i0 in (0..n).step_by(BLOCK) {
            let m = BLOCK.min(n - i0);
            let (mx, sum, sum_t, lns, chk) = (
                &mut mx[..m],
                &mut sum[..m],
                &mut sum_t[..m],
                &mut lns[..m],
                &mut chk[..m],
            );
            let plane = |j: usize| &zb[j * n + i0..j * n + i0 + m];
            let y = &self.labels[i0..i0 + m];
            // The max over classes (a select, so it vectorises), and z·0, NaN where z is not
            // finite.
            for ((o, c), &v) in mx.iter_mut().zip(chk.iter_mut()).zip(plane(0)) {
                *o = v;
                *c = v * 0.0;
            }
            for j in 1..k {
                for ((o, c), &v) in mx.iter_mut().zip(chk.iter_mut()).zip(plane(j)) {
                    *o = if v > *o { v } else { *o };
                    *c += v * 0.0;
                }
            }
            finite &= !sum8(chk).is_nan();
            sum.fill(0.0);
            for j in 0..k {
                let p = &mut self.probs[j * n + i0..j * n + i0 + m];
                for (((o, s), &v), &x) in p.iter_mut().zip(sum.iter_mut()).zip(plane(j)).zip(&*mx) {
                    let e = exp_nonpos_f32(v - x);
                    *o = e;
                    *s += e;
                }
            }
            if use_t {
                sum_t.fill(0.0);
                for j in 0..k {
                    let p = &mut self.probs_t[j * n + i0..j * n + i0 + m];
                    for (((o, s), &v), &x) in
                        p.iter_mut().zip(sum_t.iter_mut()).zip(plane(j)).zip(&*mx)
                    {
                        let e = exp_nonpos_f32(t * (v - x));
                        *o = e;
                        *s += e;
                    }
                }
                for s in sum_t.iter_mut() {
                    *s = 1.0 / *s;
                }
            }
            // log Σ e (the log-sum-exp minus the max), then 1 / Σ e.
            for (l, s) in lns.iter_mut().zip(sum.iter_mut()) {
                *l = ln_f32(*s);
                *s = 1.0 / *s;
            }
            for j in 0..k {
                let p = &mut self.probs[j * n + i0..j * n + i0 + m];
                let jj = j as u32;
                // Per pixel: s_j, and [y = j], s_j and −log s_j where y = j (else 0); then
                // the four sums.
                for (((((((o, &v), &x), &l), &inv), &yi), h), (tp, nl)) in p
                    .iter_mut()
                    .zip(plane(j))
                    .zip(&*mx)
                    .zip(&*lns)
                    .zip(&*sum)
                    .zip(y)
                    .zip(hit.iter_mut())
                    .zip(tps.iter_mut().zip(nll.iter_mut()))
                {
                    let s = *o * inv;
                    *o = s;
                    let on = yi == jj;
                    *h = if on { 1.0 } else { 0.0 };
                    *tp = if on { s } else { 0.0 };
                    *nl = if on { l - (v - x) } else { 0.0 };
                }
                let s = &mut st[j];
                s.count += sum8(&hit[..m]) as f64;
                s.tp += sum8_f64(&tps[..m]);
                s.mass += sum8_f64(p);
                s.nll_true += sum8_f64(&nll[..m]);
                if use_t {
                    let p = &mut self.probs_t[j * n + i0..j * n + i0 + m];
                    for (o, &inv) in p.iter_mut().zip(&*sum_t) {
                        *o *= inv;
                    }
                    st[j].mass_t += sum8_f64(p);
                }
            }
        }
        if !use_t {
            for s in st.iter_mut() {
                s.mass_t = s.mass;
            }
        }
        finite
    }

    /// Sigmoid of image `zb (N)` into `self.probs` (and at temperature `t` into
    /// `self.probs_t`), and the sums of background (`st[0]`) and foreground (`st[1]`).
    /// Returns false if some logit is not finite.
    #[inline(always)]
    fn sigmoid_pass(&mut self, zb: &[f32], n: usize, t: f32, st: &mut [ClassStats]) -> bool {
        let use_t = t != 1.0;
        let mut finite = true;
        for i0 in (0..n).step_by(BLOCK) {
            let m = BLOCK.min(n - i0);
            let m8 = m - m % L;
            let zs = &zb[i0..i0 + m];
            let y = &self.labels[i0..i0 + m];
            let p = &mut self.probs[i0..i0 + m];
            let pb = &mut self.probs_b[i0..i0 + m];
            // Per lane: [count, tp, mass, nll] of foreground and background, z·0.
            let mut acc = [[0f32; L]; 9];
            let one =
                |i: usize, l: usize, acc: &mut [[f32; L]; 9], p: &mut [f32], pb: &mut [f32]| {
                    let z = zs[i];
                    let e = exp_nonpos_f32(-z.abs());
                    let inv = 1.0 / (1.0 + e);
                    let pos = z >= 0.0;
                    let s = if pos { inv } else { e * inv };
                    let sb = if pos { e * inv } else { inv };
                    let lp = ln_1p_f32(e);
                    p[i] = s;
                    pb[i] = sb;
                    let fg = y[i] == 1;
                    acc[0][l] += if fg { 1.0 } else { 0.0 };
                    acc[1][l] += if fg { s } else { 0.0 };
                    acc[2][l] += s;
                    acc[3][l] += if fg { lp + (-z).max(0.0) } else { 0.0 };
                    acc[4][l] += if fg { 0.0 } else { 1.0 };
                    acc[5][l] += if fg { 0.0 } else { sb };
                    acc[6][l] += sb;
                    acc[7][l] += if fg { 0.0 } else { lp + z.max(0.0) };
                    acc[8][l] += z * 0.0;
                };
            for c in (0..m8).step_by(L) {
                for l in 0..L {
                    one(c + l, l, &mut acc, p, pb);
                }
            }
            for i in m8..m {
                one(i, 0, &mut acc, p, pb);
            }
            finite &= !hsum(&acc[8]).is_nan();
            for (cls, base) in [(1, 0), (0, 4)] {
                st[cls].count += hsum(&acc[base]);
                st[cls].tp += hsum(&acc[base + 1]);
                st[cls].mass += hsum(&acc[base + 2]);
                st[cls].nll_true += hsum(&acc[base + 3]);
            }
            if use_t {
                let pt = &mut self.probs_t[i0..i0 + m];
                let (mut fg, mut bg) = ([0f32; L], [0f32; L]);
                for (i, o) in pt.iter_mut().enumerate() {
                    let z = t * zs[i];
                    let e = exp_nonpos_f32(-z.abs());
                    let inv = 1.0 / (1.0 + e);
                    let pos = z >= 0.0;
                    let s = if pos { inv } else { e * inv };
                    let sb = if pos { e * inv } else { inv };
                    // σ(Tz)(1 − σ(Tz)), the only use of σ(Tz) in the gradient.
                    *o = s * sb;
                    fg[i % L] += s;
                    bg[i % L] += sb;
                }
                st[1].mass_t += hsum(&fg);
                st[0].mass_t += hsum(&bg);
            }
        }
        if !use_t {
            for s in st.iter_mut() {
                s.mass_t = s.mass;
            }
        }
        finite
    }

    /// One block `[i0, i0 + m)` of one loss's softmax gradient into `g (K, N)`:
    /// `∂L/∂z_j = s_j (c_j + w − Σ_k s_k (c_k + [y = k] a_k)) + [y = j](a_j s_j − w)
    ///  + T s^T_j (r_j − Σ_k s^T_k r_k)`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn softmax_grad(
        &self,
        co: &Coefs32,
        k: usize,
        n: usize,
        i0: usize,
        m: usize,
        t: f32,
        g: &mut [f32],
    ) {
        let y = &self.labels[i0..i0 + m];
        let mut dot = [0f32; BLOCK];
        let dot = &mut dot[..m];
        // The same formula with the terms that are 0 for this loss left out (no Dice: a = 0;
        // no CE: w = 0; CE alone: c = 0): the labels are read only where they matter.
        let has_a = co.a.iter().any(|&v| v != 0.0);
        let has_c = co.c.iter().any(|&v| v != 0.0);
        let w = co.w;
        if has_a {
            for j in 0..k {
                let p = &self.probs[j * n + i0..j * n + i0 + m];
                let (aj, cj, jj) = (co.a[j], co.c[j], j as u32);
                for ((d, &s), &yi) in dot.iter_mut().zip(p).zip(y) {
                    *d += s * (cj + if yi == jj { aj } else { 0.0 });
                }
            }
        } else if has_c {
            for j in 0..k {
                let p = &self.probs[j * n + i0..j * n + i0 + m];
                let cj = co.c[j];
                for (d, &s) in dot.iter_mut().zip(p) {
                    *d += s * cj;
                }
            }
        }
        for j in 0..k {
            let p = &self.probs[j * n + i0..j * n + i0 + m];
            let gj = &mut g[j * n + i0..j * n + i0 + m];
            let (aj, cw, jj) = (co.a[j], co.c[j] + w, j as u32);
            if has_a || w != 0.0 {
                for (((o, &s), &d), &yi) in gj.iter_mut().zip(p).zip(&*dot).zip(y) {
                    *o = s * (cw - d) + if yi == jj { aj * s - w } else { 0.0 };
                }
            } else {
                for ((o, &s), &d) in gj.iter_mut().zip(p).zip(&*dot) {
                    *o = s * (cw - d);
                }
            }
        }
        if co.region {
            dot.fill(0.0);
            for j in 0..k {
                let p = &self.probs_t[j * n + i0..j * n + i0 + m];
                let rj = co.r[j];
                for (d, &s) in dot.iter_mut().zip(p) {
                    *d += s * rj;
                }
            }
            for j in 0..k {
                let p = &self.probs_t[j * n + i0..j * n + i0 + m];
                let gj = &mut g[j * n + i0..j * n + i0 + m];
                let rj = co.r[j];
                for ((o, &s), &d) in gj.iter_mut().zip(p).zip(&*dot) {
                    *o += t * s * (rj - d);
                }
            }
        }
    }

    /// One block of one loss's sigmoid gradient into `g (N)`:
    /// `∂L/∂z = w (s − y) + s(1 − s)(a y + c) + T s^T(1 − s^T) r`.
    #[inline(always)]
    fn sigmoid_grad(&self, co: &Coefs32, i0: usize, m: usize, t: f32, g: &mut [f32]) {
        let p = &self.probs[i0..i0 + m];
        let pb = &self.probs_b[i0..i0 + m];
        let y = &self.labels[i0..i0 + m];
        let gb = &mut g[i0..i0 + m];
        let (a, c, w) = (co.a[0], co.c[0], co.w);
        // s − y is −(1 − s) for y = 1: read 1 − s, not computed from s.
        for (((o, &s), &sb), &yi) in gb.iter_mut().zip(p).zip(pb).zip(y) {
            let fg = yi == 1;
            *o = w * (if fg { -sb } else { s }) + s * sb * (if fg { a + c } else { c });
        }
        if co.region {
            let tr = t * co.r[0];
            for (o, &d) in gb.iter_mut().zip(&self.probs_t[i0..i0 + m]) {
                *o += tr * d;
            }
        }
    }
}

/// `Σ x` in `f32` with 8 partial sums in a fixed order (so that it vectorises).
#[inline(always)]
fn sum8(x: &[f32]) -> f32 {
    let mut acc = [0f32; L];
    let c = x.chunks_exact(L);
    let r = c.remainder();
    for ch in c {
        let ch: &[f32; L] = ch.try_into().expect("8 lanes");
        for l in 0..L {
            acc[l] += ch[l];
        }
    }
    let mut tail = 0.0;
    for &v in r {
        tail += v;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// `Σ x` in `f64` with 8 partial sums in a fixed order (so that it vectorises): the sums the
/// Dice and region terms divide by keep the accuracy of the probabilities themselves.
#[inline(always)]
fn sum8_f64(x: &[f32]) -> f64 {
    // Two halves of 4 lanes each (one f32x4 → f64x4 conversion per half vectorises well).
    let (mut lo, mut hi) = ([0f64; 4], [0f64; 4]);
    let c = x.chunks_exact(L);
    let r = c.remainder();
    for ch in c {
        let ch: &[f32; L] = ch.try_into().expect("8 lanes");
        for l in 0..4 {
            lo[l] += ch[l] as f64;
            hi[l] += ch[l + 4] as f64;
        }
    }
    let mut tail = 0.0;
    for &v in r {
        tail += v as f64;
    }
    ((lo[0] + hi[0]) + (lo[1] + hi[1])) + ((lo[2] + hi[2]) + (lo[3] + hi[3])) + tail
}

/// The fixed-order sum of 8 lanes, in `f64`.
#[inline(always)]
fn hsum(a: &[f32; L]) -> f64 {
    a.iter().map(|&v| v as f64).sum()
}

/// The error [`crate::Evaluator::new`] would give for this input (labels first, then logits),
/// or `otherwise` if it accepts it (or a generic one).
fn refusal(
    logits: &ArrayView4<f32>,
    labels: &ArrayView3<i64>,
    otherwise: Option<LossError>,
) -> LossError {
    if let Err(e) = validate_shapes(logits, labels) {
        return e;
    }
    if logits.iter().any(|v| !v.is_finite()) {
        return first_non_finite(logits);
    }
    otherwise.unwrap_or_else(|| LossError::Undefined("refused input".into()))
}
