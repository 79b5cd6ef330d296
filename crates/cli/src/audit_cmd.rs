//! `dicelens audit`: the data view's audit of label maps and predictions, as JSON.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use dicelens_core::audit::{
    audit_arrays, example_set, losses_csv, AuditConfig, AuditReport, ExampleKind, NpyPlan,
    PredKind, HEADER_PREFIX,
};
use dicelens_core::claims::audit::audit_claims;
use dicelens_core::npy::{write_i64, write_raw};
use dicelens_core::{LossKind, RegionConfig};
use serde_json::{json, Map, Value};

use super::Opts;

const VALUED: &[&str] = &[
    "labels",
    "logits",
    "probs",
    "lambda",
    "temp",
    "kappa",
    "sigma",
    "example",
    "write-labels",
    "write-logits",
    "losses-csv",
];

fn opt(x: Option<f64>) -> Value {
    x.filter(|v| v.is_finite()).map_or(Value::Null, Value::from)
}

/// An open file and its length.
struct Source {
    file: File,
    len: u64,
    path: String,
}

impl Source {
    fn open(path: &str, what: &str) -> Result<Self, String> {
        let file =
            File::open(path).map_err(|e| format!("cannot read {what} file '{path}': {e}"))?;
        let len = file
            .metadata()
            .map_err(|e| format!("cannot read {what} file '{path}': {e}"))?
            .len();
        Ok(Self {
            file,
            len,
            path: path.to_string(),
        })
    }

    fn read(&mut self, start: u64, len: usize) -> Result<Vec<u8>, String> {
        let mut buf = vec![0u8; len];
        self.file
            .seek(SeekFrom::Start(start))
            .and_then(|_| self.file.read_exact(&mut buf))
            .map_err(|e| format!("cannot read '{}': {e}", self.path))?;
        Ok(buf)
    }

    fn prefix(&mut self) -> Result<Vec<u8>, String> {
        let n = (self.len as usize).min(HEADER_PREFIX);
        if self.len > dicelens_core::audit::MAX_FILE_BYTES {
            // Refused by NpyPlan from the length alone; read nothing.
            return Ok(Vec::new());
        }
        self.read(0, n)
    }
}

/// Streams the files image by image through the core's audit.
fn audit_files(
    labels: &str,
    preds: Option<(&str, PredKind)>,
    cfg: AuditConfig,
) -> Result<AuditReport, String> {
    let mut ys = Source::open(labels, "labels")?;
    let mut ps = match preds {
        Some((p, _)) => Some(Source::open(p, "predictions")?),
        None => None,
    };
    let kind = preds.map_or(PredKind::Logits, |p| p.1);
    let yp = ys.prefix()?;
    let pp = match ps.as_mut() {
        Some(s) => Some((s.prefix()?, s.len)),
        None => None,
    };
    let plan = NpyPlan::new(
        &yp,
        ys.len,
        pp.as_ref().map(|(b, l)| (b.as_slice(), *l)),
        kind,
    )
    .map_err(|e| e.to_string())?;
    let mut a = plan.auditor(cfg).map_err(|e| e.to_string())?;
    for i in 0..plan.n_images {
        let r = plan.labels_range(i);
        let y = plan.labels_image(&ys.read(r.start, (r.end - r.start) as usize)?);
        let p = match (ps.as_mut(), plan.preds_range(i)) {
            (Some(s), Some(r)) => {
                Some(plan.preds_image(&s.read(r.start, (r.end - r.start) as usize)?))
            }
            _ => None,
        };
        a.add(&y, p.as_deref()).map_err(|e| e.to_string())?;
    }
    a.finish().map_err(|e| e.to_string())
}

