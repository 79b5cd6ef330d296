//! Central finite-difference checks of both models' parameter gradients under every loss of
//! the core, binary (one sigmoid channel) and 3-class (softmax), in `f64` on 6×10 images (one 8-pixel vector chunk plus a scalar tail per row).

use dicelens_core::train::rng::Rng;
use dicelens_core::train::{ModelKind, Net, Scratch};
use dicelens_core::{LossKind, RegionConfig};
use ndarray::Array3;

fn batch(classes: usize, seed: u64) -> (Array3<f64>, Array3<i64>) {
    let mut rng = Rng::new(seed);
    let labels = Array3::from_shape_simple_fn((2, 6, 10), || rng.below(classes) as i64);
    let images = labels.mapv(|y| y as f64 + 0.7 * rng.normal());
    (images, labels)
}

/// Largest `|fd − analytic| / (1e-6 + |fd| + |analytic|)` over all parameters.
/// With `corrupt`, one analytic component is scaled by 1.01 first (the check must catch it).
fn worst_error(
    kind: ModelKind,
    classes: usize,
    loss: LossKind,
    region: RegionConfig,
    corrupt: bool,
) -> f64 {
    let (images, labels) = batch(classes, 7 + classes as u64);
    let mut net = Net::<f64>::new(kind, classes, 3);
    // Non-zero biases and context weights, so every path carries gradient.
    let mut rng = Rng::new(11);
    for p in net.params_mut() {
        *p += 0.05 * rng.normal();
    }
    let mut scratch = Scratch::default();
    let value = |net: &Net<f64>, s: &mut Scratch<f64>| {
        net.loss_and_grad(images.view(), labels.view(), loss, region, s)
            .expect("valid input")
            .expect("defined loss")
    };
    value(&net, &mut scratch);
    let mut analytic = scratch.grad.clone();
    if corrupt {
        let j = analytic.len() - 1; // the head bias: always a sizeable gradient
        analytic[j] *= 1.01;
    }
    let h = 1e-5;
    let mut worst = 0.0f64;
    for (j, &an) in analytic.iter().enumerate() {
        let p0 = net.params()[j];
        net.params_mut()[j] = p0 + h;
        let up = value(&net, &mut scratch);
        net.params_mut()[j] = p0 - h;
        let down = value(&net, &mut scratch);
        net.params_mut()[j] = p0;
        let fd = (up - down) / (2.0 * h);
        let err = (fd - an).abs() / (1e-6 + fd.abs() + an.abs());
        worst = worst.max(err);
    }
    worst
}

fn check_all(kind: ModelKind) {
    let mut report = Vec::new();
    for classes in [2, 3] {
        for region in [
            RegionConfig {
                lambda: 0.7,
                temp: 1.0,
            },
            RegionConfig::AUTHORS,
        ] {
            for loss in LossKind::ALL {
                let uses_temp = matches!(
                    loss,
                    LossKind::L1 | LossKind::Kl | LossKind::CeL1 | LossKind::CeKl
                );
                if region.temp != 1.0 && !uses_temp {
                    continue; // T only enters the region terms
                }
                let e = worst_error(kind, classes, loss, region, false);
                report.push(format!(
                    "{} K={classes} T={} {loss:?}: {e:.2e}",
                    kind.key(),
                    region.temp
                ));
                assert!(
                    e < 1e-4,
                    "gradient check failed: {}",
                    report.last().unwrap()
                );
            }
        }
    }
    eprintln!("{}", report.join("\n"));
}

#[test]
fn logistic5_gradients_match_finite_differences_under_every_loss() {
    check_all(ModelKind::Logistic5);
}

#[test]
fn cnn8_gradients_match_finite_differences_under_every_loss() {
    check_all(ModelKind::Cnn8);
}

#[test]
fn a_wrong_gradient_is_caught() {
    for kind in ModelKind::ALL {
        let e = worst_error(kind, 2, LossKind::DiceMonai, RegionConfig::default(), true);
        assert!(e > 1e-3, "{kind:?}: a 1% error went unnoticed ({e:.2e})");
    }
}
