//! View 4: three classes on the simplex — a heat map of one region term over the triangle of
//! predicted proportions, contour lines, the ground truth `u`, the prediction `ŝ` and every
//! term's minimizer.

use dicelens_core::simplex::{bary_to_xy, project_to_simplex, xy_to_bary, TRIANGLE_HEIGHT};
use dicelens_core::{SimplexTerm, SimplexView};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{palette, DrawResult, PlotStyle, SeriesStyle};

/// At most this many small triangles per edge are filled (`≤ 64² = 4096` polygons): a finer
/// grid is walked with a stride.
pub const MAX_CELLS_PER_EDGE: usize = 64;

/// The colour of each term's minimizer marker (and its legend swatch).
pub fn simplex_style(term: SimplexTerm) -> SeriesStyle {
    match term {
        SimplexTerm::Kl => SeriesStyle {
            color: palette::BLUE,
            dash: None,
        },
        SimplexTerm::Dice => SeriesStyle {
            color: palette::VERMILLION,
            dash: Some((8, 4)),
        },
        SimplexTerm::L1 => SeriesStyle {
            color: palette::GREEN,
            dash: Some((12, 3)),
        },
    }
}

/// Viridis, `t ∈ [0, 1]` (clamped), interpolated linearly between 9 anchors of matplotlib's
/// table: perceptually uniform and readable in grey and by colour-blind viewers.
pub fn viridis(t: f64) -> RGBColor {
    const A: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ];
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let x = t * (A.len() - 1) as f64;
    let i = (x.floor() as usize).min(A.len() - 2);
    let f = x - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + f * (b as f64 - a as f64)).round() as u8;
    RGBColor(
        mix(A[i].0, A[i + 1].0),
        mix(A[i].1, A[i + 1].1),
        mix(A[i].2, A[i + 1].2),
    )
}

/// Where the triangle landed, in backend pixels: maps pointer positions to proportions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimplexFrame {
    /// Backend pixel of the class-0 vertex (bottom left).
    pub origin: (f64, f64),
    /// Backend pixels per unit of triangle side.
    pub side: f64,
}

impl SimplexFrame {
    /// The backend pixel of a point given in barycentric coordinates.
    pub fn pixel(&self, b: [f64; 3]) -> (f64, f64) {
        let (x, y) = bary_to_xy(b);
        (self.origin.0 + self.side * x, self.origin.1 - self.side * y)
    }

    /// The proportions under a backend pixel, projected onto the triangle (for dragging).
    pub fn bary_at(&self, px: f64, py: f64) -> [f64; 3] {
        let (x, y) = self.plane(px, py);
        project_to_simplex(x, y)
    }

    /// Whether a backend pixel is inside the triangle.
    pub fn contains(&self, px: f64, py: f64) -> bool {
        let (x, y) = self.plane(px, py);
        xy_to_bary(x, y).iter().all(|&v| v >= 0.0)
    }

    fn plane(&self, px: f64, py: f64) -> (f64, f64) {
        let s = self.side.max(1e-9);
        ((px - self.origin.0) / s, (self.origin.1 - py) / s)
    }
}

fn fmt_val(v: f64) -> String {
    if v == f64::NEG_INFINITY {
        "−∞".into()
    } else if v == f64::INFINITY {
        "+∞".into()
    } else {
        format!("{v:.3}")
    }
}

fn fmt_point(b: [f64; 3]) -> String {
    format!("({:.2}, {:.2}, {:.2})", b[0], b[1], b[2])
}

