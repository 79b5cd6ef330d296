//! The gradients view: what each loss pushes, one pixel's `N·∂L/∂z` against `u`.

use dicelens_core::claims::gradients::fmt_grad;
use dicelens_core::claims::paragraph;
use dicelens_core::{pixel_gradients, FamilyLoss};
use dicelens_plot::family::{family_label, family_style};
use dicelens_plot::figure::{compute_gradients, ViewId, ViewParams};
use dicelens_plot::fmt_prop;
use dicelens_plot::gradients::draw_gradients;
use leptos::prelude::*;

use crate::state::AppState;
use crate::widgets::badge::{Badge, Origin};
use crate::widgets::deferred::{deferred, use_on_screen};
use crate::widgets::plot_canvas::PlotCanvas;
use crate::widgets::slider::ParamSlider;

/// CE's and foreground Dice's gradient for pixel `i` (static MathML).
const FORMULAS: &str = r#"<math display="block"><mrow>
<mi>CE</mi><mo>:</mo><mspace width="0.5em"/>
<mi>N</mi><mfrac><mrow><mo>∂</mo><mi>L</mi></mrow><mrow><mo>∂</mo><msub><mi>z</mi><mi>i</mi></msub></mrow></mfrac>
<mo>=</mo><msub><mi>s</mi><mi>i</mi></msub><mo>−</mo><msub><mi>y</mi><mi>i</mi></msub>
</mrow></math><math display="block"><mrow>
<mtext>Dice (foreground)</mtext><mo>:</mo><mspace width="0.5em"/>
<mi>N</mi><mfrac><mrow><mo>∂</mo><mi>L</mi></mrow><mrow><mo>∂</mo><msub><mi>z</mi><mi>i</mi></msub></mrow></mfrac>
<mo>=</mo><mo>−</mo><mfrac><mrow><mn>2</mn><mo>(</mo><msub><mi>y</mi><mi>i</mi></msub><mo>(</mo><mi>S</mi><mo>+</mo><mi>Y</mi><mo>)</mo><mo>−</mo><mi>I</mi><mo>)</mo></mrow><msup><mrow><mo>(</mo><mi>S</mi><mo>+</mo><mi>Y</mi><mo>)</mo></mrow><mn>2</mn></msup></mfrac>
<msub><mi>s</mi><mi>i</mi></msub><mo>(</mo><mn>1</mn><mo>−</mo><msub><mi>s</mi><mi>i</mi></msub><mo>)</mo>
</mrow></math><math display="block"><mrow>
<mi>Y</mi><mo>=</mo><mi>u</mi><mo>,</mo><mspace width="0.5em"/>
<mi>S</mi><mo>=</mo><mi>u</mi><msub><mi>p</mi><mtext>fg</mtext></msub><mo>+</mo><mo>(</mo><mn>1</mn><mo>−</mo><mi>u</mi><mo>)</mo><msub><mi>p</mi><mtext>bg</mtext></msub><mo>,</mo><mspace width="0.5em"/>
<mi>I</mi><mo>=</mo><mi>u</mi><msub><mi>p</mi><mtext>fg</mtext></msub>
</mrow></math>"#;

