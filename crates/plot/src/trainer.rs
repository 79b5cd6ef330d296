//! The trainer panel's live plots: training loss per run, predicted against true proportions,
//! the mean `ŝ/u` per size bin over time, Dice and IoU, and calibration (reliability diagram,
//! ECE and the saturated fraction over time).
//!
//! Compute then draw: the app keeps one [`RunTrace`] per run (held-out [`Metrics`] from the
//! core, reduced to [`HistPoint`]s); these functions only draw them. Nothing non-finite is ever
//! drawn: missing values (`None`, NaN) are skipped.

use dicelens_core::train::Metrics;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::{draw_series_line, palette, DrawResult, PlotStyle, SeriesStyle};

/// Number of run slots of the panel.
pub const RUNS: usize = 4;

/// Names of the size bins, in the order of [`Metrics::size_bins`].
pub const BIN_NAMES: [&str; 3] = ["small (u < 2%)", "medium (2–10%)", "large (u ≥ 10%)"];

/// Colour and dash of run slot `i` (colour-blind-safe palette, dashes as a second cue). The
/// default runs (CE, Dice, log-Dice, CE+L1) get the colours the family view gives those losses.
pub fn run_style(i: usize) -> SeriesStyle {
    let (color, dash) = match i % RUNS {
        0 => (palette::BLUE, None),
        1 => (palette::VERMILLION, Some((8, 4))),
        2 => (palette::ORANGE, Some((3, 3))),
        _ => (palette::GREEN, Some((14, 4))),
    };
    SeriesStyle { color, dash }
}

/// CSS `stroke-dasharray` of run slot `i` (for the HTML legend swatches).
pub fn run_dasharray(i: usize) -> String {
    match run_style(i).dash {
        None => "none".into(),
        Some((a, b)) => format!("{a} {b}"),
    }
}

/// Name of the marker of run slot `i` on the scatter plot.
pub fn run_marker(i: usize) -> &'static str {
    ["circle", "triangle", "square", "cross"][i % RUNS]
}

/// One held-out evaluation reduced to the numbers plotted over time.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct HistPoint {
    /// Optimizer steps taken.
    pub step: f64,
    /// Held-out loss.
    pub loss: Option<f64>,
    /// Thresholded Dice.
    pub dice: Option<f64>,
    /// Thresholded IoU.
    pub iou: Option<f64>,
    /// Expected calibration error.
    pub ece: Option<f64>,
    /// Fraction of saturated pixels.
    pub saturated: Option<f64>,
    /// Mean soft `ŝ/u` per size bin (small, medium, large).
    pub bins_soft: [Option<f64>; 3],
    /// Mean thresholded `ŝ/u` per size bin.
    pub bins_hard: [Option<f64>; 3],
}

fn fin(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

impl HistPoint {
    /// The plotted numbers of `m`.
    pub fn from_metrics(m: &Metrics) -> Self {
        let bin = |j: usize, hard: bool| {
            m.size_bins
                .get(j)
                .and_then(|b| if hard { b.ratio_hard } else { b.ratio_soft })
        };
        Self {
            step: m.step as f64,
            loss: fin(m.loss),
            dice: fin(m.dice),
            iou: fin(m.iou),
            ece: fin(m.ece),
            saturated: fin(m.saturated),
            bins_soft: [0, 1, 2].map(|j| fin(bin(j, false))),
            bins_hard: [0, 1, 2].map(|j| fin(bin(j, true))),
        }
    }
}

/// Everything the plots show about one run.
#[derive(Debug, Clone, Default)]
pub struct RunTrace {
    /// Run slot (colour, dash, marker).
    pub slot: usize,
    /// Legend label, e.g. "1 CE".
    pub label: String,
    /// Training loss (step, value) of every step (thinned when long).
    pub train_loss: Vec<(f64, f64)>,
    /// Held-out evaluations over time.
    pub history: Vec<HistPoint>,
    /// The latest held-out metrics (scatter and reliability diagram).
    pub latest: Option<Metrics>,
}

impl RunTrace {
    /// Appends a training-loss point, halving the resolution when more than `cap` are kept.
    pub fn push_train_loss(&mut self, step: f64, loss: f64, cap: usize) {
        if !loss.is_finite() {
            return;
        }
        self.train_loss.push((step, loss));
        if self.train_loss.len() > cap.max(4) {
            let mut i = 0;
            self.train_loss.retain(|_| {
                i += 1;
                i % 2 == 1
            });
        }
    }
}

fn max_step(runs: &[RunTrace]) -> f64 {
    runs.iter()
        .flat_map(|r| {
            r.train_loss
                .iter()
                .map(|p| p.0)
                .chain(r.history.iter().map(|h| h.step))
        })
        .fold(1.0, f64::max)
}

/// One run's points: slot, legend label, (step, value) pairs.
type Series = (usize, String, Vec<(f64, f64)>);
/// Picks one plotted number out of an evaluation.
type Extract = fn(&HistPoint) -> Option<f64>;

/// A chart of one value per run over steps.
struct Panel<'a> {
    title: &'a str,
    y_desc: &'a str,
    /// `(lo, hi)` of the data in plotted units; `None`: from 0 to the largest value.
    y_range: Option<(f64, f64)>,
    /// Plot `log10(y)` and label the axis with `y`.
    log_y: bool,
    /// A horizontal dashed reference line (data units).
    reference: Option<f64>,
    legend: bool,
}

