//! The gallery of held-out images: which images it shows (spread out over foreground size),
//! and its markup (the canvases go to [`super::paint`] by reference).

use dicelens_core::train::Dataset;
use dicelens_plot::trainer::RUNS;
use leptos::prelude::*;

use super::paint::Canvases;
pub use super::paint::GALLERY;
use super::settings::Settings;
use super::swatch;

/// Quantiles of the held-out foreground proportion the gallery's images sit at.
const QUANTILES: [f64; GALLERY] = [0.05, 0.35, 0.65, 0.95];

/// The gallery's held-out images (indices) and their foreground proportions: the images at
/// spread-out quantiles of the foreground proportion. Empty when there are no held-out images.
pub fn pick(data: &Dataset) -> Vec<(usize, f64)> {
    let n = data.test.len();
    if n == 0 {
        return Vec::new();
    }
    let mut by_u: Vec<(f64, usize)> = (0..n)
        .map(|i| {
            let fg: f64 = (1..data.classes() as i64)
                .map(|k| data.test.proportion(i, k))
                .sum();
            (fg, i)
        })
        .collect();
    by_u.sort_by(|a, b| a.0.total_cmp(&b.0));
    QUANTILES
        .iter()
        .map(|q| {
            let (u, i) = by_u[((q * n as f64) as usize).min(n - 1)];
            (i, u)
        })
        .collect()
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use dicelens_core::train::DataConfig;

    #[test]
    fn the_gallery_spreads_over_foreground_size() {
        let data = Dataset::new(&DataConfig {
            train: 4,
            test: 40,
            ..DataConfig::default()
        })
        .unwrap();
        let picked = pick(&data);
        assert_eq!(picked.len(), GALLERY);
        for w in picked.windows(2) {
            assert!(w[0].1 <= w[1].1, "sorted by u: {picked:?}");
        }
        for &(i, u) in &picked {
            assert_eq!(u, data.test.proportion(i, 1), "image {i}");
        }
        // Fewer held-out images than gallery slots: no panic.
        let one = Dataset::new(&DataConfig {
            train: 1,
            test: 1,
            ..DataConfig::default()
        })
        .unwrap();
        assert_eq!(pick(&one).len(), GALLERY);
    }
}
