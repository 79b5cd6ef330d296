//! Synthetic segmentation data: blurred, noisy discs and ellipses on a dark background.
//!
//! Each image is drawn from its own generator, so the held-out set does not depend on the
//! size of the training set. The clean intensity image (background 0, class 1 at 1.0, class 2
//! at 2.0) is blurred with a Gaussian of standard deviation `blur` pixels **before** Gaussian
//! noise of standard deviation `noise` is added, so boundaries are genuinely ambiguous.

use ndarray::{Array2, Array3, ArrayView2, Axis};

use super::fields;
use super::rng::Rng;
use super::TrainError;

/// Clean intensity of each class (background, large structure, small structure).
pub const INTENSITY: [f64; 3] = [0.0, 1.0, 2.0];

/// Foreground proportions below this are "small" (metrics' size bins and `ratio_hard_small`).
pub const SMALL: f64 = 0.02;

/// How to draw a data set. All fields are validated by [`Dataset::new`].
#[derive(Debug, Clone, PartialEq)]
pub struct DataConfig {
    /// Image side in pixels: 32 or 64.
    pub size: usize,
    /// 2 (binary: background + foreground) or 3 (a large structure plus a small one).
    pub classes: usize,
    /// Number of training images (≥ 1).
    pub train: usize,
    /// Number of held-out images (≥ 1).
    pub test: usize,
    /// Standard deviation of the Gaussian image noise ([`fields::NOISE`]).
    pub noise: f64,
    /// Standard deviation of the Gaussian blur in pixels ([`fields::BLUR`]; 0 = none).
    pub blur: f64,
    /// Smallest total foreground proportion drawn (binary mode; in 3-class mode the small
    /// structure's), `0 < u_min ≤ u_max`.
    pub u_min: f64,
    /// Largest total foreground proportion drawn (binary mode; in 3-class mode the large
    /// structure's), `u_max ≤ 0.5`.
    pub u_max: f64,
    /// Binary mode: the foreground is split over 1 to `max_objects` ellipses (1 to 8).
    pub max_objects: usize,
    /// Probability that a boundary pixel's label is replaced by a neighbour's (0 to 1).
    pub label_noise: f64,
    /// Seed of the data (training and held-out sets are different streams of it).
    pub seed: u64,
}

impl Default for DataConfig {
    /// 32×32 binary images, 512 training and 64 held-out, noise 0.8, blur 1.5, foreground
    /// proportions log-uniform on `[0.005, 0.3]` (about a third of the images under 2%).
    fn default() -> Self {
        Self {
            size: 32,
            classes: 2,
            train: 512,
            test: 64,
            noise: 0.8,
            blur: 1.5,
            u_min: 0.005,
            u_max: 0.3,
            max_objects: 2,
            label_noise: 0.0,
            seed: 1,
        }
    }
}

fn bad(name: &'static str, value: impl std::fmt::Display, reason: &str) -> TrainError {
    TrainError::BadConfig {
        name,
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

impl DataConfig {
    /// Checks every field; the error names the field and the allowed range.
    pub fn validate(&self) -> Result<(), TrainError> {
        fields::SIZE.check_count(self.size)?;
        fields::CLASSES.check_count(self.classes)?;
        if self.train == 0 || self.train > 100_000 {
            return Err(bad("train images", self.train, "must be in 1..=100000"));
        }
        if self.test == 0 || self.test > 100_000 {
            return Err(bad("held-out images", self.test, "must be in 1..=100000"));
        }
        check_noise_blur(self.noise, self.blur)?;
        if !(self.u_min.is_finite() && self.u_min > 0.0 && self.u_min <= 0.5) {
            return Err(bad("u_min", self.u_min, "must be a number in (0, 0.5]"));
        }
        if !(self.u_max.is_finite() && self.u_max >= self.u_min && self.u_max <= 0.5) {
            return Err(bad("u_max", self.u_max, "must be a number in [u_min, 0.5]"));
        }
        if self.max_objects == 0 || self.max_objects > 8 {
            return Err(bad("max_objects", self.max_objects, "must be in 1..=8"));
        }
        if !(self.label_noise.is_finite() && (0.0..=1.0).contains(&self.label_noise)) {
            return Err(bad(
                "label noise",
                self.label_noise,
                "must be a number in [0, 1]",
            ));
        }
        Ok(())
    }
}

fn check_noise_blur(noise: f64, blur: f64) -> Result<(), TrainError> {
    fields::NOISE.check(noise)?;
    fields::BLUR.check(blur)?;
    Ok(())
}

/// A set of images with their label maps.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// Intensities `(n, H, W)`.
    pub images: Array3<f64>,
    /// Class indices `(n, H, W)`, `0..classes`.
    pub labels: Array3<i64>,
}

impl Split {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.images.len_of(Axis(0))
    }

    /// True when there are no images.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Ground-truth proportion of class `k` in image `i`.
    pub fn proportion(&self, i: usize, k: i64) -> f64 {
        let y = self.labels.index_axis(Axis(0), i);
        y.iter().filter(|&&v| v == k).count() as f64 / y.len() as f64
    }
}

