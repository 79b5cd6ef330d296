//! What the region terms' temperature `T` does (THEORY.md, "Temperature of the region terms").
//!
//! The authors' CE+L1 / CE+KL read the proportion `ŝ_T`, the mean of `σ(T·z)`: at `T = 1` it
//! is the soft `ŝ` that CE already matches, and as `T` grows it tends to the thresholded
//! proportion (the fraction of pixels with `z > 0`). On the logit-shift family this view gives,
//! for a range of `T`, `ŝ_T` at the current shift, and each regularised loss's optimum as a
//! soft ratio `ŝ*/u` and a thresholded ratio `hard(b*)/u`.

use crate::error::LossError;
use crate::family::{Family, FamilyLoss, FamilyParams, FamilyPoint};
use crate::special::golden;
pub use crate::special::mean_sigmoid_normal;
use crate::sweep::shift_for_fast;

/// The range of `T` the view plots.
pub const T_RANGE: (f64, f64) = (1.0, 20.0);
/// How many values of `T` the optimum curves use (evenly spaced over [`T_RANGE`]).
pub const T_POINTS: usize = 20;
/// How many values of `T` the cheap `ŝ_T` curve uses.
pub const T_POINTS_FINE: usize = 96;
/// The losses whose optimum moves with `T`, in legend order.
pub const TEMP_LOSSES: [FamilyLoss; 2] = [FamilyLoss::CeL1, FamilyLoss::CeKl];

/// One loss's optimum along the family at one temperature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TempOptimum {
    /// The temperature.
    pub temp: f64,
    /// The minimizing shift `b*`.
    pub b: f64,
    /// Soft ratio `ŝ(b*)/u`.
    pub soft: f64,
    /// Thresholded ratio `hard(b*)/u`.
    pub hard: f64,
}

/// `n` values evenly spaced over [`T_RANGE`].
pub fn t_grid(n: usize) -> Vec<f64> {
    let n = n.max(2);
    let (lo, hi) = T_RANGE;
    (0..n)
        .map(|j| lo + (hi - lo) * j as f64 / (n - 1) as f64)
        .collect()
}

/// The logit-shift family at a temperature, with `ŝ_T` by [`mean_sigmoid_normal`] instead of
/// the quadrature (everything else, smooth in `ε`, by the family's quadrature).
#[derive(Debug, Clone)]
pub struct TempFamily {
    /// The family (at `T = 1`: its own `ŝ_T` is not used).
    pub family: Family,
    /// The region terms' temperature.
    pub temp: f64,
}

impl TempFamily {
    /// The family of `p` at temperature `temp` (`p.temp` ignored).
    pub fn new(p: &FamilyParams, temp: f64) -> Result<Self, LossError> {
        if !(temp.is_finite() && temp > 0.0) {
            return Err(LossError::BadParameter {
                name: "temperature",
                value: temp,
                reason: "must be > 0",
            });
        }
        Ok(Self {
            family: Family::new(FamilyParams { temp: 1.0, ..*p })?,
            temp,
        })
    }

    /// `ŝ_T(b)` for a ground truth `u`: `u E[σ(T(κ + σε + b))] + (1 − u) E[σ(T(−κ + σε + b))]`.
    /// At `T = 1` it is the family's own `ŝ` (the same quadrature), so that the region term
    /// reads exactly the proportion CE matches.
    pub fn s_t_for(&self, u: f64, b: f64) -> f64 {
        if self.temp == 1.0 {
            return self.family.at_each(b, &[u])[0].s_hat;
        }
        let (fg, bg) = self.family.sharpened_means(b, self.temp);
        u * fg + (1.0 - u) * bg
    }

    /// The family point at `b`, with the accurate `ŝ_T`.
    pub fn at(&self, b: f64) -> FamilyPoint {
        let mut pt = self.family.at(b);
        pt.s_hat_t = self.s_t_for(self.family.params().u, b);
        pt
    }

