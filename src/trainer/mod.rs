//! View: a toy segmentation trainer in the browser. Up to four runs train side by side on the
//! same synthetic data from the same initial weights, each with its own loss, and the held-out
//! plots show what each loss does to the trained model's sizes and confidence.
//!
//! The training runs in a Web Worker with its own wasm module (crates/worker), fetched only
//! when the trainer is needed; this panel sends it commands and applies its reports.
//!
//! - [`settings`]: what defines the runs (losses as an enum; numeric fields from the core's
//!   one table, `dicelens_core::train::fields`);
//! - [`url`]: the `tr…` URL keys to settings and back (lenient and strict);
//! - [`client`]: the worker, loaded on demand; commands out, reports in (applied in frames);
//! - [`controls`]: the form; [`gallery`]: the held-out images; [`paint`]: pixel drawing;
//! - this file: the panel, and how it applies the worker's reports.
//!
//! The styles are in `style/trainer.css`.

pub mod client;
pub mod controls;
pub mod gallery;
pub mod paint;
pub mod settings;
pub mod url;

use dicelens_core::train::Metrics;
use dicelens_plot::figure::{Figure, TrainerPlot};
use dicelens_plot::trainer::{
    draw_calibration, draw_overlap, draw_proportions, draw_size_bins, draw_train_loss,
    run_dasharray, run_style, HistPoint, RunTrace, RUNS,
};
use dicelens_worker::protocol::{FromWorker, Setup, ToWorker};
use leptos::prelude::*;

use crate::widgets::badge::{Badge, Origin};
use crate::widgets::paint::{paint_disc, random_shape, PaintCanvas};
use crate::widgets::perf;
use crate::widgets::plot_canvas::PlotCanvas;
use client::{Event, Phase};
use paint::Canvases;
use settings::{Settings, RATE};

// The worker's run slots are the plots' runs.
const _: () = assert!(dicelens_worker::protocol::RUNS == RUNS);

/// Training-loss points kept per run before the history is thinned.
const LOSS_POINTS: usize = 1500;
/// Plots redrawn after each evaluation.
pub const PLOTS: usize = 5;

/// The held-out numbers shown next to each run.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Readout {
    step: usize,
    loss: Option<f64>,
    ratio_soft: Option<f64>,
    ratio_hard_small: Option<f64>,
    dice: Option<f64>,
    iou: Option<f64>,
    ece: Option<f64>,
    saturated: Option<f64>,
}

fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

impl Readout {
    fn of(m: &Metrics) -> Self {
        Self {
            step: m.step,
            loss: finite(m.loss),
            ratio_soft: finite(m.ratio_soft),
            ratio_hard_small: finite(m.ratio_hard_small),
            dice: finite(m.dice),
            iou: finite(m.iou),
            ece: finite(m.ece),
            saturated: finite(m.saturated),
        }
    }
}

/// Reactive handles shared by the view, the form and the report handler (all `Copy`).
#[derive(Clone, Copy)]
pub struct Ui {
    hist: StoredValue<Vec<RunTrace>, LocalStorage>,
    mask: StoredValue<Vec<i64>, LocalStorage>,
    settings: RwSignal<Settings>,
    playing: RwSignal<bool>,
    step: RwSignal<usize>,
    statuses: RwSignal<Vec<String>>,
    readouts: RwSignal<Vec<Option<Readout>>>,
    versions: [RwSignal<u32>; PLOTS],
    gallery_u: RwSignal<Vec<f64>>,
    setup_error: RwSignal<Option<String>>,
    rate: RwSignal<f64>,
    measured_rate: RwSignal<f64>,
    /// Mean times of a training step and of an evaluation (ms), shown as data attributes.
    timings: RwSignal<(f64, f64)>,
    paint_ver: RwSignal<u32>,
    canvases: Canvases,
    /// Where the worker is.
    phase: RwSignal<Phase>,
}

impl Ui {
    /// Changes the settings; a change resets the runs.
    fn change(&self, f: impl FnOnce(&mut Settings)) {
        perf::mark_input();
        let mut s = self.settings.get_untracked();
        f(&mut s);
        if s != self.settings.get_untracked() {
            self.settings.set(s);
            self.load();
        }
    }

