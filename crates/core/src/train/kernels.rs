//! The slice kernels of the toy models: the [`Scalar`] type, fixed-order sums and dot
//! products in chunks of 8 (so that they vectorise and stay deterministic), ReLU as a
//! select, and zero padding.

// Index loops over 8-lane chunks read several arrays at once; that is the clearest way to
// write them, and they compile to straight-line code.
#![allow(clippy::needless_range_loop)]

use std::fmt::Debug;
use std::ops::{Add, AddAssign, Mul, Sub};

/// The floating-point type a model computes in (`f32` or `f64`).
pub trait Scalar:
    Copy
    + Default
    + PartialOrd
    + Debug
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + AddAssign
    + Into<f64>
    + 'static
{
    /// Zero.
    const ZERO: Self;
    /// Conversion from `f64` (rounding to nearest for `f32`).
    fn from_f64(v: f64) -> Self;

    /// The slice as `f32` when `Self` is `f32`, else `None`: the convolutions then take the
    /// explicit SIMD kernels (`F32x4` lanes), and the `f64` gradient checks the generic loops
    /// (the branch is resolved at compile time).
    #[inline]
    fn as_f32(_s: &[Self]) -> Option<&[f32]> {
        None
    }

    /// [`Scalar::as_f32`], mutable.
    #[inline]
    fn as_f32_mut(_s: &mut [Self]) -> Option<&mut [f32]> {
        None
    }
}

impl Scalar for f32 {
    const ZERO: f32 = 0.0;
    #[inline]
    fn from_f64(v: f64) -> f32 {
        v as f32
    }
    #[inline]
    fn as_f32(s: &[f32]) -> Option<&[f32]> {
        Some(s)
    }
    #[inline]
    fn as_f32_mut(s: &mut [f32]) -> Option<&mut [f32]> {
        Some(s)
    }
}

impl Scalar for f64 {
    const ZERO: f64 = 0.0;
    #[inline]
    fn from_f64(v: f64) -> f64 {
        v
    }
}

pub(super) fn resize<T: Scalar>(v: &mut Vec<T>, len: usize) {
    v.clear();
    v.resize(len, T::ZERO);
}

/// The fixed-order sum of 8 partial sums: `((a0 + a4) + (a1 + a5)) + ((a2 + a6) + (a3 + a7))`.
#[inline]
pub(super) fn hsum8<T: Scalar>(a: &[T; 8]) -> T {
    ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]))
}

/// `Σ a_i b_i` with 8 independent partial sums over fixed-size chunks (so it vectorizes;
/// the order is fixed, so the result is deterministic).
#[inline]
pub(super) fn dot<T: Scalar>(a: &[T], b: &[T]) -> T {
    let mut acc = [T::ZERO; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        let x: &[T; 8] = x.try_into().expect("chunk of 8");
        let y: &[T; 8] = y.try_into().expect("chunk of 8");
        for j in 0..8 {
            acc[j] += x[j] * y[j];
        }
    }
    let mut tail = T::ZERO;
    for (&x, &y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    hsum8(&acc) + tail
}

/// `y += α x`, in chunks of 8 so that it vectorizes.
#[inline]
pub(super) fn axpy<T: Scalar>(alpha: T, x: &[T], y: &mut [T]) {
    let mut yc = y.chunks_exact_mut(8);
    let mut xc = x.chunks_exact(8);
    for (yy, xx) in (&mut yc).zip(&mut xc) {
        let yy: &mut [T; 8] = yy.try_into().expect("chunk of 8");
        let xx: &[T; 8] = xx.try_into().expect("chunk of 8");
        for j in 0..8 {
            yy[j] += alpha * xx[j];
        }
    }
    for (yv, &xv) in yc.into_remainder().iter_mut().zip(xc.remainder()) {
        *yv += alpha * xv;
    }
}

/// `Σ x_i` with 8 partial sums (fixed order).
#[inline]
pub(super) fn sum<T: Scalar>(x: &[T]) -> T {
    let mut acc = [T::ZERO; 8];
    let c = x.chunks_exact(8);
    let r = c.remainder();
    for ch in c {
        let ch: &[T; 8] = ch.try_into().expect("chunk of 8");
        for j in 0..8 {
            acc[j] += ch[j];
        }
    }
    let mut tail = T::ZERO;
    for &v in r {
        tail += v;
    }
    hsum8(&acc) + tail
}

/// ReLU in place: `v ← 0` where `v < 0` (NaN and −0 are kept). Written as a select, not a
/// conditional store, so that it vectorises (the branchy form was as slow in WASM as a
/// convolution layer).
pub(super) fn relu<T: Scalar>(x: &mut [T]) {
    for v in x {
        *v = if *v < T::ZERO { T::ZERO } else { *v };
    }
}

/// The ReLU's backward mask: `d ← 0` where the activation `act ≤ 0` (a select, like [`relu`]).
pub(super) fn relu_mask<T: Scalar>(d: &mut [T], act: &[T]) {
    for (dv, &a) in d.iter_mut().zip(act) {
        *dv = if a <= T::ZERO { T::ZERO } else { *dv };
    }
}

/// Copies `src (H, W)` into the interior of the zero-padded `dst (H+2p, W+2p)`.
pub(super) fn pad_into<T: Scalar>(src: &[T], h: usize, w: usize, p: usize, dst: &mut [T]) {
    let wp = w + 2 * p;
    for y in 0..h {
        dst[(y + p) * wp + p..(y + p) * wp + p + w].copy_from_slice(&src[y * w..(y + 1) * w]);
    }
}
