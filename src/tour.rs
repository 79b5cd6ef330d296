//! The guided tour: the paper's argument in steps. Each step sets the state, highlights the
//! view it talks about, and explains it with live numbers from the core. The tour is a
//! non-modal panel: every control on the page keeps working while it is open.

use dicelens_core::{Ambiguous, AmbiguousLoss, Family, FamilyLoss, RegionTerm, SimplexTerm};
use dicelens_plot::figure::compute_decomposition;
use dicelens_plot::fmt_prop;
use leptos::prelude::*;

use crate::state::AppState;
use crate::views::family::{family_from, family_key};

/// One step of the tour.
pub struct Step {
    /// Heading.
    pub title: &'static str,
    /// The view it highlights (an element id).
    pub view: &'static str,
    /// State it sets, as URL keys and values.
    pub set: &'static [(&'static str, &'static str)],
    /// A formula (MathML), shown under the text.
    pub math: &'static str,
    /// Plain sentences with live numbers at the current state.
    pub text: fn(&AppState) -> String,
}

/// The family of the current state, or at ground truth `u` when given (tracked).
fn family(state: &AppState, u: Option<f64>) -> Option<Family> {
    let mut key = family_key(state);
    if let Some(u) = u {
        key[0] = u;
    }
    family_from(key).ok()
}

fn step1(state: &AppState) -> String {
    let u = state.u.get();
    let (ce, _) = RegionTerm::Kl.minimizer(u);
    let (dice, _) = RegionTerm::DiceFg.minimizer(u);
    format!(
        "Cross-entropy (CE) and Dice are the two standard losses for segmentation. Do they want \
         the same amount of foreground? Here the truth has u = {} of the pixels in the \
         foreground. The region-size part of CE is smallest at ŝ = {}: exactly the truth. The \
         region-size part of Dice is smallest at ŝ = {}: it rewards predicting less.",
        fmt_prop(u),
        fmt_prop(ce),
        fmt_prop(dice)
    )
}

fn step2(state: &AppState) -> String {
    let Some(f) = family(state, None) else {
        return String::new();
    };
    let d = compute_decomposition(&f, state.s.get());
    format!(
        "CE splits exactly into a matching term and a region-size term: CE = −Î + H(u) + KL(u‖ŝ). \
         At the current prediction (ŝ = {}) CE = {:.3}, of which KL(u‖ŝ) = {:.3} depends only on \
         the predicted proportion. KL is never negative and is zero only at ŝ = u, so CE's \
         region term pulls the prediction toward the true proportion. Move ŝ and watch the bars.",
        fmt_prop(state.s.get()),
        d.ce,
        d.kl
    )
}

fn step3(state: &AppState) -> String {
    let u3 = state.u3.get();
    let (m, _) = SimplexTerm::Dice.minimizer(u3);
    let (k, _) = SimplexTerm::Kl.minimizer(u3);
    format!(
        "Dice splits the same way: −log Dice_k = −log m_k + log((u_k + ŝ_k)/(2u_k)). The second \
         part is concave in ŝ, so its minimum sits at a corner of the simplex, not at the truth. \
         With three classes of sizes ({:.2}, {:.2}, {:.2}), Dice's region term is lowest at \
         ({:.2}, {:.2}, {:.2}): everything in one class. CE's KL term is lowest at ({:.2}, {:.2}, \
         {:.2}), the truth.",
        u3[0], u3[1], u3[2], m[0], m[1], m[2], k[0], k[1], k[2]
    )
}

fn step4(state: &AppState) -> String {
    let Some(f) = family(state, None) else {
        return String::new();
    };
    let dice = f.minimize(FamilyLoss::DiceFg);
    let ce = f.minimize(FamilyLoss::Ce);
    format!(
        "Matching and region terms interact in a real prediction. In the logit-shift family every \
         pixel's logit is its class signal ±κ plus noise σ plus a shift b. At u = {}, κ = {}, \
         σ = {}, the full Dice loss is smallest at ŝ = {} ({:.1}× the truth) while CE is smallest \
         at ŝ = {} (×{:.2}). The extra region pull of Dice makes it over-segment this small \
         structure.",
        fmt_prop(f.params().u),
        state.kappa.get(),
        state.sigma.get(),
        fmt_prop(dice.s_hat),
        dice.ratio,
        fmt_prop(ce.s_hat),
        ce.ratio
    )
}

fn step5(state: &AppState) -> String {
    let at = |u: f64| family(state, Some(u)).map(|f| f.minimize(FamilyLoss::DiceFg).s_hat);
    let (small, large) = (at(0.01), at(0.3));
    format!(
        "The bias map repeats that search for every u. CE's optimum is on the diagonal \
         ŝ* = u everywhere. Dice's is not: at u = 0.01 it predicts ŝ* = {}, at u = 0.3 it predicts \
         ŝ* = {}. How far off Dice is depends on the region size: a hidden region-size bias.",
        small.map(fmt_prop).unwrap_or_default(),
        large.map(fmt_prop).unwrap_or_default()
    )
}

