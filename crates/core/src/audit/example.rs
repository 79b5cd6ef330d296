//! Example data for the audit: held-out images of the trainer's generator with the logits of
//! a short training run, so the data view is never empty.

use ndarray::{Array3, Array4};

use crate::losses::LossKind;
use crate::train::{DataConfig, Dataset, TrainConfig, TrainError, Trainer};

/// Which run made the predictions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExampleKind {
    /// A short CE run.
    Ce,
    /// A short (MONAI) Dice run.
    Dice,
}

impl ExampleKind {
    /// Both.
    pub const ALL: [ExampleKind; 2] = [ExampleKind::Ce, ExampleKind::Dice];

    /// `ce` or `dice`.
    pub fn key(self) -> &'static str {
        match self {
            ExampleKind::Ce => "ce",
            ExampleKind::Dice => "dice",
        }
    }

    /// Inverse of [`ExampleKind::key`].
    pub fn parse(s: &str) -> Option<Self> {
        ExampleKind::ALL.into_iter().find(|k| k.key() == s)
    }

    fn loss(self) -> LossKind {
        match self {
            ExampleKind::Ce => LossKind::Ce,
            ExampleKind::Dice => LossKind::DiceMonai,
        }
    }
}

/// Images of an example set: labels `(B, H, W)` and the model's logits `(B, 1, H, W)`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExampleSet {
    /// Labels 0/1.
    pub labels: Array3<i64>,
    /// Logits (one channel: sigmoid), as the model computes them (float32).
    pub logits: Array4<f32>,
}

/// Images in an example set.
pub const EXAMPLE_IMAGES: usize = 48;
/// Training steps of the example runs.
pub const EXAMPLE_STEPS: usize = 300;

/// An example run in progress, so that a page can spread the training over frames.
#[derive(Debug, Clone)]
pub struct ExampleRun {
    data: Dataset,
    run: Trainer,
}

impl ExampleRun {
    /// The run of `kind`: the trainer's default generator (32×32 binary, seed 7),
    /// [`EXAMPLE_IMAGES`] held-out images, cnn8 trained for [`EXAMPLE_STEPS`] Adam steps
    /// (lr 0.01, batch 16, seed 1) on CE or on MONAI Dice.
    pub fn new(kind: ExampleKind) -> Result<Self, TrainError> {
        let data = Dataset::new(&DataConfig {
            train: 128,
            test: EXAMPLE_IMAGES,
            seed: 7,
            ..DataConfig::default()
        })?;
        let run = Trainer::new(
            TrainConfig {
                loss: kind.loss(),
                steps: EXAMPLE_STEPS,
                seed: 1,
                ..TrainConfig::default()
            },
            &data,
        )?;
        Ok(Self { data, run })
    }

    /// Up to `steps` more training steps; true once the run is over.
    pub fn advance(&mut self, steps: usize) -> Result<bool, TrainError> {
        for _ in 0..steps {
            if !self.run.step(&self.data)?.is_running() {
                return Ok(true);
            }
        }
        Ok(!self.run.status().is_running())
    }

    /// Steps done.
    pub fn steps_done(&self) -> usize {
        self.run.steps_done()
    }

    /// The held-out labels and the model's logits as it is now.
    pub fn set(&self) -> ExampleSet {
        ExampleSet {
            labels: self.data.test.labels.clone(),
            logits: self.run.net().logits(self.data.test.images.view()),
        }
    }
}

/// The example set of `kind` ([`ExampleRun`] to the end). Deterministic: the app and
/// `dicelens audit --example` compute the same bits.
pub fn example_set(kind: ExampleKind) -> Result<ExampleSet, TrainError> {
    let mut run = ExampleRun::new(kind)?;
    while !run.advance(usize::MAX)? {}
    Ok(run.set())
}
