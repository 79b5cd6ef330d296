//! The bias map (fast warm-started minimizers against the full search) and the family
//! decomposition (parts sum to the losses; the same parts as the `Evaluator` computes on a
//! large image sampled from the family).

use dicelens_core::special::normal_quantile;
use dicelens_core::{
    bias_map, log_grid, Evaluator, Family, FamilyLoss, FamilyParams, RegionConfig,
};
use ndarray::{Array3, Array4};

const DICE_TYPE: [FamilyLoss; 5] = [
    FamilyLoss::DiceFg,
    FamilyLoss::DiceMean,
    FamilyLoss::LogDiceFg,
    FamilyLoss::LogDiceMean,
    FamilyLoss::DiceCe,
];

#[test]
fn log_grid_is_geometric() {
    let g = log_grid(0.001, 0.5, 40);
    assert_eq!(g.len(), 40);
    assert_eq!(g[0], 0.001);
    assert_eq!(g[39], 0.5);
    let r = g[1] / g[0];
    for w in g.windows(2) {
        assert!((w[1] / w[0] - r).abs() < 1e-12);
    }
    assert!(log_grid(0.0, 1.0, 5).is_empty());
    assert!(log_grid(0.1, f64::NAN, 5).is_empty());
    assert_eq!(log_grid(0.2, 0.5, 1), vec![0.2]);
}

#[test]
fn bias_map_matches_the_full_search() {
    let us = log_grid(0.001, 0.5, 14);
    for (kappa, sigma, temp) in [
        (0.5, 1.0, 1.0),
        (2.0, 2.0, 1.0),
        (4.5, 3.0, 1.0),
        (1.0, 2.0, 10.0),
    ] {
        let params = FamilyParams {
            kappa,
            sigma,
            temp,
            lambda: 1.0,
            ..FamilyParams::default()
        };
        let map = bias_map(params, &us, &FamilyLoss::ALL).unwrap();
        assert_eq!(map.len(), FamilyLoss::ALL.len());
        for (loss, row) in &map {
            assert_eq!(row.len(), us.len());
            for (&u, &s) in us.iter().zip(row) {
                let f = Family::new(FamilyParams { u, ..params }).unwrap();
                let want = f.minimize(*loss).s_hat;
                assert!(
                    (s - want).abs() <= 2e-6 * want.max(1e-3),
                    "{loss:?} κ={kappa} σ={sigma} T={temp} u={u}: {s} vs {want}"
                );
            }
        }
        let ce = &map.iter().find(|r| r.0 == FamilyLoss::Ce).unwrap().1;
        assert_eq!(ce, &us);
    }
}

#[test]
fn bias_map_reproduces_theory_ratios() {
    // THEORY.md: foreground Dice ŝ*/u at u = 0.005, 0.1, 0.5 for κ = 0.5, σ = 1: 8.75, 2.99, 1.80.
    let us = [0.005, 0.1, 0.5];
    let map = bias_map(FamilyParams::default(), &us, &[FamilyLoss::DiceFg]).unwrap();
    for ((u, s), want) in us.iter().zip(&map[0].1).zip([8.75, 2.99, 1.80]) {
        assert!((s / u - want).abs() < 0.01, "u={u}: {}", s / u);
    }
    // Unsorted input works too.
    let un = [0.3, 0.002, 0.05];
    let a = bias_map(FamilyParams::default(), &un, &[FamilyLoss::DiceMean]).unwrap();
    for (u, s) in un.iter().zip(&a[0].1) {
        let f = Family::new(FamilyParams {
            u: *u,
            ..FamilyParams::default()
        })
        .unwrap();
        assert!((s - f.minimize(FamilyLoss::DiceMean).s_hat).abs() < 1e-6 * s);
    }
    assert!(bias_map(FamilyParams::default(), &[0.0], &[FamilyLoss::Ce]).is_err());
}

/// The bias map's shape at the app's size (speed is measured by `dicelens-bench`, not
/// asserted here).
#[test]
fn bias_map_covers_every_u_and_loss() {
    let us = log_grid(0.001, 0.5, 40);
    let m = bias_map(FamilyParams::default(), &us, &DICE_TYPE).unwrap();
    assert_eq!(m.len(), 5);
    for (l, v) in &m {
        assert_eq!(v.len(), 40, "{l:?}");
        assert!(
            v.iter().all(|s| s.is_finite() && *s > 0.0 && *s < 1.0),
            "{l:?}"
        );
    }
}

