//! Segmentation losses on a batch, their gradients with respect to the logits, and the
//! two decompositions of THEORY.md.
//!
//! Shape contract: logits `(B, K, H, W)`; `K ≥ 2` is multiclass (softmax over `K`),
//! `K = 1` is binary (sigmoid of the single foreground channel). Labels `(B, H, W)` hold
//! class indices `0..K` (multiclass) or `0/1` (binary). Every value is mean-reduced as
//! PyTorch and MONAI do by default.
//!
//! The work is split so that one pass over the pixels serves every loss: [`Evaluator::new`]
//! validates the input, computes the probabilities once and accumulates per-image, per-class
//! sums (`Σ y`, `Σ y s`, `Σ s`, `Σ_{Ω_k} −log s`); the loss values are then closed-form in those
//! sums, and each gradient is one more pass.

use ndarray::{Array4, ArrayView3, ArrayView4};

use crate::error::LossError;
use crate::special::{exp_fast, xlogx_over_y};

/// MONAI's `smooth_nr` and `smooth_dr` defaults for `DiceLoss`.
pub const MONAI_SMOOTH: f64 = 1e-5;
/// SegLossBias's `EPS` in region proportions: `(Σ + eps) / (N + eps)`.
pub const PROPORTION_EPS: f64 = 1e-10;

/// Softmax over `K ≥ 2` channels, or sigmoid of one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One logit channel, `s = σ(z)`, labels 0/1.
    Binary,
    /// `K ≥ 2` channels, `s = softmax(z)`, labels `0..K`.
    Multiclass,
}

/// The region-term weight `λ` and temperature `T` of CE+L1 / CE+KL.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegionConfig {
    /// Weight of the region term in CE+L1 and CE+KL (`≥ 0`).
    pub lambda: f64,
    /// Temperature: region proportions are the mean of `softmax(T·z)` (or `σ(T·z)`), `T > 0`.
    pub temp: f64,
}

impl Default for RegionConfig {
    fn default() -> Self {
        Self {
            lambda: 0.1,
            temp: 1.0,
        }
    }
}

impl RegionConfig {
    /// The authors' shipped CE+L1 setting: `T = 10, λ = 1`.
    pub const AUTHORS: RegionConfig = RegionConfig {
        lambda: 1.0,
        temp: 10.0,
    };

    /// Checks `λ ≥ 0` finite and `T > 0` finite.
    pub fn validate(&self) -> Result<(), LossError> {
        if !self.lambda.is_finite() || self.lambda < 0.0 {
            return Err(LossError::BadParameter {
                name: "lambda",
                value: self.lambda,
                reason: "must be a finite number >= 0",
            });
        }
        if !self.temp.is_finite() || self.temp <= 0.0 {
            return Err(LossError::BadParameter {
                name: "temperature",
                value: self.temp,
                reason: "must be a finite number > 0",
            });
        }
        Ok(())
    }
}

/// Every loss of the core, by the name the CLI and the app use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LossKind {
    /// Cross-entropy (BCE with logits in binary mode).
    Ce,
    /// `1 − mean_{b,k} Dice_k`, plain soft Dice (no smoothing).
    Dice,
    /// MONAI `DiceLoss`: smoothing 1e-5 in numerator and denominator, background included.
    DiceMonai,
    /// `−mean_{b,k} log Dice_k`, plain (undefined where some `Dice_k = 0`).
    LogDice,
    /// `−mean_{b,k} log Dice_k` with MONAI smoothing.
    LogDiceMonai,
    /// MONAI `DiceCELoss(softmax=True, to_onehot_y=True)` (`sigmoid=True` for one channel):
    /// MONAI Dice loss + CE (BCE in binary mode).
    DiceCeMonai,
    /// SegLossBias L1 region term `mean_{b,k} |ŝ_k − u_k|`.
    L1,
    /// SegLossBias KL region term `mean_b Σ_k u_k log(u_k/ŝ_k)`.
    Kl,
    /// `CE + λ·L1`.
    CeL1,
    /// `CE + λ·KL`.
    CeKl,
}

impl LossKind {
    /// All losses, in the order the CLI prints them.
    pub const ALL: [LossKind; 10] = [
        LossKind::Ce,
        LossKind::Dice,
        LossKind::DiceMonai,
        LossKind::LogDice,
        LossKind::LogDiceMonai,
        LossKind::DiceCeMonai,
        LossKind::L1,
        LossKind::Kl,
        LossKind::CeL1,
        LossKind::CeKl,
    ];

    /// The JSON key (`ce` becomes `bce` in binary mode, `ce_l1` becomes `bce_l1`, …).
    pub fn key(self, mode: Mode) -> &'static str {
        let binary = mode == Mode::Binary;
        match self {
            LossKind::Ce if binary => "bce",
            LossKind::Ce => "ce",
            LossKind::Dice => "dice",
            LossKind::DiceMonai => "dice_monai",
            LossKind::LogDice => "log_dice",
            LossKind::LogDiceMonai => "log_dice_monai",
            LossKind::DiceCeMonai => "dice_ce_monai",
            LossKind::L1 => "l1",
            LossKind::Kl => "kl",
            LossKind::CeL1 if binary => "bce_l1",
            LossKind::CeL1 => "ce_l1",
            LossKind::CeKl if binary => "bce_kl",
            LossKind::CeKl => "ce_kl",
        }
    }

    /// The weights of the building blocks this loss is a sum of.
    fn recipe(self, lambda: f64) -> Recipe {
        let none = Recipe {
            ce: 0.0,
            dice: None,
            l1: None,
            kl: None,
        };
        match self {
            LossKind::Ce => Recipe { ce: 1.0, ..none },
            LossKind::Dice => Recipe {
                dice: Some((0.0, false)),
                ..none
            },
            LossKind::DiceMonai => Recipe {
                dice: Some((MONAI_SMOOTH, false)),
                ..none
            },
            LossKind::LogDice => Recipe {
                dice: Some((0.0, true)),
                ..none
            },
            LossKind::LogDiceMonai => Recipe {
                dice: Some((MONAI_SMOOTH, true)),
                ..none
            },
            LossKind::DiceCeMonai => Recipe {
                ce: 1.0,
                dice: Some((MONAI_SMOOTH, false)),
                ..none
            },
            LossKind::L1 => Recipe {
                l1: Some(1.0),
                ..none
            },
            LossKind::Kl => Recipe {
                kl: Some(1.0),
                ..none
            },
            LossKind::CeL1 => Recipe {
                ce: 1.0,
                l1: Some(lambda),
                ..none
            },
            LossKind::CeKl => Recipe {
                ce: 1.0,
                kl: Some(lambda),
                ..none
            },
        }
    }
}

