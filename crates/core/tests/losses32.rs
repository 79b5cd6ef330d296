//! The `f32` fused loss kernel (`Fused32`) against the `f64` reference `Evaluator` on random
//! batches, extremes included; a finite-difference check of its own gradients; its refusals.

mod common;

use common::Rng;
use dicelens_core::{Evaluator, Fused32, LossError, LossKind, Losses, RegionConfig};
use ndarray::{Array3, Array4};

/// Values: `|v32 − v64| ≤ REL·|v64| + ABS`.
const REL: f64 = 1e-5;
const ABS: f64 = 1e-6;
/// Gradients, element by element: `|g32 − g64| ≤ REL·|g64| + GRAD_FLOOR·max|g64|`, i.e. within
/// 1e-5 of the largest entry (max-norm relative). The floor covers what any `f32` softmax
/// backward loses: the cancellation in `s − y` where `s ≈ 1`, and probabilities that are
/// subnormal or 0 in `f32` (e.g. `softmax(10·z)` of logits 40 apart) but not in `f64`.
const GRAD_FLOOR: f64 = 1e-5;
/// And an absolute floor `GRAD_ABS / (B N)`: the gradients are differences of terms of order
/// `1/(BN)` (the CE weight), so an entry far below `eps_f32 / (BN)` (a pixel predicted right with
/// a logit margin of 25, where `1 − s ≈ e^-25`; `σ'(10 z)` for `z = 11`) is below what `f32`
/// resolves, in any implementation.
const GRAD_ABS: f64 = 1e-6;

#[derive(Debug, Clone, Copy)]
enum Regime {
    /// Logits N(0, σ²).
    Normal(f64),
    /// Every logit ±80 (random sign) or 0: probabilities 0 or 1 up to e^-160.
    Huge,
    /// Confident: the label's logit +m, the others −m (some pixels confidently wrong).
    Confident(f64),
    /// Labels use only classes `0..K−1`: the last class is empty in every image.
    EmptyClass,
    /// Every pixel of every image has label 0.
    OneLabel,
}

struct Case {
    logits: Array4<f32>,
    labels: Array3<i64>,
    cfg: RegionConfig,
    regime: Regime,
}

