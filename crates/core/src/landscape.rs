//! Loss landscapes in two dimensions (issue 5): the logit-shift family of THEORY.md with a
//! second parameter, the **scale** `t > 0` (inverse temperature, i.e. confidence), and an
//! optional population of ambiguous pixels.
//!
//! ## The model
//! Pixel probabilities are `s_i = σ(t·z_i + b)` with shift `b` and scale `t` (the app plots
//! `ln t`). Three kinds of pixels, as fractions of the image:
//! - `(1 − a)·u` certain foreground, `z = κ + σ ε`;
//! - `(1 − a)·(1 − u)` certain background, `z = −κ + σ ε`;
//! - `a` **ambiguous** pixels (`amb_a`), `z = c + σ ε` with the centre `c = amb_centre`
//!   (default 0: half-way between the classes, the same noise `σ`), whose label is foreground
//!   with probability `p = amb_p`, independently of `z` — a coin flip the prediction cannot see,
//!   like [`crate::ambiguous`] (there `c` is the certain-foreground fraction; here the certain
//!   pixels are the family's).
//!
//! `ε ~ N(0, 1)`. Losses are population values (expected counts, `N → ∞` except in MONAI's and
//! SegLossBias's smoothing constants), computed from the label volume `Y = (1 − a)u + a p`,
//! `TP = (1 − a)u·E_fg[s] + a p·E_amb[s]`, `TN = (1 − a)(1 − u)·E_bg[1 − s] + a(1 − p)·E_amb[1 − s]`,
//! `ŝ = E[s]` over all pixels, `ŝ_T = E[σ(T·(t z + b))]`, and
//! `CE = (1 − a)[u E_fg(−log s) + (1 − u) E_bg(−log(1 − s))] + a[p E(−log s) + (1 − p) E(−log(1 − s))]`,
//! by the same formulas as [`Family::loss`] (`Dice_fg = 2TP/(Y + ŝ)`, …). With `a = 0` and
//! `t = 1` this **is** the family: [`value`] equals [`Family::loss`] at `b` (same quadrature,
//! same operations).
//!
//! Facts the tests check: `∂CE/∂b = ŝ − Y` exactly, so CE's minimum lies at `ŝ = Y` (`= u`
//! without ambiguous pixels). Without ambiguous pixels and with `σ > 0` the posterior
//! `P(y = 1 | z)` is exactly `σ(2κ z/σ² + logit u)`, so CE (a proper scoring rule) is minimised
//! at `t* = 2κ/σ²`, `b* = logit u` (calibrated); at `κ = σ²/2` that is `t* = 1` and the 2-D optimum
//! is the family's CE optimum. With `σ = 0` CE's infimum is at `t → ∞` (perfect separation).
//!
//! ## Quadrature
//! Point evaluations ([`value`], [`value_grad`], [`point`]) use the family's trapezoid nodes
//! ([`Family`], `M = quad`) as long as the sigmoid is no sharper in `ε` than the family's at
//! `t = 1`; at a larger `tσ` the same rule is refined to at most [`MAX_NODES`] nodes so that
//! the logit spacing `tσh·max(T, 1)` stays below `max(σh_family·max(T, 1), 0.75)`. (At `t = 1`
//! this is the family's own accuracy: at a sharp region temperature, e.g. `T = 10, σ = 1`,
//! the family's `ŝ_T` carries quadrature errors of about 1e-3, and so do CE+L1 / CE+KL here.)
//!
//! [`grid`] is the fast path. Every loss needs, per class, only `E[σ(y)]`, `E[σ(Ty)]` and
//! `E[log(2 cosh(y/2))]` (`log σ(±y) = ±y/2 − log(2 cosh(y/2))`). Per row of `t` the trapezoid
//! nodes of every class are laid on a lattice of logits commensurate with the `b` columns
//! (logit spacing ≤ 1.5, `ε` spacing ≤ 0.9, `ε ∈ [−6.5, 6.5]`), the functions are tabulated on
//! that lattice (the transcendental part, `|y| ≤ 40`, once per lattice; Gaussian weights by a
//! product recurrence), and a row's sums are axpys of weights with table slices — no
//! transcendental function per cell. Where `tσ` is wider than 8 columns the sums are taken at
//! knots `tσ/8` apart and interpolated by cubics; `σ(T y)` is the same computation at
//! `(Tb, Tt)`. Values agree with [`value`] to about 1e-5 relative (the tests check 3e-5);
//! two 160×160 grids take about 4 ms natively.

use crate::error::LossError;
use crate::family::{
    class_sums, normal_nodes, region_loss, Class, ClassSums, Family, FamilyLoss, FamilyParams,
    Need, RegionStats,
};
use crate::simplex::{contour_triangle, empty_contours, Contour};
use crate::special::sigmoid;

