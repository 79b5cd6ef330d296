//! The landscape's model: parameters, validation and point evaluations (see the module
//! [`super`] for the formulas and the quadrature).

use crate::error::LossError;
use crate::family::{
    class_sums, normal_nodes, region_loss, Class, ClassSums, Family, FamilyLoss, FamilyParams,
    Need, RegionStats,
};
use crate::special::sigmoid;

/// Most quadrature nodes per class of a point evaluation.
pub const MAX_NODES: usize = 8192;

/// Parameters of a landscape: the family's, plus the ambiguous pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LandscapeParams {
    /// Foreground proportion of the certain pixels, in `(0, 1)`.
    pub u: f64,
    /// Separation `κ ≥ 0`.
    pub kappa: f64,
    /// Noise `σ ≥ 0`.
    pub sigma: f64,
    /// Region-term weight `λ ≥ 0` (CE+L1, CE+KL).
    pub lambda: f64,
    /// Region-term temperature `T > 0`.
    pub temp: f64,
    /// Fraction `a ∈ [0, 1]` of ambiguous pixels (0: the plain family).
    pub amb_a: f64,
    /// Probability `p ∈ [0, 1]` that an ambiguous pixel is labelled foreground.
    pub amb_p: f64,
    /// Centre of the ambiguous pixels' `z` (default 0, half-way between `−κ` and `κ`).
    pub amb_centre: f64,
    /// Quadrature points per class at `t ≤ 1` (the family's `M`).
    pub quad: usize,
    /// Pixels per image (smoothing constants only).
    pub pixels: f64,
}

impl Default for LandscapeParams {
    fn default() -> Self {
        let f = FamilyParams::default();
        Self {
            u: f.u,
            kappa: f.kappa,
            sigma: f.sigma,
            lambda: f.lambda,
            temp: f.temp,
            amb_a: 0.0,
            amb_p: 0.3,
            amb_centre: 0.0,
            quad: f.quad,
            pixels: f.pixels,
        }
    }
}

impl LandscapeParams {
    /// The family's parameters (`a`, `p` and the centre dropped).
    pub fn family(&self) -> FamilyParams {
        FamilyParams {
            u: self.u,
            kappa: self.kappa,
            sigma: self.sigma,
            quad: self.quad,
            pixels: self.pixels,
            lambda: self.lambda,
            temp: self.temp,
        }
    }

    /// The parameters clamped into their valid ranges (non-finite values take the default):
    /// `u ∈ [1e-6, 1 − 1e-6]`, `κ ∈ [0, 50]`, `σ ∈ [0, 20]`, `λ ∈ [0, 1e3]`, `T ∈ [1e-3, 1e3]`,
    /// `a, p ∈ [0, 1]`, centre `∈ [−50, 50]`, `quad ∈ [1, 4096]`, `pixels ∈ [1, 1e12]`.
    pub fn clamped(&self) -> Self {
        let d = Self::default();
        let c =
            |v: f64, dv: f64, lo: f64, hi: f64| if v.is_finite() { v.clamp(lo, hi) } else { dv };
        Self {
            u: c(self.u, d.u, 1e-6, 1.0 - 1e-6),
            kappa: c(self.kappa, d.kappa, 0.0, 50.0),
            sigma: c(self.sigma, d.sigma, 0.0, 20.0),
            lambda: c(self.lambda, d.lambda, 0.0, 1e3),
            temp: c(self.temp, d.temp, 1e-3, 1e3),
            amb_a: c(self.amb_a, d.amb_a, 0.0, 1.0),
            amb_p: c(self.amb_p, d.amb_p, 0.0, 1.0),
            amb_centre: c(self.amb_centre, d.amb_centre, -50.0, 50.0),
            quad: self.quad.clamp(1, 4096),
            pixels: c(self.pixels, d.pixels, 1.0, 1e12),
        }
    }

    /// Label volume `Y = (1 − a)u + a p` (the ground-truth foreground proportion).
    pub fn label_volume(&self) -> f64 {
        (1.0 - self.amb_a) * self.u + self.amb_a * self.amb_p
    }
}

/// A box of `(b, ln t)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    /// Range of the shift `b`.
    pub b: (f64, f64),
    /// Range of `ln t`.
    pub log_t: (f64, f64),
}

/// A validated landscape with the family's quadrature.
#[derive(Debug, Clone)]
pub struct Landscape {
    p: LandscapeParams,
    family: Family,
}

fn bad(name: &'static str, value: f64, reason: &'static str) -> LossError {
    LossError::BadParameter {
        name,
        value,
        reason,
    }
}