    /// The value of `loss` at shift `b`.
    pub fn loss(&self, loss: FamilyLoss, b: f64) -> f64 {
        self.family.loss(loss, &self.at(b))
    }

    /// The shift where `ŝ_T(b) = target` for ground truth `u` (bisection: `ŝ_T` increases with
    /// `b`).
    pub fn shift_for_t(&self, u: f64, target: f64) -> f64 {
        let (mut lo, mut hi) = self.family.shift_range();
        for _ in 0..80 {
            let mid = 0.5 * (lo + hi);
            if self.s_t_for(u, mid) < target {
                lo = mid;
            } else {
                hi = mid;
            }
            if hi - lo < 1e-9 {
                break;
            }
        }
        0.5 * (lo + hi)
    }
}

/// The minimum of `g` on `[lo, hi]`: a grid of `n` points, then golden section around each of
/// the grid's three lowest local minima (a sharp region term can make several), the best kept.
pub fn grid_minimum(g: &dyn Fn(f64) -> f64, lo: f64, hi: f64, n: usize) -> f64 {
    if (hi - lo).is_nan() || hi - lo <= 1e-9 {
        return 0.5 * (lo + hi);
    }
    let n = n.max(3);
    let h = (hi - lo) / (n - 1) as f64;
    let vals: Vec<f64> = (0..n).map(|j| g(lo + h * j as f64)).collect();
    let mut local: Vec<usize> = (0..n)
        .filter(|&j| {
            let v = vals[j];
            v.is_finite() && (j == 0 || v <= vals[j - 1]) && (j + 1 == n || v <= vals[j + 1])
        })
        .collect();
    local.sort_by(|a, b| vals[*a].total_cmp(&vals[*b]));
    let mut best = (0.5 * (lo + hi), f64::INFINITY);
    for &j in local.iter().take(3) {
        let a = lo + h * j.saturating_sub(1) as f64;
        let c = lo + h * (j + 1).min(n - 1) as f64;
        let x = golden(g, a, c, 1e-9);
        for (x, v) in [(x, g(x)), (lo + h * j as f64, vals[j])] {
            if v < best.1 {
                best = (x, v);
            }
        }
    }
    best.0
}

/// Grid points of the bracketed search in [`optimum`].
pub const SEARCH_POINTS: usize = 40;

/// The optimum of `loss` along the family of `p` at temperature `temp` (`p.temp` ignored).
///
/// CE (any `T`), and CE+L1 / CE+KL at `T = 1`, are minimized exactly where `ŝ = u` (their
/// derivative in `b` is `ŝ − u` plus a term that vanishes there): that shift is solved for.
/// Otherwise a global search over the bracket `[b_CE, b_T]` between CE's optimum and the shift
/// where the term vanishes (`ŝ_T = u`): CE and the term each decrease toward the bracket from
/// outside it, so the minimizer lies inside; within it the sharp term can make several local
/// minima, hence a grid of [`SEARCH_POINTS`] shifts, then golden section.
pub fn optimum(p: &FamilyParams, loss: FamilyLoss, temp: f64) -> Result<TempOptimum, LossError> {
    let tf = TempFamily::new(p, temp)?;
    let f = &tf.family;
    let b_ce = shift_for_fast(f, p.u);
    let exact = loss.sits_at_u(temp);
    let b = if exact {
        b_ce
    } else {
        let b_t = tf.shift_for_t(p.u, p.u);
        let (lo, hi) = (b_ce.min(b_t), b_ce.max(b_t));
        let g = |b: f64| tf.loss(loss, b);
        grid_minimum(&g, lo, hi, SEARCH_POINTS)
    };
    Ok(TempOptimum {
        temp,
        b,
        soft: f.at(b).s_hat / p.u,
        hard: f.hard_proportion(b) / p.u,
    })
}

