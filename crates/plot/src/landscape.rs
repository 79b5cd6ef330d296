//! View: a loss landscape over `(b, ln t)` — heat map, contour lines, the minimum (or an arrow
//! where the infimum runs off the shown range), descent paths and a hover crosshair.
//!
//! The `t` axis is drawn in `log₁₀ t` (ticks read as `t` values: 0.1, 1, 10); the core's grids
//! and the returned [`LandscapeFrame`] speak `ln t`.
//!
//! The heat map is drawn as filled rectangles, one per cell of a grid of at most
//! [`MAX_CELLS_PER_EDGE`]² cells (finer grids are sampled), with horizontal runs of the same
//! colour merged into one rectangle (a smooth landscape needs a few thousand draw calls).
//! On a canvas the caller may instead blit [`heat_rgba`] into [`LandscapeFrame::pixels`] and
//! draw with [`HeatMap::External`]: this function then leaves the plotting area unpainted.

use dicelens_core::landscape::{Grid, GridMinimum};
use dicelens_core::simplex::Contour;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{viridis, DrawResult, PlotFrame, PlotStyle};

/// At most this many heat-map cells per axis are drawn.
pub const MAX_CELLS_PER_EDGE: usize = 160;

/// Colour levels of the drawn heat map (adjacent cells of one level merge).
pub const HEAT_LEVELS: usize = 64;

const LN_10: f64 = std::f64::consts::LN_10;

/// Who paints the heat map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeatMap {
    /// This function, as rectangles.
    Cells,
    /// The caller (for example `putImageData` of [`heat_rgba`] before drawing); the plotting
    /// area is left unpainted.
    External,
}

/// A descent path to draw: a polyline with dots, in `(b, ln t)`.
#[derive(Debug, Clone, PartialEq)]
pub struct LandscapePath {
    /// The points.
    pub points: Vec<(f64, f64)>,
    /// Its colour (one per loss).
    pub color: RGBColor,
    /// Legend label.
    pub label: String,
}

/// What one landscape plot shows.
#[derive(Debug, Clone, Copy)]
pub struct LandscapeData<'a> {
    /// The grid (`ln t` rows).
    pub grid: &'a Grid,
    /// Contour lines (segments in `(b, ln t)`), e.g. from [`Grid::contours`].
    pub contours: &'a [Contour],
    /// The minimum to mark (from `dicelens_core::landscape::minimum`).
    pub minimum: Option<GridMinimum>,
    /// Descent paths.
    pub paths: &'a [LandscapePath],
    /// Hover crosshair at `(b, ln t)`.
    pub hover: Option<(f64, f64)>,
    /// Title (e.g. the loss's name).
    pub title: &'a str,
    /// Who paints the heat map.
    pub heat: HeatMap,
}

/// Where the plotting area landed, mapping backend pixels to `(b, ln t)` and back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LandscapeFrame {
    /// `x`: the `b` range; `y`: the `log₁₀ t` range; pixels of the plotting area.
    pub frame: PlotFrame,
}

impl LandscapeFrame {
    /// The backend pixel rectangle of the plotting area: left, top, right, bottom.
    pub fn pixels(&self) -> (i32, i32, i32, i32) {
        self.frame.pixels
    }

    /// `(b, ln t)` under a backend pixel (clamped to the shown range).
    pub fn data_at(&self, px: f64, py: f64) -> (f64, f64) {
        let (_, t, _, bottom) = self.frame.pixels;
        let fy = ((bottom as f64 - py) / (bottom - t).max(1) as f64).clamp(0.0, 1.0);
        let (y0, y1) = self.frame.y;
        (self.frame.x_at(px), (y0 + fy * (y1 - y0)) * LN_10)
    }

    /// The backend pixel of `(b, ln t)`.
    pub fn pixel(&self, b: f64, log_t: f64) -> (f64, f64) {
        let (l, t, r, bottom) = self.frame.pixels;
        let (x0, x1) = self.frame.x;
        let (y0, y1) = self.frame.y;
        let fx = (b - x0) / (x1 - x0);
        let fy = (log_t / LN_10 - y0) / (y1 - y0);
        (
            l as f64 + fx * (r - l) as f64,
            bottom as f64 - fy * (bottom - t) as f64,
        )
    }

