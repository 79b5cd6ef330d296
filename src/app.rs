//! The app shell: header, notices, shared controls, the views, footer.

use dicelens_core::Convention;
use leptos::prelude::*;

use crate::state::{AppState, U_MAX, U_MIN};
use crate::views::ambiguous::AmbiguousView;
use crate::views::bias_map::BiasMapView;
use crate::views::decomposition::DecompositionView;
use crate::views::family::FamilyView;
use crate::views::region_terms::RegionTermsView;
use crate::views::simplex::SimplexView;
use crate::views::trainer::TrainerView;
use crate::widgets::slider::{Scale, Slider};

/// The sliders every view shares.
#[component]
fn Controls(
    /// The shared app state.
    state: AppState,
) -> impl IntoView {
    view! {
        <aside class="panel controls" aria-labelledby="controls-title">
            <h2 id="controls-title">"Controls"</h2>
            <Slider
                value=state.u
                label="ground-truth foreground proportion u (fraction of pixels)"
                id="u-slider"
                lo=U_MIN
                hi=U_MAX
                scale=Scale::LogOdds
            />
            <Slider value=state.s label="current predicted proportion ŝ" id="s-slider" lo=0.0 hi=1.0 />
            <Slider value=state.kappa label="separation κ (logit units)" id="kappa-slider" lo=0.0 hi=5.0 />
            <Slider value=state.sigma label="noise σ (logit units)" id="sigma-slider" lo=0.0 hi=4.0 />
            <Slider value=state.lambda label="region-term weight λ" id="lambda-slider" lo=0.0 hi=10.0 />
            <Slider value=state.temp label="region-term temperature T" id="temp-slider" lo=0.1 hi=20.0 />
            <div class="slider-row">
                <label for="preset">"loss convention (library preset)"</label>
                <select
                    id="preset"
                    data-testid="preset"
                    on:change=move |ev| {
                        if let Some(c) = Convention::from_key(&event_target_value(&ev)) {
                            state.preset.set(c);
                        }
                    }
                >
                    {Convention::ALL
                        .into_iter()
                        .map(|c| {
                            view! {
                                <option value=c.key() selected=move || state.preset.get() == c>
                                    {c.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
                <span class="preset-desc" data-testid="preset-desc">{move || state.preset.get().description()}</span>
            </div>
            <p class="hint">
                "Every slider has a typed field; arrow keys step, Page Up/Down jump. The page address "
                "always holds the current state: copy it to share exactly this view."
            </p>
        </aside>
    }
}

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let state = AppState::from_url();
    // Effects only talk to the outside world: here, the URL.
    Effect::new(move |_| {
        state.track_all();
        state.write_url();
    });
    // `?view=<id>` scrolls that view into sight once the page is drawn.
    Effect::new(move |_| {
        if let Some(id) = crate::state::initial_view(&state) {
            if let Some(el) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id(&id))
            {
                el.scroll_into_view();
            }
        }
    });
    view! {
        <header class="site-header">
            <h1>"DiceLens"</h1>
            <p class="subtitle">
                "An interactive companion to "
                <cite>"Do we really need Dice? The hidden region-size biases of segmentation losses"</cite>
                " (B. Liu, J. Dolz, A. Galdran, R. Kobbi, I. Ben Ayed; Medical Image Analysis 91, 2024; arXiv 2104.08717)."
            </p>
            <nav aria-label="views">
                <a href="#region-terms">"Region terms"</a>
                <a href="#family">"Family"</a>
                <a href="#bias-map">"Bias map"</a>
                <a href="#simplex">"Three classes"</a>
                <a href="#decomposition">"Decomposition"</a>
                <a href="#ambiguous">"Ambiguous pixels"</a>
                <a href="#trainer">"Trainer"</a>
            </nav>
        </header>
        <div class="notices" role="status" aria-live="polite" data-testid="notices">
            {move || {
                state
                    .notices
                    .get()
                    .into_iter()
                    .map(|n| view! { <p class="notice">{n}</p> })
                    .collect_view()
            }}
        </div>
        <div class="layout">
            <Controls state=state />
            <main>
                <RegionTermsView state=state />
                <FamilyView state=state />
                <BiasMapView state=state />
                <SimplexView state=state />
                <DecompositionView state=state />
                <AmbiguousView state=state />
                <TrainerView />
            </main>
        </div>
        <footer class="site-footer">
            <p>
                "Every number on this page is computed in your browser by the DiceLens loss core (Rust compiled to WebAssembly). "
                "Formulas follow the paper; loss conventions follow PyTorch and MONAI."
            </p>
        </footer>
    }
}
