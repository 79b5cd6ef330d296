//! `dicelens audit`: known answers on generated files, agreement with `dicelens eval`, the
//! example sets, and bad files (one line on stderr, exit code 2).

use dicelens_cli::npy::{write_f64, write_i64, write_raw};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn tmp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dicelens-audit-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write temp file");
    p
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dicelens"))
        .args(args)
        .output()
        .expect("run dicelens")
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn refused(out: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "'{needle}' not in: {err}");
    assert!(!err.contains("panicked"));
    assert!(out.stdout.is_empty());
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

/// 16×16 binary images: image `i` has `c[i]` foreground pixels predicted `pf[i]`, the rest `pb[i]`.
fn files(tag: &str, c: &[usize], pf: &[f64], pb: &[f64]) -> (PathBuf, PathBuf, PathBuf) {
    let n = 256;
    let mut y = Vec::new();
    let mut z = Vec::new();
    let mut p = Vec::new();
    for i in 0..c.len() {
        for j in 0..n {
            let fg = j < c[i];
            y.push(fg as i64);
            let q = if fg { pf[i] } else { pb[i] };
            z.push(logit(q));
            p.push(q);
        }
    }
    let b = c.len();
    (
        tmp(&format!("{tag}_y.npy"), &write_i64(&[b, 16, 16], &y)),
        tmp(&format!("{tag}_z.npy"), &write_f64(&[b, 1, 16, 16], &z)),
        tmp(&format!("{tag}_p.npy"), &write_f64(&[b, 1, 16, 16], &p)),
    )
}

#[test]
fn known_answers_and_eval_agreement() {
    let c = [2usize, 10, 64, 128];
    let pf = [0.9, 0.8, 0.7, 0.6];
    let pb = [0.1, 0.6, 0.2, 0.3];
    let (y, z, p) = files("known", &c, &pf, &pb);
    let (ys, zs, ps) = (
        y.to_str().unwrap(),
        z.to_str().unwrap(),
        p.to_str().unwrap(),
    );
    let a = json(&run(&["audit", "--labels", ys, "--logits", zs]));
    assert_eq!(a["n_images"], 4);
    let n = 256.0;
    let soft = |i: usize| (c[i] as f64 * pf[i] + (n - c[i] as f64) * pb[i]) / c[i] as f64;
    let bins = &a["bins"];
    assert_eq!(bins["small"]["n"], 1);
    assert_eq!(bins["medium"]["n"], 1);
    assert_eq!(bins["large"]["n"], 2);
    assert!(close(num(&bins["small"]["ratio_soft"]), soft(0), 1e-9));
    assert!(close(num(&bins["small"]["ratio_hard"]), 1.0, 1e-12));
    // Image 1's background (p = 0.6) is thresholded to foreground: hard ŝ/u = 256/10.
    assert!(close(num(&bins["medium"]["ratio_hard"]), 25.6, 1e-12));
    assert!(close(
        num(&bins["large"]["ratio_soft"]),
        (soft(2) + soft(3)) / 2.0,
        1e-9
    ));
    assert!(close(num(&a["dice"]), (3.0 + 20.0 / 266.0) / 4.0, 1e-12));
    assert!(close(num(&a["iou"]), (3.0 + 10.0 / 256.0) / 4.0, 1e-12));
    assert_eq!(num(&a["saturated"]), 0.0);
    assert!(num(&a["ece"]) > 0.0);
    // The losses are `dicelens eval`'s on the same files.
    let e = json(&run(&["eval", "--labels", ys, "--logits", zs]));
    let losses = a["losses"].as_object().unwrap();
    assert_eq!(losses.len(), 10);
    for (k, v) in losses {
        assert!(close(num(v), num(&e[k]), 1e-12), "{k}: {v} vs {}", e[k]);
    }
    // Probabilities give the same sizes and metrics.
    let b = json(&run(&["audit", "--labels", ys, "--probs", ps]));
    for name in ["small", "medium", "large"] {
        assert!(close(
            num(&a["bins"][name]["ratio_soft"]),
            num(&b["bins"][name]["ratio_soft"]),
            1e-9
        ));
    }
    assert!(close(num(&a["dice"]), num(&b["dice"]), 1e-12));
    // Labels only: sizes, no ratios.
    let l = json(&run(&["audit", "--labels", ys]));
    assert_eq!(l["bins"]["large"]["n"], 2);
    assert!(l["bins"]["large"]["ratio_soft"].is_null());
    assert!(l["losses"].is_null() && l["ece"].is_null());
    // The losses CSV: one row per image and loss plus the batch rows.
    let csv = tmp("known.csv", b"");
    json(&run(&[
        "audit",
        "--labels",
        ys,
        "--logits",
        zs,
        "--losses-csv",
        csv.to_str().unwrap(),
    ]));
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 1 + 4 * 10 + 10);
    let bce: f64 = text
        .lines()
        .find(|l| l.starts_with("batch,bce,"))
        .unwrap()
        .split(',')
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    assert!(close(bce, num(&e["bce"]), 1e-12));
}

