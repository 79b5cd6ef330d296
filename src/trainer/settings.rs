//! What defines the trainer's runs: the shared settings, each run's loss, λ and T. The numeric
//! fields' ranges, defaults, labels and messages come from the core's one table
//! ([`dicelens_core::train::fields`]), which the form, the URL codec, the core's validation and
//! `dicelens train` all read.

use dicelens_core::train::fields::{FieldSpec, Kind};
use dicelens_core::train::{loss_from_name, DataConfig, ModelKind, OptimizerKind, TrainConfig};
use dicelens_core::{LossKind, RegionConfig};
use dicelens_plot::trainer::RUNS;

pub use dicelens_core::train::fields;

/// The speed limit (steps per second per run): a setting of the page, not of the runs, so it
/// is not in the URL or the core's table.
pub const RATE: FieldSpec = FieldSpec {
    key: "",
    cli: "",
    name: "speed limit",
    label: "speed limit",
    unit: "steps per second per run",
    lo: 1.0,
    hi: 1000.0,
    open_lo: false,
    default: 240.0,
    step: 10.0,
    kind: Kind::Real,
};

/// The loss of a run, or no run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunLoss {
    /// The slot is empty.
    Off,
    /// Cross-entropy (BCE with one channel).
    Ce,
    /// MONAI Dice.
    Dice,
    /// MONAI log-Dice.
    LogDice,
    /// MONAI Dice + CE.
    DiceCe,
    /// CE + the L1 region term.
    CeL1,
    /// CE + the KL region term.
    CeKl,
}

impl RunLoss {
    /// Every choice, in the order of the form's list.
    pub const ALL: [RunLoss; 7] = [
        RunLoss::Off,
        RunLoss::Ce,
        RunLoss::Dice,
        RunLoss::LogDice,
        RunLoss::DiceCe,
        RunLoss::CeL1,
        RunLoss::CeKl,
    ];

    /// The key (in the URL and the form; [`loss_from_name`] takes it, `off` aside).
    pub fn key(self) -> &'static str {
        match self {
            RunLoss::Off => "off",
            RunLoss::Ce => "ce",
            RunLoss::Dice => "dice",
            RunLoss::LogDice => "log-dice",
            RunLoss::DiceCe => "dice-ce",
            RunLoss::CeL1 => "ce-l1",
            RunLoss::CeKl => "ce-kl",
        }
    }

    /// The label shown.
    pub fn label(self) -> &'static str {
        match self {
            RunLoss::Off => "off",
            RunLoss::Ce => "CE",
            RunLoss::Dice => "Dice",
            RunLoss::LogDice => "log-Dice",
            RunLoss::DiceCe => "Dice+CE",
            RunLoss::CeL1 => "CE+L1",
            RunLoss::CeKl => "CE+KL",
        }
    }

    /// A key, the CLI's `bce`, or a short form without the hyphen (`logdice`, `cel1` …);
    /// case and surrounding spaces are ignored.
    pub fn parse(name: &str) -> Option<Self> {
        let name = name.trim().to_ascii_lowercase();
        let key = match name.as_str() {
            "bce" => "ce",
            "logdice" => "log-dice",
            "dicece" => "dice-ce",
            "cel1" => "ce-l1",
            "cekl" => "ce-kl",
            other => other,
        };
        Self::ALL.into_iter().find(|l| l.key() == key)
    }

    /// The core's loss (`None` for [`RunLoss::Off`]).
    pub fn kind(self) -> Option<LossKind> {
        loss_from_name(self.key())
    }

    /// True for the losses with a region term (λ and T apply).
    pub fn has_region(self) -> bool {
        matches!(self, RunLoss::CeL1 | RunLoss::CeKl)
    }
}

/// One run's loss and region-term settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunSetting {
    /// The loss, or off.
    pub loss: RunLoss,
    /// λ of the region term.
    pub lambda: f64,
    /// T of the region term.
    pub temp: f64,
}

/// Everything that defines the runs; changing any of it resets them.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub model: ModelKind,
    pub optimizer: OptimizerKind,
    pub lr: f64,
    pub cosine: bool,
    pub batch: usize,
    pub steps: usize,
    pub seed: u64,
    pub size: usize,
    pub classes: usize,
    pub noise: f64,
    pub blur: f64,
    pub runs: [RunSetting; RUNS],
}

impl Default for Settings {
    fn default() -> Self {
        let t = TrainConfig::default();
        let run = |loss| RunSetting {
            loss,
            lambda: fields::LAMBDA.default,
            temp: fields::TEMP.default,
        };
        Self {
            model: t.model,
            optimizer: t.optimizer,
            lr: fields::LR.default,
            cosine: t.cosine,
            batch: fields::BATCH.default as usize,
            steps: fields::STEPS.default as usize,
            seed: fields::SEED.default as u64,
            size: fields::SIZE.default as usize,
            classes: fields::CLASSES.default as usize,
            noise: fields::NOISE.default,
            blur: fields::BLUR.default,
            runs: [
                run(RunLoss::Ce),
                run(RunLoss::Dice),
                run(RunLoss::LogDice),
                run(RunLoss::CeL1),
            ],
        }
    }
}

