//! View: a toy segmentation trainer in the browser. Up to four runs train side by side on the
//! same synthetic data from the same initial weights, each with its own loss, and the held-out
//! plots show what each loss does to the trained model's sizes and confidence.
//!
//! - [`settings`]: what defines the runs (losses as an enum; numeric fields from the core's
//!   one table, `dicelens_core::train::fields`);
//! - [`url`]: the `tr…` URL keys to settings and back (lenient and strict);
//! - [`engine`]: the frame scheduler (no browser types; tested natively with a fake clock);
//! - [`controls`]: the form; [`gallery`]: the held-out images; [`paint`]: pixel drawing;
//! - this file: the panel, and the animation-frame loop that applies the engine's reports.
//!
//! The styles are in `style/trainer.css`.

pub mod controls;
pub mod engine;
pub mod gallery;
pub mod paint;
pub mod settings;
pub mod url;

use dicelens_core::train::{Dataset, Metrics, Sample, Trainer};
use dicelens_plot::figure::{Figure, TrainerPlot};
use dicelens_plot::trainer::{
    draw_calibration, draw_overlap, draw_proportions, draw_size_bins, draw_train_loss,
    run_dasharray, run_style, HistPoint, RunTrace, RUNS,
};
use leptos::prelude::*;

use crate::widgets::badge::{Badge, Origin};
use crate::widgets::paint::{paint_disc, random_shape, PaintCanvas};
use crate::widgets::perf;
use crate::widgets::plot_canvas::PlotCanvas;
use engine::{Draw, Engine, TickInput, PLOTS};
use paint::Canvases;
use settings::{Settings, RATE};

/// Training-loss points kept per run before the history is thinned.
const LOSS_POINTS: usize = 1500;

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

/// The training state: not reactive, not `Send`; only the animation-frame loop and a few
/// handlers touch it.
#[derive(Default)]
struct Live {
    engine: Engine<Trainer>,
    /// The settings the runs were built with.
    settings: Settings,
    /// The gallery's held-out images.
    gallery: Vec<usize>,
    /// The image synthesized from the painted mask.
    paint: Option<Sample>,
    /// Rebuild the runs on the next frame.
    needs_reset: bool,
}

/// Reactive handles shared by the view, the form and the loop (all `Copy`).
#[derive(Clone, Copy)]
pub struct Ui {
    live: StoredValue<Live, LocalStorage>,
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
    /// The animation loop: `None` when stopped, else how many frames in a row had no work.
    looping: StoredValue<Option<u32>>,
}

impl Ui {
    /// Starts the animation loop if it is stopped (Play, Step, a setting, a painted mask).
    fn wake(&self) {
        if self.looping.get_value().is_none() {
            self.looping.set_value(Some(0));
            schedule(*self);
        }
    }

    /// Changes the settings; a change resets the runs (the loop rebuilds them on its next
    /// frame).
    fn change(&self, f: impl FnOnce(&mut Settings)) {
        perf::mark_input();
        let mut s = self.settings.get_untracked();
        f(&mut s);
        if s != self.settings.get_untracked() {
            self.settings.set(s);
            self.live.update_value(|l| l.needs_reset = true);
            self.wake();
        }
    }
}

