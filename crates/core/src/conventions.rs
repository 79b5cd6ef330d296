//! Dice-loss conventions of the libraries people train with, as selectable presets.
//!
//! Every preset is a closed form of the per-image, per-class sums of [`Evaluator::stats`]
//! (`|Ω_k| = Σy`, `TP = Σ y s`, `Σ s`), so switching presets costs nothing after one pass.
//! Binary mode (one logit channel, sigmoid): every preset scores the single foreground
//! channel — that is what MONAI (`sigmoid=True`) and smp (`mode="binary"`) do with one channel,
//! and what nnU-Net does with its two-channel softmax of logits `(0, z)` (equal to the sigmoid
//! of `z`) once the background channel is excluded.
//!
//! | preset | per-class score | classes | reduction | training loss |
//! | --- | --- | --- | --- | --- |
//! | `paper` | `2TP/(Σy + Σs)` (`1` when both are 0) | all, background included | `1 − mean_{b,k}` | the Dice loss |
//! | `monai` | `(2TP + 1e-5)/(Σy + Σs + 1e-5)` | all, background included | `1 − mean_{b,k}` | the Dice loss |
//! | `smp` | `2TP/max(Σy + Σs, 1e-7)`, sums pooled over the batch | all; classes absent from the batch's labels get loss 0 but still count in the mean | `mean_k (1 − score)·[Σy > 0]` | the Dice loss |
//! | `nnunet` | `(2TP + 1e-5)/max(Σy + Σs + 1e-5, 1e-8)`, sums pooled over the batch (`batch_dice=True`) | background excluded | `−mean_k` (nnU-Net returns `−Dice`, not `1 − Dice`) | `CE + Dice loss` |
//!
//! Sources: MONAI `monai/losses/dice.py` (`DiceLoss`, `smooth_nr = smooth_dr = 1e-5`,
//! `include_background=True`, `batch=False`); segmentation_models_pytorch
//! `segmentation_models_pytorch/losses/dice.py` (`DiceLoss(smooth=0.0, eps=1e-7)`, `dims=(0, 2)`,
//! `mask = y_true.sum(dims) > 0; loss *= mask`, `loss.mean()`) and `_functional.py`
//! (`soft_dice_score`: `(2·I + smooth)/(card + smooth).clamp_min(eps)`); nnU-Net v2
//! `nnunetv2/training/loss/dice.py` (`MemoryEfficientSoftDiceLoss`, `smooth=1e-5`,
//! `do_bg=False`, denominator clipped at 1e-8, returns `−dc`) and `compound_losses.py`
//! (`DC_and_CE_loss`, weights 1 and 1). nnU-Net's `batch_dice` comes from its plans; `True` (the
//! planner's choice for the `2d` and `3d_fullres` configurations) is used here.

use ndarray::{ArrayView3, ArrayView4};

use crate::error::LossError;
use crate::family::{Family, FamilyPoint};
use crate::losses::{ClassStats, Evaluator, Mode, RegionConfig, MONAI_SMOOTH};

/// smp's `eps`: the clamp of the Dice denominator.
pub const SMP_EPS: f64 = 1e-7;
/// nnU-Net's `smooth` in its soft Dice.
pub const NNUNET_SMOOTH: f64 = 1e-5;
/// nnU-Net's clip of the Dice denominator.
pub const NNUNET_CLIP: f64 = 1e-8;

/// A Dice-loss convention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Convention {
    /// The paper: plain Dice, no smoothing, background included, mean over images and classes.
    Paper,
    /// MONAI `DiceLoss(softmax=True, to_onehot_y=True)`: smoothing 1e-5, background included, mean over images and classes.
    Monai,
    /// segmentation_models_pytorch `DiceLoss`: no smoothing, denominator clamped at 1e-7,
    /// sums pooled over the batch, classes absent from the batch zeroed.
    Smp,
    /// nnU-Net: smoothing 1e-5, background excluded, batch Dice, `−Dice`, trained as Dice+CE.
    NnUnet,
}

impl Convention {
    /// Every preset, in menu order.
    pub const ALL: [Convention; 4] = [
        Convention::Paper,
        Convention::Monai,
        Convention::Smp,
        Convention::NnUnet,
    ];

    /// Short key for the URL (`preset=`).
    pub fn key(self) -> &'static str {
        match self {
            Convention::Paper => "paper",
            Convention::Monai => "monai",
            Convention::Smp => "smp",
            Convention::NnUnet => "nnunet",
        }
    }

    /// The preset for a key of [`Convention::key`].
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.key() == key)
    }

    /// Menu label.
    pub fn label(self) -> &'static str {
        match self {
            Convention::Paper => "paper (plain Dice)",
            Convention::Monai => "MONAI",
            Convention::Smp => "segmentation_models_pytorch",
            Convention::NnUnet => "nnU-Net",
        }
    }

    /// One sentence on what the preset does.
    pub fn description(self) -> &'static str {
        match self {
            Convention::Paper => {
                "Plain soft Dice 2TP/(Σy+Σs) with no smoothing; loss 1 − mean over images and \
                 classes, background included."
            }
            Convention::Monai => {
                "MONAI DiceLoss(softmax=True, to_onehot_y=True): (2TP+1e-5)/(Σy+Σs+1e-5) per image \
                 and class, background included; loss 1 − mean."
            }
            Convention::Smp => {
                "segmentation_models_pytorch DiceLoss: sums pooled over the batch, no smoothing, \
                 denominator clamped at 1e-7; classes absent from the batch get loss 0 but count \
                 in the mean."
            }
            Convention::NnUnet => {
                "nnU-Net: (2TP+1e-5)/(Σy+Σs+1e-5) with sums pooled over the batch, background \
                 excluded; the Dice term is −mean Dice and training adds CE."
            }
        }
    }

    /// Whether training with this preset adds CE to the Dice term (nnU-Net's Dice+CE).
    pub fn adds_ce(self) -> bool {
        self == Convention::NnUnet
    }
}

