//! Dice-loss presets against an independent loop reference written from each library's source:
//! MONAI `monai/losses/dice.py` (DiceLoss: smooth_nr = smooth_dr = 1e-5, per image and class,
//! include_background=True, mean), segmentation_models_pytorch `losses/dice.py` +
//! `losses/_functional.py` (dims = (0, 2): sums over batch and pixels per class,
//! `(2I + smooth)/(card + smooth).clamp_min(eps)`, smooth = 0, eps = 1e-7,
//! `loss *= y_true.sum(dims) > 0`, `loss.mean()`), nnU-Net v2 `training/loss/dice.py`
//! (MemoryEfficientSoftDiceLoss: do_bg=False, batch_dice, smooth = 1e-5, clip 1e-8, `-dc.mean()`)
//! + `compound_losses.py` (DC_and_CE_loss = CE + Dice term).

mod common;

use dicelens_core::conventions::training_loss_from;
use dicelens_core::{
    dice_loss, dice_loss_from, evaluate, Convention, Evaluator, Family, FamilyLoss, FamilyParams,
    RegionConfig,
};
use ndarray::{Array3, Array4};

use common::Rng;

/// Batch (B=3, K=4, 5×6): class 3 never appears in the labels; class 2 is absent from image 1.
fn batch() -> (Array4<f64>, Array3<i64>) {
    let (b, k, h, w) = (3, 4, 5, 6);
    let mut rng = Rng(42);
    let logits = Array4::from_shape_fn((b, k, h, w), |_| 4.0 * rng.uniform() - 2.0);
    let labels = Array3::from_shape_fn((b, h, w), |(bi, i, j)| {
        let c = ((i * 7 + j * 3 + bi) % 5) as i64 % 3; // classes 0..3
        if bi == 1 && c == 2 {
            0
        } else {
            c
        }
    });
    (logits, labels)
}

/// Per image, per class `(Σy, Σys, Σs)` by direct loops over pixels (softmax written out).
fn sums(logits: &Array4<f64>, labels: &Array3<i64>) -> Vec<Vec<(f64, f64, f64)>> {
    let (b, k, h, w) = logits.dim();
    let mut out = vec![vec![(0.0, 0.0, 0.0); k]; b];
    for bi in 0..b {
        for i in 0..h {
            for j in 0..w {
                let mx = (0..k)
                    .map(|c| logits[[bi, c, i, j]])
                    .fold(f64::NEG_INFINITY, f64::max);
                let z: f64 = (0..k).map(|c| (logits[[bi, c, i, j]] - mx).exp()).sum();
                for c in 0..k {
                    let s = (logits[[bi, c, i, j]] - mx).exp() / z;
                    let y = if labels[[bi, i, j]] == c as i64 {
                        1.0
                    } else {
                        0.0
                    };
                    out[bi][c].0 += y;
                    out[bi][c].1 += y * s;
                    out[bi][c].2 += s;
                }
            }
        }
    }
    out
}

fn reference(conv: Convention, s: &[Vec<(f64, f64, f64)>]) -> f64 {
    let (b, k) = (s.len(), s[0].len());
    match conv {
        Convention::Paper | Convention::Monai => {
            let sm = if conv == Convention::Monai { 1e-5 } else { 0.0 };
            let mut acc = 0.0;
            for img in s {
                for &(y, ys, ps) in img {
                    acc += if y + ps + sm == 0.0 {
                        1.0
                    } else {
                        (2.0 * ys + sm) / (y + ps + sm)
                    };
                }
            }
            1.0 - acc / (b * k) as f64
        }
        Convention::Smp => {
            let mut losses = Vec::new();
            for c in 0..k {
                let (y, ys, ps) = s.iter().fold((0.0, 0.0, 0.0), |a, img| {
                    (a.0 + img[c].0, a.1 + img[c].1, a.2 + img[c].2)
                });
                let score = (2.0 * ys + 0.0) / f64::max(y + ps + 0.0, 1e-7);
                losses.push((1.0 - score) * if y > 0.0 { 1.0 } else { 0.0 });
            }
            losses.iter().sum::<f64>() / losses.len() as f64
        }
        Convention::NnUnet => {
            let mut dcs = Vec::new();
            for c in 1..k {
                let (y, ys, ps) = s.iter().fold((0.0, 0.0, 0.0), |a, img| {
                    (a.0 + img[c].0, a.1 + img[c].1, a.2 + img[c].2)
                });
                dcs.push((2.0 * ys + 1e-5) / f64::max(y + ps + 1e-5, 1e-8));
            }
            -dcs.iter().sum::<f64>() / dcs.len() as f64
        }
    }
}

