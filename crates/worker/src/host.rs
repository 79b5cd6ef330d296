//! What the worker does, with no browser types: it takes the page's commands
//! ([`Host::handle`]), works for a slice of time ([`Host::work`]) and says what to report.
//! The browser glue (`web.rs`) only moves packets and schedules the slices; tests drive a
//! `Host` natively, through the same encoding.

use dicelens_core::audit::{ExampleRun, EXAMPLE_STEPS};
use dicelens_core::train::{Dataset, Sample, Trainer};
use ndarray::ArrayView2;

use crate::engine::{Draw, Engine, TickInput};
use crate::protocol::{shard_owners, FromWorker, PeerProgress, Preds, Setup, ToWorker, RUNS};

/// Held-out images in the gallery.
pub const GALLERY: usize = 4;
/// Quantiles of the held-out foreground proportion the gallery's images sit at.
const QUANTILES: [f64; GALLERY] = [0.05, 0.35, 0.65, 0.95];
/// Training steps of the example run between two checks of the clock.
const EXAMPLE_CHUNK: usize = 1;
/// The speed limit before the page sets one (steps per second per run).
const DEFAULT_RATE: f64 = 240.0;
/// Steps a shard's runs may get ahead of the other shard's while playing. Progress crosses
/// between the workers once per slice of work (≤ 14 ms), and a step of a shard's runs takes
/// about 10 ms, so 6 steps keep either shard from waiting for a stale count; a pause then
/// leaves the shards at most 6 steps apart, which the one behind makes up.
pub const SHARD_SLACK: usize = 6;

/// The gallery's held-out images (indices) and their foreground proportions: the images at
/// spread-out quantiles of the foreground proportion. Empty when there are no held-out images.
pub fn pick_gallery(data: &Dataset) -> Vec<(usize, f64)> {
    let n = data.test.len();
    if n == 0 {
        return Vec::new();
    }
    let mut by_u: Vec<(f64, usize)> = (0..n)
        .map(|i| {
            let fg: f64 = (1..data.classes() as i64)
                .map(|k| data.test.proportion(i, k))
                .sum();
            (fg, i)
        })
        .collect();
    by_u.sort_by(|a, b| a.0.total_cmp(&b.0));
    QUANTILES
        .iter()
        .map(|q| {
            let (u, i) = by_u[((q * n as f64) as usize).min(n - 1)];
            (i, u)
        })
        .collect()
}

/// Foreground probability of a prediction `(K, H, W)` (flattened): binary, the one channel;
/// multiclass, `1 − p(background)`.
pub fn foreground(p: &[f64], k: usize, n: usize) -> Vec<f32> {
    let p = &p[..n.min(p.len())];
    if k <= 1 {
        p.iter().map(|&x| x as f32).collect()
    } else {
        p.iter().map(|&b| (1.0 - b) as f32).collect()
    }
}

fn labels_u8(l: impl Iterator<Item = i64>) -> Vec<u8> {
    l.map(|v| v.clamp(0, 255) as u8).collect()
}

/// A run's foreground probability on an image.
fn predict(run: &Trainer, image: ArrayView2<'_, f64>) -> Option<Vec<f32>> {
    let p = run.predict(image);
    let k = p.shape()[0];
    let n = p.shape().get(1..).map_or(0, |s| s.iter().product());
    p.as_slice().map(|s| foreground(s, k, n))
}

/// The worker's state.
pub struct Host {
    engine: Engine<Trainer>,
    setup: Option<Setup>,
    needs_reset: bool,
    playing: bool,
    rate: f64,
    gallery: Vec<usize>,
    mask: Option<(usize, Vec<u8>)>,
    paint: Option<Sample>,
    statuses: Vec<String>,
    completed: Option<usize>,
    example: Option<(u32, ExampleRun)>,
    /// A Step that arrived while a reset was pending (taken once the runs are built).
    step_after_reset: bool,
    /// This worker is shard `.0` of `.1` (see [`shard_owners`]).
    shard: (usize, usize),
    /// Loads received so far.
    generation: usize,
    /// The other shard's progress on the same setup, when it has said.
    peer: Option<PeerProgress>,
    /// Progress last told to the other shard.
    peer_told: Option<PeerProgress>,
    /// An `Interacting` arrived and its calm period has not started yet.
    calm_asked: bool,
    /// Work in calm slices until this time (the worker's clock, ms).
    calm_until: f64,
}

