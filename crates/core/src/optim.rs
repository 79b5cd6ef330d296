//! The optimisers the core shares: the Adam update rule (the landscape's descent paths in
//! `f64`, the toy trainer in `f32`) and two 1-D minimisers ([`golden`], [`brent`]).

use std::ops::{Add, Div, Mul, Sub};

/// A float type [`AdamStep`] runs in (`f32` or `f64`). Every operation is IEEE-rounded on
/// its own (no fused multiply-add), so the rule gives the same bits on every platform.
pub trait AdamFloat:
    Copy + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Div<Output = Self>
{
    /// One.
    const ONE: Self;
    /// Conversion from `f64` (rounding to nearest for `f32`).
    fn from_f64(v: f64) -> Self;
    /// The square root.
    fn sqrt(self) -> Self;
}

impl AdamFloat for f32 {
    const ONE: f32 = 1.0;
    #[inline]
    fn from_f64(v: f64) -> f32 {
        v as f32
    }
    #[inline]
    fn sqrt(self) -> f32 {
        f32::sqrt(self)
    }
}

impl AdamFloat for f64 {
    const ONE: f64 = 1.0;
    #[inline]
    fn from_f64(v: f64) -> f64 {
        v
    }
    #[inline]
    fn sqrt(self) -> f64 {
        f64::sqrt(self)
    }
}

/// Adam (Kingma & Ba 2015, bias-corrected): the constants of step `k` and the update of one
/// coordinate, written once for the landscape's descent paths (`f64`) and the trainer (`f32`).
///
/// With gradient `g`: `m ← β₁m + (1 − β₁)g`, `v ← β₂v + (1 − β₂)g·g`, and the parameter moves
/// by `−lr·(m/c₁)/(√(v/c₂) + ε)` with `cᵢ = 1 − βᵢᵏ` (computed in `f64`, then rounded to `T`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamStep<T> {
    lr: T,
    beta1: T,
    beta2: T,
    eps: T,
    c1: T,
    c2: T,
}

impl<T: AdamFloat> AdamStep<T> {
    /// The constants of step `k ≥ 1` (1 for the first step): `lr`, `β₁`, `β₂`, `ε` rounded to
    /// `T`, and the bias corrections `1 − βᵢᵏ` computed in `f64`, then rounded.
    pub fn new(lr: f64, beta1: f64, beta2: f64, eps: f64, k: i32) -> Self {
        Self {
            lr: T::from_f64(lr),
            beta1: T::from_f64(beta1),
            beta2: T::from_f64(beta2),
            eps: T::from_f64(eps),
            c1: T::from_f64(1.0 - beta1.powi(k)),
            c2: T::from_f64(1.0 - beta2.powi(k)),
        }
    }

    /// Updates the moments `m`, `v` of one coordinate with its gradient `g` and returns the
    /// step `lr·(m/c₁)/(√(v/c₂) + ε)`, to be **subtracted** from the coordinate.
    #[inline]
    pub fn step(&self, m: &mut T, v: &mut T, g: T) -> T {
        *m = self.beta1 * *m + (T::ONE - self.beta1) * g;
        *v = self.beta2 * *v + (T::ONE - self.beta2) * g * g;
        self.lr * (*m / self.c1) / ((*v / self.c2).sqrt() + self.eps)
    }
}

/// Golden-section search for the minimum of a unimodal `f` on `[a, c]`, to a bracket width of
/// `tol` (shared by the family sweep and the ambiguous-pixel optima).
pub fn golden(f: &dyn Fn(f64) -> f64, mut a: f64, mut c: f64, tol: f64) -> f64 {
    let g = 0.5 * (5f64.sqrt() - 1.0);
    let (mut x1, mut x2) = (c - g * (c - a), a + g * (c - a));
    let (mut f1, mut f2) = (f(x1), f(x2));
    while c - a > tol {
        if f1 < f2 {
            c = x2;
            x2 = x1;
            f2 = f1;
            x1 = c - g * (c - a);
            f1 = f(x1);
        } else {
            a = x1;
            x1 = x2;
            f1 = f2;
            x2 = a + g * (c - a);
            f2 = f(x2);
        }
    }
    0.5 * (a + c)
}

