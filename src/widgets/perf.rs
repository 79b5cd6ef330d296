//! Timing hooks for the benchmark: the time from an input event to the end of drawing.
//!
//! `window.__dicelens = { t0, draws, times }`: sliders call [`mark_input`], plots call
//! [`mark_drawn`]; the benchmark page reads `times` (milliseconds). [`count`] keeps counts
//! the browser tests read (`calm`: the trainer's workers told that the page takes input).

use wasm_bindgen::{JsCast, JsValue};

fn perf_obj() -> Option<js_sys::Object> {
    let win = web_sys::window()?;
    let key = JsValue::from_str("__dicelens");
    let existing = js_sys::Reflect::get(&win, &key).ok()?;
    if existing.is_object() {
        return Some(existing.into());
    }
    let obj = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&obj, &"times".into(), &js_sys::Array::new());
    let _ = js_sys::Reflect::set(&obj, &"draws".into(), &JsValue::from_f64(0.0));
    let _ = js_sys::Reflect::set(&win, &key, &obj);
    Some(obj)
}

/// Adds 1 to `window.__dicelens[key]` (a count the browser tests read).
pub fn count(key: &str) {
    if let Some(o) = perf_obj() {
        let n = js_sys::Reflect::get(&o, &key.into())
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0);
        let _ = js_sys::Reflect::set(&o, &key.into(), &JsValue::from_f64(n + 1.0));
    }
}

/// Milliseconds since page start.
pub fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

thread_local! {
    /// When the last input event arrived (ms since page start; never: −∞).
    static LAST_INPUT: std::cell::Cell<f64> = const { std::cell::Cell::new(f64::NEG_INFINITY) };
    /// Whether the first plot has been drawn (and `dicelens:first-plot` marked).
    static FIRST_PLOT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Records the time of an input event (a slider move, a typed value, a drag on a plot).
pub fn mark_input() {
    let t = now();
    LAST_INPUT.with(|c| c.set(t));
    if let Some(o) = perf_obj() {
        let _ = js_sys::Reflect::set(&o, &"t0".into(), &JsValue::from_f64(t));
    }
}

/// Milliseconds since the last input event ([`mark_input`]; infinite before the first).
pub fn since_input() -> f64 {
    now() - LAST_INPUT.with(|c| c.get())
}

/// Sets the performance mark `dicelens:first-plot` after the first plot's draw (once per
/// page): the benchmark's "first plot drawn" (e2e/bench_page.mjs).
pub fn mark_first_plot() {
    if FIRST_PLOT.with(|c| c.replace(true)) {
        return;
    }
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        let _ = p.mark("dicelens:first-plot");
    }
}

/// Records that a plot finished drawing: counts draws, and when an input is pending, the
/// elapsed time since it.
pub fn mark_drawn() {
    let Some(o) = perf_obj() else { return };
    let draws = js_sys::Reflect::get(&o, &"draws".into())
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0);
    let _ = js_sys::Reflect::set(&o, &"draws".into(), &JsValue::from_f64(draws + 1.0));
    if let Some(t0) = js_sys::Reflect::get(&o, &"t0".into())
        .ok()
        .and_then(|v| v.as_f64())
    {
        let dt = JsValue::from_f64(now() - t0);
        let _ = js_sys::Reflect::set(&o, &"last".into(), &dt);
        // Every draw since the input, in order (a progressive view draws twice per plot).
        if let Ok(seq) = js_sys::Reflect::get(&o, &"seq".into()) {
            if js_sys::Array::is_array(&seq) {
                seq.unchecked_into::<js_sys::Array>().push(&dt);
            }
        }
    }
}

/// Records how long one piece of work took (ms) under `window.__dicelens.work[name]` (the
/// last 2000 samples), so that the benchmark can check that no single piece of work done in
/// an animation frame (a training step, an evaluation slice, a plot redraw) exceeds the
/// frame budget.
pub fn record_work(name: &str, ms: f64) {
    let Some(o) = perf_obj() else { return };
    let work = match js_sys::Reflect::get(&o, &"work".into()) {
        Ok(v) if v.is_object() => js_sys::Object::from(v),
        _ => {
            let w = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&o, &"work".into(), &w);
            w
        }
    };
    let list = match js_sys::Reflect::get(&work, &name.into()) {
        // The array itself (`Array::from` would copy it).
        Ok(v) if js_sys::Array::is_array(&v) => v.unchecked_into::<js_sys::Array>(),
        _ => {
            let a = js_sys::Array::new();
            let _ = js_sys::Reflect::set(&work, &name.into(), &a);
            a
        }
    };
    if list.length() >= 2000 {
        list.shift();
    }
    list.push(&JsValue::from_f64(ms));
}