impl Settings {
    /// The data set's configuration.
    pub fn data_config(&self) -> DataConfig {
        DataConfig {
            size: self.size,
            classes: self.classes,
            noise: self.noise,
            blur: self.blur,
            seed: self.seed,
            ..DataConfig::default()
        }
    }

    /// Run `i`'s configuration (`None` when the run is off or `i` is out of range).
    pub fn train_config(&self, i: usize) -> Option<TrainConfig> {
        let r = self.runs.get(i)?;
        Some(TrainConfig {
            model: self.model,
            loss: r.loss.kind()?,
            region: RegionConfig {
                lambda: r.lambda,
                temp: r.temp,
            },
            optimizer: self.optimizer,
            lr: self.lr,
            batch: self.batch,
            steps: self.steps,
            cosine: self.cosine,
            seed: self.seed,
        })
    }

    /// Run `i`'s legend label, e.g. "4 CE+L1 (λ=1, T=10)".
    pub fn label(&self, i: usize) -> String {
        let Some(r) = self.runs.get(i) else {
            return String::new();
        };
        if r.loss.has_region() {
            format!(
                "{} {} (λ={}, T={})",
                i + 1,
                r.loss.label(),
                r.lambda,
                r.temp
            )
        } else {
            format!("{} {}", i + 1, r.loss.label())
        }
    }

    /// Runs that are not off.
    pub fn active_runs(&self) -> usize {
        self.runs.iter().filter(|r| r.loss != RunLoss::Off).count()
    }

    /// The value of a numeric field of the table (`run` picks λ or T's run).
    pub fn get(&self, f: &FieldSpec, run: usize) -> f64 {
        let r = self.runs.get(run).copied().unwrap_or(self.runs[0]);
        match f.key {
            k if k == fields::LR.key => self.lr,
            k if k == fields::BATCH.key => self.batch as f64,
            k if k == fields::STEPS.key => self.steps as f64,
            k if k == fields::SEED.key => self.seed as f64,
            k if k == fields::SIZE.key => self.size as f64,
            k if k == fields::CLASSES.key => self.classes as f64,
            k if k == fields::NOISE.key => self.noise,
            k if k == fields::BLUR.key => self.blur,
            k if k == fields::LAMBDA.key => r.lambda,
            k if k == fields::TEMP.key => r.temp,
            _ => f64::NAN,
        }
    }

    /// Sets a numeric field of the table to `x` (the caller has checked it with the table;
    /// `run` picks λ or T's run).
    pub fn set(&mut self, f: &FieldSpec, run: usize, x: f64) {
        let r = run.min(RUNS - 1);
        match f.key {
            k if k == fields::LR.key => self.lr = x,
            k if k == fields::BATCH.key => self.batch = x as usize,
            k if k == fields::STEPS.key => self.steps = x as usize,
            k if k == fields::SEED.key => self.seed = x as u64,
            k if k == fields::SIZE.key => self.size = x as usize,
            k if k == fields::CLASSES.key => self.classes = x as usize,
            k if k == fields::NOISE.key => self.noise = x,
            k if k == fields::BLUR.key => self.blur = x,
            k if k == fields::LAMBDA.key => self.runs[r].lambda = x,
            k if k == fields::TEMP.key => self.runs[r].temp = x,
            _ => {}
        }
    }
}

/// A number as the form and the URL show it (`0.01`, `16`).
pub fn show(x: f64) -> String {
    format!("{x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn losses_parse_from_keys_and_short_forms() {
        for l in RunLoss::ALL {
            assert_eq!(RunLoss::parse(l.key()), Some(l));
            assert_eq!(l.kind().is_none(), l == RunLoss::Off);
        }
        assert_eq!(RunLoss::parse(" BCE "), Some(RunLoss::Ce));
        assert_eq!(RunLoss::parse("cekl"), Some(RunLoss::CeKl));
        assert_eq!(RunLoss::parse("focal"), None);
    }

    #[test]
    fn every_table_field_reads_back_what_was_set() {
        let mut s = Settings::default();
        for f in fields::FIELDS {
            assert_eq!(s.get(&f, 0), f.default, "{} default", f.key);
            let x = f.hi;
            s.set(&f, 2, x);
            assert_eq!(s.get(&f, 2), x, "{}", f.key);
        }
        // λ and T are per run: run 0 kept its defaults.
        assert_eq!(s.runs[0].lambda, fields::LAMBDA.default);
        let cfg = s.train_config(2).expect("run 2 is log-Dice");
        assert_eq!(cfg.region.temp, fields::TEMP.hi);
        assert!(
            cfg.validate().is_ok(),
            "the table's ends are valid in the core"
        );
        assert!(s.data_config().validate().is_ok());
    }
}
