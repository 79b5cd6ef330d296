//! The toy segmentation trainer: synthetic data, two small models, any loss of the core,
//! Adam or SGD, a divergence guard, and held-out metrics.
//!
//! Everything is deterministic (one seed, no threads, no clock, no hash-map iteration) and
//! free of I/O, so the browser can step a [`Trainer`] incrementally and get the same numbers
//! as the `dicelens train` CLI.
//!
//! ```
//! use dicelens_core::train::{DataConfig, Dataset, TrainConfig, Trainer};
//! let data = Dataset::new(&DataConfig { train: 32, test: 8, ..DataConfig::default() }).unwrap();
//! let mut run = Trainer::new(TrainConfig { steps: 3, ..TrainConfig::default() }, &data).unwrap();
//! while run.step(&data).unwrap().is_running() {}
//! let m = run.evaluate(&data).unwrap();
//! assert_eq!(m.step, 3);
//! assert!(m.ece.is_some());
//! ```

mod conv;
pub mod data;
pub mod fields;
mod kernels;
mod lanes;
pub mod metrics;
pub mod model;
mod net;
pub mod rng;

use std::fmt;

use ndarray::{s, Array3, Array4, ArrayView2, Axis};
use thiserror::Error;

pub use data::{DataConfig, Dataset, Sample, Split};
pub use metrics::{Metrics, ReliabilityBin, SizeBin, SizePoint};
pub use model::{ModelKind, Net, Scratch, Workspace};

use crate::losses::{LossKind, RegionConfig};
use crate::optim::AdamStep;
use metrics::{probabilities, MetricsAcc};

/// A weight larger than this in magnitude counts as divergence (no sensible run of these
/// models gets near it; Adam at an absurd learning rate jumps past it in one step).
pub const WEIGHT_LIMIT: f64 = 1e4;

/// Images per forward pass when evaluating or predicting (bounds the workspace).
pub const EVAL_CHUNK: usize = 16;

/// A configuration or input the trainer refuses. `Display` is one line a person can act on.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TrainError {
    /// A setting is outside its range.
    #[error("invalid {name} {value}: {reason}")]
    BadConfig {
        /// The setting.
        name: &'static str,
        /// The value given.
        value: String,
        /// The allowed range.
        reason: String,
    },
    /// `step`/`evaluate` was given a data set of another shape than the trainer was built for.
    #[error("data set mismatch: the run was built for {expected} but got {got}")]
    DatasetMismatch {
        /// What the trainer expects.
        expected: String,
        /// What it got.
        got: String,
    },
}

/// The optimizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptimizerKind {
    /// Adam with `β = (0.9, 0.999)`, `ε = 1e-8`, bias-corrected.
    Adam,
    /// Plain stochastic gradient descent.
    Sgd,
}

impl OptimizerKind {
    /// `adam` or `sgd`.
    pub fn key(self) -> &'static str {
        match self {
            OptimizerKind::Adam => "adam",
            OptimizerKind::Sgd => "sgd",
        }
    }

    /// Inverse of [`OptimizerKind::key`].
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "adam" => Some(OptimizerKind::Adam),
            "sgd" => Some(OptimizerKind::Sgd),
            _ => None,
        }
    }
}

/// The losses a run can train with, by CLI name: `ce`/`bce` → CE (BCE with one channel),
/// `dice` → MONAI Dice (smoothed, so images without a class do not break it), `log-dice` →
/// log-Dice with MONAI smoothing, `dice-ce` → MONAI Dice + CE, `ce-l1`, `ce-kl`.
pub fn loss_from_name(name: &str) -> Option<LossKind> {
    Some(match name {
        "ce" | "bce" => LossKind::Ce,
        "dice" => LossKind::DiceMonai,
        "log-dice" => LossKind::LogDiceMonai,
        "dice-ce" => LossKind::DiceCeMonai,
        "ce-l1" => LossKind::CeL1,
        "ce-kl" => LossKind::CeKl,
        _ => return None,
    })
}

