//! What the region terms' temperature `T` does: `ŝ`, `ŝ_T` and the thresholded proportion at the
//! current shift, and CE+L1's / CE+KL's optimum (soft and thresholded) against `T`.

use dicelens_core::claims::paragraph;
use dicelens_core::claims::temperature::temperature_claims;
use dicelens_core::temperature::{temperature_curves, TemperatureView, T_POINTS};
use dicelens_core::FamilyLoss;
use dicelens_plot::family::family_label;
use dicelens_plot::figure::{compute_temperature_here, family_params, ViewId, ViewParams};
use dicelens_plot::temperature::draw_temperature;
use leptos::prelude::*;

use crate::state::AppState;
use crate::widgets::badge::{Badge, Origin};
use crate::widgets::deferred::{deferred, lagged, use_on_screen, Delay};
use crate::widgets::plot_canvas::PlotCanvas;

const FORMULAS: &str = r#"<math display="block"><mrow>
<msub><mover><mi>s</mi><mo>^</mo></mover><mi>T</mi></msub><mo>=</mo><mi mathvariant="double-struck">E</mi><mo>[</mo><mi>σ</mi><mo>(</mo><mi>T</mi><msub><mi>z</mi><mi>i</mi></msub><mo>)</mo><mo>]</mo>
<mo>,</mo><mspace width="0.6em"/>
<mtext>thresholded proportion</mtext><mo>=</mo><mi>u</mi><mi>Φ</mi><mo>(</mo><mfrac><mrow><mi>κ</mi><mo>+</mo><mi>b</mi></mrow><mi>σ</mi></mfrac><mo>)</mo><mo>+</mo><mo>(</mo><mn>1</mn><mo>−</mo><mi>u</mi><mo>)</mo><mi>Φ</mi><mo>(</mo><mfrac><mrow><mi>b</mi><mo>−</mo><mi>κ</mi></mrow><mi>σ</mi></mfrac><mo>)</mo>
</mrow></math>
<math display="block"><mrow>
<msub><mi>L</mi><mrow><mi>CE</mi><mo>+</mo><mi>L1</mi></mrow></msub><mo>=</mo><mi>CE</mi><mo>+</mo><mi>λ</mi><mo>|</mo><msub><mover><mi>s</mi><mo>^</mo></mover><mi>T</mi></msub><mo>−</mo><mi>u</mi><mo>|</mo>
<mo>,</mo><mspace width="0.6em"/>
<msub><mi>L</mi><mrow><mi>CE</mi><mo>+</mo><mi>KL</mi></mrow></msub><mo>=</mo><mi>CE</mi><mo>+</mo><mi>λ</mi><mi>KL</mi><mo>(</mo><mi>u</mi><mo>‖</mo><msub><mover><mi>s</mi><mo>^</mo></mover><mi>T</mi></msub><mo>)</mo>
</mrow></math>"#;

/// The view state the temperature view reads (tracked).
fn params(state: &AppState) -> ViewParams {
    ViewParams {
        u: state.u.get(),
        s: state.s.get(),
        kappa: state.kappa.get(),
        sigma: state.sigma.get(),
        lambda: state.lambda.get(),
        temp: state.temp.get(),
        ..ViewParams::default()
    }
}

fn cell(testid: String, v: f64, text: String) -> impl IntoView {
    view! { <td data-testid=testid data-value=v.to_string()>{text}</td> }
}

