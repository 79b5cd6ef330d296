//! Pixel drawing of the trainer: the gallery's images and probability maps, and the "paint
//! your own" image and predictions (the worker's pixels), drawn with `putImageData` into
//! canvases the view hands over by reference ([`Canvases`]), never looked up by test id.

use dicelens_plot::trainer::RUNS;
use leptos::html;
use leptos::prelude::*;

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

fn wide(x: &[f32]) -> Vec<f64> {
    x.iter().map(|&v| v as f64).collect()
}

/// The probability map of a run (foreground probability per pixel) with the true contour, or
/// gray for a run that is off.
fn prediction_rgba(pred: Option<&[f32]>, labels: &[i64], w: usize) -> Vec<u8> {
    match pred {
        None => vec![OFF_GRAY; 4 * w * w],
        Some(p) => {
            let mut rgba = prob_rgba(&wide(p));
            overlay_contour(&mut rgba, labels, w, CONTOUR_PRED);
            rgba
        }
    }
}

/// Draws run `run`'s column of the gallery from the worker's report: its probability maps on
/// each held-out image, and for run 0 the input images too (`images`). Malformed sizes draw
/// nothing.
pub fn draw_gallery(
    canvases: &Canvases,
    run: usize,
    w: usize,
    images: Option<&[f32]>,
    labels: &[u8],
    preds: Option<&[f32]>,
) {
    let Some(n) = w.checked_mul(w) else { return };
    if run >= RUNS || n == 0 || !labels.len().is_multiple_of(n) {
        return;
    }
    for (g, lab) in labels.chunks(n).enumerate().take(GALLERY) {
        let lab: Vec<i64> = lab.iter().map(|&l| l as i64).collect();
        if let Some(img) = images.and_then(|i| i.get(g * n..(g + 1) * n)) {
            let mut rgba = gray_rgba(&wide(img));
            overlay_contour(&mut rgba, &lab, w, CONTOUR_IMG);
            put(canvases.gallery_img[g], &rgba, w);
        }
        let pred = match preds {
            Some(p) => match p.get(g * n..(g + 1) * n) {
                Some(p) => Some(p),
                None => continue,
            },
            None => None,
        };
        put(
            canvases.gallery_pred[g][run],
            &prediction_rgba(pred, &lab, w),
            w,
        );
    }
}

/// Draws the image synthesized from the painted mask and every run's prediction on it (the
/// worker's report). Malformed sizes draw nothing.
pub fn draw_paint(
    canvases: &Canvases,
    w: usize,
    image: &[f32],
    labels: &[u8],
    preds: &[Option<Vec<f32>>],
) {
    let Some(n) = w.checked_mul(w) else { return };
    if n == 0 || image.len() != n || labels.len() != n {
        return;
    }
    let lab: Vec<i64> = labels.iter().map(|&l| l as i64).collect();
    let mut rgba = gray_rgba(&wide(image));
    overlay_contour(&mut rgba, &lab, w, CONTOUR_IMG);
    put(canvases.paint_image, &rgba, w);
    for (i, p) in preds.iter().enumerate().take(RUNS) {
        if p.as_ref().is_some_and(|p| p.len() != n) {
            continue;
        }
        put(
            canvases.paint_pred[i],
            &prediction_rgba(p.as_deref(), &lab, w),
            w,
        );
    }
}
