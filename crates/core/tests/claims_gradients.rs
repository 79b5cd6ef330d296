//! The `gradients` view's captions at 1,500 random states: every claim verifies, and every
//! number and relation it states is recomputed by another route: central finite differences of
//! the population losses, written here from THEORY.md's definitions (not the core's
//! `region_loss`), with one pixel of weight `w` moved.

mod common;

use dicelens_core::claims::gradients::{gradients, GROWTH_U, ONE_OVER_U_GROWTH};
use dicelens_core::claims::{Claim, Fact};
use dicelens_core::GradParams;

use common::Rng;

const MONAI: f64 = 1e-5;
const EPS: f64 = 1e-10;

fn sig(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The losses of THEORY.md on a two-value image with one extra pixel of weight `w` (class
/// `fg`) whose logit moved by `dz`.
fn population_loss(key: &str, p: &GradParams, fg: bool, w: f64, dz: f64) -> f64 {
    let (u, n, t) = (p.u, p.pixels, p.temp);
    let zf = (p.p_fg / (1.0 - p.p_fg)).ln();
    let zb = (p.p_bg / (1.0 - p.p_bg)).ln();
    let z0 = if fg { zf } else { zb };
    let (s0, s1) = (sig(z0), sig(z0 + dz));
    let (t0, t1) = (sig(t * z0), sig(t * (z0 + dz)));
    let y = if fg { 1.0 } else { 0.0 };
    let nll = |s: f64| if fg { -s.ln() } else { -(1.0 - s).ln() };
    let big_y = u;
    let inter = u * p.p_fg + w * y * (s1 - s0);
    let tn = (1.0 - u) * (1.0 - p.p_bg) + w * (1.0 - y) * ((1.0 - s1) - (1.0 - s0));
    let s = u * p.p_fg + (1.0 - u) * p.p_bg + w * (s1 - s0);
    let st = u * sig(t * zf) + (1.0 - u) * sig(t * zb) + w * (t1 - t0);
    // 1 − ŝ_T summed from its own small terms, so that a saturated pixel's change survives.
    let st_c =
        u * sig(-t * zf) + (1.0 - u) * sig(-t * zb) + w * (sig(-t * (z0 + dz)) - sig(-t * z0));
    let ce = -u * p.p_fg.ln() - (1.0 - u) * (1.0 - p.p_bg).ln() + w * (nll(s1) - nll(s0));
    let dice_fg = 2.0 * inter / (big_y + s);
    let dice_bg = 2.0 * tn / ((1.0 - big_y) + (1.0 - s));
    let prop = |v: f64| (v * n + EPS) / (n + EPS);
    match key {
        "ce" => ce,
        "dice-fg" => 1.0 - dice_fg,
        "ce-l1" => ce + p.lambda * (prop(st) - u).abs(),
        "l1-term" => p.lambda * (prop(st) - u).abs(),
        "ce-kl" | "kl-term" => {
            let (a, b) = (prop(st), prop(st_c));
            let term = p.lambda * (u * (u / a).ln() + (1.0 - u) * ((1.0 - u) / b).ln());
            if key == "kl-term" {
                term
            } else {
                ce + term
            }
        }
        "dice-ce" => 1.0 - (2.0 * n * inter + MONAI) / (n * (big_y + s) + MONAI) + ce,
        "dice-mean" => 1.0 - 0.5 * (dice_fg + dice_bg),
        _ => unreachable!("{key}"),
    }
}

/// `N·∂L/∂z` of one pixel by central differences of [`population_loss`].
fn fd(key: &str, p: &GradParams, fg: bool) -> f64 {
    let (w, h) = (1e-7, 1e-3);
    (population_loss(key, p, fg, w, h) - population_loss(key, p, fg, w, -h)) / (2.0 * h * w)
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * (1.0 + a.abs().max(b.abs()))
}

fn value_of(c: &Claim, subject: &str) -> Option<f64> {
    c.facts.iter().find_map(|f| match f {
        Fact::Shown {
            subject: s, value, ..
        } if s == subject => Some(*value),
        _ => None,
    })
}

fn has(c: &Claim, subject: &str) -> bool {
    c.facts.iter().any(|f| f.subject() == subject)
}

fn random_state(rng: &mut Rng) -> GradParams {
    let pick = |rng: &mut Rng, lo: f64, hi: f64| lo + (hi - lo) * rng.uniform();
    let u = 10f64.powf(pick(rng, -3.0, 0.0)).min(0.999);
    GradParams {
        u,
        p_fg: pick(rng, 0.001, 0.999),
        p_bg: 10f64.powf(pick(rng, -3.0, 0.0)).min(0.999),
        lambda: if rng.below(5) == 0 {
            0.0
        } else {
            pick(rng, 0.0, 10.0)
        },
        temp: match rng.below(3) {
            0 => 1.0,
            1 => 10.0,
            _ => pick(rng, 0.1, 20.0),
        },
        ..GradParams::default()
    }
}

#[test]
fn every_caption_holds_and_agrees_with_finite_differences() {
    let mut rng = Rng(0xD1CE_6AD5);
    let (mut states, mut checked, mut near_one, mut far) = (0, 0, 0, 0);
    for _ in 0..1500 {
        let p = random_state(&mut rng);
        let claims = gradients(p).unwrap_or_else(|e| panic!("{p:?}: {e}"));
        assert_eq!(claims.len(), 4, "{p:?}");
        for c in &claims {
            c.verify().unwrap_or_else(|e| panic!("{p:?}: {e}"));
        }
        let ce_f = fd("ce", &p, true);
        let ce_b = fd("ce", &p, false);
        let d_f = fd("dice-fg", &p, true);
        let d_b = fd("dice-fg", &p, false);
        // Sentence 1: the ratio and both gradients, and the side of 1 it states.
        let c = &claims[0];
        let r = value_of(c, "ratio-dice-fg-ce").expect("ratio shown");
        assert!(
            close(r, d_f / ce_f, 1e-4),
            "{p:?}: ratio {r} vs {}",
            d_f / ce_f
        );
        if (r - 1.0).abs() > 1e-3 {
            let says_above = has(c, "ratio-dice-fg-ce above 1");
            assert_eq!(says_above, d_f / ce_f > 1.0, "{p:?}: {}", c.text);
        } else {
            near_one += 1;
        }
        for (s, v) in [("grad-dice-fg-fg", d_f), ("grad-ce-fg", ce_f)] {
            if let Some(x) = value_of(c, s) {
                assert!(close(x, v, 1e-4), "{p:?}: {s} {x} vs {v}");
                checked += 1;
            }
        }
        // Sentence 2: the growth from u = 0.1 to u = 0.001, against a 1/u law.
        let c = &claims[1];
        let at = |u: f64| GradParams { u, ..p };
        let growth = fd("dice-fg", &at(GROWTH_U.0), true) / fd("dice-fg", &at(GROWTH_U.1), true);
        let shown = value_of(c, "growth-dice-fg").expect("growth shown");
        assert!(
            close(shown, growth, 1e-4),
            "{p:?}: growth {shown} vs {growth}"
        );
        assert!(growth < ONE_OVER_U_GROWTH * (1.0 + 1e-4), "{p:?}: {growth}");
        if (growth - 0.5 * ONE_OVER_U_GROWTH).abs() > 0.1 {
            let says_near = has(c, "growth-dice-fg near the 1/u law");
            assert_eq!(says_near, growth > 50.0, "{p:?}: {}", c.text);
            far += usize::from(!says_near);
        }
        let ce_lo = fd("ce", &at(GROWTH_U.0), true);
        let ce_hi = fd("ce", &at(GROWTH_U.1), true);
        assert!(close(ce_lo, ce_hi, 1e-5), "{p:?}: CE {ce_lo} vs {ce_hi}");
        if let Some(x) = value_of(c, "grad-ce-fg") {
            assert!(close(x, ce_lo, 1e-4), "{p:?}");
        }
        // Sentence 3: the background pixel is pushed down by both.
        let c = &claims[2];
        assert!(ce_b > 0.0 && d_b > 0.0, "{p:?}");
        for (s, v) in [("grad-ce-bg", ce_b), ("grad-dice-fg-bg", d_b)] {
            if let Some(x) = value_of(c, s) {
                assert!(close(x, v, 1e-4), "{p:?}: {s} {x} vs {v}");
                checked += 1;
            }
        }
        // Sentence 4: the region terms' extras, and their common sign.
        let c = &claims[3];
        let st = p.s_hat_t();
        let kink = (st - p.u).abs() < 1e-5;
        for (key, fg, subject) in [
            ("l1-term", true, "extra-ce-l1-fg"),
            ("kl-term", true, "extra-ce-kl-fg"),
            ("l1-term", false, "extra-ce-l1-bg"),
            ("kl-term", false, "extra-ce-kl-bg"),
        ] {
            if kink && key == "l1-term" {
                continue;
            }
            // The region term alone, by central differences (CE's part cancels exactly).
            let extra = fd(key, &p, fg);
            if let Some(x) = value_of(c, subject) {
                assert!(
                    (x - extra).abs() <= 1e-4 * (1.0 + x.abs()),
                    "{p:?}: {subject} {x} vs {extra}"
                );
                checked += 1;
            }
            if p.lambda > 0.0 && !kink && extra.abs() > 1e-3 {
                assert_eq!(extra > 0.0, st > p.u, "{p:?}: {subject} {extra}");
                assert!(c.text.contains(if st > p.u { "above" } else { "below" }));
            }
            if p.lambda == 0.0 {
                assert!(c.text.contains("exactly as CE does"));
            }
        }
        states += 1;
    }
    assert_eq!(states, 1500);
    assert!(checked > 4 * 1500, "{checked} numbers recomputed");
    // Both branches of the growth sentence were exercised, and few ratios sat near 1.
    assert!(far > 100 && far < 1400, "{far} states far from 1/u");
    assert!(near_one < 50, "{near_one}");
}

#[test]
fn a_wrong_number_fails_verification() {
    let p = GradParams::default();
    let mut claims = gradients(p).expect("valid");
    let c = &mut claims[0];
    for f in &mut c.facts {
        if let Fact::Shown { subject, value, .. } = f {
            if subject == "ratio-dice-fg-ce" {
                *value *= 1.01;
            }
        }
    }
    assert!(c.verify().is_err());
    // And a flipped relation.
    let mut claims = gradients(GradParams { p_bg: 0.5, ..p }).expect("valid");
    for f in &mut claims[1].facts {
        if let Fact::Greater { a, b, .. } = f {
            std::mem::swap(a, b);
        }
    }
    assert!(claims[1].verify().is_err());
}

#[test]
fn default_state_reads_as_expected() {
    let claims = gradients(GradParams::default()).expect("valid");
    let text: Vec<&str> = claims.iter().map(|c| c.text.as_str()).collect();
    // p_fg = 0.7, p_bg = 0.05: background false positives cap Dice's growth far below 100×.
    assert!(text[1].contains("short of the 100×"), "{}", text[1]);
    assert!(text[0].contains("At u = 0.100"), "{}", text[0]);
    assert!(text[2].contains("pushed down by both"));
    let near = gradients(GradParams {
        p_bg: 1e-5,
        ..GradParams::default()
    })
    .expect("valid");
    assert!(
        near[1].text.contains("close to the 100×"),
        "{}",
        near[1].text
    );
}
