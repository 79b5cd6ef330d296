//! The `matching` view's sentences at random states: every claim verifies, and the numbers
//! behind them are recomputed by a different route (the model's expectations integrated in
//! logit-difference coordinates with a finer grid, written here from scratch), which must
//! produce the very same sentences. CE = Σ u_k C_k is also checked against the core's CE of a
//! finite batch drawn from the model.
// Indices over classes read like the formulas.
#![allow(clippy::needless_range_loop)]

mod common;

use common::Rng;
use dicelens_core::claims::matching::{matching_claims, PAPER_SENTENCE};
use dicelens_core::claims::Fact;
use dicelens_core::matching::{matching_view, MatchingView};
use dicelens_core::{Evaluator, RegionConfig};
use ndarray::{Array3, Array4};

fn random_state(rng: &mut Rng) -> ([f64; 3], [f64; 3], f64, f64) {
    let simplex = |rng: &mut Rng| {
        // Sometimes near-equal classes, sometimes a near-empty one; always ≥ 0.01.
        let p = if rng.uniform() < 0.1 { 0.01 } else { 1.0 };
        let e = [0, 1, 2].map(|_| (-(1.0 - rng.uniform()).ln()).powf(p));
        let t: f64 = e.iter().sum();
        e.map(|v| 0.01 + 0.97 * v / t)
    };
    let u = simplex(rng);
    let s = simplex(rng);
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
    (u, s, kappa, sigma)
}

/// `E[softmax]` and `E[−log s_y]` for pixels of class `y` at biases `b`, over the logit
/// differences `δ_j = z_j − z_0 = a_j + σ (L x)_j` (`L` the Cholesky factor of
/// `[[2, 1], [1, 2]]`, `x ~ N(0, I₂)`) with a trapezoid grid of step `min(0.4, 0.5/σ)`.
fn reference_moments(y: usize, kappa: f64, sigma: f64, b: [f64; 3]) -> ([f64; 3], f64) {
    let z0: [f64; 3] = std::array::from_fn(|j| b[j] + if j == y { kappa } else { 0.0 });
    let a = [z0[1] - z0[0], z0[2] - z0[0]];
    let l = [[2f64.sqrt(), 0.0], [1.0 / 2f64.sqrt(), 1.5f64.sqrt()]];
    let h = if sigma > 0.0 {
        (0.5 / sigma).min(0.4)
    } else {
        1.0
    };
    let n = if sigma > 0.0 {
        (7.5 / h).ceil() as i64
    } else {
        0
    };
    let (mut p, mut nll, mut total) = ([0.0f64; 3], 0.0, 0.0);
    for i in -n..=n {
        for j in -n..=n {
            let (x1, x2) = (i as f64 * h, j as f64 * h);
            let w = (-0.5 * (x1 * x1 + x2 * x2)).exp();
            let d = [
                0.0,
                a[0] + sigma * (l[0][0] * x1),
                a[1] + sigma * (l[1][0] * x1 + l[1][1] * x2),
            ];
            let mx = d[0].max(d[1]).max(d[2]);
            let lse = mx + d.iter().map(|v| (v - mx).exp()).sum::<f64>().ln();
            for k in 0..3 {
                p[k] += w * (d[k] - lse).exp();
            }
            nll += w * (lse - d[y]);
            total += w;
        }
    }
    (p.map(|v| v / total), nll / total)
}

/// The view rebuilt from the reference moments at the view's biases.
fn independent(v: &MatchingView) -> MatchingView {
    let mut w = v.clone();
    let mut s_hat = [0.0; 3];
    for y in 0..3 {
        let (p, nll) = reference_moments(y, v.kappa, v.sigma, v.bias);
        for j in 0..3 {
            s_hat[j] += v.u[y] * p[j];
        }
        let c = &mut w.classes[y];
        c.c = nll;
        c.m = p[y];
        c.neg_log_m = -p[y].ln();
        c.jensen_gap = nll + p[y].ln();
    }
    w.s_hat = s_hat;
    w.ce = (0..3).map(|k| v.u[k] * w.classes[k].c).sum();
    w.dice_bound = w.classes.iter().map(|c| c.c).sum::<f64>() / 3.0;
    w.dice_matching = w.classes.iter().map(|c| c.neg_log_m).sum::<f64>() / 3.0;
    w.gap = w.classes.iter().map(|c| c.jensen_gap).sum::<f64>() / 3.0;
    w
}

