//! The data view's plots ("audit your own segmentation"): the histogram of the foreground
//! proportions `u`, each image's predicted against true proportion (soft and thresholded,
//! log–log, with the diagonal), and the reliability diagram. The numbers come from
//! [`dicelens_core::audit::AuditReport`].

use dicelens_core::audit::AuditReport;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::{palette, DrawResult, PlotStyle};

/// Lowest `u` and `ŝ` shown on the log axes (smaller values, e.g. a thresholded `ŝ = 0`, sit on
/// the axis).
pub const DATA_FLOOR: f64 = 1e-4;

/// How a plot's y axis is labelled.
#[derive(Clone, Copy)]
enum YAxis {
    /// `log10` of a proportion, labelled with the proportion.
    Log,
    /// A number, two decimals.
    Linear,
    /// A count: whole numbers.
    Count,
}

fn mesh<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    style: &PlotStyle,
    x_desc: &str,
    y_desc: &str,
    log_x: bool,
    y: YAxis,
) -> DrawResult<(), DB> {
    let fg = style.fg();
    let fmt_log = |v: &f64| crate::fmt_prop(10f64.powf(*v));
    let fmt_lin = |v: &f64| format!("{v:.2}");
    // Counts: whole numbers only (a tick between two counts gets no label).
    let fmt_count = |v: &f64| {
        let r = v.round();
        if (v - r).abs() < 1e-9 {
            format!("{r:.0}")
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .light_line_style(style.grid().mix(0.0))
        .bold_line_style(style.grid())
        .axis_style(fg)
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(style.font(11.0).color(&fg))
        .axis_desc_style(style.font(12.0).color(&fg))
        .x_labels(style.labels(6))
        .y_labels(style.labels(6))
        .x_label_formatter(if log_x { &fmt_log } else { &fmt_lin })
        .y_label_formatter(match y {
            YAxis::Log => &fmt_log,
            YAxis::Linear => &fmt_lin,
            YAxis::Count => &fmt_count,
        })
        .draw()?;
    Ok(())
}

/// Histogram of the per-image (per class) foreground proportions `u`, log-spaced bins.
pub fn draw_data_sizes<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    r: &AuditReport,
    style: &PlotStyle,
) -> DrawResult<(), DB> {
    area.fill(&style.bg())?;
    let fg = style.fg();
    let top = r.hist.iter().map(|b| b.count).max().unwrap_or(0).max(1) as f64;
    let (l0, l1) = (DATA_FLOOR.log10(), 0.0);
    let mut chart = ChartBuilder::on(area)
        .margin(style.px(8.0))
        .x_label_area_size(style.px(40.0))
        .y_label_area_size(style.px(46.0))
        .caption(
            "Your images' foreground proportions u",
            style.font(14.0).color(&fg),
        )
        .build_cartesian_2d(l0..l1, 0.0..top * 1.1)?;
    mesh(
        &mut chart,
        style,
        "foreground proportion u (log scale)",
        "images (per class)",
        true,
        YAxis::Count,
    )?;
    let c = palette::BLUE;
    chart.draw_series(r.hist.iter().filter(|b| b.count > 0).map(|b| {
        Rectangle::new(
            [(b.lo.log10(), 0.0), (b.hi.log10(), b.count as f64)],
            c.mix(0.75).filled(),
        )
    }))?;
    // The size bins' edges, 2% and 10%.
    for edge in [0.02f64, 0.10] {
        chart.draw_series(DashedLineSeries::new(
            vec![(edge.log10(), 0.0), (edge.log10(), top * 1.1)],
            style.px(3.0),
            style.px(4.0),
            fg.mix(0.4).stroke_width(style.px(1.0)),
        ))?;
    }
    Ok(())
}

/// Each (image, foreground class): predicted `ŝ` (soft: filled circle; thresholded: cross)
/// against `u`, log–log, with the diagonal `ŝ = u`.
pub fn draw_data_ratios<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    r: &AuditReport,
    style: &PlotStyle,
) -> DrawResult<(), DB> {
    area.fill(&style.bg())?;
    let fg = style.fg();
    let (l0, l1) = (DATA_FLOOR.log10(), 0.0);
    let mut chart = ChartBuilder::on(area)
        .margin(style.px(8.0))
        .x_label_area_size(style.px(40.0))
        .y_label_area_size(style.px(52.0))
        .caption(
            "Your model: predicted against true proportion",
            style.font(14.0).color(&fg),
        )
        .build_cartesian_2d(l0..l1, l0..l1)?;
    mesh(
        &mut chart,
        style,
        "ground-truth proportion u (log scale)",
        "predicted ŝ (log scale)",
        true,
        YAxis::Log,
    )?;
    chart
        .draw_series(LineSeries::new(
            vec![(l0, l0), (l1, l1)],
            fg.mix(0.7).stroke_width(style.px(1.0)),
        ))?
        .label("ŝ = u")
        .legend({
            let lw = style.px(18.0) as i32;
            move |(x, y)| PathElement::new(vec![(x, y), (x + lw, y)], fg.mix(0.7))
        });
    let Some(m) = r.metrics.as_ref() else {
        return Ok(());
    };
    let lg = |v: f64| v.clamp(DATA_FLOOR, 1.0).log10();
    let pts = m.points.iter().filter(|p| p.u > 0.0);
    let soft: Vec<(f64, f64)> = pts.clone().map(|p| (lg(p.u), lg(p.soft))).collect();
    let hard: Vec<(f64, f64)> = pts.map(|p| (lg(p.u), lg(p.hard))).collect();
    let rad = style.px(3.5) as i32;
    let (cs, ch) = (palette::BLUE, palette::VERMILLION);
    chart
        .draw_series(
            soft.iter()
                .map(|&p| Circle::new(p, rad, cs.mix(0.8).filled())),
        )?
        .label("soft ŝ (mean probability)")
        .legend(move |(x, y)| Circle::new((x + rad, y), rad, cs.filled()));
    let sw = style.px(1.5);
    chart
        .draw_series(
            hard.iter()
                .map(|&p| Cross::new(p, rad + 1, ch.mix(0.9).stroke_width(sw))),
        )?
        .label("thresholded ŝ (p > 0.5 / argmax)")
        .legend(move |(x, y)| Cross::new((x + rad, y), rad + 1, ch.stroke_width(sw)));
    crate::draw_legend(&mut chart, SeriesLabelPosition::UpperLeft, style)?;
    Ok(())
}

