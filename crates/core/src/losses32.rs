//! The `f32` loss kernel: every loss value and the gradients of several losses of one batch of
//! `f32` logits, in one fused pass per image, computing in `f32` as PyTorch does for `f32`
//! input.
//!
//! For each image, in blocks of [`BLOCK`] pixels:
//! 1. softmax (or sigmoid) and log-sum-exp with the vectorised [`exp_nonpos_f32`] /
//!    [`ln_normal_f32`], the probabilities kept for this image only (in L2), and the per-class
//!    sums of [`crate::losses::ClassStats`];
//! 2. once the image's sums are known, the gradient of every requested loss, block by block
//!    (the block's probabilities stay in L1 while all the gradients are written).
//!
//! Natively the batch is split over threads (each taking the next image not yet taken, with its
//! own scratch; see [`Fused32::set_threads`]); the images are independent, so every thread count
//! gives the same bits. The code is compiled for the baseline (SSE2 natively, `simd128` in
//! WASM) and, natively on x86-64, for AVX2 and AVX-512F, chosen at run time: the same
//! operations lane by lane and the same fixed-order sums, so the same bits.
//!
//! Per-pixel arithmetic is `f32`; the per-class sums are accumulated in `f64` (8 partial sums,
//! each adding the `f32` sum of 4 elements; the pixel counts in `f32` per block, exactly), and
//! the loss values and the gradients' per-class coefficients are the `f64` closed forms the
//! reference [`crate::Evaluator`] uses (`Sums::losses`, `Sums::image_coefficients`). The `f64`
//! [`crate::Evaluator`] stays the reference (checked against PyTorch/MONAI fixtures in
//! `tests/golden.rs`); `tests/losses32.rs` checks this path against it.
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
use crate::math32::{exp_nonpos_f32, ln_1p_f32, ln_normal_f32};

/// Pixels per block of the binary (sigmoid) path: the block's temporaries stay in L1.
pub const BLOCK: usize = 256;

/// Lanes of the binary path's partial sums.
const L: usize = 8;

/// The instruction set one call runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Isa {
    /// The target's baseline: SSE2 natively, `simd128` in WASM.
    Baseline,
    /// x86-64 with AVX2 (no FMA: the same bits).
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// x86-64 with AVX-512F (no fused multiply-add is written, and Rust never contracts
    /// `a * b + c`: the same bits).
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Isa {
    /// The widest instruction set the CPU offers.
    fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Isa::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Isa::Avx2;
            }
        }
        Isa::Baseline
    }
}

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

/// One thread's scratch: one image's probabilities and labels, the per-image coefficients and
/// the partial sums.
#[derive(Debug, Clone, Default)]
struct Scratch {
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

/// The kernel with its scratch (per thread: one image's probabilities and labels), reusable
/// across calls so that a loop allocates nothing.
#[derive(Debug, Clone, Default)]
pub struct Fused32 {
    scratch: Vec<Scratch>,
    /// Threads of a call; 0: chosen per call (see [`Fused32::set_threads`]).
    threads: usize,
}

/// What one call computes, shared by its threads.
struct Job<'a> {
    z: &'a [f32],
    y: &'a [i64],
    kinds: &'a [LossKind],
    mode: Mode,
    channels: usize,
    classes: usize,
    n: usize,
    t: f32,
    use_t: bool,
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

/// Work (logits of a call) below which a call stays on one thread: starting a thread costs
/// tens of microseconds.
const THREAD_MIN_WORK: usize = 1 << 17;

impl Fused32 {
    /// A kernel with empty scratch.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of threads a call splits its batch over (natively; WASM runs on one).
    /// `0` (the default): the available parallelism, at most one per image, and one for a
    /// call of fewer than 2^17 logits. The images are independent and their sums are combined
    /// in image order, so the results are the same bits for every thread count.
    pub fn set_threads(&mut self, threads: usize) {
        self.threads = threads;
    }

