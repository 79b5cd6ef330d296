//! Inputs of an audit: `.npy` files (validated from their headers, read image by image),
//! in-memory arrays, and the 8-bit pixels of PNG masks or probability maps.

use std::ops::Range;

use ndarray::{ArrayView3, ArrayView4, Axis};

use super::{
    AuditConfig, AuditError, AuditReport, Auditor, PredKind, PredSpec, MAX_CHANNELS,
    MAX_FILE_BYTES, MAX_IMAGES, MAX_SIDE,
};
use crate::npy::{decode_f64, decode_i64, Dtype, NpyHeader};

/// How many bytes of a file hold its header, at most (read this prefix first).
pub const HEADER_PREFIX: usize = 65_536;

/// Two validated `.npy` headers: the images' shape and where each image's bytes are.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyPlan {
    /// Images `B`.
    pub n_images: usize,
    /// Height.
    pub height: usize,
    /// Width.
    pub width: usize,
    /// Prediction channels and kind, if any.
    pub preds: Option<PredSpec>,
    labels: NpyHeader,
    pred_header: Option<NpyHeader>,
}

fn check_len(what: &'static str, len: u64) -> Result<(), AuditError> {
    if len > MAX_FILE_BYTES {
        return Err(AuditError::FileTooLarge {
            what,
            size: len,
            limit: MAX_FILE_BYTES,
        });
    }
    Ok(())
}

fn header(what: &'static str, prefix: &[u8], len: u64) -> Result<NpyHeader, AuditError> {
    let h = NpyHeader::parse(prefix).map_err(|msg| AuditError::Npy { what, msg })?;
    if h.fortran {
        return Err(AuditError::Fortran { what });
    }
    let need = h
        .data_bytes()
        .and_then(|b| (b as u64).checked_add(h.data_offset as u64));
    match need {
        Some(need) if need <= len => Ok(h),
        Some(need) => Err(AuditError::Truncated {
            what,
            need: need - h.data_offset as u64,
            have: len.saturating_sub(h.data_offset as u64),
        }),
        None => Err(AuditError::Limit {
            what: "array size",
            value: usize::MAX,
            limit: MAX_FILE_BYTES as usize,
        }),
    }
}

fn limits(b: usize, k: usize, h: usize, w: usize) -> Result<(), AuditError> {
    if b == 0 || k == 0 || h == 0 || w == 0 {
        return Err(AuditError::Empty(format!(
            "every dimension must be at least 1, got B={b}, K={k}, H={h}, W={w}"
        )));
    }
    for (what, value, limit) in [
        ("the number of images", b, MAX_IMAGES),
        ("the image height", h, MAX_SIDE),
        ("the image width", w, MAX_SIDE),
        ("the number of prediction channels", k, MAX_CHANNELS),
    ] {
        if value > limit {
            return Err(AuditError::Limit { what, value, limit });
        }
    }
    Ok(())
}

