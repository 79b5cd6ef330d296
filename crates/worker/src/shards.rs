//! The page's side of training in two workers ("shards"): which worker a command goes to, and
//! the reports of both merged into what one worker would have said. No browser types; the
//! page's client (`src/trainer/client.rs`) moves the messages.
//!
//! Each shard builds and trains the runs [`shard_owners`] deals it (the slots that are on, in
//! turn), and reports as if the other slots were off. The two workers keep their runs in
//! lockstep between themselves (`crate::host`). Merged here:
//! - `Loaded`: held until every shard has said it for the same `Load`, then one message (the
//!   slots on in any shard, the first error); what a shard reports after its `Loaded` waits
//!   behind it;
//! - `Completed`: the smallest of the shards that train a run;
//! - `Statuses`, `Gallery` and `Paint`: each slot's from the shard that owns it (shard 0 for a
//!   slot that is off); a `Paint` once every shard with a run has painted the same image;
//! - `Timings`: steps per second added up, times averaged;
//! - `StopPlaying`: once every shard that trains a run has said it since the last Play.
//!
//! Everything else passes as it is. With one shard nothing is changed.

use crate::protocol::{shard_owners, FromWorker, Preds, ToWorker, RUNS};

/// The merged reports of `count` shards.
#[derive(Debug)]
pub struct Shards {
    count: usize,
    /// Each slot's shard for the last `Load` sent.
    owners: [Option<usize>; RUNS],
    /// `Load`s sent.
    generation: usize,
    /// A `Load` was sent and not every shard has answered it: their `Loaded` so far.
    loading: Option<Vec<Option<FromWorker>>>,
    /// Reports of shards that answered the `Load` (shard, report), held until every shard
    /// has.
    held: Vec<(usize, FromWorker)>,
    completed: Vec<usize>,
    merged_completed: Option<usize>,
    statuses: Vec<Option<Vec<String>>>,
    merged_statuses: Option<Vec<String>>,
    timings: Vec<Option<(f64, f64, f64)>>,
    stopped: Vec<bool>,
    /// Each shard's last `Paint`.
    paints: Vec<Option<Painted>>,
}

/// A shard's `Paint`: the image it painted on, and its runs' predictions.
#[derive(Debug, Clone)]
struct Painted {
    size: usize,
    image: Vec<f32>,
    labels: Vec<u8>,
    preds: Vec<Preds>,
}

impl Shards {
    /// Reports of `count` shards (at least one).
    pub fn new(count: usize) -> Self {
        let count = count.max(1);
        Self {
            count,
            owners: [None; RUNS],
            generation: 0,
            loading: None,
            held: Vec::new(),
            completed: vec![0; count],
            merged_completed: None,
            statuses: vec![None; count],
            merged_statuses: None,
            timings: vec![None; count],
            stopped: vec![false; count],
            paints: vec![None; count],
        }
    }

    /// The shards `cmd` goes to: the data view's example set to shard 0 only, every other
    /// command to all.
    pub fn recipients(&self, cmd: &ToWorker) -> std::ops::Range<usize> {
        match cmd {
            ToWorker::Example { .. } => 0..1,
            _ => 0..self.count,
        }
    }

    /// A command is being sent (to [`Shards::recipients`]).
    pub fn sent(&mut self, cmd: &ToWorker) {
        if self.count == 1 {
            return;
        }
        match cmd {
            ToWorker::Load(setup) => {
                self.generation += 1;
                self.owners = shard_owners(&setup.runs, self.count);
                self.loading = Some(vec![None; self.count]);
                self.held.clear();
            }
            ToWorker::Play(true) => self.stopped = vec![false; self.count],
            _ => {}
        }
    }

    /// Slot `run`'s shard (shard 0 for a slot that is off).
    fn owner(&self, run: usize) -> usize {
        self.owners.get(run).copied().flatten().unwrap_or(0)
    }

    /// Whether shard `s` trains a run (shard 0 when none does).
    fn active(&self, s: usize) -> bool {
        if self.owners.iter().all(Option::is_none) {
            s == 0
        } else {
            self.owners.contains(&Some(s))
        }
    }

