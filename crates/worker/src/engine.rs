//! The trainer's scheduler: a plain struct, no browser types. The worker (`host.rs`) calls
//! [`Engine::tick`] repeatedly within each slice of work, with the time and a clock; each tick
//! decides how many images of which run's training step fit in its budget, when to start a
//! held-out evaluation and how much of it to run, and what the page should redraw; the host
//! turns the [`FrameReport`] into messages. Tested natively with a fake clock.
//!
//! Training is cut into pieces small enough that the worker answers commands quickly: a
//! training step is split into slices of a few images of its forward or backward pass
//! (`Trainer::step_some`), [`STEP_BUDGET_MS`] of them per tick; a held-out evaluation into
//! slices of a few images (`EvalCursor`, [`EVAL_BUDGET_MS`] per tick); and after an evaluation
//! one plot or one gallery column is published per tick. Both slicings give bit-identical
//! numbers to the one-shot calls.
//! Runs move in lockstep: every live run steps up to the same target before the target moves.
//!
//! The engine is generic over the run ([`Run`], implemented by the core's `Trainer`) so that
//! the tests can use runs whose cost and failures they choose.

use std::fmt::Display;

use crate::protocol::RUNS;
use dicelens_core::train::{Dataset, EvalCursor, Metrics, Status, TrainError, Trainer};

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
pub const EVAL_EVERY_MS: f64 = 1000.0;
/// Plots redrawn after each evaluation.
pub const PLOTS: usize = 5;
/// Share of the training budget left when something is redrawn in the same frame.
const DRAW_SHARE: f64 = 0.4;
/// Shortest time between two redraws of the painted image's predictions (ms).
const PAINT_EVERY_MS: f64 = 50.0;

/// What the engine needs of a training run.
pub trait Run {
    /// The data the run trains and evaluates on.
    type Data;
    /// An evaluation in progress.
    type Eval: Evaluation<Data = Self::Data, Error = Self::Error>;
    /// What a step or an evaluation may fail with.
    type Error: Display;
    /// Steps completed.
    fn steps_done(&self) -> usize;
    /// Running, done or diverged.
    fn status(&self) -> &Status;
    /// True while a step is split over slices.
    fn step_in_progress(&self) -> bool;
    /// At most `images` images of the step in progress; the status when the step finished.
    fn step_some(
        &mut self,
        data: &Self::Data,
        images: usize,
    ) -> Result<Option<Status>, Self::Error>;
    /// The training loss of the last step.
    fn last_loss(&self) -> Option<f64>;
    /// A held-out evaluation of the weights as they are now.
    fn start_evaluation(&self, data: &Self::Data) -> Result<Self::Eval, Self::Error>;
}

/// What the engine needs of a held-out evaluation in progress.
pub trait Evaluation {
    /// The data.
    type Data;
    /// The error.
    type Error: Display;
    /// Images evaluated so far.
    fn done(&self) -> usize;
    /// The step of the weights evaluated.
    fn step(&self) -> usize;
    /// Up to `images` more images; the metrics once the last is done.
    fn evaluate_chunk(
        &mut self,
        data: &Self::Data,
        images: usize,
    ) -> Result<Option<Metrics>, Self::Error>;
}

impl Run for Trainer {
    type Data = Dataset;
    type Eval = EvalCursor;
    type Error = TrainError;
    fn steps_done(&self) -> usize {
        Trainer::steps_done(self)
    }
    fn status(&self) -> &Status {
        Trainer::status(self)
    }
    fn step_in_progress(&self) -> bool {
        Trainer::step_in_progress(self)
    }
    fn step_some(&mut self, data: &Dataset, images: usize) -> Result<Option<Status>, TrainError> {
        Trainer::step_some(self, data, images)
    }
    fn last_loss(&self) -> Option<f64> {
        Trainer::last_loss(self)
    }
    fn start_evaluation(&self, data: &Dataset) -> Result<EvalCursor, TrainError> {
        Trainer::start_evaluation(self, data)
    }
}

impl Evaluation for EvalCursor {
    type Data = Dataset;
    type Error = TrainError;
    fn done(&self) -> usize {
        EvalCursor::done(self)
    }
    fn step(&self) -> usize {
        EvalCursor::step(self)
    }
    fn evaluate_chunk(
        &mut self,
        data: &Dataset,
        images: usize,
    ) -> Result<Option<Metrics>, TrainError> {
        EvalCursor::evaluate_chunk(self, data, images)
    }
}

