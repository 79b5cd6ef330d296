//! Every theory view as one value: computed from URL-style parameters, drawn on any plotters
//! backend, and exported as CSV. The app's export buttons and the `dicelens figure` CLI both go
//! through here, so a slide made by a script shows exactly what the page showed.

use std::fmt::Write as _;

use dicelens_core::gradients::curve_grid;
use dicelens_core::landscape::{
    descend_within, grid as landscape_grid, minimum as landscape_minimum, Bounds, Grid,
    GridMinimum, LandscapeParams, Method, Path, DEFAULT_B_RANGE, DEFAULT_LOG_T_RANGE,
};
use dicelens_core::pooled::{pooled_view, BatchSizes, PooledView};
use dicelens_core::simplex::Contour;
use dicelens_core::sweep::{sweep, FamilySweep};
use dicelens_core::temperature::{temperature_here, temperature_view, TempHere, TemperatureView};
use dicelens_core::{
    ambiguous_view, bias_map, gradient_curves, log_grid, region_curves, simplex_view, Ambiguous,
    AmbiguousView, Convention, Family, FamilyDecomposition, FamilyLoss, FamilyParams, GradCurves,
    GradParams, RegionCurves, SimplexTerm, SimplexView,
};
use dicelens_core::{matching_view, MatchingView};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::family::{
    draw_bias_map, draw_family, family_label, family_style, BiasMapData, FamilyPlotOptions,
    FAMILY_PLOTTED,
};
use crate::gradients::draw_gradients;
use crate::landscape::{draw_landscape, HeatMap, LandscapeData, LandscapePath};
use crate::matching::draw_matching;
use crate::temperature::{draw_pooled, draw_temperature};
use crate::trainer::{
    draw_calibration, draw_overlap, draw_proportions, draw_size_bins, draw_train_loss, RunTrace,
};
use crate::{
    decomposition_bars, draw_ambiguous, draw_decomposition, draw_region_terms, draw_simplex,
    PlotStyle,
};

/// The theory views that can be exported, by their URL/CLI key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewId {
    /// Region-size terms (two classes).
    RegionTerms,
    /// Full losses along the logit-shift family.
    Family,
    /// `ŝ*(u)` for every loss.
    BiasMap,
    /// Three classes on the simplex.
    Simplex,
    /// Stacked decomposition bars.
    Decomposition,
    /// Ambiguous pixels.
    Ambiguous,
    /// One loss landscape over `(b, ln t)` (the first map of the view, `l1`).
    Landscape,
    /// Per-pixel gradients `N·∂L/∂z` against `u`.
    Gradients,
    /// The shared matching term: per-class `C_k`, `−log m_k`, both class weightings.
    Matching,
    /// What the region terms' temperature `T` does.
    Temperature,
    /// Per image against pooled: a batch of sizes sharing one shift.
    Pooled,
}

impl ViewId {
    /// Every view, in page order.
    pub const ALL: [ViewId; 11] = [
        ViewId::RegionTerms,
        ViewId::Family,
        ViewId::BiasMap,
        ViewId::Simplex,
        ViewId::Decomposition,
        ViewId::Ambiguous,
        ViewId::Landscape,
        ViewId::Gradients,
        ViewId::Matching,
        ViewId::Temperature,
        ViewId::Pooled,
    ];

    /// Key in URLs (`view=`, `embed=`) and on the CLI (`dicelens figure <key>`).
    pub fn key(self) -> &'static str {
        match self {
            ViewId::RegionTerms => "region-terms",
            ViewId::Family => "family",
            ViewId::BiasMap => "bias-map",
            ViewId::Simplex => "simplex",
            ViewId::Decomposition => "decomposition",
            ViewId::Ambiguous => "ambiguous",
            ViewId::Landscape => "landscape",
            ViewId::Gradients => "gradients",
            ViewId::Matching => "matching",
            ViewId::Temperature => "temperature",
            ViewId::Pooled => "pooled",
        }
    }

    /// The view with this key.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.key() == key)
    }
}

