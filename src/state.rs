//! The app's shared state: a few signals, read from and written to the URL query.

use leptos::prelude::*;

/// Smallest and largest ground-truth foreground proportion the sliders allow.
pub const U_MIN: f64 = 0.001;
/// See [`U_MIN`].
pub const U_MAX: f64 = 0.999;

/// Signals shared by every view through context.
#[derive(Clone, Copy)]
pub struct AppState {
    /// Ground-truth foreground proportion `u`.
    pub u: RwSignal<f64>,
    /// Current predicted proportion `ŝ` (shown as a vertical line).
    pub s: RwSignal<f64>,
    /// Messages about URL values that were clamped or ignored.
    pub notices: RwSignal<Vec<String>>,
}

/// A URL value parsed and clamped into `[lo, hi]`, with a notice when it was not usable as is.
pub fn parse_clamped(
    key: &str,
    raw: Option<String>,
    lo: f64,
    hi: f64,
    default: f64,
    notices: &mut Vec<String>,
) -> f64 {
    let Some(raw) = raw else { return default };
    match raw.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => {
            let c = v.clamp(lo, hi);
            if c != v {
                notices.push(format!(
                    "URL value {key}={raw} is outside [{lo}, {hi}]; using {c}."
                ));
            }
            c
        }
        _ => {
            notices.push(format!(
                "URL value {key}={raw} is not a number; using the default {default}."
            ));
            default
        }
    }
}

fn query() -> Option<web_sys::UrlSearchParams> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search).ok()
}

impl AppState {
    /// Reads the initial state from the URL query (`?u=0.1&s=0.3`), clamping bad values.
    pub fn from_url() -> Self {
        let q = query();
        let get = |k: &str| q.as_ref().and_then(|q| q.get(k));
        let mut notices = Vec::new();
        let u = parse_clamped("u", get("u"), U_MIN, U_MAX, 0.1, &mut notices);
        let s = parse_clamped("s", get("s"), 0.0, 1.0, 0.3, &mut notices);
        Self {
            u: RwSignal::new(u),
            s: RwSignal::new(s),
            notices: RwSignal::new(notices),
        }
    }

    /// Writes the state to the query string with `replaceState` (no history entry per slider
    /// tick, no scroll jump).
    pub fn write_url(&self) {
        let Some(win) = web_sys::window() else { return };
        let Some(q) = query() else { return };
        q.set("u", &format!("{}", round_sig(self.u.get_untracked())));
        q.set("s", &format!("{}", round_sig(self.s.get_untracked())));
        let path = win.location().pathname().unwrap_or_default();
        let hash = win.location().hash().unwrap_or_default();
        let url = format!("{path}?{}{hash}", String::from(q.to_string()));
        if let Ok(h) = win.history() {
            let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
    }
}

/// Rounds to 4 significant digits for short, stable URLs.
pub fn round_sig(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let d = 4 - v.abs().log10().ceil() as i32;
    let f = 10f64.powi(d);
    (v * f).round() / f
}