/// The app's default range of `b` for the maps.
pub const DEFAULT_B_RANGE: (f64, f64) = (-10.0, 10.0);

/// The app's default range of `ln t` for the maps: `t ∈ [0.1, 100]`.
pub const DEFAULT_LOG_T_RANGE: (f64, f64) =
    (-std::f64::consts::LN_10, 2.0 * std::f64::consts::LN_10);

/// Most quadrature nodes per class of a point evaluation.
pub const MAX_NODES: usize = 8192;

/// The box [`descend`] keeps `(b, ln t)` in: `b ∈ [−50, 50]`, `t ∈ [0.01, 100]`.
pub const DESCENT_BOX: Bounds = Bounds {
    b: (-50.0, 50.0),
    log_t: (
        -2.0 * std::f64::consts::LN_10,
        2.0 * std::f64::consts::LN_10,
    ),
};

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
struct Mix {
    centres: [f64; 3],
    /// Share of each class in the image.
    w: [f64; 3],
    /// Share of each class that is foreground (`1`, `0`, `p`).
    fg: [f64; 3],
    n: usize,
}

impl Mix {
    fn new(p: &LandscapeParams) -> Self {
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

// ---------------------------------------------------------------------------------------------
// The grid.

/// A loss sampled on a regular grid over `(b, ln t)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// The loss.
    pub loss: FamilyLoss,
    /// Range of `b` (first and last column).
    pub b_range: (f64, f64),
    /// Range of `ln t` (first and last row).
    pub log_t_range: (f64, f64),
    /// Columns (values of `b`), `≥ 2`.
    pub nb: usize,
    /// Rows (values of `ln t`), `≥ 2`.
    pub nt: usize,
    /// Values, row by row: `values[j·nb + i]` is at `(b_i, ln t_j)`. Can be `+∞` (log-Dice).
    pub values: Vec<f64>,
    /// Smallest finite value.
    pub min: f64,
    /// Largest finite value.
    pub max: f64,
    /// Upper end of a colour scale: the 90th percentile of the finite values (the landscapes
    /// grow without bound towards confident wrong predictions).
    pub color_max: f64,
}

/// Which way a landscape keeps falling past the edge of the shown range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOff {
    /// `+1`: towards larger `b`; `−1`: smaller `b`; `0`: not along `b`.
    pub db: i8,
    /// `+1`: towards larger `t`; `−1`: smaller `t`; `0`: not along `t`.
    pub dt: i8,
    /// The loss also falls along the ray `(k b, k t)`, `k > 1`, from the edge minimum: the same
    /// threshold `−b/t`, ever harder predictions (`t → ∞`). Set by [`minimum`] (not by
    /// [`Grid::minimum`], which knows no parameters).
    pub harden: bool,
}

impl RunOff {
    /// The direction in words, for the view.
    pub fn description(&self) -> String {
        let t = match self.dt {
            1 => Some("t grows: ever more confident, harder predictions (the infimum is at t → ∞)"),
            -1 => Some("t shrinks: ever less confident predictions (towards t → 0)"),
            _ => None,
        };
        let b = match self.db {
            1 => Some("b grows: more foreground predicted"),
            -1 => Some("b falls: less foreground predicted"),
            _ => None,
        };
        let what = match (b, t) {
            (Some(b), Some(t)) => format!("{b}, and as {t}"),
            (Some(x), None) | (None, Some(x)) => x.to_string(),
            (None, None) => return "The minimum lies inside the shown range.".into(),
        };
        let hard = if self.harden && self.dt != 1 {
            " It also falls as b and t grow together (the same threshold −b/t, ever harder \
             predictions): the infimum is at t → ∞."
        } else {
            ""
        };
        format!("No minimum in the shown range: the loss keeps falling as {what}.{hard}")
    }
}

/// The smallest cell of a grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridMinimum {
    /// Column.
    pub i: usize,
    /// Row.
    pub j: usize,
    /// Its `b`.
    pub b: f64,
    /// Its `ln t`.
    pub log_t: f64,
    /// The value.
    pub value: f64,
    /// `Some` when the cell is on the edge of the grid: the infimum of the shown range is at
    /// its border and the loss keeps falling past it.
    pub run_off: Option<RunOff>,
}

impl Grid {
    /// `b` of column `i`.
    pub fn b_at(&self, i: usize) -> f64 {
        let (lo, hi) = self.b_range;
        lo + (hi - lo) * i as f64 / (self.nb - 1) as f64
    }

    /// `ln t` of row `j`.
    pub fn log_t_at(&self, j: usize) -> f64 {
        let (lo, hi) = self.log_t_range;
        lo + (hi - lo) * j as f64 / (self.nt - 1) as f64
    }

