//! The data view's claims at random data sets: every fact holds, and the numbers and sides
//! they state agree with an independent recomputation from the raw arrays (plain `exp`
//! sigmoid/softmax, counting pixels, a brute-force histogram, and `Family::minimize`'s full
//! search instead of the bias map's warm-started one).

mod common;

use common::Rng;
use dicelens_core::audit::{audit_arrays, AuditConfig, PredKind, HIST_BINS, HIST_LO};
use dicelens_core::claims::audit::audit_claims;
use dicelens_core::claims::{Fact, Side, AT_U_TOL};
use dicelens_core::{Family, FamilyLoss, FamilyParams, RegionConfig};
use ndarray::{Array3, Array4};

struct Case {
    labels: Array3<i64>,
    preds: Option<(Array4<f64>, PredKind)>,
    cfg: AuditConfig,
}

fn random_case(rng: &mut Rng) -> Case {
    let b = rng.range(1, 6);
    let (h, w) = (rng.range(4, 16), rng.range(4, 16));
    let n = h * w;
    let k = match rng.below(4) {
        0 => 0, // labels only
        1 => 2,
        2 => 3,
        _ => 1,
    };
    let classes = if k == 3 { 3 } else { 2 };
    let mut labels = Array3::<i64>::zeros((b, h, w));
    for i in 0..b {
        let mut idx: Vec<usize> = (0..n).collect();
        for j in (1..n).rev() {
            idx.swap(j, rng.below(j + 1));
        }
        let mut at = 0;
        for c in 1..classes {
            let count = match rng.below(6) {
                0 => 0,
                _ => ((n as f64).powf(rng.uniform()) as usize).min(n / 2),
            };
            for &p in &idx[at..at + count] {
                labels[[i, p / w, p % w]] = c as i64;
            }
            at += count;
        }
    }
    let preds = (k > 0).then(|| {
        let kappa = 3.0 * rng.uniform();
        let noise = 2.0 * rng.uniform();
        let shift = 2.0 * rng.normal();
        let mut z = Array4::<f64>::zeros((b, k, h, w));
        for i in 0..b {
            for r in 0..h {
                for c in 0..w {
                    let y = labels[[i, r, c]] as usize;
                    if k == 1 {
                        z[[i, 0, r, c]] =
                            kappa * (2.0 * y as f64 - 1.0) + noise * rng.normal() + shift;
                    } else {
                        for ch in 0..k {
                            let hit = if ch == y { kappa } else { 0.0 };
                            let bias = if ch == 0 { -shift } else { 0.0 };
                            z[[i, ch, r, c]] = hit + bias + noise * rng.normal();
                        }
                    }
                }
            }
        }
        if rng.below(3) == 0 {
            (probs_of(&z), PredKind::Probs)
        } else {
            (z, PredKind::Logits)
        }
    });
    let cfg = AuditConfig {
        region: RegionConfig {
            lambda: rng.uniform(),
            temp: if rng.below(10) == 0 {
                0.5 + 10.0 * rng.uniform()
            } else {
                1.0
            },
        },
        toy: FamilyParams {
            kappa: 4.0 * rng.uniform(),
            sigma: 0.1 + 2.5 * rng.uniform(),
            ..FamilyParams::default()
        },
    };
    Case { labels, preds, cfg }
}

/// Plain sigmoid / softmax with the platform's `exp`.
fn probs_of(z: &Array4<f64>) -> Array4<f64> {
    let (b, k, h, w) = z.dim();
    let mut p = z.clone();
    for i in 0..b {
        for r in 0..h {
            for c in 0..w {
                if k == 1 {
                    p[[i, 0, r, c]] = 1.0 / (1.0 + (-z[[i, 0, r, c]]).exp());
                } else {
                    let m = (0..k).map(|j| z[[i, j, r, c]]).fold(f64::MIN, f64::max);
                    let s: f64 = (0..k).map(|j| (z[[i, j, r, c]] - m).exp()).sum();
                    for j in 0..k {
                        p[[i, j, r, c]] = (z[[i, j, r, c]] - m).exp() / s;
                    }
                }
            }
        }
    }
    p
}

