//! The one codec of the theory views' parameters: URL query, `dicelens:set` messages and the
//! CLI's options all read [`ViewParams`] through [`ViewParams::apply_query`], and the page's
//! address, share links and `dicelens:state` messages all write it with
//! [`ViewParams::to_query`].
//!
//! Two modes:
//! - [`Mode::Lenient`] (the page, the embed bridge): a bad value is clamped into its range or
//!   ignored, and a notice says which and why; the other keys still apply.
//! - [`Mode::Strict`] (the CLI): the first bad value is refused with a message.
//!
//! Nothing here panics, whatever the input: long values are refused before they are parsed.

use dicelens_core::pooled::BatchSizes;
use dicelens_core::{simplex_point, Convention, FamilyLoss, SimplexTerm};

use crate::figure::{param, ViewParams, LANDSCAPE_SHOWN, PARAMS};

/// How a bad value is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Clamp or ignore, with a notice.
    Lenient,
    /// Refuse with a message.
    Strict,
}

/// The longest value read; longer ones are refused (a 10 kB value gets a notice, not a parse).
pub const MAX_VALUE_LEN: usize = 64;

/// Every key the codec reads and writes, in the order [`ViewParams::to_query`] writes them.
pub const KEYS: [&str; 22] = [
    "u", "s", "kappa", "sigma", "lambda", "T", "c", "a", "p", "pfg", "pbg", "norm", "u3", "s3",
    "term", "preset", "l1", "l2", "amb", "adam", "sizes", "ball",
];

/// Another name a key is read under (the CLI's `--temp` for `T`).
pub const ALIASES: [(&str, &str); 1] = [("temp", "T")];

/// One value that could not be used as given.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The key.
    pub key: &'static str,
    /// The value as given; `None` when longer than [`MAX_VALUE_LEN`] (not repeated back).
    pub raw: Option<String>,
    /// Why it is not usable as given ("is outside [0, 1]").
    pub why: String,
    /// What the lenient mode did instead ("using 1"), if anything.
    pub instead: String,
}

impl Problem {
    /// The lenient mode's notice: `URL value u=2 is outside [0.001, 0.999]; using 0.999.`
    pub fn notice(&self) -> String {
        format!("URL value {} {}; {}.", self.given(), self.why, self.instead)
    }

    /// `key=value`, or only the key when the value is too long to repeat.
    fn given(&self) -> String {
        match &self.raw {
            Some(r) => format!("{}={r}", self.key),
            None => self.key.to_string(),
        }
    }

    /// The strict mode's refusal: `u=2 is outside [0.001, 0.999]`.
    pub fn refusal(&self) -> String {
        format!("{} {}", self.given(), self.why)
    }
}

/// Rounds to 4 significant digits for short, stable URLs.
pub fn round_sig(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    // Through the decimal text, so subnormal and huge values round too (a power of ten
    // would overflow to inf at 1e-320 and give NaN).
    format!("{v:.3e}").parse().unwrap_or(v)
}

/// A number for the URL: 4 significant digits, in scientific notation when shorter (so
/// 1e-320 is not written as 322 characters).
pub fn fmt_num(v: f64) -> String {
    let r = round_sig(v);
    let plain = format!("{r}");
    let sci = format!("{r:e}");
    if sci.len() < plain.len() {
        sci
    } else {
        plain
    }
}

/// Formats a triple for the URL, so that reading it back (renormalised onto the simplex) and
/// writing it again gives the same text: a shared link does not drift on each reload.
pub fn fmt_triple(v: [f64; 3]) -> String {
    let text = |t: [f64; 3]| format!("{},{},{}", fmt_num(t[0]), fmt_num(t[1]), fmt_num(t[2]));
    let mut t = v;
    for _ in 0..8 {
        let written = text(t);
        match parse_triple(&written) {
            Ok((back, _)) if text(back) == written => return written,
            Ok((back, _)) => t = back,
            Err(_) => return written,
        }
    }
    text(t)
}

