//! The temperature view (what `T` does to the region terms) and the pooled view (per image
//! against pooled).

use dicelens_core::pooled::PooledView;
use dicelens_core::temperature::TemperatureView;
use dicelens_core::FamilyLoss;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::family::{family_label, family_style};
use crate::{draw_series_line, palette, DrawResult, PlotFrame, PlotStyle, SeriesStyle};

/// Axis labels of a `log10` coordinate: the value it stands for.
fn pow10_label(v: &f64) -> String {
    let x = 10f64.powf(*v);
    if x >= 10.0 {
        format!("{x:.0}")
    } else if x >= 0.1 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

fn plain_label(v: &f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The house mesh; `log` says which axes hold `log10` values (labelled by what they stand for).
fn mesh<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    style: &PlotStyle,
    x_desc: &str,
    y_desc: &str,
    log: (bool, bool),
) -> DrawResult<(), DB> {
    let fg = style.fg();
    let fx = if log.0 { pow10_label } else { plain_label };
    let fy = if log.1 { pow10_label } else { plain_label };
    chart
        .configure_mesh()
        .x_label_formatter(&fx)
        .y_label_formatter(&fy)
        .light_line_style(style.grid().mix(0.0))
        .bold_line_style(style.grid())
        .axis_style(fg)
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(style.font(12.0).color(&fg))
        .axis_desc_style(style.font(13.0).color(&fg))
        .x_labels(style.labels(8))
        .y_labels(style.labels(8))
        .draw()
}

fn ratio_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((1.0f64, 1.0f64), |(a, b), v| (a.min(v), b.max(v)));
    ((lo / 1.5).max(1e-3), (hi * 1.5).min(1e4))
}

/// The right panel's title.
const RIGHT_TITLE: &str = "Optimum ŝ*/u (solid soft, dashed thresholded)";

