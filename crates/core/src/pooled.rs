//! Per image against pooled: a batch of images of different sizes under one logit-shift family.
//!
//! DiceLens's model of a network's shared output bias: every image `j` of the batch has its
//! own foreground proportion `u_j` but the same separation `κ`, noise `σ` and the **same shift
//! `b`**. A loss over the batch is the mean of the per-image losses,
//! `L(b) = (1/J) Σ_j L_j(b)`, and its optimum is one shift `b*` for the whole batch.
//!
//! CE's derivative in `b` is `(1/J) Σ_j (ŝ_j(b) − u_j)`: its optimum matches the *pooled*
//! soft proportion, `mean_j ŝ_j(b*) = mean_j u_j`, not each image's. CE+L1 / CE+KL add a term
//! per image, `λ·|ŝ_T,j − u_j|` or `λ·KL(u_j ‖ ŝ_T,j)`, which weighs each image's size error
//! by itself (the L1 gradient carries one `sign(ŝ_T,j − u_j)` per image, whatever its size).

use crate::error::LossError;
use crate::family::{Family, FamilyLoss, FamilyParams, FamilyPoint};
use crate::sweep::shift_for_fast;
use crate::temperature::grid_minimum;

/// Grid points of the batch search (within the bracket).
pub const SEARCH_POINTS: usize = 100;

/// Most images in a batch.
pub const MAX_IMAGES: usize = 12;
/// Fewest images in a batch.
pub const MIN_IMAGES: usize = 2;
/// The range of each image's foreground proportion.
pub const SIZE_RANGE: (f64, f64) = (0.001, 0.5);
/// The default batch: 8 sizes from 0.5% to 30%.
pub const DEFAULT_SIZES: [f64; 8] = [0.005, 0.01, 0.02, 0.04, 0.08, 0.12, 0.2, 0.3];
/// The losses the view compares, in legend order.
pub const POOLED_LOSSES: [FamilyLoss; 3] = [FamilyLoss::Ce, FamilyLoss::CeL1, FamilyLoss::CeKl];

/// The images' foreground proportions (2 to 12 values in [`SIZE_RANGE`]); `Copy`, so that it
/// can live in a view's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchSizes {
    len: usize,
    v: [f64; MAX_IMAGES],
}

impl Default for BatchSizes {
    fn default() -> Self {
        Self::new(&DEFAULT_SIZES).unwrap_or(Self {
            len: 0,
            v: [0.0; MAX_IMAGES],
        })
    }
}

impl BatchSizes {
    /// Validates `sizes`: 2 to 12 finite values, each in [`SIZE_RANGE`].
    pub fn new(sizes: &[f64]) -> Result<Self, String> {
        if !(MIN_IMAGES..=MAX_IMAGES).contains(&sizes.len()) {
            return Err(format!(
                "needs {MIN_IMAGES} to {MAX_IMAGES} sizes, got {}",
                sizes.len()
            ));
        }
        let (lo, hi) = SIZE_RANGE;
        let mut v = [0.0; MAX_IMAGES];
        for (j, &u) in sizes.iter().enumerate() {
            if !(u.is_finite() && (lo..=hi).contains(&u)) {
                return Err(format!("size {u} is outside [{lo}, {hi}]"));
            }
            v[j] = u;
        }
        Ok(Self {
            len: sizes.len(),
            v,
        })
    }

