//! The temperature view's claims at random states: every fact holds, and the optima and
//! thresholded proportions they rest on agree with an independent recomputation (a brute-force
//! grid over the shift instead of the bracketed search; a dense integral of the normal density
//! instead of `Φ`).

mod common;

use common::Rng;
use dicelens_core::claims::temperature::temperature_claims;
use dicelens_core::claims::Side;
use dicelens_core::temperature::{temperature_here, TempFamily};
use dicelens_core::{Family, FamilyLoss, FamilyParams};

/// `P(centre + σε + b > 0)` by Simpson's rule on the normal density (σ > 0).
fn positive_fraction(centre: f64, sigma: f64, b: f64) -> f64 {
    if sigma == 0.0 {
        return if centre + b > 0.0 { 1.0 } else { 0.0 };
    }
    let lo = (-(centre + b) / sigma).max(-40.0);
    let hi = 40.0f64;
    if lo >= hi {
        return 0.0;
    }
    let n = 20_000;
    let h = (hi - lo) / n as f64;
    let phi = |e: f64| (-0.5 * e * e).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let mut s = phi(lo) + phi(hi);
    for k in 1..n {
        s += if k % 2 == 1 { 4.0 } else { 2.0 } * phi(lo + h * k as f64);
    }
    s * h / 3.0
}

/// `E[σ(T(m + σε))]` by the trapezoid rule on 200 001 points of `ε ∈ [−40, 40]`.
fn dense_mean_sigmoid(m: f64, sigma: f64, temp: f64) -> f64 {
    let n = 200_000;
    let h = 80.0 / n as f64;
    let mut s = 0.0;
    for k in 0..=n {
        let e = -40.0 + h * k as f64;
        let w = if k == 0 || k == n { 0.5 } else { 1.0 };
        let x = temp * (m + sigma * e);
        s += w * (-0.5 * e * e).exp() / (1.0 + (-x).exp());
    }
    s * h / (2.0 * std::f64::consts::PI).sqrt()
}

fn hard_by_integral(p: &FamilyParams, b: f64) -> f64 {
    p.u * positive_fraction(p.kappa, p.sigma, b)
        + (1.0 - p.u) * positive_fraction(-p.kappa, p.sigma, b)
}

fn random_state(rng: &mut Rng) -> (FamilyParams, f64) {
    let u = 0.001 * 500f64.powf(rng.uniform());
    let kappa = if rng.uniform() < 0.05 {
        0.0
    } else {
        5.0 * rng.uniform()
    };
    let sigma = if rng.uniform() < 0.05 {
        0.0
    } else {
        4.0 * rng.uniform()
    };
    let lambda = if rng.uniform() < 0.05 {
        0.0
    } else {
        10.0 * rng.uniform()
    };
    let temp = match rng.below(5) {
        0 => 1.0,
        1 => 10.0,
        _ => 0.1 + 19.9 * rng.uniform(),
    };
    let s = rng.uniform();
    (
        FamilyParams {
            u,
            kappa,
            sigma,
            lambda,
            temp,
            ..FamilyParams::default()
        },
        s,
    )
}

