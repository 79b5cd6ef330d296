//! The scheduler with a fake clock: fake runs advance the clock by a cost per image they
//! process, so the frame budget, the slicing, fairness and failures can be checked exactly.

use std::cell::Cell;
use std::rc::Rc;

use dicelens_core::train::{
    DataConfig, Dataset, Divergence, Metrics, Status, TrainConfig, Trainer,
};

use super::*;

/// A clock that moves only when work is done or a frame passes.
#[derive(Clone)]
struct Clock(Rc<Cell<f64>>);

impl Default for Clock {
    /// A page's clock is well past 0 at its first frame.
    fn default() -> Self {
        Clock(Rc::new(Cell::new(5000.0)))
    }
}

impl Clock {
    fn now(&self) -> f64 {
        self.0.get()
    }
    fn advance(&self, ms: f64) {
        self.0.set(self.0.get() + ms);
    }
}

/// A run whose step is `batch` images of `image_ms` each, that fails at step `fail_at`
/// and diverges at step `diverge_at`.
struct FakeRun {
    clock: Clock,
    image_ms: f64,
    batch: usize,
    budget: usize,
    steps: usize,
    in_step: usize,
    status: Status,
    fail_at: Option<usize>,
    diverge_at: Option<usize>,
    eval_fails: bool,
}

impl FakeRun {
    fn new(clock: &Clock, image_ms: f64, batch: usize, budget: usize) -> Self {
        Self {
            clock: clock.clone(),
            image_ms,
            batch,
            budget,
            steps: 0,
            in_step: 0,
            status: Status::Running,
            fail_at: None,
            diverge_at: None,
            eval_fails: false,
        }
    }
}

struct FakeEval {
    clock: Clock,
    step: usize,
    done: usize,
    total: usize,
    fails: bool,
}

fn metrics(step: usize) -> Metrics {
    Metrics {
        step,
        loss: Some(1.0 / (1.0 + step as f64)),
        ratio_soft: None,
        ratio_hard: None,
        ratio_hard_small: None,
        dice: None,
        iou: None,
        ece: None,
        saturated: None,
        points: Vec::new(),
        size_bins: Vec::new(),
        reliability: Vec::new(),
    }
}

/// Held-out images of a fake evaluation, and their cost.
const EVAL_IMAGES: usize = 8;
const EVAL_IMAGE_MS: f64 = 0.25;

impl Evaluation for FakeEval {
    type Data = ();
    type Error = String;
    fn done(&self) -> usize {
        self.done
    }
    fn step(&self) -> usize {
        self.step
    }
    fn evaluate_chunk(&mut self, _: &(), images: usize) -> Result<Option<Metrics>, String> {
        if self.fails {
            return Err("the held-out loss is NaN".into());
        }
        let n = images.min(self.total - self.done);
        self.clock.advance(n as f64 * EVAL_IMAGE_MS);
        self.done += n;
        Ok((self.done == self.total).then(|| metrics(self.step)))
    }
}

impl Run for FakeRun {
    type Data = ();
    type Eval = FakeEval;
    type Error = String;
    fn steps_done(&self) -> usize {
        self.steps
    }
    fn status(&self) -> &Status {
        &self.status
    }
    fn step_in_progress(&self) -> bool {
        self.in_step > 0
    }
    fn step_some(&mut self, _: &(), images: usize) -> Result<Option<Status>, String> {
        if !self.status.is_running() {
            return Ok(Some(self.status.clone()));
        }
        if self.fail_at == Some(self.steps + 1) {
            return Err("the loss became NaN".into());
        }
        let n = images.max(1).min(self.batch - self.in_step);
        self.clock.advance(n as f64 * self.image_ms);
        self.in_step += n;
        if self.in_step < self.batch {
            return Ok(None);
        }
        self.in_step = 0;
        if self.diverge_at == Some(self.steps + 1) {
            self.status = Status::Diverged(Divergence {
                step: self.steps + 1,
                reason: "the loss is not finite".into(),
            });
            return Ok(Some(self.status.clone()));
        }
        self.steps += 1;
        if self.steps >= self.budget {
            self.status = Status::Done;
        }
        Ok(Some(self.status.clone()))
    }
    fn last_loss(&self) -> Option<f64> {
        (self.steps > 0).then(|| 1.0 / self.steps as f64)
    }
    fn start_evaluation(&self, _: &()) -> Result<FakeEval, String> {
        Ok(FakeEval {
            clock: self.clock.clone(),
            step: self.steps,
            done: 0,
            total: EVAL_IMAGES,
            fails: self.eval_fails,
        })
    }
}