    /// Sends the settings to the worker: it builds the data (when its settings changed) and
    /// every run again. The painted mask follows the image size.
    fn load(&self) {
        let s = self.settings.get_untracked();
        client::send(ToWorker::Load(setup_of(&s)));
        let w = s.size;
        if self.mask.with_value(|m| m.len() != w * w) {
            let mut m = vec![0; w * w];
            let wf = w as f64;
            paint_disc(&mut m, w, wf * 0.4, wf * 0.55, wf * 0.12, 1);
            self.mask.set_value(m);
            self.paint_ver.update(|v| *v = v.wrapping_add(1));
        }
    }
}

/// The worker's setup from the form's settings.
pub fn setup_of(s: &Settings) -> Setup {
    Setup {
        data: s.data_config(),
        runs: std::array::from_fn(|i| s.train_config(i)),
    }
}

/// Applies a finished round of evaluation to the plots' history and the readouts (a run
/// without new metrics keeps its last readouts).
fn apply_evaluation(ui: Ui, s: &Settings, fresh: &[Option<Metrics>]) {
    ui.hist.update_value(|h| {
        for t in h.iter_mut() {
            if let Some(Some(m)) = fresh.get(t.slot) {
                t.history.push(HistPoint::from_metrics(m));
                t.latest = Some(m.clone());
                t.label = s.label(t.slot);
            }
        }
    });
    ui.readouts.update(|r| {
        r.resize(RUNS, None);
        for (slot, m) in r.iter_mut().zip(fresh) {
            if let Some(m) = m {
                *slot = Some(Readout::of(m));
            }
        }
    });
}

/// Applies one of the worker's reports (in an animation frame).
fn apply(ui: Ui, m: &FromWorker) {
    let t = perf::now();
    match m {
        FromWorker::Ready => {}
        FromWorker::Loaded {
            error,
            on,
            gallery_u,
            ..
        } => {
            let s = ui.settings.get_untracked();
            ui.setup_error.set(error.clone());
            ui.hist.set_value(
                (0..RUNS)
                    .filter(|&i| on[i])
                    .map(|i| RunTrace {
                        slot: i,
                        label: s.label(i),
                        ..RunTrace::default()
                    })
                    .collect(),
            );
            ui.gallery_u.set(gallery_u.clone());
            ui.step.set(0);
            ui.readouts.set(vec![None; RUNS]);
            for v in ui.versions {
                v.update(|x| *x = x.wrapping_add(1));
            }
        }
        FromWorker::Losses(l) => ui.hist.update_value(|h| {
            for &(i, step, loss) in l {
                let st = step as f64;
                if let Some(t) = h.iter_mut().find(|t| t.slot == i) {
                    if t.train_loss.last().map(|p| p.0) != Some(st) {
                        t.push_train_loss(st, loss, LOSS_POINTS);
                    }
                }
            }
        }),
        FromWorker::Evaluated(fresh) => {
            let s = ui.settings.get_untracked();
            apply_evaluation(ui, &s, fresh);
        }
        FromWorker::Completed(c) => {
            if ui.step.get_untracked() != *c {
                ui.step.set(*c);
            }
        }
        FromWorker::StopPlaying => ui.playing.set(false),
        FromWorker::Statuses(st) => {
            if ui.statuses.with_untracked(|s| s != st) {
                ui.statuses.set(st.clone());
            }
        }
        FromWorker::Timings(r, step_ms, eval_ms) => {
            if ui.measured_rate.get_untracked() != *r {
                ui.measured_rate.set(*r);
            }
            ui.timings.set((*step_ms, *eval_ms));
        }
        FromWorker::Plot(j) => {
            if let Some(v) = ui.versions.get(*j) {
                v.update(|x| *x = x.wrapping_add(1));
            }
        }
        FromWorker::Gallery {
            run,
            size,
            images,
            labels,
            preds,
        } => {
            paint::draw_gallery(
                &ui.canvases,
                *run,
                *size,
                images.as_deref(),
                labels,
                preds.as_deref(),
            );
            perf::record_work("gallery", perf::now() - t);
        }
        FromWorker::Paint {
            size,
            image,
            labels,
            preds,
        } => {
            paint::draw_paint(&ui.canvases, *size, image, labels, preds);
            perf::record_work("paint", perf::now() - t);
        }
        FromWorker::Error(e) => ui.setup_error.set(Some(e.clone())),
        FromWorker::ExampleProgress { .. }
        | FromWorker::ExampleDone { .. }
        | FromWorker::ExampleFailed { .. } => {}
    }
}