fn tr(v: f64, log_y: bool) -> Option<f64> {
    if !v.is_finite() {
        return None;
    }
    if log_y {
        (v > 0.0).then(|| v.log10())
    } else {
        Some(v)
    }
}

fn fmt_tick(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{}", (v * 100.0).round() / 100.0)
    } else {
        let d = 2 - v.abs().log10().floor() as i32;
        let f = 10f64.powi(d);
        format!("{}", (v * f).round() / f)
    }
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel<'_>,
    series: &[Series],
    style: &PlotStyle,
) -> DrawResult<(), DB> {
    let fg = style.fg();
    let x1 = series
        .iter()
        .flat_map(|s| s.2.iter().map(|p| p.0))
        .fold(1.0, f64::max);
    let pts: Vec<Series> = series
        .iter()
        .map(|(slot, label, v)| {
            let p = v
                .iter()
                .filter_map(|&(x, y)| Some((x, tr(y, panel.log_y)?)))
                .collect();
            (*slot, label.clone(), p)
        })
        .collect();
    let (y0, y1) = match panel.y_range {
        Some((lo, hi)) => {
            let lo = tr(lo, panel.log_y).unwrap_or(0.0);
            let hi = tr(hi, panel.log_y).unwrap_or(1.0);
            (lo, hi)
        }
        None => {
            let hi = pts
                .iter()
                .flat_map(|s| s.2.iter().map(|p| p.1))
                .fold(f64::NEG_INFINITY, f64::max);
            let hi = if hi.is_finite() && hi > 0.0 {
                hi * 1.08
            } else {
                1.0
            };
            (0.0, hi)
        }
    };
    let log_y = panel.log_y;
    let mut chart = ChartBuilder::on(area)
        .margin(style.px(6.0))
        .x_label_area_size(style.px(36.0))
        .y_label_area_size(style.px(46.0))
        .caption(panel.title, style.font(13.0).color(&fg))
        .build_cartesian_2d(0.0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .light_line_style(style.grid().mix(0.0))
        .bold_line_style(style.grid())
        .axis_style(fg)
        .x_desc("step")
        .y_desc(panel.y_desc)
        .label_style(style.font(11.0).color(&fg))
        .axis_desc_style(style.font(12.0).color(&fg))
        .x_labels(style.labels(5))
        .y_labels(style.labels(6))
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| {
            if log_y {
                fmt_tick(10f64.powf(*v))
            } else {
                fmt_tick(*v)
            }
        })
        .draw()?;
    if let Some(r) = panel.reference.and_then(|r| tr(r, log_y)) {
        if r >= y0 && r <= y1 {
            chart.draw_series(DashedLineSeries::new(
                vec![(0.0, r), (x1, r)],
                style.px(4.0),
                style.px(4.0),
                fg.mix(0.6).stroke_width(style.px(1.0)),
            ))?;
        }
    }
    let width = style.px(2.0);
    for (slot, label, p) in pts {
        let p: Vec<(f64, f64)> = p.into_iter().map(|(x, y)| (x, y.clamp(y0, y1))).collect();
        if p.len() == 1 {
            let c = run_style(slot).color;
            chart.draw_series(std::iter::once(Circle::new(
                p[0],
                style.px(3.0) as i32,
                c.filled(),
            )))?;
        }
        draw_series_line(&mut chart, p, run_style(slot), width, style.scale, &label)?;
    }
    if panel.legend && !series.is_empty() {
        crate::draw_legend(&mut chart, SeriesLabelPosition::UpperRight, style)?;
    }
    Ok(())
}