/// A loss as a weighted sum of CE, one Dice variant (smoothing, log?), L1 and KL: the one
/// place each loss's composition is written (its value, [`Recipe::value`], and its gradient,
/// [`Evaluator::gradient_into`], both read it). `None`: the term is not part of the loss
/// (`Some(λ)` with `λ = 0` is, and still adds `0·L1`).
struct Recipe {
    ce: f64,
    dice: Option<(f64, bool)>,
    l1: Option<f64>,
    kl: Option<f64>,
}

/// The building blocks' values of one batch, which every loss is a weighted sum of.
struct Parts {
    ce: f64,
    dice: f64,
    dice_monai: f64,
    /// `None` where some plain `Dice_k = 0`.
    log_dice: Option<f64>,
    log_dice_monai: f64,
    l1: f64,
    kl: f64,
}

impl Recipe {
    /// The loss value: the present terms summed in the order CE, Dice, L1, KL, each times its
    /// weight (a weight 1 multiplies exactly); `None` only for an undefined plain log-Dice.
    /// Absent terms are skipped, not added as zeros (an infinite CE must not turn a Dice
    /// loss into NaN).
    fn value(&self, parts: &Parts) -> Option<f64> {
        let mut acc: Option<f64> = None;
        let mut add = |x: f64| acc = Some(acc.map_or(x, |a| a + x));
        if self.ce != 0.0 {
            add(self.ce * parts.ce);
        }
        if let Some((smooth, log)) = self.dice {
            // The recipes use no smoothing or MONAI's.
            let monai = smooth == MONAI_SMOOTH;
            add(match (monai, log) {
                (false, false) => parts.dice,
                (true, false) => parts.dice_monai,
                (false, true) => parts.log_dice?,
                (true, true) => parts.log_dice_monai,
            });
        }
        if let Some(w) = self.l1 {
            add(w * parts.l1);
        }
        if let Some(w) = self.kl {
            add(w * parts.kl);
        }
        acc
    }
}

/// Per-image, per-class sums that every loss is a closed form of.
///
/// In binary mode there are two "classes": 0 (background, `1 − σ(z)`) and 1 (foreground).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ClassStats {
    /// `|Ω_k| = Σ_i y_{k,i}`.
    pub count: f64,
    /// `Σ_i y_{k,i} s_{k,i}` (soft true positives).
    pub tp: f64,
    /// `Σ_i s_{k,i}` (soft predicted size).
    pub mass: f64,
    /// `Σ_i s^T_{k,i}`: predicted size at the region-term temperature.
    pub mass_t: f64,
    /// `Σ_{i∈Ω_k} −log s_{k,i}` (the class's CE matching sum).
    pub nll_true: f64,
}

/// All loss values of one batch, as the CLI prints them.
#[derive(Debug, Clone, PartialEq)]
pub struct Losses {
    /// Binary or multiclass.
    pub mode: Mode,
    /// CE (BCE in binary mode).
    pub ce: f64,
    /// Plain soft Dice loss.
    pub dice: f64,
    /// MONAI Dice loss.
    pub dice_monai: f64,
    /// Plain log-Dice, `None` where some plain `Dice_k = 0`.
    pub log_dice: Option<f64>,
    /// Log-Dice with MONAI smoothing.
    pub log_dice_monai: f64,
    /// MONAI `DiceCELoss(softmax=True, to_onehot_y=True)` (`sigmoid=True` for one channel).
    pub dice_ce_monai: f64,
    /// L1 region term.
    pub l1: f64,
    /// KL region term.
    pub kl: f64,
    /// `ce + λ·l1`.
    pub ce_l1: f64,
    /// `ce + λ·kl`.
    pub ce_kl: f64,
    /// Plain `Dice_k` per image and channel.
    pub dice_per_class: Vec<Vec<f64>>,
    /// Ground-truth proportions per image and channel (no eps).
    pub u: Vec<Vec<f64>>,
    /// Predicted proportions per image and channel at `T = 1` (no eps).
    pub s_hat: Vec<Vec<f64>>,
    /// The `λ` used.
    pub lambda: f64,
    /// The `T` used.
    pub temp: f64,
}

impl Losses {
    /// The value of one loss (`None` only for an undefined plain log-Dice).
    pub fn get(&self, kind: LossKind) -> Option<f64> {
        Some(match kind {
            LossKind::Ce => self.ce,
            LossKind::Dice => self.dice,
            LossKind::DiceMonai => self.dice_monai,
            LossKind::LogDice => return self.log_dice,
            LossKind::LogDiceMonai => self.log_dice_monai,
            LossKind::DiceCeMonai => self.dice_ce_monai,
            LossKind::L1 => self.l1,
            LossKind::Kl => self.kl,
            LossKind::CeL1 => self.ce_l1,
            LossKind::CeKl => self.ce_kl,
        })
    }
}

