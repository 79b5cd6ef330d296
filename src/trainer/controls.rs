//! The trainer's form: the shared settings and one card per run. Numeric fields are built
//! from the core's table ([`fields`]): label, range and the message shown when a typed value
//! is refused all come from there.

use dicelens_core::train::fields::FieldSpec;
use dicelens_core::train::{ModelKind, OptimizerKind};
use dicelens_core::RegionConfig;
use dicelens_plot::trainer::RUNS;
use leptos::prelude::*;

use super::settings::{fields, show, RunLoss, RATE};
use super::{hex, swatch, Ui};
use crate::widgets::perf;

/// A labelled numeric field: `commit` parses and validates the typed text, and returns the
/// message to show when it was refused (the value then stays as it was).
fn num_field(
    label: String,
    testid: &'static str,
    value: impl Fn() -> String + Send + Sync + 'static,
    commit: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static,
    disabled: Signal<bool>,
) -> impl IntoView {
    let message = RwSignal::new(String::new());
    let value = Signal::derive(value);
    view! {
        <div class="tr-field">
            <label for=testid>{label}</label>
            <input
                type="text"
                inputmode="decimal"
                id=testid
                data-testid=testid
                prop:value=move || value.get()
                prop:disabled=move || disabled.get()
                aria-invalid=move || if message.get().is_empty() { "false" } else { "true" }
                on:change=move |ev| {
                    perf::mark_input();
                    match commit(event_target_value(&ev).trim()) {
                        Ok(()) => message.set(String::new()),
                        Err(m) => {
                            message.set(m);
                            // Show the kept value again (the signal did not change).
                            let input: web_sys::HtmlInputElement = event_target(&ev);
                            input.set_value(&value.get_untracked());
                        }
                    }
                }
            />
            <span class="field-msg" role="status" aria-live="polite" data-testid=format!("{testid}-msg")>
                {move || message.get()}
            </span>
        </div>
    }
}

/// A field of the table for run `run` (λ and T) or the shared settings (other fields).
fn table_field(
    ui: Ui,
    f: &'static FieldSpec,
    testid: &'static str,
    run: usize,
    disabled: Signal<bool>,
) -> impl IntoView {
    let settings = ui.settings;
    num_field(
        f.form_label(),
        testid,
        move || show(settings.with(|s| s.get(f, run))),
        move |raw| {
            let kept = show(settings.with_untracked(|s| s.get(f, run)));
            let v = f.parse_strict(raw, &kept)?;
            ui.change(|s| s.set(f, run, v));
            Ok(())
        },
        disabled,
    )
}

/// The shared settings (they apply to every run).
pub fn shared_settings(ui: Ui) -> impl IntoView {
    let settings = ui.settings;
    let never = Signal::derive(|| false);
    let rate = ui.rate;
    view! {
        <fieldset>
            <legend>"Shared settings"</legend>
            <p class="tr-note">"Changing any setting resets every run to step 0 (same data and the same initial weights for every run)."</p>
            <div class="tr-grid">
                <div class="tr-field">
                    <label for="tr-model">"model"</label>
                    <select id="tr-model" data-testid="tr-model" on:change=move |ev| {
                        let m = ModelKind::parse(&event_target_value(&ev)).unwrap_or(ModelKind::Cnn8);
                        ui.change(|s| s.model = m);
                    }>
                        <option value="cnn8" prop:selected=move || settings.with(|s| s.model == ModelKind::Cnn8)>"cnn8: small CNN, 8 channels"</option>
                        <option value="logistic5" prop:selected=move || settings.with(|s| s.model == ModelKind::Logistic5)>"logistic5: 5×5 logistic"</option>
                    </select>
                </div>
                <div class="tr-field">
                    <label for="tr-optimizer">"optimizer"</label>
                    <select id="tr-optimizer" data-testid="tr-optimizer" on:change=move |ev| {
                        let o = OptimizerKind::parse(&event_target_value(&ev)).unwrap_or(OptimizerKind::Adam);
                        ui.change(|s| s.optimizer = o);
                    }>
                        <option value="adam" prop:selected=move || settings.with(|s| s.optimizer == OptimizerKind::Adam)>"Adam"</option>
                        <option value="sgd" prop:selected=move || settings.with(|s| s.optimizer == OptimizerKind::Sgd)>"SGD"</option>
                    </select>
                </div>
                {table_field(ui, &fields::LR, "tr-lr", 0, never)}
                <div class="tr-field tr-check">
                    <input type="checkbox" id="tr-cosine" data-testid="tr-cosine"
                        prop:checked=move || settings.with(|s| s.cosine)
                        on:change=move |ev| { let c = event_target_checked(&ev); ui.change(|s| s.cosine = c); } />
                    <label for="tr-cosine">"cosine decay of the learning rate to 0 over the budget"</label>
                </div>
                {table_field(ui, &fields::BATCH, "tr-batch", 0, never)}
                {table_field(ui, &fields::STEPS, "tr-steps", 0, never)}
                {table_field(ui, &fields::SEED, "tr-seed", 0, never)}
                <div class="tr-field">
                    <label for="tr-size">{fields::SIZE.form_label()}</label>
                    <select id="tr-size" data-testid="tr-size" on:change=move |ev| {
                        let v = if event_target_value(&ev) == "64" { 64 } else { 32 };
                        ui.change(|s| s.size = v);
                    }>
                        <option value="32" prop:selected=move || settings.with(|s| s.size == 32)>"32 × 32"</option>
                        <option value="64" prop:selected=move || settings.with(|s| s.size == 64)>"64 × 64"</option>
                    </select>
                </div>
                <div class="tr-field">
                    <label for="tr-classes">{fields::CLASSES.form_label()}</label>
                    <select id="tr-classes" data-testid="tr-classes" on:change=move |ev| {
                        let v = if event_target_value(&ev) == "3" { 3 } else { 2 };
                        ui.change(|s| s.classes = v);
                    }>
                        <option value="2" prop:selected=move || settings.with(|s| s.classes == 2)>"2: background + structures"</option>
                        <option value="3" prop:selected=move || settings.with(|s| s.classes == 3)>"3: + a small structure"</option>
                    </select>
                </div>
                {table_field(ui, &fields::NOISE, "tr-noise", 0, never)}
                {table_field(ui, &fields::BLUR, "tr-blur", 0, never)}
                {num_field(RATE.form_label(), "tr-rate",
                    move || show(rate.get()),
                    move |raw| {
                        let v = RATE.parse_strict(raw, &show(rate.get_untracked()))?;
                        rate.set(v);
                        Ok(())
                    }, never)}
            </div>
        </fieldset>
    }
}

