//! Audit your own segmentation: label maps and (optionally) a model's predictions in, the
//! region-size picture out — the foreground proportions `u`, the model's soft and
//! thresholded `ŝ/u` per image and per size bin, the trainer's metrics (Dice, IoU, ECE,
//! saturation, reliability; [`crate::train::metrics`], the same code), every loss of
//! `dicelens eval` with each loss's region term per image, and what the toy model of the bias
//! map ([`crate::biasmap::bias_map`]) predicts for images of these sizes.
//!
//! Images are added one at a time ([`Auditor::add`]), so a caller can stream a large file:
//! [`NpyPlan`] validates two `.npy` headers and says which bytes hold image `i`. Nothing is
//! kept per pixel after an image is added; memory is a few copies of one image.
//!
//! Every bad input is an [`AuditError`] with a one-line message; nothing here panics on input.

mod example;
mod input;

pub use example::{
    example_set, ExampleKind, ExampleRun, ExampleSet, EXAMPLE_IMAGES, EXAMPLE_STEPS,
};
pub use input::{
    audit_arrays, audit_npy, labels_from_pixels, probs_from_pixels, NpyPlan, HEADER_PREFIX,
};

use thiserror::Error;

use crate::biasmap::{bias_map, log_grid};
use crate::error::LossError;
use crate::family::{FamilyLoss, FamilyParams};
use crate::losses::{Evaluator, LossKind, Mode, RegionConfig};
use crate::train::data::SMALL;
use crate::train::metrics::{probabilities, Metrics, MetricsAcc, MEDIUM};

/// At most this many images.
pub const MAX_IMAGES: usize = 256;
/// At most this many pixels per side.
pub const MAX_SIDE: usize = 512;
/// At most this many prediction channels (and label classes).
pub const MAX_CHANNELS: usize = 16;
/// Files larger than this are refused before they are read (1 GiB: 256 float64 logit maps of
/// 512×512 with two channels).
pub const MAX_FILE_BYTES: u64 = 1 << 30;
/// Probabilities are clipped to `[PROB_CLIP, 1 − PROB_CLIP]` before they become logits for the
/// losses (a probability of exactly 0 on a true pixel would make CE infinite).
pub const PROB_CLIP: f64 = 1e-12;
/// Per-pixel probabilities of `K ≥ 2` channels must sum to 1 within this.
pub const PROB_SUM_TOL: f64 = 1e-3;
/// Bins of the histogram of `u` (log-spaced).
pub const HIST_BINS: usize = 24;
/// Lower edge of the histogram of `u` (smaller positive `u` fall in the first bin).
pub const HIST_LO: f64 = 1e-4;

/// What the prediction file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PredKind {
    /// Logits: `K = 1` sigmoid, `K ≥ 2` softmax.
    Logits,
    /// Probabilities in `[0, 1]`: `K = 1` the foreground probability, `K ≥ 2` per class
    /// (summing to 1 per pixel).
    Probs,
}

impl PredKind {
    /// `logits` or `probs`.
    pub fn key(self) -> &'static str {
        match self {
            PredKind::Logits => "logits",
            PredKind::Probs => "probs",
        }
    }

    /// Inverse of [`PredKind::key`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "logits" => Some(PredKind::Logits),
            "probs" => Some(PredKind::Probs),
            _ => None,
        }
    }
}

