//! The HTML5 canvas backend of plotters, with DiceLens's changes (see
//! `vendor/plotters-canvas/DICELENS.md`): strokes of one style are batched into one path, and
//! the context's style state (stroke, fill, width, font, alignment) is set only when it
//! changes. Upstream began, styled and stroked a path for every line segment, so a dashed
//! curve of 120 points cost hundreds of strokes and colour-string parses.
use js_sys::JSON;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{window, CanvasRenderingContext2d, HtmlCanvasElement};

use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
    FontTransform,
};

/// The HTML Canvas backend
pub struct CanvasBackend {
    canvas: HtmlCanvasElement,
    context: CanvasRenderingContext2d,
    /// The context's current state as last set through this backend (`None`: unknown).
    stroke: Option<Rgba>,
    fill: Option<Rgba>,
    width: Option<u32>,
    font: Option<String>,
    align: Option<&'static str>,
    baseline: Option<&'static str>,
    /// The style of the open, not yet stroked path, if any.
    open_path: Option<(Rgba, u32)>,
    /// The bounds of the open path's points (min x, min y, max x, max y), before its width.
    open_bounds: Option<(f64, f64, f64, f64)>,
    /// The colour the whole canvas is known to have, until something is drawn
    /// ([`CanvasBackend::assume_background`]).
    background: Option<Rgba>,
}

/// A colour as compared and cached (alpha by its bits).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Rgba(u8, u8, u8, u64);

impl Rgba {
    fn of(c: BackendColor) -> Self {
        Rgba(c.rgb.0, c.rgb.1, c.rgb.2, c.alpha.to_bits())
    }
    fn css(self) -> String {
        format!("rgba({},{},{},{})", self.0, self.1, self.2, f64::from_bits(self.3))
    }
}

/// The error produced by the canvas backend
pub struct CanvasError(String);

impl std::fmt::Display for CanvasError {
    fn fmt(&self, fmt: &mut std::fmt::Formatter) -> Result<(), std::fmt::Error> {
        return write!(fmt, "Canvas Error: {}", self.0);
    }
}

impl std::fmt::Debug for CanvasError {
    fn fmt(&self, fmt: &mut std::fmt::Formatter) -> Result<(), std::fmt::Error> {
        return write!(fmt, "CanvasError({})", self.0);
    }
}

fn error_cast(e: JsValue) -> DrawingErrorKind<CanvasError> {
    DrawingErrorKind::DrawingError(CanvasError(
        JSON::stringify(&e)
            .map(|s| Into::<String>::into(&s))
            .unwrap_or_else(|_| "Unknown".to_string()),
    ))
}

impl std::error::Error for CanvasError {}

impl CanvasBackend {
    fn init_backend(canvas: HtmlCanvasElement) -> Option<Self> {
        let context: CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
        Some(CanvasBackend {
            canvas,
            context,
            stroke: None,
            fill: None,
            width: None,
            font: None,
            align: None,
            baseline: None,
            open_path: None,
            open_bounds: None,
            background: None,
        })
    }

    /// Create a new drawing backend backed with an HTML5 canvas object with given Id
    /// - `elem_id` The element id for the canvas
    /// - Return either some drawing backend has been created, or none in error case
    pub fn new(elem_id: &str) -> Option<Self> {
        let document = window()?.document()?;
        let canvas = document.get_element_by_id(elem_id)?;
        let canvas: HtmlCanvasElement = canvas.dyn_into().ok()?;
        Self::init_backend(canvas)
    }

    /// Create a new drawing backend backend with a HTML5 canvas object passed in
    /// - `canvas` The object we want to use as backend
    /// - Return either the drawing backend or None for error
    pub fn with_canvas_object(canvas: HtmlCanvasElement) -> Option<Self> {
        Self::init_backend(canvas)
    }

    /// Tells the backend that the whole canvas has just been painted `color` (opaque): fills of
    /// that colour are then skipped until anything else is drawn through the backend. A chart
    /// fills its area with its background first; the page has already painted it. Whoever
    /// draws on the canvas's context directly in between must not call this.
    pub fn assume_background(&mut self, color: plotters_backend::BackendColor) {
        self.background = (color.alpha == 1.0).then(|| Rgba::of(color));
    }

    /// Something other than a background fill is drawn: the canvas is no longer one colour.
    fn drawn(&mut self) {
        self.background = None;
    }

    /// Strokes the open path, if any.
    fn flush(&mut self) {
        self.open_bounds = None;
        if self.open_path.take().is_some() {
            self.context.stroke();
        }
    }

