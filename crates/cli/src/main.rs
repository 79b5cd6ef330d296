//! `dicelens`: evaluate segmentation losses on `.npy` files and render DiceLens figures.
//!
//! Bad input prints one line on stderr and exits with code 2; never a panic or a backtrace.

use dicelens_cli::npy::{self, NpyArray};
use dicelens_core::{Evaluator, LossKind, Losses, Mode, RegionConfig, RegionTerm};
use dicelens_plot::figure::{Figure, ViewId, ViewParams};
use dicelens_plot::query::Mode as QueryMode;
use dicelens_plot::PlotStyle;
use ndarray::{Array3, Array4, Ix3, Ix4};
use plotters::prelude::*;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::process::ExitCode;

mod audit_cmd;
mod family_cmd;
mod train_cmd;

const USAGE: &str = "\
dicelens — segmentation losses and their region-size biases (Liu et al., MedIA 2024)

USAGE:
  dicelens eval --logits L.npy --labels Y.npy [--lambda 0.1] [--temp 1]
      Prints one JSON object with every loss (mean-reduced as PyTorch/MONAI do).
      Logits (B,K,H,W) float32/float64; K=1 is binary (sigmoid). Labels (B,H,W) int64/int32/uint8.
  dicelens family --u 0.1 [--kappa 0.5] [--sigma 1] [--lambda 0.1] [--temp 1]
      Prints each loss's optimum ŝ* (and ŝ*/u) along the logit-shift family as JSON.
  dicelens region --u 0.1 [--s 0.3]
      Prints the binary region-size terms' minimizers (and values at ŝ) as JSON.
  dicelens grad [--u 0.1] [--pfg 0.7] [--pbg 0.05] [--lambda 0.1] [--T 1]
      Prints N·∂L/∂z, the gradient of each loss with respect to one pixel's logit times the
      pixel count, for a foreground and a background pixel of a binary image whose foreground
      (a fraction u) predicts pfg and background pbg: {\"<loss>\": {\"fg\": .., \"bg\": ..}, ..}
      with the loss keys of `dicelens family` (null where undefined). --temp is --T.
  dicelens figure VIEW [--u 0.1] [--s 0.3] [--kappa 0.5] [--sigma 1] [--lambda 0.1] [--T 1]
                 [--c 0.05] [--a 0.05] [--p 0.3] [--u3 0.7,0.25,0.05] [--s3 0.5,0.3,0.2]
                 [--term kl|dice|l1] [--norm 1|0] --out fig.svg|fig.png|fig.csv
                 [--width 800] [--height 500] [--scale 2] [--dark]
                 [--l1 dice-fg] [--amb 0|1] [--ball b,ln_t] [--adam 0|1] [--pfg 0.7] [--pbg 0.05]
                 [--sizes 0.005,0.01,0.02,0.04,0.08,0.12,0.2,0.3]
      VIEW: region-terms, family, bias-map, simplex, decomposition, ambiguous, landscape,
            gradients, matching (reads --u3 --s3 --kappa --sigma), temperature,
            pooled (--sizes: the pooled view's batch, 2 to 12 values).
      Renders the app's view with the same drawing code from the app's URL parameters
      (same keys, same ranges, same defaults); .csv writes the plotted numbers
      (matching: quantity,class,value rows: C_k, -log m_k, both weightings, the bound, the gap).
  dicelens explain --view VIEW [the figure command's state keys]
      Prints the view's captions as JSON: {\"view\": VIEW, \"sentences\": [...]}, the same sentences,
      generated from the same numbers, that the app shows at that state.
  dicelens pytorch [--preset paper|monai|smp|nnunet] [--lambda 0.1] [--T 1]
      Prints the app's copy-as-PyTorch snippet: the loss configuration in torch/MONAI/smp.
  dicelens train [--loss ce|bce|dice|log-dice|dice-ce|ce-l1|ce-kl] [--model cnn8|logistic5]
                 [--steps 500] [--seed 1] [--lambda 0.1] [--temp 1] [--lr 0.01] [--batch 16]
                 [--optimizer adam|sgd] [--cosine] [--noise 0.8] [--blur 1.5] [--size 32|64]
                 [--classes 2|3] [--every 100] [--label-noise 0] [--data-seed S]
                 [--train-images 512] [--test-images 64]
      Trains the toy model on synthetic blurred, noisy discs and prints one JSON line every
      --every steps (0: none) and a final line with final=true: step, loss (held-out),
      train_loss, ratio_soft, ratio_hard, ratio_hard_small, dice, iou, ece, saturated
      (null where undefined, never NaN). dice = MONAI Dice, log-dice = MONAI log-Dice.
      A diverged run still exits 0; its final line has status=diverged and
      diverged=\"diverged at step N — learning rate too high? (...)\".
  dicelens audit --labels Y.npy [--logits L.npy | --probs P.npy] [--lambda 0.1] [--temp 1]
                 [--kappa 0.5] [--sigma 1] [--losses-csv losses.csv]
  dicelens audit --example ce|dice [--write-labels Y.npy] [--write-logits L.npy] [...]
      Audits your own segmentation (the app's data view, same core): labels (B,H,W) or (H,W)
      int64/int32/uint8/bool; predictions (B,K,H,W) float32/float64, logits (K=1 sigmoid,
      K>=2 softmax) or probabilities in [0,1]. Up to 256 images of up to 512x512, read image by
      image; files over 1 GiB are refused before reading. Prints JSON: n_images, bins
      (small u<2%, medium 2-10%, large >=10%: n, ratio_soft, ratio_hard; null when empty or
      without predictions), ece, dice, iou, saturated, losses (every loss of `dicelens eval`
      on the batch), per_image (u, soft, hard, losses, region_terms), hist, reliability,
      toy (the bias map's histogram-weighted ŝ*/u per loss at --kappa/--sigma), sentences.
      --example builds the data view's example set (trainer data, 300 steps of CE or Dice)
      and can save it as .npy; --losses-csv writes the view's losses table CSV.
  dicelens --help | --version

STATE KEYS (figure, explain; the app's URL keys, read by the same codec, refused when bad):
{KEYS}

Exit codes: 0 success, 2 bad input (one line on stderr).";

/// The usage text, its state keys generated from the one parameter table.
fn usage() -> String {
    let mut keys = String::new();
    for p in dicelens_plot::figure::PARAMS {
        keys.push_str(&format!(
            "  --{:<7} {} in [{}, {}], default {}\n",
            p.key, p.label, p.lo, p.hi, p.default
        ));
    }
    let d = ViewParams::default();
    for (k, v) in d.to_query() {
        if dicelens_plot::figure::param(k).is_none() {
            keys.push_str(&format!("  --{k:<7} default {v}\n"));
        }
    }
    keys.push_str("  --ball    b,ln_t (a dropped ball; default none)");
    USAGE.replace("{KEYS}", &keys)
}

fn main() -> ExitCode {
    // A bug must still end in one line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("dicelens: internal error: {info}");
    }));
    let args: Vec<String> = std::env::args().skip(1).collect();
    match std::panic::catch_unwind(|| run(&args)) {
        Ok(Ok(out)) => {
            if !out.is_empty() {
                println!("{out}");
            }
            ExitCode::SUCCESS
        }
        Ok(Err(msg)) => {
            eprintln!("dicelens: {msg}");
            ExitCode::from(2)
        }
        Err(_) => ExitCode::from(70),
    }
}

/// Parsed `--key value` pairs and bare flags.
struct Opts {
    values: HashMap<String, String>,
    flags: Vec<String>,
}

impl Opts {
    fn parse(args: &[String], valued: &[&str], flags: &[&str]) -> Result<Self, String> {
        let mut values = HashMap::new();
        let mut found = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let key = a
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument '{a}' (see dicelens --help)"))?;
            let (key, inline) = match key.split_once('=') {
                Some((k, v)) => (k, Some(v.to_string())),
                None => (key, None),
            };
            if valued.contains(&key) {
                let v = match inline {
                    Some(v) => v,
                    None => it
                        .next()
                        .cloned()
                        .ok_or_else(|| format!("--{key} needs a value"))?,
                };
                values.insert(key.to_string(), v);
            } else if flags.contains(&key) {
                found.push(key.to_string());
            } else {
                return Err(format!("unknown option --{key} (see dicelens --help)"));
            }
        }
        Ok(Self {
            values,
            flags: found,
        })
    }

    fn required(&self, key: &str) -> Result<&str, String> {
        self.values
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| format!("missing --{key} (see dicelens --help)"))
    }

    fn number(&self, key: &str, default: f64) -> Result<f64, String> {
        match self.values.get(key) {
            None => Ok(default),
            Some(v) => v
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("--{key} must be a finite number, got '{v}'")),
        }
    }

    fn flag(&self, key: &str) -> bool {
        self.flags.iter().any(|f| f == key)
    }
}

