//! THEORY.md's exact identities on random data, and a slow, obviously-correct loop
//! implementation of the losses compared with the fast path of `Evaluator`.

mod common;

use dicelens_core::{Evaluator, Mode, RegionConfig};
use ndarray::{Array3, Array4};

use common::Rng;

/// A random batch: B in 1..=3, K in 1..=5, H, W in 1..=9, logits of random scale.
fn random_batch(rng: &mut Rng) -> (Array4<f64>, Array3<i64>) {
    let b = rng.range(1, 3);
    let k = rng.range(1, 5);
    let h = rng.range(1, 9);
    let w = rng.range(1, 9);
    let scale = 0.3 + 3.0 * rng.uniform();
    let classes = if k == 1 { 2 } else { k };
    let logits = Array4::from_shape_fn((b, k, h, w), |_| scale * rng.normal());
    let labels = Array3::from_shape_fn((b, h, w), |_| rng.range(0, classes - 1) as i64);
    (logits, labels)
}

fn assert_close(actual: f64, expected: f64, tol: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= tol * expected.abs().max(1.0),
        "{what}: {actual:.17e} vs {expected:.17e}"
    );
}

// ---------------------------------------------------------------------------------------
// Per-pixel probabilities, written out directly.

/// `s_{k,i}` of image `b` for every effective class (binary: `[1 − σ, σ]`), at temperature `t`.
fn pixel_probs(logits: &Array4<f64>, b: usize, hi: usize, wi: usize, t: f64) -> Vec<f64> {
    let k = logits.dim().1;
    if k == 1 {
        let s = 1.0 / (1.0 + (-t * logits[[b, 0, hi, wi]]).exp());
        return vec![1.0 - s, s];
    }
    let m = (0..k)
        .map(|c| logits[[b, c, hi, wi]])
        .fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = (0..k)
        .map(|c| (t * (logits[[b, c, hi, wi]] - m)).exp())
        .collect();
    let tot: f64 = e.iter().sum();
    e.iter().map(|v| v / tot).collect()
}

/// `−log s_{y,i}` for one pixel, directly.
fn pixel_nll(logits: &Array4<f64>, b: usize, hi: usize, wi: usize, y: usize) -> f64 {
    -pixel_probs(logits, b, hi, wi, 1.0)[y].ln()
}

