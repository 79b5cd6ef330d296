//! The matching view: quadrature, bias solve, identities, refusals, and the PyTorch
//! `weight = 1/u` identity on a real finite batch.
// Indices over classes read like the formulas.
#![allow(clippy::needless_range_loop)]

mod common;

use common::Rng;
use dicelens_core::matching::{
    class_moments, matching_view, matching_view_with, step_for, NoiseRule,
};
use dicelens_core::{Evaluator, LossError, RegionConfig};
use ndarray::{Array3, Array4};

/// The plane rule integrates the projected noise's moments: `d = P ε` with `P = I − 11ᵀ/3`,
/// so `E[d] = 0`, `E[d dᵀ] = P`, and `E[d_j⁴] = 3 P_jj²` (up to the mass beyond the radius 7).
#[test]
fn plane_rule_has_the_projected_normal_moments() {
    for h in [0.1, 0.25, 0.5] {
        let rule = NoiseRule::new(h);
        assert!(rule.len() > 100 && !rule.is_empty());
        let b = [0.0; 3];
        // Read the rule through class_moments with κ = 0 and σ → a moment generating check:
        // E[softmax(σd)] = 1/3 by symmetry for every σ.
        for sigma in [0.5, 2.0, 4.0].into_iter().filter(|s| s * h <= 0.7) {
            let m = class_moments(0, 0.0, sigma, b, &rule);
            for j in 0..3 {
                assert!(
                    (m.p[j] - 1.0 / 3.0).abs() < 1e-8,
                    "h={h} σ={sigma} p{j} = {}",
                    m.p[j]
                );
            }
        }
        let pts = rule.points();
        let total: f64 = pts.iter().map(|p| p.1).sum();
        assert!((total - 1.0).abs() < 1e-12);
        for j in 0..3 {
            for l in 0..3 {
                let e: f64 = pts.iter().map(|(d, w)| w * d[j] * d[l]).sum();
                let want = if j == l { 2.0 / 3.0 } else { -1.0 / 3.0 };
                assert!((e - want).abs() < 1e-8, "h={h} E[d{j} d{l}] = {e}");
            }
            let mean: f64 = pts.iter().map(|(d, w)| w * d[j]).sum();
            assert!(mean.abs() < 1e-12);
            let k4: f64 = pts.iter().map(|(d, w)| w * d[j].powi(4)).sum();
            assert!(
                (k4 - 3.0 * (2.0f64 / 3.0).powi(2)).abs() < 1e-7,
                "h={h} E d⁴ = {k4}"
            );
        }
    }
}

/// The two-dimensional rule against a plain three-dimensional one (a 60³ midpoint-quantile
/// grid over the three independent ε_j), for the mean softmax and `E[−log s_y]`.
#[test]
fn plane_rule_equals_three_dimensional_expectation() {
    let q: Vec<f64> = dicelens_core::special::normal_midpoints(60);
    let rule = NoiseRule::new(step_for(2.0));
    for &(kappa, sigma, b) in &[
        (0.5, 1.0, [0.0, -0.3, 0.8]),
        (3.0, 0.7, [0.0, 1.0, -2.0]),
        (0.0, 2.0, [0.0, 0.2, 0.1]),
    ] {
        for y in 0..3 {
            let m = class_moments(y, kappa, sigma, b, &rule);
            let (mut p, mut nll) = ([0.0f64; 3], 0.0);
            for &e0 in &q {
                for &e1 in &q {
                    for &e2 in &q {
                        let e = [e0, e1, e2];
                        let z: [f64; 3] = std::array::from_fn(|j| {
                            b[j] + sigma * e[j] + if j == y { kappa } else { 0.0 }
                        });
                        let lse = z.iter().map(|v| v.exp()).sum::<f64>().ln();
                        for j in 0..3 {
                            p[j] += (z[j] - lse).exp();
                        }
                        nll += lse - z[y];
                    }
                }
            }
            let n = (q.len() as f64).powi(3);
            // The midpoint grid is the coarse one (error ~ 1e-3 at σ = 2).
            for j in 0..3 {
                assert!(
                    (m.p[j] - p[j] / n).abs() < 2e-3,
                    "κ={kappa} σ={sigma} y={y} p{j}: {} vs {}",
                    m.p[j],
                    p[j] / n
                );
            }
            assert!(
                (m.nll - nll / n).abs() < 5e-3 * (1.0 + m.nll),
                "κ={kappa} σ={sigma} y={y}: {} vs {}",
                m.nll,
                nll / n
            );
        }
    }
}

fn random_state(rng: &mut Rng) -> ([f64; 3], [f64; 3], f64, f64) {
    let simplex = |rng: &mut Rng| {
        let e = [0, 1, 2].map(|_| -(1.0 - rng.uniform()).ln());
        let t: f64 = e.iter().sum();
        // Away from the edges by at least 0.01.
        e.map(|v| 0.01 + 0.97 * v / t)
    };
    let u = simplex(rng);
    let s = simplex(rng);
    (u, s, 5.0 * rng.uniform(), 4.0 * rng.uniform())
}

