//! Summaries of the logit-shift family for the theory views: the **bias map** (each loss's
//! optimal predicted proportion `ŝ*(u)` over a sweep of ground-truth proportions) and the
//! data of the **decomposition** view (the parts of CE and of `−log Dice_k` at one point,
//! computed by [`Family::decomposition`]).

use crate::error::LossError;
/// The decomposition types live next to the family they decompose.
pub use crate::family::{ClassParts, FamilyDecomposition};
use crate::family::{Family, FamilyLoss, FamilyParams};
use crate::special::brent;

/// `n` values spaced evenly in `log` from `lo` to `hi` (both included; `n = 1` gives `[lo]`).
/// Empty when `n = 0` or either end is not a finite positive number.
pub fn log_grid(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if n == 0 || !(lo.is_finite() && hi.is_finite() && lo > 0.0 && hi > 0.0) {
        return Vec::new();
    }
    if n == 1 {
        return vec![lo];
    }
    let (a, b) = (lo.ln(), hi.ln());
    (0..n)
        .map(|j| {
            if j == 0 {
                lo
            } else if j == n - 1 {
                hi
            } else {
                (a + (b - a) * j as f64 / (n - 1) as f64).exp()
            }
        })
        .collect()
}

/// The loss whose minimizer `loss` shares: `−log` is monotone, so foreground log-Dice has
/// foreground Dice's optimum. (Not so for the two-class means: a mean of logs is not a
/// monotone function of the mean.)
fn canonical(loss: FamilyLoss) -> FamilyLoss {
    match loss {
        FamilyLoss::LogDiceFg => FamilyLoss::DiceFg,
        l => l,
    }
}

/// Successive parabolic interpolation on a shrinking three-point stencil from `guess`:
/// converges superlinearly when the guess is close (a warm start). `None` when the stencil
/// is not convex or the steps do not settle; the caller then brackets.
fn parabolic(f: &dyn Fn(f64) -> f64, guess: f64) -> Option<f64> {
    let (mut x, mut h) = (guess, 0.05);
    let mut fx = f(x);
    for _ in 0..12 {
        let (fm, fp) = (f(x - h), f(x + h));
        let curv = fp - 2.0 * fx + fm;
        if curv.is_nan() || curv <= 0.0 || !curv.is_finite() {
            return None;
        }
        let step = (0.5 * h * (fm - fp) / curv).clamp(-4.0 * h, 4.0 * h);
        x += step;
        if step.abs() < 1e-7 {
            return Some(x);
        }
        fx = f(x);
        h = (step.abs()).clamp(1e-4, 0.5);
    }
    None
}

/// A bracket `[lo, hi]` of a local minimum of `f` near `guess`, walking downhill with growing
/// steps; `None` if none is found within `limit` of the guess.
fn bracket(f: &dyn Fn(f64) -> f64, guess: f64, h: f64, limit: f64) -> Option<(f64, f64)> {
    let f0 = f(guess);
    let (fm, fp) = (f(guess - h), f(guess + h));
    if f0 <= fm && f0 <= fp {
        return Some((guess - h, guess + h));
    }
    let dir = if fp < fm { 1.0 } else { -1.0 };
    let (mut prev, mut cur, mut fcur) = (guess, guess + dir * h, fp.min(fm));
    let mut step = h;
    while (cur - guess).abs() < limit {
        step *= 1.6;
        let next = cur + dir * step;
        let fnext = f(next);
        if fnext > fcur {
            return Some(if dir > 0.0 {
                (prev, next)
            } else {
                (next, prev)
            });
        }
        (prev, cur, fcur) = (cur, next, fnext);
    }
    None
}

fn logit(u: f64) -> f64 {
    (u / (1.0 - u)).ln()
}

/// Each loss's optimal predicted proportion `ŝ*` for every `u` of `us` (other parameters from
/// `params`; `params.u` is ignored). Returns one row per loss of `losses`, in that order.
///
/// Fast by construction: CE, and CE+L1 / CE+KL at `T = 1`, are exactly unbiased (`ŝ* = u`,
/// THEORY.md's stationarity); log-Dice shares Dice's minimizer (`−log` is monotone); every
/// other loss is minimized once per `u` by Brent's method in a small bracket around a guess
/// extrapolated (in `logit u`) from the optima at the previous `u` values, so `us` should be
/// sorted for speed (any order is correct): successive parabolic steps from the guess, and
/// where they fail (the first `u`, or a non-convex stencil) a downhill bracket from the guess
/// (`logit u` for the first) refined by Brent's method, and failing that the full search of
/// [`Family::minimize`]. CE+L1 and CE+KL at `T ≠ 1` always use the full search (their
/// curves carry quadrature wiggles at a sharp temperature, so a local search can stop early).
pub fn bias_map(
    params: FamilyParams,
    us: &[f64],
    losses: &[FamilyLoss],
) -> Result<Vec<(FamilyLoss, Vec<f64>)>, LossError> {
    let families = us
        .iter()
        .map(|&u| Family::new(FamilyParams { u, ..params }))
        .collect::<Result<Vec<Family>, LossError>>()?;
    let exact = |l: FamilyLoss| l.sits_at_u(params.temp);
    let mut solved: Vec<(FamilyLoss, Vec<f64>)> = Vec::new();
    for &loss in losses {
        let key = canonical(loss);
        if exact(key) || solved.iter().any(|(l, _)| *l == key) {
            continue;
        }
        let mut out = Vec::with_capacity(us.len());
        // (logit u, b*) of the previous two optima.
        let mut hist: Vec<(f64, f64)> = Vec::new();
        // At T ≠ 1 the region terms of CE+L1 / CE+KL are sharp (σ(T·z)) and the quadrature
        // leaves small wiggles with spurious local minima: no warm start there.
        let full = matches!(key, FamilyLoss::CeL1 | FamilyLoss::CeKl);
        for fam in &families {
            let u = fam.params().u;
            let lu = logit(u);
            let f = |b: f64| fam.loss(key, &fam.at(b));
            let guess = match hist.as_slice() {
                [] => None,
                [(l1, b1)] => Some(b1 + (lu - l1)),
                [.., (l2, b2), (l1, b1)] => {
                    let slope = if (l1 - l2).abs() > 1e-12 {
                        (b1 - b2) / (l1 - l2)
                    } else {
                        1.0
                    };
                    Some(b1 + slope * (lu - l1))
                }
            };
            let b = match guess.filter(|_| !full).and_then(|g| parabolic(&f, g)) {
                Some(b) => b,
                None if full => fam.minimize(key).b,
                None => match bracket(&f, guess.unwrap_or(lu), 0.25, 60.0) {
                    Some((lo, hi)) => brent(&f, lo, hi, 1e-9),
                    None => fam.minimize(key).b,
                },
            };
            hist.push((lu, b));
            if hist.len() > 2 {
                hist.remove(0);
            }
            out.push(fam.at(b).s_hat);
        }
        solved.push((key, out));
    }
    Ok(losses
        .iter()
        .map(|&loss| {
            let key = canonical(loss);
            let v = if exact(key) {
                us.to_vec()
            } else {
                solved
                    .iter()
                    .find(|(l, _)| *l == key)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            (loss, v)
        })
        .collect())
}
