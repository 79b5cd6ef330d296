//! The gallery of held-out images: its markup (the worker picks the images, spread out over
//! foreground size, `dicelens_worker::host::pick_gallery`) (the canvases go to [`super::paint`] by reference).

use dicelens_plot::trainer::RUNS;
use leptos::prelude::*;

use super::paint::Canvases;
pub use super::paint::GALLERY;
use super::settings::Settings;
use super::swatch;

/// The gallery: a header row (input, then one column per run) and one row per image.
pub fn gallery_view(
    settings: RwSignal<Settings>,
    gallery_u: RwSignal<Vec<f64>>,
    canvases: Canvases,
) -> impl IntoView {
    let header = (0..RUNS)
        .map(|i| {
            view! {
                <div class="tr-gh">{swatch(i)}{move || settings.with(|s| format!("{} {}", i + 1, s.runs[i].loss.label()))}</div>
            }
        })
        .collect_view();
    let rows = (0..GALLERY)
        .map(|g| {
            let preds = (0..RUNS)
                .map(|i| {
                    view! {
                        <canvas class="pixel" node_ref=canvases.gallery_pred[g][i] data-testid=format!("gallery-pred-{g}-{i}") width="32" height="32"
                            role="img" aria-label=format!("run {} probability map of held-out image {}", i + 1, g + 1)></canvas>
                    }
                })
                .collect_view();
            view! {
                <figure>
                    <canvas class="pixel" node_ref=canvases.gallery_img[g] data-testid=format!("gallery-img-{g}") width="32" height="32"
                        role="img" aria-label=format!("held-out image {} with its ground-truth contour", g + 1)></canvas>
                    <figcaption data-testid=format!("gallery-u-{g}")>
                        {move || gallery_u.with(|u| u.get(g).map(|u| format!("u = {:.1}%", 100.0 * u)).unwrap_or_default())}
                    </figcaption>
                </figure>
                {preds}
            }
        })
        .collect_view();
    view! {
        <div class="tr-gallery" data-testid="gallery">
            <div class="tr-gh">"input"</div>
            {header}
            {rows}
        </div>
    }
}