/// A refused input. `Display` is one line a person can act on.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AuditError {
    /// The file is not a readable `.npy` file.
    #[error("{what} file: {msg}")]
    Npy {
        /// `labels` or `predictions`.
        what: &'static str,
        /// Why.
        msg: String,
    },
    /// The file is larger than [`MAX_FILE_BYTES`] (refused before reading).
    #[error("{what} file is {size} bytes ({gb:.2} GB); the audit reads files up to {limit} bytes (1 GiB: 256 images of 512×512)", gb = *size as f64 / 1e9)]
    FileTooLarge {
        /// `labels` or `predictions`.
        what: &'static str,
        /// Its size.
        size: u64,
        /// [`MAX_FILE_BYTES`].
        limit: u64,
    },
    /// The element type is not accepted.
    #[error("{what} have dtype {dtype}; {expected}")]
    Dtype {
        /// `labels` or `predictions`.
        what: &'static str,
        /// The dtype found.
        dtype: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// The array has the wrong number of dimensions.
    #[error("{what} have shape {shape:?}; expected {expected}")]
    Rank {
        /// `labels` or `predictions`.
        what: &'static str,
        /// The shape found.
        shape: Vec<usize>,
        /// What is accepted.
        expected: &'static str,
    },
    /// Labels and predictions disagree on the number or size of the images.
    #[error("shape mismatch: labels are {labels:?} (B, H, W) but predictions are {preds:?} (B, K, H, W)")]
    ShapeMismatch {
        /// Labels' shape.
        labels: Vec<usize>,
        /// Predictions' shape.
        preds: Vec<usize>,
    },
    /// A size limit is exceeded.
    #[error("too large: {what} is {value}, at most {limit} is supported")]
    Limit {
        /// What (`images`, `image height`, …).
        what: &'static str,
        /// The value found.
        value: usize,
        /// The limit.
        limit: usize,
    },
    /// No images, or an empty dimension.
    #[error("empty input: {0}")]
    Empty(String),
    /// The file ends before the data its header promises.
    #[error(
        "{what} file is truncated: its header promises {need} bytes of data, the file has {have}"
    )]
    Truncated {
        /// `labels` or `predictions`.
        what: &'static str,
        /// Bytes needed.
        need: u64,
        /// Bytes present.
        have: u64,
    },
    /// Fortran-ordered arrays are not streamed.
    #[error("{what} file is in Fortran (column-major) order; save it with np.ascontiguousarray")]
    Fortran {
        /// `labels` or `predictions`.
        what: &'static str,
    },
    /// A label is not a class index.
    #[error("label {value} in image {image} (pixel {pixel}) is outside {allowed}")]
    LabelOutOfRange {
        /// The label.
        value: i64,
        /// Image index.
        image: usize,
        /// Pixel index (row-major).
        pixel: usize,
        /// The allowed values.
        allowed: String,
    },
    /// A prediction is NaN or infinite.
    #[error("{what} in image {image} (channel {channel}, pixel {pixel}) is {value}; predictions must be finite")]
    NonFinite {
        /// `logit` or `probability`.
        what: &'static str,
        /// Image index.
        image: usize,
        /// Channel.
        channel: usize,
        /// Pixel index.
        pixel: usize,
        /// The value.
        value: f64,
    },
    /// A probability outside `[0, 1]`.
    #[error("probability {value} in image {image} (channel {channel}, pixel {pixel}) is outside [0, 1]; are these logits? (choose logits)")]
    ProbRange {
        /// Image index.
        image: usize,
        /// Channel.
        channel: usize,
        /// Pixel index.
        pixel: usize,
        /// The value.
        value: f64,
    },
    /// Per-pixel probabilities that do not sum to 1.
    #[error("probabilities of pixel {pixel} in image {image} sum to {sum}, not 1; are these logits or per-class sigmoids?")]
    ProbSum {
        /// Image index.
        image: usize,
        /// Pixel index.
        pixel: usize,
        /// The sum.
        sum: f64,
    },
    /// A PNG whose pixel values are not class indices.
    #[error("{name} is not a mask: it has {levels} grey levels (e.g. {examples}); a mask has class values 0–15, or 0 and 255")]
    NotAMask {
        /// The file name.
        name: String,
        /// Number of distinct values.
        levels: usize,
        /// A few of them.
        examples: String,
    },
    /// A colour PNG given as a mask or probability map.
    #[error("{name} is a colour image (pixel {pixel} is RGB {r},{g},{b}); masks and probability maps are greyscale")]
    Colour {
        /// The file name.
        name: String,
        /// Pixel index.
        pixel: usize,
        /// Red.
        r: u8,
        /// Green.
        g: u8,
        /// Blue.
        b: u8,
    },
    /// Images of a PNG set differ in size.
    #[error(
        "{name} is {w}×{h} but the first image is {w0}×{h0}; every image must have the same size"
    )]
    ImageSize {
        /// The file name.
        name: String,
        /// Its width.
        w: usize,
        /// Its height.
        h: usize,
        /// The first image's width.
        w0: usize,
        /// The first image's height.
        h0: usize,
    },
    /// Label and prediction PNG sets differ in count.
    #[error(
        "{labels} label images but {preds} prediction images; give one prediction per label image"
    )]
    Count {
        /// Label images.
        labels: usize,
        /// Prediction images.
        preds: usize,
    },
    /// The losses refused the image.
    #[error("{0}")]
    Loss(#[from] LossError),
}

