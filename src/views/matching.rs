//! The shared matching term: CE's and Dice's matching terms are the same per-class terms
//! `C_k`, weighted by frequency (CE) or equally (Dice's Jensen bound = CE with weights 1/u_k).

use dicelens_core::claims::matching::matching_claims;
use dicelens_core::claims::paragraph;
use dicelens_core::MatchingView;
use dicelens_plot::draw_matching;
use dicelens_plot::figure::{compute_matching, ViewId, ViewParams};
use dicelens_plot::fmt_fixed;
use leptos::prelude::*;

use crate::state::{fmt_triple, AppState};
use crate::widgets::badge::{Badge, Origin};
use crate::widgets::deferred::{deferred, use_on_screen};
use crate::widgets::plot_canvas::PlotCanvas;
use crate::widgets::slider::{SliderField, STEPS};

const FORMULAS: &str = r#"<math display="block"><mrow>
<mi>CE</mi><mo>=</mo><munder><mo>∑</mo><mi>k</mi></munder><msub><mi>u</mi><mi>k</mi></msub><msub><mi>C</mi><mi>k</mi></msub><mo>,</mo><mspace width="1em"/>
<msub><mi>C</mi><mi>k</mi></msub><mo>=</mo><mfrac><mn>1</mn><mrow><mo>|</mo><msub><mi>Ω</mi><mi>k</mi></msub><mo>|</mo></mrow></mfrac><munder><mo>∑</mo><mrow><mi>i</mi><mo>∈</mo><msub><mi>Ω</mi><mi>k</mi></msub></mrow></munder><mo>−</mo><mi>log</mi><msub><mi>s</mi><mrow><mi>k</mi><mo>,</mo><mi>i</mi></mrow></msub>
</mrow></math><math display="block"><mrow>
<mfrac><mn>1</mn><mi>K</mi></mfrac><munder><mo>∑</mo><mi>k</mi></munder><mo>−</mo><mi>log</mi><msub><mi>m</mi><mi>k</mi></msub><mo>≤</mo><mfrac><mn>1</mn><mi>K</mi></mfrac><munder><mo>∑</mo><mi>k</mi></munder><msub><mi>C</mi><mi>k</mi></msub><mo>=</mo>
<mfrac><mrow><munder><mo>∑</mo><mi>i</mi></munder><msub><mi>w</mi><msub><mi>y</mi><mi>i</mi></msub></msub><mo>(</mo><mo>−</mo><mi>log</mi><msub><mi>s</mi><mrow><msub><mi>y</mi><mi>i</mi></msub><mo>,</mo><mi>i</mi></mrow></msub><mo>)</mo></mrow><mrow><munder><mo>∑</mo><mi>i</mi></munder><msub><mi>w</mi><msub><mi>y</mi><mi>i</mi></msub></msub></mrow></mfrac><mspace width="0.5em"/><mtext>with</mtext><mspace width="0.5em"/><msub><mi>w</mi><mi>k</mi></msub><mo>=</mo><mfrac><mn>1</mn><msub><mi>u</mi><mi>k</mi></msub></mfrac>
</mrow></math>"#;

/// Smallest proportion the class sliders reach (a class without pixels has no matching term).
const CLASS_MIN: f64 = 0.001;
/// Largest.
const CLASS_MAX: f64 = 0.997;

/// Slider position (log scale over `[CLASS_MIN, CLASS_MAX]`) of a proportion.
fn to_pos(v: f64) -> f64 {
    let f = (v.clamp(CLASS_MIN, CLASS_MAX) / CLASS_MIN).ln() / (CLASS_MAX / CLASS_MIN).ln();
    (f * STEPS).round()
}

/// Proportion at a slider position, on the 1e-4 grid.
fn from_pos(p: f64) -> f64 {
    let f = (p / STEPS).clamp(0.0, 1.0);
    round4(CLASS_MIN * (CLASS_MAX / CLASS_MIN).powf(f)).clamp(CLASS_MIN, CLASS_MAX)
}

