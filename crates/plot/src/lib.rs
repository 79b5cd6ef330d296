//! DiceLens plots, drawn by functions generic over the plotters [`DrawingBackend`], so that
//! the same code draws on `<canvas>` in the app, to SVG (and PNG) in the CLI, and in tests.
//!
//! Compute then draw: the numbers come from `dicelens-core` as plain data; these functions
//! only draw them.

use dicelens_core::{RegionCurves, RegionTerm};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Colour-blind-safe colours (Okabe & Ito) with a line style as a second cue.
pub mod palette {
    use plotters::style::RGBColor;

    /// Blue.
    pub const BLUE: RGBColor = RGBColor(0, 114, 178);
    /// Vermillion.
    pub const VERMILLION: RGBColor = RGBColor(213, 94, 0);
    /// Orange.
    pub const ORANGE: RGBColor = RGBColor(230, 159, 0);
    /// Bluish green.
    pub const GREEN: RGBColor = RGBColor(0, 158, 115);
    /// Reddish purple.
    pub const PURPLE: RGBColor = RGBColor(204, 121, 167);
    /// Sky blue.
    pub const SKY: RGBColor = RGBColor(86, 180, 233);
}

/// How a series is drawn: colour, dashing, and marker.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesStyle {
    /// Colour.
    pub color: RGBColor,
    /// Dash length in CSS pixels (`None`: solid).
    pub dash: Option<(u32, u32)>,
}

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

/// Theme and scale of a drawing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlotStyle {
    /// Device pixels per CSS pixel: fonts and lines are multiplied by it (crisp on high-DPI).
    pub scale: f64,
    /// Dark background.
    pub dark: bool,
}

impl Default for PlotStyle {
    fn default() -> Self {
        Self {
            scale: 1.0,
            dark: false,
        }
    }
}

impl PlotStyle {
    fn fg(&self) -> RGBColor {
        if self.dark {
            RGBColor(230, 230, 230)
        } else {
            RGBColor(25, 25, 25)
        }
    }
    fn bg(&self) -> RGBColor {
        if self.dark {
            RGBColor(24, 26, 31)
        } else {
            WHITE
        }
    }
    fn grid(&self) -> RGBColor {
        if self.dark {
            RGBColor(60, 64, 72)
        } else {
            RGBColor(225, 225, 225)
        }
    }
    fn px(&self, v: f64) -> u32 {
        (v * self.scale).round().max(1.0) as u32
    }
    fn font(&self, size: f64) -> FontDesc<'static> {
        ("sans-serif", size * self.scale).into_font()
    }
}

/// Where the data landed in pixels, so the UI can map a pointer position back to data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlotFrame {
    /// Data range on x.
    pub x: (f64, f64),
    /// Data range on y.
    pub y: (f64, f64),
    /// Plotting area in backend pixels: left, top, right, bottom.
    pub pixels: (i32, i32, i32, i32),
}

impl PlotFrame {
    /// Data x for a backend-pixel x (clamped to the data range).
    pub fn x_at(&self, px: f64) -> f64 {
        let (l, _, r, _) = self.pixels;
        let f = ((px - l as f64) / (r - l).max(1) as f64).clamp(0.0, 1.0);
        self.x.0 + f * (self.x.1 - self.x.0)
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

type DrawResult<T, DB> = Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw_series_line<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<'_, DB, CT>,
    pts: Vec<(f64, f64)>,
    st: SeriesStyle,
    width: u32,
    scale: f64,
    label: &str,
) -> DrawResult<(), DB> {
    let shape = st.color.stroke_width(width);
    let legend_color = st.color;
    let lw = (18.0 * scale) as i32;
    let anno = match st.dash {
        None => chart.draw_series(LineSeries::new(pts, shape))?,
        Some((on, off)) => chart.draw_series(DashedLineSeries::new(
            pts,
            (on as f64 * scale) as u32,
            (off as f64 * scale) as u32,
            shape,
        ))?,
    };
    anno.label(label).legend(move |(x, y)| {
        PathElement::new(vec![(x, y), (x + lw, y)], legend_color.stroke_width(width))
    });
    Ok(())
}

/// The points of a curve below `ceiling`, with the crossing points interpolated, so that a
/// curve that runs off the top ends at the frame instead of being drawn along it.
pub fn clip_to_ceiling(xs: &[f64], ys: &[f64], ceiling: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(xs.len());
    for j in 0..xs.len().min(ys.len()) {
        let (x, y) = (xs[j], ys[j]);
        let inside = y.is_finite() && y <= ceiling;
        if j > 0 {
            let (px, py) = (xs[j - 1], ys[j - 1]);
            let prev_inside = py.is_finite() && py <= ceiling;
            if inside != prev_inside && py.is_finite() && y.is_finite() {
                let f = (ceiling - py) / (y - py);
                out.push((px + f * (x - px), ceiling));
            }
        }
        if inside {
            out.push((x, y));
        }
    }
    out
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
        .light_line_style(style.grid().mix(0.35))
        .bold_line_style(style.grid())
        .axis_style(fg)
        .x_desc("predicted foreground proportion ŝ")
        .y_desc("region term (nats)")
        .label_style(style.font(12.0).color(&fg))
        .axis_desc_style(style.font(13.0).color(&fg))
        .x_labels(6)
        .y_labels(7)
        .draw()?;
    let width = style.px(2.5);
    // Ground truth u as a thin vertical guide.
    chart.draw_series(DashedLineSeries::new(
        vec![(data.u, y0), (data.u, y1)],
        style.px(4.0),
        style.px(4.0),
        fg.mix(0.5).stroke_width(style.px(1.0)),
    ))?;
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
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(style.bg().mix(0.9))
        .border_style(style.grid())
        .label_font(style.font(12.0).color(&fg))
        .margin(style.px(6.0))
        .draw()?;
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    Ok(PlotFrame {
        x: (0.0, 1.0),
        y: (y0, y1),
        pixels: (xr.start, yr.start, xr.end, yr.end),
    })
}

/// A proportion printed with enough digits to tell 0.001 from 0.0015.
pub fn fmt_prop(v: f64) -> String {
    if v == 0.0 || v == 1.0 {
        format!("{v:.0}")
    } else if v < 0.01 {
        format!("{v:.4}")
    } else {
        format!("{v:.3}")
    }
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

    #[test]
    fn frame_maps_pixels_back_to_data() {
        let f = PlotFrame {
            x: (0.0, 1.0),
            y: (0.0, 1.0),
            pixels: (100, 0, 300, 200),
        };
        assert_eq!(f.x_at(100.0), 0.0);
        assert_eq!(f.x_at(200.0), 0.5);
        assert_eq!(f.x_at(1000.0), 1.0);
    }
}