    /// The value at column `i`, row `j`.
    pub fn at(&self, i: usize, j: usize) -> f64 {
        self.values[j * self.nb + i]
    }

    /// The smallest finite cell, and whether it sits on an edge (`None` if no finite cell).
    pub fn minimum(&self) -> Option<GridMinimum> {
        let (k, &v) = self
            .values
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .min_by(|a, b| a.1.total_cmp(b.1))?;
        let (i, j) = (k % self.nb, k / self.nb);
        let side = |x: usize, n: usize| -> i8 {
            if x == 0 {
                -1
            } else if x + 1 == n {
                1
            } else {
                0
            }
        };
        let (db, dt) = (side(i, self.nb), side(j, self.nt));
        Some(GridMinimum {
            i,
            j,
            b: self.b_at(i),
            log_t: self.log_t_at(j),
            value: v,
            run_off: (db != 0 || dt != 0).then_some(RunOff {
                db,
                dt,
                harden: false,
            }),
        })
    }

    /// `count` contour levels at quantiles of the finite values below [`Grid::color_max`]
    /// (dense near the minimum, where the landscape is interesting).
    pub fn contour_levels(&self, count: usize) -> Vec<f64> {
        let mut v: Vec<f64> = self
            .values
            .iter()
            .copied()
            .filter(|x| x.is_finite() && *x <= self.color_max)
            .collect();
        if v.len() < 2 || count == 0 {
            return Vec::new();
        }
        v.sort_by(|a, b| a.total_cmp(b));
        let mut out: Vec<f64> = (1..=count)
            .map(|k| {
                let q = (k as f64 / (count + 1) as f64).powi(2);
                v[((v.len() - 1) as f64 * q).round() as usize]
            })
            .collect();
        out.dedup_by(|a, b| (*a - *b).abs() <= 1e-12 * (1.0 + b.abs()));
        out
    }

    /// Contour lines at `levels` by marching triangles (each cell split along a diagonal),
    /// segments in `(b, ln t)` coordinates.
    pub fn contours(&self, levels: &[f64]) -> Vec<Contour> {
        let mut out = empty_contours(levels);
        let xy = |(i, j): (usize, usize)| (self.b_at(i), self.log_t_at(j));
        for j in 0..self.nt - 1 {
            for i in 0..self.nb - 1 {
                let tris = [
                    [(i, j), (i + 1, j), (i + 1, j + 1)],
                    [(i, j), (i + 1, j + 1), (i, j + 1)],
                ];
                for t in tris {
                    let v = t.map(|(a, b)| self.at(a, b));
                    if v.iter().any(|x| x.is_nan()) {
                        continue;
                    }
                    contour_triangle(&mut out, v, t.map(xy));
                }
            }
        }
        out
    }
}

/// The grid's minimum ([`Grid::minimum`]) and, when it lies on an edge, whether the loss also
/// falls along the hardening ray `(2b, 2t)` from there (two point evaluations).
pub fn minimum(grid: &Grid, params: &LandscapeParams) -> Option<GridMinimum> {
    let mut m = grid.minimum()?;
    if let Some(r) = m.run_off.as_mut() {
        let land = Landscape::clamped(params);
        let v0 = land.value(grid.loss, m.b, m.log_t);
        let v1 = land.value(grid.loss, 2.0 * m.b, m.log_t + std::f64::consts::LN_2);
        r.harden = v1 < v0 - 1e-12 * (1.0 + v0.abs());
    }
    Some(m)
}

/// Largest logit spacing of the grid's quadrature (sigmoid-pole error `≈ e^{−2π²/1.5}`).
const GRID_DY: f64 = 1.5;
/// Largest `ε` spacing of the grid's quadrature.
const GRID_DEPS: f64 = 0.9;
/// The grid's quadrature covers `ε ∈ [−GRID_L, GRID_L]`.
const GRID_L: f64 = 6.5;
/// Finest lattice: a `b` column spacing split into at most this many steps; narrower
/// Gaussians (`tσ` below a sixteenth of a column) are treated as a point mass.
const GRID_R_MAX: f64 = 16.0;

/// Beyond `|y| > SAT` the grid takes `σ(y)` as 0 or 1 and `log(2cosh(y/2))` as `|y|/2`
/// (errors below `e^{−40}`).
const SAT: f64 = 40.0;

/// Most nodes per class and row of the grid.
const GRID_MAX_NODES: usize = 4096;

/// `log(2 cosh(y/2))`: `log σ(y) = y/2 − lc(y)` and `log(1 − σ(y)) = −y/2 − lc(y)`.
#[inline]
fn lc(y: f64) -> f64 {
    let a = y.abs();
    if a > SAT {
        0.5 * a
    } else {
        0.5 * a + (-a).exp().ln_1p()
    }
}

