//! Share and embed: a link to exactly this state, and the `<iframe>` snippet for one view.

use leptos::prelude::*;

use crate::embed::state_url;
use crate::hooks::copy;
use crate::registry::{by_key, VIEWS};

/// The `<iframe>` snippet embedding `view` at the current state.
pub fn iframe_snippet(view: &str, controls: bool, height: u32) -> String {
    let mut extra = vec![("embed", view.to_string())];
    if !controls {
        extra.push(("controls", "0".into()));
    }
    let src = state_url(&extra).replace('&', "&amp;");
    let title = by_key(view).map_or(view, |v| v.nav);
    format!(
        "<iframe src=\"{src}\" title=\"DiceLens: {title}\" width=\"100%\" height=\"{height}\" \
         style=\"border:0;max-width:960px\" loading=\"lazy\"></iframe>"
    )
}

/// The share-and-embed panel (opened from the header).
#[component]
pub fn SharePanel(
    /// Whether the panel is open.
    open: RwSignal<bool>,
) -> impl IntoView {
    let status = RwSignal::new(String::new());
    let view_sel = RwSignal::new("family".to_string());
    let controls = RwSignal::new(true);
    // Computed from the URL codecs (tracked), so both follow every change of state.
    let link = Memo::new(move |_| state_url(&[]));
    let snippet = Memo::new(move |_| {
        let h = by_key(&view_sel.get()).map_or(1800, |v| v.embed_height);
        iframe_snippet(&view_sel.get(), controls.get(), h)
    });
    view! {
        <Show when=move || open.get()>
            <section class="panel share-panel" aria-labelledby="share-title" data-testid="share-panel">
                <h2 id="share-title">"Share and embed"</h2>
                <label for="share-link">"Link to exactly this state (every view's settings and the trainer's, not its weights)"</label>
                <div class="copy-row">
                    <input id="share-link" data-testid="share-link" type="text" readonly prop:value=link />
                    <button type="button" data-testid="copy-link" on:click=move |_| copy(link.get_untracked(), status, "Link")>"Copy link"</button>
                </div>
                <div class="embed-opts">
                    <label for="embed-view">"Embed one view in a course page:"</label>
                    <select id="embed-view" data-testid="embed-view" on:change=move |ev| view_sel.set(event_target_value(&ev))>
                        {VIEWS.iter().map(|v| view! { <option value=v.key selected=move || view_sel.get() == v.key>{v.nav}</option> }).collect_view()}
                    </select>
                    <label class="toggle">
                        <input type="checkbox" data-testid="embed-controls" prop:checked=move || controls.get()
                            on:change=move |ev| controls.set(event_target_checked(&ev)) />
                        "with its controls"
                    </label>
                </div>
                <label for="embed-snippet">"Paste this into the page's HTML:"</label>
                <textarea id="embed-snippet" data-testid="embed-snippet" readonly rows="4" prop:value=snippet></textarea>
                <div class="copy-row">
                    <button type="button" data-testid="copy-snippet" on:click=move |_| copy(snippet.get_untracked(), status, "Snippet")>"Copy snippet"</button>
                    <button type="button" on:click=move |_| open.set(false)>"Close"</button>
                </div>
                <p class="hint" role="status" data-testid="share-status">{move || status.get()}</p>
            </section>
        </Show>
    }
}