    /// Every loss value (as [`crate::Evaluator::losses`]) and the gradient of each loss of
    /// `kinds` into the matching array of `grads`.
    ///
    /// Refuses what [`crate::Evaluator::new`] refuses, with the same error; also a `grads`
    /// whose length differs from `kinds`' or an array of the wrong shape, and plain log-Dice
    /// in `kinds` where some `f32` Dice coefficient is 0 (its gradient is undefined there).
    ///
    /// Natively on x86-64 with AVX2 or AVX-512 the same code runs 8 or 16 lanes wide (the
    /// same operations lane by lane and the same fixed-order sums, so the same bits as
    /// [`Fused32::run_baseline`]).
    pub fn run(
        &mut self,
        logits: ArrayView4<f32>,
        labels: ArrayView3<i64>,
        cfg: RegionConfig,
        kinds: &[LossKind],
        grads: &mut [Array4<f32>],
    ) -> Result<Losses, LossError> {
        self.run_on(Isa::detect(), logits, labels, cfg, kinds, grads)
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
        self.run_on(Isa::Baseline, logits, labels, cfg, kinds, grads)
    }

    /// [`Fused32::run`] on AVX2 (8 lanes) where the CPU has it, else on the baseline: for the
    /// test that every build gives the same bits.
    #[doc(hidden)]
    pub fn run_avx2(
        &mut self,
        logits: ArrayView4<f32>,
        labels: ArrayView3<i64>,
        cfg: RegionConfig,
        kinds: &[LossKind],
        grads: &mut [Array4<f32>],
    ) -> Result<Losses, LossError> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            return self.run_on(Isa::Avx2, logits, labels, cfg, kinds, grads);
        }
        self.run_on(Isa::Baseline, logits, labels, cfg, kinds, grads)
    }

    /// The checks, the split of the batch over threads, and the losses from the sums.
    fn run_on(
        &mut self,
        isa: Isa,
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
        let job = Job {
            z,
            y,
            kinds,
            mode,
            channels,
            classes,
            n,
            t: cfg.temp as f32,
            use_t: cfg.temp != 1.0,
        };
        let threads = self.thread_count(batch, batch * channels * n);
        if self.scratch.len() < threads {
            self.scratch.resize(threads, Scratch::default());
        }
        let result = if threads <= 1 {
            images(
                isa,
                &job,
                &mut self.scratch[0],
                &mut sums,
                0..batch,
                &mut gs,
            )
        } else {
            self.run_threads(isa, &job, &mut sums, threads, gs)
        };
        match result {
            Ok(()) => Ok(sums.losses()),
            Err(e) => Err(refusal(&logits, &labels, e)),
        }
    }

    /// The threads a call of `batch` images and `work` logits runs on.
    pub fn thread_count(&self, batch: usize, work: usize) -> usize {
        if cfg!(target_arch = "wasm32") {
            return 1;
        }
        let t = if self.threads > 0 {
            self.threads
        } else if work < THREAD_MIN_WORK {
            1
        } else {
            std::thread::available_parallelism().map_or(1, |p| p.get())
        };
        t.clamp(1, batch)
    }

    /// The batch over `threads` threads, this one included, each taking the next image not yet
    /// taken (so a thread the scheduler starts late takes fewer images, and a loaded machine is
    /// no slower than one thread); each thread has its own scratch and its own copy of the sums,
    /// and each image's sums are copied back from the thread that computed them. The images are
    /// taken in order, so the first error in image order is found, as on one thread.
    #[cfg(not(target_arch = "wasm32"))]
    fn run_threads(
        &mut self,
        isa: Isa,
        job: &Job,
        sums: &mut Sums,
        threads: usize,
        gs: Vec<&mut [f32]>,
    ) -> Result<(), Option<LossError>> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Mutex;
        type Done = Vec<(usize, Result<(), Option<LossError>>)>;
        let batch = sums.batch;
        let per = job.channels * job.n;
        // Each gradient array cut into images; image b's slices go to the thread that takes b.
        let mut per_image: Vec<Vec<&mut [f32]>> = (0..batch).map(|_| Vec::new()).collect();
        for g in gs {
            for (b, c) in g.chunks_mut(per).enumerate() {
                per_image[b].push(c);
            }
        }
        let slots: Vec<Mutex<Option<Vec<&mut [f32]>>>> =
            per_image.into_iter().map(|v| Mutex::new(Some(v))).collect();
        let next = AtomicUsize::new(0);
        let worker = |sc: &mut Scratch, s: &mut Sums| -> Done {
            let mut done = Vec::new();
            loop {
                let b = next.fetch_add(1, Ordering::Relaxed);
                if b >= batch {
                    break;
                }
                let Some(mut g) = slots[b].lock().ok().and_then(|mut v| v.take()) else {
                    break;
                };
                let r = images(isa, job, sc, s, b..b + 1, &mut g);
                let failed = r.is_err();
                done.push((b, r));
                if failed {
                    break;
                }
            }
            done
        };
        let mut local: Vec<Sums> = (0..threads).map(|_| sums.clone()).collect();
        let mut done: Vec<Done> = Vec::with_capacity(threads);
        std::thread::scope(|scope| {
            let worker = &worker;
            let mut work = self.scratch.iter_mut().zip(local.iter_mut());
            let (sc0, s0) = work.next().expect("at least one thread");
            let handles: Vec<_> = work
                .take(threads - 1)
                .map(|(sc, s)| scope.spawn(move || worker(sc, s)))
                .collect();
            done.push(worker(sc0, s0));
            for h in handles {
                done.push(h.join().unwrap_or_default());
            }
        });
        let classes = sums.classes;
        let mut results: Vec<Option<Result<(), Option<LossError>>>> =
            (0..batch).map(|_| None).collect();
        for (t, d) in done.into_iter().enumerate() {
            for (b, r) in d {
                let range = b * classes..(b + 1) * classes;
                sums.stats[range.clone()].copy_from_slice(&local[t].stats[range]);
                results[b] = Some(r);
            }
        }
        // The taken images are a prefix of the batch; an image not computed (its thread
        // stopped) comes after an error.
        for r in results {
            r.unwrap_or(Err(None))?;
        }
        Ok(())
    }

    #[cfg(target_arch = "wasm32")]
    fn run_threads(
        &mut self,
        isa: Isa,
        job: &Job,
        sums: &mut Sums,
        _threads: usize,
        mut gs: Vec<&mut [f32]>,
    ) -> Result<(), Option<LossError>> {
        let batch = sums.batch;
        images(isa, job, &mut self.scratch[0], sums, 0..batch, &mut gs)
    }
}

