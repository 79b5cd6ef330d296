//! The app shell: header, notices, the views, footer.

use leptos::prelude::*;

use crate::state::AppState;
use crate::views::region_terms::RegionTermsView;

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let state = AppState::from_url();
    // Effects only talk to the outside world: here, the URL.
    Effect::new(move |_| {
        state.u.track();
        state.s.track();
        state.write_url();
    });
    view! {
        <header class="site-header">
            <h1>"DiceLens"</h1>
            <p class="subtitle">
                "An interactive companion to "
                <cite>"Do we really need Dice? The hidden region-size biases of segmentation losses"</cite>
                " (B. Liu, J. Dolz, A. Galdran, R. Kobbi, I. Ben Ayed; Medical Image Analysis 91, 2024; arXiv 2104.08717)."
            </p>
        </header>
        <div class="notices" role="status" aria-live="polite" data-testid="notices">
            {move || {
                state
                    .notices
                    .get()
                    .into_iter()
                    .map(|n| view! { <p class="notice">{n}</p> })
                    .collect_view()
            }}
        </div>
        <main>
            <RegionTermsView state=state />
        </main>
        <footer class="site-footer">
            <p>
                "Every number on this page is computed in your browser by the DiceLens loss core (Rust compiled to WebAssembly). "
                "Formulas follow the paper; loss conventions follow PyTorch and MONAI."
            </p>
        </footer>
    }
}
