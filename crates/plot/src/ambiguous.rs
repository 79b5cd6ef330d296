//! View 6: ambiguous pixels — the optimal prediction `q*` of every loss against the label
//! probability `p` (CE on the diagonal, Dice a step), and every loss against `q` at the
//! current `p` (each rescaled to `[0, 1]` so the shapes compare), minimizers marked.

use dicelens_core::{AmbiguousLoss, AmbiguousView};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::{draw_series_line, palette, DrawResult, PlotFrame, PlotStyle, SeriesStyle};

/// The style of each loss in this view.
pub fn ambiguous_style(loss: AmbiguousLoss) -> SeriesStyle {
    let (color, dash) = match loss {
        AmbiguousLoss::Ce => (palette::BLUE, None),
        AmbiguousLoss::Dice => (palette::VERMILLION, Some((8, 4))),
        AmbiguousLoss::LogDice => (palette::PURPLE, Some((3, 3))),
        AmbiguousLoss::DiceCe => (palette::ORANGE, Some((12, 3))),
        AmbiguousLoss::CeL1 => (palette::GREEN, Some((2, 5))),
        AmbiguousLoss::CeKl => (palette::SKY, Some((14, 6))),
    };
    SeriesStyle { color, dash }
}

/// The two panels' frames (both in backend pixels).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AmbiguousFrame {
    /// `q*` against `p` (x = `p`, y = `q*`): a click sets `p`.
    pub q_star: PlotFrame,
    /// Rescaled loss against `q` at the current `p`.
    pub loss: PlotFrame,
}

fn marker<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<'_, DB, CT>,
    at: (f64, f64),
    color: RGBColor,
    style: &PlotStyle,
) -> DrawResult<(), DB> {
    let r = style.px(5.0) as i32;
    let fg = style.fg();
    chart.draw_series(std::iter::once(
        EmptyElement::at(at)
            + Circle::new((0, 0), r, color.filled())
            + Circle::new((0, 0), r, fg.stroke_width(style.px(1.0))),
    ))?;
    Ok(())
}

fn frame<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &ChartContext<'_, DB, CT>,
    x: (f64, f64),
    y: (f64, f64),
) -> PlotFrame {
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    PlotFrame {
        x,
        y,
        pixels: (xr.start, yr.start, xr.end, yr.end),
    }
}