fn case(rng: &mut Rng, i: usize) -> Case {
    let b = rng.range(1, 3);
    let k = [1, 2, 3, 5][rng.below(4)];
    // Small images, and images of several blocks of 256 pixels with a tail.
    let (h, w) = if i.is_multiple_of(4) {
        (rng.range(16, 40), rng.range(17, 41))
    } else {
        (rng.range(1, 12), rng.range(1, 12))
    };
    let classes = if k == 1 { 2 } else { k };
    let regime = match i % 7 {
        0 => Regime::Normal(1.0),
        1 => Regime::Normal(6.0),
        2 => Regime::Huge,
        3 => Regime::Confident(10.0 + 20.0 * rng.uniform()),
        4 => Regime::EmptyClass,
        5 => Regime::OneLabel,
        _ => Regime::Normal(0.3),
    };
    let labels = Array3::from_shape_simple_fn((b, h, w), || match regime {
        Regime::EmptyClass => rng.below(classes - 1) as i64,
        Regime::OneLabel => 0,
        _ => rng.below(classes) as i64,
    });
    let mut logits = Array4::<f32>::zeros((b, k, h, w));
    for ((bi, c, y, x), v) in logits.indexed_iter_mut() {
        let lab = labels[[bi, y, x]] as usize;
        *v = match regime {
            Regime::Normal(s) => s * rng.normal(),
            Regime::Huge => [-80.0, 0.0, 80.0][rng.below(3)],
            Regime::Confident(m) => {
                // Binary: one logit, + for foreground.
                let own = if k == 1 { lab == 1 } else { lab == c };
                let wrong = rng.uniform() < 0.05;
                if own != wrong {
                    m
                } else {
                    -m
                }
            }
            Regime::EmptyClass | Regime::OneLabel => 2.0 * rng.normal(),
        } as f32;
    }
    let temp = [1.0, 1.0, 0.3, 10.0][rng.below(4)];
    let cfg = RegionConfig {
        lambda: 2.0 * rng.uniform(),
        temp,
    };
    Case {
        logits,
        labels,
        cfg,
        regime,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= REL * b.abs() + ABS
}

fn check_values(l32: &Losses, l64: &Losses, what: &str) {
    // Plain Dice of a class absent from the labels and predicted nowhere is 1 (both empty); a
    // prediction below f32's range (e^-160) is such a 0 in f32 but not in f64, where that Dice
    // is 0: the plain Dice values are not compared then (the gradients still are).
    let mut both_empty = false;
    for ((u32s, s32s), s64s) in l32.u.iter().zip(&l32.s_hat).zip(&l64.s_hat) {
        for ((&u, &s32), &s64) in u32s.iter().zip(s32s).zip(s64s) {
            if u == 0.0 && s32 == 0.0 && s64 > 0.0 {
                assert!(
                    s64 < 1e-40,
                    "{what}: ŝ = {s64:e} in f64 is not below f32's range"
                );
                both_empty = true;
            }
        }
    }
    for kind in LossKind::ALL {
        if both_empty && matches!(kind, LossKind::Dice | LossKind::LogDice) {
            continue;
        }
        match (l32.get(kind), l64.get(kind)) {
            (Some(a), Some(b)) => {
                assert!(a.is_finite(), "{what}: {kind:?} = {a} in f32");
                assert!(close(a, b), "{what}: {kind:?}: f32 {a} vs f64 {b}");
            }
            // Plain log-Dice: undefined in f32 only where an f32 Dice is exactly 0.
            (None, _) => assert!(
                l32.dice_per_class.iter().flatten().any(|&d| d == 0.0),
                "{what}: {kind:?} undefined in f32 with no zero Dice"
            ),
            (Some(a), None) => panic!("{what}: {kind:?} = {a} in f32, undefined in f64"),
        }
    }
    let dice = |l: &Losses| {
        l.dice_per_class
            .iter()
            .flatten()
            .copied()
            .collect::<Vec<f64>>()
    };
    let s32 = l32.s_hat.iter().flatten();
    for ((d32, d64), &s) in dice(l32).into_iter().zip(dice(l64)).zip(s32) {
        assert!(
            close(d32, d64) || (s == 0.0 && both_empty),
            "{what}: Dice {d32} vs {d64}"
        );
    }
}

#[test]
fn f32_path_agrees_with_the_f64_reference() {
    // K32_SEED=<u64> runs the same sweep on another seed.
    let seed = std::env::var("K32_SEED").map_or(0x5EED_F32F_0001, |v| v.parse().unwrap());
    let mut rng = Rng(seed);
    let mut kernel = Fused32::new();
    let mut compared = 0usize;
    for i in 0..700 {
        let c = case(&mut rng, i);
        let what = format!(
            "case {i} {:?} {:?} T={} λ={}",
            c.logits.dim(),
            c.regime,
            c.cfg.temp,
            c.cfg.lambda
        );
        let ev = Evaluator::new(c.logits.view(), c.labels.view(), c.cfg).unwrap();
        let l64 = ev.losses();
        // Every loss whose f64 gradient exists, in one fused call (plain log-Dice alone below).
        let kinds: Vec<LossKind> = LossKind::ALL
            .into_iter()
            .filter(|&k| k != LossKind::LogDice)
            .collect();
        let mut grads: Vec<Array4<f32>> = kinds
            .iter()
            .map(|_| Array4::zeros(c.logits.dim()))
            .collect();
        let l32 = kernel
            .run(c.logits.view(), c.labels.view(), c.cfg, &kinds, &mut grads)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        check_values(&l32, &l64, &what);
        let mut ld = vec![Array4::zeros(c.logits.dim())];
        let mut pairs: Vec<(LossKind, Array4<f32>)> = kinds.iter().copied().zip(grads).collect();
        match (
            ev.gradient(LossKind::LogDice),
            kernel.run(
                c.logits.view(),
                c.labels.view(),
                c.cfg,
                &[LossKind::LogDice],
                &mut ld,
            ),
        ) {
            (Ok(_), Ok(_)) => pairs.push((LossKind::LogDice, ld.pop().unwrap())),
            (_, Err(LossError::Undefined(_))) => {
                assert!(
                    l32.dice_per_class.iter().flatten().any(|&d| d == 0.0),
                    "{what}"
                )
            }
            (Err(e), Ok(_)) => panic!("{what}: log-Dice gradient refused in f64 only: {e}"),
            (_, Err(e)) => panic!("{what}: {e}"),
        }
        // L1's gradient jumps where ŝ_k = u_k: within rounding of a tie (|Σ s^T − |Ω_k|| ≤
        // 1e-5 N) its sign is decided by rounding in either precision; not compared there.
        let n = (c.logits.dim().2 * c.logits.dim().3) as f64;
        let l1_tie = (0..c.logits.dim().0)
            .flat_map(|b| ev.stats(b).to_vec())
            .any(|s| (s.mass_t - s.count).abs() <= 1e-5 * n);
        for (kind, g32) in pairs {
            if l1_tie && matches!(kind, LossKind::L1 | LossKind::CeL1) {
                continue;
            }
            let g64 = ev.gradient(kind).unwrap();
            let max = g64.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let floor = GRAD_FLOOR * max + GRAD_ABS / (c.logits.dim().0 as f64 * n);
            for ((idx, &a), &b) in g32.indexed_iter().zip(g64.iter()) {
                let a = a as f64;
                assert!(a.is_finite(), "{what}: {kind:?} gradient {a} at {idx:?}");
                assert!(
                    (a - b).abs() <= REL * b.abs() + floor,
                    "{what}: {kind:?} gradient at {idx:?}: f32 {a:e} vs f64 {b:e} (max {max:e})"
                );
            }
            compared += 1;
        }
    }
    assert!(compared > 6000, "{compared}");
}

#[test]
fn the_benchmark_workload_agrees_with_the_f64_reference() {
    let (logits, labels) = dicelens_core::bench::workload(2, 3, 256, 256);
    let cfg = RegionConfig::default();
    let kinds = dicelens_core::bench::BUILDING_BLOCKS;
    let mut grads: Vec<Array4<f32>> = kinds.iter().map(|_| Array4::zeros(logits.dim())).collect();
    let l32 = Fused32::new()
        .run(logits.view(), labels.view(), cfg, &kinds, &mut grads)
        .unwrap();
    let ev = Evaluator::new(logits.view(), labels.view(), cfg).unwrap();
    check_values(&l32, &ev.losses(), "workload");
    for (kind, g32) in kinds.iter().zip(&grads) {
        let g64 = ev.gradient(*kind).unwrap();
        let max = g64.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let worst = g32
            .iter()
            .zip(g64.iter())
            .map(|(&a, &b)| (a as f64 - b).abs() / max)
            .fold(0.0, f64::max);
        assert!(worst <= 1e-6, "{kind:?}: max |Δ|/max|g| = {worst:e}");
    }
}

/// Central differences of the f32 path's own values against its gradients.
#[test]
fn f32_gradients_match_finite_differences() {
    let mut rng = Rng(0xF1D1_F32F);
    let mut kernel = Fused32::new();
    let mut checked = 0;
    for trial in 0..24 {
        let k = [1, 2, 3, 4][trial % 4];
        let (b, h, w) = (rng.range(1, 2), rng.range(2, 5), rng.range(2, 5));
        let classes = if k == 1 { 2 } else { k };
        let labels = Array3::from_shape_simple_fn((b, h, w), || rng.below(classes) as i64);
        let logits = Array4::from_shape_simple_fn((b, k, h, w), || rng.normal() as f32);
        let cfg = RegionConfig {
            lambda: 0.5 + rng.uniform(),
            temp: [1.0, 2.0, 0.5][trial % 3],
        };
        let n = (h * w) as f64;
        let step = 1e-2f32;
        let value = |kernel: &mut Fused32, z: &Array4<f32>, kind: LossKind| {
            kernel
                .run(z.view(), labels.view(), cfg, &[], &mut [])
                .unwrap()
                .get(kind)
                .unwrap()
        };
        // L1's kink: skip it where a perturbation could cross |ŝ − u| = 0.
        let ev = Evaluator::new(logits.view(), labels.view(), cfg).unwrap();
        let margin = (0..b)
            .flat_map(|bi| ev.stats(bi).to_vec())
            .map(|s| (s.mass_t - s.count).abs() / n)
            .fold(f64::INFINITY, f64::min);
        let l1_ok = margin > cfg.temp * step as f64 / n;
        for kind in LossKind::ALL {
            if matches!(kind, LossKind::L1 | LossKind::CeL1) && !l1_ok {
                continue;
            }
            let mut g = vec![Array4::zeros(logits.dim())];
            if kernel
                .run(logits.view(), labels.view(), cfg, &[kind], &mut g)
                .is_err()
            {
                assert_eq!(kind, LossKind::LogDice);
                continue;
            }
            let max = g[0].iter().fold(0.0f32, |m, v| m.max(v.abs())) as f64;
            for _ in 0..4 {
                let idx = (rng.below(b), rng.below(k), rng.below(h), rng.below(w));
                let mut zp = logits.clone();
                let mut zm = logits.clone();
                zp[idx] += step;
                zm[idx] -= step;
                let dz = zp[idx] as f64 - zm[idx] as f64;
                let fd = (value(&mut kernel, &zp, kind) - value(&mut kernel, &zm, kind)) / dz;
                let an = g[0][idx] as f64;
                assert!(
                    (fd - an).abs() <= 2e-3 * max + 1e-7,
                    "trial {trial} {kind:?} at {idx:?}: fd {fd:e} vs analytic {an:e} (max {max:e})"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 700, "{checked}");
}

/// The AVX-512 and AVX2 builds (where the CPU has them) compute the same bits as the baseline
/// build.
#[test]
fn every_build_of_the_kernel_gives_the_same_bits() {
    let mut rng = Rng(0xB175);
    for i in 0..40 {
        let c = case(&mut rng, i);
        let kinds = [
            LossKind::Ce,
            LossKind::DiceMonai,
            LossKind::L1,
            LossKind::CeKl,
        ];
        let mut g1: Vec<Array4<f32>> = kinds
            .iter()
            .map(|_| Array4::zeros(c.logits.dim()))
            .collect();
        let mut g2 = g1.clone();
        let mut g3 = g1.clone();
        let l1 = Fused32::new()
            .run(c.logits.view(), c.labels.view(), c.cfg, &kinds, &mut g1)
            .unwrap();
        let l2 = Fused32::new()
            .run_baseline(c.logits.view(), c.labels.view(), c.cfg, &kinds, &mut g2)
            .unwrap();
        let l3 = Fused32::new()
            .run_avx2(c.logits.view(), c.labels.view(), c.cfg, &kinds, &mut g3)
            .unwrap();
        for kind in LossKind::ALL {
            for l in [&l1, &l3] {
                assert_eq!(
                    l.get(kind).map(f64::to_bits),
                    l2.get(kind).map(f64::to_bits),
                    "case {i} {kind:?}"
                );
            }
        }
        for ((a, b), c3) in g1.iter().zip(&g2).zip(&g3) {
            for a in [a, c3] {
                assert!(
                    a.iter()
                        .zip(b.iter())
                        .all(|(x, y)| x.to_bits() == y.to_bits()),
                    "case {i}"
                );
            }
        }
    }
}

/// The batch split over threads gives the same bits as one thread: each image's sums are its
/// own and are combined in image order.
#[test]
fn every_thread_count_gives_the_same_bits() {
    let mut rng = Rng(0x0007_EAD5);
    for i in 0..12 {
        let b = rng.range(2, 5);
        let k = [1, 2, 3, 5][i % 4];
        let (h, w) = (rng.range(20, 70), rng.range(20, 70));
        let classes = if k == 1 { 2 } else { k };
        let labels = Array3::from_shape_simple_fn((b, h, w), || rng.below(classes) as i64);
        let logits = Array4::from_shape_simple_fn((b, k, h, w), || (3.0 * rng.normal()) as f32);
        let cfg = RegionConfig {
            lambda: 0.5 + rng.uniform(),
            temp: [1.0, 2.0, 0.5][i % 3],
        };
        let kinds: Vec<LossKind> = LossKind::ALL
            .into_iter()
            .filter(|&k| k != LossKind::LogDice)
            .collect();
        let run = |threads: usize| {
            let mut kernel = Fused32::new();
            kernel.set_threads(threads);
            let mut g: Vec<Array4<f32>> =
                kinds.iter().map(|_| Array4::zeros(logits.dim())).collect();
            let l = kernel
                .run(logits.view(), labels.view(), cfg, &kinds, &mut g)
                .unwrap();
            (l, g)
        };
        let (l1, g1) = run(1);
        for threads in [2, 3, b] {
            let (l2, g2) = run(threads);
            for kind in LossKind::ALL {
                assert_eq!(
                    l1.get(kind).map(f64::to_bits),
                    l2.get(kind).map(f64::to_bits),
                    "case {i}, {threads} threads: {kind:?}"
                );
            }
            for (q, (a, b)) in g1.iter().zip(&g2).enumerate() {
                assert!(
                    a.iter()
                        .zip(b.iter())
                        .all(|(x, y)| x.to_bits() == y.to_bits()),
                    "case {i}, {threads} threads: gradient of {:?}",
                    kinds[q]
                );
            }
        }
        // And a bad label in the last image is refused with the reference's error.
        let mut bad = labels.clone();
        bad[[b - 1, 0, 0]] = classes as i64;
        let mut kernel = Fused32::new();
        kernel.set_threads(2);
        let mut g: Vec<Array4<f32>> = vec![Array4::zeros(logits.dim())];
        let e = kernel
            .run(logits.view(), bad.view(), cfg, &[LossKind::Ce], &mut g)
            .unwrap_err();
        assert_eq!(
            format!("{e:?}"),
            format!(
                "{:?}",
                Evaluator::new(logits.view(), bad.view(), cfg).unwrap_err()
            ),
            "case {i}"
        );
    }
}

#[test]
fn refuses_what_the_reference_refuses_with_the_same_error() {
    let cfg = RegionConfig::default();
    let good = Array4::<f32>::zeros((2, 3, 4, 5));
    let labels = Array3::<i64>::zeros((2, 4, 5));
    let run = |z: &Array4<f32>, y: &Array3<i64>, cfg: RegionConfig| {
        let mut g = vec![Array4::zeros(z.dim())];
        Fused32::new()
            .run(z.view(), y.view(), cfg, &[LossKind::Ce], &mut g)
            .unwrap_err()
    };
    let reference = |z: &Array4<f32>, y: &Array3<i64>, cfg: RegionConfig| {
        Evaluator::new(z.view(), y.view(), cfg).unwrap_err()
    };
    let mut cases: Vec<(Array4<f32>, Array3<i64>, RegionConfig)> = Vec::new();
    for (pos, v) in [((1, 2, 3), 3), ((0, 0, 0), -1), ((1, 3, 4), 7)] {
        let mut y = labels.clone();
        y[pos] = v;
        cases.push((good.clone(), y, cfg));
    }
    for v in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut z = good.clone();
        z[[1, 2, 3, 4]] = v;
        cases.push((z.clone(), labels.clone(), cfg));
        // A bad label in a later image is reported before a non-finite logit, as the reference does.
        let mut y = labels.clone();
        y[[1, 0, 0]] = 9;
        let mut z0 = good.clone();
        z0[[0, 1, 0, 0]] = v;
        cases.push((z0, y, cfg));
    }
    cases.push((good.clone(), Array3::zeros((2, 4, 6)), cfg));
    cases.push((Array4::zeros((0, 3, 4, 5)), Array3::zeros((0, 4, 5)), cfg));
    cases.push((
        good.clone(),
        labels.clone(),
        RegionConfig {
            lambda: -1.0,
            temp: 1.0,
        },
    ));
    cases.push((
        good.clone(),
        labels.clone(),
        RegionConfig {
            lambda: 0.1,
            temp: 0.0,
        },
    ));
    // Binary mode: label 2 is out of range.
    let mut yb = Array3::<i64>::zeros((2, 4, 5));
    yb[[0, 3, 4]] = 2;
    cases.push((Array4::zeros((2, 1, 4, 5)), yb, cfg));
    for (z, y, cfg) in &cases {
        // Compared as text: NaN ≠ NaN.
        assert_eq!(
            format!("{:?}", run(z, y, *cfg)),
            format!("{:?}", reference(z, y, *cfg)),
            "{:?}",
            z.dim()
        );
    }
    // Gradient buffers: one per loss, each of the logits' shape.
    let mut k = Fused32::new();
    let mut wrong = vec![Array4::<f32>::zeros((2, 3, 4, 4))];
    assert!(k
        .run(good.view(), labels.view(), cfg, &[LossKind::Ce], &mut wrong)
        .is_err());
    assert!(k
        .run(good.view(), labels.view(), cfg, &[LossKind::Ce], &mut [])
        .is_err());
    // Plain log-Dice where a Dice is 0 (class 1 present, predicted 0 in f32): refused.
    let mut z = Array4::<f32>::zeros((1, 2, 1, 2));
    z[[0, 0, 0, 0]] = 80.0;
    z[[0, 1, 0, 0]] = -80.0;
    z[[0, 0, 0, 1]] = 80.0;
    z[[0, 1, 0, 1]] = -80.0;
    let mut y = Array3::<i64>::zeros((1, 1, 2));
    y[[0, 0, 1]] = 1;
    let mut g = vec![Array4::zeros(z.dim())];
    assert!(matches!(
        k.run(z.view(), y.view(), cfg, &[LossKind::LogDice], &mut g),
        Err(LossError::Undefined(_))
    ));
    // The same input is fine for every other loss, with finite values and gradients.
    let kinds = [
        LossKind::Ce,
        LossKind::DiceMonai,
        LossKind::Kl,
        LossKind::L1,
    ];
    let mut g: Vec<Array4<f32>> = kinds.iter().map(|_| Array4::zeros(z.dim())).collect();
    let l = k.run(z.view(), y.view(), cfg, &kinds, &mut g).unwrap();
    assert!((l.ce - 80.0).abs() < 1e-4, "{}", l.ce);
    assert!(g.iter().flatten().all(|v| v.is_finite()));
}

/// The kernel's fingerprint (`bench::kernel_digest`) is the one on file. The browser test
/// `e2e/engines/suite.mjs` expects the same of the WASM build in Chromium, Firefox and WebKit
/// (the gradients' bits; the loss values to 4 ulp, as WASM's `ln` is not glibc's). Regenerate
/// after a deliberate change of the kernel's arithmetic with
/// `DICELENS_BLESS=1 cargo test -p dicelens-core --test losses32 kernel_digest`.
#[test]
fn kernel_digest_is_the_one_on_file() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kernel_digest.txt");
    let want = dicelens_core::bench::kernel_digest();
    let have = common::blessed_file(&path, &want);
    assert_eq!(
        have, want,
        "the kernel's output changed (regenerate with DICELENS_BLESS=1 if deliberate)"
    );
    assert_eq!(want.lines().count(), 4);
    assert!(!want.contains("refused"), "{want}");
}