/// The JSON object `dicelens audit` prints.
pub fn report_json(r: &AuditReport) -> Value {
    let mut bins = Map::new();
    for b in &r.bins {
        bins.insert(
            b.name.into(),
            json!({"n": b.n, "lo": b.lo, "hi": b.hi, "ratio_soft": opt(b.ratio_soft), "ratio_hard": opt(b.ratio_hard)}),
        );
    }
    let m = r.metrics.as_ref();
    let losses = r.losses.as_ref().map_or(Value::Null, |l| {
        let mut o = Map::new();
        for (j, kind) in LossKind::ALL.iter().enumerate() {
            o.insert(kind.key(l.mode).into(), opt(l.values[j]));
        }
        Value::Object(o)
    });
    let per_image: Vec<Value> = (0..r.n_images)
        .map(|i| {
            let u: Vec<f64> = r
                .sizes
                .iter()
                .filter(|s| s.image == i)
                .map(|s| s.u)
                .collect();
            let mut o = Map::new();
            o.insert("image".into(), json!(i));
            o.insert("u".into(), json!(u));
            if let Some(m) = m {
                let pts: Vec<_> = m.points.iter().filter(|p| p.image == i).collect();
                o.insert(
                    "soft".into(),
                    json!(pts.iter().map(|p| p.soft).collect::<Vec<_>>()),
                );
                o.insert(
                    "hard".into(),
                    json!(pts.iter().map(|p| p.hard).collect::<Vec<_>>()),
                );
            }
            if let Some(l) = r.losses.as_ref() {
                let row = &l.per_image[i];
                let mut lv = Map::new();
                let mut rv = Map::new();
                for (j, kind) in LossKind::ALL.iter().enumerate() {
                    lv.insert(kind.key(l.mode).into(), opt(row.values[j]));
                    rv.insert(kind.key(l.mode).into(), opt(row.region[j]));
                }
                o.insert("losses".into(), Value::Object(lv));
                o.insert("region_terms".into(), Value::Object(rv));
            }
            Value::Object(o)
        })
        .collect();
    let mut toy = Map::new();
    for t in &r.toy {
        toy.insert(t.loss.key().into(), opt(t.ratio));
    }
    let reliability: Vec<Value> = m.map_or(Vec::new(), |m| {
        m.reliability
            .iter()
            .map(|b| json!({"center": b.center, "confidence": opt(b.confidence), "accuracy": opt(b.accuracy), "count": b.count}))
            .collect()
    });
    let hist: Vec<Value> = r
        .hist
        .iter()
        .map(|b| json!({"lo": b.lo, "hi": b.hi, "count": b.count}))
        .collect();
    let sentences: Vec<Value> = audit_claims(r)
        .into_iter()
        .filter(|c| !c.text.is_empty())
        .map(|c| json!(c.text))
        .collect();
    json!({
        "n_images": r.n_images,
        "height": r.height,
        "width": r.width,
        "classes": r.classes,
        "preds": r.pred_kind.map(|k| k.key()),
        "channels": r.channels,
        "bins": bins,
        "ece": opt(m.and_then(|m| m.ece)),
        "dice": opt(m.and_then(|m| m.dice)),
        "iou": opt(m.and_then(|m| m.iou)),
        "saturated": opt(m.and_then(|m| m.saturated)),
        "losses": losses,
        "lambda": r.region.lambda,
        "temperature": r.region.temp,
        "absent": r.absent,
        "hist": hist,
        "reliability": reliability,
        "toy": {"kappa": r.toy_params.kappa, "sigma": r.toy_params.sigma, "ratios": toy},
        "per_image": per_image,
        "sentences": sentences,
    })
}

/// `dicelens audit`.
pub fn audit(args: &[String]) -> Result<String, String> {
    let o = Opts::parse(args, VALUED, &[])?;
    let defaults = AuditConfig::default();
    let mut cfg = AuditConfig {
        region: RegionConfig {
            lambda: o.number("lambda", defaults.region.lambda)?,
            temp: o.number("temp", defaults.region.temp)?,
        },
        ..defaults
    };
    cfg.toy.kappa = o.number("kappa", cfg.toy.kappa)?;
    cfg.toy.sigma = o.number("sigma", cfg.toy.sigma)?;
    if !(0.0..=10.0).contains(&cfg.toy.kappa) || !(0.0..=10.0).contains(&cfg.toy.sigma) {
        return Err("--kappa and --sigma must lie in [0, 10]".into());
    }
    let report = if let Some(name) = o.values.get("example") {
        for key in ["labels", "logits", "probs"] {
            if o.values.contains_key(key) {
                return Err(format!("--example and --{key} exclude each other"));
            }
        }
        let kind = ExampleKind::parse(name)
            .ok_or_else(|| format!("--example must be ce or dice, got '{name}'"))?;
        let set = example_set(kind).map_err(|e| e.to_string())?;
        let (b, k, h, w) = set.logits.dim();
        if let Some(path) = o.values.get("write-labels") {
            let y: Vec<i64> = set.labels.iter().copied().collect();
            std::fs::write(path, write_i64(&[b, h, w], &y))
                .map_err(|e| format!("cannot write '{path}': {e}"))?;
        }
        if let Some(path) = o.values.get("write-logits") {
            let z: Vec<u8> = set.logits.iter().flat_map(|v| v.to_le_bytes()).collect();
            std::fs::write(path, write_raw("<f4", &[b, k, h, w], z))
                .map_err(|e| format!("cannot write '{path}': {e}"))?;
        }
        let z = set.logits.mapv(f64::from);
        audit_arrays(set.labels.view(), Some((z.view(), PredKind::Logits)), cfg)
            .map_err(|e| e.to_string())?
    } else {
        for key in ["write-labels", "write-logits"] {
            if o.values.contains_key(key) {
                return Err(format!("--{key} needs --example"));
            }
        }
        let labels = o.required("labels")?;
        let preds = match (o.values.get("logits"), o.values.get("probs")) {
            (Some(_), Some(_)) => return Err("give --logits or --probs, not both".into()),
            (Some(p), None) => Some((p.as_str(), PredKind::Logits)),
            (None, Some(p)) => Some((p.as_str(), PredKind::Probs)),
            (None, None) => None,
        };
        audit_files(labels, preds, cfg)?
    };
    if let Some(path) = o.values.get("losses-csv") {
        std::fs::write(path, losses_csv(&report))
            .map_err(|e| format!("cannot write '{path}': {e}"))?;
    }
    Ok(report_json(&report).to_string())
}
