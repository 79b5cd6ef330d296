//! Typed errors: every bad input becomes one of these, with a message a person can act on.
#![allow(missing_docs)] // field names are spelled out in each variant's message

use thiserror::Error;

/// Why the core refused an input. `Display` is the one-line message shown to users.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LossError {
    /// Logits and labels disagree on batch size or spatial size.
    #[error("shape mismatch: logits are (B={lb}, K={k}, H={lh}, W={lw}) but labels are (B={yb}, H={yh}, W={yw})")]
    ShapeMismatch {
        lb: usize,
        k: usize,
        lh: usize,
        lw: usize,
        yb: usize,
        yh: usize,
        yw: usize,
    },
    /// Some dimension is zero.
    #[error("empty input: every dimension of logits (B, K, H, W) must be at least 1, got {0:?}")]
    Empty([usize; 4]),
    /// A label value is not a valid class index.
    #[error("label {value} at (b={b}, h={h}, w={w}) is outside {allowed}")]
    LabelOutOfRange {
        value: i64,
        b: usize,
        h: usize,
        w: usize,
        allowed: String,
    },
    /// A logit is NaN or infinite.
    #[error("logit at (b={b}, k={k}, h={h}, w={w}) is {value} (logits must be finite)")]
    NonFinite {
        value: f64,
        b: usize,
        k: usize,
        h: usize,
        w: usize,
    },
    /// A scalar parameter is out of its documented range.
    #[error("parameter {name} = {value} is invalid: {reason}")]
    BadParameter {
        name: &'static str,
        value: f64,
        reason: &'static str,
    },
    /// The loss has no value here (e.g. log-Dice where a plain Dice coefficient is 0).
    #[error("{0}")]
    Undefined(String),
}
