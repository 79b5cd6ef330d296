//! The trainer's URL codec: its `tr…` keys (docs/URL.md, "Trainer keys") to [`Settings`] and
//! back. Ranges, defaults and the names in messages come from the core's table
//! ([`fields`]). Reading is lenient ([`settings_from_query`]: clamp or keep the default, with a
//! notice) or strict ([`settings_from_query_strict`]: refuse with the messages). Writing gives
//! the key–value pairs of the settings that differ from the defaults
//! ([`settings_to_query`]); the app's one URL writer puts [`pairs`] in the address bar.

use dicelens_core::train::fields::{fmt_num, FieldSpec, Kind};
use dicelens_core::train::{ModelKind, OptimizerKind};
use dicelens_plot::trainer::RUNS;

use super::settings::{fields, RunLoss, RunSetting, Settings};

/// The longest URL value read; longer ones are refused with a notice.
pub const MAX_URL_VALUE: usize = 64;

/// The runs' losses, comma-separated.
pub const KEY_LOSS: &str = "trloss";
/// The model.
pub const KEY_MODEL: &str = "trmodel";
/// The optimizer.
pub const KEY_OPT: &str = "tropt";
/// Cosine decay, 0 or 1.
pub const KEY_COS: &str = "trcos";

/// Every key of the trainer, in the order they are written.
pub const KEYS: [&str; 14] = [
    KEY_LOSS,
    fields::LAMBDA.key,
    fields::TEMP.key,
    KEY_MODEL,
    KEY_OPT,
    fields::LR.key,
    KEY_COS,
    fields::BATCH.key,
    fields::STEPS.key,
    fields::SEED.key,
    fields::SIZE.key,
    fields::CLASSES.key,
    fields::NOISE.key,
    fields::BLUR.key,
];

/// A value read from the URL: what it says is wrong, and the value used instead (`None`:
/// the setting keeps its default).
struct Problem {
    what: String,
    replacement: Option<f64>,
}