/// CE of one image split into parts (THEORY.md, "CE = matching + region term").
///
/// `ce = kl + neg_log_precision + jensen_gap` (all three `≥ 0`) and
/// `ce = entropy + kl + neg_info` (where `neg_info = −Î` has either sign).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CeDecomposition {
    /// `Σ_k u_k C_k`, this image's CE.
    pub ce: f64,
    /// `KL(u ‖ ŝ)`: CE's region-size term.
    pub kl: f64,
    /// `Σ_k u_k (−log prec_k)` with `prec_k = u_k m_k / ŝ_k`.
    pub neg_log_precision: f64,
    /// `Σ_k u_k (C_k + log m_k)`, the Jensen gap.
    pub jensen_gap: f64,
    /// `H(u)`.
    pub entropy: f64,
    /// `−Î = CE_b + Σ_k u_k log ŝ_k`, i.e. `−(1/N) Σ_i log(s_{y_i,i}/ŝ_{y_i})`.
    pub neg_info: f64,
}

/// `−log Dice_k` of one class of one image split into matching and region terms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiceDecomposition {
    /// Class index (binary mode: 0 background, 1 foreground).
    pub class: usize,
    /// `u_k`.
    pub u: f64,
    /// `ŝ_k`.
    pub s_hat: f64,
    /// Plain `Dice_k`.
    pub dice: f64,
    /// `−log Dice_k` (`None` if `Dice_k = 0`).
    pub neg_log_dice: Option<f64>,
    /// Dice's matching term `−log m_k` (`None` if class absent or `m_k = 0`).
    pub matching: Option<f64>,
    /// Dice's region term `log((u_k + ŝ_k)/(2u_k))` (`None` if class absent).
    pub region: Option<f64>,
    /// `C_k`, the Jensen upper bound of the matching term (`None` if absent).
    pub ce_matching: Option<f64>,
}

/// Which of the per-pixel sums an [`Evaluator`] computes beyond the probabilities and the
/// Dice sums.
#[derive(Debug, Clone, Copy)]
struct Needs {
    /// The CE matching sums (`nll_true`: an `ln` per pixel).
    nll: bool,
    /// The probabilities at the region terms' temperature (a second pass when `T ≠ 1`).
    temp: bool,
}

impl Needs {
    const ALL: Needs = Needs {
        nll: true,
        temp: true,
    };

    /// What `kind`'s value and gradient use.
    fn of(kind: LossKind, lambda: f64) -> Needs {
        let r = kind.recipe(lambda);
        Needs {
            nll: r.ce != 0.0,
            temp: r.l1.is_some() || r.kl.is_some(),
        }
    }
}

/// One loss's value and gradient, computing only the sums that loss uses: the trainer's path
/// (a CE run skips the second pass at `T ≠ 1`, a Dice run also the `ln` of CE). The value and
/// the gradient are those of [`Evaluator::new`] bit for bit (`tests/one_loss.rs`).
#[derive(Debug, Clone)]
pub struct OneLoss {
    ev: Evaluator,
    kind: LossKind,
}

impl OneLoss {
    /// Validates the batch as [`Evaluator::new`] does and computes what `kind` needs.
    pub fn new<F: Copy + Into<f64>>(
        logits: ArrayView4<F>,
        labels: ArrayView3<i64>,
        cfg: RegionConfig,
        kind: LossKind,
    ) -> Result<Self, LossError> {
        let needs = Needs::of(kind, cfg.lambda);
        Ok(Self {
            ev: Evaluator::build(logits, labels, cfg, needs)?,
            kind,
        })
    }

    /// The loss value (`None` for plain log-Dice where some `Dice_k = 0`).
    pub fn value(&self) -> Option<f64> {
        // The parts this loss does not use were not computed; `get` reads only its own.
        self.ev.losses().get(self.kind)
    }

    /// [`Evaluator::gradient_into`] of the loss.
    pub fn gradient_into(&self, grad: &mut Array4<f64>) -> Result<(), LossError> {
        self.ev.gradient_into(self.kind, grad)
    }
}

/// A validated batch with its probabilities and per-class sums, ready to give every loss,
/// gradient and decomposition.
#[derive(Debug, Clone)]
pub struct Evaluator {
    sums: Sums,
    labels: Vec<u32>,
    /// Multiclass: `(B, K, N)` softmax; binary: `(B, N)` foreground sigmoid.
    probs: Vec<f64>,
    /// The same at temperature `T` (absent when `T = 1`).
    probs_t: Option<Vec<f64>>,
}

/// The per-image, per-class sums of a validated batch, and everything that is closed-form in
/// them: the loss values, the gradients' per-class coefficients and the decompositions. Shared
/// by the `f64` [`Evaluator`] and the `f32` [`crate::losses32::Fused32`], so that both compute
/// every loss from the same formulas.
#[derive(Debug, Clone)]
pub(crate) struct Sums {
    pub(crate) mode: Mode,
    pub(crate) batch: usize,
    pub(crate) channels: usize,
    pub(crate) classes: usize,
    pub(crate) height: usize,
    pub(crate) width: usize,
    pub(crate) stats: Vec<ClassStats>,
    pub(crate) cfg: RegionConfig,
}

/// The gradient of one loss in terms of the probabilities, per image and effective class
/// (index `b·classes + c`): `G = a·y + c0` (Dice terms), `R = r` (region terms, at temperature
/// `T`), and the CE weight `w_ce` (see [`Evaluator::gradient`]).
#[derive(Debug, Clone)]
pub(crate) struct Coefs {
    pub(crate) a: Vec<f64>,
    pub(crate) c0: Vec<f64>,
    pub(crate) r: Vec<f64>,
    pub(crate) w_ce: f64,
    pub(crate) has_region: bool,
}