/// Brent's minimization (golden section with parabolic steps) of `f` on `[a, b]` to an
/// absolute tolerance `tol` in the argument (shared by the bias map and the family sweep: on
/// a smooth minimum it needs a handful of evaluations where [`golden`] needs thirty).
pub fn brent(f: &dyn Fn(f64) -> f64, mut a: f64, mut b: f64, tol: f64) -> f64 {
    const CGOLD: f64 = 0.381_966_011_250_105_1;
    let mut x = a + CGOLD * (b - a);
    let (mut w, mut v) = (x, x);
    let mut fx = f(x);
    let (mut fw, mut fv) = (fx, fx);
    let (mut d, mut e) = (0.0f64, 0.0f64);
    for _ in 0..200 {
        let xm = 0.5 * (a + b);
        let tol1 = tol + 1e-12 * x.abs();
        let tol2 = 2.0 * tol1;
        if (x - xm).abs() <= tol2 - 0.5 * (b - a) {
            break;
        }
        let mut golden = true;
        if e.abs() > tol1 {
            // Parabola through x, w, v.
            let r = (x - w) * (fx - fv);
            let mut q = (x - v) * (fx - fw);
            let mut p = (x - v) * q - (x - w) * r;
            q = 2.0 * (q - r);
            if q > 0.0 {
                p = -p;
            }
            q = q.abs();
            let etemp = e;
            if p.abs() < (0.5 * q * etemp).abs() && p > q * (a - x) && p < q * (b - x) {
                e = d;
                d = p / q;
                let u = x + d;
                if u - a < tol2 || b - u < tol2 {
                    d = tol1.copysign(xm - x);
                }
                golden = false;
            }
        }
        if golden {
            e = if x >= xm { a - x } else { b - x };
            d = CGOLD * e;
        }
        let u = if d.abs() >= tol1 {
            x + d
        } else {
            x + tol1.copysign(d)
        };
        let fu = f(u);
        if fu <= fx {
            if u >= x {
                a = x;
            } else {
                b = x;
            }
            (v, fv, w, fw, x, fx) = (w, fw, x, fx, u, fu);
        } else {
            if u < x {
                a = u;
            } else {
                b = u;
            }
            if fu <= fw || w == x {
                (v, fv, w, fw) = (w, fw, u, fu);
            } else if fu <= fv || v == x || v == w {
                (v, fv) = (u, fu);
            }
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The trainer's constants were the `f32` literals `0.9`, `0.999`, `1e-8`; they are now
    /// rounded from the `f64` values. Both roundings must agree for the rule to be unchanged.
    #[test]
    fn f32_constants_round_like_literals() {
        assert_eq!((0.9f64 as f32).to_bits(), 0.9f32.to_bits());
        assert_eq!((0.999f64 as f32).to_bits(), 0.999f32.to_bits());
        assert_eq!((1e-8f64 as f32).to_bits(), 1e-8f32.to_bits());
    }

    /// Against the update written out by hand (first two steps, `f64`): the moments and the
    /// step, and the bias correction making the first step `lr·sign(g)` (up to `ε`).
    #[test]
    fn adam_matches_the_formula() {
        let (lr, b1, b2, eps) = (0.1, 0.9, 0.999, 1e-8);
        let (mut m, mut v) = (0.0f64, 0.0f64);
        let s1 = AdamStep::<f64>::new(lr, b1, b2, eps, 1).step(&mut m, &mut v, -2.0);
        assert!((s1 + lr).abs() < 1e-8, "{s1}");
        let s2 = AdamStep::<f64>::new(lr, b1, b2, eps, 2).step(&mut m, &mut v, 3.0);
        let (m_ref, v_ref) = (0.9 * -0.2 + 0.1 * 3.0, 0.999 * 0.004 + 0.001 * 9.0);
        assert!((m - m_ref).abs() < 1e-15 && (v - v_ref).abs() < 1e-15);
        let want = lr * (m_ref / (1.0 - 0.81)) / ((v_ref / (1.0 - 0.999f64.powi(2))).sqrt() + eps);
        assert!((s2 - want).abs() < 1e-12, "{s2} vs {want}");
    }

    #[test]
    fn minimisers_find_a_parabola_minimum() {
        // Zero only at 0.3 (no flat offset, so the minimum is resolved to the tolerance),
        // and not symmetric about it.
        let f = |x: f64| (x - 0.3).powi(2) * (1.0 + x * x);
        assert!((golden(&f, -2.0, 5.0, 1e-10) - 0.3).abs() < 1e-8);
        assert!((brent(&f, -2.0, 5.0, 1e-10) - 0.3).abs() < 1e-8);
    }
}