/// Settings of an audit (default: `dicelens eval`'s `λ = 0.1, T = 1`; the bias map's
/// default `κ = 0.5, σ = 1`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AuditConfig {
    /// `λ` and `T` of CE+L1 / CE+KL (as `dicelens eval`).
    pub region: RegionConfig,
    /// The toy model's `κ`, `σ` (and quadrature) for "what the toy model predicts"; `u`, `λ`,
    /// `T` and the pixel count are taken from the data and `region`.
    pub toy: FamilyParams,
}

/// One (image, foreground class) and its ground-truth proportion.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SizeSample {
    /// Image index.
    pub image: usize,
    /// Foreground class (≥ 1).
    pub class: usize,
    /// `u = |Ω_class| / N`.
    pub u: f64,
}

/// One bar of the histogram of `u` (log-spaced edges).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistBin {
    /// Lower edge (the first bin also holds `0 < u < HIST_LO`).
    pub lo: f64,
    /// Upper edge (the last bin includes 1).
    pub hi: f64,
    /// Samples in the bin.
    pub count: usize,
    /// Mean `u` of the samples in the bin.
    pub mean_u: Option<f64>,
}

/// One size bin's summary (the trainer's bins: small `u < 2%`, medium `2% ≤ u < 10%`,
/// large `u ≥ 10%`; samples with `u = 0` are in none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinSummary {
    /// `small`, `medium` or `large`.
    pub name: &'static str,
    /// Lower edge.
    pub lo: f64,
    /// Upper edge.
    pub hi: f64,
    /// (image, foreground class) samples in the bin.
    pub n: usize,
    /// Mean soft `ŝ/u` (None when empty or without predictions).
    pub ratio_soft: Option<f64>,
    /// Mean thresholded `ŝ/u` (None when empty or without predictions).
    pub ratio_hard: Option<f64>,
}

/// One image's losses and region terms.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageLosses {
    /// Image index.
    pub image: usize,
    /// Each loss of [`LossKind::ALL`] on this image alone (None: undefined plain log-Dice).
    pub values: Vec<Option<f64>>,
    /// Each loss's region term on this image ([`region_term`]).
    pub region: Vec<Option<f64>>,
}

/// Every loss of `dicelens eval` on the batch and per image.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchLosses {
    /// Binary (one channel) or multiclass.
    pub mode: Mode,
    /// The batch value of each loss of [`LossKind::ALL`]: the mean of the per-image values,
    /// which is what `dicelens eval` computes (every loss is a mean over images).
    pub values: Vec<Option<f64>>,
    /// Per image.
    pub per_image: Vec<ImageLosses>,
}

/// The toy model's histogram-weighted `ŝ*/u` for one loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToyPrediction {
    /// The loss.
    pub loss: FamilyLoss,
    /// `Σ_j count_j · ŝ*(ū_j)/ū_j / Σ_j count_j` over the histogram's bins (`ū_j` their mean
    /// `u`); None when no sample has `0 < u < 1`.
    pub ratio: Option<f64>,
}

/// Everything the audit computes.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditReport {
    /// Images.
    pub n_images: usize,
    /// Image height.
    pub height: usize,
    /// Image width.
    pub width: usize,
    /// Classes including background (2 in binary mode; without predictions, the largest
    /// label + 1, at least 2).
    pub classes: usize,
    /// The predictions' kind, if any.
    pub pred_kind: Option<PredKind>,
    /// Prediction channels `K`, if any.
    pub channels: Option<usize>,
    /// One sample per (image, foreground class).
    pub sizes: Vec<SizeSample>,
    /// Samples with `u = 0` (class absent from the image).
    pub absent: usize,
    /// Histogram of `u` ([`HIST_BINS`] log-spaced bins from [`HIST_LO`] to 1).
    pub hist: Vec<HistBin>,
    /// Small, medium, large.
    pub bins: Vec<BinSummary>,
    /// The trainer's metrics (with predictions).
    pub metrics: Option<Metrics>,
    /// The losses (with predictions).
    pub losses: Option<BatchLosses>,
    /// The toy model's parameters used (`u` unused).
    pub toy_params: FamilyParams,
    /// The toy model's prediction for each loss of [`FamilyLoss::ALL`].
    pub toy: Vec<ToyPrediction>,
    /// `λ`, `T`.
    pub region: RegionConfig,
}