/// The live grid against one three times finer, at random states: C_k, −log m_k, the bound
/// and the gap agree to 2e-8 (the page prints 4 decimals).
#[test]
fn live_quadrature_matches_a_finer_rule() {
    let mut rng = Rng(7);
    let mut worst = 0.0f64;
    let mut states: Vec<_> = (0..30).map(|_| random_state(&mut rng)).collect();
    // The hardest corner: the most noise, the most separation.
    states.push(([0.7, 0.25, 0.05], [0.5, 0.3, 0.2], 5.0, 4.0));
    states.push(([0.05, 0.25, 0.7], [0.2, 0.3, 0.5], 2.0, 4.0));
    for (u, s, kappa, sigma) in states {
        let a = matching_view(u, s, kappa, sigma).expect("live");
        let b = matching_view_with(u, s, kappa, sigma, step_for(sigma) / 3.0).expect("fine");
        for k in 0..3 {
            let (ca, cb) = (a.classes[k], b.classes[k]);
            worst = worst
                .max((ca.c - cb.c).abs())
                .max((ca.neg_log_m - cb.neg_log_m).abs());
        }
        worst = worst
            .max((a.dice_bound - b.dice_bound).abs())
            .max((a.gap - b.gap).abs());
    }
    assert!(worst < 2e-8, "live vs fine quadrature: {worst:e}");
    assert!(worst > 0.0, "the comparison compared nothing");
}

#[test]
fn biases_reach_the_requested_proportions_and_identities_hold() {
    let mut rng = Rng(11);
    for _ in 0..300 {
        let (u, s, kappa, sigma) = random_state(&mut rng);
        let v = matching_view(u, s, kappa, sigma)
            .unwrap_or_else(|e| panic!("{u:?} {s:?} {kappa} {sigma}: {e}"));
        for k in 0..3 {
            assert!((v.s_hat[k] - s[k]).abs() < 1e-9, "ŝ {:?} vs {s:?}", v.s_hat);
            let c = v.classes[k];
            // Jensen, per class: −log m_k ≤ C_k.
            assert!(c.jensen_gap >= -1e-12, "class {k}: {c:?}");
            assert!(c.c > 0.0 && c.m > 0.0 && c.m < 1.0);
        }
        assert!((v.bias[0]).abs() == 0.0);
        // CE = Σ u_k C_k, and the Dice bound is the plain mean of C_k.
        let ce: f64 = (0..3).map(|k| u[k] * v.classes[k].c).sum();
        assert!((v.ce - ce).abs() < 1e-12);
        let mean_c: f64 = v.classes.iter().map(|c| c.c).sum::<f64>() / 3.0;
        assert!((v.dice_bound - mean_c).abs() < 1e-12);
        assert!(v.gap >= -1e-12);
        assert!((v.log_dice - (v.dice_matching + v.dice_region)).abs() < 1e-9);
        // CE's decomposition: CE = KL + Σ u (−log prec) + Σ u (C + log m), all parts ≥ 0.
        let neg_log_prec: f64 = (0..3)
            .map(|k| -u[k] * (u[k] * v.classes[k].m / v.s_hat[k]).ln())
            .sum();
        let jensen: f64 = (0..3).map(|k| u[k] * v.classes[k].jensen_gap).sum();
        assert!((v.ce - (v.kl + neg_log_prec + jensen)).abs() < 1e-9);
        assert!(v.kl >= -1e-12 && neg_log_prec >= -1e-12);
    }
}

#[test]
fn without_noise_jensen_is_tight_and_the_model_is_closed_form() {
    // σ = 0: every pixel of class y has the same logits κ e_y + b.
    let u = [0.6, 0.3, 0.1];
    let s = [0.5, 0.3, 0.2];
    let v = matching_view(u, s, 1.5, 0.0).expect("σ = 0");
    for y in 0..3 {
        let z: [f64; 3] = std::array::from_fn(|j| v.bias[j] + if j == y { 1.5 } else { 0.0 });
        let lse = z.iter().map(|x| x.exp()).sum::<f64>().ln();
        assert!((v.classes[y].c - (lse - z[y])).abs() < 1e-12);
        assert!(v.classes[y].jensen_gap.abs() < 1e-12);
    }
    assert!(v.gap.abs() < 1e-12);
}