/// The cheap part of the view: the family at the current `ŝ`.
#[derive(Debug, Clone, PartialEq)]
pub struct TempHere {
    /// The family's parameters (with the current `T`).
    pub params: FamilyParams,
    /// The current predicted proportion `ŝ`.
    pub s: f64,
    /// The shift where `ŝ(b) = s`.
    pub b: f64,
    /// The thresholded proportion at `b`.
    pub hard: f64,
    /// `ŝ_T` at `b` and the current `T`.
    pub s_t: f64,
    /// The `T` grid of [`TempHere::s_t_curve`].
    pub ts: Vec<f64>,
    /// `ŝ_T(b)` along `ts`.
    pub s_t_curve: Vec<f64>,
    /// CE, CE+L1 and CE+KL's optima at the current `T`.
    pub current: Vec<(FamilyLoss, TempOptimum)>,
}

/// The heavy part: CE+L1's and CE+KL's optima along the `T` grid, and CE's (reference).
#[derive(Debug, Clone, PartialEq)]
pub struct TempCurves {
    /// The parameters (`temp` is the current one, not used here).
    pub params: FamilyParams,
    /// The `T` grid.
    pub ts: Vec<f64>,
    /// CE's optimum (the same at every `T`).
    pub ce: TempOptimum,
    /// One curve per loss of [`TEMP_LOSSES`].
    pub curves: Vec<(FamilyLoss, Vec<TempOptimum>)>,
}

/// The family at the current `ŝ` (`s` is clamped into `[1e-4, 1 − 1e-4]`).
pub fn temperature_here(p: &FamilyParams, s: f64) -> Result<TempHere, LossError> {
    let tf = TempFamily::new(p, p.temp)?;
    let f = &tf.family;
    let s = s.clamp(1e-4, 1.0 - 1e-4);
    let b = shift_for_fast(f, s);
    let ts = t_grid(T_POINTS_FINE);
    let mut s_t_curve = Vec::with_capacity(ts.len());
    for &t in &ts {
        s_t_curve.push(TempFamily::new(p, t)?.s_t_for(p.u, b));
    }
    let mut current = Vec::new();
    for loss in [FamilyLoss::Ce, FamilyLoss::CeL1, FamilyLoss::CeKl] {
        current.push((loss, optimum(p, loss, p.temp)?));
    }
    let pt = tf.at(b);
    Ok(TempHere {
        params: *p,
        s: pt.s_hat,
        b,
        hard: f.hard_proportion(b),
        s_t: pt.s_hat_t,
        ts,
        s_t_curve,
        current,
    })
}

/// The optimum curves over `n` values of `T` on [`T_RANGE`].
pub fn temperature_curves(p: &FamilyParams, n: usize) -> Result<TempCurves, LossError> {
    let ts = t_grid(n);
    let ce = optimum(p, FamilyLoss::Ce, 1.0)?;
    let mut curves = Vec::new();
    for loss in TEMP_LOSSES {
        let mut v = Vec::with_capacity(ts.len());
        for &t in &ts {
            v.push(optimum(p, loss, t)?);
        }
        curves.push((loss, v));
    }
    Ok(TempCurves {
        params: *p,
        ts,
        ce,
        curves,
    })
}

/// The whole view at one state.
#[derive(Debug, Clone, PartialEq)]
pub struct TemperatureView {
    /// At the current `ŝ` and `T`.
    pub here: TempHere,
    /// Along `T`.
    pub curves: TempCurves,
}

/// The view at `p` (with the current `T`) and the current `ŝ`.
pub fn temperature_view(p: &FamilyParams, s: f64) -> Result<TemperatureView, LossError> {
    Ok(TemperatureView {
        here: temperature_here(p, s)?,
        curves: temperature_curves(p, T_POINTS)?,
    })
}