/// Images `range` of the batch on instruction set `isa`; `gs` are the gradients of those
/// images only. `Err(None)`: a label out of range or a logit not finite.
fn images(
    isa: Isa,
    job: &Job,
    sc: &mut Scratch,
    sums: &mut Sums,
    range: std::ops::Range<usize>,
    gs: &mut [&mut [f32]],
) -> Result<(), Option<LossError>> {
    match isa {
        Isa::Baseline => images_impl(job, sc, sums, range, gs),
        // SAFETY: `Isa::detect` found the feature on this CPU.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { images_avx2(job, sc, sums, range, gs) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { images_avx512(job, sc, sums, range, gs) },
    }
}

/// [`images_impl`] compiled with AVX2 (8 lanes); no FMA, so the results are the baseline's.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn images_avx2(
    job: &Job,
    sc: &mut Scratch,
    sums: &mut Sums,
    range: std::ops::Range<usize>,
    gs: &mut [&mut [f32]],
) -> Result<(), Option<LossError>> {
    images_impl(job, sc, sums, range, gs)
}

/// [`images_impl`] compiled with AVX-512F (16 lanes); no FMA is written and none is
/// contracted, so the results are the baseline's.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn images_avx512(
    job: &Job,
    sc: &mut Scratch,
    sums: &mut Sums,
    range: std::ops::Range<usize>,
    gs: &mut [&mut [f32]],
) -> Result<(), Option<LossError>> {
    images_impl(job, sc, sums, range, gs)
}

