//! The pooled view's claims at random states: every fact holds, and the batch optima agree with
//! an independent recomputation (one `Family` per image evaluated separately, a brute-force
//! grid over the shared shift, thresholded proportions by a dense integral).

mod common;

use common::Rng;
use dicelens_core::claims::pooled::pooled_claims;
use dicelens_core::pooled::{pooled_view, BatchSizes, DEFAULT_SIZES};
use dicelens_core::temperature::TempFamily;
use dicelens_core::{Family, FamilyLoss, FamilyParams};

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

#[test]
fn pooled_claims_hold_at_random_states() {
    let mut rng = Rng(0x0090_01ed);
    for case in 0..1000 {
        let sizes: Vec<f64> = if case % 4 == 0 {
            DEFAULT_SIZES.to_vec()
        } else {
            let n = rng.range(2, 12);
            (0..n).map(|_| 0.001 * 500f64.powf(rng.uniform())).collect()
        };
        let batch = BatchSizes::new(&sizes).unwrap();
        let p = FamilyParams {
            kappa: if rng.uniform() < 0.05 {
                0.0
            } else {
                5.0 * rng.uniform()
            },
            sigma: if rng.uniform() < 0.05 {
                0.0
            } else {
                4.0 * rng.uniform()
            },
            lambda: if rng.uniform() < 0.05 {
                0.0
            } else {
                10.0 * rng.uniform()
            },
            temp: match rng.below(4) {
                0 => 1.0,
                1 => 10.0,
                _ => 0.1 + 19.9 * rng.uniform(),
            },
            ..FamilyParams::default()
        };
        let v = pooled_view(&p, &batch).unwrap();
        for c in pooled_claims(&v) {
            c.verify()
                .unwrap_or_else(|e| panic!("case {case} {p:?} {sizes:?}: {e}"));
        }
        // Independent: one family per image, evaluated separately.
        let fams: Vec<Family> = sizes
            .iter()
            .map(|&u| Family::new(FamilyParams { u, ..p }).unwrap())
            .collect();
        // The loss with ŝ_T from the temperature module's per-family route (not the batch's).
        let tfams: Vec<TempFamily> = sizes
            .iter()
            .map(|&u| TempFamily::new(&FamilyParams { u, ..p }, p.temp).unwrap())
            .collect();
        let batch_loss = |loss: FamilyLoss, b: f64| {
            tfams.iter().map(|f| f.loss(loss, b)).sum::<f64>() / tfams.len() as f64
        };
        let ubar = sizes.iter().sum::<f64>() / sizes.len() as f64;
        for o in &v.optima {
            // Per-image ratios.
            for (j, f) in fams.iter().enumerate() {
                let soft = f.at(o.b).s_hat / sizes[j];
                assert!(
                    (soft - o.soft[j]).abs() < 1e-12 * (1.0 + soft),
                    "case {case}"
                );
                if case % 10 == 0 {
                    let hard = (sizes[j] * positive_fraction(p.kappa, p.sigma, o.b)
                        + (1.0 - sizes[j]) * positive_fraction(-p.kappa, p.sigma, o.b))
                        / sizes[j];
                    assert!(
                        (hard - o.hard[j]).abs() < 1e-7 * (1.0 + hard),
                        "case {case}"
                    );
                }
            }
            // The pooled CE property: mean ŝ_j = mean u_j at CE's optimum.
            if o.loss == FamilyLoss::Ce {
                let s_mean = fams.iter().map(|f| f.at(o.b).s_hat).sum::<f64>() / fams.len() as f64;
                assert!(
                    (s_mean / ubar - 1.0).abs() < 1e-8,
                    "case {case} {p:?}: pooled {}",
                    s_mean / ubar
                );
            }
            // Every 50th state: no grid shift does better.
            if case % 50 == 0 {
                let (lo, hi) = fams[0].shift_range();
                let n = 1200;
                let grid_min = (0..=n)
                    .map(|j| batch_loss(o.loss, lo + (hi - lo) * j as f64 / n as f64))
                    .fold(f64::INFINITY, f64::min);
                let at = batch_loss(o.loss, o.b);
                assert!(
                    at <= grid_min + 1e-9 * (1.0 + grid_min.abs()),
                    "case {case} {p:?} {:?}: {at} above the grid's {grid_min}",
                    o.loss
                );
            }
        }
    }
}