#[inline]
fn sig_sat(y: f64) -> f64 {
    if y > SAT {
        1.0
    } else if y < -SAT {
        0.0
    } else {
        sigmoid(y)
    }
}

/// Knots per unit of `tσ` along `b` (cubic interpolation error about `(1/8)⁴/24`).
const GRID_KNOTS_PER_S: f64 = 8.0;

/// Cubic through `p[0..4]` at knots `−1, 0, 1, 2`, evaluated at `x ∈ [0, 1)`.
#[inline]
fn cubic(p: &[f64], x: f64) -> f64 {
    let (a, b, c, d) = (p[0], p[1], p[2], p[3]);
    -x * (x - 1.0) * (x - 2.0) / 6.0 * a + (x + 1.0) * (x - 1.0) * (x - 2.0) / 2.0 * b
        - (x + 1.0) * x * (x - 2.0) / 2.0 * c
        + (x + 1.0) * x * (x - 1.0) / 6.0 * d
}

fn sanitize_range(r: (f64, f64), default: (f64, f64)) -> (f64, f64) {
    if r.0.is_finite() && r.1.is_finite() && r.1 > r.0 {
        r
    } else {
        default
    }
}

/// The table function of a [`RowPass`]: `σ(y)` or `lc(y) = log(2 cosh(y/2))`.
#[derive(Clone, Copy, PartialEq)]
enum Func {
    Sigmoid,
    Lc,
}

impl Func {
    #[inline]
    fn eval(self, y: f64) -> f64 {
        match self {
            Func::Sigmoid => sig_sat(y),
            Func::Lc => lc(y),
        }
    }

    /// The value beyond `|y| > SAT`, without a transcendental function.
    #[inline]
    fn saturated(self, y: f64) -> f64 {
        match self {
            Func::Sigmoid => f64::from(u8::from(y > 0.0)),
            Func::Lc => 0.5 * y.abs(),
        }
    }
}

/// One row's expectations `E_k[f(t z + b)]` of one function for every class `k` and every
/// column `b = b0 + i·db`, with buffers and lattice tables reused across rows.
/// (`σ(T(tz + b))` is the same computation at `t' = Tt`, `b' = Tb`.)
struct RowPass {
    func: Func,
    b0: f64,
    db: f64,
    nb: usize,
    /// Per lattice (key `r = Δb/δ`, or 0 for `δ = GRID_DY`): first index and the table on
    /// `|y| ≤ SAT`.
    cache: Vec<Option<(i64, Vec<f64>)>>,
    tab: Vec<f64>,
    knots: Vec<f64>,
    weights: Vec<f64>,
}

impl RowPass {
    fn new(func: Func, b0: f64, db: f64, nb: usize) -> Self {
        Self {
            func,
            b0,
            db,
            nb,
            cache: Vec::new(),
            tab: Vec::new(),
            knots: Vec::new(),
            weights: Vec::new(),
        }
    }

