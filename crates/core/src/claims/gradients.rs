//! Claims of the `gradients` view: how hard each loss pushes one pixel's logit, at the state.
//!
//! Every number comes from [`crate::gradients`]; every relation a sentence states ("as hard",
//! "grows like 1/u", "stays at", "pushes down") is chosen by those numbers and carried as a
//! [`Fact`]. Fact subjects name the quantity (`grad-ce-fg`, `ratio-dice-fg-ce`, …) so that a
//! test can recompute each by another route.

use super::{fmt_param, fmt_prop, fmt_ratio, Claim, Fact};
use crate::error::LossError;
use crate::family::FamilyLoss;
use crate::gradients::{pixel_gradient, GradParams};
use crate::losses::PROPORTION_EPS;

/// The small and the large `u` of the growth sentence.
pub const GROWTH_U: (f64, f64) = (0.001, 0.1);
/// The growth a `1/u` law gives between the two `u` of [`GROWTH_U`].
pub const ONE_OVER_U_GROWTH: f64 = GROWTH_U.1 / GROWTH_U.0;
/// Gradients smaller than this in size are printed as "|·| < 0.0001".
const TINY: f64 = 1e-4;

/// A gradient for prose: 4 significant digits in plain decimals (at most 12 decimals).
pub fn fmt_grad(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let mag = v.abs().log10().floor() as i32;
    let decimals = (3 - mag).clamp(0, 12) as usize;
    let s = format!("{v:.decimals$}");
    // Rounding can carry into a new digit (9.9996 → "10.000"): one decimal fewer then.
    let carried = s
        .parse::<f64>()
        .is_ok_and(|r| r.abs() >= 10f64.powi(mag + 1));
    if carried && decimals > 0 {
        let d = decimals - 1;
        format!("{v:.d$}")
    } else {
        s
    }
}

fn shown(subject: &str, value: f64, text: String) -> Fact {
    Fact::Shown {
        subject: subject.into(),
        value,
        shown: text,
    }
}

fn greater(subject: &str, a: f64, b: f64) -> Fact {
    Fact::Greater {
        subject: subject.into(),
        a,
        b,
    }
}

/// A printed gradient and its fact (tiny values as "|·| < 0.0001").
fn grad_phrase(subject: &str, v: f64, facts: &mut Vec<Fact>) -> String {
    if v != 0.0 && v.abs() < TINY {
        facts.push(greater(subject, TINY, v.abs()));
        "|·| < 0.0001".into()
    } else {
        let s = fmt_grad(v);
        facts.push(shown(subject, v, s.clone()));
        s
    }
}

/// Two proportions printed with enough decimals to tell them apart (at most 12).
fn fmt_apart(a: f64, b: f64) -> (String, String) {
    let (sa, sb) = (fmt_prop(a), fmt_prop(b));
    if sa != sb || a == b {
        return (sa, sb);
    }
    super::fmt_apart_by(a, b, 4..=12, |x, d| format!("{x:.d$}"))
}

