//! DiceLens plots, drawn by functions generic over the plotters [`DrawingBackend`], so that
//! the same code draws on `<canvas>` in the app, to SVG (and PNG) in the CLI, and in tests.
//!
//! Compute then draw: the numbers come from `dicelens-core` as plain data; these functions
//! only draw them.

pub mod ambiguous;
pub mod data;
pub mod decomposition;
pub mod explain;
pub mod family;
pub mod figure;
pub mod gradients;
pub mod landscape;
pub mod matching;
pub mod query;
pub mod region;
pub mod simplex;
pub mod temperature;
pub mod trainer;

pub use ambiguous::{ambiguous_style, draw_ambiguous, AmbiguousFrame};
pub use decomposition::{decomposition_bars, draw_decomposition, Bar, BarPart};
pub use matching::{draw_matching, matching_bars, MatchingBar};
pub use region::{draw_region_terms, region_style, region_y_range};
pub use simplex::{draw_simplex, simplex_style, viridis, SimplexFrame};

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

/// Theme and scale of a drawing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlotStyle {
    /// Device pixels per CSS pixel: fonts and lines are multiplied by it (crisp on high-DPI).
    pub scale: f64,
    /// Dark background.
    pub dark: bool,
    /// A narrow plot (phones): smaller legend text and fewer axis labels.
    pub compact: bool,
}

impl Default for PlotStyle {
    fn default() -> Self {
        Self {
            scale: 1.0,
            dark: false,
            compact: false,
        }
    }
}

impl PlotStyle {
    /// Foreground (text, axes) colour.
    pub fn fg(&self) -> RGBColor {
        if self.dark {
            RGBColor(230, 230, 230)
        } else {
            RGBColor(25, 25, 25)
        }
    }
    /// Background colour.
    pub fn bg(&self) -> RGBColor {
        if self.dark {
            RGBColor(24, 26, 31)
        } else {
            WHITE
        }
    }
    /// Grid colour.
    pub fn grid(&self) -> RGBColor {
        if self.dark {
            RGBColor(60, 64, 72)
        } else {
            RGBColor(225, 225, 225)
        }
    }
    /// A length in CSS pixels, in backend pixels.
    pub fn px(&self, v: f64) -> u32 {
        (v * self.scale).round().max(1.0) as u32
    }
    /// Font size of legend entries.
    pub fn legend_font(&self) -> FontDesc<'static> {
        self.font(if self.compact { 10.0 } else { 12.0 })
    }

    /// How many labels an axis gets.
    pub fn labels(&self, n: usize) -> usize {
        if self.compact {
            n.div_ceil(2).max(3)
        } else {
            n
        }
    }

    /// A sans-serif font of `size` CSS pixels.
    pub fn font(&self, size: f64) -> FontDesc<'static> {
        ("sans-serif", size * self.scale).into_font()
    }

    /// A plot title's font: `size` CSS pixels, or smaller (down to [`MIN_TITLE_PX`]) until
    /// `text` fits the area's width less `margin` CSS pixels each side, as the backend measures
    /// it, so a long title is not cut off on a phone.
    pub fn title_font<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, plotters::coord::Shift>,
        text: &str,
        size: f64,
        margin: f64,
    ) -> FontDesc<'static> {
        let room = area.dim_in_pixel().0 as f64 - 2.0 * margin * self.scale;
        let mut px = size;
        while px > MIN_TITLE_PX {
            let font = self.font(px);
            match area.estimate_text_size(text, &font.clone().into()) {
                Ok((w, _)) if w as f64 > room => px -= 0.5,
                _ => return font,
            }
        }
        self.font(MIN_TITLE_PX)
    }
}

/// The smallest font a plot title shrinks to (CSS pixels).
pub const MIN_TITLE_PX: f64 = 10.0;

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

    /// Backend-pixel x of a data x (`None` outside the data range): the inverse of [`x_at`].
    ///
    /// [`x_at`]: PlotFrame::x_at
    pub fn px_at(&self, x: f64) -> Option<f64> {
        let (lo, hi) = (self.x.0.min(self.x.1), self.x.0.max(self.x.1));
        if !(x >= lo && x <= hi) || self.x.1 == self.x.0 {
            return None;
        }
        let (l, _, r, _) = self.pixels;
        Some(l as f64 + (x - self.x.0) / (self.x.1 - self.x.0) * (r - l) as f64)
    }

    /// The vertical line at data x over the plotting area: its pixel x, top and bottom.
    pub fn vertical_at(&self, x: f64) -> Option<(f64, f64, f64)> {
        self.px_at(x)
            .map(|px| (px, self.pixels.1 as f64, self.pixels.3 as f64))
    }
}