/// Draws the temperature view (two panels, side by side or, on a tall area, stacked): left, `ŝ`, `ŝ_T` and the thresholded proportion at the
/// current shift against `T`; right, CE+L1's and CE+KL's optimum (soft solid, thresholded
/// dashed) as a ratio to `u` against `T`, with CE's as reference.
pub fn draw_temperature<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    v: &TemperatureView,
    style: &PlotStyle,
) -> DrawResult<PlotFrame, DB> {
    area.fill(&style.bg())?;
    let fg = style.fg();
    // Side by side when the area is wide, stacked when it is tall (phones).
    let (w, h_px) = area.dim_in_pixel();
    let (left, right) = if w as f64 >= 1.2 * h_px as f64 {
        area.split_horizontally(w / 2)
    } else {
        area.split_vertically(h_px / 2)
    };
    let h = &v.here;
    let (t0, t1) = (h.ts[0], h.ts[h.ts.len() - 1]);
    let width = style.px(2.5);
    // Left: proportions.
    {
        let ys = h.s_t_curve.iter().copied().chain([h.s, h.hard, h.params.u]);
        let hi = ys.fold(0.0f64, f64::max);
        let y1 = (hi * 1.15).clamp(1e-3, 1.0);
        let mut chart = ChartBuilder::on(&left)
            .margin(style.px(10.0))
            .x_label_area_size(style.px(40.0))
            .y_label_area_size(style.px(54.0))
            .caption(
                "At the current ŝ",
                style
                    .title_font(&left, "At the current ŝ", 14.0, 10.0)
                    .color(&fg),
            )
            .build_cartesian_2d(t0..t1, 0.0..y1)?;
        mesh(
            &mut chart,
            style,
            "temperature T",
            "proportion",
            (false, false),
        )?;
        let flat = |y: f64| vec![(t0, y), (t1, y)];
        chart.draw_series(DashedLineSeries::new(
            flat(h.params.u),
            style.px(4.0),
            style.px(4.0),
            fg.mix(0.5).stroke_width(style.px(1.0)),
        ))?;
        draw_series_line(
            &mut chart,
            flat(h.s),
            SeriesStyle {
                color: palette::BLUE,
                dash: None,
            },
            width,
            style.scale,
            "soft ŝ",
        )?;
        draw_series_line(
            &mut chart,
            h.ts.iter()
                .copied()
                .zip(h.s_t_curve.iter().copied())
                .collect(),
            SeriesStyle {
                color: palette::GREEN,
                dash: Some((12, 3)),
            },
            width,
            style.scale,
            "sharpened ŝ_T",
        )?;
        draw_series_line(
            &mut chart,
            flat(h.hard),
            SeriesStyle {
                color: palette::VERMILLION,
                dash: Some((3, 3)),
            },
            width,
            style.scale,
            "thresholded (z > 0)",
        )?;
        if (t0..=t1).contains(&h.params.temp) {
            chart.draw_series(LineSeries::new(
                vec![(h.params.temp, 0.0), (h.params.temp, y1)],
                fg.stroke_width(style.px(1.0)),
            ))?;
        }
        crate::draw_legend(&mut chart, SeriesLabelPosition::UpperRight, style)?;
    }
    // Right: optima as ratios to u.
    {
        let c = &v.curves;
        let all = c
            .curves
            .iter()
            .flat_map(|(_, o)| o.iter().flat_map(|o| [o.soft, o.hard]))
            .chain([c.ce.soft, c.ce.hard]);
        let (y0, y1) = ratio_range(all);
        let (ly0, ly1) = (y0.log10(), y1.log10());
        let lg = |v: f64| v.clamp(y0, y1).log10();
        let mut chart = ChartBuilder::on(&right)
            .margin(style.px(10.0))
            .x_label_area_size(style.px(40.0))
            .y_label_area_size(style.px(54.0))
            .caption(
                RIGHT_TITLE,
                style.title_font(&right, RIGHT_TITLE, 14.0, 10.0).color(&fg),
            )
            .build_cartesian_2d(t0..t1, ly0..ly1)?;
        mesh(
            &mut chart,
            style,
            "temperature T",
            "ratio to u (log scale)",
            (false, true),
        )?;
        let flat = |y: f64| vec![(t0, lg(y)), (t1, lg(y))];
        chart.draw_series(LineSeries::new(
            flat(1.0),
            fg.mix(0.6).stroke_width(style.px(1.0)),
        ))?;
        let ce = family_style(FamilyLoss::Ce).color;
        draw_series_line(
            &mut chart,
            flat(c.ce.soft),
            SeriesStyle {
                color: ce,
                dash: None,
            },
            width,
            style.scale,
            "CE soft",
        )?;
        draw_series_line(
            &mut chart,
            flat(c.ce.hard),
            SeriesStyle {
                color: ce,
                dash: Some((6, 4)),
            },
            width,
            style.scale,
            "CE thresholded",
        )?;
        for (loss, o) in &c.curves {
            let color = family_style(*loss).color;
            let pts = |f: &dyn Fn(&dicelens_core::temperature::TempOptimum) -> f64| {
                o.iter().map(|o| (o.temp, lg(f(o)))).collect::<Vec<_>>()
            };
            draw_series_line(
                &mut chart,
                pts(&|o| o.soft),
                SeriesStyle { color, dash: None },
                width,
                style.scale,
                &format!("{} soft", family_label(*loss)),
            )?;
            draw_series_line(
                &mut chart,
                pts(&|o| o.hard),
                SeriesStyle {
                    color,
                    dash: Some((6, 4)),
                },
                width,
                style.scale,
                &format!("{} thresholded", family_label(*loss)),
            )?;
        }
        if (t0..=t1).contains(&h.params.temp) {
            chart.draw_series(LineSeries::new(
                vec![(h.params.temp, ly0), (h.params.temp, ly1)],
                fg.stroke_width(style.px(1.0)),
            ))?;
        }
        crate::draw_legend(&mut chart, SeriesLabelPosition::LowerRight, style)?;
        let (xr, yr) = chart.plotting_area().get_pixel_range();
        Ok(PlotFrame {
            x: (t0, t1),
            y: (ly0, ly1),
            pixels: (xr.start, yr.start, xr.end, yr.end),
        })
    }
}

