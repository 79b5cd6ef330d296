//! The app shell: header, notices, shared controls, the views, footer.

use dicelens_core::Convention;
use leptos::prelude::*;

use crate::embed::PageMode;
use crate::registry::VIEWS;
use crate::state::AppState;
use crate::tour::Tour;
use crate::views::references::ReferencesView;
use crate::widgets::share::SharePanel;
use crate::widgets::slider::ParamSlider;

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
            {[("u", state.u, "u-slider"), ("s", state.s, "s-slider"), ("kappa", state.kappa, "kappa-slider"),
              ("sigma", state.sigma, "sigma-slider"), ("lambda", state.lambda, "lambda-slider"), ("T", state.temp, "temp-slider")]
                .into_iter()
                .map(|(k, sig, id)| view! { <Show when=move || shown(k)><ParamSlider key=k value=sig id=id /></Show> })
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
    let spec = crate::registry::by_key(view);
    let only = spec.map(|v| v.embed_controls).unwrap_or(&[]);
    let full = move || crate::embed::state_url(&[("view", view.to_string())]);
    view! {
        <div class="embed" class:no-controls=!controls data-testid="embed" data-view=view>
            <Notices state=state />
            // The plot leads: the view first, its shared controls (compact) below it.
            <main>{spec.map(|v| (v.render)(state))}</main>
            {(controls && !only.is_empty()).then(|| view! { <Controls state=state only=only /> })}
            <p class="open-full">
                <a href=full target="_blank" rel="noopener" data-testid="open-full">"Open in DiceLens ↗"</a>
            </p>
        </div>
    }
}

/// Whether some owner reads the URL key `key`: the theory views' codec, the page mode, the
/// tour, or the trainer.
fn is_owned(key: &str) -> bool {
    dicelens_plot::query::KEYS.contains(&key)
        || dicelens_plot::query::ALIASES.iter().any(|(a, _)| *a == key)
        || crate::embed::PAGE_KEYS.contains(&key)
        || crate::tour::TOUR_KEYS.contains(&key)
        || crate::trainer::url::KEYS.contains(&key)
}

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    // The plots' colour scheme, in context for the whole page.
    crate::hooks::provide_dark_scheme();
    let state = AppState::from_url();
    let mut notices = Vec::new();
    let mode = PageMode::from_url(&mut notices);
    state.notices.update(|n| n.extend(notices));
    // The address bar's one writer: each owner registers the codec of its keys (the tour and
    // the trainer register theirs when they mount).
    let codecs = crate::url::UrlCodecs::provide();
    {
        let mode = mode.clone();
        codecs.register("page", false, move || mode.url_pairs());
    }
    state.register_url(codecs);
    let foreign = crate::url::foreign_pairs(is_owned);
    codecs.register("foreign", false, move || foreign.clone());
    crate::url::start_writer(codecs);
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
    // `?view=<id>` scrolls that view into sight once the page is drawn, and keeps it there
    // while the sections above it grow (plots size themselves, exact passes land) until the
    // reader scrolls, clicks or types, or 30 s pass: the scroll anchoring Chromium and Firefox
    // do by themselves, which WebKit lacks.
    if let Some(id) = mode.view {
        let anchoring = StoredValue::new(true);
        let scroll_to = move || {
            if !anchoring.try_get_value().unwrap_or(false) {
                return;
            }
            if let Some(el) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id(id))
            {
                el.scroll_into_view();
            }
        };
        Effect::new(move |_| {
            scroll_to();
            request_animation_frame(scroll_to);
            if let Some(main) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.query_selector("main").ok().flatten())
            {
                crate::hooks::use_height(&main, move |_| scroll_to());
            }
        });
        for name in ["wheel", "touchstart", "keydown", "pointerdown"] {
            crate::hooks::use_window_event(name, move |_| anchoring.set_value(false));
        }
        set_timeout(
            move || {
                let _ = anchoring.try_set_value(false);
            },
            std::time::Duration::from_secs(30),
        );
    }
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
                {VIEWS
                    .iter()
                    .map(|v| view! { <a href=format!("#{}", v.key)>{v.nav}</a> })
                    .collect_view()}
                <a href="#references">"References"</a>
            </nav>
            <div class="page-actions">
                <button type="button" data-testid="tour-start" on:click=move |_| tour.set(Some(0))>"Guided tour"</button>
                <button type="button" data-testid="share" aria-expanded=move || share_open.get().to_string()
                    on:click=move |_| share_open.update(|o| *o = !*o)>"Share / embed"</button>
            </div>
        </header>
        <Notices state=state />
        <div class="site-header"><SharePanel open=share_open /></div>
        <div class="layout">
            <Controls state=state />
            <main>
                {VIEWS.iter().map(|v| (v.render)(state)).collect_view()}
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_owner_key_is_owned_and_others_are_not() {
        for k in dicelens_plot::query::KEYS {
            assert!(is_owned(k), "{k}");
        }
        for k in ["temp", "embed", "view", "tour", "reveal", "trlr", "trloss"] {
            assert!(is_owned(k), "{k}");
        }
        for k in ["utm_source", "fbclid", "x", "U"] {
            assert!(!is_owned(k), "{k}");
        }
    }

    /// Every key of the theory views' codec, the page's, the tour's and the trainer's is owned
    /// once.
    #[test]
    fn owners_keys_are_disjoint() {
        let mut all: Vec<&str> = dicelens_plot::query::KEYS.to_vec();
        all.extend(crate::embed::PAGE_KEYS);
        all.extend(crate::tour::TOUR_KEYS);
        all.extend(crate::trainer::url::KEYS);
        let mut sorted = all.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), all.len(), "{all:?}");
    }
}