/// One image synthesized from a mask ([`Dataset::from_mask`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Intensities `(H, W)`.
    pub image: Array2<f64>,
    /// The mask it was drawn from, `(H, W)`.
    pub labels: Array2<i64>,
}

/// Training and held-out images drawn from a [`DataConfig`].
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// The configuration it was drawn from.
    pub config: DataConfig,
    /// Training images.
    pub train: Split,
    /// Held-out images (the metrics are computed on these).
    pub test: Split,
}

const TRAIN_STREAM: u64 = 1;
const TEST_STREAM: u64 = 2;

impl Dataset {
    /// Draws the training and held-out sets. Same config (seed included) ⇒ same data.
    pub fn new(config: &DataConfig) -> Result<Self, TrainError> {
        config.validate()?;
        let train = draw_split(config, config.train, TRAIN_STREAM);
        let test = draw_split(config, config.test, TEST_STREAM);
        Ok(Self {
            config: config.clone(),
            train,
            test,
        })
    }

    /// Number of classes (2 = binary, one logit channel; 3 = softmax).
    pub fn classes(&self) -> usize {
        self.config.classes
    }

    /// Image side in pixels.
    pub fn size(&self) -> usize {
        self.config.size
    }

    /// "Paint your own": synthesizes an image from a user-painted `mask (H, W)` of class
    /// indices 0, 1, 2 with the given noise and blur (the same model as the data set).
    pub fn from_mask(
        mask: ArrayView2<i64>,
        noise: f64,
        blur: f64,
        seed: u64,
    ) -> Result<Sample, TrainError> {
        check_noise_blur(noise, blur)?;
        let (h, w) = mask.dim();
        if h == 0 || w == 0 || h > 1024 || w > 1024 {
            return Err(bad(
                "mask",
                format!("{h}×{w}"),
                "must be between 1×1 and 1024×1024 pixels",
            ));
        }
        if let Some(&v) = mask.iter().find(|&&v| !(0..=2).contains(&v)) {
            return Err(bad("mask value", v, "must be a class index 0, 1 or 2"));
        }
        let labels: Vec<i64> = mask.iter().copied().collect();
        let mut rng = Rng::derived(seed, 3);
        let img = render(&labels, h, w, noise, blur, &mut rng);
        Ok(Sample {
            image: Array2::from_shape_vec((h, w), img).expect("h*w values"),
            labels: mask.to_owned(),
        })
    }
}

fn draw_split(cfg: &DataConfig, count: usize, stream: u64) -> Split {
    let s = cfg.size;
    let n = s * s;
    let mut images = Vec::with_capacity(count * n);
    let mut labels = Vec::with_capacity(count * n);
    let base = Rng::derived(cfg.seed, stream).next_u64();
    for i in 0..count {
        let mut rng = Rng::derived(base, i as u64);
        let mut y = vec![0i64; n];
        if cfg.classes == 2 {
            let u = log_uniform(&mut rng, cfg.u_min, cfg.u_max);
            let objects = 1 + rng.below(cfg.max_objects);
            let shares: Vec<f64> = (0..objects).map(|_| rng.range(0.5, 1.5)).collect();
            let total: f64 = shares.iter().sum();
            for sh in shares {
                draw_ellipse(&mut y, s, u * sh / total, 1, &mut rng);
            }
        } else {
            // A large structure, then a small one of another intensity drawn on top.
            let big = log_uniform(&mut rng, (cfg.u_max * 0.3).max(cfg.u_min), cfg.u_max);
            draw_ellipse(&mut y, s, big, 1, &mut rng);
            let small = log_uniform(&mut rng, cfg.u_min, (cfg.u_min * 10.0).min(cfg.u_max));
            draw_ellipse(&mut y, s, small, 2, &mut rng);
        }
        let img = render(&y, s, s, cfg.noise, cfg.blur, &mut rng);
        if cfg.label_noise > 0.0 {
            label_noise(&mut y, s, s, cfg.label_noise, &mut rng);
        }
        images.extend(img);
        labels.extend(y);
    }
    Split {
        images: Array3::from_shape_vec((count, s, s), images).expect("count*s*s"),
        labels: Array3::from_shape_vec((count, s, s), labels).expect("count*s*s"),
    }
}

