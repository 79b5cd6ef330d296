//! Training in two workers: two `Host`s, linked as the page links their workers (each one's
//! progress handed to the other after every slice of work), their reports merged by `Shards`,
//! against one `Host` with every run. Natively, with fake clocks that run at different speeds.

use std::cell::Cell;
use std::collections::BTreeMap;

use dicelens_core::train::{DataConfig, Metrics, ModelKind, TrainConfig};
use dicelens_core::LossKind;
use dicelens_worker::host::{Host, SHARD_SLACK};
use dicelens_worker::protocol::{shard_owners, FromWorker, Setup, ToWorker, RUNS};
use dicelens_worker::shards::Shards;

fn setup(steps: usize) -> Setup {
    let losses = [
        LossKind::Ce,
        LossKind::DiceMonai,
        LossKind::CeL1,
        LossKind::LogDice,
    ];
    Setup {
        data: DataConfig {
            train: 6,
            test: 4,
            ..DataConfig::default()
        },
        runs: std::array::from_fn(|i| {
            Some(TrainConfig {
                model: ModelKind::Logistic5,
                loss: losses[i],
                batch: 2,
                steps,
                seed: 7 + i as u64,
                ..TrainConfig::default()
            })
        }),
    }
}

/// The page and its workers: `hosts[s]` is shard `s`.
struct Page {
    hosts: Vec<Host>,
    shards: Shards,
    clocks: Vec<Cell<f64>>,
    /// What the page applied, in order.
    applied: Vec<FromWorker>,
    /// Each run's last step reported (`Losses`).
    steps: BTreeMap<usize, usize>,
    /// The largest spread of the runs' steps seen while playing.
    spread: usize,
}

impl Page {
    fn new(count: usize) -> Self {
        let mut p = Page {
            hosts: (0..count).map(|_| Host::default()).collect(),
            shards: Shards::new(count),
            clocks: (0..count).map(|_| Cell::new(0.0)).collect(),
            applied: Vec::new(),
            steps: BTreeMap::new(),
            spread: 0,
        };
        for index in 0..count {
            let mut out = Vec::new();
            p.hosts[index].handle(ToWorker::Shard { index, count }, &mut out);
            assert!(out.is_empty());
        }
        p
    }

    /// Loads `setup` and presses Play with the speed limit at its highest.
    fn play(&mut self, setup: Setup) {
        self.send(ToWorker::Load(setup));
        self.send(ToWorker::Rate(1000.0));
        self.send(ToWorker::Play(true));
    }

    fn send(&mut self, cmd: ToWorker) {
        self.shards.sent(&cmd);
        for s in self.shards.recipients(&cmd) {
            let mut out = Vec::new();
            self.hosts[s].handle(cmd.clone(), &mut out);
            self.receive(s, out);
        }
    }

    fn receive(&mut self, s: usize, out: Vec<FromWorker>) {
        for m in out {
            for m in self.shards.receive(s, m) {
                if let FromWorker::Losses(l) = &m {
                    for &(run, step, _) in l {
                        self.steps.insert(run, step);
                    }
                }
                self.applied.push(m);
            }
        }
        if self.steps.len() > 1 {
            let (lo, hi) = (
                self.steps.values().min().copied().unwrap_or(0),
                self.steps.values().max().copied().unwrap_or(0),
            );
            self.spread = self.spread.max(hi - lo);
        }
    }

    /// One slice of shard `s`'s work (its clock moves 0.5 ms a reading), then its progress
    /// to the other shard.
    fn slice(&mut self, s: usize) -> bool {
        let c = &self.clocks[s];
        let clock = || {
            c.set(c.get() + 0.5);
            c.get()
        };
        let mut out = Vec::new();
        let until = c.get() + 14.0;
        let worked = self.hosts[s].work(&clock, until, &mut out);
        self.receive(s, out);
        if let Some(p) = self.hosts[s].peer_report() {
            for o in 0..self.hosts.len() {
                if o != s {
                    let mut out = Vec::new();
                    self.hosts[o].handle(p.clone(), &mut out);
                    self.receive(o, out);
                }
            }
        }
        worked
    }