/// Plain or smoothed Dice of one class's sums, `(2TP + smooth)/(Σy + Σs + smooth)`, with the
/// paper's `1` when class and prediction are both empty and no smoothing is used.
fn smoothed(tp: f64, count: f64, mass: f64, smooth: f64) -> f64 {
    let den = count + mass + smooth;
    if den == 0.0 {
        1.0
    } else {
        (2.0 * tp + smooth) / den
    }
}

/// The Dice-loss term of `conv` from an evaluated batch (see the module table).
pub fn dice_loss_from(conv: Convention, ev: &Evaluator) -> f64 {
    let (batch, ..) = ev.dim();
    let classes = ev.stats(0).len();
    let chans: std::ops::Range<usize> = match (ev.mode(), conv) {
        (Mode::Binary, _) => 1..2,
        (Mode::Multiclass, Convention::NnUnet) => 1..classes,
        (Mode::Multiclass, _) => 0..classes,
    };
    let nc = chans.len() as f64;
    match conv {
        Convention::Paper | Convention::Monai => {
            let smooth = if conv == Convention::Monai {
                MONAI_SMOOTH
            } else {
                0.0
            };
            let mut sum = 0.0;
            for b in 0..batch {
                let st = ev.stats(b);
                for k in chans.clone() {
                    sum += smoothed(st[k].tp, st[k].count, st[k].mass, smooth);
                }
            }
            1.0 - sum / (batch as f64 * nc)
        }
        Convention::Smp | Convention::NnUnet => {
            let mut total = 0.0;
            for k in chans.clone() {
                let pooled = (0..batch).fold(ClassStats::default(), |mut acc, b| {
                    let s = ev.stats(b)[k];
                    acc.count += s.count;
                    acc.tp += s.tp;
                    acc.mass += s.mass;
                    acc
                });
                total += class_term(conv, pooled.tp, pooled.count, pooled.mass);
            }
            // nnU-Net's terms are already negated per class.
            total / nc
        }
    }
}

/// The per-class contribution of the pooled presets: smp `(1 − score)·[Σy > 0]`, nnU-Net
/// `−score`.
fn class_term(conv: Convention, tp: f64, count: f64, mass: f64) -> f64 {
    match conv {
        Convention::Smp => {
            if count > 0.0 {
                1.0 - 2.0 * tp / (count + mass).max(SMP_EPS)
            } else {
                0.0
            }
        }
        Convention::NnUnet => {
            -(2.0 * tp + NNUNET_SMOOTH) / (count + mass + NNUNET_SMOOTH).max(NNUNET_CLIP)
        }
        Convention::Paper => 1.0 - smoothed(tp, count, mass, 0.0),
        Convention::Monai => 1.0 - smoothed(tp, count, mass, MONAI_SMOOTH),
    }
}

/// The Dice-loss term of `conv` on a batch: `logits (B, K, H, W)` (`K = 1` binary),
/// `labels (B, H, W)`, validated as by [`Evaluator::new`].
pub fn dice_loss<F: Copy + Into<f64>>(
    conv: Convention,
    logits: ArrayView4<F>,
    labels: ArrayView3<i64>,
) -> Result<f64, LossError> {
    let ev = Evaluator::new(logits, labels, RegionConfig::default())?;
    Ok(dice_loss_from(conv, &ev))
}

/// What training with `conv` minimises: the Dice term, plus CE (BCE in binary mode) for
/// nnU-Net.
pub fn training_loss_from(conv: Convention, ev: &Evaluator) -> f64 {
    let d = dice_loss_from(conv, ev);
    if conv.adds_ce() {
        d + ev.losses().ce
    } else {
        d
    }
}

impl Family {
    /// The Dice-loss term of `conv` at a family point, for one image of
    /// [`FamilyParams::pixels`](crate::FamilyParams) pixels (foreground channel only, see the
    /// module docs): `TP = N u m_fg`, `Σy = N u`, `Σs = N ŝ`. Pooling over a batch of copies of
    /// this image changes nothing, and the foreground is never absent (`u > 0`).
    pub fn dice_with(&self, conv: Convention, pt: &FamilyPoint) -> f64 {
        let p = self.params();
        let n = p.pixels;
        class_term(conv, n * p.u * pt.m_fg, n * p.u, n * pt.s_hat)
    }

    /// What training with `conv` minimises at a family point: [`Family::dice_with`], plus BCE
    /// for nnU-Net.
    pub fn training_loss_with(&self, conv: Convention, pt: &FamilyPoint) -> f64 {
        let d = self.dice_with(conv, pt);
        if conv.adds_ce() {
            d + pt.ce
        } else {
            d
        }
    }
}