fn run(args: &[String]) -> Result<String, String> {
    match args.first().map(String::as_str) {
        None | Some("--help") | Some("-h") | Some("help") => Ok(usage()),
        Some("--version") | Some("-V") => Ok(format!("dicelens {}", env!("CARGO_PKG_VERSION"))),
        Some("eval") => eval(&args[1..]),
        Some("figure") => figure(&args[1..]),
        Some("explain") => explain(&args[1..]),
        Some("pytorch") => pytorch(&args[1..]),
        Some("region") => region(&args[1..]),
        Some("grad") => grad(&args[1..]),
        Some("family") => {
            let o = Opts::parse(&args[1..], &["u", "kappa", "sigma", "lambda", "temp"], &[])?;
            family_cmd::family(&|k, d| o.number(k, d))
        }
        Some("train") => train(&args[1..]),
        Some("audit") => audit_cmd::audit(&args[1..]),
        Some(other) => Err(format!(
            "unknown command '{other}' (commands: eval, region, family, grad, figure, explain, pytorch, train, audit; see dicelens --help)"
        )),
    }
}

fn train(args: &[String]) -> Result<String, String> {
    train_cmd::train(args)
}

fn read_npy(path: &str, what: &str) -> Result<NpyArray, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read {what} file '{path}': {e}"))?;
    npy::parse(&bytes).map_err(|e| format!("{what} file '{path}': {e}"))
}