/// The gradients panel.
#[component]
pub fn GradientsView(
    /// The shared app state.
    state: AppState,
) -> impl IntoView {
    let section = NodeRef::<leptos::html::Section>::new();
    let key = deferred(
        use_on_screen(section),
        Memo::new(move |_| {
            [
                state.u.get(),
                state.lambda.get(),
                state.temp.get(),
                state.grad_pfg.get(),
                state.grad_pbg.get(),
            ]
        }),
    );
    // The same parameters `dicelens figure gradients` and `dicelens grad` build.
    let params = Memo::new(move |_| {
        let [u, lambda, temp, pfg, pbg] = key.get();
        ViewParams {
            u,
            lambda,
            temp,
            pfg,
            pbg,
            ..ViewParams::default()
        }
    });
    let curves = Memo::new(move |_| params.with(compute_gradients));
    let now = Memo::new(move |_| {
        params.with(|p| pixel_gradients(p.grad_params()).map_err(|e| e.to_string()))
    });
    let caption = Memo::new(move |_| {
        params.with(|p| {
            // The sentences `dicelens explain --view gradients` prints.
            dicelens_plot::explain::explain(ViewId::Gradients, p)
                .map(|c| paragraph(&c))
                .unwrap_or_else(|e| e)
        })
    });
    let cell = move |loss: FamilyLoss, v: f64, side: &str| {
        let text = if v.is_finite() {
            fmt_grad(v)
        } else {
            "—".to_string()
        };
        view! {
            <td data-testid=format!("grad-{}-{side}", loss.key()) data-value=v.to_string()>{text}</td>
        }
    };
    let rows = move || {
        now.with(|g| {
            let Ok(g) = g else { return Vec::new() };
            g.iter()
                .map(|&(loss, [fg, bg])| {
                    let c = family_style(loss).color;
                    view! {
                        <tr>
                            <th scope="row">
                                <span class="swatch" style=format!("background:#{:02x}{:02x}{:02x}", c.0, c.1, c.2)></span>
                                {family_label(loss)}
                            </th>
                            {cell(loss, fg, "fg")}
                            {cell(loss, bg, "bg")}
                        </tr>
                    }
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        <section class="panel" id="gradients" aria-labelledby="grad-title" node_ref=section>
            <h2 id="grad-title">"Gradients: what each loss pushes"</h2>
            <Badge
                origin=Origin::Model
                note="The gradients are the paper's losses differentiated exactly; the two-value image (every foreground pixel predicts p_fg, every background pixel p_bg) is DiceLens's model."
            />
            <p class="caption">
                "A binary image: a fraction u of its N pixels is foreground, every foreground pixel "
                "predicts p_fg and every background pixel p_bg. The plot shows N·∂L/∂z, the gradient "
                "of each loss with respect to one pixel's logit times the pixel count, for a "
                "foreground pixel (left) and a background pixel (right), over u on a log axis; the "
                "dashed line is the current u. A negative value means gradient descent raises that "
                "pixel's logit (toward foreground), a positive one lowers it."
            </p>
            <p class="caption" data-testid="caption-gradients">{move || caption.get()}</p>
            <div class="formulas" tabindex="0" role="group" aria-label="Formulas" inner_html=FORMULAS></div>
            <div class="controls-inline">
                <ParamSlider key="pfg" value=state.grad_pfg id="pfg-slider" />
                <ParamSlider key="pbg" value=state.grad_pbg id="pbg-slider" />
            </div>
            {move || curves.with(|d| d.as_ref().err().map(|e| view! { <p class="notice">{e.clone()}</p> }))}
            <div class="plot-wrap">
                <PlotCanvas
                    draw=move |area, style| {
                        curves.with(|d| {
                            if let Ok(d) = d {
                                let _ = draw_gradients(area, d, style);
                            }
                        });
                        None
                    }
                    label="Each loss's gradient times the pixel count, for a foreground and a background pixel, against the foreground proportion u"
                    testid="plot-gradients"
                    export=state.exporter(ViewId::Gradients)
                    export_name="dicelens-gradients"
                    aspect=0.5
                    compact_aspect=1.7
                />
            </div>
            <p class="plot-alt" data-testid="alt-gradients">
                {move || now.with(|g| g.as_ref().ok().map(|g| {
                    let at = |l: FamilyLoss, j: usize| g.iter().find(|x| x.0 == l).map(|x| fmt_grad(x.1[j])).unwrap_or_default();
                    format!(
                        "At u = {}: a foreground pixel's N·∂L/∂z is {} under CE and {} under foreground Dice; a background pixel's is {} and {}.",
                        fmt_prop(params.with(|p| p.u)),
                        at(FamilyLoss::Ce, 0), at(FamilyLoss::DiceFg, 0),
                        at(FamilyLoss::Ce, 1), at(FamilyLoss::DiceFg, 1),
                    )
                }).unwrap_or_default())}
            </p>
            <table class="readouts">
                <caption>"N·∂L/∂z at the current u for one foreground and one background pixel"</caption>
                <thead>
                    <tr>
                        <th scope="col">"loss"</th>
                        <th scope="col">"foreground pixel"</th>
                        <th scope="col">"background pixel"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}
