//! The workload the benchmark command times, shared by the native and the WASM benchmark so
//! that both measure exactly the same computation.

use crate::losses::{Evaluator, LossKind, RegionConfig};
use crate::losses32::Fused32;
use ndarray::{Array3, Array4};

/// Deterministic pseudo-random logits `(B, K, H, W)` in float32 and labels `(B, H, W)`.
pub fn workload(b: usize, k: usize, h: usize, w: usize) -> (Array4<f32>, Array3<i64>) {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        // splitmix64
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let logits = Array4::from_shape_simple_fn((b, k, h, w), || {
        ((next() >> 11) as f64 / (1u64 << 53) as f64 * 8.0 - 4.0) as f32
    });
    let classes = if k == 1 { 2 } else { k } as u64;
    let labels = Array3::from_shape_simple_fn((b, h, w), || (next() % classes) as i64);
    (logits, labels)
}

/// The benchmark's shape `[B, K, H, W]`: 4 images of 3 classes, 256×256.
pub const WORKLOAD: [usize; 4] = [4, 3, 256, 256];

/// The gradients of the building blocks PyTorch's reference figure times
/// (CE + Dice + L1 + KL, forward and backward).
pub const BUILDING_BLOCKS: [LossKind; 4] = [
    LossKind::Ce,
    LossKind::DiceMonai,
    LossKind::L1,
    LossKind::Kl,
];

/// One benchmark iteration: every loss value, and the gradient of each loss in `kinds`
/// into a reused buffer (as a training loop would). Returns a checksum so the work cannot
/// be optimised away.
pub fn losses_and_gradients(
    logits: &Array4<f32>,
    labels: &Array3<i64>,
    cfg: RegionConfig,
    kinds: &[LossKind],
    grad: &mut Array4<f64>,
) -> f64 {
    let Ok(ev) = Evaluator::new(logits.view(), labels.view(), cfg) else {
        return f64::NAN;
    };
    let l = ev.losses();
    let mut check = l.ce + l.dice + l.kl;
    for &kind in kinds {
        if ev.gradient_into(kind, grad).is_ok() {
            check += grad[[0, 0, 0, 0]];
        }
    }
    check
}

/// One iteration of the `f32` path: every loss value and the gradient of each loss in
/// `kinds` into its own reused array of `grads`, in one fused pass ([`Fused32::run`]).
/// Returns a checksum so the work cannot be optimised away.
pub fn losses_and_gradients_f32(
    kernel: &mut Fused32,
    logits: &Array4<f32>,
    labels: &Array3<i64>,
    cfg: RegionConfig,
    kinds: &[LossKind],
    grads: &mut [Array4<f32>],
) -> f64 {
    let Ok(l) = kernel.run(logits.view(), labels.view(), cfg, kinds, grads) else {
        return f64::NAN;
    };
    let mut check = l.ce + l.dice + l.kl;
    for g in grads.iter() {
        check += g[[0, 0, 0, 0]] as f64;
    }
    check
}

/// A fingerprint of the `f32` kernel's output on four small deterministic batches (softmax
/// at `T = 1`, at `T = 0.7` and at the authors' `T = 10` with 5 classes, and sigmoid), every
/// loss's gradient requested: per batch, the loss values (`{:?}`, which prints each `f64`
/// exactly) and an FNV-1a hash of every gradient's bits. The kernel's `f32` arithmetic is the
/// same on every platform, so the WASM build's gradients must hash to the native build's
/// (`crates/core/tests/fixtures/kernel_digest.txt`, checked natively by `tests/losses32.rs`
/// and in Chromium, Firefox and WebKit by `e2e/engines/suite.mjs`). The loss values are `f64`
/// closed forms, some through `ln`, whose last bit can differ between WASM's `libm` and glibc.
/// The images are 47×45 pixels: several blocks of 256, and a tail of less than 4 lanes.
pub fn kernel_digest() -> String {
    let cases: [(usize, RegionConfig); 4] = [
        (3, RegionConfig::default()),
        (
            3,
            RegionConfig {
                lambda: 0.5,
                temp: 0.7,
            },
        ),
        (5, RegionConfig::AUTHORS),
        (1, RegionConfig::default()),
    ];
    let mut out = String::new();
    let mut kernel = Fused32::new();
    for (k, cfg) in cases {
        let (logits, labels) = workload(2, k, 47, 45);
        let mut grads: Vec<Array4<f32>> = LossKind::ALL
            .iter()
            .map(|_| Array4::zeros(logits.dim()))
            .collect();
        let line = match kernel.run(
            logits.view(),
            labels.view(),
            cfg,
            &LossKind::ALL,
            &mut grads,
        ) {
            Ok(l) => {
                let mut h = 0xcbf2_9ce4_8422_2325u64;
                for v in grads.iter().flat_map(|g| g.iter()) {
                    for b in v.to_bits().to_le_bytes() {
                        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
                    }
                }
                format!("{l:?} gradients {h:016x}")
            }
            Err(e) => format!("refused: {e}"),
        };
        out.push_str(&format!("K = {k}, {cfg:?}: {line}\n"));
    }
    out
}

