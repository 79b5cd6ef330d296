//! View 7: loss landscapes over `(b, ln t)` — region size against confidence — with
//! gradient-descent paths dropped from a click.

use dicelens_core::landscape::{
    point, value, Descent, Grid, GridMinimum, LandscapeParams, Path, PathStatus,
};
use dicelens_core::FamilyLoss;
use dicelens_plot::family::{family_label, family_style};
use dicelens_plot::figure::{
    landscape_method, map_data, map_data_cells, MapData, LANDSCAPE_SHOWN, LANDSCAPE_STEPS,
};
use dicelens_plot::fmt_prop;
use dicelens_plot::landscape::{
    draw_landscape, heat_rgba, HeatMap, LandscapeData, LandscapeFrame, LandscapePath,
};
use leptos::prelude::*;

use crate::state::{round_sig, AppState};
use crate::widgets::badge::{Badge, Origin};
use crate::widgets::deferred::{deferred_by, readouts, use_readouts_seen, use_visibility, Delay};
use crate::widgets::perf;
use crate::widgets::plot_canvas::PlotCanvas;
use dicelens_core::claims::paragraph;
use dicelens_plot::explain::landscape_claims;

/// Fewest and most cells per axis of the coarse pass of a map (a multiple of 8 between).
const COARSE_CELLS: (usize, usize) = (32, 64);

/// Time the coarse pass of both maps may take (ms): with the input's other work, the drawing
/// (heat map and contours grow with the cells too) and the browser's own rendering of two
/// large canvases it has to fit one frame while a slider is dragged (issue 13).
const COARSE_BUDGET_MS: f64 = 2.0;

/// Cells per axis of a coarse map at `ms_per_cell` (the measured cost of one cell of one map;
/// 0 before the first measurement): as many as fit half of [`COARSE_BUDGET_MS`].
fn coarse_cells(ms_per_cell: f64) -> usize {
    let (lo, hi) = COARSE_CELLS;
    if ms_per_cell.is_nan() || ms_per_cell <= 0.0 {
        return 64;
    }
    let n = (0.5 * COARSE_BUDGET_MS / ms_per_cell).sqrt();
    ((n / 8.0).floor() as usize * 8).clamp(lo, hi)
}

/// Most time the path animation spends advancing the descents in one frame (ms).
const STEP_BUDGET_MS: f64 = 6.0;

const FORMULAS: &str = r#"<math display="block"><mrow>
<msub><mi>s</mi><mi>i</mi></msub><mo>=</mo><mi>σ</mi><mo>(</mo><mi>t</mi><mo>·</mo><msub><mi>z</mi><mi>i</mi></msub><mo>+</mo><mi>b</mi><mo>)</mo><mo>,</mo><mspace width="0.6em"/>
<msub><mi>z</mi><mi>i</mi></msub><mo>=</mo><mi>κ</mi><mo>(</mo><mn>2</mn><msub><mi>y</mi><mi>i</mi></msub><mo>−</mo><mn>1</mn><mo>)</mo><mo>+</mo><mi>σ</mi><msub><mi>ε</mi><mi>i</mi></msub>
<mo>,</mo><mspace width="0.6em"/><mover><mi>s</mi><mo>^</mo></mover><mo>=</mo><mi mathvariant="double-struck">E</mi><mo>[</mo><msub><mi>s</mi><mi>i</mi></msub><mo>]</mo><mo>,</mo><mspace width="0.6em"/>
<mtext>confidence</mtext><mo>=</mo><mi mathvariant="double-struck">E</mi><mo>[</mo><mi>max</mi><mo>(</mo><msub><mi>s</mi><mi>i</mi></msub><mo>,</mo><mn>1</mn><mo>−</mo><msub><mi>s</mi><mi>i</mi></msub><mo>)</mo><mo>]</mo>
</mrow></math>"#;

