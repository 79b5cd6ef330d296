//! Pixel drawing of the trainer: the gallery's images and probability maps, and the "paint
//! your own" image and predictions, drawn with `putImageData` into canvases the view hands
//! over by reference ([`Canvases`]), never looked up by test id.

use dicelens_core::train::{Dataset, Sample, Trainer};
use dicelens_plot::trainer::RUNS;
use leptos::html;
use leptos::prelude::*;

use super::engine::Engine;
use super::settings::Settings;
use crate::widgets::paint::{gray_rgba, overlay_contour, prob_rgba, put_rgba};

/// Held-out images in the gallery (one canvas set each).
pub const GALLERY: usize = 4;

/// The ground-truth contour on an input image.
const CONTOUR_IMG: [u8; 3] = [230, 159, 0];
/// The ground-truth contour on a prediction.
const CONTOUR_PRED: [u8; 3] = [240, 60, 60];
/// An empty slot (a run that is off): mid gray.
const OFF_GRAY: u8 = 128;

/// The trainer's pixel canvases.
#[derive(Clone, Copy)]
pub struct Canvases {
    /// The gallery's inputs, one per held-out image.
    pub gallery_img: [NodeRef<html::Canvas>; GALLERY],
    /// The gallery's probability maps, `[image][run]`.
    pub gallery_pred: [[NodeRef<html::Canvas>; RUNS]; GALLERY],
    /// The image synthesized from the painted mask.
    pub paint_image: NodeRef<html::Canvas>,
    /// Each run's prediction on it.
    pub paint_pred: [NodeRef<html::Canvas>; RUNS],
}

impl Canvases {
    pub fn new() -> Self {
        Self {
            gallery_img: std::array::from_fn(|_| NodeRef::new()),
            gallery_pred: std::array::from_fn(|_| std::array::from_fn(|_| NodeRef::new())),
            paint_image: NodeRef::new(),
            paint_pred: std::array::from_fn(|_| NodeRef::new()),
        }
    }
}

fn put(canvas: NodeRef<html::Canvas>, rgba: &[u8], w: usize) {
    if let Some(c) = canvas.get_untracked() {
        put_rgba(&c, rgba, w as u32, w as u32);
    }
}

/// Foreground probability of a prediction `(K, H, W)` (flattened): binary, the one channel;
/// multiclass, `1 − p(background)`.
pub fn foreground(p: &[f64], k: usize, n: usize) -> Vec<f64> {
    if k <= 1 {
        p[..n.min(p.len())].to_vec()
    } else {
        p[..n.min(p.len())].iter().map(|b| 1.0 - b).collect()
    }
}

/// The probability map of `run` on an image with its true contour, or gray for no run.
fn prediction_rgba(
    run: Option<&Trainer>,
    predict: impl FnOnce(&Trainer) -> Option<(Vec<f64>, usize)>,
    labels: &[i64],
    w: usize,
) -> Option<Vec<u8>> {
    let n = w * w;
    let Some(run) = run else {
        return Some(vec![OFF_GRAY; 4 * n]);
    };
    let (p, k) = predict(run)?;
    let mut rgba = prob_rgba(&foreground(&p, k, n));
    overlay_contour(&mut rgba, labels, w, CONTOUR_PRED);
    Some(rgba)
}

/// Draws run `i`'s column of the gallery (its probability maps), and for run 0 the inputs
/// too: one column per frame keeps each frame's work small.
pub fn draw_gallery(engine: &Engine<Trainer>, gallery: &[usize], i: usize, canvases: &Canvases) {
    let Some(data) = engine.data() else { return };
    if i >= RUNS {
        return;
    }
    let w = data.size();
    for (g, &idx) in gallery.iter().enumerate().take(GALLERY) {
        let (Some(img), Some(lab)) = (
            data.test.images.outer_iter().nth(idx),
            data.test.labels.outer_iter().nth(idx),
        ) else {
            continue;
        };
        let labels: Vec<i64> = lab.iter().copied().collect();
        if i == 0 {
            let pixels: Vec<f64> = img.iter().copied().collect();
            let mut rgba = gray_rgba(&pixels);
            overlay_contour(&mut rgba, &labels, w, CONTOUR_IMG);
            put(canvases.gallery_img[g], &rgba, w);
        }
        let predict = |run: &Trainer| {
            let p = run.predict(img);
            let k = p.shape()[0];
            p.as_slice().map(|s| (s.to_vec(), k))
        };
        if let Some(rgba) = prediction_rgba(engine.run(i), predict, &labels, w) {
            put(canvases.gallery_pred[g][i], &rgba, w);
        }
    }
}

/// Synthesizes the painted image into `sample` (when `resynth`, or when there is none yet)
/// from `mask` with the settings' noise, blur and seed, and draws it and every run's
/// prediction on it. `Err` carries the core's message.
pub fn draw_paint(
    engine: &Engine<Trainer>,
    settings: &Settings,
    mask: &[i64],
    sample: &mut Option<Sample>,
    resynth: bool,
    canvases: &Canvases,
) -> Result<(), String> {
    let Some(data) = engine.data() else {
        return Ok(());
    };
    let w = data.size();
    let max_class = data.classes() as i64 - 1;
    let mask: Vec<i64> = mask.iter().map(|&l| l.clamp(0, max_class)).collect();
    if mask.len() != w * w {
        return Ok(());
    }
    if resynth || sample.is_none() {
        *sample = Some(synthesize(data, settings, &mask)?);
    }
    let Some(sample) = sample.as_ref() else {
        return Ok(());
    };
    let pixels: Vec<f64> = sample.image.iter().copied().collect();
    let mut rgba = gray_rgba(&pixels);
    overlay_contour(&mut rgba, &mask, w, CONTOUR_IMG);
    put(canvases.paint_image, &rgba, w);
    for i in 0..RUNS {
        let predict = |run: &Trainer| {
            let p = run.predict(sample.image.view());
            let k = p.shape()[0];
            p.as_slice().map(|s| (s.to_vec(), k))
        };
        if let Some(rgba) = prediction_rgba(engine.run(i), predict, &mask, w) {
            put(canvases.paint_pred[i], &rgba, w);
        }
    }
    Ok(())
}

/// The image synthesized from a mask of the data's size and classes.
fn synthesize(data: &Dataset, settings: &Settings, mask: &[i64]) -> Result<Sample, String> {
    // A template of the right shape (the app names no ndarray type), then the mask.
    let Some(template) = data.test.labels.outer_iter().next() else {
        return Err("the data set has no held-out image".into());
    };
    let mut labels = template.to_owned();
    let Some(slice) = labels.as_slice_mut() else {
        return Err("the label map is not contiguous".into());
    };
    if slice.len() != mask.len() {
        return Err("the painted mask does not have the image's size".into());
    }
    slice.copy_from_slice(mask);
    Dataset::from_mask(
        labels.view(),
        settings.noise,
        settings.blur,
        settings.seed ^ 0x9A17,
    )
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::foreground;

    #[test]
    fn foreground_is_the_channel_or_one_minus_background() {
        assert_eq!(foreground(&[0.2, 0.7, 9.0], 1, 2), vec![0.2, 0.7]);
        assert_eq!(foreground(&[0.25, 1.0, 0.75, 0.0], 2, 2), vec![0.75, 0.0]);
        assert!(foreground(&[0.5], 1, 4).len() == 1, "short input: no panic");
    }
}
