//! Small pixel canvases: images and probability maps drawn with `putImageData` (one pixel per
//! image pixel, scaled up by CSS with `image-rendering: pixelated`), and a mask you can paint
//! with a pointer, a finger, or a "random shape" button.

use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::{Clamped, JsCast};

#[wasm_bindgen]
extern "C" {
    /// `ImageData` (bound here so the app needs no extra web-sys feature).
    #[wasm_bindgen(js_name = ImageData)]
    type JsImageData;
    #[wasm_bindgen(constructor, js_class = "ImageData", catch)]
    fn new(data: Clamped<&[u8]>, w: u32, h: u32) -> Result<JsImageData, JsValue>;

    /// The 2-D context, for `putImageData` only.
    #[wasm_bindgen(js_name = CanvasRenderingContext2D)]
    type Ctx2d;
    #[wasm_bindgen(method, js_name = putImageData)]
    fn put_image_data(this: &Ctx2d, data: &JsImageData, x: f64, y: f64);
}

/// Writes `rgba` (`w·h·4` bytes) to `canvas`, resizing its pixel buffer to `w × h`.
pub fn put_rgba(canvas: &web_sys::HtmlCanvasElement, rgba: &[u8], w: u32, h: u32) {
    if rgba.len() != (w * h * 4) as usize || w == 0 || h == 0 {
        return;
    }
    if canvas.width() != w {
        canvas.set_width(w);
    }
    if canvas.height() != h {
        canvas.set_height(h);
    }
    let Ok(Some(ctx)) = canvas.get_context("2d") else {
        return;
    };
    let ctx: Ctx2d = ctx.unchecked_into();
    if let Ok(img) = JsImageData::new(Clamped(rgba), w, h) {
        ctx.put_image_data(&img, 0.0, 0.0);
    }
}

/// Gray levels of an image, its 1st–99th-percentile range stretched to black–white.
pub fn gray_rgba(img: &[f64]) -> Vec<u8> {
    let mut v: Vec<f64> = img.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(|a, b| a.total_cmp(b));
    let (lo, hi) = if v.is_empty() {
        (0.0, 1.0)
    } else {
        (v[v.len() / 100], v[(v.len() * 99 / 100).min(v.len() - 1)])
    };
    let span = (hi - lo).max(1e-9);
    img.iter()
        .flat_map(|&x| {
            let g = if x.is_finite() {
                (((x - lo) / span).clamp(0.0, 1.0) * 255.0).round() as u8
            } else {
                0
            };
            [g, g, g, 255]
        })
        .collect()
}

/// A probability map in viridis (0 dark purple, 1 yellow).
pub fn prob_rgba(p: &[f64]) -> Vec<u8> {
    p.iter()
        .flat_map(|&x| {
            let c = dicelens_plot::viridis(if x.is_finite() {
                x.clamp(0.0, 1.0)
            } else {
                0.0
            });
            [c.0, c.1, c.2, 255]
        })
        .collect()
}

/// Colours the pixels of `rgba` (`w × w`) on the boundary of `labels` (a pixel with a
/// 4-neighbour of another class) with `color`.
pub fn overlay_contour(rgba: &mut [u8], labels: &[i64], w: usize, color: [u8; 3]) {
    if labels.len() != w * w || rgba.len() != 4 * w * w {
        return;
    }
    for y in 0..w {
        for x in 0..w {
            let l = labels[y * w + x];
            if l == 0 {
                continue;
            }
            let edge = (x == 0 || labels[y * w + x - 1] != l)
                || (x + 1 == w || labels[y * w + x + 1] != l)
                || (y == 0 || labels[(y - 1) * w + x] != l)
                || (y + 1 == w || labels[(y + 1) * w + x] != l);
            if edge {
                let i = 4 * (y * w + x);
                rgba[i..i + 3].copy_from_slice(&color);
            }
        }
    }
}

/// Colours of the painted classes (background, class 1, class 2).
const MASK_COLORS: [[u8; 3]; 3] = [[20, 20, 24], [240, 228, 66], [86, 180, 233]];

/// The mask as RGBA.
pub fn mask_rgba(mask: &[i64]) -> Vec<u8> {
    mask.iter()
        .flat_map(|&l| {
            let c = MASK_COLORS[(l.clamp(0, 2)) as usize];
            [c[0], c[1], c[2], 255]
        })
        .collect()
}

/// Paints a disc of `radius` pixels of class `class` centred at `(cx, cy)` on the `w × w` mask.
pub fn paint_disc(mask: &mut [i64], w: usize, cx: f64, cy: f64, radius: f64, class: i64) {
    let r = radius.max(0.5);
    let (x0, x1) = (
        (cx - r).floor().max(0.0) as usize,
        (cx + r).ceil().max(0.0) as usize,
    );
    let (y0, y1) = (
        (cy - r).floor().max(0.0) as usize,
        (cy + r).ceil().max(0.0) as usize,
    );
    for y in y0..y1.min(w) {
        for x in x0..x1.min(w) {
            let (dx, dy) = (x as f64 + 0.5 - cx, y as f64 + 0.5 - cy);
            if dx * dx + dy * dy <= r * r {
                mask[y * w + x] = class;
            }
        }
    }
}

