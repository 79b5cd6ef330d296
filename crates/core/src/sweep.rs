//! Fast sweeps of the logit-shift family for interactive views: one pass of family points
//! serves every loss's curve and the bracket of every loss's minimizer.

use crate::family::{Family, FamilyLoss, FamilyPoint, Minimizer};
use crate::special::brent;

/// Curves of every family loss over a range of `ŝ`, with each loss's minimizer.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilySweep {
    /// Ground-truth proportion `u`.
    pub u: f64,
    /// Sampled points, increasing in `b` (hence in `ŝ`).
    pub points: Vec<FamilyPoint>,
    /// Loss values at the points, one curve per loss of [`FamilyLoss::ALL`].
    pub values: Vec<(FamilyLoss, Vec<f64>)>,
    /// Each loss's minimizer along the whole family (not only the sampled range).
    pub minima: Vec<(FamilyLoss, Minimizer)>,
}

impl FamilySweep {
    /// The minimizer of one loss.
    pub fn minimizer(&self, loss: FamilyLoss) -> Option<Minimizer> {
        self.minima.iter().find(|m| m.0 == loss).map(|m| m.1)
    }
}

/// The shift `b` with `ŝ(b) = target`, by the secant method on `logit ŝ(b)`, which is close to
/// linear in `b`: a handful of family evaluations instead of bisection's fifty.
pub fn shift_for_fast(family: &Family, target: f64) -> f64 {
    let target = target.clamp(1e-12, 1.0 - 1e-12);
    let logit = |p: f64| (p / (1.0 - p)).ln();
    let goal = logit(target);
    let g = |b: f64| {
        let s = family.at(b).s_hat.clamp(1e-300, 1.0 - 1e-16);
        logit(s) - goal
    };
    let (lo, hi) = family.shift_range();
    let (mut b0, mut b1) = (goal - 1.0, goal + 1.0);
    let (mut g0, mut g1) = (g(b0), g(b1));
    for _ in 0..30 {
        if g1 == g0 || !g1.is_finite() || !g0.is_finite() {
            break;
        }
        let b2 = (b1 - g1 * (b1 - b0) / (g1 - g0)).clamp(lo, hi);
        b0 = b1;
        g0 = g1;
        b1 = b2;
        g1 = g(b1);
        if g1.abs() < 1e-12 {
            return b1;
        }
    }
    if g1.abs() < 1e-9 {
        b1
    } else {
        family.shift_for(target)
    }
}

/// The minimizer along the family of any function of a family point (e.g. a library preset's
/// training loss), using a sweep's points as the search grid and Brent refinement.
pub fn minimize_on(
    family: &Family,
    points: &[FamilyPoint],
    f: &dyn Fn(&FamilyPoint) -> f64,
) -> Option<Minimizer> {
    minimize_on_by(family, points, f, Refine::Brent)
}

/// How a sweep refines a loss's grid minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refine {
    /// Brent's method to 1e-8 in `b` (10–25 family evaluations per loss): the exact optimum.
    Brent,
    /// The vertex of the parabola through the grid minimum and its two neighbours (one
    /// evaluation): a preview, close to the optimum on a fine grid, for a view's first pass
    /// while a slider moves; the exact pass follows a frame later.
    Parabola,
}

/// The vertex in `b` of the parabola through three neighbouring grid points (the middle one
/// the smallest), kept inside them.
fn parabola_vertex(b: [f64; 3], v: [f64; 3]) -> f64 {
    let (d1, d2) = (b[1] - b[0], b[2] - b[1]);
    let (s1, s2) = ((v[1] - v[0]) / d1, (v[2] - v[1]) / d2);
    let curv = (s2 - s1) / (b[2] - b[0]);
    if curv.is_nan() || curv <= 0.0 || !curv.is_finite() {
        return b[1];
    }
    // Slope at the midpoint of [b0, b1] is s1; it reaches 0 at b where s1 + 2 curv (b − m1) = 0.
    let m1 = 0.5 * (b[0] + b[1]);
    (m1 - s1 / (2.0 * curv)).clamp(b[0], b[2])
}

