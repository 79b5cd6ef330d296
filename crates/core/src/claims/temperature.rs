//! Claims of the temperature view: what `T` does to the region terms' optima.

use super::{fmt_param, fmt_prop, fmt_ratio, print_unit, Claim, Fact, Side};
use crate::family::FamilyLoss;
use crate::temperature::{TempHere, TempOptimum};

fn label(loss: FamilyLoss) -> &'static str {
    match loss {
        FamilyLoss::CeL1 => "CE+L1",
        FamilyLoss::CeKl => "CE+KL",
        _ => "CE",
    }
}

fn shown(subject: impl Into<String>, value: f64, text: String) -> Fact {
    Fact::Shown {
        subject: subject.into(),
        value,
        shown: text,
    }
}

/// How far a ratio is from 1, in log units (`0.5×` and `2×` are equally far); ratios below
/// `1e-6` (a thresholded proportion can be 0) count as `1e-6`.
pub fn log_distance(ratio: f64) -> f64 {
    ratio.max(1e-6).ln().abs()
}

/// Below this difference of [`log_distance`] two thresholded ratios are "as close to u".
pub const SAME_TOL: f64 = 1e-6;

/// The sentences of the temperature view at the current state (`here` carries `u, κ, σ, λ, T`
/// and the current `ŝ`).
pub fn temperature_claims(here: &TempHere) -> Vec<Claim> {
    let p = here.params;
    let (t, lam) = (fmt_param(p.temp), fmt_param(p.lambda));
    let mut out = Vec::new();

    // ŝ_T against ŝ and the thresholded proportion at the current shift.
    {
        let (s_txt, st_txt, h_txt) = (fmt_prop(here.s), fmt_prop(here.s_t), fmt_prop(here.hard));
        let d_soft = (here.s - here.hard).abs();
        let d_t = (here.s_t - here.hard).abs();
        let mut facts = vec![
            shown("ŝ", here.s, s_txt.clone()),
            shown("ŝ_T", here.s_t, st_txt.clone()),
            shown("thresholded proportion", here.hard, h_txt.clone()),
            shown("T", p.temp, t.clone()),
        ];
        let relation = if (d_t - d_soft).abs() <= 1e-12 {
            facts.push(Fact::Equal {
                subject: "|ŝ_T − hard| = |ŝ − hard|".into(),
                a: d_t,
                b: d_soft,
                tol: 1e-12,
            });
            "as far from the thresholded proportion as ŝ is"
        } else if d_t < d_soft {
            facts.push(Fact::Greater {
                subject: "|ŝ − hard| > |ŝ_T − hard|".into(),
                a: d_soft,
                b: d_t,
            });
            "closer to the thresholded proportion than ŝ is"
        } else {
            facts.push(Fact::Greater {
                subject: "|ŝ_T − hard| > |ŝ − hard|".into(),
                a: d_t,
                b: d_soft,
            });
            "farther from the thresholded proportion than ŝ is"
        };
        out.push(Claim {
            text: format!(
                "At the current ŝ = {s_txt}, {h_txt} of the pixels have a positive logit (the \
                 thresholded proportion); at T = {t} the region terms read ŝ_T = {st_txt}, \
                 {relation}."
            ),
            facts,
        });
    }

    let Some(ce) = here.optimum(FamilyLoss::Ce) else {
        return out;
    };
    let ce_hard_txt = fmt_ratio(ce.hard);
    out.push(Claim {
        text: format!(
            "CE's optimum {} ({}) for every T: thresholded at 0, its proportion is {} u.",
            Side::of_ratio(ce.soft).phrase(),
            fmt_ratio(ce.soft),
            ce_hard_txt
        ),
        facts: vec![
            Fact::Side {
                subject: "ce soft".into(),
                ratio: ce.soft,
                side: Side::of_ratio(ce.soft),
            },
            shown("ce soft", ce.soft, fmt_ratio(ce.soft)),
            shown("ce hard", ce.hard, ce_hard_txt.clone()),
        ],
    });

    let mut trades = Vec::new();
    for loss in [FamilyLoss::CeL1, FamilyLoss::CeKl] {
        let Some(o) = here.optimum(loss) else {
            continue;
        };
        let (mut c, rel) = regularised_claim(loss, &o, &ce, &t, &lam);
        c.facts.push(shown("T", p.temp, t.clone()));
        c.facts.push(shown("λ", p.lambda, lam.clone()));
        if rel == Relation::Trade {
            trades.push(label(loss));
        }
        out.push(c);
    }
    if p.temp == 1.0 {
        out.push(Claim::plain(
            "At T = 1 the region term reads the same soft proportion ŝ that CE matches, so it \
             cannot move the soft optimum off u.",
        ));
    } else if !trades.is_empty() {
        out.push(Claim::plain(format!(
            "That is the trade a sharp region term makes: soft-size accuracy for hard-size \
             accuracy ({} above).",
            trades.join(" and ")
        )));
    }
    out.push(Claim::plain(
        "The authors' CE+L1 configurations use T = 10 with λ = 1 (their code's default is T = 1).",
    ));
    out
}

/// What a regularised loss's sentence says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// Soft optimum off u, thresholded proportion closer to u than CE's.
    Trade,
    /// Anything else.
    Other,
}

fn regularised_claim(
    loss: FamilyLoss,
    o: &TempOptimum,
    ce: &TempOptimum,
    t: &str,
    lam: &str,
) -> (Claim, Relation) {
    let name = label(loss);
    let side = Side::of_ratio(o.soft);
    let (soft_txt, hard_txt, ce_txt) = (fmt_ratio(o.soft), fmt_ratio(o.hard), fmt_ratio(ce.hard));
    let (d_l, d_ce) = (log_distance(o.hard), log_distance(ce.hard));
    let mut facts = vec![
        Fact::Side {
            subject: format!("{} soft", loss.key()),
            ratio: o.soft,
            side,
        },
        shown(format!("{} soft", loss.key()), o.soft, soft_txt.clone()),
        shown(format!("{} hard", loss.key()), o.hard, hard_txt.clone()),
        shown("ce hard", ce.hard, ce_txt.clone()),
    ];
    // Ratios that print alike are not called closer or farther: the reader sees one number.
    let alike = hard_txt == ce_txt;
    let closeness = if (d_l - d_ce).abs() <= SAME_TOL {
        facts.push(Fact::Equal {
            subject: format!("|ln hard ratio| {} = CE", loss.key()),
            a: d_l,
            b: d_ce,
            tol: SAME_TOL,
        });
        "as close to u as"
    } else if alike {
        facts.push(Fact::Equal {
            subject: format!("hard ratio {} = CE to the digits shown", loss.key()),
            a: o.hard,
            b: ce.hard,
            tol: print_unit(&hard_txt),
        });
        "about as close to u as"
    } else if d_l < d_ce {
        facts.push(Fact::Greater {
            subject: format!("|ln hard ratio| CE > {}", loss.key()),
            a: d_ce,
            b: d_l,
        });
        "closer to u than"
    } else {
        facts.push(Fact::Greater {
            subject: format!("|ln hard ratio| {} > CE", loss.key()),
            a: d_l,
            b: d_ce,
        });
        "farther from u than"
    };
    let rel = if side != Side::AtU && d_l + SAME_TOL < d_ce && !alike {
        Relation::Trade
    } else {
        Relation::Other
    };
    let text = format!(
        "At T = {t}, λ = {lam}, {name}'s soft optimum {} ({soft_txt}) while its thresholded \
         proportion is {hard_txt} u, {closeness} CE's {ce_txt}.",
        side.phrase()
    );
    (Claim { text, facts }, rel)
}