fn log_uniform(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    (rng.range(lo.ln(), hi.ln())).exp()
}

/// Paints an ellipse of area `u·N` pixels (aspect 0.5–1, random angle) with class `k`,
/// centred so it fits in the image; at least one pixel is painted.
fn draw_ellipse(y: &mut [i64], s: usize, u: f64, k: i64, rng: &mut Rng) {
    let area = u * (s * s) as f64;
    let aspect = rng.range(0.5, 1.0);
    let a = (area / (std::f64::consts::PI * aspect)).sqrt();
    let b = a * aspect;
    let theta = rng.range(0.0, std::f64::consts::PI);
    let (sin, cos) = theta.sin_cos();
    let side = s as f64;
    let margin = a.min(side / 2.0);
    let cx = rng.range(margin, side - margin);
    let cy = rng.range(margin, side - margin);
    let mut painted = false;
    for (idx, v) in y.iter_mut().enumerate() {
        let dx = (idx % s) as f64 + 0.5 - cx;
        let dy = (idx / s) as f64 + 0.5 - cy;
        let p = dx * cos + dy * sin;
        let q = -dx * sin + dy * cos;
        if (p / a).powi(2) + (q / b).powi(2) <= 1.0 {
            *v = k;
            painted = true;
        }
    }
    if !painted {
        let (px, py) = ((cx as usize).min(s - 1), (cy as usize).min(s - 1));
        y[py * s + px] = k;
    }
}

/// Clean intensities → Gaussian blur (zero outside the image, i.e. background) → noise.
fn render(y: &[i64], h: usize, w: usize, noise: f64, blur: f64, rng: &mut Rng) -> Vec<f64> {
    let clean: Vec<f64> = y.iter().map(|&k| INTENSITY[k as usize]).collect();
    let mut img = gaussian_blur(&clean, h, w, blur);
    if noise > 0.0 {
        for v in img.iter_mut() {
            *v += noise * rng.normal();
        }
    }
    img
}

/// Separable Gaussian blur with a kernel of radius `⌈3σ⌉`, treating outside pixels as 0.
pub fn gaussian_blur(x: &[f64], h: usize, w: usize, sigma: f64) -> Vec<f64> {
    if sigma <= 0.0 {
        return x.to_vec();
    }
    let r = (3.0 * sigma).ceil() as isize;
    let mut k: Vec<f64> = (-r..=r)
        .map(|d| (-(d * d) as f64 / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f64 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= total);
    let mut tmp = vec![0.0; h * w];
    for yy in 0..h {
        for xx in 0..w {
            let mut acc = 0.0;
            for (j, &kv) in k.iter().enumerate() {
                let sx = xx as isize + j as isize - r;
                if sx >= 0 && (sx as usize) < w {
                    acc += kv * x[yy * w + sx as usize];
                }
            }
            tmp[yy * w + xx] = acc;
        }
    }
    let mut out = vec![0.0; h * w];
    for yy in 0..h {
        for xx in 0..w {
            let mut acc = 0.0;
            for (j, &kv) in k.iter().enumerate() {
                let sy = yy as isize + j as isize - r;
                if sy >= 0 && (sy as usize) < h {
                    acc += kv * tmp[sy as usize * w + xx];
                }
            }
            out[yy * w + xx] = acc;
        }
    }
    out
}

/// Each boundary pixel (a 4-neighbour has another label) takes, with probability `p`, the
/// label of such a neighbour. Decisions are made on the original map.
fn label_noise(y: &mut [i64], h: usize, w: usize, p: f64, rng: &mut Rng) {
    let orig = y.to_vec();
    for i in 0..h * w {
        let (r, c) = (i / w, i % w);
        let mut other = None;
        let nbrs = [
            (r > 0).then(|| i - w),
            (r + 1 < h).then(|| i + w),
            (c > 0).then(|| i - 1),
            (c + 1 < w).then(|| i + 1),
        ];
        for j in nbrs.into_iter().flatten() {
            if orig[j] != orig[i] {
                other = Some(orig[j]);
                break;
            }
        }
        if let Some(o) = other {
            if rng.uniform() < p {
                y[i] = o;
            }
        }
    }
}
