//! The protocol's encoding, property-tested: every message (random, 3,000 of each direction)
//! decodes to itself, bit for bit (NaN and ±∞ included, -0.0 kept); metrics round-trip
//! through `metrics_to_f64s`; and truncated, extended or random packets are refused with a
//! message, never a panic.

use dicelens_core::audit::ExampleKind;
use dicelens_core::train::rng::splitmix64;
use dicelens_core::train::{
    DataConfig, Metrics, ModelKind, OptimizerKind, ReliabilityBin, SizeBin, SizePoint, TrainConfig,
};
use dicelens_core::{LossKind, RegionConfig};
use dicelens_worker::protocol::{
    metrics_from_f64s, metrics_to_f64s, FromWorker, Packet, PeerProgress, Setup, ToWorker, RUNS,
};

struct Rng(u64);

impl Rng {
    fn u(&mut self) -> u64 {
        splitmix64(&mut self.0)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.u() % n as u64) as usize
    }
    fn coin(&mut self) -> bool {
        self.u() & 1 == 1
    }
    /// Any f64, special values often.
    fn f(&mut self) -> f64 {
        match self.below(10) {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 => -0.0,
            4 => f64::from_bits(self.u()),
            5 => f64::MIN_POSITIVE / 3.0,
            _ => (self.u() as f64 / u64::MAX as f64 - 0.5) * 10f64.powi(self.below(20) as i32 - 10),
        }
    }
    fn opt(&mut self) -> Option<f64> {
        self.coin().then(|| self.f())
    }
    fn n(&mut self) -> usize {
        self.below(1 << 20)
    }
    fn s(&mut self) -> String {
        let pool = ['a', 'Z', ' ', 'é', '—', 'λ', '≈', '😀', '\n', '0'];
        (0..self.below(30))
            .map(|_| pool[self.below(pool.len())])
            .collect()
    }
    fn f32s(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| f32::from_bits(self.u() as u32)).collect()
    }
    fn u8s(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.u() as u8).collect()
    }
}

fn metrics(r: &mut Rng) -> Metrics {
    let names = ["small", "medium", "large"];
    Metrics {
        step: r.n(),
        loss: r.opt(),
        ratio_soft: r.opt(),
        ratio_hard: r.opt(),
        ratio_hard_small: r.opt(),
        dice: r.opt(),
        iou: r.opt(),
        ece: r.opt(),
        saturated: r.opt(),
        points: (0..r.below(70))
            .map(|_| SizePoint {
                image: r.n(),
                class: r.below(3),
                u: r.f(),
                soft: r.f(),
                hard: r.f(),
            })
            .collect(),
        size_bins: (0..r.below(4))
            .map(|_| SizeBin {
                name: names[r.below(3)],
                lo: r.f(),
                hi: r.f(),
                count: r.n(),
                ratio_soft: r.opt(),
                ratio_hard: r.opt(),
            })
            .collect(),
        reliability: (0..r.below(11))
            .map(|_| ReliabilityBin {
                center: r.f(),
                confidence: r.opt(),
                accuracy: r.opt(),
                count: r.n(),
            })
            .collect(),
    }
}

fn setup(r: &mut Rng) -> Setup {
    let data = DataConfig {
        size: r.n(),
        classes: r.below(5),
        train: r.n(),
        test: r.n(),
        noise: r.f(),
        blur: r.f(),
        u_min: r.f(),
        u_max: r.f(),
        max_objects: r.n(),
        label_noise: r.f(),
        seed: r.u(),
    };
    let runs = std::array::from_fn(|_| {
        r.coin().then(|| TrainConfig {
            model: ModelKind::ALL[r.below(2)],
            loss: LossKind::ALL[r.below(LossKind::ALL.len())],
            region: RegionConfig {
                lambda: r.f(),
                temp: r.f(),
            },
            optimizer: [OptimizerKind::Adam, OptimizerKind::Sgd][r.below(2)],
            lr: r.f(),
            batch: r.n(),
            steps: r.n(),
            cosine: r.coin(),
            seed: r.u(),
        })
    });
    Setup { data, runs }
}