impl TempHere {
    /// The optimum of `loss` at the current `T`.
    pub fn optimum(&self, loss: FamilyLoss) -> Option<TempOptimum> {
        self.current.iter().find(|c| c.0 == loss).map(|c| c.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::special::{sigmoid, FRAC_1_SQRT_2PI};

    #[test]
    fn theory_numbers_at_the_authors_setting() {
        // THEORY.md: u = 0.1, κ = 0.5, σ = 1, λ = 1, T = 10: CE+L1 at 2.45·u, CE+KL at 1.92·u
        // (a dense integral, tools/family_reference.py: 2.449·u and 1.918·u).
        let p = FamilyParams {
            u: 0.1,
            kappa: 0.5,
            sigma: 1.0,
            lambda: 1.0,
            temp: 10.0,
            ..FamilyParams::default()
        };
        let l1 = optimum(&p, FamilyLoss::CeL1, 10.0).unwrap();
        let kl = optimum(&p, FamilyLoss::CeKl, 10.0).unwrap();
        assert!((l1.soft - 2.45).abs() < 0.01, "{l1:?}");
        assert!((kl.soft - 1.92).abs() < 0.015, "{kl:?}");
        let ce = optimum(&p, FamilyLoss::Ce, 10.0).unwrap();
        assert!((ce.soft - 1.0).abs() < 1e-9);
        // The sharp term pulls the thresholded size toward u: closer than CE's.
        assert!((l1.hard.ln()).abs() < (ce.hard.ln()).abs(), "{l1:?} {ce:?}");
    }

    #[test]
    fn mean_sigmoid_normal_matches_a_dense_integral() {
        // Trapezoid rule on 400 001 points of ε ∈ [−40, 40] (spacing 2e-4, fine enough for
        // a step of width 1/(Tσ) ≥ 1/400 here).
        let dense = |m: f64, sigma: f64, temp: f64| {
            let n = 400_000;
            let h = 80.0 / n as f64;
            let mut s = 0.0;
            for k in 0..=n {
                let e = -40.0 + h * k as f64;
                let w = if k == 0 || k == n { 0.5 } else { 1.0 };
                s += w * (-0.5 * e * e).exp() * sigmoid(temp * (m + sigma * e));
            }
            s * h * FRAC_1_SQRT_2PI
        };
        for (m, sigma, temp) in [
            (0.3, 1.0, 10.0),
            (-2.5, 1.0, 20.0),
            (-4.0, 0.5, 7.0),
            (1.0, 4.0, 20.0),
            (-9.0, 4.0, 3.0),
            (0.2, 0.05, 0.1),
            (-1.0, 2.0, 1.0),
            (-6.0, 0.7, 1.0),
        ] {
            let want = dense(m, sigma, temp);
            let got = mean_sigmoid_normal(m, sigma, temp);
            assert!(
                (got - want).abs() < 1e-9 + 1e-5 * want,
                "m = {m}, σ = {sigma}, T = {temp}: {got} vs {want}"
            );
        }
        assert_eq!(mean_sigmoid_normal(0.4, 0.0, 3.0), sigmoid(3.0 * 0.4));
    }

    #[test]
    fn hard_proportion_limits() {
        let p = FamilyParams {
            u: 0.2,
            kappa: 1.0,
            sigma: 0.0,
            ..FamilyParams::default()
        };
        let f = Family::new(p).unwrap();
        assert_eq!(f.hard_proportion(-2.0), 0.0);
        assert_eq!(f.hard_proportion(0.0), 0.2);
        assert_eq!(f.hard_proportion(2.0), 1.0);
        // ŝ_T tends to the thresholded proportion as T grows.
        let p = FamilyParams {
            sigma: 1.5,
            quad: 4001,
            temp: 400.0,
            ..p
        };
        let f = Family::new(p).unwrap();
        for b in [-2.0, -0.3, 0.7] {
            let d = f.at(b).s_hat_t - f.hard_proportion(b);
            assert!(d.abs() < 2e-3, "b = {b}: {d}");
        }
    }
}