    /// Adds a point of the open path to its bounds.
    fn extend_bounds(&mut self, (x, y): (f64, f64)) {
        self.open_bounds = Some(match self.open_bounds {
            None => (x, y, x, y),
            Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
        });
    }

    /// Whether the box `(x0, y0, x1, y1)` may touch a pixel of the open path once stroked: its
    /// bounds grown by half the width times the miter limit (10, the canvas default: the
    /// farthest a join reaches) and 2 px of anti-aliasing.
    fn touches_open_path(&self, (x0, y0, x1, y1): (f64, f64, f64, f64)) -> bool {
        let (Some((_, w)), Some((bx0, by0, bx1, by1))) = (self.open_path, self.open_bounds) else {
            return false;
        };
        let pad = 5.0 * f64::from(w) + 2.0;
        !(x1 < bx0 - pad || x0 > bx1 + pad || y1 < by0 - pad || y0 > by1 + pad)
    }

    fn set_stroke(&mut self, c: Rgba, width: u32) {
        if self.stroke != Some(c) {
            self.context.set_stroke_style_str(&c.css());
            self.stroke = Some(c);
        }
        if self.width != Some(width) {
            self.context.set_line_width(width as f64);
            self.width = Some(width);
        }
    }

    fn set_fill(&mut self, c: Rgba) {
        if self.fill != Some(c) {
            self.context.set_fill_style_str(&c.css());
            self.fill = Some(c);
        }
    }

    /// Continues the open path when it has this style, else strokes it and begins another.
    fn path_for(&mut self, style: &impl BackendStyle) {
        let key = (Rgba::of(style.color()), style.stroke_width());
        if self.open_path == Some(key) {
            return;
        }
        self.flush();
        self.set_stroke(key.0, key.1);
        self.context.begin_path();
        self.open_path = Some(key);
    }

    /// After `restore()` the context's state is the saved one: forget what was cached.
    fn forget_state(&mut self) {
        self.stroke = None;
        self.fill = None;
        self.width = None;
        self.font = None;
        self.align = None;
        self.baseline = None;
    }
}

impl Drop for CanvasBackend {
    fn drop(&mut self) {
        self.flush();
    }
}

impl DrawingBackend for CanvasBackend {
    type ErrorType = CanvasError;