/// Checks that no dimension is zero and that the labels' `(B, H, W)` match the logits';
/// returns the mode.
pub(crate) fn check_dims(
    (b, k, h, w): (usize, usize, usize, usize),
    (yb, yh, yw): (usize, usize, usize),
) -> Result<Mode, LossError> {
    if b == 0 || k == 0 || h == 0 || w == 0 {
        return Err(LossError::Empty([b, k, h, w]));
    }
    if (b, h, w) != (yb, yh, yw) {
        return Err(LossError::ShapeMismatch {
            lb: b,
            k,
            lh: h,
            lw: w,
            yb,
            yh,
            yw,
        });
    }
    Ok(if k == 1 {
        Mode::Binary
    } else {
        Mode::Multiclass
    })
}

/// Checks shapes and labels; returns the mode and the labels flattened `(B, N)`.
/// (Finiteness of the logits is checked inside the first pass, see [`first_non_finite`].)
pub(crate) fn validate_shapes<F>(
    logits: &ArrayView4<F>,
    labels: &ArrayView3<i64>,
) -> Result<(Mode, Vec<u32>), LossError> {
    let mode = check_dims(logits.dim(), labels.dim())?;
    let (b, k, h, w) = logits.dim();
    let classes = if k == 1 { 2 } else { k } as i64;
    let mut flat = Vec::with_capacity(b * h * w);
    let mut bad = None;
    for &v in labels.iter() {
        if v < 0 || v >= classes {
            bad = Some((flat.len(), v));
            break;
        }
        flat.push(v as u32);
    }
    if let Some((idx, value)) = bad {
        let allowed = if mode == Mode::Binary {
            "{0, 1} (binary mode: the logits have one channel)".to_string()
        } else {
            format!("0..{} (the logits have K={} channels)", k - 1, k)
        };
        return Err(LossError::LabelOutOfRange {
            value,
            b: idx / (h * w),
            h: (idx % (h * w)) / w,
            w: idx % w,
            allowed,
        });
    }
    Ok((mode, flat))
}

/// The first non-finite logit, as an error (only called once a pass has seen one).
pub(crate) fn first_non_finite<F: Copy + Into<f64>>(logits: &ArrayView4<F>) -> LossError {
    for ((b, k, h, w), &z) in logits.indexed_iter() {
        let value: f64 = z.into();
        if !value.is_finite() {
            return LossError::NonFinite { value, b, k, h, w };
        }
    }
    LossError::Undefined("non-finite logit".into())
}

/// `(e^{−|z|}, σ(z), 1 − σ(z))` from a single `exp`: the probabilities of [`sigmoid_parts`]
/// without its `ln` (a loss without CE needs no more).
#[inline]
fn sigmoid_probs(z: f64) -> (f64, f64, f64) {
    let e = (-z.abs()).exp();
    let inv = 1.0 / (1.0 + e);
    if z >= 0.0 {
        (e, inv, e * inv)
    } else {
        (e, e * inv, inv)
    }
}

/// `(σ(z), 1 − σ(z), log σ(z), log(1 − σ(z)))` from a single `exp` and `ln_1p`.
#[inline]
fn sigmoid_parts(z: f64) -> (f64, f64, f64, f64) {
    let (e, s, sb) = sigmoid_probs(z);
    let l = e.ln_1p();
    if z >= 0.0 {
        (s, sb, -l, -z - l)
    } else {
        (s, sb, z - l, -l)
    }
}

/// Softmax of `t·z` over `k` planes of `n` pixels into `out`, plane by plane so that the
/// loops vectorise. Leaves each pixel's max of `t·z` in `mx` and its sum of exponentials in `sum`.
#[allow(clippy::too_many_arguments)]
fn softmax_planes<F: Copy + Into<f64>>(
    z: &[F],
    k: usize,
    n: usize,
    t: f64,
    out: &mut [f64],
    mx: &mut [f64],
    sum: &mut [f64],
    finite: &mut bool,
) {
    let mut ok = true;
    for (i, m) in mx.iter_mut().enumerate() {
        let v: f64 = z[i].into();
        ok &= v.is_finite();
        *m = t * v;
    }
    for c in 1..k {
        let zc = &z[c * n..(c + 1) * n];
        for (m, &v) in mx.iter_mut().zip(zc) {
            let v: f64 = v.into();
            ok &= v.is_finite();
            *m = m.max(t * v);
        }
    }
    *finite &= ok;
    sum.iter_mut().for_each(|s| *s = 0.0);
    for c in 0..k {
        let zc = &z[c * n..(c + 1) * n];
        let oc = &mut out[c * n..(c + 1) * n];
        for i in 0..n {
            let v: f64 = zc[i].into();
            let e = exp_fast(t * v - mx[i]);
            oc[i] = e;
            sum[i] += e;
        }
    }
    for c in 0..k {
        let oc = &mut out[c * n..(c + 1) * n];
        for (o, s) in oc.iter_mut().zip(sum.iter()) {
            *o /= s;
        }
    }
}

impl Evaluator {
    /// Validates `logits (B, K, H, W)` and `labels (B, H, W)` and computes the probabilities
    /// and per-class sums. `F` is `f32` or `f64`; all arithmetic is in `f64`.
    pub fn new<F: Copy + Into<f64>>(
        logits: ArrayView4<F>,
        labels: ArrayView3<i64>,
        cfg: RegionConfig,
    ) -> Result<Self, LossError> {
        Self::build(logits, labels, cfg, Needs::ALL)
    }