/// Milliseconds of work between two yields.
pub const SLICE_MS: f64 = 14.0;
/// How long one `Interacting` keeps the worker calm (ms): a drag sends one about every
/// [`CALM_MS`] / 2, so a drag is calm throughout and training is back to full speed this long
/// after the last input.
pub const CALM_MS: f64 = 300.0;
/// Work between two yields while calm (ms).
pub const CALM_SLICE_MS: f64 = 4.0;
/// The pause after each calm slice (ms): about half of a core's time is left to the page.
pub const CALM_WAIT_MS: i32 = 4;

/// How the worker paces its next slice ([`Host::pace`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    /// Milliseconds of work in the slice.
    pub slice_ms: f64,
    /// Milliseconds to wait after it before the next (0: at once).
    pub wait_ms: i32,
}

impl Default for Host {
    fn default() -> Self {
        Self {
            engine: Engine::default(),
            setup: None,
            needs_reset: false,
            playing: false,
            rate: DEFAULT_RATE,
            gallery: Vec::new(),
            mask: None,
            paint: None,
            statuses: Vec::new(),
            completed: None,
            example: None,
            step_after_reset: false,
            shard: (0, 1),
            generation: 0,
            peer: None,
            peer_told: None,
            calm_asked: false,
            calm_until: f64::NEG_INFINITY,
        }
    }
}

impl Host {
    /// Takes one command.
    pub fn handle(&mut self, cmd: ToWorker, out: &mut Vec<FromWorker>) {
        match cmd {
            ToWorker::Load(s) => {
                // Counted as they arrive (both shards take the same Loads, however many
                // they fold into one reset).
                self.generation += 1;
                self.peer = None;
                self.setup = Some(s);
                self.needs_reset = true;
                self.step_after_reset = false;
            }
            ToWorker::Play(on) => {
                self.playing = on;
                self.follow_peer();
            }
            ToWorker::Rate(r) => {
                self.rate = if r.is_finite() {
                    r.clamp(1.0, 1000.0)
                } else {
                    DEFAULT_RATE
                }
            }
            ToWorker::Step => {
                self.playing = false;
                if self.needs_reset {
                    self.step_after_reset = true;
                } else {
                    self.engine.step_once();
                }
            }
            ToWorker::Mask { size, labels } => {
                if size.checked_mul(size) == Some(labels.len()) {
                    self.mask = Some((size, labels));
                    self.engine.mark_paint_dirty();
                } else {
                    out.push(FromWorker::Error(
                        "the painted mask does not have the image's size".into(),
                    ));
                }
            }
            ToWorker::Shard { index, count } => {
                self.shard = (index.min(count.max(1) - 1), count.max(1));
                self.follow_peer();
            }
            ToWorker::Interacting => self.calm_asked = true,
            ToWorker::Peer(p) => {
                if p.generation == self.generation {
                    self.peer = Some(p);
                    self.follow_peer();
                }
            }
            ToWorker::Example { ticket, kind } => match ExampleRun::new(kind) {
                Ok(run) => self.example = Some((ticket, run)),
                Err(e) => {
                    self.example = None;
                    out.push(FromWorker::ExampleFailed {
                        ticket,
                        message: e.to_string(),
                    });
                }
            },
        }
    }

    /// Keeps this shard's runs in lockstep with the other shard's: while playing, the target
    /// moves at most [`SHARD_SLACK`] steps past the step the other shard's runs completed
    /// (before it has said, past 0); paused, the target rises to the other shard's, so both
    /// stop at the same step. No limit with one shard, or when the other has no live run.
    fn follow_peer(&mut self) {
        if self.shard.1 <= 1 {
            self.engine.set_cap(None);
            return;
        }
        let cap = match self.peer {
            Some(p) if !p.live => None,
            Some(p) => Some(p.completed + SHARD_SLACK),
            None => Some(SHARD_SLACK),
        };
        self.engine.set_cap(cap);
        if let (false, Some(p)) = (self.playing, self.peer) {
            self.engine.raise_target(p.target);
        }
    }