    /// Parses `"0.005,0.01,0.3"` (the URL / CLI form).
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.len() > 200 {
            return Err(format!("is {} characters long", raw.len()));
        }
        let parts: Result<Vec<f64>, String> = raw
            .split(',')
            .map(|x| {
                x.trim()
                    .parse::<f64>()
                    .map_err(|_| format!("'{}' is not a number", x.trim()))
            })
            .collect();
        Self::new(&parts?)
    }

    /// The sizes.
    pub fn as_slice(&self) -> &[f64] {
        &self.v[..self.len]
    }

    /// The comma-separated form [`BatchSizes::parse`] reads (shortest round-trip numbers).
    pub fn key(&self) -> String {
        self.as_slice()
            .iter()
            .map(|u| format!("{u}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// One loss's optimum over the batch.
#[derive(Debug, Clone, PartialEq)]
pub struct PooledOptimum {
    /// The loss.
    pub loss: FamilyLoss,
    /// The batch's shared minimizing shift `b*`.
    pub b: f64,
    /// Each image's soft ratio `ŝ_j(b*)/u_j`.
    pub soft: Vec<f64>,
    /// Each image's thresholded ratio `hard_j(b*)/u_j`.
    pub hard: Vec<f64>,
    /// The pooled soft ratio `mean_j ŝ_j(b*) / mean_j u_j`.
    pub pooled_soft: f64,
    /// The pooled thresholded ratio `mean_j hard_j(b*) / mean_j u_j`.
    pub pooled_hard: f64,
}

impl PooledOptimum {
    /// The mean over images of `|log10 ratio|` of the thresholded ratios (how far, on
    /// average, each image's thresholded size is from its truth, in decades).
    pub fn hard_spread(&self) -> f64 {
        mean_abs_log10(&self.hard)
    }

    /// The same for the soft ratios.
    pub fn soft_spread(&self) -> f64 {
        mean_abs_log10(&self.soft)
    }
}

/// Ratios below this count as this in [`mean_abs_log10`] (a thresholded proportion can be 0).
pub const RATIO_FLOOR: f64 = 1e-3;

/// `mean |log10 max(r, RATIO_FLOOR)|`: how many decades off, on average (at most 3 each).
pub fn mean_abs_log10(r: &[f64]) -> f64 {
    r.iter()
        .map(|x| x.max(RATIO_FLOOR).log10().abs())
        .sum::<f64>()
        / r.len().max(1) as f64
}

/// The batch: one family per image, sharing `κ, σ, λ, T`.
#[derive(Debug, Clone)]
pub struct Batch {
    sizes: Vec<f64>,
    families: Vec<Family>,
    temp: f64,
}

impl Batch {
    /// The batch of `sizes` under the family `p` (`p.u` is ignored).
    pub fn new(p: &FamilyParams, sizes: &BatchSizes) -> Result<Self, LossError> {
        let sizes = sizes.as_slice().to_vec();
        let families = sizes
            .iter()
            .map(|&u| Family::new(FamilyParams { u, temp: 1.0, ..*p }))
            .collect::<Result<Vec<_>, _>>()?;
        if families.is_empty() {
            return Err(LossError::BadParameter {
                name: "sizes",
                value: 0.0,
                reason: "needs at least one image",
            });
        }
        if !(p.temp.is_finite() && p.temp > 0.0) {
            return Err(LossError::BadParameter {
                name: "temperature",
                value: p.temp,
                reason: "must be > 0",
            });
        }
        Ok(Self {
            sizes,
            families,
            temp: p.temp,
        })
    }

    /// The images' proportions.
    pub fn sizes(&self) -> &[f64] {
        &self.sizes
    }

    /// Image `j`'s family.
    pub fn family(&self, j: usize) -> &Family {
        &self.families[j]
    }

    /// Every image's family point at the shared shift `b` (`ŝ_T` by
    /// [`Family::sharpened_means`], the rest by the family's quadrature).
    pub fn points(&self, b: f64) -> Vec<FamilyPoint> {
        let mut pts = self.families[0].at_each(b, &self.sizes);
        let (fg, bg) = self.class_s_t(b);
        for (pt, u) in pts.iter_mut().zip(&self.sizes) {
            pt.s_hat_t = u * fg + (1.0 - u) * bg;
        }
        pts
    }

    /// `E[σ(T z)]` over the foreground and the background pixels at shift `b`.
    fn class_s_t(&self, b: f64) -> (f64, f64) {
        if self.temp == 1.0 {
            let pt = self.families[0].at_each(b, &[1.0, 0.0]);
            return (pt[0].s_hat, pt[1].s_hat);
        }
        self.families[0].sharpened_means(b, self.temp)
    }

    /// The batch loss `(1/J) Σ_j L_j(b)`.
    pub fn loss(&self, loss: FamilyLoss, b: f64) -> f64 {
        let pts = self.points(b);
        self.families
            .iter()
            .zip(&pts)
            .map(|(f, pt)| f.loss(loss, pt))
            .sum::<f64>()
            / self.sizes.len() as f64
    }

    /// The mean proportion `mean_j u_j`.
    pub fn mean_u(&self) -> f64 {
        self.sizes.iter().sum::<f64>() / self.sizes.len() as f64
    }

    /// The shift range of the search (wide enough for every image).
    pub fn shift_range(&self) -> (f64, f64) {
        self.families[0].shift_range()
    }

    /// The minimizing shift of the batch loss. CE's is solved for (`mean_j ŝ_j(b) = mean_j
    /// u_j`, which is the family of `u = mean_j u_j` at `ŝ = u`); the others by a grid of
    /// [`SEARCH_POINTS`] shifts over a bracket that holds the minimizer, then golden section
    /// around the grid's lowest local minima.
    pub fn minimize(&self, loss: FamilyLoss) -> Result<f64, LossError> {
        if loss == FamilyLoss::Ce {
            let ubar = self.mean_u();
            let f = Family::new(FamilyParams {
                u: ubar,
                ..self.families[0].params()
            })?;
            return Ok(shift_for_fast(&f, ubar));
        }
        // Outside the bracket between CE's optimum and the shifts where the smallest and the
        // largest image's term vanishes (`ŝ_T,j = u_j`; that shift increases with `u_j`), every
        // image's CE and term grow away from it: the minimizer lies inside.
        let b_ce = self.minimize(FamilyLoss::Ce)?;
        let (j_lo, j_hi) = self.extremes();
        let (b_small, b_large) = (self.shift_for_t(j_lo), self.shift_for_t(j_hi));
        let lo = b_ce.min(b_small).min(b_large);
        let hi = b_ce.max(b_small).max(b_large);
        let f = |b: f64| self.loss(loss, b);
        Ok(grid_minimum(&f, lo, hi, SEARCH_POINTS))
    }

    /// The indices of the smallest and the largest image.
    pub fn extremes(&self) -> (usize, usize) {
        let (mut lo, mut hi) = (0, 0);
        for (j, &u) in self.sizes.iter().enumerate() {
            if u < self.sizes[lo] {
                lo = j;
            }
            if u > self.sizes[hi] {
                hi = j;
            }
        }
        (lo, hi)
    }

    /// The shift where image `j`'s `ŝ_T,j = u_j` (bisection).
    pub fn shift_for_t(&self, j: usize) -> f64 {
        let u = self.sizes[j];
        let (mut lo, mut hi) = self.shift_range();
        for _ in 0..80 {
            let mid = 0.5 * (lo + hi);
            let (fg, bg) = self.class_s_t(mid);
            if u * fg + (1.0 - u) * bg < u {
                lo = mid;
            } else {
                hi = mid;
            }
            if hi - lo < 1e-9 {
                break;
            }
        }
        0.5 * (lo + hi)
    }

    /// The ratios at a shared shift `b`.
    pub fn optimum_at(&self, loss: FamilyLoss, b: f64) -> PooledOptimum {
        let pts = self.points(b);
        let soft: Vec<f64> = pts
            .iter()
            .zip(&self.sizes)
            .map(|(p, u)| p.s_hat / u)
            .collect();
        let hard: Vec<f64> = self
            .families
            .iter()
            .zip(&self.sizes)
            .map(|(f, u)| f.hard_proportion(b) / u)
            .collect();
        let n = self.sizes.len() as f64;
        let ubar = self.mean_u();
        let s_mean = pts.iter().map(|p| p.s_hat).sum::<f64>() / n;
        let h_mean = self
            .families
            .iter()
            .map(|f| f.hard_proportion(b))
            .sum::<f64>()
            / n;
        PooledOptimum {
            loss,
            b,
            soft,
            hard,
            pooled_soft: s_mean / ubar,
            pooled_hard: h_mean / ubar,
        }
    }
}

/// The view: each loss of [`POOLED_LOSSES`] minimized over the batch.
#[derive(Debug, Clone, PartialEq)]
pub struct PooledView {
    /// The images' proportions.
    pub sizes: Vec<f64>,
    /// The shared family parameters (`u` unused).
    pub params: FamilyParams,
    /// One optimum per loss of [`POOLED_LOSSES`].
    pub optima: Vec<PooledOptimum>,
}

impl PooledView {
    /// The optimum of `loss`.
    pub fn optimum(&self, loss: FamilyLoss) -> Option<&PooledOptimum> {
        self.optima.iter().find(|o| o.loss == loss)
    }
}

/// Computes the view for the batch `sizes` under `p` (`p.u` ignored).
pub fn pooled_view(p: &FamilyParams, sizes: &BatchSizes) -> Result<PooledView, LossError> {
    let batch = Batch::new(p, sizes)?;
    let mut optima = Vec::new();
    for loss in POOLED_LOSSES {
        let b = batch.minimize(loss)?;
        optima.push(batch.optimum_at(loss, b));
    }
    Ok(PooledView {
        sizes: batch.sizes().to_vec(),
        params: *p,
        optima,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_each_matches_one_family_per_image() {
        let p = FamilyParams {
            kappa: 0.8,
            sigma: 1.3,
            temp: 7.0,
            ..FamilyParams::default()
        };
        let f = Family::new(p).unwrap();
        let us = [0.003, 0.2, 0.45];
        for b in [-3.0, 0.4] {
            for (pt, &u) in f.at_each(b, &us).iter().zip(&us) {
                let g = Family::new(FamilyParams { u, ..p }).unwrap().at(b);
                for (a, c) in [
                    (pt.s_hat, g.s_hat),
                    (pt.s_hat_t, g.s_hat_t),
                    (pt.ce, g.ce),
                    (pt.m_fg, g.m_fg),
                    (pt.m_bg, g.m_bg),
                ] {
                    assert!((a - c).abs() < 1e-14, "{a} vs {c}");
                }
            }
        }
    }

    #[test]
    fn sizes_parse_and_refuse() {
        assert_eq!(
            BatchSizes::parse("0.01, 0.2").unwrap().as_slice(),
            &[0.01, 0.2]
        );
        assert!(BatchSizes::parse("0.01").is_err());
        assert!(BatchSizes::parse("0.01,0.9").is_err());
        assert!(BatchSizes::parse("0.01,x").is_err());
        assert!(BatchSizes::parse("0.01,NaN").is_err());
        let many = ["0.1"; 13].join(",");
        assert!(BatchSizes::parse(&many).is_err());
        let d = BatchSizes::default();
        assert_eq!(BatchSizes::parse(&d.key()).unwrap(), d);
    }

    #[test]
    fn pooled_ce_matches_the_mean_size() {
        let v = pooled_view(&FamilyParams::default(), &BatchSizes::default()).unwrap();
        let ce = v.optimum(FamilyLoss::Ce).unwrap();
        assert!((ce.pooled_soft - 1.0).abs() < 1e-9, "{}", ce.pooled_soft);
        // Per image it does not: the smallest image is over-estimated, the largest under.
        assert!(ce.soft[0] > 1.5 && ce.soft[7] < 1.0, "{:?}", ce.soft);
    }
}