/// The parameters every theory view reads (the app's URL keys; defaults are the app's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ViewParams {
    /// Ground-truth foreground proportion `u`.
    pub u: f64,
    /// Current predicted proportion `ŝ`.
    pub s: f64,
    /// Separation `κ`.
    pub kappa: f64,
    /// Noise `σ`.
    pub sigma: f64,
    /// Region-term weight `λ`.
    pub lambda: f64,
    /// Region-term temperature `T`.
    pub temp: f64,
    /// Family curves normalised to `[0, 1]`.
    pub normalized: bool,
    /// Ambiguous pixels: certain foreground `c`.
    pub c: f64,
    /// Ambiguous pixels: ambiguous fraction `a`.
    pub a: f64,
    /// Ambiguous pixels: label probability `p`.
    pub p: f64,
    /// Three classes: ground truth.
    pub u3: [f64; 3],
    /// Three classes: prediction.
    pub s3: [f64; 3],
    /// Three classes: heat-mapped term.
    pub term: SimplexTerm,
    /// Landscapes: the two losses.
    pub land_losses: [FamilyLoss; 2],
    /// Landscapes: include the ambiguous pixels `a`, `p`.
    pub land_amb: bool,
    /// Landscapes: the dropped ball `(b, ln t)`.
    pub ball: Option<(f64, f64)>,
    /// Landscapes: Adam instead of gradient descent.
    pub adam: bool,
    /// Gradients: every foreground pixel's predicted probability.
    pub pfg: f64,
    /// Gradients: every background pixel's predicted probability.
    pub pbg: f64,
    /// Pooled: the batch's foreground proportions.
    pub sizes: BatchSizes,
    /// The Dice convention preset (the family view's training-loss row).
    pub preset: Convention,
}

impl Default for ViewParams {
    fn default() -> Self {
        Self {
            u: 0.1,
            s: 0.3,
            kappa: 0.5,
            sigma: 1.0,
            lambda: 0.1,
            temp: 1.0,
            normalized: true,
            c: 0.05,
            a: 0.05,
            p: 0.3,
            u3: [0.7, 0.25, 0.05],
            s3: [0.5, 0.3, 0.2],
            term: SimplexTerm::Kl,
            land_losses: [FamilyLoss::DiceFg, FamilyLoss::Ce],
            land_amb: false,
            ball: None,
            adam: false,
            pfg: 0.7,
            pbg: 0.05,
            sizes: BatchSizes::default(),
            preset: Convention::Paper,
        }
    }
}

impl ViewParams {
    /// The landscape parameters.
    pub fn landscape(&self) -> LandscapeParams {
        LandscapeParams {
            u: self.u,
            kappa: self.kappa,
            sigma: self.sigma,
            lambda: self.lambda,
            temp: self.temp,
            amb_a: if self.land_amb { self.a } else { 0.0 },
            amb_p: self.p,
            ..LandscapeParams::default()
        }
    }

    /// The two-value image of the gradients view (`N` as the family's).
    pub fn grad_params(&self) -> GradParams {
        GradParams {
            u: self.u,
            p_fg: self.pfg,
            p_bg: self.pbg,
            lambda: self.lambda,
            temp: self.temp,
            ..GradParams::default()
        }
    }

    /// The logit-shift family of these parameters.
    pub fn family(&self) -> Result<Family, String> {
        Family::new(FamilyParams {
            u: self.u,
            kappa: self.kappa,
            sigma: self.sigma,
            lambda: self.lambda,
            temp: self.temp,
            ..FamilyParams::default()
        })
        .map_err(|e| e.to_string())
    }
}

/// The temperature view at `p` (its `u, κ, σ, λ, T` and current `ŝ`).
pub fn compute_temperature(p: &ViewParams) -> Result<TemperatureView, String> {
    temperature_view(&family_params(p), p.s).map_err(|e| e.to_string())
}

/// The temperature view's cheap part (the current `ŝ` and `T`): what its caption reads.
pub fn compute_temperature_here(p: &ViewParams) -> Result<TempHere, String> {
    temperature_here(&family_params(p), p.s).map_err(|e| e.to_string())
}

/// The pooled view at `p` (its `κ, σ, λ, T` and batch sizes).
pub fn compute_pooled(p: &ViewParams) -> Result<PooledView, String> {
    pooled_view(&family_params(p), &p.sizes).map_err(|e| e.to_string())
}

/// The family parameters of a view state (default quadrature and pixel count).
pub fn family_params(p: &ViewParams) -> FamilyParams {
    FamilyParams {
        u: p.u,
        kappa: p.kappa,
        sigma: p.sigma,
        lambda: p.lambda,
        temp: p.temp,
        ..FamilyParams::default()
    }
}

