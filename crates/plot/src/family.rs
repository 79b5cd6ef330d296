//! Views 2 and 3: full losses along the logit-shift family, and the bias map `ŝ*(u)`.

use dicelens_core::sweep::FamilySweep;
use dicelens_core::FamilyLoss;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::{draw_series_line, palette, DrawResult, PlotFrame, PlotStyle, SeriesStyle};

/// The losses drawn on the family and bias-map plots (two-class log-Dice is listed, not drawn).
pub const FAMILY_PLOTTED: [FamilyLoss; 7] = [
    FamilyLoss::Ce,
    FamilyLoss::DiceFg,
    FamilyLoss::DiceMean,
    FamilyLoss::LogDiceFg,
    FamilyLoss::DiceCe,
    FamilyLoss::CeL1,
    FamilyLoss::CeKl,
];

/// Legend label of a family loss.
pub fn family_label(loss: FamilyLoss) -> &'static str {
    match loss {
        FamilyLoss::Ce => "CE",
        FamilyLoss::DiceFg => "Dice (foreground)",
        FamilyLoss::DiceMean => "Dice (two-class mean)",
        FamilyLoss::LogDiceFg => "log-Dice (foreground)",
        FamilyLoss::LogDiceMean => "log-Dice (two-class mean)",
        FamilyLoss::DiceCe => "Dice+CE (MONAI)",
        FamilyLoss::CeL1 => "CE+L1",
        FamilyLoss::CeKl => "CE+KL",
    }
}

/// Colour and dash of a family loss (the colour-blind-safe palette, with dashes as a second cue).
pub fn family_style(loss: FamilyLoss) -> SeriesStyle {
    let (color, dash) = match loss {
        FamilyLoss::Ce => (palette::BLUE, None),
        FamilyLoss::DiceFg => (palette::VERMILLION, Some((8, 4))),
        FamilyLoss::DiceMean => (palette::PURPLE, Some((3, 3))),
        FamilyLoss::LogDiceFg => (palette::ORANGE, Some((14, 4))),
        FamilyLoss::LogDiceMean => (palette::ORANGE, Some((3, 5))),
        FamilyLoss::DiceCe => (palette::SKY, Some((6, 2))),
        FamilyLoss::CeL1 => (palette::GREEN, Some((12, 3))),
        FamilyLoss::CeKl => (RGBColor(90, 90, 90), Some((2, 2))),
    };
    SeriesStyle { color, dash }
}

/// What the family plot shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FamilyPlotOptions {
    /// Min–max normalise each curve over the shown range (so shapes compare); raw otherwise.
    pub normalized: bool,
    /// The current predicted proportion (vertical line), if any.
    pub current_s: Option<f64>,
}

fn minmax(v: &[f64]) -> (f64, f64) {
    v.iter()
        .filter(|x| x.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        })
}

