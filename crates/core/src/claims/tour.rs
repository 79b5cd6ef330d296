//! The tour's "predict first" questions: each has two or three choices, and which one is right
//! is decided by the core's numbers at the step's state (never typed), with the facts that
//! make it right. The step's explanation sentences come from the views' generators.

use super::family::{family_minima, loss_name};
use super::{fmt_param, fmt_prop, fmt_ratio, Claim, Fact, Side};
use crate::ambiguous::{Ambiguous, AmbiguousLoss};
use crate::family::{Family, FamilyLoss};
use crate::region::RegionTerm;
use crate::simplex::SimplexTerm;

/// A question asked before the answer is shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// The question.
    pub question: String,
    /// Two or three choices.
    pub choices: Vec<String>,
    /// The index of the right choice at this state.
    pub answer: usize,
    /// What makes it right (checked by the tour's sweep test).
    pub facts: Vec<Fact>,
}

impl Prediction {
    /// Checks the facts behind the answer.
    pub fn verify(&self) -> Result<(), String> {
        if self.answer >= self.choices.len() || !(2..=3).contains(&self.choices.len()) {
            return Err(format!("bad choices: {self:?}"));
        }
        for f in &self.facts {
            f.holds()
                .map_err(|e| format!("{e}\n  in question: {}", self.question))?;
        }
        Ok(())
    }
}

fn sides() -> Vec<String> {
    vec!["below u".into(), "at u".into(), "above u".into()]
}

fn side_index(side: Side) -> usize {
    match side {
        Side::Under => 0,
        Side::AtU => 1,
        Side::Over => 2,
    }
}

/// Step "two losses, one question": where is foreground Dice's region term smallest?
pub fn predict_region(u: f64) -> Prediction {
    let (at, _) = RegionTerm::DiceFg.minimizer(u);
    let answer = if at == 0.0 {
        0
    } else if (at - u).abs() < 1e-12 {
        1
    } else {
        2
    };
    Prediction {
        question: format!(
            "The truth has u = {} of the pixels in the foreground. Where is the foreground-only \
             Dice region term smallest?",
            fmt_prop(u)
        ),
        choices: vec![
            "at ŝ = 0: predict no foreground".into(),
            "at the truth, ŝ = u".into(),
            "at ŝ = 1: predict everything".into(),
        ],
        answer,
        facts: vec![Fact::AtEdge {
            subject: "dice-fg region minimizer".into(),
            at,
            lo: 0.0,
            hi: 1.0,
            tol: 0.0,
        }],
    }
}

/// Step "CE = matching + KL": which part of CE depends on the predicted proportion only?
pub fn predict_ce_parts() -> Prediction {
    Prediction {
        question: "CE splits into parts. Which one depends only on how much foreground is \
                   predicted, not on where?"
            .into(),
        choices: vec![
            "KL(u‖ŝ), the region-size term".into(),
            "the matching term −Î".into(),
            "the entropy H(u)".into(),
        ],
        answer: 0,
        facts: Vec::new(),
    }
}

/// Step "Dice on the simplex": where is Dice's region term lowest for three classes?
pub fn predict_simplex(u3: [f64; 3]) -> Prediction {
    let (m, _) = SimplexTerm::Dice.minimizer(u3);
    let vertex = m.iter().filter(|&&x| x == 1.0).count() == 1;
    let at_truth = m.iter().zip(u3).all(|(a, b)| (a - b).abs() < 1e-12);
    Prediction {
        question: format!(
            "Three classes with sizes ({}, {}, {}). Where on the triangle of predicted \
             proportions is Dice's region term lowest?",
            fmt_prop(u3[0]),
            fmt_prop(u3[1]),
            fmt_prop(u3[2])
        ),
        choices: vec![
            "at the truth".into(),
            "at a corner: everything in one class".into(),
            "at the centre: a third each".into(),
        ],
        answer: if vertex {
            1
        } else if at_truth {
            0
        } else {
            2
        },
        facts: vec![Fact::Equal {
            subject: "Dice's simplex minimizer is a vertex".into(),
            a: m.iter().cloned().fold(0.0, f64::max),
            b: 1.0,
            tol: 0.0,
        }],
    }
}

/// Step "the full losses on the family": which side of `u` is foreground Dice's optimum?
pub fn predict_family_dice(f: &Family) -> Prediction {
    let m = f.minimize(FamilyLoss::DiceFg);
    let side = Side::of_ratio(m.ratio);
    let p = f.params();
    Prediction {
        question: format!(
            "Now the whole loss, matching term included, on the logit-shift family (u = {}, \
             κ = {}, σ = {}). Where does foreground-only Dice put its optimum ŝ*?",
            fmt_prop(p.u),
            fmt_param(p.kappa),
            fmt_param(p.sigma)
        ),
        choices: sides(),
        answer: side_index(side),
        facts: vec![Fact::Side {
            subject: "dice-fg".into(),
            ratio: m.ratio,
            side,
        }],
    }
}

