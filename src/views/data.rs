//! The data view: audit your own segmentation. Label maps (and a model's predictions) are
//! read in the browser, image by image (`File.slice`), and audited by the core
//! (`dicelens_core::audit`, the same code as `dicelens audit`); nothing leaves the page.

use std::sync::Arc;

use dicelens_core::audit::{
    audit_arrays, labels_from_pixels, losses_csv, probs_from_pixels, toy_predictions, AuditConfig,
    AuditError, AuditReport, Auditor, ExampleKind, NpyPlan, PredKind, PredSpec, EXAMPLE_STEPS,
    HEADER_PREFIX, MAX_FILE_BYTES, MAX_IMAGES,
};
use dicelens_core::claims::audit::audit_claims;
use dicelens_core::claims::paragraph;
use dicelens_core::{FamilyParams, LossKind};
use dicelens_plot::data::{draw_data_ratios, draw_data_reliability, draw_data_sizes};
use dicelens_plot::family::family_label;
use dicelens_plot::figure::{DataPlot, Figure};
use dicelens_plot::fmt_fixed;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::state::AppState;
use crate::trainer::client::{self, Event, Phase};
use crate::trainer::failure_text;
use crate::widgets::badge::{Badge, Origin};
use crate::widgets::deferred::use_visibility;
use crate::widgets::export::save_text;
use crate::widgets::plot_canvas::PlotCanvas;
use dicelens_worker::protocol::{FromWorker, ToWorker};

const FORMULAS: &str = r#"<math display="block"><mrow>
<mi>u</mi><mo>=</mo><mfrac><mrow><mo>|</mo><msub><mi>Ω</mi><mi>k</mi></msub><mo>|</mo></mrow><mi>N</mi></mfrac>
<mo>,</mo><mspace width="0.6em"/>
<msub><mover><mi>s</mi><mo>^</mo></mover><mi>soft</mi></msub><mo>=</mo><mfrac><mn>1</mn><mi>N</mi></mfrac><munder><mo>∑</mo><mi>i</mi></munder><msub><mi>s</mi><mrow><mi>k</mi><mo>,</mo><mi>i</mi></mrow></msub>
<mo>,</mo><mspace width="0.6em"/>
<msub><mover><mi>s</mi><mo>^</mo></mover><mi>hard</mi></msub><mo>=</mo><mfrac><mn>1</mn><mi>N</mi></mfrac><mo>#</mo><mo>{</mo><mi>i</mi><mo>:</mo><msub><mi>s</mi><mrow><mi>k</mi><mo>,</mo><mi>i</mi></mrow></msub><mo>&gt;</mo><mn>0.5</mn><mo>}</mo>
<mo>,</mo><mspace width="0.6em"/>
<mtext>bias</mtext><mo>=</mo><mfrac><mover><mi>s</mi><mo>^</mo></mover><mi>u</mi></mfrac>
</mrow></math>"#;

/// Images added between two yields to the browser while reading files.
const YIELD_EVERY: usize = 8;

fn js_msg(e: wasm_bindgen::JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|err| String::from(err.message()))
        })
        .unwrap_or_else(|| "the browser refused the operation".into())
}

/// Lets the browser run (paint, handle input) before the next chunk of work.
async fn yield_now() {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        }
    });
    let _ = JsFuture::from(p).await;
}