impl NpyPlan {
    /// Validates the files from their lengths and first bytes (at least the header; reading
    /// [`HEADER_PREFIX`] bytes is enough): size limit (before anything is parsed), dtypes,
    /// shapes, limits, and that each file holds the data its header promises.
    ///
    /// Labels: `(B, H, W)` or `(H, W)`, integer or bool. Predictions: float32/float64
    /// `(B, K, H, W)`; also `(B, H, W)` (one channel) or, with `(H, W)` labels, `(K, H, W)` or
    /// `(H, W)`.
    pub fn new(
        labels_prefix: &[u8],
        labels_len: u64,
        preds: Option<(&[u8], u64)>,
        kind: PredKind,
    ) -> Result<NpyPlan, AuditError> {
        check_len("labels", labels_len)?;
        if let Some((_, len)) = preds {
            check_len("predictions", len)?;
        }
        let lh = header("labels", labels_prefix, labels_len)?;
        if !lh.dtype.is_int() {
            return Err(AuditError::Dtype {
                what: "labels",
                dtype: lh.dtype.to_string(),
                expected: "labels must be integers (int64, int32, uint8 or bool)",
            });
        }
        let (b, h, w) = match *lh.shape.as_slice() {
            [b, h, w] => (b, h, w),
            [h, w] => (1, h, w),
            _ => {
                return Err(AuditError::Rank {
                    what: "labels",
                    shape: lh.shape.clone(),
                    expected: "(B, H, W) or (H, W)",
                })
            }
        };
        let mut plan = NpyPlan {
            n_images: b,
            height: h,
            width: w,
            preds: None,
            labels: lh.clone(),
            pred_header: None,
        };
        let Some((prefix, len)) = preds else {
            limits(b, 1, h, w)?;
            return Ok(plan);
        };
        let ph = header("predictions", prefix, len)?;
        if ph.dtype.is_int() {
            return Err(AuditError::Dtype {
                what: "predictions",
                dtype: ph.dtype.to_string(),
                expected: "predictions must be float32 or float64 (logits or probabilities)",
            });
        }
        let labels_rank2 = lh.shape.len() == 2;
        let mismatch = || AuditError::ShapeMismatch {
            labels: lh.shape.clone(),
            preds: ph.shape.clone(),
        };
        let (pb, k, ph_, pw) = match *ph.shape.as_slice() {
            [pb, k, ph_, pw] => (pb, k, ph_, pw),
            [x, y, z] if !labels_rank2 => {
                if (x, y, z) != (b, h, w) {
                    return Err(mismatch());
                }
                (x, 1, y, z)
            }
            [k, y, z] => (1, k, y, z),
            [y, z] if labels_rank2 => (1, 1, y, z),
            _ => {
                return Err(AuditError::Rank {
                    what: "predictions",
                    shape: ph.shape.clone(),
                    expected: "(B, K, H, W), or (B, H, W) for one channel",
                })
            }
        };
        if (pb, ph_, pw) != (b, h, w) {
            return Err(mismatch());
        }
        limits(b, k, h, w)?;
        plan.preds = Some(PredSpec { kind, channels: k });
        plan.pred_header = Some(ph);
        Ok(plan)
    }

    /// The byte range of image `i`'s labels.
    pub fn labels_range(&self, i: usize) -> Range<u64> {
        let per = (self.height * self.width * self.labels.dtype.width()) as u64;
        let start = self.labels.data_offset as u64 + i as u64 * per;
        start..start + per
    }

    /// The byte range of image `i`'s predictions.
    pub fn preds_range(&self, i: usize) -> Option<Range<u64>> {
        let (ph, spec) = (self.pred_header.as_ref()?, self.preds?);
        let per = (spec.channels * self.height * self.width * ph.dtype.width()) as u64;
        let start = ph.data_offset as u64 + i as u64 * per;
        Some(start..start + per)
    }

    /// Decodes one image's label bytes.
    pub fn labels_image(&self, bytes: &[u8]) -> Vec<i64> {
        decode_i64(self.labels.dtype, bytes)
    }

    /// Decodes one image's prediction bytes.
    pub fn preds_image(&self, bytes: &[u8]) -> Vec<f64> {
        let dtype = self.pred_header.as_ref().map_or(Dtype::F64, |h| h.dtype);
        decode_f64(dtype, bytes)
    }

    /// An [`Auditor`] for these images.
    pub fn auditor(&self, cfg: AuditConfig) -> Result<Auditor, AuditError> {
        Auditor::new(self.height, self.width, self.preds, cfg)
    }
}

fn slice(bytes: &[u8], r: Range<u64>) -> &[u8] {
    let end = (r.end as usize).min(bytes.len());
    &bytes[(r.start as usize).min(end)..end]
}

/// The audit of whole `.npy` files in memory (the streaming loop of [`NpyPlan`] over a slice).
pub fn audit_npy(
    labels: &[u8],
    preds: Option<&[u8]>,
    kind: PredKind,
    cfg: AuditConfig,
) -> Result<AuditReport, AuditError> {
    let plan = NpyPlan::new(
        labels,
        labels.len() as u64,
        preds.map(|p| (p, p.len() as u64)),
        kind,
    )?;
    let mut a = plan.auditor(cfg)?;
    for i in 0..plan.n_images {
        let y = plan.labels_image(slice(labels, plan.labels_range(i)));
        let p = match (preds, plan.preds_range(i)) {
            (Some(bytes), Some(r)) => Some(plan.preds_image(slice(bytes, r))),
            _ => None,
        };
        a.add(&y, p.as_deref())?;
    }
    a.finish()
}