/// Whether the page's address asks for the trainer (`view=trainer`, `embed=trainer`).
fn asked_for_in_url() -> bool {
    let Some(search) = web_sys::window().and_then(|w| w.location().search().ok()) else {
        return false;
    };
    let Ok(q) = web_sys::UrlSearchParams::new_with_str(&search) else {
        return false;
    };
    ["view", "embed"]
        .iter()
        .any(|k| q.get(k).is_some_and(|v| v.trim() == "trainer"))
}

/// The sentence shown when the worker failed.
pub fn failure_text(why: &str) -> String {
    format!("{why} The rest of the page still works; reload the page to try again.")
}

fn fmt_opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    finite(v).map(f).unwrap_or_else(|| "—".into())
}

/// Run `i`'s colour as `#rrggbb`.
pub fn hex(i: usize) -> String {
    let c = run_style(i).color;
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// A short line in the run's colour and dash (the colour key, with a second cue).
pub fn swatch(i: usize) -> impl IntoView {
    view! {
        <svg class="swatch-line" width="28" height="10" aria-hidden="true">
            <line
                x1="1" y1="5" x2="27" y2="5"
                stroke=hex(i)
                stroke-width="3"
                stroke-dasharray=run_dasharray(i)
            />
        </svg>
    }
}

/// The table of held-out metrics, one row per run.
fn readouts_table(ui: Ui) -> impl IntoView {
    let settings = ui.settings;
    let metric_cell = move |i: usize,
                            name: &'static str,
                            f: fn(&Readout) -> Option<f64>,
                            fmt: fn(f64) -> String| {
        let value = move || {
            ui.readouts
                .with(|r| r.get(i).copied().flatten().and_then(|r| finite(f(&r))))
        };
        view! {
            <td data-testid=format!("metric-{name}-{i}") data-value=move || value().map(|v| v.to_string()).unwrap_or_default()>
                {move || fmt_opt(value(), fmt)}
            </td>
        }
    };
    let rows = (0..RUNS)
        .map(|i| {
            let label = move || settings.with(|s| s.runs[i].loss.label());
            view! {
                <tr>
                    <th scope="row">{swatch(i)}{move || format!("{} {}", i + 1, label())}</th>
                    <td data-testid=format!("metric-step-{i}")>
                        {move || ui.readouts.with(|r| r.get(i).copied().flatten().map(|r| r.step.to_string()).unwrap_or_else(|| "—".into()))}
                    </td>
                    {metric_cell(i, "loss", |r| r.loss, |v| format!("{v:.4}"))}
                    {metric_cell(i, "ratio_soft", |r| r.ratio_soft, |v| format!("{v:.2}×"))}
                    {metric_cell(i, "ratio_hard_small", |r| r.ratio_hard_small, |v| format!("{v:.2}×"))}
                    {metric_cell(i, "dice", |r| r.dice, |v| format!("{v:.3}"))}
                    {metric_cell(i, "iou", |r| r.iou, |v| format!("{v:.3}"))}
                    {metric_cell(i, "ece", |r| r.ece, |v| format!("{v:.4}"))}
                    {metric_cell(i, "saturated", |r| r.saturated, |v| format!("{:.1}%", 100.0 * v))}
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="tr-table-wrap">
            <table class="readouts" data-testid="trainer-readouts">
                <caption>"Held-out metrics of each run (64 images; ŝ/u is predicted over true foreground proportion, 1× is unbiased)"</caption>
                <thead>
                    <tr>
                        <th scope="col">"run"</th>
                        <th scope="col">"step"</th>
                        <th scope="col">"loss"</th>
                        <th scope="col">"ŝ/u soft"</th>
                        <th scope="col">"ŝ/u thresholded, small (u < 2%)"</th>
                        <th scope="col">"Dice"</th>
                        <th scope="col">"IoU"</th>
                        <th scope="col">"ECE"</th>
                        <th scope="col">"saturated pixels"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// "Paint your own": the mask canvas, its tools, the synthesized image and each run's
/// prediction on it.
fn paint_section(ui: Ui) -> impl IntoView {
    let settings = ui.settings;
    let paint_class = RwSignal::new(1i64);
    let erase = RwSignal::new(false);
    let shapes = StoredValue::new(0u64);
    let clear_mask = move |_| {
        ui.mask.update_value(|m| m.iter_mut().for_each(|l| *l = 0));
        ui.paint_ver.update(|v| *v = v.wrapping_add(1));
    };
    let add_random_shape = move |_| {
        let w = settings.get_untracked().size;
        let seed = shapes.get_value() + 1;
        shapes.set_value(seed);
        let cls = paint_class.get_untracked();
        ui.mask.update_value(|m| {
            if m.len() == w * w {
                random_shape(m, w, cls, seed);
            }
        });
        ui.paint_ver.update(|v| *v = v.wrapping_add(1));
    };
    let size_sig = Signal::derive(move || settings.with(|s| s.size));
    let preds = (0..RUNS)
        .map(|i| {
            view! {
                <figure>
                    <canvas class="pixel" node_ref=ui.canvases.paint_pred[i] data-testid=format!("paint-pred-{i}") width="32" height="32"
                        role="img" aria-label=format!("run {} prediction on the painted image", i + 1)></canvas>
                    <figcaption>{swatch(i)}{move || settings.with(|s| format!("{} {}", i + 1, s.runs[i].loss.label()))}</figcaption>
                </figure>
            }
        })
        .collect_view();
    view! {
        <div class="tr-paint">
            <PaintCanvas mask=ui.mask size=size_sig class=paint_class erase=erase version=ui.paint_ver />
            <div class="tr-paint-tools">
                <button data-testid="paint-random" on:click=add_random_shape>"Add a random shape"</button>
                <button data-testid="paint-clear" on:click=clear_mask>"Clear the mask"</button>
                <div class="tr-field">
                    <label for="paint-class">"class painted"</label>
                    <select id="paint-class" data-testid="paint-class" on:change=move |ev| paint_class.set(if event_target_value(&ev) == "2" { 2 } else { 1 })>
                        <option value="1">"1 (structure)"</option>
                        <option value="2" prop:disabled=move || settings.with(|s| s.classes < 3)>"2 (small structure, 3-class mode)"</option>
                    </select>
                </div>
                <label class="toggle">
                    <input type="checkbox" data-testid="paint-erase" prop:checked=move || erase.get() on:change=move |ev| erase.set(event_target_checked(&ev)) />
                    " erase (paint background)"
                </label>
            </div>
            <figure>
                <canvas class="pixel" node_ref=ui.canvases.paint_image data-testid="paint-image" width="32" height="32" role="img" aria-label="the image synthesized from the painted mask"></canvas>
                <figcaption>"synthesized image"</figcaption>
            </figure>
            <div class="tr-paint-preds">{preds}</div>
        </div>
    }
}

/// The trainer panel.
#[component]
pub fn TrainerView() -> impl IntoView {
    let (initial, url_notices) = url::read();
    let url_notices = RwSignal::new(url_notices);
    let ui = Ui {
        hist: StoredValue::new_local(Vec::new()),
        mask: StoredValue::new_local(Vec::new()),
        settings: RwSignal::new(initial),
        playing: RwSignal::new(false),
        step: RwSignal::new(0),
        statuses: RwSignal::new(vec![String::new(); RUNS]),
        readouts: RwSignal::new(vec![None; RUNS]),
        versions: [(); PLOTS].map(|_| RwSignal::new(0)),
        gallery_u: RwSignal::new(Vec::new()),
        setup_error: RwSignal::new(None),
        rate: RwSignal::new(RATE.default),
        measured_rate: RwSignal::new(0.0),
        timings: RwSignal::new((0.0, 0.0)),
        paint_ver: RwSignal::new(0),
        canvases: Canvases::new(),
        phase: RwSignal::new(client::phase()),
    };
    let settings = ui.settings;
    let hard = RwSignal::new(false);
    let section = NodeRef::<leptos::html::Section>::new();

    // The worker's reports and phase, applied in animation frames. The commands below are
    // queued until the worker is ready; it is started only when the trainer is needed.
    let listener = client::subscribe(move |ev| match ev {
        Event::Phase(p) => {
            if let Phase::Failed(_) = p {
                ui.playing.set(false);
            }
            ui.phase.set(p.clone());
        }
        Event::Report(m) => apply(ui, m),
    });
    on_cleanup(move || client::unsubscribe(listener));
    ui.load();
    client::send(ToWorker::Play(false));
    if asked_for_in_url() {
        client::start();
    }
    // Near the screen (a generous margin: the code arrives before the reader does).
    Effect::new(move |_| {
        if let Some(el) = section.get() {
            crate::hooks::on_near(&el, "1500px 0px", client::start);
        }
    });

    // The settings in the URL (the `tr…` keys), through the one URL writer.
    if let Some(codecs) = crate::url::UrlCodecs::get() {
        codecs.register("trainer", true, move || settings.with(url::pairs));
    }
    // The painted mask changed: predict on it again.
    Effect::new(move |_| {
        ui.paint_ver.track();
        let size = settings.with_untracked(|s| s.size);
        let labels: Vec<u8> = ui
            .mask
            .with_value(|m| m.iter().map(|&l| l.clamp(0, 255) as u8).collect());
        client::send(ToWorker::Mask { size, labels });
    });
    // The speed limit.
    Effect::new(move |_| client::send(ToWorker::Rate(ui.rate.get())));

    // Play (also a host page's `dicelens:play`): starts once the worker is ready.
    let start_training = move |_| {
        perf::mark_input();
        ui.playing.set(true);
        client::send(ToWorker::Play(true));
        client::start();
    };
    let pause_training = move |_| {
        ui.playing.set(false);
        client::send(ToWorker::Play(false));
    };
    let step_once = move |_| {
        perf::mark_input();
        ui.playing.set(false);
        client::send(ToWorker::Step);
        client::start();
    };
    let reset_runs = move |_| {
        perf::mark_input();
        ui.playing.set(false);
        client::send(ToWorker::Play(false));
        ui.load();
    };
    let failed = move || matches!(ui.phase.get(), Phase::Failed(_));

    let plot = move |j: usize| ui.versions[j];

    view! {
        <section class="panel" id="trainer" aria-labelledby="trainer-title" node_ref=section>
            <h2 id="trainer-title">"Train a small segmentation model with four losses, live"</h2>
            <Badge origin=Origin::Model note="A toy model and synthetic data of DiceLens's, trained with the paper's losses; it illustrates the paper's claims, it does not reproduce its experiments." />
            <p class="caption" data-testid="trainer-caption">
                "Four copies of the same small CNN start from the same weights and train on the same synthetic images "
                "(blurred, noisy discs and ellipses covering 0.5% to 30% of the image), each with another loss. "
                "Press Play and watch the held-out plots. What these defaults showed when we ran them to the 500-step budget "
                "(one to two minutes): Dice ended about 9× worse calibrated than CE (ECE 0.026 against 0.003) with 98% of its "
                "pixels saturated; thresholded, CE found only 0.30× the area of small structures (under 2% of the image), "
                "Dice 1.9× and log-Dice 7× (it over-segments them); and the CE+L1 region term at T = 10, λ = 1 moved CE's "
                "small-structure size from 0.30× to 0.78× of the truth. "
                "Your numbers appear in the table below as the runs train."
            </p>
            {move || match ui.phase.get() {
                Phase::Idle => Some(view! { <p class="notice" role="status" data-testid="trainer-idle">"The trainer's code loads when this section comes near or when you press Play."</p> }.into_any()),
                Phase::Loading => Some(view! { <p class="notice" role="status" data-testid="trainer-loading">"Loading the trainer's code…"</p> }.into_any()),
                Phase::Ready => None,
                Phase::Failed(why) => Some(view! { <p class="notice error" role="alert" data-testid="trainer-load-error">{failure_text(&why)}</p> }.into_any()),
            }}
            {move || ui.setup_error.get().map(|e| view! { <p class="notice" data-testid="trainer-error">{e}</p> })}
            {move || url_notices.with(|n| (!n.is_empty()).then(|| view! {
                <div class="notice" role="status" data-testid="trainer-url-notice">
                    {n.iter().map(|m| view! { <p>{m.clone()}</p> }).collect_view()}
                    <button data-testid="trainer-url-notice-close" on:click=move |_| url_notices.set(Vec::new())>"Dismiss"</button>
                </div>
            }))}
            <div class="tr-bar" role="group" aria-label="training controls">
                <button class="primary" data-testid="play" on:click=start_training prop:disabled=move || ui.playing.get() || failed()>"▶ Play"</button>
                <button data-testid="pause" on:click=pause_training prop:disabled=move || !ui.playing.get()><svg class="icon" viewBox="0 0 10 10" width="10" height="10" aria-hidden="true"><rect x="1" y="1" width="3" height="8"></rect><rect x="6" y="1" width="3" height="8"></rect></svg>" Pause"</button>
                <button data-testid="step" on:click=step_once prop:disabled=failed>"Step +1"</button>
                <button data-testid="reset" on:click=reset_runs prop:disabled=failed>"↺ Reset"</button>
                <span class="tr-counter">"step "<span data-testid="step-counter" aria-live="off">{move || ui.step.get()}</span>
                    {move || format!(" / {}", settings.with(|s| s.steps))}</span>
                <span
                    class="tr-rate"
                    data-testid="measured-rate"
                    data-step-ms=move || format!("{:.2}", ui.timings.get().0)
                    data-eval-ms=move || format!("{:.2}", ui.timings.get().1)
                >
                    {move || if ui.playing.get() { format!("≈ {:.0} steps/s per run", ui.measured_rate.get() / (settings.with(Settings::active_runs).max(1) as f64)) } else { String::new() }}
                </span>
            </div>
            <fieldset>
                <legend>"Runs: one loss each (colour and dash mark a run in every plot)"</legend>
                <div class="tr-runs">{controls::run_cards(ui)}</div>
            </fieldset>
            {controls::shared_settings(ui)}
            {readouts_table(ui)}
            <div class="tr-plots">
                <div>
                    <PlotCanvas
                        draw=move |area, style| {
                            plot(0).track();
                            let t = perf::now();
                            ui.hist.with_value(|h| draw_train_loss(area, h, style).ok());
                            perf::record_work("plot-train-loss", perf::now() - t);
                            None
                        }
                        label="Training loss of each run against the step"
                        testid="plot-train-loss"
                        export=Callback::new(move |_| Some(Figure::Trainer(TrainerPlot::TrainLoss, ui.hist.with_value(|h| h.clone()), hard.get_untracked())))
                        export_name="dicelens-trainer-loss"
                        aspect=0.7
                    />
                </div>
                <div>
                    <label class="toggle">
                        <input type="checkbox" data-testid="tr-hard"
                            prop:checked=move || hard.get()
                            on:change=move |ev| hard.set(event_target_checked(&ev)) />
                        " thresholded predictions (p > 0.5) instead of soft (mean probability)"
                    </label>
                    <PlotCanvas
                        draw=move |area, style| {
                            plot(1).track();
                            let hard = hard.get();
                            let t = perf::now();
                            ui.hist.with_value(|h| draw_proportions(area, h, hard, style).ok());
                            perf::record_work("plot-proportions", perf::now() - t);
                            None
                        }
                        label="Predicted against ground-truth foreground proportion, one marker per held-out image and run, log axes, with the diagonal"
                        testid="plot-proportions"
                        export=Callback::new(move |_| Some(Figure::Trainer(TrainerPlot::Proportions, ui.hist.with_value(|h| h.clone()), hard.get_untracked())))
                        export_name="dicelens-trainer-proportions"
                        aspect=0.7
                    />
                </div>
            </div>
            <div class="tr-wide">
                <PlotCanvas
                    draw=move |area, style| {
                        plot(2).track();
                        let hard = hard.get();
                        let t = perf::now();
                        ui.hist.with_value(|h| draw_size_bins(area, h, hard, style).ok());
                        perf::record_work("plot-size-bins", perf::now() - t);
                        None
                    }
                    label="Mean predicted over true proportion per size bin (small, medium, large) over training"
                    testid="plot-size-bins"
                    export=Callback::new(move |_| Some(Figure::Trainer(TrainerPlot::SizeBins, ui.hist.with_value(|h| h.clone()), hard.get_untracked())))
                    export_name="dicelens-trainer-size-bins"
                    aspect=0.36
                />
            </div>
            <div class="tr-wide">
                <PlotCanvas
                    draw=move |area, style| {
                        plot(3).track();
                        let t = perf::now();
                        ui.hist.with_value(|h| draw_overlap(area, h, style).ok());
                        perf::record_work("plot-overlap", perf::now() - t);
                        None
                    }
                    label="Held-out Dice and IoU of each run over training"
                    testid="plot-overlap"
                    export=Callback::new(move |_| Some(Figure::Trainer(TrainerPlot::Overlap, ui.hist.with_value(|h| h.clone()), hard.get_untracked())))
                    export_name="dicelens-trainer-overlap"
                    aspect=0.36
                />
            </div>
            <div class="tr-wide">
                <PlotCanvas
                    draw=move |area, style| {
                        plot(4).track();
                        let t = perf::now();
                        ui.hist.with_value(|h| draw_calibration(area, h, style).ok());
                        perf::record_work("plot-calibration", perf::now() - t);
                        None
                    }
                    label="Calibration: reliability diagram, expected calibration error and saturated fraction over training"
                    testid="plot-calibration"
                    export=Callback::new(move |_| Some(Figure::Trainer(TrainerPlot::Calibration, ui.hist.with_value(|h| h.clone()), hard.get_untracked())))
                    export_name="dicelens-trainer-calibration"
                    aspect=0.36
                />
            </div>
            <h3>"Held-out images"</h3>
            <p class="tr-note">"Each row: the input with its ground-truth contour (orange), then each run's foreground probability (dark = 0, yellow = 1) with the true contour in red."</p>
            {gallery::gallery_view(settings, ui.gallery_u, ui.canvases)}
            <h3>"Paint your own"</h3>
            <p class="tr-note">
                "Paint a ground-truth mask (mouse, pen or finger; or add random shapes with the button). "
                "The image is synthesized from it with the current noise and blur, and every run predicts on it live."
            </p>
            {paint_section(ui)}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::settings::RunLoss;
    use super::*;

    #[test]
    fn readouts_never_hold_non_finite_numbers() {
        let m = Metrics {
            step: 3,
            loss: Some(f64::NAN),
            ratio_soft: Some(1.5),
            ratio_hard: None,
            ratio_hard_small: Some(f64::INFINITY),
            dice: Some(0.5),
            iou: None,
            ece: Some(0.01),
            saturated: Some(0.9),
            points: Vec::new(),
            size_bins: Vec::new(),
            reliability: Vec::new(),
        };
        let r = Readout::of(&m);
        assert_eq!((r.step, r.loss, r.ratio_soft), (3, None, Some(1.5)));
        assert_eq!((r.ratio_hard_small, r.dice), (None, Some(0.5)));
        assert_eq!(fmt_opt(r.loss, |v| format!("{v}")), "—");
    }

    #[test]
    fn run_losses_label_the_runs() {
        let mut s = Settings::default();
        assert_eq!(s.label(3), "4 CE+L1 (λ=1, T=10)");
        s.runs[0].loss = RunLoss::Off;
        assert_eq!(s.active_runs(), 3);
    }
}