/// Cells per axis of each landscape map (the issue asks for at least 160).
pub const LANDSCAPE_CELLS: usize = 160;
/// Points of the region-terms curves (the view and its export).
pub const REGION_POINTS: usize = 240;
/// Points of the family's exact sweep (the view's exact pass and its export).
pub const FAMILY_POINTS: usize = 120;
/// The three-class heat map's cells per side and contour levels.
pub const SIMPLEX_GRID: (usize, usize) = (96, 6);
/// The ambiguous-pixels view's grid: points along ŝ and along the probability.
pub const AMBIGUOUS_GRID: (usize, usize) = (101, 161);
/// Most optimiser steps of a landscape path.
pub const LANDSCAPE_STEPS: usize = 3000;
/// The shown range of the landscapes, which is also the box the paths stay in.
pub const LANDSCAPE_SHOWN: Bounds = Bounds {
    b: DEFAULT_B_RANGE,
    log_t: DEFAULT_LOG_T_RANGE,
};

/// One landscape map: the grid, its contours and its minimum.
#[derive(Debug, Clone)]
pub struct MapData {
    /// The grid.
    pub grid: Grid,
    /// Contour lines.
    pub contours: Vec<Contour>,
    /// The minimum (or where it runs off).
    pub minimum: Option<GridMinimum>,
}

impl PartialEq for MapData {
    fn eq(&self, other: &Self) -> bool {
        self.grid == other.grid
    }
}

/// Computes one landscape map over [`LANDSCAPE_SHOWN`].
pub fn map_data(loss: FamilyLoss, p: &LandscapeParams) -> MapData {
    map_data_cells(loss, p, LANDSCAPE_CELLS)
}

/// [`map_data`] at `cells × cells` (the app draws a coarse map first while the fine one is
/// computed).
pub fn map_data_cells(loss: FamilyLoss, p: &LandscapeParams, cells: usize) -> MapData {
    let g = landscape_grid(
        loss,
        p,
        LANDSCAPE_SHOWN.b,
        LANDSCAPE_SHOWN.log_t,
        cells,
        cells,
    );
    let levels = g.contour_levels(12);
    let contours = g.contours(&levels);
    let minimum = landscape_minimum(&g, p);
    MapData {
        grid: g,
        contours,
        minimum,
    }
}

/// The landscapes' optimiser: Adam (step 0.05) or gradient descent (step 2).
pub fn landscape_method(adam: bool) -> Method {
    if adam {
        Method::Adam {
            lr: 0.05,
            beta1: 0.9,
            beta2: 0.999,
        }
    } else {
        Method::Gd { lr: 2.0 }
    }
}

/// The descent path of `loss` from `start` as the app runs it.
pub fn landscape_path(
    loss: FamilyLoss,
    p: &LandscapeParams,
    start: (f64, f64),
    adam: bool,
) -> Path {
    descend_within(
        loss,
        p,
        start,
        landscape_method(adam),
        LANDSCAPE_STEPS,
        LANDSCAPE_SHOWN,
    )
}

/// The `ŝ` range the family plot shows around `u`.
pub fn shown_range(u: f64) -> (f64, f64) {
    ((u / 10.0).max(1e-4), (12.0 * u).clamp(0.05, 0.999))
}

/// `ŝ*(u)` for every plotted loss on a log grid of `u` over `[0.001, 0.5]`, with the current `u`
/// (clamped to the grid) to mark, or none.
pub fn compute_bias_map(
    kappa: f64,
    sigma: f64,
    lambda: f64,
    temp: f64,
    current_u: Option<f64>,
) -> Result<BiasMapData, String> {
    let us = log_grid(0.001, 0.5, 32);
    let params = FamilyParams {
        kappa,
        sigma,
        lambda,
        temp,
        ..FamilyParams::default()
    };
    let curves = bias_map(params, &us, &FAMILY_PLOTTED).map_err(|e| e.to_string())?;
    Ok(BiasMapData {
        us,
        curves,
        current_u: current_u.map(|u| u.clamp(0.001, 0.5)),
    })
}