impl AuditReport {
    /// The bin called `name`.
    pub fn bin(&self, name: &str) -> Option<&BinSummary> {
        self.bins.iter().find(|b| b.name == name)
    }

    /// The toy prediction of `loss`.
    pub fn toy_ratio(&self, loss: FamilyLoss) -> Option<f64> {
        self.toy
            .iter()
            .find(|t| t.loss == loss)
            .and_then(|t| t.ratio)
    }

    /// The batch value of `kind` (None without predictions or where undefined).
    pub fn loss(&self, kind: LossKind) -> Option<f64> {
        let l = self.losses.as_ref()?;
        let j = LossKind::ALL.iter().position(|&k| k == kind)?;
        l.values[j]
    }
}

/// The region term of `kind` on image 0 of `ev` (THEORY.md's decompositions):
/// CE → `KL(u‖ŝ)`; the Dice family (plain, MONAI, log) → Dice's region term
/// `log((u_k + ŝ_k)/(2u_k))` averaged over the classes the loss averages and present in the
/// image (binary: the foreground); Dice+CE → both summed; L1 and KL → the term itself;
/// CE+L1 / CE+KL → `KL(u‖ŝ) + λ·term`. None where the Dice term has no present class.
pub fn region_term(ev: &Evaluator, kind: LossKind) -> Option<f64> {
    let l = ev.losses();
    let kl_ce = ev.ce_decomposition(0).kl;
    let dice = || {
        let binary = ev.mode() == Mode::Binary;
        let terms: Vec<f64> = ev
            .dice_decomposition(0)
            .iter()
            .filter(|d| !binary || d.class == 1)
            .filter_map(|d| d.region)
            .collect();
        (!terms.is_empty()).then(|| terms.iter().sum::<f64>() / terms.len() as f64)
    };
    match kind {
        LossKind::Ce => Some(kl_ce),
        LossKind::Dice | LossKind::DiceMonai | LossKind::LogDice | LossKind::LogDiceMonai => dice(),
        LossKind::DiceCeMonai => dice().map(|d| d + kl_ce),
        LossKind::L1 => Some(l.l1),
        LossKind::Kl => Some(l.kl),
        LossKind::CeL1 => Some(kl_ce + l.lambda * l.l1),
        LossKind::CeKl => Some(kl_ce + l.lambda * l.kl),
    }
}

/// The prediction side of an [`Auditor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PredSpec {
    /// Logits or probabilities.
    pub kind: PredKind,
    /// Channels `K` (1: sigmoid / foreground probability).
    pub channels: usize,
}

/// An audit in progress: add images one at a time, then [`Auditor::finish`].
#[derive(Debug, Clone)]
pub struct Auditor {
    h: usize,
    w: usize,
    preds: Option<PredSpec>,
    cfg: AuditConfig,
    images: usize,
    /// Per image, pixels of each label value `0..MAX_CHANNELS`.
    counts: Vec<[u32; MAX_CHANNELS]>,
    max_label: usize,
    acc: Option<MetricsAcc>,
    per_image: Vec<ImageLosses>,
    z: Vec<f64>,
    probs: Vec<f64>,
}

