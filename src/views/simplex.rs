//! View 4: three classes on the simplex, with draggable `u` and `ŝ`.

use dicelens_core::{simplex_view, SimplexTerm};
use dicelens_plot::fmt_fixed;
use dicelens_plot::{draw_simplex, simplex_style, SimplexFrame};
use leptos::prelude::*;

use crate::widgets::badge::{Badge, Origin};

use crate::state::{fmt_triple, parse_triple, AppState};
use crate::widgets::plot_canvas::PlotCanvas;

const FORMULAS: &str = r#"<math display="block"><mrow>
<mi>KL</mi><mo>(</mo><mi>u</mi><mo>‖</mo><mover><mi>s</mi><mo>^</mo></mover><mo>)</mo><mo>=</mo><munder><mo>∑</mo><mi>k</mi></munder><msub><mi>u</mi><mi>k</mi></msub><mi>log</mi><mfrac><msub><mi>u</mi><mi>k</mi></msub><msub><mover><mi>s</mi><mo>^</mo></mover><mi>k</mi></msub></mfrac>
</mrow></math><math display="block"><mrow>
<msub><mi>R</mi><mi>Dice</mi></msub><mo>=</mo><mfrac><mn>1</mn><mn>3</mn></mfrac><munder><mo>∑</mo><mi>k</mi></munder><mi>log</mi><mfrac><mrow><msub><mi>u</mi><mi>k</mi></msub><mo>+</mo><msub><mover><mi>s</mi><mo>^</mo></mover><mi>k</mi></msub></mrow><mrow><mn>2</mn><msub><mi>u</mi><mi>k</mi></msub></mrow></mfrac>
</mrow></math><math display="block"><mrow>
<msub><mi>R</mi><mi>L1</mi></msub><mo>=</mo><mfrac><mn>1</mn><mn>3</mn></mfrac><munder><mo>∑</mo><mi>k</mi></munder><mo>|</mo><msub><mover><mi>s</mi><mo>^</mo></mover><mi>k</mi></msub><mo>−</mo><msub><mi>u</mi><mi>k</mi></msub><mo>|</mo>
</mrow></math>"#;

fn fmt3(v: [f64; 3]) -> String {
    format!("({:.3}, {:.3}, {:.3})", v[0], v[1], v[2])
}

/// A typed field for a triple of proportions (renormalised; a message when unusable).
#[component]
fn TripleField(
    /// The value.
    value: RwSignal<[f64; 3]>,
    /// Label.
    #[prop(into)]
    label: String,
    /// Id and `data-testid`.
    #[prop(into)]
    id: String,
) -> impl IntoView {
    let message = RwSignal::new(String::new());
    view! {
        <div class="slider-row">
            <label for=id.clone()>{label}</label>
            <input
                type="text"
                class="num triple"
                id=id.clone()
                data-testid=id.clone()
                inputmode="decimal"
                prop:value=move || fmt_triple(value.get())
                on:change=move |ev| {
                    let raw = event_target_value(&ev);
                    let mut notes = Vec::new();
                    let v = parse_triple("value", &raw, value.get_untracked(), &mut notes);
                    message.set(notes.join(" "));
                    value.set(v);
                }
            />
            <span class="field-msg" role="status" aria-live="polite">{move || message.get()}</span>
        </div>
    }
}