/// Times `reps` iterations of `run` after two warm-up iterations; the sorted times in
/// milliseconds (empty if a checksum was not finite).
fn time_reps(reps: usize, now: &dyn Fn() -> f64, run: &mut dyn FnMut() -> f64) -> Vec<f64> {
    let mut check = 0.0;
    for _ in 0..2 {
        check += run();
    }
    let mut times: Vec<f64> = (0..reps.max(1))
        .map(|_| {
            let t = now();
            check += run();
            now() - t
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    if !check.is_finite() {
        times.clear();
    }
    times
}

/// The threads [`time_workload_threads`] runs the kernel on with `threads` set (0: the
/// kernel's default), as the kernel chooses them.
pub fn workload_thread_count(threads: usize) -> usize {
    let [b, k, h, w] = WORKLOAD;
    let mut kernel = Fused32::new();
    kernel.set_threads(threads);
    kernel.thread_count(b, b * k * h * w)
}

/// The figure of the benchmark (native and in the browser): `reps` iterations of
/// [`losses_and_gradients_f32`] on the [`WORKLOAD`] shape's `f32` [`workload`], after two warm-up
/// iterations; the sorted times in milliseconds (empty if a checksum was not finite).
pub fn time_workload(kinds: &[LossKind], reps: usize, now: &dyn Fn() -> f64) -> Vec<f64> {
    time_workload_threads(kinds, reps, 0, now)
}

/// [`time_workload`] with the kernel's thread count set ([`Fused32::set_threads`]; 0: its
/// default, the batch split over the available cores natively, one thread in WASM).
pub fn time_workload_threads(
    kinds: &[LossKind],
    reps: usize,
    threads: usize,
    now: &dyn Fn() -> f64,
) -> Vec<f64> {
    let [b, k, h, w] = WORKLOAD;
    let (logits, labels) = workload(b, k, h, w);
    let cfg = RegionConfig::default();
    let mut grads: Vec<Array4<f32>> = kinds.iter().map(|_| Array4::zeros(logits.dim())).collect();
    let mut kernel = Fused32::new();
    kernel.set_threads(threads);
    time_reps(reps, now, &mut || {
        losses_and_gradients_f32(&mut kernel, &logits, &labels, cfg, kinds, &mut grads)
    })
}

/// The same workload through the `f64` reference path ([`losses_and_gradients`]: the
/// [`Evaluator`], one gradient after the other into one reused `f64` array).
pub fn time_workload_f64(kinds: &[LossKind], reps: usize, now: &dyn Fn() -> f64) -> Vec<f64> {
    let [b, k, h, w] = WORKLOAD;
    let (logits, labels) = workload(b, k, h, w);
    let cfg = RegionConfig::default();
    let mut grad = Array4::zeros(logits.dim());
    time_reps(reps, now, &mut || {
        losses_and_gradients(&logits, &labels, cfg, kinds, &mut grad)
    })
}

/// The landscape view's work after a slider move: two 160×160 grids (foreground Dice and CE)
/// over [`crate::landscape::DEFAULT_B_RANGE`] × [`crate::landscape::DEFAULT_LOG_T_RANGE`],
/// with 5% ambiguous pixels. Each repetition moves `u` a little, as a slider would. Returns
/// the sorted times in milliseconds after one warm-up (empty if a grid had no finite cell).
pub fn time_landscape(reps: usize, now: &dyn Fn() -> f64) -> Vec<f64> {
    use crate::family::FamilyLoss;
    use crate::landscape::{grid, LandscapeParams, DEFAULT_B_RANGE, DEFAULT_LOG_T_RANGE};
    let run = |k: usize| {
        let p = LandscapeParams {
            u: 0.1 + 0.001 * (k % 7) as f64,
            amb_a: 0.05,
            amb_p: 0.3,
            ..LandscapeParams::default()
        };
        let mut ok = true;
        for loss in [FamilyLoss::DiceFg, FamilyLoss::Ce] {
            let g = grid(loss, &p, DEFAULT_B_RANGE, DEFAULT_LOG_T_RANGE, 160, 160);
            ok &= g.min.is_finite() && g.values.len() == 160 * 160;
        }
        ok
    };
    let mut ok = run(0);
    let mut times: Vec<f64> = (0..reps.max(1))
        .map(|k| {
            let t = now();
            ok &= run(k + 1);
            now() - t
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    if !ok {
        times.clear();
    }
    times
}