fn step6(state: &AppState) -> String {
    let p = state.amb_p.get();
    let Ok(m) = Ambiguous::new(state.amb_c.get(), state.amb_a.get(), state.lambda.get()) else {
        return String::new();
    };
    let q = |l| m.optimum(l, p).unwrap_or(f64::NAN);
    format!(
        "Real images have ambiguous pixels. If a fraction a = {} of pixels is foreground with \
         probability p = {}, CE's best prediction for them is q = {:.2}: calibrated. Dice's is \
         q = {:.2}: a hard decision that flips at p = {:.2}. That is why Dice-trained networks are \
         over-confident, and why their volumes are off for ambiguous structures.",
        fmt_prop(state.amb_a.get()),
        fmt_prop(p),
        q(AmbiguousLoss::Ce),
        q(AmbiguousLoss::Dice),
        m.flip_threshold()
    )
}

fn step7(state: &AppState) -> String {
    let Some(f) = family(state, None) else {
        return String::new();
    };
    let l1 = f.minimize(FamilyLoss::CeL1);
    let kl = f.minimize(FamilyLoss::CeKl);
    format!(
        "The fix the paper proposes: keep CE and add an explicit term on the class proportions, \
         λ·|ŝ_T − u| (CE+L1) or λ·KL(u‖ŝ_T) (CE+KL), with a softmax temperature T. It makes the \
         region-size pull visible and controllable. Here λ = {}, T = {}: CE+L1 is smallest at \
         ŝ = {} and CE+KL at ŝ = {}, both at the truth u = {}. In training, where CE alone \
         under-segments small structures, this term moves their sizes toward the truth.",
        state.lambda.get(),
        state.temp.get(),
        fmt_prop(l1.s_hat),
        fmt_prop(kl.s_hat),
        fmt_prop(f.params().u)
    )
}

fn step8(_: &AppState) -> String {
    "Now see it happen. The trainer trains one small network per loss on the same synthetic \
     images: CE, Dice, log-Dice and CE+L1 by default. Press Play and watch the held-out plots: \
     Dice's probabilities saturate at 0 and 1, CE under-sizes the smallest structures when \
     thresholded, and the region term moves CE's sizes toward the truth."
        .to_string()
}

const CE_MATH: &str = r#"<math display="block"><mrow><mi>CE</mi><mo>=</mo><mo>−</mo><mover><mi>I</mi><mo>^</mo></mover><mo>+</mo><mi>H</mi><mo>(</mo><mi>u</mi><mo>)</mo><mo>+</mo><mi>KL</mi><mo>(</mo><mi>u</mi><mo>‖</mo><mover><mi>s</mi><mo>^</mo></mover><mo>)</mo></mrow></math>"#;
const DICE_MATH: &str = r#"<math display="block"><mrow><mo>−</mo><mi>log</mi><msub><mi>Dice</mi><mi>k</mi></msub><mo>=</mo><mo>−</mo><mi>log</mi><msub><mi>m</mi><mi>k</mi></msub><mo>+</mo><mi>log</mi><mfrac><mrow><msub><mi>u</mi><mi>k</mi></msub><mo>+</mo><msub><mover><mi>s</mi><mo>^</mo></mover><mi>k</mi></msub></mrow><mrow><mn>2</mn><msub><mi>u</mi><mi>k</mi></msub></mrow></mfrac></mrow></math>"#;
const FAMILY_MATH: &str = r#"<math display="block"><mrow><msub><mi>z</mi><mi>i</mi></msub><mo>=</mo><mi>κ</mi><mo>(</mo><mn>2</mn><msub><mi>y</mi><mi>i</mi></msub><mo>−</mo><mn>1</mn><mo>)</mo><mo>+</mo><mi>σ</mi><msub><mi>ε</mi><mi>i</mi></msub><mo>+</mo><mi>b</mi></mrow></math>"#;
const BIAS_MATH: &str = r#"<math display="block"><mrow><msup><mover><mi>s</mi><mo>^</mo></mover><mo>*</mo></msup><mo>(</mo><mi>u</mi><mo>)</mo><mo>=</mo><mi>arg</mi><munder><mi>min</mi><mi>b</mi></munder><mi>L</mi><mo>(</mo><mi>b</mi><mo>;</mo><mi>u</mi><mo>)</mo></mrow></math>"#;
const AMB_MATH: &str = r#"<math display="block"><mrow><msubsup><mi>q</mi><mi>CE</mi><mo>*</mo></msubsup><mo>=</mo><mi>p</mi><mo>,</mo><mspace width="1em"/><msubsup><mi>q</mi><mi>Dice</mi><mo>*</mo></msubsup><mo>∈</mo><mo>{</mo><mn>0</mn><mo>,</mo><mn>1</mn><mo>}</mo></mrow></math>"#;
const FIX_MATH: &str = r#"<math display="block"><mrow><mi>CE</mi><mo>+</mo><mi>λ</mi><mo>|</mo><msub><mover><mi>s</mi><mo>^</mo></mover><mi>T</mi></msub><mo>−</mo><mi>u</mi><mo>|</mo><mo>,</mo><mspace width="1em"/><mi>CE</mi><mo>+</mo><mi>λ</mi><mi>KL</mi><mo>(</mo><mi>u</mi><mo>‖</mo><msub><mover><mi>s</mi><mo>^</mo></mover><mi>T</mi></msub><mo>)</mo></mrow></math>"#;

