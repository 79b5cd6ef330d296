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
//!
//! Files: the slice kernels and [`Scalar`] in `kernels.rs`, the convolutions in `conv.rs`,
//! the models and their loss glue ([`Net`], [`Scratch`]) in `net.rs`; this module re-exports
//! their public items.

pub use super::kernels::Scalar;
pub use super::net::{ModelKind, Net, Scratch, Workspace, HIDDEN};