/// The minimizing shift near the interior grid minimum `j` (`0 < j < n − 1`) of `vals`, the
/// values of `f` at `points`, refined by `refine` within the neighbouring grid points.
fn refine_interior(
    family: &Family,
    points: &[FamilyPoint],
    vals: &[f64],
    j: usize,
    f: &dyn Fn(&FamilyPoint) -> f64,
    refine: Refine,
) -> f64 {
    match refine {
        Refine::Parabola => parabola_vertex(
            [points[j - 1].b, points[j].b, points[j + 1].b],
            [vals[j - 1], vals[j], vals[j + 1]],
        ),
        Refine::Brent => {
            let g = |b: f64| f(&family.at(b));
            brent(&g, points[j - 1].b, points[j + 1].b, 1e-8)
        }
    }
}

/// [`minimize_on`] with a choice of refinement.
pub fn minimize_on_by(
    family: &Family,
    points: &[FamilyPoint],
    f: &dyn Fn(&FamilyPoint) -> f64,
    refine: Refine,
) -> Option<Minimizer> {
    let n = points.len();
    let vals: Vec<f64> = points.iter().map(f).collect();
    let (j, _) = vals
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .min_by(|a, b| a.1.total_cmp(b.1))?;
    let b = if j == 0 || j + 1 == n {
        points[j].b
    } else {
        refine_interior(family, points, &vals, j, f, refine)
    };
    let pt = family.at(b);
    Some(Minimizer {
        b,
        s_hat: pt.s_hat,
        value: f(&pt),
        ratio: pt.s_hat / family.params().u,
    })
}

/// Samples `n` points with `ŝ` from `s_lo` to `s_hi` (evenly in the shift `b`, which is close
/// to evenly in log-odds of `ŝ`) and finds every loss's minimizer.
///
/// CE, CE+L1 and CE+KL at `T = 1` are minimized exactly where `ŝ = u` (their derivative in
/// `b` is `ŝ − u` plus a term that vanishes there); the others by the sampled grid, refined by
/// Brent's method, with a fall-back to the full-range search when the grid minimum sits at
/// an end of the sampled range.
pub fn sweep(family: &Family, s_lo: f64, s_hi: f64, n: usize) -> FamilySweep {
    sweep_by(family, s_lo, s_hi, n, Refine::Brent)
}