/// Draws the pooled view: each image's optimal ratio (soft solid, thresholded dashed) against
/// its size `u_j`, log–log, for CE, CE+L1 and CE+KL, with the line ratio = 1.
pub fn draw_pooled<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    v: &PooledView,
    style: &PlotStyle,
) -> DrawResult<PlotFrame, DB> {
    area.fill(&style.bg())?;
    let fg = style.fg();
    let mut order: Vec<usize> = (0..v.sizes.len()).collect();
    order.sort_by(|a, b| v.sizes[*a].total_cmp(&v.sizes[*b]));
    let (x0, x1) = (
        v.sizes[order[0]] / 1.3,
        v.sizes[order[order.len() - 1]] * 1.3,
    );
    let (y0, y1) = ratio_range(
        v.optima
            .iter()
            .flat_map(|o| o.soft.iter().chain(&o.hard).copied()),
    );
    let (lx0, lx1, ly0, ly1) = (x0.log10(), x1.log10(), y0.log10(), y1.log10());
    let lg = |v: f64| v.clamp(y0, y1).log10();
    let mut chart = ChartBuilder::on(area)
        .margin(style.px(10.0))
        .x_label_area_size(style.px(44.0))
        .y_label_area_size(style.px(60.0))
        .caption(
            if area.dim_in_pixel().0 < style.px(560.0) {
                "ŝ/u per image (solid soft, dashed thresholded)"
            } else {
                "Each image's ŝ/u at the batch optimum (solid soft, dashed thresholded)"
            },
            style.font(15.0).color(&fg),
        )
        .build_cartesian_2d(lx0..lx1, ly0..ly1)?;
    mesh(
        &mut chart,
        style,
        "image's foreground proportion u_j (log scale)",
        "ratio to u_j (log scale)",
        (true, true),
    )?;
    chart.draw_series(LineSeries::new(
        vec![(lx0, 0.0), (lx1, 0.0)],
        fg.mix(0.6).stroke_width(style.px(1.0)),
    ))?;
    let width = style.px(2.5);
    let r = style.px(4.0) as i32;
    for o in &v.optima {
        let color = family_style(o.loss).color;
        for (hard, vals) in [(false, &o.soft), (true, &o.hard)] {
            let pts: Vec<(f64, f64)> = order
                .iter()
                .map(|&j| (v.sizes[j].log10(), lg(vals[j])))
                .collect();
            draw_series_line(
                &mut chart,
                pts.clone(),
                SeriesStyle {
                    color,
                    dash: hard.then_some((6, 4)),
                },
                width,
                style.scale,
                &format!(
                    "{} {}",
                    family_label(o.loss),
                    if hard { "thresholded" } else { "soft" }
                ),
            )?;
            chart.draw_series(pts.into_iter().map(|p| {
                EmptyElement::at(p)
                    + Circle::new(
                        (0, 0),
                        r,
                        if hard {
                            color.stroke_width(style.px(1.5))
                        } else {
                            color.filled()
                        },
                    )
            }))?;
        }
    }
    crate::draw_legend(&mut chart, SeriesLabelPosition::UpperRight, style)?;
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    Ok(PlotFrame {
        x: (lx0, lx1),
        y: (ly0, ly1),
        pixels: (xr.start, yr.start, xr.end, yr.end),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicelens_core::pooled::{pooled_view, BatchSizes};
    use dicelens_core::temperature::temperature_view;
    use dicelens_core::FamilyParams;

    #[test]
    fn both_views_draw_to_svg() {
        let p = FamilyParams {
            lambda: 1.0,
            temp: 10.0,
            ..FamilyParams::default()
        };
        let t = temperature_view(&p, 0.3).unwrap();
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (900, 450)).into_drawing_area();
            draw_temperature(&root, &t, &PlotStyle::default()).unwrap();
        }
        assert!(svg.contains("sharpened ŝ_T") && svg.contains("CE+L1 thresholded"));
        let v = pooled_view(&p, &BatchSizes::default()).unwrap();
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (800, 500)).into_drawing_area();
            draw_pooled(&root, &v, &PlotStyle::default()).unwrap();
        }
        assert!(svg.contains("CE+KL thresholded"));
        // One marker per image, loss and kind.
        assert!(
            svg.matches("<circle").count() >= 8 * 3 * 2,
            "{}",
            svg.matches("<circle").count()
        );
    }
}
