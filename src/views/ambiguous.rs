//! View 6: ambiguous pixels — calibrated CE versus all-or-nothing Dice.

use dicelens_core::{ambiguous_view, Ambiguous};
use dicelens_plot::{ambiguous_style, draw_ambiguous};
use leptos::prelude::*;

use crate::widgets::badge::{Badge, Origin};
use dicelens_core::claims::tour::ambiguous_claim;

use crate::state::AppState;
use crate::widgets::deferred::{deferred, use_on_screen};
use crate::widgets::plot_canvas::PlotCanvas;
use crate::widgets::slider::ParamSlider;

const FORMULAS: &str = r#"<math display="block"><mrow>
<mi>TP</mi><mo>=</mo><mi>c</mi><mo>+</mo><mi>a</mi><mi>p</mi><mi>q</mi><mo>,</mo><mspace width="0.5em"/>
<mi>Y</mi><mo>=</mo><mi>c</mi><mo>+</mo><mi>a</mi><mi>p</mi><mo>,</mo><mspace width="0.5em"/>
<mi>S</mi><mo>=</mo><mi>c</mi><mo>+</mo><mi>a</mi><mi>q</mi><mo>,</mo><mspace width="0.5em"/>
<mi>Dice</mi><mo>=</mo><mfrac><mrow><mn>2</mn><mi>TP</mi></mrow><mrow><mi>Y</mi><mo>+</mo><mi>S</mi></mrow></mfrac>
</mrow></math><math display="block"><mrow>
<mi>CE</mi><mo>=</mo><mi>a</mi><mo>[</mo><mo>−</mo><mi>p</mi><mi>log</mi><mi>q</mi><mo>−</mo><mo>(</mo><mn>1</mn><mo>−</mo><mi>p</mi><mo>)</mo><mi>log</mi><mo>(</mo><mn>1</mn><mo>−</mo><mi>q</mi><mo>)</mo><mo>]</mo>
</mrow></math>"#;

/// The ambiguous-pixels panel.
#[component]
pub fn AmbiguousView(
    /// The shared app state.
    state: AppState,
) -> impl IntoView {
    let section = NodeRef::<leptos::html::Section>::new();
    let key = deferred(
        use_on_screen(section),
        Memo::new(move |_| {
            [
                state.amb_c.get(),
                state.amb_a.get(),
                state.lambda.get(),
                state.amb_p.get(),
            ]
        }),
    );
    let data = Memo::new(move |_| {
        let [c, a, lambda, p] = key.get();
        Ambiguous::new(c, a, lambda)
            .and_then(|m| {
                let (n_s, n_p) = dicelens_plot::figure::AMBIGUOUS_GRID;
                ambiguous_view(&m, p, n_s, n_p)
            })
            .map_err(|e| e.to_string())
    });
    let rows = move || {
        data.with(|d| {
            let Ok(d) = d else { return Vec::new() };
            d.optima
                .iter()
                .map(|o| {
                    let c = ambiguous_style(o.loss).color;
                    view! {
                        <tr>
                            <th scope="row">
                                <span class="swatch" style=format!("background:#{:02x}{:02x}{:02x}", c.0, c.1, c.2)></span>
                                {o.loss.label()}
                            </th>
                            <td data-testid=format!("qstar-{}", o.loss.key()) data-value=o.q.to_string()>{format!("{:.3}", o.q)}</td>
                            <td data-testid=format!("volbias-{}", o.loss.key()) data-value=o.volume_bias.to_string()>
                                {format!("{:+.1}%", 100.0 * o.volume_bias)}
                            </td>
                        </tr>
                    }
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        <section class="panel" id="ambiguous" aria-labelledby="amb-title" node_ref=section>
            <h2 id="amb-title">"Ambiguous pixels"</h2>
            <Badge origin=Origin::Model note="DiceLens's model, following Bertels et al., Optimization with soft Dice can lead to a volumetric bias (arXiv 1911.02278); not an analysis of the paper." />
            <p class="caption">
                "A fraction c of pixels is certainly foreground, a fraction a is ambiguous: each is "
                "foreground with probability p, and the model predicts the same probability q for all of "
                "them. CE's best q is p itself (calibrated). Dice's best q is 0 or 1: an all-or-nothing "
                "decision that flips at a threshold in p."
            </p>
            <div class="formulas" tabindex="0" role="group" aria-label="Formulas" inner_html=FORMULAS></div>
            <div class="controls-inline">
                <ParamSlider key="c" value=state.amb_c id="c-slider" />
                <ParamSlider key="a" value=state.amb_a id="a-slider" />
                <ParamSlider key="p" value=state.amb_p id="p-slider" />
            </div>
            {move || data.with(|d| d.as_ref().err().map(|e| view! { <p class="notice">{e.clone()}</p> }))}
            <div class="plot-wrap">
                <PlotCanvas
                    draw=move |area, style| data.with(|d| d.as_ref().ok().and_then(|d| draw_ambiguous(area, d, style).ok()).map(|f| f.q_star))
                    label="Optimal predicted probability against the label probability for each loss, and each loss against the prediction"
                    testid="plot-ambiguous"
                    export=state.exporter(dicelens_plot::figure::ViewId::Ambiguous)
                    export_name="dicelens-ambiguous"
                    aspect=0.5
                    compact_aspect=1.7
                />
            </div>
            <p class="caption claims" data-testid="caption-ambiguous" aria-live="polite">
                {move || {
                    let [c, a, lambda, p] = key.get();
                    Ambiguous::new(c, a, lambda)
                        .map(|m| ambiguous_claim(&m, p).text)
                        .unwrap_or_default()
                }}
            </p>
            <p class="plot-alt" data-testid="alt-ambiguous">
                {move || data.with(|d| d.as_ref().ok().map(|d| {
                    let q = |k: &str| d.optima.iter().find(|o| o.loss.key() == k).map(|o| (o.q, o.volume_bias)).unwrap_or_default();
                    let (qc, vc) = q("ce");
                    let (qd, vd) = q("dice");
                    format!(
                        "At p = {:.2}: CE's best q = {:.2} (volume {:+.0}%), Dice's best q = {:.0} (volume {:+.0}%); Dice flips from 0 to 1 at p = {:.3}.",
                        d.p, qc, 100.0 * vc, qd, 100.0 * vd, d.flip
                    )
                }).unwrap_or_default())}
            </p>
            <table class="readouts">
                <caption>"Each loss's optimal q at the current p, and the predicted volume's bias"</caption>
                <thead>
                    <tr>
                        <th scope="col">"loss"</th>
                        <th scope="col">"optimal q*"</th>
                        <th scope="col">"volume bias (S − Y)/Y"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}
