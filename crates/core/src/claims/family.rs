//! Claims about the region terms, the logit-shift family, the bias map, the decomposition and
//! the landscapes: the captions of those views and the tour steps that talk about them.
//!
//! What the sentences must get right (docs/THEORY.md):
//! - CE sits at `u` for every state; CE+L1 and CE+KL share that optimum **only at `T = 1`**. At
//!   `T ≠ 1` their term matches the sharpened `ŝ_T`, so the soft optimum need not be `u`.
//! - Dice's region term `log((u + ŝ)/2u)` grows with `ŝ`: it pulls toward *less* foreground.
//!   The "toward an extreme" pull belongs to the region term alone; the full loss's optimum
//!   lands on either side of `u`. Which side is decided at `ŝ = u`, where the region term's
//!   slope (its brake) meets the matching term's slope (the reward for soft recall).
//! - Foreground-only Dice and the two-class mean (background included, as the paper's preset)
//!   are different losses with different numbers: every sentence says which one it means.

use super::{fmt_param, fmt_prop, fmt_ratio, Claim, Fact, Side};
use crate::family::{Family, FamilyLoss, Minimizer};
use crate::landscape::GridMinimum;
use crate::region::RegionTerm;

/// Prose name of a family loss, saying which Dice it is.
pub fn loss_name(loss: FamilyLoss) -> &'static str {
    match loss {
        FamilyLoss::Ce => "CE",
        FamilyLoss::DiceFg => "foreground-only Dice",
        FamilyLoss::DiceMean => "two-class mean Dice (background included)",
        FamilyLoss::LogDiceFg => "foreground-only log-Dice",
        FamilyLoss::LogDiceMean => "two-class mean log-Dice",
        FamilyLoss::DiceCe => "Dice+CE (MONAI)",
        FamilyLoss::CeL1 => "CE+L1",
        FamilyLoss::CeKl => "CE+KL",
    }
}

/// `s` with its first letter in upper case.
pub fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// "`name` over-estimates u (2.99×)" with its facts.
fn side_clause(loss: FamilyLoss, ratio: f64, facts: &mut Vec<Fact>) -> String {
    let side = Side::of_ratio(ratio);
    facts.push(Fact::Side {
        subject: loss.key().to_string(),
        ratio,
        side,
    });
    let shown = fmt_ratio(ratio);
    facts.push(Fact::Shown {
        subject: format!("{} ratio", loss.key()),
        value: ratio,
        shown: shown.clone(),
    });
    format!("{} {} ({shown})", loss_name(loss), side.phrase())
}

/// Slopes in the shift `b`, at the family point where `ŝ = u`, of foreground Dice's two parts:
/// the matching term `−log m_fg` (negative: more foreground raises the soft recall `m_fg`) and
/// the region term `log((u + ŝ)/2u)` (positive: it grows with `ŝ`). Central differences.
pub fn dice_slopes_at_u(f: &Family) -> (f64, f64, f64) {
    let u = f.params().u;
    let b = f.shift_for(u);
    let h = 1e-4 * (1.0 + b.abs());
    let parts = |b: f64| {
        let pt = f.at(b);
        (-pt.m_fg.ln(), ((u + pt.s_hat) / (2.0 * u)).ln())
    };
    let (m1, r1) = parts(b + h);
    let (m0, r0) = parts(b - h);
    (b, (m1 - m0) / (2.0 * h), (r1 - r0) / (2.0 * h))
}

