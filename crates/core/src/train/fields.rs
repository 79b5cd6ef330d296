//! The trainer's numeric settings, in one table: each [`FieldSpec`] holds a setting's URL key
//! (the app's `tr…` keys), its `dicelens train` option, its name in messages, its form label,
//! its range, default, step and unit. The core's validation ([`super::TrainConfig::validate`],
//! [`super::DataConfig::validate`]), the app's form and URL codec, and the CLI all read their
//! ranges and messages from here, so they cannot drift apart.
//!
//! The defaults are the app's: for λ and T they are the authors' preset
//! ([`crate::RegionConfig::AUTHORS`]); [`super::TrainConfig::default`] and `dicelens train` keep
//! [`crate::RegionConfig::default`] (a CE run does not use them).

use std::fmt::Write as _;

use super::TrainError;

/// What values a field takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A finite number in the range.
    Real,
    /// A whole number in the range.
    Int,
    /// One of these values (the range spans them).
    Choice(&'static [f64]),
}

/// One numeric setting of the trainer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldSpec {
    /// The app's URL key, e.g. `trlr`.
    pub key: &'static str,
    /// The `dicelens train` option without the dashes, e.g. `lr`.
    pub cli: &'static str,
    /// The name used in messages, e.g. "learning rate".
    pub name: &'static str,
    /// The form's label (see [`FieldSpec::form_label`]).
    pub label: &'static str,
    /// Unit or what the number counts ("" for none).
    pub unit: &'static str,
    /// Lower end of the range.
    pub lo: f64,
    /// Upper end of the range (included).
    pub hi: f64,
    /// `lo` itself is excluded.
    pub open_lo: bool,
    /// The default (the app's).
    pub default: f64,
    /// A sensible increment for a slider or a spin button.
    pub step: f64,
    /// Real, whole or one of a few values.
    pub kind: Kind,
}

/// Learning rate.
pub const LR: FieldSpec = FieldSpec {
    key: "trlr",
    cli: "lr",
    name: "learning rate",
    label: "learning rate",
    unit: "per step",
    lo: 0.0,
    hi: 1e9,
    open_lo: true,
    default: 0.01,
    step: 0.001,
    kind: Kind::Real,
};

/// Images per step.
pub const BATCH: FieldSpec = FieldSpec {
    key: "trbatch",
    cli: "batch",
    name: "batch size",
    label: "batch",
    unit: "images per step",
    lo: 1.0,
    hi: 256.0,
    open_lo: false,
    default: 16.0,
    step: 1.0,
    kind: Kind::Int,
};

/// Step budget.
pub const STEPS: FieldSpec = FieldSpec {
    key: "trsteps",
    cli: "steps",
    name: "step budget",
    label: "step budget",
    unit: "steps",
    lo: 1.0,
    hi: 100_000.0,
    open_lo: false,
    default: 500.0,
    step: 1.0,
    kind: Kind::Int,
};

/// Seed of the data and the initial weights (the app's range: exact in an `f64` and short in
/// a URL; the core itself takes any `u64`).
pub const SEED: FieldSpec = FieldSpec {
    key: "trseed",
    cli: "seed",
    name: "seed",
    label: "seed of the data and initial weights",
    unit: "",
    lo: 0.0,
    hi: 4_294_967_295.0,
    open_lo: false,
    default: 1.0,
    step: 1.0,
    kind: Kind::Int,
};

/// Image side in pixels.
pub const SIZE: FieldSpec = FieldSpec {
    key: "trsize",
    cli: "size",
    name: "size",
    label: "image size",
    unit: "pixels",
    lo: 32.0,
    hi: 64.0,
    open_lo: false,
    default: 32.0,
    step: 32.0,
    kind: Kind::Choice(&[32.0, 64.0]),
};

/// Number of classes, background included.
pub const CLASSES: FieldSpec = FieldSpec {
    key: "trclasses",
    cli: "classes",
    name: "classes",
    label: "classes",
    unit: "",
    lo: 2.0,
    hi: 3.0,
    open_lo: false,
    default: 2.0,
    step: 1.0,
    kind: Kind::Choice(&[2.0, 3.0]),
};

/// Standard deviation of the image noise.
pub const NOISE: FieldSpec = FieldSpec {
    key: "trnoise",
    cli: "noise",
    name: "noise",
    label: "image noise σ",
    unit: "intensity units",
    lo: 0.0,
    hi: 3.0,
    open_lo: false,
    default: 0.8,
    step: 0.1,
    kind: Kind::Real,
};

/// Standard deviation of the blur in pixels.
pub const BLUR: FieldSpec = FieldSpec {
    key: "trblur",
    cli: "blur",
    name: "blur",
    label: "blur σ",
    unit: "pixels",
    lo: 0.0,
    hi: 4.0,
    open_lo: false,
    default: 1.5,
    step: 0.1,
    kind: Kind::Real,
};

