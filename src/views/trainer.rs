//! View: a toy segmentation trainer in the browser. Up to four runs train side by side on the
//! same synthetic data from the same initial weights, each with its own loss, and the held-out
//! plots show what each loss does to the trained model's sizes and confidence.
//!
//! Training is time-sliced in a `requestAnimationFrame` loop, in pieces small enough that no
//! frame runs long: a training step is split into slices of a few images of its forward or
//! backward pass (`Trainer::step_some`), [`STEP_BUDGET_MS`] of them per frame; a held-out
//! evaluation into slices of a few images (`EvalCursor`, [`EVAL_BUDGET_MS`] per frame); and
//! after an evaluation one plot or one gallery column is redrawn per frame. Both slicings give
//! bit-identical numbers to the one-shot calls. The trainers live in a local `StoredValue`
//! (they are not `Send`); the plots read a small history per run.

use dicelens_core::train::{
    loss_from_name, DataConfig, Dataset, EvalCursor, Metrics, ModelKind, OptimizerKind, Sample,
    Status, TrainConfig, Trainer,
};
use dicelens_core::RegionConfig;
use dicelens_plot::trainer::{
    draw_calibration, draw_overlap, draw_proportions, draw_size_bins, draw_train_loss,
    run_dasharray, run_style, HistPoint, RunTrace, RUNS,
};
use leptos::prelude::*;

use crate::widgets::badge::{Badge, Origin};

use crate::widgets::paint::{
    gray_rgba, overlay_contour, paint_disc, prob_rgba, put_rgba_by_testid, random_shape,
    PaintCanvas,
};
use crate::widgets::perf;
use crate::widgets::plot_canvas::PlotCanvas;
use dicelens_plot::figure::{Figure, TrainerPlot};

/// Milliseconds of work per animation frame (across all runs), evaluation included: slices
/// of training steps (a few images each) are taken while they are expected to end within the
/// budget; a frame with nothing else to do takes at least one (a single image). 8 ms leaves
/// the browser the rest of a 16.7 ms frame even when a slice overruns its estimate (at 10 ms
/// the frame's work had a p95 of 11.8 ms and one frame in twenty was dropped).
pub const STEP_BUDGET_MS: f64 = 8.0;
/// Milliseconds of held-out evaluation per animation frame: an evaluation of the 64 held-out
/// images (about 20 ms per run in WASM) is spread over several frames, a few images at a time.
pub const EVAL_BUDGET_MS: f64 = 4.0;
/// Minimum time between the starts of two rounds of held-out evaluation while playing.
const EVAL_EVERY_MS: f64 = 1000.0;
/// Training-loss points kept per run before the history is thinned.
const LOSS_POINTS: usize = 1500;
/// Held-out images in the gallery.
const GALLERY: usize = 4;

/// The losses a run can use: key (as [`loss_from_name`] takes it) and label.
const LOSSES: [(&str, &str); 7] = [
    ("off", "off"),
    ("ce", "CE"),
    ("dice", "Dice"),
    ("log-dice", "log-Dice"),
    ("dice-ce", "Dice+CE"),
    ("ce-l1", "CE+L1"),
    ("ce-kl", "CE+KL"),
];

fn loss_label(key: &str) -> &'static str {
    LOSSES
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, l)| *l)
        .unwrap_or("off")
}

fn has_region(key: &str) -> bool {
    key == "ce-l1" || key == "ce-kl"
}

/// One run's loss and region-term settings.
#[derive(Debug, Clone, Copy, PartialEq)]
struct RunSetting {
    loss: &'static str,
    lambda: f64,
    temp: f64,
}

/// Everything that defines the runs; changing any of it resets them.
#[derive(Debug, Clone, PartialEq)]
struct Settings {
    model: ModelKind,
    optimizer: OptimizerKind,
    lr: f64,
    cosine: bool,
    batch: usize,
    steps: usize,
    seed: u64,
    size: usize,
    classes: usize,
    noise: f64,
    blur: f64,
    runs: [RunSetting; RUNS],
}

impl Default for Settings {
    fn default() -> Self {
        let t = TrainConfig::default();
        let d = DataConfig::default();
        let a = RegionConfig::AUTHORS;
        let run = |loss| RunSetting {
            loss,
            lambda: a.lambda,
            temp: a.temp,
        };
        Self {
            model: t.model,
            optimizer: t.optimizer,
            lr: t.lr,
            cosine: t.cosine,
            batch: t.batch,
            steps: t.steps,
            seed: t.seed,
            size: d.size,
            classes: d.classes,
            noise: d.noise,
            blur: d.blur,
            runs: [run("ce"), run("dice"), run("log-dice"), run("ce-l1")],
        }
    }
}

impl Settings {
    fn data_config(&self) -> DataConfig {
        DataConfig {
            size: self.size,
            classes: self.classes,
            noise: self.noise,
            blur: self.blur,
            seed: self.seed,
            ..DataConfig::default()
        }
    }

    fn train_config(&self, i: usize) -> Option<TrainConfig> {
        let r = self.runs[i];
        Some(TrainConfig {
            model: self.model,
            loss: loss_from_name(r.loss)?,
            region: RegionConfig {
                lambda: r.lambda,
                temp: r.temp,
            },
            optimizer: self.optimizer,
            lr: self.lr,
            batch: self.batch,
            steps: self.steps,
            cosine: self.cosine,
            seed: self.seed,
        })
    }

    fn label(&self, i: usize) -> String {
        let r = self.runs[i];
        if has_region(r.loss) {
            format!(
                "{} {} (λ={}, T={})",
                i + 1,
                loss_label(r.loss),
                r.lambda,
                r.temp
            )
        } else {
            format!("{} {}", i + 1, loss_label(r.loss))
        }
    }
}

/// The held-out numbers shown next to each run.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Readout {
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

/// Which plot the loop redraws next after an evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Publish {
    Plot(usize),
    /// One run's column of the gallery (run 0 also draws the input images).
    Gallery(usize),
    Paint,
}

/// Plots redrawn after each evaluation (index into the version signals).
const PLOTS: usize = 5;

/// The training state: not reactive, not `Send`; only the animation-frame loop and a few
/// handlers touch it.
#[derive(Default)]
struct Engine {
    settings: Settings,
    data: Option<Dataset>,
    runs: Vec<Option<Trainer>>,
    /// Every running run steps up to this count (runs move in lockstep).
    target: usize,
    /// Steps the rate limit still allows.
    credit: f64,
    last_frame: f64,
    last_eval: f64,
    last_eval_step: Option<usize>,
    /// The evaluations of the current round, one per run, all started at the same step
    /// (each cursor holds a copy of its run's weights, so training goes on meanwhile); the
    /// loop works through them a few images per frame, last first.
    evals: Vec<(usize, EvalCursor)>,
    fresh: Vec<Option<Metrics>>,
    publish: Vec<Publish>,
    needs_reset: bool,
    gallery: Vec<usize>,
    paint: Option<Sample>,
    paint_dirty: bool,
    last_paint: f64,
    rate_t0: f64,
    rate_steps: usize,
    /// Running mean of one training step's time (ms), to plan the frame budget.
    step_ms: f64,
    /// Running mean of the evaluation work done in a frame (ms).
    eval_ms: f64,
    /// Running mean of one held-out image's evaluation time (ms), to plan the frame budget.
    eval_img_ms: f64,
    /// Running estimate of one image's share of a training step (ms; a step is spread over
    /// frames a few images at a time).
    img_ms: f64,
    /// Time spent so far on each run's step in progress (ms).
    slice_ms: [f64; RUNS],
}

