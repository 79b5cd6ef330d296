//! View 3: the bias map, `ŝ*(u)` for every loss against the diagonal.

use dicelens_core::FamilyLoss;
use dicelens_plot::family::draw_bias_map;
use dicelens_plot::figure::compute_bias_map;
use dicelens_plot::{fmt_prop, PlotFrame};
use leptos::prelude::*;

use crate::state::AppState;
use crate::widgets::badge::{Badge, Origin};
use crate::widgets::deferred::{lagged, use_on_screen, Delay};
use crate::widgets::plot_canvas::PlotCanvas;
use dicelens_core::claims::paragraph;
use dicelens_plot::explain::bias_map_claims;

/// The bias-map panel.
#[component]
pub fn BiasMapView(
    /// The shared app state.
    state: AppState,
) -> impl IntoView {
    // Recomputed only when κ, σ, λ or T change; moving u only moves the highlight.
    let section = NodeRef::<leptos::html::Section>::new();
    // The heaviest view (a minimisation per loss and u): off screen it waits for a pause; on
    // screen it is recomputed on the animation frame after the input rests
    // (`deferred::REST_MS`). While κ, σ, λ or T are dragged it keeps its last curves (with its
    // caption and text, which read the same key) and moves only the highlight of u, so each
    // frame stays within its budget.
    let key = lagged(
        use_on_screen(section),
        Memo::new(move |_| {
            [
                state.kappa.get(),
                state.sigma.get(),
                state.lambda.get(),
                state.temp.get(),
            ]
        }),
        Some(Delay::Frame),
        Delay::Quiet(150),
    );
    let data = Memo::new(move |_| {
        let [kappa, sigma, lambda, temp] = key.get();
        // No u line in the canvas: the plot's cursor draws it over the canvas, so moving u
        // redraws nothing (the PNG, SVG and CSV exports draw it in).
        compute_bias_map(kappa, sigma, lambda, temp, None)
    });
    let frame = RwSignal::new_local(None::<PlotFrame>);
    // The current u on the log x axis of the last drawn frame, in backend pixels.
    let cursor = Signal::derive_local(move || {
        let u = state.u.get().clamp(0.001, 0.5);
        frame.get().and_then(|f| {
            // The x axis is logarithmic: place u by its logarithm.
            PlotFrame {
                x: (f.x.0.ln(), f.x.1.ln()),
                ..f
            }
            .vertical_at(u.ln())
        })
    });
    view! {
        <section class="panel" id="bias-map" aria-labelledby="bias-title" node_ref=section>
            <h2 id="bias-title">"Bias map"</h2>
            <Badge origin=Origin::Model note="The bias map is DiceLens's summary of its logit-shift family, not a figure of the paper: each point is a loss's optimum along the family at one u." />
            <p class="caption">
                "For every ground-truth proportion u (horizontal), the predicted proportion ŝ* at which each "
                "loss is smallest along the family (vertical), log–log. Curves above the diagonal ŝ* = u "
                "over-estimate the foreground, below it under-estimate it. The dashed line is the current u."
            </p>
            {move || data.with(|d| d.as_ref().err().map(|e| view! { <p class="notice">{e.clone()}</p> }))}
            <div class="plot-wrap">
                <PlotCanvas
                    draw=move |area, style| {
                        data.with(|d| d.as_ref().ok().and_then(|d| draw_bias_map(area, d, style).ok()))
                    }
                    frame=frame
                    cursor=cursor
                    label="Bias map: optimal predicted proportion against the ground-truth proportion for every loss"
                    testid="plot-bias-map"
                    export=state.exporter(dicelens_plot::figure::ViewId::BiasMap)
                    export_name="dicelens-bias-map"
                />
            </div>
            <p class="caption claims" data-testid="caption-bias-map" aria-live="polite">
                {move || {
                    let (lambda, temp) = (key.get()[2], key.get()[3]);
                    data.with(|d| d.as_ref().ok().map(|d| paragraph(&bias_map_claims(temp, lambda, d))).unwrap_or_default())
                }}
            </p>
            <p class="plot-alt" data-testid="alt-bias-map">
                {move || data.with(|d| d.as_ref().ok().map(|d| {
                    let at = |l: FamilyLoss, j: usize| d.curves.iter().find(|c| c.0 == l).map(|c| fmt_prop(c.1[j])).unwrap_or_default();
                    let j = 0;
                    format!(
                        "At the smallest u = {}, foreground Dice puts ŝ* at {}, CE at {}; at u = {}, Dice at {}, CE at {}.",
                        fmt_prop(d.us[j]), at(FamilyLoss::DiceFg, j), at(FamilyLoss::Ce, j),
                        fmt_prop(d.us[d.us.len() - 1]), at(FamilyLoss::DiceFg, d.us.len() - 1), at(FamilyLoss::Ce, d.us.len() - 1),
                    )
                }).unwrap_or_default())}
            </p>
        </section>
    }
}
