//! View 7: loss landscapes over `(b, ln t)` — region size against confidence — with
//! gradient-descent paths dropped from a click.

use dicelens_core::landscape::{point, value, GridMinimum, LandscapeParams, Path, PathStatus};
use dicelens_core::FamilyLoss;
use dicelens_plot::family::{family_label, family_style};
use dicelens_plot::figure::{landscape_path, map_data};
use dicelens_plot::fmt_prop;
use dicelens_plot::landscape::{
    draw_landscape, HeatMap, LandscapeData, LandscapeFrame, LandscapePath,
};
use leptos::prelude::*;

use crate::state::{round_sig, AppState};
use crate::widgets::plot_canvas::PlotCanvas;

const FORMULAS: &str = r#"<math display="block"><mrow>
<msub><mi>s</mi><mi>i</mi></msub><mo>=</mo><mi>σ</mi><mo>(</mo><mi>t</mi><mo>·</mo><msub><mi>z</mi><mi>i</mi></msub><mo>+</mo><mi>b</mi><mo>)</mo><mo>,</mo><mspace width="0.6em"/>
<msub><mi>z</mi><mi>i</mi></msub><mo>=</mo><mi>κ</mi><mo>(</mo><mn>2</mn><msub><mi>y</mi><mi>i</mi></msub><mo>−</mo><mn>1</mn><mo>)</mo><mo>+</mo><mi>σ</mi><msub><mi>ε</mi><mi>i</mi></msub>
<mo>,</mo><mspace width="0.6em"/><mover><mi>s</mi><mo>^</mo></mover><mo>=</mo><mi mathvariant="double-struck">E</mi><mo>[</mo><msub><mi>s</mi><mi>i</mi></msub><mo>]</mo><mo>,</mo><mspace width="0.6em"/>
<mtext>confidence</mtext><mo>=</mo><mi mathvariant="double-struck">E</mi><mo>[</mo><mi>max</mi><mo>(</mo><msub><mi>s</mi><mi>i</mi></msub><mo>,</mo><mn>1</mn><mo>−</mo><msub><mi>s</mi><mi>i</mi></msub><mo>)</mo><mo>]</mo>
</mrow></math>"#;

/// The landscape parameters of the shared state (tracked).
fn params_of(state: &AppState) -> LandscapeParams {
    let amb = state.land_amb.get();
    LandscapeParams {
        u: state.u.get(),
        kappa: state.kappa.get(),
        sigma: state.sigma.get(),
        lambda: state.lambda.get(),
        temp: state.temp.get(),
        amb_a: if amb { state.amb_a.get() } else { 0.0 },
        amb_p: state.amb_p.get(),
        ..LandscapeParams::default()
    }
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
    let maps = [0usize, 1].map(|k| {
        Memo::new(move |_| {
            let loss = state.land_losses.get()[k];
            params.with(|p| map_data(loss, p))
        })
    });
    // Both paths from the dropped ball, computed once; drawn step by step.
    let paths = Memo::new(move |_| {
        let start = state.land_ball.get()?;
        let adam = state.land_adam.get();
        let losses = state.land_losses.get();
        Some(params.with(|p| losses.map(|l| landscape_path(l, p, start, adam))))
    });
    let revealed = RwSignal::new(usize::MAX);
    let speed = RwSignal::new(20.0f64);
    let generation = StoredValue::new(0u64);
    // Effects only talk to the outside world: here, the animation loop that reveals the paths.
    Effect::new(move |_| {
        let longest = paths.with(|p| {
            p.as_ref()
                .map(|p| p.iter().map(|x| x.points.len()).max().unwrap_or(0))
                .unwrap_or(0)
        });
        generation.update_value(|g| *g += 1);
        let my = generation.get_value();
        let reduce = web_sys::window()
            .and_then(|w| {
                w.match_media("(prefers-reduced-motion: reduce)")
                    .ok()
                    .flatten()
            })
            .map(|m| m.matches())
            .unwrap_or(false);
        if longest == 0 || reduce {
            revealed.set(usize::MAX);
            return;
        }
        revealed.set(1);
        fn tick(
            my: u64,
            generation: StoredValue<u64>,
            revealed: RwSignal<usize>,
            speed: RwSignal<f64>,
            longest: usize,
        ) {
            if generation.get_value() != my {
                return;
            }
            let step = speed.get_untracked().max(1.0) as usize;
            let next = revealed.get_untracked().saturating_add(step);
            if next >= longest {
                revealed.set(usize::MAX);
            } else {
                revealed.set(next);
                request_animation_frame(move || tick(my, generation, revealed, speed, longest));
            }
        }
        request_animation_frame(move || tick(my, generation, revealed, speed, longest));
    });
    let hover = RwSignal::new(None::<(f64, f64)>);
    let frames: [StoredValue<Option<LandscapeFrame>, LocalStorage>; 2] =
        [StoredValue::new_local(None), StoredValue::new_local(None)];
    let shown_paths = move || -> Vec<LandscapePath> {
        let n = revealed.get();
        paths.with(|p| {
            p.as_ref()
                .map(|ps| {
                    ps.iter()
                        .zip(state.land_losses.get())
                        .map(|(p, l)| LandscapePath {
                            points: p.points.iter().take(n).copied().collect(),
                            color: family_style(l).color,
                            label: family_label(l).to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
    };
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
                            let data = LandscapeData {
                                grid: &m.grid,
                                contours: &m.contours,
                                minimum: m.minimum,
                                paths: &ps,
                                hover: h,
                                title: &title,
                                heat: HeatMap::Cells,
                            };
                            draw_landscape(area, &data, style).ok().map(|f| {
                                frames[k].set_value(Some(f));
                                f.frame
                            })
                        })
                    }
                    label=format!("Loss landscape {} over shift b and scale t; click to drop a ball", k + 1)
                    testid=format!("plot-landscape-{k}")
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
        <section class="panel" id="landscape" aria-labelledby="land-title">
            <h2 id="land-title">"Loss landscapes: region size against confidence"</h2>
            <p class="caption">
                "The family again, with a second knob: a scale t that sharpens (t > 1) or softens (t < 1) "
                "every prediction. Each map shows one loss over the shift b (left–right: how much "
                "foreground is predicted) and the scale t (up: more confident). CE has a bowl: its "
                "lowest point predicts the true proportion at a calibrated confidence. Add ambiguous "
                "pixels and Dice's landscape keeps falling toward ever harder predictions (t → ∞). "
                "Click a map to drop a ball: gradient descent (or Adam) runs from there on both maps."
            </p>
            <div class="formulas" inner_html=FORMULAS></div>
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
            <p class="plot-alt" data-testid="land-readout" aria-live="polite">{readout}</p>
            <ul class="plot-alt land-mins">
                {move || {
                    let p = params.get();
                    (0..2)
                        .map(|k| {
                            let l = state.land_losses.get()[k];
                            let text = maps[k].with(|m| describe_min(&m.minimum, &p));
                            view! { <li data-testid=format!("land-min-{k}")><strong>{family_label(l)}": "</strong>{text}</li> }
                        })
                        .collect_view()
                }}
                {move || {
                    let p = params.get();
                    paths.with(|ps| ps.as_ref().map(|ps| {
                        ps.iter()
                            .zip(state.land_losses.get())
                            .enumerate()
                            .map(|(k, (path, l))| view! {
                                <li data-testid=format!("land-path-{k}") data-steps=path.points.len().to_string()>
                                    <strong>{format!("Ball on {}: ", family_label(l))}</strong>{describe_path(path, &p)}
                                </li>
                            })
                            .collect_view()
                    }))
                }}
            </ul>
        </section>
    }
}