    /// How to pace the next slice of work at time `now` (the worker's clock): full slices one
    /// after another, or, for [`CALM_MS`] after an `Interacting`, short slices each followed
    /// by a pause, so that the workers leave the page's thread a core while the user drags.
    pub fn pace(&mut self, now: f64) -> Pace {
        if std::mem::take(&mut self.calm_asked) {
            self.calm_until = now + CALM_MS;
        }
        if now < self.calm_until {
            Pace {
                slice_ms: CALM_SLICE_MS,
                wait_ms: CALM_WAIT_MS,
            }
        } else {
            Pace {
                slice_ms: SLICE_MS,
                wait_ms: 0,
            }
        }
    }

    /// This shard's progress for the other shard, when it changed since last told (`None`
    /// with one shard).
    pub fn peer_report(&mut self) -> Option<ToWorker> {
        if self.shard.1 <= 1 || !self.engine.is_loaded() || self.needs_reset {
            return None;
        }
        let p = PeerProgress {
            generation: self.generation,
            completed: self.engine.completed(),
            target: self.engine.target(),
            live: self.engine.any_running(),
        };
        if self.peer_told == Some(p) {
            return None;
        }
        self.peer_told = Some(p);
        Some(ToWorker::Peer(p))
    }

    /// True while there is work to do without a new command (the worker keeps scheduling
    /// slices; otherwise it waits for a command).
    pub fn busy(&self) -> bool {
        self.needs_reset || self.example.is_some() || self.playing || self.engine.has_pending()
    }

    /// Works until `clock()` passes `until` (at least one unit of work): a reset, the example
    /// run, the trainer's scheduler. Reports go to `out`; whether anything was done.
    pub fn work(&mut self, clock: &dyn Fn() -> f64, until: f64, out: &mut Vec<FromWorker>) -> bool {
        let mut worked = false;
        if self.needs_reset {
            self.reset(clock(), out);
            if std::mem::take(&mut self.step_after_reset) {
                self.engine.step_once();
            }
            worked = true;
        }
        if let Some((ticket, run)) = self.example.as_mut() {
            let ticket = *ticket;
            loop {
                let before = run.steps_done();
                match run.advance(EXAMPLE_CHUNK) {
                    Err(e) => {
                        out.push(FromWorker::ExampleFailed {
                            ticket,
                            message: e.to_string(),
                        });
                        self.example = None;
                        break;
                    }
                    Ok(true) => {
                        let set = run.set();
                        let l = set.labels.shape();
                        let z = set.logits.shape();
                        let shape = [z[0], z[1], l[1], l[2]];
                        out.push(FromWorker::ExampleDone {
                            ticket,
                            shape,
                            labels: labels_u8(set.labels.iter().copied()),
                            logits: set.logits.iter().copied().collect(),
                        });
                        self.example = None;
                        break;
                    }
                    Ok(false) => {
                        let s = run.steps_done();
                        if s / 20 != before / 20 {
                            out.push(FromWorker::ExampleProgress { ticket, step: s });
                        }
                    }
                }
                if clock() >= until {
                    break;
                }
            }
            worked = true;
            if clock() >= until {
                return worked;
            }
        }
        loop {
            let t0 = clock();
            let input = TickInput {
                playing: self.playing,
                rate: self.rate,
                clock,
            };
            let report = self.engine.tick(t0, &input);
            let did = report.did_work();
            worked |= did;
            if !report.losses.is_empty() {
                out.push(FromWorker::Losses(report.losses.clone()));
            }
            if let Some(fresh) = report.evaluated {
                out.push(FromWorker::Evaluated(fresh));
            }
            for d in &report.draw {
                match *d {
                    Draw::Plot(j) => out.push(FromWorker::Plot(j)),
                    Draw::Gallery(i) => out.extend(self.gallery_column(i)),
                    Draw::Paint { resynth } => match self.paint_report(resynth) {
                        Ok(Some(m)) => out.push(m),
                        Ok(None) => {}
                        Err(e) => out.push(FromWorker::Error(e)),
                    },
                }
            }
            if let Some((r, s, e)) = report.timings {
                out.push(FromWorker::Timings(r, s, e));
            }
            if self.completed != Some(report.completed) {
                self.completed = Some(report.completed);
                out.push(FromWorker::Completed(report.completed));
            }
            if report.stop_playing {
                self.playing = false;
                out.push(FromWorker::StopPlaying);
            }
            if !did || clock() >= until {
                break;
            }
        }
        self.push_statuses(out);
        worked
    }

