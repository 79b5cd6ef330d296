//! View 1: the binary region-size terms against the predicted proportion `ŝ`.

use dicelens_core::{region_curves, RegionCurves, RegionTerm};
use dicelens_plot::fmt_fixed;
use dicelens_plot::{draw_region_terms, fmt_prop, region_style, PlotFrame};
use leptos::prelude::*;

use crate::state::AppState;
use crate::widgets::badge::{Badge, Origin};
use crate::widgets::deferred::{readouts, use_readouts_seen};
use crate::widgets::plot_canvas::PlotCanvas;
use dicelens_core::claims::family::region_caption;
use dicelens_core::claims::paragraph;

/// The formulas this view plots (static MathML, parsed by the browser into the MathML namespace).
const FORMULAS: &str = r#"<math display="block"><mrow>
<msub><mi>R</mi><mi>CE</mi></msub><mo>=</mo><mi>KL</mi><mo>(</mo><mi>u</mi><mo>‖</mo><mover><mi>s</mi><mo>^</mo></mover><mo>)</mo><mo>=</mo>
<mi>u</mi><mi>log</mi><mfrac><mi>u</mi><mover><mi>s</mi><mo>^</mo></mover></mfrac><mo>+</mo><mo>(</mo><mn>1</mn><mo>−</mo><mi>u</mi><mo>)</mo><mi>log</mi><mfrac><mrow><mn>1</mn><mo>−</mo><mi>u</mi></mrow><mrow><mn>1</mn><mo>−</mo><mover><mi>s</mi><mo>^</mo></mover></mrow></mfrac>
</mrow></math>
<math display="block"><mrow>
<msubsup><mi>R</mi><mi>Dice</mi><mi>fg</mi></msubsup><mo>=</mo><mi>log</mi><mfrac><mrow><mi>u</mi><mo>+</mo><mover><mi>s</mi><mo>^</mo></mover></mrow><mrow><mn>2</mn><mi>u</mi></mrow></mfrac>
</mrow></math><math display="block"><mrow>
<msubsup><mi>R</mi><mi>Dice</mi><mi>mean</mi></msubsup><mo>=</mo><mfrac><mn>1</mn><mn>2</mn></mfrac><mo>[</mo><mi>log</mi><mfrac><mrow><mi>u</mi><mo>+</mo><mover><mi>s</mi><mo>^</mo></mover></mrow><mrow><mn>2</mn><mi>u</mi></mrow></mfrac><mo>+</mo><mi>log</mi><mfrac><mrow><mn>2</mn><mo>−</mo><mi>u</mi><mo>−</mo><mover><mi>s</mi><mo>^</mo></mover></mrow><mrow><mn>2</mn><mo>(</mo><mn>1</mn><mo>−</mo><mi>u</mi><mo>)</mo></mrow></mfrac><mo>]</mo>
</mrow></math><math display="block"><mrow>
<msub><mi>R</mi><mi>L1</mi></msub><mo>=</mo><mo>|</mo><mover><mi>s</mi><mo>^</mo></mover><mo>−</mo><mi>u</mi><mo>|</mo>
</mrow></math>"#;

