//! The shared matching term (THEORY.md, "The two decompositions", the log-Dice paragraph).
//!
//! Both losses are a matching term plus a region-size penalty, and after Jensen's inequality
//! the two matching terms are the *same* per-class quantities `C_k` weighted differently:
//!
//! * CE's matching term is `Σ_k u_k C_k`, which is CE itself (classes weighted by frequency);
//! * Dice's matching term is `(1/K) Σ_k −log m_k`, and since `−log m_k ≤ C_k` (Jensen) it is
//!   bounded by `(1/K) Σ_k C_k`: every class weighted equally. That bound is PyTorch's
//!   `F.cross_entropy(weight=1/u)`: its weighted mean `Σ_i w_{y_i}(−log s_{y_i,i}) / Σ_i w_{y_i}`
//!   with `w_k = 1/u_k` is `Σ_k (1/u_k)·u_k C_k / Σ_k (1/u_k)·u_k = (1/K) Σ_k C_k`.
//!
//! Here `C_k = mean_{i∈Ω_k} −log s_{k,i}` and `m_k = mean_{i∈Ω_k} s_{k,i}` need per-pixel
//! predictions, which come from DiceLens's three-class logit model (not the paper's): a pixel
//! of class `y` has logits `z_j = κ·[y = j] + σ·ε_j + b_j` with independent standard normal
//! `ε_j` and a softmax over `j`; the biases `b` (`b₀ = 0`) are solved so that the predicted
//! proportions `ŝ_j = Σ_y u_y E[softmax_j(z)]` equal the requested ones.
//!
//! Expectations are deterministic quadratures, exact in the dimension they drop: a softmax
//! does not change when the same number is added to every logit, so only the noise's
//! component in the plane orthogonal to `(1, 1, 1)` matters; it is a standard normal in two
//! dimensions, integrated with the trapezoid rule on a square grid (step [`step_for`]`(σ)`).

use crate::error::LossError;
use crate::simplex::simplex_point;

/// Grid step (in standard deviations of the noise) of the live view's quadrature at noise `σ`.
///
/// The rule is the trapezoid rule on a square grid, which converges geometrically for
/// integrands analytic in a strip. The softmax and `log Σ e^{z}` have complex singularities
/// `π` logit units away in a logit difference; a difference is `√2·σ` times a grid coordinate,
/// so the strip is `π/(√2σ)` wide and the error about `exp(−√2π²/(σh))`. With
/// `h = min(½, 0.7/σ)` that is about `2e-9`; `tests/matching.rs` checks the values against a
/// grid three times finer.
pub fn step_for(sigma: f64) -> f64 {
    if sigma > 1.4 {
        0.7 / sigma
    } else {
        0.5
    }
}

/// The grid's extent: points farther than this many standard deviations from the centre are
/// dropped (the Gaussian mass outside is `e^{−24.5} ≈ 2e-11`).
pub const GRID_RADIUS: f64 = 7.0;

/// Smallest predicted proportion the model is asked to reach: a softmax with finite biases
/// never predicts an empty class, and below this the biases run off.
pub const S_MIN: f64 = 1e-4;

/// The bias solve stops when every `|ŝ_j − s_j| ≤ SOLVE_TOL · s_j`.
pub const SOLVE_TOL: f64 = 1e-10;

/// Largest `κ` and `σ` the model accepts (the app's sliders stop at 5 and 4).
pub const PARAM_MAX: f64 = 20.0;

/// Number of classes of the model.
pub const K: usize = 3;

/// The quadrature over the noise that a softmax sees: points `d ∈ ℝ³` (noise offsets, to be
/// multiplied by `σ`) orthogonal to `(1, 1, 1)`, with weights summing to 1.
#[derive(Debug, Clone)]
pub struct NoiseRule {
    points: Vec<([f64; 3], f64)>,
}

