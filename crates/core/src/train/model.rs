//! The two toy models, forward and backward, written as loops over contiguous slices.
//!
//! Both are fully convolutional (any image size), take one intensity channel and output
//! logits `(B, K, H, W)`: `K = 1` for binary (sigmoid), `K = classes` otherwise (softmax).
//!
//! - [`ModelKind::Logistic5`]: per-pixel logistic (softmax) regression on the 5×5
//!   neighbourhood, zero padding: `z_k = b_k + Σ_{5×5} w_k · x`.
//! - [`ModelKind::Cnn8`]: `h1 = ReLU(conv3×3(x; 1→8))`, `h2 = ReLU(conv3×3(h1; 8→8))`
//!   (zero padding), `g = mean over pixels of h2` (global average pooling), and a 1×1 head
//!   `z_k = b_k + Σ_c W_{kc} h2_c + Σ_c V_{kc} g_c`, so each pixel also sees image-level context.
//!
//! The scalar type is generic ([`Scalar`]): the trainer runs in `f32`, the gradient checks in `f64`.

// Index loops over kernel offsets and 8-lane chunks read several arrays at once; that is
// the clearest way to write them, and they compile to straight-line code.
#![allow(clippy::needless_range_loop)]

use std::fmt::Debug;
use std::ops::Range;
use std::ops::{Add, AddAssign, Mul, Sub};

use ndarray::{Array4, ArrayView3};

use super::lanes::F32x4;
use super::rng::Rng;
use crate::losses::{Evaluator, LossKind, RegionConfig};
use crate::LossError;

/// Hidden channels of [`ModelKind::Cnn8`].
pub const HIDDEN: usize = 8;

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

/// Which model to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelKind {
    /// Per-pixel logistic regression on a 5×5 neighbourhood.
    Logistic5,
    /// Two 3×3 conv layers with 8 channels, ReLU, a 1×1 head and a pooled context feature.
    Cnn8,
}

impl ModelKind {
    /// Both models.
    pub const ALL: [ModelKind; 2] = [ModelKind::Logistic5, ModelKind::Cnn8];

    /// The name used by the CLI and the app (`logistic5`, `cnn8`).
    pub fn key(self) -> &'static str {
        match self {
            ModelKind::Logistic5 => "logistic5",
            ModelKind::Cnn8 => "cnn8",
        }
    }

    /// Inverse of [`ModelKind::key`].
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.key() == name)
    }
}

/// Offsets of each parameter block in the flat parameter vector.
#[derive(Debug, Clone, Copy)]
struct Layout {
    w1: usize,
    b1: usize,
    w2: usize,
    b2: usize,
    wh: usize,
    v: usize,
    bh: usize,
    len: usize,
}

impl Layout {
    fn new(kind: ModelKind, out: usize) -> Self {
        let c = HIDDEN;
        match kind {
            // w1: the 5×5 weights (out, 25), b1: the biases (out).
            ModelKind::Logistic5 => Layout {
                w1: 0,
                b1: out * 25,
                w2: 0,
                b2: 0,
                wh: 0,
                v: 0,
                bh: 0,
                len: out * 26,
            },
            ModelKind::Cnn8 => {
                let w1 = 0;
                let b1 = w1 + c * 9;
                let w2 = b1 + c;
                let b2 = w2 + c * c * 9;
                let wh = b2 + c;
                let v = wh + out * c;
                let bh = v + out * c;
                Layout {
                    w1,
                    b1,
                    w2,
                    b2,
                    wh,
                    v,
                    bh,
                    len: bh + out,
                }
            }
        }
    }
}

/// A model with its parameters in one flat vector (the optimizer's view).
#[derive(Debug, Clone, PartialEq)]
pub struct Net<T> {
    kind: ModelKind,
    out: usize,
    params: Vec<T>,
}

/// Activations kept from the forward pass for the backward pass, reused across calls.
#[derive(Debug, Clone, Default)]
pub struct Workspace<T> {
    dims: (usize, usize, usize),
    /// Zero-padded input `(B, H+2p, W+2p)`.
    xpad: Vec<T>,
    /// Pre-activation of layer 1 `(8, H, W)` (one image at a time).
    a1: Vec<T>,
    /// Zero-padded ReLU of layer 1 `(B, 8, H+2, W+2)`.
    h1pad: Vec<T>,
    /// ReLU of layer 2 `(B, 8, H, W)`.
    h2: Vec<T>,
    /// Pooled layer-2 features `(B, 8)`.
    gap: Vec<T>,
    /// Backward scratch: `∂L/∂h2 (8, H, W)`, the same zero-padded `(8, H+2, W+2)`,
    /// `∂L/∂a1 (8, H, W)`, and layer 2's flipped, transposed kernel.
    dh2: Vec<T>,
    dh2pad: Vec<T>,
    da1: Vec<T>,
    w2t: Vec<T>,
}

fn resize<T: Scalar>(v: &mut Vec<T>, len: usize) {
    v.clear();
    v.resize(len, T::ZERO);
}

/// The fixed-order sum of 8 partial sums: `((a0 + a4) + (a1 + a5)) + ((a2 + a6) + (a3 + a7))`.
#[inline]
fn hsum8<T: Scalar>(a: &[T; 8]) -> T {
    ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]))
}

