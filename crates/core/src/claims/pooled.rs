//! Claims of the pooled view: per-image against pooled size matching.

use super::{fmt_param, fmt_prop, fmt_ratio, print_unit, Claim, Fact, Side};
use crate::family::FamilyLoss;
use crate::pooled::{PooledOptimum, PooledView};

fn shown(subject: impl Into<String>, value: f64, text: String) -> Fact {
    Fact::Shown {
        subject: subject.into(),
        value,
        shown: text,
    }
}

fn label(loss: FamilyLoss) -> &'static str {
    match loss {
        FamilyLoss::CeL1 => "CE+L1",
        FamilyLoss::CeKl => "CE+KL",
        _ => "CE",
    }
}

/// A spread (mean |log10 ratio|) for prose.
pub fn fmt_spread(v: f64) -> String {
    format!("{v:.3}")
}

/// Below this difference two spreads are "the same".
pub const SAME_TOL: f64 = 1e-6;

/// The indices of the smallest and the largest image.
fn extremes(sizes: &[f64]) -> (usize, usize) {
    let mut lo = 0;
    let mut hi = 0;
    for (j, &u) in sizes.iter().enumerate() {
        if u < sizes[lo] {
            lo = j;
        }
        if u > sizes[hi] {
            hi = j;
        }
    }
    (lo, hi)
}

/// The sentences of the pooled view at `v`.
pub fn pooled_claims(v: &PooledView) -> Vec<Claim> {
    let mut out = vec![Claim::plain(
        "In this model every image of the batch shares κ, σ and one output shift b (a network's \
         shared bias); each loss is averaged over the images and minimized over b.",
    )];
    let Some(ce) = v.optimum(FamilyLoss::Ce) else {
        return out;
    };
    let ubar = v.sizes.iter().sum::<f64>() / v.sizes.len().max(1) as f64;
    let pooled_txt = fmt_ratio(ce.pooled_soft);
    out.push(Claim {
        text: format!(
            "CE's pooled soft proportion {} of the batch (mean ŝ / mean u = {pooled_txt}, mean u \
             = {}): CE matches sizes over the batch.",
            Side::of_ratio(ce.pooled_soft).phrase(),
            fmt_prop(ubar)
        ),
        facts: vec![
            Fact::Side {
                subject: "ce pooled soft".into(),
                ratio: ce.pooled_soft,
                side: Side::of_ratio(ce.pooled_soft),
            },
            shown("ce pooled soft", ce.pooled_soft, pooled_txt.clone()),
            shown("mean u", ubar, fmt_prop(ubar)),
        ],
    });
    let (lo, hi) = extremes(&v.sizes);
    out.push(per_image_claim(ce, &v.sizes, lo, hi));
    let t = fmt_param(v.params.temp);
    let lam = fmt_param(v.params.lambda);
    for loss in [FamilyLoss::CeL1, FamilyLoss::CeKl] {
        let Some(o) = v.optimum(loss) else {
            continue;
        };
        out.push(spread_claim(
            o,
            ce,
            &t,
            &lam,
            v.params.temp,
            v.params.lambda,
        ));
        out.push(per_image_claim(o, &v.sizes, lo, hi));
    }
    out.push(Claim::plain(
        "Why: CE's gradient in the shared shift is the mean of ŝ_j − u_j, a balance of the \
         batch's pixel mass in which each image's error counts in pixels, not relative to its \
         size; the L1 term adds λ·sign(ŝ_T,j − u_j)·∂ŝ_T,j/∂b per image, its sign set by that \
         image's own size error, and as T grows ŝ_T,j tends to the thresholded proportion.",
    ));
    out
}

fn per_image_claim(o: &PooledOptimum, sizes: &[f64], lo: usize, hi: usize) -> Claim {
    let name = label(o.loss);
    let mut facts = Vec::new();
    let mut part = |j: usize, which: &str| {
        let side = Side::of_ratio(o.soft[j]);
        let (u_txt, s_txt, h_txt) = (
            fmt_prop(sizes[j]),
            fmt_ratio(o.soft[j]),
            fmt_ratio(o.hard[j]),
        );
        facts.push(Fact::Side {
            subject: format!("{} soft image {j}", o.loss.key()),
            ratio: o.soft[j],
            side,
        });
        facts.push(shown(format!("u_{j}"), sizes[j], u_txt.clone()));
        facts.push(shown(
            format!("{} soft {j}", o.loss.key()),
            o.soft[j],
            s_txt.clone(),
        ));
        facts.push(shown(
            format!("{} hard {j}", o.loss.key()),
            o.hard[j],
            h_txt.clone(),
        ));
        format!(
            "for the {which} image (u = {u_txt}) its soft proportion {} ({s_txt}) and its \
             thresholded one is {h_txt} u",
            side.phrase()
        )
    };
    let small = part(lo, "smallest");
    let large = part(hi, "largest");
    Claim {
        text: format!("Per image, at {name}'s optimum: {small}; {large}."),
        facts,
    }
}

fn spread_claim(
    o: &PooledOptimum,
    ce: &PooledOptimum,
    t: &str,
    lam: &str,
    temp: f64,
    lambda: f64,
) -> Claim {
    let name = label(o.loss);
    let (d_l, d_ce) = (o.hard_spread(), ce.hard_spread());
    let (l_txt, ce_txt) = (fmt_spread(d_l), fmt_spread(d_ce));
    let mut facts = vec![
        shown("T", temp, t.to_string()),
        shown("λ", lambda, lam.to_string()),
        shown(format!("{} hard spread", o.loss.key()), d_l, l_txt.clone()),
        shown("ce hard spread", d_ce, ce_txt.clone()),
    ];
    // Spreads that print alike are not called closer or farther: the reader sees one number.
    let rel = if (d_l - d_ce).abs() <= SAME_TOL {
        facts.push(Fact::Equal {
            subject: format!("hard spread {} = CE", o.loss.key()),
            a: d_l,
            b: d_ce,
            tol: SAME_TOL,
        });
        "as close to their truths as CE's"
    } else if l_txt == ce_txt {
        facts.push(Fact::Equal {
            subject: format!("hard spread {} = CE to the digits shown", o.loss.key()),
            a: d_l,
            b: d_ce,
            tol: print_unit(&l_txt),
        });
        "about as close to their truths as CE's"
    } else if d_l < d_ce {
        facts.push(Fact::Greater {
            subject: format!("hard spread CE > {}", o.loss.key()),
            a: d_ce,
            b: d_l,
        });
        "closer to their truths than CE's"
    } else {
        facts.push(Fact::Greater {
            subject: format!("hard spread {} > CE", o.loss.key()),
            a: d_l,
            b: d_ce,
        });
        "farther from their truths than CE's"
    };
    Claim {
        text: format!(
            "At T = {t}, λ = {lam}, {name} (its term summed per image) leaves the images' \
             thresholded proportions {rel}: on average {l_txt} decades off, against {ce_txt} \
             for CE."
        ),
        facts,
    }
}
