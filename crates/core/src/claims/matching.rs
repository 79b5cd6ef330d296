//! Claims about the shared matching term (the `matching` view): both weightings of the
//! per-class terms `C_k`, Dice's bound and its Jensen gap.

use super::{Claim, Fact};
use crate::matching::{MatchingView, K};

/// Differences below this (in nats) are "equal to 3 decimals".
pub const NATS_TOL: f64 = 5e-4;

/// The paper's sentence the view builds on (a statement of the paper, no relation at a state).
pub const PAPER_SENTENCE: &str = "Both losses are a matching term plus a region-size penalty, \
    and their matching terms differ only in how they weight the classes: CE weighs each class's \
    matching term C_k by its frequency u_k, Dice's bound (1/K) Σ_k C_k weighs every class \
    equally, which is CE with class weights 1/u_k (PyTorch's F.cross_entropy(weight=1/u)).";

/// Nats for prose, 3 decimals.
pub fn fmt_nats(v: f64) -> String {
    fmt_nats_to(v, 3)
}

/// Nats with `decimals` decimals ("—" for a non-finite value).
fn fmt_nats_to(v: f64, decimals: usize) -> String {
    if v.is_finite() {
        format!("{v:.decimals$}")
    } else {
        "—".into()
    }
}

/// A share for prose, `45.1%`.
pub fn fmt_percent(v: f64) -> String {
    fmt_percent_to(v, 1)
}

/// A share as a percentage with `decimals` decimals.
fn fmt_percent_to(v: f64, decimals: usize) -> String {
    format!("{:.decimals$}%", 100.0 * v)
}

fn shown(subject: impl Into<String>, value: f64, text: String) -> (Fact, String) {
    (
        Fact::Shown {
            subject: subject.into(),
            value,
            shown: text.clone(),
        },
        text,
    )
}

fn greater(subject: &str, a: f64, b: f64) -> Fact {
    Fact::Greater {
        subject: subject.into(),
        a,
        b,
    }
}

/// Index of the largest and of the smallest `u_k` (the first one on ties).
pub fn largest_smallest(u: [f64; 3]) -> (usize, usize) {
    let mut lg = 0;
    let mut sm = 0;
    for k in 1..3 {
        if u[k] > u[lg] {
            lg = k;
        }
        if u[k] < u[sm] {
            sm = k;
        }
    }
    (lg, sm)
}