/// Something to redraw this frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Draw {
    /// Plot `j` (bump its version signal).
    Plot(usize),
    /// Run `i`'s column of the gallery (run 0 also draws the input images).
    Gallery(usize),
    /// The painted image's predictions; `resynth`: synthesize the image from the mask again.
    Paint { resynth: bool },
}

/// What the page gives a frame.
pub struct TickInput<'a> {
    /// Play is on.
    pub playing: bool,
    /// Speed limit: steps per second per run.
    pub rate: f64,
    /// The clock (ms), read between slices of work.
    pub clock: &'a dyn Fn() -> f64,
}

/// What a frame did and what the page should show.
#[derive(Debug, Default)]
pub struct FrameReport {
    /// Redraws for the page to do (after the training of this frame).
    pub draw: Vec<Draw>,
    /// `(run, step, training loss)` of every step finished in this frame.
    pub losses: Vec<(usize, usize, f64)>,
    /// A round of held-out evaluation finished: the metrics of each run (`None` for runs
    /// that are off or stopped).
    pub evaluated: Option<Vec<Option<Metrics>>>,
    /// The step every live run has completed.
    pub completed: usize,
    /// Play should turn off: nothing can train any more.
    pub stop_playing: bool,
    /// Once a second: measured steps per second (all runs), mean step and evaluation times.
    pub timings: Option<(f64, f64, f64)>,
    /// Work done, by kind, for the page's profile: ("step-slice" | "step" | "eval", ms).
    pub work: Vec<(&'static str, f64)>,
    /// The run of each training slice taken in this frame, in order.
    pub slices: Vec<usize>,
    /// Held-out images evaluated in this frame.
    pub eval_images: usize,
}

impl FrameReport {
    /// Whether the frame did anything: trained, evaluated, or has something to redraw. The
    /// page's animation loop stops after a few frames without work while paused, and starts
    /// again on Play, Step, a new setting or a painted mask.
    pub fn did_work(&self) -> bool {
        !(self.draw.is_empty()
            && self.losses.is_empty()
            && self.evaluated.is_none()
            && self.slices.is_empty()
            && self.eval_images == 0
            && !self.stop_playing)
    }
}

/// The training state of up to [`RUNS`] runs on one data set.
pub struct Engine<R: Run> {
    data: Option<R::Data>,
    runs: Vec<Option<R>>,
    /// Why a run stopped on an error (its status line).
    errors: Vec<Option<String>>,
    /// Every live run steps up to this count (runs move in lockstep).
    target: usize,
    /// While playing, the target moves no further than this (the other shard's progress
    /// plus a few steps, so that runs in two workers stay in lockstep too); `None`: no limit.
    cap: Option<usize>,
    /// Steps the rate limit still allows.
    credit: f64,
    last_frame: f64,
    last_eval: f64,
    last_eval_step: Option<usize>,
    /// The evaluations of the current round, one per run, all started at the same step
    /// (each holds a copy of its run's weights, so training goes on meanwhile); worked
    /// through a few images per frame, last first.
    evals: Vec<(usize, R::Eval)>,
    fresh: Vec<Option<Metrics>>,
    /// Redraws after an evaluation, popped from the end, one per frame.
    publish: Vec<Draw>,
    paint_dirty: bool,
    last_paint: f64,
    rate_t0: f64,
    rate_steps: usize,
    /// Running mean of one training step's time (ms).
    step_ms: f64,
    /// Running mean of the evaluation work done in a frame (ms).
    eval_ms: f64,
    /// Running mean of one held-out image's evaluation time (ms), to plan the frame budget.
    eval_img_ms: f64,
    /// Running estimate of one image's share of a training step (ms).
    img_ms: f64,
    /// Time spent so far on each run's step in progress (ms).
    slice_ms: [f64; RUNS],
}

impl<R: Run> Default for Engine<R> {
    fn default() -> Self {
        Self {
            data: None,
            runs: Vec::new(),
            errors: vec![None; RUNS],
            target: 0,
            cap: None,
            credit: 0.0,
            last_frame: 0.0,
            last_eval: 0.0,
            last_eval_step: None,
            evals: Vec::new(),
            fresh: vec![None; RUNS],
            publish: Vec::new(),
            paint_dirty: true,
            last_paint: 0.0,
            rate_t0: 0.0,
            rate_steps: 0,
            step_ms: 6.0,
            eval_ms: 6.0,
            eval_img_ms: 0.5,
            img_ms: 1.0,
            slice_ms: [0.0; RUNS],
        }
    }
}

impl<R: Run> Engine<R> {
    /// Starts over with these runs (slot `i` is run `i`: `Ok(None)` is off, `Err` a run that
    /// could not be built, shown on its status line) on `data`, at time `now`.
    pub fn load(&mut self, now: f64, data: Option<R::Data>, runs: Vec<Result<Option<R>, String>>) {
        self.data = data;
        self.runs = (0..RUNS).map(|_| None).collect();
        self.errors = vec![None; RUNS];
        for (i, r) in runs.into_iter().take(RUNS).enumerate() {
            match r {
                Ok(r) => self.runs[i] = r,
                Err(e) => self.errors[i] = Some(format!("not started: {e}")),
            }
        }
        self.fresh = vec![None; RUNS];
        self.target = 0;
        self.credit = 0.0;
        self.evals.clear();
        self.slice_ms = [0.0; RUNS];
        self.publish.clear();
        self.last_eval_step = None;
        self.paint_dirty = true;
        self.last_frame = now;
    }