/// How to train. Validated by [`Trainer::new`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainConfig {
    /// The model.
    pub model: ModelKind,
    /// The loss (any [`LossKind`]; see [`loss_from_name`] for the CLI's names).
    pub loss: LossKind,
    /// `λ` and `T` of the region terms (CE+L1, CE+KL).
    pub region: RegionConfig,
    /// Adam or SGD.
    pub optimizer: OptimizerKind,
    /// Learning rate ([`fields::LR`]).
    pub lr: f64,
    /// Images per step ([`fields::BATCH`]).
    pub batch: usize,
    /// Step budget ([`fields::STEPS`]): the run is done after this many steps; cosine decay
    /// spans it.
    pub steps: usize,
    /// Cosine decay of the learning rate from `lr` to 0 over the step budget.
    pub cosine: bool,
    /// Seed of the initialization and of the batch order (the data has its own seed).
    pub seed: u64,
}

impl Default for TrainConfig {
    /// cnn8, CE, Adam lr 0.01, batch 16, 500 steps, no decay, seed 1, `λ = 0.1, T = 1`
    /// (the authors' CE+L1 setting is [`RegionConfig::AUTHORS`]).
    fn default() -> Self {
        Self {
            model: ModelKind::Cnn8,
            loss: LossKind::Ce,
            region: RegionConfig::default(),
            optimizer: OptimizerKind::Adam,
            lr: 0.01,
            batch: 16,
            steps: 500,
            cosine: false,
            seed: 1,
        }
    }
}

impl TrainConfig {
    /// Checks every field against its [`fields`] range; the error names the field and the
    /// allowed range. (The seed is not checked: any `u64` seeds the core.)
    pub fn validate(&self) -> Result<(), TrainError> {
        fields::LR.check(self.lr)?;
        fields::BATCH.check_count(self.batch)?;
        fields::STEPS.check_count(self.steps)?;
        fields::LAMBDA.check(self.region.lambda)?;
        fields::TEMP.check(self.region.temp)?;
        Ok(())
    }

    /// The learning rate of step `t` (0-based): constant, or `lr·(1 + cos(π t/steps))/2`.
    pub fn lr_at(&self, t: usize) -> f64 {
        if self.cosine {
            let x = (t.min(self.steps) as f64) / self.steps as f64;
            self.lr * 0.5 * (1.0 + (std::f64::consts::PI * x).cos())
        } else {
            self.lr
        }
    }
}

/// Why and when a run stopped early.
#[derive(Debug, Clone, PartialEq)]
pub struct Divergence {
    /// The step (1-based) that produced the non-finite or exploding value; the weights are
    /// those after step `step − 1`.
    pub step: usize,
    /// What went wrong, e.g. "the loss is not finite".
    pub reason: String,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "diverged at step {} — learning rate too high? ({})",
            self.step, self.reason
        )
    }
}

/// Where a run is.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Steps remain in the budget.
    Running,
    /// The step budget is spent.
    Done,
    /// Stopped by the divergence guard (weights kept from the last good step).
    Diverged(Divergence),
}

impl Status {
    /// True while steps remain and the run has not diverged.
    pub fn is_running(&self) -> bool {
        matches!(self, Status::Running)
    }

    /// The divergence, if the run diverged.
    pub fn divergence(&self) -> Option<&Divergence> {
        match self {
            Status::Diverged(d) => Some(d),
            _ => None,
        }
    }
}

/// One training run, stepped incrementally.
#[derive(Debug, Clone)]
pub struct Trainer {
    config: TrainConfig,
    classes: usize,
    size: usize,
    train_len: usize,
    net: Net<f32>,
    m: Vec<f32>,
    v: Vec<f32>,
    backup: Vec<f32>,
    steps_done: usize,
    status: Status,
    rng: rng::Rng,
    order: Vec<usize>,
    cursor: usize,
    scratch: Scratch<f32>,
    batch_images: Array3<f64>,
    batch_labels: Array3<i64>,
    last_loss: Option<f64>,
    phase: Phase,
}

