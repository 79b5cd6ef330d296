//! The binary logit-shift family of THEORY.md.
//!
//! Pixel logits `z_i = κ(2y_i − 1) + σ ε_i + b` with `ε_i ~ N(0, 1)`; the shift `b` sweeps the
//! predicted proportion `ŝ(b)` from 0 to 1 monotonically. Expectations over `ε` use an
//! `M`-point quadrature per class, so a curve costs `O(points × M)` whatever the image size;
//! the pixel count `N` only enters MONAI's smoothing constants.
//!
//! The quadrature is the trapezoid rule on a uniform grid over `ε ∈ [−(8.5 + σ), 8.5 + σ]`
//! with weights `∝ φ(ε)`. Equal-weight mid-point quantiles were used first, but for a small
//! `u` the minimizers sit where `ŝ` is carried by the far tail (`σ(z) ≈ e^z` tilts the
//! Gaussian by `σ`), which `M` quantiles cannot resolve: at `M = 256` the foreground-Dice
//! `ŝ*/u` was 1.78 instead of 1.86 (`κ = 2, σ = 2, u = 0.005`). The weighted trapezoid rule
//! converges geometrically for these analytic integrands and gives the population limit to
//! about 1e-4 at `M = 64`.

use crate::error::LossError;
use crate::losses::{MONAI_SMOOTH, PROPORTION_EPS};
use crate::special::golden;
use crate::special::{mean_sigmoid_normal, sigmoid, xlogx_over_y};

/// Parameters of one family.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FamilyParams {
    /// Ground-truth foreground proportion, in `(0, 1)`.
    pub u: f64,
    /// Separation `κ ≥ 0` (prediction quality).
    pub kappa: f64,
    /// Noise `σ ≥ 0`.
    pub sigma: f64,
    /// Quadrature points per class (`M ≥ 1`).
    pub quad: usize,
    /// Pixels per image (only for MONAI's smoothing), `≥ 1`.
    pub pixels: f64,
    /// Region-term weight `λ ≥ 0`.
    pub lambda: f64,
    /// Region-term temperature `T > 0`.
    pub temp: f64,
}

impl Default for FamilyParams {
    fn default() -> Self {
        Self {
            u: 0.1,
            kappa: 0.5,
            sigma: 1.0,
            quad: 64,
            pixels: 65_536.0,
            lambda: 0.1,
            temp: 1.0,
        }
    }
}

/// The losses shown on the family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FamilyLoss {
    /// BCE.
    Ce,
    /// Foreground-only plain Dice loss `1 − Dice_fg`.
    DiceFg,
    /// Two-class mean plain Dice loss `1 − (Dice_fg + Dice_bg)/2`.
    DiceMean,
    /// `−log Dice_fg`.
    LogDiceFg,
    /// `−(log Dice_fg + log Dice_bg)/2`.
    LogDiceMean,
    /// MONAI `DiceCELoss(sigmoid=True)` for one channel: MONAI Dice (fg) + BCE.
    DiceCe,
    /// `BCE + λ |ŝ_T − u|`.
    CeL1,
    /// `BCE + λ KL(u ‖ ŝ_T)` (foreground + background).
    CeKl,
}

impl FamilyLoss {
    /// Every loss, in legend order.
    pub const ALL: [FamilyLoss; 8] = [
        FamilyLoss::Ce,
        FamilyLoss::DiceFg,
        FamilyLoss::DiceMean,
        FamilyLoss::LogDiceFg,
        FamilyLoss::LogDiceMean,
        FamilyLoss::DiceCe,
        FamilyLoss::CeL1,
        FamilyLoss::CeKl,
    ];

    /// Whether this loss's optimum along the family is exactly `ŝ* = u` at temperature
    /// `temp`: CE always (`∂CE/∂b = ŝ − u`), CE+L1 and CE+KL only at `T = 1`, where their term
    /// reads the same soft `ŝ` (THEORY.md, stationarity).
    pub fn sits_at_u(self, temp: f64) -> bool {
        self == FamilyLoss::Ce
            || (temp == 1.0 && matches!(self, FamilyLoss::CeL1 | FamilyLoss::CeKl))
    }