    /// Takes the data set out (to reuse it in the next [`Engine::load`]).
    pub fn take_data(&mut self) -> Option<R::Data> {
        self.data.take()
    }

    /// The data set, once loaded.
    pub fn data(&self) -> Option<&R::Data> {
        self.data.as_ref()
    }

    /// Run `i`, if it is on.
    pub fn run(&self, i: usize) -> Option<&R> {
        self.runs.get(i).and_then(Option::as_ref)
    }

    /// True once [`Engine::load`] was called.
    pub fn is_loaded(&self) -> bool {
        !self.runs.is_empty()
    }

    /// Work is waiting that needs no new command: an evaluation round under way, redraws to
    /// publish, or the painted image's predictions to redo.
    pub fn has_pending(&self) -> bool {
        self.is_loaded() && (!self.evals.is_empty() || !self.publish.is_empty() || self.paint_dirty)
    }

    /// The painted mask changed: redraw its predictions soon.
    pub fn mark_paint_dirty(&mut self) {
        self.paint_dirty = true;
    }

    /// Take one more step in every live run (the "Step +1" button; the cap does not hold
    /// it: every shard takes the same Step).
    pub fn step_once(&mut self) {
        if let Some(t) = self.next_target() {
            self.target = self.target.max(t);
        }
    }

    /// The step the runs are training towards.
    pub fn target(&self) -> usize {
        self.target
    }

    /// Moves the target up to `t` (never down): paused, a shard finishes the steps the
    /// other shard has taken.
    pub fn raise_target(&mut self, t: usize) {
        self.target = self.target.max(t);
    }

    /// While playing, the target moves no further than `cap` (`None`: no limit).
    pub fn set_cap(&mut self, cap: Option<usize>) {
        self.cap = cap;
    }

    /// One step past the live run furthest behind (`None` when no run is live). Runs that
    /// are done, diverged or stopped do not hold the others back.
    fn next_target(&self) -> Option<usize> {
        (0..RUNS)
            .filter(|&i| self.live(i))
            .map(|i| self.steps_done(i))
            .min()
            .map(|s| s + 1)
    }

    /// Steps taken so far by run `i` (0 when off).
    pub fn steps_done(&self, i: usize) -> usize {
        self.run(i).map_or(0, Run::steps_done)
    }

    /// Run `i` can take more steps: on, running, not stopped by an error.
    fn live(&self, i: usize) -> bool {
        self.errors.get(i).is_some_and(Option::is_none)
            && self.run(i).is_some_and(|r| r.status().is_running())
    }

    /// True while a run can take more steps.
    pub fn any_running(&self) -> bool {
        (0..RUNS).any(|i| self.live(i))
    }

    /// The step every run that has not diverged or failed has completed.
    pub fn completed(&self) -> usize {
        (0..RUNS)
            .filter(|&i| self.errors[i].is_none())
            .filter_map(|i| self.run(i))
            .filter(|r| r.status().divergence().is_none())
            .map(Run::steps_done)
            .min()
            .unwrap_or(0)
    }