impl NoiseRule {
    /// The trapezoid rule with grid step `h` (standard deviations) over the disc of radius
    /// [`GRID_RADIUS`]; `h` is clamped to `[0.02, 1]`.
    pub fn new(h: f64) -> Self {
        let h = if h.is_finite() {
            h.clamp(0.02, 1.0)
        } else {
            0.5
        };
        let half = (GRID_RADIUS / h).floor() as i64;
        // An orthonormal basis of the plane Σ_j d_j = 0.
        let e1 = [
            std::f64::consts::FRAC_1_SQRT_2,
            -std::f64::consts::FRAC_1_SQRT_2,
            0.0,
        ];
        let r6 = 1.0 / 6f64.sqrt();
        let e2 = [r6, r6, -2.0 * r6];
        let mut points = Vec::new();
        for a in -half..=half {
            for b in -half..=half {
                let (xa, xb) = (a as f64 * h, b as f64 * h);
                let r2 = xa * xa + xb * xb;
                if r2 > GRID_RADIUS * GRID_RADIUS {
                    continue;
                }
                points.push((
                    [0, 1, 2].map(|j| xa * e1[j] + xb * e2[j]),
                    (-0.5 * r2).exp(),
                ));
            }
        }
        let total: f64 = points.iter().map(|p| p.1).sum();
        for p in &mut points {
            p.1 /= total;
        }
        Self { points }
    }

    /// The one-point rule (no noise: `σ = 0`).
    pub fn exact_without_noise() -> Self {
        Self {
            points: vec![([0.0; 3], 1.0)],
        }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// The points `d` (noise offsets per unit `σ`, orthogonal to `(1, 1, 1)`) and weights.
    pub fn points(&self) -> &[([f64; 3], f64)] {
        &self.points
    }

    /// Whether the rule has no points (never, for a rule built by this module).
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

/// Expectations over the pixels of one ground-truth class `y` at biases `b`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassMoments {
    /// `E[s_j]` for each class `j`.
    pub p: [f64; 3],
    /// `E[−log s_y]` (this class's CE matching term `C_y`).
    pub nll: f64,
    /// `E[log Σ_j e^{z_j}]`.
    pub lse: f64,
    /// `E[diag(s) − s sᵀ]` (the Hessian of `E[lse]` in `b`).
    pub cov: [[f64; 3]; 3],
}

/// The expectations for pixels of class `y` under the rule.
pub fn class_moments(
    y: usize,
    kappa: f64,
    sigma: f64,
    b: [f64; 3],
    rule: &NoiseRule,
) -> ClassMoments {
    let mut out = ClassMoments {
        p: [0.0; 3],
        nll: 0.0,
        lse: 0.0,
        cov: [[0.0; 3]; 3],
    };
    for &(d, w) in &rule.points {
        let z: [f64; 3] =
            std::array::from_fn(|j| b[j] + sigma * d[j] + if j == y { kappa } else { 0.0 });
        // The largest logit's exponential is 1: two exp calls per point, not three.
        let im = if z[0] >= z[1] && z[0] >= z[2] {
            0
        } else if z[1] >= z[2] {
            1
        } else {
            2
        };
        let mx = z[im];
        let e: [f64; 3] = std::array::from_fn(|j| if j == im { 1.0 } else { (z[j] - mx).exp() });
        let sum = e[0] + e[1] + e[2];
        let lse = mx + sum.ln();
        let inv = 1.0 / sum;
        let s = e.map(|v| v * inv);
        out.lse += w * lse;
        out.nll += w * (lse - z[y]);
        for j in 0..3 {
            out.p[j] += w * s[j];
            for l in j..3 {
                out.cov[j][l] -= w * s[j] * s[l];
            }
        }
    }
    // E[diag(s) − s sᵀ]: the diagonal adds E[s_j]; the lower triangle mirrors the upper.
    for j in 0..3 {
        out.cov[j][j] += out.p[j];
        for l in 0..j {
            out.cov[j][l] = out.cov[l][j];
        }
    }
    out
}

/// One class's matching quantities.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassMatching {
    /// Class index.
    pub class: usize,
    /// Ground-truth proportion `u_k`.
    pub u: f64,
    /// The model's predicted proportion `ŝ_k`.
    pub s_hat: f64,
    /// `C_k = mean_{i∈Ω_k} −log s_{k,i}`.
    pub c: f64,
    /// `m_k = mean_{i∈Ω_k} s_{k,i}` (soft recall).
    pub m: f64,
    /// Dice's matching term `−log m_k`.
    pub neg_log_m: f64,
    /// The Jensen gap `C_k + log m_k ≥ 0`.
    pub jensen_gap: f64,
    /// CE's weight on `C_k`: `u_k`.
    pub weight_ce: f64,
    /// The Dice bound's weight on `C_k`: `1/K` (PyTorch's `weight = 1/u_k` after its
    /// weighted-mean normalisation).
    pub weight_dice: f64,
    /// PyTorch's unnormalised class weight `1/u_k`.
    pub weight_torch: f64,
}