    /// Short key for test hooks, URLs and CSV headers.
    pub fn key(self) -> &'static str {
        match self {
            FamilyLoss::Ce => "ce",
            FamilyLoss::DiceFg => "dice-fg",
            FamilyLoss::DiceMean => "dice-mean",
            FamilyLoss::LogDiceFg => "log-dice-fg",
            FamilyLoss::LogDiceMean => "log-dice-mean",
            FamilyLoss::DiceCe => "dice-ce",
            FamilyLoss::CeL1 => "ce-l1",
            FamilyLoss::CeKl => "ce-kl",
        }
    }
}

/// Everything about the family at one shift `b`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FamilyPoint {
    /// The shift.
    pub b: f64,
    /// Predicted proportion `ŝ(b)`.
    pub s_hat: f64,
    /// Predicted proportion at the region temperature, `ŝ_T(b)`.
    pub s_hat_t: f64,
    /// Mean foreground confidence on the foreground, `m_fg`.
    pub m_fg: f64,
    /// Mean background confidence on the background, `m_bg`.
    pub m_bg: f64,
    /// BCE.
    pub ce: f64,
}

/// A validated family with its quadrature nodes.
#[derive(Debug, Clone)]
pub struct Family {
    p: FamilyParams,
    /// Quadrature nodes `ε_j` and weights `w_j` (summing to 1) for `E[f(ε)]`, `ε ~ N(0, 1)`.
    eps: Vec<f64>,
    weights: Vec<f64>,
}

/// `M` nodes of the trapezoid rule for `ε ~ N(0, 1)` on `[−L, L]`, `L = 8.5 + σ`, weights
/// `∝ φ(ε)` normalised to sum 1 (`M = 1`: the single node 0). Shared with
/// [`crate::landscape`], which refines it for sharp sigmoids.
pub(crate) fn normal_nodes(m: usize, sigma: f64) -> (Vec<f64>, Vec<f64>) {
    if m == 1 {
        return (vec![0.0], vec![1.0]);
    }
    let half = 8.5 + sigma;
    let h = 2.0 * half / (m - 1) as f64;
    let eps: Vec<f64> = (0..m).map(|j| -half + h * j as f64).collect();
    let mut weights: Vec<f64> = eps.iter().map(|e| (-0.5 * e * e).exp()).collect();
    let total: f64 = weights.iter().sum();
    for w in &mut weights {
        *w /= total;
    }
    (eps, weights)
}

/// A loss's minimizer along the family.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Minimizer {
    /// The minimizing shift.
    pub b: f64,
    /// `ŝ*`.
    pub s_hat: f64,
    /// The loss there.
    pub value: f64,
    /// `ŝ*/u`.
    pub ratio: f64,
}

/// Loss curves sampled along the family.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyCurves {
    /// The sampled points (increasing `b`, hence increasing `ŝ`).
    pub points: Vec<FamilyPoint>,
    /// One curve per loss in [`FamilyLoss::ALL`] order.
    pub values: Vec<(FamilyLoss, Vec<f64>)>,
}

fn check(name: &'static str, value: f64, ok: bool, reason: &'static str) -> Result<(), LossError> {
    if ok && value.is_finite() {
        Ok(())
    } else {
        Err(LossError::BadParameter {
            name,
            value,
            reason,
        })
    }
}

impl Family {
    /// Validates the parameters and builds the quadrature.
    pub fn new(p: FamilyParams) -> Result<Self, LossError> {
        check("u", p.u, p.u > 0.0 && p.u < 1.0, "must lie in (0, 1)")?;
        check("kappa", p.kappa, p.kappa >= 0.0, "must be >= 0")?;
        check("sigma", p.sigma, p.sigma >= 0.0, "must be >= 0")?;
        check("pixels", p.pixels, p.pixels >= 1.0, "must be >= 1")?;
        check("lambda", p.lambda, p.lambda >= 0.0, "must be >= 0")?;
        check("temperature", p.temp, p.temp > 0.0, "must be > 0")?;
        check(
            "quad",
            p.quad as f64,
            (1..=100_000).contains(&p.quad),
            "must be between 1 and 100000",
        )?;
        let (eps, weights) = normal_nodes(p.quad, p.sigma);
        Ok(Self { p, eps, weights })
    }

    /// The parameters.
    pub fn params(&self) -> FamilyParams {
        self.p
    }

