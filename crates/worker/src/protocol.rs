//! The messages between the page and the trainer's worker, and their encoding.
//!
//! A message is a [`Packet`]: a head of `f64`s (the tag, numbers, lengths, strings as code
//! points) and two optional pixel payloads (`f32` values and `u8` labels), which the page and
//! the worker move as typed arrays (`Float64Array`, `Float32Array`, `Uint8Array`, transferred,
//! not copied). Every `f64` crosses exactly, so the metrics the page shows are the worker's
//! bits. [`ToWorker`] and [`FromWorker`] encode with `to_packet` and decode with `from_packet`,
//! which refuses malformed input with a message (never a panic).

use dicelens_core::audit::ExampleKind;
use dicelens_core::train::{
    DataConfig, Metrics, ModelKind, OptimizerKind, ReliabilityBin, SizeBin, SizePoint, TrainConfig,
};
use dicelens_core::{LossKind, RegionConfig};

/// Runs side by side (the page's run slots).
pub const RUNS: usize = 4;

/// Longest list or string a packet may announce (more is refused as malformed).
const MAX_LEN: usize = 1 << 24;

/// The size bins' names, in the core's order ([`SizeBin::name`]).
const BIN_NAMES: [&str; 3] = ["small", "medium", "large"];

/// One message as numbers: what crosses between the page and the worker.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Packet {
    /// The tag and the numbers.
    pub head: Vec<f64>,
    /// Pixel values (images, probabilities, logits).
    pub f32s: Vec<f32>,
    /// Label maps.
    pub u8s: Vec<u8>,
}

/// What defines the runs: the data and up to [`RUNS`] runs (`None`: the slot is off).
#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    /// The data set.
    pub data: DataConfig,
    /// Each slot's run.
    pub runs: [Option<TrainConfig>; RUNS],
}

/// The page to the worker. (A `Load` is a few hundred bytes and lives only until it is
/// encoded or handled, so it is not boxed.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum ToWorker {
    /// Build the data (when its settings changed) and every run again (a new setting, Reset).
    Load(Setup),
    /// Play on or off.
    Play(bool),
    /// The speed limit (steps per second per run).
    Rate(f64),
    /// One more step of every live run (pauses).
    Step,
    /// The painted mask: side and labels.
    Mask { size: usize, labels: Vec<u8> },
    /// Train and return the data view's example set; `ticket` names the request (a newer
    /// request replaces an older one).
    Example { ticket: u32, kind: ExampleKind },
    /// This worker is shard `index` of `count`: it builds and trains the runs
    /// [`shard_owners`] gives it (sent once, before anything else).
    Shard { index: usize, count: usize },
    /// The other shard's progress (sent worker to worker; see `crate::host`).
    Peer(PeerProgress),
    /// The page is taking input (a slider moved, a pointer drags): for the next
    /// [`crate::host::CALM_MS`] the worker works in short slices with pauses between them
    /// ([`crate::host::Host::pace`]), leaving the page's thread a core.
    Interacting,
}

/// One shard's progress, as it tells the other shard (worker to worker).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeerProgress {
    /// Loads received so far (progress on another setup is ignored).
    pub generation: usize,
    /// The step all its runs have completed.
    pub completed: usize,
    /// The step its runs are training towards.
    pub target: usize,
    /// Some run of its can take more steps.
    pub live: bool,
}

/// Which shard builds and trains each slot's run: the slots that are on, in order, dealt to
/// the `count` shards in turn (`None` for a slot that is off).
pub fn shard_owners(runs: &[Option<TrainConfig>; RUNS], count: usize) -> [Option<usize>; RUNS] {
    let count = count.max(1);
    let mut rank = 0;
    std::array::from_fn(|i| {
        runs[i].as_ref().map(|_| {
            rank += 1;
            (rank - 1) % count
        })
    })
}

/// One run's pixels on a set of images: foreground probability per pixel, or `None` when the
/// slot is off.
pub type Preds = Option<Vec<f32>>;

