//! A `<canvas>` that plotters draws on, crisp on high-DPI screens and redrawn whenever a
//! signal the draw function reads changes, or the window is resized.

use dicelens_plot::{PlotFrame, PlotStyle};
use leptos::html;
use leptos::prelude::*;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;

use super::export::ExportBar;
use super::perf;
use dicelens_plot::figure::Figure;

use crate::hooks::device_pixel_ratio;

/// Backend pixels of the canvas under a pointer at client coordinates.
fn backend_pixel(canvas: &web_sys::HtmlCanvasElement, client_x: i32, client_y: i32) -> (f64, f64) {
    let dpr = device_pixel_ratio();
    let rect = canvas.get_bounding_client_rect();
    (
        (client_x as f64 - rect.left()) * dpr,
        (client_y as f64 - rect.top()) * dpr,
    )
}

/// Paints the whole `w × h` bitmap of `canvas` in the plot's background colour and resets its
/// transform. The plot canvas is opaque (`alpha: false`, asked for here, on the first
/// `getContext` of the canvas): the compositor then copies its pixels instead of blending
/// them with the panel below, on every frame a drag redraws it. Every plot is drawn on this
/// background, so nothing shows through anyway.
fn fill_background(canvas: &web_sys::HtmlCanvasElement, w: u32, h: u32, bg: RGBColor) {
    use wasm_bindgen::JsCast;
    let opts = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&opts, &"alpha".into(), &false.into());
    let ctx = canvas
        .get_context_with_context_options("2d", &opts)
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok());
    if let Some(ctx) = ctx {
        let _ = ctx.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0);
        ctx.set_fill_style_str(&format!("rgb({},{},{})", bg.0, bg.1, bg.2));
        ctx.fill_rect(0.0, 0.0, w as f64, h as f64);
    }
}

/// A vertical line over a plot, in backend pixels: its x, and the plotting area's top and
/// bottom.
pub type CursorLine = (f64, f64, f64);

