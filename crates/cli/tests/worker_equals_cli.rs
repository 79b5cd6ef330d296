//! The trainer's worker gives `dicelens train`'s numbers, bit for bit, for the page's default
//! runs (CE, Dice, log-Dice, CE+L1 at λ = 1, T = 10; cnn8, 500 steps): a `Host` is driven
//! through the protocol's encoding (every command and report encoded and decoded, as between
//! the page and the worker), with a real clock slicing the work as the worker does; its last
//! held-out evaluation and last training loss are compared with the CLI's final JSON line.

use std::process::Command;
use std::time::Instant;

use dicelens_core::train::fields;
use dicelens_core::train::{loss_from_name, DataConfig, Metrics, TrainConfig};
use dicelens_core::RegionConfig;
use dicelens_worker::host::Host;
use dicelens_worker::protocol::{FromWorker, Setup, ToWorker, RUNS};
use serde_json::Value;

/// The page's default runs (src/trainer/settings.rs `Settings::default`).
const LOSSES: [&str; RUNS] = ["ce", "dice", "log-dice", "ce-l1"];

fn through_the_wire_cmd(c: ToWorker) -> ToWorker {
    ToWorker::from_packet(&c.to_packet()).expect("a command decodes")
}

fn through_the_wire(m: FromWorker) -> FromWorker {
    FromWorker::from_packet(&m.to_packet()).expect("a report decodes")
}

/// The page's default setup: every run with the table's λ and T (the page's per-run preset).
fn default_setup() -> Setup {
    let region = RegionConfig {
        lambda: fields::LAMBDA.default,
        temp: fields::TEMP.default,
    };
    Setup {
        data: DataConfig {
            size: fields::SIZE.default as usize,
            classes: fields::CLASSES.default as usize,
            noise: fields::NOISE.default,
            blur: fields::BLUR.default,
            seed: fields::SEED.default as u64,
            ..DataConfig::default()
        },
        runs: LOSSES.map(|l| {
            Some(TrainConfig {
                loss: loss_from_name(l).expect("a default loss"),
                region,
                lr: fields::LR.default,
                batch: fields::BATCH.default as usize,
                steps: fields::STEPS.default as usize,
                seed: fields::SEED.default as u64,
                ..TrainConfig::default()
            })
        }),
    }
}

/// Plays the default runs to the end in a host; each run's final metrics and last loss.
fn worker_run() -> Vec<(Metrics, f64)> {
    let t0 = Instant::now();
    let clock = move || t0.elapsed().as_secs_f64() * 1000.0;
    let mut host = Host::default();
    let mut out = Vec::new();
    for c in [
        ToWorker::Load(default_setup()),
        ToWorker::Rate(1000.0),
        ToWorker::Play(true),
    ] {
        host.handle(through_the_wire_cmd(c), &mut out);
    }
    let steps = fields::STEPS.default as usize;
    let mut last: Vec<Option<Metrics>> = vec![None; RUNS];
    let mut losses = vec![None; RUNS];
    let mut stopped = false;
    for _ in 0..2_000_000 {
        let until = clock() + 14.0;
        let worked = host.work(&clock, until, &mut out);
        for m in out.drain(..).map(through_the_wire) {
            match m {
                FromWorker::Loaded { error, on, .. } => {
                    assert_eq!(error, None);
                    assert_eq!(on, [true; RUNS]);
                }
                FromWorker::Evaluated(ms) => {
                    for (slot, m) in last.iter_mut().zip(ms) {
                        if m.is_some() {
                            *slot = m;
                        }
                    }
                }
                FromWorker::Losses(l) => {
                    for (i, step, x) in l {
                        losses[i] = Some((step, x));
                    }
                }
                FromWorker::StopPlaying => stopped = true,
                FromWorker::Error(e) => panic!("the worker reported: {e}"),
                _ => {}
            }
        }
        let all_final = last
            .iter()
            .all(|m| m.as_ref().is_some_and(|m| m.step == steps));
        if stopped && all_final {
            break;
        }
        assert!(
            worked || host.busy() || !stopped,
            "the worker went idle early"
        );
    }
    assert!(stopped, "play turned off once every run was done");
    last.into_iter()
        .zip(losses)
        .enumerate()
        .map(|(i, (m, l))| {
            let m = m.unwrap_or_else(|| panic!("run {i}: no final evaluation"));
            let (step, loss) = l.unwrap_or_else(|| panic!("run {i}: no loss"));
            assert_eq!(step, steps, "run {i}: the last loss is of the last step");
            (m, loss)
        })
        .collect()
}

fn cli_run(loss: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_dicelens"))
        .args([
            "train",
            "--loss",
            loss,
            "--lambda",
            &fields::LAMBDA.default.to_string(),
            "--temp",
            &fields::TEMP.default.to_string(),
            "--every",
            "0",
        ])
        .output()
        .expect("dicelens runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let line = text.lines().last().expect("a final line");
    serde_json::from_str(line).expect("JSON")
}

/// A JSON number or null as the CLI printed it (shortest round-trip form: exact).
fn num(v: &Value, key: &str) -> Option<f64> {
    match &v[key] {
        Value::Null => None,
        x => Some(x.as_f64().unwrap_or_else(|| panic!("{key} is {x}"))),
    }
}

fn same_bits(a: Option<f64>, b: Option<f64>) -> bool {
    a.map(f64::to_bits) == b.map(f64::to_bits)
}

#[test]
fn the_worker_equals_dicelens_train_bit_for_bit_on_the_default_runs() {
    // The CLI's four runs in parallel processes while the host trains here.
    let cli: Vec<std::thread::JoinHandle<Value>> = LOSSES
        .iter()
        .map(|&l| std::thread::spawn(move || cli_run(l)))
        .collect();
    let worker = worker_run();
    for (i, (h, (m, loss))) in cli.into_iter().zip(worker).enumerate() {
        let j = h.join().expect("the CLI thread");
        let what = format!("run {i} ({})", LOSSES[i]);
        assert_eq!(j["final"], Value::Bool(true), "{what}");
        assert_eq!(j["step"].as_u64(), Some(m.step as u64), "{what}: step");
        for (key, x) in [
            ("loss", m.loss),
            ("ratio_soft", m.ratio_soft),
            ("ratio_hard", m.ratio_hard),
            ("ratio_hard_small", m.ratio_hard_small),
            ("dice", m.dice),
            ("iou", m.iou),
            ("ece", m.ece),
            ("saturated", m.saturated),
            ("train_loss", Some(loss)),
        ] {
            let c = num(&j, key);
            assert!(same_bits(x, c), "{what}: {key}: worker {x:?}, CLI {c:?}");
        }
        for b in &m.size_bins {
            let c = &j["size_bins"][b.name];
            assert_eq!(
                c["count"].as_u64(),
                Some(b.count as u64),
                "{what}: {} count",
                b.name
            );
            assert!(
                same_bits(b.ratio_soft, num(c, "ratio_soft")),
                "{what}: {} soft",
                b.name
            );
            assert!(
                same_bits(b.ratio_hard, num(c, "ratio_hard")),
                "{what}: {} hard",
                b.name
            );
        }
    }
}