/// The caption of the `matching` view at the state of `v`: the paper's sentence, then what the
/// two weightings, the bound and the Jensen gap are here.
pub fn matching_claims(v: &MatchingView) -> Vec<Claim> {
    let mut out = vec![Claim::plain(PAPER_SENTENCE)];
    let third = 1.0 / K as f64;
    let u = v.u;
    let c: [f64; 3] = std::array::from_fn(|k| v.classes[k].c);
    let (lg, sm) = largest_smallest(u);
    let ratio_sm = third / u[sm];
    // "About equally large": every u_k within 0.5% of 1/3.
    let equal = (0..3).all(|k| (u[k] - third).abs() <= 0.005 * third);

    // 1. The two weightings.
    if !equal {
        let (f1, t1) = shown("u largest", u[lg], super::fmt_prop(u[lg]));
        let (f2, t2) = shown("u smallest", u[sm], super::fmt_prop(u[sm]));
        let (f3, t3) = shown("Dice weight 1/3", third, format!("{third:.3}"));
        let (f4, t4) = shown("(1/3)/u smallest", ratio_sm, super::fmt_ratio(ratio_sm));
        let ratio_lg = third / u[lg];
        let (f5, t5) = shown("(1/3)/u largest", ratio_lg, super::fmt_ratio(ratio_lg));
        out.push(Claim {
            text: format!(
                "Here CE's weights put {t1} on the largest class (class {lg}) and {t2} on the \
                 smallest (class {sm}); Dice's bound weighs each class {t3}, so the smallest class \
                 counts {t4} as much as under CE, and the largest {t5} as much."
            ),
            facts: vec![
                f1,
                f2,
                f3,
                f4,
                f5,
                greater("largest class is larger than the smallest", u[lg], u[sm]),
                greater(
                    "Dice's weight exceeds CE's on the smallest class",
                    third,
                    u[sm],
                ),
                greater(
                    "CE's weight exceeds Dice's on the largest class",
                    u[lg],
                    third,
                ),
            ],
        });
    } else {
        let (f1, t1) = shown("CE matching term", v.ce, fmt_nats(v.ce));
        let (f2, t2) = shown("Dice bound", v.dice_bound, fmt_nats(v.dice_bound));
        let mut facts = vec![f1, f2];
        facts.extend((0..3).map(|k| Fact::Equal {
            subject: format!("u_{k} is about 1/3"),
            a: u[k],
            b: third,
            tol: 0.005 * third,
        }));
        out.push(Claim {
            text: format!(
                "Here the three classes are about equally large (every u_k within 0.5% of 1/3), \
                 so CE's weights u_k and Dice's 1/3 nearly coincide: CE's matching term is {t1} \
                 nats, Dice's bound {t2}."
            ),
            facts,
        });
    }

    // 2. The two totals, and the identity of their difference.
    let diff = v.dice_bound - v.ce;
    // Totals that agree to 3 decimals but differ by NATS_TOL or more are printed to 4.
    let (n_ce, n_bound) = if diff.abs() < NATS_TOL {
        (fmt_nats(v.ce), fmt_nats(v.dice_bound))
    } else {
        super::fmt_apart_by(v.ce, v.dice_bound, 3..=4, fmt_nats_to)
    };
    let (f1, t1) = shown("CE matching term", v.ce, n_ce);
    let (f2, t2) = shown("Dice bound", v.dice_bound, n_bound);
    if diff.abs() < NATS_TOL {
        out.push(Claim {
            text: format!(
                "With these per-class terms, CE's matching term Σ_k u_k C_k = {t1} nats and Dice's \
                 bound (1/3) Σ_k C_k = {t2} nats agree to 3 decimals."
            ),
            facts: vec![
                f1,
                f2,
                Fact::Equal {
                    subject: "CE matching term and Dice bound".into(),
                    a: v.ce,
                    b: v.dice_bound,
                    tol: NATS_TOL,
                },
            ],
        });
    } else {
        let (f3, t3) = shown("|Σ (1/3 − u_k) C_k|", diff.abs(), fmt_nats(diff.abs()));
        let (word, sum) = if diff > 0.0 {
            ("larger", "Σ_k (1/3 − u_k) C_k")
        } else {
            ("smaller", "Σ_k (u_k − 1/3) C_k")
        };
        let fact = if diff > 0.0 {
            greater("Dice bound exceeds CE's matching term", v.dice_bound, v.ce)
        } else {
            greater(
                "CE's matching term exceeds the Dice bound",
                v.ce,
                v.dice_bound,
            )
        };
        out.push(Claim {
            text: format!(
                "With these per-class terms, CE's matching term Σ_k u_k C_k = {t1} nats and Dice's \
                 bound (1/3) Σ_k C_k = {t2} nats: the bound is {word} by {sum} = {t3}."
            ),
            facts: vec![f1, f2, f3, fact],
        });
    }

    // 3. The smallest class under both weightings.
    if !equal && lg != sm {
        let share_dice = third * c[sm] / v.dice_bound;
        let share_ce = u[sm] * c[sm] / v.ce;
        let (f1, t1) = shown(format!("C_{sm}"), c[sm], fmt_nats(c[sm]));
        // Two shares printed with the decimals that tell them apart (a tiny C_k makes both
        // 0.0% at one decimal).
        let (p_dice, p_ce) = super::fmt_apart_by(share_dice, share_ce, 1..=4, fmt_percent_to);
        let apart = p_dice != p_ce;
        let (f2, t2) = shown("share of Dice's bound", share_dice, p_dice);
        let (f3, t3) = shown("share of CE", share_ce, p_ce);
        let (f4, t4) = shown(format!("C_{lg}"), c[lg], fmt_nats(c[lg]));
        let (how, fact) = if c[sm] > c[lg] + NATS_TOL {
            (
                "worse",
                greater("smallest class matched worse", c[sm], c[lg]),
            )
        } else if c[lg] > c[sm] + NATS_TOL {
            (
                "better",
                greater("smallest class matched better", c[lg], c[sm]),
            )
        } else {
            (
                "about as well",
                Fact::Equal {
                    subject: "smallest and largest class matched alike".into(),
                    a: c[sm],
                    b: c[lg],
                    tol: NATS_TOL,
                },
            )
        };
        let (shares, share_fact) = if apart {
            (
                format!("it makes up {t2} of Dice's bound but only {t3} of CE"),
                greater(
                    "share of Dice's bound exceeds share of CE",
                    share_dice,
                    share_ce,
                ),
            )
        } else {
            (
                format!("it makes up {t2} of Dice's bound and {t3} of CE"),
                Fact::Equal {
                    subject: "shares alike to the digits shown".into(),
                    a: share_dice,
                    b: share_ce,
                    tol: 0.01 * super::print_unit(&t2),
                },
            )
        };
        out.push(Claim {
            text: format!(
                "The smallest class (C_{sm} = {t1}) is matched {how} than the largest \
                 (C_{lg} = {t4}); {shares}."
            )
            .replace("about as well than", "about as well as"),
            facts: vec![f1, f2, f3, f4, fact, share_fact],
        });
    }

    // 4. Dice's actual matching term and the Jensen gap.
    let (f1, t1) = shown(
        "Dice matching term",
        v.dice_matching,
        fmt_nats(v.dice_matching),
    );
    if v.gap >= NATS_TOL {
        let (f2, t2) = shown("Jensen gap", v.gap, fmt_nats(v.gap));
        let (gk, gmax) = (0..3)
            .map(|k| (k, v.classes[k].jensen_gap))
            .fold((0, f64::NEG_INFINITY), |a, b| if b.1 > a.1 { b } else { a });
        let mut facts = vec![
            f1,
            f2,
            greater(
                "Dice bound exceeds Dice's matching term",
                v.dice_bound,
                v.dice_matching,
            ),
        ];
        let mut text = format!(
            "Dice's actual matching term (1/3) Σ_k −log m_k is {t1} nats, {t2} below its bound: \
             the Jensen gap (1/3) Σ_k (C_k + log m_k), which is never negative."
        );
        let others_clear = (0..3)
            .filter(|&k| k != gk)
            .all(|k| gmax > v.classes[k].jensen_gap + NATS_TOL);
        if others_clear {
            let (f3, t3) = shown(format!("C_{gk} + log m_{gk}"), gmax, fmt_nats(gmax));
            facts.push(f3);
            for k in (0..3).filter(|&k| k != gk) {
                facts.push(greater(
                    &format!("class {gk}'s Jensen gap exceeds class {k}'s"),
                    gmax,
                    v.classes[k].jensen_gap,
                ));
            }
            text.push_str(&format!(
                " Per class the gap C_k + log m_k is largest for class {gk} ({t3} nats)."
            ));
        }
        out.push(Claim { text, facts });
    } else if v.sigma == 0.0 {
        out.push(Claim {
            text: format!(
                "Dice's actual matching term (1/3) Σ_k −log m_k equals its bound here ({t1} nats): \
                 at σ = 0 every pixel of a class gets the same prediction, so Jensen's \
                 inequality is tight."
            ),
            facts: vec![
                f1,
                Fact::Equal {
                    subject: "Dice matching term equals its bound at σ = 0".into(),
                    a: v.dice_matching,
                    b: v.dice_bound,
                    tol: 1e-9,
                },
            ],
        });
    } else {
        let (f2, t2) = shown("Dice bound", v.dice_bound, fmt_nats(v.dice_bound));
        out.push(Claim {
            text: format!(
                "Dice's actual matching term (1/3) Σ_k −log m_k is {t1} nats, within 0.0005 of \
                 its bound ({t2}): the Jensen gap is below 0.0005 here."
            ),
            facts: vec![
                f1,
                f2,
                Fact::Equal {
                    subject: "Dice matching term within 0.0005 of its bound".into(),
                    a: v.dice_matching,
                    b: v.dice_bound,
                    tol: NATS_TOL,
                },
            ],
        });
    }
    out
}