fn eval(args: &[String]) -> Result<String, String> {
    let o = Opts::parse(args, &["logits", "labels", "lambda", "temp"], &[])?;
    let logits_path = o.required("logits")?;
    let labels_path = o.required("labels")?;
    let cfg = RegionConfig {
        lambda: o.number("lambda", RegionConfig::default().lambda)?,
        temp: o.number("temp", 1.0)?,
    };
    let logits = match read_npy(logits_path, "logits")? {
        NpyArray::Float(_, a) => a,
        NpyArray::Int(d, _) => {
            return Err(format!(
                "logits file '{logits_path}' has dtype {d}; logits must be float32 or float64"
            ))
        }
    };
    let labels = match read_npy(labels_path, "labels")? {
        NpyArray::Int(_, a) => a,
        NpyArray::Float(d, _) => {
            return Err(format!(
                "labels file '{labels_path}' has dtype {d}; labels must be int64, int32 or uint8"
            ))
        }
    };
    let (lr, yr) = (logits.ndim(), labels.ndim());
    let logits: Array4<f64> = logits.into_dimensionality::<Ix4>().map_err(|_| {
        format!("logits must have rank 4 (B, K, H, W); '{logits_path}' has rank {lr}")
    })?;
    let labels: Array3<i64> = labels
        .into_dimensionality::<Ix3>()
        .map_err(|_| format!("labels must have rank 3 (B, H, W); '{labels_path}' has rank {yr}"))?;
    let ev = Evaluator::new(logits.view(), labels.view(), cfg).map_err(|e| e.to_string())?;
    Ok(losses_json(&ev.losses()).to_string())
}

