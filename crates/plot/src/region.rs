//! View 1: the binary region-size terms against the predicted proportion.

use dicelens_core::{RegionCurves, RegionTerm};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::{
    clip_to_ceiling, draw_series_line, fmt_prop, palette, DrawResult, PlotFrame, PlotStyle,
    SeriesStyle,
};

/// The style of each region term (shared by the legend in HTML and the plot).
pub fn region_style(term: RegionTerm) -> SeriesStyle {
    match term {
        RegionTerm::Kl => SeriesStyle {
            color: palette::BLUE,
            dash: None,
        },
        RegionTerm::DiceFg => SeriesStyle {
            color: palette::VERMILLION,
            dash: Some((8, 4)),
        },
        RegionTerm::DiceMean => SeriesStyle {
            color: palette::PURPLE,
            dash: Some((3, 3)),
        },
        RegionTerm::L1 => SeriesStyle {
            color: palette::GREEN,
            dash: Some((12, 3)),
        },
    }
}

/// The y range of the region-terms plot: every minimum visible, KL clipped where it explodes.
pub fn region_y_range(data: &RegionCurves) -> (f64, f64) {
    let lo = data
        .minima
        .iter()
        .map(|m| m.2)
        .chain(
            data.curves
                .iter()
                .flat_map(|(_, v)| v.iter().cloned())
                .filter(|v| v.is_finite()),
        )
        .fold(0.0f64, f64::min);
    (lo.min(-0.75) - 0.05, 2.0)
}

/// Draws the binary region-size terms against the predicted proportion `ŝ`, with a marker at
/// each term's minimum, the ground truth `u` and (optionally) the current `ŝ` as vertical lines.
pub fn draw_region_terms<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &RegionCurves,
    current_s: Option<f64>,
    style: &PlotStyle,
) -> DrawResult<PlotFrame, DB> {
    area.fill(&style.bg())?;
    let (y0, y1) = region_y_range(data);
    let fg = style.fg();
    let mut chart = ChartBuilder::on(area)
        .margin(style.px(10.0))
        .x_label_area_size(style.px(44.0))
        .y_label_area_size(style.px(54.0))
        .caption(
            format!("Region-size terms at u = {}", fmt_prop(data.u)),
            style.font(15.0).color(&fg),
        )
        .build_cartesian_2d(0.0f64..1.0f64, y0..y1)?;
    chart
        .configure_mesh()
        .light_line_style(style.grid().mix(0.0))
        .bold_line_style(style.grid())
        .axis_style(fg)
        .x_desc("predicted foreground proportion ŝ")
        .y_desc("region term (nats)")
        .label_style(style.font(12.0).color(&fg))
        .axis_desc_style(style.font(13.0).color(&fg))
        .x_labels(style.labels(6))
        .y_labels(style.labels(7))
        .draw()?;
    let width = style.px(2.5);
    // Ground truth u as a thin vertical guide.
    crate::draw_u_guide(&mut chart, data.u, (y0, y1), style)?;
    for (term, values) in &data.curves {
        let pts = clip_to_ceiling(&data.s, values, y1);
        draw_series_line(
            &mut chart,
            pts,
            region_style(*term),
            width,
            style.scale,
            term.label(),
        )?;
    }
    if let Some(s) = current_s {
        chart.draw_series(LineSeries::new(
            vec![(s, y0), (s, y1)],
            fg.stroke_width(style.px(1.5)),
        ))?;
    }
    let r = style.px(6.0) as i32;
    for &(term, s_min, v) in &data.minima {
        let c = region_style(term).color;
        chart.draw_series(std::iter::once(
            EmptyElement::at((s_min, v))
                + Circle::new((0, 0), r, c.filled())
                + Circle::new((0, 0), r, fg.stroke_width(style.px(1.0))),
        ))?;
    }
    crate::draw_legend(&mut chart, SeriesLabelPosition::UpperRight, style)?;
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    Ok(PlotFrame {
        x: (0.0, 1.0),
        y: (y0, y1),
        pixels: (xr.start, yr.start, xr.end, yr.end),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicelens_core::region_curves;

    fn svg(u: f64, s: Option<f64>) -> String {
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, (640, 400)).into_drawing_area();
            let frame = draw_region_terms(&root, &region_curves(u, 200), s, &PlotStyle::default())
                .expect("draw");
            assert!(frame.pixels.0 < frame.pixels.2 && frame.pixels.1 < frame.pixels.3);
            root.present().expect("present");
        }
        out
    }

    #[test]
    fn region_plot_has_labels_legend_and_markers() {
        let s = svg(0.1, Some(0.3));
        assert!(s.starts_with("<svg"));
        assert!(s.contains("predicted foreground proportion"));
        assert!(s.contains("Region-size terms at u = 0.100"));
        for t in RegionTerm::ALL {
            // SVG escapes the apostrophe; compare the part after it.
            let tail = t.label().rsplit('\'').next().unwrap_or_default();
            assert!(s.contains(tail), "legend {t:?}");
        }
        // Four minimum markers: each is two circles.
        assert!(s.matches("<circle").count() >= 8);
    }

    #[test]
    fn plot_changes_with_u() {
        assert_ne!(svg(0.1, None), svg(0.4, None));
    }
}
