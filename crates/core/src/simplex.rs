//! Three classes on the simplex (THEORY.md, "Three classes"): the region-size terms as
//! functions of the predicted proportions `ŝ = (ŝ₀, ŝ₁, ŝ₂)` for ground-truth proportions `u`,
//! a heat grid of one term over the whole triangle, its contour lines, and the geometry that
//! maps the triangle to the plane and back (for drawing and dragging).
//!
//! Geometry: an equilateral triangle with class 0 at `(0, 0)`, class 1 at `(1, 0)` and class 2
//! at `(½, √3/2)`; a point `ŝ` sits at `ŝ₁·(1, 0) + ŝ₂·(½, √3/2)`.

use crate::error::LossError;
use crate::special::xlogx_over_y;

/// Height of the unit equilateral triangle, `√3/2`.
pub const TRIANGLE_HEIGHT: f64 = 0.866_025_403_784_438_6;

/// One region-size term of a three-class problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimplexTerm {
    /// CE's region term `KL(u ‖ ŝ) = Σ_k u_k log(u_k/ŝ_k)` (also SegLossBias's KL penalty).
    Kl,
    /// Dice's region term `R_Dice(ŝ) = mean_k log((u_k + ŝ_k)/(2u_k))` (concave).
    Dice,
    /// SegLossBias's L1 penalty `mean_k |ŝ_k − u_k|`.
    L1,
}

impl SimplexTerm {
    /// Every term, in legend order.
    pub const ALL: [SimplexTerm; 3] = [SimplexTerm::Kl, SimplexTerm::Dice, SimplexTerm::L1];

    /// Short key for URLs and `data-testid` hooks (`kl`, `dice`, `l1`).
    pub fn key(self) -> &'static str {
        match self {
            SimplexTerm::Kl => "kl",
            SimplexTerm::Dice => "dice",
            SimplexTerm::L1 => "l1",
        }
    }

    /// The term for a key of [`SimplexTerm::key`].
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.key() == key)
    }

    /// Legend label.
    pub fn label(self) -> &'static str {
        match self {
            SimplexTerm::Kl => "CE's region term KL(u‖ŝ)",
            SimplexTerm::Dice => "Dice's region term R_Dice(ŝ)",
            SimplexTerm::L1 => "L1 penalty mean|ŝ − u|",
        }
    }

    /// The term at ground truth `u` and prediction `s` (both on the simplex; not validated,
    /// use [`simplex_point`] first).
    ///
    /// KL is `+∞` where some `ŝ_k = 0 < u_k` (`0·log 0 = 0` otherwise). For Dice, a class with
    /// `u_k = 0` has the infinite, `ŝ`-independent constant `−log(2u_k)`: its summand is taken
    /// as `log(ŝ_k/2)` (the constant dropped), which is `−∞` at `ŝ_k = 0` — the term is
    /// unbounded below, as THEORY.md says.
    pub fn value(self, u: [f64; 3], s: [f64; 3]) -> f64 {
        match self {
            SimplexTerm::Kl => (0..3)
                .map(|k| {
                    if u[k] > 0.0 && s[k] <= 0.0 {
                        f64::INFINITY
                    } else {
                        xlogx_over_y(u[k], s[k])
                    }
                })
                .sum(),
            SimplexTerm::Dice => {
                (0..3)
                    .map(|k| {
                        if u[k] > 0.0 {
                            ((u[k] + s[k]) / (2.0 * u[k])).ln()
                        } else {
                            (0.5 * s[k]).ln()
                        }
                    })
                    .sum::<f64>()
                    / 3.0
            }
            SimplexTerm::L1 => (0..3).map(|k| (s[k] - u[k]).abs()).sum::<f64>() / 3.0,
        }
    }

    /// Where the term is smallest over the simplex, and its value there.
    ///
    /// KL and L1 are convex with minimum 0 at `ŝ = u`. `R_Dice` is concave, so its minimum is
    /// at a vertex: the three vertices are compared exactly and the smallest wins (ties go to
    /// the lowest class index); this is the class with the largest `u_k`, since the vertex of
    /// class `j` scores `(log(1 + 1/u_j) − 3 log 2)/3`. If some `u_k = 0` the term is unbounded
    /// below: the vertex of the class with the largest `u_k` (where `ŝ_k = 0`) is returned with
    /// value `−∞`.
    pub fn minimizer(self, u: [f64; 3]) -> ([f64; 3], f64) {
        match self {
            SimplexTerm::Kl | SimplexTerm::L1 => (u, 0.0),
            SimplexTerm::Dice => {
                let mut best = (vertex(0), self.value(u, vertex(0)));
                for j in 1..3 {
                    let v = self.value(u, vertex(j));
                    if v < best.1 {
                        best = (vertex(j), v);
                    }
                }
                if u.contains(&0.0) {
                    let j = argmax(u);
                    (vertex(j), f64::NEG_INFINITY)
                } else {
                    best
                }
            }
        }
    }
}