#[test]
fn decomposition_parts_sum_to_the_losses() {
    for (kappa, sigma, u, lambda, temp) in [
        (0.5, 1.0, 0.1, 0.1, 1.0),
        (2.0, 2.0, 0.02, 1.0, 10.0),
        (3.0, 1.0, 0.6, 0.5, 1.0),
    ] {
        let f = Family::new(FamilyParams {
            u,
            kappa,
            sigma,
            lambda,
            temp,
            ..FamilyParams::default()
        })
        .unwrap();
        for s in [0.3 * u, u, 2.5 * u.min(0.3)] {
            let pt = f.at(f.shift_for(s));
            let d = f.decomposition(&pt);
            assert!((d.ce - pt.ce).abs() < 1e-9);
            assert!((d.kl + d.neg_log_precision + d.jensen_gap - pt.ce).abs() < 1e-9);
            assert!((d.entropy + d.kl + d.neg_info - pt.ce).abs() < 1e-9);
            assert!(d.kl >= -1e-12 && d.neg_log_precision >= -1e-12 && d.jensen_gap >= -1e-12);
            let [bg, fg] = d.classes;
            assert!((fg.neg_log_dice - f.loss(FamilyLoss::LogDiceFg, &pt)).abs() < 1e-9);
            assert!(
                (0.5 * (fg.neg_log_dice + bg.neg_log_dice) - f.loss(FamilyLoss::LogDiceMean, &pt))
                    .abs()
                    < 1e-9
            );
            for c in [bg, fg] {
                assert!((c.neg_log_m + c.region - c.neg_log_dice).abs() < 1e-9);
                assert!(c.neg_log_m <= c.ce_matching + 1e-12, "Jensen");
            }
            assert!((d.ce + d.l1_extra - f.loss(FamilyLoss::CeL1, &pt)).abs() < 1e-12);
            assert!((d.ce + d.kl_extra - f.loss(FamilyLoss::CeKl, &pt)).abs() < 1e-12);
            assert_eq!(d.lambda, lambda);
        }
    }
}

#[test]
fn decomposition_matches_the_evaluator_on_a_sampled_image() {
    let (kappa, sigma, u) = (1.0, 1.5, 0.1);
    let f = Family::new(FamilyParams {
        u,
        kappa,
        sigma,
        quad: 201,
        ..FamilyParams::default()
    })
    .unwrap();
    let pt = f.at(f.shift_for(0.15));
    let d = f.decomposition(&pt);
    // An image of 400×500 pixels: the first 10 % foreground. Each class's noise is the
    // stratified sample ε_i = Φ⁻¹((i + ½)/n) of the normal, so sums approximate expectations.
    let (h, w) = (400, 500);
    let n = h * w;
    let n_fg = (u * n as f64).round() as usize;
    let mut logits = Array4::<f64>::zeros((1, 1, h, w));
    let mut labels = Array3::<i64>::zeros((1, h, w));
    for idx in 0..n {
        let (i, j) = (idx / w, idx % w);
        let (y, rank, count) = if idx < n_fg {
            (1, idx, n_fg)
        } else {
            (0, idx - n_fg, n - n_fg)
        };
        let eps = normal_quantile((rank as f64 + 0.5) / count as f64);
        labels[[0, i, j]] = y;
        logits[[0, 0, i, j]] = kappa * (2.0 * y as f64 - 1.0) + sigma * eps + pt.b;
    }
    let ev = Evaluator::new(logits.view(), labels.view(), RegionConfig::default()).unwrap();
    let ce = ev.ce_decomposition(0);
    let close = |a: f64, b: f64, what: &str| {
        assert!(
            (a - b).abs() < 2e-3 * b.abs().max(0.05),
            "{what}: {a} vs {b}"
        );
    };
    close(ce.ce, d.ce, "ce");
    close(ce.kl, d.kl, "kl");
    close(ce.neg_log_precision, d.neg_log_precision, "−log prec");
    close(ce.jensen_gap, d.jensen_gap, "jensen gap");
    close(ce.entropy, d.entropy, "H(u)");
    close(ce.neg_info, d.neg_info, "−Î");
    let dice = ev.dice_decomposition(0);
    for (k, part) in d.classes.iter().enumerate() {
        let e = &dice[k];
        close(e.u, part.u, "u");
        close(e.s_hat, part.s_hat, "ŝ");
        close(e.matching.unwrap(), part.neg_log_m, "−log m");
        close(e.region.unwrap(), part.region, "region");
        close(e.ce_matching.unwrap(), part.ce_matching, "C_k");
        close(e.neg_log_dice.unwrap(), part.neg_log_dice, "−log Dice");
    }
}