    /// The quadrature nodes `ε_j` and weights `w_j` (shared with [`crate::landscape`]).
    pub(crate) fn nodes(&self) -> (&[f64], &[f64]) {
        (&self.eps, &self.weights)
    }

    /// `E[σ(T·z)]` over the foreground and over the background pixels at shift `b` and
    /// temperature `temp`, by [`mean_sigmoid_normal`] (accurate to about 1e-5 at any `T`; the
    /// quadrature is not at `T ≠ 1`). The one place the family's `ŝ_T` is computed apart from
    /// its quadrature: `at`, `at_each`, the temperature and the pooled views all call it.
    pub fn sharpened_means(&self, b: f64, temp: f64) -> (f64, f64) {
        let FamilyParams { kappa, sigma, .. } = self.p;
        (
            mean_sigmoid_normal(kappa + b, sigma, temp),
            mean_sigmoid_normal(b - kappa, sigma, temp),
        )
    }

    /// The family at shift `b`.
    pub fn at(&self, b: f64) -> FamilyPoint {
        let FamilyParams {
            u,
            kappa,
            sigma,
            temp,
            ..
        } = self.p;
        let fg = class_sums(
            &self.eps,
            &self.weights,
            Class {
                centre: kappa,
                sigma,
                t: 1.0,
                b,
                // ŝ_T is computed below; the sums need only T = 1.
                temp: 1.0,
            },
            Need::POS,
        );
        let bg = class_sums(
            &self.eps,
            &self.weights,
            Class {
                centre: -kappa,
                sigma,
                t: 1.0,
                b,
                // ŝ_T is computed below; the sums need only T = 1.
                temp: 1.0,
            },
            Need::NEG,
        );
        let (m_fg, fg_on_bg) = (fg.s, bg.s);
        // At T ≠ 1 the sharpened sigmoid is step-like in ε and the M-point quadrature is off
        // by up to a few percent (at T = 10 it moved CE+KL's optimum from 1.198× to 1.193× u
        // and left spurious local minima); `mean_sigmoid_normal` is accurate to about 1e-5
        // and is what the temperature and pooled views use, so every view quotes one number.
        let s_hat_t = if temp == 1.0 {
            u * fg.s_t + (1.0 - u) * bg.s_t
        } else {
            let (fg_t, bg_t) = self.sharpened_means(b, temp);
            u * fg_t + (1.0 - u) * bg_t
        };
        FamilyPoint {
            b,
            s_hat: u * m_fg + (1.0 - u) * fg_on_bg,
            s_hat_t,
            m_fg,
            m_bg: 1.0 - fg_on_bg,
            ce: u * fg.neg_log_s + (1.0 - u) * bg.neg_log_1s,
        }
    }

    /// The family at shift `b` for several ground-truth proportions `us` (the class sums do
    /// not depend on `u`: one quadrature pass serves every image of a batch). Equal to
    /// `Family::new(FamilyParams { u, ..p }).at(b)` for each `u`.
    pub fn at_each(&self, b: f64, us: &[f64]) -> Vec<FamilyPoint> {
        let FamilyParams {
            kappa, sigma, temp, ..
        } = self.p;
        let class = |centre: f64, need: Need| {
            class_sums(
                &self.eps,
                &self.weights,
                Class {
                    centre,
                    sigma,
                    t: 1.0,
                    b,
                    temp: 1.0,
                },
                need,
            )
        };
        let fg = class(kappa, Need::POS);
        let bg = class(-kappa, Need::NEG);
        // ŝ_T as in `at`: the quadrature's at T = 1, `mean_sigmoid_normal` otherwise.
        let (st_fg, st_bg) = if temp == 1.0 {
            (fg.s_t, bg.s_t)
        } else {
            self.sharpened_means(b, temp)
        };
        us.iter()
            .map(|&u| FamilyPoint {
                b,
                s_hat: u * fg.s + (1.0 - u) * bg.s,
                s_hat_t: u * st_fg + (1.0 - u) * st_bg,
                m_fg: fg.s,
                m_bg: 1.0 - bg.s,
                ce: u * fg.neg_log_s + (1.0 - u) * bg.neg_log_1s,
            })
            .collect()
    }

