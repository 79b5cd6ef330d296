//! What each loss pushes: the gradient of every [`FamilyLoss`] with respect to one pixel's
//! logit, for a foreground and a background pixel of a binary image (THEORY.md, "Per-pixel
//! gradients").
//!
//! **The image (DiceLens's model).** A fraction `u` of the `N` pixels is foreground; every
//! foreground pixel predicts `p_fg = σ(z_fg)` and every background pixel `p_bg = σ(z_bg)`.
//! In fractions of `N`: label volume `Y = u`, soft size `S = u·p_fg + (1 − u)·p_bg`, soft true
//! positives `I = u·p_fg`, soft true negatives `(1 − u)(1 − p_bg)`, the region terms' size
//! `ŝ_T = u·σ(T z_fg) + (1 − u)·σ(T z_bg)` and `CE = −u log p_fg − (1 − u) log(1 − p_bg)`.
//!
//! **The gradients (the paper's losses, differentiated exactly).** Moving pixel `i`'s logit
//! `z_i` changes each of those fractions by `1/N` of the pixel's own change:
//! `∂S = s'_i/N`, `∂I = y_i s'_i/N`, `∂TN = −(1 − y_i) s'_i/N`, `∂ŝ_T = T s'_{T,i}/N`,
//! `∂CE = (s_i − y_i)/N`, with `s' = s(1 − s)`. So `N·∂L/∂z_i` is the chain rule through the
//! partial derivatives of the loss in those fractions, the same definitions and partials the
//! logit-shift family uses (`family::region_loss`: plain Dice `1 − 2I/(Y + S)`, the two-class
//! mean, `−log` of each, MONAI Dice+CE with smoothing `1e-5` and `N` pixels, CE+L1 and CE+KL on
//! SegLossBias's proportion `(N ŝ_T + 1e-10)/(N + 1e-10)`; `|·|` has derivative 0 at its kink).
//! `N·∂L/∂z_i` does not depend on `N` except through MONAI's and SegLossBias's tiny constants.
//!
//! For example CE gives `s_i − y_i` (bounded, the same at every `u`), and foreground Dice
//! `−2 (y_i (S + Y) − I)/(S + Y)² · s'_i`: a foreground pixel of a small structure whose
//! background predicts nearly 0 gets `−2 p(1 − p)/(u (1 + p)²)`, growing like `1/u` until `u`
//! is as small as the background's false-positive mass `(1 − u) p_bg`, where it levels off at
//! `−2 p(1 − p)/p_bg`.

use crate::biasmap::log_grid;
use crate::error::LossError;
use crate::family::{region_loss, FamilyLoss, FamilyParams, RegionStats};
use crate::special::sigmoid;

/// Smallest pixel probability accepted (`p_fg`, `p_bg`); the largest is `1 − P_MIN`.
pub const P_MIN: f64 = 1e-6;
/// Smallest `u` of the plotted curves.
pub const CURVE_U_LO: f64 = 0.001;
/// Largest `u` of the plotted curves.
pub const CURVE_U_HI: f64 = 0.5;
/// Points of the plotted curves.
pub const CURVE_POINTS: usize = 64;

/// The two-value binary image whose per-pixel gradients are computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradParams {
    /// Foreground proportion `u`, in `(0, 1)`.
    pub u: f64,
    /// Every foreground pixel's predicted probability, in `[P_MIN, 1 − P_MIN]`.
    pub p_fg: f64,
    /// Every background pixel's predicted probability, in `[P_MIN, 1 − P_MIN]`.
    pub p_bg: f64,
    /// Region-term weight `λ ≥ 0` (CE+L1, CE+KL).
    pub lambda: f64,
    /// Region-term temperature `T > 0`.
    pub temp: f64,
    /// Pixels `N ≥ 1` (only MONAI's smoothing and SegLossBias's eps see it).
    pub pixels: f64,
}

impl Default for GradParams {
    fn default() -> Self {
        Self {
            u: 0.1,
            p_fg: 0.7,
            p_bg: 0.05,
            lambda: 0.1,
            temp: 1.0,
            pixels: FamilyParams::default().pixels,
        }
    }
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

impl GradParams {
    /// Checks every parameter against its documented range.
    pub fn validate(&self) -> Result<(), LossError> {
        check(
            "u",
            self.u,
            self.u > 0.0 && self.u < 1.0,
            "must lie in (0, 1)",
        )?;
        let p_ok = |p: f64| (P_MIN..=1.0 - P_MIN).contains(&p);
        check(
            "p_fg",
            self.p_fg,
            p_ok(self.p_fg),
            "must lie in [1e-6, 1 - 1e-6]",
        )?;
        check(
            "p_bg",
            self.p_bg,
            p_ok(self.p_bg),
            "must lie in [1e-6, 1 - 1e-6]",
        )?;
        check("lambda", self.lambda, self.lambda >= 0.0, "must be >= 0")?;
        check("temperature", self.temp, self.temp > 0.0, "must be > 0")?;
        check("pixels", self.pixels, self.pixels >= 1.0, "must be >= 1")
    }

    /// The logits `(z_fg, z_bg)` of the two pixel values.
    pub fn logits(&self) -> (f64, f64) {
        (logit(self.p_fg), logit(self.p_bg))
    }