/// The landscape parameters of the shared state (tracked).
fn params_of(state: &AppState) -> LandscapeParams {
    for sig in [
        state.u,
        state.kappa,
        state.sigma,
        state.lambda,
        state.temp,
        state.amb_a,
        state.amb_p,
    ] {
        sig.track();
    }
    state.land_amb.track();
    // The same mapping as exports and `dicelens figure landscape`.
    state.params_untracked().landscape()
}

/// Paints the heat map of `grid` into the plotting rectangle `(l, t, r, b)` (backend pixels)
/// of `canvas` (the plot's own, handed over by `PlotCanvas`): one `putImageData` of the grid's cells into an off-screen
/// canvas, scaled with smoothing by one `drawImage` (a few thousand `fillRect`s otherwise).
/// An off-screen canvas and its context, kept from one draw to the next (a new canvas and
/// context per draw cost about 1 ms per slider move in a CPU profile).
type Offscreen = (
    web_sys::HtmlCanvasElement,
    web_sys::CanvasRenderingContext2d,
);

fn blit_heat(
    canvas: &web_sys::HtmlCanvasElement,
    grid: &Grid,
    (l, t, r, b): (i32, i32, i32, i32),
    offscreen: StoredValue<Option<Offscreen>, LocalStorage>,
) -> Option<()> {
    use wasm_bindgen::JsCast;
    let doc = web_sys::window()?.document()?;
    let ctx: web_sys::CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    let (w, h) = (grid.nb as u32, grid.nt as u32);
    let rgba = heat_rgba(grid, grid.nb, grid.nt);
    let img =
        web_sys::ImageData::new_with_u8_clamped_array_and_sh(wasm_bindgen::Clamped(&rgba), w, h)
            .ok()?;
    if offscreen.with_value(|o| o.is_none()) {
        let off: web_sys::HtmlCanvasElement = doc.create_element("canvas").ok()?.dyn_into().ok()?;
        let octx: web_sys::CanvasRenderingContext2d =
            off.get_context("2d").ok()??.dyn_into().ok()?;
        offscreen.set_value(Some((off, octx)));
    }
    let (off, octx) = offscreen.get_value()?;
    if off.width() != w || off.height() != h {
        off.set_width(w);
        off.set_height(h);
    }
    // Every pixel is replaced: no clearing needed.
    octx.put_image_data(&img, 0.0, 0.0).ok()?;
    ctx.set_image_smoothing_enabled(true);
    ctx.draw_image_with_html_canvas_element_and_dw_and_dh(
        &off,
        l as f64,
        t as f64,
        (r - l) as f64,
        (b - t) as f64,
    )
    .ok()
}

/// A path's ending in words.
fn describe_path(p: &Path, params: &LandscapeParams) -> String {
    let end = p.points.last().copied();
    let at = end
        .map(|(b, lt)| {
            let pt = point(params, b, lt);
            format!(
                "ŝ = {}, t = {:.3}, confidence {:.3}",
                fmt_prop(pt.s_hat),
                lt.exp(),
                pt.confidence
            )
        })
        .unwrap_or_default();
    let n = p.points.len().saturating_sub(1);
    match p.status {
        PathStatus::Converged => format!("converged after {n} steps at {at}"),
        PathStatus::MaxSteps => format!("still moving after {n} steps, now at {at}"),
        PathStatus::LeftDomain => {
            format!("ran into the edge of the shown range after {n} steps ({at}): the loss keeps falling beyond it")
        }
        PathStatus::Diverged { step } => {
            format!("diverged at step {step} (a value stopped being finite); stopped at {at}")
        }
    }
}

fn describe_min(m: &Option<GridMinimum>, params: &LandscapeParams) -> String {
    match m {
        None => "No finite value in the shown range.".into(),
        Some(m) => match m.run_off {
            Some(r) => r.description(),
            None => {
                let pt = point(params, m.b, m.log_t);
                format!(
                    "Minimum {:.4} at b = {:.2}, t = {:.3}: ŝ = {}, confidence {:.3}.",
                    m.value,
                    m.b,
                    m.log_t.exp(),
                    fmt_prop(pt.s_hat),
                    pt.confidence
                )
            }
        },
    }
}

