//! `dicelens train`: the browser's toy trainer, run natively, printing JSON lines.

use dicelens_core::train::fields::{self, FieldSpec};
use dicelens_core::train::{
    loss_from_name, DataConfig, Dataset, Metrics, ModelKind, OptimizerKind, Status, TrainConfig,
    Trainer,
};
use dicelens_core::RegionConfig;
use serde_json::{json, Map, Value};

use super::Opts;

/// Option names `dicelens train` accepts with a value.
const VALUED: &[&str] = &[
    "loss",
    "model",
    "steps",
    "seed",
    "data-seed",
    "lambda",
    "temp",
    "lr",
    "batch",
    "noise",
    "blur",
    "size",
    "classes",
    "every",
    "optimizer",
    "train-images",
    "test-images",
    "label-noise",
];

fn integer(o: &Opts, key: &str, default: u64, min: u64, max: u64) -> Result<u64, String> {
    match o.values.get(key) {
        None => Ok(default),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(format!(
                "--{key} must be an integer in {min}..={max}, got '{v}'"
            )),
        },
    }
}

/// A whole-number option of the trainer's [`fields`] table: its default, range and message.
fn field_int(o: &Opts, f: &FieldSpec) -> Result<u64, String> {
    integer(o, f.cli, f.default as u64, f.lo as u64, f.hi as u64)
}

/// An option that takes one of the table's values.
fn field_choice(o: &Opts, f: &FieldSpec) -> Result<u64, String> {
    let v = integer(o, f.cli, f.default as u64, 0, u64::MAX)?;
    if f.allows(v as f64) {
        Ok(v)
    } else {
        Err(format!("--{} must be {}, got {v}", f.cli, f.requirement()))
    }
}

fn opt(x: Option<f64>) -> Value {
    x.filter(|v| v.is_finite()).map_or(Value::Null, Value::from)
}

/// The metrics every JSON line carries.
fn metrics_json(m: &Metrics, train_loss: Option<f64>) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("step".into(), json!(m.step));
    o.insert("loss".into(), opt(m.loss));
    o.insert("train_loss".into(), opt(train_loss));
    o.insert("ratio_soft".into(), opt(m.ratio_soft));
    o.insert("ratio_hard".into(), opt(m.ratio_hard));
    o.insert("ratio_hard_small".into(), opt(m.ratio_hard_small));
    o.insert("dice".into(), opt(m.dice));
    o.insert("iou".into(), opt(m.iou));
    o.insert("ece".into(), opt(m.ece));
    o.insert("saturated".into(), opt(m.saturated));
    o
}

pub fn train(args: &[String]) -> Result<String, String> {
    let o = Opts::parse(args, VALUED, &["cosine"])?;
    let loss_name = o.values.get("loss").map_or("ce", String::as_str);
    let loss = loss_from_name(loss_name).ok_or_else(|| {
        format!(
            "unknown --loss '{loss_name}' (losses: ce, bce, dice, log-dice, dice-ce, ce-l1, ce-kl)"
        )
    })?;
    let model_name = o.values.get("model").map_or("cnn8", String::as_str);
    let model = ModelKind::parse(model_name)
        .ok_or_else(|| format!("unknown --model '{model_name}' (models: logistic5, cnn8)"))?;
    let opt_name = o.values.get("optimizer").map_or("adam", String::as_str);
    let optimizer = OptimizerKind::parse(opt_name)
        .ok_or_else(|| format!("unknown --optimizer '{opt_name}' (optimizers: adam, sgd)"))?;
    let steps = field_int(&o, &fields::STEPS)? as usize;
    let seed = integer(&o, "seed", 1, 0, u64::MAX)?;
    let data_seed = integer(&o, "data-seed", seed, 0, u64::MAX)?;
    let size = field_choice(&o, &fields::SIZE)?;
    let classes = field_choice(&o, &fields::CLASSES)?;
    let every = integer(&o, "every", 100, 0, 10_000_000)? as usize;
    let defaults = DataConfig::default();
    let data_cfg = DataConfig {
        size: size as usize,
        classes: classes as usize,
        train: integer(&o, "train-images", defaults.train as u64, 1, 100_000)? as usize,
        test: integer(&o, "test-images", defaults.test as u64, 1, 100_000)? as usize,
        noise: o.number("noise", fields::NOISE.default)?,
        blur: o.number("blur", fields::BLUR.default)?,
        label_noise: o.number("label-noise", defaults.label_noise)?,
        seed: data_seed,
        ..defaults
    };
    let cfg = TrainConfig {
        model,
        loss,
        // λ and T default to the core's (0.1, 1), not the app's per-run preset (1, 10).
        region: RegionConfig {
            lambda: o.number("lambda", RegionConfig::default().lambda)?,
            temp: o.number("temp", RegionConfig::default().temp)?,
        },
        optimizer,
        lr: o.number("lr", fields::LR.default)?,
        // Any whole number here: the core's check (the same table) words the refusal.
        batch: integer(&o, "batch", fields::BATCH.default as u64, 0, u64::MAX)?
            .min(usize::MAX as u64) as usize,
        steps,
        cosine: o.flag("cosine"),
        seed,
    };
    // Validate the training settings before spending time on the data.
    cfg.validate().map_err(|e| e.to_string())?;
    let data = Dataset::new(&data_cfg).map_err(|e| e.to_string())?;
    let mut run = Trainer::new(cfg, &data).map_err(|e| e.to_string())?;
    let status = loop {
        let status = run.step(&data).map_err(|e| e.to_string())?;
        if !status.is_running() {
            break status;
        }
        if every > 0 && run.steps_done() % every == 0 {
            let m = run.evaluate(&data).map_err(|e| e.to_string())?;
            println!("{}", Value::Object(metrics_json(&m, run.last_loss())));
        }
    };
    let m = run.evaluate(&data).map_err(|e| e.to_string())?;
    let mut line = metrics_json(&m, run.last_loss());
    line.insert("final".into(), json!(true));
    match &status {
        Status::Diverged(d) => {
            line.insert("status".into(), json!("diverged"));
            line.insert("diverged".into(), json!(d.to_string()));
        }
        _ => {
            line.insert("status".into(), json!("done"));
        }
    }
    line.insert("loss_name".into(), json!(loss_name));
    line.insert("model".into(), json!(model.key()));
    line.insert("lambda".into(), json!(cfg.region.lambda));
    line.insert("temperature".into(), json!(cfg.region.temp));
    let mut bins = Map::new();
    for b in &m.size_bins {
        bins.insert(
            b.name.into(),
            json!({"count": b.count, "ratio_soft": opt(b.ratio_soft), "ratio_hard": opt(b.ratio_hard)}),
        );
    }
    line.insert("size_bins".into(), Value::Object(bins));
    Ok(Value::Object(line).to_string())
}
