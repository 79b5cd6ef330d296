//! Descent paths in `(b, ln t)`: gradient descent or Adam, step by step, and a fine local
//! minimisation for readouts.

use super::model::{Bounds, Landscape, LandscapeParams};
use crate::family::FamilyLoss;
use crate::optim::AdamStep;

/// The box [`descend`] keeps `(b, ln t)` in: `b ∈ [−50, 50]`, `t ∈ [0.01, 100]`.
pub const DESCENT_BOX: Bounds = Bounds {
    b: (-50.0, 50.0),
    log_t: (
        -2.0 * std::f64::consts::LN_10,
        2.0 * std::f64::consts::LN_10,
    ),
};

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
                let adam = AdamStep::<f64>::new(lr, beta1, beta2, 1e-8, (step + 1) as i32);
                let mut d = [0.0; 2];
                for c in 0..2 {
                    d[c] = -adam.step(&mut self.m1[c], &mut self.m2[c], g[c]);
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

/// A fine local minimisation from `start` for readouts and tests: gradient descent with Armijo
/// backtracking (the step halves until the value falls enough, and doubles after each accepted
/// step), inside the descent box, for at most `max_steps` steps; returns the point and the value.
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
