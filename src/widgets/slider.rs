//! A proportion slider on a log-odds scale, with a typed numeric field beside it.

use leptos::prelude::*;

use super::perf;

const STEPS: f64 = 1000.0;

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

fn to_pos(v: f64, lo: f64, hi: f64) -> f64 {
    let (a, b) = (logit(lo), logit(hi));
    ((logit(v.clamp(lo, hi)) - a) / (b - a) * STEPS).round()
}

fn from_pos(p: f64, lo: f64, hi: f64) -> f64 {
    let (a, b) = (logit(lo), logit(hi));
    let x = a + (p / STEPS).clamp(0.0, 1.0) * (b - a);
    let v = 1.0 / (1.0 + (-x).exp());
    crate::state::round_sig(v).clamp(lo, hi)
}

/// A slider for a proportion in `[lo, hi]`, log-odds scaled so that 0.001 and 0.999 are as
/// easy to reach as 0.5, plus a numeric field that accepts any typed value (clamped, with a
/// message when it was out of range).
#[component]
pub fn ProportionSlider(
    /// The value.
    value: RwSignal<f64>,
    /// Visible label.
    #[prop(into)]
    label: String,
    /// Id prefix (and `data-testid` of the range input).
    #[prop(into)]
    id: String,
    /// Smallest value.
    lo: f64,
    /// Largest value.
    hi: f64,
) -> impl IntoView {
    let message = RwSignal::new(String::new());
    let num_id = format!("{id}-num");
    let num_testid = num_id.clone();
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
                prop:value=move || to_pos(value.get(), lo, hi).to_string()
                aria-valuetext=move || format!("{:.4} ({:.2}%)", value.get(), 100.0 * value.get())
                on:input=move |ev| {
                    perf::mark_input();
                    if let Ok(p) = event_target_value(&ev).parse::<f64>() {
                        message.set(String::new());
                        value.set(from_pos(p, lo, hi));
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
                aria-label="typed value"
                prop:value=move || format!("{}", value.get())
                on:change=move |ev| {
                    perf::mark_input();
                    let raw = event_target_value(&ev);
                    match raw.trim().parse::<f64>() {
                        Ok(v) if v.is_finite() => {
                            let c = v.clamp(lo, hi);
                            if c != v {
                                message.set(format!("{raw} is outside [{lo}, {hi}]; using {c}."));
                            } else {
                                message.set(String::new());
                            }
                            value.set(c);
                        }
                        _ => {
                            message.set(format!("'{raw}' is not a number; kept {}.", value.get_untracked()));
                            value.notify();
                        }
                    }
                }
            />
            <span class="field-msg" role="status" aria-live="polite">{move || message.get()}</span>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip() {
        for v in [0.001, 0.01, 0.1, 0.5, 0.9, 0.999] {
            let p = to_pos(v, 0.001, 0.999);
            assert!((from_pos(p, 0.001, 0.999) - v).abs() / v < 0.01, "{v}");
        }
        assert_eq!(to_pos(0.0, 0.001, 0.999), 0.0);
        assert_eq!(from_pos(5000.0, 0.001, 0.999), 0.999);
    }
}
