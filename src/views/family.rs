//! View 2: the full losses along the logit-shift family, with each loss's minimizer.

use dicelens_core::sweep::{minimize_on_by, sweep, sweep_by, FamilySweep, Refine};
use dicelens_core::{Family, FamilyLoss};
use dicelens_plot::family::{draw_family, family_label, family_style, FamilyPlotOptions};
use dicelens_plot::figure::shown_range;
use dicelens_plot::fmt_fixed;
use dicelens_plot::fmt_prop;
use leptos::prelude::*;

use crate::state::AppState;
use crate::widgets::badge::{Badge, Origin};
use crate::widgets::deferred::{
    deferred, lagged, readouts, use_on_screen, use_readouts_seen, Delay,
};
use crate::widgets::plot_canvas::PlotCanvas;
use dicelens_core::claims::paragraph;
use dicelens_plot::explain::family_claims;

const FORMULAS: &str = r#"<math display="block"><mrow>
<msub><mi>z</mi><mi>i</mi></msub><mo>=</mo><mi>κ</mi><mo>(</mo><mn>2</mn><msub><mi>y</mi><mi>i</mi></msub><mo>−</mo><mn>1</mn><mo>)</mo><mo>+</mo><mi>σ</mi><msub><mi>ε</mi><mi>i</mi></msub><mo>+</mo><mi>b</mi>
<mo>,</mo><mspace width="0.6em"/><msub><mi>ε</mi><mi>i</mi></msub><mo>∼</mo><mi mathvariant="script">N</mi><mo>(</mo><mn>0</mn><mo>,</mo><mn>1</mn><mo>)</mo>
<mo>,</mo><mspace width="0.6em"/><mover><mi>s</mi><mo>^</mo></mover><mo>(</mo><mi>b</mi><mo>)</mo><mo>=</mo><mi mathvariant="double-struck">E</mi><mo>[</mo><mi>σ</mi><mo>(</mo><msub><mi>z</mi><mi>i</mi></msub><mo>)</mo><mo>]</mo>
</mrow></math>
<math display="block"><mrow>
<msubsup><mover><mi>s</mi><mo>^</mo></mover><mi>CE</mi><mo>*</mo></msubsup><mo>=</mo><mi>u</mi>
<mspace width="0.6em"/><mtext>because</mtext><mspace width="0.6em"/>
<mfrac><mrow><mo>∂</mo><mi>CE</mi></mrow><mrow><mo>∂</mo><mi>b</mi></mrow></mfrac><mo>=</mo><mover><mi>s</mi><mo>^</mo></mover><mo>−</mo><mi>u</mi>
</mrow></math>"#;

/// The family's parameters `[u, κ, σ, λ, T]` of the shared state (tracked).
pub fn family_key(state: &AppState) -> [f64; 5] {
    [
        state.u.get(),
        state.kappa.get(),
        state.sigma.get(),
        state.lambda.get(),
        state.temp.get(),
    ]
}

/// The family of `[u, κ, σ, λ, T]`, or why it is invalid.
pub fn family_from([u, kappa, sigma, lambda, temp]: [f64; 5]) -> Result<Family, String> {
    Family::new(dicelens_core::FamilyParams {
        u,
        kappa,
        sigma,
        lambda,
        temp,
        ..dicelens_core::FamilyParams::default()
    })
    .map_err(|e| e.to_string())
}

fn describe(sw: &FamilySweep) -> String {
    let at = |l| {
        sw.minimizer(l)
            .map(|m| fmt_prop(m.s_hat))
            .unwrap_or_default()
    };
    format!(
        "With u = {}, CE is smallest at ŝ = {}, foreground Dice at ŝ = {}, two-class Dice at ŝ = {}, \
         log-Dice at ŝ = {}, Dice+CE at ŝ = {}, CE+L1 at ŝ = {} and CE+KL at ŝ = {}.",
        fmt_prop(sw.u),
        at(FamilyLoss::Ce),
        at(FamilyLoss::DiceFg),
        at(FamilyLoss::DiceMean),
        at(FamilyLoss::LogDiceFg),
        at(FamilyLoss::DiceCe),
        at(FamilyLoss::CeL1),
        at(FamilyLoss::CeKl),
    )
}