impl Auditor {
    /// An audit of `h × w` images, with predictions of `preds` (or labels only).
    pub fn new(
        h: usize,
        w: usize,
        preds: Option<PredSpec>,
        cfg: AuditConfig,
    ) -> Result<Self, AuditError> {
        if h == 0 || w == 0 {
            return Err(AuditError::Empty(format!("images of {h}×{w} pixels")));
        }
        for (what, value) in [("image height", h), ("image width", w)] {
            if value > MAX_SIDE {
                return Err(AuditError::Limit {
                    what,
                    value,
                    limit: MAX_SIDE,
                });
            }
        }
        cfg.region.validate()?;
        let acc = match preds {
            Some(p) => {
                if p.channels == 0 {
                    return Err(AuditError::Empty("predictions with 0 channels".into()));
                }
                if p.channels > MAX_CHANNELS {
                    return Err(AuditError::Limit {
                        what: "prediction channels",
                        value: p.channels,
                        limit: MAX_CHANNELS,
                    });
                }
                Some(MetricsAcc::new(p.channels.max(2)))
            }
            None => None,
        };
        Ok(Self {
            h,
            w,
            preds,
            cfg,
            images: 0,
            counts: Vec::new(),
            max_label: 0,
            acc,
            per_image: Vec::new(),
            z: Vec::new(),
            probs: Vec::new(),
        })
    }

    /// Images added so far.
    pub fn images(&self) -> usize {
        self.images
    }

    /// Classes including background the labels may use.
    fn allowed_classes(&self) -> usize {
        match self.preds {
            Some(p) => p.channels.max(2),
            None => MAX_CHANNELS,
        }
    }

    /// Adds one image: `labels` (`H·W`, row-major) and, if the audit has predictions,
    /// `preds` (`K·H·W`, channel-major). On error nothing is added.
    pub fn add(&mut self, labels: &[i64], preds: Option<&[f64]>) -> Result<(), AuditError> {
        let n = self.h * self.w;
        let image = self.images;
        if self.images >= MAX_IMAGES {
            return Err(AuditError::Limit {
                what: "images",
                value: self.images + 1,
                limit: MAX_IMAGES,
            });
        }
        if labels.len() != n {
            return Err(AuditError::Empty(format!(
                "image {image} has {} labels, expected {n}",
                labels.len()
            )));
        }
        let classes = self.allowed_classes();
        let mut counts = [0u32; MAX_CHANNELS];
        for (pixel, &v) in labels.iter().enumerate() {
            if v < 0 || v as usize >= classes {
                let allowed = if self.preds.map(|p| p.channels) == Some(1) {
                    "{0, 1} (binary: one prediction channel)".to_string()
                } else if self.preds.is_some() {
                    format!("0..{} (one class per prediction channel)", classes - 1)
                } else {
                    format!("0..{}", classes - 1)
                };
                return Err(AuditError::LabelOutOfRange {
                    value: v,
                    image,
                    pixel,
                    allowed,
                });
            }
            counts[v as usize] += 1;
        }
        let mut rows = None;
        if let Some(spec) = self.preds {
            let k = spec.channels;
            let p = preds
                .ok_or_else(|| AuditError::Empty(format!("image {image} has no predictions")))?;
            if p.len() != k * n {
                return Err(AuditError::Empty(format!(
                    "image {image} has {} prediction values, expected {}",
                    p.len(),
                    k * n
                )));
            }
            let what = match spec.kind {
                PredKind::Logits => "logit",
                PredKind::Probs => "probability",
            };
            if let Some(i) = p.iter().position(|v| !v.is_finite()) {
                return Err(AuditError::NonFinite {
                    what,
                    image,
                    channel: i / n,
                    pixel: i % n,
                    value: p[i],
                });
            }
            // Logits for the losses, probabilities for the trainer's metrics.
            self.z.clear();
            match spec.kind {
                PredKind::Logits => {
                    self.z.extend_from_slice(p);
                    probabilities(p, k, &mut self.probs);
                }
                PredKind::Probs => {
                    if let Some(i) = p.iter().position(|v| !(0.0..=1.0).contains(v)) {
                        return Err(AuditError::ProbRange {
                            image,
                            channel: i / n,
                            pixel: i % n,
                            value: p[i],
                        });
                    }
                    if k >= 2 {
                        for pixel in 0..n {
                            let sum: f64 = (0..k).map(|c| p[c * n + pixel]).sum();
                            if (sum - 1.0).abs() > PROB_SUM_TOL {
                                return Err(AuditError::ProbSum { image, pixel, sum });
                            }
                        }
                    }
                    let lo = PROB_CLIP;
                    let hi = 1.0 - PROB_CLIP;
                    if k == 1 {
                        self.z.extend(p.iter().map(|&v| {
                            let q = v.clamp(lo, hi);
                            (q / (1.0 - q)).ln()
                        }));
                    } else {
                        self.z.extend(p.iter().map(|&v| v.clamp(lo, hi).ln()));
                    }
                    self.probs.clear();
                    self.probs.extend_from_slice(p);
                }
            }
            let zv = ndarray::ArrayView4::from_shape((1, k, self.h, self.w), &self.z)
                .map_err(|e| AuditError::Empty(e.to_string()))?;
            let yv = ndarray::ArrayView3::from_shape((1, self.h, self.w), labels)
                .map_err(|e| AuditError::Empty(e.to_string()))?;
            let ev = Evaluator::new(zv, yv, self.cfg.region)?;
            let l = ev.losses();
            let values: Vec<Option<f64>> = LossKind::ALL.iter().map(|&kd| l.get(kd)).collect();
            let region: Vec<Option<f64>> = LossKind::ALL
                .iter()
                .map(|&kd| region_term(&ev, kd))
                .collect();
            rows = Some(ImageLosses {
                image,
                values,
                region,
            });
        }
        // Everything checked: commit.
        if let (Some(acc), Some(spec)) = (self.acc.as_mut(), self.preds) {
            // The trainer's accumulator reads the foreground probability in binary mode.
            let fg = if spec.channels == 2 {
                &self.probs[n..2 * n]
            } else {
                &self.probs[..]
            };
            acc.add(fg, labels);
        }
        if let Some(r) = rows {
            self.per_image.push(r);
        }
        let top = counts.iter().rposition(|&c| c > 0).unwrap_or(0);
        self.max_label = self.max_label.max(top);
        self.counts.push(counts);
        self.images += 1;
        Ok(())
    }