fn history_series(runs: &[RunTrace], f: impl Fn(&HistPoint) -> Option<f64>) -> Vec<Series> {
    runs.iter()
        .map(|r| {
            let pts = r
                .history
                .iter()
                .filter_map(|h| Some((h.step, f(h)?)))
                .collect();
            (r.slot, r.label.clone(), pts)
        })
        .collect()
}

/// Splits `area` into `n` panels side by side, or stacked when the plot is compact.
fn split<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    n: usize,
    style: &PlotStyle,
) -> Vec<DrawingArea<DB, Shift>> {
    if style.compact {
        area.split_evenly((n, 1))
    } else {
        area.split_evenly((1, n))
    }
}

/// Training loss of every run against the step (the loss each run minimises: scales differ
/// between losses, so compare shapes, not heights).
pub fn draw_train_loss<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    runs: &[RunTrace],
    style: &PlotStyle,
) -> DrawResult<(), DB> {
    area.fill(&style.bg())?;
    let series: Vec<_> = runs
        .iter()
        .map(|r| (r.slot, r.label.clone(), r.train_loss.clone()))
        .collect();
    draw_panel(
        area,
        &Panel {
            title: "Training loss per run (each run's own loss)",
            y_desc: "training loss (batch)",
            y_range: None,
            log_y: false,
            reference: None,
            legend: true,
        },
        &series,
        style,
    )
}

/// Predicted against ground-truth foreground proportion, one marker per held-out image (and
/// foreground class) per run, on log–log axes with the diagonal `ŝ = u`. `hard`: thresholded
/// predictions (an empty prediction is drawn on the bottom edge).
pub fn draw_proportions<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    runs: &[RunTrace],
    hard: bool,
    style: &PlotStyle,
) -> DrawResult<(), DB> {
    area.fill(&style.bg())?;
    let fg = style.fg();
    let umin = runs
        .iter()
        .filter_map(|r| r.latest.as_ref())
        .flat_map(|m| m.points.iter().map(|p| p.u))
        .filter(|u| *u > 0.0)
        .fold(0.01, f64::min);
    let lo = (umin / 4.0).max(1e-4);
    let (l0, l1) = (lo.log10(), 0.0);
    let mut chart = ChartBuilder::on(area)
        .margin(style.px(8.0))
        .x_label_area_size(style.px(40.0))
        .y_label_area_size(style.px(52.0))
        .caption(
            if hard {
                "Predicted vs true proportion, thresholded (p > 0.5)"
            } else {
                "Predicted vs true proportion, soft (mean probability)"
            },
            style.font(14.0).color(&fg),
        )
        .build_cartesian_2d(l0..l1, l0..l1)?;
    chart
        .configure_mesh()
        .light_line_style(style.grid().mix(0.0))
        .bold_line_style(style.grid())
        .axis_style(fg)
        .x_desc("ground-truth proportion u (log scale)")
        .y_desc(if hard {
            "predicted ŝ, thresholded (log)"
        } else {
            "predicted ŝ, soft (log)"
        })
        .label_style(style.font(11.0).color(&fg))
        .axis_desc_style(style.font(12.0).color(&fg))
        .x_labels(style.labels(6))
        .y_labels(style.labels(6))
        .x_label_formatter(&|v| crate::fmt_prop(10f64.powf(*v)))
        .y_label_formatter(&|v| crate::fmt_prop(10f64.powf(*v)))
        .draw()?;
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
    // Small-structure threshold u = 2%.
    let small = 0.02f64.log10();
    chart.draw_series(DashedLineSeries::new(
        vec![(small, l0), (small, l1)],
        style.px(3.0),
        style.px(4.0),
        fg.mix(0.35).stroke_width(style.px(1.0)),
    ))?;
    let r = style.px(3.5) as i32;
    for run in runs {
        let Some(m) = &run.latest else { continue };
        let c = run_style(run.slot).color;
        let pts: Vec<(f64, f64)> = m
            .points
            .iter()
            .filter(|p| p.u > 0.0 && p.u.is_finite())
            .filter_map(|p| {
                let s = if hard { p.hard } else { p.soft };
                s.is_finite()
                    .then(|| (p.u.log10(), s.max(lo).min(1.0).log10()))
            })
            .collect();
        let shape = c.mix(0.85);
        let sw = style.px(1.5);
        let anno = match run.slot % RUNS {
            0 => chart.draw_series(pts.iter().map(|&p| Circle::new(p, r, shape.filled())))?,
            1 => chart.draw_series(
                pts.iter()
                    .map(|&p| TriangleMarker::new(p, r + 1, shape.filled())),
            )?,
            2 => chart.draw_series(pts.iter().map(|&p| {
                EmptyElement::at(p) + Rectangle::new([(-r, -r), (r, r)], shape.stroke_width(sw))
            }))?,
            _ => chart.draw_series(
                pts.iter()
                    .map(|&p| Cross::new(p, r + 1, shape.stroke_width(sw))),
            )?,
        };
        let slot = run.slot;
        anno.label(run.label.clone()).legend(move |(x, y)| {
            let p = (x + r, y);
            match slot % RUNS {
                0 => Circle::new(p, r, c.filled()).into_dyn(),
                1 => TriangleMarker::new(p, r + 1, c.filled()).into_dyn(),
                2 => {
                    Rectangle::new([(x, y - r), (x + 2 * r, y + r)], c.stroke_width(sw)).into_dyn()
                }
                _ => Cross::new(p, r + 1, c.stroke_width(sw)).into_dyn(),
            }
        });
    }
    crate::draw_legend(&mut chart, SeriesLabelPosition::UpperLeft, style)?;
    Ok(())
}