#[test]
fn bad_inputs_are_refused_with_a_message() {
    let ok_s = [0.5, 0.3, 0.2];
    let e = matching_view([0.8, 0.2, 0.0], ok_s, 1.0, 1.0).unwrap_err();
    assert!(e.to_string().contains("class 2 has no pixels"), "{e}");
    let e = matching_view([0.7, 0.2, 0.1], [1.0, 0.0, 0.0], 1.0, 1.0).unwrap_err();
    assert!(
        e.to_string().contains("never predicts an empty class"),
        "{e}"
    );
    assert!(matches!(
        matching_view([0.7, 0.2, 0.1], ok_s, f64::NAN, 1.0),
        Err(LossError::BadParameter { name: "kappa", .. })
    ));
    assert!(matching_view([0.7, 0.2, 0.1], ok_s, 1.0, -1.0).is_err());
    assert!(matching_view([-0.1, 0.6, 0.5], ok_s, 1.0, 1.0).is_err());
    assert!(matching_view([0.0, 0.0, 0.0], ok_s, 1.0, 1.0).is_err());
    assert!(matching_view([0.7, 0.2, f64::INFINITY], ok_s, 1.0, 1.0).is_err());
    // Proportions that do not sum to 1 are rescaled, not refused.
    let a = matching_view([7.0, 2.0, 1.0], [5.0, 3.0, 2.0], 1.0, 1.0).expect("rescaled");
    let b = matching_view([0.7, 0.2, 0.1], ok_s, 1.0, 1.0).expect("plain");
    assert!((a.ce - b.ce).abs() < 1e-12);
    // Extreme but valid states solve (no panic, finite numbers).
    for (u, s, k, sg) in [
        ([0.998, 0.001, 0.001], [0.0001, 0.0001, 0.9998], 5.0, 0.0),
        ([0.001, 0.001, 0.998], [0.9998, 0.0001, 0.0001], 20.0, 20.0),
        ([1.0 / 3.0; 3], [1.0 / 3.0; 3], 0.0, 0.0),
    ] {
        let v = matching_view(u, s, k, sg).unwrap_or_else(|e| panic!("{u:?} {s:?}: {e}"));
        assert!(v.ce.is_finite() && v.gap.is_finite(), "{v:?}");
        for j in 0..3 {
            assert!(
                (v.s_hat[j] - s[j]).abs() < 1e-8 * s[j].max(1e-3),
                "{:?} vs {s:?}",
                v.s_hat
            );
        }
    }
}

/// THEORY.md: "(1/K) Σ_k C_k is CE with class weights 1/u_k (`F.cross_entropy(weight=1/u)`)".
/// On a real finite batch: PyTorch's weighted mean `Σ_i w_{y_i}(−log s_{y_i,i}) / Σ_i w_{y_i}`
/// with `w = 1/u`, computed from the (B=1, K=3, H, W) logits directly, equals the mean of the
/// per-class matching terms `C_k` that the core's evaluator reports; the unweighted mean is
/// the core's CE = Σ u_k C_k.
#[test]
fn torch_weighted_cross_entropy_is_the_mean_matching_term() {
    let mut rng = Rng(2024);
    for trial in 0..20 {
        let (h, w) = (rng.range(3, 17), rng.range(3, 17));
        let mut labels = Array3::<i64>::zeros((1, h, w));
        let mut logits = Array4::<f64>::zeros((1, 3, h, w));
        for i in 0..h {
            for j in 0..w {
                // Every class present (the first three pixels), then random labels.
                let y = if i == 0 && j < 3 { j } else { rng.below(3) };
                labels[[0, i, j]] = y as i64;
                for k in 0..3 {
                    logits[[0, k, i, j]] =
                        if k == y { 1.0 } else { 0.0 } + 1.5 * rng.normal() + 0.3 * k as f64;
                }
            }
        }
        let n = (h * w) as f64;
        let mut count = [0.0f64; 3];
        for y in labels.iter() {
            count[*y as usize] += 1.0;
        }
        let u = count.map(|c| c / n);
        // PyTorch's F.cross_entropy(logits, labels, weight=1/u), reduction="mean".
        let (mut num, mut den, mut plain) = (0.0, 0.0, 0.0);
        for i in 0..h {
            for j in 0..w {
                let y = labels[[0, i, j]] as usize;
                let z: Vec<f64> = (0..3).map(|k| logits[[0, k, i, j]]).collect();
                let mx = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let lse = mx + z.iter().map(|v| (v - mx).exp()).sum::<f64>().ln();
                let nll = lse - z[y];
                num += nll / u[y];
                den += 1.0 / u[y];
                plain += nll;
            }
        }
        let weighted = num / den;
        let ev =
            Evaluator::new(logits.view(), labels.view(), RegionConfig::default()).expect("batch");
        let c: Vec<f64> = ev
            .dice_decomposition(0)
            .iter()
            .map(|d| d.ce_matching.expect("present"))
            .collect();
        let mean_c = c.iter().sum::<f64>() / 3.0;
        assert!(
            (weighted - mean_c).abs() < 1e-12,
            "trial {trial}: weighted CE {weighted} vs mean C_k {mean_c}"
        );
        let ce = ev.losses().ce;
        assert!((plain / n - ce).abs() < 1e-12);
        let sum_uc: f64 = (0..3).map(|k| u[k] * c[k]).sum();
        assert!((ce - sum_uc).abs() < 1e-12);
        // And the two differ unless the classes are equally large.
        if (u[0] - u[1]).abs() > 0.05 || (u[1] - u[2]).abs() > 0.05 {
            assert!((weighted - ce).abs() > 1e-9 || c.iter().all(|x| (x - c[0]).abs() < 1e-6));
        }
    }
}