    /// The report (an error if no image was added).
    pub fn finish(self) -> Result<AuditReport, AuditError> {
        if self.images == 0 {
            return Err(AuditError::Empty("no images".into()));
        }
        let n = (self.h * self.w) as f64;
        let classes = match self.preds {
            Some(p) => p.channels.max(2),
            None => (self.max_label + 1).max(2),
        };
        let mut sizes = Vec::new();
        for (image, c) in self.counts.iter().enumerate() {
            for (class, &cnt) in c.iter().enumerate().take(classes).skip(1) {
                sizes.push(SizeSample {
                    image,
                    class,
                    u: cnt as f64 / n,
                });
            }
        }
        let absent = sizes.iter().filter(|s| s.u == 0.0).count();
        let hist = histogram(&sizes);
        let metrics = self.acc.map(|acc| acc.finish(0, None));
        let edges = [
            ("small", 0.0, SMALL),
            ("medium", SMALL, MEDIUM),
            ("large", MEDIUM, 1.0),
        ];
        let bins = edges
            .iter()
            .enumerate()
            .map(|(j, &(name, lo, hi))| {
                let count = sizes
                    .iter()
                    .filter(|s| s.u > 0.0 && s.u >= lo && (s.u < hi || hi == 1.0))
                    .count();
                let (rs, rh) = metrics
                    .as_ref()
                    .map(|m| (m.size_bins[j].ratio_soft, m.size_bins[j].ratio_hard))
                    .unwrap_or((None, None));
                BinSummary {
                    name,
                    lo,
                    hi,
                    n: count,
                    ratio_soft: rs,
                    ratio_hard: rh,
                }
            })
            .collect();
        let losses = self.preds.map(|spec| {
            let m = self.per_image.len() as f64;
            let values = (0..LossKind::ALL.len())
                .map(|j| {
                    let mut s = 0.0;
                    for r in &self.per_image {
                        s += r.values[j]?;
                    }
                    Some(s / m)
                })
                .collect();
            BatchLosses {
                mode: if spec.channels == 1 {
                    Mode::Binary
                } else {
                    Mode::Multiclass
                },
                values,
                per_image: self.per_image,
            }
        });
        let toy_params = FamilyParams {
            pixels: n,
            lambda: self.cfg.region.lambda,
            temp: self.cfg.region.temp,
            ..self.cfg.toy
        };
        let toy = toy_predictions(toy_params, &hist)?;
        Ok(AuditReport {
            n_images: self.images,
            height: self.h,
            width: self.w,
            classes,
            pred_kind: self.preds.map(|p| p.kind),
            channels: self.preds.map(|p| p.channels),
            sizes,
            absent,
            hist,
            bins,
            metrics,
            losses,
            toy_params,
            toy,
            region: self.cfg.region,
        })
    }
}