/// Why foreground Dice's optimum lands where it does, from the slopes at `ŝ = u`.
pub fn dice_why(f: &Family, dice_fg: &Minimizer) -> Claim {
    let side = Side::of_ratio(dice_fg.ratio);
    let (_, dm, dr) = dice_slopes_at_u(f);
    let reward = -dm;
    let mut facts = Vec::new();
    let text = match side {
        Side::Over => {
            facts.push(Fact::Greater {
                subject: "at ŝ = u: matching reward > region brake".into(),
                a: reward,
                b: dr,
            });
            "Why above u: Dice's region term log((u+ŝ)/2u) grows with ŝ, so it pulls toward less \
             foreground. The extra foreground comes from the matching term −log m (soft recall), \
             which rewards it; at ŝ = u that reward is stronger than the region term's brake."
                .to_string()
        }
        Side::Under => {
            facts.push(Fact::Greater {
                subject: "at ŝ = u: region brake > matching reward".into(),
                a: dr,
                b: reward,
            });
            "Why below u: Dice's region term log((u+ŝ)/2u) grows with ŝ, so it pulls toward less \
             foreground, and at ŝ = u its pull is stronger than the matching term's reward for \
             more soft recall."
                .to_string()
        }
        Side::AtU => "Here the matching term's reward for soft recall and the region term's pull \
                      toward less foreground balance at u."
            .to_string(),
    };
    Claim { text, facts }
}

/// CE+L1 and CE+KL at the state's temperature, with the condition.
pub fn regularized_claim(temp: f64, lambda: f64, l1: &Minimizer, kl: &Minimizer) -> Claim {
    let mut facts = Vec::new();
    let t = fmt_param(temp);
    facts.push(Fact::Shown {
        subject: "T".into(),
        value: temp,
        shown: t.clone(),
    });
    let lam = fmt_param(lambda);
    let a = side_clause(FamilyLoss::CeL1, l1.ratio, &mut facts);
    let b = side_clause(FamilyLoss::CeKl, kl.ratio, &mut facts);
    let text = if temp == 1.0 {
        format!(
            "At T = {t} (λ = {lam}) the region term reads the same soft proportion ŝ that CE \
             matches, so {a} and {b}."
        )
    } else if lambda == 0.0 {
        format!("With λ = {lam} the region term is off: {a} and {b}.")
    } else if temp > 1.0 {
        format!(
            "At T = {t} (λ = {lam}) the region term matches the sharpened proportion ŝ_T, \
             not ŝ, so the soft optimum need not be u: {a} and {b}. That is the authors' intended trade of soft-size accuracy for hard-size \
             accuracy; only at T = 1 are they guaranteed to share CE's optimum."
        )
    } else {
        format!(
            "At T = {t} (λ = {lam}) the region term matches the softened proportion ŝ_T, not \
             ŝ, so the soft optimum need not be u: {a} and {b}; only at T = 1 are they \
             guaranteed to share CE's optimum."
        )
    };
    Claim { text, facts }
}

/// The family view's caption sentences, from the minima of a sweep (or of
/// [`Family::minimize`]): CE at u, CE+L1 / CE+KL with the temperature's condition, which side
/// each Dice lands on and why, and how that squares with the region term's pull.
pub fn family_caption(f: &Family, minima: &[(FamilyLoss, Minimizer)]) -> Vec<Claim> {
    let p = f.params();
    let get = |l: FamilyLoss| minima.iter().find(|m| m.0 == l).map(|m| m.1);
    let mut out = Vec::new();
    let (Some(ce), Some(fg), Some(mean), Some(l1), Some(kl)) = (
        get(FamilyLoss::Ce),
        get(FamilyLoss::DiceFg),
        get(FamilyLoss::DiceMean),
        get(FamilyLoss::CeL1),
        get(FamilyLoss::CeKl),
    ) else {
        return out;
    };
    let mut facts = vec![Fact::Shown {
        subject: "u".into(),
        value: p.u,
        shown: fmt_prop(p.u),
    }];
    let c = side_clause(FamilyLoss::Ce, ce.ratio, &mut facts);
    out.push(Claim {
        text: format!(
            "At u = {}, {c}: with a free shift, ∂CE/∂b = ŝ − u, so CE's optimum is the truth for \
             every κ and σ.",
            fmt_prop(p.u)
        ),
        facts,
    });
    out.push(regularized_claim(p.temp, p.lambda, &l1, &kl));
    let mut facts = Vec::new();
    let a = side_clause(FamilyLoss::DiceFg, fg.ratio, &mut facts);
    let b = side_clause(FamilyLoss::DiceMean, mean.ratio, &mut facts);
    out.push(Claim {
        text: format!(
            "At κ = {}, σ = {}: {a}; {b}.",
            fmt_param(p.kappa),
            fmt_param(p.sigma)
        ),
        facts,
    });
    out.push(dice_why(f, &fg));
    out.push(Claim::plain(
        "The pull toward an extreme (ŝ = 0) belongs to Dice's region term alone; the full loss \
         adds the matching term, and its optimum can land on either side of u.",
    ));
    out
}