/// A plot canvas. `draw` is called inside an effect, so every signal it reads is tracked.
#[component]
pub fn PlotCanvas<F>(
    /// Draws the plot on the canvas backend and returns where the data landed.
    draw: F,
    /// Accessible name of the plot (the text alternative below it carries the numbers).
    #[prop(into)]
    label: String,
    /// `data-testid` of the canvas.
    #[prop(into)]
    testid: String,
    /// Height as a fraction of width.
    #[prop(default = 0.62)]
    aspect: f64,
    /// The smallest height-to-width ratio on a narrow screen (below 560 CSS px), where plots
    /// with two panels stack them.
    #[prop(default = 1.05)]
    compact_aspect: f64,
    /// Receives the plot frame after every draw (for pointer → data mapping).
    #[prop(optional)]
    frame: Option<RwSignal<Option<PlotFrame>, LocalStorage>>,
    /// Called with a data x-coordinate when the user presses or drags on the plot.
    #[prop(optional)]
    on_drag_x: Option<Callback<f64>>,
    /// Called with backend-pixel `(x, y, pressed)` when the user presses (`pressed = true`) or
    /// drags on the plot, for views with their own pixel → data mapping.
    #[prop(optional)]
    on_drag_xy: Option<Callback<(f64, f64, bool)>>,
    /// Called with backend-pixel `(x, y)` while the pointer moves over the plot without a
    /// button pressed, and with `None` when it leaves.
    #[prop(optional)]
    on_hover_xy: Option<Callback<Option<(f64, f64)>>>,
    /// Builds this plot's figure for the PNG 2×/SVG/CSV export buttons (none: no buttons).
    #[prop(optional)]
    export: Option<Callback<(), Option<Figure>>>,
    /// File name of exports, without extension (e.g. `dicelens-family`).
    #[prop(optional, into)]
    export_name: String,
    /// The canvas element, for views that also paint pixels on it themselves (a heat map's
    /// raster): the view passes a `NodeRef` and uses the same canvas. It paints after its
    /// chart's fill of the background. This component paints the background before the draw,
    /// so the backend skips fills of that colour until something is drawn through it: it would
    /// also skip one meant to cover pixels painted directly before it.
    #[prop(optional)]
    canvas: Option<NodeRef<html::Canvas>>,
    /// A vertical line over the plot, in backend pixels: its x, and the plotting area's top
    /// and bottom (`None`: hidden). The compositor moves it: a line that follows a slider
    /// redraws nothing, where drawing it into the canvas redrew the whole plot on every frame
    /// (the canvas's raster, then the compositor's copy of it). The PNG export draws it in.
    #[prop(optional)]
    cursor: Option<Signal<Option<CursorLine>, LocalStorage>>,
    /// The cursor is solid and 1.5 px wide, in the plot's foreground colour (the current `ŝ`);
    /// otherwise dashed, 1 px, at half opacity (the bias map's `u`).
    #[prop(optional)]
    cursor_solid: bool,
) -> impl IntoView
where
    F: Fn(&DrawingArea<CanvasBackend, Shift>, &PlotStyle) -> Option<PlotFrame> + 'static,
{
    let canvas_ref = canvas.unwrap_or_default();
    // Each draw's duration (compute of the memos it reads included) for the benchmark.
    let draw_name = format!("draw:{testid}");
    // The parent's width in CSS pixels (0 until first read).
    let parent_width = RwSignal::new(0.0f64);
    let dark = crate::hooks::use_dark_scheme();
    let last_frame = StoredValue::new_local(None::<(PlotFrame, f64)>);
    // The CSS height last given to the canvas (0: none yet).
    let shown_height = StoredValue::new(0.0f64);
    // Only plots on screen are drawn; one scrolled into view draws then. Where the browser has
    // no IntersectionObserver every plot counts as visible.
    let visible = RwSignal::new(true);
    Effect::new(move |_| {
        if let Some(canvas) = canvas_ref.get() {
            crate::hooks::use_visibility(&canvas, visible);
            if let Some(parent) = canvas.parent_element() {
                crate::hooks::use_width(&parent, parent_width);
            }
        }
    });

    Effect::new(move |_| {
        let Some(canvas) = canvas_ref.get() else {
            return;
        };
        if !visible.get() {
            return;
        }
        let mut css_w = parent_width.get();
        if css_w <= 0.0 {
            // Before the resize observer's first report: read it once.
            css_w = canvas
                .parent_element()
                .map(|p| p.client_width())
                .unwrap_or(600) as f64;
            *parent_width.write_untracked() = css_w;
        }
        let css_w = css_w.max(240.0);
        let compact = css_w < 560.0;
        let aspect = if compact {
            aspect.max(compact_aspect)
        } else {
            aspect
        };
        let css_h = (css_w * aspect).clamp(220.0, if compact { 900.0 } else { 640.0 });
        let dpr = device_pixel_ratio();
        let (w, h) = ((css_w * dpr).round() as u32, (css_h * dpr).round() as u32);
        if canvas.width() != w || canvas.height() != h || shown_height.get_value() != css_h {
            canvas.set_width(w);
            canvas.set_height(h);
            let _ =
                web_sys::HtmlElement::style(&canvas).set_property("height", &format!("{css_h}px"));
            shown_height.set_value(css_h);
        }
        // Of the same size, the bitmap is painted over, not replaced: setting the size, even
        // to the same one, gives the canvas a new bitmap, which the compositor then takes over
        // whole: in a trace of a slider drag, about 4 ms more per redraw on the main thread
        // (issue 13). The backend sets every style it uses, and restores the transform it
        // changes.
        let style = PlotStyle {
            scale: dpr,
            dark: dark.get(),
            compact,
        };
        fill_background(&canvas, w, h, style.bg());
        let Some(mut backend) = CanvasBackend::with_canvas_object(canvas.clone()) else {
            return;
        };
        // The chart's own fill of its background is then skipped (one full-canvas `fillRect`
        // a draw). The heat maps' raster (`canvas`, above) is painted after that fill.
        backend.assume_background(style.bg().to_backend_color());
        let area = backend.into_drawing_area();
        let t0 = perf::now();
        let f = draw(&area, &style);
        let _ = area.present();
        perf::record_work(&draw_name, perf::now() - t0);
        if let Some(f) = f {
            perf::mark_first_plot();
            last_frame.set_value(Some((f, dpr)));
            if let Some(sig) = frame {
                sig.set(Some(f));
            }
        }
        perf::mark_drawn();
    });

    let draggable = on_drag_x.is_some() || on_drag_xy.is_some();
    let drag_to = move |client_x: i32, client_y: i32, pressed: bool| {
        let Some(canvas) = canvas_ref.get_untracked() else {
            return;
        };
        let (px, py) = backend_pixel(&canvas, client_x, client_y);
        perf::mark_input();
        if let Some(cb) = on_drag_xy {
            cb.run((px, py, pressed));
        }
        if let (Some(cb), Some((f, _))) = (on_drag_x, last_frame.get_value()) {
            cb.run(f.x_at(px));
        }
    };
    let dragging = StoredValue::new(false);
    let cursor_testid = format!("{testid}-cursor");
    view! {
        <canvas
            node_ref=canvas_ref
            class="plot"
            class:draggable=draggable
            role="img"
            aria-label=label
            data-testid=testid
            on:pointerdown=move |ev| {
                if draggable {
                    dragging.set_value(true);
                    if let Some(c) = canvas_ref.get_untracked() {
                        let _ = c.set_pointer_capture(ev.pointer_id());
                    }
                    drag_to(ev.client_x(), ev.client_y(), true);
                }
            }
            on:pointermove=move |ev| {
                if dragging.get_value() {
                    drag_to(ev.client_x(), ev.client_y(), false);
                } else if let (Some(cb), Some(c)) = (on_hover_xy, canvas_ref.get_untracked()) {
                    cb.run(Some(backend_pixel(&c, ev.client_x(), ev.client_y())));
                }
            }
            on:pointerleave=move |_| {
                if let Some(cb) = on_hover_xy {
                    cb.run(None);
                }
            }
            on:pointerup=move |_| dragging.set_value(false)
            on:pointercancel=move |_| dragging.set_value(false)
        ></canvas>
        {cursor.map(|c| {
            // In CSS pixels, once per move (three styles read it).
            let place = Memo::new(move |_| {
                c.get().map(|(x, top, bottom)| {
                    let dpr = device_pixel_ratio();
                    (x / dpr, top / dpr, ((bottom - top) / dpr).max(0.0))
                })
            });
            view! {
                <div
                    class="plot-cursor"
                    class:solid=cursor_solid
                    aria-hidden="true"
                    data-testid=cursor_testid.clone()
                    style:display=move || if place.get().is_some() { "block" } else { "none" }
                    style:transform=move || place.get().map(|(x, y, _)| format!("translate({x:.1}px, {y:.1}px)")).unwrap_or_default()
                    style:height=move || place.get().map(|(_, _, h)| format!("{h:.1}px")).unwrap_or_default()
                    style:--cursor-color=move || {
                        let style = PlotStyle { dark: dark.get(), ..PlotStyle::default() };
                        let c = style.fg();
                        let alpha = if cursor_solid { 1.0 } else { 0.5 };
                        format!("rgba({},{},{},{alpha})", c.0, c.1, c.2)
                    }
                ></div>
            }
        })}
        {export.map(|figure| view! { <ExportBar canvas=canvas_ref figure=figure name=export_name.clone() dark=dark live_copy=cursor.is_none() /> })}
    }
}