#[test]
fn temperature_claims_hold_at_random_states() {
    let mut rng = Rng(0x007e_3a11);
    for case in 0..1000 {
        let (p, s) = random_state(&mut rng);
        let here = temperature_here(&p, s).unwrap();
        let claims = temperature_claims(&here);
        for c in &claims {
            c.verify()
                .unwrap_or_else(|e| panic!("case {case} {p:?} s={s}: {e}"));
        }
        // The thresholded proportion at the current shift, by a dense integral.
        let h = hard_by_integral(&p, here.b);
        assert!(
            (h - here.hard).abs() < 1e-9,
            "case {case} {p:?}: hard {} vs integral {h}",
            here.hard
        );
        // ŝ at the current shift is the state's ŝ (bisection instead of the secant).
        let f = Family::new(p).unwrap();
        let b_bis = f.shift_for(s.clamp(1e-4, 1.0 - 1e-4));
        assert!((f.at(b_bis).s_hat - here.s).abs() < 1e-8, "case {case}");
        // At T = 1 the regularised losses sit at u, and the text says so.
        if p.temp == 1.0 {
            for (loss, name) in [(FamilyLoss::CeL1, "CE+L1"), (FamilyLoss::CeKl, "CE+KL")] {
                let o = here.optimum(loss).unwrap();
                assert!((o.soft - 1.0).abs() < 1e-3, "case {case} {p:?}: {o:?}");
                let want = format!("{name}'s soft optimum {}", Side::AtU.phrase());
                assert!(
                    claims.iter().any(|c| c.text.contains(&want)),
                    "case {case}: no '{want}'"
                );
            }
        }
        // Every 10th state: the optima against a brute-force grid over the shift.
        if case % 10 == 0 {
            let ft = TempFamily::new(&p, p.temp).unwrap();
            let (lo, hi) = ft.family.shift_range();
            for loss in [FamilyLoss::Ce, FamilyLoss::CeL1, FamilyLoss::CeKl] {
                let o = here.optimum(loss).unwrap();
                let g = |b: f64| ft.loss(loss, b);
                let n = 3000;
                let grid_min = (0..=n)
                    .map(|j| g(lo + (hi - lo) * j as f64 / n as f64))
                    .fold(f64::INFINITY, f64::min);
                assert!(
                    g(o.b) <= grid_min + 1e-9 * (1.0 + grid_min.abs()),
                    "case {case} {p:?} {loss:?}: value {} at b = {} above the grid's {grid_min}",
                    g(o.b),
                    o.b
                );
                let hard = hard_by_integral(&p, o.b) / p.u;
                assert!((hard - o.hard).abs() < 1e-7 * (1.0 + o.hard), "case {case}");
                let soft = ft.at(o.b).s_hat / p.u;
                assert!((soft - o.soft).abs() < 1e-12 * (1.0 + soft), "case {case}");
                // ŝ_T at the optimum against a dense trapezoid integral over ε.
                let s_t = p.u * dense_mean_sigmoid(p.kappa + o.b, p.sigma, p.temp)
                    + (1.0 - p.u) * dense_mean_sigmoid(o.b - p.kappa, p.sigma, p.temp);
                let got = ft.at(o.b).s_hat_t;
                assert!(
                    (got - s_t).abs() < 1e-9 + 2e-5 * s_t,
                    "case {case} {p:?}: ŝ_T {got} vs dense {s_t}"
                );
            }
        }
    }
}

/// The number printed right after `key` in `text` (up to "×").
fn ratio_after(text: &str, key: &str) -> Option<String> {
    let i = text.find(key)? + key.len();
    Some(text[i..].split('×').next()?.to_string())
}

#[test]
fn a_closer_or_farther_ratio_prints_apart_from_ces() {
    // A small λ keeps CE+L1 and CE+KL a hair from CE: their thresholded ratios print alike,
    // and the sentence must then not call one closer to u than the other.
    let mut rng = Rng(0x0a1_1c3);
    let mut alike = 0;
    for case in 0..600 {
        let (mut p, s) = random_state(&mut rng);
        p.lambda = 10f64.powf(-6.0 + 4.0 * rng.uniform());
        let here = temperature_here(&p, s).unwrap();
        for c in temperature_claims(&here) {
            c.verify()
                .unwrap_or_else(|e| panic!("case {case} {p:?} s={s}: {e}"));
            let t = &c.text;
            let Some(own) = ratio_after(t, "thresholded proportion is ") else {
                continue;
            };
            let ce = ratio_after(t, "CE's ").unwrap();
            if t.contains("closer to u than") || t.contains("farther from u than") {
                assert_ne!(own, ce, "case {case}: {t}");
            } else {
                assert!(t.contains("as close to u as"), "{t}");
                alike += 1;
            }
        }
    }
    assert!(alike > 100, "only {alike} sentences with ratios alike");
}
