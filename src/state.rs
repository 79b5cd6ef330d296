//! The app's shared state: a few signals, read from and written to the URL query.

use dicelens_core::{simplex_point, Convention, FamilyLoss, SimplexTerm};
use leptos::prelude::*;

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
    /// Gradients: every foreground pixel's predicted probability `p_fg`.
    pub grad_pfg: RwSignal<f64>,
    /// Gradients: every background pixel's predicted probability `p_bg`.
    pub grad_pbg: RwSignal<f64>,
    /// Three classes: ground-truth proportions.
    pub u3: RwSignal<[f64; 3]>,
    /// Three classes: predicted proportions.
    pub s3: RwSignal<[f64; 3]>,
    /// Three classes: the region term shown as a heat map.
    pub term: RwSignal<SimplexTerm>,
    /// Dice convention preset.
    pub preset: RwSignal<Convention>,
    /// Landscapes: the two losses shown side by side.
    pub land_losses: RwSignal<[FamilyLoss; 2]>,
    /// Landscapes: include the ambiguous pixels (`a`, `p`) in the model.
    pub land_amb: RwSignal<bool>,
    /// Landscapes: where the ball was dropped, `(b, ln t)`.
    pub land_ball: RwSignal<Option<(f64, f64)>>,
    /// Landscapes: Adam (true) or plain gradient descent.
    pub land_adam: RwSignal<bool>,
    /// Pooled view: the batch's foreground proportions.
    pub sizes: RwSignal<dicelens_core::pooled::BatchSizes>,
    /// Messages about URL values that were clamped or ignored.
    pub notices: RwSignal<Vec<String>>,
}

/// Every numeric URL key, its range and default: the one table of the views' parameters.
pub use dicelens_plot::figure::PARAMS as NUMERIC_KEYS;

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

/// Parses the pooled view's `sizes` (2 to 12 comma-separated proportions in [0.001, 0.5]);
/// keeps `current` with a notice when the value is unusable.
pub fn parse_sizes(
    raw: &str,
    current: dicelens_core::pooled::BatchSizes,
    notices: &mut Vec<String>,
) -> dicelens_core::pooled::BatchSizes {
    let short: String = raw.chars().take(MAX_VALUE_LEN).collect();
    match dicelens_core::pooled::BatchSizes::parse(raw) {
        Ok(v) => v,
        Err(e) => {
            notices.push(format!(
                "URL value sizes={short} is not 2 to 12 comma-separated proportions in \
                 [0.001, 0.5] ({e}); using {}.",
                current.key()
            ));
            current
        }
    }
}