impl Engine {
    fn completed(&self) -> usize {
        let live = self
            .runs
            .iter()
            .flatten()
            .filter(|r| r.status().divergence().is_none());
        live.map(|r| r.steps_done()).min().unwrap_or(0)
    }

    fn any_running(&self) -> bool {
        self.runs.iter().flatten().any(|r| r.status().is_running())
    }
}

/// Reactive handles shared by the view and the loop (all `Copy`).
#[derive(Clone, Copy)]
struct Ui {
    engine: StoredValue<Engine, LocalStorage>,
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
}

fn status_text(t: Option<&Trainer>, playing: bool) -> String {
    match t {
        None => "off".into(),
        Some(r) => match r.status() {
            Status::Running if r.steps_done() == 0 => "ready".into(),
            Status::Running if playing => format!("training (step {})", r.steps_done()),
            Status::Running => format!("paused at step {}", r.steps_done()),
            Status::Done => format!("done: step budget of {} reached", r.steps_done()),
            Status::Diverged(d) => d.to_string(),
        },
    }
}

/// Rebuilds data (when its settings changed) and every run from the settings.
fn reset(ui: Ui, e: &mut Engine) {
    let s = ui.settings.get_untracked();
    let dc = s.data_config();
    let mut error = None;
    if e.data.as_ref().map(|d| &d.config) != Some(&dc) {
        match Dataset::new(&dc) {
            Ok(d) => e.data = Some(d),
            Err(err) => {
                e.data = None;
                error = Some(err.to_string());
            }
        }
    }
    e.settings = s.clone();
    e.runs = (0..RUNS).map(|_| None).collect();
    e.fresh = (0..RUNS).map(|_| None).collect();
    e.target = 0;
    e.credit = 0.0;
    e.evals.clear();
    e.slice_ms = [0.0; RUNS];
    e.publish.clear();
    e.last_eval_step = None;
    if let Some(data) = &e.data {
        for i in 0..RUNS {
            if let Some(cfg) = s.train_config(i) {
                match Trainer::new(cfg, data) {
                    Ok(t) => e.runs[i] = Some(t),
                    Err(err) => error = Some(err.to_string()),
                }
            }
        }
        // Gallery: held-out images at spread-out foreground proportions.
        let n = data.test.len();
        let mut by_u: Vec<(f64, usize)> = (0..n)
            .map(|i| {
                let fg: f64 = (1..data.classes() as i64)
                    .map(|k| data.test.proportion(i, k))
                    .sum();
                (fg, i)
            })
            .collect();
        by_u.sort_by(|a, b| a.0.total_cmp(&b.0));
        e.gallery = [0.05, 0.35, 0.65, 0.95]
            .iter()
            .take(GALLERY)
            .map(|q| by_u[((q * n as f64) as usize).min(n - 1)].1)
            .collect();
        ui.gallery_u.set(
            e.gallery
                .iter()
                .map(|&i| by_u.iter().find(|p| p.1 == i).map(|p| p.0).unwrap_or(0.0))
                .collect(),
        );
    }
    ui.setup_error.set(error);
    ui.hist.set_value(
        (0..RUNS)
            .filter(|&i| e.runs[i].is_some())
            .map(|i| RunTrace {
                slot: i,
                label: s.label(i),
                ..RunTrace::default()
            })
            .collect(),
    );
    // The painted mask follows the image size.
    let w = s.size;
    let resized = ui.mask.with_value(|m| m.len() != w * w);
    if resized {
        let mut m = vec![0; w * w];
        paint_disc(
            &mut m,
            w,
            w as f64 * 0.4,
            w as f64 * 0.55,
            w as f64 * 0.12,
            1,
        );
        ui.mask.set_value(m);
        ui.paint_ver.update(|v| *v = v.wrapping_add(1));
    }
    e.paint_dirty = true;
    e.needs_reset = false;
    ui.step.set(0);
    ui.readouts.set(vec![None; RUNS]);
    for v in ui.versions {
        v.update(|x| *x = x.wrapping_add(1));
    }
}

/// Foreground probability of a prediction `(K, H, W)`: binary, the one channel; multiclass,
/// `1 − p(background)`.
fn foreground(p: &[f64], k: usize, n: usize) -> Vec<f64> {
    if k <= 1 {
        p[..n.min(p.len())].to_vec()
    } else {
        p[..n.min(p.len())].iter().map(|b| 1.0 - b).collect()
    }
}

const CONTOUR_IMG: [u8; 3] = [230, 159, 0];
const CONTOUR_PRED: [u8; 3] = [240, 60, 60];

/// Draws run `i`'s column of the gallery (its probability maps), and for run 0 the inputs
/// too: one column per frame keeps each frame's work small.
fn draw_gallery(e: &Engine, i: usize) {
    let Some(data) = &e.data else { return };
    let w = data.size();
    let n = w * w;
    for (g, &idx) in e.gallery.iter().enumerate() {
        let (Some(img), Some(lab)) = (
            data.test.images.outer_iter().nth(idx),
            data.test.labels.outer_iter().nth(idx),
        ) else {
            continue;
        };
        let labels: Vec<i64> = lab.iter().copied().collect();
        if i == 0 {
            let pixels: Vec<f64> = img.iter().copied().collect();
            let mut rgba = gray_rgba(&pixels);
            overlay_contour(&mut rgba, &labels, w, CONTOUR_IMG);
            put_rgba_by_testid(&format!("gallery-img-{g}"), &rgba, w as u32, w as u32);
        }
        if let Some(run) = e.runs.get(i) {
            let id = format!("gallery-pred-{g}-{i}");
            let Some(run) = run else {
                put_rgba_by_testid(&id, &vec![128; 4 * n], w as u32, w as u32);
                continue;
            };
            let p = run.predict(img);
            let k = p.shape()[0];
            let Some(ps) = p.as_slice() else { continue };
            let mut rgba = prob_rgba(&foreground(ps, k, n));
            overlay_contour(&mut rgba, &labels, w, CONTOUR_PRED);
            put_rgba_by_testid(&id, &rgba, w as u32, w as u32);
        }
    }
}

