//! The `gradients` view's per-pixel gradients (`dicelens_core::gradients`) against a real image.
//!
//! An actual image of `N` pixels, `round(u·N)` of them foreground, foreground logits
//! `logit(p_fg)` and background logits `logit(p_bg)`, is evaluated by the core's batch loss
//! evaluator (`losses.rs`, a different code path: per-pixel sums, not population fractions).
//! The population formula at `u' = n_fg/N` and `pixels = N` describes that image exactly, so
//! it must equal (1) `N ×` the evaluator's analytic gradient at one foreground and one
//! background pixel, to rounding, and (2) `N ×` a central finite difference of the evaluator's
//! loss values in that pixel's logit.

mod common;

use dicelens_core::gradients::{image_loss, P_MIN};
use dicelens_core::{
    pixel_gradient, pixel_gradients, Evaluator, FamilyLoss, GradParams, LossKind, RegionConfig,
};
use ndarray::{Array3, Array4};

use common::Rng;

/// The evaluator's mode and loss for each family loss: the two-class means need both classes
/// as Dice channels, which is the 2-channel softmax with logits `(0, z)` (its class-1
/// probability is `σ(z)`); every other loss is the binary one-channel sigmoid.
fn kind(loss: FamilyLoss) -> (bool, LossKind) {
    match loss {
        FamilyLoss::Ce => (false, LossKind::Ce),
        FamilyLoss::DiceFg => (false, LossKind::Dice),
        FamilyLoss::DiceMean => (true, LossKind::Dice),
        FamilyLoss::LogDiceFg => (false, LossKind::LogDice),
        FamilyLoss::LogDiceMean => (true, LossKind::LogDice),
        FamilyLoss::DiceCe => (false, LossKind::DiceCeMonai),
        FamilyLoss::CeL1 => (false, LossKind::CeL1),
        FamilyLoss::CeKl => (false, LossKind::CeKl),
    }
}

/// One image of `n` pixels (a 1 × n row): pixel 0 is foreground, pixel `n − 1` background.
struct Image {
    n: usize,
    n_fg: usize,
    z_fg: f64,
    z_bg: f64,
    cfg: RegionConfig,
}

impl Image {
    fn logits(&self, two: bool, pixel: usize, dz: f64) -> Array4<f64> {
        let z = |i: usize| {
            let base = if i < self.n_fg { self.z_fg } else { self.z_bg };
            if i == pixel {
                base + dz
            } else {
                base
            }
        };
        if two {
            Array4::from_shape_fn(
                (1, 2, 1, self.n),
                |(_, c, _, i)| if c == 0 { 0.0 } else { z(i) },
            )
        } else {
            Array4::from_shape_fn((1, 1, 1, self.n), |(_, _, _, i)| z(i))
        }
    }

    fn labels(&self) -> Array3<i64> {
        Array3::from_shape_fn((1, 1, self.n), |(_, _, i)| i64::from(i < self.n_fg))
    }

    fn loss(&self, loss: FamilyLoss, pixel: usize, dz: f64) -> f64 {
        let (two, k) = kind(loss);
        let ev = Evaluator::new(
            self.logits(two, pixel, dz).view(),
            self.labels().view(),
            self.cfg,
        )
        .expect("valid image");
        ev.losses().get(k).expect("defined")
    }

    /// `N ×` the evaluator's analytic `∂L/∂z` at `pixel`.
    fn analytic(&self, loss: FamilyLoss, pixel: usize) -> f64 {
        let (two, k) = kind(loss);
        let ev = Evaluator::new(
            self.logits(two, pixel, 0.0).view(),
            self.labels().view(),
            self.cfg,
        )
        .expect("valid image");
        let g = ev.gradient(k).expect("defined");
        self.n as f64 * g[[0, usize::from(two), 0, pixel]]
    }

    /// `N ×` the central difference of the evaluator's loss at `pixel`.
    fn finite_difference(&self, loss: FamilyLoss, pixel: usize) -> f64 {
        let h = 1e-4;
        self.n as f64 * (self.loss(loss, pixel, h) - self.loss(loss, pixel, -h)) / (2.0 * h)
    }