/// The kernel on images `range`: inlined into each instruction set's entry.
#[inline(always)]
fn images_impl(
    job: &Job,
    sc: &mut Scratch,
    sums: &mut Sums,
    range: std::ops::Range<usize>,
    gs: &mut [&mut [f32]],
) -> Result<(), Option<LossError>> {
    let Job {
        z,
        y,
        kinds,
        mode,
        channels,
        classes,
        n,
        t,
        use_t,
    } = *job;
    sc.probs.resize(channels * n, 0.0);
    sc.probs_t.resize(if use_t { channels * n } else { 0 }, 0.0);
    sc.probs_b
        .resize(if mode == Mode::Binary { n } else { 0 }, 0.0);
    sc.labels.resize(n, 0);
    sc.a64.resize(classes, 0.0);
    sc.c64.resize(classes, 0.0);
    sc.r64.resize(classes, 0.0);
    sc.coefs.resize(kinds.len(), Coefs32::default());
    let b0 = range.start;
    for b in range {
        // Labels as u32, each checked against the class count (a negative one wraps).
        // v < 0 or v ≥ classes makes v | (classes − 1 − v) negative (an OR, so it vectorises).
        let top = classes as i64 - 1;
        let mut sign = 0i64;
        for (o, &v) in sc.labels.iter_mut().zip(&y[b * n..(b + 1) * n]) {
            sign |= v | top.wrapping_sub(v);
            *o = v as u32;
        }
        if sign < 0 {
            return Err(None);
        }
        let zb = &z[b * channels * n..(b + 1) * channels * n];
        let st = &mut sums.stats[b * classes..(b + 1) * classes];
        let finite = match mode {
            Mode::Multiclass => softmax_pass(sc, zb, channels, n, t, st),
            Mode::Binary => sigmoid_pass(sc, zb, n, t, st),
        };
        if !finite {
            return Err(None);
        }
        for (q, &kind) in kinds.iter().enumerate() {
            sums.image_coefficients(kind, b, &mut sc.a64, &mut sc.c64, &mut sc.r64)
                .map_err(Some)?;
            let co = &mut sc.coefs[q];
            co.w = sums.ce_weight(kind) as f32;
            co.region = use_t && sc.r64.iter().any(|&v| v != 0.0);
            co.a.clear();
            co.c.clear();
            co.r.clear();
            if mode == Mode::Binary {
                // σ's background is 1 − s: its coefficients enter with a minus.
                let r1 = sc.r64[1] - sc.r64[0];
                co.a.push(sc.a64[1] as f32);
                co.c.push((sc.c64[1] + if use_t { 0.0 } else { r1 }) as f32);
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
                    for (c, r) in sc.c64.iter_mut().zip(&sc.r64) {
                        *c += r;
                    }
                }
                let c_mid = (0..classes).map(|j| st[j].mass * sc.c64[j]).sum::<f64>() / nf;
                let r_mid = (0..classes).map(|j| st[j].mass_t * sc.r64[j]).sum::<f64>() / nf;
                for j in 0..classes {
                    co.a.push(sc.a64[j] as f32);
                    co.c.push((sc.c64[j] - c_mid) as f32);
                    co.r.push((sc.r64[j] - r_mid) as f32);
                }
            }
        }
        let off = (b - b0) * channels * n;
        match mode {
            Mode::Multiclass => {
                for i0 in (0..n).step_by(BLOCK) {
                    let m = BLOCK.min(n - i0);
                    for (q, g) in gs.iter_mut().enumerate() {
                        let g = &mut g[off..off + channels * n];
                        softmax_grad(sc, &sc.coefs[q], channels, n, i0, m, t, g);
                    }
                }
            }
            Mode::Binary => {
                for i0 in (0..n).step_by(BLOCK) {
                    let m = BLOCK.min(n - i0);
                    for (q, g) in gs.iter_mut().enumerate() {
                        sigmoid_grad(sc, &sc.coefs[q], i0, m, t, &mut g[off..off + n]);
                    }
                }
            }
        }
    }
    Ok(())
}