/// Everything the pointer readout shows at one `(b, ln t)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LandscapePoint {
    /// Shift.
    pub b: f64,
    /// `ln t`.
    pub log_t: f64,
    /// Predicted proportion `ŝ`.
    pub s_hat: f64,
    /// Label volume `Y` (the target of `ŝ`; `u` without ambiguous pixels).
    pub label_volume: f64,
    /// Mean confidence `E[max(s, 1 − s)]` over all pixels, in `[0.5, 1]`.
    pub confidence: f64,
    /// Mean predicted probability on the ambiguous pixels (`NaN` when `a = 0`).
    pub s_ambiguous: f64,
}

/// The pixel classes: `(centre, weight)`, then the weights that enter `TP` and `TN`.
pub(super) struct Mix {
    pub(super) centres: [f64; 3],
    /// Share of each class in the image.
    pub(super) w: [f64; 3],
    /// Share of each class that is foreground (`1`, `0`, `p`).
    pub(super) fg: [f64; 3],
    pub(super) n: usize,
}

impl Mix {
    pub(super) fn new(p: &LandscapeParams) -> Self {
        let a = p.amb_a;
        Mix {
            centres: [p.kappa, -p.kappa, p.amb_centre],
            w: [(1.0 - a) * p.u, (1.0 - a) * (1.0 - p.u), a],
            fg: [1.0, 0.0, p.amb_p],
            n: if a > 0.0 { 3 } else { 2 },
        }
    }
}

impl Landscape {
    /// Validates the parameters (the family's rules, `a, p ∈ [0, 1]`, a finite centre).
    pub fn new(p: LandscapeParams) -> Result<Self, LossError> {
        let family = Family::new(p.family())?;
        if !(p.amb_a.is_finite() && (0.0..=1.0).contains(&p.amb_a)) {
            return Err(bad("amb_a", p.amb_a, "must lie in [0, 1]"));
        }
        if !(p.amb_p.is_finite() && (0.0..=1.0).contains(&p.amb_p)) {
            return Err(bad("amb_p", p.amb_p, "must lie in [0, 1]"));
        }
        if !p.amb_centre.is_finite() {
            return Err(bad("amb_centre", p.amb_centre, "must be finite"));
        }
        Ok(Self { p, family })
    }

    /// A landscape from any parameters, clamped first ([`LandscapeParams::clamped`]).
    pub fn clamped(p: &LandscapeParams) -> Self {
        Self::new(p.clamped()).unwrap_or_else(|_| {
            Self::new(LandscapeParams::default()).expect("the defaults are valid")
        })
    }

    /// The parameters.
    pub fn params(&self) -> LandscapeParams {
        self.p
    }

    /// The quadrature at scale `t`: the family's nodes, or the refined rule (see the module).
    fn with_nodes<R>(&self, t: f64, f: impl FnOnce(&[f64], &[f64]) -> R) -> R {
        let (eps, w) = self.family.nodes();
        let m = eps.len();
        let sigma = self.p.sigma;
        if m < 2 || sigma == 0.0 {
            return f(eps, w);
        }
        let half = 8.5 + sigma;
        let h = 2.0 * half / (m - 1) as f64;
        // The sharpest integrand is σ(T·y) when T > 1.
        let sharp = self.p.temp.max(1.0);
        let target = (sigma * h * sharp).max(0.75);
        if t * sigma * h * sharp <= target {
            return f(eps, w);
        }
        let need = (2.0 * half * t * sigma * sharp / target).ceil() + 1.0;
        let m2 = if need.is_finite() {
            (need as usize).clamp(m, MAX_NODES)
        } else {
            MAX_NODES
        };
        let (e2, w2) = normal_nodes(m2, sigma);
        f(&e2, &w2)
    }

    fn sums(&self, b: f64, log_t: f64, grad: bool) -> ([ClassSums; 3], usize) {
        let t = log_t.exp();
        let mix = Mix::new(&self.p);
        let mut out = [ClassSums::default(); 3];
        self.with_nodes(t, |eps, w| {
            for (k, o) in out.iter_mut().enumerate().take(mix.n) {
                let c = Class {
                    centre: mix.centres[k],
                    sigma: self.p.sigma,
                    t,
                    b,
                    temp: self.p.temp,
                };
                let need = Need {
                    pos: mix.fg[k] > 0.0,
                    neg: mix.fg[k] < 1.0,
                    grad,
                };
                *o = class_sums(eps, w, c, need);
            }
        });
        (out, mix.n)
    }