/// Synthesizes the painted image (when the mask or the data settings changed) and draws it
/// and every run's prediction on it.
fn draw_paint(ui: Ui, e: &mut Engine, resynth: bool) {
    let Some(data) = &e.data else { return };
    let w = data.size();
    let n = w * w;
    let max_class = data.classes() as i64 - 1;
    let mask: Vec<i64> = ui
        .mask
        .with_value(|m| m.iter().map(|&l| l.clamp(0, max_class)).collect());
    if mask.len() != n {
        return;
    }
    if resynth || e.paint.is_none() {
        // A template of the right shape (the app names no ndarray type), then the mask.
        let Some(template) = data.test.labels.outer_iter().next() else {
            return;
        };
        let mut labels = template.to_owned();
        let Some(slice) = labels.as_slice_mut() else {
            return;
        };
        slice.copy_from_slice(&mask);
        let s = &e.settings;
        match Dataset::from_mask(labels.view(), s.noise, s.blur, s.seed ^ 0x9A17) {
            Ok(sample) => e.paint = Some(sample),
            Err(err) => {
                ui.setup_error.set(Some(err.to_string()));
                return;
            }
        }
    }
    let Some(sample) = &e.paint else { return };
    let pixels: Vec<f64> = sample.image.iter().copied().collect();
    let mut rgba = gray_rgba(&pixels);
    overlay_contour(&mut rgba, &mask, w, CONTOUR_IMG);
    put_rgba_by_testid("paint-image", &rgba, w as u32, w as u32);
    for (i, run) in e.runs.iter().enumerate() {
        let id = format!("paint-pred-{i}");
        let Some(run) = run else {
            put_rgba_by_testid(&id, &vec![128; 4 * n], w as u32, w as u32);
            continue;
        };
        let p = run.predict(sample.image.view());
        let k = p.shape()[0];
        let Some(ps) = p.as_slice() else { continue };
        let mut rgba = prob_rgba(&foreground(ps, k, n));
        overlay_contour(&mut rgba, &mask, w, CONTOUR_PRED);
        put_rgba_by_testid(&id, &rgba, w as u32, w as u32);
    }
}

/// One animation frame of the training loop.
fn frame(ui: Ui) {
    let t0 = perf::now();
    let playing = ui.playing.get_untracked();
    let mut publish_now = None;
    ui.engine.update_value(|e| {
        let dt = (t0 - e.last_frame).clamp(0.0, 100.0);
        e.last_frame = t0;
        if e.needs_reset || e.runs.is_empty() {
            reset(ui, e);
            return;
        }
        // 1. Held-out evaluation for a part of the frame budget, or one redraw, per frame
        // (training takes the rest of the budget, below).
        let mut drew = false;
        if !e.evals.is_empty() {
            let t = perf::now();
            if let Some(data) = e.data.as_ref() {
                while let Some((i, cursor)) = e.evals.last_mut() {
                    let left = EVAL_BUDGET_MS - (perf::now() - t0);
                    // At least one image per frame, so an evaluation always finishes.
                    let images = ((left / e.eval_img_ms.max(0.01)) as usize).max(1);
                    let started = perf::now();
                    let done_before = cursor.done();
                    let result = cursor.evaluate_chunk(data, images);
                    let done = cursor.done() - done_before;
                    if done > 0 {
                        let per = (perf::now() - started) / done as f64;
                        e.eval_img_ms = 0.8 * e.eval_img_ms + 0.2 * per;
                    }
                    match result {
                        Ok(None) => break,
                        Ok(Some(m)) => e.fresh[*i] = Some(m),
                        Err(_) => {}
                    }
                    e.evals.pop();
                    if perf::now() - t0 + e.eval_img_ms > EVAL_BUDGET_MS {
                        break;
                    }
                }
            }
            let spent = perf::now() - t;
            e.eval_ms = 0.8 * e.eval_ms + 0.2 * spent;
            perf::record_work("eval", spent);
            if e.evals.is_empty() {
                let s = e.settings.clone();
                let fresh = std::mem::take(&mut e.fresh);
                ui.hist.update_value(|h| {
                    for t in h.iter_mut() {
                        if let Some(Some(m)) = fresh.get(t.slot) {
                            t.history.push(HistPoint::from_metrics(m));
                            t.latest = Some(m.clone());
                            t.label = s.label(t.slot);
                        }
                    }
                });
                ui.readouts
                    .set(fresh.iter().map(|m| m.as_ref().map(Readout::of)).collect());
                e.fresh = (0..RUNS).map(|_| None).collect();
                // Popped from the end: the plots first, then the gallery run by run.
                e.publish = vec![Publish::Paint];
                e.publish.extend((0..RUNS).rev().map(Publish::Gallery));
                e.publish.extend((0..PLOTS).rev().map(Publish::Plot));
            }
        } else if let Some(p) = e.publish.pop() {
            drew = true;
            match p {
                Publish::Plot(j) => publish_now = Some(j),
                Publish::Gallery(run) => {
                    let t = perf::now();
                    draw_gallery(e, run);
                    perf::record_work("gallery", perf::now() - t);
                }
                Publish::Paint => {
                    let t = perf::now();
                    let resynth = e.paint_dirty;
                    draw_paint(ui, e, resynth);
                    e.paint_dirty = false;
                    perf::record_work("paint", perf::now() - t);
                }
            }
        }
        // 2. The painted mask changed: redraw its predictions (throttled).
        if e.paint_dirty && t0 - e.last_paint > 50.0 {
            let t = perf::now();
            draw_paint(ui, e, true);
            perf::record_work("paint", perf::now() - t);
            e.paint_dirty = false;
            e.last_paint = t0;
            drew = true;
        }
        // 3. Training, within the frame budget (less when a plot redraws this frame).
        let rate = ui.rate.get_untracked();
        if playing {
            e.credit = (e.credit + dt * rate / 1000.0).min((rate * 0.1).max(1.0));
        } else {
            e.credit = 0.0;
        }
        // A plot redrawn this frame draws after this callback: leave it the time.
        let budget = if drew {
            STEP_BUDGET_MS * 0.4
        } else {
            STEP_BUDGET_MS
        };
        let mut sliced = 0;
        if let Some(data) = e.data.as_ref() {
            loop {
                let elapsed = perf::now() - t0;
                let left = budget - elapsed;
                let fits = left >= e.img_ms;
                let alone = sliced == 0 && !drew && elapsed < 2.0;
                if !(fits || alone) {
                    break;
                }
                // A step in progress first, then the run furthest behind the target.
                let next = e
                    .runs
                    .iter()
                    .enumerate()
                    .filter_map(|(i, r)| r.as_ref().map(|r| (i, r)))
                    .filter(|(_, r)| r.status().is_running() && r.steps_done() < e.target)
                    .min_by_key(|(_, r)| (!r.step_in_progress(), r.steps_done()))
                    .map(|(i, _)| i);
                match next {
                    Some(i) => {
                        let Some(run) = e.runs[i].as_mut() else { break };
                        // A slice of a step: as many images of its forward or backward pass
                        // as fit in what is left of the budget.
                        let images = ((left / e.img_ms.max(0.01)) as usize).max(1);
                        let t = perf::now();
                        let Ok(result) = run.step_some(data, images) else {
                            break;
                        };
                        let took = perf::now() - t;
                        perf::record_work("step-slice", took);
                        e.slice_ms[i] += took;
                        sliced += 1;
                        if result.is_none() {
                            // Exactly `images` images: adapt fast upwards, slowly downwards.
                            let per = took / images as f64;
                            e.img_ms = if per > e.img_ms {
                                per
                            } else {
                                0.9 * e.img_ms + 0.1 * per
                            };
                            continue;
                        }
                        let full = std::mem::take(&mut e.slice_ms[i]);
                        e.step_ms = 0.9 * e.step_ms + 0.1 * full;
                        perf::record_work("step", full);
                        e.rate_steps += 1;
                        if let Some(l) = run.last_loss() {
                            let st = run.steps_done() as f64;
                            ui.hist.update_value(|h| {
                                if let Some(t) = h.iter_mut().find(|t| t.slot == i) {
                                    if t.train_loss.last().map(|p| p.0) != Some(st) {
                                        t.push_train_loss(st, l, LOSS_POINTS);
                                    }
                                }
                            });
                        }
                    }
                    None if playing && e.credit >= 1.0 && e.any_running() => {
                        e.target = e.completed() + 1;
                        e.credit -= 1.0;
                    }
                    None => break,
                }
            }
        }
        // 4. Schedule a held-out evaluation when the runs moved.
        let done = e.completed();
        let moved = e.last_eval_step != Some(done)
            || e.runs
                .iter()
                .flatten()
                .any(|r| r.status().divergence().is_some())
                && e.last_eval_step.is_none();
        let lockstep = e
            .runs
            .iter()
            .flatten()
            .filter(|r| r.status().is_running())
            .all(|r| r.steps_done() >= e.target);
        if moved
            && e.evals.is_empty()
            && e.publish.is_empty()
            && (!playing && lockstep || t0 - e.last_eval > EVAL_EVERY_MS)
        {
            if let Some(data) = e.data.as_ref() {
                e.evals = (0..RUNS)
                    .rev()
                    .filter_map(|i| {
                        let run = e.runs[i].as_ref()?;
                        run.start_evaluation(data).ok().map(|c| (i, c))
                    })
                    .collect();
            }
            e.last_eval = t0;
            e.last_eval_step = Some(done);
        }
        if t0 - e.rate_t0 > 1000.0 {
            let r = e.rate_steps as f64 * 1000.0 / (t0 - e.rate_t0);
            if ui.measured_rate.get_untracked() != r {
                ui.measured_rate.set(r);
            }
            ui.timings.set((e.step_ms, e.eval_ms));
            e.rate_t0 = t0;
            e.rate_steps = 0;
        }
        // 5. Step counter and statuses (DOM updates only when they changed).
        if ui.step.get_untracked() != done {
            ui.step.set(done);
        }
        let st: Vec<String> = (0..RUNS)
            .map(|i| status_text(e.runs.get(i).and_then(|r| r.as_ref()), playing))
            .collect();
        if ui.statuses.with_untracked(|s| *s != st) {
            ui.statuses.set(st);
        }
        if playing && !e.any_running() {
            ui.playing.set(false);
        }
    });
    perf::record_work("frame", perf::now() - t0);
    if let Some(j) = publish_now {
        ui.versions[j].update(|v| *v = v.wrapping_add(1));
    }
}

