//! `dicelens train`: the JSON-lines schema, a diverged run, and bad arguments.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dicelens"))
        .arg("train")
        .args(args)
        .output()
        .expect("run dicelens")
}

const KEYS: [&str; 9] = [
    "step",
    "loss",
    "ratio_soft",
    "ratio_hard",
    "ratio_hard_small",
    "dice",
    "iou",
    "ece",
    "saturated",
];

fn lines(out: &Output) -> Vec<serde_json::Value> {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout.clone()).expect("utf-8");
    assert!(!text.contains("NaN") && !text.contains("inf"), "{text}");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect()
}

#[test]
fn prints_a_line_every_k_steps_and_a_final_summary() {
    let out = run(&[
        "--loss",
        "dice",
        "--model",
        "cnn8",
        "--steps",
        "6",
        "--seed",
        "3",
        "--every",
        "2",
        "--batch",
        "4",
        "--train-images",
        "16",
        "--test-images",
        "8",
    ]);
    let v = lines(&out);
    assert_eq!(v.len(), 3, "steps 2, 4 and the final line at 6");
    for (i, line) in v.iter().enumerate() {
        for k in KEYS {
            assert!(line.get(k).is_some(), "line {i} lacks {k}: {line}");
        }
        assert_eq!(line["step"], 2 * (i + 1));
    }
    let last = &v[2];
    assert_eq!(last["final"], true);
    assert_eq!(last["status"], "done");
    assert!(last["ece"].as_f64().unwrap() >= 0.0);
    assert!((0.0..=1.0).contains(&last["dice"].as_f64().unwrap()));
    assert!(last["size_bins"]["small"]["count"].is_u64());
    assert!(v[0].get("final").is_none());
    // Same seed, same output, byte for byte.
    let again = run(&[
        "--loss",
        "dice",
        "--model",
        "cnn8",
        "--steps",
        "6",
        "--seed",
        "3",
        "--every",
        "2",
        "--batch",
        "4",
        "--train-images",
        "16",
        "--test-images",
        "8",
    ]);
    assert_eq!(out.stdout, again.stdout);
}

#[test]
fn three_classes_logistic_sgd_cosine() {
    let v = lines(&run(&[
        "--loss",
        "ce-kl",
        "--model",
        "logistic5",
        "--classes",
        "3",
        "--size",
        "64",
        "--steps",
        "3",
        "--every",
        "0",
        "--optimizer",
        "sgd",
        "--cosine",
        "--lr",
        "0.5",
        "--lambda",
        "1",
        "--temp",
        "10",
        "--batch",
        "2",
        "--train-images",
        "8",
        "--test-images",
        "4",
    ]));
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["final"], true);
    assert_eq!(v[0]["temperature"], 10.0);
}

#[test]
fn a_diverged_run_says_so_without_nan() {
    let v = lines(&run(&[
        "--loss",
        "ce",
        "--lr",
        "1e6",
        "--steps",
        "20",
        "--every",
        "1",
        "--batch",
        "4",
        "--train-images",
        "16",
        "--test-images",
        "8",
    ]));
    let last = v.last().unwrap();
    assert_eq!(last["final"], true);
    assert_eq!(last["status"], "diverged");
    let msg = last["diverged"].as_str().unwrap();
    assert!(
        msg.starts_with("diverged at step ") && msg.contains("learning rate too high?"),
        "{msg}"
    );
}

#[test]
fn bad_arguments_exit_2_with_one_line() {
    for (args, needle) in [
        (vec!["--loss", "focal"], "unknown --loss 'focal'"),
        (vec!["--model", "unet"], "unknown --model 'unet'"),
        (vec!["--steps", "0"], "--steps must be an integer"),
        (vec!["--steps", "ten"], "--steps must be an integer"),
        (vec!["--lr", "0"], "invalid learning rate 0"),
        (vec!["--lr", "nan"], "--lr must be a finite number"),
        (vec!["--batch", "0"], "invalid batch size 0"),
        (vec!["--size", "48"], "--size must be 32 or 64"),
        (vec!["--classes", "4"], "--classes must be 2 or 3"),
        (vec!["--noise", "-1"], "invalid noise -1"),
        (vec!["--optimizer", "rmsprop"], "unknown --optimizer"),
        (vec!["--temp", "0"], "invalid temperature 0"),
        (vec!["--frobnicate", "1"], "unknown option --frobnicate"),
        (vec!["--seed"], "--seed needs a value"),
    ] {
        let out = run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: '{needle}' not in {err}");
        assert!(out.stdout.is_empty());
    }
}

/// `dicelens train` takes the app's trainer settings from the same table
/// (`dicelens_core::train::fields`): each option accepts the table's ends and refuses just
/// past them, saying the table's bound. (The seed is the CLI's own: any `u64`.)
#[test]
fn options_use_the_trainers_one_table() {
    use dicelens_core::train::fields::{fmt_num, Kind, FIELDS, SEED, STEPS};
    let tiny = [
        "--steps",
        "1",
        "--every",
        "0",
        "--train-images",
        "2",
        "--test-images",
        "1",
        "--batch",
        "1",
    ];
    for f in FIELDS.iter().filter(|f| f.cli != SEED.cli) {
        let opt = format!("--{}", f.cli);
        // The top of the range is accepted (a step budget of 100000 would take long: its
        // refusal just past it is the check).
        if f.cli != STEPS.cli {
            let hi = fmt_num(f.hi);
            let mut args: Vec<&str> = tiny.to_vec();
            args.extend([opt.as_str(), hi.as_str()]);
            let out = run(&args);
            assert!(
                out.status.success(),
                "{opt} {hi}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let past = match f.kind {
            Kind::Choice(v) => v[v.len() - 1] + 1.0,
            _ => f.hi + 1.0,
        };
        let past = format!("{past}");
        let mut args: Vec<&str> = tiny.to_vec();
        args.extend([opt.as_str(), past.as_str()]);
        let out = run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{opt} {past}: {err}");
        assert!(
            err.contains(&fmt_num(f.hi)),
            "{opt} {past}: the bound {} not in {err}",
            fmt_num(f.hi)
        );
    }
}