    fn push_statuses(&mut self, out: &mut Vec<FromWorker>) {
        if !self.engine.is_loaded() {
            return;
        }
        let st: Vec<String> = (0..RUNS)
            .map(|i| self.engine.status_text(i, self.playing))
            .collect();
        if st != self.statuses {
            self.statuses = st.clone();
            out.push(FromWorker::Statuses(st));
        }
    }

    /// Rebuilds the data (when its settings changed) and every run from the setup.
    fn reset(&mut self, now: f64, out: &mut Vec<FromWorker>) {
        self.needs_reset = false;
        let Some(s) = self.setup.clone() else {
            return;
        };
        let mut error = None;
        let data = match self.engine.take_data() {
            Some(d) if d.config == s.data => Some(d),
            _ => match Dataset::new(&s.data) {
                Ok(d) => Some(d),
                Err(err) => {
                    error = Some(err.to_string());
                    None
                }
            },
        };
        // This shard's runs only; the other slots are off here.
        let owners = shard_owners(&s.runs, self.shard.1);
        let mut runs = Vec::with_capacity(RUNS);
        for (cfg, owner) in s.runs.iter().zip(owners) {
            let cfg = cfg.filter(|_| owner == Some(self.shard.0));
            runs.push(match (&data, cfg) {
                (Some(d), Some(cfg)) => Trainer::new(cfg, d).map(Some).map_err(|err| {
                    error = Some(err.to_string());
                    err.to_string()
                }),
                _ => Ok(None),
            });
        }
        let mut gallery_u = Vec::new();
        if let Some(d) = &data {
            let picked = pick_gallery(d);
            self.gallery = picked.iter().map(|p| p.0).collect();
            gallery_u = picked.iter().map(|p| p.1).collect();
        }
        self.engine.load(now, data, runs);
        self.follow_peer();
        self.paint = None;
        self.completed = None;
        self.statuses.clear();
        let on = std::array::from_fn(|i| self.engine.run(i).is_some());
        out.push(FromWorker::Loaded {
            generation: self.generation,
            error,
            on,
            gallery_u,
        });
    }

    /// Run `i`'s column of the gallery (run 0 also sends the input images).
    fn gallery_column(&self, i: usize) -> Option<FromWorker> {
        let data = self.engine.data()?;
        if i >= RUNS {
            return None;
        }
        let w = data.size();
        let mut images = Vec::new();
        let mut labels = Vec::new();
        let mut preds = Vec::new();
        let run = self.engine.run(i);
        for &idx in self.gallery.iter().take(GALLERY) {
            let (Some(img), Some(lab)) = (
                data.test.images.outer_iter().nth(idx),
                data.test.labels.outer_iter().nth(idx),
            ) else {
                continue;
            };
            labels.extend(labels_u8(lab.iter().copied()));
            if i == 0 {
                images.extend(img.iter().map(|&x| x as f32));
            }
            if let Some(run) = run {
                preds.extend(predict(run, img)?);
            }
        }
        Some(FromWorker::Gallery {
            run: i,
            size: w,
            images: (i == 0).then_some(images),
            labels,
            preds: run.map(|_| preds),
        })
    }

    /// The painted image (synthesized again when `resynth` or when there is none yet) and
    /// every run's prediction on it. `Err` carries the core's message.
    fn paint_report(&mut self, resynth: bool) -> Result<Option<FromWorker>, String> {
        let (Some(data), Some(setup)) = (self.engine.data(), self.setup.as_ref()) else {
            return Ok(None);
        };
        let w = data.size();
        let Some((size, mask)) = self.mask.as_ref() else {
            return Ok(None);
        };
        if *size != w {
            return Ok(None);
        }
        let max_class = data.classes().saturating_sub(1) as i64;
        let mask: Vec<i64> = mask.iter().map(|&l| (l as i64).min(max_class)).collect();
        if resynth || self.paint.is_none() {
            self.paint = Some(synthesize(data, setup, &mask)?);
        }
        let Some(sample) = self.paint.as_ref() else {
            return Ok(None);
        };
        let preds: Vec<Preds> = (0..RUNS)
            .map(|i| {
                self.engine
                    .run(i)
                    .and_then(|r| predict(r, sample.image.view()))
            })
            .collect();
        Ok(Some(FromWorker::Paint {
            size: w,
            image: sample.image.iter().map(|&x| x as f32).collect(),
            labels: labels_u8(mask.iter().copied()),
            preds,
        }))
    }
}