    /// Whether a backend pixel lies in the plotting area.
    pub fn contains(&self, px: f64, py: f64) -> bool {
        let (l, t, r, b) = self.frame.pixels;
        px >= l as f64 && px <= r as f64 && py >= t as f64 && py <= b as f64
    }
}

/// The colour-scale position of a value, in `[0, 1]`: logarithmic in `v − min` (the maps span
/// orders of magnitude; the interesting part is near the minimum), saturating at `color_max`;
/// `+∞` and `NaN` are 1.
pub fn heat_level(grid: &Grid, v: f64) -> f64 {
    if !v.is_finite() {
        return 1.0;
    }
    let span = (grid.color_max - grid.min).max(1e-300);
    let k = span / 30.0;
    ((1.0 + (v - grid.min).max(0.0) / k).ln() / (1.0 + span / k).ln()).clamp(0.0, 1.0)
}

/// The heat map as `w × h` RGBA pixels (row 0 at the top: the largest `t`), nearest cell.
pub fn heat_rgba(grid: &Grid, w: usize, h: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(w * h * 4);
    for y in 0..h {
        let j = grid.nt - 1 - ((y * grid.nt) / h.max(1)).min(grid.nt - 1);
        for x in 0..w {
            let i = ((x * grid.nb) / w.max(1)).min(grid.nb - 1);
            let c = viridis(heat_level(grid, grid.at(i, j)));
            out.extend_from_slice(&[c.0, c.1, c.2, 255]);
        }
    }
    out
}

/// Formats a `t` value for an axis tick.
fn fmt_t(v: f64) -> String {
    let t = 10f64.powf(v);
    if t >= 10.0 {
        format!("{t:.0}")
    } else if t >= 1.0 {
        let s = format!("{t:.1}");
        s.trim_end_matches(".0").to_string()
    } else {
        let digits = (-t.log10()).ceil() as usize + 1;
        format!("{t:.digits$}")
    }
}

