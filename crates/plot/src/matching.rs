//! The `matching` view: the per-class matching terms `C_k` and Dice's `−log m_k` (the Jensen
//! gap between them outlined), the two weighted totals, and below them the two sets of class
//! weights (CE's `u_k`, the Dice bound's `1/K`).

use dicelens_core::MatchingView;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{palette, DrawResult, PlotFrame, PlotStyle};

/// Colour of the shared per-class term `C_k`.
pub const C_COLOR: RGBColor = palette::SKY;
/// Colour of Dice's matching term `−log m_k` and of its class average.
pub const DICE_COLOR: RGBColor = palette::VERMILLION;
/// Colour of CE's weighting (weights `u_k`, total `Σ u_k C_k`).
pub const CE_COLOR: RGBColor = palette::BLUE;
/// Colour of the Dice bound's weighting (weights `1/K`, total `(1/K) Σ C_k`).
pub const BOUND_COLOR: RGBColor = palette::ORANGE;

/// One bar of the top panel.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchingBar {
    /// Group (0, 1, 2: classes; 3: totals).
    pub group: usize,
    /// Legend / CSV name.
    pub name: &'static str,
    /// Height in nats.
    pub value: f64,
    /// Where the Jensen gap above it ends (its bound), if it has one.
    pub bound: Option<f64>,
    /// Fill.
    pub color: RGBColor,
}

/// The bars of the top panel, left to right.
pub fn matching_bars(v: &MatchingView) -> Vec<MatchingBar> {
    let mut out = Vec::new();
    for (k, c) in v.classes.iter().enumerate() {
        out.push(MatchingBar {
            group: k,
            name: "C_k",
            value: c.c,
            bound: None,
            color: C_COLOR,
        });
        out.push(MatchingBar {
            group: k,
            name: "-log m_k",
            value: c.neg_log_m,
            bound: Some(c.c),
            color: DICE_COLOR,
        });
    }
    out.push(MatchingBar {
        group: 3,
        name: "CE: sum u_k C_k",
        value: v.ce,
        bound: None,
        color: CE_COLOR,
    });
    out.push(MatchingBar {
        group: 3,
        name: "Dice bound: mean C_k",
        value: v.dice_bound,
        bound: None,
        color: BOUND_COLOR,
    });
    out.push(MatchingBar {
        group: 3,
        name: "Dice: mean -log m_k",
        value: v.dice_matching,
        bound: Some(v.dice_bound),
        color: DICE_COLOR,
    });
    out
}

/// The legend entries, in order: colour and label.
pub fn legend_entries(style: &PlotStyle) -> Vec<(RGBColor, &'static str)> {
    if style.compact {
        vec![
            (C_COLOR, "C_k"),
            (DICE_COLOR, "−log m_k (Dice)"),
            (CE_COLOR, "CE: weights u_k"),
            (BOUND_COLOR, "Dice bound: weights 1/3"),
        ]
    } else {
        vec![
            (C_COLOR, "C_k (class k's matching term)"),
            (DICE_COLOR, "−log m_k (Dice's matching term; outline: Jensen gap up to C_k)"),
            (CE_COLOR, "CE's weighting: u_k, total Σ u_k C_k"),
            (BOUND_COLOR, "Dice bound's weighting: 1/3 (= PyTorch weight 1/u_k, normalised), total (1/3) Σ C_k"),
        ]
    }
}