    /// [`Evaluator::new`] computing only the sums in `needs` (the others stay 0, or at `T = 1`).
    fn build<F: Copy + Into<f64>>(
        logits: ArrayView4<F>,
        labels: ArrayView3<i64>,
        cfg: RegionConfig,
        needs: Needs,
    ) -> Result<Self, LossError> {
        cfg.validate()?;
        let (mode, labels_flat) = validate_shapes(&logits, &labels)?;
        let (batch, channels, height, width) = logits.dim();
        let n = height * width;
        let classes = if mode == Mode::Binary { 2 } else { channels };
        let std = logits.as_standard_layout();
        let z: &[F] = std
            .as_slice()
            .expect("a standard-layout array is contiguous");
        let t = cfg.temp;
        let use_t = t != 1.0 && needs.temp;
        let mut probs = vec![0.0; batch * channels * n];
        let mut probs_t = if use_t {
            Some(vec![0.0; batch * channels * n])
        } else {
            None
        };
        let mut stats = vec![ClassStats::default(); batch * classes];
        let mut finite = true;
        match mode {
            Mode::Binary => {
                for b in 0..batch {
                    let st = &mut stats[b * 2..b * 2 + 2];
                    let zb = &z[b * n..(b + 1) * n];
                    let yb = &labels_flat[b * n..(b + 1) * n];
                    let pb = &mut probs[b * n..(b + 1) * n];
                    let (mut mass_fg, mut mass_bg) = (0.0, 0.0);
                    for i in 0..n {
                        let zi: f64 = zb[i].into();
                        finite &= zi.is_finite();
                        let (s, sb, ls, lsb) = if needs.nll {
                            sigmoid_parts(zi)
                        } else {
                            let (_, s, sb) = sigmoid_probs(zi);
                            (s, sb, 0.0, 0.0)
                        };
                        pb[i] = s;
                        mass_fg += s;
                        mass_bg += sb;
                        let c = yb[i] as usize;
                        st[c].count += 1.0;
                        if c == 1 {
                            st[1].tp += s;
                            st[1].nll_true -= ls;
                        } else {
                            st[0].tp += sb;
                            st[0].nll_true -= lsb;
                        }
                    }
                    st[1].mass = mass_fg;
                    st[0].mass = mass_bg;
                    if let Some(pt) = probs_t.as_mut() {
                        let (mut mt_fg, mut mt_bg) = (0.0, 0.0);
                        for (i, out) in pt[b * n..(b + 1) * n].iter_mut().enumerate() {
                            let zi: f64 = zb[i].into();
                            let (_, s, sb) = sigmoid_probs(t * zi);
                            *out = s;
                            mt_fg += s;
                            mt_bg += sb;
                        }
                        st[1].mass_t = mt_fg;
                        st[0].mass_t = mt_bg;
                    } else {
                        st[1].mass_t = mass_fg;
                        st[0].mass_t = mass_bg;
                    }
                }
            }
            Mode::Multiclass => {
                let k = channels;
                let mut mx = vec![0.0f64; n];
                let mut sum = vec![0.0f64; n];
                for b in 0..batch {
                    let zb = &z[b * k * n..(b + 1) * k * n];
                    let yb = &labels_flat[b * n..(b + 1) * n];
                    let st = &mut stats[b * k..(b + 1) * k];
                    let pb = &mut probs[b * k * n..(b + 1) * k * n];
                    softmax_planes(zb, k, n, 1.0, pb, &mut mx, &mut sum, &mut finite);
                    // mx + ln(sum) is the log-sum-exp of each pixel.
                    for i in 0..n {
                        let y = yb[i] as usize;
                        st[y].count += 1.0;
                        st[y].tp += pb[y * n + i];
                        if needs.nll {
                            let zy: f64 = zb[y * n + i].into();
                            st[y].nll_true += mx[i] + sum[i].ln() - zy;
                        }
                    }
                    for (c, s) in st.iter_mut().enumerate() {
                        s.mass = pb[c * n..(c + 1) * n].iter().sum();
                    }
                    if let Some(pt) = probs_t.as_mut() {
                        let ptb = &mut pt[b * k * n..(b + 1) * k * n];
                        softmax_planes(zb, k, n, t, ptb, &mut mx, &mut sum, &mut finite);
                        for (c, s) in st.iter_mut().enumerate() {
                            s.mass_t = ptb[c * n..(c + 1) * n].iter().sum();
                        }
                    } else {
                        for s in st.iter_mut() {
                            s.mass_t = s.mass;
                        }
                    }
                }
            }
        }
        if !finite {
            return Err(first_non_finite(&logits));
        }
        Ok(Self {
            sums: Sums {
                mode,
                batch,
                channels,
                height,
                width,
                classes,
                stats,
                cfg,
            },
            labels: labels_flat,
            probs,
            probs_t,
        })
    }

    /// Binary or multiclass.
    pub fn mode(&self) -> Mode {
        self.sums.mode
    }

    /// `(B, K, H, W)` of the logits.
    pub fn dim(&self) -> (usize, usize, usize, usize) {
        self.sums.dim()
    }

    /// Pixels per image, `N = H·W`.
    pub fn pixels(&self) -> usize {
        self.sums.pixels()
    }

    /// The region configuration in use.
    pub fn config(&self) -> RegionConfig {
        self.sums.cfg
    }

    /// Per-class sums of image `b` (binary mode: `[background, foreground]`).
    pub fn stats(&self, b: usize) -> &[ClassStats] {
        self.sums.stats(b)
    }

    /// Every loss value, with the per-image, per-channel Dice, `u` and `ŝ`.
    pub fn losses(&self) -> Losses {
        self.sums.losses()
    }