/// `Σ a_i b_i` with 8 independent partial sums over fixed-size chunks (so it vectorizes;
/// the order is fixed, so the result is deterministic).
#[inline]
fn dot<T: Scalar>(a: &[T], b: &[T]) -> T {
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
fn axpy<T: Scalar>(alpha: T, x: &[T], y: &mut [T]) {
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
fn sum<T: Scalar>(x: &[T]) -> T {
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

/// Convolution geometry: `cin → cout` channels, `ks × ks` kernel (3 or 5), `h × w` output,
/// input zero-padded by `ks / 2` on every side.
///
/// The loops work on 8 output pixels of a row at a time with the accumulators in a local
/// array, which the compiler keeps in vector registers (no aliasing between input and output
/// to worry about); the last `w mod 8` pixels of a row take a scalar path with the same order
/// of summation. The forward pass computes [`OUT_BLOCK`] output channels together, so that
/// each load of 8 input pixels feeds that many accumulator rows. The order of summation of
/// every output value is fixed (bias, then `c, ky, kx`; weight gradients: lanes over the rows
/// and 8-pixel chunks, then [`hsum8`]), whatever the blocking, so the numbers do not depend
/// on it, nor on the platform (no fused multiply-add, no reassociation). In `f32` (the
/// trainer) the chunks are computed by explicit SIMD kernels ([`Conv::forward_lanes`],
/// [`Conv::weight_lanes`], two [`F32x4`] per chunk) with exactly those operations: the
/// auto-vectorised generic loops were three times slower in WASM.
#[derive(Clone, Copy)]
struct Conv {
    cin: usize,
    cout: usize,
    ks: usize,
    h: usize,
    w: usize,
}

/// Output channels one pass of [`Conv::forward_block`] computes together (4 × 8 `f32`
/// accumulators are 8 SIMD registers, which leaves room for the inputs).
const OUT_BLOCK: usize = 4;
/// Output channels one pass of [`Conv::backward_weights_block`] accumulates together.
const GRAD_BLOCK: usize = 2;

impl Conv {
    fn wp(&self) -> usize {
        self.w + self.ks - 1
    }
    fn plane_in(&self) -> usize {
        (self.h + self.ks - 1) * self.wp()
    }

    /// `out (cout, H, W) = bias + conv(inp_pad (cin, H+ks−1, W+ks−1), wts (cout, cin, ks, ks))`.
    fn forward<T: Scalar>(&self, inp: &[T], wts: &[T], bias: Option<&[T]>, out: &mut [T]) {
        match self.ks {
            3 => self.forward_k::<3, T>(inp, wts, bias, out),
            5 => self.forward_k::<5, T>(inp, wts, bias, out),
            k => unreachable!("kernel size {k}"),
        }
    }

    fn forward_k<const KS: usize, T: Scalar>(
        &self,
        inp: &[T],
        wts: &[T],
        bias: Option<&[T]>,
        out: &mut [T],
    ) {
        let mut o = 0;
        while o + OUT_BLOCK <= self.cout {
            self.forward_block::<KS, OUT_BLOCK, T>(o, inp, wts, bias, out);
            o += OUT_BLOCK;
        }
        for o in o..self.cout {
            self.forward_block::<KS, 1, T>(o, inp, wts, bias, out);
        }
    }

    /// Output channels `o .. o + OB` of [`Conv::forward`].
    fn forward_block<const KS: usize, const OB: usize, T: Scalar>(
        &self,
        o: usize,
        inp: &[T],
        wts: &[T],
        bias: Option<&[T]>,
        out: &mut [T],
    ) {
        let (h, w, cin) = (self.h, self.w, self.cin);
        let (n, wp, pin) = (h * w, self.wp(), self.plane_in());
        let full = w / 8 * 8;
        let b0: [T; OB] = std::array::from_fn(|q| bias.map_or(T::ZERO, |b| b[o + q]));
        // The block's weights as `[c][ky][kx][q]` (also for the row tails below).
        let wk = block_weights::<KS, OB, T, T>(wts, o, cin, |v| v);
        let out = &mut out[o * n..(o + OB) * n];
        if let (Some(inp), Some(wts), Some(out)) =
            (T::as_f32(inp), T::as_f32(wts), T::as_f32_mut(&mut *out))
        {
            self.forward_lanes::<KS, OB>(o, inp, wts, bias.and_then(T::as_f32), out);
        } else {
            for y in 0..h {
                for x0 in (0..full).step_by(8) {
                    let mut acc: [[T; 8]; OB] = b0.map(|b| [b; 8]);
                    for (c, wc) in wk.iter().enumerate() {
                        let ip = &inp[c * pin..(c + 1) * pin];
                        for (ky, wr) in wc.iter().enumerate() {
                            let base = (y + ky) * wp + x0;
                            let row = &ip[base..base + KS + 7];
                            for (kx, wq) in wr.iter().enumerate() {
                                let xs: &[T; 8] = row[kx..kx + 8].try_into().expect("8 pixels");
                                for (a, &wv) in acc.iter_mut().zip(wq) {
                                    for j in 0..8 {
                                        a[j] += wv * xs[j];
                                    }
                                }
                            }
                        }
                    }
                    for (q, a) in acc.iter().enumerate() {
                        let at = q * n + y * w + x0;
                        out[at..at + 8].copy_from_slice(a);
                    }
                }
            }
        }
        for y in 0..h {
            for x in full..w {
                let mut acc = b0;
                for (c, wc) in wk.iter().enumerate() {
                    let ip = &inp[c * pin..(c + 1) * pin];
                    for (ky, wr) in wc.iter().enumerate() {
                        for (kx, wq) in wr.iter().enumerate() {
                            let xv = ip[(y + ky) * wp + kx + x];
                            for (a, &wv) in acc.iter_mut().zip(wq) {
                                *a += wv * xv;
                            }
                        }
                    }
                }
                for (q, &a) in acc.iter().enumerate() {
                    out[q * n + y * w + x] = a;
                }
            }
        }
    }

    /// The 8-pixel chunks (`x < W − W mod 8`) of [`Conv::forward_block`] in `f32`, each chunk
    /// as two [`F32x4`] per output channel: lane `j` of a chunk is the generic loop's
    /// accumulator `a[j]` with the same operations in the same order, so the values are
    /// identical. `out` is the block's `OB` output planes.
    fn forward_lanes<const KS: usize, const OB: usize>(
        &self,
        o: usize,
        inp: &[f32],
        wts: &[f32],
        bias: Option<&[f32]>,
        out: &mut [f32],
    ) {
        let (h, w, cin) = (self.h, self.w, self.cin);
        let (n, wp, pin) = (h * w, self.wp(), self.plane_in());
        let full = w / 8 * 8;
        let b0: [F32x4; OB] = std::array::from_fn(|q| F32x4::splat(bias.map_or(0.0, |b| b[o + q])));
        // The block's weights, each in all four lanes.
        let wk = block_weights::<KS, OB, f32, F32x4>(wts, o, cin, F32x4::splat);
        for y in 0..h {
            for x0 in (0..full).step_by(8) {
                let mut acc: [[F32x4; 2]; OB] = b0.map(|b| [b; 2]);
                for (c, wc) in wk.iter().enumerate() {
                    let ip = &inp[c * pin..(c + 1) * pin];
                    for (ky, wr) in wc.iter().enumerate() {
                        let base = (y + ky) * wp + x0;
                        let row = &ip[base..base + KS + 7];
                        for (kx, wq) in wr.iter().enumerate() {
                            let lo = F32x4::load(&row[kx..]);
                            let hi = F32x4::load(&row[kx + 4..]);
                            for (a, &wv) in acc.iter_mut().zip(wq) {
                                a[0] = a[0].add(wv.mul(lo));
                                a[1] = a[1].add(wv.mul(hi));
                            }
                        }
                    }
                }
                for (q, [lo, hi]) in acc.into_iter().enumerate() {
                    let at = q * n + y * w + x0;
                    lo.store(&mut out[at..]);
                    hi.store(&mut out[at + 4..]);
                }
            }
        }
    }

    /// Accumulates `∂/∂wts` and `∂/∂bias` given `dout (cout, H, W)` and the padded input.
    fn backward_weights<T: Scalar>(&self, inp: &[T], dout: &[T], dw: &mut [T], db: &mut [T]) {
        match self.ks {
            3 => self.backward_weights_k::<3, T>(inp, dout, dw, db),
            5 => self.backward_weights_k::<5, T>(inp, dout, dw, db),
            k => unreachable!("kernel size {k}"),
        }
    }

    /// Output channels in blocks of [`GRAD_BLOCK`] (each input load feeds them all), one
    /// kernel row `ky` at a time, so that the `GRAD_BLOCK × KS × 8` accumulators stay in
    /// registers.
    fn backward_weights_k<const KS: usize, T: Scalar>(
        &self,
        inp: &[T],
        dout: &[T],
        dw: &mut [T],
        db: &mut [T],
    ) {
        let n = self.h * self.w;
        for (o, d) in dout[..self.cout * n].chunks_exact(n).enumerate() {
            db[o] += sum(d);
        }
        let mut o = 0;
        while o + GRAD_BLOCK <= self.cout {
            self.backward_weights_block::<KS, GRAD_BLOCK, T>(o, inp, dout, dw);
            o += GRAD_BLOCK;
        }
        for o in o..self.cout {
            self.backward_weights_block::<KS, 1, T>(o, inp, dout, dw);
        }
    }

    /// Output channels `o .. o + OB` of [`Conv::backward_weights`] (weights only).
    fn backward_weights_block<const KS: usize, const OB: usize, T: Scalar>(
        &self,
        o: usize,
        inp: &[T],
        dout: &[T],
        dw: &mut [T],
    ) {
        let (h, w, cin) = (self.h, self.w, self.cin);
        let (n, wp, pin) = (h * w, self.wp(), self.plane_in());
        let full = w / 8 * 8;
        let d = &dout[o * n..(o + OB) * n];
        for c in 0..cin {
            let ip = &inp[c * pin..(c + 1) * pin];
            for ky in 0..KS {
                let mut acc = [[[T::ZERO; 8]; KS]; OB];
                if let (Some(ip), Some(d), Some(acc)) = (
                    T::as_f32(ip),
                    T::as_f32(d),
                    T::as_f32_mut(acc.as_flattened_mut().as_flattened_mut()),
                ) {
                    self.weight_lanes::<KS, OB>(ky, ip, d, acc);
                } else {
                    for y in 0..h {
                        let irow = &ip[(y + ky) * wp..(y + ky + 1) * wp];
                        for x0 in (0..full).step_by(8) {
                            let d8: [&[T; 8]; OB] = std::array::from_fn(|q| {
                                let at = q * n + y * w + x0;
                                d[at..at + 8].try_into().expect("8 pixels")
                            });
                            let row = &irow[x0..x0 + KS + 7];
                            for kx in 0..KS {
                                let xs: &[T; 8] = row[kx..kx + 8].try_into().expect("8 pixels");
                                for (a, dq) in acc.iter_mut().zip(&d8) {
                                    for j in 0..8 {
                                        a[kx][j] += dq[j] * xs[j];
                                    }
                                }
                            }
                        }
                    }
                }
                let mut tail = [[T::ZERO; KS]; OB];
                for y in 0..h {
                    let irow = &ip[(y + ky) * wp..(y + ky + 1) * wp];
                    for x in full..w {
                        for (t, q) in tail.iter_mut().zip(0..OB) {
                            let dv = d[q * n + y * w + x];
                            for (kx, tk) in t.iter_mut().enumerate() {
                                *tk += dv * irow[x + kx];
                            }
                        }
                    }
                }
                for (q, (a, t)) in acc.iter().zip(&tail).enumerate() {
                    let at = ((o + q) * cin + c) * KS * KS + ky * KS;
                    for (kx, dv) in dw[at..at + KS].iter_mut().enumerate() {
                        *dv += hsum8(&a[kx]) + t[kx];
                    }
                }
            }
        }
    }

    /// The 8-pixel chunks of [`Conv::backward_weights_block`] in `f32` for input channel
    /// plane `ip` and kernel row `ky`: fills `acc` (`[q][kx][j]`, `OB × KS × 8`) with the
    /// generic loop's lane sums, each lane `j` accumulating the same products in the same
    /// order (rows, then chunks), so the values are identical.
    fn weight_lanes<const KS: usize, const OB: usize>(
        &self,
        ky: usize,
        ip: &[f32],
        d: &[f32],
        acc: &mut [f32],
    ) {
        let (h, w) = (self.h, self.w);
        let (n, wp) = (h * w, self.wp());
        let full = w / 8 * 8;
        let mut a = [[[F32x4::splat(0.0); 2]; KS]; OB];
        for y in 0..h {
            let irow = &ip[(y + ky) * wp..(y + ky + 1) * wp];
            for x0 in (0..full).step_by(8) {
                let dq: [[F32x4; 2]; OB] = std::array::from_fn(|q| {
                    let at = q * n + y * w + x0;
                    [F32x4::load(&d[at..]), F32x4::load(&d[at + 4..])]
                });
                let row = &irow[x0..x0 + KS + 7];
                for kx in 0..KS {
                    let lo = F32x4::load(&row[kx..]);
                    let hi = F32x4::load(&row[kx + 4..]);
                    for (aq, [dlo, dhi]) in a.iter_mut().zip(dq) {
                        aq[kx][0] = aq[kx][0].add(dlo.mul(lo));
                        aq[kx][1] = aq[kx][1].add(dhi.mul(hi));
                    }
                }
            }
        }
        for (at, v) in a.as_flattened().as_flattened().iter().enumerate() {
            v.store(&mut acc[4 * at..]);
        }
    }

    /// `∂L/∂input` (interior only, `(cin, H, W)`) given `dout_pad (cout, H+ks−1, W+ks−1)`
    /// (zero ring): the transposed convolution, computed as a forward convolution of the
    /// padded `dout` with the flipped, transposed kernel `wt` ([`Conv::transpose_weights`]).
    fn backward_input<T: Scalar>(&self, dout_pad: &[T], wt: &[T], dinp: &mut [T]) {
        let t = Conv {
            cin: self.cout,
            cout: self.cin,
            ..*self
        };
        t.forward(dout_pad, wt, None, dinp);
    }

    /// `wt[c][o][ky][kx] = w[o][c][ks−1−ky][ks−1−kx]`.
    fn transpose_weights<T: Scalar>(&self, w: &[T], wt: &mut Vec<T>) {
        let (ks, kk) = (self.ks, self.ks * self.ks);
        wt.clear();
        wt.resize(w.len(), T::ZERO);
        for o in 0..self.cout {
            for c in 0..self.cin {
                for ky in 0..ks {
                    for kx in 0..ks {
                        wt[(c * self.cout + o) * kk + ky * ks + kx] =
                            w[(o * self.cin + c) * kk + (ks - 1 - ky) * ks + (ks - 1 - kx)];
                    }
                }
            }
        }
    }
}

/// ReLU in place: `v ← 0` where `v < 0` (NaN and −0 are kept). Written as a select, not a
/// conditional store, so that it vectorises (the branchy form was as slow in WASM as a
/// convolution layer).
fn relu<T: Scalar>(x: &mut [T]) {
    for v in x {
        *v = if *v < T::ZERO { T::ZERO } else { *v };
    }
}

/// The ReLU's backward mask: `d ← 0` where the activation `act ≤ 0` (a select, like [`relu`]).
fn relu_mask<T: Scalar>(d: &mut [T], act: &[T]) {
    for (dv, &a) in d.iter_mut().zip(act) {
        *dv = if a <= T::ZERO { T::ZERO } else { *dv };
    }
}

/// Copies `src (H, W)` into the interior of the zero-padded `dst (H+2p, W+2p)`.
/// The weights of output channels `o .. o + OB` (layout `[out][in][ky][kx]`, `cin` inputs)
/// as `[c][ky][kx][q]`, each mapped by `lane`: the convolutions' hot loops index them by
/// constants.
fn block_weights<const KS: usize, const OB: usize, T: Copy, L>(
    wts: &[T],
    o: usize,
    cin: usize,
    lane: impl Fn(T) -> L,
) -> Vec<[[[L; OB]; KS]; KS]> {
    let kk = KS * KS;
    (0..cin)
        .map(|c| {
            std::array::from_fn(|ky| {
                std::array::from_fn(|kx| {
                    std::array::from_fn(|q| lane(wts[((o + q) * cin + c) * kk + ky * KS + kx]))
                })
            })
        })
        .collect()
}

fn pad_into<T: Scalar>(src: &[T], h: usize, w: usize, p: usize, dst: &mut [T]) {
    let wp = w + 2 * p;
    for y in 0..h {
        dst[(y + p) * wp + p..(y + p) * wp + p + w].copy_from_slice(&src[y * w..(y + 1) * w]);
    }
}

impl<T: Scalar> Net<T> {
    /// A model for `classes` classes (2 ⇒ one sigmoid channel, else `classes` softmax
    /// channels), initialized from `seed`: He-normal conv weights, head weights
    /// `N(0, 1/8)`, context weights and biases 0 (logistic5: weights `N(0, 1/25)`).
    pub fn new(kind: ModelKind, classes: usize, seed: u64) -> Self {
        let out = if classes <= 2 { 1 } else { classes };
        let lay = Layout::new(kind, out);
        let mut rng = Rng::derived(seed, 0x1A17);
        let mut p = vec![0.0f64; lay.len];
        match kind {
            ModelKind::Logistic5 => {
                for v in &mut p[..out * 25] {
                    *v = rng.normal() * (1.0f64 / 25.0).sqrt();
                }
            }
            ModelKind::Cnn8 => {
                let c = HIDDEN as f64;
                for v in &mut p[lay.w1..lay.b1] {
                    *v = rng.normal() * (2.0f64 / 9.0).sqrt();
                }
                for v in &mut p[lay.w2..lay.b2] {
                    *v = rng.normal() * (2.0 / (9.0 * c)).sqrt();
                }
                for v in &mut p[lay.wh..lay.v] {
                    *v = rng.normal() * (1.0 / c).sqrt();
                }
            }
        }
        Self {
            kind,
            out,
            params: p.into_iter().map(T::from_f64).collect(),
        }
    }

    /// Which model this is.
    pub fn kind(&self) -> ModelKind {
        self.kind
    }

    /// Logit channels `K` (1 for binary).
    pub fn out_channels(&self) -> usize {
        self.out
    }

    /// The flat parameter vector.
    pub fn params(&self) -> &[T] {
        &self.params
    }

    /// The flat parameter vector, mutable (optimizers, finite-difference checks).
    pub fn params_mut(&mut self) -> &mut [T] {
        &mut self.params
    }

    fn layout(&self) -> Layout {
        Layout::new(self.kind, self.out)
    }

    /// Forward pass of `images (B, H, W)` into `logits (B, K, H, W)` (contiguous),
    /// keeping what the backward pass needs in `ws`.
    pub fn forward(&self, images: ArrayView3<f64>, ws: &mut Workspace<T>, logits: &mut [T]) {
        self.forward_range(images, 0..images.dim().0, ws, logits);
    }

    /// [`Net::forward`] of the images `range` of the batch only (their logits; the others are
    /// left as they are), so that a batch can be processed a few images at a time: call it
    /// with consecutive ranges from 0. Every image is computed on its own, so the result is
    /// the same, bit for bit, however the batch is split.
    pub fn forward_range(
        &self,
        images: ArrayView3<f64>,
        range: Range<usize>,
        ws: &mut Workspace<T>,
        logits: &mut [T],
    ) {
        let (b, h, w) = images.dim();
        let n = h * w;
        let k = self.out;
        assert_eq!(
            logits.len(),
            b * k * n,
            "logits buffer has the wrong length"
        );
        let range = range.start.min(b)..range.end.min(b);
        let start = range.start;
        // A new batch (or a new shape) sizes and zeroes the workspace (the zero rings of the
        // padded planes are never written afterwards).
        let fresh = start == 0 || ws.dims != (b, h, w);
        let x: Vec<T> = images
            .slice(ndarray::s![range.clone(), .., ..])
            .iter()
            .map(|&v| T::from_f64(v))
            .collect();
        let x = |i: usize| &x[(i - start) * n..(i - start + 1) * n];
        let lay = self.layout();
        let p = &self.params;
        ws.dims = (b, h, w);
        match self.kind {
            ModelKind::Logistic5 => {
                let conv = Conv {
                    cin: 1,
                    cout: k,
                    ks: 5,
                    h,
                    w,
                };
                let pin = conv.plane_in();
                if fresh {
                    resize(&mut ws.xpad, b * pin);
                }
                for i in range {
                    pad_into(x(i), h, w, 2, &mut ws.xpad[i * pin..]);
                    conv.forward(
                        &ws.xpad[i * pin..(i + 1) * pin],
                        &p[lay.w1..lay.b1],
                        Some(&p[lay.b1..lay.len]),
                        &mut logits[i * k * n..(i + 1) * k * n],
                    );
                }
            }
            ModelKind::Cnn8 => {
                let c = HIDDEN;
                let c1 = Conv {
                    cin: 1,
                    cout: c,
                    ks: 3,
                    h,
                    w,
                };
                let c2 = Conv { cin: c, ..c1 };
                let pin = c1.plane_in();
                if fresh {
                    resize(&mut ws.xpad, b * pin);
                    resize(&mut ws.a1, c * n);
                    resize(&mut ws.h1pad, b * c * pin);
                    resize(&mut ws.h2, b * c * n);
                    resize(&mut ws.gap, b * c);
                }
                let inv_n = T::from_f64(1.0 / n as f64);
                for i in range {
                    let xp = &mut ws.xpad[i * pin..(i + 1) * pin];
                    pad_into(x(i), h, w, 1, xp);
                    c1.forward(xp, &p[lay.w1..lay.b1], Some(&p[lay.b1..lay.w2]), &mut ws.a1);
                    relu(&mut ws.a1);
                    let h1 = &mut ws.h1pad[i * c * pin..(i + 1) * c * pin];
                    for ch in 0..c {
                        pad_into(&ws.a1[ch * n..(ch + 1) * n], h, w, 1, &mut h1[ch * pin..]);
                    }
                    let h2 = &mut ws.h2[i * c * n..(i + 1) * c * n];
                    c2.forward(h1, &p[lay.w2..lay.b2], Some(&p[lay.b2..lay.wh]), h2);
                    relu(h2);
                    let g = &mut ws.gap[i * c..(i + 1) * c];
                    for ch in 0..c {
                        g[ch] = sum(&h2[ch * n..(ch + 1) * n]) * inv_n;
                    }
                    let zi = &mut logits[i * k * n..(i + 1) * k * n];
                    for kk in 0..k {
                        let mut bias = p[lay.bh + kk];
                        for ch in 0..c {
                            bias += p[lay.v + kk * c + ch] * g[ch];
                        }
                        let zk = &mut zi[kk * n..(kk + 1) * n];
                        zk.fill(bias);
                        for ch in 0..c {
                            axpy(p[lay.wh + kk * c + ch], &h2[ch * n..(ch + 1) * n], zk);
                        }
                    }
                }
            }
        }
    }

    /// Backward pass: accumulates `∂L/∂params` into `grad` (same length as the parameters)
    /// given `dlogits = ∂L/∂logits (B, K, H, W)` and the workspace of the last forward pass.
    pub fn backward(&self, ws: &mut Workspace<T>, dlogits: &[T], grad: &mut [T]) {
        self.backward_range(ws, dlogits, grad, 0..ws.dims.0);
    }

    /// [`Net::backward`] of the images `range` of the batch only: called with consecutive
    /// ranges from 0, it accumulates the same gradient, bit for bit (images are added in
    /// order either way).
    pub fn backward_range(
        &self,
        ws: &mut Workspace<T>,
        dlogits: &[T],
        grad: &mut [T],
        range: Range<usize>,
    ) {
        let (b, h, w) = ws.dims;
        let range = range.start.min(b)..range.end.min(b);
        let fresh = range.start == 0 || ws.w2t.is_empty();
        let n = h * w;
        let k = self.out;
        let lay = self.layout();
        let p = &self.params;
        match self.kind {
            ModelKind::Logistic5 => {
                let conv = Conv {
                    cin: 1,
                    cout: k,
                    ks: 5,
                    h,
                    w,
                };
                let pin = conv.plane_in();
                let (gw, gb) = grad[..lay.len].split_at_mut(lay.b1);
                for i in range {
                    conv.backward_weights(
                        &ws.xpad[i * pin..(i + 1) * pin],
                        &dlogits[i * k * n..(i + 1) * k * n],
                        gw,
                        gb,
                    );
                }
            }
            ModelKind::Cnn8 => {
                let c = HIDDEN;
                let c1 = Conv {
                    cin: 1,
                    cout: c,
                    ks: 3,
                    h,
                    w,
                };
                let c2 = Conv { cin: c, ..c1 };
                let pin = c1.plane_in();
                if fresh {
                    resize(&mut ws.dh2, c * n);
                    resize(&mut ws.dh2pad, c * pin);
                    resize(&mut ws.da1, c * n);
                    c2.transpose_weights(&p[lay.w2..lay.b2], &mut ws.w2t);
                }
                let inv_n = 1.0 / n as f64;
                let wp = w + 2;
                for i in range {
                    let dz = &dlogits[i * k * n..(i + 1) * k * n];
                    let h2 = &ws.h2[i * c * n..(i + 1) * c * n];
                    let g = &ws.gap[i * c..(i + 1) * c];
                    // Head.
                    for kk in 0..k {
                        let dzk = &dz[kk * n..(kk + 1) * n];
                        let s = sum(dzk);
                        grad[lay.bh + kk] += s;
                        for ch in 0..c {
                            grad[lay.wh + kk * c + ch] += dot(dzk, &h2[ch * n..(ch + 1) * n]);
                            grad[lay.v + kk * c + ch] += s * g[ch];
                        }
                    }
                    // ∂L/∂h2 = Wᵀ dz + Vᵀ (Σ dz)/N, then the ReLU mask.
                    for ch in 0..c {
                        let mut ctx = 0.0f64;
                        for kk in 0..k {
                            ctx += (p[lay.v + kk * c + ch] * sum(&dz[kk * n..(kk + 1) * n])).into();
                        }
                        let dh = &mut ws.dh2[ch * n..(ch + 1) * n];
                        dh.fill(T::from_f64(ctx * inv_n));
                        for kk in 0..k {
                            axpy(p[lay.wh + kk * c + ch], &dz[kk * n..(kk + 1) * n], dh);
                        }
                        relu_mask(dh, &h2[ch * n..(ch + 1) * n]);
                        pad_into(dh, h, w, 1, &mut ws.dh2pad[ch * pin..(ch + 1) * pin]);
                    }
                    // Layer 2.
                    let h1 = &ws.h1pad[i * c * pin..(i + 1) * c * pin];
                    {
                        let (gw2, gb2) = grad[lay.w2..lay.wh].split_at_mut(lay.b2 - lay.w2);
                        c2.backward_weights(h1, &ws.dh2, gw2, gb2);
                    }
                    c2.backward_input(&ws.dh2pad, &ws.w2t, &mut ws.da1);
                    // ReLU of layer 1 (the padded activation is zero exactly where it was clipped).
                    for ch in 0..c {
                        for y in 0..h {
                            let off = ch * pin + (y + 1) * wp + 1;
                            let act = &h1[off..off + w];
                            let d = &mut ws.da1[ch * n + y * w..ch * n + (y + 1) * w];
                            relu_mask(d, act);
                        }
                    }
                    let (gw1, gb1) = grad[lay.w1..lay.w2].split_at_mut(lay.b1 - lay.w1);
                    c1.backward_weights(&ws.xpad[i * pin..(i + 1) * pin], &ws.da1, gw1, gb1);
                }
            }
        }
    }
}

/// Reusable buffers for one loss-and-gradient evaluation of a batch.
#[derive(Debug, Clone, Default)]
pub struct Scratch<T> {
    /// Activations.
    pub ws: Workspace<T>,
    /// Logits `(B, K, H, W)` of the last call.
    pub logits: Array4<T>,
    /// `∂L/∂logits` in `f64` (the loss core's output).
    pub dlogits64: Array4<f64>,
    /// `∂L/∂logits` converted to `T`.
    pub dlogits: Vec<T>,
    /// `∂L/∂params` of the last call.
    pub grad: Vec<T>,
}

impl<T: Scalar> Net<T> {
    /// The value of `loss` on `images (B, H, W)` with `labels (B, H, W)` and its gradient with
    /// respect to every parameter (left in `scratch.grad`), through the loss core's
    /// [`Evaluator`]. `Ok(None)` when the loss has no value (plain log-Dice with a zero Dice).
    pub fn loss_and_grad(
        &self,
        images: ArrayView3<f64>,
        labels: ArrayView3<i64>,
        loss: LossKind,
        region: RegionConfig,
        scratch: &mut Scratch<T>,
    ) -> Result<Option<f64>, LossError> {
        self.size_scratch(images.dim(), scratch);
        let z = scratch
            .logits
            .as_slice_mut()
            .expect("an owned Array4 is contiguous");
        self.forward(images, &mut scratch.ws, z);
        let value = self.logits_loss_grad(labels, loss, region, scratch)?;
        if value.is_some() {
            self.backward(&mut scratch.ws, &scratch.dlogits, &mut scratch.grad);
        }
        Ok(value)
    }

    /// Sizes `scratch.logits` for a batch of `(B, H, W)` images.
    pub fn size_scratch(&self, (b, h, w): (usize, usize, usize), scratch: &mut Scratch<T>) {
        let shape = (b, self.out, h, w);
        if scratch.logits.dim() != shape {
            scratch.logits = Array4::from_elem(shape, T::ZERO);
            scratch.dlogits64 = Array4::zeros(shape);
        }
    }

    /// The middle of [`Net::loss_and_grad`], once `scratch.logits` holds the whole batch's
    /// logits: the loss value, `∂L/∂logits` in `scratch.dlogits`, and `scratch.grad` zeroed
    /// for the backward pass. `Ok(None)` when the loss has no value.
    pub fn logits_loss_grad(
        &self,
        labels: ArrayView3<i64>,
        loss: LossKind,
        region: RegionConfig,
        scratch: &mut Scratch<T>,
    ) -> Result<Option<f64>, LossError> {
        let ev = Evaluator::new(scratch.logits.view(), labels, region)?;
        let value = ev.losses().get(loss);
        if value.is_none() {
            return Ok(None);
        }
        ev.gradient_into(loss, &mut scratch.dlogits64)?;
        scratch.dlogits.clear();
        scratch
            .dlogits
            .extend(scratch.dlogits64.iter().map(|&v| T::from_f64(v)));
        resize(&mut scratch.grad, self.params.len());
        Ok(value)
    }

    /// Logits `(B, K, H, W)` of `images (B, H, W)` (no gradient bookkeeping kept).
    pub fn logits(&self, images: ArrayView3<f64>) -> Array4<T> {
        let (b, h, w) = images.dim();
        let mut z = Array4::from_elem((b, self.out, h, w), T::ZERO);
        let mut ws = Workspace::default();
        self.forward(
            images,
            &mut ws,
            z.as_slice_mut().expect("an owned Array4 is contiguous"),
        );
        z
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obvious convolution: every output is its bias, then `Σ_c Σ_ky Σ_kx w·x` in that
    /// order (the order the fast path keeps, so the two agree bit for bit).
    fn naive<T: Scalar>(conv: &Conv, inp: &[T], wts: &[T], bias: &[T]) -> Vec<T> {
        let (ks, wp, pin) = (conv.ks, conv.wp(), conv.plane_in());
        let mut out = Vec::new();
        for o in 0..conv.cout {
            for y in 0..conv.h {
                for x in 0..conv.w {
                    let mut acc = bias[o];
                    for c in 0..conv.cin {
                        for ky in 0..ks {
                            for kx in 0..ks {
                                acc += wts[((o * conv.cin + c) * ks + ky) * ks + kx]
                                    * inp[c * pin + (y + ky) * wp + x + kx];
                            }
                        }
                    }
                    out.push(acc);
                }
            }
        }
        out
    }

    /// The weight gradient in [`Conv::backward_weights`]'s order, one output at a time:
    /// pixel `x` of the 8-pixel chunks feeds partial sum `x mod 8` (rows, then chunks), the
    /// `W mod 8` tail pixels their own sum, then `hsum8(partials) + tail`.
    fn naive_weights<T: Scalar>(conv: &Conv, inp: &[T], dout: &[T]) -> Vec<T> {
        let (ks, wp, pin, h, w) = (conv.ks, conv.wp(), conv.plane_in(), conv.h, conv.w);
        let full = w / 8 * 8;
        let mut dw = Vec::new();
        for o in 0..conv.cout {
            for c in 0..conv.cin {
                for ky in 0..ks {
                    for kx in 0..ks {
                        let prod = |y: usize, x: usize| {
                            dout[(o * h + y) * w + x] * inp[c * pin + (y + ky) * wp + x + kx]
                        };
                        let mut part = [T::ZERO; 8];
                        let mut tail = T::ZERO;
                        for y in 0..h {
                            for x in 0..full {
                                part[x % 8] += prod(y, x);
                            }
                        }
                        for y in 0..h {
                            for x in full..w {
                                tail += prod(y, x);
                            }
                        }
                        dw.push(T::ZERO + (hsum8(&part) + tail));
                    }
                }
            }
        }
        dw
    }

    fn check<T: Scalar>() {
        let mut rng = Rng::new(5);
        // Widths with and without a scalar tail; 5 and 9 output channels use the blocked and
        // the single-channel paths.
        for (cin, cout, ks, h, w) in [(3, 5, 3, 4, 13), (2, 9, 5, 3, 16), (1, 1, 3, 2, 7)] {
            let conv = Conv {
                cin,
                cout,
                ks,
                h,
                w,
            };
            let mut gen =
                |n: usize| -> Vec<T> { (0..n).map(|_| T::from_f64(rng.normal())).collect() };
            let inp = gen(cin * conv.plane_in());
            let wts = gen(cout * cin * ks * ks);
            let bias = gen(cout);
            let mut out = vec![T::ZERO; cout * h * w];
            conv.forward(&inp, &wts, Some(&bias), &mut out);
            let want = naive(&conv, &inp, &wts, &bias);
            let bits = |v: &[T]| {
                v.iter()
                    .map(|&x| Into::<f64>::into(x).to_bits())
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                bits(&out),
                bits(&want),
                "forward {cin}→{cout} k{ks} {h}×{w}"
            );
            // Weight gradient against the sum it stands for (another order, so to rounding).
            let dout = gen(cout * h * w);
            let (mut dw, mut db) = (vec![T::ZERO; wts.len()], vec![T::ZERO; cout]);
            conv.backward_weights(&inp, &dout, &mut dw, &mut db);
            // ... and bit for bit against the same order written plainly (the `f32` path runs
            // the SIMD kernel, the `f64` one the generic loops).
            assert_eq!(
                bits(&dw),
                bits(&naive_weights(&conv, &inp, &dout)),
                "weights {cin}→{cout} k{ks} {h}×{w}"
            );
            let (wp, pin) = (conv.wp(), conv.plane_in());
            for o in 0..cout {
                for c in 0..cin {
                    for ky in 0..ks {
                        for kx in 0..ks {
                            let mut s = 0.0f64;
                            for y in 0..h {
                                for x in 0..w {
                                    s += Into::<f64>::into(dout[(o * h + y) * w + x])
                                        * Into::<f64>::into(inp[c * pin + (y + ky) * wp + x + kx]);
                                }
                            }
                            let got: f64 = dw[((o * cin + c) * ks + ky) * ks + kx].into();
                            assert!((got - s).abs() < 1e-4 * (1.0 + s.abs()), "dw {got} vs {s}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn blocked_convolution_matches_the_obvious_loops() {
        check::<f64>();
        check::<f32>();
    }
}