/// The caption of the `gradients` view at `p` (see the module docs).
pub fn gradients(p: GradParams) -> Result<Vec<Claim>, LossError> {
    let g = |l: FamilyLoss, u: f64| pixel_gradient(GradParams { u, ..p }, l);
    let ce = g(FamilyLoss::Ce, p.u)?;
    let dice = g(FamilyLoss::DiceFg, p.u)?;
    let mut out = Vec::new();

    // 1. The foreground pixel at the current u.
    {
        let r = dice[0] / ce[0];
        let mut facts = vec![
            shown("u", p.u, fmt_prop(p.u)),
            shown("p_fg", p.p_fg, fmt_param(p.p_fg)),
            shown("ratio-dice-fg-ce", r, fmt_ratio(r)),
            greater("grad-ce-fg raises the logit", 0.0, ce[0]),
            greater("grad-dice-fg raises the logit", 0.0, dice[0]),
        ];
        let gd = grad_phrase("grad-dice-fg-fg", dice[0], &mut facts);
        let gc = grad_phrase("grad-ce-fg", ce[0], &mut facts);
        let how = if r > 1.0 {
            facts.push(greater("ratio-dice-fg-ce above 1", r, 1.0));
            format!("{} as hard", fmt_ratio(r))
        } else {
            facts.push(greater("ratio-dice-fg-ce below 1", 1.0, r));
            format!("only {} as hard", fmt_ratio(r))
        };
        out.push(Claim {
            text: format!(
                "At u = {}, a foreground pixel predicting p_fg = {} has its logit pushed \
                 up {how} by foreground Dice as by CE (N·∂L/∂z = {gd} against {gc}).",
                fmt_prop(p.u),
                fmt_param(p.p_fg),
            ),
            facts,
        });
    }

    // 2. How the foreground pixel's push grows as the structure shrinks.
    {
        let (lo, hi) = GROWTH_U;
        let d_lo = g(FamilyLoss::DiceFg, lo)?[0];
        let d_hi = g(FamilyLoss::DiceFg, hi)?[0];
        let c_lo = g(FamilyLoss::Ce, lo)?[0];
        let c_hi = g(FamilyLoss::Ce, hi)?[0];
        let growth = d_lo / d_hi;
        let mut facts = vec![
            shown("growth-dice-fg", growth, fmt_ratio(growth)),
            greater(
                "growth-dice-fg below the 1/u law",
                ONE_OVER_U_GROWTH,
                growth,
            ),
            Fact::Equal {
                subject: "grad-ce-fg is the same at both u".into(),
                a: c_lo,
                b: c_hi,
                tol: 1e-12,
            },
        ];
        let gc = grad_phrase("grad-ce-fg", c_lo, &mut facts);
        let how = if growth >= 0.5 * ONE_OVER_U_GROWTH {
            facts.push(greater(
                "growth-dice-fg near the 1/u law",
                growth,
                0.5 * ONE_OVER_U_GROWTH,
            ));
            "close to the 100× of a 1/u law".to_string()
        } else {
            facts.push(greater(
                "growth-dice-fg far below the 1/u law",
                0.5 * ONE_OVER_U_GROWTH,
                growth,
            ));
            let fp = (1.0 - lo) * p.p_bg;
            let share = fp / (lo + GradParams { u: lo, ..p }.s_hat());
            let (fp_s, share_s) = (fmt_prop(fp), format!("{:.0}%", 100.0 * share));
            facts.push(shown("false-positive mass at u = 0.001", fp, fp_s.clone()));
            facts.push(shown(
                "false-positive share of Y + S",
                share,
                share_s.clone(),
            ));
            format!(
                "short of the 100× of a 1/u law (at u = 0.001 the background's soft false \
                 positives (1 − u)·p_bg = {fp_s} make up {share_s} of Dice's denominator Y + S)"
            )
        };
        out.push(Claim {
            text: format!(
                "From u = 0.1 to u = 0.001 that push grows {} under foreground Dice while CE's \
                 stays at {gc}: {how}.",
                fmt_ratio(growth),
            ),
            facts,
        });
    }

    // 3. The background pixel.
    {
        let mut facts = vec![
            shown("p_bg", p.p_bg, fmt_param(p.p_bg)),
            greater("grad-ce-bg lowers the logit", ce[1], 0.0),
            greater("grad-dice-fg-bg lowers the logit", dice[1], 0.0),
        ];
        let gc = grad_phrase("grad-ce-bg", ce[1], &mut facts);
        let gd = grad_phrase("grad-dice-fg-bg", dice[1], &mut facts);
        out.push(Claim {
            text: format!(
                "A background pixel predicting p_bg = {} is pushed down by both: N·∂L/∂z = {gc} \
                 under CE, {gd} under foreground Dice.",
                fmt_param(p.p_bg)
            ),
            facts,
        });
    }

    // 4. The region terms of CE+L1 and CE+KL: one sign for every pixel.
    {
        let l1 = g(FamilyLoss::CeL1, p.u)?;
        let kl = g(FamilyLoss::CeKl, p.u)?;
        let extras = [
            ("extra-ce-l1-fg", l1[0] - ce[0]),
            ("extra-ce-kl-fg", kl[0] - ce[0]),
            ("extra-ce-l1-bg", l1[1] - ce[1]),
            ("extra-ce-kl-bg", kl[1] - ce[1]),
        ];
        let mut facts = Vec::new();
        let text = if p.lambda == 0.0 {
            for (s, e) in extras {
                facts.push(Fact::Equal {
                    subject: s.into(),
                    a: e,
                    b: 0.0,
                    tol: 0.0,
                });
            }
            "With λ = 0, CE+L1 and CE+KL push every pixel exactly as CE does.".to_string()
        } else {
            // The proportion the region terms read (SegLossBias's eps), as `region_loss` does.
            let st = (p.s_hat_t() * p.pixels + PROPORTION_EPS) / (p.pixels + PROPORTION_EPS);
            let (mut st_s, mut u_s) = fmt_apart(st, p.u);
            // Alike to the 12 decimals `fmt_apart` goes to: printed short, and said so.
            let alike = st_s == u_s && st != p.u;
            if alike {
                (st_s, u_s) = (fmt_prop(st), fmt_prop(p.u));
                facts.push(Fact::Equal {
                    subject: "s_hat_t and u agree to 12 decimals".into(),
                    a: st,
                    b: p.u,
                    tol: 1e-12,
                });
            }
            facts.push(shown("s_hat_t", st, st_s.clone()));
            facts.push(shown("u", p.u, u_s.clone()));
            let t = fmt_param(p.temp);
            if st == p.u {
                facts.push(Fact::Equal {
                    subject: "s_hat_t at u".into(),
                    a: st,
                    b: p.u,
                    tol: 0.0,
                });
                format!(
                    "At T = {t}, ŝ_T = {st_s} equals u exactly: CE+L1's |ŝ_T − u| is at its \
                     kink and adds nothing."
                )
            } else {
                let above = st > p.u;
                // KL's sign follows from its own eps'd proportions; both agree with ŝ_T − u
                // except within rounding of the kink.
                // A side is named only where the printed numbers show it (they can agree to
                // the 12 decimals `fmt_apart` goes to).
                let agree = !alike && extras.iter().all(|(_, e)| *e == 0.0 || (*e > 0.0) == above);
                if agree {
                    facts.push(if above {
                        greater("s_hat_t above u", st, p.u)
                    } else {
                        greater("s_hat_t below u", p.u, st)
                    });
                }
                let mut any_zero = false;
                for (s, e) in extras {
                    if !agree {
                        break;
                    }
                    if e == 0.0 {
                        any_zero = true;
                        facts.push(Fact::Equal {
                            subject: s.into(),
                            a: e,
                            b: 0.0,
                            tol: 0.0,
                        });
                    } else if above {
                        facts.push(greater(s, e, 0.0));
                    } else {
                        facts.push(greater(s, 0.0, e));
                    }
                }
                let mut ph = Vec::new();
                for (s, e) in extras {
                    ph.push(grad_phrase(s, e, &mut facts));
                }
                let adds = format!(
                    "they add {} and {} to a foreground pixel's N·∂L/∂z, {} and {} to a \
                     background pixel's",
                    ph[0], ph[1], ph[2], ph[3]
                );
                if alike {
                    format!(
                        "At T = {t}, ŝ_T = {st_s} and u = {u_s} agree to 12 decimals; the region \
                         terms of CE+L1 and CE+KL: {adds}."
                    )
                } else if !agree {
                    format!(
                        "At T = {t}, ŝ_T = {st_s} is within rounding of u = {u_s}; the region \
                         terms of CE+L1 and CE+KL: {adds}."
                    )
                } else {
                    let (side, dir, never) = if above {
                        ("above", "down", "up")
                    } else {
                        ("below", "up", "down")
                    };
                    let push = if any_zero {
                        format!("push no logit {never}")
                    } else {
                        format!("push every logit {dir}")
                    };
                    format!(
                        "At T = {t}, ŝ_T = {st_s} is {side} u = {u_s}, so the region terms of \
                         CE+L1 and CE+KL {push}: {adds}."
                    )
                }
            }
        };
        out.push(Claim { text, facts });
    }
    Ok(out)
}