    fn params(&self, p_fg: f64, p_bg: f64) -> GradParams {
        GradParams {
            u: self.n_fg as f64 / self.n as f64,
            p_fg,
            p_bg,
            lambda: self.cfg.lambda,
            temp: self.cfg.temp,
            pixels: self.n as f64,
        }
    }
}

type Gradients = dyn Fn(GradParams) -> Vec<(FamilyLoss, [f64; 2])>;

/// Compares `grads` (a candidate population formula) with the image at one state; returns the
/// number of comparisons, or the first disagreement.
fn compare_at(
    u: f64,
    p_fg: f64,
    p_bg: f64,
    cfg: RegionConfig,
    grads: &Gradients,
) -> Result<usize, String> {
    let n = 2000;
    let n_fg = ((u * n as f64).round() as usize).clamp(1, n - 1);
    let p_of = |z: f64| 1.0 / (1.0 + (-z).exp());
    let (z_fg, z_bg) = ((p_fg / (1.0 - p_fg)).ln(), (p_bg / (1.0 - p_bg)).ln());
    let img = Image {
        n,
        n_fg,
        z_fg,
        z_bg,
        cfg,
    };
    // The image's own probabilities (σ of the logits), so both sides see the same numbers.
    let params = img.params(p_of(z_fg), p_of(z_bg));
    // CE+L1 has a kink where ŝ_T = u: skip it when a finite difference could cross it.
    let near_kink = (params.s_hat_t() - params.u).abs() < 1e-6 * cfg.temp.max(1.0);
    let mut count = 0;
    for (loss, g) in grads(params) {
        if loss == FamilyLoss::CeL1 && near_kink {
            continue;
        }
        for (j, pixel) in [0, n - 1].into_iter().enumerate() {
            let side = ["fg", "bg"][j];
            let exact = img.analytic(loss, pixel);
            let fd = img.finite_difference(loss, pixel);
            let state = format!("{loss:?} {side} at u={u}, p_fg={p_fg}, p_bg={p_bg}, {cfg:?}");
            if (g[j] - exact).abs() > 1e-9 * (1.0 + exact.abs()) {
                return Err(format!("{state}: population {} vs evaluator {exact}", g[j]));
            }
            if (g[j] - fd).abs() > 2e-5 * (1.0 + fd.abs()) {
                return Err(format!(
                    "{state}: population {} vs finite difference {fd}",
                    g[j]
                ));
            }
            count += 2;
        }
    }
    Ok(count)
}

fn core_gradients(p: GradParams) -> Vec<(FamilyLoss, [f64; 2])> {
    pixel_gradients(p).expect("valid")
}

const STATES: [(f64, f64, f64, f64, f64); 8] = [
    // (u, p_fg, p_bg, λ, T)
    (0.1, 0.7, 0.05, 0.1, 1.0),
    (0.01, 0.6, 0.1, 0.1, 1.0),
    (0.3, 0.7, 0.05, 1.0, 10.0),
    (0.005, 0.9, 0.001, 1.0, 1.0),
    (0.5, 0.2, 0.7, 0.5, 2.0),
    (0.05, 0.99, 0.3, 3.0, 0.5),
    (0.2, 0.4, 0.02, 0.0, 1.0),
    (0.02, 0.5, 0.5, 10.0, 5.0),
];

#[test]
fn population_gradients_match_the_evaluator_and_finite_differences() {
    let mut count = 0;
    for (u, p_fg, p_bg, lambda, temp) in STATES {
        let cfg = RegionConfig { lambda, temp };
        count += compare_at(u, p_fg, p_bg, cfg, &core_gradients).unwrap_or_else(|e| panic!("{e}"));
    }
    // 8 states × 8 losses × 2 pixels × 2 references (no state is at the L1 kink).
    assert_eq!(count, 8 * 8 * 2 * 2);
}