/// A frame every 16.7 ms.
const FRAME_MS: f64 = 1000.0 / 60.0;

/// Runs `frames` frames; returns each frame's report and the time its work took.
fn run_frames(
    e: &mut Engine<FakeRun>,
    clock: &Clock,
    frames: usize,
    playing: bool,
    rate: f64,
) -> Vec<(FrameReport, f64)> {
    let now = || clock.now();
    (0..frames)
        .map(|_| {
            let t0 = clock.now();
            let r = e.tick(
                t0,
                &TickInput {
                    playing,
                    rate,
                    clock: &now,
                },
            );
            let spent = clock.now() - t0;
            // The rest of the frame passes.
            clock.advance((FRAME_MS - spent).max(1.0));
            (r, spent)
        })
        .collect()
}

fn engine(runs: Vec<FakeRun>) -> Engine<FakeRun> {
    let t = runs.first().map_or(0.0, |r| r.clock.now());
    let mut e = Engine::default();
    e.load(t, Some(()), runs.into_iter().map(|r| Ok(Some(r))).collect());
    e
}

fn training_ms(r: &FrameReport) -> f64 {
    r.work
        .iter()
        .filter(|(k, _)| *k == "step-slice")
        .map(|(_, ms)| ms)
        .sum()
}

#[test]
fn the_frame_budget_is_kept_and_a_slow_step_is_sliced() {
    let clock = Clock::default();
    // A step of 16 images at 1.5 ms each (24 ms) does not fit a frame: it must be sliced.
    let runs = (0..RUNS)
        .map(|_| FakeRun::new(&clock, 1.5, 16, 1000))
        .collect();
    let mut e = engine(runs);
    let frames = run_frames(&mut e, &clock, 400, true, 1000.0);
    let mut sliced_steps = 0;
    for (k, (r, spent)) in frames.iter().enumerate() {
        // The first frames learn the image cost (the initial guess is 1 ms per image).
        if k < 5 {
            continue;
        }
        let train = training_ms(r);
        // Training stays within the budget, up to one image's overrun.
        assert!(
            train <= STEP_BUDGET_MS + 1.5 + 1e-9,
            "frame {k}: {train} ms of training"
        );
        // Evaluation stays within its own budget, up to one image.
        let eval: f64 = r.work.iter().filter(|w| w.0 == "eval").map(|w| w.1).sum();
        assert!(
            eval <= EVAL_BUDGET_MS + EVAL_IMAGE_MS + 1e-9,
            "frame {k}: eval {eval}"
        );
        assert!(
            *spent <= STEP_BUDGET_MS + EVAL_BUDGET_MS + 2.0,
            "frame {k}: {spent}"
        );
        sliced_steps += r
            .work
            .iter()
            .filter(|w| w.0 == "step" && w.1 > STEP_BUDGET_MS)
            .count();
    }
    assert!(sliced_steps > 10, "24 ms steps finish over several frames");
    // Work got done: every run took steps, and held-out rounds finished.
    assert!(
        (0..RUNS).all(|i| e.steps_done(i) >= 20),
        "{:?}",
        (0..RUNS).map(|i| e.steps_done(i)).collect::<Vec<_>>()
    );
    assert!(frames.iter().filter(|(r, _)| r.evaluated.is_some()).count() >= 3);
}