    /// The value of `loss` at a family point.
    pub fn loss(&self, loss: FamilyLoss, pt: &FamilyPoint) -> f64 {
        let u = self.p.u;
        let stats = RegionStats {
            y: u,
            tp: u * pt.m_fg,
            tn: (1.0 - u) * pt.m_bg,
            s_hat: pt.s_hat,
            s_hat_t: pt.s_hat_t,
            ce: pt.ce,
        };
        region_loss(loss, &stats, self.p.lambda, self.p.pixels).0
    }

    /// The thresholded proportion at shift `b`: the fraction of pixels with `z > 0`,
    /// `u·Φ((κ + b)/σ) + (1 − u)·Φ((b − κ)/σ)` (at `σ = 0` a step: a class counts when its
    /// logit `±κ + b` is positive). Exact, not by quadrature.
    pub fn hard_proportion(&self, b: f64) -> f64 {
        let FamilyParams {
            u, kappa, sigma, ..
        } = self.p;
        let frac = |centre: f64| {
            let z = centre + b;
            if sigma == 0.0 {
                if z > 0.0 {
                    1.0
                } else {
                    0.0
                }
            } else {
                crate::special::normal_cdf(z / sigma)
            }
        };
        u * frac(kappa) + (1.0 - u) * frac(-kappa)
    }

    /// A shift range wide enough that `ŝ` runs from about 1e-6 to 1 − 1e-6.
    pub fn shift_range(&self) -> (f64, f64) {
        let w = self.p.kappa + 6.0 * self.p.sigma + 14.0;
        (-w, w)
    }

    /// The shift `b` with `ŝ(b) = target` (bisection; `ŝ` is increasing in `b`).
    pub fn shift_for(&self, target: f64) -> f64 {
        let (mut lo, mut hi) = self.shift_range();
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if self.at(mid).s_hat < target {
                lo = mid;
            } else {
                hi = mid;
            }
            if hi - lo < 1e-13 {
                break;
            }
        }
        0.5 * (lo + hi)
    }

    /// Samples the family at `points` shifts spaced evenly in `ŝ` over `[lo, hi]`.
    pub fn curves(&self, points: usize, s_lo: f64, s_hi: f64) -> FamilyCurves {
        let points = points.max(2);
        let pts: Vec<FamilyPoint> = (0..points)
            .map(|j| {
                let target = s_lo + (s_hi - s_lo) * j as f64 / (points - 1) as f64;
                self.at(self.shift_for(target))
            })
            .collect();
        let values = FamilyLoss::ALL
            .iter()
            .map(|&l| (l, pts.iter().map(|p| self.loss(l, p)).collect()))
            .collect();
        FamilyCurves {
            points: pts,
            values,
        }
    }

    /// The minimizer of `loss` over `b`: a grid search, then golden-section refinement.
    pub fn minimize(&self, loss: FamilyLoss) -> Minimizer {
        let (lo, hi) = self.shift_range();
        let f = |b: f64| self.loss(loss, &self.at(b));
        let steps = 240;
        let h = (hi - lo) / steps as f64;
        let (mut best, mut best_v) = (0, f64::INFINITY);
        for j in 0..=steps {
            let v = f(lo + h * j as f64);
            if v < best_v {
                best = j;
                best_v = v;
            }
        }
        let a = lo + h * (best.max(1) - 1) as f64;
        let c = lo + h * (best + 1).min(steps) as f64;
        let b = golden(&f, a, c, 1e-10);
        let pt = self.at(b);
        Minimizer {
            b,
            s_hat: pt.s_hat,
            value: self.loss(loss, &pt),
            ratio: pt.s_hat / self.p.u,
        }
    }

    /// Each class's CE matching term at shift `b`, `(C_bg, C_fg)`:
    /// `C_fg = E[−log σ(z)]` on the foreground, `C_bg = E[−log(1 − σ(z))]` on the background.
    pub fn class_ce(&self, b: f64) -> (f64, f64) {
        let FamilyParams { kappa, sigma, .. } = self.p;
        let class = |centre: f64, need: Need| {
            let c = Class {
                centre,
                sigma,
                t: 1.0,
                b,
                temp: 1.0,
            };
            class_sums(&self.eps, &self.weights, c, need)
        };
        (
            class(-kappa, Need::NEG).neg_log_1s,
            class(kappa, Need::POS).neg_log_s,
        )
    }

    /// The parts of CE and of each class's `−log Dice` at a family point (THEORY.md, "The two
    /// decompositions"), the two classes being background and foreground, plus the
    /// `λ`-weighted extras of CE+L1 and CE+KL. See [`FamilyDecomposition`] for the identities.
    pub fn decomposition(&self, pt: &FamilyPoint) -> FamilyDecomposition {
        let u = self.p.u;
        let (c_bg, c_fg) = self.class_ce(pt.b);
        let us = [1.0 - u, u];
        let ss = [1.0 - pt.s_hat, pt.s_hat];
        let ms = [pt.m_bg, pt.m_fg];
        let cs = [c_bg, c_fg];
        let parts = |k: usize| {
            let dice = 2.0 * us[k] * ms[k] / (us[k] + ss[k]);
            ClassParts {
                u: us[k],
                s_hat: ss[k],
                m: ms[k],
                neg_log_m: -ms[k].ln(),
                region: ((us[k] + ss[k]) / (2.0 * us[k])).ln(),
                ce_matching: cs[k],
                dice,
                neg_log_dice: -dice.ln(),
            }
        };
        let (mut ce, mut kl, mut nlp, mut gap, mut ent) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for k in 0..2 {
            ce += us[k] * cs[k];
            kl += us[k] * (us[k] / ss[k]).ln();
            nlp -= us[k] * (us[k] * ms[k] / ss[k]).ln();
            gap += us[k] * (cs[k] + ms[k].ln());
            ent -= us[k] * us[k].ln();
        }
        let ce_l1 = self.loss(FamilyLoss::CeL1, pt);
        let ce_kl = self.loss(FamilyLoss::CeKl, pt);
        FamilyDecomposition {
            b: pt.b,
            ce,
            kl,
            neg_log_precision: nlp,
            jensen_gap: gap,
            entropy: ent,
            neg_info: ce - ent - kl,
            classes: [parts(0), parts(1)],
            lambda: self.p.lambda,
            l1_extra: ce_l1 - pt.ce,
            kl_extra: ce_kl - pt.ce,
            ce_l1,
            ce_kl,
        }
    }
}