/// The matching view: per-class terms, both weightings, the bound and its gap.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchingView {
    /// Separation `κ`.
    pub kappa: f64,
    /// Noise `σ`.
    pub sigma: f64,
    /// Ground-truth proportions (on the simplex).
    pub u: [f64; 3],
    /// The requested predicted proportions (on the simplex).
    pub target: [f64; 3],
    /// The solved biases (`b₀ = 0`).
    pub bias: [f64; 3],
    /// The model's predicted proportions (equal to `target` to about `1e-12`).
    pub s_hat: [f64; 3],
    /// Per class.
    pub classes: [ClassMatching; 3],
    /// CE's matching term `Σ_k u_k C_k` (which is CE).
    pub ce: f64,
    /// Dice's matching bound `(1/K) Σ_k C_k` (= `F.cross_entropy(weight=1/u)`).
    pub dice_bound: f64,
    /// Dice's matching term `(1/K) Σ_k −log m_k`.
    pub dice_matching: f64,
    /// `dice_bound − dice_matching = (1/K) Σ_k (C_k + log m_k) ≥ 0`.
    pub gap: f64,
    /// CE's region-size term `KL(u ‖ ŝ)`.
    pub kl: f64,
    /// Dice's region-size term `(1/K) Σ_k log((u_k + ŝ_k)/(2u_k))`.
    pub dice_region: f64,
    /// Population log-Dice `(1/K) Σ_k −log Dice_k = dice_matching + dice_region`.
    pub log_dice: f64,
    /// Newton iterations the bias solve took.
    pub iterations: usize,
}

/// The matching view at ground truth `u`, prediction `s`, separation `κ` and noise `σ`, with
/// the live view's quadrature (grid step [`step_for`]`(σ)`).
pub fn matching_view(
    u: [f64; 3],
    s: [f64; 3],
    kappa: f64,
    sigma: f64,
) -> Result<MatchingView, LossError> {
    matching_view_with(u, s, kappa, sigma, step_for(sigma))
}

/// Checks the inputs: `u`, `s` on the simplex (rescaled when they do not sum to 1), every
/// `u_k > 0` (a class without pixels has no matching term), every `ŝ_k ≥` [`S_MIN`], and
/// `κ, σ ∈ [0, PARAM_MAX]`.
pub fn validate(
    u: [f64; 3],
    s: [f64; 3],
    kappa: f64,
    sigma: f64,
) -> Result<([f64; 3], [f64; 3]), LossError> {
    for (name, v) in [("kappa", kappa), ("sigma", sigma)] {
        if !(v.is_finite() && (0.0..=PARAM_MAX).contains(&v)) {
            return Err(LossError::BadParameter {
                name,
                value: v,
                reason: "must be a finite number in [0, 20]",
            });
        }
    }
    let u = simplex_point("u3", u)?;
    let s = simplex_point("s3", s)?;
    for k in 0..K {
        if u[k] <= 0.0 {
            return Err(LossError::Undefined(format!(
                "class {k} has no pixels (u_{k} = 0): it has no matching term C_{k}, and its \
                 PyTorch weight 1/u_{k} is infinite; give every class some pixels"
            )));
        }
        if s[k] < S_MIN {
            return Err(LossError::Undefined(format!(
                "ŝ_{k} = {} is below {S_MIN}: a softmax with finite biases never predicts an \
                 empty class; choose ŝ_{k} ≥ {S_MIN}",
                s[k]
            )));
        }
    }
    Ok((u, s))
}