/// The minima [`family_caption`] needs, by the full-range search of [`Family::minimize`].
pub fn family_minima(f: &Family) -> Vec<(FamilyLoss, Minimizer)> {
    [
        FamilyLoss::Ce,
        FamilyLoss::DiceFg,
        FamilyLoss::DiceMean,
        FamilyLoss::CeL1,
        FamilyLoss::CeKl,
    ]
    .into_iter()
    .map(|l| {
        let m = if l.sits_at_u(f.params().temp) {
            // Exact (THEORY.md, stationarity): ŝ* = u.
            let b = f.shift_for(f.params().u);
            let pt = f.at(b);
            Minimizer {
                b,
                s_hat: pt.s_hat,
                value: f.loss(l, &pt),
                ratio: pt.s_hat / f.params().u,
            }
        } else {
            f.minimize(l)
        };
        (l, m)
    })
    .collect()
}

/// The region-terms view's caption: where each region term is smallest, and what that pull
/// does and does not say about the full loss.
pub fn region_caption(u: f64) -> Vec<Claim> {
    let (kl, _) = RegionTerm::Kl.minimizer(u);
    let (fg, _) = RegionTerm::DiceFg.minimizer(u);
    let (mean, _) = RegionTerm::DiceMean.minimizer(u);
    let mut facts = vec![
        Fact::Equal {
            subject: "KL minimizer = u".into(),
            a: kl,
            b: u,
            tol: 1e-12,
        },
        Fact::Shown {
            subject: "u".into(),
            value: u,
            shown: fmt_prop(u),
        },
        Fact::AtEdge {
            subject: "dice-fg region minimizer".into(),
            at: fg,
            lo: 0.0,
            hi: 1.0,
            tol: 0.0,
        },
        Fact::AtEdge {
            subject: "dice-mean region minimizer".into(),
            at: mean,
            lo: 0.0,
            hi: 1.0,
            tol: 0.0,
        },
    ];
    facts.push(Fact::Shown {
        subject: "dice-mean minimizer".into(),
        value: mean,
        shown: fmt_prop(mean),
    });
    let mean_where = if mean == 0.0 {
        "ŝ = 0 (predict no foreground)"
    } else {
        "ŝ = 1 (predict everything foreground)"
    };
    vec![
        Claim {
            text: format!(
                "At u = {}, CE's region term KL(u‖ŝ) and the L1 term are smallest at ŝ = u, the \
                 truth. Dice's region terms are concave, so they are smallest at an extreme: the \
                 foreground-only term at ŝ = 0 (it grows with ŝ, a pull toward less foreground), \
                 the two-class mean at {mean_where}.",
                fmt_prop(u)
            ),
            facts,
        },
        Claim::plain(
            "That pull toward imbalance belongs to the region term alone. The full Dice loss adds \
             a matching term that rewards soft recall, and its optimum can land on either side \
             of u: the family view below shows which, at the current κ and σ.",
        ),
    ]
}