fn to_worker(r: &mut Rng) -> ToWorker {
    match r.below(9) {
        0 => ToWorker::Load(setup(r)),
        8 => ToWorker::Interacting,
        1 => ToWorker::Play(r.coin()),
        2 => ToWorker::Rate(r.f()),
        3 => ToWorker::Step,
        4 => {
            let size = r.below(70);
            let n = if r.coin() { size * size } else { r.below(100) };
            ToWorker::Mask {
                size,
                labels: r.u8s(n),
            }
        }
        6 => {
            let count = 1 + r.below(4);
            ToWorker::Shard {
                index: r.below(count),
                count,
            }
        }
        7 => ToWorker::Peer(PeerProgress {
            generation: r.n(),
            completed: r.n(),
            target: r.n(),
            live: r.coin(),
        }),
        _ => ToWorker::Example {
            ticket: r.u() as u32,
            kind: [ExampleKind::Ce, ExampleKind::Dice][r.below(2)],
        },
    }
}

fn from_worker(r: &mut Rng) -> FromWorker {
    match r.below(15) {
        0 => FromWorker::Ready,
        1 => FromWorker::Loaded {
            generation: r.n(),
            error: r.coin().then(|| r.s()),
            on: std::array::from_fn(|_| r.coin()),
            gallery_u: (0..r.below(6)).map(|_| r.f()).collect(),
        },
        2 => FromWorker::Losses(
            (0..r.below(40))
                .map(|_| (r.below(RUNS), r.n(), r.f()))
                .collect(),
        ),
        3 => FromWorker::Evaluated(
            (0..r.below(6))
                .map(|_| r.coin().then(|| metrics(r)))
                .collect(),
        ),
        4 => FromWorker::Completed(r.n()),
        5 => FromWorker::StopPlaying,
        6 => FromWorker::Statuses((0..r.below(6)).map(|_| r.s()).collect()),
        7 => FromWorker::Timings(r.f(), r.f(), r.f()),
        8 => FromWorker::Plot(r.below(9)),
        9 => {
            let n = r.below(300);
            let m = r.below(300);
            FromWorker::Gallery {
                run: r.below(6),
                size: r.below(70),
                images: r.coin().then(|| r.f32s(n)),
                labels: r.u8s(m),
                preds: r.coin().then(|| r.f32s(n)),
            }
        }
        10 => {
            let n = r.below(300);
            FromWorker::Paint {
                size: r.below(70),
                image: r.f32s(n),
                labels: r.u8s(n),
                preds: (0..r.below(6))
                    .map(|_| r.coin().then(|| r.f32s(n)))
                    .collect(),
            }
        }
        11 => FromWorker::Error(r.s()),
        12 => FromWorker::ExampleProgress {
            ticket: r.u() as u32,
            step: r.n(),
        },
        13 => {
            let (n, m) = (r.below(500), r.below(500));
            FromWorker::ExampleDone {
                ticket: r.u() as u32,
                shape: std::array::from_fn(|_| r.below(50)),
                labels: r.u8s(n),
                logits: r.f32s(m),
            }
        }
        _ => FromWorker::ExampleFailed {
            ticket: r.u() as u32,
            message: r.s(),
        },
    }
}

/// Equality bit for bit: `PartialEq` treats NaN as unequal to itself and -0.0 as 0.0, so the
/// messages are compared through their debug text with every float's bits.
fn same<T: std::fmt::Debug>(a: &T, b: &T) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

fn bits(p: &Packet) -> (Vec<u64>, Vec<u32>, Vec<u8>) {
    (
        p.head.iter().map(|x| x.to_bits()).collect(),
        p.f32s.iter().map(|x| x.to_bits()).collect(),
        p.u8s.clone(),
    )
}

#[test]
fn every_command_decodes_to_itself() {
    let mut r = Rng(1);
    for k in 0..3000 {
        let m = to_worker(&mut r);
        let p = m.to_packet();
        let back = ToWorker::from_packet(&p).unwrap_or_else(|e| panic!("#{k} {m:?}: {e}"));
        // Encoding again gives the same bits (so floats crossed exactly, NaN included).
        assert_eq!(bits(&back.to_packet()), bits(&p), "#{k} {m:?}");
        assert!(same(&back, &m), "#{k}: {m:?} came back as {back:?}");
    }
}