/// One class of pixels of the (generalised) family: logits `y = t·(centre + σ ε) + b`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Class {
    pub centre: f64,
    pub sigma: f64,
    pub t: f64,
    pub b: f64,
    pub temp: f64,
}

/// Which sums [`class_sums`] computes (`s` and `s_T` always).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Need {
    /// `E[−log s]`.
    pub pos: bool,
    /// `E[−log(1 − s)]`.
    pub neg: bool,
    /// Derivatives in `b` and `ln t`.
    pub grad: bool,
}

impl Need {
    pub const POS: Need = Need {
        pos: true,
        neg: false,
        grad: false,
    };
    pub const NEG: Need = Need {
        pos: false,
        neg: true,
        grad: false,
    };
}

/// Quadrature expectations over one class, `s = σ(y)`, `s_T = σ(T y)`, and (when asked)
/// their derivatives `[∂/∂b, ∂/∂ln t]` (with `v = t·z`, `∂y/∂b = 1`, `∂y/∂ln t = v`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ClassSums {
    pub s: f64,
    pub s_t: f64,
    pub neg_log_s: f64,
    pub neg_log_1s: f64,
    pub d_s: [f64; 2],
    pub d_s_t: [f64; 2],
    pub d_neg_log_s: [f64; 2],
    pub d_neg_log_1s: [f64; 2],
}