/// The bias map's caption, from its curves `ŝ*(u)` on the grid `us` (increasing).
pub fn bias_map_caption(
    temp: f64,
    lambda: f64,
    us: &[f64],
    curves: &[(FamilyLoss, Vec<f64>)],
) -> Vec<Claim> {
    let get = |l: FamilyLoss| curves.iter().find(|c| c.0 == l).map(|c| &c.1[..]);
    let (Some(ce), Some(l1), Some(kl), Some(fg)) = (
        get(FamilyLoss::Ce),
        get(FamilyLoss::CeL1),
        get(FamilyLoss::CeKl),
        get(FamilyLoss::DiceFg),
    ) else {
        return Vec::new();
    };
    if us.is_empty() {
        return Vec::new();
    }
    let n = us.len() - 1;
    let every = |loss: FamilyLoss, v: &[f64], facts: &mut Vec<Fact>| {
        for (u, s) in us.iter().zip(v) {
            facts.push(Fact::Side {
                subject: format!("{} at u = {u}", loss.key()),
                ratio: s / u,
                side: Side::AtU,
            });
        }
    };
    let mut out = Vec::new();
    let mut facts = Vec::new();
    every(FamilyLoss::Ce, ce, &mut facts);
    out.push(Claim {
        text: format!(
            "A loss without region-size bias follows the diagonal ŝ* = u. CE's optimum {} for \
             every u shown.",
            Side::AtU.phrase()
        ),
        facts,
    });
    let (lo, hi) = (us[0], us[n]);
    if temp == 1.0 {
        let mut facts = Vec::new();
        every(FamilyLoss::CeL1, l1, &mut facts);
        every(FamilyLoss::CeKl, kl, &mut facts);
        out.push(Claim {
            text: format!(
                "At T = 1, CE+L1 and CE+KL (λ = {}) lie on it too: each {} for every u \
                 shown, because their term reads the same soft ŝ.",
                fmt_param(lambda),
                Side::AtU.phrase()
            ),
            facts,
        });
    } else {
        let mut facts = Vec::new();
        let a = side_clause(FamilyLoss::CeL1, l1[0] / lo, &mut facts);
        let b = side_clause(FamilyLoss::CeKl, kl[0] / lo, &mut facts);
        let c = side_clause(FamilyLoss::CeKl, kl[n] / hi, &mut facts);
        out.push(Claim {
            text: format!(
                "At T = {} (λ = {}) the region term matches the {} ŝ_T, so the soft optima \
                 need not lie on the diagonal: at u = {}, {a} and {b}; at u = {}, {c}.",
                fmt_param(temp),
                if temp > 1.0 { "sharpened" } else { "softened" },
                fmt_param(lambda),
                fmt_prop(lo),
                fmt_prop(hi)
            ),
            facts,
        });
    }
    let mut facts = Vec::new();
    let a = side_clause(FamilyLoss::DiceFg, fg[0] / lo, &mut facts);
    let b = side_clause(FamilyLoss::DiceFg, fg[n] / hi, &mut facts);
    out.push(Claim {
        text: format!(
            "How far Dice lands from the truth depends on the region size: at u = {}, {a}; at \
             u = {}, {b}.",
            fmt_prop(lo),
            fmt_prop(hi)
        ),
        facts,
    });
    out
}