/// The longest URL value read; longer ones are refused with a notice.
const MAX_URL_VALUE: usize = 64;

/// Loss names a `trloss` entry may use: the CLI's names, their short forms without the hyphen,
/// and `off`.
fn loss_key_from_url(name: &str) -> Option<&'static str> {
    let name = name.trim().to_ascii_lowercase();
    let key = match name.as_str() {
        "bce" => "ce",
        "logdice" => "log-dice",
        "dicece" => "dice-ce",
        "cel1" => "ce-l1",
        "cekl" => "ce-kl",
        other => other,
    };
    LOSSES.iter().map(|(k, _)| *k).find(|k| *k == key)
}

/// Reads the trainer's settings from URL values (`get` returns the raw value of a key; see
/// docs/URL.md, "Trainer keys"). Values out of range are clamped, malformed ones refused
/// (the default is kept); either way a notice says what happened. Never panics.
fn settings_from_query(get: &dyn Fn(&str) -> Option<String>) -> (Settings, Vec<String>) {
    let mut s = Settings::default();
    let mut notices = Vec::new();
    let mut raw = |key: &str| -> Option<String> {
        let v = get(key)?;
        if v.len() > MAX_URL_VALUE {
            notices.push(format!(
                "URL value {key} is {} characters long; kept the default.",
                v.len()
            ));
            return None;
        }
        Some(v)
    };
    let (loss, lambda, temp) = (raw("trloss"), raw("trlambda"), raw("trtemp"));
    let (model, opt, lr, cos) = (raw("trmodel"), raw("tropt"), raw("trlr"), raw("trcos"));
    let (batch, steps, seed) = (raw("trbatch"), raw("trsteps"), raw("trseed"));
    let (size, classes) = (raw("trsize"), raw("trclasses"));
    let (noise, blur) = (raw("trnoise"), raw("trblur"));
    let n = &mut notices;
    // A number in [lo, hi] (`lo` excluded when `open_lo`, then refused), clamped above and below.
    let num =
        |n: &mut Vec<String>, key: &str, v: &str, lo: f64, hi: f64, open_lo: bool, d: f64| match v
            .trim()
            .parse::<f64>()
        {
            Ok(x) if x.is_finite() && !(open_lo && x <= lo) => {
                let c = x.clamp(lo, hi);
                if c != x {
                    n.push(format!(
                        "URL value {key}={v} is outside [{lo}, {hi}]; using {c}."
                    ));
                }
                c
            }
            Ok(x) if x.is_finite() => {
                n.push(format!("URL value {key}={v} must be > {lo}; using {d}."));
                d
            }
            _ => {
                n.push(format!("URL value {key}={v} is not a number; using {d}."));
                d
            }
        };
    let int = |n: &mut Vec<String>, key: &str, v: &str, lo: u64, hi: u64, d: u64| -> u64 {
        match v.trim().parse::<f64>() {
            Ok(x) if x.is_finite() && x.fract() == 0.0 => {
                let c = x.clamp(lo as f64, hi as f64);
                if c != x {
                    n.push(format!(
                        "URL value {key}={v} is outside {lo}…{hi}; using {c}."
                    ));
                }
                c as u64
            }
            _ => {
                n.push(format!(
                    "URL value {key}={v} is not a whole number; using {d}."
                ));
                d
            }
        }
    };
    let pick = |n: &mut Vec<String>, key: &str, v: &str, allowed: &[&str], d: &str| -> String {
        let t = v.trim().to_ascii_lowercase();
        if allowed.contains(&t.as_str()) {
            t
        } else {
            n.push(format!(
                "URL value {key}={v} is not one of {}; using {d}.",
                allowed.join(", ")
            ));
            d.to_string()
        }
    };
    if let Some(v) = loss {
        let parts: Vec<&str> = v.split(',').collect();
        if parts.len() > RUNS {
            n.push(format!(
                "URL value trloss={v} names more than {RUNS} runs; using the first {RUNS}."
            ));
        }
        for (i, run) in s.runs.iter_mut().enumerate() {
            match parts.get(i) {
                None => run.loss = "off",
                Some(p) => match loss_key_from_url(p) {
                    Some(k) => run.loss = k,
                    None => n.push(format!(
                        "URL value trloss: '{}' is not a loss (off, ce, bce, dice, log-dice, \
                         dice-ce, ce-l1, ce-kl); run {} uses {}.",
                        p.trim(),
                        i + 1,
                        run.loss
                    )),
                },
            }
        }
    }
    // λ and T: one value for every run, or one per run.
    for (key, v, lo, hi, open_lo) in [
        ("trlambda", &lambda, 0.0, 100.0, false),
        ("trtemp", &temp, 0.0, 100.0, true),
    ] {
        let Some(v) = v else { continue };
        let parts: Vec<&str> = v.split(',').collect();
        if parts.len() > RUNS {
            n.push(format!(
                "URL value {key}={v} has more than {RUNS} values; using the first {RUNS}."
            ));
        }
        for (i, run) in s.runs.iter_mut().enumerate() {
            let p = if parts.len() == 1 {
                parts[0]
            } else {
                parts.get(i).copied().unwrap_or("")
            };
            if p.is_empty() && parts.len() > 1 {
                continue;
            }
            let field = if key == "trlambda" {
                &mut run.lambda
            } else {
                &mut run.temp
            };
            *field = num(n, key, p, lo, hi, open_lo, *field);
        }
    }
    if let Some(v) = model {
        let k = pick(n, "trmodel", &v, &["cnn8", "logistic5"], s.model.key());
        s.model = ModelKind::parse(&k).unwrap_or(s.model);
    }
    if let Some(v) = opt {
        let k = pick(n, "tropt", &v, &["adam", "sgd"], s.optimizer.key());
        s.optimizer = OptimizerKind::parse(&k).unwrap_or(s.optimizer);
    }
    if let Some(v) = lr {
        s.lr = num(n, "trlr", &v, 0.0, 1e9, true, s.lr);
    }
    if let Some(v) = cos {
        s.cosine = pick(n, "trcos", &v, &["0", "1"], "0") == "1";
    }
    if let Some(v) = batch {
        s.batch = int(n, "trbatch", &v, 1, 256, s.batch as u64) as usize;
    }
    if let Some(v) = steps {
        s.steps = int(n, "trsteps", &v, 1, 100_000, s.steps as u64) as usize;
    }
    if let Some(v) = seed {
        s.seed = int(n, "trseed", &v, 0, u32::MAX as u64, s.seed);
    }
    if let Some(v) = size {
        s.size = if pick(n, "trsize", &v, &["32", "64"], "32") == "64" {
            64
        } else {
            32
        };
    }
    if let Some(v) = classes {
        s.classes = if pick(n, "trclasses", &v, &["2", "3"], "2") == "3" {
            3
        } else {
            2
        };
    }
    if let Some(v) = noise {
        s.noise = num(n, "trnoise", &v, 0.0, 3.0, false, s.noise);
    }
    if let Some(v) = blur {
        s.blur = num(n, "trblur", &v, 0.0, 4.0, false, s.blur);
    }
    // One notice for a value applied to every run.
    notices.dedup();
    (s, notices)
}