/// Softmax of image `zb (K, N)` into `sc.probs` (and at temperature `t` into
/// `sc.probs_t`), and the image's per-class sums into `st`. Returns false if some logit
/// is not finite.
#[inline(always)]
fn softmax_pass(
    sc: &mut Scratch,
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
        let y = &sc.labels[i0..i0 + m];
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
            let p = &mut sc.probs[j * n + i0..j * n + i0 + m];
            for (((o, s), &v), &x) in p.iter_mut().zip(sum.iter_mut()).zip(plane(j)).zip(&*mx) {
                let e = exp_nonpos_f32(v - x);
                *o = e;
                *s += e;
            }
        }
        if use_t {
            sum_t.fill(0.0);
            for j in 0..k {
                let p = &mut sc.probs_t[j * n + i0..j * n + i0 + m];
                for (((o, s), &v), &x) in p.iter_mut().zip(sum_t.iter_mut()).zip(plane(j)).zip(&*mx)
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
            // Σ e ∈ [1, K] (the max's term is 1), or NaN from a logit that is not finite
            // (refused).
            *l = ln_normal_f32(*s);
            *s = 1.0 / *s;
        }
        for j in 0..k {
            let p = &mut sc.probs[j * n + i0..j * n + i0 + m];
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
            s.tp += sum_f64(&tps[..m]);
            s.mass += sum_f64(p);
            s.nll_true += sum_f64(&nll[..m]);
            if use_t {
                let p = &mut sc.probs_t[j * n + i0..j * n + i0 + m];
                for (o, &inv) in p.iter_mut().zip(&*sum_t) {
                    *o *= inv;
                }
                st[j].mass_t += sum_f64(p);
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

/// `Σ x` in `f64` in a fixed order (so that it vectorises): 8 lanes, each adding the `f32`
/// sum of 4 elements (3 roundings, each relative to that small sum) converted to `f64`, so the
/// sums the Dice and region terms divide by keep the accuracy of the probabilities themselves.
#[inline(always)]
fn sum_f64(x: &[f32]) -> f64 {
    // Two halves of 4 lanes each (one f32x4 → f64x4 conversion per half vectorises well).
    let (mut lo, mut hi) = ([0f64; 4], [0f64; 4]);
    let c = x.chunks_exact(4 * L);
    let r = c.remainder();
    for ch in c {
        let ch: &[f32; 4 * L] = ch.try_into().expect("32 elements");
        let mut g = [0f32; L];
        for l in 0..L {
            g[l] = (ch[l] + ch[l + L]) + (ch[l + 2 * L] + ch[l + 3 * L]);
        }
        for l in 0..4 {
            lo[l] += g[l] as f64;
            hi[l] += g[l + 4] as f64;
        }
    }
    let mut tail = 0.0;
    for &v in r {
        tail += v as f64;
    }
    ((lo[0] + hi[0]) + (lo[1] + hi[1])) + ((lo[2] + hi[2]) + (lo[3] + hi[3])) + tail
}

/// Sigmoid of image `zb (N)` into `sc.probs` (and at temperature `t` into `sc.probs_t`), and
/// the sums of background (`st[0]`) and foreground (`st[1]`). Returns false if some logit is
/// not finite.
#[inline(always)]
fn sigmoid_pass(sc: &mut Scratch, zb: &[f32], n: usize, t: f32, st: &mut [ClassStats]) -> bool {
    let use_t = t != 1.0;
    let mut finite = true;
    for i0 in (0..n).step_by(BLOCK) {
        let m = BLOCK.min(n - i0);
        let m8 = m - m % L;
        let zs = &zb[i0..i0 + m];
        let y = &sc.labels[i0..i0 + m];
        let p = &mut sc.probs[i0..i0 + m];
        let pb = &mut sc.probs_b[i0..i0 + m];
        // Per lane: [count, tp, mass, nll] of foreground and background, z·0.
        let mut acc = [[0f32; L]; 9];
        let one = |i: usize, l: usize, acc: &mut [[f32; L]; 9], p: &mut [f32], pb: &mut [f32]| {
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
            let pt = &mut sc.probs_t[i0..i0 + m];
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
    sc: &Scratch,
    co: &Coefs32,
    k: usize,
    n: usize,
    i0: usize,
    m: usize,
    t: f32,
    g: &mut [f32],
) {
    let y = &sc.labels[i0..i0 + m];
    let mut dot = [0f32; BLOCK];
    let dot = &mut dot[..m];
    // Σ_k s_k (c_k + [y = k] a_k), up to four classes per loop (the same order of sums);
    // 0 for CE alone, the labels read only if some a_k ≠ 0.
    let has_a = co.a.iter().any(|&v| v != 0.0);
    let has_c = co.c.iter().any(|&v| v != 0.0);
    if has_a || has_c {
        // Class j's term at one pixel, its coefficients hoisted: s (c_j + [y = j] a_j).
        #[inline(always)]
        fn term((a, c, jj): (f32, f32, u32), s: f32, yi: u32) -> f32 {
            s * (c + if yi == jj { a } else { 0.0 })
        }
        let cf = |j: usize| (co.a[j], co.c[j], j as u32);
        let pl = |j: usize| &sc.probs[j * n + i0..j * n + i0 + m];
        let mut j = 0;
        while j < k {
            match k - j {
                1 => {
                    let c0 = cf(j);
                    for ((d, &s0), &yi) in dot.iter_mut().zip(pl(j)).zip(y) {
                        *d += term(c0, s0, yi);
                    }
                    j += 1;
                }
                2 => {
                    let (c0, c1) = (cf(j), cf(j + 1));
                    for (((d, &s0), &s1), &yi) in dot.iter_mut().zip(pl(j)).zip(pl(j + 1)).zip(y) {
                        *d = (*d + term(c0, s0, yi)) + term(c1, s1, yi);
                    }
                    j += 2;
                }
                3 => {
                    let (c0, c1, c2) = (cf(j), cf(j + 1), cf(j + 2));
                    for ((((d, &s0), &s1), &s2), &yi) in dot
                        .iter_mut()
                        .zip(pl(j))
                        .zip(pl(j + 1))
                        .zip(pl(j + 2))
                        .zip(y)
                    {
                        *d = ((*d + term(c0, s0, yi)) + term(c1, s1, yi)) + term(c2, s2, yi);
                    }
                    j += 3;
                }
                _ => {
                    let (c0, c1, c2, c3) = (cf(j), cf(j + 1), cf(j + 2), cf(j + 3));
                    for (((((d, &s0), &s1), &s2), &s3), &yi) in dot
                        .iter_mut()
                        .zip(pl(j))
                        .zip(pl(j + 1))
                        .zip(pl(j + 2))
                        .zip(pl(j + 3))
                        .zip(y)
                    {
                        *d = (((*d + term(c0, s0, yi)) + term(c1, s1, yi)) + term(c2, s2, yi))
                            + term(c3, s3, yi);
                    }
                    j += 4;
                }
            }
        }
    }
    let w = co.w;
    for j in 0..k {
        let p = &sc.probs[j * n + i0..j * n + i0 + m];
        let gj = &mut g[j * n + i0..j * n + i0 + m];
        let (aj, cw, jj) = (co.a[j], co.c[j] + w, j as u32);
        if has_a || w != 0.0 {
            for (((o, &s), &d), &yi) in gj.iter_mut().zip(p).zip(&*dot).zip(y) {
                *o = s * (cw - d) + if yi == jj { aj * s - w } else { 0.0 };
            }
        } else {
            // No Dice and no CE term: the labels are not read.
            for ((o, &s), &d) in gj.iter_mut().zip(p).zip(&*dot) {
                *o = s * (cw - d);
            }
        }
    }
    if co.region {
        dot.fill(0.0);
        for j in 0..k {
            let p = &sc.probs_t[j * n + i0..j * n + i0 + m];
            let rj = co.r[j];
            for (d, &s) in dot.iter_mut().zip(p) {
                *d += s * rj;
            }
        }
        for j in 0..k {
            let p = &sc.probs_t[j * n + i0..j * n + i0 + m];
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
fn sigmoid_grad(sc: &Scratch, co: &Coefs32, i0: usize, m: usize, t: f32, g: &mut [f32]) {
    let p = &sc.probs[i0..i0 + m];
    let pb = &sc.probs_b[i0..i0 + m];
    let y = &sc.labels[i0..i0 + m];
    let gb = &mut g[i0..i0 + m];
    let (a, c, w) = (co.a[0], co.c[0], co.w);
    // s − y is −(1 − s) for y = 1: read 1 − s, not computed from s.
    for (((o, &s), &sb), &yi) in gb.iter_mut().zip(p).zip(pb).zip(y) {
        let fg = yi == 1;
        *o = w * (if fg { -sb } else { s }) + s * sb * (if fg { a + c } else { c });
    }
    if co.region {
        let tr = t * co.r[0];
        for (o, &d) in gb.iter_mut().zip(&sc.probs_t[i0..i0 + m]) {
            *o += tr * d;
        }
    }
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