/// The landscapes panel.
#[component]
pub fn LandscapeView(
    /// The shared app state.
    state: AppState,
) -> impl IntoView {
    let params = Memo::new(move |_| params_of(&state));
    // The maps are computed only while the view is on screen (or about to be): two 160×160
    // grids per slider move are worth it only when someone sees them. Off screen the memo keeps
    // its last value and tracks nothing but the visibility (off screen until the observer
    // first reports, so a page opened at the top never computes them).
    let section = NodeRef::<leptos::html::Section>::new();
    let on_screen = use_visibility(section, false);
    // Progressive refinement: a slider move first draws coarse maps, computed at once, with
    // as many cells (32² to 64²) as fit the frame on this machine (measured as it runs); the
    // 160×160 maps follow on the animation frames after the input rests (`deferred::REST_MS`:
    // while a slider is dragged, only coarse passes) and replace them.
    let fine_params = deferred_by(RwSignal::new(false), params, Delay::Frame);
    // The second map's fine pass one frame after the first's: two frames of half the work,
    // should a drag resume right then.
    let fine_params_2 = deferred_by(
        RwSignal::new(false),
        Memo::new(move |_| fine_params.get()),
        Delay::Frame,
    );
    let ms_per_cell = StoredValue::new(0.0f64);
    let coarse = [0usize, 1].map(|k| {
        Memo::new(move |prev: Option<&Option<MapData>>| {
            if !on_screen.get() {
                return prev.cloned().flatten();
            }
            let loss = state.land_losses.get()[k];
            let cells = coarse_cells(ms_per_cell.get_value());
            let t0 = perf::now();
            let m = params.with(|p| map_data_cells(loss, p, cells));
            let took = perf::now() - t0;
            perf::record_work("landscape-coarse", took);
            // Slowly down, fast up (a slow pass must not repeat).
            let per = took / (cells * cells) as f64;
            ms_per_cell.update_value(|c| {
                *c = if *c <= 0.0 || per > *c {
                    per
                } else {
                    0.8 * *c + 0.2 * per
                }
            });
            Some(m)
        })
    });
    let fine = [0usize, 1].map(|k| {
        Memo::new(
            move |prev: Option<&Option<(LandscapeParams, FamilyLoss, MapData)>>| {
                if !on_screen.get() {
                    return prev.cloned().flatten();
                }
                let loss = state.land_losses.get()[k];
                let p = if k == 0 {
                    fine_params.get()
                } else {
                    fine_params_2.get()
                };
                let t0 = perf::now();
                let m = map_data(loss, &p);
                perf::record_work("landscape-fine", perf::now() - t0);
                Some((p, loss, m))
            },
        )
    });
    // The fine map when it is current, else the coarse one.
    let maps = [0usize, 1].map(|k| {
        Memo::new(move |_| {
            let loss = state.land_losses.get()[k];
            let p = params.get();
            let f = fine[k].with(|f| {
                f.as_ref()
                    .filter(|(fp, fl, _)| *fp == p && *fl == loss)
                    .map(|(_, _, m)| m.clone())
            });
            f.or_else(|| coarse[k].get())
        })
    });
    // Both descents from the dropped ball, advanced a few steps per animation frame (within a
    // time budget, so that a slow region of the landscape never freezes the page).
    let descents = StoredValue::new_local(None::<[Descent; 2]>);
    let version = RwSignal::new(0u32);
    let speed = RwSignal::new(20.0f64);
    let generation = StoredValue::new(0u64);
    // Effects only talk to the outside world: here, the animation loop that advances the paths.
    Effect::new(move |_| {
        let start = state.land_ball.get();
        let adam = state.land_adam.get();
        let losses = state.land_losses.get();
        let p = params.get();
        descents.set_value(start.map(|s| {
            losses.map(|l| {
                Descent::new(
                    l,
                    &p,
                    s,
                    landscape_method(adam),
                    LANDSCAPE_STEPS,
                    LANDSCAPE_SHOWN,
                )
            })
        }));
        version.update(|v| *v = v.wrapping_add(1));
        generation.update_value(|g| *g += 1);
        if start.is_none() {
            return;
        }
        let my = generation.get_value();
        let reduce = web_sys::window()
            .and_then(|w| {
                w.match_media("(prefers-reduced-motion: reduce)")
                    .ok()
                    .flatten()
            })
            .map(|m| m.matches())
            .unwrap_or(false);
        fn tick(
            my: u64,
            generation: StoredValue<u64>,
            descents: StoredValue<Option<[Descent; 2]>, LocalStorage>,
            version: RwSignal<u32>,
            speed: RwSignal<f64>,
            reduce: bool,
        ) {
            if generation.get_value() != my {
                return;
            }
            let t0 = perf::now();
            let steps = if reduce {
                usize::MAX
            } else {
                speed.get_untracked().max(1.0) as usize
            };
            let mut done = true;
            descents.update_value(|d| {
                if let Some(d) = d {
                    for _ in 0..steps {
                        let mut all = true;
                        for x in d.iter_mut() {
                            all &= x.advance(1);
                        }
                        if all || perf::now() - t0 > STEP_BUDGET_MS {
                            done = all;
                            break;
                        }
                        done = false;
                    }
                }
            });
            version.update(|v| *v = v.wrapping_add(1));
            if !done {
                request_animation_frame(move || {
                    tick(my, generation, descents, version, speed, reduce)
                });
            }
        }
        request_animation_frame(move || tick(my, generation, descents, version, speed, reduce));
    });
    let hover = RwSignal::new(None::<(f64, f64)>);
    let frames: [StoredValue<Option<LandscapeFrame>, LocalStorage>; 2] =
        [StoredValue::new_local(None), StoredValue::new_local(None)];
    let offscreen: [StoredValue<Option<Offscreen>, LocalStorage>; 2] =
        [StoredValue::new_local(None), StoredValue::new_local(None)];
    let shown_paths = move || -> Vec<LandscapePath> {
        version.track();
        descents.with_value(|p| {
            p.as_ref()
                .map(|ps| {
                    ps.iter()
                        .zip(state.land_losses.get())
                        .map(|(p, l)| LandscapePath {
                            points: p.path.points.clone(),
                            color: family_style(l).color,
                            label: family_label(l).to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
    };
    let canvases: [NodeRef<leptos::html::Canvas>; 2] = [NodeRef::new(), NodeRef::new()];
    let map_view = move |k: usize| {
        let drop_ball = Callback::new(move |(px, py, pressed): (f64, f64, bool)| {
            if !pressed {
                return;
            }
            if let Some(f) = frames[k].get_value() {
                if f.contains(px, py) {
                    let (b, lt) = f.data_at(px, py);
                    state.land_ball.set(Some((round_sig(b), round_sig(lt))));
                }
            }
        });
        let hover_at = Callback::new(move |pos: Option<(f64, f64)>| {
            let at = pos.and_then(|(px, py)| {
                let f = frames[k].get_value()?;
                f.contains(px, py).then(|| f.data_at(px, py))
            });
            hover.set(at);
        });
        view! {
            <div class="plot-wrap landscape-map">
                <PlotCanvas
                    draw=move |area, style| {
                        let title = format!("{} over (b, t)", family_label(state.land_losses.get()[k]));
                        let ps = shown_paths();
                        let h = hover.get();
                        maps[k].with(|m| {
                            let m = m.as_ref()?;
                            let draw = |heat| {
                                let data = LandscapeData {
                                    grid: &m.grid,
                                    contours: &m.contours,
                                    minimum: m.minimum,
                                    paths: &ps,
                                    hover: h,
                                    title: &title,
                                    heat,
                                };
                                draw_landscape(area, &data, style).ok()
                            };
                            // The plotting rectangle of the last draw: the heat map is blitted
                            // there first, then axes, contours and paths are drawn over it.
                            let prev = frames[k].get_value();
                            let _ = area.fill(&style.bg());
                            let blitted = prev.zip(canvases[k].get_untracked()).and_then(|(f, c)| blit_heat(&c, &m.grid, f.pixels(), offscreen[k]));
                            let mut f = draw(if blitted.is_some() { HeatMap::External } else { HeatMap::Cells })?;
                            if blitted.is_some() && Some(f) != prev {
                                // The layout moved: paint the cells where they belong now.
                                f = draw(HeatMap::Cells)?;
                            }
                            frames[k].set_value(Some(f));
                            Some(f.frame)
                        })
                    }
                    label=format!("Loss landscape {} over shift b and scale t; click to drop a ball", k + 1)
                    testid=format!("plot-landscape-{k}")
                    canvas=canvases[k]
                    export=Callback::new(move |_| {
                        let mut p = state.params_untracked();
                        p.land_losses = [p.land_losses[k], p.land_losses[1 - k]];
                        dicelens_plot::figure::Figure::compute(dicelens_plot::figure::ViewId::Landscape, &p).ok()
                    })
                    export_name=format!("dicelens-landscape-{k}")
                    aspect=0.9
                    on_drag_xy=drop_ball
                    on_hover_xy=hover_at
                />
            </div>
        }
    };
    let loss_select = move |k: usize| {
        view! {
            <label for=format!("land-loss-{k}")>{format!("map {}:", k + 1)}</label>
            <select
                id=format!("land-loss-{k}")
                data-testid=format!("land-loss-{k}")
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    if let Some(l) = FamilyLoss::ALL.into_iter().find(|l| l.key() == v) {
                        state.land_losses.update(|x| x[k] = l);
                    }
                }
            >
                {FamilyLoss::ALL
                    .into_iter()
                    .map(|l| view! { <option value=l.key() selected=move || state.land_losses.get()[k] == l>{family_label(l)}</option> })
                    .collect_view()}
            </select>
        }
    };
    // The caption and each map's minimum, as text: live while on screen, and once the input
    // rests while off screen (`deferred::use_readouts_seen`).
    let block = NodeRef::<leptos::html::Div>::new();
    let (shown, behind) = readouts(
        use_readouts_seen(block),
        Memo::new(move |_| {
            let p = params.get();
            let amb = (p.amb_a > 0.0).then_some((p.amb_a, p.amb_p));
            let losses = state.land_losses.get();
            let claims: Vec<_> = (0..2)
                .filter_map(|k| {
                    maps[k].with(|m| m.as_ref().map(|m| landscape_claims(losses[k], m, amb)))
                })
                .collect();
            let mins = [0, 1].map(|k| {
                let (text, cells) = maps[k].with(|m| {
                    m.as_ref()
                        .map(|m| (describe_min(&m.minimum, &p), m.grid.nb))
                        .unwrap_or_default()
                });
                (losses[k], text, cells)
            });
            (paragraph(&claims), mins)
        }),
        || false,
    );
    let readout = move || {
        let Some((b, lt)) = hover.get() else {
            return "Point at a map to read it here; click to drop a ball.".to_string();
        };
        let p = params.get();
        let pt = point(&p, b, lt);
        let [l1, l2] = state.land_losses.get();
        format!(
            "b = {:.2}, t = {:.3}: ŝ = {} (truth {}), mean confidence {:.3}; {} = {:.4}, {} = {:.4}",
            b,
            lt.exp(),
            fmt_prop(pt.s_hat),
            fmt_prop(pt.label_volume),
            pt.confidence,
            family_label(l1),
            value(l1, &p, b, lt),
            family_label(l2),
            value(l2, &p, b, lt)
        )
    };
    view! {
        <section class="panel" id="landscape" aria-labelledby="land-title" node_ref=section>
            <h2 id="land-title">"Loss landscapes: region size against confidence"</h2>
            <Badge origin=Origin::Model note="The landscapes are DiceLens's construction: the logit-shift family with a second knob, a confidence scale t; with ambiguous pixels, DiceLens's version of Bertels et al.'s analysis." />
            <p class="caption">
                "The family again, with a second knob: a scale t that sharpens (t > 1) or softens (t < 1) "
                "every prediction. Each map shows one loss over the shift b (left–right: how much "
                "foreground is predicted) and the scale t (up: more confident). "
                "Click a map to drop a ball: gradient descent (or Adam) runs from there on both maps."
            </p>
            <div class="formulas" tabindex="0" role="group" aria-label="Formulas" inner_html=FORMULAS></div>
            <div class="controls-inline land-controls">
                {loss_select(0)}
                {loss_select(1)}
                <label class="toggle">
                    <input type="checkbox" data-testid="land-amb" prop:checked=move || state.land_amb.get()
                        on:change=move |ev| state.land_amb.set(event_target_checked(&ev)) />
                    "include the ambiguous pixels (a, p of the Ambiguous pixels view)"
                </label>
                <label for="land-opt">"optimiser:"</label>
                <select id="land-opt" data-testid="land-opt" on:change=move |ev| state.land_adam.set(event_target_value(&ev) == "adam")>
                    <option value="gd" selected=move || !state.land_adam.get()>"gradient descent (step 2)"</option>
                    <option value="adam" selected=move || state.land_adam.get()>"Adam (step 0.05)"</option>
                </select>
                <label for="land-speed">"speed (steps per frame):"</label>
                <input id="land-speed" type="range" min="1" max="200" step="1" data-testid="land-speed"
                    prop:value=move || speed.get().to_string()
                    on:input=move |ev| speed.set(event_target_value(&ev).parse().unwrap_or(20.0)) />
                <button type="button" data-testid="land-clear" on:click=move |_| state.land_ball.set(None)
                    disabled=move || state.land_ball.get().is_none()>"Clear paths"</button>
            </div>
            <div class="landscape-maps">
                {map_view(0)}
                {map_view(1)}
            </div>
            <div class="readouts-block" node_ref=block aria-busy=move || behind.get().then_some("true")>
            <p class="caption claims" data-testid="caption-landscape" aria-live="polite">
                {move || shown.with(|(caption, _)| caption.clone())}
            </p>
            <p class="plot-alt" data-testid="land-readout" aria-live="polite">{readout}</p>
            <ul class="plot-alt land-mins">
                {move || {
                    shown.with(|(_, mins)| {
                        mins.iter()
                            .enumerate()
                            .map(|(k, (l, text, cells))| {
                                view! {
                                    <li data-testid=format!("land-min-{k}") data-cells=cells.to_string()>
                                        <strong>{family_label(*l)}": "</strong>{text.clone()}
                                    </li>
                                }
                            })
                            .collect_view()
                    })
                }}
                {move || {
                    let p = params.get();
                    version.track();
                    descents.with_value(|ps| ps.as_ref().map(|ps| {
                        ps.iter()
                            .zip(state.land_losses.get())
                            .enumerate()
                            .map(|(k, (d, l))| {
                                let text = if d.finished() {
                                    describe_path(&d.path, &p)
                                } else {
                                    format!("running… step {}", d.path.points.len())
                                };
                                view! {
                                    <li data-testid=format!("land-path-{k}") data-steps=d.path.points.len().to_string()
                                        data-done=d.finished().to_string()>
                                        <strong>{format!("Ball on {}: ", family_label(l))}</strong>{text}
                                    </li>
                                }
                            })
                            .collect_view()
                    }))
                }}
            </ul>
            </div>
        </section>
    }
}
