//! Ambiguous pixels: the optima of every loss, Dice's flip threshold and the volume bias,
//! against closed forms and brute force; THEORY.md's quoted numbers are checked for what
//! they are (see the module docs of `dicelens_core::ambiguous`).

use dicelens_core::{ambiguous_view, Ambiguous, AmbiguousLoss, LossError};

fn model() -> Ambiguous {
    Ambiguous::new(0.05, 0.05, 0.5).unwrap()
}

#[test]
fn optima_beat_a_fine_grid() {
    for (c, a) in [(0.05, 0.05), (0.02, 0.2), (0.3, 0.1)] {
        let m = Ambiguous::new(c, a, 0.7).unwrap();
        for p in [0.0, 0.05, 0.2, 0.4, 0.5, 0.73, 1.0] {
            for loss in AmbiguousLoss::ALL {
                let q = m.optimum(loss, p).unwrap();
                let v = m.loss(loss, p, q);
                for j in 0..=2000 {
                    let x = j as f64 / 2000.0;
                    let w = m.loss(loss, p, x);
                    assert!(
                        w >= v - 1e-9 * v.abs().max(1.0),
                        "{loss:?} c={c} a={a} p={p}: q*={q} ({v}) but q={x} gives {w}"
                    );
                }
            }
        }
    }
}

#[test]
fn ce_and_penalties_are_calibrated() {
    let m = model();
    for p in [0.0, 0.1, 0.3, 0.5, 0.9, 1.0] {
        for loss in [AmbiguousLoss::Ce, AmbiguousLoss::CeL1, AmbiguousLoss::CeKl] {
            assert_eq!(m.optimum(loss, p).unwrap(), p);
            assert_eq!(m.volume_bias(p, p), 0.0);
        }
    }
}

#[test]
fn dice_is_all_or_nothing_with_the_closed_form_flip() {
    let m = model();
    let flip = m.flip_threshold();
    // c = a: p_flip = √2 − 1.
    assert!((flip - (2f64.sqrt() - 1.0)).abs() < 1e-15);
    let (c, a) = (0.05, 0.05);
    assert!((a * flip * flip + 2.0 * c * flip - c).abs() < 1e-15);
    for loss in [AmbiguousLoss::Dice, AmbiguousLoss::LogDice] {
        assert_eq!(m.optimum(loss, flip - 1e-9).unwrap(), 0.0);
        assert_eq!(m.optimum(loss, flip + 1e-9).unwrap(), 1.0);
    }
    // At the flip Dice does not depend on q.
    let d0 = m.dice(flip, 0.0);
    assert!((m.dice(flip, 0.37) - d0).abs() < 1e-12 && (m.dice(flip, 1.0) - d0).abs() < 1e-12);
    let m2 = Ambiguous::new(0.01, 0.3, 0.0).unwrap();
    let f2 = m2.flip_threshold();
    assert!((f2 - ((0.01f64 * 0.01 + 0.3 * 0.01).sqrt() - 0.01) / 0.3).abs() < 1e-14);
}

#[test]
fn volume_bias_at_the_dice_optimum() {
    let m = model();
    let bias = |p: f64| m.volume_bias(p, m.optimum(AmbiguousLoss::Dice, p).unwrap());
    // This model (expected counts, population limit): -ap/(c+ap) below the flip,
    // a(1-p)/(c+ap) above.
    assert!((bias(0.1) - (-0.005 / 0.055)).abs() < 1e-12); // −9.1 %
    assert!((bias(0.3) - (-0.015 / 0.065)).abs() < 1e-12); // −23.1 %
    assert!((bias(0.5) - (0.025 / 0.075)).abs() < 1e-12); // +33.3 %
                                                          // THEORY.md quotes +58 % at p = 0.3: no q ∈ [0, 1] reaches it in this model.
    assert!(m.volume_bias(0.3, 1.0) < 0.58);
    // Dice+CE lands between calibrated and all-or-nothing.
    for p in [0.1, 0.3, 0.5, 0.8] {
        let q = m.optimum(AmbiguousLoss::DiceCe, p).unwrap();
        let qd = m.optimum(AmbiguousLoss::Dice, p).unwrap();
        assert!(
            (q - p) * (qd - p) >= 0.0 && (q - p).abs() <= (qd - p).abs() + 1e-12,
            "p={p}: Dice+CE q*={q}, Dice {qd}"
        );
        assert!(q > 0.0 && q < 1.0);
    }
}

#[test]
fn view_has_curves_and_optima() {
    let m = model();
    let v = ambiguous_view(&m, 0.3, 101, 200).unwrap();
    assert_eq!(v.ps.len(), 101);
    assert_eq!(v.qs.len(), 200);
    assert_eq!(v.q_star.len(), AmbiguousLoss::ALL.len());
    let dice = &v
        .q_star
        .iter()
        .find(|r| r.0 == AmbiguousLoss::Dice)
        .unwrap()
        .1;
    for (p, q) in v.ps.iter().zip(dice) {
        assert_eq!(*q, if *p > v.flip { 1.0 } else { 0.0 });
    }
    let ce = &v
        .q_star
        .iter()
        .find(|r| r.0 == AmbiguousLoss::Ce)
        .unwrap()
        .1;
    assert_eq!(ce, &v.ps);
    for (loss, curve) in &v.normalized {
        let lo = curve.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = curve.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        assert!(lo.abs() < 1e-12 && (hi - 1.0).abs() < 1e-12, "{loss:?}");
    }
    let o = v.optimum(AmbiguousLoss::Dice).unwrap();
    assert_eq!(o.q, 0.0);
    assert!((o.volume_bias + 0.015 / 0.065).abs() < 1e-12);
    assert_eq!(v.optima_normalized.len(), 6);
}

#[test]
fn bad_parameters_are_typed_errors() {
    for (c, a, l) in [
        (0.0, 0.1, 0.1),
        (0.5, 0.6, 0.1),
        (0.1, 0.0, 0.1),
        (f64::NAN, 0.1, 0.1),
        (0.1, 0.1, -1.0),
    ] {
        assert!(matches!(
            Ambiguous::new(c, a, l),
            Err(LossError::BadParameter { .. })
        ));
    }
    let m = model();
    assert!(m.optimum(AmbiguousLoss::Ce, 1.5).is_err());
    assert!(ambiguous_view(&m, f64::NAN, 10, 10).is_err());
}