/// The expectations of one class by the quadrature `(eps, weights)`. At `t = 1` the sums are
/// accumulated exactly as the family always did (same operations, same order).
pub(crate) fn class_sums(eps: &[f64], weights: &[f64], c: Class, need: Need) -> ClassSums {
    let mut o = ClassSums::default();
    for (&e, &w) in eps.iter().zip(weights) {
        let v = c.t * (c.centre + c.sigma * e);
        let y = v + c.b;
        // One exponential serves σ(±y) and log σ(±y), bit for bit as `sigmoid` and
        // `log_sigmoid` compute them.
        let ex = (-y.abs()).exp();
        let d = 1.0 + ex;
        let (s, sm) = if y >= 0.0 {
            (1.0 / d, if y == 0.0 { 1.0 / d } else { ex / d })
        } else {
            (ex / d, 1.0 / d)
        };
        let yt = c.temp * y;
        let (st, stm) = if c.temp == 1.0 {
            (s, sm)
        } else {
            (sigmoid(yt), sigmoid(-yt))
        };
        o.s += w * s;
        o.s_t += w * st;
        if need.pos || need.neg {
            let l = ex.ln_1p();
            if need.pos {
                // log σ(y) = −softplus(−y).
                o.neg_log_s -= w * if y < 0.0 { -((-y) + l) } else { -l };
            }
            if need.neg {
                // log σ(−y) = −softplus(y).
                o.neg_log_1s -= w * if y > 0.0 { -(y + l) } else { -l };
            }
        }
        if need.grad {
            // σ'(y) = σ(y)σ(−y), evaluated without cancellation.
            let ds = s * sm;
            let dst = c.temp * st * stm;
            o.d_s[0] += w * ds;
            o.d_s[1] += w * ds * v;
            o.d_s_t[0] += w * dst;
            o.d_s_t[1] += w * dst * v;
            // d(−log σ(y))/dy = −σ(−y); d(−log σ(−y))/dy = σ(y).
            o.d_neg_log_s[0] -= w * sm;
            o.d_neg_log_s[1] -= w * sm * v;
            o.d_neg_log_1s[0] += w * s;
            o.d_neg_log_1s[1] += w * s * v;
        }
    }
    o
}

/// Population statistics of a binary prediction from which every [`FamilyLoss`] follows:
/// label volume `Y`, expected `TP = E Σ y s / N`, `TN = E Σ (1 − y)(1 − s) / N`, `ŝ`, `ŝ_T`, CE.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RegionStats {
    pub y: f64,
    pub tp: f64,
    pub tn: f64,
    pub s_hat: f64,
    pub s_hat_t: f64,
    pub ce: f64,
}

/// Partial derivatives of a loss with respect to the [`RegionStats`] that vary (`Y` does not).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct RegionPartials {
    pub tp: f64,
    pub tn: f64,
    pub s_hat: f64,
    pub s_hat_t: f64,
    pub ce: f64,
}

/// The value of `loss` from the statistics, and its partial derivatives (shared by
/// [`Family::loss`] and [`crate::landscape`]):
/// `Dice_fg = 2TP/(Y + ŝ)`, `Dice_bg = 2TN/(2 − Y − ŝ)`, MONAI
/// `(2N·TP + 1e-5)/(N(Y + ŝ) + 1e-5)`, the L1 / KL terms on SegLossBias's proportion
/// `(N ŝ_T + 1e-10)/(N + 1e-10)`. `|·|` has derivative 0 at its kink.
pub(crate) fn region_loss(
    loss: FamilyLoss,
    st: &RegionStats,
    lambda: f64,
    pixels: f64,
) -> (f64, RegionPartials) {
    let RegionStats {
        y,
        tp,
        tn,
        s_hat,
        s_hat_t,
        ce,
    } = *st;
    let mut d = RegionPartials::default();
    let den_fg = y + s_hat;
    let den_bg = 2.0 - y - s_hat;
    let d_fg = 2.0 * tp / den_fg;
    let d_bg = 2.0 * tn / den_bg;
    let prop_scale = pixels / (pixels + PROPORTION_EPS);
    let proportion = |s: f64| (s * pixels + PROPORTION_EPS) / (pixels + PROPORTION_EPS);
    let v = match loss {
        FamilyLoss::Ce => {
            d.ce = 1.0;
            ce
        }
        FamilyLoss::DiceFg => {
            d.tp = -2.0 / den_fg;
            d.s_hat = d_fg / den_fg;
            1.0 - d_fg
        }
        FamilyLoss::DiceMean => {
            d.tp = -1.0 / den_fg;
            d.tn = -1.0 / den_bg;
            d.s_hat = 0.5 * (d_fg / den_fg - d_bg / den_bg);
            1.0 - 0.5 * (d_fg + d_bg)
        }
        FamilyLoss::LogDiceFg => {
            d.tp = -1.0 / tp;
            d.s_hat = 1.0 / den_fg;
            -d_fg.ln()
        }
        FamilyLoss::LogDiceMean => {
            d.tp = -0.5 / tp;
            d.tn = -0.5 / tn;
            d.s_hat = 0.5 * (1.0 / den_fg - 1.0 / den_bg);
            -0.5 * (d_fg.ln() + d_bg.ln())
        }
        FamilyLoss::DiceCe => {
            let num = 2.0 * pixels * tp + MONAI_SMOOTH;
            let den = pixels * den_fg + MONAI_SMOOTH;
            let monai = num / den;
            d.tp = -2.0 * pixels / den;
            d.s_hat = monai * pixels / den;
            d.ce = 1.0;
            1.0 - monai + ce
        }
        FamilyLoss::CeL1 => {
            let r = proportion(s_hat_t) - y;
            let sign = if r > 0.0 {
                1.0
            } else if r < 0.0 {
                -1.0
            } else {
                0.0
            };
            d.ce = 1.0;
            d.s_hat_t = lambda * sign * prop_scale;
            ce + lambda * r.abs()
        }
        FamilyLoss::CeKl => {
            let s = proportion(s_hat_t);
            let s_bg = ((1.0 - s_hat_t) * pixels + PROPORTION_EPS) / (pixels + PROPORTION_EPS);
            // d/ds [x log(x/s)] = −x/s (0 when x = 0).
            let dfg = if y > 0.0 { -y / s } else { 0.0 };
            let dbg = if y < 1.0 { (1.0 - y) / s_bg } else { 0.0 };
            d.ce = 1.0;
            d.s_hat_t = lambda * (dfg + dbg) * prop_scale;
            ce + lambda * (xlogx_over_y(y, s) + xlogx_over_y(1.0 - y, s_bg))
        }
    };
    (v, d)
}

