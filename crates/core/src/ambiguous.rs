//! Ambiguous pixels (THEORY.md, "Ambiguous pixels"), in the population limit.
//!
//! An image has a fraction `c` of certain foreground pixels (predicted 1), a fraction `a` of
//! ambiguous pixels, each labelled foreground with probability `p` and predicted `q`, and the
//! rest certain background (predicted 0). Losses are **expected** (population) values with the
//! expected counts, as fractions of the image:
//!
//! `TP = c + a p q`, `Y = c + a p` (label volume), `S = c + a q` (predicted volume).
//!
//! - CE is the image mean, `CE(q) = a·[−p log q − (1 − p) log(1 − q)]`: the certain pixels are
//!   predicted exactly and add 0, so this is `a` times the ambiguous pixels' own mean.
//! - Dice (foreground, plain) `= 1 − 2TP/(Y + S)`; log-Dice `= −log(2TP/(Y + S))`.
//! - Dice+CE `= Dice + CE` (MONAI `DiceCELoss` weights, no smoothing: `N → ∞`).
//! - CE+L1 `= CE + λ|S − Y|`; CE+KL `= CE + λ[Y log(Y/S) + (1 − Y) log((1 − Y)/(1 − S))]`.
//!
//! Optima: CE, CE+L1 and CE+KL at `q* = p` exactly (calibrated; the penalties vanish there).
//! Dice is linear-fractional in `q`, so monotone: `q* ∈ {0, 1}`, with
//! `sign(dDice/dq) = sign(a p² + 2c p − c)`, hence the flip at
//! `p_flip = (√(c² + a c) − c)/a` (0 below, 1 above); log-Dice has the same optimum.
//! Dice+CE is minimised numerically.
//!
//! **THEORY.md's numbers.** With `c = a = 5%` this model gives `p_flip = √2 − 1 ≈ 0.414` and a
//! Dice-optimal volume bias `(S − Y)/Y` of −9.1% at `p = 0.1` (`q* = 0`), −23.1% at `p = 0.3`
//! (`q* = 0`) and +33.3% at `p = 0.5` (`q* = 1`); THEORY.md quotes −10%, +58% and +31%.
//! +58% at `p = 0.3` is out of reach of any `q ∈ [0, 1]` here (at most `(c + a)/(c + a p) − 1
//! = +53.8%`); neither the expectation over label realisations with a finite `N` nor the
//! two-class mean Dice reproduces the quoted numbers (see the tests).

use crate::error::LossError;
use crate::special::golden;

/// A loss of the ambiguous-pixel model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AmbiguousLoss {
    /// Cross-entropy (image mean).
    Ce,
    /// Foreground plain Dice loss `1 − Dice`.
    Dice,
    /// `−log Dice`.
    LogDice,
    /// Dice loss + CE.
    DiceCe,
    /// `CE + λ|S − Y|`.
    CeL1,
    /// `CE + λ KL(Y ‖ S)` (foreground + background).
    CeKl,
}

impl AmbiguousLoss {
    /// Every loss, in legend order.
    pub const ALL: [AmbiguousLoss; 6] = [
        AmbiguousLoss::Ce,
        AmbiguousLoss::Dice,
        AmbiguousLoss::LogDice,
        AmbiguousLoss::DiceCe,
        AmbiguousLoss::CeL1,
        AmbiguousLoss::CeKl,
    ];

    /// Short key for `data-testid="opt-<key>"` hooks and URLs.
    pub fn key(self) -> &'static str {
        match self {
            AmbiguousLoss::Ce => "ce",
            AmbiguousLoss::Dice => "dice",
            AmbiguousLoss::LogDice => "log-dice",
            AmbiguousLoss::DiceCe => "dice-ce",
            AmbiguousLoss::CeL1 => "ce-l1",
            AmbiguousLoss::CeKl => "ce-kl",
        }
    }

    /// Legend label.
    pub fn label(self) -> &'static str {
        match self {
            AmbiguousLoss::Ce => "CE",
            AmbiguousLoss::Dice => "Dice",
            AmbiguousLoss::LogDice => "log-Dice",
            AmbiguousLoss::DiceCe => "Dice+CE",
            AmbiguousLoss::CeL1 => "CE+λL1",
            AmbiguousLoss::CeKl => "CE+λKL",
        }
    }
}

/// The validated model: `c ∈ (0, 1)`, `a ∈ (0, 1]`, `c + a ≤ 1`, `λ ≥ 0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ambiguous {
    c: f64,
    a: f64,
    lambda: f64,
}

fn bad(name: &'static str, value: f64, reason: &'static str) -> LossError {
    LossError::BadParameter {
        name,
        value,
        reason,
    }
}

fn check_p(p: f64) -> Result<(), LossError> {
    if p.is_finite() && (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(bad("p", p, "must lie in [0, 1]"))
    }
}

/// `x log(x/y)` with `0 log 0 = 0` and `+∞` for `x > 0 = y`.
fn xlog(x: f64, y: f64) -> f64 {
    if x <= 0.0 {
        0.0
    } else if y <= 0.0 {
        f64::INFINITY
    } else {
        x * (x / y).ln()
    }
}