/// [`sweep`] with a choice of refinement. With [`Refine::Parabola`] a grid minimum at an end
/// of the range stays there (no full-range search).
pub fn sweep_by(family: &Family, s_lo: f64, s_hi: f64, n: usize, refine: Refine) -> FamilySweep {
    let n = n.max(3);
    let p = family.params();
    let (b_lo, b_hi) = (shift_for_fast(family, s_lo), shift_for_fast(family, s_hi));
    let points: Vec<FamilyPoint> = (0..n)
        .map(|j| family.at(b_lo + (b_hi - b_lo) * j as f64 / (n - 1) as f64))
        .collect();
    let values: Vec<(FamilyLoss, Vec<f64>)> = FamilyLoss::ALL
        .iter()
        .map(|&l| (l, points.iter().map(|pt| family.loss(l, pt)).collect()))
        .collect();
    let exact_at_u = p.temp == 1.0;
    let mut b_at_u = None;
    let minima = values
        .iter()
        .map(|(loss, vals)| {
            let ce_like = matches!(loss, FamilyLoss::Ce | FamilyLoss::CeL1 | FamilyLoss::CeKl);
            let b = if ce_like && exact_at_u {
                *b_at_u.get_or_insert_with(|| shift_for_fast(family, p.u))
            } else {
                let (j, _) = vals
                    .iter()
                    .enumerate()
                    .fold(
                        (0, f64::INFINITY),
                        |acc, (j, &v)| {
                            if v < acc.1 {
                                (j, v)
                            } else {
                                acc
                            }
                        },
                    );
                if (j == 0 || j == n - 1) && refine == Refine::Parabola {
                    points[j].b
                } else if j == 0 || j == n - 1 {
                    family.minimize(*loss).b
                } else {
                    let f = |pt: &FamilyPoint| family.loss(*loss, pt);
                    refine_interior(family, &points, vals, j, &f, refine)
                }
            };
            let pt = family.at(b);
            (
                *loss,
                Minimizer {
                    b,
                    s_hat: pt.s_hat,
                    value: family.loss(*loss, &pt),
                    ratio: pt.s_hat / p.u,
                },
            )
        })
        .collect();
    FamilySweep {
        u: p.u,
        points,
        values,
        minima,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::FamilyParams;

    /// The three test families `(κ, σ, u)` with their `u`.
    fn families() -> Vec<(Family, f64)> {
        [(0.5, 1.0, 0.1), (2.0, 2.0, 0.02), (3.0, 1.0, 0.4)]
            .into_iter()
            .map(|(kappa, sigma, u)| {
                let p = FamilyParams {
                    u,
                    kappa,
                    sigma,
                    ..FamilyParams::default()
                };
                (Family::new(p).expect("valid"), u)
            })
            .collect()
    }

    #[test]
    fn sweep_minima_agree_with_full_search() {
        for (f, u) in families() {
            let sw = sweep(&f, u / 10.0, (12.0 * u).min(0.999), 160);
            for loss in FamilyLoss::ALL {
                let a = sw.minimizer(loss).expect("present");
                let b = f.minimize(loss);
                assert!(
                    (a.s_hat - b.s_hat).abs() < 1e-6 * b.s_hat.max(1e-3),
                    "{loss:?} {:?}: {} vs {}",
                    f.params(),
                    a.s_hat,
                    b.s_hat
                );
            }
            assert!((sw.minimizer(FamilyLoss::Ce).expect("ce").ratio - 1.0).abs() < 1e-9);
            let dice =
                minimize_on(&f, &sw.points, &|pt| f.loss(FamilyLoss::DiceFg, pt)).expect("finite");
            let full = f.minimize(FamilyLoss::DiceFg);
            assert!((dice.s_hat - full.s_hat).abs() < 1e-6 * full.s_hat.max(1e-3));
            for target in [1e-4, 0.01, u, 0.5, 0.99] {
                let b = shift_for_fast(&f, target);
                assert!(
                    (f.at(b).s_hat - target).abs() < 1e-9 * target.max(1e-3),
                    "{target}"
                );
            }
        }
    }

    #[test]
    fn parabola_preview_is_close_to_the_exact_minima() {
        for (f, u) in families() {
            let (lo, hi) = (u / 10.0, (12.0 * u).min(0.999));
            let exact = sweep(&f, lo, hi, 120);
            let preview = sweep_by(&f, lo, hi, 48, Refine::Parabola);
            assert_eq!(preview.points.len(), 48);
            for loss in FamilyLoss::ALL {
                let a = preview.minimizer(loss).expect("present");
                let b = exact.minimizer(loss).expect("present");
                // Interior minima: within 1% of ŝ*; a minimum beyond the range stays at its end.
                let inside = b.s_hat > lo && b.s_hat < hi;
                if inside {
                    assert!(
                        (a.s_hat - b.s_hat).abs() < 0.01 * b.s_hat,
                        "{loss:?} {:?}: {} vs {}",
                        f.params(),
                        a.s_hat,
                        b.s_hat
                    );
                }
            }
            // A quadratic's vertex is found exactly.
            let q = |b: f64| (b - 0.3) * (b - 0.3);
            let v = parabola_vertex([0.0, 0.25, 0.5], [q(0.0), q(0.25), q(0.5)]);
            assert!((v - 0.3).abs() < 1e-12, "{v}");
        }
    }
}
