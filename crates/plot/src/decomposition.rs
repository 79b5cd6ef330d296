//! View 5: the decomposition of CE and of `−log Dice_k` at the current point of the family,
//! as stacked horizontal bars whose parts visibly add up to the value printed beside them.
//!
//! Positive parts stack rightwards from zero, negative parts leftwards from zero (Dice's
//! region term `log((u_k + ŝ_k)/(2u_k))` is negative when `ŝ_k < u_k`, and `−Î` can be
//! negative): the bar's net length, right extent minus left extent, is the loss, marked by
//! a vertical tick and printed beside the bar.

use dicelens_core::FamilyDecomposition;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{palette, DrawResult, PlotFrame, PlotStyle};

/// One part of a bar.
#[derive(Debug, Clone, PartialEq)]
pub struct BarPart {
    /// Legend name.
    pub name: &'static str,
    /// Value (either sign).
    pub value: f64,
    /// Fill colour.
    pub color: RGBColor,
}

/// One stacked bar: `total = Σ parts`.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Row label, e.g. `CE = KL + (−log prec) + gap`.
    pub label: String,
    /// The parts, in stacking order.
    pub parts: Vec<BarPart>,
    /// The loss the parts add up to.
    pub total: f64,
}

const GREY: RGBColor = RGBColor(150, 150, 150);

/// The bars of the decomposition view, top to bottom: CE (three non-negative parts), CE in
/// entropy form, `−log Dice` of foreground and background, CE+λL1 and CE+λKL.
pub fn decomposition_bars(d: &FamilyDecomposition) -> Vec<Bar> {
    let part = |name, value, color| BarPart { name, value, color };
    let [bg, fg] = d.classes;
    vec![
        Bar {
            label: "CE = KL + (−log prec) + Jensen gap".into(),
            parts: vec![
                part("KL(u‖ŝ)", d.kl, palette::BLUE),
                part("−log precision", d.neg_log_precision, palette::ORANGE),
                part("Jensen gap", d.jensen_gap, palette::SKY),
            ],
            total: d.ce,
        },
        Bar {
            label: "CE = H(u) + KL + (−Î)".into(),
            parts: vec![
                part("H(u)", d.entropy, palette::GREEN),
                part("KL(u‖ŝ)", d.kl, palette::BLUE),
                part("−Î", d.neg_info, palette::PURPLE),
            ],
            total: d.ce,
        },
        Bar {
            label: "−log Dice (fg) = −log m + region".into(),
            parts: vec![
                part("−log m_k", fg.neg_log_m, palette::VERMILLION),
                part("Dice region term", fg.region, palette::BLUE),
            ],
            total: fg.neg_log_dice,
        },
        Bar {
            label: "−log Dice (bg) = −log m + region".into(),
            parts: vec![
                part("−log m_k", bg.neg_log_m, palette::VERMILLION),
                part("Dice region term", bg.region, palette::BLUE),
            ],
            total: bg.neg_log_dice,
        },
        Bar {
            label: format!("CE + λ·L1 (λ = {})", d.lambda),
            parts: vec![
                part("CE", d.ce, GREY),
                part("λ·L1", d.l1_extra, palette::GREEN),
            ],
            total: d.ce_l1,
        },
        Bar {
            label: format!("CE + λ·KL (λ = {})", d.lambda),
            parts: vec![
                part("CE", d.ce, GREY),
                part("λ·KL", d.kl_extra, palette::BLUE),
            ],
            total: d.ce_kl,
        },
    ]
}

