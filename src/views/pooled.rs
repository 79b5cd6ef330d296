//! Per image against pooled: a batch of images of different sizes sharing one shift `b`.

use dicelens_core::claims::paragraph;
use dicelens_core::claims::pooled::pooled_claims;
use dicelens_core::pooled::BatchSizes;
use dicelens_plot::family::family_label;
use dicelens_plot::figure::{compute_pooled, ViewId, ViewParams};
use dicelens_plot::temperature::draw_pooled;
use leptos::prelude::*;

use crate::state::AppState;
use crate::widgets::badge::{Badge, Origin};
use crate::widgets::deferred::{lagged, use_on_screen, Delay};
use crate::widgets::plot_canvas::PlotCanvas;

const FORMULAS: &str = r#"<math display="block"><mrow>
<msub><mi>L</mi><mi>batch</mi></msub><mo>(</mo><mi>b</mi><mo>)</mo><mo>=</mo><mfrac><mn>1</mn><mi>J</mi></mfrac><munder><mo>∑</mo><mi>j</mi></munder><msub><mi>L</mi><mi>j</mi></msub><mo>(</mo><mi>b</mi><mo>)</mo>
<mo>,</mo><mspace width="0.6em"/>
<mfrac><mrow><mo>∂</mo><msub><mi>CE</mi><mi>batch</mi></msub></mrow><mrow><mo>∂</mo><mi>b</mi></mrow></mfrac><mo>=</mo><mfrac><mn>1</mn><mi>J</mi></mfrac><munder><mo>∑</mo><mi>j</mi></munder><mo>(</mo><msub><mover><mi>s</mi><mo>^</mo></mover><mi>j</mi></msub><mo>−</mo><msub><mi>u</mi><mi>j</mi></msub><mo>)</mo>
</mrow></math>"#;

/// The pooled panel.
#[component]
pub fn PooledView(
    /// The shared app state.
    state: AppState,
) -> impl IntoView {
    let section = NodeRef::<leptos::html::Section>::new();
    let on_screen = use_on_screen(section);
    let live = Memo::new(move |_| ViewParams {
        kappa: state.kappa.get(),
        sigma: state.sigma.get(),
        lambda: state.lambda.get(),
        temp: state.temp.get(),
        sizes: state.sizes.get(),
        ..ViewParams::default()
    });
    // Two optimizations over the batch (each a grid over the shared shift): on the animation
    // frame after the input on screen, once the sliders rest off screen.
    let key = lagged(on_screen, live, Some(Delay::Frame), Delay::Quiet(150));
    let data = Memo::new(move |_| compute_pooled(&key.get()));
    let caption = move || {
        data.with(|d| match d {
            Ok(v) => paragraph(&pooled_claims(v)),
            Err(e) => e.clone(),
        })
    };
    let input_error = RwSignal::new(None::<String>);
    let rows = move || {
        data.with(|d| {
            let Ok(v) = d else { return Vec::new() };
            v.sizes
                .iter()
                .enumerate()
                .map(|(j, u)| {
                    let cells = v
                        .optima
                        .iter()
                        .flat_map(|o| {
                            [("soft", o.soft[j]), ("hard", o.hard[j])].map(|(kind, r)| {
                                view! {
                                    <td data-testid=format!("pooled-{}-{kind}-{j}", o.loss.key()) data-value=r.to_string()>
                                        {format!("{r:.3}×")}
                                    </td>
                                }
                            })
                        })
                        .collect::<Vec<_>>();
                    view! { <tr><th scope="row">{format!("u = {}", dicelens_plot::fmt_prop(*u))}</th>{cells}</tr> }
                })
                .collect::<Vec<_>>()
        })
    };
    let head = move || {
        data.with(|d| {
            d.as_ref()
                .ok()
                .map(|v| {
                    v.optima
                        .iter()
                        .flat_map(|o| {
                            let l = family_label(o.loss);
                            [format!("{l} soft"), format!("{l} thresholded")]
                        })
                        .map(|t| view! { <th scope="col">{t}</th> })
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    let pooled_ce = move || {
        data.with(|d| {
            d.as_ref().ok().and_then(|v| {
                v.optimum(dicelens_core::FamilyLoss::Ce).map(|o| {
                    view! {
                        <p class="readout-line">
                            "CE's pooled soft proportion / mean u: "
                            <span data-testid="pooled-mean-soft-ce" data-value=o.pooled_soft.to_string()>
                                {format!("{:.6}", o.pooled_soft)}
                            </span>
                        </p>
                    }
                })
            })
        })
    };
    view! {
        <section class="panel" id="pooled" aria-labelledby="pooled-title" node_ref=section>
            <h2 id="pooled-title">"Per image against pooled"</h2>
            <Badge
                origin=Origin::Model
                note="DiceLens's model: a batch of images under one logit-shift family that share a single output shift b (a network's shared bias; no per-image adaptation), each loss averaged over the images. T and λ are the authors' CE+L1 / CE+KL settings (T = 10, λ = 1 in their code)."
            />
            <p class="caption" data-testid="caption-pooled">{caption}</p>
            <div class="formulas" inner_html=FORMULAS></div>
            <div class="slider-row">
                <label for="sizes-input">"the batch's foreground proportions u_j (2 to 12, each in [0.001, 0.5])"</label>
                <input
                    id="sizes-input"
                    data-testid="sizes-input"
                    type="text"
                    prop:value=move || state.sizes.get().key()
                    on:change=move |ev| {
                        match BatchSizes::parse(&event_target_value(&ev)) {
                            Ok(v) => {
                                input_error.set(None);
                                state.sizes.set(v);
                            }
                            Err(e) => input_error.set(Some(format!("Not used: {e}; keeping {}.", state.sizes.get_untracked().key()))),
                        }
                    }
                />
            </div>
            {move || input_error.get().map(|e| view! { <p class="notice" data-testid="sizes-error">{e}</p> })}
            {move || data.with(|d| d.as_ref().err().map(|e| view! { <p class="notice">{e.clone()}</p> }))}
            <div class="plot-wrap">
                <PlotCanvas
                    draw=move |area, style| {
                        data.with(|d| d.as_ref().ok().and_then(|v| draw_pooled(area, v, style).ok()))
                    }
                    label="Each image's optimal soft and thresholded proportion as a ratio to its size, for CE, CE+L1 and CE+KL, against the image's size"
                    testid="plot-pooled"
                    export=state.exporter(ViewId::Pooled)
                    export_name="dicelens-pooled"
                />
            </div>
            {pooled_ce}
            <div class="table-scroll" tabindex="0" role="region" aria-label="Each image's optimal ratios, per loss">
                <table class="readouts">
                    <thead><tr><th scope="col">"image"</th>{head}</tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
}