/// The family panel.
#[component]
pub fn FamilyView(
    /// The shared app state.
    state: AppState,
) -> impl IntoView {
    let section = NodeRef::<leptos::html::Section>::new();
    let live = Memo::new(move |_| family_key(&state));
    let on_screen = use_on_screen(section);
    let key = deferred(on_screen, live);
    // Two passes while a slider moves: a preview (48 points, each optimum the vertex of the
    // parabola through its grid neighbours: about a third of the work) drawn with the input,
    // and the exact sweep (120 points, Brent-refined optima) on the animation frame after the
    // input rests (`deferred::REST_MS`), or off screen once the sliders rest for 150 ms: while
    // a slider is dragged, frames draw previews only.
    let exact_key = lagged(on_screen, live, Some(Delay::Frame), Delay::Quiet(150));
    let preview = Memo::new(move |_| {
        family_from(key.get()).map(|f| {
            let (lo, hi) = shown_range(f.params().u);
            (f.params(), sweep_by(&f, lo, hi, 48, Refine::Parabola))
        })
    });
    let exact = Memo::new(move |_| {
        family_from(exact_key.get()).map(|f| {
            let (lo, hi) = shown_range(f.params().u);
            (
                f.params(),
                sweep(&f, lo, hi, dicelens_plot::figure::FAMILY_POINTS),
            )
        })
    });
    // The exact pass once it has caught up with what the view shows, else the preview.
    let refine = Memo::new(move |_| {
        if exact_key.get() == key.get() {
            Refine::Brent
        } else {
            Refine::Parabola
        }
    });
    let data = Memo::new(move |_| match refine.get() {
        Refine::Brent => exact.get(),
        Refine::Parabola => preview.get(),
    });
    // The caption, text alternative and table below the plot: live while on screen, and
    // once the input rests while off screen (`deferred::use_readouts_seen`).
    let block = NodeRef::<leptos::html::Div>::new();
    let (shown, behind) = readouts(
        use_readouts_seen(block),
        Memo::new(move |_| (data.get(), refine.get(), state.s.get())),
        // The sweep itself waits: off screen for the input to rest, then the exact pass.
        move || refine.get() != Refine::Brent || live.with(|l| key.with(|k| l != k)),
    );
    // The selected library preset's training loss (its Dice, plus CE for nnU-Net).
    let preset_opt = Memo::new(move |_| {
        let conv = state.preset.get();
        shown.with(|(d, refine, _)| {
            let refine = *refine;
            d.as_ref().ok().and_then(|(p, sw)| {
                let f = Family::new(*p).ok()?;
                minimize_on_by(&f, &sw.points, &|pt| f.training_loss_with(conv, pt), refine)
            })
        })
    });
    // Loss values at the current ŝ.
    let at_s = Memo::new(move |_| {
        shown.with(|(d, _, s)| {
            let s = *s;
            d.as_ref()
                .ok()
                .and_then(|(p, _)| Family::new(*p).ok())
                .map(|f| {
                    let pt = f.at(dicelens_core::sweep::shift_for_fast(
                        &f,
                        s.clamp(1e-6, 1.0 - 1e-6),
                    ));
                    FamilyLoss::ALL
                        .iter()
                        .map(|&l| (l, f.loss(l, &pt)))
                        .collect::<Vec<_>>()
                })
        })
    });
    let snippet = move || {
        dicelens_core::pytorch::pytorch_snippet(
            state.preset.get(),
            state.lambda.get(),
            state.temp.get(),
        )
    };
    let copy_status = RwSignal::new(String::new());
    let frame = RwSignal::new_local(None::<dicelens_plot::PlotFrame>);
    let rows = move || {
        shown.with(|(d, _, _)| {
            let Ok((_, sw)) = d else {
                return Vec::new();
            };
            let here = at_s.get().unwrap_or_default();
            FamilyLoss::ALL
                .iter()
                .filter_map(|&l| sw.minimizer(l).map(|m| (l, m)))
                .map(|(l, m)| {
                    let c = family_style(l).color;
                    let v = here.iter().find(|x| x.0 == l).map(|x| x.1).unwrap_or(f64::NAN);
                    view! {
                        <tr>
                            <th scope="row">
                                <span class="swatch" style=format!("background:#{:02x}{:02x}{:02x}", c.0, c.1, c.2)></span>
                                {family_label(l)}
                            </th>
                            <td data-testid=format!("opt-{}", l.key()) data-value=m.s_hat.to_string()>
                                {fmt_fixed(m.s_hat, 4)}
                            </td>
                            <td data-testid=format!("ratio-{}", l.key()) data-value=m.ratio.to_string()>
                                {format!("{:.2}×", m.ratio)}
                            </td>
                            <td data-testid=format!("value-{}", l.key()) data-value=v.to_string()>
                                {if v.is_finite() { fmt_fixed(v, 4) } else { "—".into() }}
                            </td>
                        </tr>
                    }
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        <section class="panel" id="family" aria-labelledby="family-title" node_ref=section>
            <h2 id="family-title">"Full losses along the logit-shift family"</h2>
            <Badge origin=Origin::Model note="The logit-shift family is DiceLens's construction to make the paper's terms visible; the losses on it are the paper's, with the same conventions as PyTorch and MONAI." />
            <p class="caption">
                "Every pixel's logit is its class signal ±κ plus Gaussian noise σ, plus a shift b that sweeps "
                "the predicted foreground proportion ŝ from 0 to 1. Each loss, evaluated over the whole family, "
                "has a best shift, marked on its curve."
            </p>
            <div class="formulas" tabindex="0" role="group" aria-label="Formulas" inner_html=FORMULAS></div>
            <label class="toggle">
                <input
                    type="checkbox"
                    data-testid="normalized"
                    prop:checked=move || state.normalized.get()
                    on:change=move |ev| state.normalized.set(event_target_checked(&ev))
                />
                " normalise each curve to [0, 1] so the shapes compare (off: raw loss values)"
            </label>
            {move || data.with(|d| d.as_ref().err().map(|e| view! { <p class="notice">{e.clone()}</p> }))}
            <div class="plot-wrap">
                <PlotCanvas
                    draw=move |area, style| {
                        let normalized = state.normalized.get();
                        data.with(|d| {
                            d.as_ref().ok().and_then(|(_, sw)| {
                                draw_family(area, sw, FamilyPlotOptions { normalized, current_s: None }, style).ok()
                            })
                        })
                    }
                    frame=frame
                    // The x axis is log10 ŝ; outside the shown range, no line.
                    cursor=Signal::derive_local(move || {
                        let s = state.s.get();
                        // (log10 of 0 is −∞, outside every range: no line.)
                        frame.get().and_then(|f| f.vertical_at(s.log10()))
                    })
                    cursor_solid=true
                    label="Plot of every loss against the predicted proportion along the family"
                    testid="plot-family"
                    export=state.exporter(dicelens_plot::figure::ViewId::Family)
                    export_name="dicelens-family"
                />
            </div>
            <div class="readouts-block" node_ref=block aria-busy=move || behind.get().then_some("true")>
            <p class="caption claims" data-testid="caption-family" aria-live="polite">
                {move || shown.with(|(d, _, _)| d.as_ref().ok().and_then(|(p, sw)| {
                    let f = Family::new(*p).ok()?;
                    Some(paragraph(&family_claims(&f, sw)))
                }).unwrap_or_default())}
            </p>
            <p class="plot-alt" data-testid="alt-family">
                {move || shown.with(|(d, _, _)| d.as_ref().map(|(_, sw)| describe(sw)).unwrap_or_default())}
            </p>
            // `data-pass`: "preview" for the frame between a slider move and the exact pass.
            <table class="readouts" data-testid="family-optima"
                data-pass=move || if shown.with(|k| k.1) == Refine::Brent { "exact" } else { "preview" }>
                <caption>
                    "Each loss's optimum ŝ* and its bias ŝ*/u; loss value at the current ŝ = "
                    {move || fmt_prop(shown.with(|k| k.2))}
                </caption>
                <thead>
                    <tr>
                        <th scope="col">"loss"</th>
                        <th scope="col">"optimum ŝ*"</th>
                        <th scope="col">"bias ŝ*/u"</th>
                        <th scope="col">"value at current ŝ"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows}
                    <tr class="preset-row">
                        <th scope="row">
                            {move || format!("preset: {} (training loss)", state.preset.get().label())}
                        </th>
                        <td data-testid="opt-preset" data-value=move || preset_opt.get().map(|m| m.s_hat).unwrap_or(f64::NAN).to_string()>
                            {move || preset_opt.get().map(|m| fmt_fixed(m.s_hat, 4)).unwrap_or_else(|| "—".into())}
                        </td>
                        <td data-testid="ratio-preset">
                            {move || preset_opt.get().map(|m| format!("{:.2}×", m.ratio)).unwrap_or_else(|| "—".into())}
                        </td>
                        <td>"—"</td>
                    </tr>
                </tbody>
            </table>
            </div>
            <details class="pytorch">
                <summary>"These losses in PyTorch (for the selected preset, λ and T)"</summary>
                <pre data-testid="pytorch-snippet" tabindex="0" aria-label="PyTorch code"><code>{snippet}</code></pre>
                <button type="button" data-testid="copy-pytorch"
                    on:click=move |_| crate::hooks::copy(snippet(), copy_status, "PyTorch code")>
                    "Copy as PyTorch"
                </button>
                <span class="hint" role="status">{move || copy_status.get()}</span>
            </details>
        </section>
    }
}