/// Per (image, foreground class): (u, soft, hard), from the raw arrays.
fn brute_points(case: &Case) -> Vec<(f64, Option<(f64, f64)>)> {
    let (b, h, w) = case.labels.dim();
    let n = (h * w) as f64;
    let probs = case.preds.as_ref().map(|(p, kind)| match kind {
        PredKind::Logits => probs_of(p),
        PredKind::Probs => p.clone(),
    });
    let k = probs.as_ref().map_or(0, |p| p.dim().1);
    let classes = match k {
        0 => (case.labels.iter().copied().max().unwrap_or(0) as usize + 1).max(2),
        1 => 2,
        k => k,
    };
    let mut out = Vec::new();
    for i in 0..b {
        for c in 1..classes {
            let mut cnt = 0.0;
            let (mut soft, mut hard) = (0.0, 0.0);
            for r in 0..h {
                for x in 0..w {
                    cnt += (case.labels[[i, r, x]] == c as i64) as u8 as f64;
                    if let Some(p) = &probs {
                        let pc = if k == 1 {
                            p[[i, 0, r, x]]
                        } else {
                            p[[i, c, r, x]]
                        };
                        soft += pc;
                        let predicted = if k <= 2 {
                            pc > 0.5
                        } else {
                            let mut best = 0;
                            for j in 1..k {
                                if p[[i, j, r, x]] > p[[i, best, r, x]] {
                                    best = j;
                                }
                            }
                            best == c
                        };
                        hard += predicted as u8 as f64;
                    }
                }
            }
            out.push((cnt / n, probs.as_ref().map(|_| (soft / n, hard / n))));
        }
    }
    out
}

fn near_side_boundary(r: f64) -> bool {
    ((r - 1.0).abs() - AT_U_TOL).abs() < 1e-6
}

fn bin_of(name: &str, u: f64) -> bool {
    u > 0.0
        && match name {
            "small" => u < 0.02,
            "medium" => (0.02..0.10).contains(&u),
            _ => u >= 0.10,
        }
}

/// The toy ratio of `loss` by the full search at each brute-force histogram bin's mean `u`.
fn brute_toy(us: &[f64], params: FamilyParams, loss: FamilyLoss) -> Option<f64> {
    let edges: Vec<f64> = (0..=HIST_BINS)
        .map(|j| 10f64.powf(HIST_LO.log10() * (1.0 - j as f64 / HIST_BINS as f64)))
        .collect();
    // A u on an edge may fall on either side by rounding: no independent answer there.
    if us
        .iter()
        .any(|&u| edges.iter().any(|&e| (u - e).abs() <= 1e-9 * e))
    {
        return None;
    }
    let mut sum = [0.0; HIST_BINS];
    let mut cnt = [0usize; HIST_BINS];
    for &u in us.iter().filter(|&&u| u > 0.0) {
        let mut j = 0;
        while j + 1 < HIST_BINS && u >= edges[j + 1] * (1.0 - 1e-12) {
            j += 1;
        }
        sum[j] += u;
        cnt[j] += 1;
    }
    let (mut num, mut den) = (0.0, 0.0);
    for j in 0..HIST_BINS {
        if cnt[j] == 0 {
            continue;
        }
        let u = sum[j] / cnt[j] as f64;
        if !(u > 0.0 && u < 1.0) {
            continue;
        }
        let fam = Family::new(FamilyParams { u, ..params }).ok()?;
        num += cnt[j] as f64 * fam.minimize(loss).ratio;
        den += cnt[j] as f64;
    }
    (den > 0.0).then(|| num / den)
}

