//! The convolutions of the toy models ([`Conv`]): forward, weight and input gradients, with
//! explicit `f32` SIMD kernels ([`F32x4`]) and generic loops that sum in the same order.

// Index loops over kernel offsets and 8-lane chunks read several arrays at once; that is
// the clearest way to write them, and they compile to straight-line code.
#![allow(clippy::needless_range_loop)]

use super::kernels::{hsum8, sum, Scalar};
use super::lanes::F32x4;

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
pub(super) struct Conv {
    pub(super) cin: usize,
    pub(super) cout: usize,
    pub(super) ks: usize,
    pub(super) h: usize,
    pub(super) w: usize,
}

/// Output channels one pass of [`Conv::forward_block`] computes together (4 × 8 `f32`
/// accumulators are 8 SIMD registers, which leaves room for the inputs).
const OUT_BLOCK: usize = 4;
/// Output channels one pass of [`Conv::backward_weights_block`] accumulates together.
const GRAD_BLOCK: usize = 2;

impl Conv {
    pub(super) fn wp(&self) -> usize {
        self.w + self.ks - 1
    }
    pub(super) fn plane_in(&self) -> usize {
        (self.h + self.ks - 1) * self.wp()
    }

    /// `out (cout, H, W) = bias + conv(inp_pad (cin, H+ks−1, W+ks−1), wts (cout, cin, ks, ks))`.
    pub(super) fn forward<T: Scalar>(
        &self,
        inp: &[T],
        wts: &[T],
        bias: Option<&[T]>,
        out: &mut [T],
    ) {
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
    pub(super) fn backward_weights<T: Scalar>(
        &self,
        inp: &[T],
        dout: &[T],
        dw: &mut [T],
        db: &mut [T],
    ) {
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
        // f32: the 8-pixel chunks where some of the block's `dout` is not zero (after a ReLU
        // mask, often most are zero); the others add only zero products, which leave every
        // sum unchanged (a sum that starts at +0 is never −0).
        let live = T::as_f32(d).map(|d| self.live_chunks::<OB>(d));
        for c in 0..cin {
            let ip = &inp[c * pin..(c + 1) * pin];
            for ky in 0..KS {
                let mut acc = [[[T::ZERO; 8]; KS]; OB];
                if let (Some(ip), Some(d), Some(acc), Some(live)) = (
                    T::as_f32(ip),
                    T::as_f32(d),
                    T::as_f32_mut(acc.as_flattened_mut().as_flattened_mut()),
                    live.as_deref(),
                ) {
                    self.weight_lanes::<KS, OB>(ky, ip, d, live, acc);
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

    /// The 8-pixel chunks (`x < W − W mod 8`) of the `OB` planes `d` in which some value is
    /// not zero, in row order, each as `(its offset in a plane, its row's offset in a
    /// padded input plane)`.
    fn live_chunks<const OB: usize>(&self, d: &[f32]) -> Vec<(u32, u32)> {
        let (h, w) = (self.h, self.w);
        let (n, wp) = (h * w, self.wp());
        let full = w / 8 * 8;
        let mut live = Vec::with_capacity(h * full / 8);
        for y in 0..h {
            for x0 in (0..full).step_by(8) {
                let at = y * w + x0;
                if (0..OB).any(|q| d[q * n + at..q * n + at + 8].iter().any(|&v| v != 0.0)) {
                    live.push((at as u32, (y * wp + x0) as u32));
                }
            }
        }
        live
    }

    /// The 8-pixel chunks of [`Conv::backward_weights_block`] in `f32` for input channel
    /// plane `ip` and kernel row `ky`: fills `acc` (`[q][kx][j]`, `OB × KS × 8`) with the
    /// generic loop's lane sums, each lane `j` accumulating the same products in the same
    /// order (rows, then chunks), so the values are identical. Only the chunks in `live`
    /// ([`Conv::live_chunks`]) are visited: the others' products are all ±0.
    fn weight_lanes<const KS: usize, const OB: usize>(
        &self,
        ky: usize,
        ip: &[f32],
        d: &[f32],
        live: &[(u32, u32)],
        acc: &mut [f32],
    ) {
        let n = self.h * self.w;
        let row0 = ky * self.wp();
        let mut a = [[[F32x4::splat(0.0); 2]; KS]; OB];
        for &(at, base) in live {
            let (at, base) = (at as usize, row0 + base as usize);
            let dq: [[F32x4; 2]; OB] = std::array::from_fn(|q| {
                let at = q * n + at;
                [F32x4::load(&d[at..]), F32x4::load(&d[at + 4..])]
            });
            let row = &ip[base..base + KS + 7];
            for kx in 0..KS {
                let lo = F32x4::load(&row[kx..]);
                let hi = F32x4::load(&row[kx + 4..]);
                for (aq, [dlo, dhi]) in a.iter_mut().zip(dq) {
                    aq[kx][0] = aq[kx][0].add(dlo.mul(lo));
                    aq[kx][1] = aq[kx][1].add(dhi.mul(hi));
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
    pub(super) fn backward_input<T: Scalar>(&self, dout_pad: &[T], wt: &[T], dinp: &mut [T]) {
        let t = Conv {
            cin: self.cout,
            cout: self.cin,
            ..*self
        };
        t.forward(dout_pad, wt, None, dinp);
    }

    /// `wt[c][o][ky][kx] = w[o][c][ks−1−ky][ks−1−kx]`.
    pub(super) fn transpose_weights<T: Scalar>(&self, w: &[T], wt: &mut Vec<T>) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::rng::Rng;

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
            // ... and bit for bit against the same order written plainly (the `f32` path runs
            // the SIMD kernel, the `f64` one the generic loops), also where a ReLU mask left
            // most 8-pixel chunks zero (+0 and −0), which the `f32` kernel skips.
            let mut masked = dout.clone();
            for (j, chunk) in masked.chunks_mut(8).enumerate() {
                if j % 3 != 1 {
                    chunk.iter_mut().for_each(|v| *v = *v * T::ZERO);
                }
            }
            for d in [&dout, &masked] {
                let (mut dw, mut db) = (vec![T::ZERO; wts.len()], vec![T::ZERO; cout]);
                conv.backward_weights(&inp, d, &mut dw, &mut db);
                assert_eq!(
                    bits(&dw),
                    bits(&naive_weights(&conv, &inp, d)),
                    "weights {cin}→{cout} k{ks} {h}×{w}"
                );
            }
            let (mut dw, mut db) = (vec![T::ZERO; wts.len()], vec![T::ZERO; cout]);
            conv.backward_weights(&inp, &dout, &mut dw, &mut db);
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