    /// CE's decomposition for image `b` over its effective classes (binary: background and
    /// foreground), with `u` and `ŝ` exact (no eps). Absent classes contribute nothing.
    pub fn ce_decomposition(&self, b: usize) -> CeDecomposition {
        self.sums.ce_decomposition(b)
    }

    /// Dice's per-class decomposition for image `b` over its effective classes.
    pub fn dice_decomposition(&self, b: usize) -> Vec<DiceDecomposition> {
        self.sums.dice_decomposition(b)
    }
}

impl Sums {
    /// `(B, K, H, W)` of the logits.
    pub(crate) fn dim(&self) -> (usize, usize, usize, usize) {
        (self.batch, self.channels, self.height, self.width)
    }

    /// Pixels per image, `N = H·W`.
    pub(crate) fn pixels(&self) -> usize {
        self.height * self.width
    }

    /// Per-class sums of image `b` (binary mode: `[background, foreground]`).
    pub(crate) fn stats(&self, b: usize) -> &[ClassStats] {
        &self.stats[b * self.classes..(b + 1) * self.classes]
    }

    /// Indices into the effective classes that are loss channels: all of them in multiclass
    /// mode, only the foreground (1) in binary mode (MONAI `sigmoid=True`, one channel).
    fn channel_classes(&self) -> std::ops::Range<usize> {
        match self.mode {
            Mode::Binary => 1..2,
            Mode::Multiclass => 0..self.classes,
        }
    }

    fn n_eps(&self) -> f64 {
        self.pixels() as f64 + PROPORTION_EPS
    }

    /// SegLossBias proportions `(u_k, ŝ_k)` with eps, at temperature `T`.
    ///
    /// Binary background uses `1 − u` (their formula) and `(Σ(1−σ(Tz)) + eps)/(N + eps)`,
    /// which equals theirs up to `eps/N` but stays positive when every pixel is foreground.
    fn region_props(&self, st: &ClassStats, class: usize) -> (f64, f64) {
        let ne = self.n_eps();
        if self.mode == Mode::Binary && class == 0 {
            let fg_count = self.pixels() as f64 - st.count;
            let u_fg = (fg_count + PROPORTION_EPS) / ne;
            (1.0 - u_fg, (st.mass_t + PROPORTION_EPS) / ne)
        } else {
            (
                (st.count + PROPORTION_EPS) / ne,
                (st.mass_t + PROPORTION_EPS) / ne,
            )
        }
    }

    fn dice_of(st: &ClassStats, smooth: f64) -> f64 {
        let den = st.count + st.mass + smooth;
        if den == 0.0 {
            // Both empty (only possible without smoothing): perfect agreement, the
            // smooth → 0 limit of MONAI's (0 + s)/(0 + s).
            1.0
        } else {
            (2.0 * st.tp + smooth) / den
        }
    }

    /// Every loss value, with the per-image, per-channel Dice, `u` and `ŝ`.
    pub(crate) fn losses(&self) -> Losses {
        let n = self.pixels() as f64;
        let nb = self.batch as f64;
        let ce = self.stats.iter().map(|s| s.nll_true).sum::<f64>() / (nb * n);
        let chans = self.channel_classes();
        let nc = chans.len() as f64;
        let mut dice_sum = 0.0;
        let mut dice_m_sum = 0.0;
        let mut log_dice_sum = Some(0.0);
        let mut log_dice_m_sum = 0.0;
        let mut l1_sum = 0.0;
        let mut kl_sum = 0.0;
        let mut dice_per_class = Vec::with_capacity(self.batch);
        let mut u = Vec::with_capacity(self.batch);
        let mut s_hat = Vec::with_capacity(self.batch);
        for b in 0..self.batch {
            let st = self.stats(b);
            let mut dpc = Vec::new();
            let mut ub = Vec::new();
            let mut sb = Vec::new();
            for c in chans.clone() {
                let d = Self::dice_of(&st[c], 0.0);
                let dm = Self::dice_of(&st[c], MONAI_SMOOTH);
                dice_sum += d;
                dice_m_sum += dm;
                log_dice_sum = match log_dice_sum {
                    Some(acc) if d > 0.0 => Some(acc - d.ln()),
                    _ => None,
                };
                log_dice_m_sum -= dm.ln();
                let (ue, se) = self.region_props(&st[c], c);
                l1_sum += (se - ue).abs();
                dpc.push(d);
                ub.push(st[c].count / n);
                sb.push(st[c].mass / n);
            }
            for (c, s) in st.iter().enumerate() {
                let (ue, se) = self.region_props(s, c);
                kl_sum += xlogx_over_y(ue, se);
            }
            dice_per_class.push(dpc);
            u.push(ub);
            s_hat.push(sb);
        }
        let denom = nb * nc;
        let parts = Parts {
            ce,
            dice: 1.0 - dice_sum / denom,
            dice_monai: 1.0 - dice_m_sum / denom,
            log_dice: log_dice_sum.map(|v| v / denom),
            log_dice_monai: log_dice_m_sum / denom,
            l1: l1_sum / denom,
            kl: kl_sum / nb,
        };
        // Every loss from its recipe; only plain log-Dice can be undefined.
        let of = |kind: LossKind| kind.recipe(self.cfg.lambda).value(&parts);
        let val = |kind: LossKind| of(kind).unwrap_or(f64::NAN);
        Losses {
            mode: self.mode,
            ce: val(LossKind::Ce),
            dice: val(LossKind::Dice),
            dice_monai: val(LossKind::DiceMonai),
            log_dice: of(LossKind::LogDice),
            log_dice_monai: val(LossKind::LogDiceMonai),
            dice_ce_monai: val(LossKind::DiceCeMonai),
            l1: val(LossKind::L1),
            kl: val(LossKind::Kl),
            ce_l1: val(LossKind::CeL1),
            ce_kl: val(LossKind::CeKl),
            dice_per_class,
            u,
            s_hat,
            lambda: self.cfg.lambda,
            temp: self.cfg.temp,
        }
    }