    fn stats(&self, c: &[ClassSums; 3]) -> (RegionStats, [RegionStats; 2]) {
        let mix = Mix::new(&self.p);
        let [wf, wb, wa] = mix.w;
        let p = self.p.amb_p;
        // Sums of normalised weights can exceed 1 by an ulp; keep 1 − s ≥ 0.
        let mut c = *c;
        for k in &mut c {
            k.s = k.s.clamp(0.0, 1.0);
            k.s_t = k.s_t.clamp(0.0, 1.0);
        }
        let [f, g, a] = &c;
        let st = RegionStats {
            y: self.p.label_volume(),
            tp: wf * f.s + wa * p * a.s,
            tn: wb * (1.0 - g.s) + wa * (1.0 - p) * (1.0 - a.s),
            s_hat: wf * f.s + wb * g.s + wa * a.s,
            s_hat_t: wf * f.s_t + wb * g.s_t + wa * a.s_t,
            ce: wf * f.neg_log_s
                + wb * g.neg_log_1s
                + wa * (p * a.neg_log_s + (1.0 - p) * a.neg_log_1s),
        };
        let mut d = [st; 2];
        for (k, dk) in d.iter_mut().enumerate() {
            *dk = RegionStats {
                y: 0.0,
                tp: wf * f.d_s[k] + wa * p * a.d_s[k],
                tn: -wb * g.d_s[k] - wa * (1.0 - p) * a.d_s[k],
                s_hat: wf * f.d_s[k] + wb * g.d_s[k] + wa * a.d_s[k],
                s_hat_t: wf * f.d_s_t[k] + wb * g.d_s_t[k] + wa * a.d_s_t[k],
                ce: wf * f.d_neg_log_s[k]
                    + wb * g.d_neg_log_1s[k]
                    + wa * (p * a.d_neg_log_s[k] + (1.0 - p) * a.d_neg_log_1s[k]),
            };
        }
        (st, d)
    }

    /// The loss at `(b, ln t)`.
    pub fn value(&self, loss: FamilyLoss, b: f64, log_t: f64) -> f64 {
        let (c, _) = self.sums(b, log_t, false);
        let (st, _) = self.stats(&c);
        region_loss(loss, &st, self.p.lambda, self.p.pixels).0
    }

    /// The loss and its analytic gradient `[∂/∂b, ∂/∂ln t]` at `(b, ln t)`.
    pub fn value_grad(&self, loss: FamilyLoss, b: f64, log_t: f64) -> (f64, [f64; 2]) {
        let (c, _) = self.sums(b, log_t, true);
        let (st, d) = self.stats(&c);
        let (v, pd) = region_loss(loss, &st, self.p.lambda, self.p.pixels);
        let chain = |ds: &RegionStats| {
            // Skip zero partials so that an infinite partial times a zero derivative does not
            // turn into NaN.
            let mut g = 0.0;
            for (p, x) in [
                (pd.tp, ds.tp),
                (pd.tn, ds.tn),
                (pd.s_hat, ds.s_hat),
                (pd.s_hat_t, ds.s_hat_t),
                (pd.ce, ds.ce),
            ] {
                if p != 0.0 {
                    g += p * x;
                }
            }
            g
        };
        (v, [chain(&d[0]), chain(&d[1])])
    }

    /// `ŝ`, the label volume, the mean confidence and the ambiguous pixels' mean prediction.
    pub fn point(&self, b: f64, log_t: f64) -> LandscapePoint {
        let t = log_t.exp();
        let mix = Mix::new(&self.p);
        let sigma = self.p.sigma;
        let (mut s_hat, mut conf, mut s_amb) = (0.0, 0.0, f64::NAN);
        self.with_nodes(t, |eps, w| {
            for k in 0..mix.n {
                let (mut s, mut cf) = (0.0, 0.0);
                for (&e, &wj) in eps.iter().zip(w) {
                    let y = t * (mix.centres[k] + sigma * e) + b;
                    s += wj * sigmoid(y);
                    cf += wj * sigmoid(y.abs());
                }
                s_hat += mix.w[k] * s;
                conf += mix.w[k] * cf;
                if k == 2 {
                    s_amb = s;
                }
            }
        });
        LandscapePoint {
            b,
            log_t,
            s_hat,
            label_volume: self.p.label_volume(),
            confidence: conf,
            s_ambiguous: s_amb,
        }
    }
}

/// The loss at `(b, ln t)` (parameters clamped, see [`LandscapeParams::clamped`]). Equals
/// [`Family::loss`] at `b` when `ln t = 0` and `a = 0`.
pub fn value(loss: FamilyLoss, params: &LandscapeParams, b: f64, log_t: f64) -> f64 {
    Landscape::clamped(params).value(loss, b, log_t)
}

/// The loss and its analytic gradient with respect to `(b, ln t)`.
pub fn value_grad(
    loss: FamilyLoss,
    params: &LandscapeParams,
    b: f64,
    log_t: f64,
) -> (f64, [f64; 2]) {
    Landscape::clamped(params).value_grad(loss, b, log_t)
}

/// `ŝ` and the mean confidence at `(b, ln t)`, for pointer readouts.
pub fn point(params: &LandscapeParams, b: f64, log_t: f64) -> LandscapePoint {
    Landscape::clamped(params).point(b, log_t)
}