/// Solves the biases `b` (`b₀ = 0`) with `ŝ(b) = s`: Newton's method with backtracking on the
/// strictly convex `G(b) = Σ_y u_y E[lse(z)] − Σ_j s_j b_j`, whose gradient is `ŝ(b) − s` and
/// whose Hessian is `Σ_y u_y E[diag(s) − s sᵀ]`. Returns the biases, the per-class moments
/// at them and the iterations.
pub fn solve_biases(
    u: [f64; 3],
    s: [f64; 3],
    kappa: f64,
    sigma: f64,
    rule: &NoiseRule,
    start: Option<[f64; 3]>,
) -> Result<([f64; 3], [ClassMoments; 3], usize), LossError> {
    let eval = |b: [f64; 3]| -> ([ClassMoments; 3], f64, [f64; 3]) {
        let m: [ClassMoments; 3] = std::array::from_fn(|y| class_moments(y, kappa, sigma, b, rule));
        let g =
            (0..3).map(|y| u[y] * m[y].lse).sum::<f64>() - (0..3).map(|j| s[j] * b[j]).sum::<f64>();
        let sh: [f64; 3] = std::array::from_fn(|j| (0..3).map(|y| u[y] * m[y].p[j]).sum());
        (m, g, sh)
    };
    // Start where asked, or where a noiseless, unseparated model would be: softmax(b) = s.
    let mut b = start
        .filter(|b| b.iter().all(|v| v.is_finite()))
        .unwrap_or([0.0, (s[1] / s[0]).ln(), (s[2] / s[0]).ln()]);
    let (mut m, mut g, mut sh) = eval(b);
    let mut steps = 0;
    for it in 0..100 {
        steps = it;
        let grad = [sh[1] - s[1], sh[2] - s[2]];
        let worst = (0..3)
            .map(|j| (sh[j] - s[j]).abs() / s[j])
            .fold(0.0, f64::max);
        if worst <= SOLVE_TOL {
            return Ok((b, m, it));
        }
        let h: [[f64; 2]; 2] = std::array::from_fn(|r| {
            std::array::from_fn(|c| (0..3).map(|y| u[y] * m[y].cov[r + 1][c + 1]).sum())
        });
        let det = h[0][0] * h[1][1] - h[0][1] * h[1][0];
        let newton = if det > 1e-300 && det.is_finite() {
            let d0 = -(h[1][1] * grad[0] - h[0][1] * grad[1]) / det;
            let d1 = -(-h[1][0] * grad[0] + h[0][0] * grad[1]) / det;
            Some([d0, d1])
        } else {
            None
        };
        // The fixed-point step on log ratios, when Newton's is unusable.
        let fallback = [
            (s[1] / sh[1]).ln() - (s[0] / sh[0]).ln(),
            (s[2] / sh[2]).ln() - (s[0] / sh[0]).ln(),
        ];
        let dir = match newton {
            Some(d) if d.iter().all(|v| v.is_finite()) && grad[0] * d[0] + grad[1] * d[1] < 0.0 => {
                d
            }
            _ => fallback,
        };
        // Never more than 5 logit units at once.
        let len = dir[0].abs().max(dir[1].abs());
        let cap = if len > 5.0 { 5.0 / len } else { 1.0 };
        let slope = grad[0] * dir[0] + grad[1] * dir[1];
        let mut t = cap;
        let mut accepted = false;
        for _ in 0..40 {
            let nb = [0.0, b[1] + t * dir[0], b[2] + t * dir[1]];
            let (nm, ng, nsh) = eval(nb);
            // Near the root G's decrease is below its rounding: take the step if it shrinks
            // the residual.
            let nworst = (0..3)
                .map(|j| (nsh[j] - s[j]).abs() / s[j])
                .fold(0.0, f64::max);
            if ng.is_finite() && (ng <= g + 1e-4 * t * slope || nworst < 0.5 * worst) {
                b = nb;
                m = nm;
                g = ng;
                sh = nsh;
                accepted = true;
                break;
            }
            t *= 0.5;
        }
        if !accepted {
            break;
        }
    }
    let worst = (0..3)
        .map(|j| (sh[j] - s[j]).abs() / s[j])
        .fold(0.0, f64::max);
    if worst <= 1e-8 {
        return Ok((b, m, steps));
    }
    Err(LossError::Undefined(format!(
        "the three-class model could not reach ŝ = ({:.4}, {:.4}, {:.4}) at κ = {kappa}, σ = {sigma} \
         (closest: ({:.4}, {:.4}, {:.4}))",
        s[0], s[1], s[2], sh[0], sh[1], sh[2]
    )))
}