/// Draws the simplex view: a viridis heat map of `data.term` (colour bar on the right; values
/// above `grid.color_max` saturate), its contour lines, vertex labels, the ground truth `u`
/// (white disc with a ring), the prediction `ŝ` (filled disc with a ring), and each term's
/// minimizer (a disc in the term's colour: KL's and L1's at `u`, Dice's at a vertex).
/// Returns the frame that maps pointer pixels to proportions.
pub fn draw_simplex<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &SimplexView,
    style: &PlotStyle,
) -> DrawResult<SimplexFrame, DB> {
    area.fill(&style.bg())?;
    let fg = style.fg();
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as f64, h as f64);
    let base = area.get_base_pixel();
    let pad = style.px(14.0) as f64;
    let title_h = style.px(40.0) as f64;
    let bar_w = style.px(70.0) as f64;
    let label_h = style.px(22.0) as f64;
    let avail_w = (w - 2.0 * pad - bar_w).max(10.0);
    let avail_h = (h - title_h - label_h - 2.0 * pad).max(10.0);
    let side = avail_w.min(avail_h / TRIANGLE_HEIGHT);
    let left = pad + (avail_w - side) / 2.0;
    let bottom = title_h + pad + label_h * 0.5 + side * TRIANGLE_HEIGHT;
    // Local (area) frame for drawing; the returned frame is in backend pixels.
    let local = SimplexFrame {
        origin: (left, bottom),
        side,
    };
    let ip = |p: (f64, f64)| (p.0.round() as i32, p.1.round() as i32);

    // Title: the term and its value at ŝ.
    let value_at_s = data
        .values
        .iter()
        .find(|v| v.0 == data.term)
        .map(|v| v.1)
        .unwrap_or(f64::NAN);
    area.draw(&Text::new(
        format!("{} at ŝ = {}", data.term.label(), fmt_val(value_at_s)),
        (pad as i32, style.px(6.0) as i32),
        style.font(15.0).color(&fg),
    ))?;
    area.draw(&Text::new(
        format!("u = {}   ŝ = {}", fmt_point(data.u), fmt_point(data.s)),
        (pad as i32, style.px(24.0) as i32),
        style.font(12.0).color(&fg),
    ))?;

    // Heat map.
    let g = &data.grid;
    let stride = g.resolution.div_ceil(MAX_CELLS_PER_EDGE).max(1);
    let span = (g.color_max - g.min).max(1e-12);
    let grow = 0.6 * style.scale; // hide anti-aliasing seams between neighbours
    for t in g.triangles(stride) {
        let mut sum = 0.0;
        let mut pts = [(0.0, 0.0); 3];
        for (k, &(i, j)) in t.iter().enumerate() {
            let v = g.at(i, j);
            sum += if v.is_nan() {
                g.min
            } else {
                v.clamp(g.min, g.color_max)
            };
            pts[k] = local.pixel(g.bary(i, j));
        }
        let color = viridis((sum / 3.0 - g.min) / span);
        let cx = (pts[0].0 + pts[1].0 + pts[2].0) / 3.0;
        let cy = (pts[0].1 + pts[1].1 + pts[2].1) / 3.0;
        let poly: Vec<(i32, i32)> = pts
            .iter()
            .map(|&(x, y)| {
                let (dx, dy) = (x - cx, y - cy);
                let d = (dx * dx + dy * dy).sqrt().max(1e-9);
                ip((x + grow * dx / d, y + grow * dy / d))
            })
            .collect();
        area.draw(&Polygon::new(poly, color.filled()))?;
    }

    // Contours.
    let contour_style = RGBColor(255, 255, 255)
        .mix(0.75)
        .stroke_width(style.px(1.0));
    for c in &data.contours {
        for seg in &c.segments {
            let a = (
                local.origin.0 + side * seg[0].0,
                local.origin.1 - side * seg[0].1,
            );
            let b = (
                local.origin.0 + side * seg[1].0,
                local.origin.1 - side * seg[1].1,
            );
            area.draw(&PathElement::new(vec![ip(a), ip(b)], contour_style))?;
        }
    }

    // Outline and vertex labels.
    let corners: Vec<(i32, i32)> = (0..3)
        .map(|j| ip(local.pixel(dicelens_core::simplex::vertex(j))))
        .collect();
    let mut outline = corners.clone();
    outline.push(corners[0]);
    area.draw(&PathElement::new(outline, fg.stroke_width(style.px(1.5))))?;
    let lf = style.font(13.0).color(&fg);
    let gap = style.px(4.0) as i32;
    area.draw(&Text::new(
        "class 0",
        (corners[0].0, corners[0].1 + gap),
        lf.pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    area.draw(&Text::new(
        "class 1",
        (corners[1].0, corners[1].1 + gap),
        lf.pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    area.draw(&Text::new(
        "class 2",
        (corners[2].0, corners[2].1 - gap),
        lf.pos(Pos::new(HPos::Center, VPos::Bottom)),
    ))?;

    // Minimizers, then u and ŝ on top.
    let r_min = style.px(5.0) as i32;
    for (term, m, _) in &data.minima {
        let p = ip(local.pixel(*m));
        let c = simplex_style(*term).color;
        area.draw(&Circle::new(p, r_min, c.filled()))?;
        area.draw(&Circle::new(p, r_min, fg.stroke_width(style.px(1.0))))?;
    }
    let pu = ip(local.pixel(data.u));
    let r_u = style.px(8.0) as i32;
    area.draw(&Circle::new(pu, r_u, WHITE.mix(0.9).filled()))?;
    area.draw(&Circle::new(pu, r_u, fg.stroke_width(style.px(2.5))))?;
    let ps = ip(local.pixel(data.s));
    let r_s = style.px(6.0) as i32;
    area.draw(&Circle::new(ps, r_s, fg.filled()))?;
    area.draw(&Circle::new(
        ps,
        r_s,
        style.bg().stroke_width(style.px(1.5)),
    ))?;
    let small = style.font(12.0).color(&fg);
    area.draw(&Text::new(
        "u",
        (pu.0 + r_u + gap, pu.1 - r_u - gap),
        small.pos(Pos::new(HPos::Left, VPos::Bottom)),
    ))?;
    area.draw(&Text::new(
        "ŝ",
        (ps.0 + r_s + gap, ps.1 + gap),
        small.pos(Pos::new(HPos::Left, VPos::Top)),
    ))?;

    // Legend of the minimizers (swatches, top left of the triangle's box).
    let mut ly = (title_h + pad) as i32;
    for (term, m, v) in &data.minima {
        let c = simplex_style(*term).color;
        let sw = style.px(10.0) as i32;
        area.draw(&Rectangle::new(
            [(pad as i32, ly), (pad as i32 + sw, ly + sw)],
            c.filled(),
        ))?;
        area.draw(&Text::new(
            format!("min {}: {} = {}", term.key(), fmt_point(*m), fmt_val(*v)),
            (pad as i32 + sw + gap, ly - 1),
            style.font(11.0).color(&fg),
        ))?;
        ly += style.px(15.0) as i32;
    }

    // Colour bar.
    let bx0 = (w - pad - bar_w + style.px(8.0) as f64) as i32;
    let bx1 = bx0 + style.px(14.0) as i32;
    let by0 = (title_h + pad) as i32;
    let by1 = bottom as i32;
    let steps = 32;
    for k in 0..steps {
        let t0 = k as f64 / steps as f64;
        let t1 = (k + 1) as f64 / steps as f64;
        let y0 = by1 as f64 - t1 * (by1 - by0) as f64;
        let y1 = by1 as f64 - t0 * (by1 - by0) as f64;
        area.draw(&Rectangle::new(
            [(bx0, y0.floor() as i32), (bx1, y1.ceil() as i32)],
            viridis(0.5 * (t0 + t1)).filled(),
        ))?;
    }
    area.draw(&Rectangle::new(
        [(bx0, by0), (bx1, by1)],
        fg.stroke_width(1),
    ))?;
    let saturated = g.color_max < g.max;
    area.draw(&Text::new(
        format!(
            "{}{}",
            if saturated { "≥" } else { "" },
            fmt_val(g.color_max)
        ),
        (bx1 + gap, by0),
        small.pos(Pos::new(HPos::Left, VPos::Center)),
    ))?;
    area.draw(&Text::new(
        fmt_val(g.min),
        (bx1 + gap, by1),
        small.pos(Pos::new(HPos::Left, VPos::Center)),
    ))?;

    Ok(SimplexFrame {
        origin: (left + base.0 as f64, bottom + base.1 as f64),
        side,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicelens_core::simplex_view;

    fn svg(term: SimplexTerm, u: [f64; 3], s: [f64; 3]) -> (String, SimplexFrame) {
        let view = simplex_view(term, u, s, 160, 5).expect("view");
        let mut out = String::new();
        let frame;
        {
            let root = SVGBackend::with_string(&mut out, (640, 520)).into_drawing_area();
            frame = draw_simplex(&root, &view, &PlotStyle::default()).expect("draw");
            root.present().expect("present");
        }
        (out, frame)
    }

    #[test]
    fn simplex_has_labels_markers_and_a_bounded_heat_map() {
        let (s, frame) = svg(SimplexTerm::Dice, [0.2, 0.3, 0.5], [0.3, 0.3, 0.4]);
        for label in [
            "class 0", "class 1", "class 2", "R_Dice", "min dice", "min kl",
        ] {
            assert!(s.contains(label), "missing {label}");
        }
        // u (2), ŝ (2) and three minimizers (2 each).
        assert_eq!(s.matches("<circle").count(), 10);
        let polys = s.matches("<polygon").count();
        assert!((1000..=64 * 64 + 10).contains(&polys), "{polys} polygons");
        assert!(s.matches("<polyline").count() > 50, "contours");
        // The frame maps the vertices back.
        let p = frame.pixel([0.0, 0.0, 1.0]);
        let b = frame.bary_at(p.0, p.1);
        assert!((b[2] - 1.0).abs() < 1e-9);
        assert!(frame.contains(
            frame.pixel([0.3, 0.3, 0.4]).0,
            frame.pixel([0.3, 0.3, 0.4]).1
        ));
        assert!(!frame.contains(0.0, 0.0));
    }

    #[test]
    fn simplex_changes_with_term_and_points() {
        let a = svg(SimplexTerm::Kl, [0.2, 0.3, 0.5], [0.3, 0.3, 0.4]).0;
        let b = svg(SimplexTerm::Dice, [0.2, 0.3, 0.5], [0.3, 0.3, 0.4]).0;
        let c = svg(SimplexTerm::Kl, [0.5, 0.3, 0.2], [0.3, 0.3, 0.4]).0;
        let d = svg(SimplexTerm::Kl, [0.2, 0.3, 0.5], [0.6, 0.2, 0.2]).0;
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn frame_accounts_for_a_sub_area() {
        let view =
            simplex_view(SimplexTerm::L1, [0.2, 0.3, 0.5], [0.3, 0.3, 0.4], 40, 3).expect("view");
        let mut out = String::new();
        let root = SVGBackend::with_string(&mut out, (800, 500)).into_drawing_area();
        let (_, right) = root.split_horizontally(300);
        let f = draw_simplex(&right, &view, &PlotStyle::default()).expect("draw");
        assert!(f.origin.0 >= 300.0);
    }

    #[test]
    fn viridis_runs_dark_to_light() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(2.0), viridis(1.0));
        let lum = |c: RGBColor| 0.3 * c.0 as f64 + 0.59 * c.1 as f64 + 0.11 * c.2 as f64;
        for k in 0..20 {
            assert!(lum(viridis((k + 1) as f64 / 20.0)) > lum(viridis(k as f64 / 20.0)));
        }
    }
}