/// The JSON object `dicelens eval` prints.
fn losses_json(l: &Losses) -> Value {
    let mut m = Map::new();
    for kind in LossKind::ALL {
        let v = l.get(kind).map(Value::from).unwrap_or(Value::Null);
        m.insert(kind.key(l.mode).to_string(), v);
    }
    m.insert("dice_per_class".into(), json!(l.dice_per_class));
    m.insert("u".into(), json!(l.u));
    m.insert("s_hat".into(), json!(l.s_hat));
    m.insert("lambda".into(), json!(l.lambda));
    m.insert("temperature".into(), json!(l.temp));
    m.insert(
        "mode".into(),
        json!(if l.mode == Mode::Binary {
            "binary"
        } else {
            "multiclass"
        }),
    );
    Value::Object(m)
}

fn proportion(o: &Opts, key: &str, default: f64, open: bool) -> Result<f64, String> {
    let v = o.number(key, default)?;
    let ok = if open {
        v > 0.0 && v < 1.0
    } else {
        (0.0..=1.0).contains(&v)
    };
    if ok {
        Ok(v)
    } else {
        let range = if open { "(0, 1)" } else { "[0, 1]" };
        Err(format!("--{key} must lie in {range}, got {v}"))
    }
}

fn region(args: &[String]) -> Result<String, String> {
    let o = Opts::parse(args, &["u", "s"], &[])?;
    let u = proportion(&o, "u", 0.1, true)?;
    let s = proportion(&o, "s", u, false)?;
    let mut terms = Map::new();
    for t in RegionTerm::ALL {
        let (s_min, v) = t.minimizer(u);
        let at_s = t.value(u, s);
        terms.insert(
            t.key().to_string(),
            json!({"s_min": s_min, "min": v, "at_s": if at_s.is_finite() { json!(at_s) } else { Value::Null }}),
        );
    }
    Ok(json!({"u": u, "s": s, "terms": terms}).to_string())
}

/// `dicelens grad`: every loss's `N·∂L/∂z` for a foreground and a background pixel.
fn grad(args: &[String]) -> Result<String, String> {
    let o = Opts::parse(args, &["u", "pfg", "pbg", "lambda", "T", "temp"], &[])?;
    let p = view_params(&o)?;
    let grads = dicelens_core::pixel_gradients(p.grad_params()).map_err(|e| e.to_string())?;
    let finite = |v: f64| if v.is_finite() { json!(v) } else { Value::Null };
    let mut m = Map::new();
    for (loss, [fg, bg]) in grads {
        m.insert(
            loss.key().to_string(),
            json!({"fg": finite(fg), "bg": finite(bg)}),
        );
    }
    Ok(serde_json::to_string_pretty(&Value::Object(m)).expect("JSON of numbers"))
}

fn pytorch(args: &[String]) -> Result<String, String> {
    let o = Opts::parse(args, &["preset", "lambda", "T"], &[])?;
    let key = o
        .values
        .get("preset")
        .map(String::as_str)
        .unwrap_or("paper");
    let conv = dicelens_core::Convention::from_key(key)
        .ok_or_else(|| format!("--preset must be paper, monai, smp or nnunet, got '{key}'"))?;
    let mut p = ViewParams::default();
    for k in ["lambda", "T"] {
        if o.values.contains_key(k) {
            p.set(k, o.number(k, 0.0)?).map_err(|e| format!("--{e}"))?;
        }
    }
    Ok(dicelens_core::pytorch::pytorch_snippet(
        conv, p.lambda, p.temp,
    ))
}