/// A random ellipse (a keyboard-usable alternative to painting), deterministic in `seed`.
pub fn random_shape(mask: &mut [i64], w: usize, class: i64, seed: u64) {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let wf = w as f64;
    let (a, b) = (wf * (0.04 + 0.22 * next()), wf * (0.04 + 0.22 * next()));
    let (cx, cy) = (wf * (0.25 + 0.5 * next()), wf * (0.25 + 0.5 * next()));
    let th = std::f64::consts::PI * next();
    let (c, sn) = (th.cos(), th.sin());
    for y in 0..w {
        for x in 0..w {
            let (dx, dy) = (x as f64 + 0.5 - cx, y as f64 + 0.5 - cy);
            let (u, v) = (dx * c + dy * sn, -dx * sn + dy * c);
            if (u / a).powi(2) + (v / b).powi(2) <= 1.0 {
                mask[y * w + x] = class;
            }
        }
    }
}

/// The paint canvas: press and drag (mouse, pen or finger) to paint `class` (or background
/// when `erase`), which updates `mask` and bumps `version`.
#[component]
pub fn PaintCanvas(
    /// The mask, `size × size` class indices (row-major).
    mask: StoredValue<Vec<i64>, LocalStorage>,
    /// Side of the mask in pixels.
    #[prop(into)]
    size: Signal<usize>,
    /// The class painted.
    #[prop(into)]
    class: Signal<i64>,
    /// Paint background instead.
    #[prop(into)]
    erase: Signal<bool>,
    /// Bumped after every change of the mask.
    version: RwSignal<u32>,
) -> impl IntoView {
    let canvas_ref = NodeRef::<html::Canvas>::new();
    let down = StoredValue::new(false);
    // Redraw the mask whenever it (or its size) changes.
    Effect::new(move |_| {
        version.track();
        let w = size.get();
        let Some(c) = canvas_ref.get() else { return };
        mask.with_value(|m| {
            if m.len() == w * w {
                put_rgba(&c, &mask_rgba(m), w as u32, w as u32);
            }
        });
    });
    let paint_at = move |client_x: i32, client_y: i32| {
        let Some(c) = canvas_ref.get_untracked() else {
            return;
        };
        let rect = c.get_bounding_client_rect();
        let w = size.get_untracked();
        if rect.width() <= 0.0 || rect.height() <= 0.0 {
            return;
        }
        let x = (client_x as f64 - rect.left()) / rect.width() * w as f64;
        let y = (client_y as f64 - rect.top()) / rect.height() * w as f64;
        let cls = if erase.get_untracked() {
            0
        } else {
            class.get_untracked()
        };
        let radius = (w as f64 / 16.0).max(1.5);
        mask.update_value(|m| {
            if m.len() == w * w {
                paint_disc(m, w, x, y, radius, cls);
            }
        });
        version.update(|v| *v = v.wrapping_add(1));
    };
    view! {
        <canvas
            node_ref=canvas_ref
            class="pixel paint"
            data-testid="paint-canvas"
            role="img"
            aria-label="Paint a ground-truth mask here with the mouse, a pen or a finger (keyboard: use the random shape button)"
            width="32"
            height="32"
            on:pointerdown=move |ev| {
                ev.prevent_default();
                down.set_value(true);
                if let Some(c) = canvas_ref.get_untracked() {
                    let _ = c.set_pointer_capture(ev.pointer_id());
                }
                paint_at(ev.client_x(), ev.client_y());
            }
            on:pointermove=move |ev| {
                if down.get_value() {
                    paint_at(ev.client_x(), ev.client_y());
                }
            }
            on:pointerup=move |_| down.set_value(false)
            on:pointercancel=move |_| down.set_value(false)
        ></canvas>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discs_and_contours() {
        let w = 16;
        let mut m = vec![0i64; w * w];
        paint_disc(&mut m, w, 8.0, 8.0, 3.0, 1);
        let n = m.iter().filter(|&&l| l == 1).count();
        assert!(n > 20 && n < 40, "{n}");
        let mut rgba = gray_rgba(&vec![0.5; w * w]);
        overlay_contour(&mut rgba, &m, w, [255, 0, 0]);
        let red = rgba.chunks(4).filter(|p| p[0] == 255 && p[1] == 0).count();
        assert!(red > 0 && red < n);
        let mut r = vec![0i64; w * w];
        random_shape(&mut r, w, 2, 7);
        assert!(r.contains(&2));
    }
}