/// λ of the region terms (CE+L1, CE+KL).
pub const LAMBDA: FieldSpec = FieldSpec {
    key: "trlambda",
    cli: "lambda",
    name: "lambda",
    label: "weight λ",
    unit: "",
    lo: 0.0,
    hi: 100.0,
    open_lo: false,
    default: 1.0,
    step: 0.1,
    kind: Kind::Real,
};

/// Temperature T of the region terms.
pub const TEMP: FieldSpec = FieldSpec {
    key: "trtemp",
    cli: "temp",
    name: "temperature",
    label: "temperature T",
    unit: "",
    lo: 0.0,
    hi: 100.0,
    open_lo: true,
    default: 10.0,
    step: 0.5,
    kind: Kind::Real,
};

/// Every numeric setting.
pub const FIELDS: [FieldSpec; 10] = [
    LR, BATCH, STEPS, SEED, SIZE, CLASSES, NOISE, BLUR, LAMBDA, TEMP,
];

/// A number as messages print it: `1e9` rather than `1000000000`.
pub fn fmt_num(x: f64) -> String {
    let e = format!("{x:e}");
    if x.is_finite() && x.abs() >= 1e6 && !e.contains('.') {
        e
    } else {
        format!("{x}")
    }
}

impl FieldSpec {
    /// True when `x` is an allowed value.
    pub fn allows(&self, x: f64) -> bool {
        if !x.is_finite() {
            return false;
        }
        let in_range = (if self.open_lo {
            x > self.lo
        } else {
            x >= self.lo
        }) && x <= self.hi;
        match self.kind {
            Kind::Real => in_range,
            Kind::Int => in_range && x.fract() == 0.0,
            Kind::Choice(values) => values.contains(&x),
        }
    }

    /// What an allowed value is, after "must be": "between 0 and 3", "> 0 and ≤ 1e9",
    /// "a whole number from 1 to 256", "32 or 64".
    pub fn requirement(&self) -> String {
        let (lo, hi) = (fmt_num(self.lo), fmt_num(self.hi));
        match self.kind {
            Kind::Choice(values) => {
                let mut s = String::new();
                for (i, v) in values.iter().enumerate() {
                    let sep = if i == 0 {
                        ""
                    } else if i + 1 == values.len() {
                        " or "
                    } else {
                        ", "
                    };
                    let _ = write!(s, "{sep}{}", fmt_num(*v));
                }
                s
            }
            Kind::Int => format!("a whole number from {lo} to {hi}"),
            Kind::Real if self.open_lo => format!("> {lo} and ≤ {hi}"),
            Kind::Real => format!("between {lo} and {hi}"),
        }
    }

    /// The range as a form label shows it: "1–256", "> 0", "0–3".
    pub fn range_short(&self) -> String {
        let (lo, hi) = (fmt_num(self.lo), fmt_num(self.hi));
        match self.kind {
            Kind::Choice(_) => self.requirement(),
            _ if self.open_lo && self.hi >= 1e6 => format!("> {lo}"),
            _ if self.open_lo => format!("> {lo}, ≤ {hi}"),
            _ => format!("{lo}–{hi}"),
        }
    }

    /// The form's label: the label, then the unit and the range in parentheses.
    pub fn form_label(&self) -> String {
        match (self.kind, self.unit.is_empty()) {
            (Kind::Choice(_), true) => self.label.to_string(),
            (Kind::Choice(_), false) => format!("{} ({})", self.label, self.unit),
            (_, true) => format!("{} ({})", self.label, self.range_short()),
            (_, false) => format!("{} ({}, {})", self.label, self.unit, self.range_short()),
        }
    }

    /// `x` if allowed, or the core's error: "invalid {name} {x}: must be {requirement}".
    pub fn check(&self, x: f64) -> Result<f64, TrainError> {
        if self.allows(x) {
            Ok(x)
        } else {
            Err(TrainError::BadConfig {
                name: self.name,
                value: fmt_num(x),
                reason: format!("must be {}", self.requirement()),
            })
        }
    }

    /// [`FieldSpec::check`] of a whole number (a count or a size).
    pub fn check_count(&self, n: usize) -> Result<usize, TrainError> {
        self.check(n as f64).map(|_| n)
    }

    /// The nearest allowed value to a finite `x` (`None` for a non-finite `x`, or one at or
    /// below an open lower end, which has no nearest value). Whole-number fields take only
    /// whole numbers (a fraction is `None`); a choice field takes only its values.
    pub fn clamp(&self, x: f64) -> Option<f64> {
        if !x.is_finite() || (self.open_lo && x <= self.lo) {
            return None;
        }
        match self.kind {
            Kind::Real => Some(x.clamp(self.lo, self.hi)),
            Kind::Int if x.fract() == 0.0 => Some(x.clamp(self.lo, self.hi)),
            Kind::Int => None,
            Kind::Choice(values) => values.contains(&x).then_some(x),
        }
    }