fn figure(args: &[String]) -> Result<String, String> {
    let names: Vec<&str> = ViewId::ALL.iter().map(|v| v.key()).collect();
    let (name, rest) = args
        .split_first()
        .ok_or_else(|| format!("figure needs a view name ({})", names.join(", ")))?;
    let view = ViewId::from_key(name)
        .ok_or_else(|| format!("unknown figure '{name}' (figures: {})", names.join(", ")))?;
    let o = Opts::parse(
        rest,
        &state_keys(&["out", "width", "height", "scale"]),
        &["dark"],
    )?;
    let p = view_params(&o)?;
    let out = o.required("out")?;
    let width = o.number("width", 800.0)?;
    let height = o.number("height", 500.0)?;
    let scale = o.number("scale", 1.0)?;
    if !(200.0..=4000.0).contains(&width) || !(150.0..=4000.0).contains(&height) {
        return Err("--width must be in 200..4000 and --height in 150..4000".into());
    }
    if !(0.5..=4.0).contains(&scale) {
        return Err("--scale must be in 0.5..4".into());
    }
    let lower = out.to_ascii_lowercase();
    if !(lower.ends_with(".svg") || lower.ends_with(".png") || lower.ends_with(".csv")) {
        return Err(format!("--out '{out}' must end in .svg, .png or .csv"));
    }
    let fig = Figure::compute(view, &p)?;
    let bytes = if lower.ends_with(".csv") {
        fig.csv().into_bytes()
    } else {
        let style = PlotStyle {
            dark: o.flag("dark"),
            ..PlotStyle::default()
        };
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (width as u32, height as u32))
                .into_drawing_area();
            fig.draw(&root, &style)?;
        }
        if lower.ends_with(".svg") {
            svg.into_bytes()
        } else {
            svg_to_png(&svg, scale)?
        }
    };
    std::fs::write(out, bytes).map_err(|e| format!("cannot write '{out}': {e}"))?;
    Ok(String::new())
}

/// The option names that set view state (the app's URL keys), plus `extra`.
fn state_keys<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut valued: Vec<&str> = dicelens_plot::query::KEYS.to_vec();
    valued.extend(dicelens_plot::query::ALIASES.map(|(alias, _)| alias));
    valued.extend(extra);
    valued
}

/// The view state given by the options: the app's URL keys, ranges and defaults, read by the
/// same codec as the page's address (strict: a bad value is refused, not clamped).
fn view_params(o: &Opts) -> Result<ViewParams, String> {
    ViewParams::from_query(&|k: &str| o.values.get(k).cloned(), QueryMode::Strict)
        .map(|(p, _)| p)
        .map_err(|e| format!("--{e}"))
}

/// `dicelens explain --view VIEW [state keys]`: the view's generated sentences, as JSON.
fn explain(args: &[String]) -> Result<String, String> {
    let names: Vec<&str> = ViewId::ALL.iter().map(|v| v.key()).collect();
    let o = Opts::parse(args, &state_keys(&["view"]), &[])?;
    let name = o.required("view")?;
    let view = ViewId::from_key(name)
        .ok_or_else(|| format!("unknown view '{name}' (views: {})", names.join(", ")))?;
    let p = view_params(&o)?;
    let claims = dicelens_plot::explain::explain(view, &p)?;
    let sentences: Vec<Value> = claims
        .iter()
        .filter(|c| !c.text.is_empty())
        .map(|c| json!(c.text))
        .collect();
    Ok(
        serde_json::to_string_pretty(&json!({ "view": name, "sentences": sentences }))
            .expect("JSON of strings"),
    )
}

/// Rasterises an SVG with resvg (system fonts, DejaVu Sans for `sans-serif`).
fn svg_to_png(svg: &str, scale: f64) -> Result<Vec<u8>, String> {
    use resvg::{tiny_skia, usvg};
    let mut opt = usvg::Options::default();
    {
        let db = opt.fontdb_mut();
        db.load_system_fonts();
        db.set_sans_serif_family("DejaVu Sans");
    }
    let tree = usvg::Tree::from_str(svg, &opt).map_err(|e| format!("SVG to PNG: {e}"))?;
    let size = tree
        .size()
        .to_int_size()
        .scale_by(scale as f32)
        .ok_or("bad PNG size")?;
    let mut pixmap =
        tiny_skia::Pixmap::new(size.width(), size.height()).ok_or("cannot allocate the PNG")?;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale as f32, scale as f32),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| format!("PNG encoding: {e}"))
}
