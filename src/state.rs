//! The app's shared state: a few signals, read from and written to the URL query.

use leptos::prelude::*;

/// Smallest and largest ground-truth foreground proportion the sliders allow.
pub const U_MIN: f64 = 0.001;
/// See [`U_MIN`].
pub const U_MAX: f64 = 0.999;

/// Signals shared by every view.
#[derive(Clone, Copy)]
pub struct AppState {
    /// Ground-truth foreground proportion `u`.
    pub u: RwSignal<f64>,
    /// Current predicted proportion `ŝ` (shown as a vertical line).
    pub s: RwSignal<f64>,
    /// Separation `κ` of the logit-shift family.
    pub kappa: RwSignal<f64>,
    /// Noise `σ` of the logit-shift family.
    pub sigma: RwSignal<f64>,
    /// Region-term weight `λ` of CE+L1 / CE+KL.
    pub lambda: RwSignal<f64>,
    /// Region-term temperature `T`.
    pub temp: RwSignal<f64>,
    /// Family curves min–max normalised (true) or raw.
    pub normalized: RwSignal<bool>,
    /// Messages about URL values that were clamped or ignored.
    pub notices: RwSignal<Vec<String>>,
}

/// Every numeric URL key: key, range, default.
pub const NUMERIC_KEYS: [(&str, f64, f64, f64); 6] = [
    ("u", U_MIN, U_MAX, 0.1),
    ("s", 0.0, 1.0, 0.3),
    ("kappa", 0.0, 5.0, 0.5),
    ("sigma", 0.0, 4.0, 1.0),
    ("lambda", 0.0, 10.0, 0.1),
    ("T", 0.1, 20.0, 1.0),
];

/// The longest URL value read; longer ones are refused (a 10 kB value gets a notice, not a parse).
const MAX_VALUE_LEN: usize = 64;

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
    if raw.len() > MAX_VALUE_LEN {
        notices.push(format!(
            "URL value {key} is {} characters long; using the default {default}.",
            raw.len()
        ));
        return default;
    }
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
        let mut v = NUMERIC_KEYS
            .iter()
            .map(|&(k, lo, hi, d)| parse_clamped(k, get(k), lo, hi, d, &mut notices));
        let mut next = || RwSignal::new(v.next().unwrap_or_default());
        let (u, s, kappa, sigma, lambda, temp) = (next(), next(), next(), next(), next(), next());
        let normalized = match get("norm").as_deref() {
            None | Some("1") => true,
            Some("0") => false,
            Some(other) => {
                notices.push(format!(
                    "URL value norm={} is not 0 or 1; using 1 (normalised).",
                    other.chars().take(MAX_VALUE_LEN).collect::<String>()
                ));
                true
            }
        };
        Self {
            u,
            s,
            kappa,
            sigma,
            lambda,
            temp,
            normalized: RwSignal::new(normalized),
            notices: RwSignal::new(notices),
        }
    }

    /// Tracks every signal that belongs in the URL (for the effect that writes it).
    pub fn track_all(&self) {
        for sig in [self.u, self.s, self.kappa, self.sigma, self.lambda, self.temp] {
            sig.track();
        }
        self.normalized.track();
    }

    /// Writes the state to the query string with `replaceState` (no history entry per slider
    /// tick, no scroll jump).
    pub fn write_url(&self) {
        let Some(win) = web_sys::window() else { return };
        let Some(q) = query() else { return };
        let values = [self.u, self.s, self.kappa, self.sigma, self.lambda, self.temp];
        for (&(k, ..), sig) in NUMERIC_KEYS.iter().zip(values) {
            q.set(k, &format!("{}", round_sig(sig.get_untracked())));
        }
        q.set("norm", if self.normalized.get_untracked() { "1" } else { "0" });
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