#[test]
fn audit_claims_hold_at_random_data_sets() {
    let mut rng = Rng(0x00da_7a5e);
    let mut checked_toy = 0;
    let mut checked_bins = 0;
    for case_no in 0..1000 {
        let case = random_case(&mut rng);
        let preds = case.preds.as_ref().map(|(p, k)| (p.view(), *k));
        let r = audit_arrays(case.labels.view(), preds, case.cfg)
            .unwrap_or_else(|e| panic!("case {case_no}: {e}"));
        let claims = audit_claims(&r);
        let pts = brute_points(&case);
        let us: Vec<f64> = pts.iter().map(|p| p.0).collect();
        let ctx = |what: &str| {
            format!(
                "case {case_no} ({what}): shape {:?}, preds {:?}, cfg {:?}",
                case.labels.dim(),
                case.preds.as_ref().map(|(p, k)| (p.dim(), *k)),
                case.cfg
            )
        };
        for claim in &claims {
            claim
                .verify()
                .unwrap_or_else(|e| panic!("{}: {e}", ctx("verify")));
            for f in &claim.facts {
                let subject = f.subject().to_string();
                // Bin counts and ratios.
                for name in ["small", "medium", "large"] {
                    let inside: Vec<&(f64, Option<(f64, f64)>)> =
                        pts.iter().filter(|p| bin_of(name, p.0)).collect();
                    let mean = |hard: bool| {
                        inside
                            .iter()
                            .map(|p| {
                                let (s, h) = p.1.expect("predictions");
                                if hard {
                                    h / p.0
                                } else {
                                    s / p.0
                                }
                            })
                            .sum::<f64>()
                            / inside.len() as f64
                    };
                    if subject == format!("{name} n") || subject == format!("{name} bin n") {
                        if let Fact::Shown { value, .. } = f {
                            assert_eq!(*value, inside.len() as f64, "{}", ctx(&subject));
                        }
                    }
                    for (suffix, hard) in [("soft", false), ("hard", true)] {
                        if subject != format!("{name} bin {suffix}")
                            && subject != format!("{name} {suffix}")
                        {
                            continue;
                        }
                        let want = mean(hard);
                        checked_bins += 1;
                        match f {
                            Fact::Shown { value, .. } => assert!(
                                (value - want).abs() <= 1e-6 * (1.0 + want.abs()),
                                "{}: {value} vs brute force {want}",
                                ctx(&subject)
                            ),
                            Fact::Side { side, .. } if !near_side_boundary(want) => assert_eq!(
                                *side,
                                Side::of_ratio(want),
                                "{}: brute force {want}",
                                ctx(&subject)
                            ),
                            _ => {}
                        }
                    }
                }
                if let Fact::Greater { a, b, .. } = f {
                    let soft = |name: &str| {
                        let v: Vec<f64> = pts
                            .iter()
                            .filter(|p| bin_of(name, p.0))
                            .map(|p| p.1.unwrap().0 / p.0)
                            .collect();
                        v.iter().sum::<f64>() / v.len() as f64
                    };
                    let (s, l) = (soft("small"), soft("large"));
                    let larger = subject.contains("(larger)");
                    assert_eq!(larger, s > l, "{}: {s} vs {l}", ctx(&subject));
                    assert!((a.max(*b) - s.max(l)).abs() < 1e-6 * (1.0 + s.max(l)));
                }
                // The toy model, by the full search.
                for (loss, _) in dicelens_core::claims::audit::TOY_LOSSES {
                    if subject != format!("toy {}", loss.key()) {
                        continue;
                    }
                    let Some(want) = brute_toy(&us, r.toy_params, loss) else {
                        continue;
                    };
                    checked_toy += 1;
                    match f {
                        Fact::Shown { value, .. } => assert!(
                            (value - want).abs() <= 2e-3 * want.abs().max(1.0),
                            "{}: {value} vs full search {want}",
                            ctx(&subject)
                        ),
                        Fact::Side { side, .. }
                            if ((want - 1.0).abs() - AT_U_TOL).abs() > 2e-3 * want =>
                        {
                            assert_eq!(
                                *side,
                                Side::of_ratio(want),
                                "{}: full search {want}",
                                ctx(&subject)
                            )
                        }
                        _ => {}
                    }
                }
            }
        }
        // The first sentence always counts the images.
        assert!(claims[0]
            .text
            .starts_with(&format!("{} images", r.n_images)));
    }
    assert!(checked_toy > 1000, "{checked_toy}");
    assert!(checked_bins > 1000, "{checked_bins}");
}

#[test]
fn a_wrong_claim_is_caught() {
    // A report whose toy ratio is replaced: the shown number no longer matches the facts.
    let labels = Array3::from_shape_fn((2, 8, 8), |(i, r, c)| ((r * 8 + c) < 3 + 20 * i) as i64);
    let mut r = audit_arrays(labels.view(), None, AuditConfig::default()).unwrap();
    let claims = audit_claims(&r);
    assert!(claims.iter().all(|c| c.verify().is_ok()));
    let before = claims.last().unwrap().text.clone();
    r.toy[1].ratio = Some(1.0);
    let after = audit_claims(&r).last().unwrap().text.clone();
    assert_ne!(before, after);
    assert!(after.contains(Side::AtU.phrase()));
    // A tampered fact fails verification.
    let mut c = audit_claims(&r).last().unwrap().clone();
    if let Some(Fact::Side { ratio, .. }) =
        c.facts.iter_mut().find(|f| matches!(f, Fact::Side { .. }))
    {
        *ratio = 5.0;
    }
    assert!(c.verify().is_err());
}