/// Step "the fix": which side of `u` is CE+L1's soft optimum at the state's `T`, `λ`?
pub fn predict_fix(f: &Family) -> Prediction {
    let m = family_minima(f)
        .into_iter()
        .find(|m| m.0 == FamilyLoss::CeL1)
        .map(|m| m.1)
        .expect("family_minima has CE+L1");
    let side = Side::of_ratio(m.ratio);
    let p = f.params();
    Prediction {
        question: format!(
            "Add λ·|ŝ_T − u| to CE, at T = {} and λ = {}. Where does CE+L1's soft optimum ŝ* \
             land?",
            fmt_param(p.temp),
            fmt_param(p.lambda)
        ),
        choices: sides(),
        answer: side_index(side),
        facts: vec![Fact::Side {
            subject: "ce-l1".into(),
            ratio: m.ratio,
            side,
        }],
    }
}

/// The bias-map step's numbers: foreground Dice's ratio at a small and a large `u`.
pub fn bias_ratios(small: &Family, large: &Family) -> (f64, f64) {
    (
        small.minimize(FamilyLoss::DiceFg).ratio,
        large.minimize(FamilyLoss::DiceFg).ratio,
    )
}

/// Step "the bias map": is foreground Dice further from the truth at the small `u` or the
/// large one? "About the same" when the two `|log ratio|` differ by less than 0.05.
pub fn predict_bias(u_small: f64, u_large: f64, small: f64, large: f64) -> Prediction {
    let (es, el) = (small.ln().abs(), large.ln().abs());
    let (answer, facts) = if (es - el).abs() < 0.05 {
        (
            1,
            vec![Fact::Equal {
                subject: "|log ratio| about the same".into(),
                a: es,
                b: el,
                tol: 0.05,
            }],
        )
    } else if es > el {
        (
            0,
            vec![Fact::Greater {
                subject: "further at the small u".into(),
                a: es,
                b: el,
            }],
        )
    } else {
        (
            2,
            vec![Fact::Greater {
                subject: "further at the large u".into(),
                a: el,
                b: es,
            }],
        )
    };
    Prediction {
        question: format!(
            "Sweep u. Is foreground-only Dice's optimum further from the truth (as a ratio ŝ*/u) \
             for a small structure, u = {}, or a large one, u = {}?",
            fmt_prop(u_small),
            fmt_prop(u_large)
        ),
        choices: vec![
            format!("further at u = {}", fmt_prop(u_small)),
            "about the same".into(),
            format!("further at u = {}", fmt_prop(u_large)),
        ],
        answer,
        facts,
    }
}

/// The bias-map step's sentence.
pub fn bias_claim(u_small: f64, u_large: f64, small: f64, large: f64) -> Claim {
    let mut facts = Vec::new();
    let mut clause = |u: f64, r: f64| {
        let side = Side::of_ratio(r);
        facts.push(Fact::Side {
            subject: format!("dice-fg at u = {u}"),
            ratio: r,
            side,
        });
        let shown = fmt_ratio(r);
        facts.push(Fact::Shown {
            subject: format!("ratio at u = {u}"),
            value: r,
            shown: shown.clone(),
        });
        format!("at u = {}, it {} ({shown})", fmt_prop(u), side.phrase())
    };
    let a = clause(u_small, small);
    let b = clause(u_large, large);
    Claim {
        text: format!(
            "The bias map repeats the search for every u. CE's optimum is on the diagonal ŝ* = u \
             everywhere. Foreground-only Dice's is not: {a}; {b}. How far Dice lands from the \
             truth depends on the region size: a hidden region-size bias (in this model)."
        ),
        facts,
    }
}

/// Step "ambiguous pixels": what is Dice's best `q` at `p`?
pub fn predict_ambiguous(m: &Ambiguous, p: f64) -> Prediction {
    let q = m.optimum(AmbiguousLoss::Dice, p).unwrap_or(f64::NAN);
    let answer = if q == 0.0 {
        1
    } else if q == 1.0 {
        2
    } else {
        0
    };
    Prediction {
        question: format!(
            "A fraction a = {} of pixels is foreground with probability p = {}, and the model \
             predicts one probability q for all of them. What q is best for Dice?",
            fmt_prop(m.a()),
            fmt_prop(p)
        ),
        choices: vec![
            "q = p: calibrated".into(),
            "q = 0: none of them".into(),
            "q = 1: all of them".into(),
        ],
        answer,
        facts: vec![Fact::Equal {
            subject: "Dice's q is 0 or 1".into(),
            a: q * (1.0 - q),
            b: 0.0,
            tol: 0.0,
        }],
    }
}