/// The worker to the page.
#[derive(Debug, Clone, PartialEq)]
pub enum FromWorker {
    /// The worker's code is loaded and it takes commands.
    Ready,
    /// The runs were built: for the how-manieth `Load` received; the setup's error, if any;
    /// which slots run; the gallery's images' foreground proportions.
    Loaded {
        generation: usize,
        error: Option<String>,
        on: [bool; RUNS],
        gallery_u: Vec<f64>,
    },
    /// `(run, step, training loss)` of finished steps, in order.
    Losses(Vec<(usize, usize, f64)>),
    /// A round of held-out evaluation: each run's metrics (`None`: off or stopped).
    Evaluated(Vec<Option<Metrics>>),
    /// The step every live run has completed.
    Completed(usize),
    /// Nothing can train any more: Play turns off.
    StopPlaying,
    /// Every run's status line.
    Statuses(Vec<String>),
    /// Measured steps per second (all runs), mean step and evaluation times (ms).
    Timings(f64, f64, f64),
    /// Redraw plot `j`.
    Plot(usize),
    /// Run `run`'s column of the gallery; `images` (for run 0) the input images; `labels`
    /// each image's label map; `size` the side.
    Gallery {
        run: usize,
        size: usize,
        images: Option<Vec<f32>>,
        labels: Vec<u8>,
        preds: Preds,
    },
    /// The image synthesized from the painted mask and every run's prediction on it.
    Paint {
        size: usize,
        image: Vec<f32>,
        labels: Vec<u8>,
        preds: Vec<Preds>,
    },
    /// Something went wrong that is not a run's (its message, shown by the panel).
    Error(String),
    /// The example set's training progress.
    ExampleProgress { ticket: u32, step: usize },
    /// The example set: labels `(B, H, W)` and logits `(B, K, H, W)`.
    ExampleDone {
        ticket: u32,
        shape: [usize; 4],
        labels: Vec<u8>,
        logits: Vec<f32>,
    },
    /// The example set could not be made.
    ExampleFailed { ticket: u32, message: String },
}

// ---- writing and reading the head ----

struct W(Packet);

impl W {
    fn new(tag: u8) -> Self {
        W(Packet {
            head: vec![tag as f64],
            ..Packet::default()
        })
    }
    fn f(&mut self, x: f64) {
        self.0.head.push(x);
    }
    fn n(&mut self, x: usize) {
        self.0.head.push(x as f64);
    }
    fn b(&mut self, x: bool) {
        self.f(if x { 1.0 } else { 0.0 });
    }
    fn opt(&mut self, x: Option<f64>) {
        match x {
            Some(v) => {
                self.f(1.0);
                self.f(v);
            }
            None => self.f(0.0),
        }
    }
    fn u64(&mut self, x: u64) {
        self.n((x >> 32) as usize);
        self.n((x & 0xffff_ffff) as usize);
    }
    fn s(&mut self, text: &str) {
        self.n(text.chars().count());
        for c in text.chars() {
            self.n(c as usize);
        }
    }
    /// A list of f32 pixels: its length in the head, the values in the f32 payload.
    fn pixels(&mut self, p: &[f32]) {
        self.n(p.len());
        self.0.f32s.extend_from_slice(p);
    }
    fn labels(&mut self, l: &[u8]) {
        self.n(l.len());
        self.0.u8s.extend_from_slice(l);
    }
}

struct R<'a> {
    p: &'a Packet,
    at: usize,
    f32_at: usize,
    u8_at: usize,
}

type Res<T> = Result<T, String>;