#[test]
fn matching_claims_hold_at_random_states() {
    let mut rng = Rng(0x3a7c_11d0);
    let mut checked = 0usize;
    let mut relations = 0usize;
    let mut seen: Vec<String> = Vec::new();
    for i in 0..1200 {
        let (u, s, kappa, sigma) = random_state(&mut rng);
        let state = format!("state {i}: u3={u:?} s3={s:?} κ={kappa} σ={sigma}");
        let v = matching_view(u, s, kappa, sigma).unwrap_or_else(|e| panic!("{state}: {e}"));
        let claims = matching_claims(&v);
        assert_eq!(claims[0].text, PAPER_SENTENCE);
        for c in &claims {
            c.verify().unwrap_or_else(|e| panic!("{state}: {e}"));
            relations += c
                .facts
                .iter()
                .filter(|f| matches!(f, Fact::Greater { .. } | Fact::Equal { .. }))
                .count();
            if seen.len() < 20_000 {
                seen.push(c.text.clone());
            }
        }
        // The different route: the same numbers to 1e-7, the requested proportions reached,
        // Jensen per class, and the same sentences.
        let w = independent(&v);
        for k in 0..3 {
            assert!((w.s_hat[k] - s[k]).abs() < 1e-7, "{state}: ŝ {:?}", w.s_hat);
            let (a, b) = (v.classes[k], w.classes[k]);
            assert!(
                (a.c - b.c).abs() < 1e-7 && (a.neg_log_m - b.neg_log_m).abs() < 1e-7,
                "{state}: class {k} {a:?} vs {b:?}"
            );
            assert!(
                b.jensen_gap >= -1e-12,
                "{state}: Jensen fails for class {k}: {b:?}"
            );
            assert!(b.c > 0.0 && b.m < 1.0);
        }
        let again = matching_claims(&w);
        assert_eq!(
            claims.iter().map(|c| &c.text).collect::<Vec<_>>(),
            again.iter().map(|c| &c.text).collect::<Vec<_>>(),
            "{state}: the independent numbers say something else"
        );
        for c in &again {
            c.verify()
                .unwrap_or_else(|e| panic!("{state} (independent): {e}"));
        }
        checked += claims.len();
    }
    assert!(checked >= 1200 * 3, "{checked} claims");
    assert!(relations > 5000, "{relations} relations checked");
    // Every branch of every sentence was met.
    for needle in [
        "about equally large",
        "counts",
        "the bound is larger",
        "the bound is smaller",
        "is matched worse",
        "is matched better",
        "below its bound",
        "equals its bound",
        "largest for class",
    ] {
        assert!(
            seen.iter().any(|t| t.contains(needle)),
            "no state produced '{needle}'"
        );
    }
}

#[test]
fn equal_classes_say_the_weightings_coincide() {
    let v = matching_view([1.0 / 3.0; 3], [0.5, 0.3, 0.2], 1.0, 1.0).expect("view");
    let claims = matching_claims(&v);
    assert!(
        claims[1].text.contains("about equally large"),
        "{}",
        claims[1].text
    );
    assert!((v.ce - v.dice_bound).abs() < 1e-12);
    assert!(
        claims[2].text.contains("agree to 3 decimals"),
        "{}",
        claims[2].text
    );
    for c in &claims {
        c.verify().expect("verify");
    }
    // A sentence that states the wrong relation fails verification.
    let mut w = v.clone();
    w.dice_bound += 1.0;
    let mut wrong = claims[2].clone();
    if let Some(Fact::Equal { b, .. }) = wrong
        .facts
        .iter_mut()
        .find(|f| matches!(f, Fact::Equal { .. }))
    {
        *b = w.dice_bound;
    }
    assert!(wrong.verify().is_err());
}

#[test]
fn the_issue_example_reads_right() {
    // u = (0.7, 0.25, 0.05): CE puts 0.700 on the largest class and 0.050 on the smallest; Dice
    // weighs each 0.333, so the smallest counts 6.67× as much.
    let v = matching_view([0.7, 0.25, 0.05], [0.5, 0.3, 0.2], 0.5, 1.0).expect("view");
    let t = &matching_claims(&v)[1].text;
    assert!(
        t.contains("put 0.700 on the largest class (class 0) and 0.050 on the smallest (class 2)"),
        "{t}"
    );
    assert!(
        t.contains("weighs each class 0.333") && t.contains("counts 6.67× as much"),
        "{t}"
    );
    assert!(t.contains("the largest 0.48× as much"), "{t}");
}

/// CE = Σ_k u_k C_k against the core's CE of a finite batch drawn from the model at the
/// solved biases (64×64 pixels with the exact class counts): within 4 standard errors.
#[test]
fn ce_matches_a_finite_batch_of_the_model() {
    let mut rng = Rng(99);
    for trial in 0..12 {
        let (u, s, kappa, sigma) = random_state(&mut rng);
        let v = matching_view(u, s, kappa, sigma).expect("view");
        let (h, w) = (64usize, 64usize);
        let n = h * w;
        // Exact counts (up to rounding) for classes 1 and 2; class 0 the rest.
        let n1 = (v.u[1] * n as f64).round() as usize;
        let n2 = (v.u[2] * n as f64).round() as usize;
        let mut labels = Array3::<i64>::zeros((1, h, w));
        let mut logits = Array4::<f64>::zeros((1, 3, h, w));
        let mut nll = Vec::with_capacity(n);
        for p in 0..n {
            let y = if p < n1 {
                1
            } else if p < n1 + n2 {
                2
            } else {
                0
            };
            let (i, j) = (p / w, p % w);
            labels[[0, i, j]] = y as i64;
            let z: [f64; 3] = std::array::from_fn(|k| {
                kappa * if k == y { 1.0 } else { 0.0 } + sigma * rng.normal() + v.bias[k]
            });
            for k in 0..3 {
                logits[[0, k, i, j]] = z[k];
            }
            let mx = z[0].max(z[1]).max(z[2]);
            let lse = mx + z.iter().map(|x| (x - mx).exp()).sum::<f64>().ln();
            nll.push(lse - z[y]);
        }
        let ev =
            Evaluator::new(logits.view(), labels.view(), RegionConfig::default()).expect("batch");
        let ce = ev.losses().ce;
        let mean = nll.iter().sum::<f64>() / n as f64;
        assert!((ce - mean).abs() < 1e-10);
        let var = nll.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let se = (var / n as f64).sqrt();
        // The batch's proportions are the rounded ones: compare with Σ (count/N) C_k.
        let counts = [n - n1 - n2, n1, n2];
        let expected: f64 = (0..3)
            .map(|k| counts[k] as f64 / n as f64 * v.classes[k].c)
            .sum();
        assert!(
            (ce - expected).abs() <= 4.0 * se + 1e-9,
            "trial {trial} u={u:?} κ={kappa} σ={sigma}: batch CE {ce} vs Σ u_k C_k {expected} (se {se})"
        );
    }
}