#[test]
fn a_single_image_slower_than_the_budget_still_makes_progress() {
    let clock = Clock::default();
    let mut e = engine(vec![FakeRun::new(&clock, 30.0, 2, 100)]);
    let frames = run_frames(&mut e, &clock, 40, true, 1000.0);
    for (r, _) in &frames {
        // At most one slice of one image when one image is over the budget.
        assert!(r.slices.len() <= 1);
    }
    assert!(e.steps_done(0) >= 5, "{}", e.steps_done(0));
}

#[test]
fn runs_move_in_lockstep_round_robin() {
    let clock = Clock::default();
    // Different costs: a cheap run must not run ahead of an expensive one.
    let costs = [0.1, 0.4, 1.0, 0.2];
    let runs = costs
        .iter()
        .map(|&c| FakeRun::new(&clock, c, 4, 10_000))
        .collect();
    let mut e = engine(runs);
    for (k, _) in run_frames(&mut e, &clock, 300, true, 1000.0)
        .iter()
        .enumerate()
    {
        let steps: Vec<usize> = (0..RUNS).map(|i| e.steps_done(i)).collect();
        let (lo, hi) = (steps.iter().min().unwrap(), steps.iter().max().unwrap());
        assert!(hi - lo <= 1, "after frame {k}: {steps:?}");
    }
    assert!(e.steps_done(0) > 50);
    assert_eq!(
        e.completed(),
        (0..RUNS).map(|i| e.steps_done(i)).min().unwrap()
    );
}

#[test]
fn the_speed_limit_bounds_the_steps() {
    let clock = Clock::default();
    let mut e = engine(vec![FakeRun::new(&clock, 0.01, 1, 100_000)]);
    let start = clock.now();
    // 1 s of frames at 30 steps per second.
    let frames = run_frames(&mut e, &clock, 60, true, 30.0);
    let elapsed = (clock.now() - start) / 1000.0;
    let steps = e.steps_done(0) as f64;
    assert!(
        steps <= 30.0 * elapsed + 3.0 && steps >= 30.0 * elapsed - 5.0,
        "{steps} steps in {elapsed} s"
    );
    assert!(frames.iter().all(|(r, _)| r.slices.len() <= 2));
}

#[test]
fn pause_stops_stepping_and_step_once_takes_exactly_one() {
    let clock = Clock::default();
    let runs = (0..RUNS)
        .map(|_| FakeRun::new(&clock, 0.5, 4, 1000))
        .collect();
    let mut e = engine(runs);
    run_frames(&mut e, &clock, 30, true, 1000.0);
    // Pausing: the step in flight completes, then nothing moves.
    run_frames(&mut e, &clock, 5, false, 1000.0);
    let paused: Vec<usize> = (0..RUNS).map(|i| e.steps_done(i)).collect();
    assert!(paused[0] > 0);
    let frames = run_frames(&mut e, &clock, 100, false, 1000.0);
    assert!(
        frames.iter().all(|(r, _)| r.slices.is_empty()),
        "no slice while paused"
    );
    assert_eq!(
        (0..RUNS).map(|i| e.steps_done(i)).collect::<Vec<_>>(),
        paused
    );
    assert_eq!(
        e.status_text(0, false),
        format!("paused at step {}", paused[0])
    );
    // Step +1 while paused: every live run takes exactly one more step, and is evaluated.
    e.step_once();
    let frames = run_frames(&mut e, &clock, 60, false, 1000.0);
    let lo = *paused.iter().min().unwrap();
    assert!(
        (0..RUNS).all(|i| e.steps_done(i) == lo + 1),
        "{:?}",
        (0..RUNS).map(|i| e.steps_done(i)).collect::<Vec<_>>()
    );
    let evaluated = frames
        .iter()
        .filter_map(|(r, _)| r.evaluated.as_ref())
        .next_back()
        .expect("an evaluation after the step");
    assert!(evaluated
        .iter()
        .all(|m| m.as_ref().map(|m| m.step) == Some(lo + 1)));
}