#[test]
fn every_report_decodes_to_itself() {
    let mut r = Rng(2);
    for k in 0..3000 {
        let m = from_worker(&mut r);
        let p = m.to_packet();
        let back = FromWorker::from_packet(&p).unwrap_or_else(|e| panic!("#{k} {m:?}: {e}"));
        assert_eq!(bits(&back.to_packet()), bits(&p), "#{k} {m:?}");
        assert!(same(&back, &m), "#{k}: {m:?} came back as {back:?}");
    }
}

#[test]
fn metrics_round_trip_through_f64s() {
    let mut r = Rng(3);
    for k in 0..2000 {
        let m = metrics(&mut r);
        let x = metrics_to_f64s(&m);
        let back = metrics_from_f64s(&x).unwrap_or_else(|e| panic!("#{k}: {e}"));
        assert_eq!(
            metrics_to_f64s(&back)
                .iter()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>(),
            x.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            "#{k}"
        );
        assert!(same(&back, &m), "#{k}");
        // One number short or one too many: refused.
        assert!(
            metrics_from_f64s(&x[..x.len() - 1]).is_err(),
            "#{k}: truncated"
        );
        let mut longer = x.clone();
        longer.push(0.0);
        assert!(metrics_from_f64s(&longer).is_err(), "#{k}: extended");
    }
}

#[test]
fn damaged_packets_are_refused_without_a_panic() {
    let mut r = Rng(4);
    for k in 0..3000 {
        let command = r.coin();
        let good = if command {
            to_worker(&mut r).to_packet()
        } else {
            from_worker(&mut r).to_packet()
        };
        let decode = |p: &Packet| {
            if command {
                ToWorker::from_packet(p).map(|_| ())
            } else {
                FromWorker::from_packet(p).map(|_| ())
            }
        };
        let mut p = good.clone();
        match r.below(5) {
            // Truncated head: always refused.
            0 if p.head.len() > 1 => {
                let cut = 1 + r.below(p.head.len() - 1);
                p.head.truncate(cut);
                assert!(decode(&p).is_err(), "#{k}: truncated to {cut} accepted");
            }
            // An extra number: always refused.
            1 => {
                p.head.push(r.f());
                assert!(decode(&p).is_err(), "#{k}: extended accepted");
            }
            // A pixel missing: always refused.
            2 if !p.f32s.is_empty() => {
                p.f32s.pop();
                assert!(decode(&p).is_err(), "#{k}: short pixels accepted");
            }
            // A number replaced by anything: refused or decoded, never a panic.
            3 => {
                let i = r.below(p.head.len());
                p.head[i] = r.f();
                let _ = (ToWorker::from_packet(&p), FromWorker::from_packet(&p));
            }
            // Random numbers: the same.
            _ => {
                p.head = (0..r.below(40)).map(|_| r.f()).collect();
                let _ = (ToWorker::from_packet(&p), FromWorker::from_packet(&p));
            }
        }
    }
    // Concrete refusals with their words.
    let empty = Packet::default();
    assert!(ToWorker::from_packet(&empty)
        .unwrap_err()
        .contains("ends early"));
    let bad_tag = Packet {
        head: vec![99.0],
        ..Packet::default()
    };
    assert!(ToWorker::from_packet(&bad_tag)
        .unwrap_err()
        .contains("not a command"));
    assert!(FromWorker::from_packet(&bad_tag)
        .unwrap_err()
        .contains("not a report"));
    let huge = Packet {
        head: vec![3.0, 1e12],
        ..Packet::default()
    };
    assert!(FromWorker::from_packet(&huge)
        .unwrap_err()
        .contains("more than the message holds"));
    let mut p = FromWorker::Plot(2).to_packet();
    p.head.push(0.0);
    assert!(FromWorker::from_packet(&p)
        .unwrap_err()
        .contains("left over"));
}