/// `−[p log q + (1 − p) log(1 − q)]` with `0 log 0 = 0`.
fn bce(p: f64, q: f64) -> f64 {
    let t1 = if p > 0.0 { -p * q.ln() } else { 0.0 };
    let t0 = if p < 1.0 {
        -(1.0 - p) * (1.0 - q).ln()
    } else {
        0.0
    };
    t1 + t0
}

impl Ambiguous {
    /// Validates the fractions and the region-term weight.
    pub fn new(c: f64, a: f64, lambda: f64) -> Result<Self, LossError> {
        if !(c.is_finite() && c > 0.0 && c < 1.0) {
            return Err(bad("c", c, "must lie in (0, 1)"));
        }
        if !(a.is_finite() && a > 0.0 && a <= 1.0) {
            return Err(bad("a", a, "must lie in (0, 1]"));
        }
        if c + a > 1.0 + 1e-12 {
            return Err(bad("a", a, "c + a must be at most 1"));
        }
        if !(lambda.is_finite() && lambda >= 0.0) {
            return Err(bad("lambda", lambda, "must be a finite number >= 0"));
        }
        Ok(Self { c, a, lambda })
    }

    /// Certain foreground fraction `c`.
    pub fn c(&self) -> f64 {
        self.c
    }

    /// Ambiguous fraction `a`.
    pub fn a(&self) -> f64 {
        self.a
    }

    /// Region-term weight `λ`.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    /// Expected `(TP, Y, S)` as fractions of the image.
    pub fn counts(&self, p: f64, q: f64) -> (f64, f64, f64) {
        let (c, a) = (self.c, self.a);
        (c + a * p * q, c + a * p, c + a * q)
    }

    /// Expected plain foreground Dice `2TP/(Y + S)`.
    pub fn dice(&self, p: f64, q: f64) -> f64 {
        let (tp, y, s) = self.counts(p, q);
        2.0 * tp / (y + s)
    }

    /// Image-mean CE, `a·[−p log q − (1 − p) log(1 − q)]` (`+∞` at a confidently wrong `q`).
    pub fn ce(&self, p: f64, q: f64) -> f64 {
        self.a * bce(p, q)
    }

    /// The value of `loss` at label probability `p` and prediction `q` (both in `[0, 1]`, not
    /// validated here).
    pub fn loss(&self, loss: AmbiguousLoss, p: f64, q: f64) -> f64 {
        let (_, y, s) = self.counts(p, q);
        match loss {
            AmbiguousLoss::Ce => self.ce(p, q),
            AmbiguousLoss::Dice => 1.0 - self.dice(p, q),
            AmbiguousLoss::LogDice => -self.dice(p, q).ln(),
            AmbiguousLoss::DiceCe => 1.0 - self.dice(p, q) + self.ce(p, q),
            AmbiguousLoss::CeL1 => self.ce(p, q) + self.lambda * (s - y).abs(),
            AmbiguousLoss::CeKl => {
                self.ce(p, q) + self.lambda * (xlog(y, s) + xlog(1.0 - y, 1.0 - s))
            }
        }
    }

    /// The label probability at which the Dice optimum flips from `q* = 0` to `q* = 1`:
    /// the positive root of `a p² + 2c p − c`, `(√(c² + a c) − c)/a`.
    pub fn flip_threshold(&self) -> f64 {
        let (c, a) = (self.c, self.a);
        // Written as c/(√(c² + ac) + c) to avoid cancellation for small a.
        c / ((c * c + a * c).sqrt() + c)
    }

    /// The optimal prediction `q*` of `loss` at label probability `p`.
    ///
    /// Exact for CE, CE+L1, CE+KL (`p`) and Dice, log-Dice (`0` below the flip threshold, `1`
    /// above, `0` exactly at it, where every `q` is optimal); Dice+CE by a grid over the
    /// log-odds of `q` refined by golden section (to about 1e-9).
    pub fn optimum(&self, loss: AmbiguousLoss, p: f64) -> Result<f64, LossError> {
        check_p(p)?;
        Ok(match loss {
            AmbiguousLoss::Ce | AmbiguousLoss::CeL1 | AmbiguousLoss::CeKl => p,
            AmbiguousLoss::Dice | AmbiguousLoss::LogDice => {
                if p > self.flip_threshold() {
                    1.0
                } else {
                    0.0
                }
            }
            AmbiguousLoss::DiceCe => self.minimize_numerically(loss, p),
        })
    }

    fn minimize_numerically(&self, loss: AmbiguousLoss, p: f64) -> f64 {
        // The ends are candidates too (CE is finite there when p ∈ {0, 1}).
        let f = |t: f64| self.loss(loss, p, crate::special::sigmoid(t));
        let (lo, hi, steps) = (-40.0, 40.0, 320);
        let h = (hi - lo) / steps as f64;
        let (mut best, mut best_v) = (0usize, f64::INFINITY);
        for j in 0..=steps {
            let v = f(lo + h * j as f64);
            if v < best_v {
                best = j;
                best_v = v;
            }
        }
        let a = lo + h * best.saturating_sub(1) as f64;
        let c = lo + h * (best + 1).min(steps) as f64;
        let t = golden(&f, a, c, 1e-10);
        let q = crate::special::sigmoid(t);
        // Compare with the exact ends.
        let mut out = q;
        let mut v = self.loss(loss, p, q);
        for end in [0.0, 1.0] {
            let ve = self.loss(loss, p, end);
            if ve < v {
                out = end;
                v = ve;
            }
        }
        out
    }