/// Where the step in progress is (see [`Trainer::step_some`]).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// No step in progress.
    Idle,
    /// The batch is drawn; forward pass done up to this image.
    Forward(usize),
    /// Loss and `∂L/∂logits` done (the loss value); backward pass done up to this image.
    Backward(usize, f64),
}

impl Trainer {
    /// A fresh run on `data` (its class count and image size). Runs with the same
    /// `config.seed` and model start from the same weights, whatever the loss.
    pub fn new(config: TrainConfig, data: &Dataset) -> Result<Self, TrainError> {
        config.validate()?;
        let classes = data.classes();
        let size = data.size();
        let net = Net::<f32>::new(config.model, classes, config.seed);
        let np = net.params().len();
        let train_len = data.train.len();
        let mut rng = rng::Rng::derived(config.seed, 0xBA7C);
        let mut order: Vec<usize> = (0..train_len).collect();
        rng.shuffle(&mut order);
        Ok(Self {
            config,
            classes,
            size,
            train_len,
            net,
            m: vec![0.0; np],
            v: vec![0.0; np],
            backup: vec![0.0; np],
            steps_done: 0,
            status: Status::Running,
            rng,
            order,
            cursor: 0,
            scratch: Scratch::default(),
            batch_images: Array3::zeros((config.batch, size, size)),
            batch_labels: Array3::zeros((config.batch, size, size)),
            last_loss: None,
            phase: Phase::Idle,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Steps taken so far.
    pub fn steps_done(&self) -> usize {
        self.steps_done
    }

    /// Running, done or diverged.
    pub fn status(&self) -> &Status {
        &self.status
    }

    /// The training loss of the last step's batch (before its update), if any.
    pub fn last_loss(&self) -> Option<f64> {
        self.last_loss
    }

    /// The model (its weights are always finite).
    pub fn net(&self) -> &Net<f32> {
        &self.net
    }

    fn check(&self, data: &Dataset) -> Result<(), TrainError> {
        let (c, s, t) = (data.classes(), data.size(), data.train.len());
        if (c, s, t) != (self.classes, self.size, self.train_len) {
            let fmt = |c, s, t| format!("{c} classes, {s}×{s} images, {t} training images");
            return Err(TrainError::DatasetMismatch {
                expected: fmt(self.classes, self.size, self.train_len),
                got: fmt(c, s, t),
            });
        }
        Ok(())
    }

    fn diverge(&mut self, reason: &str) -> Status {
        self.phase = Phase::Idle;
        self.status = Status::Diverged(Divergence {
            step: self.steps_done + 1,
            reason: reason.to_string(),
        });
        self.status.clone()
    }

    /// One optimizer step on the next batch (epochs of a seeded shuffle of the training
    /// set). Does nothing once the run is done or diverged. A non-finite loss or gradient,
    /// or a non-finite or exploding weight ([`WEIGHT_LIMIT`]) stops the run with
    /// [`Status::Diverged`] and keeps the weights of the last good step.
    /// ([`Trainer::step_some`] to the end of the step.)
    pub fn step(&mut self, data: &Dataset) -> Result<Status, TrainError> {
        loop {
            if let Some(status) = self.step_some(data, usize::MAX)? {
                return Ok(status);
            }
        }
    }

    /// True while a step started by [`Trainer::step_some`] is not finished.
    pub fn step_in_progress(&self) -> bool {
        self.phase != Phase::Idle
    }

    /// A part of one optimizer step, so that a frame loop can spread a step over several
    /// frames: at most `budget_images` images of the forward or backward pass (at least one;
    /// the loss between them is part of the call that finishes the forward pass). Returns the
    /// status when the step finished (then it is exactly [`Trainer::step`]'s result, and the
    /// weights are bit-identical however the step was split), `None` while it is in progress.
    /// The weights change only when a step finishes, so [`Trainer::evaluate`] and
    /// [`Trainer::predict`] may be called in between.
    pub fn step_some(
        &mut self,
        data: &Dataset,
        budget_images: usize,
    ) -> Result<Option<Status>, TrainError> {
        self.check(data)?;
        if !self.status.is_running() {
            self.phase = Phase::Idle;
            return Ok(Some(self.status.clone()));
        }
        let bsz = self.config.batch;
        let mut budget = budget_images.max(1);
        loop {
            match self.phase {
                Phase::Idle => {
                    self.draw_batch(data);
                    self.net
                        .size_scratch(self.batch_images.dim(), &mut self.scratch);
                    self.phase = Phase::Forward(0);
                }
                Phase::Forward(i) => {
                    let end = i.saturating_add(budget).min(bsz);
                    let z = self
                        .scratch
                        .logits
                        .as_slice_mut()
                        .expect("an owned Array4 is contiguous");
                    self.net.forward_range(
                        self.batch_images.view(),
                        i..end,
                        &mut self.scratch.ws,
                        z,
                    );
                    budget -= end - i;
                    if end < bsz {
                        self.phase = Phase::Forward(end);
                        return Ok(None);
                    }
                    let value = match self.net.logits_loss_grad(
                        self.batch_labels.view(),
                        self.config.loss,
                        self.config.region,
                        &mut self.scratch,
                    ) {
                        Ok(Some(v)) if v.is_finite() => v,
                        Ok(_) => return Ok(Some(self.diverge("the loss is not finite"))),
                        Err(e) => return Ok(Some(self.diverge(&format!("the loss failed: {e}")))),
                    };
                    self.phase = Phase::Backward(0, value);
                    if budget == 0 {
                        return Ok(None);
                    }
                }
                Phase::Backward(i, value) => {
                    let end = i.saturating_add(budget).min(bsz);
                    self.net.backward_range(
                        &mut self.scratch.ws,
                        &self.scratch.dlogits,
                        &mut self.scratch.grad,
                        i..end,
                    );
                    if end < bsz {
                        self.phase = Phase::Backward(end, value);
                        return Ok(None);
                    }
                    self.phase = Phase::Idle;
                    return Ok(Some(self.update(value)));
                }
            }
        }
    }

    /// Copies the next batch (epochs of a seeded shuffle) into the batch buffers.
    fn draw_batch(&mut self, data: &Dataset) {
        for j in 0..self.config.batch {
            if self.cursor == self.order.len() {
                self.rng.shuffle(&mut self.order);
                self.cursor = 0;
            }
            let idx = self.order[self.cursor];
            self.cursor += 1;
            self.batch_images
                .index_axis_mut(Axis(0), j)
                .assign(&data.train.images.index_axis(Axis(0), idx));
            self.batch_labels
                .index_axis_mut(Axis(0), j)
                .assign(&data.train.labels.index_axis(Axis(0), idx));
        }
    }

    /// The end of a step: the gradient in `scratch.grad` (of a batch with loss `value`)
    /// checked, the optimizer's update, and the weights checked.
    fn update(&mut self, value: f64) -> Status {
        if self.scratch.grad.iter().any(|g| !g.is_finite()) {
            return self.diverge("a gradient is not finite");
        }
        self.backup.copy_from_slice(self.net.params());
        let lr = self.config.lr_at(self.steps_done);
        let t = (self.steps_done + 1) as i32;
        let grad = &self.scratch.grad;
        let params = self.net.params_mut();
        match self.config.optimizer {
            OptimizerKind::Sgd => {
                let lr = lr as f32;
                for (p, &g) in params.iter_mut().zip(grad) {
                    *p -= lr * g;
                }
            }
            OptimizerKind::Adam => {
                let adam = AdamStep::<f32>::new(lr, 0.9, 0.999, 1e-8, t);
                for (((p, &g), m), v) in params
                    .iter_mut()
                    .zip(grad)
                    .zip(self.m.iter_mut())
                    .zip(self.v.iter_mut())
                {
                    *p -= adam.step(m, v, g);
                }
            }
        }
        let limit = WEIGHT_LIMIT as f32;
        if let Some(w) = self
            .net
            .params()
            .iter()
            .find(|w| !w.is_finite() || w.abs() > limit)
        {
            let reason = if w.is_finite() {
                format!("a weight exploded past {WEIGHT_LIMIT:e}")
            } else {
                "a weight is not finite".to_string()
            };
            let backup = std::mem::take(&mut self.backup);
            self.net.params_mut().copy_from_slice(&backup);
            self.backup = backup;
            return self.diverge(&reason);
        }
        self.steps_done += 1;
        self.last_loss = Some(value);
        if self.steps_done >= self.config.steps {
            self.status = Status::Done;
        }
        self.status.clone()
    }

    /// Metrics on the held-out set (the loss is the training loss's value there), in one
    /// call: [`Trainer::start_evaluation`] run to the end.
    pub fn evaluate(&self, data: &Dataset) -> Result<Metrics, TrainError> {
        let mut cursor = self.start_evaluation(data)?;
        loop {
            if let Some(m) = cursor.evaluate_chunk(data, usize::MAX)? {
                return Ok(m);
            }
        }
    }

    /// A held-out evaluation of the model as it is now, to be run a few images at a time
    /// with [`EvalCursor::evaluate_chunk`] (the cursor keeps a copy of the weights, so the
    /// run may keep training meanwhile). The metrics are bit-identical to [`Trainer::evaluate`]
    /// whatever the chunk sizes.
    pub fn start_evaluation(&self, data: &Dataset) -> Result<EvalCursor, TrainError> {
        self.check(data)?;
        let (total, k, n) = (
            data.test.len(),
            self.net.out_channels(),
            self.size * self.size,
        );
        Ok(EvalCursor {
            net: self.net.clone(),
            loss: self.config.loss,
            region: self.config.region,
            step: self.steps_done,
            classes: self.classes,
            size: self.size,
            total,
            next: 0,
            chunk_start: 0,
            acc: Some(MetricsAcc::new(self.classes)),
            loss_sum: Some(0.0),
            logits: Array4::zeros((EVAL_CHUNK.min(total).max(1), k, self.size, self.size)),
            probs: Vec::with_capacity(k * n),
            ws: Workspace::default(),
        })
    }

    /// Probabilities of one image `(H, W)` (any size): `(1, H, W)` foreground probability in
    /// binary mode, `(K, H, W)` softmax otherwise.
    pub fn predict(&self, image: ArrayView2<f64>) -> Array3<f64> {
        let (h, w) = image.dim();
        let k = self.net.out_channels();
        if h == 0 || w == 0 {
            return Array3::zeros((k, h, w));
        }
        let z = self.net.logits(image.insert_axis(Axis(0)));
        let mut probs = Vec::new();
        probabilities(z.as_slice().expect("contiguous"), k, &mut probs);
        Array3::from_shape_vec((k, h, w), probs).expect("k*h*w probabilities")
    }
}

/// A held-out evaluation in progress (from [`Trainer::start_evaluation`]): a frame loop calls
/// [`EvalCursor::evaluate_chunk`] with as many images as fit in its time budget.
///
/// Each image's logits and metrics are computed on their own (the forward pass is per image,
/// so a batch changes nothing), and the loss is evaluated on the same consecutive groups of
/// [`EVAL_CHUNK`] images as the one-shot evaluation, so the result does not depend on how the
/// work was split.
#[derive(Debug, Clone)]
pub struct EvalCursor {
    net: Net<f32>,
    loss: LossKind,
    region: RegionConfig,
    step: usize,
    classes: usize,
    size: usize,
    total: usize,
    /// Next held-out image.
    next: usize,
    /// First image of the current loss group (its logits are in `logits[.. next − chunk_start]`).
    chunk_start: usize,
    /// `None` once the metrics were handed out.
    acc: Option<MetricsAcc>,
    loss_sum: Option<f64>,
    logits: Array4<f32>,
    probs: Vec<f64>,
    ws: Workspace<f32>,
}

impl EvalCursor {
    /// Held-out images evaluated so far.
    pub fn done(&self) -> usize {
        self.next
    }

    /// Held-out images in all.
    pub fn total(&self) -> usize {
        self.total
    }

    /// The step of the run the weights were copied at.
    pub fn step(&self) -> usize {
        self.step
    }

    /// True once the metrics were returned.
    pub fn is_finished(&self) -> bool {
        self.acc.is_none()
    }

    /// Evaluates up to `budget_images` more held-out images. Returns the metrics when the
    /// last image is done (once; later calls return `Ok(None)` and do nothing).
    pub fn evaluate_chunk(
        &mut self,
        data: &Dataset,
        budget_images: usize,
    ) -> Result<Option<Metrics>, TrainError> {
        let test = &data.test;
        if (data.classes(), data.size(), test.len()) != (self.classes, self.size, self.total) {
            let fmt = |c, s, t| format!("{c} classes, {s}×{s} images, {t} held-out images");
            return Err(TrainError::DatasetMismatch {
                expected: fmt(self.classes, self.size, self.total),
                got: fmt(data.classes(), data.size(), test.len()),
            });
        }
        let Some(acc) = self.acc.as_mut() else {
            return Ok(None);
        };
        let k = self.net.out_channels();
        let per = k * self.size * self.size;
        let end = self.next.saturating_add(budget_images).min(self.total);
        while self.next < end {
            let i = self.next;
            let j = i - self.chunk_start;
            let z = self
                .logits
                .as_slice_mut()
                .expect("owned logits are contiguous");
            let zi = &mut z[j * per..(j + 1) * per];
            self.net
                .forward(test.images.slice(s![i..i + 1, .., ..]), &mut self.ws, zi);
            probabilities(zi, k, &mut self.probs);
            let y = test.labels.index_axis(Axis(0), i);
            acc.add(
                &self.probs,
                y.as_slice().expect("owned labels are contiguous"),
            );
            self.next += 1;
            let group = self.next - self.chunk_start;
            if group == EVAL_CHUNK || self.next == self.total {
                let labs = test.labels.slice(s![self.chunk_start..self.next, .., ..]);
                let zs = self.logits.slice(s![..group, .., .., ..]);
                let value = crate::losses::OneLoss::new(zs, labs, self.region, self.loss)
                    .ok()
                    .and_then(|ev| ev.value());
                self.loss_sum = match (self.loss_sum, value) {
                    (Some(s), Some(v)) => Some(s + v * group as f64),
                    _ => None,
                };
                self.chunk_start = self.next;
            }
        }
        if self.next < self.total {
            return Ok(None);
        }
        let total = self.total as f64;
        let loss = self.loss_sum.map(|s| s / total);
        Ok(self.acc.take().map(|acc| acc.finish(self.step, loss)))
    }
}

/// Times `reps` cnn8 training steps (binary CE, Adam, batch 16, 32×32) with `now()` in
/// milliseconds, after two warm-up steps, and returns the sorted times (empty if the run
/// diverged, which it does not). The native and the WASM benchmarks both call this.
pub fn bench_step(reps: usize, now: &dyn Fn() -> f64) -> Vec<f64> {
    let data = match Dataset::new(&DataConfig {
        train: 64,
        test: 1,
        ..DataConfig::default()
    }) {
        Ok(d) => d,
        Err(_) => return Vec::new(),
    };
    let cfg = TrainConfig {
        steps: reps + 2,
        ..TrainConfig::default()
    };
    let Ok(mut run) = Trainer::new(cfg, &data) else {
        return Vec::new();
    };
    for _ in 0..2 {
        let _ = run.step(&data);
    }
    let mut times: Vec<f64> = (0..reps)
        .map(|_| {
            let t = now();
            let _ = run.step(&data);
            now() - t
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    if run.status().divergence().is_some() {
        times.clear();
    }
    times
}