/// The temperature panel.
#[component]
pub fn TemperatureView(
    /// The shared app state.
    state: AppState,
) -> impl IntoView {
    let section = NodeRef::<leptos::html::Section>::new();
    let on_screen = use_on_screen(section);
    let live = Memo::new(move |_| params(&state));
    let key = deferred(on_screen, live);
    // At the current ŝ and T: a shift, two optimizations; drawn with the input.
    let here = Memo::new(move |_| compute_temperature_here(&key.get()));
    // Along T: 2 × T_POINTS full optimizations, on the animation frame after the input (off
    // screen: once the sliders rest), so a slider drag does not stall. Independent of ŝ and T.
    let curves_key = lagged(
        on_screen,
        Memo::new(move |_| {
            let p = live.get();
            [p.u, p.kappa, p.sigma, p.lambda]
        }),
        Some(Delay::Frame),
        Delay::Quiet(150),
    );
    let curves = Memo::new(move |_| {
        let [u, kappa, sigma, lambda] = curves_key.get();
        let p = ViewParams {
            u,
            kappa,
            sigma,
            lambda,
            ..ViewParams::default()
        };
        temperature_curves(&family_params(&p), T_POINTS).map_err(|e| e.to_string())
    });
    let caption = move || {
        here.with(|h| match h {
            Ok(h) => paragraph(&temperature_claims(h)),
            Err(e) => e.clone(),
        })
    };
    let rows = move || {
        here.with(|h| {
            let Ok(h) = h else { return Vec::new() };
            [FamilyLoss::Ce, FamilyLoss::CeL1, FamilyLoss::CeKl]
                .into_iter()
                .filter_map(|l| h.optimum(l).map(|o| (l, o)))
                .map(|(l, o)| {
                    view! {
                        <tr>
                            <th scope="row">{family_label(l)}</th>
                            {cell(format!("temp-soft-{}", l.key()), o.soft, format!("{:.3}×", o.soft))}
                            {cell(format!("temp-hard-{}", l.key()), o.hard, format!("{:.3}×", o.hard))}
                        </tr>
                    }
                })
                .collect::<Vec<_>>()
        })
    };
    let props = move || {
        here.with(|h| {
            h.as_ref().ok().map(|h| {
                view! {
                    <tr>
                        <th scope="row">"at the current ŝ"</th>
                        {cell("temp-s-t".into(), h.s_t, format!("ŝ_T = {:.4}", h.s_t))}
                        {cell("temp-hard".into(), h.hard, format!("thresholded = {:.4}", h.hard))}
                    </tr>
                }
            })
        })
    };
    view! {
        <section class="panel" id="temperature" aria-labelledby="temperature-title" node_ref=section>
            <h2 id="temperature-title">"What the temperature T does"</h2>
            <Badge
                origin=Origin::Model
                note="The logit-shift family and the thresholded proportion are DiceLens's model; T and λ are the authors' CE+L1 / CE+KL settings (their code's default T = 1; every CE+L1 configuration they ship uses T = 10, λ = 1)."
            />
            <p class="caption" data-testid="caption-temperature">{caption}</p>
            <div class="formulas" inner_html=FORMULAS></div>
            {move || here.with(|d| d.as_ref().err().map(|e| view! { <p class="notice">{e.clone()}</p> }))}
            <div class="plot-wrap">
                <PlotCanvas
                    draw=move |area, style| {
                        here.with(|h| {
                            curves.with(|c| match (h, c) {
                                (Ok(h), Ok(c)) => {
                                    let v = TemperatureView { here: h.clone(), curves: c.clone() };
                                    draw_temperature(area, &v, style).ok()
                                }
                                _ => None,
                            })
                        })
                    }
                    label="Left (top on a narrow screen): soft, sharpened and thresholded proportion at the current shift against T. Right (bottom): the optimum of CE+L1 and CE+KL as a ratio to u against T, soft and thresholded, with CE's as reference."
                    testid="plot-temperature"
                    compact_aspect=1.7
                    export=state.exporter(ViewId::Temperature)
                    export_name="dicelens-temperature"
                />
            </div>
            <table class="readouts">
                <thead>
                    <tr><th scope="col">"at the current T"</th><th scope="col">"soft ŝ*/u"</th><th scope="col">"thresholded / u"</th></tr>
                </thead>
                <tbody>{rows}{props}</tbody>
            </table>
        </section>
    }
}