    /// Predicted volume bias `(S − Y)/Y` at prediction `q`.
    pub fn volume_bias(&self, p: f64, q: f64) -> f64 {
        let (_, y, s) = self.counts(p, q);
        (s - y) / y
    }
}

/// One loss's optimum at the current `p`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AmbiguousOptimum {
    /// The loss.
    pub loss: AmbiguousLoss,
    /// `q*`.
    pub q: f64,
    /// The loss value at `q*`.
    pub value: f64,
    /// Predicted volume bias `(S − Y)/Y` at `q*`.
    pub volume_bias: f64,
}

/// Everything the ambiguous-pixels view draws.
#[derive(Debug, Clone, PartialEq)]
pub struct AmbiguousView {
    /// Certain foreground fraction.
    pub c: f64,
    /// Ambiguous fraction.
    pub a: f64,
    /// Region-term weight.
    pub lambda: f64,
    /// Current label probability.
    pub p: f64,
    /// Dice's flip threshold in `p`.
    pub flip: f64,
    /// Label probabilities of the `q*(p)` curves, evenly on `[0, 1]`.
    pub ps: Vec<f64>,
    /// `q*(p)` per loss of [`AmbiguousLoss::ALL`].
    pub q_star: Vec<(AmbiguousLoss, Vec<f64>)>,
    /// Predictions of the loss curves, evenly on `[0.001, 0.999]` (CE is infinite at the ends).
    pub qs: Vec<f64>,
    /// Raw loss values at `qs` and the current `p`, per loss.
    pub loss_curves: Vec<(AmbiguousLoss, Vec<f64>)>,
    /// The same rescaled to `[0, 1]` per curve (`(v − min)/(max − min)` over `qs`), so that
    /// the shapes compare; the optima are rescaled with each curve's own min and max.
    pub normalized: Vec<(AmbiguousLoss, Vec<f64>)>,
    /// Each loss's optimum at the current `p`.
    pub optima: Vec<AmbiguousOptimum>,
    /// Each optimum's value on the normalised scale (may be slightly below 0 for an optimum
    /// at an end outside `qs`).
    pub optima_normalized: Vec<f64>,
}

impl AmbiguousView {
    /// The optimum of one loss.
    pub fn optimum(&self, loss: AmbiguousLoss) -> Option<AmbiguousOptimum> {
        self.optima.iter().find(|o| o.loss == loss).copied()
    }
}

/// Computes the view: `q*(p)` for every loss at `n_p` values of `p`, and every loss against
/// `q` at `n_q` values for the current `p`.
pub fn ambiguous_view(
    model: &Ambiguous,
    p: f64,
    n_p: usize,
    n_q: usize,
) -> Result<AmbiguousView, LossError> {
    check_p(p)?;
    let (n_p, n_q) = (n_p.clamp(2, 10_000), n_q.clamp(2, 10_000));
    let ps: Vec<f64> = (0..n_p).map(|j| j as f64 / (n_p - 1) as f64).collect();
    let mut q_star = Vec::with_capacity(AmbiguousLoss::ALL.len());
    for loss in AmbiguousLoss::ALL {
        let v = ps
            .iter()
            .map(|&x| model.optimum(loss, x))
            .collect::<Result<Vec<f64>, _>>()?;
        q_star.push((loss, v));
    }
    let qs: Vec<f64> = (0..n_q)
        .map(|j| 0.001 + 0.998 * j as f64 / (n_q - 1) as f64)
        .collect();
    let mut loss_curves = Vec::new();
    let mut normalized = Vec::new();
    let mut optima = Vec::new();
    let mut optima_normalized = Vec::new();
    for loss in AmbiguousLoss::ALL {
        let v: Vec<f64> = qs.iter().map(|&q| model.loss(loss, p, q)).collect();
        let (lo, hi) = v
            .iter()
            .filter(|x| x.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| {
                (l.min(x), h.max(x))
            });
        let span = if hi > lo { hi - lo } else { 1.0 };
        let q = model.optimum(loss, p)?;
        let value = model.loss(loss, p, q);
        optima.push(AmbiguousOptimum {
            loss,
            q,
            value,
            volume_bias: model.volume_bias(p, q),
        });
        optima_normalized.push((value - lo) / span);
        normalized.push((loss, v.iter().map(|x| (x - lo) / span).collect()));
        loss_curves.push((loss, v));
    }
    Ok(AmbiguousView {
        c: model.c,
        a: model.a,
        lambda: model.lambda,
        p,
        flip: model.flip_threshold(),
        ps,
        q_star,
        qs,
        loss_curves,
        normalized,
        optima,
        optima_normalized,
    })
}
