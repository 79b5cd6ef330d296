//! The app shell: header, notices, shared controls, the views, footer.

use dicelens_core::Convention;
use leptos::prelude::*;

use crate::embed::PageMode;
use crate::state::AppState;
use crate::tour::Tour;
use crate::views::ambiguous::AmbiguousView;
use crate::views::bias_map::BiasMapView;
use crate::views::data::DataView; // the data view (issue 14)
use crate::views::decomposition::DecompositionView;
use crate::views::family::FamilyView;
use crate::views::gradients::GradientsView;
use crate::views::landscape::LandscapeView;
use crate::views::matching::MatchingView;
use crate::views::pooled::PooledView;
use crate::views::references::ReferencesView;
use crate::views::region_terms::RegionTermsView;
use crate::views::simplex::SimplexView;
use crate::views::temperature::TemperatureView;
use crate::views::trainer::TrainerView;
use crate::widgets::share::SharePanel;
use crate::widgets::slider::{Scale, Slider};

/// A parameter's row of the one table ([`dicelens_plot::figure::PARAMS`]).
fn spec(key: &str) -> &'static dicelens_plot::figure::ParamSpec {
    dicelens_plot::figure::param(key).expect("a key of PARAMS")
}

/// The sliders every view shares.
#[component]
fn Controls(
    /// The shared app state.
    state: AppState,
    /// The keys of the controls to show (`None`: all).
    #[prop(optional)]
    only: Option<&'static [&'static str]>,
) -> impl IntoView {
    let shown = move |k: &str| only.is_none_or(|o| o.contains(&k));
    view! {
        <aside class="panel controls" aria-labelledby="controls-title" class:embedded-controls=only.is_some()>
            <h2 id="controls-title">"Controls"</h2>
            <Show when=move || shown("u")><Slider
                value=state.u
                label=spec("u").label
                id="u-slider"
                lo=spec("u").lo
                hi=spec("u").hi
                scale=Scale::LogOdds
            /></Show>
            {[("s", state.s, "s-slider"), ("kappa", state.kappa, "kappa-slider"), ("sigma", state.sigma, "sigma-slider"),
              ("lambda", state.lambda, "lambda-slider"), ("T", state.temp, "temp-slider")]
                .into_iter()
                .map(|(k, sig, id)| {
                    let p = spec(k);
                    view! { <Show when=move || shown(k)><Slider value=sig label=p.label id=id lo=p.lo hi=p.hi /></Show> }
                })
                .collect_view()}
            <Show when=move || shown("preset")><div class="slider-row">
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
            </div></Show>
            <p class="hint" class:hidden=only.is_some()>
                "Every slider has a typed field; arrow keys step, Page Up/Down jump. The page address "
                "always holds the current state: copy it to share exactly this view."
            </p>
        </aside>
    }
}

/// The shared controls an embedded view needs (its own controls live in the view).
fn embed_controls(view: &str) -> &'static [&'static str] {
    match view {
        "region-terms" => &["u", "s"],
        "family" => &["u", "s", "kappa", "sigma", "lambda", "T", "preset"],
        "bias-map" => &["u", "kappa", "sigma", "lambda", "T"],
        "decomposition" => &["u", "s", "kappa", "sigma", "lambda", "T"],
        "ambiguous" => &["lambda"],
        "landscape" => &["u", "kappa", "sigma", "lambda", "T"],
        "gradients" => &["u", "lambda", "T"],
        "matching" => &["kappa", "sigma"],
        "temperature" => &["u", "s", "kappa", "sigma", "lambda", "T"],
        "pooled" => &["kappa", "sigma", "lambda", "T"],
        _ => &[],
    }
}

/// One view by its key.
fn view_by_key(key: &str, state: AppState) -> AnyView {
    match key {
        "region-terms" => view! { <RegionTermsView state=state /> }.into_any(),
        "family" => view! { <FamilyView state=state /> }.into_any(),
        "bias-map" => view! { <BiasMapView state=state /> }.into_any(),
        "simplex" => view! { <SimplexView state=state /> }.into_any(),
        "decomposition" => view! { <DecompositionView state=state /> }.into_any(),
        "ambiguous" => view! { <AmbiguousView state=state /> }.into_any(),
        "landscape" => view! { <LandscapeView state=state /> }.into_any(),
        "gradients" => view! { <GradientsView state=state /> }.into_any(),
        "matching" => view! { <MatchingView state=state /> }.into_any(),
        "temperature" => view! { <TemperatureView state=state /> }.into_any(),
        "pooled" => view! { <PooledView state=state /> }.into_any(),
        "data" => view! { <DataView state=state /> }.into_any(),
        _ => view! { <TrainerView /> }.into_any(),
    }
}

/// The URL notices, shown at the top of the page (and of an embed).
#[component]
fn Notices(
    /// The shared app state.
    state: AppState,
) -> impl IntoView {
    view! {
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
    }
}