/// [`matching_view`] with the trapezoid grid step `h` (standard deviations of the noise).
pub fn matching_view_with(
    u: [f64; 3],
    s: [f64; 3],
    kappa: f64,
    sigma: f64,
    h: f64,
) -> Result<MatchingView, LossError> {
    let (u, s) = validate(u, s, kappa, sigma)?;
    let rule = if sigma == 0.0 {
        NoiseRule::exact_without_noise()
    } else {
        NoiseRule::new(h)
    };
    // A fine grid starts from the biases of a grid twice as coarse (a quarter of the points):
    // Newton then needs about two fine passes instead of five.
    let start = if rule.len() > 1500 {
        solve_biases(u, s, kappa, sigma, &NoiseRule::new(2.0 * h), None)
            .ok()
            .map(|r| r.0)
    } else {
        None
    };
    let (bias, moments, iterations) = solve_biases(u, s, kappa, sigma, &rule, start)?;
    let s_hat: [f64; 3] = std::array::from_fn(|j| (0..3).map(|y| u[y] * moments[y].p[j]).sum());
    let kf = K as f64;
    let classes: [ClassMatching; 3] = std::array::from_fn(|k| {
        let c = moments[k].nll;
        let m = moments[k].p[k];
        ClassMatching {
            class: k,
            u: u[k],
            s_hat: s_hat[k],
            c,
            m,
            neg_log_m: -m.ln(),
            jensen_gap: c + m.ln(),
            weight_ce: u[k],
            weight_dice: 1.0 / kf,
            weight_torch: 1.0 / u[k],
        }
    });
    let ce = classes.iter().map(|c| c.weight_ce * c.c).sum();
    let dice_bound = classes.iter().map(|c| c.weight_dice * c.c).sum();
    let dice_matching = classes.iter().map(|c| c.neg_log_m).sum::<f64>() / kf;
    let kl = (0..3).map(|k| u[k] * (u[k] / s_hat[k]).ln()).sum();
    let dice_region = (0..3)
        .map(|k| ((u[k] + s_hat[k]) / (2.0 * u[k])).ln())
        .sum::<f64>()
        / kf;
    let log_dice = (0..3)
        .map(|k| -(2.0 * u[k] * classes[k].m / (u[k] + s_hat[k])).ln())
        .sum::<f64>()
        / kf;
    Ok(MatchingView {
        kappa,
        sigma,
        u,
        target: s,
        bias,
        s_hat,
        classes,
        ce,
        dice_bound,
        dice_matching,
        gap: dice_bound - dice_matching,
        kl,
        dice_region,
        log_dice,
        iterations,
    })
}