/// The audit of in-memory arrays: labels `(B, H, W)`, predictions `(B, K, H, W)`.
pub fn audit_arrays(
    labels: ArrayView3<i64>,
    preds: Option<(ArrayView4<f64>, PredKind)>,
    cfg: AuditConfig,
) -> Result<AuditReport, AuditError> {
    let (b, h, w) = labels.dim();
    let spec = match preds {
        Some((p, kind)) => {
            let (pb, k, ph, pw) = p.dim();
            if (pb, ph, pw) != (b, h, w) {
                return Err(AuditError::ShapeMismatch {
                    labels: vec![b, h, w],
                    preds: vec![pb, k, ph, pw],
                });
            }
            limits(b, k, h, w)?;
            Some(PredSpec { kind, channels: k })
        }
        None => {
            limits(b, 1, h, w)?;
            None
        }
    };
    let mut a = Auditor::new(h, w, spec, cfg)?;
    for i in 0..b {
        let y: Vec<i64> = labels.index_axis(Axis(0), i).iter().copied().collect();
        let p: Option<Vec<f64>> =
            preds.map(|(p, _)| p.index_axis(Axis(0), i).iter().copied().collect());
        a.add(&y, p.as_deref())?;
    }
    a.finish()
}

/// The grey value of each pixel of 8-bit image data with `channels` per pixel (1 grey,
/// 2 grey + alpha, 3 RGB, 4 RGBA, as a canvas's `getImageData` gives); a colour pixel is an error.
fn grey(name: &str, pixels: &[u8], channels: usize) -> Result<Vec<u8>, AuditError> {
    if !(1..=4).contains(&channels) || !pixels.len().is_multiple_of(channels) {
        return Err(AuditError::Empty(format!(
            "{name}: {} bytes is not a whole number of {channels}-channel pixels",
            pixels.len()
        )));
    }
    if channels < 3 {
        return Ok(pixels.iter().step_by(channels).copied().collect());
    }
    pixels
        .chunks_exact(channels)
        .enumerate()
        .map(|(pixel, c)| {
            if c[0] == c[1] && c[1] == c[2] {
                Ok(c[0])
            } else {
                Err(AuditError::Colour {
                    name: name.to_string(),
                    pixel,
                    r: c[0],
                    g: c[1],
                    b: c[2],
                })
            }
        })
        .collect()
}

/// A label map from the 8-bit pixels of a PNG mask (`channels` per pixel, see above): the
/// class is the pixel value when every value is a class index `0..MAX_CHANNELS`; an image with
/// exactly two values, one of them 0 (e.g. `{0, 255}`), is binary: non-zero is foreground.
/// Anything else (a photo, an anti-aliased mask) is [`AuditError::NotAMask`].
pub fn labels_from_pixels(
    name: &str,
    pixels: &[u8],
    channels: usize,
) -> Result<Vec<i64>, AuditError> {
    let g = grey(name, pixels, channels)?;
    let mut seen = [false; 256];
    for &v in &g {
        seen[v as usize] = true;
    }
    let levels: Vec<usize> = (0..256).filter(|&v| seen[v]).collect();
    if levels.iter().all(|&v| v < MAX_CHANNELS) {
        return Ok(g.into_iter().map(i64::from).collect());
    }
    if levels.len() == 2 && levels[0] == 0 {
        return Ok(g.into_iter().map(|v| i64::from(v != 0)).collect());
    }
    let examples: Vec<String> = levels.iter().take(6).map(|v| v.to_string()).collect();
    Err(AuditError::NotAMask {
        name: name.to_string(),
        levels: levels.len(),
        examples: examples.join(", "),
    })
}

/// Foreground probabilities `v/255` from the 8-bit pixels of a PNG probability map.
pub fn probs_from_pixels(
    name: &str,
    pixels: &[u8],
    channels: usize,
) -> Result<Vec<f64>, AuditError> {
    Ok(grey(name, pixels, channels)?
        .into_iter()
        .map(|v| v as f64 / 255.0)
        .collect())
}