fn problem(key: &'static str, raw: &str, why: impl Into<String>, instead: String) -> Problem {
    Problem {
        key,
        raw: (raw.len() <= MAX_VALUE_LEN).then(|| raw.to_string()),
        why: why.into(),
        instead,
    }
}

/// A number in `[lo, hi]`: `Ok(v)`, or the clamped value with the problem, or only the problem.
fn number(key: &'static str, raw: &str, lo: f64, hi: f64) -> Result<f64, (Option<f64>, Problem)> {
    if raw.len() > MAX_VALUE_LEN {
        let why = format!("is {} characters long", raw.len());
        return Err((None, problem(key, raw, why, String::new())));
    }
    match raw.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => {
            let c = v.clamp(lo, hi);
            if c == v {
                Ok(v)
            } else {
                let why = format!("is outside [{lo}, {hi}]");
                Err((Some(c), problem(key, raw, why, format!("using {c}"))))
            }
        }
        _ => Err((None, problem(key, raw, "is not a number", String::new()))),
    }
}

/// How far from 1 a triple's sum may be and still be taken as given (renormalised without a
/// word): the slop of values written with 4 significant digits.
pub const SUM_TOLERANCE: f64 = 1e-3;

/// Three comma-separated proportions renormalised onto the simplex: the triple and, when it
/// did not sum to 1, a note saying so; `Err` with the reason when unusable.
pub fn parse_triple(raw: &str) -> Result<([f64; 3], Option<String>), String> {
    if raw.len() > MAX_VALUE_LEN {
        return Err(format!("is {} characters long", raw.len()));
    }
    let parts: Vec<Option<f64>> = raw
        .split(',')
        .map(|x| x.trim().parse::<f64>().ok())
        .collect();
    match parts.as_slice() {
        [Some(a), Some(b), Some(c)] => match simplex_point("proportions", [*a, *b, *c]) {
            Ok(v) => {
                // Exactly as given when it sums to 1 up to rounding, so `0.6,0.3,0.1` stays
                // those three numbers.
                let v = if (a + b + c - 1.0).abs() <= 1e-12 {
                    [*a, *b, *c]
                } else {
                    v
                };
                let note = ((a + b + c - 1.0).abs() > SUM_TOLERANCE)
                    .then(|| format!("rescaled to ({:.3}, {:.3}, {:.3})", v[0], v[1], v[2]));
                Ok((v, note))
            }
            Err(e) => Err(format!("is not usable ({e})")),
        },
        _ => Err("is not three comma-separated numbers".into()),
    }
}

/// A dropped ball `b,ln t` inside the landscapes' shown range.
pub fn parse_ball(raw: &str) -> Option<(f64, f64)> {
    if raw.len() > MAX_VALUE_LEN {
        return None;
    }
    let mut it = raw.split(',').map(|x| x.trim().parse::<f64>().ok());
    let (b, lt) = (it.next()??, it.next()??);
    let inside = |v: f64, r: (f64, f64)| v.is_finite() && v >= r.0 - 1e-9 && v <= r.1 + 1e-9;
    (it.next().is_none() && inside(b, LANDSCAPE_SHOWN.b) && inside(lt, LANDSCAPE_SHOWN.log_t))
        .then_some((b, lt))
}

/// A flag `0` / `1` (the CLI also takes `true` / `false`).
fn flag(raw: &str) -> Option<bool> {
    match raw.trim() {
        "1" | "true" => Some(true),
        "0" | "false" => Some(false),
        _ => None,
    }
}

/// A mutable reference to the numeric field of `key` (one of [`PARAMS`]).
fn slot<'a>(p: &'a mut ViewParams, key: &str) -> Option<&'a mut f64> {
    Some(match key {
        "u" => &mut p.u,
        "s" => &mut p.s,
        "kappa" => &mut p.kappa,
        "sigma" => &mut p.sigma,
        "lambda" => &mut p.lambda,
        "T" => &mut p.temp,
        "c" => &mut p.c,
        "a" => &mut p.a,
        "p" => &mut p.p,
        "pfg" => &mut p.pfg,
        "pbg" => &mut p.pbg,
        _ => return None,
    })
}