impl<'a> R<'a> {
    fn f(&mut self) -> Res<f64> {
        let x = self
            .p
            .head
            .get(self.at)
            .copied()
            .ok_or_else(|| format!("the message ends early (at number {})", self.at))?;
        self.at += 1;
        Ok(x)
    }
    fn n(&mut self) -> Res<usize> {
        let x = self.f()?;
        // At most 2^53 (exact in an f64) and what a usize holds (4294967295 in wasm32).
        if !(x >= 0.0 && x.fract() == 0.0 && x <= 9.0e15 && x <= usize::MAX as f64) {
            return Err(format!("{x} is not a count"));
        }
        Ok(x as usize)
    }
    /// A length, bounded by `MAX_LEN` and by what is left to read.
    fn len(&mut self, left: usize) -> Res<usize> {
        let n = self.n()?;
        if n > MAX_LEN || n > left {
            return Err(format!("a length of {n} is more than the message holds"));
        }
        Ok(n)
    }
    fn head_left(&self) -> usize {
        self.p.head.len().saturating_sub(self.at)
    }
    fn b(&mut self) -> Res<bool> {
        match self.f()? {
            0.0 => Ok(false),
            1.0 => Ok(true),
            x => Err(format!("{x} is not a flag")),
        }
    }
    fn opt(&mut self) -> Res<Option<f64>> {
        Ok(if self.b()? { Some(self.f()?) } else { None })
    }
    /// A whole number in `0..=u32::MAX`.
    fn word(&mut self) -> Res<u64> {
        let x = self.f()?;
        if !(x >= 0.0 && x.fract() == 0.0 && x <= u32::MAX as f64) {
            return Err(format!("{x} is not a 32-bit word"));
        }
        Ok(x as u64)
    }
    fn u64(&mut self) -> Res<u64> {
        let hi = self.word()?;
        let lo = self.word()?;
        Ok((hi << 32) | lo)
    }
    fn u32(&mut self) -> Res<u32> {
        Ok(self.word()? as u32)
    }
    fn s(&mut self) -> Res<String> {
        let n = self.len(self.head_left())?;
        let mut out = String::with_capacity(n);
        for _ in 0..n {
            let c = self.n()?;
            let c = u32::try_from(c)
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(|| format!("{c} is not a character"))?;
            out.push(c);
        }
        Ok(out)
    }
    fn pixels(&mut self) -> Res<Vec<f32>> {
        let n = self.len(self.p.f32s.len().saturating_sub(self.f32_at))?;
        let v = self.p.f32s[self.f32_at..self.f32_at + n].to_vec();
        self.f32_at += n;
        Ok(v)
    }
    fn labels(&mut self) -> Res<Vec<u8>> {
        let n = self.len(self.p.u8s.len().saturating_sub(self.u8_at))?;
        let v = self.p.u8s[self.u8_at..self.u8_at + n].to_vec();
        self.u8_at += n;
        Ok(v)
    }
    fn end(&self) -> Res<()> {
        if self.at != self.p.head.len()
            || self.f32_at != self.p.f32s.len()
            || self.u8_at != self.p.u8s.len()
        {
            return Err("the message has numbers left over".into());
        }
        Ok(())
    }
}

fn pick<T: Copy>(all: &[T], i: usize, what: &str) -> Res<T> {
    all.get(i)
        .copied()
        .ok_or_else(|| format!("{i} is not a {what}"))
}

fn index_of<T: PartialEq>(all: &[T], x: &T) -> usize {
    all.iter().position(|y| y == x).unwrap_or(usize::MAX)
}

const EXAMPLES: [ExampleKind; 2] = [ExampleKind::Ce, ExampleKind::Dice];
const OPTIMIZERS: [OptimizerKind; 2] = [OptimizerKind::Adam, OptimizerKind::Sgd];

fn write_data(w: &mut W, d: &DataConfig) {
    w.n(d.size);
    w.n(d.classes);
    w.n(d.train);
    w.n(d.test);
    w.f(d.noise);
    w.f(d.blur);
    w.f(d.u_min);
    w.f(d.u_max);
    w.n(d.max_objects);
    w.f(d.label_noise);
    w.u64(d.seed);
}

fn read_data(r: &mut R) -> Res<DataConfig> {
    Ok(DataConfig {
        size: r.n()?,
        classes: r.n()?,
        train: r.n()?,
        test: r.n()?,
        noise: r.f()?,
        blur: r.f()?,
        u_min: r.f()?,
        u_max: r.f()?,
        max_objects: r.n()?,
        label_noise: r.f()?,
        seed: r.u64()?,
    })
}

fn write_train(w: &mut W, t: &TrainConfig) {
    w.n(index_of(&ModelKind::ALL, &t.model));
    w.n(index_of(&LossKind::ALL, &t.loss));
    w.f(t.region.lambda);
    w.f(t.region.temp);
    w.n(index_of(&OPTIMIZERS, &t.optimizer));
    w.f(t.lr);
    w.n(t.batch);
    w.n(t.steps);
    w.b(t.cosine);
    w.u64(t.seed);
}

fn read_train(r: &mut R) -> Res<TrainConfig> {
    Ok(TrainConfig {
        model: pick(&ModelKind::ALL, r.n()?, "model")?,
        loss: pick(&LossKind::ALL, r.n()?, "loss")?,
        region: RegionConfig {
            lambda: r.f()?,
            temp: r.f()?,
        },
        optimizer: pick(&OPTIMIZERS, r.n()?, "optimizer")?,
        lr: r.f()?,
        batch: r.n()?,
        steps: r.n()?,
        cosine: r.b()?,
        seed: r.u64()?,
    })
}