#[test]
fn random_states_match_the_evaluator() {
    let mut rng = Rng(0x6772_6164);
    let mut count = 0;
    for _ in 0..12 {
        let u = 10f64.powf(-2.3 + 2.0 * rng.uniform()).min(0.6);
        let p_fg = 0.02 + 0.96 * rng.uniform();
        let p_bg = 0.02 + 0.96 * rng.uniform();
        let cfg = RegionConfig {
            lambda: 3.0 * rng.uniform(),
            temp: 0.3 + 10.0 * rng.uniform(),
        };
        count += compare_at(u, p_fg, p_bg, cfg, &core_gradients).unwrap_or_else(|e| panic!("{e}"));
    }
    // Each state compares 2 × 2 numbers per loss, 7 or 8 losses (CE+L1 skipped at its kink).
    assert!(count >= 12 * 7 * 4, "{count} comparisons");
}

#[test]
fn a_wrong_gradient_is_caught() {
    let cfg = RegionConfig::default();
    // THEORY.md's small-structure approximation of foreground Dice ignores the background's
    // false positives: plausible, but not the gradient of this image.
    let approx = |p: GradParams| {
        let mut g = pixel_gradients(p).expect("valid");
        for (l, v) in &mut g {
            if *l == FamilyLoss::DiceFg {
                v[0] = -2.0 * p.p_fg * (1.0 - p.p_fg) / (p.u * (1.0 + p.p_fg).powi(2));
            }
        }
        g
    };
    let err = compare_at(0.1, 0.7, 0.05, cfg, &approx).expect_err("the approximation is caught");
    assert!(err.contains("DiceFg fg"), "{err}");
    // A forgotten temperature factor in the region term.
    let no_t = |p: GradParams| {
        let mut g = pixel_gradients(p).expect("valid");
        let ce = g[0].1;
        for (l, v) in &mut g {
            if *l == FamilyLoss::CeKl {
                for j in 0..2 {
                    v[j] = ce[j] + (v[j] - ce[j]) / p.temp;
                }
            }
        }
        g
    };
    let cfg = RegionConfig {
        lambda: 1.0,
        temp: 3.0,
    };
    let err = compare_at(0.3, 0.6, 0.3, cfg, &no_t).expect_err("the missing T is caught");
    assert!(err.contains("CeKl fg"), "{err}");
    // A gradient off by 1e-4 relative.
    let off = |p: GradParams| {
        let mut g = pixel_gradients(p).expect("valid");
        g[0].1[0] *= 1.0 + 1e-4;
        g
    };
    assert!(compare_at(0.1, 0.7, 0.05, RegionConfig::default(), &off).is_err());
}

fn grad(u: f64, p_fg: f64, p_bg: f64, loss: FamilyLoss) -> [f64; 2] {
    pixel_gradient(
        GradParams {
            u,
            p_fg,
            p_bg,
            ..GradParams::default()
        },
        loss,
    )
    .expect("valid")
}

#[test]
fn ce_pushes_every_pixel_by_its_error_whatever_u() {
    let mut count = 0;
    for u in [1e-6, 0.001, 0.01, 0.1, 0.5, 0.9] {
        for (pf, pb) in [(0.7, 0.05), (0.3, 0.6), (0.999, 0.001)] {
            let [f, b] = grad(u, pf, pb, FamilyLoss::Ce);
            assert!((f - (pf - 1.0)).abs() < 1e-15, "{u} {pf}: {f}");
            assert!((b - pb).abs() < 1e-15, "{u} {pb}: {b}");
            count += 1;
        }
    }
    assert_eq!(count, 18);
}

#[test]
fn foreground_dice_grows_like_one_over_u_until_the_false_positives_dominate() {
    let p = 0.7;
    let c = 2.0 * p * (1.0 - p) / ((1.0 + p) * (1.0 + p));
    // With a background that predicts (nearly) nothing, u·|g| is the constant 2p(1−p)/(1+p)².
    for u in [0.3, 0.1, 0.01, 0.001] {
        let [f, _] = grad(u, p, P_MIN, FamilyLoss::DiceFg);
        let rel = (u * f.abs() / c - 1.0).abs();
        assert!(
            rel < 3.0 * P_MIN / u,
            "u={u}: u·|g| = {} vs {c}",
            u * f.abs()
        );
    }
    // With p_bg > 0 it levels off at −2p(1−p)/p_bg once u ≪ p_bg.
    let q = 0.05;
    let [f, _] = grad(1e-9, p, q, FamilyLoss::DiceFg);
    let limit = -2.0 * p * (1.0 - p) / q;
    assert!((f / limit - 1.0).abs() < 1e-6, "{f} vs {limit}");
    // And |g| increases as u decreases (strictly, for any p_bg).
    let mut prev = 0.0;
    for u in dicelens_core::gradients::curve_grid().into_iter().rev() {
        let [f, _] = grad(u, p, q, FamilyLoss::DiceFg);
        assert!(f.abs() > prev, "u={u}");
        prev = f.abs();
    }
}

