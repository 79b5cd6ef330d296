//! Range, finiteness, stability and input-validation properties of the loss core.

mod common;

use dicelens_core::{evaluate, Evaluator, LossError, LossKind, Losses, Mode, RegionConfig};
use ndarray::{Array3, Array4};

use common::Rng;

fn cfg(lambda: f64, temp: f64) -> RegionConfig {
    RegionConfig { lambda, temp }
}

fn random_batch(rng: &mut Rng, scale: f64) -> (Array4<f64>, Array3<i64>) {
    let b = rng.range(1, 3);
    let k = rng.range(1, 5);
    let h = rng.range(1, 9);
    let w = rng.range(1, 9);
    let classes = if k == 1 { 2 } else { k };
    let logits = Array4::from_shape_fn((b, k, h, w), |_| scale * rng.normal());
    let labels = Array3::from_shape_fn((b, h, w), |_| rng.range(0, classes - 1) as i64);
    (logits, labels)
}

/// Every loss value is finite (plain log-Dice may be undefined), the Dice coefficients lie in
/// [0, 1], proportions lie in [0, 1], and every defined gradient is finite.
fn assert_sane(eval: &Evaluator, what: &str) -> Losses {
    let l = eval.losses();
    for kind in LossKind::ALL {
        match l.get(kind) {
            Some(v) => assert!(v.is_finite(), "{what}: {kind:?} = {v}"),
            None => assert_eq!(kind, LossKind::LogDice, "{what}: {kind:?} undefined"),
        }
        match eval.gradient(kind) {
            Ok(g) => {
                assert_eq!(g.dim(), eval.dim(), "{what}: {kind:?} gradient shape");
                assert!(
                    g.iter().all(|v| v.is_finite()),
                    "{what}: {kind:?} gradient not finite"
                );
                assert!(
                    l.get(kind).is_some(),
                    "{what}: gradient of undefined {kind:?}"
                );
            }
            Err(e) => {
                assert_eq!(kind, LossKind::LogDice, "{what}: {kind:?}: {e}");
                assert!(
                    l.log_dice.is_none(),
                    "{what}: log-Dice defined but gradient Err"
                );
                assert!(matches!(e, LossError::Undefined(_)), "{what}: {e:?}");
            }
        }
    }
    assert!(l.ce >= 0.0, "{what}: CE = {}", l.ce);
    for row in l.dice_per_class.iter().chain(&l.u).chain(&l.s_hat) {
        for &d in row {
            assert!((0.0..=1.0).contains(&d), "{what}: {d} outside [0, 1]");
        }
    }
    for v in [l.dice, l.dice_monai, l.l1] {
        assert!((0.0..=1.0).contains(&v), "{what}: {v} outside [0, 1]");
    }
    // KL ≥ 0 up to the proportion eps: in binary mode the eps'd (ŝ_bg, ŝ_fg) sum to
    // 1 + eps/(N + eps), which can push a perfect prediction's KL to about −1e-10/N.
    assert!(l.kl >= -1e-10, "{what}: KL = {:e}", l.kl);
    assert!(l.log_dice_monai >= 0.0, "{what}: {}", l.log_dice_monai);
    l
}

#[test]
fn random_inputs_give_sane_values_and_gradients() {
    let mut rng = Rng(7);
    for trial in 0..200 {
        let scale = [0.1, 1.0, 4.0, 30.0][trial % 4];
        let (logits, labels) = random_batch(&mut rng, scale);
        let t = [1.0, 10.0][trial % 2];
        let eval = Evaluator::new(logits.view(), labels.view(), cfg(0.5, t)).unwrap();
        let what = format!("trial {trial} {:?} scale {scale} T={t}", logits.dim());
        let l = assert_sane(&eval, &what);
        assert_eq!(
            l.mode,
            if logits.dim().1 == 1 {
                Mode::Binary
            } else {
                Mode::Multiclass
            }
        );
        // Per-image rows: one channel in binary mode, K otherwise.
        let (b, k, _, _) = logits.dim();
        assert_eq!(l.dice_per_class.len(), b);
        assert!(l.dice_per_class.iter().all(|r| r.len() == k));
    }
}

