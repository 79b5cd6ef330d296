//! The view registry: one [`ViewSpec`] per view. The nav links, the page's sections, `view=`
//! and `embed=`, the embed's controls and height, and the share panel's list all read it.
//! Adding a view means one file in `src/views/` and one line here.

use dicelens_plot::figure::ViewId;
use leptos::prelude::*;

use crate::state::AppState;
use crate::views::ambiguous::AmbiguousView;
use crate::views::bias_map::BiasMapView;
use crate::views::decomposition::DecompositionView;
use crate::views::family::FamilyView;
use crate::views::gradients::GradientsView;
use crate::views::landscape::LandscapeView;
use crate::views::matching::MatchingView;
use crate::views::pooled::PooledView;
use crate::views::region_terms::RegionTermsView;
use crate::views::simplex::SimplexView;
use crate::views::temperature::TemperatureView;
use crate::views::trainer::TrainerView;

/// One view.
pub struct ViewSpec {
    /// Its key: the section's id, `view=` and `embed=` value.
    pub key: &'static str,
    /// Its label in the page's navigation and the embed picker.
    pub nav: &'static str,
    /// Its figure (compute, draw, CSV: shared by the view, its export and `dicelens figure`);
    /// `None` for the trainer, whose plots are its runs'.
    pub figure: Option<ViewId>,
    /// The shared controls its embed shows (its own controls live in the view).
    pub embed_controls: &'static [&'static str],
    /// An `<iframe>` height (CSS pixels) that shows the whole embedded view with its controls
    /// at a typical course-page width.
    pub embed_height: u32,
    /// Renders it.
    pub render: fn(AppState) -> AnyView,
}

/// Every view, in the page's order.
pub const VIEWS: [ViewSpec; 12] = [
    ViewSpec {
        key: "region-terms",
        nav: "Region terms",
        figure: Some(ViewId::RegionTerms),
        embed_controls: &["u", "s"],
        embed_height: 1150,
        render: |state| view! { <RegionTermsView state=state /> }.into_any(),
    },
    ViewSpec {
        key: "family",
        nav: "Family",
        figure: Some(ViewId::Family),
        embed_controls: &["u", "s", "kappa", "sigma", "lambda", "T", "preset"],
        embed_height: 1500,
        render: |state| view! { <FamilyView state=state /> }.into_any(),
    },
    ViewSpec {
        key: "bias-map",
        nav: "Bias map",
        figure: Some(ViewId::BiasMap),
        embed_controls: &["u", "kappa", "sigma", "lambda", "T"],
        embed_height: 850,
        render: |state| view! { <BiasMapView state=state /> }.into_any(),
    },
    ViewSpec {
        key: "simplex",
        nav: "Three classes",
        figure: Some(ViewId::Simplex),
        embed_controls: &[],
        embed_height: 1350,
        render: |state| view! { <SimplexView state=state /> }.into_any(),
    },
    ViewSpec {
        key: "decomposition",
        nav: "Decomposition",
        figure: Some(ViewId::Decomposition),
        embed_controls: &["u", "s", "kappa", "sigma", "lambda", "T"],
        embed_height: 1150,
        render: |state| view! { <DecompositionView state=state /> }.into_any(),
    },
    ViewSpec {
        key: "matching",
        nav: "Matching term",
        figure: Some(ViewId::Matching),
        embed_controls: &["kappa", "sigma"],
        embed_height: 1700,
        render: |state| view! { <MatchingView state=state /> }.into_any(),
    },
    ViewSpec {
        key: "ambiguous",
        nav: "Ambiguous pixels",
        figure: Some(ViewId::Ambiguous),
        embed_controls: &["lambda"],
        embed_height: 1300,
        render: |state| view! { <AmbiguousView state=state /> }.into_any(),
    },
    ViewSpec {
        key: "landscape",
        nav: "Landscapes",
        figure: Some(ViewId::Landscape),
        embed_controls: &["u", "kappa", "sigma", "lambda", "T"],
        embed_height: 1300,
        render: |state| view! { <LandscapeView state=state /> }.into_any(),
    },
    ViewSpec {
        key: "gradients",
        nav: "Gradients",
        figure: Some(ViewId::Gradients),
        embed_controls: &["u", "lambda", "T"],
        embed_height: 1300,
        render: |state| view! { <GradientsView state=state /> }.into_any(),
    },
    ViewSpec {
        key: "temperature",
        nav: "Temperature",
        figure: Some(ViewId::Temperature),
        embed_controls: &["u", "s", "kappa", "sigma", "lambda", "T"],
        embed_height: 1350,
        render: |state| view! { <TemperatureView state=state /> }.into_any(),
    },
    ViewSpec {
        key: "pooled",
        nav: "Per image vs pooled",
        figure: Some(ViewId::Pooled),
        embed_controls: &["kappa", "sigma", "lambda", "T"],
        embed_height: 1450,
        render: |state| view! { <PooledView state=state /> }.into_any(),
    },
    ViewSpec {
        key: "trainer",
        nav: "Trainer",
        figure: None,
        embed_controls: &[],
        embed_height: 1800,
        render: |_| view! { <TrainerView /> }.into_any(),
    },
];

/// The view with this key.
pub fn by_key(key: &str) -> Option<&'static ViewSpec> {
    VIEWS.iter().find(|v| v.key == key)
}

/// Every view's key, in order (for messages: "is not a view (region-terms, family, …)").
pub fn keys() -> Vec<&'static str> {
    VIEWS.iter().map(|v| v.key).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every theory figure has exactly one view, under the figure's own key (the CLI's
    /// `dicelens figure <key>` and the page's `view=<key>` name the same thing), and every
    /// embed control is a control the page has.
    #[test]
    fn one_view_per_figure_under_its_key() {
        for id in ViewId::ALL {
            let specs: Vec<_> = VIEWS.iter().filter(|v| v.figure == Some(id)).collect();
            assert_eq!(specs.len(), 1, "{id:?}");
            assert_eq!(specs[0].key, id.key());
        }
        let mut keys = keys();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), VIEWS.len(), "keys are unique");
        for v in &VIEWS {
            for c in v.embed_controls {
                assert!(
                    *c == "preset" || dicelens_plot::figure::param(c).is_some(),
                    "{}: {c}",
                    v.key
                );
            }
            assert!(v.embed_height >= 600, "{}", v.key);
        }
    }
}