    /// Fills `out[k][i]` for the classes `centres[k]`, and `mean_y[k] = E_k[t z]`.
    fn run(
        &mut self,
        t: f64,
        sigma: f64,
        centres: &[f64],
        out: &mut [Vec<f64>],
        mean_y: &mut [f64],
    ) {
        let (b0, db, nb, func) = (self.b0, self.db, self.nb, self.func);
        let s = t * sigma;
        // (Also catches a NaN scale.)
        if s.is_nan() || s < db / GRID_R_MAX {
            // Point mass: every class at its centre.
            for (k, &c) in centres.iter().enumerate() {
                mean_y[k] = t * c;
                for (i, o) in out[k].iter_mut().enumerate() {
                    *o = func.eval(mean_y[k] + b0 + db * i as f64);
                }
            }
            return;
        }
        let target = GRID_DY.min(s * GRID_DEPS);
        // Columns path: lattice δ = Δb/r, sums at every column. Knots path (the sums vary on
        // the scale tσ, much wider than a column): lattice δ ≤ tσ/8, sums at knots every K
        // lattice steps (one extra in front, two behind) and cubic interpolation.
        let interp = s / GRID_KNOTS_PER_S > db;
        let (delta, key, big_k, first, n_knots) = if interp {
            let delta = target.min(s / GRID_KNOTS_PER_S);
            let big_k = ((s / (GRID_KNOTS_PER_S * delta)).floor() as usize).max(1);
            let n = (db * (nb - 1) as f64 / (big_k as f64 * delta)).floor() as usize + 4;
            (delta, (delta == GRID_DY).then_some(0), big_k, -1i64, n)
        } else {
            let r = (db / target).ceil().max(1.0);
            (db / r, Some(r as usize), r as usize, 0i64, nb)
        };
        // At most GRID_MAX_NODES nodes per class (coarser, less accurate, at extreme tσ).
        let span_q = (2.0 * GRID_L * s / delta).ceil() as usize;
        let m = ((target / delta).floor() as usize)
            .max(span_q.div_ceil(GRID_MAX_NODES))
            .max(1);
        let step = m as f64 * delta;
        let w = &mut self.weights;
        // Table index range over every class.
        let (mut lmin, mut lmax) = (i64::MAX, i64::MIN);
        let q0: Vec<(i64, usize)> = centres
            .iter()
            .map(|&c| {
                let mu = t * c;
                let q = ((mu - s * GRID_L) / delta).floor() as i64;
                let n = ((mu + s * GRID_L + step - q as f64 * delta) / step).floor() as usize + 1;
                lmin = lmin.min(q + first * big_k as i64);
                lmax = lmax
                    .max(q + ((n - 1) * m) as i64 + (first + n_knots as i64 - 1) * big_k as i64);
                (q, n)
            })
            .collect();
        // Rows on the same lattice share the transcendental part (|y| ≤ SAT).
        let sat_lo = ((-SAT - b0) / delta).floor() as i64;
        let sat_hi = ((SAT - b0) / delta).ceil() as i64;
        let tabulate = |a: i64, z: i64| -> (i64, Vec<f64>) {
            (
                a,
                (a..=z).map(|l| func.eval(b0 + l as f64 * delta)).collect(),
            )
        };
        let local;
        let (a, t1) = match key {
            Some(key) => {
                if self.cache.len() <= key {
                    self.cache.resize_with(key + 1, || None);
                }
                let c = self.cache[key].get_or_insert_with(|| tabulate(sat_lo, sat_hi));
                (c.0, &c.1)
            }
            None => {
                let lo = sat_lo.max(lmin);
                local = tabulate(lo, sat_hi.min(lmax).max(lo));
                (local.0, &local.1)
            }
        };
        let hi = a + t1.len() as i64 - 1;
        self.tab.clear();
        self.tab.extend((lmin..=lmax).map(|l| {
            if (a..=hi).contains(&l) {
                t1[(l - a) as usize]
            } else {
                func.saturated(b0 + l as f64 * delta)
            }
        }));
        for (k, &c) in centres.iter().enumerate() {
            let mu = t * c;
            let (q, n) = q0[k];
            w.clear();
            let (mut tot, mut mv) = (0.0, 0.0);
            // Gaussian weights on the uniform nodes by a product recurrence (three
            // exponentials per class and row instead of one per node):
            // w_{j+1} = w_j·r_j, r_{j+1} = r_j·e^{−h²}, h = step/s.
            let e0 = (q as f64 * delta - mu) / s;
            let h = step / s;
            let (mut wj, mut ratio, decay) = (
                (-0.5 * e0 * e0).exp(),
                (-(e0 * h + 0.5 * h * h)).exp(),
                (-h * h).exp(),
            );
            for jj in 0..n {
                let v = (q + (jj * m) as i64) as f64 * delta;
                w.push(wj);
                tot += wj;
                mv += wj * v;
                wj *= ratio;
                ratio *= decay;
            }
            for wj in w.iter_mut() {
                *wj /= tot;
            }
            mean_y[k] = mv / tot;
            let base = (q + first * big_k as i64 - lmin) as usize;
            let acc: &mut [f64] = if interp {
                self.knots.clear();
                self.knots.resize(n_knots, 0.0);
                &mut self.knots
            } else {
                out[k].iter_mut().for_each(|x| *x = 0.0);
                &mut out[k]
            };
            // axpy per node: contiguous in the table when the stride is 1.
            for (jj, &wj) in w.iter().enumerate() {
                let row = &self.tab[base + jj * m..];
                if big_k == 1 {
                    for (o, &x) in acc.iter_mut().zip(row) {
                        *o += wj * x;
                    }
                } else {
                    for (o, x) in acc.iter_mut().zip(row.iter().step_by(big_k)) {
                        *o += wj * x;
                    }
                }
            }
            if interp {
                let h = big_k as f64 * delta;
                for (i, o) in out[k].iter_mut().enumerate() {
                    let x = db * i as f64 / h;
                    let qk = (x.floor() as usize).min(n_knots - 4);
                    *o = cubic(&self.knots[qk..qk + 4], x - qk as f64);
                }
            }
        }
    }
}