/// Draws swatches and labels left to right, wrapping lines; returns the height used.
fn draw_flow_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(RGBColor, &'static str)],
    style: &PlotStyle,
    dry_run: bool,
) -> DrawResult<u32, DB> {
    let (w, _) = area.dim_in_pixel();
    let font = style.legend_font().color(&style.fg());
    let size = if style.compact { 10.0 } else { 12.0 };
    let line = style.px(size * 1.6) as i32;
    let sw = style.px(10.0) as i32;
    let pad = style.px(8.0) as i32;
    let (mut x, mut y) = (pad, style.px(4.0) as i32);
    for &(color, label) in entries {
        // Text width estimate: 0.58 em per character.
        let tw = (label.chars().count() as f64 * size * 0.58 * style.scale) as i32;
        let need = sw + style.px(4.0) as i32 + tw + 2 * pad;
        if x > pad && x + need > w as i32 {
            x = pad;
            y += line;
        }
        if !dry_run {
            area.draw(&Rectangle::new(
                [(x, y + (line - sw) / 2), (x + sw, y + (line + sw) / 2)],
                color.filled(),
            ))?;
            area.draw(&Text::new(
                label,
                (x + sw + style.px(4.0) as i32, y + line / 2),
                font.clone().pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
        x += need;
    }
    Ok((y + line + style.px(4.0) as i32).max(0) as u32)
}

/// Draws the matching view: a legend, bars per class and the totals (middle), class weights
/// (bottom). The frame is the middle panel's (x: groups `[0, 4)`, y: nats).
pub fn draw_matching<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    v: &MatchingView,
    style: &PlotStyle,
) -> DrawResult<PlotFrame, DB> {
    area.fill(&style.bg())?;
    let fg = style.fg();
    let (w, h) = area.dim_in_pixel();
    // Narrow areas (phones, or a narrow export) get the compact layout whatever the caller set.
    let narrow = PlotStyle {
        compact: style.compact || (w as f64) < 560.0 * style.scale,
        ..*style
    };
    let style = &narrow;
    let entries = legend_entries(style);
    let legend_h = draw_flow_legend(area, &entries, style, true)?.min(h / 3);
    let (legend, rest) = area.split_vertically(legend_h);
    draw_flow_legend(&legend, &entries, style, false)?;
    let rest_h = h.saturating_sub(legend_h);
    let (top, bottom) = rest.split_vertically((rest_h as f64 * 0.6).round() as u32);
    let bars = matching_bars(v);
    let ymax = bars
        .iter()
        .map(|b| b.value.max(b.bound.unwrap_or(0.0)))
        .filter(|x| x.is_finite())
        .fold(0.1f64, f64::max)
        * 1.12;
    let title = if style.compact {
        "Matching terms (nats)"
    } else {
        "Matching terms per class and in total (nats)"
    };
    let mut chart = ChartBuilder::on(&top)
        .margin(style.px(6.0))
        .x_label_area_size(style.px(20.0))
        .y_label_area_size(style.px(40.0))
        .caption(title, style.font(14.0).color(&fg))
        .build_cartesian_2d(0.0f64..4.0f64, 0.0f64..ymax)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .light_line_style(style.grid().mix(0.0))
        .bold_line_style(style.grid())
        .axis_style(fg)
        .label_style(style.font(11.0).color(&fg))
        .y_labels(style.labels(6))
        .draw()?;
    let value_font = style
        .font(if style.compact { 9.0 } else { 10.0 })
        .color(&fg);
    let label_font = style.font(11.0).color(&fg);
    let base = |a: &DrawingArea<DB, Shift>| a.get_base_pixel();
    for g in 0..4 {
        let in_group: Vec<&MatchingBar> = bars.iter().filter(|b| b.group == g).collect();
        let n = in_group.len() as f64;
        let width = 0.8 / n;
        for (j, b) in in_group.iter().enumerate() {
            let x0 = g as f64 + 0.1 + j as f64 * width;
            let x1 = x0 + width * 0.92;
            let val = b.value.clamp(0.0, ymax);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x0, 0.0), (x1, val)],
                b.color.filled(),
            )))?;
            // The Jensen gap: an outline from the bar up to its bound.
            if let Some(bound) = b.bound {
                if bound > b.value {
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(x0, val), (x1, bound.min(ymax))],
                        b.color.stroke_width(style.px(1.5)),
                    )))?;
                }
            }
            // Values on the bars (on a phone the table below the plot has them).
            if !style.compact {
                let top_of = b.value.max(b.bound.unwrap_or(0.0)).min(ymax);
                chart.draw_series(std::iter::once(Text::new(
                    format!("{:.3}", b.value),
                    (0.5 * (x0 + x1), top_of + 0.01 * ymax),
                    value_font.clone().pos(Pos::new(HPos::Center, VPos::Bottom)),
                )))?;
            }
        }
        // Group name under the axis.
        let name = match (g, style.compact) {
            (3, _) => "totals".to_string(),
            (_, true) => format!("class {g}"),
            _ => format!("class {g} (u = {:.3})", v.u[g]),
        };
        let (px, py) = chart.backend_coord(&(g as f64 + 0.5, 0.0));
        let (bx, by) = base(&top);
        top.draw(&Text::new(
            name,
            (px - bx, py - by + style.px(4.0) as i32),
            label_font.clone().pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
    }
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let frame = PlotFrame {
        x: (0.0, 4.0),
        y: (0.0, ymax),
        pixels: (xr.start, yr.start, xr.end, yr.end),
    };

    // Bottom: the class weights.
    let third = 1.0 / v.classes.len() as f64;
    let mut wchart = ChartBuilder::on(&bottom)
        .margin(style.px(6.0))
        .x_label_area_size(style.px(20.0))
        .y_label_area_size(style.px(40.0))
        .caption(
            if style.compact {
                "Class weights on C_k"
            } else {
                "Class weights on C_k: CE's u_k and the Dice bound's 1/3"
            },
            style.font(14.0).color(&fg),
        )
        .build_cartesian_2d(0.0f64..3.0f64, 0.0f64..1.08f64)?;
    wchart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .light_line_style(style.grid().mix(0.0))
        .bold_line_style(style.grid())
        .axis_style(fg)
        .label_style(style.font(11.0).color(&fg))
        .y_labels(style.labels(6))
        .draw()?;
    // The common weight 1/3 as a line behind the bars.
    wchart.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, third), (3.0, third)],
        BOUND_COLOR.mix(0.6).stroke_width(style.px(1.0)),
    )))?;
    for (k, c) in v.classes.iter().enumerate() {
        for (j, (w, color)) in [(c.weight_ce, CE_COLOR), (c.weight_dice, BOUND_COLOR)]
            .into_iter()
            .enumerate()
        {
            let x0 = k as f64 + 0.15 + j as f64 * 0.35;
            let x1 = x0 + 0.33;
            wchart.draw_series(std::iter::once(Rectangle::new(
                [(x0, 0.0), (x1, w.clamp(0.0, 1.0))],
                color.filled(),
            )))?;
            wchart.draw_series(std::iter::once(Text::new(
                format!("{w:.3}"),
                (0.5 * (x0 + x1), w.clamp(0.0, 1.0) + 0.02),
                value_font.clone().pos(Pos::new(HPos::Center, VPos::Bottom)),
            )))?;
        }
        let (px, py) = wchart.backend_coord(&(k as f64 + 0.5, 0.0));
        let (bx, by) = base(&bottom);
        bottom.draw(&Text::new(
            format!("class {k}"),
            (px - bx, py - by + style.px(4.0) as i32),
            label_font.clone().pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
    }
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicelens_core::matching_view;

    fn svg(v: &MatchingView, size: (u32, u32), compact: bool) -> String {
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
            let style = PlotStyle {
                compact,
                ..PlotStyle::default()
            };
            let f = draw_matching(&root, v, &style).expect("draw");
            assert!(f.pixels.0 < f.pixels.2 && f.pixels.1 < f.pixels.3);
            root.present().expect("present");
        }
        out
    }

    #[test]
    fn draws_every_bar_value_and_weight() {
        let v = matching_view([0.7, 0.25, 0.05], [0.5, 0.3, 0.2], 0.5, 1.0).expect("view");
        let s = svg(&v, (800, 560), false);
        for b in matching_bars(&v) {
            assert!(s.contains(&format!("{:.3}", b.value)), "{}", b.name);
        }
        for c in &v.classes {
            assert!(s.contains(&format!("{:.3}", c.weight_ce)));
        }
        assert!(s.contains("0.333"));
        assert!(s.contains("class 2 (u = 0.050)"));
        assert!(s.contains("total (1/3) Σ C_k"));
        assert!(s.contains("class 0"));
        // Filled bars: 9 on top, 6 weights below (plus legend swatches and gap outlines).
        assert!(s.matches("<rect").count() >= 15);
        // The Jensen gap is outlined (σ > 0: every −log m_k is below its C_k).
        assert!(v.classes.iter().all(|c| c.c > c.neg_log_m));
    }

    #[test]
    fn fits_a_phone_and_changes_with_the_state() {
        let a = matching_view([0.7, 0.25, 0.05], [0.5, 0.3, 0.2], 0.5, 1.0).expect("view");
        let b = matching_view([0.7, 0.25, 0.05], [0.5, 0.3, 0.2], 3.0, 1.0).expect("view");
        let narrow = svg(&a, (360, 380), true);
        assert!(narrow.contains("class 2") && !narrow.contains("class 2 (u ="));
        // The legend wraps onto several lines instead of running off a phone's canvas.
        let style = PlotStyle {
            compact: true,
            ..PlotStyle::default()
        };
        let mut sink = String::new();
        let root = SVGBackend::with_string(&mut sink, (360, 380)).into_drawing_area();
        let h = draw_flow_legend(&root, &legend_entries(&style), &style, true).expect("legend");
        assert!(h > 30 && h < 120, "legend height {h}");
        assert_ne!(svg(&a, (800, 560), false), svg(&b, (800, 560), false));
        // σ = 0: no gap, nothing outlined above the Dice bars, still draws.
        let c = matching_view([0.7, 0.25, 0.05], [0.5, 0.3, 0.2], 1.0, 0.0).expect("view");
        let _ = svg(&c, (800, 560), false);
    }
}