/// Rounds to 4 decimals. Classes 1 and 2 on this grid make class 0 = 1 − u₁ − u₂ land on it
/// too, so the URL's 4-significant-digit triple sums to 1 exactly (the CLI insists on it).
fn round4(v: f64) -> f64 {
    (v * 1e4).round() / 1e4
}

/// `t` with class `k` (1 or 2) set to `v` and class 0 the remainder. When classes 1 and 2
/// would leave less than [`CLASS_MIN`] to class 0 they are scaled down together, with a
/// message saying so.
pub fn set_class(t: [f64; 3], k: usize, v: f64) -> ([f64; 3], Option<String>) {
    let mut out = t;
    out[k] = round4(v.clamp(CLASS_MIN, CLASS_MAX));
    let j = 3 - k;
    out[j] = round4(out[j]).max(CLASS_MIN);
    let rest = out[1] + out[2];
    let mut note = None;
    if rest > 1.0 - CLASS_MIN + 1e-12 {
        let f = (1.0 - CLASS_MIN) / rest;
        let floor4 = |x: f64| (x * 1e4).floor() / 1e4;
        out[1] = floor4(out[1] * f).max(CLASS_MIN);
        out[2] = floor4(out[2] * f).max(CLASS_MIN);
        note = Some(format!(
            "classes 1 and 2 would sum to {} (more than {}); rescaled to {} and {}, class 0 keeps {}.",
            crate::state::round_sig(rest),
            1.0 - CLASS_MIN,
            out[1],
            out[2],
            round4(1.0 - out[1] - out[2])
        ));
    }
    out[0] = round4(1.0 - out[1] - out[2]);
    (out, note)
}

/// A log-scale slider and a typed field for class `k` (1 or 2) of a proportion triple;
/// class 0 is the remainder.
#[component]
fn ClassSlider(
    /// The triple.
    value: RwSignal<[f64; 3]>,
    /// Which class (1 or 2).
    k: usize,
    /// Visible label.
    #[prop(into)]
    label: String,
    /// Id and `data-testid` of the range input (the field is `<id>-num`).
    #[prop(into)]
    id: String,
    /// Where the rescaling message goes.
    message: RwSignal<String>,
) -> impl IntoView {
    view! {
        <SliderField
            value=Signal::derive(move || value.get()[k])
            set=Callback::new(move |v| {
                let (t, note) = set_class(value.get_untracked(), k, v);
                message.set(note.unwrap_or_default());
                value.set(t);
            })
            label=label
            id=id
            lo=CLASS_MIN
            hi=CLASS_MAX
            to_pos=Callback::new(to_pos)
            from_pos=Callback::new(from_pos)
            message=message
        />
    }
}

fn cell(testid: String, v: f64) -> impl IntoView {
    view! { <td data-testid=testid data-value=v.to_string()>{fmt_fixed(v, 4)}</td> }
}

/// One row per quantity, one column per class (narrow enough for a phone).
fn class_rows(v: &MatchingView) -> impl IntoView {
    type Get = fn(&dicelens_core::ClassMatching) -> f64;
    let rows: [(&str, &str, Get); 8] = [
        ("u", "ground truth u_k", |c| c.u),
        ("s", "prediction ŝ_k", |c| c.s_hat),
        ("c", "C_k (mean −log s_k on Ω_k)", |c| c.c),
        ("neglogm", "−log m_k (Dice)", |c| c.neg_log_m),
        ("jensen", "C_k + log m_k (≥ 0)", |c| c.jensen_gap),
        ("weight-ce", "CE's weight u_k", |c| c.weight_ce),
        ("weight-dice", "Dice bound's weight", |c| c.weight_dice),
        ("weight-torch", "PyTorch weight 1/u_k", |c| c.weight_torch),
    ];
    rows.into_iter()
        .map(|(key, name, get)| {
            view! {
                <tr>
                    <th scope="row">{name}</th>
                    {v.classes.iter().map(|c| cell(format!("match-{key}-{}", c.class), get(c))).collect_view()}
                </tr>
            }
        })
        .collect_view()
}

