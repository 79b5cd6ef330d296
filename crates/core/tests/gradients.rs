//! Central finite differences of every loss against `Evaluator::gradient`.
//!
//! Each loss value is recomputed from perturbed logits through `Evaluator::new(..).losses()`;
//! the analytic gradient is a separate code path (`Evaluator::gradient`).

mod common;

use dicelens_core::{Evaluator, LossError, LossKind, RegionConfig};
use ndarray::{Array3, Array4};

use common::Rng;

const LAMBDA: f64 = 0.7;

/// Random logits `(B, K, H, W)` and labels with (if `all_present`) every class in every image.
fn random_input(
    rng: &mut Rng,
    dims: (usize, usize, usize, usize),
    scale: f64,
    all_present: bool,
) -> (Array4<f64>, Array3<i64>) {
    let (b, k, h, w) = dims;
    let classes = if k == 1 { 2 } else { k };
    let logits = Array4::from_shape_fn(dims, |_| scale * rng.normal());
    let mut labels = Array3::from_shape_fn((b, h, w), |_| rng.below(classes) as i64);
    if all_present {
        assert!(h * w >= classes);
        for bi in 0..b {
            // Put every class at a distinct random pixel.
            let mut pix: Vec<usize> = (0..h * w).collect();
            for c in 0..classes {
                let j = c + rng.below(h * w - c);
                pix.swap(c, j);
                labels[[bi, pix[c] / w, pix[c] % w]] = c as i64;
            }
        }
    }
    (logits, labels)
}

/// `min |ŝ_T − u|` over the L1 channels, computed here from scratch (L1 has a kink there).
fn l1_kink_distance(logits: &Array4<f64>, labels: &Array3<i64>, temp: f64) -> f64 {
    let (b, k, h, w) = logits.dim();
    let n = (h * w) as f64;
    let mut best = f64::INFINITY;
    for bi in 0..b {
        if k == 1 {
            let mut s = 0.0;
            let mut u = 0.0;
            for hi in 0..h {
                for wi in 0..w {
                    s += 1.0 / (1.0 + (-temp * logits[[bi, 0, hi, wi]]).exp());
                    u += labels[[bi, hi, wi]] as f64;
                }
            }
            best = best.min((s / n - u / n).abs());
        } else {
            let mut s = vec![0.0; k];
            let mut u = vec![0.0; k];
            for hi in 0..h {
                for wi in 0..w {
                    let e: Vec<f64> = (0..k)
                        .map(|c| (temp * logits[[bi, c, hi, wi]]).exp())
                        .collect();
                    let tot: f64 = e.iter().sum();
                    for c in 0..k {
                        s[c] += e[c] / tot;
                    }
                    u[labels[[bi, hi, wi]] as usize] += 1.0;
                }
            }
            for c in 0..k {
                best = best.min((s[c] - u[c]).abs() / n);
            }
        }
    }
    best
}

/// Compares the analytic gradient of every loss with central differences; returns how many
/// (loss, element) pairs were checked.
fn check_case(
    seed: u64,
    dims: (usize, usize, usize, usize),
    temp: f64,
    all_present: bool,
) -> usize {
    let mut rng = Rng(seed);
    // Redraw until every L1 channel is well away from its kink ŝ_T = u.
    let (logits, labels) = loop {
        let (z, y) = random_input(&mut rng, dims, 1.3, all_present);
        if l1_kink_distance(&z, &y, temp) > 2e-3 {
            break (z, y);
        }
    };
    let cfg = RegionConfig {
        lambda: LAMBDA,
        temp,
    };
    let eval = Evaluator::new(logits.view(), labels.view(), cfg).unwrap();
    let base = eval.losses();
    let grads: Vec<(LossKind, Option<Array4<f64>>)> = LossKind::ALL
        .iter()
        .map(|&kind| {
            let g = eval.gradient(kind);
            match (kind, &g) {
                (LossKind::LogDice, Err(e)) => {
                    assert!(
                        base.log_dice.is_none(),
                        "LogDice gradient Err but value defined"
                    );
                    assert!(matches!(e, LossError::Undefined(_)), "{e:?}");
                }
                (_, Err(e)) => panic!("gradient({kind:?}) failed: {e}"),
                (_, Ok(_)) => assert!(base.get(kind).is_some(), "{kind:?} value undefined"),
            }
            (kind, g.ok())
        })
        .collect();

    let mut checked = 0;
    let cbrt_eps = f64::EPSILON.cbrt();
    for (idx, &z0) in logits.indexed_iter() {
        let step = cbrt_eps * z0.abs().max(1.0);
        let mut zp = logits.clone();
        zp[idx] = z0 + step;
        let mut zm = logits.clone();
        zm[idx] = z0 - step;
        let h = zp[idx] - zm[idx]; // the step actually taken, after rounding
        let lp = Evaluator::new(zp.view(), labels.view(), cfg)
            .unwrap()
            .losses();
        let lm = Evaluator::new(zm.view(), labels.view(), cfg)
            .unwrap()
            .losses();
        for (kind, g) in &grads {
            let Some(g) = g else { continue };
            let fd = (lp.get(*kind).unwrap() - lm.get(*kind).unwrap()) / h;
            let scale = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            // Truncation ~ step² f''' (T³ for the region terms) and rounding ~ eps·f/step.
            let tol = 2e-7 * scale + 1e-10 * base.get(*kind).unwrap().abs().max(1.0);
            let a = g[idx];
            assert!(
                (a - fd).abs() <= tol,
                "seed {seed} dims {dims:?} T={temp}: {kind:?} at {idx:?}: analytic {a:.12e}, \
                 finite difference {fd:.12e} (tol {tol:.1e})"
            );
            checked += 1;
        }
    }
    checked
}

#[test]
fn multiclass_gradients_match_finite_differences_t1() {
    let n = check_case(11, (2, 3, 3, 4), 1.0, true) + check_case(12, (1, 4, 4, 3), 1.0, true);
    assert_eq!(n, 10 * (72 + 48));
}

#[test]
fn multiclass_gradients_match_finite_differences_t10() {
    let n = check_case(21, (2, 3, 3, 4), 10.0, true) + check_case(22, (1, 2, 4, 4), 10.0, true);
    assert_eq!(n, 10 * (72 + 32));
}

#[test]
fn binary_gradients_match_finite_differences_t1() {
    let n = check_case(31, (2, 1, 4, 4), 1.0, true) + check_case(32, (3, 1, 3, 3), 1.0, true);
    assert_eq!(n, 10 * (32 + 27));
}

#[test]
fn binary_gradients_match_finite_differences_t10() {
    let n = check_case(41, (2, 1, 4, 4), 10.0, true) + check_case(42, (1, 1, 5, 3), 10.0, true);
    assert_eq!(n, 10 * (32 + 15));
}

#[test]
fn gradients_with_absent_classes_skip_only_log_dice() {
    // Labels drawn freely on tiny images: some class is absent somewhere, so plain log-Dice
    // is undefined there; every other loss must still match its finite difference.
    let mut skipped = 0;
    for (seed, dims, temp) in [
        (51, (2, 4, 2, 2), 1.0),
        (52, (2, 1, 1, 3), 10.0),
        (53, (3, 5, 2, 2), 1.0),
    ] {
        let n = check_case(seed, dims, temp, false);
        let elems = dims.0 * dims.1 * dims.2 * dims.3;
        assert!(n == 10 * elems || n == 9 * elems, "{n}");
        if n == 9 * elems {
            skipped += 1;
        }
    }
    assert!(skipped >= 2, "expected absent classes in these draws");
}