    /// Run `i`'s status line.
    pub fn status_text(&self, i: usize, playing: bool) -> String {
        if let Some(e) = self.errors.get(i).and_then(Option::as_ref) {
            return e.clone();
        }
        match self.run(i) {
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

    /// Stops run `i` with an error on its status line.
    fn fail(&mut self, i: usize, what: String) {
        if let Some(slot) = self.errors.get_mut(i) {
            *slot = Some(format!("stopped: {what}"));
        }
        self.slice_ms[i] = 0.0;
    }

    /// One animation frame at time `t0` (ms).
    pub fn tick(&mut self, t0: f64, input: &TickInput) -> FrameReport {
        let now = input.clock;
        let playing = input.playing;
        let mut report = FrameReport::default();
        let dt = (t0 - self.last_frame).clamp(0.0, 100.0);
        self.last_frame = t0;
        if !self.is_loaded() {
            return report;
        }
        // 1. Held-out evaluation for a part of the frame budget, or one redraw, per frame
        // (training takes the rest of the budget, below).
        let mut drew = false;
        if !self.evals.is_empty() {
            self.evaluate(t0, now, &mut report);
        } else if let Some(p) = self.publish.pop() {
            drew = true;
            report.draw.push(match p {
                Draw::Paint { .. } => {
                    let resynth = std::mem::take(&mut self.paint_dirty);
                    Draw::Paint { resynth }
                }
                other => other,
            });
        }
        // 2. The painted mask changed: redraw its predictions (throttled).
        if self.paint_dirty && t0 - self.last_paint > PAINT_EVERY_MS {
            report.draw.push(Draw::Paint { resynth: true });
            self.paint_dirty = false;
            self.last_paint = t0;
            drew = true;
        }
        // 3. Training, within the frame budget (less when something is redrawn this frame).
        let rate = input.rate;
        self.credit = if playing {
            (self.credit + dt * rate / 1000.0).min((rate * 0.1).max(1.0))
        } else {
            0.0
        };
        let budget = if drew {
            STEP_BUDGET_MS * DRAW_SHARE
        } else {
            STEP_BUDGET_MS
        };
        self.train(t0, now, budget, drew, playing, &mut report);
        // 4. Start a round of held-out evaluation when the runs moved: while paused, as soon
        // as every live run reached the target; while playing, at most every EVAL_EVERY_MS.
        let done = self.completed();
        let moved = self.last_eval_step != Some(done);
        let lockstep = (0..RUNS)
            .filter(|&i| self.live(i))
            .all(|i| self.steps_done(i) >= self.target);
        if moved
            && self.evals.is_empty()
            && self.publish.is_empty()
            && ((!playing && lockstep) || t0 - self.last_eval > EVAL_EVERY_MS)
        {
            self.start_round();
            self.last_eval = t0;
            self.last_eval_step = Some(done);
        }
        if t0 - self.rate_t0 > 1000.0 {
            let r = self.rate_steps as f64 * 1000.0 / (t0 - self.rate_t0);
            report.timings = Some((r, self.step_ms, self.eval_ms));
            self.rate_t0 = t0;
            self.rate_steps = 0;
        }
        report.completed = done;
        report.stop_playing = playing && !self.any_running();
        report
    }

    /// Works through the evaluations of the round for up to [`EVAL_BUDGET_MS`].
    fn evaluate(&mut self, t0: f64, now: &dyn Fn() -> f64, report: &mut FrameReport) {
        let t = now();
        let mut failed = Vec::new();
        if let Some(data) = self.data.as_ref() {
            while let Some((i, cursor)) = self.evals.last_mut() {
                let left = EVAL_BUDGET_MS - (now() - t0);
                // At least one image per frame, so an evaluation always finishes.
                let images = ((left / self.eval_img_ms.max(0.01)) as usize).max(1);
                let started = now();
                let before = cursor.done();
                let result = cursor.evaluate_chunk(data, images);
                let done = cursor.done().saturating_sub(before);
                report.eval_images += done;
                if done > 0 {
                    let per = (now() - started) / done as f64;
                    self.eval_img_ms = 0.8 * self.eval_img_ms + 0.2 * per;
                }
                match result {
                    Ok(None) => break,
                    Ok(Some(m)) => self.fresh[*i] = Some(m),
                    Err(e) => failed.push((*i, cursor.step(), e.to_string())),
                }
                self.evals.pop();
                if now() - t0 + self.eval_img_ms > EVAL_BUDGET_MS {
                    break;
                }
            }
        }
        for (i, step, e) in failed {
            self.fail(
                i,
                format!("the held-out evaluation at step {step} failed: {e}"),
            );
        }
        let spent = now() - t;
        self.eval_ms = 0.8 * self.eval_ms + 0.2 * spent;
        report.work.push(("eval", spent));
        if self.evals.is_empty() {
            report.evaluated = Some(std::mem::replace(&mut self.fresh, vec![None; RUNS]));
            // Popped from the end: the plots first, then the gallery run by run, then paint.
            self.publish = vec![Draw::Paint { resynth: false }];
            self.publish.extend((0..RUNS).rev().map(Draw::Gallery));
            self.publish.extend((0..PLOTS).rev().map(Draw::Plot));
        }
    }

    /// Slices of training steps while they fit in `budget` (at least one when nothing else
    /// happened in the frame).
    fn train(
        &mut self,
        t0: f64,
        now: &dyn Fn() -> f64,
        budget: f64,
        drew: bool,
        playing: bool,
        report: &mut FrameReport,
    ) {
        let Some(data) = self.data.as_ref() else {
            return;
        };
        loop {
            let elapsed = now() - t0;
            let left = budget - elapsed;
            let fits = left >= self.img_ms;
            let alone = report.slices.is_empty() && !drew && elapsed < 2.0;
            if !(fits || alone) {
                break;
            }
            // A step in progress first, then the run furthest behind the target.
            let next = (0..RUNS)
                .filter(|&i| self.live(i) && self.steps_done(i) < self.target)
                .filter_map(|i| self.run(i).map(|r| (i, r)))
                .min_by_key(|(i, r)| (!r.step_in_progress(), r.steps_done(), *i))
                .map(|(i, _)| i);
            match next {
                Some(i) => {
                    let Some(run) = self.runs[i].as_mut() else {
                        break;
                    };
                    // A slice of a step: as many images of its forward or backward pass as
                    // fit in what is left of the budget.
                    let images = ((left / self.img_ms.max(0.01)) as usize).max(1);
                    let t = now();
                    let result = run.step_some(data, images);
                    let took = now() - t;
                    report.work.push(("step-slice", took));
                    report.slices.push(i);
                    self.slice_ms[i] += took;
                    match result {
                        Err(e) => {
                            // This run stops; the others go on.
                            let step = run.steps_done() + 1;
                            self.errors[i] = Some(format!("stopped: step {step} failed: {e}"));
                            self.slice_ms[i] = 0.0;
                        }
                        Ok(None) => {
                            // Exactly `images` images: adapt fast upwards, slowly downwards.
                            let per = took / images as f64;
                            self.img_ms = if per > self.img_ms {
                                per
                            } else {
                                0.9 * self.img_ms + 0.1 * per
                            };
                        }
                        Ok(Some(_)) => {
                            let full = std::mem::take(&mut self.slice_ms[i]);
                            self.step_ms = 0.9 * self.step_ms + 0.1 * full;
                            report.work.push(("step", full));
                            self.rate_steps += 1;
                            if let Some(l) = run.last_loss() {
                                report.losses.push((i, run.steps_done(), l));
                            }
                        }
                    }
                }
                None if playing && self.credit >= 1.0 && self.any_running() => {
                    // The next target, unless the cap holds it.
                    match self
                        .next_target()
                        .filter(|&t| self.cap.is_none_or(|c| t <= c))
                    {
                        Some(t) => {
                            self.target = t;
                            self.credit -= 1.0;
                        }
                        None => break,
                    }
                }
                None => break,
            }
        }
    }

    /// Starts a held-out evaluation of every run that has not failed.
    fn start_round(&mut self) {
        let Some(data) = self.data.as_ref() else {
            return;
        };
        let mut evals = Vec::new();
        let mut failed = Vec::new();
        for i in (0..RUNS).rev() {
            if self.errors[i].is_some() {
                continue;
            }
            let Some(run) = self.runs[i].as_ref() else {
                continue;
            };
            match run.start_evaluation(data) {
                Ok(c) => evals.push((i, c)),
                Err(e) => failed.push((i, run.steps_done(), e.to_string())),
            }
        }
        self.evals = evals;
        for (i, step, e) in failed {
            self.fail(
                i,
                format!("the held-out evaluation at step {step} failed: {e}"),
            );
        }
    }
}

#[cfg(test)]
mod tests;