    /// The shards that train a run (shard 0 when none does).
    fn actives(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.count).filter(|&i| self.active(i))
    }

    /// A report from shard `s`; what the page should apply, in order.
    pub fn receive(&mut self, s: usize, m: FromWorker) -> Vec<FromWorker> {
        if self.count == 1 || s >= self.count {
            return vec![m];
        }
        let mut out = Vec::new();
        if let FromWorker::Loaded { generation, .. } = m {
            // An answer to an earlier `Load` (a shard answers every one it takes; another
            // may fold several into one): superseded.
            if generation != self.generation {
                return out;
            }
        }
        if let Some(loading) = self.loading.as_mut() {
            if let FromWorker::Loaded { .. } = m {
                loading[s] = Some(m);
                if loading.iter().all(Option::is_some) {
                    let parts = self.loading.take().unwrap_or_default();
                    self.reset_reports();
                    out.push(merge_loaded(parts));
                    for (from, m) in std::mem::take(&mut self.held) {
                        self.apply(from, m, &mut out);
                    }
                }
                return out;
            }
            if loading[s].is_some() {
                self.held.push((s, m));
                return out;
            }
        }
        self.apply(s, m, &mut out);
        out
    }

    fn reset_reports(&mut self) {
        self.completed = vec![0; self.count];
        self.merged_completed = Some(0);
        self.statuses = vec![None; self.count];
        self.merged_statuses = None;
        self.timings = vec![None; self.count];
        self.paints = vec![None; self.count];
    }

    /// Shard `s`'s report `m`, merged, into `out`.
    fn apply(&mut self, s: usize, m: FromWorker, out: &mut Vec<FromWorker>) {
        match m {
            FromWorker::Completed(c) => {
                self.completed[s] = c;
                let min = self.actives().map(|i| self.completed[i]).min().unwrap_or(c);
                if self.merged_completed != Some(min) {
                    self.merged_completed = Some(min);
                    out.push(FromWorker::Completed(min));
                }
            }
            FromWorker::Statuses(st) => {
                self.statuses[s] = Some(st);
                // Once every shard has said (until then a slot's owner may not have).
                if self.statuses.iter().any(Option::is_none) {
                    return;
                }
                let merged: Vec<String> = (0..RUNS)
                    .map(|i| {
                        self.statuses[self.owner(i)]
                            .as_ref()
                            .and_then(|v| v.get(i).cloned())
                            .unwrap_or_default()
                    })
                    .collect();
                if self.merged_statuses.as_ref() != Some(&merged) {
                    self.merged_statuses = Some(merged.clone());
                    out.push(FromWorker::Statuses(merged));
                }
            }
            FromWorker::Timings(r, step, eval) => {
                self.timings[s] = Some((r, step, eval));
                let t: Vec<(f64, f64, f64)> =
                    self.actives().filter_map(|i| self.timings[i]).collect();
                if !t.is_empty() {
                    let n = t.len() as f64;
                    out.push(FromWorker::Timings(
                        t.iter().map(|x| x.0).sum(),
                        t.iter().map(|x| x.1).sum::<f64>() / n,
                        t.iter().map(|x| x.2).sum::<f64>() / n,
                    ));
                }
            }
            FromWorker::StopPlaying => {
                self.stopped[s] = true;
                if self.actives().all(|i| self.stopped[i]) {
                    out.push(FromWorker::StopPlaying);
                }
            }
            FromWorker::Gallery { run, .. } => {
                if self.owner(run) == s {
                    out.push(m);
                }
            }
            FromWorker::Paint {
                size,
                image,
                labels,
                preds,
            } => {
                self.paints[s] = Some(Painted {
                    size,
                    image,
                    labels,
                    preds,
                });
                // Once every shard with a run has painted the same image (after a new mask,
                // the other's predictions would be of the previous image).
                let mut latest = self.actives().map(|i| self.paints[i].as_ref());
                let Some(Some(first)) = latest.next() else {
                    return;
                };
                let same = |p: Option<&Painted>| {
                    p.is_some_and(|p| {
                        (p.size, &p.image, &p.labels) == (first.size, &first.image, &first.labels)
                    })
                };
                if !latest.all(same) {
                    return;
                }
                let preds = (0..RUNS)
                    .map(|i| {
                        self.paints[self.owner(i)]
                            .as_ref()
                            .and_then(|p| p.preds.get(i).cloned().flatten())
                    })
                    .collect();
                out.push(FromWorker::Paint {
                    size: first.size,
                    image: first.image.clone(),
                    labels: first.labels.clone(),
                    preds,
                });
            }
            FromWorker::Evaluated(fresh) => out.push(FromWorker::Evaluated(
                fresh
                    .into_iter()
                    .enumerate()
                    .map(|(i, m)| m.filter(|_| self.owner(i) == s))
                    .collect(),
            )),
            FromWorker::Losses(l) => out.push(FromWorker::Losses(
                l.into_iter().filter(|x| self.owner(x.0) == s).collect(),
            )),
            other => out.push(other),
        }
    }
}

/// The shards' `Loaded` as one: the slots on in any shard, the first error, shard 0's gallery.
fn merge_loaded(parts: Vec<Option<FromWorker>>) -> FromWorker {
    let mut error = None;
    let mut on = [false; RUNS];
    let mut gallery = None;
    let mut generation = 0;
    for p in parts.into_iter().flatten() {
        if let FromWorker::Loaded {
            generation: g,
            error: e,
            on: o,
            gallery_u,
        } = p
        {
            generation = g;
            error = error.or(e);
            for (a, b) in on.iter_mut().zip(o) {
                *a |= b;
            }
            gallery.get_or_insert(gallery_u);
        }
    }
    FromWorker::Loaded {
        generation,
        error,
        on,
        gallery_u: gallery.unwrap_or_default(),
    }
}