/// Writes metrics into a head (every number exactly).
fn write_metrics(w: &mut W, m: &Metrics) {
    w.n(m.step);
    for x in [
        m.loss,
        m.ratio_soft,
        m.ratio_hard,
        m.ratio_hard_small,
        m.dice,
        m.iou,
        m.ece,
        m.saturated,
    ] {
        w.opt(x);
    }
    w.n(m.points.len());
    for p in &m.points {
        w.n(p.image);
        w.n(p.class);
        w.f(p.u);
        w.f(p.soft);
        w.f(p.hard);
    }
    w.n(m.size_bins.len());
    for b in &m.size_bins {
        w.n(index_of(&BIN_NAMES, &b.name));
        w.f(b.lo);
        w.f(b.hi);
        w.n(b.count);
        w.opt(b.ratio_soft);
        w.opt(b.ratio_hard);
    }
    w.n(m.reliability.len());
    for b in &m.reliability {
        w.f(b.center);
        w.opt(b.confidence);
        w.opt(b.accuracy);
        w.n(b.count);
    }
}

fn read_metrics(r: &mut R) -> Res<Metrics> {
    let step = r.n()?;
    let mut o = [None; 8];
    for x in o.iter_mut() {
        *x = r.opt()?;
    }
    let n = r.len(r.head_left())?;
    let mut points = Vec::with_capacity(n);
    for _ in 0..n {
        points.push(SizePoint {
            image: r.n()?,
            class: r.n()?,
            u: r.f()?,
            soft: r.f()?,
            hard: r.f()?,
        });
    }
    let n = r.len(r.head_left())?;
    let mut size_bins = Vec::with_capacity(n);
    for _ in 0..n {
        size_bins.push(SizeBin {
            name: pick(&BIN_NAMES, r.n()?, "size bin")?,
            lo: r.f()?,
            hi: r.f()?,
            count: r.n()?,
            ratio_soft: r.opt()?,
            ratio_hard: r.opt()?,
        });
    }
    let n = r.len(r.head_left())?;
    let mut reliability = Vec::with_capacity(n);
    for _ in 0..n {
        reliability.push(ReliabilityBin {
            center: r.f()?,
            confidence: r.opt()?,
            accuracy: r.opt()?,
            count: r.n()?,
        });
    }
    Ok(Metrics {
        step,
        loss: o[0],
        ratio_soft: o[1],
        ratio_hard: o[2],
        ratio_hard_small: o[3],
        dice: o[4],
        iou: o[5],
        ece: o[6],
        saturated: o[7],
        points,
        size_bins,
        reliability,
    })
}

/// Metrics as numbers (the same encoding as inside a message).
pub fn metrics_to_f64s(m: &Metrics) -> Vec<f64> {
    let mut w = W(Packet::default());
    write_metrics(&mut w, m);
    w.0.head
}

/// Metrics from [`metrics_to_f64s`]'s numbers.
pub fn metrics_from_f64s(x: &[f64]) -> Result<Metrics, String> {
    let p = Packet {
        head: x.to_vec(),
        ..Packet::default()
    };
    let mut r = R {
        p: &p,
        at: 0,
        f32_at: 0,
        u8_at: 0,
    };
    let m = read_metrics(&mut r)?;
    r.end()?;
    Ok(m)
}

fn reader(p: &Packet) -> Res<(u8, R<'_>)> {
    let mut r = R {
        p,
        at: 0,
        f32_at: 0,
        u8_at: 0,
    };
    let tag = r.n()?;
    let tag = u8::try_from(tag).map_err(|_| format!("{tag} is not a message tag"))?;
    Ok((tag, r))
}