/// One view without page chrome, for an `<iframe>` in a course page (`?embed=<view>`).
#[component]
fn EmbedPage(
    /// The shared app state.
    state: AppState,
    /// The view's key.
    view: &'static str,
    /// Whether to show controls.
    controls: bool,
) -> impl IntoView {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.class_list().add_1("embedded");
    }
    let only = embed_controls(view);
    let full = move || {
        state.track_all();
        crate::embed::state_url(&state, &[("view", view.to_string())])
    };
    view! {
        <div class="embed" class:no-controls=!controls data-testid="embed" data-view=view>
            <Notices state=state />
            // The plot leads: the view first, its shared controls (compact) below it.
            <main>{view_by_key(view, state)}</main>
            {(controls && !only.is_empty()).then(|| view! { <Controls state=state only=only /> })}
            <p class="open-full">
                <a href=full target="_blank" rel="noopener" data-testid="open-full">"Open in DiceLens ↗"</a>
            </p>
        </div>
    }
}

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    // The plots' colour scheme, owned by the page's root (see `dark_scheme`).
    crate::widgets::plot_canvas::dark_scheme();
    let state = AppState::from_url();
    let mut notices = Vec::new();
    let mode = PageMode::from_url(&mut notices);
    state.notices.update(|n| n.extend(notices));
    // Effects only talk to the outside world: here, the URL.
    Effect::new(move |_| {
        state.track_all();
        state.write_url();
    });
    if let (Some(view), Some(parent)) = (mode.embed, mode.parent.clone()) {
        crate::embed::listen(state, parent.clone(), view);
        // Post only where the author said the host is; say so when the page is elsewhere.
        let host = crate::embed::embedding_origin();
        let posting = host.as_deref().is_none_or(|h| h == parent);
        if !posting {
            state.notices.update(|n| {
                n.push(format!(
                    "This widget's parent={parent} is not the page it is embedded in; it neither \
                     sends nor accepts messages."
                ))
            });
        }
        if posting {
            crate::embed::post_resizes(parent.clone());
        }
        Effect::new(move |_| {
            if !posting {
                return;
            }
            state.track_all();
            crate::embed::post_state(&state, view, &parent);
        });
    }
    if let Some(view) = mode.embed {
        return view! { <EmbedPage state=state view=view controls=mode.controls /> }.into_any();
    }
    let tour = RwSignal::new(mode.tour.map(|n| n - 1));
    let share_open = RwSignal::new(false);
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
                " (B. Liu, J. Dolz, A. Galdran, R. Kobbi, I. Ben Ayed; Medical Image Analysis 91, 2024; arXiv 2104.08717). "
                <a class="cite-link" href="#references" data-testid="cite-link">"Cite"</a>
            </p>
            <nav aria-label="views">
                <a href="#region-terms">"Region terms"</a>
                <a href="#family">"Family"</a>
                <a href="#bias-map">"Bias map"</a>
                <a href="#simplex">"Three classes"</a>
                <a href="#decomposition">"Decomposition"</a>
                <a href="#matching">"Matching term"</a>
                <a href="#ambiguous">"Ambiguous pixels"</a>
                <a href="#landscape">"Landscapes"</a>
                <a href="#gradients">"Gradients"</a>
                <a href="#temperature">"Temperature"</a>
                <a href="#pooled">"Per image vs pooled"</a>
                <a href="#trainer">"Trainer"</a>
                <a href="#data">"Your data"</a>
                <a href="#references">"References"</a>
            </nav>
            <div class="page-actions">
                <button type="button" data-testid="tour-start" on:click=move |_| tour.set(Some(0))>"Guided tour"</button>
                <button type="button" data-testid="share" aria-expanded=move || share_open.get().to_string()
                    on:click=move |_| share_open.update(|o| *o = !*o)>"Share / embed"</button>
            </div>
        </header>
        <Notices state=state />
        <div class="site-header"><SharePanel state=state open=share_open /></div>
        <div class="layout">
            <Controls state=state />
            <main>
                <RegionTermsView state=state />
                <FamilyView state=state />
                <BiasMapView state=state />
                <SimplexView state=state />
                <DecompositionView state=state />
                <MatchingView state=state />
                <AmbiguousView state=state />
                <LandscapeView state=state />
                <GradientsView state=state />
                <TemperatureView state=state />
                <PooledView state=state />
                <TrainerView />
                <DataView state=state />
                <ReferencesView />
            </main>
        </div>
        <Tour state=state step=tour reveal=mode.reveal />
        <footer class="site-footer">
            <p>
                "Every number on this page is computed in your browser by the DiceLens loss core (Rust compiled to WebAssembly). "
                "Formulas follow the paper; loss conventions follow PyTorch and MONAI."
            </p>
        </footer>
    }
    .into_any()
}