impl ViewParams {
    /// The numeric parameter `key` (one of [`PARAMS`]).
    pub fn get(&self, key: &str) -> Option<f64> {
        let mut copy = *self;
        slot(&mut copy, key).map(|v| *v)
    }

    /// Sets the numeric parameter `key` (one of [`PARAMS`]); refuses an unknown key or a value
    /// outside its range.
    pub fn set(&mut self, key: &str, v: f64) -> Result<(), String> {
        let spec = param(key).ok_or_else(|| format!("unknown parameter '{key}'"))?;
        if !(v.is_finite() && (spec.lo..=spec.hi).contains(&v)) {
            return Err(format!(
                "{key} must lie in [{}, {}], got {v}",
                spec.lo, spec.hi
            ));
        }
        if let Some(s) = slot(self, key) {
            *s = v;
        }
        Ok(())
    }

    /// The parameters `get` has (query keys and values as strings, [`KEYS`] or an alias),
    /// applied onto `self`; keys `get` does not have keep their value.
    ///
    /// Lenient: every usable value is applied, bad ones are clamped or ignored, and the
    /// returned problems say which. Strict: `Err` with the first problem, `self` untouched.
    pub fn apply_query(
        &mut self,
        get: &dyn Fn(&str) -> Option<String>,
        mode: Mode,
    ) -> Result<Vec<Problem>, String> {
        let mut next = *self;
        let mut problems = Vec::new();
        let read = |key: &str| {
            get(key).or_else(|| {
                ALIASES
                    .iter()
                    .find(|(_, k)| *k == key)
                    .and_then(|(alias, _)| get(alias))
            })
        };
        for spec in PARAMS.iter() {
            let Some(raw) = read(spec.key) else { continue };
            let Some(field) = slot(&mut next, spec.key) else {
                continue;
            };
            match number(spec.key, &raw, spec.lo, spec.hi) {
                Ok(v) => *field = v,
                Err((clamped, mut pr)) => {
                    match clamped {
                        Some(c) => *field = c,
                        None => pr.instead = format!("keeping {}", round_sig(*field)),
                    }
                    problems.push(pr);
                }
            }
        }
        if let Some(raw) = read("norm") {
            match flag(&raw) {
                Some(b) => next.normalized = b,
                None => problems.push(problem(
                    "norm",
                    &raw,
                    "is not 0 or 1",
                    format!("keeping {}", u8::from(next.normalized)),
                )),
            }
        }
        for (key, field) in [("u3", &mut next.u3), ("s3", &mut next.s3)] {
            let Some(raw) = read(key) else { continue };
            let key = if key == "u3" { "u3" } else { "s3" };
            match parse_triple(&raw) {
                Ok((v, note)) => {
                    *field = v;
                    if let Some(instead) = note {
                        // Rescaled with a notice (lenient) or refused (strict).
                        problems.push(problem(key, &raw, "does not sum to 1", instead));
                    }
                }
                Err(why) => problems.push(problem(
                    key,
                    &raw,
                    why,
                    format!("keeping {}", fmt_triple(*field)),
                )),
            }
        }
        if let Some(raw) = read("term") {
            match SimplexTerm::from_key(raw.trim()) {
                Some(t) => next.term = t,
                None => problems.push(problem(
                    "term",
                    &raw,
                    "is not one of kl, dice, l1",
                    format!("keeping {}", next.term.key()),
                )),
            }
        }
        if let Some(raw) = read("preset") {
            match Convention::from_key(raw.trim()) {
                Some(c) => next.preset = c,
                None => problems.push(problem(
                    "preset",
                    &raw,
                    "is not one of paper, monai, smp, nnunet",
                    format!("keeping {}", next.preset.key()),
                )),
            }
        }
        for (j, key) in ["l1", "l2"].into_iter().enumerate() {
            let Some(raw) = read(key) else { continue };
            match FamilyLoss::ALL.into_iter().find(|l| l.key() == raw.trim()) {
                Some(l) => next.land_losses[j] = l,
                None => problems.push(problem(
                    key,
                    &raw,
                    format!(
                        "is not a loss ({})",
                        FamilyLoss::ALL.map(|l| l.key()).join(", ")
                    ),
                    format!("keeping {}", next.land_losses[j].key()),
                )),
            }
        }
        for key in ["amb", "adam"] {
            let Some(raw) = read(key) else { continue };
            let field = if key == "amb" {
                &mut next.land_amb
            } else {
                &mut next.adam
            };
            match flag(&raw) {
                Some(b) => *field = b,
                None => problems.push(problem(
                    key,
                    &raw,
                    "is not 0 or 1",
                    format!("keeping {}", u8::from(*field)),
                )),
            }
        }
        if let Some(raw) = read("sizes") {
            let parsed = if raw.len() > MAX_VALUE_LEN {
                Err(format!("is {} characters long", raw.len()))
            } else {
                BatchSizes::parse(&raw).map_err(|e| {
                    format!("is not 2 to 12 comma-separated proportions in [0.001, 0.5] ({e})")
                })
            };
            match parsed {
                Ok(v) => next.sizes = v,
                Err(why) => problems.push(problem(
                    "sizes",
                    &raw,
                    why,
                    format!("keeping {}", next.sizes.key()),
                )),
            }
        }
        if let Some(raw) = read("ball") {
            match parse_ball(&raw) {
                Some(b) => next.ball = Some(b),
                None => {
                    let (b, lt) = (LANDSCAPE_SHOWN.b, LANDSCAPE_SHOWN.log_t);
                    problems.push(problem(
                        "ball",
                        &raw,
                        format!(
                            "is not a point b,ln t inside [{}, {}] × [{:.2}, {:.2}]",
                            b.0, b.1, lt.0, lt.1
                        ),
                        if next.ball.is_some() {
                            "keeping the ball where it was".into()
                        } else {
                            "no ball dropped".into()
                        },
                    ))
                }
            }
        }
        if mode == Mode::Strict {
            if let Some(p) = problems.first() {
                return Err(p.refusal());
            }
        }
        *self = next;
        Ok(problems)
    }