impl ToWorker {
    /// The message as numbers.
    pub fn to_packet(&self) -> Packet {
        let mut w;
        match self {
            ToWorker::Load(s) => {
                w = W::new(1);
                write_data(&mut w, &s.data);
                for r in &s.runs {
                    w.b(r.is_some());
                    if let Some(t) = r {
                        write_train(&mut w, t);
                    }
                }
            }
            ToWorker::Play(on) => {
                w = W::new(2);
                w.b(*on);
            }
            ToWorker::Rate(x) => {
                w = W::new(3);
                w.f(*x);
            }
            ToWorker::Step => w = W::new(4),
            ToWorker::Mask { size, labels } => {
                w = W::new(5);
                w.n(*size);
                w.labels(labels);
            }
            ToWorker::Example { ticket, kind } => {
                w = W::new(6);
                w.n(*ticket as usize);
                w.n(index_of(&EXAMPLES, kind));
            }
            ToWorker::Shard { index, count } => {
                w = W::new(7);
                w.n(*index);
                w.n(*count);
            }
            ToWorker::Peer(p) => {
                w = W::new(8);
                w.n(p.generation);
                w.n(p.completed);
                w.n(p.target);
                w.b(p.live);
            }
            ToWorker::Interacting => w = W::new(9),
        }
        w.0
    }

    /// The message from numbers; malformed input is refused with a message.
    pub fn from_packet(p: &Packet) -> Result<Self, String> {
        let (tag, mut r) = reader(p)?;
        let m = match tag {
            1 => {
                let data = read_data(&mut r)?;
                let mut runs: [Option<TrainConfig>; RUNS] = Default::default();
                for slot in runs.iter_mut() {
                    if r.b()? {
                        *slot = Some(read_train(&mut r)?);
                    }
                }
                ToWorker::Load(Setup { data, runs })
            }
            2 => ToWorker::Play(r.b()?),
            3 => ToWorker::Rate(r.f()?),
            4 => ToWorker::Step,
            5 => ToWorker::Mask {
                size: r.n()?,
                labels: r.labels()?,
            },
            6 => ToWorker::Example {
                ticket: r.u32()?,
                kind: pick(&EXAMPLES, r.n()?, "example set")?,
            },
            7 => {
                let (index, count) = (r.n()?, r.n()?);
                if count == 0 || index >= count {
                    return Err(format!("shard {index} of {count} does not exist"));
                }
                ToWorker::Shard { index, count }
            }
            8 => ToWorker::Peer(PeerProgress {
                generation: r.n()?,
                completed: r.n()?,
                target: r.n()?,
                live: r.b()?,
            }),
            9 => ToWorker::Interacting,
            t => return Err(format!("{t} is not a command")),
        };
        r.end()?;
        Ok(m)
    }
}

impl FromWorker {
    /// The message as numbers.
    pub fn to_packet(&self) -> Packet {
        let mut w;
        match self {
            FromWorker::Ready => w = W::new(1),
            FromWorker::Loaded {
                generation,
                error,
                on,
                gallery_u,
            } => {
                w = W::new(2);
                w.n(*generation);
                w.b(error.is_some());
                if let Some(e) = error {
                    w.s(e);
                }
                for &o in on {
                    w.b(o);
                }
                w.n(gallery_u.len());
                for &u in gallery_u {
                    w.f(u);
                }
            }
            FromWorker::Losses(l) => {
                w = W::new(3);
                w.n(l.len());
                for &(i, s, x) in l {
                    w.n(i);
                    w.n(s);
                    w.f(x);
                }
            }
            FromWorker::Evaluated(ms) => {
                w = W::new(4);
                w.n(ms.len());
                for m in ms {
                    w.b(m.is_some());
                    if let Some(m) = m {
                        write_metrics(&mut w, m);
                    }
                }
            }
            FromWorker::Completed(c) => {
                w = W::new(5);
                w.n(*c);
            }
            FromWorker::StopPlaying => w = W::new(6),
            FromWorker::Statuses(s) => {
                w = W::new(7);
                w.n(s.len());
                for t in s {
                    w.s(t);
                }
            }
            FromWorker::Timings(a, b, c) => {
                w = W::new(8);
                w.f(*a);
                w.f(*b);
                w.f(*c);
            }
            FromWorker::Plot(j) => {
                w = W::new(9);
                w.n(*j);
            }
            FromWorker::Gallery {
                run,
                size,
                images,
                labels,
                preds,
            } => {
                w = W::new(10);
                w.n(*run);
                w.n(*size);
                w.b(images.is_some());
                if let Some(i) = images {
                    w.pixels(i);
                }
                w.labels(labels);
                w.b(preds.is_some());
                if let Some(p) = preds {
                    w.pixels(p);
                }
            }
            FromWorker::Paint {
                size,
                image,
                labels,
                preds,
            } => {
                w = W::new(11);
                w.n(*size);
                w.pixels(image);
                w.labels(labels);
                w.n(preds.len());
                for p in preds {
                    w.b(p.is_some());
                    if let Some(p) = p {
                        w.pixels(p);
                    }
                }
            }
            FromWorker::Error(e) => {
                w = W::new(12);
                w.s(e);
            }
            FromWorker::ExampleProgress { ticket, step } => {
                w = W::new(13);
                w.n(*ticket as usize);
                w.n(*step);
            }
            FromWorker::ExampleDone {
                ticket,
                shape,
                labels,
                logits,
            } => {
                w = W::new(14);
                w.n(*ticket as usize);
                for &d in shape {
                    w.n(d);
                }
                w.labels(labels);
                w.pixels(logits);
            }
            FromWorker::ExampleFailed { ticket, message } => {
                w = W::new(15);
                w.n(*ticket as usize);
                w.s(message);
            }
        }
        w.0
    }

