//! The `gradients` view: `N·∂L/∂z` of one foreground and one background pixel against `u`.
//!
//! Two panels (foreground pixel, background pixel), `u` on a log axis, the gradient on a
//! symmetric log scale (linear within `±SYMLOG_LIN`, logarithmic outside), because Dice's push
//! spans three decades while CE's stays within `[−1, 1]`.

use dicelens_core::{FamilyLoss, GradCurves};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::family::{family_label, family_style};
use crate::{draw_series_line, DrawResult, PlotStyle};

/// Below this size the gradient axis is linear.
pub const SYMLOG_LIN: f64 = 0.01;

/// The symmetric log transform: `y/c` inside `±c`, `±(1 + log10(|y|/c))` outside, so that the
/// integers `±1, ±2, ±3 …` are `±c, ±10c, ±100c …`.
pub fn symlog(y: f64) -> f64 {
    let a = y.abs() / SYMLOG_LIN;
    if a <= 1.0 {
        y / SYMLOG_LIN
    } else {
        y.signum() * (1.0 + a.log10())
    }
}

/// The inverse of [`symlog`].
pub fn symlog_inv(t: f64) -> f64 {
    if t.abs() <= 1.0 {
        t * SYMLOG_LIN
    } else {
        t.signum() * SYMLOG_LIN * 10f64.powf(t.abs() - 1.0)
    }
}

/// A tick label of the symmetric log axis.
fn tick(t: &f64) -> String {
    let v = symlog_inv(*t);
    if v == 0.0 {
        return "0".into();
    }
    let digits = (1 - v.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Draws both panels; the legend sits in the background panel.
pub fn draw_gradients<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &GradCurves,
    style: &PlotStyle,
) -> DrawResult<(), DB> {
    area.fill(&style.bg())?;
    let (w, h) = area.dim_in_pixel();
    let panels = if w as f64 >= 1.2 * h as f64 {
        area.split_evenly((1, 2))
    } else {
        area.split_evenly((2, 1))
    };
    // One y range for both panels so that their heights compare.
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for (_, v) in &data.values {
        for g in v.iter().flatten().filter(|g| g.is_finite()) {
            lo = lo.min(symlog(*g));
            hi = hi.max(symlog(*g));
        }
    }
    let (y0, y1) = ((lo - 0.2).floor(), (hi + 0.2).ceil());
    let p = data.params;
    let titles = [
        format!("Foreground pixel (p_fg = {})", fmt_p(p.p_fg)),
        format!("Background pixel (p_bg = {})", fmt_p(p.p_bg)),
    ];
    for (j, panel) in panels.iter().enumerate() {
        draw_panel(panel, data, j, &titles[j], (y0, y1), style)?;
    }
    Ok(())
}

fn fmt_p(v: f64) -> String {
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &GradCurves,
    j: usize,
    title: &str,
    (y0, y1): (f64, f64),
    style: &PlotStyle,
) -> DrawResult<(), DB> {
    let fg = style.fg();
    let (x0, x1) = (
        data.us.first().copied().unwrap_or(0.001),
        data.us.last().copied().unwrap_or(0.5),
    );
    let mut chart = ChartBuilder::on(area)
        .margin(style.px(8.0))
        .x_label_area_size(style.px(44.0))
        .y_label_area_size(style.px(54.0))
        .caption(title, style.font(14.0).color(&fg))
        .build_cartesian_2d((x0..x1).log_scale(), y0..y1)?;
    chart
        .configure_mesh()
        .light_line_style(style.grid().mix(0.0))
        .bold_line_style(style.grid())
        .axis_style(fg)
        .x_desc("foreground proportion u (log scale)")
        .y_desc("N·∂L/∂z (symmetric log scale)")
        .label_style(style.font(12.0).color(&fg))
        .axis_desc_style(style.font(13.0).color(&fg))
        .x_label_formatter(&|v| crate::fmt_prop(*v))
        .y_labels(((y1 - y0) as usize + 1).min(style.labels(13)))
        .y_label_formatter(&tick)
        .draw()?;
    chart.draw_series(LineSeries::new(
        vec![(x0, 0.0), (x1, 0.0)],
        fg.mix(0.6).stroke_width(style.px(1.0)),
    ))?;
    let u = data.params.u;
    if u >= x0 && u <= x1 {
        crate::draw_u_guide(&mut chart, u, (y0, y1), style)?;
    }
    let width = style.px(2.5);
    for loss in FamilyLoss::ALL {
        let Some(v) = data.curve(loss) else { continue };
        let pts: Vec<(f64, f64)> = data
            .us
            .iter()
            .zip(v)
            .filter(|(_, g)| g[j].is_finite())
            .map(|(&x, g)| (x, symlog(g[j]).clamp(y0, y1)))
            .collect();
        draw_series_line(
            &mut chart,
            pts,
            family_style(loss),
            width,
            style.scale,
            family_label(loss),
        )?;
    }
    // The background pixel's push is (nearly always) positive: its lower half is free.
    if j == 1 {
        crate::draw_legend(&mut chart, SeriesLabelPosition::LowerRight, style)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicelens_core::gradients::curve_grid;
    use dicelens_core::{gradient_curves, GradParams};

    fn svg(p: GradParams, size: (u32, u32)) -> String {
        let data = gradient_curves(p, &curve_grid()).expect("valid");
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
            draw_gradients(&root, &data, &PlotStyle::default()).expect("draw");
            root.present().expect("present");
        }
        out
    }

    #[test]
    fn symlog_round_trips_and_is_monotone() {
        let mut prev = f64::NEG_INFINITY;
        for k in -400..=400 {
            let y = (k as f64 / 40.0).sinh() * 0.01;
            let t = symlog(y);
            assert!(t > prev, "{y}");
            prev = t;
            assert!((symlog_inv(t) - y).abs() <= 1e-12 * (1.0 + y.abs()), "{y}");
        }
        assert_eq!(symlog(0.1), 2.0);
        assert_eq!(symlog(-100.0), -5.0);
        assert_eq!(tick(&3.0), "1");
        assert_eq!(tick(&-2.0), "-0.1");
    }

    #[test]
    fn both_panels_every_loss_and_the_current_u() {
        let s = svg(GradParams::default(), (900, 420));
        assert!(s.contains("Foreground pixel (p_fg = 0.7)"));
        assert!(s.contains("Background pixel (p_bg = 0.05)"));
        assert!(s.contains("symmetric log scale"));
        for l in FamilyLoss::ALL {
            assert!(s.contains(family_label(l)), "{l:?}");
        }
        // 8 losses × 2 panels, plus the zero lines.
        assert!(
            s.matches("<polyline").count() >= 16 + 2,
            "{}",
            s.matches("<polyline").count()
        );
        let moved = svg(
            GradParams {
                u: 0.3,
                ..GradParams::default()
            },
            (900, 420),
        );
        assert_ne!(s, moved, "the current-u line moves");
        // A phone-shaped area stacks the panels and still draws.
        let tall = svg(GradParams::default(), (380, 700));
        assert!(tall.contains("Background pixel"));
    }
}