/// The gradients view's curves: every loss's `N·∂L/∂z` for a foreground and a background
/// pixel over the log grid of `u` in `[0.001, 0.5]` (the app's view and the CLI both call this).
pub fn compute_gradients(p: &ViewParams) -> Result<GradCurves, String> {
    gradient_curves(p.grad_params(), &curve_grid()).map_err(|e| e.to_string())
}

/// The decomposition at the family point whose proportion is `ŝ`.
pub fn compute_decomposition(f: &Family, s: f64) -> FamilyDecomposition {
    let b = dicelens_core::sweep::shift_for_fast(f, s.clamp(1e-4, 1.0 - 1e-4));
    f.decomposition(&f.at(b))
}

/// The matching view at the three-class state `u3`, `s3` and the family's `κ`, `σ` (the app's
/// view and `dicelens figure matching` both call this).
pub fn compute_matching(p: &ViewParams) -> Result<MatchingView, String> {
    matching_view(p.u3, p.s3, p.kappa, p.sigma).map_err(|e| e.to_string())
}

/// The rows of the matching view's CSV: `(quantity, class, value)` (class `None` for totals).
pub fn matching_rows(v: &MatchingView) -> Vec<(&'static str, Option<usize>, f64)> {
    let mut out = Vec::new();
    for c in &v.classes {
        let k = Some(c.class);
        out.extend([
            ("u", k, c.u),
            ("s_hat", k, c.s_hat),
            ("bias", k, v.bias[c.class]),
            ("c", k, c.c),
            ("m", k, c.m),
            ("neg_log_m", k, c.neg_log_m),
            ("jensen_gap", k, c.jensen_gap),
            ("weight_ce", k, c.weight_ce),
            ("weight_dice", k, c.weight_dice),
            ("weight_torch", k, c.weight_torch),
        ]);
    }
    out.extend([
        ("ce", None, v.ce),
        ("dice_bound", None, v.dice_bound),
        ("dice_matching", None, v.dice_matching),
        ("gap", None, v.gap),
        ("kl", None, v.kl),
        ("dice_region", None, v.dice_region),
        ("log_dice", None, v.log_dice),
    ]);
    out
}

/// One theory view's data, ready to draw or export.
#[derive(Debug, Clone)]
pub enum Figure {
    /// Region-size terms with the current `ŝ`.
    RegionTerms(RegionCurves, f64),
    /// The family sweep with plot options.
    Family(FamilySweep, FamilyPlotOptions),
    /// The bias map.
    BiasMap(BiasMapData),
    /// The simplex heat map.
    Simplex(Box<SimplexView>),
    /// The decomposition.
    Decomposition(FamilyDecomposition),
    /// Ambiguous pixels.
    Ambiguous(Box<AmbiguousView>),
    /// A landscape map with its path (if a ball was dropped).
    Landscape(Box<MapData>, Option<Path>),
    /// Per-pixel gradients against `u`.
    Gradients(GradCurves),
    /// The shared matching term.
    Matching(Box<MatchingView>),
    /// What `T` does.
    Temperature(Box<TemperatureView>),
    /// Per image against pooled.
    Pooled(Box<PooledView>),
    /// One of the trainer's live plots, from the runs' traces (thresholded or soft sizes).
    Trainer(TrainerPlot, Vec<RunTrace>, bool),
    /// One of the data view's plots, from an audit of the user's files.
    Data(DataPlot, Box<dicelens_core::audit::AuditReport>),
}

/// The data view's plots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataPlot {
    /// Histogram of `u`.
    Sizes,
    /// Predicted against true proportion per (image, class).
    Ratios,
    /// Reliability diagram.
    Reliability,
}

/// The trainer's live plots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainerPlot {
    /// Training loss against the step.
    TrainLoss,
    /// Predicted against true proportion per held-out image.
    Proportions,
    /// Mean size ratio per size bin over training.
    SizeBins,
    /// Dice and IoU over training.
    Overlap,
    /// Calibration over training.
    Calibration,
}