    /// Parses typed text strictly (a form field): the value, or the message to show next to
    /// the field, with the value `kept` ("'abc' is not a number: noise kept at 0.8.",
    /// "noise must be between 0 and 3; kept 0.8.").
    pub fn parse_strict(&self, raw: &str, kept: &str) -> Result<f64, String> {
        let raw = raw.trim();
        let short: String = raw.chars().take(24).collect();
        let name = self.name;
        let value = match self.kind {
            Kind::Int => raw.parse::<u64>().ok().map(|v| v as f64),
            _ => raw.parse::<f64>().ok().filter(|v| v.is_finite()),
        };
        match value {
            Some(v) if self.allows(v) => Ok(v),
            Some(_) => Err(format!(
                "{name} must be {}; kept {kept}.",
                self.requirement()
            )),
            None if self.kind == Kind::Real => {
                Err(format!("'{short}' is not a number: {name} kept at {kept}."))
            }
            None => Err(format!(
                "'{short}' is not a whole number: {name} kept at {kept}."
            )),
        }
    }
}

/// The field with this URL key.
pub fn by_key(key: &str) -> Option<&'static FieldSpec> {
    FIELDS.iter().find(|f| f.key == key)
}

/// The field with this `dicelens train` option.
pub fn by_cli(option: &str) -> Option<&'static FieldSpec> {
    FIELDS.iter().find(|f| f.cli == option)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_allowed_and_keys_unique() {
        for (i, f) in FIELDS.iter().enumerate() {
            assert!(f.allows(f.default), "{}", f.key);
            assert!(f.lo <= f.hi && f.step > 0.0, "{}", f.key);
            for g in &FIELDS[i + 1..] {
                assert!(f.key != g.key && f.cli != g.cli && f.name != g.name);
            }
        }
    }

    #[test]
    fn the_core_defaults_are_the_table_defaults() {
        let (t, d) = (
            super::super::TrainConfig::default(),
            super::super::DataConfig::default(),
        );
        assert_eq!(
            (t.lr, t.batch as f64, t.steps as f64, t.seed as f64),
            (LR.default, BATCH.default, STEPS.default, SEED.default)
        );
        assert_eq!(
            (d.size as f64, d.classes as f64, d.noise, d.blur),
            (SIZE.default, CLASSES.default, NOISE.default, BLUR.default)
        );
        let a = crate::RegionConfig::AUTHORS;
        assert_eq!((a.lambda, a.temp), (LAMBDA.default, TEMP.default));
        // The core refuses exactly what the table refuses.
        for x in [-1.0, 0.0, 0.5, 1.0, 3.0, 3.5, 100.0, 101.0, f64::NAN] {
            let cfg = super::super::TrainConfig {
                region: crate::RegionConfig {
                    lambda: 1.0,
                    temp: x,
                },
                ..t
            };
            assert_eq!(cfg.validate().is_ok(), TEMP.allows(x), "T = {x}");
            let data = super::super::DataConfig {
                noise: x,
                ..d.clone()
            };
            assert_eq!(data.validate().is_ok(), NOISE.allows(x), "noise = {x}");
        }
    }

    #[test]
    fn messages_name_the_field_and_the_range() {
        assert_eq!(LR.requirement(), "> 0 and ≤ 1e9");
        assert_eq!(BATCH.requirement(), "a whole number from 1 to 256");
        assert_eq!(SIZE.requirement(), "32 or 64");
        assert_eq!(NOISE.form_label(), "image noise σ (intensity units, 0–3)");
        assert_eq!(LR.form_label(), "learning rate (per step, > 0)");
        assert_eq!(
            BATCH.check(0.0).unwrap_err().to_string(),
            "invalid batch size 0: must be a whole number from 1 to 256"
        );
        assert_eq!(
            NOISE.parse_strict("-1", "0.8").unwrap_err(),
            "noise must be between 0 and 3; kept 0.8."
        );
        assert_eq!(
            LR.parse_strict("abc", "0.01").unwrap_err(),
            "'abc' is not a number: learning rate kept at 0.01."
        );
        assert!(BATCH
            .parse_strict("2.5", "16")
            .unwrap_err()
            .contains("not a whole number"));
        assert_eq!(TEMP.clamp(0.0), None);
        assert_eq!(TEMP.clamp(500.0), Some(100.0));
        assert_eq!(BATCH.clamp(2.5), None);
        assert_eq!(SIZE.clamp(48.0), None);
    }
}