/// Per image and effective class: `(|Ω_k|, Σ_i y s, Σ_i s, Σ_i s^T)` by plain loops.
fn sums(logits: &Array4<f64>, labels: &Array3<i64>, b: usize, t: f64) -> Vec<[f64; 4]> {
    let (_, k, h, w) = logits.dim();
    let classes = if k == 1 { 2 } else { k };
    let mut out = vec![[0.0; 4]; classes];
    for hi in 0..h {
        for wi in 0..w {
            let s = pixel_probs(logits, b, hi, wi, 1.0);
            let st = pixel_probs(logits, b, hi, wi, t);
            let y = labels[[b, hi, wi]] as usize;
            for c in 0..classes {
                let yc = if c == y { 1.0 } else { 0.0 };
                out[c][0] += yc;
                out[c][1] += yc * s[c];
                out[c][2] += s[c];
                out[c][3] += st[c];
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// The slow reference.

struct Reference {
    ce: f64,
    dice: f64,
    dice_monai: f64,
    log_dice: Option<f64>,
    log_dice_monai: f64,
    l1: f64,
    kl: f64,
    dice_per_class: Vec<Vec<f64>>,
    u: Vec<Vec<f64>>,
    s_hat: Vec<Vec<f64>>,
}

fn reference(logits: &Array4<f64>, labels: &Array3<i64>, t: f64) -> Reference {
    const EPS: f64 = 1e-10;
    const SMOOTH: f64 = 1e-5;
    let (nb, k, h, w) = logits.dim();
    let n = (h * w) as f64;
    let binary = k == 1;
    // Loss channels: every class (multiclass) or the foreground only (binary).
    let channels: Vec<usize> = if binary { vec![1] } else { (0..k).collect() };

    let mut ce = 0.0;
    for b in 0..nb {
        for hi in 0..h {
            for wi in 0..w {
                ce += pixel_nll(logits, b, hi, wi, labels[[b, hi, wi]] as usize);
            }
        }
    }
    ce /= nb as f64 * n;

    let (mut dsum, mut dmsum, mut ldmsum, mut l1sum, mut klsum) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut ldsum = Some(0.0);
    let (mut dpc, mut us, mut ss) = (vec![], vec![], vec![]);
    for b in 0..nb {
        let sm = sums(logits, labels, b, t);
        let (mut drow, mut urow, mut srow) = (vec![], vec![], vec![]);
        for &c in &channels {
            let [y, tp, s, _] = sm[c];
            let d = if y + s == 0.0 {
                1.0
            } else {
                2.0 * tp / (y + s)
            };
            let dm = (2.0 * tp + SMOOTH) / (y + s + SMOOTH);
            dsum += d;
            dmsum += dm;
            ldmsum -= dm.ln();
            ldsum = ldsum.and_then(|acc: f64| (d > 0.0).then(|| acc - d.ln()));
            drow.push(d);
            urow.push(y / n);
            srow.push(s / n);
        }
        // SegLossBias proportions (Σ + eps)/(N + eps) at temperature T.
        let prop = |x: f64| (x + EPS) / (n + EPS);
        let xlx = |p: f64, q: f64| if p > 0.0 { p * (p / q).ln() } else { 0.0 };
        for &c in &channels {
            l1sum += (prop(sm[c][3]) - prop(sm[c][0])).abs();
        }
        if binary {
            let u_fg = prop(sm[1][0]);
            // The core's background proportion: (Σ(1 − σ(Tz)) + eps)/(N + eps).
            klsum += xlx(u_fg, prop(sm[1][3])) + xlx(1.0 - u_fg, prop(sm[0][3]));
        } else {
            for class in &sm {
                klsum += xlx(prop(class[0]), prop(class[3]));
            }
        }
        dpc.push(drow);
        us.push(urow);
        ss.push(srow);
    }
    let m = (nb * channels.len()) as f64;
    Reference {
        ce,
        dice: 1.0 - dsum / m,
        dice_monai: 1.0 - dmsum / m,
        log_dice: ldsum.map(|v| v / m),
        log_dice_monai: ldmsum / m,
        l1: l1sum / m,
        kl: klsum / nb as f64,
        dice_per_class: dpc,
        u: us,
        s_hat: ss,
    }
}

#[test]
fn fast_path_matches_slow_reference_on_random_shapes() {
    let mut rng = Rng(0xD1CE);
    let (mut binary, mut multi, mut null_log) = (0, 0, 0);
    for trial in 0..150 {
        let (logits, labels) = random_batch(&mut rng);
        let t = [1.0, 2.5, 10.0][trial % 3];
        let lambda = 0.05 + rng.uniform();
        let eval = Evaluator::new(
            logits.view(),
            labels.view(),
            RegionConfig { lambda, temp: t },
        )
        .unwrap();
        let l = eval.losses();
        let r = reference(&logits, &labels, t);
        let what = |name: &str| format!("trial {trial} {:?} T={t}: {name}", logits.dim());
        const TOL: f64 = 1e-10;
        assert_close(l.ce, r.ce, TOL, &what("ce"));
        assert_close(l.dice, r.dice, TOL, &what("dice"));
        assert_close(l.dice_monai, r.dice_monai, TOL, &what("dice_monai"));
        assert_close(
            l.log_dice_monai,
            r.log_dice_monai,
            TOL,
            &what("log_dice_monai"),
        );
        assert_close(l.dice_ce_monai, r.dice_monai + r.ce, TOL, &what("dice_ce"));
        assert_close(l.l1, r.l1, TOL, &what("l1"));
        assert_close(l.kl, r.kl, TOL, &what("kl"));
        assert_close(l.ce_l1, r.ce + lambda * r.l1, TOL, &what("ce_l1"));
        assert_close(l.ce_kl, r.ce + lambda * r.kl, TOL, &what("ce_kl"));
        match (l.log_dice, r.log_dice) {
            (Some(a), Some(e)) => assert_close(a, e, TOL, &what("log_dice")),
            (None, None) => null_log += 1,
            (a, e) => panic!("{}: {a:?} vs {e:?}", what("log_dice")),
        }
        for (name, a, e) in [
            ("dice_per_class", &l.dice_per_class, &r.dice_per_class),
            ("u", &l.u, &r.u),
            ("s_hat", &l.s_hat, &r.s_hat),
        ] {
            assert_eq!(a.len(), e.len(), "{}", what(name));
            for (ra, re) in a.iter().zip(e) {
                assert_eq!(ra.len(), re.len(), "{}", what(name));
                for (&x, &y) in ra.iter().zip(re) {
                    assert_close(x, y, TOL, &what(name));
                }
            }
        }
        if eval.mode() == Mode::Binary {
            binary += 1;
        } else {
            multi += 1;
        }
    }
    assert!(
        binary >= 15 && multi >= 60 && null_log >= 10,
        "{binary} {multi} {null_log}"
    );
}

// ---------------------------------------------------------------------------------------
// CE = KL + neg_log_precision + jensen_gap = H(u) + KL − Î, per image.

#[test]
fn ce_decomposition_identities() {
    let mut rng = Rng(0xCE);
    for trial in 0..150 {
        let (logits, labels) = random_batch(&mut rng);
        let eval = Evaluator::new(logits.view(), labels.view(), RegionConfig::default()).unwrap();
        let (nb, _, h, w) = logits.dim();
        let n = (h * w) as f64;
        let mut mean_ce = 0.0;
        for b in 0..nb {
            let d = eval.ce_decomposition(b);
            let what = format!("trial {trial} image {b} {:?}", logits.dim());
            // The two exact forms.
            let three = d.kl + d.neg_log_precision + d.jensen_gap;
            assert_close(d.ce, three, 1e-9, &format!("{what}: CE = KL + prec + gap"));
            let info = d.entropy + d.kl + d.neg_info;
            assert_close(d.ce, info, 1e-9, &format!("{what}: CE = H + KL - I"));
            // Every part of the three-part form is non-negative.
            for (name, v) in [
                ("kl", d.kl),
                ("neg_log_precision", d.neg_log_precision),
                ("jensen_gap", d.jensen_gap),
            ] {
                assert!(v >= -1e-12, "{what}: {name} = {v:e} < 0");
            }
            // Each part against an independent computation from the pixels.
            let sm = sums(&logits, &labels, b, 1.0);
            let mut ce_b = 0.0;
            let mut info_sum = 0.0;
            for hi in 0..h {
                for wi in 0..w {
                    let y = labels[[b, hi, wi]] as usize;
                    let nll = pixel_nll(&logits, b, hi, wi, y);
                    ce_b += nll;
                    // log(s_{y,i} / ŝ_y)
                    info_sum += -nll - (sm[y][2] / n).ln();
                }
            }
            ce_b /= n;
            let (mut kl, mut ent) = (0.0, 0.0);
            for s in &sm {
                if s[0] > 0.0 {
                    let (u, sh) = (s[0] / n, s[2] / n);
                    kl += u * (u / sh).ln();
                    ent -= u * u.ln();
                }
            }
            assert_close(d.ce, ce_b, 1e-10, &format!("{what}: per-image CE"));
            assert_close(d.kl, kl, 1e-10, &format!("{what}: KL(u||s)"));
            assert_close(d.entropy, ent, 1e-10, &format!("{what}: H(u)"));
            assert_close(d.neg_info, -info_sum / n, 1e-10, &format!("{what}: -I"));
            mean_ce += d.ce;
        }
        mean_ce /= nb as f64;
        assert_close(
            eval.losses().ce,
            mean_ce,
            1e-12,
            "batch CE = mean per-image CE",
        );
    }
}

#[test]
fn ce_is_not_bounded_below_by_entropy_plus_kl() {
    // THEORY.md: CE ≥ H(u) + KL(u‖ŝ) is false in general; a confident correct prediction
    // has CE → 0 while H(u) > 0.
    let labels = Array3::from_shape_vec((1, 1, 4), vec![0, 1, 1, 0]).unwrap();
    let logits = Array4::from_shape_fn((1, 2, 1, 4), |(_, c, _, i)| {
        if c as i64 == labels[[0, 0, i]] {
            8.0
        } else {
            -8.0
        }
    });
    let eval = Evaluator::new(logits.view(), labels.view(), RegionConfig::default()).unwrap();
    let d = eval.ce_decomposition(0);
    assert!(d.ce < 1e-6);
    assert!((d.entropy - 2f64.ln()).abs() < 1e-12);
    assert!(d.ce < d.entropy + d.kl);
    assert!(d.neg_info < 0.0);
}

// ---------------------------------------------------------------------------------------
// −log Dice_k = matching + region; matching ≤ C_k; mean_k C_k = CE with weights 1/u.

#[test]
fn dice_decomposition_identities() {
    let mut rng = Rng(0xD1CE_0002);
    let mut weighted_checked = 0;
    for trial in 0..150 {
        let (logits, labels) = random_batch(&mut rng);
        let eval = Evaluator::new(logits.view(), labels.view(), RegionConfig::default()).unwrap();
        let (nb, k, h, w) = logits.dim();
        let n = (h * w) as f64;
        let classes = if k == 1 { 2 } else { k };
        for b in 0..nb {
            let what = format!("trial {trial} image {b} {:?}", logits.dim());
            let dd = eval.dice_decomposition(b);
            assert_eq!(dd.len(), classes, "{what}");
            let sm = sums(&logits, &labels, b, 1.0);
            let mut present = 0usize;
            let mut mean_cm = 0.0;
            for (c, d) in dd.iter().enumerate() {
                assert_eq!(d.class, c);
                let [y, tp, s, _] = sm[c];
                assert_close(d.u, y / n, 1e-12, &format!("{what}: u_{c}"));
                assert_close(d.s_hat, s / n, 1e-12, &format!("{what}: s_hat_{c}"));
                assert_close(
                    d.dice,
                    2.0 * tp / (y + s),
                    1e-10,
                    &format!("{what}: Dice_{c}"),
                );
                if y == 0.0 {
                    assert!(d.region.is_none() && d.ce_matching.is_none(), "{what}: {c}");
                    assert!(
                        d.neg_log_dice.is_none(),
                        "{what}: absent class {c} has Dice 0"
                    );
                    continue;
                }
                let nld = d.neg_log_dice.expect("present class has Dice > 0");
                let matching = d.matching.unwrap();
                let region = d.region.unwrap();
                let cm = d.ce_matching.unwrap();
                assert_close(nld, matching + region, 1e-9, &format!("{what}: class {c}"));
                assert_close(nld, -d.dice.ln(), 1e-12, &format!("{what}: -log Dice_{c}"));
                assert!(matching <= cm + 1e-12, "{what}: Jensen fails for class {c}");
                present += 1;
                mean_cm += cm;
            }
            mean_cm /= present as f64;
            // CE weighted by 1/u_{y_i}, pixel by pixel (F.cross_entropy(weight=1/u)).
            let (mut num, mut den) = (0.0, 0.0);
            for hi in 0..h {
                for wi in 0..w {
                    let y = labels[[b, hi, wi]] as usize;
                    let wt = n / sm[y][0];
                    num += wt * pixel_nll(&logits, b, hi, wi, y);
                    den += wt;
                }
            }
            assert_close(mean_cm, num / den, 1e-9, &format!("{what}: weighted CE"));
            weighted_checked += 1;
        }
    }
    assert!(weighted_checked > 200);
}