/// Samples `loss` on `nb × nt` points over `b_range × log_t_range` (`ln t`; both ends included;
/// parameters clamped, `nb, nt` clamped to `[2, 2000]`, unusable ranges replaced by
/// `(−10, 10)` and `(−2.3, 3.5)`). See the module for the fast quadrature (its own rule:
/// `quad` is not used). No allocation per cell; buffers are reused across rows.
pub fn grid(
    loss: FamilyLoss,
    params: &LandscapeParams,
    b_range: (f64, f64),
    log_t_range: (f64, f64),
    nb: usize,
    nt: usize,
) -> Grid {
    let p = params.clamped();
    let (nb, nt) = (nb.clamp(2, 2000), nt.clamp(2, 2000));
    let b_range = sanitize_range(b_range, (-10.0, 10.0));
    let log_t_range = sanitize_range(log_t_range, (-2.3, 3.5));
    let mix = Mix::new(&p);
    let need_s = matches!(
        loss,
        FamilyLoss::DiceFg
            | FamilyLoss::DiceMean
            | FamilyLoss::LogDiceFg
            | FamilyLoss::LogDiceMean
            | FamilyLoss::DiceCe
    );
    let need_log = matches!(
        loss,
        FamilyLoss::Ce | FamilyLoss::DiceCe | FamilyLoss::CeL1 | FamilyLoss::CeKl
    );
    let need_t = matches!(loss, FamilyLoss::CeL1 | FamilyLoss::CeKl);
    let db = (b_range.1 - b_range.0) / (nb - 1) as f64;
    let temp = p.temp;
    let centres = &mix.centres[..mix.n];
    // [σ, σ_T, lc] passes; σ_T(y) = σ(T y) is σ at t' = T t on the columns T b.
    let mut passes = [
        need_s.then(|| RowPass::new(Func::Sigmoid, b_range.0, db, nb)),
        need_t.then(|| RowPass::new(Func::Sigmoid, temp * b_range.0, temp * db, nb)),
        need_log.then(|| RowPass::new(Func::Lc, b_range.0, db, nb)),
    ];
    let mut sums: [Vec<Vec<f64>>; 3] = Default::default();
    for (f, sf) in sums.iter_mut().enumerate() {
        *sf = vec![vec![0.0; if passes[f].is_some() { nb } else { 0 }]; 3];
    }
    let mut mean_y = [0.0; 3]; // E[t z] per class (add b per column)
    let mut scratch = [0.0; 3];
    let y = p.label_volume();
    let mut values = Vec::with_capacity(nb * nt);
    for j in 0..nt {
        let log_t = log_t_range.0 + (log_t_range.1 - log_t_range.0) * j as f64 / (nt - 1) as f64;
        let t = log_t.exp();
        for (f, pass) in passes.iter_mut().enumerate() {
            if let Some(pass) = pass {
                let tt = if f == 1 { temp * t } else { t };
                let my = if f == 2 { &mut mean_y } else { &mut scratch };
                pass.run(tt, p.sigma, centres, &mut sums[f], my);
            }
        }
        let [wf, wb, wa] = mix.w;
        let pa = p.amb_p;
        let has_amb = mix.n == 3;
        #[allow(clippy::needless_range_loop)] // `i` indexes three nested tables
        for i in 0..nb {
            let b = b_range.0 + db * i as f64;
            let g = |f: usize, k: usize| {
                if k >= mix.n || passes[f].is_none() {
                    0.0
                } else if f < 2 {
                    // Sums of normalised weights can exceed 1 by an ulp.
                    sums[f][k][i].clamp(0.0, 1.0)
                } else {
                    sums[f][k][i]
                }
            };
            // E[−log s] = lc − E[y]/2, E[−log(1 − s)] = lc + E[y]/2.
            let nls = |k: usize| g(2, k) - 0.5 * (mean_y[k] + b);
            let nl1s = |k: usize| g(2, k) + 0.5 * (mean_y[k] + b);
            let amb = |x: f64| if has_amb { x } else { 0.0 };
            let st = RegionStats {
                y,
                tp: wf * g(0, 0) + amb(wa * pa * g(0, 2)),
                tn: wb * (1.0 - g(0, 1)) + amb(wa * (1.0 - pa) * (1.0 - g(0, 2))),
                s_hat: wf * g(0, 0) + wb * g(0, 1) + amb(wa * g(0, 2)),
                s_hat_t: wf * g(1, 0) + wb * g(1, 1) + amb(wa * g(1, 2)),
                ce: wf * nls(0) + wb * nl1s(1) + amb(wa * (pa * nls(2) + (1.0 - pa) * nl1s(2))),
            };
            values.push(region_loss(loss, &st, p.lambda, p.pixels).0);
        }
    }
    let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    for &v in &finite {
        min = min.min(v);
        max = max.max(v);
    }
    let color_max = if finite.is_empty() {
        (min, max) = (0.0, 1.0);
        1.0
    } else {
        let k = ((finite.len() - 1) as f64 * 0.9).round() as usize;
        let (_, v, _) = finite.select_nth_unstable_by(k, |a, b| a.total_cmp(b));
        if *v > min {
            *v
        } else {
            max.max(min + 1e-12)
        }
    };
    Grid {
        loss,
        b_range,
        log_t_range,
        nb,
        nt,
        values,
        min,
        max,
        color_max,
    }
}