#[test]
fn an_error_stops_only_its_run_and_reaches_its_status() {
    let clock = Clock::default();
    let mut runs: Vec<FakeRun> = (0..RUNS)
        .map(|_| FakeRun::new(&clock, 0.2, 4, 100_000))
        .collect();
    runs[1].fail_at = Some(7);
    runs[2].diverge_at = Some(5);
    runs[3].eval_fails = true;
    let mut e = engine(runs);
    let frames = run_frames(&mut e, &clock, 200, true, 1000.0);
    assert_eq!(
        e.status_text(1, true),
        "stopped: step 7 failed: the loss became NaN"
    );
    assert_eq!(e.steps_done(1), 6);
    assert!(
        e.status_text(2, true).starts_with("diverged at step 5"),
        "{}",
        e.status_text(2, true)
    );
    // The evaluation's step is that of the weights it copied (the run trained on meanwhile).
    let s3 = e.status_text(3, true);
    assert!(
        s3.starts_with("stopped: the held-out evaluation at step "),
        "{s3}"
    );
    assert!(s3.ends_with(" failed: the held-out loss is NaN"), "{s3}");
    let step3 = e.steps_done(3);
    run_frames(&mut e, &clock, 50, true, 1000.0);
    assert_eq!(e.steps_done(3), step3, "a stopped run stays stopped");
    assert!(step3 < e.steps_done(0), "run 3 stopped at step {step3}");
    // Run 0 goes on alone.
    assert!(e.steps_done(0) > 20, "{}", e.steps_done(0));
    assert!(e.status_text(0, true).starts_with("training (step "));
    assert_eq!(e.completed(), e.steps_done(0));
    // Run 0 is still evaluated; the failed runs are not.
    let last = frames
        .iter()
        .filter_map(|(r, _)| r.evaluated.as_ref())
        .next_back()
        .unwrap();
    assert!(last[0].is_some() && last[1].is_none() && last[3].is_none());
    assert!(
        frames.iter().all(|(r, _)| !r.stop_playing),
        "one run still trains"
    );
}

#[test]
fn finished_runs_stop_and_play_turns_off() {
    let clock = Clock::default();
    let runs = (0..RUNS)
        .map(|i| FakeRun::new(&clock, 0.1, 2, 5 + i))
        .collect();
    let mut e = engine(runs);
    let frames = run_frames(&mut e, &clock, 300, true, 1000.0);
    for i in 0..RUNS {
        assert_eq!(e.steps_done(i), 5 + i, "run {i} stops at its budget");
        assert_eq!(
            e.status_text(i, true),
            format!("done: step budget of {} reached", 5 + i)
        );
    }
    assert!(frames.iter().any(|(r, _)| r.stop_playing));
    assert!(!e.any_running());
}

#[test]
fn a_run_that_could_not_start_says_why_and_off_slots_are_off() {
    let clock = Clock::default();
    let mut e: Engine<FakeRun> = Engine::default();
    e.load(
        clock.now(),
        Some(()),
        vec![
            Ok(Some(FakeRun::new(&clock, 0.1, 2, 100))),
            Ok(None),
            Err("invalid learning rate 0: must be > 0 and ≤ 1e9".into()),
        ],
    );
    run_frames(&mut e, &clock, 20, true, 1000.0);
    assert!(e.steps_done(0) > 0);
    assert_eq!(e.status_text(1, true), "off");
    assert_eq!(
        e.status_text(2, true),
        "not started: invalid learning rate 0: must be > 0 and ≤ 1e9"
    );
    assert_eq!(e.status_text(3, true), "off");
}