/// The ambiguous step's sentence.
pub fn ambiguous_claim(m: &Ambiguous, p: f64) -> Claim {
    let ce = m.optimum(AmbiguousLoss::Ce, p).unwrap_or(f64::NAN);
    let dice = m.optimum(AmbiguousLoss::Dice, p).unwrap_or(f64::NAN);
    let flip = m.flip_threshold();
    let vol = m.volume_bias(p, dice);
    let (sq, sd, sf, sv) = (
        format!("{ce:.2}"),
        format!("{dice:.0}"),
        format!("{flip:.3}"),
        format!("{:+.1}%", 100.0 * vol),
    );
    let side = if dice > p {
        "above p"
    } else if dice < p {
        "below p"
    } else {
        "equal to p"
    };
    let mut facts = vec![
        Fact::Shown {
            subject: "CE's q".into(),
            value: ce,
            shown: sq.clone(),
        },
        Fact::Shown {
            subject: "Dice's q".into(),
            value: dice,
            shown: sd.clone(),
        },
        Fact::Shown {
            subject: "flip".into(),
            value: flip,
            shown: sf.clone(),
        },
        Fact::Shown {
            subject: "volume bias".into(),
            value: vol,
            shown: sv.clone(),
        },
        Fact::Equal {
            subject: "CE's q = p".into(),
            a: ce,
            b: p,
            tol: 1e-12,
        },
    ];
    if dice > p {
        facts.push(Fact::Greater {
            subject: "Dice's q above p".into(),
            a: dice,
            b: p,
        });
    } else if dice < p {
        facts.push(Fact::Greater {
            subject: "Dice's q below p".into(),
            a: p,
            b: dice,
        });
    }
    Claim {
        text: format!(
            "CE's best q is {sq} = p: calibrated, and its volume is exact. Dice's is q = {sd}, \
             {side}: a hard decision that flips at p = {sf}, here a volume error of {sv}. This \
             is DiceLens's version of the volumetric bias described by Bertels et al. (2019)."
        ),
        facts,
    }
}

/// The family step's sentence saying which Dice is which.
pub fn dice_pair_claim(f: &Family) -> Claim {
    let mut facts = Vec::new();
    let mut clause = |l: FamilyLoss| {
        let r = f.minimize(l).ratio;
        let side = Side::of_ratio(r);
        facts.push(Fact::Side {
            subject: l.key().into(),
            ratio: r,
            side,
        });
        let shown = fmt_ratio(r);
        facts.push(Fact::Shown {
            subject: format!("{} ratio", l.key()),
            value: r,
            shown: shown.clone(),
        });
        format!("{} {} ({shown})", loss_name(l), side.phrase())
    };
    let a = clause(FamilyLoss::DiceFg);
    let b = clause(FamilyLoss::DiceMean);
    Claim {
        text: format!(
            "On this family, {a}, and {b}. The paper preset's Dice includes the background, so \
             it is the two-class mean."
        ),
        facts,
    }
}

/// Step "what each loss pushes": at the state's `u`, does foreground Dice or CE push a
/// foreground pixel's logit harder? "About the same" within 10%.
pub fn predict_gradients(p: crate::gradients::GradParams) -> Option<Prediction> {
    let g = crate::gradients::pixel_gradients(p).ok()?;
    let get = |l: FamilyLoss| g.iter().find(|x| x.0 == l).map(|x| x.1[0].abs());
    let (ce, dice) = (get(FamilyLoss::Ce)?, get(FamilyLoss::DiceFg)?);
    if !(ce.is_finite() && dice.is_finite()) {
        return None;
    }
    let (answer, facts) = if (dice / ce - 1.0).abs() < 0.1 {
        (
            1,
            vec![Fact::Equal {
                subject: "pushes about the same".into(),
                a: dice / ce,
                b: 1.0,
                tol: 0.1,
            }],
        )
    } else if dice > ce {
        (
            0,
            vec![Fact::Greater {
                subject: "Dice pushes harder".into(),
                a: dice,
                b: ce,
            }],
        )
    } else {
        (
            2,
            vec![Fact::Greater {
                subject: "CE pushes harder".into(),
                a: ce,
                b: dice,
            }],
        )
    };
    Some(Prediction {
        question: format!(
            "A small structure: u = {} of the pixels, predicted at p = {} inside and {} outside. \
             Which loss pushes a foreground pixel's logit harder (N·∂L/∂z)?",
            fmt_prop(p.u),
            fmt_param(p.p_fg),
            fmt_param(p.p_bg)
        ),
        choices: vec![
            "foreground-only Dice".into(),
            "about the same".into(),
            "CE".into(),
        ],
        answer,
        facts,
    })
}