/// One class's parts at a family point (binary: class 0 background, class 1 foreground).
///
/// `neg_log_dice = neg_log_m + region` exactly (THEORY.md), and `neg_log_m ≤ ce_matching`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassParts {
    /// `u_k`.
    pub u: f64,
    /// `ŝ_k`.
    pub s_hat: f64,
    /// Mean confidence on the true region, `m_k`.
    pub m: f64,
    /// Dice's matching term `−log m_k`.
    pub neg_log_m: f64,
    /// Dice's region term `log((u_k + ŝ_k)/(2u_k))` (either sign).
    pub region: f64,
    /// CE's matching term `C_k = E[−log s_k]` on the true region.
    pub ce_matching: f64,
    /// Plain `Dice_k = 2 u_k m_k/(u_k + ŝ_k)`.
    pub dice: f64,
    /// `−log Dice_k`.
    pub neg_log_dice: f64,
}

/// The parts of CE and of `−log Dice_k` at one point of the binary family, treated as two
/// classes `[background, foreground]` (population values, by the family's quadrature).
///
/// Identities (exact up to rounding): `ce = kl + neg_log_precision + jensen_gap` (all `≥ 0`),
/// `ce = entropy + kl + neg_info`, `classes[k].neg_log_dice = classes[k].neg_log_m +
/// classes[k].region`, `ce_l1 = ce + l1_extra`, `ce_kl = ce + kl_extra`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FamilyDecomposition {
    /// The shift `b` of the point.
    pub b: f64,
    /// BCE `= Σ_k u_k C_k`.
    pub ce: f64,
    /// `KL(u ‖ ŝ)` over the two classes: CE's region term.
    pub kl: f64,
    /// `Σ_k u_k (−log prec_k)`, `prec_k = u_k m_k/ŝ_k`.
    pub neg_log_precision: f64,
    /// Jensen gap `Σ_k u_k (C_k + log m_k)`.
    pub jensen_gap: f64,
    /// `H(u)`.
    pub entropy: f64,
    /// `−Î = ce − H(u) − KL(u‖ŝ)` (either sign).
    pub neg_info: f64,
    /// `[background, foreground]`.
    pub classes: [ClassParts; 2],
    /// The region weight `λ`.
    pub lambda: f64,
    /// `λ·|ŝ_T − u|` as in [`FamilyLoss::CeL1`].
    pub l1_extra: f64,
    /// `λ·KL(u‖ŝ_T)` as in [`FamilyLoss::CeKl`].
    pub kl_extra: f64,
    /// `CE + λ L1`.
    pub ce_l1: f64,
    /// `CE + λ KL`.
    pub ce_kl: f64,
}