/// The histogram of the positive `u` of `sizes`: [`HIST_BINS`] bins evenly spaced in `log u`
/// from [`HIST_LO`] to 1.
pub fn histogram(sizes: &[SizeSample]) -> Vec<HistBin> {
    let edges = log_grid(HIST_LO, 1.0, HIST_BINS + 1);
    let mut bins: Vec<HistBin> = edges
        .windows(2)
        .map(|e| HistBin {
            lo: e[0],
            hi: e[1],
            count: 0,
            mean_u: None,
        })
        .collect();
    let mut sums = vec![0.0; HIST_BINS];
    let (a, b) = (HIST_LO.ln(), 0.0f64);
    for s in sizes.iter().filter(|s| s.u > 0.0) {
        let x = (s.u.ln() - a) / (b - a) * HIST_BINS as f64;
        let mut j = if x.is_finite() && x > 0.0 {
            (x as usize).min(HIST_BINS - 1)
        } else {
            0
        };
        // Guard the rounding of the log at the edges.
        while j + 1 < HIST_BINS && s.u >= bins[j].hi {
            j += 1;
        }
        while j > 0 && s.u < bins[j].lo {
            j -= 1;
        }
        bins[j].count += 1;
        sums[j] += s.u;
    }
    for (bin, s) in bins.iter_mut().zip(sums) {
        if bin.count > 0 {
            bin.mean_u = Some(s / bin.count as f64);
        }
    }
    bins
}

/// The bias map's `ŝ*/u` of every loss of [`FamilyLoss::ALL`] at the histogram's mean `u`
/// values (those in `(0, 1)`), weighted by the bins' counts.
pub fn toy_predictions(
    params: FamilyParams,
    hist: &[HistBin],
) -> Result<Vec<ToyPrediction>, AuditError> {
    let pts: Vec<(f64, usize)> = hist
        .iter()
        .filter_map(|b| b.mean_u.map(|u| (u, b.count)))
        .filter(|&(u, _)| u > 0.0 && u < 1.0)
        .collect();
    if pts.is_empty() {
        return Ok(FamilyLoss::ALL
            .iter()
            .map(|&loss| ToyPrediction { loss, ratio: None })
            .collect());
    }
    let us: Vec<f64> = pts.iter().map(|p| p.0).collect();
    let total: f64 = pts.iter().map(|p| p.1 as f64).sum();
    let map = bias_map(params, &us, &FamilyLoss::ALL)?;
    Ok(map
        .into_iter()
        .map(|(loss, s)| {
            let r = s
                .iter()
                .zip(&pts)
                .map(|(&sv, &(u, c))| c as f64 * sv / u)
                .sum::<f64>()
                / total;
            ToyPrediction {
                loss,
                ratio: r.is_finite().then_some(r),
            }
        })
        .collect())
}

/// The losses table as CSV (what the data view's export button saves and
/// `dicelens audit --losses-csv` writes): `image,loss,value,region_term`, one row per image and
/// loss (keys as `dicelens eval`'s, `bce…` in binary mode), then `batch` rows with the batch
/// values (the region term column empty). Empty without predictions. Numbers use Rust's
/// shortest round-trip form; undefined values are empty.
pub fn losses_csv(r: &AuditReport) -> String {
    let mut out = String::from("image,loss,value,region_term\n");
    let Some(l) = r.losses.as_ref() else {
        return out;
    };
    let num = |v: Option<f64>| v.map(|x| format!("{x:?}")).unwrap_or_default();
    for row in &l.per_image {
        for (j, kind) in LossKind::ALL.iter().enumerate() {
            out.push_str(&format!(
                "{},{},{},{}\n",
                row.image,
                kind.key(l.mode),
                num(row.values[j]),
                num(row.region[j])
            ));
        }
    }
    for (j, kind) in LossKind::ALL.iter().enumerate() {
        out.push_str(&format!(
            "batch,{},{},\n",
            kind.key(l.mode),
            num(l.values[j])
        ));
    }
    out
}