/// The trainer's URL keys for `s`: `Some(value)`, or `None` (remove the key) where the
/// setting is at its default, so that a page whose trainer was never touched keeps a short URL.
fn settings_to_query(s: &Settings) -> Vec<(&'static str, Option<String>)> {
    let d = Settings::default();
    let keep = |differs: bool, v: String| differs.then_some(v);
    let mut losses: Vec<&str> = s.runs.iter().map(|r| r.loss).collect();
    while losses.len() > 1 && losses.last() == Some(&"off") {
        losses.pop();
    }
    let per_run = |f: fn(&RunSetting) -> f64| -> String {
        let v: Vec<f64> = s.runs.iter().map(f).collect();
        if v.iter().all(|&x| x == v[0]) {
            format!("{}", v[0])
        } else {
            v.iter()
                .map(|x| format!("{x}"))
                .collect::<Vec<_>>()
                .join(",")
        }
    };
    let runs_differ =
        |f: fn(&RunSetting) -> f64| s.runs.iter().zip(&d.runs).any(|(a, b)| f(a) != f(b));
    vec![
        (
            "trloss",
            keep(
                s.runs.iter().zip(&d.runs).any(|(a, b)| a.loss != b.loss),
                losses.join(","),
            ),
        ),
        (
            "trlambda",
            keep(runs_differ(|r| r.lambda), per_run(|r| r.lambda)),
        ),
        ("trtemp", keep(runs_differ(|r| r.temp), per_run(|r| r.temp))),
        (
            "trmodel",
            keep(s.model != d.model, s.model.key().to_string()),
        ),
        (
            "tropt",
            keep(s.optimizer != d.optimizer, s.optimizer.key().to_string()),
        ),
        ("trlr", keep(s.lr != d.lr, format!("{}", s.lr))),
        (
            "trcos",
            keep(
                s.cosine != d.cosine,
                if s.cosine { "1" } else { "0" }.to_string(),
            ),
        ),
        ("trbatch", keep(s.batch != d.batch, s.batch.to_string())),
        ("trsteps", keep(s.steps != d.steps, s.steps.to_string())),
        ("trseed", keep(s.seed != d.seed, s.seed.to_string())),
        ("trsize", keep(s.size != d.size, s.size.to_string())),
        (
            "trclasses",
            keep(s.classes != d.classes, s.classes.to_string()),
        ),
        ("trnoise", keep(s.noise != d.noise, format!("{}", s.noise))),
        ("trblur", keep(s.blur != d.blur, format!("{}", s.blur))),
    ]
}

/// The settings in the page's URL, with notices about values that were not usable as given.
fn read_url() -> (Settings, Vec<String>) {
    settings_from_query(&crate::url::initial_getter())
}

/// The trainer's keys for the one URL writer (defaults stay out of the URL).
fn url_pairs(s: &Settings) -> crate::url::Pairs {
    settings_to_query(s)
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
        .collect()
}

/// Keeps the loop running for the life of the page.
fn schedule(ui: Ui) {
    request_animation_frame(move || {
        frame(ui);
        schedule(ui);
    });
}

fn fmt_opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    finite(v).map(f).unwrap_or_else(|| "—".into())
}

