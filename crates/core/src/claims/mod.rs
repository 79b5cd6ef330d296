//! Sentences generated from the core's numbers, with the conditions they hold under.
//!
//! DiceLens teaches: a caption that is false at some state costs more trust than a missing
//! feature. So no caption or tour step *types* a relation ("at u", "over-estimates", "runs
//! off", "more balanced"). Each is chosen here from the numbers at the current state, and each
//! sentence carries the [`Fact`]s it asserts, so that a test can check every fact against the
//! core at random states (`tests/claims.rs`). Captions, tour steps and `dicelens explain`
//! all call these generators.
//!
//! One submodule per view; each exposes `fn …(…) -> Vec<Claim>` (or one [`Claim`]).

pub mod audit;
pub mod family;
pub mod gradients;
pub mod matching;
pub mod pooled;
pub mod temperature;
pub mod tour;

use std::fmt::Write as _;

/// `|ŝ*/u − 1|` below this is "at u".
pub const AT_U_TOL: f64 = 1e-3;

/// Where a proportion lies relative to the truth `u`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `|ratio − 1| < AT_U_TOL`.
    AtU,
    /// More than `u`.
    Over,
    /// Less than `u`.
    Under,
}

impl Side {
    /// The side of `ratio = ŝ/u`.
    pub fn of_ratio(ratio: f64) -> Side {
        if (ratio - 1.0).abs() < AT_U_TOL {
            Side::AtU
        } else if ratio > 1.0 {
            Side::Over
        } else {
            Side::Under
        }
    }

    /// The verb phrase: "sits at u", "over-estimates u", "under-estimates u".
    pub fn phrase(self) -> &'static str {
        match self {
            Side::AtU => "sits at the truth u",
            Side::Over => "over-estimates u",
            Side::Under => "under-estimates u",
        }
    }
}

/// One checkable statement inside a sentence.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    /// The ratio `ŝ/u` of `subject` lies on `side` of 1 (see [`Side::of_ratio`]).
    Side {
        /// What it is about (a loss key such as `"ce-l1"`, or a phrase).
        subject: String,
        /// The ratio the sentence is about.
        ratio: f64,
        /// The side the sentence states.
        side: Side,
    },
    /// `a > b` (the sentence says the first is larger).
    Greater {
        /// What is compared.
        subject: String,
        /// The larger value.
        a: f64,
        /// The smaller value.
        b: f64,
    },
    /// `at` lies on the edge of `[lo, hi]` (within `tol`): the minimum "runs off".
    AtEdge {
        /// What it is about.
        subject: String,
        /// Where the minimum is.
        at: f64,
        /// Range.
        lo: f64,
        /// Range.
        hi: f64,
        /// Tolerance.
        tol: f64,
    },
    /// `at` lies strictly inside `[lo, hi]` (by more than `tol`).
    Inside {
        /// What it is about.
        subject: String,
        /// Where the minimum is.
        at: f64,
        /// Range.
        lo: f64,
        /// Range.
        hi: f64,
        /// Tolerance.
        tol: f64,
    },
    /// A number printed in the sentence as `shown`.
    Shown {
        /// What it is.
        subject: String,
        /// The exact value.
        value: f64,
        /// How the text prints it.
        shown: String,
    },
    /// `|a − b| ≤ tol`: the sentence says two things are equal.
    Equal {
        /// What is compared.
        subject: String,
        /// One value.
        a: f64,
        /// The other.
        b: f64,
        /// Tolerance.
        tol: f64,
    },
}

impl Fact {
    /// Whether the fact holds for its own numbers (`Err` says why not).
    pub fn holds(&self) -> Result<(), String> {
        let ok = match self {
            Fact::Side { ratio, side, .. } => ratio.is_finite() && Side::of_ratio(*ratio) == *side,
            Fact::Greater { a, b, .. } => a > b,
            Fact::AtEdge {
                at, lo, hi, tol, ..
            } => (at - lo).abs() <= *tol || (hi - at).abs() <= *tol,
            Fact::Inside {
                at, lo, hi, tol, ..
            } => *at > lo + tol && *at < hi - tol,
            Fact::Shown { value, shown, .. } => shown_matches(*value, shown),
            Fact::Equal { a, b, tol, .. } => (a - b).abs() <= *tol,
        };
        if ok {
            Ok(())
        } else {
            Err(format!("fact does not hold: {self:?}"))
        }
    }

    /// The subject.
    pub fn subject(&self) -> &str {
        match self {
            Fact::Side { subject, .. }
            | Fact::Greater { subject, .. }
            | Fact::AtEdge { subject, .. }
            | Fact::Inside { subject, .. }
            | Fact::Shown { subject, .. }
            | Fact::Equal { subject, .. } => subject,
        }
    }
}

/// Whether `shown` is `value` printed to the digits `shown` has (or "—" for a non-finite one).
pub fn shown_matches(value: f64, shown: &str) -> bool {
    let t = shown.trim_end_matches('×').trim_end_matches('%');
    if !value.is_finite() {
        return t == "—";
    }
    let Ok(v) = t.parse::<f64>() else {
        return false;
    };
    let decimals = t.split('.').nth(1).map_or(0, |d| d.len()) as i32;
    let scale = if shown.ends_with('%') { 100.0 } else { 1.0 };
    (v - value * scale).abs() <= 0.5 * 10f64.powi(-decimals) * (1.0 + 1e-9) + 1e-12
}

/// One generated sentence and what it asserts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Claim {
    /// The sentence (plain text, UTF-8).
    pub text: String,
    /// What it asserts.
    pub facts: Vec<Fact>,
}