/// The image synthesized from a mask of the data's size and classes.
fn synthesize(data: &Dataset, setup: &Setup, mask: &[i64]) -> Result<Sample, String> {
    // A template of the right shape, then the mask.
    let Some(template) = data.test.labels.outer_iter().next() else {
        return Err("the data set has no held-out image".into());
    };
    let mut labels = template.to_owned();
    let Some(slice) = labels.as_slice_mut() else {
        return Err("the label map is not contiguous".into());
    };
    if slice.len() != mask.len() {
        return Err("the painted mask does not have the image's size".into());
    }
    slice.copy_from_slice(mask);
    Dataset::from_mask(
        labels.view(),
        setup.data.noise,
        setup.data.blur,
        setup.data.seed ^ 0x9A17,
    )
    .map_err(|e| e.to_string())
}

/// Steps of the example run (for the page's progress message).
pub const EXAMPLE_TOTAL: usize = EXAMPLE_STEPS;

#[cfg(test)]
mod tests {
    use super::*;
    use dicelens_core::train::{DataConfig, ModelKind, TrainConfig};

    #[test]
    fn input_calms_the_pace_for_calm_ms_from_the_next_slice() {
        let full = Pace {
            slice_ms: SLICE_MS,
            wait_ms: 0,
        };
        let calm = Pace {
            slice_ms: CALM_SLICE_MS,
            wait_ms: CALM_WAIT_MS,
        };
        let mut h = Host::default();
        let mut out = Vec::new();
        assert_eq!(h.pace(0.0), full);
        h.handle(ToWorker::Interacting, &mut out);
        assert!(out.is_empty(), "no reply: {out:?}");
        // The calm period starts at the next slice, on the worker's own clock.
        assert_eq!(h.pace(1000.0), calm);
        assert_eq!(h.pace(1000.0 + CALM_MS - 1.0), calm);
        assert_eq!(h.pace(1000.0 + CALM_MS), full);
        // Input again extends it from then; without input it ends.
        h.handle(ToWorker::Interacting, &mut out);
        assert_eq!(h.pace(2000.0), calm);
        h.handle(ToWorker::Interacting, &mut out);
        assert_eq!(h.pace(2000.0 + CALM_MS - 10.0), calm);
        assert_eq!(h.pace(2000.0 + 2.0 * CALM_MS - 11.0), calm);
        assert_eq!(h.pace(2000.0 + 2.0 * CALM_MS), full);
        assert_eq!(h.pace(5000.0), full);
        // Calm slices leave at least as much time as they work.
        assert!(f64::from(CALM_WAIT_MS) >= CALM_SLICE_MS);
    }

    #[test]
    fn the_gallery_spreads_over_foreground_size() {
        let data = Dataset::new(&DataConfig {
            train: 4,
            test: 40,
            ..DataConfig::default()
        })
        .unwrap();
        let picked = pick_gallery(&data);
        assert_eq!(picked.len(), GALLERY);
        for w in picked.windows(2) {
            assert!(w[0].1 <= w[1].1, "sorted by u: {picked:?}");
        }
        for &(i, u) in &picked {
            assert_eq!(u, data.test.proportion(i, 1), "image {i}");
        }
        // Fewer held-out images than gallery slots: no panic.
        let one = Dataset::new(&DataConfig {
            train: 1,
            test: 1,
            ..DataConfig::default()
        })
        .unwrap();
        assert_eq!(pick_gallery(&one).len(), GALLERY);
    }

    #[test]
    fn foreground_is_the_channel_or_one_minus_background() {
        assert_eq!(foreground(&[0.25, 0.75, 9.0], 1, 2), vec![0.25, 0.75]);
        assert_eq!(foreground(&[0.25, 1.0, 0.75, 0.0], 2, 2), vec![0.75, 0.0]);
        assert_eq!(foreground(&[0.5], 1, 4).len(), 1, "short input: no panic");
    }