impl Figure {
    /// Computes `view` from `p` exactly as the app does.
    pub fn compute(view: ViewId, p: &ViewParams) -> Result<Figure, String> {
        Ok(match view {
            ViewId::RegionTerms => Figure::RegionTerms(region_curves(p.u, REGION_POINTS), p.s),
            ViewId::Family => {
                let f = p.family()?;
                let (lo, hi) = shown_range(f.params().u);
                Figure::Family(
                    sweep(&f, lo, hi, FAMILY_POINTS),
                    FamilyPlotOptions {
                        normalized: p.normalized,
                        current_s: Some(p.s),
                    },
                )
            }
            ViewId::BiasMap => Figure::BiasMap(compute_bias_map(
                p.kappa,
                p.sigma,
                p.lambda,
                p.temp,
                Some(p.u),
            )?),
            ViewId::Simplex => Figure::Simplex(Box::new(
                simplex_view(p.term, p.u3, p.s3, SIMPLEX_GRID.0, SIMPLEX_GRID.1)
                    .map_err(|e| e.to_string())?,
            )),
            ViewId::Decomposition => {
                Figure::Decomposition(compute_decomposition(&p.family()?, p.s))
            }
            ViewId::Ambiguous => Figure::Ambiguous(Box::new(
                Ambiguous::new(p.c, p.a, p.lambda)
                    .and_then(|m| ambiguous_view(&m, p.p, AMBIGUOUS_GRID.0, AMBIGUOUS_GRID.1))
                    .map_err(|e| e.to_string())?,
            )),
            ViewId::Landscape => {
                let lp = p.landscape();
                let loss = p.land_losses[0];
                Figure::Landscape(
                    Box::new(map_data(loss, &lp)),
                    p.ball.map(|s| landscape_path(loss, &lp, s, p.adam)),
                )
            }
            ViewId::Gradients => Figure::Gradients(compute_gradients(p)?),
            ViewId::Matching => Figure::Matching(Box::new(compute_matching(p)?)),
            ViewId::Temperature => Figure::Temperature(Box::new(compute_temperature(p)?)),
            ViewId::Pooled => Figure::Pooled(Box::new(compute_pooled(p)?)),
        })
    }

