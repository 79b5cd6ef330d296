//! Text measurement in the browser.
//!
//! DiceLens change (see `vendor/plotters/DICELENS.md`): upstream plotters 0.3.7 measured every
//! label by appending a `<span>` to the page and reading its `offsetHeight`, which forces a
//! layout of the whole page on every axis label and legend entry (about 3.5 ms per redraw of
//! one plot in DiceLens's theory explorer). This version asks a detached canvas's
//! `measureText` instead (no page layout) and remembers each answer, so a redraw measures
//! nothing it has measured before.
use super::{FontData, FontFamily, FontStyle, LayoutBox};
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::JsCast;
use web_sys::{window, CanvasRenderingContext2d, HtmlCanvasElement};

#[derive(Debug, Clone)]
pub enum FontError {
    UnknownError,
}

impl std::fmt::Display for FontError {
    fn fmt(&self, fmt: &mut std::fmt::Formatter) -> Result<(), std::fmt::Error> {
        match self {
            _ => write!(fmt, "Unknown error"),
        }
    }
}

impl std::error::Error for FontError {}

#[derive(Clone)]
pub struct FontDataInternal(String, String);

/// Measured boxes by (CSS font, text); bounded so that a page that draws endlessly varying
/// labels cannot grow it without limit.
struct Measurer {
    ctx: Option<CanvasRenderingContext2d>,
    font: String,
    cache: HashMap<(String, String), (i32, i32)>,
}

const CACHE_LIMIT: usize = 4096;

thread_local! {
    static MEASURER: RefCell<Measurer> = RefCell::new(Measurer {
        ctx: None,
        font: String::new(),
        cache: HashMap::new(),
    });
}

fn context() -> Option<CanvasRenderingContext2d> {
    let canvas: HtmlCanvasElement = window()?
        .document()?
        .create_element("canvas")
        .ok()?
        .dyn_into()
        .ok()?;
    canvas.get_context("2d").ok()??.dyn_into().ok()
}

impl FontData for FontDataInternal {
    type ErrorType = FontError;
    fn new(family: FontFamily, style: FontStyle) -> Result<Self, FontError> {
        Ok(FontDataInternal(
            family.as_str().into(),
            style.as_str().into(),
        ))
    }
    fn estimate_layout(&self, size: f64, text: &str) -> Result<LayoutBox, Self::ErrorType> {
        let font = format!("{} {}px {}", self.1, size, self.0);
        MEASURER.with(|m| {
            let mut m = m.borrow_mut();
            let key = (font, text.to_string());
            if let Some(&(w, h)) = m.cache.get(&key) {
                return Ok(((0, 0), (w, h)));
            }
            if m.ctx.is_none() {
                m.ctx = context();
            }
            let ctx = m.ctx.clone().ok_or(FontError::UnknownError)?;
            if m.font != key.0 {
                ctx.set_font(&key.0);
                m.font = key.0.clone();
            }
            let metrics = ctx.measure_text(text).map_err(|_| FontError::UnknownError)?;
            // The span's offsetWidth/offsetHeight that upstream read: the advance width, and
            // the font's ascent + descent (its "normal" line height), in whole pixels.
            let w = metrics.width().round() as i32;
            let asc = metrics.font_bounding_box_ascent();
            let desc = metrics.font_bounding_box_descent();
            let h = if (asc + desc).is_finite() && asc + desc > 0.0 {
                (asc + desc).round() as i32
            } else {
                (size * 1.15).round() as i32
            };
            if m.cache.len() >= CACHE_LIMIT {
                m.cache.clear();
            }
            m.cache.insert(key, (w, h));
            Ok(((0, 0), (w, h)))
        })
    }
}
