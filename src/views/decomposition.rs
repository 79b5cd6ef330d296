//! View 5: the decompositions at the current state, as stacked bars.

use dicelens_core::FamilyDecomposition;
use dicelens_plot::{decomposition_bars, draw_decomposition, fmt_fixed, fmt_prop, fmt_signed};
use leptos::prelude::*;

use crate::state::AppState;
use crate::views::family::{family_from, family_key};
use crate::widgets::badge::{Badge, Origin};
use crate::widgets::deferred::{deferred, use_on_screen};
use crate::widgets::plot_canvas::PlotCanvas;
use dicelens_core::claims::paragraph;
use dicelens_plot::explain::decomposition_claims;

const FORMULAS: &str = r#"<math display="block"><mrow>
<mi>CE</mi><mo>=</mo><mi>KL</mi><mo>(</mo><mi>u</mi><mo>‖</mo><mover><mi>s</mi><mo>^</mo></mover><mo>)</mo><mo>+</mo><munder><mo>∑</mo><mi>k</mi></munder><msub><mi>u</mi><mi>k</mi></msub><mo>(</mo><mo>−</mo><mi>log</mi><msub><mi>prec</mi><mi>k</mi></msub><mo>)</mo><mo>+</mo><munder><mo>∑</mo><mi>k</mi></munder><msub><mi>u</mi><mi>k</mi></msub><mo>(</mo><msub><mi>C</mi><mi>k</mi></msub><mo>+</mo><mi>log</mi><msub><mi>m</mi><mi>k</mi></msub><mo>)</mo>
<mo>=</mo><mi>H</mi><mo>(</mo><mi>u</mi><mo>)</mo><mo>+</mo><mi>KL</mi><mo>(</mo><mi>u</mi><mo>‖</mo><mover><mi>s</mi><mo>^</mo></mover><mo>)</mo><mo>−</mo><mover><mi>I</mi><mo>^</mo></mover>
</mrow></math>
<math display="block"><mrow>
<mo>−</mo><mi>log</mi><msub><mi>Dice</mi><mi>k</mi></msub><mo>=</mo><mo>−</mo><mi>log</mi><msub><mi>m</mi><mi>k</mi></msub><mo>+</mo><mi>log</mi><mfrac><mrow><msub><mi>u</mi><mi>k</mi></msub><mo>+</mo><msub><mover><mi>s</mi><mo>^</mo></mover><mi>k</mi></msub></mrow><mrow><mn>2</mn><msub><mi>u</mi><mi>k</mi></msub></mrow></mfrac>
<mspace width="1em"/><mo>−</mo><mi>log</mi><msub><mi>m</mi><mi>k</mi></msub><mo>≤</mo><msub><mi>C</mi><mi>k</mi></msub>
</mrow></math>"#;

fn table(d: &FamilyDecomposition) -> impl IntoView {
    decomposition_bars(d)
        .into_iter()
        .enumerate()
        .map(|(i, bar)| {
            let sum: f64 = bar.parts.iter().map(|p| p.value).sum();
            let parts = bar
                .parts
                .iter()
                .map(|p| format!("{} {}", p.name, fmt_signed(p.value, 4)))
                .collect::<Vec<_>>()
                .join("  ");
            view! {
                <tr>
                    <th scope="row">{bar.label.clone()}</th>
                    <td class="parts">{parts}</td>
                    <td data-testid=format!("decomp-sum-{i}") data-value=sum.to_string()>{fmt_fixed(sum, 4)}</td>
                    <td data-testid=format!("decomp-total-{i}") data-value=bar.total.to_string()>{fmt_fixed(bar.total, 4)}</td>
                </tr>
            }
        })
        .collect_view()
}

/// The decomposition panel.
#[component]
pub fn DecompositionView(
    /// The shared app state.
    state: AppState,
) -> impl IntoView {
    let section = NodeRef::<leptos::html::Section>::new();
    let key = deferred(
        use_on_screen(section),
        Memo::new(move |_| (family_key(&state), state.s.get())),
    );
    let data = Memo::new(move |_| {
        let (k, s) = key.get();
        family_from(k).map(|f| dicelens_plot::figure::compute_decomposition(&f, s))
    });
    view! {
        <section class="panel" id="decomposition" aria-labelledby="decomp-title" node_ref=section>
            <h2 id="decomp-title">"Decomposition at the current state"</h2>
            <Badge origin=Origin::Paper note="−log Dice = −log m + region term, and CE's region term KL(u‖ŝ), are the paper's; the three-part CE bars (KL + precision + Jensen gap) are DiceLens's exact identity; the prediction is the logit-shift family (DiceLens's model)." />
            <p class="caption">
                "At the family's prediction with proportion ŝ (the current ŝ, for the current u, κ, σ), "
                "each bar splits a loss into its parts. CE = its region term KL(u‖ŝ) + a precision term + "
                "a Jensen gap, all three ≥ 0. For each class, −log Dice = its matching term −log m (mean "
                "confidence on the true region) + its region term log((u+ŝ)/2u). CE+L1 and CE+KL add λ "
                "times their region term."
            </p>
            <div class="formulas" tabindex="0" role="group" aria-label="Formulas" inner_html=FORMULAS></div>
            {move || data.with(|d| d.as_ref().err().map(|e| view! { <p class="notice">{e.clone()}</p> }))}
            <div class="plot-wrap">
                <PlotCanvas
                    draw=move |area, style| data.with(|d| d.as_ref().ok().and_then(|d| draw_decomposition(area, d, style).ok()))
                    label="Stacked bars of each loss's parts at the current state"
                    testid="plot-decomposition"
                    export=state.exporter(dicelens_plot::figure::ViewId::Decomposition)
                    export_name="dicelens-decomposition"
                    aspect=0.7
                />
            </div>
            <p class="caption claims" data-testid="caption-decomposition" aria-live="polite">
                // The u of the data's own key: off screen the data waits for the input to rest,
                // and the caption must not pair a new u with the old state's bars.
                {move || data.with(|d| d.as_ref().ok().map(|d| paragraph(&decomposition_claims(key.with(|(k, _)| k[0]), d))).unwrap_or_default())}
            </p>
            <p class="plot-alt" data-testid="alt-decomposition">
                {move || data.with(|d| d.as_ref().ok().map(|d| {
                    let f = |v: f64| fmt_fixed(v, 4);
                    format!(
                        "At ŝ = {}: CE = {} = KL {} + precision {} + Jensen gap {}; foreground −log Dice = {} = matching {} + region {}.",
                        fmt_prop(d.classes[1].s_hat), f(d.ce), f(d.kl), f(d.neg_log_precision), f(d.jensen_gap),
                        f(d.classes[1].neg_log_dice), f(d.classes[1].neg_log_m), f(d.classes[1].region)
                    )
                }).unwrap_or_default())}
            </p>
            <table class="readouts decomp">
                <caption>"Each bar's parts, their sum, and the loss computed directly"</caption>
                <thead>
                    <tr>
                        <th scope="col">"loss"</th>
                        <th scope="col">"parts"</th>
                        <th scope="col">"sum of parts"</th>
                        <th scope="col">"loss"</th>
                    </tr>
                </thead>
                <tbody>{move || data.with(|d| d.as_ref().ok().map(table))}</tbody>
            </table>
        </section>
    }
}