impl Claim {
    /// A sentence that asserts no relation (context, definitions).
    pub fn plain(text: impl Into<String>) -> Claim {
        Claim {
            text: text.into(),
            facts: Vec::new(),
        }
    }

    /// Checks every fact, and that every shown number appears in the text.
    pub fn verify(&self) -> Result<(), String> {
        for f in &self.facts {
            f.holds()
                .map_err(|e| format!("{e}\n  in sentence: {}", self.text))?;
            if let Fact::Shown { shown, .. } = f {
                if !self.text.contains(shown.as_str()) {
                    return Err(format!("'{shown}' is not in the sentence: {}", self.text));
                }
            }
            if let Fact::Side { side, .. } = f {
                if !self.text.contains(side.phrase()) {
                    return Err(format!(
                        "'{}' is not in the sentence: {}",
                        side.phrase(),
                        self.text
                    ));
                }
            }
        }
        sides_read_true(&self.text)?;
        compared_numbers_differ(&self.facts, &self.text)
    }
}

/// `a` and `b` printed by `fmt(value, decimals)` with the fewest decimals in `decimals` that
/// tell them apart (the last if none does): a sentence that compares two numbers shows two.
pub fn fmt_apart_by(
    a: f64,
    b: f64,
    decimals: std::ops::RangeInclusive<usize>,
    fmt: impl Fn(f64, usize) -> String,
) -> (String, String) {
    let last = *decimals.end();
    decimals
        .map(|d| (fmt(a, d), fmt(b, d)))
        .find(|(x, y)| x != y)
        .unwrap_or_else(|| (fmt(a, last), fmt(b, last)))
}

/// One unit in the last printed digit of `shown` (`0.01` for `"1.02×"`, `1` for `"3"`).
pub fn print_unit(shown: &str) -> f64 {
    let t = shown.trim_end_matches('×').trim_end_matches('%');
    let decimals = t.split('.').nth(1).map_or(0, |d| d.len()) as i32;
    10f64.powi(-decimals)
}

/// A sentence that says one number is greater than another does not print both the same: a
/// `Greater` whose two values are both `Shown` must show two different strings.
fn compared_numbers_differ(facts: &[Fact], text: &str) -> Result<(), String> {
    let shown_of = |v: f64| {
        facts.iter().find_map(|f| match f {
            Fact::Shown { value, shown, .. } if *value == v => Some(shown.as_str()),
            _ => None,
        })
    };
    for f in facts {
        if let Fact::Greater { subject, a, b } = f {
            if let (Some(sa), Some(sb)) = (shown_of(*a), shown_of(*b)) {
                if sa == sb {
                    return Err(format!(
                        "'{subject}' compares two numbers both printed {sa}: {text}"
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Every "over-estimates u (r×)", "under-estimates u (r×)" and "sits at the truth u (r×)" in
/// `text` prints a ratio on the side it names: a reader who sees "over-estimates u (1.00×)"
/// cannot tell the side from the number, so [`fmt_ratio`] adds the digit that shows it.
fn sides_read_true(text: &str) -> Result<(), String> {
    for side in [Side::Over, Side::Under, Side::AtU] {
        let opening = format!("{} (", side.phrase());
        for (i, _) in text.match_indices(&opening) {
            let rest = &text[i + opening.len()..];
            let Some(num) = rest.split('×').next().filter(|n| n.len() < rest.len()) else {
                continue;
            };
            let Ok(r) = num.parse::<f64>() else {
                continue;
            };
            let ok = match side {
                Side::Over => r > 1.0,
                Side::Under => r < 1.0,
                Side::AtU => r == 1.0,
            };
            if !ok {
                return Err(format!(
                    "'{} ({num}×)' prints a ratio off its side: {text}",
                    side.phrase()
                ));
            }
        }
    }
    Ok(())
}

/// Joins claims into one paragraph.
pub fn paragraph(claims: &[Claim]) -> String {
    let mut out = String::new();
    for c in claims {
        if c.text.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        let _ = write!(out, "{}", c.text);
    }
    out
}

/// A proportion for prose: `0`/`1` bare, 4 decimals below 0.01, else 3.
pub fn fmt_prop(v: f64) -> String {
    if v == 0.0 || v == 1.0 {
        format!("{v:.0}")
    } else if v < 0.01 {
        format!("{v:.4}")
    } else {
        format!("{v:.3}")
    }
}

/// A ratio for prose, `2.45×`; a third decimal where two would print `1.00×` for a ratio that
/// is not at 1 by [`AT_U_TOL`] (`1.003×`), so that "over-estimates u" never prints `1.00×`; two
/// significant digits where two decimals would print a positive ratio as `0.00×` (`0.0031×`).
pub fn fmt_ratio(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    let two = format!("{v:.2}");
    if two == "1.00" && (v - 1.0).abs() >= AT_U_TOL {
        format!("{v:.3}×")
    } else if two == "0.00" && v > 0.0 {
        // A small ratio is not printed as zero: two significant digits (up to 10 decimals).
        let d = ((-v.log10()).ceil() as usize + 1).min(10);
        format!("{v:.d$}×")
    } else {
        format!("{two}×")
    }
}

/// A parameter value for prose (shortest form, at most 3 decimals; a small nonzero value gets
/// two significant digits, so λ = 0.0004 never reads "λ = 0").
pub fn fmt_param(v: f64) -> String {
    let trim = |s: String| s.trim_end_matches('0').trim_end_matches('.').to_string();
    let s = trim(format!("{v:.3}"));
    if (s == "0" || s == "-0") && v != 0.0 && v.is_finite() {
        let d = ((-v.abs().log10()).ceil() as usize + 1).min(330);
        return trim(format!("{v:.d$}"));
    }
    s
}
