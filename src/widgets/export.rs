//! Figure export: PNG at the screen's pixel ratio or at 2× for slides, SVG through the plotters
//! SVG backend (the same drawing code as the canvas), and CSV of the plotted numbers.

use dicelens_plot::figure::Figure;
use dicelens_plot::PlotStyle;
use leptos::html;
use leptos::prelude::*;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use wasm_bindgen::JsCast;

/// Offers `bytes` (or a `data:` URL) to the user as a download named `name`.
fn save(name: &str, href: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Ok(a) = doc.create_element("a") else {
        return;
    };
    let Ok(a) = a.dyn_into::<web_sys::HtmlAnchorElement>() else {
        return;
    };
    a.set_href(href);
    a.set_download(name);
    a.click();
}

/// Offers `text` as a download of MIME type `mime`.
pub fn save_text(name: &str, mime: &str, text: &str) {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    save(name, &url);
    forget_later(url);
}

/// How many export object URLs stay alive before the oldest is revoked.
const LIVE_URLS: usize = 16;

thread_local! {
    static LIVE: std::cell::RefCell<std::collections::VecDeque<String>> =
        const { std::cell::RefCell::new(std::collections::VecDeque::new()) };
}

/// Keeps `url` alive until [`LIVE_URLS`] newer exports have been made, then revokes it.
///
/// The browser fetches a blob URL when the download starts, which on a loaded machine can be
/// seconds after the click; revoking on a timer (it was 10 s) could race that fetch. Counting
/// exports instead of seconds cannot race, and holds at most a few small blobs.
fn forget_later(url: String) {
    LIVE.with(|live| {
        let mut live = live.borrow_mut();
        live.push_back(url);
        while live.len() > LIVE_URLS {
            if let Some(old) = live.pop_front() {
                let _ = web_sys::Url::revoke_object_url(&old);
            }
        }
    });
}

/// The figure as an SVG document of `w × h` CSS pixels.
pub fn svg_of(fig: &Figure, w: u32, h: u32, dark: bool) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        let style = PlotStyle {
            scale: 1.0,
            dark,
            compact: w < 560,
        };
        fig.draw(&root, &style)?;
    }
    Ok(svg)
}

/// The figure drawn on an off-screen canvas of `w × h` CSS pixels at `scale`, as a PNG data URL.
fn png_at(fig: &Figure, w: u32, h: u32, scale: f64, dark: bool) -> Result<String, String> {
    let (pw, ph) = (
        (w as f64 * scale).round() as u32,
        (h as f64 * scale).round() as u32,
    );
    png_pixels(fig, pw, ph, scale, dark)
}

/// The figure drawn on an off-screen canvas of `pw × ph` pixels at `scale`, as a PNG data URL.
fn png_pixels(fig: &Figure, pw: u32, ph: u32, scale: f64, dark: bool) -> Result<String, String> {
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let canvas = doc
        .create_element("canvas")
        .map_err(|_| "cannot create a canvas")?
        .dyn_into::<web_sys::HtmlCanvasElement>()
        .map_err(|_| "cannot create a canvas")?;
    canvas.set_width(pw);
    canvas.set_height(ph);
    let backend = CanvasBackend::with_canvas_object(canvas.clone()).ok_or("no 2D context")?;
    let style = PlotStyle {
        scale,
        dark,
        compact: (pw as f64 / scale) < 560.0,
    };
    fig.draw(&backend.into_drawing_area(), &style)?;
    canvas
        .to_data_url_with_type("image/png")
        .map_err(|_| "the canvas cannot be exported".to_string())
}

/// The export buttons under a plot. `figure` is called on a click only, so export costs nothing
/// until it is used.
#[component]
pub fn ExportBar(
    /// The drawn canvas (PNG at the screen's pixel ratio is a copy of it).
    canvas: NodeRef<html::Canvas>,
    /// Builds the figure to export (`None`: nothing valid to export).
    figure: Callback<(), Option<Figure>>,
    /// File name without extension, e.g. `dicelens-family`.
    #[prop(into)]
    name: String,
    /// Whether the plot is drawn in the dark theme (read at export time).
    dark: Signal<bool>,
    /// Whether the canvas shows the whole figure, so that PNG can copy it (false: a line drawn
    /// over it, see `PlotCanvas`'s `cursor`, and PNG draws the figure at the canvas's size).
    #[prop(default = true)]
    live_copy: bool,
) -> impl IntoView {
    let message = RwSignal::new(String::new());
    let size = move || {
        canvas.get_untracked().map(|c| {
            let dpr = crate::hooks::device_pixel_ratio();
            (
                (c.width() as f64 / dpr).round().max(1.0) as u32,
                (c.height() as f64 / dpr).round().max(1.0) as u32,
            )
        })
    };
    let n1 = name.clone();
    let export_png = move |_| {
        let Some(c) = canvas.get_untracked() else {
            return;
        };
        let url = if live_copy {
            c.to_data_url_with_type("image/png")
                .map_err(|_| "the canvas cannot be exported".to_string())
        } else {
            match figure.run(()) {
                Some(fig) => png_pixels(
                    &fig,
                    c.width(),
                    c.height(),
                    crate::hooks::device_pixel_ratio(),
                    dark.get_untracked(),
                ),
                None => Err("Nothing valid to export at these settings.".into()),
            }
        };
        match url {
            Ok(url) => {
                save(&format!("{n1}.png"), &url);
                message.set(String::new());
            }
            Err(e) => message.set(e),
        }
    };
    let n2 = name.clone();
    let export_png2 = move |_| {
        let (Some(fig), Some((w, h))) = (figure.run(()), size()) else {
            message.set("Nothing valid to export at these settings.".into());
            return;
        };
        match png_at(&fig, w, h, 2.0, dark.get_untracked()) {
            Ok(url) => save(&format!("{n2}@2x.png"), &url),
            Err(e) => message.set(e),
        }
    };
    let n3 = name.clone();
    let export_svg = move |_| {
        let (Some(fig), Some((w, h))) = (figure.run(()), size()) else {
            message.set("Nothing valid to export at these settings.".into());
            return;
        };
        match svg_of(&fig, w, h, dark.get_untracked()) {
            Ok(svg) => save_text(&format!("{n3}.svg"), "image/svg+xml", &svg),
            Err(e) => message.set(e),
        }
    };
    let n4 = name.clone();
    let export_csv = move |_| match figure.run(()) {
        Some(fig) => save_text(&format!("{n4}.csv"), "text/csv", &fig.csv()),
        None => message.set("Nothing valid to export at these settings.".into()),
    };
    view! {
        <div class="export" role="group" aria-label="export this figure">
            <span class="export-label">"Export:"</span>
            <button type="button" data-testid=format!("export-png-{name}") on:click=export_png title="PNG at this screen's pixel density">"PNG"</button>
            <button type="button" data-testid=format!("export-png2-{name}") on:click=export_png2 title="PNG at twice the size, for slides">"PNG 2×"</button>
            <button type="button" data-testid=format!("export-svg-{name}") on:click=export_svg title="vector graphics, same drawing code">"SVG"</button>
            <button type="button" data-testid=format!("export-csv-{name}") on:click=export_csv title="the plotted numbers">"CSV"</button>
            <span class="field-msg" role="status">{move || message.get()}</span>
        </div>
    }
}