    fn small_setup(runs: usize) -> Setup {
        let cfg = TrainConfig {
            model: ModelKind::Logistic5,
            batch: 2,
            steps: 3,
            ..TrainConfig::default()
        };
        Setup {
            data: DataConfig {
                train: 4,
                test: 4,
                ..DataConfig::default()
            },
            runs: std::array::from_fn(|i| (i < runs).then_some(cfg)),
        }
    }

    /// Works until the host is idle; every report.
    fn settle(h: &mut Host) -> Vec<FromWorker> {
        let t = std::cell::Cell::new(0.0);
        let clock = || {
            t.set(t.get() + 0.5);
            t.get()
        };
        let mut out = Vec::new();
        for _ in 0..100_000 {
            let worked = h.work(&clock, t.get() + 14.0, &mut out);
            if !worked && !h.busy() {
                return out;
            }
        }
        panic!("the host never went idle");
    }

    #[test]
    fn a_step_sent_before_the_runs_are_built_is_taken_once_they_are() {
        let mut h = Host::default();
        let mut out = Vec::new();
        h.handle(ToWorker::Load(small_setup(2)), &mut out);
        h.handle(ToWorker::Step, &mut out);
        out.extend(settle(&mut h));
        let loaded = out.iter().find_map(|m| match m {
            FromWorker::Loaded { error, on, .. } => Some((error.clone(), *on)),
            _ => None,
        });
        assert_eq!(loaded, Some((None, [true, true, false, false])));
        assert!(
            out.contains(&FromWorker::Completed(1)),
            "one step taken: {out:?}"
        );
        assert!(!out.contains(&FromWorker::Completed(2)));
        // The evaluation at step 1 followed, and the statuses say where the runs are.
        let evaluated = out.iter().rev().find_map(|m| match m {
            FromWorker::Evaluated(ms) => Some(ms.clone()),
            _ => None,
        });
        let ms = evaluated.expect("an evaluation");
        assert_eq!(ms[0].as_ref().map(|m| m.step), Some(1));
        assert!(ms[2].is_none());
        let statuses = out.iter().rev().find_map(|m| match m {
            FromWorker::Statuses(s) => Some(s.clone()),
            _ => None,
        });
        assert_eq!(
            statuses.expect("statuses"),
            vec!["paused at step 1", "paused at step 1", "off", "off"]
        );
    }

    #[test]
    fn play_runs_to_the_budget_then_turns_off() {
        let mut h = Host::default();
        let mut out = Vec::new();
        h.handle(ToWorker::Load(small_setup(1)), &mut out);
        h.handle(ToWorker::Rate(1000.0), &mut out);
        h.handle(ToWorker::Play(true), &mut out);
        out.extend(settle(&mut h));
        assert!(out.contains(&FromWorker::StopPlaying));
        assert!(out.contains(&FromWorker::Completed(3)));
        assert!(!h.busy());
    }

    #[test]
    fn bad_commands_get_a_message_not_a_panic() {
        let mut h = Host::default();
        let mut out = Vec::new();
        h.handle(
            ToWorker::Mask {
                size: 32,
                labels: vec![1; 5],
            },
            &mut out,
        );
        assert_eq!(
            out,
            vec![FromWorker::Error(
                "the painted mask does not have the image's size".into()
            )]
        );
        // A setup the core refuses: its message, no run on.
        let mut s = small_setup(1);
        s.data.size = 7;
        h.handle(ToWorker::Load(s), &mut out);
        h.handle(ToWorker::Rate(f64::NAN), &mut out);
        h.handle(ToWorker::Play(true), &mut out);
        let out = settle(&mut h);
        let (error, on) = out
            .iter()
            .find_map(|m| match m {
                FromWorker::Loaded { error, on, .. } => Some((error.clone(), *on)),
                _ => None,
            })
            .expect("loaded");
        assert!(error.is_some_and(|e| !e.is_empty()));
        assert_eq!(on, [false; RUNS]);
        assert!(
            out.contains(&FromWorker::StopPlaying),
            "nothing can train: {out:?}"
        );
    }
}
