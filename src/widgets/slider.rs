//! A labelled slider with a typed numeric field beside it, on a linear or log-odds scale.

use leptos::prelude::*;

use super::perf;

/// Positions of a slider (its `max`).
pub const STEPS: f64 = 1000.0;

pub use dicelens_plot::figure::Scale;

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

fn to_pos(scale: Scale, v: f64, lo: f64, hi: f64) -> f64 {
    let f = match scale {
        Scale::LogOdds => (logit(v.clamp(lo, hi)) - logit(lo)) / (logit(hi) - logit(lo)),
        Scale::Linear => (v.clamp(lo, hi) - lo) / (hi - lo),
    };
    (f * STEPS).round()
}

fn from_pos(scale: Scale, p: f64, lo: f64, hi: f64) -> f64 {
    let f = (p / STEPS).clamp(0.0, 1.0);
    let v = match scale {
        Scale::LogOdds => {
            let x = logit(lo) + f * (logit(hi) - logit(lo));
            1.0 / (1.0 + (-x).exp())
        }
        Scale::Linear => lo + f * (hi - lo),
    };
    dicelens_plot::query::round_sig(v).clamp(lo, hi)
}

/// A slider plus a numeric field that accepts any typed value (clamped to `[lo, hi]`, with a
/// message when it was out of range or not a number). Arrow keys step the slider, Page Up/Down
/// take big steps, Home/End jump to the ends.
#[component]
pub fn Slider(
    /// The value.
    value: RwSignal<f64>,
    /// Visible label, with units.
    #[prop(into)]
    label: String,
    /// Id of the range input (also its `data-testid`; the field is `<id>-num`).
    #[prop(into)]
    id: String,
    /// Smallest value.
    lo: f64,
    /// Largest value.
    hi: f64,
    /// Position-to-value mapping.
    #[prop(default = Scale::Linear)]
    scale: Scale,
) -> impl IntoView {
    let message = RwSignal::new(String::new());
    view! {
        <SliderField
            value=value
            set=Callback::new(move |v| {
                message.set(String::new());
                value.set(v);
            })
            label=label
            id=id
            lo=lo
            hi=hi
            to_pos=Callback::new(move |v| to_pos(scale, v, lo, hi))
            from_pos=Callback::new(move |p| from_pos(scale, p, lo, hi))
            message=message
            message_here=true
        />
    }
}

/// The row of a slider and its typed field, for a value held anywhere: `value` is shown, `set`
/// takes a new one (from the slider, or typed and clamped to `[lo, hi]`) and may write its own
/// note to `message` first. Both inputs mark the input's time (`perf::mark_input`): the work
/// that waits for the input to rest (the address bar, exact passes, readouts off screen)
/// waits for this slider too.
#[component]
pub fn SliderField(
    /// The value shown.
    #[prop(into)]
    value: Signal<f64>,
    /// Takes a new value.
    set: Callback<f64>,
    /// Visible label, with units.
    #[prop(into)]
    label: String,
    /// Id of the range input (also its `data-testid`; the field is `<id>-num`).
    #[prop(into)]
    id: String,
    /// Smallest value a typed value is clamped to.
    lo: f64,
    /// Largest.
    hi: f64,
    /// Slider position (0 to 1000) of a value.
    to_pos: Callback<f64, f64>,
    /// Value at a slider position.
    from_pos: Callback<f64, f64>,
    /// The row's message: a typed value out of range or not a number.
    message: RwSignal<String>,
    /// Show the message in the row (otherwise the view shows it elsewhere).
    #[prop(optional)]
    message_here: bool,
) -> impl IntoView {
    let num_id = format!("{id}-num");
    let num_testid = num_id.clone();
    let typed_label = format!("{label}, typed value");
    view! {
        <div class="slider-row">
            <label for=id.clone()>{label}</label>
            <input
                type="range"
                id=id.clone()
                data-testid=id.clone()
                min="0"
                max=STEPS.to_string()
                step="1"
                prop:value=move || to_pos.run(value.get()).to_string()
                aria-valuetext=move || format!("{}", value.get())
                on:input=move |ev| {
                    perf::mark_input();
                    if let Ok(p) = event_target_value(&ev).parse::<f64>() {
                        set.run(from_pos.run(p));
                    }
                }
            />
            <input
                type="number"
                id=num_id
                data-testid=num_testid
                class="num"
                inputmode="decimal"
                min=lo.to_string()
                max=hi.to_string()
                step="any"
                aria-label=typed_label
                prop:value=move || format!("{}", value.get())
                on:change=move |ev| {
                    perf::mark_input();
                    let raw = event_target_value(&ev);
                    match raw.trim().parse::<f64>() {
                        Ok(v) if v.is_finite() => {
                            let c = v.clamp(lo, hi);
                            set.run(c);
                            if c != v {
                                message.update(|m| {
                                    let extra = format!("{raw} is outside [{lo}, {hi}]; using {c}.");
                                    *m = if m.is_empty() { extra } else { format!("{extra} {m}") };
                                });
                            }
                        }
                        _ => {
                            let kept = value.get_untracked();
                            let short: String = raw.chars().take(24).collect();
                            message.set(format!("'{short}' is not a number; kept {kept}."));
                            // The field shows the kept value again.
                            event_target::<web_sys::HtmlInputElement>(&ev).set_value(&format!("{kept}"));
                        }
                    }
                }
            />
            {message_here.then(|| view! { <span class="field-msg" role="status" aria-live="polite">{move || message.get()}</span> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip() {
        for v in [0.001, 0.01, 0.1, 0.5, 0.9, 0.999] {
            let p = to_pos(Scale::LogOdds, v, 0.001, 0.999);
            assert!(
                (from_pos(Scale::LogOdds, p, 0.001, 0.999) - v).abs() / v < 0.01,
                "{v}"
            );
        }
        assert_eq!(to_pos(Scale::LogOdds, 0.0, 0.001, 0.999), 0.0);
        assert_eq!(from_pos(Scale::LogOdds, 5000.0, 0.001, 0.999), 0.999);
        assert_eq!(from_pos(Scale::Linear, 500.0, 0.0, 4.0), 2.0);
        assert_eq!(to_pos(Scale::Linear, 1.0, 0.0, 4.0), 250.0);
    }
}

/// The slider of the views' parameter `key`: its label, range and scale from the one table
/// ([`dicelens_plot::figure::PARAMS`]); nothing when `key` is not in it.
#[component]
pub fn ParamSlider(
    /// The parameter's key in the table.
    key: &'static str,
    /// The value.
    value: RwSignal<f64>,
    /// Id of the range input.
    id: &'static str,
) -> impl IntoView {
    dicelens_plot::figure::param(key).map(|p| {
        view! { <Slider value=value label=p.label id=id lo=p.lo hi=p.hi scale=p.scale /> }
    })
}
