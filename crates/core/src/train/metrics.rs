//! Held-out metrics: proportions (soft and thresholded) against the truth, overlap, and
//! calibration. Every value is finite or absent (`None`), never NaN.

use crate::special::exp_fast;

use super::data::SMALL;

/// Number of equal-width confidence bins of the reliability diagram and the ECE.
pub const ECE_BINS: usize = 10;
/// A pixel is saturated when its (largest) probability exceeds this (binary: `p < 0.02` or
/// `p > 0.98`).
pub const SATURATION: f64 = 0.98;
/// Upper edge of the medium size bin (`2% ≤ u < 10%`); from it up is "large".
pub const MEDIUM: f64 = 0.10;

/// One held-out image and foreground class: true and predicted proportions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SizePoint {
    /// Held-out image index.
    pub image: usize,
    /// Foreground class (1, or 1 and 2 in 3-class mode).
    pub class: usize,
    /// Ground-truth proportion `u`.
    pub u: f64,
    /// Soft predicted proportion `ŝ` (mean probability).
    pub soft: f64,
    /// Thresholded predicted proportion (`p > 0.5`, or argmax in 3-class mode).
    pub hard: f64,
}

/// Mean `ŝ/u` over the points whose `u` falls in `[lo, hi)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SizeBin {
    /// `"small"` (`u < 2%`), `"medium"` (`2% ≤ u < 10%`) or `"large"` (`u ≥ 10%`).
    pub name: &'static str,
    /// Lower edge of `u` (inclusive).
    pub lo: f64,
    /// Upper edge of `u` (exclusive; the last bin includes 1).
    pub hi: f64,
    /// Points in the bin.
    pub count: usize,
    /// Mean soft `ŝ/u` (None if the bin is empty).
    pub ratio_soft: Option<f64>,
    /// Mean thresholded `ŝ/u` (None if the bin is empty).
    pub ratio_hard: Option<f64>,
}

/// One bar of the reliability diagram.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReliabilityBin {
    /// Centre of the confidence bin.
    pub center: f64,
    /// Mean confidence of the pixels in the bin (None if empty).
    pub confidence: Option<f64>,
    /// Observed frequency: fraction of foreground (binary) or correct (3-class) pixels.
    pub accuracy: Option<f64>,
    /// Pixels in the bin.
    pub count: usize,
}

/// Metrics of a model on the held-out set.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    /// Optimizer steps taken when measured.
    pub step: usize,
    /// The training loss on the held-out set.
    pub loss: Option<f64>,
    /// Mean over (image, foreground class) with `u > 0` of soft `ŝ/u`.
    pub ratio_soft: Option<f64>,
    /// Mean over the same of thresholded `ŝ/u`.
    pub ratio_hard: Option<f64>,
    /// Mean thresholded `ŝ/u` over those with `u < 2%` (None if there are none).
    pub ratio_hard_small: Option<f64>,
    /// Mean thresholded Dice over (image, foreground class) (1 when both are empty).
    pub dice: Option<f64>,
    /// Mean thresholded IoU over the same.
    pub iou: Option<f64>,
    /// Expected calibration error over all pixels ([`ECE_BINS`] equal-width bins): binary,
    /// foreground probability vs label; 3-class, largest probability vs correctness.
    pub ece: Option<f64>,
    /// Fraction of pixels whose largest probability exceeds [`SATURATION`].
    pub saturated: Option<f64>,
    /// One point per (image, foreground class).
    pub points: Vec<SizePoint>,
    /// Mean ratios per size bin: small, medium, large.
    pub size_bins: Vec<SizeBin>,
    /// The reliability diagram ([`ECE_BINS`] bins).
    pub reliability: Vec<ReliabilityBin>,
}

/// `Some(x)` if finite.
pub fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn mean(sum: f64, count: usize) -> Option<f64> {
    if count == 0 {
        None
    } else {
        finite(sum / count as f64)
    }
}

/// Accumulates metrics chunk by chunk of logits.
#[derive(Debug, Clone)]
pub(crate) struct MetricsAcc {
    classes: usize,
    next_image: usize,
    points: Vec<SizePoint>,
    dice_sum: f64,
    iou_sum: f64,
    pairs: usize,
    bins_conf: [f64; ECE_BINS],
    bins_acc: [f64; ECE_BINS],
    bins_n: [usize; ECE_BINS],
    saturated: usize,
    pixels: usize,
}

impl MetricsAcc {
    pub(crate) fn new(classes: usize) -> Self {
        Self {
            classes,
            next_image: 0,
            points: Vec::new(),
            dice_sum: 0.0,
            iou_sum: 0.0,
            pairs: 0,
            bins_conf: [0.0; ECE_BINS],
            bins_acc: [0.0; ECE_BINS],
            bins_n: [0; ECE_BINS],
            saturated: 0,
            pixels: 0,
        }
    }

    fn bin(&mut self, conf: f64, hit: f64) {
        let j = ((conf * ECE_BINS as f64) as usize).min(ECE_BINS - 1);
        self.bins_conf[j] += conf;
        self.bins_acc[j] += hit;
        self.bins_n[j] += 1;
        if conf > SATURATION {
            self.saturated += 1;
        }
    }