#[test]
fn log_dice_divides_by_dice_and_regularizers_add_one_signed_term() {
    let mut rng = Rng(7);
    for _ in 0..200 {
        let p = GradParams {
            u: 10f64.powf(-3.0 + 2.9 * rng.uniform()),
            p_fg: 0.01 + 0.98 * rng.uniform(),
            p_bg: 0.01 + 0.98 * rng.uniform(),
            lambda: 5.0 * rng.uniform(),
            temp: 0.2 + 15.0 * rng.uniform(),
            ..GradParams::default()
        };
        let g = |l| pixel_gradient(p, l).expect("valid");
        let (d, ld) = (g(FamilyLoss::DiceFg), g(FamilyLoss::LogDiceFg));
        let dice = p.dice_fg();
        for j in 0..2 {
            assert!(
                (ld[j] - d[j] / dice).abs() <= 1e-12 * (1.0 + ld[j].abs()),
                "{p:?}"
            );
        }
        // The region terms of CE+L1 and CE+KL push both pixels the same way: the sign of ŝ_T − u.
        let ce = g(FamilyLoss::Ce);
        let r = p.s_hat_t() - p.u;
        for l in [FamilyLoss::CeL1, FamilyLoss::CeKl] {
            let x = g(l);
            for j in 0..2 {
                let extra = x[j] - ce[j];
                assert!(
                    extra * r >= 0.0,
                    "{l:?} {j} {p:?}: extra {extra}, ŝ_T − u = {r}"
                );
            }
        }
        // MONAI's smoothing is invisible at N = 65536: Dice+CE ≈ CE + Dice.
        let dc = g(FamilyLoss::DiceCe);
        for j in 0..2 {
            assert!(
                (dc[j] - ce[j] - d[j]).abs() < 1e-6 * (1.0 + d[j].abs()),
                "{p:?}"
            );
        }
    }
    // Symmetry: at u = 1/2 with p_bg = 1 − p_fg, two-class mean Dice pushes both pixels equally
    // hard toward their own class.
    let [f, b] = grad(0.5, 0.8, 0.2, FamilyLoss::DiceMean);
    assert!((f + b).abs() < 1e-14 && f < 0.0, "{f} {b}");
}

#[test]
fn bad_input_is_refused_not_panicked() {
    for (u, pf, pb) in [
        (0.0, 0.5, 0.5),
        (1.0, 0.5, 0.5),
        (f64::NAN, 0.5, 0.5),
        (0.1, 0.0, 0.5),
        (0.1, 1.0, 0.5),
        (0.1, 0.5, -0.1),
        (0.1, 0.5, f64::INFINITY),
    ] {
        let p = GradParams {
            u,
            p_fg: pf,
            p_bg: pb,
            ..GradParams::default()
        };
        assert!(pixel_gradients(p).is_err(), "{p:?}");
        assert!(image_loss(p, FamilyLoss::Ce).is_err());
    }
    let p = GradParams {
        lambda: -1.0,
        ..GradParams::default()
    };
    assert!(pixel_gradients(p).is_err());
    // Extreme but valid probabilities give finite numbers.
    for (pf, pb) in [(P_MIN, 1.0 - P_MIN), (1.0 - P_MIN, P_MIN)] {
        let g = pixel_gradients(GradParams {
            u: 0.001,
            p_fg: pf,
            p_bg: pb,
            temp: 20.0,
            lambda: 10.0,
            ..GradParams::default()
        })
        .expect("valid");
        assert!(
            g.iter().all(|(_, v)| v.iter().all(|x| x.is_finite())),
            "{g:?}"
        );
    }
}
