//! The app's shared state: a few signals, read from and written to the URL query.

use dicelens_core::{simplex_point, Convention, SimplexTerm};
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
    /// Ambiguous pixels: certain-foreground fraction `c`.
    pub amb_c: RwSignal<f64>,
    /// Ambiguous pixels: ambiguous fraction `a`.
    pub amb_a: RwSignal<f64>,
    /// Ambiguous pixels: foreground probability `p` of an ambiguous pixel.
    pub amb_p: RwSignal<f64>,
    /// Three classes: ground-truth proportions.
    pub u3: RwSignal<[f64; 3]>,
    /// Three classes: predicted proportions.
    pub s3: RwSignal<[f64; 3]>,
    /// Three classes: the region term shown as a heat map.
    pub term: RwSignal<SimplexTerm>,
    /// Dice convention preset.
    pub preset: RwSignal<Convention>,
    /// Messages about URL values that were clamped or ignored.
    pub notices: RwSignal<Vec<String>>,
}

/// Every numeric URL key: key, range, default.
pub const NUMERIC_KEYS: [(&str, f64, f64, f64); 9] = [
    ("u", U_MIN, U_MAX, 0.1),
    ("s", 0.0, 1.0, 0.3),
    ("kappa", 0.0, 5.0, 0.5),
    ("sigma", 0.0, 4.0, 1.0),
    ("lambda", 0.0, 10.0, 0.1),
    ("T", 0.1, 20.0, 1.0),
    ("c", 0.001, 0.5, 0.05),
    ("a", 0.001, 0.5, 0.05),
    ("p", 0.0, 1.0, 0.3),
];

/// Default ground-truth proportions of the three-class view.
pub const U3_DEFAULT: [f64; 3] = [0.7, 0.25, 0.05];
/// Default predicted proportions of the three-class view.
pub const S3_DEFAULT: [f64; 3] = [0.5, 0.3, 0.2];

/// Parses `"0.7,0.25,0.05"` onto the simplex (renormalised), with a notice when unusable.
pub fn parse_triple(
    key: &str,
    raw: Option<String>,
    default: [f64; 3],
    notices: &mut Vec<String>,
) -> [f64; 3] {
    let Some(raw) = raw else { return default };
    let short: String = raw.chars().take(MAX_VALUE_LEN).collect();
    let parts: Vec<Option<f64>> = raw
        .split(',')
        .map(|x| x.trim().parse::<f64>().ok())
        .collect();
    let fallback = |notices: &mut Vec<String>, why: String| {
        notices.push(format!("URL value {key}={short} {why}; using the default."));
        default
    };
    if raw.len() > MAX_VALUE_LEN {
        return fallback(notices, format!("is {} characters long", raw.len()));
    }
    match parts.as_slice() {
        [Some(a), Some(b), Some(c)] => match simplex_point("proportions", [*a, *b, *c]) {
            Ok(v) => {
                if (a + b + c - 1.0).abs() > 1e-6 {
                    notices.push(format!(
                        "URL value {key}={short} does not sum to 1; rescaled to ({:.3}, {:.3}, {:.3}).",
                        v[0], v[1], v[2]
                    ));
                }
                v
            }
            Err(e) => fallback(notices, format!("is not usable ({e})")),
        },
        _ => fallback(notices, "is not three comma-separated numbers".to_string()),
    }
}

/// The views a `view=` key may name.
pub const VIEWS: [&str; 7] = [
    "region-terms",
    "family",
    "bias-map",
    "simplex",
    "decomposition",
    "ambiguous",
    "trainer",
];

/// The view named by the URL's `view` key, if valid (a notice otherwise).
pub fn initial_view(state: &AppState) -> Option<String> {
    let v = query()?.get("view")?;
    if VIEWS.contains(&v.as_str()) {
        Some(v)
    } else {
        let short: String = v.chars().take(MAX_VALUE_LEN).collect();
        state.notices.update(|n| {
            n.push(format!(
                "URL value view={short} is not a view ({}); showing the whole page.",
                VIEWS.join(", ")
            ))
        });
        None
    }
}

/// Formats a triple for the URL.
pub fn fmt_triple(v: [f64; 3]) -> String {
    format!(
        "{},{},{}",
        round_sig(v[0]),
        round_sig(v[1]),
        round_sig(v[2])
    )
}

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
        let (amb_c, amb_a, amb_p) = (next(), next(), next());
        let u3 = parse_triple("u3", get("u3"), U3_DEFAULT, &mut notices);
        let s3 = parse_triple("s3", get("s3"), S3_DEFAULT, &mut notices);
        let term = match get("term") {
            None => SimplexTerm::Kl,
            Some(k) => SimplexTerm::from_key(&k).unwrap_or_else(|| {
                notices.push(format!(
                    "URL value term={} is not one of kl, dice, l1; using kl.",
                    k.chars().take(MAX_VALUE_LEN).collect::<String>()
                ));
                SimplexTerm::Kl
            }),
        };
        let preset = match get("preset") {
            None => Convention::Paper,
            Some(k) => Convention::from_key(&k).unwrap_or_else(|| {
                notices.push(format!(
                    "URL value preset={} is not one of paper, monai, smp, nnunet; using paper.",
                    k.chars().take(MAX_VALUE_LEN).collect::<String>()
                ));
                Convention::Paper
            }),
        };
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
            amb_c,
            amb_a,
            amb_p,
            u3: RwSignal::new(u3),
            s3: RwSignal::new(s3),
            term: RwSignal::new(term),
            preset: RwSignal::new(preset),
            notices: RwSignal::new(notices),
        }
    }

    /// The numeric signals, in [`NUMERIC_KEYS`] order.
    fn numeric(&self) -> [RwSignal<f64>; 9] {
        [
            self.u,
            self.s,
            self.kappa,
            self.sigma,
            self.lambda,
            self.temp,
            self.amb_c,
            self.amb_a,
            self.amb_p,
        ]
    }

    /// Tracks every signal that belongs in the URL (for the effect that writes it).
    pub fn track_all(&self) {
        for sig in self.numeric() {
            sig.track();
        }
        self.normalized.track();
        self.u3.track();
        self.s3.track();
        self.term.track();
        self.preset.track();
    }

    /// Writes the state to the query string with `replaceState` (no history entry per slider
    /// tick, no scroll jump).
    pub fn write_url(&self) {
        let Some(win) = web_sys::window() else { return };
        let Some(q) = query() else { return };
        for (&(k, ..), sig) in NUMERIC_KEYS.iter().zip(self.numeric()) {
            q.set(k, &format!("{}", round_sig(sig.get_untracked())));
        }
        q.set(
            "norm",
            if self.normalized.get_untracked() {
                "1"
            } else {
                "0"
            },
        );
        q.set("u3", &fmt_triple(self.u3.get_untracked()));
        q.set("s3", &fmt_triple(self.s3.get_untracked()));
        q.set("term", self.term.get_untracked().key());
        q.set("preset", self.preset.get_untracked().key());
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