/// The result type of every draw function.
pub type DrawResult<T, DB> = Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// The dashed vertical guide at `x` from `y0` to `y1` (1 px, dashes of 4 px, the foreground at
/// half opacity): the ground truth `u` in every plot. The page's overlay line (`.plot-cursor`
/// in style/main.css) copies this look.
pub fn draw_u_guide<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<'_, DB, CT>,
    x: f64,
    (y0, y1): (f64, f64),
    style: &PlotStyle,
) -> DrawResult<(), DB> {
    chart.draw_series(DashedLineSeries::new(
        vec![(x, y0), (x, y1)],
        style.px(4.0),
        style.px(4.0),
        style.fg().mix(0.5).stroke_width(style.px(1.0)),
    ))?;
    Ok(())
}

/// Draws one series (solid or dashed) with a legend entry.
pub fn draw_series_line<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
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

/// Draws the legend of every labelled series, in the house style (translucent background, grid-
/// coloured border, legend font of the style).
pub fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
    style: &PlotStyle,
) -> DrawResult<(), DB> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(style.bg().mix(0.9))
        .border_style(style.grid())
        .label_font(style.legend_font().color(&style.fg()))
        .margin(style.px(6.0))
        // Room for the 18-CSS-pixel line samples at any pixel ratio (plotters' default is 30
        // backend pixels, which the samples overran on high-DPI phones).
        .legend_area_size(style.px(24.0))
        .draw()
}

/// `v` to `decimals` decimals, never "-0.0000": a value that rounds to zero prints unsigned
/// (a KL a rounding error below zero is not shown as negative).
pub fn fmt_fixed(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    match s.strip_prefix('-') {
        Some(rest) if rest.bytes().all(|b| b == b'0' || b == b'.') => rest.to_string(),
        _ => s,
    }
}

/// `v` with its sign (`+0.4507`, `-0.0949`), and `+0.0000` for a value that rounds to zero.
pub fn fmt_signed(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return format!("{v:+.decimals$}");
    }
    let s = fmt_fixed(v, decimals);
    if s.starts_with('-') {
        s
    } else {
        format!("+{s}")
    }
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

    #[test]
    fn a_value_that_rounds_to_zero_prints_without_a_minus() {
        assert_eq!(fmt_fixed(-1e-17, 4), "0.0000");
        assert_eq!(fmt_fixed(-0.00004, 4), "0.0000");
        assert_eq!(fmt_fixed(-0.00006, 4), "-0.0001");
        assert_eq!(fmt_fixed(0.51604, 4), "0.5160");
        assert_eq!(fmt_signed(-1e-17, 4), "+0.0000");
        assert_eq!(fmt_signed(-0.0949, 4), "-0.0949");
        assert_eq!(fmt_signed(0.4507, 4), "+0.4507");
        assert_eq!(fmt_fixed(-0.4, 0), "0");
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
        // And data back to pixels: the inverse inside the range, nothing outside it.
        assert_eq!(f.px_at(0.5), Some(200.0));
        assert_eq!(f.px_at(0.0), Some(100.0));
        assert_eq!(f.px_at(1.0), Some(300.0));
        assert_eq!(f.px_at(1.01), None);
        assert_eq!(f.px_at(f64::NAN), None);
        for px in [100.0, 137.0, 250.5, 300.0] {
            assert!((f.px_at(f.x_at(px)).unwrap() - px).abs() < 1e-9);
        }
        assert_eq!(f.vertical_at(0.25), Some((150.0, 0.0, 200.0)));
        let log = PlotFrame {
            x: (-3.0, 0.0),
            ..f
        };
        assert_eq!(log.px_at(-1.5), Some(200.0));
    }

    #[test]
    fn a_title_shrinks_to_fit_a_narrow_plot_and_keeps_its_size_on_a_wide_one() {
        let title = "Bias map: where each loss puts the predicted proportion";
        let style = PlotStyle::default();
        let size_on = |w: u32| {
            let mut svg = String::new();
            let root = SVGBackend::with_string(&mut svg, (w, 300)).into_drawing_area();
            let font = style.title_font(&root, title, 15.0, 10.0);
            let fits = root
                .estimate_text_size(title, &font.clone().into())
                .unwrap()
                .0 as f64
                <= w as f64 - 20.0;
            (font.get_size(), fits)
        };
        assert_eq!(size_on(900), (15.0, true));
        let (narrow, fits) = size_on(330);
        assert!((MIN_TITLE_PX..15.0).contains(&narrow), "{narrow}");
        assert!(fits, "the shrunk title fits");
        // Too narrow even at the smallest size: the smallest size, not less.
        assert_eq!(size_on(120).0, MIN_TITLE_PX);
    }
}