fn argmax(u: [f64; 3]) -> usize {
    let mut j = 0;
    for k in 1..3 {
        if u[k] > u[j] {
            j = k;
        }
    }
    j
}

/// The vertex of class `j` (`ŝ_j = 1`).
pub fn vertex(j: usize) -> [f64; 3] {
    let mut v = [0.0; 3];
    v[j.min(2)] = 1.0;
    v
}

/// Validates a point of the simplex: every entry finite and `≥ 0`, not all zero; returns it
/// renormalised to sum 1. `name` appears in the error (for example `"u"` or `"s"`).
pub fn simplex_point(name: &'static str, v: [f64; 3]) -> Result<[f64; 3], LossError> {
    for &x in &v {
        if !x.is_finite() {
            return Err(LossError::BadParameter {
                name,
                value: x,
                reason: "every proportion must be a finite number",
            });
        }
        if x < 0.0 {
            return Err(LossError::BadParameter {
                name,
                value: x,
                reason: "every proportion must be >= 0",
            });
        }
    }
    let total: f64 = v.iter().sum();
    if total <= 0.0 || !total.is_finite() {
        return Err(LossError::BadParameter {
            name,
            value: total,
            reason: "the proportions must not all be zero",
        });
    }
    Ok([v[0] / total, v[1] / total, v[2] / total])
}

/// Barycentric `(b₀, b₁, b₂)` to the plane of the triangle.
pub fn bary_to_xy(b: [f64; 3]) -> (f64, f64) {
    (b[1] + 0.5 * b[2], TRIANGLE_HEIGHT * b[2])
}

/// A point of the plane to barycentric coordinates (not clamped: entries are negative
/// outside the triangle; they always sum to 1).
pub fn xy_to_bary(x: f64, y: f64) -> [f64; 3] {
    let b2 = y / TRIANGLE_HEIGHT;
    let b1 = x - 0.5 * b2;
    [1.0 - b1 - b2, b1, b2]
}