/// Mean `ŝ/u` of each size bin over time (log axis, reference line at 1), one panel per bin.
pub fn draw_size_bins<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    runs: &[RunTrace],
    hard: bool,
    style: &PlotStyle,
) -> DrawResult<(), DB> {
    area.fill(&style.bg())?;
    for (j, sub) in split(area, 3, style).iter().enumerate() {
        let title = format!("ŝ/u, {}", BIN_NAMES[j]);
        let series = history_series(runs, |h| if hard { h.bins_hard[j] } else { h.bins_soft[j] });
        draw_panel(
            sub,
            &Panel {
                title: &title,
                y_desc: if hard {
                    "mean ŝ/u, thresholded (log)"
                } else {
                    "mean ŝ/u, soft (log)"
                },
                y_range: Some((0.05, 20.0)),
                log_y: true,
                reference: Some(1.0),
                // Stacked on phones: the run cards above carry the colour key.
                legend: j == 0 && !style.compact,
            },
            &series,
            style,
        )?;
    }
    Ok(())
}

/// Thresholded Dice and IoU on the held-out set over time, side by side.
pub fn draw_overlap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    runs: &[RunTrace],
    style: &PlotStyle,
) -> DrawResult<(), DB> {
    area.fill(&style.bg())?;
    let subs = split(area, 2, style);
    let specs: [(&str, &str, Extract); 2] = [
        ("Dice (thresholded, held-out)", "Dice", |h| h.dice),
        ("IoU (thresholded, held-out)", "IoU", |h| h.iou),
    ];
    for (j, (title, desc, f)) in specs.into_iter().enumerate() {
        draw_panel(
            &subs[j],
            &Panel {
                title,
                y_desc: desc,
                y_range: Some((0.0, 1.0)),
                log_y: false,
                reference: None,
                legend: j == 0,
            },
            &history_series(runs, f),
            style,
        )?;
    }
    Ok(())
}