/// Reads one number of a table field; `Err` says why it cannot be used as given.
fn read_number(f: &FieldSpec, v: &str) -> Result<f64, Problem> {
    let refuse = |what: String| Problem {
        what,
        replacement: None,
    };
    let (lo, hi) = (fmt_num(f.lo), fmt_num(f.hi));
    let t = v.trim();
    let parsed = t.parse::<f64>().ok().filter(|x| x.is_finite());
    match (f.kind, parsed) {
        (Kind::Choice(values), _) => match parsed {
            Some(x) if values.contains(&x) => Ok(x),
            _ => Err(refuse(format!(
                "is not one of {}",
                values
                    .iter()
                    .map(|x| fmt_num(*x))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        },
        (Kind::Int, Some(x)) if x.fract() == 0.0 => match f.clamp(x) {
            Some(c) if c == x => Ok(x),
            c => Err(Problem {
                what: format!("is outside {lo}…{hi}"),
                replacement: c,
            }),
        },
        (Kind::Int, _) => Err(refuse("is not a whole number".into())),
        (Kind::Real, Some(x)) => match f.clamp(x) {
            Some(c) if c == x => Ok(x),
            Some(c) => Err(Problem {
                what: format!("is outside [{lo}, {hi}]"),
                replacement: Some(c),
            }),
            None => Err(refuse(format!("must be > {lo}"))),
        },
        (Kind::Real, None) => Err(refuse("is not a number".into())),
    }
}

/// Reads the settings; `strict` words the notices as refusals ("… is outside 1…256.")
/// instead of repairs ("… is outside 1…256; using 256."). Never panics.
fn parse(get: &dyn Fn(&str) -> Option<String>, strict: bool) -> (Settings, Vec<String>) {
    let mut s = Settings::default();
    let mut notices = Vec::new();
    // A notice about `key=v`, ending with what is used instead (lenient mode only).
    let say = |n: &mut Vec<String>, head: String, used: String| {
        n.push(if strict {
            format!("{head}.")
        } else {
            format!("{head}; {used}.")
        })
    };
    let raw = |key: &str, n: &mut Vec<String>| -> Option<String> {
        let v = get(key)?;
        if v.len() > MAX_URL_VALUE {
            let head = format!("URL value {key} is {} characters long", v.len());
            say(n, head, "kept the default".into());
            return None;
        }
        Some(v)
    };
    // A number of a table field; the current value `kept` when refused.
    let num = |n: &mut Vec<String>, f: &FieldSpec, v: &str, kept: f64| -> f64 {
        match read_number(f, v) {
            Ok(x) => x,
            Err(p) => {
                let used = p.replacement.unwrap_or(kept);
                let head = format!("URL value {}={v} {}", f.key, p.what);
                say(n, head, format!("using {}", fmt_num(used)));
                used
            }
        }
    };
    let pick = |n: &mut Vec<String>, key: &str, v: &str, allowed: &[&str], d: &str| -> String {
        let t = v.trim().to_ascii_lowercase();
        if allowed.contains(&t.as_str()) {
            t
        } else {
            let head = format!("URL value {key}={v} is not one of {}", allowed.join(", "));
            say(n, head, format!("using {d}"));
            d.to_string()
        }
    };
    let n = &mut notices;
    if let Some(v) = raw(KEY_LOSS, n) {
        let parts: Vec<&str> = v.split(',').collect();
        if parts.len() > RUNS {
            let head = format!("URL value {KEY_LOSS}={v} names more than {RUNS} runs");
            say(n, head, format!("using the first {RUNS}"));
        }
        for (i, run) in s.runs.iter_mut().enumerate() {
            match parts.get(i) {
                None => run.loss = RunLoss::Off,
                Some(p) => match RunLoss::parse(p) {
                    Some(l) => run.loss = l,
                    None => {
                        let head = format!(
                            "URL value {KEY_LOSS}: '{}' is not a loss (off, ce, bce, dice, \
                             log-dice, dice-ce, ce-l1, ce-kl)",
                            p.trim()
                        );
                        say(n, head, format!("run {} uses {}", i + 1, run.loss.key()));
                    }
                },
            }
        }
    }
    // λ and T: one value for every run, or one per run.
    for f in [&fields::LAMBDA, &fields::TEMP] {
        let Some(v) = raw(f.key, n) else { continue };
        let parts: Vec<&str> = v.split(',').collect();
        if parts.len() > RUNS {
            let head = format!("URL value {}={v} has more than {RUNS} values", f.key);
            say(n, head, format!("using the first {RUNS}"));
        }
        for i in 0..RUNS {
            let p = if parts.len() == 1 {
                parts[0]
            } else {
                parts.get(i).copied().unwrap_or("")
            };
            if p.is_empty() && parts.len() > 1 {
                continue;
            }
            let kept = s.get(f, i);
            let x = num(n, f, p, kept);
            s.set(f, i, x);
        }
    }
    if let Some(v) = raw(KEY_MODEL, n) {
        let k = pick(n, KEY_MODEL, &v, &["cnn8", "logistic5"], s.model.key());
        s.model = ModelKind::parse(&k).unwrap_or(s.model);
    }
    if let Some(v) = raw(KEY_OPT, n) {
        let k = pick(n, KEY_OPT, &v, &["adam", "sgd"], s.optimizer.key());
        s.optimizer = OptimizerKind::parse(&k).unwrap_or(s.optimizer);
    }
    if let Some(v) = raw(fields::LR.key, n) {
        s.lr = num(n, &fields::LR, &v, s.lr);
    }
    if let Some(v) = raw(KEY_COS, n) {
        s.cosine = pick(n, KEY_COS, &v, &["0", "1"], "0") == "1";
    }
    for f in [
        &fields::BATCH,
        &fields::STEPS,
        &fields::SEED,
        &fields::SIZE,
        &fields::CLASSES,
        &fields::NOISE,
        &fields::BLUR,
    ] {
        if let Some(v) = raw(f.key, n) {
            let kept = s.get(f, 0);
            let x = num(n, f, &v, kept);
            s.set(f, 0, x);
        }
    }
    // One notice for a value applied to every run.
    notices.dedup();
    (s, notices)
}

/// Reads the trainer's settings from URL values (`get` returns the raw value of a key).
/// Values out of range are clamped, malformed ones refused (the default is kept); either way
/// a notice says what happened. Never panics.
pub fn settings_from_query(get: &dyn Fn(&str) -> Option<String>) -> (Settings, Vec<String>) {
    parse(get, false)
}

/// Reads the trainer's settings from URL values, refusing any value that is not usable as
/// given: the messages say which and why. Never panics. (For callers that must not repair,
/// such as a host's `dicelens:set`; the page itself reads leniently.)
#[cfg_attr(not(test), allow(dead_code))]
pub fn settings_from_query_strict(
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings, Vec<String>> {
    let (s, problems) = parse(get, true);
    if problems.is_empty() {
        Ok(s)
    } else {
        Err(problems)
    }
}

/// The trainer's URL keys and values for `s`, only where a setting differs from its default
/// (so a page whose trainer was never touched keeps a short URL). Keys of [`KEYS`] that are
/// not in the list are to be removed.
pub fn settings_to_query(s: &Settings) -> Vec<(&'static str, String)> {
    let d = Settings::default();
    let mut out = Vec::new();
    if s.runs.iter().zip(&d.runs).any(|(a, b)| a.loss != b.loss) {
        let mut losses: Vec<&str> = s.runs.iter().map(|r| r.loss.key()).collect();
        while losses.len() > 1 && losses.last() == Some(&"off") {
            losses.pop();
        }
        out.push((KEY_LOSS, losses.join(",")));
    }
    for (f, get) in [
        (
            &fields::LAMBDA,
            (|r: &RunSetting| r.lambda) as fn(&RunSetting) -> f64,
        ),
        (&fields::TEMP, |r: &RunSetting| r.temp),
    ] {
        if s.runs.iter().zip(&d.runs).any(|(a, b)| get(a) != get(b)) {
            let v: Vec<f64> = s.runs.iter().map(get).collect();
            let text = if v.iter().all(|&x| x == v[0]) {
                format!("{}", v[0])
            } else {
                v.iter()
                    .map(|x| format!("{x}"))
                    .collect::<Vec<_>>()
                    .join(",")
            };
            out.push((f.key, text));
        }
    }
    if s.model != d.model {
        out.push((KEY_MODEL, s.model.key().to_string()));
    }
    if s.optimizer != d.optimizer {
        out.push((KEY_OPT, s.optimizer.key().to_string()));
    }
    if s.lr != d.lr {
        out.push((fields::LR.key, format!("{}", s.lr)));
    }
    if s.cosine != d.cosine {
        out.push((KEY_COS, if s.cosine { "1" } else { "0" }.to_string()));
    }
    for f in [
        &fields::BATCH,
        &fields::STEPS,
        &fields::SEED,
        &fields::SIZE,
        &fields::CLASSES,
        &fields::NOISE,
        &fields::BLUR,
    ] {
        let v = s.get(f, 0);
        if v != d.get(f, 0) {
            out.push((f.key, format!("{v}")));
        }
    }
    out
}

/// The settings in the page's URL, with notices about values that were not usable as given.
pub fn read() -> (Settings, Vec<String>) {
    settings_from_query(&crate::url::initial_getter())
}

/// The trainer's keys for the one URL writer ([`crate::url`]): only the non-default ones.
pub fn pairs(s: &Settings) -> crate::url::Pairs {
    settings_to_query(s)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn getter<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.to_string())
        }
    }

    fn from(pairs: &[(&str, &str)]) -> (Settings, Vec<String>) {
        settings_from_query(&getter(pairs))
    }

    #[test]
    fn url_keys_round_trip_and_defaults_stay_out_of_the_url() {
        assert!(settings_to_query(&Settings::default()).is_empty());
        let (s, notices) = from(&[
            ("trloss", "ce,logdice,off,cekl"),
            ("trlambda", "0.5,1,1,2"),
            ("trtemp", "3"),
            ("trmodel", "logistic5"),
            ("tropt", "sgd"),
            ("trlr", "0.05"),
            ("trcos", "1"),
            ("trbatch", "8"),
            ("trsteps", "900"),
            ("trseed", "7"),
            ("trsize", "64"),
            ("trclasses", "3"),
            ("trnoise", "0.5"),
            ("trblur", "2"),
        ]);
        assert_eq!(notices, Vec::<String>::new());
        let losses: Vec<RunLoss> = s.runs.iter().map(|r| r.loss).collect();
        assert_eq!(
            losses,
            [RunLoss::Ce, RunLoss::LogDice, RunLoss::Off, RunLoss::CeKl]
        );
        assert_eq!(s.runs[3].lambda, 2.0);
        assert!(s.runs.iter().all(|r| r.temp == 3.0));
        assert_eq!(
            (s.model, s.optimizer, s.lr, s.cosine),
            (ModelKind::Logistic5, OptimizerKind::Sgd, 0.05, true)
        );
        assert_eq!((s.batch, s.steps, s.seed), (8, 900, 7));
        assert_eq!((s.size, s.classes, s.noise, s.blur), (64, 3, 0.5, 2.0));
        let written = settings_to_query(&s);
        let pairs: Vec<(&str, &str)> = written.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert!(pairs.contains(&("trloss", "ce,log-dice,off,ce-kl")));
        assert!(pairs.contains(&("trtemp", "3")));
        assert!(pairs.iter().all(|(k, _)| KEYS.contains(k)));
        let (again, notices) = from(&pairs);
        assert!(notices.is_empty());
        assert_eq!(again, s);
        assert_eq!(settings_from_query_strict(&getter(&pairs)), Ok(s));
    }

    #[test]
    fn bad_url_values_are_clamped_or_refused_with_notices() {
        let long = "9".repeat(100);
        let (s, notices) = from(&[
            ("trloss", "ce,nope"),
            ("trlr", "0"),
            ("trbatch", "1e9"),
            ("trsteps", "2.5"),
            ("trseed", "-3"),
            ("trtemp", "NaN"),
            ("trlambda", "1,,500"),
            ("trsize", "33"),
            ("trnoise", &long),
        ]);
        let d = Settings::default();
        assert_eq!(
            (s.runs[0].loss, s.runs[1].loss, s.runs[2].loss),
            (RunLoss::Ce, RunLoss::Dice, RunLoss::Off)
        );
        assert_eq!((s.lr, s.batch, s.steps, s.seed), (d.lr, 256, d.steps, 0));
        assert_eq!(
            (s.runs[0].temp, s.runs[1].lambda, s.runs[2].lambda),
            (10.0, 1.0, 100.0)
        );
        assert_eq!((s.size, s.noise), (32, d.noise));
        let all = notices.join("\n");
        for part in [
            "'nope' is not a loss",
            "trlr=0 must be > 0; using 0.01",
            "trbatch=1e9 is outside 1…256; using 256",
            "trsteps=2.5 is not a whole number",
            "trseed=-3 is outside",
            "trtemp=NaN is not a number",
            "trlambda=500 is outside [0, 100]; using 100",
            "trsize=33 is not one of 32, 64; using 32",
            "trnoise is 100 characters long",
        ] {
            assert!(all.contains(part), "missing {part:?} in\n{all}");
        }
        // One notice for T applied to every run.
        assert_eq!(all.matches("trtemp=NaN").count(), 1);
        // Strict: the same problems, refused, with no repair announced.
        let strict =
            settings_from_query_strict(&getter(&[("trbatch", "1e9"), ("trlr", "0")])).unwrap_err();
        assert_eq!(
            strict,
            vec![
                "URL value trlr=0 must be > 0.".to_string(),
                "URL value trbatch=1e9 is outside 1…256.".to_string()
            ]
        );
    }

    /// Every key of the table is read and written, lenient and strict, at both ends of its
    /// range and just outside.
    #[test]
    fn every_table_key_reads_its_range() {
        for f in fields::FIELDS {
            let inside = [f.lo, f.hi, f.default];
            for x in inside {
                if !f.allows(x) {
                    continue; // an open lower end
                }
                let v = format!("{x}");
                let (s, n) = from(&[(f.key, &v)]);
                assert!(n.is_empty(), "{}={v}: {n:?}", f.key);
                assert_eq!(s.get(&f, 0), x, "{}={v}", f.key);
                assert!(settings_from_query_strict(&getter(&[(f.key, &v)])).is_ok());
            }
            for x in [f.lo - 1.0, f.hi + 1.0] {
                let v = format!("{x}");
                let (s, n) = from(&[(f.key, &v)]);
                assert_eq!(n.len(), 1, "{}={v}", f.key);
                assert!(
                    f.allows(s.get(&f, 0)),
                    "{}={v} gave {}",
                    f.key,
                    s.get(&f, 0)
                );
                assert!(settings_from_query_strict(&getter(&[(f.key, &v)])).is_err());
            }
        }
    }

    /// A small splitmix64.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            dicelens_core::train::rng::splitmix64(&mut self.0)
        }
    }

    /// Random text: bytes (lossily UTF-8), numbers of every shape, separators.
    fn junk(r: &mut Rng) -> String {
        const PIECES: [&str; 16] = [
            "1", "0", "-", ".", "e", "9", ",", " ", "nan", "inf", "ce", "dice", "%", "∞", "64",
            "1e308",
        ];
        match r.next() % 3 {
            0 => {
                let n = (r.next() % 12) as usize;
                let bytes: Vec<u8> = (0..n).map(|_| r.next() as u8).collect();
                String::from_utf8_lossy(&bytes).into_owned()
            }
            1 => (0..(r.next() % 8))
                .map(|_| PIECES[(r.next() % 16) as usize])
                .collect(),
            _ => format!("{}", f64::from_bits(r.next())),
        }
    }

    /// Whatever the URL holds: no panic, every value in range, and a value that is not the
    /// one given comes with a notice (lenient) or a refusal (strict).
    #[test]
    fn random_values_never_panic_and_land_in_range_or_say_so() {
        let mut rng = Rng(12);
        for key in KEYS {
            for _ in 0..2_000 {
                let v = junk(&mut rng);
                let pairs = [(key, v.as_str())];
                let (s, notices) = from(&pairs);
                for f in fields::FIELDS {
                    for i in 0..RUNS {
                        assert!(
                            f.allows(s.get(&f, i)),
                            "{key}={v:?}: {} out of range",
                            f.key
                        );
                    }
                }
                for i in 0..RUNS {
                    if let Some(cfg) = s.train_config(i) {
                        assert!(cfg.validate().is_ok(), "{key}={v:?}");
                    }
                }
                assert!(s.data_config().validate().is_ok(), "{key}={v:?}");
                let strict = settings_from_query_strict(&getter(&pairs));
                match &strict {
                    Ok(t) => {
                        assert!(notices.is_empty(), "{key}={v:?}");
                        assert_eq!(t, &s);
                    }
                    Err(m) => assert!(!m.is_empty() && !notices.is_empty(), "{key}={v:?}"),
                }
                // A numeric value that was used as given is what it says.
                if let Some(f) = fields::by_key(key) {
                    // (Empty entries of a per-run list keep their run's value.)
                    if notices.is_empty() && !v.contains(',') {
                        let x: f64 = v
                            .trim()
                            .parse()
                            .unwrap_or_else(|_| panic!("{key}={v:?} accepted"));
                        assert!((0..RUNS).any(|i| s.get(f, i) == x), "{key}={v:?}");
                    }
                }
            }
        }
    }
}
