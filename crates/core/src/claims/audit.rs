//! Claims of the data view ("audit your own segmentation"): your images' sizes, your
//! model's size bias per size bin, and what the toy model predicts for images of your sizes.

use super::{fmt_param, fmt_ratio, Claim, Fact, Side};
use crate::audit::{AuditReport, BinSummary};
use crate::family::FamilyLoss;

fn shown(subject: impl Into<String>, value: f64, text: String) -> Fact {
    Fact::Shown {
        subject: subject.into(),
        value,
        shown: text,
    }
}

/// How a bin is named in prose.
pub fn bin_phrase(name: &str) -> &'static str {
    match name {
        "small" => "small (u < 2%)",
        "medium" => "medium (2% ≤ u < 10%)",
        _ => "large (u ≥ 10%)",
    }
}

/// The toy model's losses the caption names, with their prose names.
pub const TOY_LOSSES: [(FamilyLoss, &str); 3] = [
    (FamilyLoss::DiceFg, "Dice's (foreground)"),
    (FamilyLoss::DiceMean, "two-class mean Dice's"),
    (FamilyLoss::Ce, "CE's"),
];

/// Two ratios below this apart are not compared in prose.
pub const COMPARE_TOL: f64 = 1e-9;

fn bin_claim(b: &BinSummary) -> Option<Claim> {
    let (soft, hard) = (b.ratio_soft?, b.ratio_hard?);
    let (ts, th) = (fmt_ratio(soft), fmt_ratio(hard));
    let (ss, sh) = (Side::of_ratio(soft), Side::of_ratio(hard));
    let subject = format!("{} bin", b.name);
    Some(Claim {
        text: format!(
            "On your {} objects ({} of them), your model's soft size {} (mean ŝ/u = {ts}) and \
             its thresholded size {} (mean = {th}).",
            bin_phrase(b.name),
            b.n,
            ss.phrase(),
            sh.phrase()
        ),
        facts: vec![
            Fact::Side {
                subject: format!("{subject} soft"),
                ratio: soft,
                side: ss,
            },
            Fact::Side {
                subject: format!("{subject} hard"),
                ratio: hard,
                side: sh,
            },
            shown(format!("{subject} soft"), soft, ts),
            shown(format!("{subject} hard"), hard, th),
            shown(format!("{subject} n"), b.n as f64, b.n.to_string()),
        ],
    })
}

/// The sentences of the data view for report `r`.
pub fn audit_claims(r: &AuditReport) -> Vec<Claim> {
    let mut out = Vec::new();
    let present = r.sizes.len() - r.absent;
    let counts: Vec<usize> = r.bins.iter().map(|b| b.n).collect();
    let mut facts = vec![
        shown("images", r.n_images as f64, r.n_images.to_string()),
        shown("present", present as f64, present.to_string()),
    ];
    let mut parts = Vec::new();
    for b in &r.bins {
        parts.push(format!("{} {}", b.n, b.name));
        facts.push(shown(format!("{} n", b.name), b.n as f64, b.n.to_string()));
    }
    let absent = if r.absent > 0 {
        facts.push(shown("absent", r.absent as f64, r.absent.to_string()));
        format!(
            " ({} image–class pairs have no foreground and are left out)",
            r.absent
        )
    } else {
        String::new()
    };
    debug_assert_eq!(counts.iter().sum::<usize>(), present);
    out.push(Claim {
        text: format!(
            "{} images, {} foreground regions by size: {}{absent}.",
            r.n_images,
            present,
            parts.join(", ")
        ),
        facts,
    });
    if r.metrics.is_some() {
        out.extend(r.bins.iter().filter_map(bin_claim));
        let (small, large) = (r.bin("small"), r.bin("large"));
        if let (Some(a), Some(b)) = (
            small.and_then(|b| b.ratio_soft),
            large.and_then(|b| b.ratio_soft),
        ) {
            let (ta, tb) = (fmt_ratio(a), fmt_ratio(b));
            // Ratios that print alike are not called larger or smaller.
            if (a - b).abs() > COMPARE_TOL && ta != tb {
                let (word, hi, lo) = if a > b {
                    ("larger", a, b)
                } else {
                    ("smaller", b, a)
                };
                out.push(Claim {
                    text: format!(
                        "Your model's soft ŝ/u is {word} on small objects than on large ones \
                         ({ta} against {tb})."
                    ),
                    facts: vec![
                        Fact::Greater {
                            subject: format!("small vs large soft ratio ({word})"),
                            a: hi,
                            b: lo,
                        },
                        shown("small soft", a, ta),
                        shown("large soft", b, tb),
                    ],
                });
            }
        }
    }
    let p = r.toy_params;
    let mut phrases = Vec::new();
    let mut facts = Vec::new();
    for (loss, name) in TOY_LOSSES {
        let Some(ratio) = r.toy_ratio(loss) else {
            continue;
        };
        let side = Side::of_ratio(ratio);
        let t = fmt_ratio(ratio);
        phrases.push(format!("{name} optimum {} (ŝ*/u = {t})", side.phrase()));
        facts.push(Fact::Side {
            subject: format!("toy {}", loss.key()),
            ratio,
            side,
        });
        facts.push(shown(format!("toy {}", loss.key()), ratio, t));
    }
    if !phrases.is_empty() {
        let (k, s) = (fmt_param(p.kappa), fmt_param(p.sigma));
        facts.push(shown("kappa", p.kappa, k.clone()));
        facts.push(shown("sigma", p.sigma, s.clone()));
        out.push(Claim {
            text: format!(
                "In DiceLens's toy model (κ = {k}, σ = {s}), on data sized like yours, \
                 averaged over your histogram of u: {}.",
                phrases.join("; ")
            ),
            facts,
        });
    }
    out
}
