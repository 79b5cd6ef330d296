//! `OneLoss` (the trainer's path: one loss, only the sums it uses) gives the value and the
//! gradient of `Evaluator::new`, bit for bit, for every loss on random batches: binary and
//! multiclass, `T = 1` and not, `λ = 0` and not, confident logits and empty classes.

mod common;

use common::Rng;
use dicelens_core::losses::{Evaluator, LossKind, OneLoss, RegionConfig};
use ndarray::{Array3, Array4};

fn bits(v: Option<f64>) -> Option<u64> {
    v.map(f64::to_bits)
}

#[test]
fn one_loss_equals_the_full_evaluator_bit_for_bit() {
    let mut rng = Rng(0x0e1_0550);
    let mut compared = 0;
    for case in 0..300 {
        let b = rng.range(1, 3);
        let k = rng.range(1, 4);
        let (h, w) = (rng.range(1, 6), rng.range(1, 7));
        let scale = [0.3, 2.0, 8.0, 40.0][case % 4];
        let logits = Array4::from_shape_fn((b, k, h, w), |_| scale * rng.normal());
        let classes = if k == 1 { 2 } else { k };
        // Some batches leave classes out (one label only).
        let only = (case % 5 == 0).then(|| rng.below(classes) as i64);
        let labels = Array3::from_shape_fn((b, h, w), |_| {
            only.unwrap_or_else(|| rng.below(classes) as i64)
        });
        let cfg = RegionConfig {
            lambda: [0.0, 0.1, 1.0, 7.5][rng.below(4)],
            temp: [1.0, 0.3, 10.0][rng.below(3)],
        };
        let full = Evaluator::new(logits.view(), labels.view(), cfg).unwrap();
        let values = full.losses();
        for kind in LossKind::ALL {
            let one = OneLoss::new(logits.view(), labels.view(), cfg, kind).unwrap();
            let state = format!("case {case}, {kind:?}, B {b} K {k} {h}×{w}, {cfg:?}");
            assert_eq!(bits(one.value()), bits(values.get(kind)), "value: {state}");
            let Some(_) = values.get(kind) else { continue };
            let want = full.gradient(kind).unwrap();
            let mut got = Array4::from_elem(want.dim(), f64::NAN);
            one.gradient_into(&mut got).unwrap();
            for (i, (g, e)) in got.iter().zip(want.iter()).enumerate() {
                assert_eq!(g.to_bits(), e.to_bits(), "gradient entry {i}: {state}");
            }
            compared += 1;
        }
    }
    assert!(compared > 2500, "only {compared} gradients compared");
}

#[test]
fn one_loss_refuses_what_the_evaluator_refuses() {
    let logits = Array4::from_elem((1, 2, 2, 2), f64::NAN);
    let labels = Array3::<i64>::zeros((1, 2, 2));
    let cfg = RegionConfig {
        lambda: 0.1,
        temp: 1.0,
    };
    let want = Evaluator::new(logits.view(), labels.view(), cfg)
        .unwrap_err()
        .to_string();
    for kind in LossKind::ALL {
        let got = OneLoss::new(logits.view(), labels.view(), cfg, kind).unwrap_err();
        assert_eq!(got.to_string(), want, "{kind:?}");
    }
    let bad_labels = Array3::from_elem((1, 2, 2), 5i64);
    let ok_logits = Array4::<f64>::zeros((1, 2, 2, 2));
    let want = Evaluator::new(ok_logits.view(), bad_labels.view(), cfg)
        .unwrap_err()
        .to_string();
    let got = OneLoss::new(ok_logits.view(), bad_labels.view(), cfg, LossKind::Dice).unwrap_err();
    assert_eq!(got.to_string(), want);
}