fn hex(term: RegionTerm) -> String {
    let c = region_style(term).color;
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

fn describe(c: &RegionCurves) -> String {
    let find = |t: RegionTerm| {
        c.minima
            .iter()
            .find(|m| m.0 == t)
            .map(|m| m.1)
            .unwrap_or(0.0)
    };
    format!(
        "At ground-truth proportion u = {}, CE's KL term and the L1 term are smallest at ŝ = {} \
         (the truth), the foreground Dice term at ŝ = {} and the two-class Dice term at ŝ = {} \
         (an empty or full prediction).",
        fmt_prop(c.u),
        fmt_prop(find(RegionTerm::Kl)),
        fmt_prop(find(RegionTerm::DiceFg)),
        fmt_prop(find(RegionTerm::DiceMean)),
    )
}

/// The region-size terms panel: a slider for `u`, the plot, and a readout of each minimum.
#[component]
pub fn RegionTermsView(
    /// The shared app state.
    state: AppState,
) -> impl IntoView {
    let curves =
        Memo::new(move |_| region_curves(state.u.get(), dicelens_plot::figure::REGION_POINTS));
    let frame = RwSignal::new_local(None::<PlotFrame>);
    let set_s =
        Callback::new(move |x: f64| state.s.set(crate::state::round_sig(x.clamp(0.0, 1.0))));
    // The caption, text alternative and table below the plot: live while on screen, and
    // once the input rests while off screen (`deferred::use_readouts_seen`).
    let block = NodeRef::<leptos::html::Div>::new();
    let (shown, behind) = readouts(
        use_readouts_seen(block),
        Memo::new(move |_| (curves.get(), state.s.get())),
        || false,
    );
    let rows = move || {
        shown.with(|(c, s)| {
            c.minima
                .iter()
                .map(|&(term, s_min, v)| {
                    let key = term.key();
                    let here = term.value(c.u, *s);
                    view! {
                        <tr>
                            <th scope="row">
                                <span class="swatch" style=format!("background:{}", hex(term))></span>
                                {term.label()}
                            </th>
                            <td data-testid=format!("min-{key}") data-value=s_min.to_string()>
                                {fmt_prop(s_min)}
                            </td>
                            <td data-testid=format!("minval-{key}") data-value=v.to_string()>
                                {fmt_fixed(v, 4)}
                            </td>
                            <td data-testid=format!("at-s-{key}")>
                                {if here.is_finite() { fmt_fixed(here, 4) } else { "∞".to_string() }}
                            </td>
                        </tr>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <section class="panel" id="region-terms" aria-labelledby="rt-title">
            <h2 id="rt-title">"Region-size terms (two classes)"</h2>
            <Badge origin=Origin::Paper note="Both decompositions and their region-size terms are the paper's (Liu et al., MedIA 2024)." />
            <p class="caption">
                "CE and Dice each split into a term that matches the ground truth pixel by pixel and a "
                <em>"region-size term"</em>
                " that depends only on how much foreground is predicted (ŝ) versus how much there is (u). "
                "Drag on the plot to move the current ŝ (solid vertical line); the dashed line is u."
            </p>
            <div class="formulas" tabindex="0" role="group" aria-label="Formulas" inner_html=FORMULAS></div>
            <div class="plot-wrap">
                <PlotCanvas
                    draw=move |area, style| {
                        curves.with(|c| draw_region_terms(area, c, None, style).ok())
                    }
                    label="Plot of the region-size terms against the predicted proportion"
                    testid="plot-region-terms"
                    export=state.exporter(dicelens_plot::figure::ViewId::RegionTerms)
                    export_name="dicelens-region-terms"
                    frame=frame
                    cursor=Signal::derive_local(move || {
                        let s = state.s.get().clamp(0.0, 1.0);
                        frame.get().and_then(|f| f.vertical_at(s))
                    })
                    cursor_solid=true
                    on_drag_x=set_s
                />
            </div>
            <div class="readouts-block" node_ref=block aria-busy=move || behind.get().then_some("true")>
            <p class="caption claims" data-testid="caption-region-terms" aria-live="polite">
                {move || paragraph(&region_caption(shown.with(|(c, _)| c.u)))}
            </p>
            <p class="plot-alt" data-testid="alt-region-terms">{move || shown.with(|(c, _)| describe(c))}</p>
            <table class="readouts">
                <caption>
                    "Where each term is smallest, and its value at the current ŝ = "
                    <span data-testid="current-s" data-value=move || shown.with(|k| k.1).to_string()>{move || fmt_prop(shown.with(|k| k.1))}</span>
                </caption>
                <thead>
                    <tr>
                        <th scope="col">"term"</th>
                        <th scope="col">"minimizer ŝ*"</th>
                        <th scope="col">"minimum (nats)"</th>
                        <th scope="col">"value at current ŝ"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
            </div>
        </section>
    }
}