#[test]
fn multiclass_presets_match_the_loop_reference() {
    let (logits, labels) = batch();
    let s = sums(&logits, &labels);
    let mut seen = Vec::new();
    for conv in Convention::ALL {
        let got = dice_loss(conv, logits.view(), labels.view()).unwrap();
        let want = reference(conv, &s);
        assert!((got - want).abs() < 1e-12, "{conv:?}: {got} vs {want}");
        seen.push(got);
    }
    // Every preset gives a different number on this batch.
    for i in 0..seen.len() {
        for j in 0..i {
            assert!((seen[i] - seen[j]).abs() > 1e-9, "{i} vs {j}");
        }
    }
    // The absent class 3 makes smp's masking matter: without it the loss would be larger.
    let smp = seen[2];
    let unmasked: f64 = {
        let k = s[0].len();
        (0..k)
            .map(|c| {
                let (y, ys, ps) = s.iter().fold((0.0, 0.0, 0.0), |a, img| {
                    (a.0 + img[c].0, a.1 + img[c].1, a.2 + img[c].2)
                });
                1.0 - 2.0 * ys / (y + ps)
            })
            .sum::<f64>()
            / k as f64
    };
    assert!(unmasked > smp + 0.1);
    // Paper and MONAI agree with the core's own losses.
    let l = evaluate(logits.view(), labels.view(), RegionConfig::default()).unwrap();
    assert!((seen[0] - l.dice).abs() < 1e-12);
    assert!((seen[1] - l.dice_monai).abs() < 1e-12);
    // nnU-Net trains with CE added.
    let ev = Evaluator::new(logits.view(), labels.view(), RegionConfig::default()).unwrap();
    assert!((training_loss_from(Convention::NnUnet, &ev) - (seen[3] + l.ce)).abs() < 1e-12);
    assert_eq!(training_loss_from(Convention::Smp, &ev), seen[2]);
}

#[test]
fn binary_presets_score_the_foreground_channel() {
    let (b, h, w) = (2, 4, 5);
    let mut rng = Rng(7);
    let logits = Array4::from_shape_fn((b, 1, h, w), |_| 6.0 * rng.uniform() - 3.0);
    let labels = Array3::from_shape_fn((b, h, w), |(_, i, j)| ((i + 2 * j) % 3 == 0) as i64);
    // Reference: sigmoid foreground sums per image.
    let mut per = vec![(0.0, 0.0, 0.0); b];
    for bi in 0..b {
        for i in 0..h {
            for j in 0..w {
                let s = 1.0 / (1.0 + (-logits[[bi, 0, i, j]]).exp());
                let y = labels[[bi, i, j]] as f64;
                per[bi].0 += y;
                per[bi].1 += y * s;
                per[bi].2 += s;
            }
        }
    }
    let pooled = per
        .iter()
        .fold((0.0, 0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1, a.2 + p.2));
    let paper = 1.0 - per.iter().map(|p| 2.0 * p.1 / (p.0 + p.2)).sum::<f64>() / b as f64;
    let monai = 1.0
        - per
            .iter()
            .map(|p| (2.0 * p.1 + 1e-5) / (p.0 + p.2 + 1e-5))
            .sum::<f64>()
            / b as f64;
    let smp = 1.0 - 2.0 * pooled.1 / (pooled.0 + pooled.2);
    let nnunet = -(2.0 * pooled.1 + 1e-5) / (pooled.0 + pooled.2 + 1e-5);
    for (conv, want) in [
        (Convention::Paper, paper),
        (Convention::Monai, monai),
        (Convention::Smp, smp),
        (Convention::NnUnet, nnunet),
    ] {
        let got = dice_loss(conv, logits.view(), labels.view()).unwrap();
        assert!((got - want).abs() < 1e-12, "{conv:?}: {got} vs {want}");
    }
}

#[test]
fn family_presets_agree_with_the_family_losses() {
    let f = Family::new(FamilyParams {
        pixels: 1000.0,
        ..FamilyParams::default()
    })
    .unwrap();
    for s in [0.02, 0.1, 0.4] {
        let pt = f.at(f.shift_for(s));
        let plain = f.loss(FamilyLoss::DiceFg, &pt);
        assert!((f.dice_with(Convention::Paper, &pt) - plain).abs() < 1e-12);
        assert!((f.dice_with(Convention::Smp, &pt) - plain).abs() < 1e-12);
        // MONAI's smoothing: DiceCe − BCE.
        let monai = f.loss(FamilyLoss::DiceCe, &pt) - pt.ce;
        assert!((f.dice_with(Convention::Monai, &pt) - monai).abs() < 1e-12);
        let nn = f.dice_with(Convention::NnUnet, &pt);
        assert!((nn - (monai - 1.0)).abs() < 1e-12, "nnU-Net is −Dice: {nn}");
        assert!((f.training_loss_with(Convention::NnUnet, &pt) - (nn + pt.ce)).abs() < 1e-15);
    }
}

#[test]
fn keys_round_trip_and_errors_propagate() {
    for c in Convention::ALL {
        assert_eq!(Convention::from_key(c.key()), Some(c));
        assert!(!c.label().is_empty() && !c.description().is_empty());
    }
    let logits = Array4::<f64>::zeros((1, 2, 2, 2));
    let labels = Array3::<i64>::from_elem((1, 2, 3), 0);
    assert!(dice_loss(Convention::Paper, logits.view(), labels.view()).is_err());
    let labels = Array3::<i64>::from_elem((1, 2, 2), 5);
    assert!(dice_loss(Convention::Smp, logits.view(), labels.view()).is_err());
    let ev = Evaluator::new(
        logits.view(),
        Array3::<i64>::zeros((1, 2, 2)).view(),
        RegionConfig::default(),
    )
    .unwrap();
    // All-background batch: smp masks class 1 (absent) to 0 but counts it in the mean.
    let smp = dice_loss_from(Convention::Smp, &ev);
    assert!((smp - (1.0 - 4.0 / 6.0) / 2.0).abs() < 1e-12, "{smp}");
}