/// Calibration: the latest reliability diagram (observed frequency against confidence, with
/// the diagonal), the ECE over time and the fraction of saturated pixels over time.
pub fn draw_calibration<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    runs: &[RunTrace],
    style: &PlotStyle,
) -> DrawResult<(), DB> {
    area.fill(&style.bg())?;
    let fg = style.fg();
    let subs = split(area, 3, style);
    {
        let mut chart = ChartBuilder::on(&subs[0])
            .margin(style.px(6.0))
            .x_label_area_size(style.px(36.0))
            .y_label_area_size(style.px(46.0))
            .caption("Reliability diagram (latest)", style.font(13.0).color(&fg))
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
        chart
            .configure_mesh()
            .light_line_style(style.grid().mix(0.0))
            .bold_line_style(style.grid())
            .axis_style(fg)
            .x_desc("predicted probability")
            .y_desc("observed frequency")
            .label_style(style.font(11.0).color(&fg))
            .axis_desc_style(style.font(12.0).color(&fg))
            .x_labels(style.labels(6))
            .y_labels(style.labels(6))
            .draw()?;
        chart.draw_series(LineSeries::new(
            vec![(0.0, 0.0), (1.0, 1.0)],
            fg.mix(0.6).stroke_width(style.px(1.0)),
        ))?;
        for run in runs {
            let Some(m) = &run.latest else { continue };
            let pts: Vec<(f64, f64)> = m
                .reliability
                .iter()
                .filter_map(|b| {
                    let (c, a) = (fin(b.confidence)?, fin(b.accuracy)?);
                    Some((c, a))
                })
                .collect();
            let st = run_style(run.slot);
            chart.draw_series(
                pts.iter()
                    .map(|&p| Circle::new(p, style.px(2.5) as i32, st.color.filled())),
            )?;
            draw_series_line(&mut chart, pts, st, style.px(2.0), style.scale, &run.label)?;
        }
        if !style.compact {
            crate::draw_legend(&mut chart, SeriesLabelPosition::UpperLeft, style)?;
        }
    }
    draw_panel(
        &subs[1],
        &Panel {
            title: "ECE over time",
            y_desc: "ECE",
            y_range: None,
            log_y: false,
            reference: None,
            legend: false,
        },
        &history_series(runs, |h| h.ece),
        style,
    )?;
    draw_panel(
        &subs[2],
        &Panel {
            title: "Saturated pixels (p < 0.02 or > 0.98)",
            y_desc: "fraction saturated",
            y_range: Some((0.0, 1.0)),
            log_y: false,
            reference: None,
            legend: false,
        },
        &history_series(runs, |h| h.saturated),
        style,
    )?;
    Ok(())
}