/// Draws every plotted loss against `ŝ` (log axis) with each minimizer marked. The returned
/// frame's x range is in `log10(ŝ)`.
pub fn draw_family<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    sweep: &FamilySweep,
    opts: FamilyPlotOptions,
    style: &PlotStyle,
) -> DrawResult<PlotFrame, DB> {
    area.fill(&style.bg())?;
    let fg = style.fg();
    let xs: Vec<f64> = sweep.points.iter().map(|p| p.s_hat).collect();
    let lx: Vec<f64> = xs.iter().map(|x| x.log10()).collect();
    let (x0, x1) = (xs[0], xs[xs.len() - 1]);
    let curves: Vec<(FamilyLoss, Vec<f64>)> = FAMILY_PLOTTED
        .iter()
        .filter_map(|l| sweep.values.iter().find(|(k, _)| k == l).cloned())
        .map(|(l, v)| {
            if opts.normalized {
                let (lo, hi) = minmax(&v);
                let span = (hi - lo).max(1e-300);
                (l, v.iter().map(|x| (x - lo) / span).collect())
            } else {
                (l, v)
            }
        })
        .collect();
    let (y0, y1) = if opts.normalized {
        (-0.05, 1.05)
    } else {
        let (lo, _) = curves
            .iter()
            .map(|(_, v)| minmax(v))
            .fold((f64::INFINITY, 0.0), |a, b| (a.0.min(b.0), 0.0));
        let lo = lo.min(0.0);
        (lo, lo + 3.0)
    };
    let mut chart = ChartBuilder::on(area)
        .margin(style.px(10.0))
        .x_label_area_size(style.px(44.0))
        .y_label_area_size(style.px(54.0))
        .caption(
            format!(
                "Losses along the logit-shift family (u = {})",
                crate::fmt_prop(sweep.u)
            ),
            style.font(15.0).color(&fg),
        )
        .build_cartesian_2d(x0.log10()..x1.log10(), y0..y1)?;
    chart
        .configure_mesh()
        .light_line_style(style.grid().mix(0.0))
        .bold_line_style(style.grid())
        .axis_style(fg)
        .x_desc("predicted foreground proportion ŝ (log scale)")
        .y_desc(if opts.normalized {
            "loss, min–max normalised"
        } else {
            "loss"
        })
        .label_style(style.font(12.0).color(&fg))
        .axis_desc_style(style.font(13.0).color(&fg))
        .x_labels(style.labels(8))
        .y_labels(style.labels(11))
        .x_label_formatter(&|v| crate::fmt_prop(10f64.powf(*v)))
        .draw()?;
    // The x axis is log10(ŝ): plotters' log axes label only powers of ten.
    let guide = |x: f64| vec![(x.log10(), y0), (x.log10(), y1)];
    crate::draw_u_guide(&mut chart, sweep.u.log10(), (y0, y1), style)?;
    if let Some(s) = opts.current_s.filter(|s| *s >= x0 && *s <= x1) {
        chart.draw_series(LineSeries::new(guide(s), fg.stroke_width(style.px(1.5))))?;
    }
    let width = style.px(2.5);
    for (loss, v) in &curves {
        let pts = crate::clip_to_ceiling(&lx, v, y1);
        draw_series_line(
            &mut chart,
            pts,
            family_style(*loss),
            width,
            style.scale,
            family_label(*loss),
        )?;
    }
    let r = style.px(5.5) as i32;
    for (loss, _) in &curves {
        let Some(m) = sweep.minimizer(*loss) else {
            continue;
        };
        if m.s_hat < x0 || m.s_hat > x1 {
            continue;
        }
        // The marker sits on the drawn (possibly normalised) curve: interpolate it there.
        let raw = sweep.values.iter().find(|(k, _)| k == loss).map(|(_, r)| r);
        let y = match (opts.normalized, raw) {
            (true, Some(raw)) => {
                let (lo, hi) = minmax(raw);
                (m.value - lo) / (hi - lo).max(1e-300)
            }
            _ => m.value,
        };
        let c = family_style(*loss).color;
        chart.draw_series(std::iter::once(
            EmptyElement::at((m.s_hat.log10(), y.clamp(y0, y1)))
                + Circle::new((0, 0), r, c.filled())
                + Circle::new((0, 0), r, fg.stroke_width(style.px(1.0))),
        ))?;
    }
    crate::draw_legend(&mut chart, SeriesLabelPosition::UpperRight, style)?;
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    Ok(PlotFrame {
        x: (x0.log10(), x1.log10()),
        y: (y0, y1),
        pixels: (xr.start, yr.start, xr.end, yr.end),
    })
}

/// Data of the bias map: `ŝ*(u)` per loss on a grid of `u`.
#[derive(Debug, Clone, PartialEq)]
pub struct BiasMapData {
    /// The `u` grid (increasing, within (0, 1)).
    pub us: Vec<f64>,
    /// `ŝ*` for each loss at each `u`.
    pub curves: Vec<(FamilyLoss, Vec<f64>)>,
    /// The current `u`, drawn as a dashed vertical line (`None`: no line; the page draws it
    /// over the canvas, so that moving `u` redraws nothing).
    pub current_u: Option<f64>,
}