    /// The gradient of `kind` in terms of the probabilities: per image and class, the Dice
    /// coefficients `(a, c0)` and the region coefficient `r`, and the CE weight.
    ///
    /// Errors only for plain log-Dice where some `Dice_k = 0` (the loss is undefined there).
    pub(crate) fn coefficients(&self, kind: LossKind) -> Result<Coefs, LossError> {
        let cls = self.classes;
        // Per image and effective class: Dice coefficients (a, c) and region coefficient r.
        let mut a = vec![0.0; self.batch * cls];
        let mut c0 = vec![0.0; self.batch * cls];
        let mut r = vec![0.0; self.batch * cls];
        for b in 0..self.batch {
            let range = b * cls..(b + 1) * cls;
            self.image_coefficients(
                kind,
                b,
                &mut a[range.clone()],
                &mut c0[range.clone()],
                &mut r[range],
            )?;
        }
        let w_ce = self.ce_weight(kind);
        let has_region = r.iter().any(|&v| v != 0.0);
        Ok(Coefs {
            a,
            c0,
            r,
            w_ce,
            has_region,
        })
    }

    /// The CE weight of `kind`'s gradient, `w_ce / (B N)`.
    pub(crate) fn ce_weight(&self, kind: LossKind) -> f64 {
        let recipe = kind.recipe(self.cfg.lambda);
        recipe.ce / (self.batch as f64 * self.pixels() as f64)
    }

    /// [`Sums::coefficients`] of image `b` alone into `a, c0, r` (one entry per effective
    /// class, zeroed here): it reads only this image's sums.
    pub(crate) fn image_coefficients(
        &self,
        kind: LossKind,
        b: usize,
        a: &mut [f64],
        c0: &mut [f64],
        r: &mut [f64],
    ) -> Result<(), LossError> {
        let recipe = kind.recipe(self.cfg.lambda);
        let nb = self.batch as f64;
        let chans = self.channel_classes();
        let nc = chans.len() as f64;
        a.iter_mut().for_each(|v| *v = 0.0);
        c0.iter_mut().for_each(|v| *v = 0.0);
        r.iter_mut().for_each(|v| *v = 0.0);
        let st = self.stats(b);
        if let Some((smooth, log)) = recipe.dice {
            for c in chans.clone() {
                let s = &st[c];
                let den = s.count + s.mass + smooth;
                if den == 0.0 {
                    continue;
                }
                let num = 2.0 * s.tp + smooth;
                let mut f = 1.0 / (nb * nc);
                if log {
                    if num == 0.0 {
                        return Err(LossError::Undefined(format!(
                            "plain log-Dice is undefined: Dice of class {c} in image {b} is 0"
                        )));
                    }
                    f *= den / num;
                }
                a[c] = -f * 2.0 / den;
                c0[c] = f * num / (den * den);
            }
        }
        let ne = self.n_eps();
        if let Some(w) = recipe.l1.filter(|&w| w != 0.0) {
            for c in chans.clone() {
                let (ue, se) = self.region_props(&st[c], c);
                let sign = if se > ue {
                    1.0
                } else if se < ue {
                    -1.0
                } else {
                    0.0
                };
                r[c] += w * sign / (nb * nc * ne);
            }
        }
        if let Some(w) = recipe.kl.filter(|&w| w != 0.0) {
            for (c, s) in st.iter().enumerate() {
                let (ue, se) = self.region_props(s, c);
                if ue > 0.0 {
                    r[c] -= w * ue / (se * nb * ne);
                }
            }
        }
        Ok(())
    }

    /// CE's decomposition for image `b` over its effective classes (binary: background and
    /// foreground), with `u` and `ŝ` exact (no eps). Absent classes contribute nothing.
    pub(crate) fn ce_decomposition(&self, b: usize) -> CeDecomposition {
        let n = self.pixels() as f64;
        let mut d = CeDecomposition {
            ce: 0.0,
            kl: 0.0,
            neg_log_precision: 0.0,
            jensen_gap: 0.0,
            entropy: 0.0,
            neg_info: 0.0,
        };
        let mut sum_u_log_s = 0.0;
        for st in self.stats(b) {
            if st.count == 0.0 {
                continue;
            }
            let u = st.count / n;
            let s = st.mass / n;
            let m = st.tp / st.count;
            let ck = st.nll_true / st.count;
            d.ce += u * ck;
            d.kl += u * (u / s).ln();
            d.neg_log_precision -= u * (u * m / s).ln();
            d.jensen_gap += u * (ck + m.ln());
            d.entropy -= u * u.ln();
            sum_u_log_s += u * s.ln();
        }
        d.neg_info = d.ce + sum_u_log_s;
        d
    }

    /// Dice's per-class decomposition for image `b` over its effective classes.
    pub(crate) fn dice_decomposition(&self, b: usize) -> Vec<DiceDecomposition> {
        let n = self.pixels() as f64;
        self.stats(b)
            .iter()
            .enumerate()
            .map(|(class, st)| {
                let u = st.count / n;
                let s_hat = st.mass / n;
                let dice = Self::dice_of(st, 0.0);
                let present = st.count > 0.0;
                let m = if present { st.tp / st.count } else { 0.0 };
                DiceDecomposition {
                    class,
                    u,
                    s_hat,
                    dice,
                    neg_log_dice: (dice > 0.0).then(|| -dice.ln()),
                    matching: (present && m > 0.0).then(|| -m.ln()),
                    region: present.then(|| ((u + s_hat) / (2.0 * u)).ln()),
                    ce_matching: present.then(|| st.nll_true / st.count),
                }
            })
            .collect()
    }
}