/// The three-class panel.
#[component]
pub fn SimplexView(
    /// The shared app state.
    state: AppState,
) -> impl IntoView {
    let data = Memo::new(move |_| {
        {
            let (cells, levels) = dicelens_plot::figure::SIMPLEX_GRID;
            simplex_view(
                state.term.get(),
                state.u3.get(),
                state.s3.get(),
                cells,
                levels,
            )
        }
        .map_err(|e| e.to_string())
    });
    let frame = StoredValue::new_local(None::<SimplexFrame>);
    // Where u and ŝ were drawn, in CSS pixels of the canvas: exposed as data attributes for
    // course-page scripts and tests that drag them.
    let marks = RwSignal::new(String::new());
    // Which point a drag moves: the one nearer to where it started.
    let dragging_u = StoredValue::new(false);
    let drag = Callback::new(move |(px, py, pressed): (f64, f64, bool)| {
        let Some(f) = frame.get_value() else { return };
        if pressed {
            let dist = |b: [f64; 3]| {
                let (x, y) = f.pixel(b);
                (x - px).hypot(y - py)
            };
            dragging_u.set_value(dist(state.u3.get_untracked()) < dist(state.s3.get_untracked()));
        }
        let b = f.bary_at(px, py);
        // Keep u strictly inside: an empty class makes Dice's term unbounded.
        if dragging_u.get_value() {
            let b = b.map(|v| v.max(0.002));
            let sum: f64 = b.iter().sum();
            state.u3.set(b.map(|v| crate::state::round_sig(v / sum)));
        } else {
            state.s3.set(b.map(crate::state::round_sig));
        }
    });
    let rows = move || {
        data.with(|d| {
            let Ok(d) = d else { return Vec::new() };
            d.minima
                .iter()
                .map(|&(t, m, v)| {
                    let at = d.values.iter().find(|x| x.0 == t).map(|x| x.1).unwrap_or(f64::NAN);
                    let c = simplex_style(t).color;
                    view! {
                        <tr>
                            <th scope="row">
                                <span class="swatch" style=format!("background:#{:02x}{:02x}{:02x}", c.0, c.1, c.2)></span>
                                {t.label()}
                            </th>
                            <td data-testid=format!("min3-{}", t.key()) data-value=fmt_triple(m)>{fmt3(m)}</td>
                            <td data-testid=format!("minval3-{}", t.key())>
                                {if v.is_finite() { fmt_fixed(v, 4) } else { "−∞".into() }}
                            </td>
                            <td data-testid=format!("at3-{}", t.key())>
                                {if at.is_finite() { fmt_fixed(at, 4) } else { "∞".into() }}
                            </td>
                        </tr>
                    }
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        <section class="panel" id="simplex" aria-labelledby="simplex-title">
            <h2 id="simplex-title">"Three classes on the simplex"</h2>
            <Badge origin=Origin::Paper note="The region terms on the simplex and where they are smallest (a vertex for Dice, the truth for KL) are the paper's analysis." />
            <p class="caption">
                "Every point of the triangle is a set of class proportions (the corners are \"all class 0\", "
                "\"all class 1\", \"all class 2\"). The colours show the selected region term over every "
                "possible prediction ŝ. CE's KL term is a bowl centred on the truth u; Dice's term is "
                "concave, so its lowest point is a corner: the prediction that gives everything to the "
                "largest class. Drag the white point (u) or the black point (ŝ)."
            </p>
            <div class="formulas" tabindex="0" role="group" aria-label="Formulas" inner_html=FORMULAS></div>
            <fieldset class="term-choice">
                <legend>"heat map of"</legend>
                {SimplexTerm::ALL
                    .into_iter()
                    .map(|t| {
                        view! {
                            <label>
                                <input
                                    type="radio"
                                    name="simplex-term"
                                    data-testid=format!("term-{}", t.key())
                                    prop:checked=move || state.term.get() == t
                                    on:change=move |_| state.term.set(t)
                                />
                                {t.label()}
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
            <TripleField value=state.u3 label="ground-truth proportions u (classes 0, 1, 2)" id="u3-field" />
            <TripleField value=state.s3 label="predicted proportions ŝ (classes 0, 1, 2)" id="s3-field" />
            {move || data.with(|d| d.as_ref().err().map(|e| view! { <p class="notice">{e.clone()}</p> }))}
            <div class="plot-wrap simplex-wrap" data-testid="simplex-marks" data-marks=move || marks.get()>
                <PlotCanvas
                    draw=move |area, style| {
                        data.with(|d| {
                            d.as_ref().ok().and_then(|d| draw_simplex(area, d, style).ok().map(|f| (d, f))).map(|(d, f)| {
                                frame.set_value(Some(f));
                                let (ux, uy) = f.pixel(d.u);
                                let (sx, sy) = f.pixel(d.s);
                                let k = style.scale;
                                marks.set(format!("{:.1},{:.1},{:.1},{:.1}", ux / k, uy / k, sx / k, sy / k));
                                dicelens_plot::PlotFrame { x: (0.0, 1.0), y: (0.0, 1.0), pixels: (0, 0, 1, 1) }
                            })
                        })
                    }
                    label="Triangle of three-class proportions coloured by the selected region term, with draggable points for the truth and the prediction"
                    testid="plot-simplex"
                    export=state.exporter(dicelens_plot::figure::ViewId::Simplex)
                    export_name="dicelens-simplex"
                    aspect=0.8
                    on_drag_xy=drag
                />
            </div>
            <p class="plot-alt" data-testid="alt-simplex">
                {move || data.with(|d| d.as_ref().ok().map(|d| {
                    let m = |t: SimplexTerm| d.minima.iter().find(|x| x.0 == t).map(|x| fmt3(x.1)).unwrap_or_default();
                    format!(
                        "Truth u = {}, prediction ŝ = {}. KL is smallest at {} (the truth), Dice's region term at {} (a corner), L1 at {}.",
                        fmt3(d.u), fmt3(d.s), m(SimplexTerm::Kl), m(SimplexTerm::Dice), m(SimplexTerm::L1)
                    )
                }).unwrap_or_default())}
            </p>
            <table class="readouts">
                <caption>"Each term's minimizer, its minimum, and its value at the current ŝ"</caption>
                <thead>
                    <tr>
                        <th scope="col">"term"</th>
                        <th scope="col">"minimizer ŝ*"</th>
                        <th scope="col">"minimum"</th>
                        <th scope="col">"value at ŝ"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}