/// Test ids of the per-run fields (they must be `'static`).
const LAMBDA_IDS: [&str; RUNS] = ["tr-lambda-0", "tr-lambda-1", "tr-lambda-2", "tr-lambda-3"];
const TEMP_IDS: [&str; RUNS] = ["tr-temp-0", "tr-temp-1", "tr-temp-2", "tr-temp-3"];

/// A status line that reports a problem (shown highlighted).
pub fn is_bad_status(s: &str) -> bool {
    s.starts_with("diverged") || s.starts_with("stopped") || s.starts_with("not started")
}

/// One card per run: its loss, λ and T, the authors' preset, and its status line.
pub fn run_cards(ui: Ui) -> impl IntoView {
    let settings = ui.settings;
    (0..RUNS)
        .map(|i| {
            let loss = Memo::new(move |_| settings.with(|s| s.runs[i].loss));
            let no_region = Signal::derive(move || !loss.get().has_region());
            let status = move || ui.statuses.with(|s| s.get(i).cloned().unwrap_or_default());
            let bad = move || is_bad_status(&status());
            view! {
                <div class="tr-run" style=format!("border-left-color:{}", hex(i)) data-testid=format!("run-{i}")>
                    <h3>{swatch(i)}{format!("Run {}", i + 1)}</h3>
                    <div class="tr-field">
                        <label for=format!("tr-loss-{i}")>"loss"</label>
                        <select id=format!("tr-loss-{i}") data-testid=format!("loss-{i}") on:change=move |ev| {
                            let l = RunLoss::parse(&event_target_value(&ev)).unwrap_or(RunLoss::Off);
                            ui.change(|s| s.runs[i].loss = l);
                        }>
                            {RunLoss::ALL.iter().map(|&l| view! {
                                <option value=l.key() prop:selected=move || loss.get() == l>{l.label()}</option>
                            }).collect_view()}
                        </select>
                    </div>
                    <div class="tr-pair">
                        {table_field(ui, &fields::LAMBDA, LAMBDA_IDS[i], i, no_region)}
                        {table_field(ui, &fields::TEMP, TEMP_IDS[i], i, no_region)}
                    </div>
                    <button
                        data-testid=format!("preset-{i}")
                        prop:disabled=move || no_region.get()
                        on:click=move |_| ui.change(|s| {
                            s.runs[i].lambda = RegionConfig::AUTHORS.lambda;
                            s.runs[i].temp = RegionConfig::AUTHORS.temp;
                        })
                    >{format!("authors' preset: T = {}, λ = {}", RegionConfig::AUTHORS.temp, RegionConfig::AUTHORS.lambda)}</button>
                    <div class="tr-status" class:bad=bad role="status" aria-live="polite" data-testid=format!("run-status-{i}")>
                        {status}
                    </div>
                </div>
            }
        })
        .collect_view()
}
