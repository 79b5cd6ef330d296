//! The view registry: one [`ViewSpec`] per view. The nav links, the page's sections, `view=`
//! and `embed=`, the embed's controls and height, and the share panel's list all read it.
//! Adding a view means one file in `src/views/` and one entry here. A theory view's key is its
//! figure's key ([`ViewId::key`]): the figure's compute, draw and CSV are shared by the view,
//! its export and `dicelens figure <key>`.

use leptos::prelude::*;

use crate::state::AppState;
use crate::trainer::TrainerView;
use crate::views::ambiguous::AmbiguousView;
use crate::views::bias_map::BiasMapView;
use crate::views::data::DataView;
use crate::views::decomposition::DecompositionView;
use crate::views::family::FamilyView;
use crate::views::gradients::GradientsView;
use crate::views::landscape::LandscapeView;
use crate::views::matching::MatchingView;
use crate::views::pooled::PooledView;
use crate::views::region_terms::RegionTermsView;
use crate::views::simplex::SimplexView;
use crate::views::temperature::TemperatureView;

/// One view.
pub struct ViewSpec {
    /// Its key: the section's id, `view=` and `embed=` value.
    pub key: &'static str,
    /// Its label in the page's navigation and the embed picker.
    pub nav: &'static str,
    /// The shared controls its embed shows (its own controls live in the view).
    pub embed_controls: &'static [&'static str],
    /// An `<iframe>` height (CSS pixels) that shows the whole embedded view with its controls
    /// at a typical course-page width.
    pub embed_height: u32,
    /// Renders it.
    pub render: fn(AppState) -> AnyView,
}

/// Every view, in the page's order.
pub const VIEWS: [ViewSpec; 13] = [
    ViewSpec {
        key: "region-terms",
        nav: "Region terms",
        embed_controls: &["u", "s"],
        embed_height: 1150,
        render: |state| view! { <RegionTermsView state=state /> }.into_any(),
    },
    ViewSpec {
        key: "family",
        nav: "Family",
        embed_controls: &["u", "s", "kappa", "sigma", "lambda", "T", "preset"],
        embed_height: 1500,
        render: |state| view! { <FamilyView state=state /> }.into_any(),
    },
    ViewSpec {
        key: "bias-map",
        nav: "Bias map",
        embed_controls: &["u", "kappa", "sigma", "lambda", "T"],
        embed_height: 850,
        render: |state| view! { <BiasMapView state=state /> }.into_any(),
    },
    ViewSpec {
        key: "simplex",
        nav: "Three classes",
        embed_controls: &[],
        embed_height: 1350,
        render: |state| view! { <SimplexView state=state /> }.into_any(),
    },
    ViewSpec {
        key: "decomposition",
        nav: "Decomposition",
        embed_controls: &["u", "s", "kappa", "sigma", "lambda", "T"],
        embed_height: 1150,
        render: |state| view! { <DecompositionView state=state /> }.into_any(),
    },
    ViewSpec {
        key: "matching",
        nav: "Matching term",
        embed_controls: &["kappa", "sigma"],
        embed_height: 1700,
        render: |state| view! { <MatchingView state=state /> }.into_any(),
    },
    ViewSpec {
        key: "ambiguous",
        nav: "Ambiguous pixels",
        embed_controls: &["lambda"],
        embed_height: 1300,
        render: |state| view! { <AmbiguousView state=state /> }.into_any(),
    },
    ViewSpec {
        key: "landscape",
        nav: "Landscapes",
        embed_controls: &["u", "kappa", "sigma", "lambda", "T"],
        embed_height: 1300,
        render: |state| view! { <LandscapeView state=state /> }.into_any(),
    },
    ViewSpec {
        key: "gradients",
        nav: "Gradients",
        embed_controls: &["u", "lambda", "T"],
        embed_height: 1300,
        render: |state| view! { <GradientsView state=state /> }.into_any(),
    },
    ViewSpec {
        key: "temperature",
        nav: "Temperature",
        embed_controls: &["u", "s", "kappa", "sigma", "lambda", "T"],
        embed_height: 1350,
        render: |state| view! { <TemperatureView state=state /> }.into_any(),
    },
    ViewSpec {
        key: "pooled",
        nav: "Per image vs pooled",
        embed_controls: &["kappa", "sigma", "lambda", "T"],
        embed_height: 1450,
        render: |state| view! { <PooledView state=state /> }.into_any(),
    },
    ViewSpec {
        key: "trainer",
        nav: "Trainer",
        embed_controls: &[],
        embed_height: 1800,
        render: |_| view! { <TrainerView /> }.into_any(),
    },
    ViewSpec {
        key: "data",
        nav: "Your data",
        embed_controls: &["kappa", "sigma", "lambda", "T"],
        embed_height: 1700,
        render: |state| view! { <DataView state=state /> }.into_any(),
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
    use dicelens_plot::figure::ViewId;

    /// Every theory figure has a view under the figure's own key (the CLI's
    /// `dicelens figure <key>` and the page's `view=<key>` name the same thing), and every
    /// embed control is a control the page has.
    #[test]
    fn one_view_per_figure_under_its_key() {
        for id in ViewId::ALL {
            assert!(by_key(id.key()).is_some(), "{id:?} has a view");
        }
        let without: Vec<_> = keys()
            .into_iter()
            .filter(|k| ViewId::from_key(k).is_none())
            .collect();
        assert_eq!(
            without,
            ["trainer", "data"],
            "only the trainer and the data view (files, not URL state) have no figure"
        );
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