    /// `ŝ = u·p_fg + (1 − u)·p_bg`.
    pub fn s_hat(&self) -> f64 {
        self.u * self.p_fg + (1.0 - self.u) * self.p_bg
    }

    /// `ŝ_T = u·σ(T z_fg) + (1 − u)·σ(T z_bg)`, the region terms' proportion.
    pub fn s_hat_t(&self) -> f64 {
        let (zf, zb) = self.logits();
        self.u * sigmoid(self.temp * zf) + (1.0 - self.u) * sigmoid(self.temp * zb)
    }

    /// Plain foreground Dice `2I/(Y + S)` of the image.
    pub fn dice_fg(&self) -> f64 {
        2.0 * self.u * self.p_fg / (self.u + self.s_hat())
    }
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

/// The image's statistics in fractions of `N`.
fn stats(p: &GradParams) -> RegionStats {
    let u = p.u;
    RegionStats {
        y: u,
        tp: u * p.p_fg,
        tn: (1.0 - u) * (1.0 - p.p_bg),
        s_hat: p.s_hat(),
        s_hat_t: p.s_hat_t(),
        ce: -u * p.p_fg.ln() - (1.0 - u) * (1.0 - p.p_bg).ln(),
    }
}

/// The value of `loss` on the image (the definitions of [`crate::family`]), `NaN` where it is
/// undefined (log-Dice where a Dice coefficient is 0).
pub fn image_loss(p: GradParams, loss: FamilyLoss) -> Result<f64, LossError> {
    p.validate()?;
    let v = region_loss(loss, &stats(&p), p.lambda, p.pixels).0;
    Ok(if v.is_finite() { v } else { f64::NAN })
}

/// `N·∂L/∂z_i` of `loss` for a foreground pixel and a background pixel, `[fg, bg]`; `NaN`
/// where the loss is undefined.
pub fn pixel_gradient(p: GradParams, loss: FamilyLoss) -> Result<[f64; 2], LossError> {
    p.validate()?;
    Ok(gradient_unchecked(&p, loss))
}

/// `N·∂L/∂z_i` of every loss in [`FamilyLoss::ALL`] order, `(loss, [fg, bg])`.
pub fn pixel_gradients(p: GradParams) -> Result<Vec<(FamilyLoss, [f64; 2])>, LossError> {
    p.validate()?;
    Ok(FamilyLoss::ALL
        .iter()
        .map(|&l| (l, gradient_unchecked(&p, l)))
        .collect())
}

/// The chain rule through `region_loss`'s partials (see the module docs).
fn gradient_unchecked(p: &GradParams, loss: FamilyLoss) -> [f64; 2] {
    let st = stats(p);
    let (v, d) = region_loss(loss, &st, p.lambda, p.pixels);
    let (zf, zb) = p.logits();
    let t = p.temp;
    let pixel = |s: f64, y: f64, z: f64| {
        let ds = s * (1.0 - s);
        let st = sigmoid(t * z);
        let dst = t * st * (1.0 - st);
        d.tp * y * ds - d.tn * (1.0 - y) * ds + d.s_hat * ds + d.s_hat_t * dst + d.ce * (s - y)
    };
    let g = [pixel(p.p_fg, 1.0, zf), pixel(p.p_bg, 0.0, zb)];
    if v.is_finite() && g.iter().all(|x| x.is_finite()) {
        g
    } else {
        [f64::NAN; 2]
    }
}

/// The `u` grid of the plotted curves: [`CURVE_POINTS`] points spaced evenly in `log u` over
/// `[CURVE_U_LO, CURVE_U_HI]`.
pub fn curve_grid() -> Vec<f64> {
    log_grid(CURVE_U_LO, CURVE_U_HI, CURVE_POINTS)
}

/// Every loss's per-pixel gradients over a grid of `u`.
#[derive(Debug, Clone, PartialEq)]
pub struct GradCurves {
    /// The grid of `u`.
    pub us: Vec<f64>,
    /// `[fg, bg]` of each loss at each `u`, in [`FamilyLoss::ALL`] order.
    pub values: Vec<(FamilyLoss, Vec<[f64; 2]>)>,
    /// The parameters (`u` is the current one, marked on the plot).
    pub params: GradParams,
}

impl GradCurves {
    /// The curve of `loss`.
    pub fn curve(&self, loss: FamilyLoss) -> Option<&[[f64; 2]]> {
        self.values
            .iter()
            .find(|(l, _)| *l == loss)
            .map(|(_, v)| v.as_slice())
    }
}

/// [`pixel_gradients`] at every `u` of `us` (the other parameters from `p`; `p.u` is kept as
/// the current `u`). Refuses a `u` outside `(0, 1)`.
pub fn gradient_curves(p: GradParams, us: &[f64]) -> Result<GradCurves, LossError> {
    p.validate()?;
    let mut values: Vec<(FamilyLoss, Vec<[f64; 2]>)> = FamilyLoss::ALL
        .iter()
        .map(|&l| (l, Vec::with_capacity(us.len())))
        .collect();
    for &u in us {
        let q = GradParams { u, ..p };
        q.validate()?;
        for (l, v) in &mut values {
            v.push(gradient_unchecked(&q, *l));
        }
    }
    Ok(GradCurves {
        us: us.to_vec(),
        values,
        params: p,
    })
}