#[test]
fn the_example_set_equals_its_files() {
    let y = tmp("ex_y.npy", b"");
    let z = tmp("ex_z.npy", b"");
    let a = json(&run(&[
        "audit",
        "--example",
        "dice",
        "--write-labels",
        y.to_str().unwrap(),
        "--write-logits",
        z.to_str().unwrap(),
    ]));
    let b = json(&run(&[
        "audit",
        "--labels",
        y.to_str().unwrap(),
        "--logits",
        z.to_str().unwrap(),
    ]));
    assert_eq!(a, b);
    assert_eq!(a["n_images"], 48);
    assert!(a["sentences"].as_array().unwrap().len() >= 4);
}

#[test]
fn bad_files_are_refused_with_one_line() {
    let (y, z, _) = files("bad", &[3, 40], &[0.8, 0.7], &[0.1, 0.2]);
    let (ys, zs) = (y.to_str().unwrap(), z.to_str().unwrap());
    let path = |name: &str, bytes: &[u8]| tmp(name, bytes).to_str().unwrap().to_string();
    // Not .npy; wrong dtypes; mismatched shapes; NaN; labels out of range; probabilities.
    let junk = path("junk.npy", b"\x89PNG\r\n\x1a\n not numpy");
    refused(&run(&["audit", "--labels", &junk]), "not a .npy file");
    refused(&run(&["audit", "--labels", zs]), "labels must be integers");
    let iz = path("iz.npy", &write_i64(&[2, 1, 16, 16], &[0; 512]));
    refused(
        &run(&["audit", "--labels", ys, "--logits", &iz]),
        "predictions must be float32 or float64",
    );
    let z3 = path("z3.npy", &write_f64(&[3, 1, 16, 16], &[0.0; 768]));
    refused(
        &run(&["audit", "--labels", ys, "--logits", &z3]),
        "shape mismatch",
    );
    let mut v = vec![0.0; 512];
    v[300] = f64::NAN;
    let zn = path("zn.npy", &write_f64(&[2, 1, 16, 16], &v));
    refused(
        &run(&["audit", "--labels", ys, "--logits", &zn]),
        "logit in image 1 (channel 0, pixel 44) is NaN",
    );
    let mut yl = vec![0i64; 512];
    yl[5] = 4;
    let y4 = path("y4.npy", &write_i64(&[2, 16, 16], &yl));
    refused(
        &run(&["audit", "--labels", &y4, "--logits", zs]),
        "label 4 in image 0 (pixel 5) is outside {0, 1}",
    );
    refused(
        &run(&["audit", "--labels", ys, "--probs", zs]),
        "outside [0, 1]",
    );
    let short = path(
        "short.npy",
        &write_raw("<f8", &[2, 1, 16, 16], vec![0; 100]),
    );
    refused(
        &run(&["audit", "--labels", ys, "--logits", &short]),
        "truncated",
    );
    let wide = path("wide.npy", &write_raw("|u1", &[1, 2, 600], vec![0; 1200]));
    refused(
        &run(&["audit", "--labels", &wide]),
        "the image width is 600, at most 512",
    );
    // A 2 GB file (sparse): refused from its size, before reading.
    let big = tmp("big.npy", b"");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&big)
        .unwrap()
        .set_len(2_000_000_000)
        .unwrap();
    refused(
        &run(&["audit", "--labels", ys, "--logits", big.to_str().unwrap()]),
        "predictions file is 2000000000 bytes (2.00 GB)",
    );
    std::fs::remove_file(&big).ok();
    // Option errors.
    refused(&run(&["audit"]), "missing --labels");
    refused(
        &run(&["audit", "--labels", ys, "--logits", zs, "--probs", zs]),
        "not both",
    );
    refused(
        &run(&["audit", "--example", "foo"]),
        "--example must be ce or dice",
    );
    refused(
        &run(&["audit", "--labels", "/definitely/missing.npy"]),
        "cannot read labels file",
    );
}