/// Draws one landscape. Returns the frame mapping pixels to `(b, ln t)`.
pub fn draw_landscape<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &LandscapeData<'_>,
    style: &PlotStyle,
) -> DrawResult<LandscapeFrame, DB> {
    let fg = style.fg();
    let g = data.grid;
    let (x0, x1) = g.b_range;
    let (y0, y1) = (g.log_t_range.0 / LN_10, g.log_t_range.1 / LN_10);
    if data.heat == HeatMap::Cells {
        area.fill(&style.bg())?;
    }
    let mut chart = ChartBuilder::on(area)
        .margin(style.px(10.0))
        .margin_top(style.px(34.0))
        // The last x tick label ("10.0") is centred on the right edge: room for its half.
        .margin_right(style.px(18.0))
        .x_label_area_size(style.px(44.0))
        .y_label_area_size(style.px(54.0))
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let frame = LandscapeFrame {
        frame: PlotFrame {
            x: (x0, x1),
            y: (y0, y1),
            pixels: (xr.start, yr.start, xr.end, yr.end),
        },
    };
    // The frame is in backend pixels; `area.draw` takes pixels relative to the area.
    let base = area.get_base_pixel();
    area.draw(&Text::new(
        data.title.to_string(),
        (style.px(10.0) as i32, style.px(8.0) as i32),
        style.font(15.0).color(&fg),
    ))?;

    // Heat map: cells in pixels, runs of one colour level merged.
    if data.heat == HeatMap::Cells {
        let (nb, nt) = (g.nb, g.nt);
        let (cx, cy) = (nb.min(MAX_CELLS_PER_EDGE), nt.min(MAX_CELLS_PER_EDGE));
        let (l, t, r, b) = frame.frame.pixels;
        let (l, t, r, b) = (l - base.0, t - base.1, r - base.0, b - base.1);
        let px_x = |k: usize| l + ((r - l) as f64 * k as f64 / cx as f64).round() as i32;
        let px_y = |k: usize| b - ((b - t) as f64 * k as f64 / cy as f64).round() as i32;
        let level = |i: usize, j: usize| {
            let v = g.at((i * nb + nb / 2) / cx, (j * nt + nt / 2) / cy);
            (heat_level(g, v) * (HEAT_LEVELS - 1) as f64).round() as usize
        };
        for j in 0..cy {
            let mut i = 0;
            while i < cx {
                let lv = level(i, j);
                let mut k = i + 1;
                while k < cx && level(k, j) == lv {
                    k += 1;
                }
                let c = viridis(lv as f64 / (HEAT_LEVELS - 1) as f64);
                area.draw(&Rectangle::new(
                    [(px_x(i), px_y(j + 1)), (px_x(k), px_y(j))],
                    c.filled(),
                ))?;
                i = k;
            }
        }
    }

    chart
        .configure_mesh()
        .disable_mesh()
        .axis_style(fg)
        .x_desc("shift b")
        .y_desc("scale t (log axis)")
        .label_style(style.font(12.0).color(&fg))
        .axis_desc_style(style.font(13.0).color(&fg))
        .x_labels(style.labels(9))
        .y_labels(style.labels(8))
        .y_label_formatter(&|v| fmt_t(*v))
        .draw()?;

    // Contours.
    let contour_style = RGBColor(255, 255, 255).mix(0.7).stroke_width(style.px(1.0));
    for c in data.contours {
        chart.draw_series(c.segments.iter().map(|s| {
            PathElement::new(
                vec![(s[0].0, s[0].1 / LN_10), (s[1].0, s[1].1 / LN_10)],
                contour_style,
            )
        }))?;
    }

    // Minimum, or an arrow where the infimum runs off.
    let to_px = |b: f64, lt: f64| {
        let p = frame.pixel(b, lt);
        (p.0.round() as i32 - base.0, p.1.round() as i32 - base.1)
    };
    let small = style.font(12.0).color(&fg);
    if let Some(m) = data.minimum {
        let p = to_px(m.b, m.log_t);
        match m.run_off {
            None => {
                let r = style.px(7.0) as i32;
                area.draw(&Circle::new(p, r, WHITE.mix(0.9).filled()))?;
                area.draw(&Circle::new(p, r, BLACK.stroke_width(style.px(2.0))))?;
                area.draw(&Text::new(
                    "min",
                    (p.0 + r + 3, p.1 - r - 2),
                    small.pos(Pos::new(HPos::Left, VPos::Bottom)),
                ))?;
            }
            Some(ro) => {
                // The direction of descent: outward across the edge(s), and up-and-out along
                // the hardening ray when the core found that the loss keeps falling there.
                let (mut dx, mut dy) = (ro.db as f64, -(ro.dt as f64));
                if ro.harden && ro.dt == 0 {
                    dy = -1.0;
                }
                let n = (dx * dx + dy * dy).sqrt().max(1e-9);
                (dx, dy) = (dx / n, dy / n);
                let len = style.px(34.0) as f64;
                let tail = (p.0 as f64 - dx * len, p.1 as f64 - dy * len);
                let tip = (p.0 as f64, p.1 as f64);
                let w = style.px(3.0);
                let red = RGBColor(230, 40, 40);
                area.draw(&PathElement::new(
                    vec![(tail.0 as i32, tail.1 as i32), p],
                    red.stroke_width(w),
                ))?;
                let hw = style.px(7.0) as f64;
                let head = vec![
                    p,
                    (
                        (tip.0 - dx * hw * 1.6 - dy * hw) as i32,
                        (tip.1 - dy * hw * 1.6 + dx * hw) as i32,
                    ),
                    (
                        (tip.0 - dx * hw * 1.6 + dy * hw) as i32,
                        (tip.1 - dy * hw * 1.6 - dx * hw) as i32,
                    ),
                ];
                area.draw(&Polygon::new(head, red.filled()))?;
                let label = if ro.dt == 1 || ro.harden {
                    "runs off: t → ∞"
                } else if ro.dt == -1 {
                    "runs off: t → 0"
                } else if ro.db == 1 {
                    "runs off: b → +∞"
                } else {
                    "runs off: b → −∞"
                };
                let (l, t, r, b) = frame.frame.pixels;
                let (l, t, r, b) = (l - base.0, t - base.1, r - base.0, b - base.1);
                let lx = (tail.0 as i32).clamp(l + 4, r - 4);
                let ly = (tail.1 as i32).clamp(t + 14, b - 4);
                let hpos = if lx > (l + r) / 2 {
                    HPos::Right
                } else {
                    HPos::Left
                };
                area.draw(&Text::new(
                    label,
                    (lx, ly),
                    style
                        .font(12.0)
                        .color(&WHITE)
                        .pos(Pos::new(hpos, VPos::Bottom)),
                ))?;
            }
        }
    }

    // Paths: polyline, dots (at most ~60 per path), start as a ring, end as a disc.
    let lw = style.px(2.0);
    for path in data.paths {
        let pts: Vec<(f64, f64)> = path
            .points
            .iter()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .map(|&(b, lt)| (b.clamp(x0, x1), (lt / LN_10).clamp(y0, y1)))
            .collect();
        if pts.is_empty() {
            continue;
        }
        let color = path.color;
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(lw)))?
            .label(path.label.clone())
            .legend(move |(x, y)| Circle::new((x + 6, y), 4, color.filled()));
        let every = pts.len().div_ceil(60).max(1);
        let r = style.px(2.5) as i32;
        chart.draw_series(
            pts.iter()
                .step_by(every)
                .map(|&p| Circle::new(p, r, color.filled())),
        )?;
        let r = style.px(5.0) as i32;
        chart.draw_series(std::iter::once(Circle::new(
            pts[0],
            r,
            color.stroke_width(style.px(2.0)),
        )))?;
        chart.draw_series(std::iter::once(Circle::new(
            pts[pts.len() - 1],
            r,
            color.filled(),
        )))?;
    }
    if !data.paths.is_empty() {
        crate::draw_legend(&mut chart, SeriesLabelPosition::UpperRight, style)?;
    }

    // Hover crosshair.
    if let Some((b, lt)) = data.hover {
        let y = lt / LN_10;
        if b >= x0 && b <= x1 && y >= y0 && y <= y1 {
            let st = WHITE.mix(0.9).stroke_width(style.px(1.0));
            let (d1, d2) = (style.px(4.0), style.px(3.0));
            chart.draw_series(DashedLineSeries::new(vec![(b, y0), (b, y1)], d1, d2, st))?;
            chart.draw_series(DashedLineSeries::new(vec![(x0, y), (x1, y)], d1, d2, st))?;
        }
    }
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicelens_core::landscape::{
        descend, grid, minimum, LandscapeParams, Method, DEFAULT_B_RANGE, DEFAULT_LOG_T_RANGE,
    };
    use dicelens_core::FamilyLoss;

    fn render(loss: FamilyLoss, p: &LandscapeParams, with_path: bool) -> (String, LandscapeFrame) {
        let g = grid(loss, p, DEFAULT_B_RANGE, DEFAULT_LOG_T_RANGE, 160, 160);
        let contours = g.contours(&g.contour_levels(10));
        let m = minimum(&g, p);
        let paths = if with_path {
            let path = descend(loss, p, (2.0, 1.5), Method::Gd { lr: 1.0 }, 400);
            vec![LandscapePath {
                points: path.points,
                color: crate::palette::ORANGE,
                label: "gradient descent".into(),
            }]
        } else {
            Vec::new()
        };
        let data = LandscapeData {
            grid: &g,
            contours: &contours,
            minimum: m,
            paths: &paths,
            hover: Some((-1.0, 0.5)),
            title: "CE",
            heat: HeatMap::Cells,
        };
        let mut out = String::new();
        let frame;
        {
            let root = SVGBackend::with_string(&mut out, (640, 480)).into_drawing_area();
            frame = draw_landscape(&root, &data, &PlotStyle::default()).expect("draw");
            root.present().expect("present");
        }
        (out, frame)
    }

    #[test]
    fn landscape_svg_has_heat_map_contours_minimum_path_and_axes() {
        let p = LandscapeParams::default();
        let (s, frame) = render(FamilyLoss::Ce, &p, true);
        for label in [
            "shift b",
            "scale t (log axis)",
            "min",
            "gradient descent",
            "CE",
        ] {
            assert!(s.contains(label), "missing {label}");
        }
        let rects = s.matches("<rect").count();
        assert!(
            (200..=MAX_CELLS_PER_EDGE * MAX_CELLS_PER_EDGE).contains(&rects),
            "{rects} rects"
        );
        assert!(s.matches("<polyline").count() > 100, "contours");
        assert!(s.matches("<circle").count() > 10, "dots and markers");
        // Pixels map to data and back.
        let (px, py) = frame.pixel(-2.0, 1.0);
        let (b, lt) = frame.data_at(px, py);
        assert!((b + 2.0).abs() < 1e-9 && (lt - 1.0).abs() < 1e-9);
        assert!(frame.contains(px, py));
        assert!(!frame.contains(0.0, 0.0));
        let (l, t, r, bt) = frame.pixels();
        let (b0, lt0) = frame.data_at(l as f64, bt as f64);
        let (b1, lt1) = frame.data_at(r as f64, t as f64);
        assert!((b0 - DEFAULT_B_RANGE.0).abs() < 1e-9 && (b1 - DEFAULT_B_RANGE.1).abs() < 1e-9);
        assert!((lt0 - DEFAULT_LOG_T_RANGE.0).abs() < 1e-9);
        assert!((lt1 - DEFAULT_LOG_T_RANGE.1).abs() < 1e-9);
    }

    #[test]
    fn run_off_is_drawn_as_an_arrow_with_words() {
        let p = LandscapeParams {
            amb_a: 0.1,
            ..LandscapeParams::default()
        };
        let (s, _) = render(FamilyLoss::DiceFg, &p, false);
        assert!(s.contains("runs off"), "no run-off label");
        assert!(s.contains("<polygon"), "no arrow head");
    }

    #[test]
    fn external_heat_map_leaves_the_area_to_the_caller() {
        let p = LandscapeParams::default();
        let g = grid(FamilyLoss::Ce, &p, (-10.0, 10.0), (-2.0, 3.0), 40, 30);
        let data = LandscapeData {
            grid: &g,
            contours: &[],
            minimum: None,
            paths: &[],
            hover: None,
            title: "CE",
            heat: HeatMap::External,
        };
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, (400, 300)).into_drawing_area();
            draw_landscape(&root, &data, &PlotStyle::default()).expect("draw");
            root.present().expect("present");
        }
        assert!(out.matches("<rect").count() < 5);
        let rgba = heat_rgba(&g, 50, 20);
        assert_eq!(rgba.len(), 50 * 20 * 4);
        // Top row is the largest t.
        let top = viridis(heat_level(&g, g.at(0, g.nt - 1)));
        assert_eq!(&rgba[0..3], &[top.0, top.1, top.2]);
    }

    #[test]
    fn drawing_is_cheap_enough() {
        // Not a timing assertion (speed is measured by the benchmark): the number of draw
        // calls for a 160×160 map stays bounded.
        let p = LandscapeParams::default();
        for loss in [FamilyLoss::Ce, FamilyLoss::DiceFg] {
            let (s, _) = render(loss, &p, false);
            let rects = s.matches("<rect").count();
            assert!(rects < 12_000, "{loss:?}: {rects}");
        }
    }

    #[test]
    fn a_sub_area_keeps_everything_inside_it() {
        let p = LandscapeParams {
            amb_a: 0.1,
            ..LandscapeParams::default()
        };
        let g = grid(FamilyLoss::DiceFg, &p, (-10.0, 10.0), (-2.0, 3.0), 60, 50);
        let m = minimum(&g, &p);
        assert!(m.and_then(|m| m.run_off).is_some());
        let data = LandscapeData {
            grid: &g,
            contours: &[],
            minimum: m,
            paths: &[],
            hover: None,
            title: "Dice",
            heat: HeatMap::Cells,
        };
        let mut out = String::new();
        let frame;
        {
            let root = SVGBackend::with_string(&mut out, (900, 400)).into_drawing_area();
            let (_, right) = root.split_horizontally(300);
            frame = draw_landscape(&right, &data, &PlotStyle::default()).expect("draw");
            root.present().expect("present");
        }
        assert!(frame.pixels().0 >= 300);
        // Every rectangle (background and cells) lies in the right part.
        for part in out.split("<rect").skip(1) {
            let x: f64 = part
                .split("x=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .and_then(|v| v.parse().ok())
                .expect("x");
            assert!(x >= 300.0, "rect at x = {x}");
        }
        for part in out.split("<polygon").skip(1) {
            let pts = part.split("points=\"").nth(1).expect("points");
            let x: f64 = pts
                .split(',')
                .next()
                .and_then(|v| v.parse().ok())
                .expect("x");
            assert!(x >= 300.0, "arrow at x = {x}");
        }
    }

    #[test]
    fn tick_labels_read_as_t() {
        assert_eq!(fmt_t(0.0), "1");
        assert_eq!(fmt_t(1.0), "10");
        assert_eq!(fmt_t(-1.0), "0.10");
        assert_eq!(fmt_t(2.0), "100");
    }
}
