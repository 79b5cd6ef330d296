//! Where a view or a formula comes from: the paper, or DiceLens's own model.

use leptos::prelude::*;

/// The origin of a view or formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Stated or derived in Liu et al. (MedIA 2024).
    #[allow(dead_code)] // until a paper view carries its badge
    Paper,
    /// A construction of this app that makes the paper's terms visible.
    Model,
}

impl Origin {
    /// The badge text.
    pub fn label(self) -> &'static str {
        match self {
            Origin::Paper => "from the paper",
            Origin::Model => "DiceLens's model",
        }
    }

    /// `data-origin` value (and CSS hook).
    pub fn key(self) -> &'static str {
        match self {
            Origin::Paper => "paper",
            Origin::Model => "model",
        }
    }
}

/// A small badge with a one-line explanation of where the view's content comes from.
#[component]
pub fn Badge(
    /// Paper or model.
    origin: Origin,
    /// One line: what exactly is from where.
    #[prop(into)]
    note: String,
) -> impl IntoView {
    view! {
        <p class="origin" data-testid="origin" data-origin=origin.key()>
            <span class=format!("badge badge-{}", origin.key())>{origin.label()}</span>
            " "
            <span class="origin-note">{note}</span>
        </p>
    }
}