fn total_rows(v: &MatchingView) -> impl IntoView {
    [
        ("match-ce", "CE's matching term Σ_k u_k C_k (= CE)", v.ce),
        (
            "match-dice-bound",
            "Dice's matching bound (1/3) Σ_k C_k (= F.cross_entropy(weight=1/u))",
            v.dice_bound,
        ),
        (
            "match-dice",
            "Dice's matching term (1/3) Σ_k −log m_k",
            v.dice_matching,
        ),
        (
            "match-gap",
            "bound − matching term (Jensen gap, ≥ 0)",
            v.gap,
        ),
        (
            "match-dice-region",
            "Dice's region-size term (1/3) Σ_k log((u_k + ŝ_k)/(2u_k))",
            v.dice_region,
        ),
        (
            "match-log-dice",
            "log-Dice = matching term + region-size term",
            v.log_dice,
        ),
        ("match-kl", "CE's region-size term KL(u ‖ ŝ)", v.kl),
    ]
    .into_iter()
    .map(|(id, name, value)| {
        view! {
            <tr>
                <th scope="row">{name}</th>
                {cell(id.to_string(), value)}
            </tr>
        }
    })
    .collect_view()
}

fn describe(v: &MatchingView) -> String {
    let list = |f: &dyn Fn(usize) -> f64| {
        (0..3)
            .map(|k| format!("{:.3}", f(k)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "Bars for classes 0, 1, 2: C_k = {}; −log m_k = {}. Totals: CE Σ u_k C_k = {:.3}, Dice bound (1/3) Σ C_k = {:.3}, Dice (1/3) Σ −log m_k = {:.3}. Class weights: CE {}; Dice bound 0.333 each.",
        list(&|k| v.classes[k].c),
        list(&|k| v.classes[k].neg_log_m),
        v.ce,
        v.dice_bound,
        v.dice_matching,
        list(&|k| v.classes[k].weight_ce),
    )
}

/// The shared-matching-term panel.
#[component]
pub fn MatchingView(
    /// The shared app state.
    state: AppState,
) -> impl IntoView {
    let section = NodeRef::<leptos::html::Section>::new();
    let key = deferred(
        use_on_screen(section),
        Memo::new(move |_| {
            (
                state.u3.get(),
                state.s3.get(),
                state.kappa.get(),
                state.sigma.get(),
            )
        }),
    );
    let data = Memo::new(move |_| {
        let (u3, s3, kappa, sigma) = key.get();
        compute_matching(&ViewParams {
            u3,
            s3,
            kappa,
            sigma,
            ..ViewParams::default()
        })
    });
    let message = RwSignal::new(String::new());
    view! {
        <section class="panel" id="matching" aria-labelledby="matching-title" node_ref=section>
            <h2 id="matching-title">"The shared matching term"</h2>
            <Badge
                origin=Origin::Paper
                note="The matching/region split and the 1/u_k class weights are the paper's (Liu et al.); the three-class logit model that produces C_k and m_k is DiceLens's."
            />
            <p class="caption" data-testid="caption-matching">
                {move || data.with(|d| d.as_ref().map(|v| paragraph(&matching_claims(v))).unwrap_or_default())}
            </p>
            <div class="formulas" tabindex="0" role="group" aria-label="Formulas" inner_html=FORMULAS></div>
            <Badge
                origin=Origin::Model
                note="Per-pixel predictions: a pixel of class y has logits z_j = κ·[y = j] + σ·ε_j + b_j (ε standard normal), softmax over j; the biases b are solved so that the predicted proportions equal ŝ. Expectations are exact quadratures, not samples."
            />
            <div class="matching-inputs">
                <p class="hint" data-testid="match-state">
                    {move || format!("u = ({}), ŝ = ({}); class 0 takes the remainder. The three-class view edits the same proportions.", fmt_triple(state.u3.get()).replace(',', ", "), fmt_triple(state.s3.get()).replace(',', ", "))}
                </p>
                <ClassSlider value=state.u3 k=1 label="ground truth u₁ (class 1)" id="u3-1-slider" message=message />
                <ClassSlider value=state.u3 k=2 label="ground truth u₂ (class 2)" id="u3-2-slider" message=message />
                <ClassSlider value=state.s3 k=1 label="prediction ŝ₁ (class 1)" id="s3-1-slider" message=message />
                <ClassSlider value=state.s3 k=2 label="prediction ŝ₂ (class 2)" id="s3-2-slider" message=message />
                <p class="field-msg" role="status" aria-live="polite" data-testid="match-msg">{move || message.get()}</p>
            </div>
            {move || data.with(|d| d.as_ref().err().map(|e| view! { <p class="notice" data-testid="match-error">{e.clone()}</p> }))}
            <div class="plot-wrap">
                <PlotCanvas
                    draw=move |area, style| data.with(|d| d.as_ref().ok().and_then(|v| draw_matching(area, v, style).ok()))
                    label="Bars of each class's matching terms C_k and −log m_k with the Jensen gap outlined, the weighted totals, and the two sets of class weights"
                    testid="plot-matching"
                    export=state.exporter(ViewId::Matching)
                    export_name="dicelens-matching"
                    aspect=0.72
                />
            </div>
            <p class="plot-alt" data-testid="alt-matching">
                {move || data.with(|d| d.as_ref().map(describe).unwrap_or_default())}
            </p>
            <table class="readouts">
                <caption>
                    "Per class: the proportions, the matching terms and their weights. The Dice-bound weight 1/3 is "
                    "what PyTorch's F.cross_entropy(weight=1/u) puts on C_k after its weighted-mean normalisation: "
                    "(1/u_k)·u_k / Σ_j (1/u_j)·u_j = 1/3; its raw weight 1/u_k is the last row."
                </caption>
                <thead>
                    <tr>
                        <th scope="col">"quantity"</th>
                        <th scope="col">"class 0"</th>
                        <th scope="col">"class 1"</th>
                        <th scope="col">"class 2"</th>
                    </tr>
                </thead>
                <tbody>{move || data.with(|d| d.as_ref().ok().map(class_rows))}</tbody>
            </table>
            <table class="readouts">
                <caption>"The two weightings of the same C_k, Dice's actual matching term, and the region-size terms (nats)"</caption>
                <tbody>{move || data.with(|d| d.as_ref().ok().map(total_rows))}</tbody>
            </table>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_edits_keep_the_simplex() {
        let (t, note) = set_class([0.7, 0.25, 0.05], 2, 0.1);
        assert_eq!(t, [0.65, 0.25, 0.1]);
        assert!(note.is_none());
        let (t, note) = set_class([0.1, 0.6, 0.3], 2, 0.6);
        assert!(note.expect("rescaled").contains("rescaled"));
        assert!((t.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{t:?}");
        assert!(t.iter().all(|&x| x >= CLASS_MIN - 1e-12), "{t:?}");
        // On the 1e-4 grid, so the URL's triple sums to 1.
        let (t, _) = set_class([0.7, 0.25, 0.05], 2, 0.054_321);
        assert_eq!(t[2], 0.0543);
        let url: f64 = t.iter().map(|&x| crate::state::round_sig(x)).sum();
        assert!((url - 1.0).abs() < 1e-9, "{t:?}");
        for p in [0.0, 1.0, 500.0, 999.0, 1000.0] {
            let v = from_pos(p);
            assert!((CLASS_MIN..=CLASS_MAX).contains(&v));
            assert!((to_pos(v) - p).abs() <= 1.0, "{p} → {v} → {}", to_pos(v));
        }
    }
}