    /// Parameters from a query onto the defaults (see [`ViewParams::apply_query`]).
    pub fn from_query(
        get: &dyn Fn(&str) -> Option<String>,
        mode: Mode,
    ) -> Result<(Self, Vec<Problem>), String> {
        let mut p = Self::default();
        let problems = p.apply_query(get, mode)?;
        Ok((p, problems))
    }

    /// The parameters as query keys and values, in [`KEYS`] order (the ball only when
    /// dropped). Numbers are rounded to 4 significant digits.
    pub fn to_query(&self) -> Vec<(&'static str, String)> {
        let mut out: Vec<(&'static str, String)> = PARAMS
            .iter()
            .map(|p| {
                let v = self.get(p.key).unwrap_or(p.default);
                (p.key, fmt_num(v))
            })
            .collect();
        out.push(("norm", u8::from(self.normalized).to_string()));
        out.push(("u3", fmt_triple(self.u3)));
        out.push(("s3", fmt_triple(self.s3)));
        out.push(("term", self.term.key().into()));
        out.push(("preset", self.preset.key().into()));
        out.push(("l1", self.land_losses[0].key().into()));
        out.push(("l2", self.land_losses[1].key().into()));
        out.push(("amb", u8::from(self.land_amb).to_string()));
        out.push(("adam", u8::from(self.adam).to_string()));
        out.push(("sizes", self.sizes.key()));
        if let Some((b, lt)) = self.ball {
            out.push(("ball", format!("{},{}", fmt_num(b), fmt_num(lt))));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_pairs(
        pairs: &[(&str, &str)],
        mode: Mode,
    ) -> Result<(ViewParams, Vec<Problem>), String> {
        let owned: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ViewParams::from_query(
            &|k: &str| owned.iter().find(|(q, _)| q == k).map(|(_, v)| v.clone()),
            mode,
        )
    }

    /// A tiny deterministic generator (splitmix64).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            dicelens_core::train::rng::splitmix64(&mut self.0)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Strings a URL or a host page might carry: numbers near and outside every range, junk,
    /// unicode, huge values, separators.
    fn random_value(r: &mut Rng) -> String {
        const PIECES: [&str; 24] = [
            "0", "1", "-1", "0.5", "1e308", "-1e308", "NaN", "inf", "-inf", "1e-320", ",", " ",
            ".", "e", "x", "ü", "🙂", "%20", "kl", "ce", "monai", "0.001", "999", "\u{0}",
        ];
        match r.below(5) {
            0 => format!("{}", (r.unit() - 0.25) * 30.0),
            1 => format!("{},{},{}", r.unit(), r.unit() - 0.1, r.unit()),
            2 => "9".repeat(r.below(200)),
            3 => (0..r.below(5))
                .map(|_| format!("{}", r.unit()))
                .collect::<Vec<_>>()
                .join(","),
            _ => (0..r.below(8))
                .map(|_| PIECES[r.below(PIECES.len())])
                .collect(),
        }
    }

    fn assert_in_schema(p: &ViewParams, ctx: &str) {
        for spec in PARAMS {
            let v = p.get(spec.key).unwrap();
            assert!(
                v.is_finite() && (spec.lo..=spec.hi).contains(&v),
                "{ctx}: {} = {v} outside [{}, {}]",
                spec.key,
                spec.lo,
                spec.hi
            );
        }
        for t in [p.u3, p.s3] {
            assert!(t.iter().all(|x| x.is_finite() && *x >= 0.0), "{ctx}: {t:?}");
            assert!((t.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{ctx}: {t:?}");
        }
        if let Some((b, lt)) = p.ball {
            assert!(b.is_finite() && lt.is_finite(), "{ctx}");
        }
    }

    #[test]
    fn defaults_round_trip_and_every_key_is_written() {
        let p = ViewParams::default();
        let q = p.to_query();
        let written: Vec<&str> = q.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            written,
            KEYS[..KEYS.len() - 1].to_vec(),
            "no ball by default"
        );
        let (back, problems) = from_pairs(
            &q.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>(),
            Mode::Strict,
        )
        .unwrap();
        assert!(problems.is_empty());
        assert_eq!(back, p);
        for spec in PARAMS {
            assert_eq!(p.get(spec.key), Some(spec.default), "{}", spec.key);
        }
    }

    #[test]
    fn lenient_clamps_with_a_notice_and_strict_refuses() {
        let (p, problems) = from_pairs(&[("u", "2"), ("s", "0.4")], Mode::Lenient).unwrap();
        assert_eq!(p.u, 0.999);
        assert_eq!(p.s, 0.4, "the other keys still apply");
        assert_eq!(
            problems[0].notice(),
            "URL value u=2 is outside [0.001, 0.999]; using 0.999."
        );
        let err = from_pairs(&[("u", "2"), ("s", "0.4")], Mode::Strict).unwrap_err();
        assert_eq!(err, "u=2 is outside [0.001, 0.999]");
        let (p, problems) = from_pairs(&[("kappa", "abc")], Mode::Lenient).unwrap();
        assert_eq!(p.kappa, ViewParams::default().kappa);
        assert_eq!(
            problems[0].notice(),
            "URL value kappa=abc is not a number; keeping 0.5."
        );
        let (p, _) = from_pairs(&[("temp", "3")], Mode::Strict).unwrap();
        assert_eq!(p.temp, 3.0, "the CLI's alias");
        let (p, problems) = from_pairs(&[("u3", "2,1,1")], Mode::Lenient).unwrap();
        assert_eq!(p.u3, [0.5, 0.25, 0.25]);
        assert!(problems[0].notice().contains("rescaled"));
        assert_eq!(
            from_pairs(&[("u3", "2,1,1")], Mode::Strict).unwrap_err(),
            "u3=2,1,1 does not sum to 1"
        );
        // The slop of 4 significant digits is renormalised without a word.
        let (p, problems) = from_pairs(&[("s3", "0.5923,0.07079,0.337")], Mode::Strict).unwrap();
        assert!(problems.is_empty());
        assert!((p.s3.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        for (k, v) in [
            ("term", "x"),
            ("preset", "pytorch"),
            ("l1", "dice"),
            ("amb", "yes"),
            ("norm", "2"),
            ("sizes", "0.1"),
            ("ball", "99,99"),
            ("u3", "1,2"),
        ] {
            let (p, problems) = from_pairs(&[(k, v)], Mode::Lenient).unwrap();
            assert_eq!(p, ViewParams::default(), "{k}={v} leaves the state");
            assert_eq!(problems.len(), 1, "{k}={v}");
            assert!(problems[0]
                .notice()
                .starts_with(&format!("URL value {k}={v} ")));
            assert!(from_pairs(&[(k, v)], Mode::Strict).is_err(), "{k}={v}");
        }
    }

    /// 10,000 random queries: lenient parsing never panics, always lands inside the schema,
    /// reports a problem exactly when a value was not taken as given, and what it writes
    /// reads back to the same state; strict parsing accepts exactly the queries without a
    /// problem.
    #[test]
    fn ten_thousand_random_queries_stay_inside_the_schema() {
        let mut r = Rng(0x00D1_CE1E);
        let all_keys: Vec<&str> = KEYS.iter().copied().chain(["temp", "zzz"]).collect();
        for case in 0..10_000 {
            let n = 1 + r.below(6);
            let pairs: Vec<(String, String)> = (0..n)
                .map(|_| {
                    (
                        all_keys[r.below(all_keys.len())].to_string(),
                        random_value(&mut r),
                    )
                })
                .collect();
            let get = |k: &str| pairs.iter().find(|(q, _)| q == k).map(|(_, v)| v.clone());
            let ctx = format!("case {case}: {pairs:?}");
            let (p, problems) = ViewParams::from_query(&get, Mode::Lenient).expect(&ctx);
            assert_in_schema(&p, &ctx);
            for pr in &problems {
                assert!(
                    pr.raw.as_ref().is_none_or(|r| r.len() <= MAX_VALUE_LEN),
                    "{ctx}"
                );
                assert!(
                    !pr.why.is_empty() && !pr.instead.is_empty(),
                    "{ctx}: {pr:?}"
                );
            }
            match ViewParams::from_query(&get, Mode::Strict) {
                Ok((q, none)) => {
                    assert!(none.is_empty());
                    assert_eq!(q, p, "{ctx}: strict and lenient agree on a clean query");
                    assert!(problems.is_empty(), "{ctx}: {problems:?}");
                }
                Err(e) => assert!(
                    problems.iter().any(|pr| e == pr.refusal()),
                    "{ctx}: {e} not among {problems:?}"
                ),
            }
            // What the page writes reads back strictly to the same state (4 significant digits).
            let written = p.to_query();
            let get2 = |k: &str| {
                written
                    .iter()
                    .find(|(q, _)| *q == k)
                    .map(|(_, v)| v.clone())
            };
            let (back, none) = ViewParams::from_query(&get2, Mode::Strict).expect(&ctx);
            assert!(none.is_empty(), "{ctx}");
            assert_eq!(back.to_query(), written, "{ctx}: written twice, same query");
        }
    }
}