/// The views a `view=` key may name.
pub const VIEWS: [&str; 13] = [
    "region-terms",
    "family",
    "bias-map",
    "simplex",
    "decomposition",
    "ambiguous",
    "landscape",
    "gradients",
    "matching",
    "temperature",
    "pooled",
    "trainer",
    "data",
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

/// Where a ball may be dropped: `b` and `ln t` ranges (the landscapes' shown range).
pub const BALL_BOX: ((f64, f64), (f64, f64)) = (
    dicelens_core::landscape::DEFAULT_B_RANGE,
    dicelens_core::landscape::DEFAULT_LOG_T_RANGE,
);

/// Parses `"b,lnt"` inside [`BALL_BOX`].
pub fn parse_ball(raw: &str) -> Option<(f64, f64)> {
    if raw.len() > MAX_VALUE_LEN {
        return None;
    }
    let mut it = raw.split(',').map(|x| x.trim().parse::<f64>().ok());
    let (b, lt) = (it.next()??, it.next()??);
    let inside = |v: f64, r: (f64, f64)| v.is_finite() && v >= r.0 - 1e-9 && v <= r.1 + 1e-9;
    (it.next().is_none() && inside(b, BALL_BOX.0) && inside(lt, BALL_BOX.1)).then_some((b, lt))
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
pub const MAX_VALUE_LEN: usize = 64;

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

/// The query string as the app last wrote it: the address bar's, or the one waiting in
/// [`replace_query`]'s throttle (so a second writer builds on the first's keys).
pub fn query() -> Option<web_sys::UrlSearchParams> {
    let search = match PENDING_URL.with(|p| p.borrow().clone()) {
        Some(url) => url
            .split_once('?')
            .map(|(_, q)| q.split('#').next().unwrap_or("").to_string())
            .unwrap_or_default(),
        None => web_sys::window()?.location().search().ok()?,
    };
    web_sys::UrlSearchParams::new_with_str(&search).ok()
}

/// Shortest interval between two `replaceState` calls. One call costs about 2 ms in Chromium
/// (a CPU profile of 200 slider moves), more than a whole plot's redraw; a slider dragged at
/// 60 moves a second so writes the URL about 5 times a second, always ending on the last state.
pub const URL_WRITE_INTERVAL_MS: f64 = 200.0;

thread_local! {
    /// The URL waiting for the throttle, if any.
    static PENDING_URL: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
    /// When `replaceState` last ran (performance.now, ms).
    static LAST_URL_WRITE: std::cell::Cell<f64> = const { std::cell::Cell::new(f64::NEG_INFINITY) };
}

fn write_address_bar(url: &str) {
    LAST_URL_WRITE.with(|t| t.set(crate::widgets::perf::now()));
    if let Some(Ok(h)) = web_sys::window().map(|w| w.history()) {
        let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(url));
    }
}

/// Puts `q` in the address bar with `replaceState` (no history entry, no scroll jump), keeping
/// the path and the `#fragment`. Every URL writer (the views' state, the tour, the trainer)
/// reads [`query`], changes only its own keys and calls this, so none erases another's keys.
///
/// Throttled, and never inside the input's own task: the first change after a quiet spell is
/// written on the next task, later ones at most every [`URL_WRITE_INTERVAL_MS`], the last one
/// always.
pub fn replace_query(q: &web_sys::UrlSearchParams) {
    let Some(win) = web_sys::window() else { return };
    let path = win.location().pathname().unwrap_or_default();
    let hash = win.location().hash().unwrap_or_default();
    let query = String::from(q.to_string());
    let url = if query.is_empty() {
        format!("{path}{hash}")
    } else {
        format!("{path}?{query}{hash}")
    };
    let since = crate::widgets::perf::now() - LAST_URL_WRITE.with(|t| t.get());
    let already_waiting = PENDING_URL.with(|p| p.borrow_mut().replace(url).is_some());
    if already_waiting {
        return;
    }
    let wait = (URL_WRITE_INTERVAL_MS - since).max(0.0);
    set_timeout(
        || {
            if let Some(url) = PENDING_URL.with(|p| p.borrow_mut().take()) {
                write_address_bar(&url);
            }
        },
        std::time::Duration::from_millis(wait.ceil() as u64),
    );
}

impl AppState {
    /// The default state.
    pub fn new() -> Self {
        let num = |k: &str| {
            RwSignal::new(
                dicelens_plot::figure::param(k)
                    .map(|x| x.default)
                    .unwrap_or_default(),
            )
        };
        Self {
            u: num("u"),
            s: num("s"),
            kappa: num("kappa"),
            sigma: num("sigma"),
            lambda: num("lambda"),
            temp: num("T"),
            normalized: RwSignal::new(true),
            amb_c: num("c"),
            amb_a: num("a"),
            amb_p: num("p"),
            grad_pfg: num("pfg"),
            grad_pbg: num("pbg"),
            u3: RwSignal::new(U3_DEFAULT),
            s3: RwSignal::new(S3_DEFAULT),
            term: RwSignal::new(SimplexTerm::Kl),
            preset: RwSignal::new(Convention::Paper),
            land_losses: RwSignal::new([FamilyLoss::DiceFg, FamilyLoss::Ce]),
            land_amb: RwSignal::new(false),
            land_ball: RwSignal::new(None),
            land_adam: RwSignal::new(false),
            sizes: RwSignal::new(dicelens_core::pooled::BatchSizes::default()),
            notices: RwSignal::new(Vec::new()),
        }
    }

    /// Reads the initial state from the URL query (`?u=0.1&s=0.3`), clamping bad values.
    pub fn from_url() -> Self {
        let state = Self::new();
        let q = query();
        let notices = state.apply(&|k: &str| q.as_ref().and_then(|q| q.get(k)));
        state.notices.set(notices);
        state
    }

    /// Sets every state key that `get` has (URL keys and values as strings), clamping
    /// out-of-range values and ignoring malformed ones; returns a notice for each. Keys `get`
    /// does not have keep their current value.
    pub fn apply(&self, get: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
        let mut notices = Vec::new();
        for (p, sig) in NUMERIC_KEYS.iter().zip(self.numeric()) {
            let (k, lo, hi) = (p.key, p.lo, p.hi);
            if let Some(raw) = get(k) {
                let v = parse_clamped(k, Some(raw), lo, hi, sig.get_untracked(), &mut notices);
                sig.set(v);
            }
        }
        for (k, sig) in [("u3", self.u3), ("s3", self.s3)] {
            if let Some(raw) = get(k) {
                sig.set(parse_triple(
                    k,
                    Some(raw),
                    sig.get_untracked(),
                    &mut notices,
                ));
            }
        }
        if let Some(raw) = get("sizes") {
            self.sizes
                .set(parse_sizes(&raw, self.sizes.get_untracked(), &mut notices));
        }
        let short = |k: String| k.chars().take(MAX_VALUE_LEN).collect::<String>();
        if let Some(k) = get("term") {
            match SimplexTerm::from_key(&k) {
                Some(t) => self.term.set(t),
                None => notices.push(format!(
                    "URL value term={} is not one of kl, dice, l1; keeping {}.",
                    short(k),
                    self.term.get_untracked().key()
                )),
            }
        }
        if let Some(k) = get("preset") {
            match Convention::from_key(&k) {
                Some(c) => self.preset.set(c),
                None => notices.push(format!(
                    "URL value preset={} is not one of paper, monai, smp, nnunet; keeping {}.",
                    short(k),
                    self.preset.get_untracked().key()
                )),
            }
        }
        for (j, key) in ["l1", "l2"].into_iter().enumerate() {
            if let Some(k) = get(key) {
                match FamilyLoss::ALL.into_iter().find(|l| l.key() == k) {
                    Some(l) => self.land_losses.update(|x| x[j] = l),
                    None => notices.push(format!(
                        "URL value {key}={} is not a loss ({}); keeping {}.",
                        short(k),
                        FamilyLoss::ALL.map(|l| l.key()).join(", "),
                        self.land_losses.get_untracked()[j].key()
                    )),
                }
            }
        }
        for (key, sig) in [("amb", self.land_amb), ("adam", self.land_adam)] {
            match get(key).as_deref() {
                None => {}
                Some("1") => sig.set(true),
                Some("0") => sig.set(false),
                Some(other) => notices.push(format!(
                    "URL value {key}={} is not 0 or 1; keeping {}.",
                    short(other.to_string()),
                    u8::from(sig.get_untracked())
                )),
            }
        }
        if let Some(raw) = get("ball") {
            match parse_ball(&raw) {
                Some(b) => self.land_ball.set(Some(b)),
                None => notices.push(format!(
                    "URL value ball={} is not a point b,ln t inside [{}, {}] × [{:.2}, {:.2}]; no ball dropped.",
                    short(raw),
                    BALL_BOX.0 .0,
                    BALL_BOX.0 .1,
                    BALL_BOX.1 .0,
                    BALL_BOX.1 .1
                )),
            }
        }
        match get("norm").as_deref() {
            None => {}
            Some("1") => self.normalized.set(true),
            Some("0") => self.normalized.set(false),
            Some(other) => notices.push(format!(
                "URL value norm={} is not 0 or 1; keeping {}.",
                short(other.to_string()),
                if self.normalized.get_untracked() {
                    1
                } else {
                    0
                }
            )),
        }
        notices
    }

    /// The state as URL keys and values (the keys [`AppState::apply`] reads).
    pub fn url_pairs(&self) -> Vec<(&'static str, String)> {
        let mut out: Vec<(&'static str, String)> = NUMERIC_KEYS
            .iter()
            .zip(self.numeric())
            .map(|(p, sig)| (p.key, format!("{}", round_sig(sig.get_untracked()))))
            .collect();
        out.push((
            "norm",
            if self.normalized.get_untracked() {
                "1"
            } else {
                "0"
            }
            .into(),
        ));
        out.push(("u3", fmt_triple(self.u3.get_untracked())));
        out.push(("s3", fmt_triple(self.s3.get_untracked())));
        out.push(("term", self.term.get_untracked().key().into()));
        out.push(("preset", self.preset.get_untracked().key().into()));
        let [l1, l2] = self.land_losses.get_untracked();
        out.push(("l1", l1.key().into()));
        out.push(("l2", l2.key().into()));
        out.push(("amb", u8::from(self.land_amb.get_untracked()).to_string()));
        out.push(("adam", u8::from(self.land_adam.get_untracked()).to_string()));
        out.push(("sizes", self.sizes.get_untracked().key()));
        if let Some((b, lt)) = self.land_ball.get_untracked() {
            out.push(("ball", format!("{},{}", round_sig(b), round_sig(lt))));
        }
        out
    }

    /// The numeric signals, in [`NUMERIC_KEYS`] order.
    fn numeric(&self) -> [RwSignal<f64>; 11] {
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
            self.grad_pfg,
            self.grad_pbg,
        ]
    }

    /// The theory views' parameters (untracked: for exports and embeds, read on demand).
    pub fn params_untracked(&self) -> dicelens_plot::figure::ViewParams {
        dicelens_plot::figure::ViewParams {
            u: self.u.get_untracked(),
            s: self.s.get_untracked(),
            kappa: self.kappa.get_untracked(),
            sigma: self.sigma.get_untracked(),
            lambda: self.lambda.get_untracked(),
            temp: self.temp.get_untracked(),
            normalized: self.normalized.get_untracked(),
            c: self.amb_c.get_untracked(),
            a: self.amb_a.get_untracked(),
            p: self.amb_p.get_untracked(),
            u3: self.u3.get_untracked(),
            s3: self.s3.get_untracked(),
            term: self.term.get_untracked(),
            land_losses: self.land_losses.get_untracked(),
            land_amb: self.land_amb.get_untracked(),
            ball: self.land_ball.get_untracked(),
            adam: self.land_adam.get_untracked(),
            pfg: self.grad_pfg.get_untracked(),
            pbg: self.grad_pbg.get_untracked(),
            sizes: self.sizes.get_untracked(),
        }
    }

    /// An export callback that computes `view` at the current state.
    pub fn exporter(
        &self,
        view: dicelens_plot::figure::ViewId,
    ) -> Callback<(), Option<dicelens_plot::figure::Figure>> {
        let state = *self;
        Callback::new(move |_| {
            dicelens_plot::figure::Figure::compute(view, &state.params_untracked()).ok()
        })
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
        self.land_losses.track();
        self.land_amb.track();
        self.land_ball.track();
        self.land_adam.track();
        self.sizes.track();
    }

    /// Writes the state to the query string with `replaceState` (no history entry per slider
    /// tick, no scroll jump).
    pub fn write_url(&self) {
        let Some(q) = query() else { return };
        for (k, v) in self.url_pairs() {
            q.set(k, &v);
        }
        replace_query(&q);
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

impl Default for AppState {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicelens_plot::figure::{ViewParams, PARAMS};

    /// The app's signals, the URL codec, the CLI (`ViewParams`) and the sliders read one table:
    /// each key's default is the same everywhere, and a value set through the app's URL codec
    /// is the value `ViewParams` (the CLI's and the exports' parameters) holds.
    #[test]
    fn one_table_for_the_app_the_url_and_the_cli() {
        let state = AppState::new();
        let pairs = state.url_pairs();
        let view = ViewParams::default();
        for p in PARAMS {
            let (_, v) = pairs
                .iter()
                .find(|(k, _)| *k == p.key)
                .expect("key in the URL");
            assert_eq!(
                v.parse::<f64>().unwrap(),
                p.default,
                "app default of {}",
                p.key
            );
            let mut cli = ViewParams::default();
            cli.set(p.key, p.default).unwrap();
            assert_eq!(cli, view, "ViewParams default of {}", p.key);
            // A value inside the range goes through the app's codec to the same ViewParams field
            // the CLI sets.
            let mid = 0.5 * (p.lo + p.hi);
            let notices = state.apply(&|k: &str| (k == p.key).then(|| format!("{mid}")));
            assert!(notices.is_empty(), "{notices:?}");
            let mut cli = state.params_untracked();
            assert!(cli.set(p.key, mid).is_ok());
            assert_eq!(
                cli,
                state.params_untracked(),
                "{} lands in the same field",
                p.key
            );
            // Out of range: the app clamps with a notice, the CLI refuses.
            let notices = state.apply(&|k: &str| (k == p.key).then(|| format!("{}", p.hi + 1.0)));
            assert_eq!(notices.len(), 1, "{}", p.key);
            assert!(ViewParams::default().set(p.key, p.hi + 1.0).is_err());
        }
    }
}