// ---------------------------------------------------------------------------------------------
// Descent paths.

/// An optimiser for [`descend`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// Plain gradient descent, `x ← x − lr·∇L`.
    Gd {
        /// Step size.
        lr: f64,
    },
    /// Adam (Kingma & Ba, bias-corrected, `ε = 1e-8`).
    Adam {
        /// Step size.
        lr: f64,
        /// First-moment decay.
        beta1: f64,
        /// Second-moment decay.
        beta2: f64,
    },
}

/// How a path ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathStatus {
    /// The gradient (max-norm) fell below `1e-10`, or a step below `1e-9` (also where a
    /// plateau stalls the optimiser).
    Converged,
    /// `max_steps` steps without converging.
    MaxSteps,
    /// The loss, the gradient or the point stopped being finite at this step.
    Diverged {
        /// The step at which it happened (the path ends before it).
        step: usize,
    },
    /// The path was pinned against an edge of the box for two steps: the loss keeps falling
    /// outside it (e.g. `t → ∞`).
    LeftDomain,
}

impl PathStatus {
    /// How the path ended, in words (for the view's message line).
    pub fn message(&self) -> String {
        match self {
            PathStatus::Converged => "converged: the gradient vanished (a minimum, or a plateau \
                 where the optimiser stalls)"
                .into(),
            PathStatus::MaxSteps => "stopped after the maximum number of steps".into(),
            PathStatus::Diverged { step } => {
                format!("diverged at step {step}: the loss or its gradient stopped being finite")
            }
            PathStatus::LeftDomain => "left the shown range: the loss keeps falling beyond its \
                 edge"
                .into(),
        }
    }
}

/// A descent path in `(b, ln t)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// The points, starting with the (clamped) start.
    pub points: Vec<(f64, f64)>,
    /// The loss at each point.
    pub values: Vec<f64>,
    /// How it ended.
    pub status: PathStatus,
}

/// Gradient descent or Adam on `loss` from `start = (b, ln t)` for at most `max_steps` steps
/// inside [`DESCENT_BOX`] (each step clamped into it). Never panics: non-finite values end the
/// path with [`PathStatus::Diverged`].
pub fn descend(
    loss: FamilyLoss,
    params: &LandscapeParams,
    start: (f64, f64),
    method: Method,
    max_steps: usize,
) -> Path {
    descend_within(loss, params, start, method, max_steps, DESCENT_BOX)
}

/// [`descend`] inside any box (for example the shown range).
pub fn descend_within(
    loss: FamilyLoss,
    params: &LandscapeParams,
    start: (f64, f64),
    method: Method,
    max_steps: usize,
    bounds: Bounds,
) -> Path {
    let mut d = Descent::new(loss, params, start, method, max_steps, bounds);
    d.advance(usize::MAX);
    d.path
}

/// A descent in progress, advanced a few steps at a time (the app reveals paths step by step
/// without ever computing more in one frame than fits its budget). [`descend_within`] is this
/// run to the end; the same start gives the same points either way.
#[derive(Debug, Clone)]
pub struct Descent {
    land: Landscape,
    loss: FamilyLoss,
    method: Method,
    lo: [f64; 2],
    hi: [f64; 2],
    x: [f64; 2],
    m1: [f64; 2],
    m2: [f64; 2],
    pinned: [u8; 2],
    v: f64,
    g: [f64; 2],
    step: usize,
    max_steps: usize,
    done: bool,
    /// The path so far (its status is [`PathStatus::MaxSteps`] until it has ended).
    pub path: Path,
}

impl Descent {
    /// Starts a descent (evaluates the start point; nothing else yet).
    pub fn new(
        loss: FamilyLoss,
        params: &LandscapeParams,
        start: (f64, f64),
        method: Method,
        max_steps: usize,
        bounds: Bounds,
    ) -> Self {
        let land = Landscape::clamped(params);
        let lo = [bounds.b.0, bounds.log_t.0];
        let hi = [bounds.b.1, bounds.log_t.1];
        let mut d = Descent {
            land,
            loss,
            method,
            lo,
            hi,
            x: [0.0; 2],
            m1: [0.0; 2],
            m2: [0.0; 2],
            pinned: [0; 2],
            v: f64::NAN,
            g: [f64::NAN; 2],
            step: 0,
            max_steps,
            done: false,
            path: Path {
                points: Vec::new(),
                values: Vec::new(),
                status: PathStatus::MaxSteps,
            },
        };
        if !(start.0.is_finite() && start.1.is_finite() && lo[0] < hi[0] && lo[1] < hi[1]) {
            d.finish(PathStatus::Diverged { step: 0 });
            return d;
        }
        d.x = d.clamp([start.0, start.1]);
        (d.v, d.g) = d.land.value_grad(loss, d.x[0], d.x[1]);
        d
    }

