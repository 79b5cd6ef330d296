//! End-to-end tests of the `dicelens` binary: JSON output, figures, and every kind of bad input.

use dicelens_cli::npy::{write_f64, write_i64, write_raw};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dicelens"))
}

fn tmp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dicelens-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write temp file");
    p
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run dicelens")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}

/// Bad input: exit code 2, exactly one line on stderr, no panic or backtrace, nothing on stdout.
fn assert_refused(out: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "'{needle}' not in: {err}");
    assert!(!err.contains("panicked") && !err.contains("backtrace"));
    assert!(out.stdout.is_empty());
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

#[test]
fn eval_multiclass_prints_every_key() {
    // 1 image, 2 classes, 1×2 pixels: logits chosen so the values are easy to check by hand.
    let logits = tmp(
        "mc_l.npy",
        &write_f64(&[1, 2, 1, 2], &[0.0, 0.0, 0.0, 2f64.ln()]),
    );
    let labels = tmp("mc_y.npy", &write_i64(&[1, 1, 2], &[0, 1]));
    let v = json(&run(&[
        "eval",
        "--logits",
        p(&logits),
        "--labels",
        p(&labels),
        "--lambda",
        "0.5",
    ]));
    for key in [
        "ce",
        "dice",
        "dice_monai",
        "log_dice",
        "log_dice_monai",
        "dice_ce_monai",
        "l1",
        "kl",
        "ce_l1",
        "ce_kl",
        "dice_per_class",
        "u",
        "s_hat",
        "lambda",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    // Pixel 0: s = (1/2, 1/2), label 0; pixel 1: s = (1/3, 2/3), label 1.
    // CE = -(ln(1/2) + ln(2/3))/2.
    let ce = -((0.5f64).ln() + (2.0f64 / 3.0).ln()) / 2.0;
    assert!((v["ce"].as_f64().unwrap() - ce).abs() < 1e-12);
    assert_eq!(v["lambda"].as_f64(), Some(0.5));
    assert_eq!(v["u"], serde_json::json!([[0.5, 0.5]]));
    let s_hat_1 = v["s_hat"][0][1].as_f64().unwrap();
    assert!((s_hat_1 - (0.5 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
    assert!(v.get("bce").is_none());
}

#[test]
fn eval_binary_uses_bce_keys_and_null_log_dice() {
    // Foreground absent from the labels: plain Dice is 0, so plain log-Dice is undefined.
    let logits = tmp(
        "b_l.npy",
        &write_f64(&[1, 1, 2, 2], &[0.1, -0.3, 2.0, -1.0]),
    );
    let labels = tmp("b_y.npy", &write_raw("|u1", &[1, 2, 2], vec![0, 0, 0, 0]));
    let v = json(&run(&[
        "eval",
        "--logits",
        p(&logits),
        "--labels",
        p(&labels),
    ]));
    for key in ["bce", "bce_l1", "bce_kl"] {
        assert!(v[key].as_f64().is_some(), "{key}");
    }
    assert!(v.get("ce").is_none());
    assert!(v["log_dice"].is_null());
    assert!(v["log_dice_monai"].as_f64().unwrap().is_finite());
    assert_eq!(v["dice_per_class"], serde_json::json!([[0.0]]));
}

#[test]
fn eval_accepts_float32_and_int32() {
    let data: Vec<u8> = [0.5f32, -0.5, 1.0, 0.0, 0.0, 0.25, -1.0, 2.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let logits = tmp("f32_l.npy", &write_raw("<f4", &[1, 2, 2, 2], data));
    let labels: Vec<u8> = [0i32, 1, 1, 0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let labels = tmp("i32_y.npy", &write_raw("<i4", &[1, 2, 2], labels));
    let v = json(&run(&[
        "eval",
        "--logits",
        p(&logits),
        "--labels",
        p(&labels),
    ]));
    assert!(v["ce"].as_f64().unwrap() > 0.0);
}

#[test]
fn eval_refuses_bad_input_with_one_line() {
    let good_l = tmp("g_l.npy", &write_f64(&[1, 3, 2, 2], &[0.0; 12]));
    let good_y = tmp("g_y.npy", &write_i64(&[1, 2, 2], &[0, 1, 2, 1]));
    let missing = std::env::temp_dir().join("dicelens-definitely-missing.npy");
    assert_refused(
        &run(&["eval", "--logits", p(&missing), "--labels", p(&good_y)]),
        "cannot read logits file",
    );
    let text = tmp("text.npy", b"this is not numpy");
    assert_refused(
        &run(&["eval", "--logits", p(&text), "--labels", p(&good_y)]),
        "not a .npy file",
    );
    assert_refused(
        &run(&["eval", "--logits", p(&good_y), "--labels", p(&good_y)]),
        "must be float32 or float64",
    );
    assert_refused(
        &run(&["eval", "--logits", p(&good_l), "--labels", p(&good_l)]),
        "labels must be int64",
    );
    let rank3 = tmp("r3.npy", &write_f64(&[3, 2, 2], &[0.0; 12]));
    assert_refused(
        &run(&["eval", "--logits", p(&rank3), "--labels", p(&good_y)]),
        "rank 4",
    );
    let batch2 = tmp("b2_y.npy", &write_i64(&[2, 2, 2], &[0; 8]));
    assert_refused(
        &run(&["eval", "--logits", p(&good_l), "--labels", p(&batch2)]),
        "shape mismatch",
    );
    let out_of_range = tmp("oor_y.npy", &write_i64(&[1, 2, 2], &[0, 1, 3, 1]));
    assert_refused(
        &run(&["eval", "--logits", p(&good_l), "--labels", p(&out_of_range)]),
        "label 3",
    );
    let bin_l = tmp("bin_l.npy", &write_f64(&[1, 1, 2, 2], &[0.0; 4]));
    assert_refused(
        &run(&["eval", "--logits", p(&bin_l), "--labels", p(&good_y)]),
        "binary mode",
    );
    let nan = tmp(
        "nan_l.npy",
        &write_f64(&[1, 1, 2, 2], &[0.0, f64::NAN, 0.0, 0.0]),
    );
    let bin_y = tmp("bin_y.npy", &write_i64(&[1, 2, 2], &[0, 1, 0, 1]));
    assert_refused(
        &run(&["eval", "--logits", p(&nan), "--labels", p(&bin_y)]),
        "must be finite",
    );
    let inf = tmp(
        "inf_l.npy",
        &write_f64(&[1, 1, 2, 2], &[0.0, 0.0, f64::INFINITY, 0.0]),
    );
    assert_refused(
        &run(&["eval", "--logits", p(&inf), "--labels", p(&bin_y)]),
        "must be finite",
    );
    let mut trunc = write_f64(&[1, 3, 2, 2], &[0.0; 12]);
    trunc.truncate(trunc.len() - 5);
    let trunc = tmp("trunc.npy", &trunc);
    assert_refused(
        &run(&["eval", "--logits", p(&trunc), "--labels", p(&good_y)]),
        "truncated",
    );
    assert_refused(
        &run(&[
            "eval",
            "--logits",
            p(&good_l),
            "--labels",
            p(&good_y),
            "--lambda",
            "x",
        ]),
        "--lambda must be a finite number",
    );
    assert_refused(
        &run(&[
            "eval",
            "--logits",
            p(&good_l),
            "--labels",
            p(&good_y),
            "--lambda",
            "-1",
        ]),
        "lambda",
    );
    assert_refused(&run(&["eval", "--labels", p(&good_y)]), "missing --logits");
    assert_refused(&run(&["frobnicate"]), "unknown command");
}

#[test]
fn region_prints_minimizers() {
    let v = json(&run(&["region", "--u", "0.2", "--s", "0.5"]));
    assert_eq!(v["terms"]["kl"]["s_min"].as_f64(), Some(0.2));
    assert_eq!(v["terms"]["dice-fg"]["s_min"].as_f64(), Some(0.0));
    assert_eq!(v["terms"]["dice-mean"]["s_min"].as_f64(), Some(0.0));
    let at = v["terms"]["l1"]["at_s"].as_f64().unwrap();
    assert!((at - 0.3).abs() < 1e-12);
    assert_refused(&run(&["region", "--u", "0"]), "--u must lie in (0, 1)");
}

#[test]
fn figure_writes_svg_and_png() {
    let dir = std::env::temp_dir().join(format!("dicelens-fig-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let svg = dir.join("f.svg");
    let out = run(&["figure", "region-terms", "--u", "0.1", "--out", p(&svg)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&svg).expect("svg written");
    assert!(text.starts_with("<svg") && text.contains("u = 0.100"));
    let png = dir.join("f.png");
    let out = run(&[
        "figure",
        "region-terms",
        "--u",
        "0.3",
        "--out",
        p(&png),
        "--width",
        "400",
        "--height",
        "300",
        "--scale",
        "2",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&png).expect("png written");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let w = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    let h = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
    assert_eq!((w, h), (800, 600));
    assert_refused(
        &run(&["figure", "region-terms", "--out", "x.gif"]),
        "must end in .svg, .png or .csv",
    );
    assert_refused(
        &run(&["figure", "nope", "--out", "x.svg"]),
        "unknown figure",
    );
}

/// `figure matching`'s CSV holds the core's numbers at the given state, `explain` its
/// generated sentences, and an empty class is refused with one line.
#[test]
fn matching_figure_and_explain_are_the_cores() {
    let dir = std::env::temp_dir().join(format!("dicelens-match-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let csv = dir.join("m.csv");
    let state = [
        "--u3",
        "0.6,0.3,0.1",
        "--s3",
        "0.4,0.4,0.2",
        "--kappa",
        "1.5",
        "--sigma",
        "2",
    ];
    let mut args = vec!["figure", "matching"];
    args.extend(state);
    args.extend(["--out", p(&csv)]);
    let out = run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&csv).expect("csv");
    let v = dicelens_core::matching_view([0.6, 0.3, 0.1], [0.4, 0.4, 0.2], 1.5, 2.0).expect("core");
    let get = |key: &str| -> f64 {
        text.lines()
            .find_map(|l| {
                let mut it = l.splitn(3, ',');
                let (q, k, val) = (it.next()?, it.next()?, it.next()?);
                let name = if k.is_empty() {
                    q.to_string()
                } else {
                    format!("{q}-{k}")
                };
                (name == key).then(|| val.parse().expect("number"))
            })
            .unwrap_or_else(|| panic!("no row {key} in {text}"))
    };
    for k in 0..3 {
        assert_eq!(get(&format!("c-{k}")), v.classes[k].c);
        assert_eq!(get(&format!("neg_log_m-{k}")), v.classes[k].neg_log_m);
        assert_eq!(get(&format!("weight_ce-{k}")), v.classes[k].u);
    }
    assert_eq!(get("dice_bound"), v.dice_bound);
    assert_eq!(get("gap"), v.gap);
    let mut args = vec!["explain", "--view", "matching"];
    args.extend(state);
    let out = json(&run(&args));
    let want: Vec<String> = dicelens_core::claims::matching::matching_claims(&v)
        .into_iter()
        .map(|c| c.text)
        .collect();
    assert_eq!(out["sentences"], serde_json::json!(want));
    let out = run(&["figure", "matching", "--u3", "1,0,0", "--out", p(&csv)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("class 1 has no pixels") && err.lines().count() == 1,
        "{err}"
    );
}

/// Every theory view renders to SVG (parsed back) and to CSV whose numbers are the core's.
#[test]
fn figure_renders_every_view_and_csv() {
    let dir = std::env::temp_dir().join(format!("dicelens-figs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    for view in [
        "region-terms",
        "family",
        "bias-map",
        "simplex",
        "decomposition",
        "ambiguous",
        "gradients",
        "matching",
    ] {
        let svg = dir.join(format!("{view}.svg"));
        let out = run(&[
            "figure",
            view,
            "--u",
            "0.1",
            "--kappa",
            "0.5",
            "--sigma",
            "1",
            "--out",
            p(&svg),
        ]);
        assert!(
            out.status.success(),
            "{view}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(&svg).expect("svg written");
        let doc = roxmltree::Document::parse(&text).expect("valid SVG");
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        assert!(text.len() > 2_000, "{view}: SVG too small to hold a plot");
        let csv = dir.join(format!("{view}.csv"));
        let out = run(&["figure", view, "--u", "0.1", "--out", p(&csv)]);
        assert!(
            out.status.success(),
            "{view}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(&csv).expect("csv written");
        let mut lines = text.lines();
        let cols = lines.next().expect("header").split(',').count();
        let rows: Vec<&str> = lines.collect();
        assert!(rows.len() > 5, "{view}: too few rows");
        assert!(rows.iter().all(|r| r.split(',').count() >= cols.min(3)));
    }
    // The family CSV's CE column is smallest at ŝ ≈ u (CE has no region-size bias).
    let csv = dir.join("fam.csv");
    assert!(run(&["figure", "family", "--u", "0.1", "--out", p(&csv)])
        .status
        .success());
    let text = std::fs::read_to_string(&csv).expect("csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let ce = header.iter().position(|h| *h == "ce").expect("ce column");
    let best = lines
        .map(|l| {
            l.split(',')
                .map(|x| x.parse::<f64>().unwrap_or(f64::NAN))
                .collect::<Vec<_>>()
        })
        .min_by(|a, b| a[ce].total_cmp(&b[ce]))
        .expect("rows");
    assert!(
        (best[1] - 0.1).abs() < 0.01,
        "CE smallest at ŝ = {}",
        best[1]
    );
    assert_refused(
        &run(&["figure", "family", "--kappa", "9", "--out", "x.svg"]),
        "--kappa=9 is outside [0, 5]",
    );
    assert_refused(
        &run(&["figure", "simplex", "--u3", "0.5,0.5", "--out", "x.svg"]),
        "--u3=0.5,0.5 is not three comma-separated numbers",
    );
    assert_refused(
        &run(&["figure", "simplex", "--term", "x", "--out", "x.svg"]),
        "--term=x is not one of kl, dice, l1",
    );
    assert_refused(
        &run(&["figure", "family", "--u", "abc", "--out", "x.svg"]),
        "--u=abc is not a number",
    );
}

/// `dicelens grad`: every loss key of `dicelens family` with a foreground and a background
/// pixel's `N·∂L/∂z`; the same numbers as `figure gradients`'s CSV; bad input refused.
#[test]
fn grad_prints_every_loss_and_refuses_bad_input() {
    let out = run(&["grad", "--u", "0.01", "--pfg", "0.6", "--pbg", "0.1"]);
    let v = json(&out);
    let keys = [
        "ce",
        "dice-fg",
        "dice-mean",
        "log-dice-fg",
        "log-dice-mean",
        "dice-ce",
        "ce-l1",
        "ce-kl",
    ];
    let obj = v.as_object().expect("object");
    assert_eq!(
        obj.keys().collect::<Vec<_>>(),
        keys.iter().collect::<Vec<_>>()
    );
    // Pretty-printed: one key per line.
    assert!(String::from_utf8_lossy(&out.stdout).lines().count() > keys.len() * 2);
    // CE pushes a pixel by its error, p − y.
    assert!((v["ce"]["fg"].as_f64().expect("number") - (0.6 - 1.0)).abs() < 1e-12);
    assert!((v["ce"]["bg"].as_f64().expect("number") - 0.1).abs() < 1e-12);
    // Foreground Dice: −2 (S + Y − I)/(S + Y)² · p(1 − p) with S = 0.006 + 0.099, Y = 0.01, I = 0.006.
    let (s, y, i) = (0.006 + 0.099, 0.01, 0.006);
    let d = -2.0 * (s + y - i) / ((s + y) * (s + y)) * 0.6 * 0.4;
    assert!((v["dice-fg"]["fg"].as_f64().expect("number") - d).abs() < 1e-12);
    // λ = 0: the regularized losses push as CE does; --temp is --T.
    let z = json(&run(&["grad", "--lambda", "0", "--temp", "10"]));
    assert_eq!(z["ce-l1"], z["ce"]);
    assert_eq!(z["ce-kl"], z["ce"]);
    let t = json(&run(&["grad", "--lambda", "1", "--T", "10"]));
    let t2 = json(&run(&["grad", "--lambda", "1", "--temp", "10"]));
    assert_eq!(t, t2);
    assert_ne!(t["ce-kl"], z["ce-kl"]);
    // The figure's CSV holds the same numbers at the grid's u.
    let dir = std::env::temp_dir().join(format!("dicelens-grad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let csv = dir.join("grad.csv");
    assert!(run(&[
        "figure",
        "gradients",
        "--pfg",
        "0.6",
        "--pbg",
        "0.1",
        "--out",
        p(&csv)
    ])
    .status
    .success());
    let text = std::fs::read_to_string(&csv).expect("csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    assert_eq!(header[0], "u");
    assert_eq!(header.len(), 1 + 2 * keys.len());
    assert_eq!(&header[1..3], &["ce-fg", "ce-bg"]);
    let row: Vec<&str> = lines.next().expect("first row").split(',').collect();
    let g = json(&run(&[
        "grad", "--u", row[0], "--pfg", "0.6", "--pbg", "0.1",
    ]));
    for (j, k) in keys.iter().enumerate() {
        for (side, col) in [("fg", 1 + 2 * j), ("bg", 2 + 2 * j)] {
            let a: f64 = row[col].parse().expect("number");
            let b = g[*k][side].as_f64().expect("number");
            // serde_json's default float parser may be one ulp off; the numbers are the same.
            assert!((a - b).abs() <= 1e-15 * a.abs(), "{k} {side}: {a} vs {b}");
        }
    }
    assert_refused(
        &run(&["grad", "--pfg", "1"]),
        "--pfg=1 is outside [0.001, 0.999]",
    );
    assert_refused(&run(&["grad", "--u", "0"]), "--u=0 is outside");
    assert_refused(&run(&["grad", "--pbg", "abc"]), "--pbg=abc is not a number");
    assert_refused(&run(&["grad", "--lambda", "-1"]), "--lambda=-1 is outside");
    assert_refused(&run(&["grad", "--kappa", "1"]), "unknown option --kappa");
    assert_refused(&run(&["grad", "--u"]), "--u needs a value");
}

#[test]
fn explain_prints_the_generated_sentences_with_their_conditions() {
    // The authors' setting: CE+L1 and CE+KL leave u (THEORY.md: 2.45·u and 1.92·u at T = 10).
    let v = json(&run(&[
        "explain", "--view", "family", "--lambda", "1", "--T", "10",
    ]));
    assert_eq!(v["view"], "family");
    let text: Vec<String> = v["sentences"]
        .as_array()
        .expect("sentences")
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    let all = text.join(" ");
    assert!(all.contains("CE+L1 over-estimates u (2.45×)"), "{all}");
    assert!(all.contains("CE+KL over-estimates u (1.92×)"), "{all}");
    assert!(all.contains("only at T = 1"), "{all}");
    // At T = 1 the same losses sit at u, and the sentence says why.
    let v = json(&run(&[
        "explain", "--view", "family", "--lambda", "1", "--T", "1",
    ]));
    let all = v["sentences"].to_string();
    assert!(all.contains("At T = 1"), "{all}");
    assert!(all.contains("CE+L1 sits at the truth u (1.00×)"), "{all}");
    // Every view answers (some with no relation to state).
    for view in [
        "region-terms",
        "family",
        "bias-map",
        "simplex",
        "decomposition",
        "ambiguous",
        "landscape",
        "gradients",
    ] {
        let v = json(&run(&["explain", "--view", view]));
        assert_eq!(v["view"], view);
    }
    assert_refused(&run(&["explain", "--view", "nope"]), "unknown view");
    assert_refused(&run(&["explain"]), "--view");
    assert_refused(&run(&["explain", "--view", "family", "--u", "2"]), "--u");
}