    /// Draws the figure with the same function the app's canvas uses.
    pub fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        style: &PlotStyle,
    ) -> Result<(), String> {
        let r = match self {
            Figure::RegionTerms(c, s) => draw_region_terms(area, c, Some(*s), style).map(|_| ()),
            Figure::Family(sw, o) => draw_family(area, sw, *o, style).map(|_| ()),
            Figure::BiasMap(d) => draw_bias_map(area, d, style).map(|_| ()),
            Figure::Simplex(d) => draw_simplex(area, d, style).map(|_| ()),
            Figure::Decomposition(d) => draw_decomposition(area, d, style).map(|_| ()),
            Figure::Ambiguous(d) => draw_ambiguous(area, d, style).map(|_| ()),
            Figure::Matching(v) => draw_matching(area, v, style).map(|_| ()),
            Figure::Landscape(m, path) => {
                let loss = m.grid.loss;
                let paths: Vec<LandscapePath> = path
                    .iter()
                    .map(|p| LandscapePath {
                        points: p.points.clone(),
                        color: family_style(loss).color,
                        label: family_label(loss).to_string(),
                    })
                    .collect();
                let title = format!("{} over (b, t)", family_label(loss));
                let data = LandscapeData {
                    grid: &m.grid,
                    contours: &m.contours,
                    minimum: m.minimum,
                    paths: &paths,
                    hover: None,
                    title: &title,
                    heat: HeatMap::Cells,
                };
                draw_landscape(area, &data, style).map(|_| ())
            }
            Figure::Gradients(d) => draw_gradients(area, d, style),
            Figure::Temperature(v) => draw_temperature(area, v, style).map(|_| ()),
            Figure::Pooled(v) => draw_pooled(area, v, style).map(|_| ()),
            Figure::Trainer(which, runs, hard) => match which {
                TrainerPlot::TrainLoss => draw_train_loss(area, runs, style),
                TrainerPlot::Proportions => draw_proportions(area, runs, *hard, style),
                TrainerPlot::SizeBins => draw_size_bins(area, runs, *hard, style),
                TrainerPlot::Overlap => draw_overlap(area, runs, style),
                TrainerPlot::Calibration => draw_calibration(area, runs, style),
            },
            Figure::Data(which, r) => match which {
                DataPlot::Sizes => crate::data::draw_data_sizes(area, r, style),
                DataPlot::Ratios => crate::data::draw_data_ratios(area, r, style),
                DataPlot::Reliability => crate::data::draw_data_reliability(area, r, style),
            },
        };
        r.map_err(|e| format!("drawing failed: {e}"))?;
        area.present().map_err(|e| format!("drawing failed: {e}"))
    }

    /// The plotted numbers as CSV (header row, then one row per plotted point).
    pub fn csv(&self) -> String {
        let mut out = String::new();
        match self {
            Figure::RegionTerms(c, _) => {
                let series: Vec<_> = c.curves.iter().map(|(t, v)| (t.key(), &v[..])).collect();
                write_columns(&mut out, &[("s_hat", &c.s)], &series);
            }
            Figure::Family(sw, _) => {
                let b: Vec<f64> = sw.points.iter().map(|p| p.b).collect();
                let s_hat: Vec<f64> = sw.points.iter().map(|p| p.s_hat).collect();
                let series: Vec<_> = sw.values.iter().map(|(l, v)| (l.key(), &v[..])).collect();
                write_columns(&mut out, &[("b", &b), ("s_hat", &s_hat)], &series);
            }
            Figure::BiasMap(d) => {
                let series: Vec<_> = d.curves.iter().map(|(l, v)| (l.key(), &v[..])).collect();
                write_columns(&mut out, &[("u", &d.us)], &series);
            }
            Figure::Gradients(d) => {
                let names: Vec<String> = d
                    .values
                    .iter()
                    .flat_map(|(l, _)| [format!("{}-fg", l.key()), format!("{}-bg", l.key())])
                    .collect();
                let cols: Vec<Vec<f64>> = d
                    .values
                    .iter()
                    .flat_map(|(_, v)| {
                        [
                            v.iter().map(|g| g[0]).collect(),
                            v.iter().map(|g| g[1]).collect(),
                        ]
                    })
                    .collect();
                let series: Vec<(&str, &[f64])> = names
                    .iter()
                    .zip(&cols)
                    .map(|(n, c)| (n.as_str(), &c[..]))
                    .collect();
                write_columns(&mut out, &[("u", &d.us)], &series);
            }
            Figure::Simplex(d) => {
                let _ = writeln!(out, "s0,s1,s2,{}", d.term.key());
                let n = d.grid.resolution;
                for i in 0..=n {
                    for j in 0..=(n - i) {
                        let b = d.grid.bary(i, j);
                        let _ = writeln!(
                            out,
                            "{},{},{},{}",
                            num(b[0]),
                            num(b[1]),
                            num(b[2]),
                            num(d.grid.at(i, j))
                        );
                    }
                }
            }
            Figure::Decomposition(d) => {
                out.push_str("bar,part,value\n");
                for bar in decomposition_bars(d) {
                    for part in &bar.parts {
                        let _ = writeln!(
                            out,
                            "{},{},{}",
                            quote(&bar.label),
                            quote(part.name),
                            num(part.value)
                        );
                    }
                    let _ = writeln!(out, "{},total,{}", quote(&bar.label), num(bar.total));
                }
            }
            Figure::Landscape(m, path) => {
                let g = &m.grid;
                let _ = writeln!(out, "b,log_t,{}", g.loss.key());
                for j in 0..g.nt {
                    for i in 0..g.nb {
                        let _ = writeln!(
                            out,
                            "{},{},{}",
                            num(g.b_at(i)),
                            num(g.log_t_at(j)),
                            num(g.at(i, j))
                        );
                    }
                }
                if let Some(p) = path {
                    out.push_str("path_step,b,log_t,value\n");
                    for (k, (&(b, lt), v)) in p.points.iter().zip(&p.values).enumerate() {
                        let _ = writeln!(out, "{k},{},{},{}", num(b), num(lt), num(*v));
                    }
                }
            }
            Figure::Trainer(which, runs, _) => match which {
                TrainerPlot::TrainLoss => {
                    out.push_str("run,step,train_loss\n");
                    for r in runs {
                        for &(step, v) in &r.train_loss {
                            let _ = writeln!(out, "{},{},{}", quote(&r.label), num(step), num(v));
                        }
                    }
                }
                TrainerPlot::Proportions => {
                    out.push_str("run,image,class,u,s_soft,s_hard\n");
                    for r in runs {
                        for p in r.latest.iter().flat_map(|m| &m.points) {
                            let _ = writeln!(
                                out,
                                "{},{},{},{},{},{}",
                                quote(&r.label),
                                p.image,
                                p.class,
                                num(p.u),
                                num(p.soft),
                                num(p.hard)
                            );
                        }
                    }
                }
                _ => {
                    out.push_str(
                        "run,step,heldout_loss,dice,iou,ece,saturated,ratio_soft_small,\
                         ratio_soft_medium,ratio_soft_large,ratio_hard_small,ratio_hard_medium,\
                         ratio_hard_large\n",
                    );
                    let o = |v: Option<f64>| v.map(num).unwrap_or_default();
                    for r in runs {
                        for h in &r.history {
                            let _ = write!(
                                out,
                                "{},{},{},{},{},{},{}",
                                quote(&r.label),
                                num(h.step),
                                o(h.loss),
                                o(h.dice),
                                o(h.iou),
                                o(h.ece),
                                o(h.saturated)
                            );
                            for v in h.bins_soft.iter().chain(&h.bins_hard) {
                                let _ = write!(out, ",{}", o(*v));
                            }
                            out.push('\n');
                        }
                    }
                }
            },
            Figure::Data(which, r) => {
                let o = |v: Option<f64>| v.map(num).unwrap_or_default();
                match which {
                    DataPlot::Sizes => {
                        out.push_str("lo,hi,count,mean_u\n");
                        for b in &r.hist {
                            let _ = writeln!(
                                out,
                                "{},{},{},{}",
                                num(b.lo),
                                num(b.hi),
                                b.count,
                                o(b.mean_u)
                            );
                        }
                    }
                    DataPlot::Ratios => {
                        out.push_str("image,class,u,s_soft,s_hard\n");
                        for p in r.metrics.iter().flat_map(|m| &m.points) {
                            let _ = writeln!(
                                out,
                                "{},{},{},{},{}",
                                p.image,
                                p.class,
                                num(p.u),
                                num(p.soft),
                                num(p.hard)
                            );
                        }
                    }
                    DataPlot::Reliability => {
                        out.push_str("center,confidence,accuracy,count\n");
                        for b in r.metrics.iter().flat_map(|m| &m.reliability) {
                            let _ = writeln!(
                                out,
                                "{},{},{},{}",
                                num(b.center),
                                o(b.confidence),
                                o(b.accuracy),
                                b.count
                            );
                        }
                    }
                }
            }
            Figure::Matching(v) => {
                out.push_str("quantity,class,value\n");
                for (q, k, value) in matching_rows(v) {
                    let k = k.map(|k| k.to_string()).unwrap_or_default();
                    let _ = writeln!(out, "{q},{k},{}", num(value));
                }
            }
            Figure::Temperature(v) => {
                let h = &v.here;
                out.push_str("quantity,loss,temp,value\n");
                let mut row = |q: &str, l: &str, t: f64, v: f64| {
                    let _ = writeln!(out, "{q},{l},{},{}", num(t), num(v));
                };
                row("s_hat", "", h.params.temp, h.s);
                row("hard", "", h.params.temp, h.hard);
                row("s_t", "", h.params.temp, h.s_t);
                for (l, o) in &h.current {
                    row("soft_ratio", l.key(), o.temp, o.soft);
                    row("hard_ratio", l.key(), o.temp, o.hard);
                }
                for (&t, &st) in h.ts.iter().zip(&h.s_t_curve) {
                    row("s_t_curve", "", t, st);
                }
                let c = &v.curves;
                for (l, os) in &c.curves {
                    for o in os {
                        row("soft_ratio_curve", l.key(), o.temp, o.soft);
                        row("hard_ratio_curve", l.key(), o.temp, o.hard);
                    }
                }
            }
            Figure::Pooled(v) => {
                out.push_str("image,u,loss,soft_ratio,hard_ratio\n");
                for o in &v.optima {
                    for (j, u) in v.sizes.iter().enumerate() {
                        let _ = writeln!(
                            out,
                            "{j},{},{},{},{}",
                            num(*u),
                            o.loss.key(),
                            num(o.soft[j]),
                            num(o.hard[j])
                        );
                    }
                    let _ = writeln!(
                        out,
                        "pooled,{},{},{},{}",
                        num(v.sizes.iter().sum::<f64>() / v.sizes.len() as f64),
                        o.loss.key(),
                        num(o.pooled_soft),
                        num(o.pooled_hard)
                    );
                }
            }
            Figure::Ambiguous(d) => {
                out.push_str("curve,x");
                for (l, _) in &d.q_star {
                    let _ = write!(out, ",{}", l.key());
                }
                out.push('\n');
                for (i, p) in d.ps.iter().enumerate() {
                    let _ = write!(out, "q_star_vs_p,{}", num(*p));
                    for (_, v) in &d.q_star {
                        let _ = write!(out, ",{}", num(v[i]));
                    }
                    out.push('\n');
                }
                for (i, q) in d.qs.iter().enumerate() {
                    let _ = write!(out, "loss_vs_q,{}", num(*q));
                    for (_, v) in &d.loss_curves {
                        let _ = write!(out, ",{}", num(v[i]));
                    }
                    out.push('\n');
                }
            }
        }
        out
    }
}