/// Bytes `start..end` of a file.
async fn read_range(file: &web_sys::File, start: u64, end: u64) -> Result<Vec<u8>, String> {
    let part = file
        .slice_with_f64_and_f64(start as f64, end as f64)
        .map_err(js_msg)?;
    let buf = JsFuture::from(part.array_buffer())
        .await
        .map_err(|e| format!("cannot read {}: {}", file.name(), js_msg(e)))?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

fn len(f: &web_sys::File) -> u64 {
    f.size().max(0.0) as u64
}

/// The first bytes of a `.npy` file (its header). A file over the limit is refused from its
/// size by [`NpyPlan::new`]: nothing of it is read.
async fn prefix(f: &web_sys::File) -> Result<Vec<u8>, String> {
    let n = len(f);
    if n > MAX_FILE_BYTES {
        Ok(Vec::new())
    } else {
        read_range(f, 0, n.min(HEADER_PREFIX as u64)).await
    }
}

fn is_png(f: &web_sys::File) -> bool {
    f.name().to_ascii_lowercase().ends_with(".png") || f.type_() == "image/png"
}

/// The RGBA pixels of an image file, decoded by the browser without colour management.
async fn png_pixels(file: &web_sys::File) -> Result<(Vec<u8>, usize, usize), String> {
    let name = file.name();
    let window = web_sys::window().ok_or("no window")?;
    let opts = web_sys::ImageBitmapOptions::new();
    opts.set_color_space_conversion(web_sys::ColorSpaceConversion::None);
    opts.set_premultiply_alpha(web_sys::PremultiplyAlpha::None);
    let promise = window
        .create_image_bitmap_with_blob_and_image_bitmap_options(file, &opts)
        .map_err(js_msg)?;
    let bmp: web_sys::ImageBitmap = JsFuture::from(promise)
        .await
        .map_err(|_| format!("{name} could not be decoded as an image"))?
        .dyn_into()
        .map_err(|_| format!("{name} could not be decoded as an image"))?;
    let (w, h) = (bmp.width(), bmp.height());
    let side = dicelens_core::audit::MAX_SIDE as u32;
    if w == 0 || h == 0 || w > side || h > side {
        bmp.close();
        return Err(format!(
            "{name} is {w}×{h}; images must be between 1×1 and {side}×{side}"
        ));
    }
    let doc = window.document().ok_or("no document")?;
    let canvas: web_sys::HtmlCanvasElement = doc
        .create_element("canvas")
        .map_err(js_msg)?
        .dyn_into()
        .map_err(|_| "no canvas")?;
    canvas.set_width(w);
    canvas.set_height(h);
    let ctx: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")
        .map_err(js_msg)?
        .ok_or("no 2d context")?
        .dyn_into()
        .map_err(|_| "no 2d context")?;
    ctx.draw_image_with_image_bitmap(&bmp, 0.0, 0.0)
        .map_err(js_msg)?;
    bmp.close();
    let data = ctx
        .get_image_data(0.0, 0.0, w as f64, h as f64)
        .map_err(js_msg)?
        .data()
        .0;
    Ok((data, w as usize, h as usize))
}

fn err(e: AuditError) -> String {
    e.to_string()
}

/// Audits `.npy` files image by image, or a set of PNG masks (and PNG probability maps).
async fn audit_files(
    labels: Vec<web_sys::File>,
    preds: Vec<web_sys::File>,
    kind: PredKind,
    progress: impl Fn(String),
) -> Result<AuditReport, String> {
    let cfg = AuditConfig::default();
    let Some(first) = labels.first() else {
        return Err("choose a labels file first".into());
    };
    if labels.len() == 1 && !is_png(first) {
        let lf = first;
        if preds.len() > 1 || preds.iter().any(is_png) {
            return Err(
                "with .npy labels, give the predictions as one .npy file (B, K, H, W)".into(),
            );
        }
        let pf = preds.first();
        let yp = prefix(lf).await?;
        let pp = match pf {
            Some(f) => Some((prefix(f).await?, len(f))),
            None => None,
        };
        let plan = NpyPlan::new(
            &yp,
            len(lf),
            pp.as_ref().map(|(b, l)| (b.as_slice(), *l)),
            kind,
        )
        .map_err(err)?;
        let mut a = plan.auditor(cfg).map_err(err)?;
        for i in 0..plan.n_images {
            let r = plan.labels_range(i);
            let y = plan.labels_image(&read_range(lf, r.start, r.end).await?);
            let p = match (pf, plan.preds_range(i)) {
                (Some(f), Some(r)) => Some(plan.preds_image(&read_range(f, r.start, r.end).await?)),
                _ => None,
            };
            a.add(&y, p.as_deref()).map_err(err)?;
            if (i + 1) % YIELD_EVERY == 0 {
                progress(format!("reading image {} of {}…", i + 1, plan.n_images));
                yield_now().await;
            }
        }
        return a.finish().map_err(err);
    }
    // A set of PNG masks, paired with PNG probability maps by file-name order.
    if labels.iter().any(|f| !is_png(f)) {
        return Err("pick either one .npy labels file or one or more PNG masks".into());
    }
    if labels.len() > MAX_IMAGES {
        return Err(err(AuditError::Limit {
            what: "the number of images",
            value: labels.len(),
            limit: MAX_IMAGES,
        }));
    }
    if !preds.is_empty() {
        if preds.iter().any(|f| !is_png(f)) {
            return Err(
                "with PNG masks, give the predictions as PNG probability maps (one per mask)"
                    .into(),
            );
        }
        if preds.len() != labels.len() {
            return Err(err(AuditError::Count {
                labels: labels.len(),
                preds: preds.len(),
            }));
        }
    }
    let mut labels = labels;
    let mut preds = preds;
    labels.sort_by_key(|f| f.name());
    preds.sort_by_key(|f| f.name());
    let mut auditor: Option<(Auditor, usize, usize)> = None;
    for (i, lf) in labels.iter().enumerate() {
        let (px, w, h) = png_pixels(lf).await?;
        let y = labels_from_pixels(&lf.name(), &px, 4).map_err(err)?;
        let p = match preds.get(i) {
            Some(pf) => {
                let (pp, pw, ph) = png_pixels(pf).await?;
                if (pw, ph) != (w, h) {
                    return Err(err(AuditError::ImageSize {
                        name: pf.name(),
                        w: pw,
                        h: ph,
                        w0: w,
                        h0: h,
                    }));
                }
                Some(probs_from_pixels(&pf.name(), &pp, 4).map_err(err)?)
            }
            None => None,
        };
        if auditor.is_none() {
            let spec = (!preds.is_empty()).then_some(PredSpec {
                kind: PredKind::Probs,
                channels: 1,
            });
            auditor = Some((Auditor::new(h, w, spec, cfg).map_err(err)?, w, h));
        }
        let Some((a, w0, h0)) = auditor.as_mut() else {
            return Err("internal: no auditor".into());
        };
        if (w, h) != (*w0, *h0) {
            return Err(err(AuditError::ImageSize {
                name: lf.name(),
                w,
                h,
                w0: *w0,
                h0: *h0,
            }));
        }
        a.add(&y, p.as_deref()).map_err(err)?;
        if (i + 1) % YIELD_EVERY == 0 {
            progress(format!("decoding image {} of {}…", i + 1, labels.len()));
            yield_now().await;
        }
    }
    auditor
        .ok_or_else(|| "no images".to_string())?
        .0
        .finish()
        .map_err(err)
}

/// Audits the example set the trainer's worker trained and sent (`labels` `(B, H, W)`,
/// `logits` `(B, K, H, W)`): the same bits as `dicelens audit --example`.
fn audit_example(shape: [usize; 4], labels: &[u8], logits: &[f32]) -> Result<AuditReport, String> {
    let [b, k, h, w] = shape;
    let y = ndarray::Array3::from_shape_vec((b, h, w), labels.iter().map(|&l| l as i64).collect())
        .map_err(|e| format!("the example's labels have the wrong size: {e}"))?;
    let z = ndarray::Array4::from_shape_vec(
        (b, k, h, w),
        logits.iter().map(|&x| f64::from(x)).collect(),
    )
    .map_err(|e| format!("the example's logits have the wrong size: {e}"))?;
    audit_arrays(
        y.view(),
        Some((z.view(), PredKind::Logits)),
        AuditConfig::default(),
    )
    .map_err(err)
}

fn files_of(input: &NodeRef<leptos::html::Input>) -> Vec<web_sys::File> {
    let Some(el) = input.get_untracked() else {
        return Vec::new();
    };
    let Some(list) = el.files() else {
        return Vec::new();
    };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// A readout cell: the value to 4 decimals (`—` when absent), the exact value in `data-value`.
fn cell(testid: String, v: Option<f64>, ratio: bool) -> impl IntoView {
    let text = match v {
        Some(x) if ratio => format!("{x:.3}×"),
        Some(x) => fmt_fixed(x, 4),
        None => "—".to_string(),
    };
    let value = v.map(|x| x.to_string()).unwrap_or_default();
    view! { <td data-testid=testid data-value=value>{text}</td> }
}

/// The data panel.
#[component]
pub fn DataView(
    /// The shared app state (κ, σ, λ, T of the toy model's prediction).
    state: AppState,
) -> impl IntoView {
    let report = RwSignal::new(None::<Arc<AuditReport>>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(None::<String>);
    let source = RwSignal::new(String::new());
    let kind = RwSignal::new(PredKind::Logits);
    // Each load takes a ticket; only the latest load's result is shown.
    let ticket = StoredValue::new(0u64);
    let section = NodeRef::<leptos::html::Section>::new();
    let on_screen = use_visibility(section, false);
    let labels_in = NodeRef::<leptos::html::Input>::new();
    let preds_in = NodeRef::<leptos::html::Input>::new();

    let finish = move |t: u64, what: String, r: Result<AuditReport, String>| {
        if ticket.get_value() != t {
            return;
        }
        busy.set(None);
        match r {
            Ok(r) => {
                error.set(None);
                source.set(what);
                report.set(Some(Arc::new(r)));
            }
            // The previous data stays.
            Err(e) => error.set(Some(e)),
        }
    };
    let start = move || {
        ticket.update_value(|t| *t += 1);
        ticket.get_value()
    };
    let load_files = move || {
        let labels = files_of(&labels_in);
        if labels.is_empty() {
            return;
        }
        let preds = files_of(&preds_in);
        let what = labels
            .iter()
            .chain(&preds)
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(", ");
        let k = kind.get_untracked();
        let t = start();
        busy.set(Some("reading…".into()));
        leptos::task::spawn_local(async move {
            let progress = move |m: String| {
                if ticket.get_value() == t {
                    busy.set(Some(m));
                }
            };
            let r = audit_files(labels, preds, k, progress).await;
            finish(t, what, r);
        });
    };
    // The example sets are trained by the trainer's worker (loaded on demand): the request
    // names its ticket; progress, the set or a failure come back as reports.
    let example_name = StoredValue::new(String::new());
    // The ticket of the example request in flight, if any.
    let example_ticket = StoredValue::new(None::<u64>);
    let load_example = move |ex: ExampleKind| {
        let t = start();
        let name = match ex {
            ExampleKind::Ce => "example: 48 held-out images, cnn8 after 300 steps of CE",
            ExampleKind::Dice => "example: 48 held-out images, cnn8 after 300 steps of Dice",
        };
        example_name.set_value(name.to_string());
        example_ticket.set_value(Some(t));
        if let Phase::Failed(why) = client::phase() {
            busy.set(None);
            error.set(Some(failure_text(&why)));
            return;
        }
        busy.set(Some(if client::phase() == Phase::Ready {
            "training the example model…".into()
        } else {
            "loading the trainer's code to train the example model…".into()
        }));
        client::send(ToWorker::Example {
            ticket: t as u32,
            kind: ex,
        });
        client::start();
    };
    let listener = client::subscribe(move |ev| {
        let t = ticket.get_value();
        let mine = |x: &u32| u64::from(*x) == t;
        let waiting = example_ticket.get_value() == Some(t);
        match ev {
            Event::Phase(Phase::Failed(why)) if waiting => {
                example_ticket.set_value(None);
                finish(t, String::new(), Err(failure_text(why)));
            }
            Event::Phase(Phase::Ready) if waiting => {
                busy.set(Some("training the example model…".into()));
            }
            Event::Report(FromWorker::ExampleProgress { ticket: k, step }) if mine(k) => {
                busy.set(Some(format!(
                    "training the example model: step {step} of {EXAMPLE_STEPS}…"
                )));
            }
            Event::Report(FromWorker::ExampleDone {
                ticket: k,
                shape,
                labels,
                logits,
            }) if mine(k) => {
                example_ticket.set_value(None);
                finish(
                    t,
                    example_name.get_value(),
                    audit_example(*shape, labels, logits),
                );
            }
            Event::Report(FromWorker::ExampleFailed { ticket: k, message }) if mine(k) => {
                example_ticket.set_value(None);
                finish(t, String::new(), Err(message.clone()));
            }
            _ => {}
        }
    });
    on_cleanup(move || client::unsubscribe(listener));

    // Never empty: the first time the view comes on screen with nothing loaded, the CE
    // example set is trained (in the trainer's worker) and audited.
    Effect::new(move |_| {
        if on_screen.get() && ticket.get_value() == 0 {
            load_example(ExampleKind::Ce);
        }
    });
    // The toy model follows the shared κ, σ, λ, T; the data's own numbers do not move.
    let shown = Memo::new(move |_| {
        let r = report.get()?;
        let params = FamilyParams {
            kappa: state.kappa.get(),
            sigma: state.sigma.get(),
            lambda: state.lambda.get(),
            temp: state.temp.get(),
            ..r.toy_params
        };
        if params == r.toy_params {
            return Some(r);
        }
        let toy = toy_predictions(params, &r.hist).ok()?;
        Some(Arc::new(AuditReport {
            toy,
            toy_params: params,
            ..(*r).clone()
        }))
    });
    let caption = move || {
        shown.with(|r| {
            r.as_ref()
                .map(|r| paragraph(&audit_claims(r)))
                .unwrap_or_else(|| {
                    "Choose a labels file (and predictions), or load an example set.".into()
                })
        })
    };
    let exporter = move |which: DataPlot| {
        Callback::new(move |_| {
            shown
                .get_untracked()
                .map(|r| Figure::Data(which, Box::new((*r).clone())))
        })
    };
    // Always present (— before any data), so the view is never an empty box.
    let readouts = move || {
        shown.with(|r| {
            let r = r.as_ref();
            let m = r.and_then(|r| r.metrics.as_ref());
            let n = r.map(|r| r.n_images);
            view! {
                <table class="readouts">
                    <tbody>
                        <tr><th scope="row">"images"</th>
                            <td data-testid="data-n-images" data-value=n.map(|n| n.to_string()).unwrap_or_default()>
                                {n.map(|n| n.to_string()).unwrap_or_else(|| "—".into())}
                            </td></tr>
                        <tr><th scope="row">"image size"</th><td>{r.map(|r| format!("{}×{}", r.width, r.height)).unwrap_or_else(|| "—".into())}</td></tr>
                        <tr><th scope="row">"Dice (thresholded, mean over image × class)"</th>{cell("data-dice".into(), m.and_then(|m| m.dice), false)}</tr>
                        <tr><th scope="row">"IoU"</th>{cell("data-iou".into(), m.and_then(|m| m.iou), false)}</tr>
                        <tr><th scope="row">"ECE (10 bins)"</th>{cell("data-ece".into(), m.and_then(|m| m.ece), false)}</tr>
                        <tr><th scope="row">"saturated pixels (p < 0.02 or > 0.98)"</th>{cell("data-saturated".into(), m.and_then(|m| m.saturated), false)}</tr>
                    </tbody>
                </table>
            }
        })
    };
    let bins = move || {
        shown.with(|r| {
            let r = r.as_ref()?;
            let rows = r
                .bins
                .iter()
                .map(|b| {
                    let label = dicelens_core::claims::audit::bin_phrase(b.name);
                    view! {
                        <tr>
                            <th scope="row">{label}</th>
                            <td data-testid=format!("data-n-{}", b.name) data-value=b.n.to_string()>{b.n.to_string()}</td>
                            {cell(format!("data-ratio-soft-{}", b.name), b.ratio_soft, true)}
                            {cell(format!("data-ratio-hard-{}", b.name), b.ratio_hard, true)}
                        </tr>
                    }
                })
                .collect::<Vec<_>>();
            Some(view! {
                <div class="table-scroll" tabindex="0" role="region" aria-label="Mean size ratio per size bin">
                    <table class="readouts">
                        <thead><tr><th scope="col">"size bin"</th><th scope="col">"n"</th>
                            <th scope="col">"mean ŝ/u, soft"</th><th scope="col">"mean ŝ/u, thresholded"</th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            })
        })
    };
    let losses = move || {
        shown.with(|r| {
            let r = r.as_ref()?;
            let l = r.losses.as_ref()?;
            let rows = LossKind::ALL
                .iter()
                .enumerate()
                .map(|(j, kind)| {
                    let key = kind.key(l.mode);
                    let regions: Vec<f64> =
                        l.per_image.iter().filter_map(|p| p.region[j]).collect();
                    let mean_region = (!regions.is_empty())
                        .then(|| regions.iter().sum::<f64>() / regions.len() as f64);
                    view! {
                        <tr>
                            <th scope="row">{key}</th>
                            {cell(format!("data-loss-{key}"), l.values[j], false)}
                            {cell(format!("data-region-{key}"), mean_region, false)}
                        </tr>
                    }
                })
                .collect::<Vec<_>>();
            let csv_report = Arc::clone(r);
            Some(view! {
                <div class="table-scroll" tabindex="0" role="region" aria-label="Every loss on your batch">
                    <table class="readouts">
                        <caption>{format!("λ = {}, T = {} (dicelens eval's defaults); region term: mean over images (per image in the CSV)", l_lambda(r), l_temp(r))}</caption>
                        <thead><tr><th scope="col">"loss"</th><th scope="col">"on the batch"</th><th scope="col">"region term, mean per image"</th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
                <button type="button" data-testid="data-losses-csv"
                    on:click=move |_| save_text("dicelens-data-losses.csv", "text/csv", &losses_csv(&csv_report))>
                    "Losses table as CSV"
                </button>
            })
        })
    };
    let toy = move || {
        shown.with(|r| {
            let r = r.as_ref()?;
            let rows = r
                .toy
                .iter()
                .map(|t| {
                    view! {
                        <tr>
                            <th scope="row">{family_label(t.loss)}</th>
                            {cell(format!("data-toy-{}", t.loss.key()), t.ratio, true)}
                        </tr>
                    }
                })
                .collect::<Vec<_>>();
            Some(view! {
                <div class="toy-prediction" data-testid="data-toy">
                    <h3>"What the toy model predicts for your sizes"</h3>
                    <Badge origin=Origin::Model note="DiceLens's logit-shift family (the bias map), not your model: each loss's optimum ŝ*/u at your images' u, weighted by your histogram; κ, σ, λ, T from the controls." />
                    <div class="table-scroll" tabindex="0" role="region" aria-label="The toy model's optimum per loss for your sizes">
                        <table class="readouts">
                            <thead><tr><th scope="col">"loss (toy model)"</th><th scope="col">"ŝ*/u, weighted by your histogram"</th></tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                </div>
            })
        })
    };
    let has_preds = move || shown.with(|r| r.as_ref().is_some_and(|r| r.metrics.is_some()));
    let has_data = move || shown.with(|r| r.is_some());

    view! {
        <section class="panel" id="data" aria-labelledby="data-title" node_ref=section>
            <h2 id="data-title">"Your data: audit your own segmentation"</h2>
            <Badge origin=Origin::Model note="Your files are read in this page and never leave it. The size bins, Dice, IoU, ECE and saturation are the trainer's metrics, computed by the same core as dicelens audit." />
            <p class="caption" data-testid="caption-data" aria-live="polite">{caption}</p>
            <div class="formulas" inner_html=FORMULAS></div>
            <div class="data-inputs">
                <div class="slider-row">
                    <label for="data-labels">"labels: one .npy (B, H, W) or (H, W) of class indices, or PNG masks (one per image)"</label>
                    <input id="data-labels" data-testid="data-labels" type="file" multiple accept=".npy,.png,image/png"
                        node_ref=labels_in on:change=move |_| load_files() />
                </div>
                <div class="slider-row">
                    <label for="data-preds">"predictions (optional): one .npy (B, K, H, W), or PNG probability maps"</label>
                    <input id="data-preds" data-testid="data-preds" type="file" multiple accept=".npy,.png,image/png"
                        node_ref=preds_in on:change=move |_| load_files() />
                </div>
                <div class="slider-row">
                    <label for="data-preds-kind">".npy predictions are"</label>
                    <select id="data-preds-kind" data-testid="data-preds-kind"
                        on:change=move |ev| {
                            if let Some(k) = PredKind::parse(&event_target_value(&ev)) {
                                kind.set(k);
                                load_files();
                            }
                        }>
                        <option value="logits" selected=true>"logits (K = 1 sigmoid, K ≥ 2 softmax)"</option>
                        <option value="probs">"probabilities in [0, 1]"</option>
                    </select>
                </div>
                <div class="page-actions">
                    <button type="button" data-testid="data-example-ce" on:click=move |_| load_example(ExampleKind::Ce)>"Example: a CE-trained model"</button>
                    <button type="button" data-testid="data-example-dice" on:click=move |_| load_example(ExampleKind::Dice)>"Example: a Dice-trained model"</button>
                </div>
            </div>
            <p class="hint">{format!("Up to {MAX_IMAGES} images of up to 512×512, read image by image; files over 1 GiB are refused before reading.")}</p>
            {move || busy.get().map(|b| view! { <p class="notice" role="status" data-testid="data-busy">{b}</p> })}
            {move || error.get().map(|e| view! { <p class="notice error" role="alert" data-testid="data-error">{e}</p> })}
            {move || (!source.get().is_empty()).then(|| view! { <p class="hint" data-testid="data-source">{format!("Showing: {}", source.get())}</p> })}
            <Show when=has_data>
                <div class="plot-wrap">
                    <PlotCanvas
                        draw=move |area, style| {
                            shown.with(|r| r.as_ref().and_then(|r| draw_data_sizes(area, r, style).ok()));
                            None
                        }
                        label="Histogram of your images' foreground proportions u, log scale, with the size bins' edges at 2% and 10%"
                        testid="plot-data-sizes"
                        export=exporter(DataPlot::Sizes)
                        export_name="dicelens-data-sizes"
                        aspect=0.45
                    />
                </div>
                {bins}
            </Show>
            <Show when=has_preds>
                <div class="plot-wrap">
                    <PlotCanvas
                        draw=move |area, style| {
                            shown.with(|r| r.as_ref().and_then(|r| draw_data_ratios(area, r, style).ok()));
                            None
                        }
                        label="Your model's predicted proportion, soft and thresholded, against the true proportion for each image, log–log, with the diagonal"
                        testid="plot-data-ratios"
                        export=exporter(DataPlot::Ratios)
                        export_name="dicelens-data-ratios"
                    />
                </div>
                <div class="plot-wrap">
                    <PlotCanvas
                        draw=move |area, style| {
                            shown.with(|r| r.as_ref().and_then(|r| draw_data_reliability(area, r, style).ok()));
                            None
                        }
                        label="Reliability diagram of your model's probabilities"
                        testid="plot-data-reliability"
                        export=exporter(DataPlot::Reliability)
                        export_name="dicelens-data-reliability"
                        aspect=0.6
                    />
                </div>
            </Show>
            {readouts}
            {losses}
            {toy}
        </section>
    }
}

fn l_lambda(r: &AuditReport) -> String {
    dicelens_core::claims::fmt_param(r.region.lambda)
}

fn l_temp(r: &AuditReport) -> String {
    dicelens_core::claims::fmt_param(r.region.temp)
}
