//! The fast grid: a loss sampled over `(b, ln t)` (see the module [`super`] for the
//! quadrature), its minimum and contours.

use super::model::{Landscape, LandscapeParams, Mix};
use crate::family::{region_loss, FamilyLoss, RegionStats};
use crate::simplex::{contour_triangle, empty_contours, Contour};
use crate::special::sigmoid;

/// The app's default range of `b` for the maps.
pub const DEFAULT_B_RANGE: (f64, f64) = (-10.0, 10.0);

/// The app's default range of `ln t` for the maps: `t ∈ [0.1, 100]`.
pub const DEFAULT_LOG_T_RANGE: (f64, f64) =
    (-std::f64::consts::LN_10, 2.0 * std::f64::consts::LN_10);

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