#[test]
fn after_an_evaluation_each_plot_then_each_gallery_column_then_paint_is_drawn_once() {
    let clock = Clock::default();
    let runs = (0..RUNS)
        .map(|_| FakeRun::new(&clock, 0.1, 2, 1000))
        .collect();
    let mut e = engine(runs);
    let frames = run_frames(&mut e, &clock, 40, false, 1000.0);
    let draws: Vec<Draw> = frames.iter().flat_map(|(r, _)| r.draw.clone()).collect();
    // The first frame draws the painted image (dirty after load); the first evaluation (at
    // step 0) then publishes every plot, every gallery column and the painted image.
    let mut want = vec![Draw::Paint { resynth: true }];
    want.extend((0..PLOTS).map(Draw::Plot));
    want.extend((0..RUNS).map(Draw::Gallery));
    want.push(Draw::Paint { resynth: false });
    assert_eq!(draws, want);
    // One redraw per frame at most (the throttled paint aside).
    assert!(frames.iter().all(|(r, _)| r.draw.len() <= 1));
}

/// The real trainer through the engine: the metrics it publishes equal a one-shot
/// evaluation of a run trained the same number of steps.
#[test]
fn the_engine_with_real_trainers_matches_one_shot_training() {
    let data = Dataset::new(&DataConfig {
        train: 16,
        test: 6,
        ..DataConfig::default()
    })
    .unwrap();
    let cfg = TrainConfig {
        model: dicelens_core::train::ModelKind::Logistic5,
        batch: 4,
        steps: 3,
        ..TrainConfig::default()
    };
    let mut e: Engine<Trainer> = Engine::default();
    let run = Trainer::new(cfg, &data).unwrap();
    e.load(0.0, Some(data.clone()), vec![Ok(Some(run))]);
    let clock = Clock::default();
    let now = || clock.now();
    let mut last = None;
    for _ in 0..400 {
        // Real work does not move the fake clock: each frame does all the work it may.
        let r = e.tick(
            clock.now(),
            &TickInput {
                playing: true,
                rate: 1000.0,
                clock: &now,
            },
        );
        if let Some(m) = r.evaluated {
            last = m.into_iter().next().flatten();
        }
        clock.advance(FRAME_MS);
    }
    assert_eq!(e.status_text(0, true), "done: step budget of 3 reached");
    let mut reference = Trainer::new(cfg, &data).unwrap();
    for _ in 0..3 {
        reference.step(&data).unwrap();
    }
    let want = reference.evaluate(&data).unwrap();
    assert_eq!(last, Some(want));
}

/// Paused with nothing left to do, frames report no work (so the page's loop can stop); a
/// Step +1 or a painted mask brings work back, and then it is idle again.
#[test]
fn a_paused_engine_goes_idle_and_wakes_on_step_and_paint() {
    let clock = Clock::default();
    let runs = (0..RUNS)
        .map(|_| FakeRun::new(&clock, 0.2, 4, 1000))
        .collect();
    let mut e = engine(runs);
    let played = run_frames(&mut e, &clock, 60, true, 1000.0);
    assert!(
        played.iter().all(|(r, _)| r.did_work()),
        "playing works every frame"
    );
    let paused = run_frames(&mut e, &clock, 200, false, 1000.0);
    let last_busy = paused.iter().rposition(|(r, _)| r.did_work());
    assert!(
        last_busy.is_none_or(|k| k < 100),
        "paused work ends (last busy frame {last_busy:?})"
    );
    assert!(paused[150..].iter().all(|(r, _)| !r.did_work()));
    let before = e.completed();
    e.step_once();
    let stepped = run_frames(&mut e, &clock, 200, false, 1000.0);
    assert!(stepped[0].0.did_work());
    assert_eq!(e.completed(), before + 1);
    assert!(stepped[150..].iter().all(|(r, _)| !r.did_work()));
    e.mark_paint_dirty();
    let painted = run_frames(&mut e, &clock, 50, false, 1000.0);
    assert!(
        painted.iter().any(|(r, _)| r.did_work()),
        "the paint redraw is work"
    );
    assert!(!painted.last().unwrap().0.did_work());
}
