//! The binary region-size terms of THEORY.md as functions of the predicted proportion `ŝ`,
//! for a ground-truth foreground proportion `u ∈ (0, 1)`.

use crate::special::xlogx_over_y;

/// One region-size term of a two-class problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegionTerm {
    /// CE's region term `KL(u ‖ ŝ)` over (background, foreground); in binary mode this is also
    /// exactly SegLossBias's KL penalty (foreground + background).
    Kl,
    /// Foreground-only Dice: `log((u + ŝ)/(2u))`.
    DiceFg,
    /// Two-class mean Dice: `½[log((u + ŝ)/(2u)) + log((2 − u − ŝ)/(2(1 − u)))]`.
    DiceMean,
    /// SegLossBias L1: `|ŝ − u|`.
    L1,
}

impl RegionTerm {
    /// Every term, in legend order.
    pub const ALL: [RegionTerm; 4] = [
        RegionTerm::Kl,
        RegionTerm::DiceFg,
        RegionTerm::DiceMean,
        RegionTerm::L1,
    ];

    /// Short key used in `data-testid="min-<key>"`, URLs and CSV headers.
    pub fn key(self) -> &'static str {
        match self {
            RegionTerm::Kl => "kl",
            RegionTerm::DiceFg => "dice-fg",
            RegionTerm::DiceMean => "dice-mean",
            RegionTerm::L1 => "l1",
        }
    }

    /// Legend label.
    pub fn label(self) -> &'static str {
        match self {
            RegionTerm::Kl => "CE's region term KL(u‖ŝ) (= the KL penalty)",
            RegionTerm::DiceFg => "Dice region term, foreground only",
            RegionTerm::DiceMean => "Dice region term, two-class mean",
            RegionTerm::L1 => "L1 penalty |ŝ − u|",
        }
    }

    /// The term's value at predicted proportion `s ∈ [0, 1]` (may be `+∞` for KL at 0 or 1).
    pub fn value(self, u: f64, s: f64) -> f64 {
        match self {
            RegionTerm::Kl => {
                // x·log(x/y) is +∞ when x > 0 and y = 0; the limit convention covers x = 0.
                let fg = if u > 0.0 && s <= 0.0 {
                    f64::INFINITY
                } else {
                    xlogx_over_y(u, s)
                };
                let bg = if u < 1.0 && s >= 1.0 {
                    f64::INFINITY
                } else {
                    xlogx_over_y(1.0 - u, 1.0 - s)
                };
                fg + bg
            }
            RegionTerm::DiceFg => ((u + s) / (2.0 * u)).ln(),
            RegionTerm::DiceMean => {
                0.5 * (((u + s) / (2.0 * u)).ln() + ((2.0 - u - s) / (2.0 * (1.0 - u))).ln())
            }
            RegionTerm::L1 => (s - u).abs(),
        }
    }

    /// Where the term is smallest over `ŝ ∈ [0, 1]`, and its value there.
    ///
    /// KL and L1 are convex with minimum 0 at `ŝ = u`. Both Dice terms are concave, so the
    /// minimum is at a vertex: `ŝ = 0` for foreground-only Dice (for every `u`), and for the
    /// two-class mean `ŝ = 0` when `u < ½`, `ŝ = 1` when `u > ½` (both at `u = ½`; 0 reported).
    pub fn minimizer(self, u: f64) -> (f64, f64) {
        match self {
            RegionTerm::Kl | RegionTerm::L1 => (u, 0.0),
            RegionTerm::DiceFg => (0.0, self.value(u, 0.0)),
            RegionTerm::DiceMean => {
                let (v0, v1) = (self.value(u, 0.0), self.value(u, 1.0));
                if v1 < v0 {
                    (1.0, v1)
                } else {
                    (0.0, v0)
                }
            }
        }
    }
}

/// Sampled curves of every region term, for plotting.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionCurves {
    /// Ground-truth foreground proportion.
    pub u: f64,
    /// Sample points `ŝ ∈ (0, 1)`.
    pub s: Vec<f64>,
    /// One curve per term, in [`RegionTerm::ALL`] order.
    pub curves: Vec<(RegionTerm, Vec<f64>)>,
    /// `(term, ŝ*, value)` for each term.
    pub minima: Vec<(RegionTerm, f64, f64)>,
}

/// Samples every term at `points` values of `ŝ`, denser near 0 and 1 where the curves bend.
pub fn region_curves(u: f64, points: usize) -> RegionCurves {
    let points = points.max(3);
    let s: Vec<f64> = (0..points)
        .map(|j| {
            // Cosine spacing on [1e-4, 1 − 1e-4] keeps both ends resolved.
            let x = j as f64 / (points - 1) as f64;
            let c = 0.5 - 0.5 * (std::f64::consts::PI * x).cos();
            1e-4 + (1.0 - 2e-4) * c
        })
        .collect();
    let curves = RegionTerm::ALL
        .iter()
        .map(|&t| (t, s.iter().map(|&x| t.value(u, x)).collect()))
        .collect();
    let minima = RegionTerm::ALL
        .iter()
        .map(|&t| {
            let (sm, v) = t.minimizer(u);
            (t, sm, v)
        })
        .collect();
    RegionCurves {
        u,
        s,
        curves,
        minima,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimizers_beat_a_fine_grid() {
        for &u in &[0.001, 0.01, 0.1, 0.3, 0.49, 0.51, 0.7, 0.999] {
            for t in RegionTerm::ALL {
                let (sm, v) = t.minimizer(u);
                assert!((t.value(u, sm) - v).abs() < 1e-12);
                for j in 0..=1000 {
                    let s = j as f64 / 1000.0;
                    assert!(t.value(u, s) >= v - 1e-12, "{t:?} u={u} s={s}");
                }
            }
        }
    }

    #[test]
    fn dice_mean_minimizer_switches_vertex_at_half() {
        assert_eq!(RegionTerm::DiceMean.minimizer(0.2).0, 0.0);
        assert_eq!(RegionTerm::DiceMean.minimizer(0.8).0, 1.0);
        assert_eq!(RegionTerm::DiceFg.minimizer(0.8).0, 0.0);
    }

    #[test]
    fn dice_terms_are_concave() {
        for &u in &[0.05, 0.3, 0.6] {
            for t in [RegionTerm::DiceFg, RegionTerm::DiceMean] {
                for j in 1..99 {
                    let (a, b, c) = (
                        (j - 1) as f64 / 100.0,
                        j as f64 / 100.0,
                        (j + 1) as f64 / 100.0,
                    );
                    let second = t.value(u, a) - 2.0 * t.value(u, b) + t.value(u, c);
                    assert!(second <= 1e-12, "{t:?} not concave at {b}");
                }
            }
        }
    }

    #[test]
    fn curves_have_requested_size() {
        let c = region_curves(0.1, 50);
        assert_eq!(c.s.len(), 50);
        assert!(c.s[0] > 0.0 && c.s[49] < 1.0);
        assert_eq!(c.curves.len(), 4);
        assert!(c.curves.iter().all(|(_, v)| v.len() == 50));
    }
}