    fn get_size(&self) -> (u32, u32) {
        (self.canvas.width(), self.canvas.height())
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<CanvasError>> {
        Ok(())
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.flush();
        Ok(())
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        style: BackendColor,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        if style.color().alpha == 0.0 {
            return Ok(());
        }
        self.drawn();
        self.flush();
        self.set_fill(Rgba::of(style.color()));
        self.context
            .fill_rect(f64::from(point.0), f64::from(point.1), 1.0, 1.0);
        Ok(())
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        if style.color().alpha == 0.0 {
            return Ok(());
        }
        self.drawn();
        let (from, to) = fine_hor_ver_lines(from, to);
        self.path_for(style);
        self.context.move_to(from.0, from.1);
        self.context.line_to(to.0, to.1);
        self.extend_bounds(from);
        self.extend_bounds(to);
        Ok(())
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        if style.color().alpha == 0.0 {
            return Ok(());
        }
        if fill && self.background == Some(Rgba::of(style.color())) {
            // The canvas is this colour already (and nothing is open: drawing ends that).
            return Ok(());
        }
        self.drawn();
        self.flush();
        let (x, y) = (f64::from(upper_left.0), f64::from(upper_left.1));
        let (w, h) = (
            f64::from(bottom_right.0 - upper_left.0),
            f64::from(bottom_right.1 - upper_left.1),
        );
        if fill {
            self.set_fill(Rgba::of(style.color()));
            self.context.fill_rect(x, y, w, h);
        } else {
            self.set_stroke(Rgba::of(style.color()), style.stroke_width());
            self.context.stroke_rect(x, y, w, h);
        }
        Ok(())
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        if style.color().alpha == 0.0 {
            return Ok(());
        }
        self.drawn();
        let mut path = path.into_iter();
        if let Some(start) = path.next() {
            self.path_for(style);
            self.context.move_to(f64::from(start.0), f64::from(start.1));
            self.extend_bounds((f64::from(start.0), f64::from(start.1)));
            for next in path {
                self.context.line_to(f64::from(next.0), f64::from(next.1));
                self.extend_bounds((f64::from(next.0), f64::from(next.1)));
            }
        }
        Ok(())
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        if style.color().alpha == 0.0 {
            return Ok(());
        }
        self.drawn();
        self.flush();
        let mut path = path.into_iter();
        self.context.begin_path();
        if let Some(start) = path.next() {
            self.set_fill(Rgba::of(style.color()));
            self.context.move_to(f64::from(start.0), f64::from(start.1));
            for next in path {
                self.context.line_to(f64::from(next.0), f64::from(next.1));
            }
            self.context.close_path();
        }
        self.context.fill();
        Ok(())
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        if style.color().alpha == 0.0 {
            return Ok(());
        }
        self.drawn();
        self.flush();
        if fill {
            self.set_fill(Rgba::of(style.color()));
        } else {
            self.set_stroke(Rgba::of(style.color()), style.stroke_width());
        }
        self.context.begin_path();
        self.context
            .arc(
                f64::from(center.0),
                f64::from(center.1),
                f64::from(radius),
                0.0,
                std::f64::consts::PI * 2.0,
            )
            .map_err(error_cast)?;
        if fill {
            self.context.fill();
        } else {
            self.context.stroke();
        }
        Ok(())
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        self.drawn();

        let (mut x, mut y) = (pos.0, pos.1);

        let degree = match style.transform() {
            FontTransform::None => 0.0,
            FontTransform::Rotate90 => 90.0,
            FontTransform::Rotate180 => 180.0,
            FontTransform::Rotate270 => 270.0,
        } / 180.0
            * std::f64::consts::PI;

        if degree != 0.0 {
            // Rotated text (an axis title, one per chart) is not boxed: the path goes first.
            self.flush();
            self.context.save();
            self.context
                .translate(f64::from(x), f64::from(y))
                .map_err(error_cast)?;
            self.context.rotate(degree).map_err(error_cast)?;
            x = 0;
            y = 0;
        }

        let text_baseline = match style.anchor().v_pos {
            VPos::Top => "top",
            VPos::Center => "middle",
            VPos::Bottom => "bottom",
        };
        if self.baseline != Some(text_baseline) {
            self.context.set_text_baseline(text_baseline);
            self.baseline = Some(text_baseline);
        }

        let text_align = match style.anchor().h_pos {
            HPos::Left => "start",
            HPos::Right => "end",
            HPos::Center => "center",
        };
        if self.align != Some(text_align) {
            self.context.set_text_align(text_align);
            self.align = Some(text_align);
        }

        self.set_fill(Rgba::of(color));
        let font = format!(
            "{} {}px {}",
            style.style().as_str(),
            style.size(),
            style.family().as_str(),
        );
        if self.font.as_deref() != Some(font.as_str()) {
            self.context.set_font(&font);
            self.font = Some(font);
        }
        // The open path is stroked first only where the text may touch it: a chart's tick
        // marks then go into one path, instead of one stroke per tick between its labels (the
        // canvas's path is in pixels already, and text drawing neither reads nor changes it).
        // The text's box is its ink as the canvas measures it, from the anchor, and a pixel
        // of anti-aliasing; where the browser measures no box, the path goes first.
        if self.open_path.is_some() {
            let ink = self.context.measure_text(text).ok().map(|m| {
                let (x, y) = (f64::from(x), f64::from(y));
                (
                    x - m.actual_bounding_box_left() - 1.0,
                    y - m.actual_bounding_box_ascent() - 1.0,
                    x + m.actual_bounding_box_right() + 1.0,
                    y + m.actual_bounding_box_descent() + 1.0,
                )
            });
            match ink {
                Some(b) if [b.0, b.1, b.2, b.3].iter().all(|v| v.is_finite()) => {
                    if self.touches_open_path(b) {
                        self.flush();
                    }
                }
                _ => self.flush(),
            }
        }
        self.context
            .fill_text(text, f64::from(x), f64::from(y))
            .map_err(error_cast)?;

        if degree != 0.0 {
            self.context.restore();
            self.forget_state();
        }

        Ok(())
    }
}

/// Move line coord to left/right half pixel if the line is vertical/horizontal
/// to prevent line blurry in canvas, see https://stackoverflow.com/a/13879322/10651567
/// and https://developer.mozilla.org/en-US/docs/Web/API/Canvas_API/Tutorial/Applying_styles_and_colors#a_linewidth_example
fn fine_hor_ver_lines(from: BackendCoord, end: BackendCoord) -> ((f64, f64), (f64, f64)) {
    let mut from = (from.0 as f64, from.1 as f64);
    let mut end = (end.0 as f64, end.1 as f64);
    if from.0 == end.0 {
        from.0 -= 0.5;
        end.0 -= 0.5;
    }
    if from.1 == end.1 {
        from.1 -= 0.5;
        end.1 -= 0.5;
    }
    (from, end)
}