/// The point of the triangle nearest to `(x, y)` (Euclidean), in barycentric coordinates —
/// for dragging: a pointer outside the triangle moves the point along the nearest edge.
/// Non-finite input gives the centre.
pub fn project_to_simplex(x: f64, y: f64) -> [f64; 3] {
    if !x.is_finite() || !y.is_finite() {
        return [1.0 / 3.0; 3];
    }
    let b = xy_to_bary(x, y);
    if b.iter().all(|&v| v >= 0.0) {
        return b;
    }
    let corners = [vertex(0), vertex(1), vertex(2)].map(bary_to_xy);
    let mut best = (f64::INFINITY, (0.0, 0.0));
    for e in 0..3 {
        let (a, c) = (corners[e], corners[(e + 1) % 3]);
        let (dx, dy) = (c.0 - a.0, c.1 - a.1);
        let t = (((x - a.0) * dx + (y - a.1) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
        let p = (a.0 + t * dx, a.1 + t * dy);
        let d = (p.0 - x).powi(2) + (p.1 - y).powi(2);
        if d < best.0 {
            best = (d, p);
        }
    }
    let b = xy_to_bary(best.1 .0, best.1 .1);
    // Remove rounding noise so the point is exactly on the simplex.
    let b = b.map(|v| v.max(0.0));
    let t: f64 = b.iter().sum();
    b.map(|v| v / t)
}

/// One term's values on a triangular barycentric grid of the closed simplex.
///
/// Node `(i, j)` with `i + j ≤ n` (`n` = `resolution`) is `ŝ = ((n − i − j)/n, i/n, j/n)`;
/// nodes are stored row by row (`j` = 0 first, the row along the class-0–class-1 edge).
/// Values can be `+∞` (KL on an edge) or `−∞` (Dice with some `u_k = 0`).
#[derive(Debug, Clone, PartialEq)]
pub struct HeatGrid {
    /// The term.
    pub term: SimplexTerm,
    /// The ground truth.
    pub u: [f64; 3],
    /// Subdivisions per edge, `n ≥ 1`.
    pub resolution: usize,
    /// Node values, `(n + 1)(n + 2)/2` of them, see [`HeatGrid::index`].
    pub values: Vec<f64>,
    /// Smallest finite value.
    pub min: f64,
    /// Largest finite value.
    pub max: f64,
    /// Upper end of the colour scale: the 95th percentile of the finite values, so that KL's
    /// blow-up at the edges does not wash out the interior (values above it saturate).
    pub color_max: f64,
}

impl HeatGrid {
    /// Storage index of node `(i, j)` (`i + j ≤ n`).
    pub fn index(&self, i: usize, j: usize) -> usize {
        let n = self.resolution;
        j * (n + 1) - j * (j.saturating_sub(1)) / 2 + i
    }

    /// Barycentric coordinates of node `(i, j)`.
    pub fn bary(&self, i: usize, j: usize) -> [f64; 3] {
        let n = self.resolution as f64;
        let (b1, b2) = (i as f64 / n, j as f64 / n);
        [(1.0 - b1 - b2).max(0.0), b1, b2]
    }

    /// The value at node `(i, j)`.
    pub fn at(&self, i: usize, j: usize) -> f64 {
        self.values[self.index(i, j)]
    }

    /// The small triangles of the grid as node triples `[(i, j); 3]`, `n²` of them: for each
    /// `(i, j)` the upward triangle `(i, j), (i+1, j), (i, j+1)` and, where it exists, the
    /// downward one `(i+1, j), (i+1, j+1), (i, j+1)`. `stride` > 1 walks a coarser grid
    /// (`stride` must divide nothing in particular: the last partial row is dropped).
    pub fn triangles(&self, stride: usize) -> Vec<[(usize, usize); 3]> {
        let st = stride.max(1);
        let m = self.resolution / st;
        let mut out = Vec::with_capacity(m * m);
        for j in 0..m {
            for i in 0..(m - j) {
                let (a, b) = (i * st, j * st);
                out.push([(a, b), (a + st, b), (a, b + st)]);
                if i + j + 1 < m {
                    out.push([(a + st, b), (a + st, b + st), (a, b + st)]);
                }
            }
        }
        out
    }
}

/// Evaluates `term` at every node of a triangular grid with `resolution` subdivisions per
/// edge (`1 ≤ resolution ≤ 2000`). `u` is validated with [`simplex_point`].
///
/// Cost: `(n + 1)(n + 2)/2` evaluations of three logarithms plus one linear-time selection for
/// the percentile; `n = 160` (13 041 nodes) takes well under a millisecond natively.
pub fn heat_grid(term: SimplexTerm, u: [f64; 3], resolution: usize) -> Result<HeatGrid, LossError> {
    let u = simplex_point("u", u)?;
    if !(1..=2000).contains(&resolution) {
        return Err(LossError::BadParameter {
            name: "resolution",
            value: resolution as f64,
            reason: "must be between 1 and 2000",
        });
    }
    let n = resolution;
    let nf = n as f64;
    let mut values = Vec::with_capacity((n + 1) * (n + 2) / 2);
    for j in 0..=n {
        for i in 0..=(n - j) {
            let (b1, b2) = (i as f64 / nf, j as f64 / nf);
            values.push(term.value(u, [(1.0 - b1 - b2).max(0.0), b1, b2]));
        }
    }
    let mut finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
    for &v in &finite {
        min = min.min(v);
        max = max.max(v);
    }
    let color_max = if finite.is_empty() {
        (min, max) = (0.0, 1.0);
        1.0
    } else {
        let k = ((finite.len() - 1) as f64 * 0.95).round() as usize;
        let (_, v, _) = finite.select_nth_unstable_by(k, |a, b| a.total_cmp(b));
        let v = *v;
        if v > min {
            v
        } else {
            max.max(min + 1e-12)
        }
    };
    Ok(HeatGrid {
        term,
        u,
        resolution,
        values,
        min,
        max,
        color_max,
    })
}

/// One contour line: straight segments in the plane of the triangle.
#[derive(Debug, Clone, PartialEq)]
pub struct Contour {
    /// The level.
    pub level: f64,
    /// Segments `[(x, y), (x, y)]` in triangle coordinates (see [`bary_to_xy`]).
    pub segments: Vec<[(f64, f64); 2]>,
}

/// Contour lines at `levels` by marching triangles over every small triangle of `grid`
/// (linear interpolation along edges; an infinite node puts the crossing at its finite
/// neighbour). One pass over the triangles serves every level.
pub fn contours(grid: &HeatGrid, levels: &[f64]) -> Vec<Contour> {
    let n = grid.resolution;
    let mut xy = Vec::with_capacity(grid.values.len());
    for j in 0..=n {
        for i in 0..=(n - j) {
            xy.push(bary_to_xy(grid.bary(i, j)));
        }
    }
    let mut out = empty_contours(levels);
    let vals = &grid.values;
    let mut tri = |t: [usize; 3]| {
        contour_triangle(
            &mut out,
            [vals[t[0]], vals[t[1]], vals[t[2]]],
            [xy[t[0]], xy[t[1]], xy[t[2]]],
        )
    };
    for j in 0..n {
        for i in 0..(n - j) {
            let (a, b, c) = (grid.index(i, j), grid.index(i + 1, j), grid.index(i, j + 1));
            tri([a, b, c]);
            if i + j + 1 < n {
                tri([b, grid.index(i + 1, j + 1), c]);
            }
        }
    }
    out
}

/// One contour line per level, with no segments yet.
pub(crate) fn empty_contours(levels: &[f64]) -> Vec<Contour> {
    levels
        .iter()
        .map(|&level| Contour {
            level,
            segments: Vec::new(),
        })
        .collect()
}

/// Marching triangles on one triangle: values `v` at the corners `p`; adds to every contour
/// of `out` whose level the triangle crosses the segment where it does (linear interpolation
/// along edges; an infinite corner puts the crossing at its finite neighbour).
pub(crate) fn contour_triangle(out: &mut [Contour], v: [f64; 3], p: [(f64, f64); 3]) {
    let lo = v[0].min(v[1]).min(v[2]);
    let hi = v[0].max(v[1]).max(v[2]);
    for c in out.iter_mut() {
        let level = c.level;
        if lo >= level || level > hi {
            continue;
        }
        let mut cross = [(0.0, 0.0); 2];
        let mut found = 0;
        for e in 0..3 {
            let (a, b) = (e, (e + 1) % 3);
            if (v[a] < level) != (v[b] < level) && found < 2 {
                let f = if v[a].is_finite() && v[b].is_finite() {
                    (level - v[a]) / (v[b] - v[a])
                } else if v[a].is_finite() {
                    0.0
                } else {
                    1.0
                };
                let (pa, pb) = (p[a], p[b]);
                cross[found] = (pa.0 + f * (pb.0 - pa.0), pa.1 + f * (pb.1 - pa.1));
                found += 1;
            }
        }
        if found == 2 {
            c.segments.push(cross);
        }
    }
}

/// `count` contour levels spaced evenly strictly inside `(grid.min, grid.color_max)`.
pub fn contour_levels(grid: &HeatGrid, count: usize) -> Vec<f64> {
    let (lo, hi) = (grid.min, grid.color_max);
    if hi.is_nan() || lo.is_nan() || hi <= lo {
        return Vec::new();
    }
    (1..=count)
        .map(|k| lo + (hi - lo) * k as f64 / (count + 1) as f64)
        .collect()
}

/// Everything the simplex view draws and reads out, computed once per state change.
#[derive(Debug, Clone, PartialEq)]
pub struct SimplexView {
    /// Ground-truth proportions (renormalised).
    pub u: [f64; 3],
    /// Current predicted proportions (renormalised).
    pub s: [f64; 3],
    /// The term shown as a heat map.
    pub term: SimplexTerm,
    /// The heat map.
    pub grid: HeatGrid,
    /// Contour lines of the heat map.
    pub contours: Vec<Contour>,
    /// `(term, minimizer, minimum)` for every term of [`SimplexTerm::ALL`].
    pub minima: Vec<(SimplexTerm, [f64; 3], f64)>,
    /// Every term's value at the current `ŝ`.
    pub values: Vec<(SimplexTerm, f64)>,
}

/// Validates `u` and `s`, and computes the heat grid of `term` (`resolution` subdivisions),
/// `levels` contour lines, every term's minimizer and every term's value at `s`.
pub fn simplex_view(
    term: SimplexTerm,
    u: [f64; 3],
    s: [f64; 3],
    resolution: usize,
    levels: usize,
) -> Result<SimplexView, LossError> {
    let u = simplex_point("u", u)?;
    let s = simplex_point("s", s)?;
    let grid = heat_grid(term, u, resolution)?;
    let lv = contour_levels(&grid, levels);
    let contours = contours(&grid, &lv);
    let minima = SimplexTerm::ALL
        .iter()
        .map(|&t| {
            let (m, v) = t.minimizer(u);
            (t, m, v)
        })
        .collect();
    let values = SimplexTerm::ALL
        .iter()
        .map(|&t| (t, t.value(u, s)))
        .collect();
    Ok(SimplexView {
        u,
        s,
        term,
        grid,
        contours,
        minima,
        values,
    })
}