/// A labelled numeric field: `commit` parses and validates the typed text, and returns the
/// message to show when it was refused (the value then stays as it was).
fn num_field(
    label: &'static str,
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

/// Parses `raw` as a finite number in `[lo, hi]` (`lo` excluded when `open_lo`).
fn parse_in(
    name: &str,
    raw: &str,
    lo: f64,
    hi: f64,
    open_lo: bool,
    kept: String,
) -> Result<f64, String> {
    let short: String = raw.chars().take(24).collect();
    match raw.parse::<f64>() {
        Ok(v) if v.is_finite() => {
            let ok_lo = if open_lo { v > lo } else { v >= lo };
            if ok_lo && v <= hi {
                Ok(v)
            } else if open_lo {
                Err(format!("{name} must be > {lo} and ≤ {hi}; kept {kept}."))
            } else {
                Err(format!(
                    "{name} must be between {lo} and {hi}; kept {kept}."
                ))
            }
        }
        _ => Err(format!("'{short}' is not a number: {name} kept at {kept}.")),
    }
}

fn parse_int(name: &str, raw: &str, lo: u64, hi: u64, kept: String) -> Result<u64, String> {
    let short: String = raw.chars().take(24).collect();
    match raw.parse::<u64>() {
        Ok(v) if (lo..=hi).contains(&v) => Ok(v),
        Ok(_) => Err(format!(
            "{name} must be a whole number from {lo} to {hi}; kept {kept}."
        )),
        Err(_) => Err(format!(
            "'{short}' is not a whole number: {name} kept at {kept}."
        )),
    }
}

const STYLE: &str = r#"
#trainer .tr-bar { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; margin: 0.5rem 0; }
#trainer button { font: inherit; padding: 0.35rem 0.8rem; border-radius: 4px; border: 1px solid var(--border); background: var(--bg); color: var(--fg); cursor: pointer; min-height: 2.2rem; }
#trainer button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
#trainer button:disabled { opacity: 0.5; cursor: default; }
#trainer .tr-counter { font-variant-numeric: tabular-nums; font-weight: 600; margin-left: 0.5rem; }
#trainer .tr-rate { color: var(--muted); font-size: 0.9rem; }
#trainer fieldset { border: 1px solid var(--border); border-radius: 6px; margin: 0.75rem 0; padding: 0.5rem 0.75rem; min-width: 0; }
#trainer legend { font-weight: 600; padding: 0 0.3rem; }
#trainer .tr-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: 0.4rem 0.9rem; }
#trainer .tr-field { display: flex; flex-direction: column; gap: 0.15rem; min-width: 0; }
#trainer .tr-field label { font-size: 0.88rem; color: var(--muted); }
#trainer .tr-field input[type=text], #trainer select { font: inherit; padding: 0.25rem 0.4rem; border: 1px solid var(--border); border-radius: 4px; background: var(--bg); color: var(--fg); min-height: 2rem; width: 100%; }
#trainer input[aria-invalid=true] { border-color: var(--focus); }
#trainer .tr-check { flex-direction: row; align-items: center; gap: 0.4rem; }
#trainer .tr-runs { display: grid; grid-template-columns: repeat(auto-fill, minmax(13.5rem, 1fr)); gap: 0.6rem; }
#trainer .tr-run { border: 1px solid var(--border); border-left-width: 6px; border-radius: 6px; padding: 0.45rem 0.6rem; background: var(--bg); display: flex; flex-direction: column; gap: 0.3rem; }
#trainer .tr-run h3 { margin: 0; font-size: 1rem; display: flex; align-items: center; gap: 0.4rem; }
#trainer .tr-run .tr-pair { display: grid; grid-template-columns: 1fr 1fr; gap: 0.4rem; }
#trainer .tr-status { font-size: 0.88rem; min-height: 1.3em; }
#trainer .tr-status.bad { color: var(--notice-fg); background: var(--notice-bg); padding: 0.15rem 0.35rem; border-radius: 3px; font-weight: 600; }
#trainer .tr-note { color: var(--muted); font-size: 0.9rem; margin: 0.25rem 0; }
#trainer .tr-table-wrap { overflow-x: auto; }
#trainer .tr-plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 26rem), 1fr)); gap: 0.75rem; margin: 0.75rem 0; }
#trainer .tr-plots > div, #trainer .tr-wide { min-width: 0; }
#trainer .tr-wide { margin: 0.75rem 0; }
#trainer canvas.pixel { image-rendering: pixelated; image-rendering: crisp-edges; width: 4.5rem; height: 4.5rem; display: block; border-radius: 3px; background: #808080; }
#trainer canvas.paint { width: 12rem; height: 12rem; cursor: crosshair; touch-action: none; border: 1px solid var(--border); }
#trainer .tr-gallery { display: grid; grid-template-columns: repeat(5, max-content); justify-content: start; gap: 0.35rem 0.6rem; align-items: center; overflow-x: auto; padding-bottom: 0.25rem; }
#trainer .tr-gallery .tr-gh { font-size: 0.85rem; color: var(--muted); max-width: 7rem; }
#trainer figure { margin: 0; font-size: 0.8rem; color: var(--muted); }
#trainer .tr-paint { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
#trainer .tr-paint-preds { display: flex; flex-wrap: wrap; gap: 0.6rem; }
#trainer .tr-paint-tools { display: flex; flex-direction: column; gap: 0.4rem; }
#trainer .swatch-line { display: inline-block; vertical-align: middle; }
#trainer .toggle { margin: 0.2rem 0; }
@media (max-width: 640px) {
  #trainer canvas.pixel { width: 3.2rem; height: 3.2rem; }
  #trainer .tr-gallery { gap: 0.3rem 0.45rem; }
  #trainer .tr-gallery .tr-gh { max-width: 3.2rem; font-size: 0.72rem; overflow-wrap: anywhere; }
  #trainer canvas.paint { width: 10rem; height: 10rem; }
  #trainer .tr-grid { grid-template-columns: 1fr 1fr; }
}
"#;

fn hex(i: usize) -> String {
    let c = run_style(i).color;
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// A short line in the run's colour and dash (the colour key, with a second cue).
fn swatch(i: usize) -> impl IntoView {
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

/// The trainer panel.
#[component]
pub fn TrainerView() -> impl IntoView {
    let (initial, url_notices) = read_url();
    let url_notices = RwSignal::new(url_notices);
    let ui = Ui {
        engine: StoredValue::new_local(Engine {
            needs_reset: true,
            step_ms: 6.0,
            eval_ms: 6.0,
            eval_img_ms: 0.5,
            img_ms: 1.0,
            ..Engine::default()
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
        rate: RwSignal::new(240.0),
        measured_rate: RwSignal::new(0.0),
        timings: RwSignal::new((0.0, 0.0)),
        paint_ver: RwSignal::new(0),
    };
    let settings = ui.settings;
    let hard = RwSignal::new(false);
    let paint_class = RwSignal::new(1i64);
    let erase = RwSignal::new(false);
    let shapes = StoredValue::new(0u64);
    schedule(ui);

    // Settings changes reset the runs (the loop rebuilds them on its next frame).
    let change = move |f: &dyn Fn(&mut Settings)| {
        perf::mark_input();
        let mut s = settings.get_untracked();
        f(&mut s);
        if s != settings.get_untracked() {
            settings.set(s);
            ui.engine.update_value(|e| e.needs_reset = true);
        }
    };
    // The settings in the URL (the `tr…` keys), through the one URL writer.
    if let Some(codecs) = crate::url::UrlCodecs::get() {
        codecs.register("trainer", true, move || settings.with(url_pairs));
    }
    // The painted mask changed: predict on it again.
    Effect::new(move |_| {
        ui.paint_ver.track();
        ui.engine.update_value(|e| e.paint_dirty = true);
    });

    let start_training = move |_| {
        perf::mark_input();
        ui.playing.set(true);
    };
    let pause_training = move |_| ui.playing.set(false);
    let step_once = move |_| {
        perf::mark_input();
        ui.playing.set(false);
        ui.engine.update_value(|e| {
            if !e.needs_reset && e.any_running() {
                e.target = e.completed() + 1;
            }
        });
    };
    let reset_runs = move |_| {
        perf::mark_input();
        ui.playing.set(false);
        ui.engine.update_value(|e| e.needs_reset = true);
    };
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

    let never = Signal::derive(|| false);
    let shared = view! {
        <fieldset>
            <legend>"Shared settings"</legend>
            <p class="tr-note">"Changing any setting resets every run to step 0 (same data and the same initial weights for every run)."</p>
            <div class="tr-grid">
                <div class="tr-field">
                    <label for="tr-model">"model"</label>
                    <select id="tr-model" data-testid="tr-model" on:change=move |ev| {
                        let m = ModelKind::parse(&event_target_value(&ev)).unwrap_or(ModelKind::Cnn8);
                        change(&|s| s.model = m);
                    }>
                        <option value="cnn8" prop:selected=move || settings.with(|s| s.model == ModelKind::Cnn8)>"cnn8: small CNN, 8 channels"</option>
                        <option value="logistic5" prop:selected=move || settings.with(|s| s.model == ModelKind::Logistic5)>"logistic5: 5×5 logistic"</option>
                    </select>
                </div>
                <div class="tr-field">
                    <label for="tr-optimizer">"optimizer"</label>
                    <select id="tr-optimizer" data-testid="tr-optimizer" on:change=move |ev| {
                        let o = OptimizerKind::parse(&event_target_value(&ev)).unwrap_or(OptimizerKind::Adam);
                        change(&|s| s.optimizer = o);
                    }>
                        <option value="adam" prop:selected=move || settings.with(|s| s.optimizer == OptimizerKind::Adam)>"Adam"</option>
                        <option value="sgd" prop:selected=move || settings.with(|s| s.optimizer == OptimizerKind::Sgd)>"SGD"</option>
                    </select>
                </div>
                {num_field("learning rate (per step, > 0)", "tr-lr",
                    move || format!("{}", settings.with(|s| s.lr)),
                    move |raw| {
                        let kept = format!("{}", settings.get_untracked().lr);
                        let v = parse_in("learning rate", raw, 0.0, 1e9, true, kept)?;
                        change(&|s| s.lr = v);
                        Ok(())
                    }, never)}
                <div class="tr-field tr-check">
                    <input type="checkbox" id="tr-cosine" data-testid="tr-cosine"
                        prop:checked=move || settings.with(|s| s.cosine)
                        on:change=move |ev| { let c = event_target_checked(&ev); change(&|s| s.cosine = c); } />
                    <label for="tr-cosine">"cosine decay of the learning rate to 0 over the budget"</label>
                </div>
                {num_field("batch (images per step, 1–256)", "tr-batch",
                    move || settings.with(|s| s.batch).to_string(),
                    move |raw| {
                        let v = parse_int("batch", raw, 1, 256, settings.get_untracked().batch.to_string())?;
                        change(&|s| s.batch = v as usize);
                        Ok(())
                    }, never)}
                {num_field("step budget (steps, 1–100000)", "tr-steps",
                    move || settings.with(|s| s.steps).to_string(),
                    move |raw| {
                        let v = parse_int("step budget", raw, 1, 100_000, settings.get_untracked().steps.to_string())?;
                        change(&|s| s.steps = v as usize);
                        Ok(())
                    }, never)}
                {num_field("seed (data and initial weights)", "tr-seed",
                    move || settings.with(|s| s.seed).to_string(),
                    move |raw| {
                        let v = parse_int("seed", raw, 0, u32::MAX as u64, settings.get_untracked().seed.to_string())?;
                        change(&|s| s.seed = v);
                        Ok(())
                    }, never)}
                <div class="tr-field">
                    <label for="tr-size">"image size (pixels)"</label>
                    <select id="tr-size" data-testid="tr-size" on:change=move |ev| {
                        let v = if event_target_value(&ev) == "64" { 64 } else { 32 };
                        change(&|s| s.size = v);
                    }>
                        <option value="32" prop:selected=move || settings.with(|s| s.size == 32)>"32 × 32"</option>
                        <option value="64" prop:selected=move || settings.with(|s| s.size == 64)>"64 × 64"</option>
                    </select>
                </div>
                <div class="tr-field">
                    <label for="tr-classes">"classes"</label>
                    <select id="tr-classes" data-testid="tr-classes" on:change=move |ev| {
                        let v = if event_target_value(&ev) == "3" { 3 } else { 2 };
                        change(&|s| s.classes = v);
                    }>
                        <option value="2" prop:selected=move || settings.with(|s| s.classes == 2)>"2: background + structures"</option>
                        <option value="3" prop:selected=move || settings.with(|s| s.classes == 3)>"3: + a small structure"</option>
                    </select>
                </div>
                {num_field("image noise σ (intensity units, 0–3)", "tr-noise",
                    move || format!("{}", settings.with(|s| s.noise)),
                    move |raw| {
                        let v = parse_in("noise", raw, 0.0, 3.0, false, format!("{}", settings.get_untracked().noise))?;
                        change(&|s| s.noise = v);
                        Ok(())
                    }, never)}
                {num_field("blur σ (pixels, 0–4)", "tr-blur",
                    move || format!("{}", settings.with(|s| s.blur)),
                    move |raw| {
                        let v = parse_in("blur", raw, 0.0, 4.0, false, format!("{}", settings.get_untracked().blur))?;
                        change(&|s| s.blur = v);
                        Ok(())
                    }, never)}
                {num_field("speed limit (steps per second per run, 1–1000)", "tr-rate",
                    move || format!("{}", ui.rate.get()),
                    move |raw| {
                        let v = parse_in("speed limit", raw, 1.0, 1000.0, false, format!("{}", ui.rate.get_untracked()))?;
                        ui.rate.set(v);
                        Ok(())
                    }, never)}
            </div>
        </fieldset>
    };

    let run_cards = (0..RUNS)
        .map(|i| {
            let loss = Memo::new(move |_| settings.with(|s| s.runs[i].loss));
            let no_region = Signal::derive(move || !has_region(loss.get()));
            let status = move || ui.statuses.with(|s| s.get(i).cloned().unwrap_or_default());
            let bad = move || status().starts_with("diverged");
            view! {
                <div class="tr-run" style=format!("border-left-color:{}", hex(i)) data-testid=format!("run-{i}")>
                    <h3>{swatch(i)}{format!("Run {}", i + 1)}</h3>
                    <div class="tr-field">
                        <label for=format!("tr-loss-{i}")>"loss"</label>
                        <select id=format!("tr-loss-{i}") data-testid=format!("loss-{i}") on:change=move |ev| {
                            let v = event_target_value(&ev);
                            let key = LOSSES.iter().map(|(k, _)| *k).find(|k| *k == v).unwrap_or("off");
                            change(&|s| s.runs[i].loss = key);
                        }>
                            {LOSSES.iter().map(|&(k, l)| view! {
                                <option value=k prop:selected=move || loss.get() == k>{l}</option>
                            }).collect_view()}
                        </select>
                    </div>
                    <div class="tr-pair">
                        {num_field("λ (weight)", ["tr-lambda-0", "tr-lambda-1", "tr-lambda-2", "tr-lambda-3"][i],
                            move || format!("{}", settings.with(|s| s.runs[i].lambda)),
                            move |raw| {
                                let v = parse_in("λ", raw, 0.0, 100.0, false, format!("{}", settings.get_untracked().runs[i].lambda))?;
                                change(&|s| s.runs[i].lambda = v);
                                Ok(())
                            }, no_region)}
                        {num_field("T (temperature)", ["tr-temp-0", "tr-temp-1", "tr-temp-2", "tr-temp-3"][i],
                            move || format!("{}", settings.with(|s| s.runs[i].temp)),
                            move |raw| {
                                let v = parse_in("T", raw, 0.0, 100.0, true, format!("{}", settings.get_untracked().runs[i].temp))?;
                                change(&|s| s.runs[i].temp = v);
                                Ok(())
                            }, no_region)}
                    </div>
                    <button
                        data-testid=format!("preset-{i}")
                        prop:disabled=move || no_region.get()
                        on:click=move |_| change(&|s| { s.runs[i].lambda = RegionConfig::AUTHORS.lambda; s.runs[i].temp = RegionConfig::AUTHORS.temp; })
                    >"authors' preset: T = 10, λ = 1"</button>
                    <div class="tr-status" class:bad=bad role="status" aria-live="polite" data-testid=format!("run-status-{i}")>
                        {status}
                    </div>
                </div>
            }
        })
        .collect_view();

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
    let table_rows = (0..RUNS)
        .map(|i| {
            let label = move || settings.with(|s| loss_label(s.runs[i].loss));
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

    let gallery_header = (0..RUNS)
        .map(|i| {
            view! {
                <div class="tr-gh">{swatch(i)}{move || settings.with(|s| format!("{} {}", i + 1, loss_label(s.runs[i].loss)))}</div>
            }
        })
        .collect_view();
    let gallery_rows = (0..GALLERY)
        .map(|g| {
            let preds = (0..RUNS)
                .map(|i| {
                    view! {
                        <canvas class="pixel" data-testid=format!("gallery-pred-{g}-{i}") width="32" height="32"
                            role="img" aria-label=format!("run {} probability map of held-out image {}", i + 1, g + 1)></canvas>
                    }
                })
                .collect_view();
            view! {
                <figure>
                    <canvas class="pixel" data-testid=format!("gallery-img-{g}") width="32" height="32"
                        role="img" aria-label=format!("held-out image {} with its ground-truth contour", g + 1)></canvas>
                    <figcaption data-testid=format!("gallery-u-{g}")>
                        {move || ui.gallery_u.with(|u| u.get(g).map(|u| format!("u = {:.1}%", 100.0 * u)).unwrap_or_default())}
                    </figcaption>
                </figure>
                {preds}
            }
        })
        .collect_view();
    let paint_preds = (0..RUNS)
        .map(|i| {
            view! {
                <figure>
                    <canvas class="pixel" data-testid=format!("paint-pred-{i}") width="32" height="32"
                        role="img" aria-label=format!("run {} prediction on the painted image", i + 1)></canvas>
                    <figcaption>{swatch(i)}{move || settings.with(|s| format!("{} {}", i + 1, loss_label(s.runs[i].loss)))}</figcaption>
                </figure>
            }
        })
        .collect_view();

    let plot = move |j: usize| ui.versions[j];
    let size_sig = Signal::derive(move || settings.with(|s| s.size));

    view! {
        <section class="panel" id="trainer" aria-labelledby="trainer-title">
            <style>{STYLE}</style>
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
                    {move || if ui.playing.get() { format!("≈ {:.0} steps/s per run", ui.measured_rate.get() / (settings.with(|s| s.runs.iter().filter(|r| r.loss != "off").count()).max(1) as f64)) } else { String::new() }}
                </span>
            </div>
            <fieldset>
                <legend>"Runs: one loss each (colour and dash mark a run in every plot)"</legend>
                <div class="tr-runs">{run_cards}</div>
            </fieldset>
            {shared}
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
                    <tbody>{table_rows}</tbody>
                </table>
            </div>
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
            <div class="tr-gallery" data-testid="gallery">
                <div class="tr-gh">"input"</div>
                {gallery_header}
                {gallery_rows}
            </div>
            <h3>"Paint your own"</h3>
            <p class="tr-note">
                "Paint a ground-truth mask (mouse, pen or finger; or add random shapes with the button). "
                "The image is synthesized from it with the current noise and blur, and every run predicts on it live."
            </p>
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
                    <canvas class="pixel" data-testid="paint-image" width="32" height="32" role="img" aria-label="the image synthesized from the painted mask"></canvas>
                    <figcaption>"synthesized image"</figcaption>
                </figure>
                <div class="tr-paint-preds">{paint_preds}</div>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> (Settings, Vec<String>) {
        settings_from_query(&|k| {
            pairs
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn url_keys_round_trip_and_defaults_stay_out_of_the_url() {
        assert!(settings_to_query(&Settings::default())
            .iter()
            .all(|(_, v)| v.is_none()));
        let (s, notices) = from(&[
            ("trloss", "ce,logdice,off,cekl"),
            ("trlambda", "0.5,1,1,2"),
            ("trtemp", "3"),
            ("trmodel", "logistic5"),
            ("tropt", "sgd"),
            ("trlr", "0.05"),
            ("trcos", "1"),
            ("trbatch", "8"),
            ("trsteps", "900"),
            ("trseed", "7"),
            ("trsize", "64"),
            ("trclasses", "3"),
            ("trnoise", "0.5"),
            ("trblur", "2"),
        ]);
        assert_eq!(notices, Vec::<String>::new());
        let losses: Vec<&str> = s.runs.iter().map(|r| r.loss).collect();
        assert_eq!(losses, ["ce", "log-dice", "off", "ce-kl"]);
        assert_eq!(s.runs[3].lambda, 2.0);
        assert!(s.runs.iter().all(|r| r.temp == 3.0));
        assert_eq!(
            (s.model, s.optimizer, s.lr, s.cosine),
            (ModelKind::Logistic5, OptimizerKind::Sgd, 0.05, true)
        );
        assert_eq!((s.batch, s.steps, s.seed), (8, 900, 7));
        assert_eq!((s.size, s.classes, s.noise, s.blur), (64, 3, 0.5, 2.0));
        let written: Vec<(&str, String)> = settings_to_query(&s)
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect();
        let pairs: Vec<(&str, &str)> = written.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert!(pairs.contains(&("trloss", "ce,log-dice,off,ce-kl")));
        assert!(pairs.contains(&("trtemp", "3")));
        let (again, notices) = from(&pairs);
        assert!(notices.is_empty());
        assert_eq!(again, s);
    }

    #[test]
    fn bad_url_values_are_clamped_or_refused_with_notices() {
        let long = "9".repeat(100);
        let (s, notices) = from(&[
            ("trloss", "ce,nope"),
            ("trlr", "0"),
            ("trbatch", "1e9"),
            ("trsteps", "2.5"),
            ("trseed", "-3"),
            ("trtemp", "NaN"),
            ("trlambda", "1,,500"),
            ("trsize", "33"),
            ("trnoise", &long),
        ]);
        let d = Settings::default();
        assert_eq!(
            (s.runs[0].loss, s.runs[1].loss, s.runs[2].loss),
            ("ce", "dice", "off")
        );
        assert_eq!((s.lr, s.batch, s.steps, s.seed), (d.lr, 256, d.steps, 0));
        assert_eq!(
            (s.runs[0].temp, s.runs[1].lambda, s.runs[2].lambda),
            (10.0, 1.0, 100.0)
        );
        assert_eq!((s.size, s.noise), (32, d.noise));
        let all = notices.join("\n");
        for part in [
            "'nope' is not a loss",
            "trlr=0 must be > 0",
            "trbatch=1e9 is outside 1…256",
            "trsteps=2.5 is not a whole number",
            "trseed=-3 is outside",
            "trtemp=NaN is not a number",
            "trlambda=500 is outside [0, 100]; using 100",
            "trsize=33 is not one of 32, 64",
            "trnoise is 100 characters long",
        ] {
            assert!(all.contains(part), "missing {part:?} in\n{all}");
        }
        // Anything at all: no panic.
        for junk in [
            "",
            ",,,,,,",
            "∞",
            "1e999",
            "-0",
            " ",
            "%%",
            "ce,ce,ce,ce,ce",
        ] {
            for key in [
                "trloss", "trlambda", "trlr", "trbatch", "trseed", "trsize", "trcos",
            ] {
                let _ = from(&[(key, junk)]);
            }
        }
    }
}
