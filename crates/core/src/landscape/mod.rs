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
//! [`grid()`] is the fast path. Every loss needs, per class, only `E[σ(y)]`, `E[σ(Ty)]` and
//! `E[log(2 cosh(y/2))]` (`log σ(±y) = ±y/2 − log(2 cosh(y/2))`). Per row of `t` the trapezoid
//! nodes of every class are laid on a lattice of logits commensurate with the `b` columns
//! (logit spacing ≤ 1.5, `ε` spacing ≤ 0.9, `ε ∈ [−6.5, 6.5]`), the functions are tabulated on
//! that lattice (the transcendental part, `|y| ≤ 40`, once per lattice; Gaussian weights by a
//! product recurrence), and a row's sums are axpys of weights with table slices — no
//! transcendental function per cell. Where `tσ` is wider than 8 columns the sums are taken at
//! knots `tσ/8` apart and interpolated by cubics; `σ(T y)` is the same computation at
//! `(Tb, Tt)`. Values agree with [`value`] to about 1e-5 relative (the tests check 3e-5);
//! two 160×160 grids take about 4 ms natively.
//!
//! ## Files
//! - `model.rs`: the parameters, [`Landscape`] and its point evaluations (the family's
//!   quadrature, refined at large `tσ`).
//! - `grid.rs`: the fast grid ([`grid()`], [`Grid`], [`minimum`]).
//! - `descent.rs`: descent paths ([`descend`], [`Descent`], [`refine_minimum`]).
//!
//! [`Family`]: crate::family::Family
//! [`Family::loss`]: crate::family::Family::loss

mod descent;
mod grid;
mod model;

pub use descent::{
    descend, descend_within, refine_minimum, Descent, Method, Path, PathStatus, DESCENT_BOX,
};
pub use grid::{grid, minimum, Grid, GridMinimum, RunOff, DEFAULT_B_RANGE, DEFAULT_LOG_T_RANGE};
pub use model::{
    point, value, value_grad, Bounds, Landscape, LandscapeParams, LandscapePoint, MAX_NODES,
};