#[test]
fn softmax_gradients_sum_to_zero_over_classes() {
    let mut rng = Rng(8);
    let mut checked = 0;
    for trial in 0..100 {
        let (logits, labels) = random_batch(&mut rng, 2.0);
        let (b, k, h, w) = logits.dim();
        if k == 1 {
            continue;
        }
        let t = [1.0, 10.0][trial % 2];
        let eval = Evaluator::new(logits.view(), labels.view(), cfg(0.7, t)).unwrap();
        for kind in LossKind::ALL {
            let Ok(g) = eval.gradient(kind) else { continue };
            let scale = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            // CE: (Σ_k s_k − 1)/(BN), a few ulps. The others are exact zero sums too, up to
            // rounding of their per-class terms (of order max|g| or 1/(BN)).
            let tol = if kind == LossKind::Ce {
                1e-15
            } else {
                1e-13 * (scale + 1.0 / (b * h * w) as f64)
            };
            for bi in 0..b {
                for hi in 0..h {
                    for wi in 0..w {
                        let s: f64 = (0..k).map(|c| g[[bi, c, hi, wi]]).sum();
                        assert!(s.abs() <= tol, "trial {trial} {kind:?}: Σ_k grad = {s:e}");
                    }
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 300);
}

#[test]
fn ce_gradient_is_s_minus_y_over_bn() {
    // THEORY.md: CE's gradient is (s − y)/N per pixel (mean over the batch too).
    // Channel 0 = [0, ln 3], channel 1 = [0, 0] over two pixels.
    let logits = Array4::from_shape_vec((1, 2, 1, 2), vec![0.0, 3.0f64.ln(), 0.0, 0.0]).unwrap();
    let labels = Array3::from_shape_vec((1, 1, 2), vec![1, 0]).unwrap();
    let g = Evaluator::new(logits.view(), labels.view(), cfg(0.1, 1.0))
        .unwrap()
        .gradient(LossKind::Ce)
        .unwrap();
    // Pixel 0: s = (½, ½), y = 1 → (½, −½)/2. Pixel 1: s = (¾, ¼), y = 0 → (−¼, ¼)/2.
    let expected = [[0.25, -0.125], [-0.25, 0.125]];
    for c in 0..2 {
        for i in 0..2 {
            assert!(
                (g[[0, c, 0, i]] - expected[c][i]).abs() < 1e-15,
                "{c} {i}: {}",
                g[[0, c, 0, i]]
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Stability.

#[test]
fn huge_logits_stay_finite() {
    let mut rng = Rng(9);
    for (dims, t) in [
        ((2, 3, 4, 4), 1.0),
        ((2, 3, 4, 4), 10.0),
        ((1, 5, 3, 2), 1.0),
        ((2, 1, 4, 4), 1.0),
        ((2, 1, 4, 4), 10.0),
    ] {
        let (b, k, h, w) = dims;
        let classes = if k == 1 { 2 } else { k };
        let logits = Array4::from_shape_fn(dims, |_| if rng.uniform() < 0.5 { 1e4 } else { -1e4 });
        let labels = Array3::from_shape_fn((b, h, w), |_| rng.range(0, classes - 1) as i64);
        let eval = Evaluator::new(logits.view(), labels.view(), cfg(1.0, t)).unwrap();
        let l = assert_sane(&eval, &format!("±1e4 {dims:?} T={t}"));
        // Some confidently wrong pixel costs about 1e4 (2e4 for a softmax gap of 2e4).
        assert!(l.ce > 100.0, "{}", l.ce);
    }
    // Binary: a perfectly confident, correct prediction has CE 0 and Dice 1.
    let labels = Array3::from_shape_vec((1, 2, 2), vec![0, 1, 1, 0]).unwrap();
    let logits = Array4::from_shape_fn((1, 1, 2, 2), |(_, _, i, j)| {
        if labels[[0, i, j]] == 1 {
            1e4
        } else {
            -1e4
        }
    });
    let eval = Evaluator::new(logits.view(), labels.view(), cfg(1.0, 1.0)).unwrap();
    let l = assert_sane(&eval, "perfect binary");
    assert_eq!(l.ce, 0.0);
    assert!(l.dice.abs() < 1e-15 && l.log_dice.unwrap().abs() < 1e-15);
}

#[test]
fn f32_logits_are_accepted() {
    let logits = Array4::from_shape_fn((1, 3, 2, 2), |(_, c, i, j)| (c + i * 2 + j) as f32 * 0.5);
    let labels = Array3::from_shape_vec((1, 2, 2), vec![0, 1, 2, 1]).unwrap();
    let a = evaluate(logits.view(), labels.view(), RegionConfig::default()).unwrap();
    let l64 = logits.mapv(f64::from);
    let b = evaluate(l64.view(), labels.view(), RegionConfig::default()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn one_pixel_foreground() {
    // Binary: one foreground pixel among 64.
    let mut rng = Rng(10);
    let mut labels = Array3::<i64>::zeros((1, 8, 8));
    labels[[0, 3, 5]] = 1;
    let logits = Array4::from_shape_fn((1, 1, 8, 8), |_| rng.normal() - 2.0);
    let eval = Evaluator::new(logits.view(), labels.view(), cfg(1.0, 10.0)).unwrap();
    let l = assert_sane(&eval, "binary 1-pixel");
    assert_eq!(l.u[0][0], 1.0 / 64.0);
    assert!(l.log_dice.is_some());
    // Multiclass: class 2 on a single pixel.
    let mut labels = Array3::<i64>::zeros((1, 6, 6));
    labels[[0, 0, 0]] = 2;
    for j in 0..6 {
        labels[[0, 5, j]] = 1;
    }
    let logits = Array4::from_shape_fn((1, 3, 6, 6), |_| rng.normal());
    let eval = Evaluator::new(logits.view(), labels.view(), cfg(1.0, 1.0)).unwrap();
    let l = assert_sane(&eval, "multiclass 1-pixel");
    assert_eq!(l.u[0][2], 1.0 / 36.0);
    assert!(l.log_dice.is_some());
}

#[test]
fn absent_class_makes_only_plain_log_dice_undefined() {
    let mut rng = Rng(11);
    let labels = Array3::from_shape_fn((2, 4, 4), |(b, i, j)| {
        if b == 0 {
            ((i + j) % 3) as i64
        } else {
            ((i + j) % 2) as i64 // class 2 absent from image 1
        }
    });
    let logits = Array4::from_shape_fn((2, 3, 4, 4), |_| rng.normal());
    let eval = Evaluator::new(logits.view(), labels.view(), cfg(0.3, 10.0)).unwrap();
    let l = assert_sane(&eval, "absent class");
    assert_eq!(l.log_dice, None);
    assert_eq!(l.dice_per_class[1][2], 0.0);
    assert_eq!(l.u[1][2], 0.0);
    assert!(l.log_dice_monai.is_finite() && l.log_dice_monai > 1.0);
    let err = eval.gradient(LossKind::LogDice).unwrap_err();
    assert!(matches!(err, LossError::Undefined(_)), "{err:?}");
    let msg = err.to_string();
    assert!(!msg.contains('\n') && msg.contains("log-Dice"), "{msg}");
    // The absent class's decomposition has no region or matching term.
    let dd = eval.dice_decomposition(1);
    assert!(dd[2].region.is_none() && dd[2].matching.is_none() && dd[2].neg_log_dice.is_none());
}

/// `−ln(mean_i p_i)`: the limit of the binary KL term when `u ∈ {0, 1}`, computed directly.
fn neg_ln_mean(p: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = p.collect();
    -(v.iter().sum::<f64>() / v.len() as f64).ln()
}

#[test]
fn all_background_and_all_foreground_binary_images() {
    let mut rng = Rng(12);
    for t in [1.0, 10.0] {
        let logits = Array4::from_shape_fn((1, 1, 5, 5), |_| rng.normal());
        let sig = |z: f64| 1.0 / (1.0 + (-t * z).exp());
        for fg in [0i64, 1] {
            let labels = Array3::from_elem((1, 5, 5), fg);
            let eval = Evaluator::new(logits.view(), labels.view(), cfg(0.5, t)).unwrap();
            let what = format!(
                "all {} T={t}",
                if fg == 1 { "foreground" } else { "background" }
            );
            let l = assert_sane(&eval, &what);
            // KL(u‖ŝ) over (bg, fg) with u ∈ {0, 1} is −ln of the mean predicted proportion
            // of the true class (up to the 1e-10 proportion eps).
            let limit = if fg == 1 {
                neg_ln_mean(logits.iter().map(|&z| sig(z)))
            } else {
                neg_ln_mean(logits.iter().map(|&z| 1.0 - sig(z)))
            };
            assert!(
                (l.kl - limit).abs() <= 1e-8 * limit,
                "{what}: KL = {} vs limit {limit}",
                l.kl
            );
            assert!((l.ce_kl - (l.ce + 0.5 * limit)).abs() <= 1e-8 * l.ce_kl);
            // L1 is |ŝ_T − u| of the foreground.
            let s_fg = logits.iter().map(|&z| sig(z)).sum::<f64>() / 25.0;
            assert!((l.l1 - (s_fg - fg as f64).abs()).abs() < 1e-9, "{what}");
            if fg == 0 {
                assert_eq!(l.log_dice, None, "{what}: empty foreground has Dice 0");
                assert_eq!(l.dice_per_class[0][0], 0.0);
            } else {
                assert!(l.log_dice.is_some());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Validation: every bad input is a typed error with a one-line message, never a panic.

fn check_err(
    result: Result<Evaluator, LossError>,
    matches: impl Fn(&LossError) -> bool,
    words: &[&str],
) {
    let err = result.expect_err("expected an error");
    assert!(matches(&err), "wrong variant: {err:?}");
    let msg = err.to_string();
    assert!(!msg.is_empty() && !msg.contains('\n'), "{msg:?}");
    for w in words {
        assert!(msg.contains(w), "message {msg:?} does not mention {w:?}");
    }
}

#[test]
fn shape_mismatch_is_reported() {
    let logits = Array4::<f64>::zeros((2, 3, 4, 5));
    for dims in [(1, 4, 5), (2, 5, 4), (2, 4, 6), (3, 4, 5)] {
        let labels = Array3::<i64>::zeros(dims);
        check_err(
            Evaluator::new(logits.view(), labels.view(), RegionConfig::default()),
            |e| matches!(e, LossError::ShapeMismatch { .. }),
            &["shape mismatch", "K=3"],
        );
    }
}

#[test]
fn labels_out_of_range_are_reported() {
    let logits = Array4::<f64>::zeros((1, 3, 2, 2));
    for bad in [3i64, -1, 255] {
        let mut labels = Array3::<i64>::zeros((1, 2, 2));
        labels[[0, 1, 0]] = bad;
        check_err(
            Evaluator::new(logits.view(), labels.view(), RegionConfig::default()),
            |e| matches!(e, LossError::LabelOutOfRange { value, b: 0, h: 1, w: 0, .. } if *value == bad),
            &["label", "0..2"],
        );
    }
    // Binary mode takes 0/1 only.
    let logits = Array4::<f64>::zeros((2, 1, 2, 2));
    let mut labels = Array3::<i64>::zeros((2, 2, 2));
    labels[[1, 0, 1]] = 2;
    check_err(
        Evaluator::new(logits.view(), labels.view(), RegionConfig::default()),
        |e| {
            matches!(
                e,
                LossError::LabelOutOfRange {
                    value: 2,
                    b: 1,
                    h: 0,
                    w: 1,
                    ..
                }
            )
        },
        &["label 2", "binary"],
    );
}

#[test]
fn non_finite_logits_are_reported() {
    let labels = Array3::<i64>::zeros((1, 2, 2));
    for (k, bad) in [
        (3, f64::NAN),
        (3, f64::INFINITY),
        (1, f64::NEG_INFINITY),
        (1, f64::NAN),
    ] {
        let mut logits = Array4::<f64>::zeros((1, k, 2, 2));
        logits[[0, k - 1, 1, 1]] = bad;
        check_err(
            Evaluator::new(logits.view(), labels.view(), RegionConfig::default()),
            |e| {
                matches!(
                    e,
                    LossError::NonFinite {
                        b: 0,
                        h: 1,
                        w: 1,
                        ..
                    }
                )
            },
            &["finite"],
        );
    }
    let mut logits = Array4::<f32>::zeros((1, 2, 2, 2));
    logits[[0, 0, 0, 0]] = f32::NAN;
    check_err(
        Evaluator::new(logits.view(), labels.view(), RegionConfig::default()),
        |e| matches!(e, LossError::NonFinite { .. }),
        &["NaN"],
    );
}

#[test]
fn empty_dimensions_are_reported() {
    for dims in [(0, 2, 3, 3), (1, 0, 3, 3), (1, 2, 0, 3), (1, 2, 3, 0)] {
        let logits = Array4::<f64>::zeros(dims);
        let labels = Array3::<i64>::zeros((dims.0, dims.2, dims.3));
        check_err(
            Evaluator::new(logits.view(), labels.view(), RegionConfig::default()),
            |e| matches!(e, LossError::Empty(d) if *d == [dims.0, dims.1, dims.2, dims.3]),
            &["empty"],
        );
    }
}

#[test]
fn bad_lambda_and_temperature_are_reported() {
    let logits = Array4::<f64>::zeros((1, 2, 2, 2));
    let labels = Array3::<i64>::zeros((1, 2, 2));
    for lambda in [-0.1, f64::NAN, f64::INFINITY] {
        check_err(
            Evaluator::new(logits.view(), labels.view(), cfg(lambda, 1.0)),
            |e| matches!(e, LossError::BadParameter { name: "lambda", .. }),
            &["lambda"],
        );
    }
    for temp in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        check_err(
            Evaluator::new(logits.view(), labels.view(), cfg(0.1, temp)),
            |e| {
                matches!(
                    e,
                    LossError::BadParameter {
                        name: "temperature",
                        ..
                    }
                )
            },
            &["temperature"],
        );
    }
    // The edges of the valid ranges are accepted.
    assert!(Evaluator::new(logits.view(), labels.view(), cfg(0.0, 1e-3)).is_ok());
    assert!(RegionConfig::AUTHORS.validate().is_ok());
    assert_eq!(
        (RegionConfig::AUTHORS.lambda, RegionConfig::AUTHORS.temp),
        (1.0, 10.0)
    );
}