    /// Works until every shard is idle; shard `s` takes `speed[s]` slices in turn.
    fn settle(&mut self, speed: &[usize]) {
        for _ in 0..200_000 {
            let mut any = false;
            for (s, &n) in speed.iter().enumerate() {
                for _ in 0..n {
                    any |= self.slice(s);
                }
            }
            if !any && self.hosts.iter().all(|h| !h.busy()) {
                return;
            }
        }
        panic!("the shards never went idle");
    }

    /// `slices` rounds of work, shard `s` taking `speed[s]` slices a round.
    fn run(&mut self, speed: &[usize], slices: usize) {
        for _ in 0..slices {
            for (s, &n) in speed.iter().enumerate() {
                for _ in 0..n {
                    self.slice(s);
                }
            }
        }
    }

    fn last<T>(&self, f: impl Fn(&FromWorker) -> Option<T>) -> Option<T> {
        self.applied.iter().rev().find_map(f)
    }

    fn completed(&self) -> Option<usize> {
        self.last(|m| match m {
            FromWorker::Completed(c) => Some(*c),
            _ => None,
        })
    }

    fn statuses(&self) -> Vec<String> {
        self.last(|m| match m {
            FromWorker::Statuses(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_default()
    }

    /// Each slot's metrics at `step` (the last evaluation of that step).
    fn metrics_at(&self, step: usize) -> Vec<Option<Metrics>> {
        let mut m: Vec<Option<Metrics>> = vec![None; RUNS];
        for a in &self.applied {
            if let FromWorker::Evaluated(v) = a {
                for (slot, x) in v.iter().enumerate() {
                    if let Some(x) = x.as_ref().filter(|x| x.step == step) {
                        m[slot] = Some(x.clone());
                    }
                }
            }
        }
        m
    }

    /// Every `(run, step, loss)` reported, by run.
    fn losses(&self) -> BTreeMap<usize, Vec<(usize, u64)>> {
        let mut by: BTreeMap<usize, Vec<(usize, u64)>> = BTreeMap::new();
        for a in &self.applied {
            if let FromWorker::Losses(l) = a {
                for &(run, step, loss) in l {
                    by.entry(run).or_default().push((step, loss.to_bits()));
                }
            }
        }
        by
    }
}

#[test]
fn runs_are_dealt_to_the_shards_in_turn() {
    let mut s = setup(5);
    assert_eq!(
        shard_owners(&s.runs, 2),
        [Some(0), Some(1), Some(0), Some(1)]
    );
    assert_eq!(shard_owners(&s.runs, 1), [Some(0); RUNS]);
    s.runs[0] = None;
    s.runs[2] = None;
    assert_eq!(shard_owners(&s.runs, 2), [None, Some(0), None, Some(1)]);
    s.runs[3] = None;
    assert_eq!(shard_owners(&s.runs, 2), [None, Some(0), None, None]);
}

#[test]
fn two_shards_play_in_lockstep_pause_together_and_step_once() {
    // Shard 1 gets three slices for each of shard 0's: it would run ahead if nothing held it.
    for speed in [[1, 3], [3, 1], [1, 1]] {
        let mut page = Page::new(2);
        page.play(setup(100_000));
        page.run(&speed, 40);
        let playing = page.completed().expect("steps completed");
        assert!(playing >= 20, "{speed:?}: only {playing} steps");
        assert!(
            page.spread <= SHARD_SLACK + 1,
            "{speed:?}: runs {} steps apart",
            page.spread
        );
        let st = page.statuses();
        assert!(
            st.iter().all(|s| s.starts_with("training")),
            "{speed:?}: {st:?}"
        );
        // Pause: the shards end at the same step, which the page shows.
        page.send(ToWorker::Play(false));
        page.settle(&speed);
        let paused = page.completed().expect("completed");
        assert!(paused >= playing);
        let want = format!("paused at step {paused}");
        assert_eq!(page.statuses(), vec![want; RUNS], "{speed:?}");
        assert_eq!(
            page.steps.values().copied().collect::<Vec<_>>(),
            vec![paused; RUNS]
        );
        // Its evaluation covers every run, at that step.
        assert!(
            page.metrics_at(paused).iter().all(Option::is_some),
            "{speed:?}"
        );
        // Step: every run one more.
        page.send(ToWorker::Step);
        page.settle(&speed);
        assert_eq!(page.completed(), Some(paused + 1));
        assert_eq!(
            page.steps.values().copied().collect::<Vec<_>>(),
            vec![paused + 1; RUNS]
        );
        assert!(page.metrics_at(paused + 1).iter().all(Option::is_some));
    }
}

#[test]
fn two_shards_give_one_workers_numbers_bit_for_bit() {
    let mut two = Page::new(2);
    two.play(setup(100_000));
    two.run(&[1, 2], 60);
    two.send(ToWorker::Play(false));
    two.settle(&[1, 2]);
    let n = two.completed().expect("steps");
    assert!(n >= 5, "{n} steps");
    // One worker, the same number of steps one at a time.
    let mut one = Page::new(1);
    one.send(ToWorker::Load(setup(100_000)));
    for _ in 0..n {
        one.send(ToWorker::Step);
        one.settle(&[1]);
    }
    assert_eq!(one.completed(), Some(n));
    assert_eq!(two.metrics_at(n), one.metrics_at(n));
    assert!(one.metrics_at(n).iter().all(Option::is_some));
    let (a, b) = (two.losses(), one.losses());
    for run in 0..RUNS {
        let a: Vec<_> = a[&run].iter().filter(|x| x.0 <= n).collect();
        let b: Vec<_> = b[&run].iter().collect();
        assert_eq!(a, b, "run {run}'s training losses");
    }
}

#[test]
fn play_to_the_budget_stops_once_every_shard_is_done() {
    let mut page = Page::new(2);
    // Run 1 (shard 1) off: shard 0 has runs 0 and 3... dealt in turn: 0→0, 2→1, 3→0.
    let mut s = setup(12);
    s.runs[1] = None;
    page.play(s);
    page.settle(&[2, 1]);
    let stops = page
        .applied
        .iter()
        .filter(|m| matches!(m, FromWorker::StopPlaying))
        .count();
    assert_eq!(stops, 1, "one merged StopPlaying");
    assert_eq!(page.completed(), Some(12));
    let st = page.statuses();
    assert_eq!(st[1], "off");
    for i in [0, 2, 3] {
        assert_eq!(st[i], "done: step budget of 12 reached", "{st:?}");
    }
    let loaded: Vec<_> = page
        .applied
        .iter()
        .filter_map(|m| match m {
            FromWorker::Loaded { on, .. } => Some(*on),
            _ => None,
        })
        .collect();
    assert_eq!(loaded, vec![[true, false, true, true]], "one merged Loaded");
}

#[test]
fn a_new_setup_while_training_starts_both_shards_over() {
    let mut page = Page::new(2);
    page.play(setup(100_000));
    page.run(&[1, 1], 40);
    // Two Loads in a row: shard 1 takes both before it works again, shard 0 one at a time.
    let mut s = setup(100_000);
    s.runs[3] = None;
    page.send(ToWorker::Load(s.clone()));
    page.slice(0);
    s.runs[2] = None;
    page.send(ToWorker::Load(s));
    page.steps.clear();
    page.spread = 0;
    let before = page.applied.len();
    page.run(&[1, 1], 60);
    let loaded: Vec<_> = page.applied[before..]
        .iter()
        .filter_map(|m| match m {
            FromWorker::Loaded { on, .. } => Some(*on),
            _ => None,
        })
        .collect();
    assert_eq!(
        loaded,
        vec![[true, true, false, false]],
        "only the last setup"
    );
    assert!(page.completed().unwrap_or(0) >= 5);
    assert!(page.spread <= SHARD_SLACK + 1);
    page.send(ToWorker::Play(false));
    page.settle(&[1, 1]);
    let c = page.completed().expect("steps");
    assert_eq!(
        &page.statuses()[..2],
        &[format!("paused at step {c}"), format!("paused at step {c}")]
    );
    assert_eq!(&page.statuses()[2..], &["off", "off"]);
}

#[test]
fn each_slot_is_shown_from_the_shard_that_owns_it() {
    let mut m = Shards::new(2);
    let mut s = setup(10);
    s.runs[2] = None;
    // Slots 0 and 3 in shard 0, slot 1 in shard 1, slot 2 off.
    m.sent(&ToWorker::Load(s));
    let loaded = |generation, on| FromWorker::Loaded {
        generation,
        error: None,
        on,
        gallery_u: vec![0.1],
    };
    // A stale answer (an earlier Load) is dropped; shard 0's reports wait behind the merge.
    assert!(m.receive(1, loaded(0, [true; RUNS])).is_empty());
    assert!(m
        .receive(0, loaded(1, [true, false, false, true]))
        .is_empty());
    let first = FromWorker::Losses(vec![(0, 1, 0.5)]);
    assert!(m.receive(0, first.clone()).is_empty());
    assert_eq!(
        m.receive(1, loaded(1, [false, true, false, false])),
        vec![loaded(1, [true, true, false, true]), first]
    );
    // The example set goes to shard 0 only, everything else to both.
    let ex = ToWorker::Example {
        ticket: 1,
        kind: dicelens_core::audit::ExampleKind::Ce,
    };
    assert_eq!(m.recipients(&ex), 0..1);
    assert_eq!(m.recipients(&ToWorker::Step), 0..2);
    // Gallery columns: from the owner (an off slot's from shard 0).
    let col = |run| FromWorker::Gallery {
        run,
        size: 1,
        images: None,
        labels: vec![0],
        preds: Some(vec![run as f32]),
    };
    assert_eq!(m.receive(1, col(0)), vec![]);
    assert_eq!(m.receive(1, col(1)), vec![col(1)]);
    assert_eq!(m.receive(0, col(2)), vec![col(2)]);
    assert_eq!(m.receive(1, col(2)), vec![]);
    // The painted image's predictions: each slot from its owner, once both painted the same
    // image.
    let paint_of = |image: f32, preds: [f32; RUNS]| FromWorker::Paint {
        size: 1,
        image: vec![image],
        labels: vec![1],
        preds: preds.iter().map(|&p| Some(vec![p])).collect(),
    };
    let paint = |preds| paint_of(0.5, preds);
    assert_eq!(m.receive(0, paint([10.0, 11.0, 12.0, 13.0])), vec![]);
    assert_eq!(
        m.receive(1, paint_of(0.25, [0.0; RUNS])),
        vec![],
        "another image"
    );
    assert_eq!(
        m.receive(1, paint([20.0, 21.0, 22.0, 23.0])),
        vec![FromWorker::Paint {
            size: 1,
            image: vec![0.5],
            labels: vec![1],
            preds: vec![
                Some(vec![10.0]),
                Some(vec![21.0]),
                Some(vec![12.0]),
                Some(vec![13.0])
            ],
        }]
    );
    // Statuses once both have said; steps per second added, times averaged; the step shown
    // is the smaller.
    let st = |v: [&str; RUNS]| FromWorker::Statuses(v.iter().map(|s| s.to_string()).collect());
    assert!(m.receive(0, st(["a0", "off", "off", "d0"])).is_empty());
    assert_eq!(
        m.receive(1, st(["off", "b1", "off", "off"])),
        vec![st(["a0", "b1", "off", "d0"])]
    );
    assert!(m.receive(1, FromWorker::Timings(40.0, 5.0, 1.0)).len() == 1);
    assert_eq!(
        m.receive(0, FromWorker::Timings(60.0, 7.0, 3.0)),
        vec![FromWorker::Timings(100.0, 6.0, 2.0)]
    );
    assert_eq!(m.receive(1, FromWorker::Completed(5)), vec![]);
    assert_eq!(
        m.receive(0, FromWorker::Completed(7)),
        vec![FromWorker::Completed(5)]
    );
    // Evaluations and losses: only the owner's entries.
    let ev = FromWorker::Evaluated(vec![None, None, None, None]);
    assert_eq!(m.receive(1, ev.clone()), vec![ev]);
    assert_eq!(
        m.receive(1, FromWorker::Losses(vec![(1, 3, 0.5), (0, 3, 0.25)])),
        vec![FromWorker::Losses(vec![(1, 3, 0.5)])]
    );
}