    /// The message from numbers; malformed input is refused with a message.
    pub fn from_packet(p: &Packet) -> Result<Self, String> {
        let (tag, mut r) = reader(p)?;
        let m = match tag {
            1 => FromWorker::Ready,
            2 => {
                let generation = r.n()?;
                let error = if r.b()? { Some(r.s()?) } else { None };
                let mut on = [false; RUNS];
                for o in on.iter_mut() {
                    *o = r.b()?;
                }
                let n = r.len(r.head_left())?;
                let mut gallery_u = Vec::with_capacity(n);
                for _ in 0..n {
                    gallery_u.push(r.f()?);
                }
                FromWorker::Loaded {
                    generation,
                    error,
                    on,
                    gallery_u,
                }
            }
            3 => {
                let n = r.len(r.head_left())?;
                let mut l = Vec::with_capacity(n);
                for _ in 0..n {
                    l.push((r.n()?, r.n()?, r.f()?));
                }
                FromWorker::Losses(l)
            }
            4 => {
                let n = r.len(r.head_left())?;
                let mut ms = Vec::with_capacity(n);
                for _ in 0..n {
                    ms.push(if r.b()? {
                        Some(read_metrics(&mut r)?)
                    } else {
                        None
                    });
                }
                FromWorker::Evaluated(ms)
            }
            5 => FromWorker::Completed(r.n()?),
            6 => FromWorker::StopPlaying,
            7 => {
                let n = r.len(r.head_left())?;
                let mut s = Vec::with_capacity(n);
                for _ in 0..n {
                    s.push(r.s()?);
                }
                FromWorker::Statuses(s)
            }
            8 => FromWorker::Timings(r.f()?, r.f()?, r.f()?),
            9 => FromWorker::Plot(r.n()?),
            10 => {
                let run = r.n()?;
                let size = r.n()?;
                let images = if r.b()? { Some(r.pixels()?) } else { None };
                let labels = r.labels()?;
                let preds = if r.b()? { Some(r.pixels()?) } else { None };
                FromWorker::Gallery {
                    run,
                    size,
                    images,
                    labels,
                    preds,
                }
            }
            11 => {
                let size = r.n()?;
                let image = r.pixels()?;
                let labels = r.labels()?;
                let n = r.len(r.head_left())?;
                let mut preds = Vec::with_capacity(n);
                for _ in 0..n {
                    preds.push(if r.b()? { Some(r.pixels()?) } else { None });
                }
                FromWorker::Paint {
                    size,
                    image,
                    labels,
                    preds,
                }
            }
            12 => FromWorker::Error(r.s()?),
            13 => FromWorker::ExampleProgress {
                ticket: r.u32()?,
                step: r.n()?,
            },
            14 => {
                let ticket = r.u32()?;
                let shape = [r.n()?, r.n()?, r.n()?, r.n()?];
                FromWorker::ExampleDone {
                    ticket,
                    shape,
                    labels: r.labels()?,
                    logits: r.pixels()?,
                }
            }
            15 => FromWorker::ExampleFailed {
                ticket: r.u32()?,
                message: r.s()?,
            },
            t => return Err(format!("{t} is not a report")),
        };
        r.end()?;
        Ok(m)
    }
}