    /// Adds one image: `probs (C, N)` (binary: the foreground probability, `C = 1`) and
    /// its labels.
    pub(crate) fn add(&mut self, probs: &[f64], labels: &[i64]) {
        let n = labels.len();
        let k = self.classes;
        let image = self.next_image;
        self.next_image += 1;
        self.pixels += n;
        // Per foreground class: true count, soft mass, hard count, hard intersection.
        let mut st = vec![[0.0f64; 4]; k];
        if k == 2 {
            for (&p, &y) in probs.iter().zip(labels) {
                let fg = y == 1;
                let hard = p > 0.5;
                let s = &mut st[1];
                s[0] += fg as u8 as f64;
                s[1] += p;
                s[2] += hard as u8 as f64;
                s[3] += (fg && hard) as u8 as f64;
                // Reliability of the foreground probability, saturation of max(p, 1 − p).
                let j = ((p * ECE_BINS as f64) as usize).min(ECE_BINS - 1);
                self.bins_conf[j] += p;
                self.bins_acc[j] += fg as u8 as f64;
                self.bins_n[j] += 1;
                if p.max(1.0 - p) > SATURATION {
                    self.saturated += 1;
                }
            }
        } else {
            for (i, &y) in labels.iter().enumerate() {
                let mut best = 0;
                let mut pmax = probs[i];
                for c in 1..k {
                    let p = probs[c * n + i];
                    if p > pmax {
                        pmax = p;
                        best = c;
                    }
                }
                let y = y as usize;
                for (c, s) in st.iter_mut().enumerate().skip(1) {
                    let fg = y == c;
                    let hard = best == c;
                    s[0] += fg as u8 as f64;
                    s[1] += probs[c * n + i];
                    s[2] += hard as u8 as f64;
                    s[3] += (fg && hard) as u8 as f64;
                }
                self.bin(pmax, (best == y) as u8 as f64);
            }
        }
        let nf = n as f64;
        for (c, s) in st.iter().enumerate().skip(1) {
            let (t, p, inter) = (s[0], s[2], s[3]);
            let (dice, iou) = if t + p == 0.0 {
                (1.0, 1.0)
            } else {
                (2.0 * inter / (t + p), inter / (t + p - inter))
            };
            self.dice_sum += dice;
            self.iou_sum += iou;
            self.pairs += 1;
            self.points.push(SizePoint {
                image,
                class: c,
                u: t / nf,
                soft: s[1] / nf,
                hard: p / nf,
            });
        }
    }

    pub(crate) fn finish(self, step: usize, loss: Option<f64>) -> Metrics {
        let present: Vec<&SizePoint> = self.points.iter().filter(|p| p.u > 0.0).collect();
        let ratio = |pts: &[&SizePoint], hard: bool| {
            let s: f64 = pts
                .iter()
                .map(|p| if hard { p.hard } else { p.soft } / p.u)
                .sum();
            mean(s, pts.len())
        };
        let small: Vec<&SizePoint> = present.iter().copied().filter(|p| p.u < SMALL).collect();
        let edges = [
            ("small", 0.0, SMALL),
            ("medium", SMALL, MEDIUM),
            ("large", MEDIUM, 1.0),
        ];
        let size_bins = edges
            .iter()
            .map(|&(name, lo, hi)| {
                let pts: Vec<&SizePoint> = present
                    .iter()
                    .copied()
                    .filter(|p| p.u >= lo && (p.u < hi || hi == 1.0))
                    .collect();
                SizeBin {
                    name,
                    lo,
                    hi,
                    count: pts.len(),
                    ratio_soft: ratio(&pts, false),
                    ratio_hard: ratio(&pts, true),
                }
            })
            .collect();
        let mut ece = 0.0;
        let total = self.pixels as f64;
        let mut reliability = Vec::with_capacity(ECE_BINS);
        for j in 0..ECE_BINS {
            let cnt = self.bins_n[j];
            let (conf, acc) = (mean(self.bins_conf[j], cnt), mean(self.bins_acc[j], cnt));
            if let (Some(cf), Some(ac)) = (conf, acc) {
                ece += cnt as f64 / total * (cf - ac).abs();
            }
            reliability.push(ReliabilityBin {
                center: (j as f64 + 0.5) / ECE_BINS as f64,
                confidence: conf,
                accuracy: acc,
                count: cnt,
            });
        }
        Metrics {
            step,
            loss: loss.and_then(finite),
            ratio_soft: ratio(&present, false),
            ratio_hard: ratio(&present, true),
            ratio_hard_small: ratio(&small, true),
            dice: mean(self.dice_sum, self.pairs),
            iou: mean(self.iou_sum, self.pairs),
            ece: if self.pixels > 0 { finite(ece) } else { None },
            saturated: mean(self.saturated as f64, self.pixels),
            points: self.points,
            size_bins,
            reliability,
        }
    }
}

/// The logistic function with [`exp_fast`] (plain arithmetic, so the browser and a native
/// build get the same bits; the platform's `exp` may differ in the last bit).
fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + exp_fast(-x))
    } else {
        let e = exp_fast(x);
        e / (1.0 + e)
    }
}

/// Probabilities of one image from its logits `(K, N)`: binary (`K = 1`) the foreground
/// sigmoid, otherwise the softmax over `K`, into `out (K, N)`. Uses [`exp_fast`], not the
/// platform's `exp`, so held-out metrics are bit-identical natively and in the browser.
pub(crate) fn probabilities<T: Copy + Into<f64>>(z: &[T], k: usize, out: &mut Vec<f64>) {
    out.clear();
    if k == 1 {
        out.extend(z.iter().map(|&v| sigmoid(v.into())));
        return;
    }
    let n = z.len() / k;
    out.resize(k * n, 0.0);
    for i in 0..n {
        let mx = (0..k).map(|c| z[c * n + i].into()).fold(f64::MIN, f64::max);
        let mut s = 0.0;
        for c in 0..k {
            let e = exp_fast(z[c * n + i].into() - mx);
            out[c * n + i] = e;
            s += e;
        }
        for c in 0..k {
            out[c * n + i] /= s;
        }
    }
}