/// CSV of columns: the `x` columns, then one column per series, one row per point.
fn write_columns(out: &mut String, x: &[(&str, &[f64])], series: &[(&str, &[f64])]) {
    let names: Vec<&str> = x.iter().chain(series).map(|c| c.0).collect();
    let _ = writeln!(out, "{}", names.join(","));
    for i in 0..x.first().map_or(0, |c| c.1.len()) {
        let row: Vec<String> = x.iter().chain(series).map(|c| num(c.1[i])).collect();
        let _ = writeln!(out, "{}", row.join(","));
    }
}

/// A CSV number: shortest round-trip form, empty for a non-finite value.
fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        String::new()
    }
}

/// A CSV field, quoted when it holds a comma or a quote.
fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One numeric parameter of the views: its URL/CLI key, what it is, its range and default.
/// [`PARAMS`] is the one table the app's sliders and URL codec, the embed bridge, the tour and
/// the CLI all read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamSpec {
    /// URL and CLI key.
    pub key: &'static str,
    /// Label with units, as the slider shows it.
    pub label: &'static str,
    /// Smallest allowed value.
    pub lo: f64,
    /// Largest allowed value.
    pub hi: f64,
    /// Default.
    pub default: f64,
    /// How its slider's 1,000 positions map to values.
    pub scale: Scale,
}