    fn clamp(&self, x: [f64; 2]) -> [f64; 2] {
        [
            x[0].clamp(self.lo[0], self.hi[0]),
            x[1].clamp(self.lo[1], self.hi[1]),
        ]
    }

    fn finish(&mut self, status: PathStatus) {
        self.path.status = status;
        self.done = true;
    }

    /// Whether the path has ended (converged, diverged, left the box or used its steps).
    pub fn finished(&self) -> bool {
        self.done
    }

    /// Runs up to `n` more steps; returns whether the path has ended.
    pub fn advance(&mut self, n: usize) -> bool {
        let mut left = n;
        while !self.done && left > 0 {
            left -= 1;
            self.one_step();
        }
        self.done
    }

    fn one_step(&mut self) {
        let (v, g, step) = (self.v, self.g, self.step);
        if !(v.is_finite() && g[0].is_finite() && g[1].is_finite()) {
            return self.finish(PathStatus::Diverged { step });
        }
        self.path.points.push((self.x[0], self.x[1]));
        self.path.values.push(v);
        if g[0].abs().max(g[1].abs()) < 1e-10 {
            return self.finish(PathStatus::Converged);
        }
        if step == self.max_steps {
            return self.finish(PathStatus::MaxSteps);
        }
        let delta = match self.method {
            Method::Gd { lr } => [-lr * g[0], -lr * g[1]],
            Method::Adam { lr, beta1, beta2 } => {
                let k = (step + 1) as i32;
                let mut d = [0.0; 2];
                for c in 0..2 {
                    self.m1[c] = beta1 * self.m1[c] + (1.0 - beta1) * g[c];
                    self.m2[c] = beta2 * self.m2[c] + (1.0 - beta2) * g[c] * g[c];
                    let mh = self.m1[c] / (1.0 - beta1.powi(k));
                    let vh = self.m2[c] / (1.0 - beta2.powi(k));
                    d[c] = -lr * mh / (vh.sqrt() + 1e-8);
                }
                d
            }
        };
        let x = self.x;
        let raw = [x[0] + delta[0], x[1] + delta[1]];
        if !(raw[0].is_finite() && raw[1].is_finite()) {
            return self.finish(PathStatus::Diverged { step: step + 1 });
        }
        let next = self.clamp(raw);
        for c in 0..2 {
            if next[c] != raw[c] && next[c] == x[c] {
                self.pinned[c] += 1;
            } else {
                self.pinned[c] = 0;
            }
        }
        if self.pinned.iter().any(|&k| k >= 2) {
            return self.finish(PathStatus::LeftDomain);
        }
        let moved = (next[0] - x[0]).abs().max((next[1] - x[1]).abs());
        self.x = next;
        (self.v, self.g) = self.land.value_grad(self.loss, next[0], next[1]);
        self.step += 1;
        if moved < 1e-9 && self.pinned == [0, 0] {
            if self.v.is_finite() {
                self.path.points.push((next[0], next[1]));
                self.path.values.push(self.v);
            }
            self.finish(PathStatus::Converged);
        }
    }
}

/// A fine local minimisation from `start` (Adam then gradient descent with backtracking), for
/// readouts and tests: returns the point and the value.
pub fn refine_minimum(
    loss: FamilyLoss,
    params: &LandscapeParams,
    start: (f64, f64),
    max_steps: usize,
) -> ((f64, f64), f64) {
    let land = Landscape::clamped(params);
    let (lo, hi) = (DESCENT_BOX.b, DESCENT_BOX.log_t);
    let clamp = |x: (f64, f64)| (x.0.clamp(lo.0, lo.1), x.1.clamp(hi.0, hi.1));
    let mut x = clamp(start);
    let (mut v, mut g) = land.value_grad(loss, x.0, x.1);
    let mut lr: f64 = 1.0;
    for _ in 0..max_steps {
        if !(v.is_finite() && g[0].is_finite() && g[1].is_finite()) {
            break;
        }
        let gn = g[0] * g[0] + g[1] * g[1];
        if gn.sqrt() < 1e-13 {
            break;
        }
        // Armijo backtracking.
        let mut accepted = false;
        for _ in 0..60 {
            let cand = clamp((x.0 - lr * g[0], x.1 - lr * g[1]));
            let vc = land.value(loss, cand.0, cand.1);
            if vc.is_finite() && vc <= v - 1e-4 * lr * gn {
                x = cand;
                accepted = true;
                lr *= 2.0;
                break;
            }
            lr *= 0.5;
        }
        if !accepted {
            break;
        }
        (v, g) = land.value_grad(loss, x.0, x.1);
    }
    (x, v)
}