impl Evaluator {
    /// `∂loss/∂logits`, shape `(B, K, H, W)`.
    ///
    /// With `G = ∂L/∂s` (Dice terms: `a_k y_{k,i} + c_k` per image and class) and
    /// `R = ∂L/∂s^T` (region terms: constant per image and class):
    /// softmax `∂L/∂z_j = w_ce (s_j − y_j)/(BN) + s_j (G_j − Σ_k s_k G_k) + T s^T_j (R_j − Σ_k s^T_k R_k)`;
    /// sigmoid `∂L/∂z = w_ce (s − y)/(BN) + s(1−s) G + T s^T(1−s^T) R`.
    ///
    /// Errors only for plain log-Dice where some `Dice_k = 0` (the loss is undefined there).
    pub fn gradient(&self, kind: LossKind) -> Result<Array4<f64>, LossError> {
        let mut grad = Array4::<f64>::zeros(self.dim());
        self.gradient_into(kind, &mut grad)?;
        Ok(grad)
    }

    /// [`Evaluator::gradient`] into a caller-owned array (reused across steps by a trainer).
    pub fn gradient_into(&self, kind: LossKind, grad: &mut Array4<f64>) -> Result<(), LossError> {
        if grad.dim() != self.dim() {
            return Err(LossError::Undefined(format!(
                "gradient buffer has shape {:?}, expected {:?}",
                grad.dim(),
                self.dim()
            )));
        }
        let g = grad
            .as_slice_mut()
            .ok_or_else(|| LossError::Undefined("gradient buffer is not contiguous".into()))?;
        let Coefs {
            a,
            c0,
            r,
            w_ce,
            has_region,
        } = self.sums.coefficients(kind)?;
        let Sums {
            mode,
            batch,
            channels,
            cfg,
            ..
        } = self.sums;
        let n = self.pixels();
        let t = cfg.temp;
        match mode {
            Mode::Binary => {
                for b in 0..batch {
                    // Foreground sees G_fg; background s_bg = 1 − s, so its G enters with a minus.
                    let (a1, c1, r1) = (a[b * 2 + 1], c0[b * 2 + 1], r[b * 2 + 1] - r[b * 2]);
                    let pb = &self.probs[b * n..(b + 1) * n];
                    let yb = &self.labels[b * n..(b + 1) * n];
                    let gb = &mut g[b * n..(b + 1) * n];
                    for i in 0..n {
                        let s = pb[i];
                        let y = yb[i] as f64;
                        gb[i] = w_ce * (s - y) + s * (1.0 - s) * (a1 * y + c1);
                    }
                    if has_region {
                        let pt = self.probs_t.as_deref().unwrap_or(&self.probs);
                        for (gi, &st) in gb.iter_mut().zip(&pt[b * n..(b + 1) * n]) {
                            *gi += t * st * (1.0 - st) * r1;
                        }
                    }
                }
            }
            Mode::Multiclass => {
                let k = channels;
                let mut dot = vec![0.0; n];
                for b in 0..batch {
                    let pb = &self.probs[b * k * n..(b + 1) * k * n];
                    let yb = &self.labels[b * n..(b + 1) * n];
                    let gb = &mut g[b * k * n..(b + 1) * k * n];
                    let ab = &a[b * k..(b + 1) * k];
                    let cb = &c0[b * k..(b + 1) * k];
                    // dot_i = Σ_k s_k G_k = Σ_k s_k c_k + s_y a_y.
                    for (i, d) in dot.iter_mut().enumerate() {
                        let y = yb[i] as usize;
                        *d = pb[y * n + i] * ab[y];
                    }
                    for j in 0..k {
                        for (d, &s) in dot.iter_mut().zip(&pb[j * n..(j + 1) * n]) {
                            *d += s * cb[j];
                        }
                    }
                    // ∂/∂z_j = s_j (c_j − dot + w_ce) − [y = j] (w_ce − a_j s_j).
                    for j in 0..k {
                        let off = cb[j] + w_ce;
                        let gj = &mut gb[j * n..(j + 1) * n];
                        for ((gv, &s), &d) in gj.iter_mut().zip(&pb[j * n..(j + 1) * n]).zip(&dot) {
                            *gv = s * (off - d);
                        }
                    }
                    for (i, &y) in yb.iter().enumerate() {
                        let y = y as usize;
                        gb[y * n + i] += ab[y] * pb[y * n + i] - w_ce;
                    }
                    if has_region {
                        let rb = &r[b * k..(b + 1) * k];
                        let pt = self.probs_t.as_deref().unwrap_or(&self.probs);
                        let ptb = &pt[b * k * n..(b + 1) * k * n];
                        dot.iter_mut().for_each(|d| *d = 0.0);
                        for j in 0..k {
                            for (d, &s) in dot.iter_mut().zip(&ptb[j * n..(j + 1) * n]) {
                                *d += s * rb[j];
                            }
                        }
                        for j in 0..k {
                            let gj = &mut gb[j * n..(j + 1) * n];
                            for ((gv, &s), &d) in
                                gj.iter_mut().zip(&ptb[j * n..(j + 1) * n]).zip(&dot)
                            {
                                *gv += t * s * (rb[j] - d);
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Convenience: validate and compute every loss in one call.
pub fn evaluate<F: Copy + Into<f64>>(
    logits: ArrayView4<F>,
    labels: ArrayView3<i64>,
    cfg: RegionConfig,
) -> Result<Losses, LossError> {
    Ok(Evaluator::new(logits, labels, cfg)?.losses())
}