/// Draws both panels, side by side when the area is at least 640 backend pixels per
/// `style.scale` wide, stacked otherwise (phones).
pub fn draw_ambiguous<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &AmbiguousView,
    style: &PlotStyle,
) -> DrawResult<AmbiguousFrame, DB> {
    area.fill(&style.bg())?;
    let fg = style.fg();
    let (w, h) = area.dim_in_pixel();
    let (a, b) = if (w as f64) >= 640.0 * style.scale {
        area.split_horizontally(w / 2)
    } else {
        area.split_vertically(h / 2)
    };
    let width = style.px(2.5);

    // Left: q* against p.
    let mut left = ChartBuilder::on(&a)
        .margin(style.px(10.0))
        .x_label_area_size(style.px(40.0))
        .y_label_area_size(style.px(48.0))
        .caption(
            format!(
                "Optimal q* (c = {:.0}%, a = {:.0}%)",
                100.0 * data.c,
                100.0 * data.a
            ),
            style.font(15.0).color(&fg),
        )
        .build_cartesian_2d(0.0f64..1.0f64, -0.02f64..1.02f64)?;
    left.configure_mesh()
        .light_line_style(style.grid().mix(0.35))
        .bold_line_style(style.grid())
        .axis_style(fg)
        .x_desc("label probability p")
        .y_desc("optimal prediction q*")
        .label_style(style.font(12.0).color(&fg))
        .axis_desc_style(style.font(13.0).color(&fg))
        .x_labels(6)
        .y_labels(6)
        .draw()?;
    // Dice's flip threshold.
    left.draw_series(DashedLineSeries::new(
        vec![(data.flip, -0.02), (data.flip, 1.02)],
        style.px(3.0),
        style.px(3.0),
        ambiguous_style(AmbiguousLoss::Dice)
            .color
            .mix(0.6)
            .stroke_width(style.px(1.0)),
    ))?;
    left.draw_series(std::iter::once(Text::new(
        format!("Dice flips at p = {:.3}", data.flip),
        (data.flip + 0.02, 0.1),
        style.font(12.0).color(&fg),
    )))?;
    for (loss, qs) in &data.q_star {
        // A step drawn as a step: vertical jumps where consecutive q* differ by more than ½.
        let mut pts = Vec::with_capacity(qs.len() + 2);
        for (j, (&p, &q)) in data.ps.iter().zip(qs).enumerate() {
            if j > 0 && (q - qs[j - 1]).abs() > 0.5 {
                pts.push((data.flip.clamp(data.ps[j - 1], p), qs[j - 1]));
                pts.push((data.flip.clamp(data.ps[j - 1], p), q));
            }
            pts.push((p, q));
        }
        draw_series_line(
            &mut left,
            pts,
            ambiguous_style(*loss),
            width,
            style.scale,
            loss.label(),
        )?;
    }
    left.draw_series(std::iter::once(PathElement::new(
        vec![(data.p, -0.02), (data.p, 1.02)],
        fg.stroke_width(style.px(1.5)),
    )))?;
    for o in &data.optima {
        marker(
            &mut left,
            (data.p, o.q),
            ambiguous_style(o.loss).color,
            style,
        )?;
    }
    crate::draw_legend(&mut left, SeriesLabelPosition::UpperLeft, style)?;
    let q_frame = frame(&left, (0.0, 1.0), (-0.02, 1.02));

    // Right: every loss against q at the current p.
    let mut right = ChartBuilder::on(&b)
        .margin(style.px(10.0))
        .x_label_area_size(style.px(40.0))
        .y_label_area_size(style.px(48.0))
        .caption(
            format!("Loss against q at p = {:.3}", data.p),
            style.font(15.0).color(&fg),
        )
        .build_cartesian_2d(0.0f64..1.0f64, -0.03f64..1.05f64)?;
    right
        .configure_mesh()
        .light_line_style(style.grid().mix(0.35))
        .bold_line_style(style.grid())
        .axis_style(fg)
        .x_desc("predicted probability q")
        .y_desc("loss (rescaled to [0, 1])")
        .label_style(style.font(12.0).color(&fg))
        .axis_desc_style(style.font(13.0).color(&fg))
        .x_labels(6)
        .y_labels(6)
        .draw()?;
    for (loss, v) in &data.normalized {
        let pts: Vec<(f64, f64)> = data.qs.iter().copied().zip(v.iter().copied()).collect();
        draw_series_line(
            &mut right,
            pts,
            ambiguous_style(*loss),
            width,
            style.scale,
            loss.label(),
        )?;
    }
    for (o, &y) in data.optima.iter().zip(&data.optima_normalized) {
        marker(
            &mut right,
            (o.q, y.clamp(-0.03, 1.05)),
            ambiguous_style(o.loss).color,
            style,
        )?;
    }
    let loss_frame = frame(&right, (0.0, 1.0), (-0.03, 1.05));
    Ok(AmbiguousFrame {
        q_star: q_frame,
        loss: loss_frame,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicelens_core::{ambiguous_view, Ambiguous};

    fn svg(p: f64, size: (u32, u32)) -> (String, AmbiguousFrame) {
        let m = Ambiguous::new(0.05, 0.05, 0.5).expect("model");
        let v = ambiguous_view(&m, p, 201, 200).expect("view");
        let mut out = String::new();
        let f;
        {
            let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
            f = draw_ambiguous(&root, &v, &PlotStyle::default()).expect("draw");
            root.present().expect("present");
        }
        (out, f)
    }

    #[test]
    fn panels_have_labels_legend_and_markers() {
        let (s, f) = svg(0.3, (1000, 420));
        for label in [
            "label probability p",
            "predicted probability q",
            "Dice flips at p = 0.414",
            "Loss against q at p = 0.300",
            "Dice+CE",
            "log-Dice",
        ] {
            assert!(s.contains(label), "missing {label}");
        }
        // Six optima in each panel, two circles each.
        assert_eq!(s.matches("<circle").count(), 24);
        // Side by side.
        assert!(f.q_star.pixels.2 <= f.loss.pixels.0);
        assert!((f.q_star.x_at(f.q_star.pixels.2 as f64) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn narrow_area_stacks_the_panels() {
        let (_, f) = svg(0.3, (390, 700));
        assert!(f.q_star.pixels.3 <= f.loss.pixels.1);
    }

    #[test]
    fn plot_changes_with_p() {
        assert_ne!(svg(0.3, (1000, 420)).0, svg(0.6, (1000, 420)).0);
    }
}