/// Step "the shared matching term": compared with CE, does Dice's matching bound weigh the
/// smallest class more, the same, or less? (`1/K` against `u_min`; "the same" within 1%.)
pub fn predict_matching(u3: [f64; 3]) -> Prediction {
    let u_min = u3.iter().cloned().fold(f64::INFINITY, f64::min);
    let k = 1.0 / 3.0;
    let (answer, facts) = if (k / u_min - 1.0).abs() < 0.01 {
        (
            1,
            vec![Fact::Equal {
                subject: "weights equal".into(),
                a: k / u_min,
                b: 1.0,
                tol: 0.01,
            }],
        )
    } else if k > u_min {
        (
            0,
            vec![Fact::Greater {
                subject: "Dice's bound weighs the smallest class more".into(),
                a: k,
                b: u_min,
            }],
        )
    } else {
        (
            2,
            vec![Fact::Greater {
                subject: "CE weighs the smallest class more".into(),
                a: u_min,
                b: k,
            }],
        )
    };
    Prediction {
        question: format!(
            "Both losses contain the per-class matching terms C_k. CE weighs them by the class \
             sizes ({}, {}, {}). How does Dice's matching bound weigh the smallest class, \
             compared with CE?",
            fmt_prop(u3[0]),
            fmt_prop(u3[1]),
            fmt_prop(u3[2])
        ),
        choices: vec!["more".into(), "the same".into(), "less".into()],
        answer,
        facts,
    }
}

/// A three-way "which is closest to the truth" question: the answer is the choice with the
/// smallest `|log ratio|`; the facts say it beats the others.
fn closest(question: String, choices: Vec<String>, ratios: &[f64]) -> Prediction {
    let d: Vec<f64> = ratios
        .iter()
        .map(|&r| super::temperature::log_distance(r))
        .collect();
    let answer = (0..d.len())
        .min_by(|&a, &b| d[a].total_cmp(&d[b]))
        .unwrap_or(0);
    let facts = (0..d.len())
        .filter(|&k| k != answer)
        .map(|k| Fact::Greater {
            subject: format!("choice {answer} is closer than choice {k}"),
            a: d[k] + 1e-12,
            b: d[answer],
        })
        .collect();
    Prediction {
        question,
        choices,
        answer,
        facts,
    }
}

/// Step "what T does": at the state's `T`, `λ`, whose thresholded size is closest to `u`?
pub fn predict_temperature(here: &crate::temperature::TempHere) -> Option<Prediction> {
    let get = |l: FamilyLoss| here.current.iter().find(|x| x.0 == l).map(|x| x.1.hard);
    let ratios = [
        get(FamilyLoss::Ce)?,
        get(FamilyLoss::CeL1)?,
        get(FamilyLoss::CeKl)?,
    ];
    Some(closest(
        format!(
            "Threshold each loss's optimum at 0.5 (u = {}, T = {}, λ = {}). Whose thresholded \
             size is closest to the truth?",
            fmt_prop(here.params.u),
            fmt_param(here.params.temp),
            fmt_param(here.params.lambda)
        ),
        vec!["CE's".into(), "CE+L1's".into(), "CE+KL's".into()],
        &ratios,
    ))
}

/// Step "per image against pooled": for the batch's smallest image, whose thresholded size is
/// closest to its truth?
pub fn predict_pooled(v: &crate::pooled::PooledView) -> Option<Prediction> {
    let j = (0..v.sizes.len()).min_by(|&a, &b| v.sizes[a].total_cmp(&v.sizes[b]))?;
    let get = |l: FamilyLoss| v.optimum(l).map(|o| o.hard[j]);
    let ratios = [
        get(FamilyLoss::Ce)?,
        get(FamilyLoss::CeL1)?,
        get(FamilyLoss::CeKl)?,
    ];
    Some(closest(
        format!(
            "A batch of images shares one output shift. For its smallest structure (u = {}), \
             whose thresholded size is closest to the truth?",
            fmt_prop(v.sizes[j])
        ),
        vec!["CE's".into(), "CE+L1's".into(), "CE+KL's".into()],
        &ratios,
    ))
}