/// How a slider's positions map to a parameter's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Evenly spaced values.
    Linear,
    /// Evenly spaced log-odds: 0.001 and 0.999 are as easy to reach as 0.5 (for proportions).
    LogOdds,
}

const fn spec(key: &'static str, label: &'static str, lo: f64, hi: f64, default: f64) -> ParamSpec {
    ParamSpec {
        key,
        label,
        lo,
        hi,
        default,
        scale: Scale::Linear,
    }
}

/// A parameter whose slider moves in log-odds.
const fn log_odds(p: ParamSpec) -> ParamSpec {
    ParamSpec {
        scale: Scale::LogOdds,
        ..p
    }
}

/// Every numeric parameter (see [`ParamSpec`]).
pub const PARAMS: [ParamSpec; 11] = [
    log_odds(spec(
        "u",
        "ground-truth foreground proportion u (fraction of pixels)",
        0.001,
        0.999,
        0.1,
    )),
    spec("s", "current predicted proportion ŝ", 0.0, 1.0, 0.3),
    spec("kappa", "separation κ (logit units)", 0.0, 5.0, 0.5),
    spec("sigma", "noise σ (logit units)", 0.0, 4.0, 1.0),
    spec("lambda", "region-term weight λ", 0.0, 10.0, 0.1),
    spec("T", "region-term temperature T", 0.1, 20.0, 1.0),
    spec(
        "c",
        "certain foreground c (fraction of pixels)",
        0.001,
        0.5,
        0.05,
    ),
    spec(
        "a",
        "ambiguous fraction a (fraction of pixels)",
        0.001,
        0.5,
        0.05,
    ),
    spec(
        "p",
        "foreground probability p of an ambiguous pixel",
        0.0,
        1.0,
        0.3,
    ),
    log_odds(spec(
        "pfg",
        "foreground pixels' predicted probability p_fg",
        0.001,
        0.999,
        0.7,
    )),
    log_odds(spec(
        "pbg",
        "background pixels' predicted probability p_bg",
        0.001,
        0.999,
        0.05,
    )),
];

/// The parameter `key` of [`PARAMS`].
pub fn param(key: &str) -> Option<&'static ParamSpec> {
    PARAMS.iter().find(|p| p.key == key)
}