/// Draws the bias map: each loss's `ŝ*(u)` against the diagonal `ŝ* = u`, log–log.
pub fn draw_bias_map<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &BiasMapData,
    style: &PlotStyle,
) -> DrawResult<PlotFrame, DB> {
    area.fill(&style.bg())?;
    let fg = style.fg();
    let (x0, x1) = (
        data.us.first().copied().unwrap_or(0.001),
        data.us.last().copied().unwrap_or(0.5),
    );
    let (y0, y1) = (x0 / 2.0, 1.0);
    let title = "Bias map: where each loss puts the predicted proportion";
    let mut chart = ChartBuilder::on(area)
        .margin(style.px(10.0))
        .x_label_area_size(style.px(44.0))
        .y_label_area_size(style.px(60.0))
        .caption(title, style.title_font(area, title, 15.0, 10.0).color(&fg))
        .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())?;
    chart
        .configure_mesh()
        .light_line_style(style.grid().mix(0.0))
        .bold_line_style(style.grid())
        .axis_style(fg)
        .x_desc("ground-truth proportion u (log scale)")
        .y_desc("optimal ŝ* (log scale)")
        .label_style(style.font(12.0).color(&fg))
        .axis_desc_style(style.font(13.0).color(&fg))
        .x_label_formatter(&|v| crate::fmt_prop(*v))
        .y_label_formatter(&|v| crate::fmt_prop(*v))
        .draw()?;
    chart.draw_series(LineSeries::new(
        vec![(x0, x0), (x1, x1)],
        fg.mix(0.6).stroke_width(style.px(1.0)),
    ))?;
    if let Some(u) = data.current_u {
        crate::draw_u_guide(&mut chart, u, (y0, y1), style)?;
    }
    let width = style.px(2.5);
    for (loss, v) in &data.curves {
        let pts: Vec<(f64, f64)> = data
            .us
            .iter()
            .zip(v)
            .filter(|(_, y)| y.is_finite() && **y > 0.0)
            .map(|(&x, &y)| (x, y.clamp(y0, y1)))
            .collect();
        draw_series_line(
            &mut chart,
            pts,
            family_style(*loss),
            width,
            style.scale,
            family_label(*loss),
        )?;
    }
    crate::draw_legend(&mut chart, SeriesLabelPosition::UpperLeft, style)?;
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    Ok(PlotFrame {
        x: (x0, x1),
        y: (y0, y1),
        pixels: (xr.start, yr.start, xr.end, yr.end),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicelens_core::sweep::sweep;
    use dicelens_core::{Family, FamilyParams};

    fn family_svg(u: f64, normalized: bool) -> String {
        let f = Family::new(FamilyParams {
            u,
            ..FamilyParams::default()
        })
        .expect("valid");
        let sw = sweep(&f, u / 10.0, (12.0 * u).min(0.999), 120);
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, (700, 420)).into_drawing_area();
            draw_family(
                &root,
                &sw,
                FamilyPlotOptions {
                    normalized,
                    current_s: Some(u),
                },
                &PlotStyle::default(),
            )
            .expect("draw");
            root.present().expect("present");
        }
        out
    }

    #[test]
    fn family_plot_has_every_loss_and_marker() {
        let s = family_svg(0.1, true);
        for l in FAMILY_PLOTTED {
            assert!(s.contains(family_label(l)), "{l:?}");
        }
        assert!(s.contains("min–max normalised"));
        assert!(s.matches("<circle").count() >= 2 * FAMILY_PLOTTED.len());
        assert_ne!(s, family_svg(0.1, false));
        assert_ne!(s, family_svg(0.3, true));
    }

    #[test]
    fn bias_map_draws_diagonal_and_curves() {
        let data = BiasMapData {
            us: vec![0.001, 0.01, 0.1, 0.5],
            curves: vec![
                (FamilyLoss::Ce, vec![0.001, 0.01, 0.1, 0.5]),
                (FamilyLoss::DiceFg, vec![0.009, 0.05, 0.3, 0.9]),
            ],
            current_u: Some(0.1),
        };
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, (600, 400)).into_drawing_area();
            draw_bias_map(&root, &data, &PlotStyle::default()).expect("draw");
            root.present().expect("present");
        }
        assert!(out.contains("Dice (foreground)") && out.contains("optimal ŝ*"));
        assert!(out.matches("<polyline").count() >= 4);
        // Without a current u (the page draws it over the canvas) the dashed line is gone.
        let mut without = String::new();
        {
            let root = SVGBackend::with_string(&mut without, (600, 400)).into_drawing_area();
            let data = BiasMapData {
                current_u: None,
                ..data
            };
            draw_bias_map(&root, &data, &PlotStyle::default()).expect("draw");
            root.present().expect("present");
        }
        assert!(
            without.matches("<polyline").count() < out.matches("<polyline").count(),
            "the u line is left out"
        );
    }
}