/// The steps axis of the longest run (for captions).
pub fn steps_shown(runs: &[RunTrace]) -> f64 {
    max_step(runs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicelens_core::train::{
        loss_from_name, DataConfig, Dataset, ModelKind, TrainConfig, Trainer,
    };

    /// Two short logistic5 runs (CE and Dice) with real held-out metrics.
    fn traces() -> Vec<RunTrace> {
        let data = Dataset::new(&DataConfig {
            train: 32,
            test: 16,
            ..DataConfig::default()
        })
        .expect("data");
        ["ce", "dice"]
            .iter()
            .enumerate()
            .map(|(slot, name)| {
                let cfg = TrainConfig {
                    model: ModelKind::Logistic5,
                    loss: loss_from_name(name).expect("loss"),
                    steps: 6,
                    batch: 4,
                    lr: 0.05,
                    ..TrainConfig::default()
                };
                let mut run = Trainer::new(cfg, &data).expect("trainer");
                let mut trace = RunTrace {
                    slot,
                    label: format!("{} {}", slot + 1, name.to_uppercase()),
                    ..RunTrace::default()
                };
                for _ in 0..3 {
                    for _ in 0..2 {
                        run.step(&data).expect("step");
                        let s = run.steps_done() as f64;
                        trace.push_train_loss(s, run.last_loss().expect("loss"), 1000);
                    }
                    let m = run.evaluate(&data).expect("eval");
                    trace.history.push(HistPoint::from_metrics(&m));
                    trace.latest = Some(m);
                }
                trace
            })
            .collect()
    }

    fn svg<F>(f: F, compact: bool) -> String
    where
        F: Fn(&DrawingArea<SVGBackend<'_>, Shift>, &PlotStyle),
    {
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, (900, 420)).into_drawing_area();
            let style = PlotStyle {
                compact,
                ..PlotStyle::default()
            };
            f(&root, &style);
            root.present().expect("present");
        }
        out
    }

    #[test]
    fn run_styles_are_distinct() {
        for i in 0..RUNS {
            for j in 0..i {
                assert_ne!(run_style(i).color, run_style(j).color);
                assert_ne!(run_style(i).dash, run_style(j).dash);
            }
        }
        assert_eq!(run_dasharray(0), "none");
        assert_eq!(run_dasharray(1), "8 4");
    }

    #[test]
    fn loss_plot_draws_each_run() {
        let runs = traces();
        let s = svg(|a, st| draw_train_loss(a, &runs, st).expect("draw"), false);
        assert!(s.contains("1 CE") && s.contains("2 DICE"), "legend");
        assert!(s.contains("training loss"));
        assert!(s.matches("<polyline").count() >= 2);
        assert!(!s.contains("NaN"));
    }

    #[test]
    fn proportion_scatter_has_one_marker_per_point_and_the_diagonal() {
        let runs = traces();
        let soft = svg(
            |a, st| draw_proportions(a, &runs, false, st).expect("draw"),
            false,
        );
        let n_points = runs[0].latest.as_ref().expect("metrics").points.len();
        assert!(n_points > 0);
        // Run 0 draws circles: at least one per held-out image, plus its legend marker.
        assert!(soft.matches("<circle").count() > n_points, "{}", n_points);
        assert!(soft.contains("ŝ = u") && soft.contains("soft"));
        let hard = svg(
            |a, st| draw_proportions(a, &runs, true, st).expect("draw"),
            false,
        );
        assert!(hard.contains("thresholded"));
        assert_ne!(soft, hard);
        assert!(!soft.contains("NaN") && !hard.contains("NaN"));
    }

    #[test]
    fn size_bins_overlap_and_calibration_draw_content() {
        let runs = traces();
        let bins = svg(
            |a, st| draw_size_bins(a, &runs, false, st).expect("draw"),
            false,
        );
        for name in BIN_NAMES {
            // SVG escapes "<".
            assert!(bins.contains(&name.replace('<', "&lt;")), "{name}");
        }
        let ov = svg(|a, st| draw_overlap(a, &runs, st).expect("draw"), true);
        assert!(ov.contains("Dice (thresholded") && ov.contains("IoU"));
        assert!(ov.matches("<polyline").count() >= 4);
        let cal = svg(|a, st| draw_calibration(a, &runs, st).expect("draw"), false);
        assert!(cal.contains("Reliability diagram") && cal.contains("ECE"));
        assert!(cal.contains("Saturated"));
        assert!(cal.matches("<polyline").count() >= 6);
        for s in [bins, ov, cal] {
            assert!(!s.contains("NaN"));
        }
    }

    #[test]
    fn missing_values_are_skipped_not_drawn() {
        let mut runs = traces();
        runs[1].history.push(HistPoint {
            step: 9.0,
            ..HistPoint::default()
        });
        runs[1].train_loss.push((9.0, 1.0));
        runs[1].push_train_loss(10.0, f64::NAN, 1000);
        assert_eq!(runs[1].train_loss.last(), Some(&(9.0, 1.0)));
        let s = svg(|a, st| draw_calibration(a, &runs, st).expect("draw"), false);
        assert!(!s.contains("NaN") && !s.contains("inf"));
        let empty = svg(|a, st| draw_train_loss(a, &[], st).expect("draw"), false);
        assert!(empty.contains("Training loss"));
    }

    #[test]
    fn thinning_keeps_the_loss_history_bounded() {
        let mut t = RunTrace::default();
        for i in 0..1000 {
            t.push_train_loss(i as f64, 1.0, 100);
        }
        assert!(t.train_loss.len() <= 100);
        assert_eq!(t.train_loss[0].0, 0.0);
        assert!(steps_shown(&[t]) > 900.0);
        assert_eq!(steps_shown(&[]), 1.0);
    }
}
