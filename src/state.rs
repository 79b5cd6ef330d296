//! The app's shared state: a few signals, read from and written to the URL query.

use dicelens_core::{Convention, FamilyLoss, SimplexTerm};
use dicelens_plot::figure::ViewParams;
use dicelens_plot::query::Mode;
use leptos::prelude::*;

pub use dicelens_plot::query::{fmt_triple, round_sig, MAX_VALUE_LEN};

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

/// Parses a typed `"0.7,0.25,0.05"` onto the simplex (renormalised), keeping `current` with a
/// notice when unusable (the three-class view's typed fields; the URL goes through the codec).
pub fn parse_triple(
    key: &str,
    raw: &str,
    current: [f64; 3],
    notices: &mut Vec<String>,
) -> [f64; 3] {
    match dicelens_plot::query::parse_triple(raw) {
        Ok((v, note)) => {
            if let Some(n) = note {
                notices.push(format!("{key} does not sum to 1; {n}."));
            }
            v
        }
        Err(why) => {
            let short: String = raw.chars().take(MAX_VALUE_LEN).collect();
            notices.push(format!(
                "{key}={short} {why}; keeping {}.",
                fmt_triple(current)
            ));
            current
        }
    }
}

impl AppState {
    /// The default state (the one schema's defaults, [`ViewParams::default`]).
    pub fn new() -> Self {
        let d = ViewParams::default();
        Self {
            u: RwSignal::new(d.u),
            s: RwSignal::new(d.s),
            kappa: RwSignal::new(d.kappa),
            sigma: RwSignal::new(d.sigma),
            lambda: RwSignal::new(d.lambda),
            temp: RwSignal::new(d.temp),
            normalized: RwSignal::new(d.normalized),
            amb_c: RwSignal::new(d.c),
            amb_a: RwSignal::new(d.a),
            amb_p: RwSignal::new(d.p),
            grad_pfg: RwSignal::new(d.pfg),
            grad_pbg: RwSignal::new(d.pbg),
            u3: RwSignal::new(d.u3),
            s3: RwSignal::new(d.s3),
            term: RwSignal::new(d.term),
            preset: RwSignal::new(d.preset),
            land_losses: RwSignal::new(d.land_losses),
            land_amb: RwSignal::new(d.land_amb),
            land_ball: RwSignal::new(d.ball),
            land_adam: RwSignal::new(d.adam),
            sizes: RwSignal::new(d.sizes),
            notices: RwSignal::new(Vec::new()),
        }
    }

    /// Reads the initial state from the page's query (`?u=0.1&s=0.3`), clamping bad values
    /// with a notice.
    pub fn from_url() -> Self {
        let state = Self::new();
        let notices = state.apply(&crate::url::initial_getter());
        state.notices.set(notices);
        state
    }

    /// Sets every state key that `get` has (URL keys and values as strings) through the one
    /// codec ([`ViewParams::apply_query`], lenient): out-of-range values are clamped and
    /// malformed ones ignored, with a notice for each. Keys `get` does not have keep their value.
    pub fn apply(&self, get: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
        let mut p = self.params_untracked();
        let problems = p.apply_query(get, Mode::Lenient).unwrap_or_default();
        self.set_params(&p);
        problems.iter().map(|pr| pr.notice()).collect()
    }

    /// Sets every signal whose value differs from `p`'s.
    pub fn set_params(&self, p: &ViewParams) {
        fn put<T: PartialEq + Clone + Send + Sync + 'static>(sig: RwSignal<T>, v: T) {
            if sig.with_untracked(|x| *x != v) {
                sig.set(v);
            }
        }
        put(self.u, p.u);
        put(self.s, p.s);
        put(self.kappa, p.kappa);
        put(self.sigma, p.sigma);
        put(self.lambda, p.lambda);
        put(self.temp, p.temp);
        put(self.normalized, p.normalized);
        put(self.amb_c, p.c);
        put(self.amb_a, p.a);
        put(self.amb_p, p.p);
        put(self.grad_pfg, p.pfg);
        put(self.grad_pbg, p.pbg);
        put(self.u3, p.u3);
        put(self.s3, p.s3);
        put(self.term, p.term);
        put(self.preset, p.preset);
        put(self.land_losses, p.land_losses);
        put(self.land_amb, p.land_amb);
        put(self.land_ball, p.ball);
        put(self.land_adam, p.adam);
        put(self.sizes, p.sizes);
    }

    /// The state as URL keys and values (the keys [`AppState::apply`] reads).
    pub fn url_pairs(&self) -> Vec<(&'static str, String)> {
        self.params_untracked().to_query()
    }

    /// The theory views' parameters, tracked (a memo or effect reading this reruns when any
    /// of them changes).
    pub fn params(&self) -> ViewParams {
        ViewParams {
            u: self.u.get(),
            s: self.s.get(),
            kappa: self.kappa.get(),
            sigma: self.sigma.get(),
            lambda: self.lambda.get(),
            temp: self.temp.get(),
            normalized: self.normalized.get(),
            c: self.amb_c.get(),
            a: self.amb_a.get(),
            p: self.amb_p.get(),
            u3: self.u3.get(),
            s3: self.s3.get(),
            term: self.term.get(),
            land_losses: self.land_losses.get(),
            land_amb: self.land_amb.get(),
            ball: self.land_ball.get(),
            adam: self.land_adam.get(),
            pfg: self.grad_pfg.get(),
            pbg: self.grad_pbg.get(),
            sizes: self.sizes.get(),
            preset: self.preset.get(),
        }
    }

    /// The theory views' parameters, untracked (for exports and embeds, read on demand).
    pub fn params_untracked(&self) -> ViewParams {
        untrack(|| self.params())
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

    /// Tracks every signal that belongs in the URL.
    pub fn track_all(&self) {
        let _ = self.params();
    }

    /// Registers the theory views' codec with the one URL writer.
    pub fn register_url(&self, codecs: crate::url::UrlCodecs) {
        let state = *self;
        codecs.register_tracked(
            "views",
            true,
            move || {
                let _ = state.params();
            },
            move || {
                state
                    .params()
                    .to_query()
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect()
            },
        );
    }
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