/// The steps, in order (`?tour=1` is the first).
pub const STEPS: [Step; 8] = [
    Step {
        title: "Two losses, one question",
        view: "region-terms",
        set: &[("u", "0.1"), ("s", "0.3")],
        math: "",
        text: step1,
    },
    Step {
        title: "CE = matching + label-marginal KL",
        view: "decomposition",
        set: &[("u", "0.1"), ("s", "0.3"), ("kappa", "0.5"), ("sigma", "1")],
        math: CE_MATH,
        text: step2,
    },
    Step {
        title: "Dice's region term is concave",
        view: "simplex",
        set: &[
            ("term", "dice"),
            ("u3", "0.7,0.25,0.05"),
            ("s3", "0.5,0.3,0.2"),
        ],
        math: DICE_MATH,
        text: step3,
    },
    Step {
        title: "The full losses on the logit-shift family",
        view: "family",
        set: &[
            ("u", "0.1"),
            ("kappa", "0.5"),
            ("sigma", "1"),
            ("lambda", "0.1"),
            ("T", "1"),
        ],
        math: FAMILY_MATH,
        text: step4,
    },
    Step {
        title: "The bias map: every region size at once",
        view: "bias-map",
        set: &[("kappa", "0.5"), ("sigma", "1")],
        math: BIAS_MATH,
        text: step5,
    },
    Step {
        title: "Ambiguous pixels and hard decisions",
        view: "ambiguous",
        set: &[("c", "0.05"), ("a", "0.05"), ("p", "0.3")],
        math: AMB_MATH,
        text: step6,
    },
    Step {
        title: "The fix: CE+L1 and CE+KL",
        view: "family",
        set: &[("u", "0.1"), ("lambda", "1"), ("T", "10")],
        math: FIX_MATH,
        text: step7,
    },
    Step {
        title: "See it happen: the trainer",
        view: "trainer",
        set: &[],
        math: "",
        text: step8,
    },
];

/// Marks `view`'s section as the one the tour talks about and scrolls it into sight.
fn highlight(view: Option<&str>) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    while let Ok(Some(el)) = doc.query_selector(".tour-focus") {
        let _ = el.class_list().remove_1("tour-focus");
    }
    if let Some(el) = view.and_then(|v| doc.get_element_by_id(v)) {
        let _ = el.class_list().add_1("tour-focus");
        el.scroll_into_view();
    }
}

/// Writes `tour=<n>` (or removes it) in the address bar.
fn write_tour(step: Option<usize>) {
    let Some(q) = crate::state::query() else {
        return;
    };
    match step {
        Some(n) => q.set("tour", &(n + 1).to_string()),
        None => q.delete("tour"),
    }
    crate::state::replace_query(&q);
}

/// The tour panel. `step` is the open step (0-based) or `None` when the tour is closed.
#[component]
pub fn Tour(
    /// The shared app state.
    state: AppState,
    /// The open step, `None`: closed.
    step: RwSignal<Option<usize>>,
) -> impl IntoView {
    // Opening a step sets its state (once per step change, not on every slider move).
    Effect::new(move |prev: Option<Option<usize>>| {
        let now = step.get();
        if prev != Some(now) {
            if let Some(i) = now {
                let st = &STEPS[i];
                let _ = state
                    .apply(&|k: &str| st.set.iter().find(|x| x.0 == k).map(|x| x.1.to_string()));
            }
            write_tour(now);
            highlight(now.map(|i| STEPS[i].view));
        }
        now
    });
    let go = move |d: isize| {
        step.update(|s| {
            if let Some(i) = s {
                *s = Some((*i as isize + d).clamp(0, STEPS.len() as isize - 1) as usize);
            }
        })
    };
    view! {
        <Show when=move || step.get().is_some()>
            <section class="tour" aria-labelledby="tour-title" data-testid="tour">
                {move || {
                    let i = step.get().unwrap_or(0);
                    let st = &STEPS[i];
                    view! {
                        <p class="tour-count" data-testid="tour-step">{format!("Step {} of {}", i + 1, STEPS.len())}</p>
                        <h2 id="tour-title">{st.title}</h2>
                    }
                }}
                <p class="tour-text" data-testid="tour-text">
                    {move || step.get().map(|i| (STEPS[i].text)(&state)).unwrap_or_default()}
                </p>
                <div class="formulas" inner_html=move || step.get().map(|i| STEPS[i].math).unwrap_or("")></div>
                <div class="tour-nav">
                    <button type="button" data-testid="tour-prev" on:click=move |_| go(-1)
                        disabled=move || step.get() == Some(0)>"← Previous"</button>
                    <button type="button" data-testid="tour-next" on:click=move |_| go(1)
                        disabled=move || step.get() == Some(STEPS.len() - 1)>"Next →"</button>
                    <button type="button" data-testid="tour-close" on:click=move |_| step.set(None)>"Close tour"</button>
                </div>
            </section>
        </Show>
    }
}