/// The reliability diagram: observed frequency against mean confidence per bin, with the
/// diagonal.
pub fn draw_data_reliability<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    r: &AuditReport,
    style: &PlotStyle,
) -> DrawResult<(), DB> {
    area.fill(&style.bg())?;
    let fg = style.fg();
    let mut chart = ChartBuilder::on(area)
        .margin(style.px(8.0))
        .x_label_area_size(style.px(40.0))
        .y_label_area_size(style.px(46.0))
        .caption("Reliability diagram", style.font(14.0).color(&fg))
        .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
    mesh(
        &mut chart,
        style,
        "predicted probability (confidence)",
        "observed frequency",
        false,
        YAxis::Linear,
    )?;
    chart.draw_series(LineSeries::new(
        vec![(0.0, 0.0), (1.0, 1.0)],
        fg.mix(0.6).stroke_width(style.px(1.0)),
    ))?;
    let Some(m) = r.metrics.as_ref() else {
        return Ok(());
    };
    let pts: Vec<(f64, f64)> = m
        .reliability
        .iter()
        .filter_map(|b| Some((b.confidence?, b.accuracy?)))
        .collect();
    let c = palette::GREEN;
    chart.draw_series(LineSeries::new(pts.clone(), c.stroke_width(style.px(2.0))))?;
    chart.draw_series(
        pts.iter()
            .map(|&p| Circle::new(p, style.px(3.0) as i32, c.filled())),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicelens_core::audit::{audit_arrays, AuditConfig, PredKind};
    use ndarray::{Array3, Array4};

    #[test]
    fn the_three_plots_draw_to_svg() {
        let y = Array3::from_shape_fn((3, 8, 8), |(i, r, c)| ((r * 8 + c) < 2 + 10 * i) as i64);
        let z = Array4::from_shape_fn((3, 1, 8, 8), |(i, _, r, c)| {
            if y[[i, r, c]] == 1 {
                1.5
            } else {
                -1.0 - 0.1 * c as f64
            }
        });
        let rep = audit_arrays(
            y.view(),
            Some((z.view(), PredKind::Logits)),
            AuditConfig::default(),
        )
        .unwrap();
        let labels_only = audit_arrays(y.view(), None, AuditConfig::default()).unwrap();
        let style = PlotStyle::default();
        for r in [&rep, &labels_only] {
            let mut svgs = Vec::new();
            for which in 0..3 {
                let mut svg = String::new();
                {
                    let root = SVGBackend::with_string(&mut svg, (640, 400)).into_drawing_area();
                    match which {
                        0 => draw_data_sizes(&root, r, &style),
                        1 => draw_data_ratios(&root, r, &style),
                        _ => draw_data_reliability(&root, r, &style),
                    }
                    .unwrap();
                    root.present().unwrap();
                }
                svgs.push(svg);
            }
            assert!(svgs[0].contains("foreground proportions u"));
            // The counts axis (its labels are the right-aligned ones) shows whole numbers.
            let y_labels: Vec<&str> = svgs[0]
                .split("<text ")
                .skip(1)
                .filter(|t| t.contains(r#"text-anchor="end""#))
                .filter_map(|t| t.split('>').nth(1).and_then(|x| x.split('<').next()))
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .collect();
            assert!(y_labels.len() >= 2, "{y_labels:?}");
            for l in &y_labels {
                assert!(
                    l.parse::<u32>().is_ok(),
                    "count label {l:?} in {y_labels:?}"
                );
            }
            // One bar per non-empty histogram bin.
            let bars = r.hist.iter().filter(|b| b.count > 0).count();
            assert!(bars > 0);
            assert!(svgs[0].matches("<rect").count() >= bars);
            if r.metrics.is_some() {
                assert!(svgs[1].matches("<circle").count() >= 3);
                assert!(svgs[1].contains("thresholded"));
            } else {
                assert!(!svgs[1].contains("thresholded"));
            }
        }
    }
}
