//! The two toy models (see [`super::model`]): parameters in one flat vector, forward and
//! backward passes over a batch, and the glue to the loss core ([`Net::loss_and_grad`]).

// Index loops over channels and pixels read several arrays at once; that is the clearest way
// to write them.
#![allow(clippy::needless_range_loop)]

use std::ops::Range;

use ndarray::{Array4, ArrayView3};

use super::conv::Conv;
use super::kernels::{axpy, dot, pad_into, relu, relu_mask, resize, sum, Scalar};
use super::rng::Rng;
use crate::losses::{LossKind, OneLoss, RegionConfig};
use crate::LossError;

/// Hidden channels of [`ModelKind::Cnn8`].
pub const HIDDEN: usize = 8;

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
    /// [`OneLoss`] (the [`crate::losses::Evaluator`]'s value and gradient, computing only the
    /// sums this loss uses). `Ok(None)` when the loss has no value (plain log-Dice with a zero
    /// Dice).
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
        let ev = OneLoss::new(scratch.logits.view(), labels, region, loss)?;
        let value = ev.value();
        if value.is_none() {
            return Ok(None);
        }
        ev.gradient_into(&mut scratch.dlogits64)?;
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