/// Draws the decomposition bars (see the module docs for how negative parts are drawn).
/// The frame's `x` is the value axis and `y` runs over the rows (row `r` spans `[r, r + 1)`
/// from the top).
pub fn draw_decomposition<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &FamilyDecomposition,
    style: &PlotStyle,
) -> DrawResult<PlotFrame, DB> {
    area.fill(&style.bg())?;
    let fg = style.fg();
    let bars = decomposition_bars(data);
    let rows = bars.len() as f64;
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for b in &bars {
        let pos: f64 = b.parts.iter().map(|p| p.value.max(0.0)).sum();
        let neg: f64 = b.parts.iter().map(|p| p.value.min(0.0)).sum();
        hi = hi.max(pos).max(b.total);
        lo = lo.min(neg).min(b.total);
    }
    let span = (hi - lo).max(1e-6);
    // Room on the right for the printed totals.
    let (x0, x1) = (lo - 0.04 * span, hi + 0.28 * span);
    let mut chart = ChartBuilder::on(area)
        .margin(style.px(10.0))
        .x_label_area_size(style.px(40.0))
        .y_label_area_size(style.px(8.0))
        .caption(
            format!("Decomposition at ŝ = {:.4}", data.classes[1].s_hat),
            style.font(15.0).color(&fg),
        )
        .build_cartesian_2d(x0..x1, rows..0.0f64)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .light_line_style(style.grid().mix(0.35))
        .bold_line_style(style.grid())
        .axis_style(fg)
        .x_desc("nats")
        .label_style(style.font(12.0).color(&fg))
        .axis_desc_style(style.font(13.0).color(&fg))
        .x_labels(6)
        .draw()?;
    // Zero line.
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, 0.0), (0.0, rows)],
        fg.stroke_width(style.px(1.0)),
    )))?;
    let text = style.font(12.0).color(&fg);
    let small = style.font(11.0).color(&RGBColor(20, 20, 20));
    let px_per_unit = {
        let (xr, _) = chart.plotting_area().get_pixel_range();
        (xr.end - xr.start) as f64 / (x1 - x0)
    };
    for (r, bar) in bars.iter().enumerate() {
        let top = r as f64 + 0.42;
        let bottom = r as f64 + 0.88;
        let (mut right, mut left) = (0.0f64, 0.0f64);
        for p in &bar.parts {
            let (a, b) = if p.value >= 0.0 {
                let a = right;
                right += p.value;
                (a, right)
            } else {
                let a = left;
                left += p.value;
                (left, a)
            };
            chart.draw_series(std::iter::once(Rectangle::new(
                [(a, top), (b, bottom)],
                p.color.filled(),
            )))?;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(a, top), (b, bottom)],
                style.bg().stroke_width(style.px(1.0)),
            )))?;
            // Name inside the segment when it fits.
            let width_px = (b - a) * px_per_unit;
            if width_px > 7.0 * style.scale * p.name.chars().count() as f64 {
                chart.draw_series(std::iter::once(Text::new(
                    p.name,
                    (0.5 * (a + b), 0.5 * (top + bottom)),
                    small.pos(Pos::new(HPos::Center, VPos::Center)),
                )))?;
            }
        }
        // The net total: a tick and the value.
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(bar.total, top - 0.06), (bar.total, bottom + 0.06)],
            fg.stroke_width(style.px(2.5)),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            format!("= {:.4}", bar.total),
            (right.max(bar.total) + 0.015 * span, 0.5 * (top + bottom)),
            text.pos(Pos::new(HPos::Left, VPos::Center)),
        )))?;
        // Row label above the bar.
        chart.draw_series(std::iter::once(Text::new(
            bar.label.clone(),
            (x0 + 0.01 * (x1 - x0), r as f64 + 0.08),
            text.pos(Pos::new(HPos::Left, VPos::Top)),
        )))?;
    }
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    Ok(PlotFrame {
        x: (x0, x1),
        y: (0.0, rows),
        pixels: (xr.start, yr.start, xr.end, yr.end),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicelens_core::{Family, FamilyParams};

    fn decomposition(s: f64) -> FamilyDecomposition {
        let f = Family::new(FamilyParams::default()).expect("family");
        f.decomposition(&f.at(f.shift_for(s)))
    }

    fn svg(d: &FamilyDecomposition) -> String {
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, (720, 520)).into_drawing_area();
            let frame = draw_decomposition(&root, d, &PlotStyle::default()).expect("draw");
            assert!(frame.pixels.0 < frame.pixels.2 && frame.pixels.1 < frame.pixels.3);
            assert!(frame.x.0 < 0.0);
            root.present().expect("present");
        }
        out
    }

    #[test]
    fn bars_add_up() {
        for s in [0.02, 0.1, 0.5] {
            for bar in decomposition_bars(&decomposition(s)) {
                let sum: f64 = bar.parts.iter().map(|p| p.value).sum();
                assert!((sum - bar.total).abs() < 1e-9, "{}", bar.label);
            }
        }
    }

    #[test]
    fn plot_prints_totals_and_labels() {
        let d = decomposition(0.05);
        // ŝ < u: the foreground region term is negative and drawn left of zero.
        assert!(d.classes[1].region < 0.0);
        let s = svg(&d);
        assert!(s.contains("Decomposition at ŝ = 0.0500"));
        for bar in decomposition_bars(&d) {
            assert!(s.contains(&format!("= {:.4}", bar.total)), "{}", bar.label);
        }
        assert!(s.contains("Jensen gap"));
        assert!(s.contains("(λ = 0.1)"));
        // Two rectangles (fill + outline) per part: 3 + 3 + 2 + 2 + 2 + 2 parts.
        assert!(s.matches("<rect").count() >= 2 * 14);
    }

    #[test]
    fn plot_changes_with_the_point() {
        assert_ne!(svg(&decomposition(0.05)), svg(&decomposition(0.3)));
    }
}