/// Rebuilds the data (when its settings changed) and every run from the settings.
fn reset(ui: Ui, l: &mut Live, now: f64) {
    let s = ui.settings.get_untracked();
    let dc = s.data_config();
    let mut error = None;
    let data = match l.engine.take_data() {
        Some(d) if d.config == dc => Some(d),
        _ => match Dataset::new(&dc) {
            Ok(d) => Some(d),
            Err(err) => {
                error = Some(err.to_string());
                None
            }
        },
    };
    let mut runs = Vec::with_capacity(RUNS);
    for i in 0..RUNS {
        runs.push(match (&data, s.train_config(i)) {
            (Some(d), Some(cfg)) => Trainer::new(cfg, d).map(Some).map_err(|err| {
                error = Some(err.to_string());
                err.to_string()
            }),
            _ => Ok(None),
        });
    }
    if let Some(d) = &data {
        let picked = gallery::pick(d);
        l.gallery = picked.iter().map(|p| p.0).collect();
        ui.gallery_u.set(picked.iter().map(|p| p.1).collect());
    }
    l.engine.load(now, data, runs);
    ui.setup_error.set(error);
    ui.hist.set_value(
        (0..RUNS)
            .filter(|&i| l.engine.run(i).is_some())
            .map(|i| RunTrace {
                slot: i,
                label: s.label(i),
                ..RunTrace::default()
            })
            .collect(),
    );
    l.settings = s;
    // The painted mask follows the image size.
    let w = l.settings.size;
    if ui.mask.with_value(|m| m.len() != w * w) {
        let mut m = vec![0; w * w];
        let wf = w as f64;
        paint_disc(&mut m, w, wf * 0.4, wf * 0.55, wf * 0.12, 1);
        ui.mask.set_value(m);
        ui.paint_ver.update(|v| *v = v.wrapping_add(1));
    }
    l.needs_reset = false;
    ui.step.set(0);
    ui.readouts.set(vec![None; RUNS]);
    for v in ui.versions {
        v.update(|x| *x = x.wrapping_add(1));
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

/// One animation frame of the training loop.
/// One animation frame of the trainer; whether it did any work.
fn frame(ui: Ui) -> bool {
    let t0 = perf::now();
    let mut worked = true;
    let playing = ui.playing.get_untracked();
    let rate = ui.rate.get_untracked();
    let mut plot_now = None;
    ui.live.update_value(|l| {
        if l.needs_reset || !l.engine.is_loaded() {
            reset(ui, l, t0);
            return;
        }
        let input = TickInput {
            playing,
            rate,
            clock: &perf::now,
        };
        let report = l.engine.tick(t0, &input);
        worked = report.did_work();
        for (name, ms) in &report.work {
            perf::record_work(name, *ms);
        }
        if !report.losses.is_empty() {
            ui.hist.update_value(|h| {
                for &(i, step, loss) in &report.losses {
                    let st = step as f64;
                    if let Some(t) = h.iter_mut().find(|t| t.slot == i) {
                        if t.train_loss.last().map(|p| p.0) != Some(st) {
                            t.push_train_loss(st, loss, LOSS_POINTS);
                        }
                    }
                }
            });
        }
        if let Some(fresh) = &report.evaluated {
            apply_evaluation(ui, &l.settings, fresh);
        }
        for d in &report.draw {
            match *d {
                Draw::Plot(j) => plot_now = Some(j),
                Draw::Gallery(i) => {
                    let t = perf::now();
                    paint::draw_gallery(&l.engine, &l.gallery, i, &ui.canvases);
                    perf::record_work("gallery", perf::now() - t);
                }
                Draw::Paint { resynth } => {
                    let t = perf::now();
                    let drawn = ui.mask.with_value(|m| {
                        paint::draw_paint(
                            &l.engine,
                            &l.settings,
                            m,
                            &mut l.paint,
                            resynth,
                            &ui.canvases,
                        )
                    });
                    if let Err(e) = drawn {
                        ui.setup_error.set(Some(e));
                    }
                    perf::record_work("paint", perf::now() - t);
                }
            }
        }
        if let Some((r, step_ms, eval_ms)) = report.timings {
            if ui.measured_rate.get_untracked() != r {
                ui.measured_rate.set(r);
            }
            ui.timings.set((step_ms, eval_ms));
        }
        // Step counter and statuses (DOM updates only when they changed).
        if ui.step.get_untracked() != report.completed {
            ui.step.set(report.completed);
        }
        let st: Vec<String> = (0..RUNS)
            .map(|i| l.engine.status_text(i, playing))
            .collect();
        if ui.statuses.with_untracked(|s| *s != st) {
            ui.statuses.set(st);
        }
        if report.stop_playing {
            ui.playing.set(false);
        }
    });
    perf::record_work("frame", perf::now() - t0);
    if let Some(j) = plot_now {
        ui.versions[j].update(|v| *v = v.wrapping_add(1));
    }
    worked
}

/// Frames in a row without work after which a paused trainer's loop stops.
const IDLE_FRAMES: u32 = 3;

/// Runs the loop while there is work: while playing, and until a few frames in a row had none
/// (then [`Ui::wake`] starts it again). An idle page runs no frame callback at all.
fn schedule(ui: Ui) {
    request_animation_frame(move || {
        let Some(idle) = ui.looping.try_get_value().flatten() else {
            return;
        };
        let worked = frame(ui);
        let idle = if worked || ui.playing.get_untracked() {
            0
        } else {
            idle + 1
        };
        if idle >= IDLE_FRAMES {
            ui.looping.set_value(None);
        } else {
            ui.looping.set_value(Some(idle));
            schedule(ui);
        }
    });
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
        live: StoredValue::new_local(Live {
            needs_reset: true,
            ..Live::default()
        }),
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
        looping: StoredValue::new(None),
    };
    let settings = ui.settings;
    let hard = RwSignal::new(false);
    ui.wake();

    // The settings in the URL (the `tr…` keys), through the one URL writer.
    if let Some(codecs) = crate::url::UrlCodecs::get() {
        codecs.register("trainer", true, move || settings.with(url::pairs));
    }
    // The painted mask changed: predict on it again.
    Effect::new(move |_| {
        ui.paint_ver.track();
        ui.live.update_value(|l| l.engine.mark_paint_dirty());
        ui.wake();
    });
    // Play (also from a host page's `dicelens:play`) starts the loop.
    Effect::new(move |_| {
        if ui.playing.get() {
            ui.wake();
        }
    });

    let start_training = move |_| {
        perf::mark_input();
        ui.playing.set(true);
    };
    let pause_training = move |_| ui.playing.set(false);
    let step_once = move |_| {
        perf::mark_input();
        ui.playing.set(false);
        ui.live.update_value(|l| {
            if !l.needs_reset {
                l.engine.step_once();
            }
        });
        ui.wake();
    };
    let reset_runs = move |_| {
        perf::mark_input();
        ui.playing.set(false);
        ui.live.update_value(|l| l.needs_reset = true);
        ui.wake();
    };

    let plot = move |j: usize| ui.versions[j];

    view! {
        <section class="panel" id="trainer" aria-labelledby="trainer-title">
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
            {move || ui.setup_error.get().map(|e| view! { <p class="notice" data-testid="trainer-error">{e}</p> })}
            {move || url_notices.with(|n| (!n.is_empty()).then(|| view! {
                <div class="notice" role="status" data-testid="trainer-url-notice">
                    {n.iter().map(|m| view! { <p>{m.clone()}</p> }).collect_view()}
                    <button data-testid="trainer-url-notice-close" on:click=move |_| url_notices.set(Vec::new())>"Dismiss"</button>
                </div>
            }))}
            <div class="tr-bar" role="group" aria-label="training controls">
                <button class="primary" data-testid="play" on:click=start_training prop:disabled=move || ui.playing.get()>"▶ Play"</button>
                <button data-testid="pause" on:click=pause_training prop:disabled=move || !ui.playing.get()><svg class="icon" viewBox="0 0 10 10" width="10" height="10" aria-hidden="true"><rect x="1" y="1" width="3" height="8"></rect><rect x="6" y="1" width="3" height="8"></rect></svg>" Pause"</button>
                <button data-testid="step" on:click=step_once>"Step +1"</button>
                <button data-testid="reset" on:click=reset_runs>"↺ Reset"</button>
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