/// The decomposition's sentence about the sign of foreground Dice's region term at `ŝ`.
pub fn decomposition_claim(u: f64, s: f64, region_fg: f64) -> Claim {
    let shown = format!("{region_fg:+.3}");
    let (su, ss) = (fmt_prop(u), fmt_prop(s));
    // Near ŝ = u the term is about (ŝ − u)/(2u): it can print as zero while ŝ ≠ u, and ŝ and u
    // can print alike while it does not. The sentence says only what its digits can carry.
    if shown == "+0.000" || shown == "-0.000" {
        let facts = vec![Fact::Equal {
            subject: "region term is 0 to three decimals".into(),
            a: region_fg,
            b: 0.0,
            tol: 0.0005,
        }];
        let at = if ss == su {
            format!("At ŝ ≈ u (both {su})")
        } else {
            format!("At ŝ = {ss} (u = {su})")
        };
        let text = format!(
            "{at} the foreground's Dice region term is 0.000 to three decimals: it is zero at \
             ŝ = u, positive above u (Dice is charged for predicting more) and negative below."
        );
        return Claim { text, facts };
    }
    let mut facts = vec![Fact::Shown {
        subject: "foreground Dice region term".into(),
        value: region_fg,
        shown: shown.clone(),
    }];
    let above = s > u;
    facts.push(if above {
        Fact::Greater {
            subject: "region term > 0".into(),
            a: region_fg,
            b: 0.0,
        }
    } else {
        Fact::Greater {
            subject: "region term < 0".into(),
            a: 0.0,
            b: region_fg,
        }
    });
    let (side, sign, effect) = if above {
        ("above", "positive", "Dice is charged for predicting more")
    } else {
        ("below", "negative", "Dice is rewarded for predicting less")
    };
    let at = if ss == su {
        format!("At ŝ just {side} u (both {su} to the digits shown)")
    } else {
        format!("At ŝ = {ss} ({side} u = {su})")
    };
    let text = format!("{at} the foreground's Dice region term is {sign} ({shown}): {effect}.");
    Claim { text, facts }
}

/// The landscape map's sentence: a bowl inside the shown range, or where the loss runs off.
/// `b_range` and `log_t_range` are the shown range; `cell` the grid's cell size in `b` and
/// `ln t` (the tolerance of "on the edge").
pub fn landscape_claim(
    loss: FamilyLoss,
    minimum: Option<&GridMinimum>,
    b_range: (f64, f64),
    log_t_range: (f64, f64),
    cell: (f64, f64),
    ambiguous: Option<(f64, f64)>,
) -> Claim {
    let Some(m) = minimum else {
        return Claim::plain(format!(
            "{}: no finite value in the shown range.",
            loss_name(loss)
        ));
    };
    let with = match ambiguous {
        Some((a, p)) => format!(
            " (with a = {} ambiguous pixels at p = {})",
            fmt_prop(a),
            fmt_prop(p)
        ),
        None => " (no ambiguous pixels)".to_string(),
    };
    let name = capitalized(loss_name(loss));
    let mut facts = Vec::new();
    let text = match m.run_off {
        None => {
            facts.push(Fact::Inside {
                subject: format!("{} minimum b", loss.key()),
                at: m.b,
                lo: b_range.0,
                hi: b_range.1,
                tol: 0.5 * cell.0,
            });
            facts.push(Fact::Inside {
                subject: format!("{} minimum ln t", loss.key()),
                at: m.log_t,
                lo: log_t_range.0,
                hi: log_t_range.1,
                tol: 0.5 * cell.1,
            });
            format!(
                "{name}{with} has a bowl: its lowest point lies inside the shown range, at b = \
                 {:.2}, t = {:.2}.",
                m.b,
                m.log_t.exp()
            )
        }
        Some(r) => {
            let edge_t = r.dt != 0;
            let (at, lo, hi, tol) = if edge_t {
                (m.log_t, log_t_range.0, log_t_range.1, 0.5 * cell.1)
            } else {
                (m.b, b_range.0, b_range.1, 0.5 * cell.0)
            };
            facts.push(Fact::AtEdge {
                subject: format!("{} minimum on the edge", loss.key()),
                at,
                lo,
                hi,
                tol,
            });
            let mut ways = Vec::new();
            match r.db {
                1 => ways.push("toward more predicted foreground (b grows)"),
                -1 => ways.push("toward less predicted foreground (b falls)"),
                _ => {}
            }
            match r.dt {
                1 => ways.push("toward ever harder, more confident predictions (t → ∞)"),
                -1 => ways.push("toward ever softer predictions (t → 0)"),
                _ => {}
            }
            if r.harden && r.dt != 1 {
                ways.push(
                    "toward ever harder predictions, b and t growing together at the same \
                     threshold −b/t (t → ∞)",
                );
            }
            let way = ways.join(", and ");
            format!("{name}{with} has no minimum in the shown range: it runs off {way}.")
        }
    };
    Claim { text, facts }
}
