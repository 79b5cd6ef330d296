//! References: the works DiceLens builds on, each with what DiceLens uses it for and its BibTeX,
//! and a Cite button that copies the paper's entry. Everything is rendered from
//! `dicelens_core::references` (the same table `docs/CITATION.bib` is generated from).

use dicelens_core::references::{paper_bibtex, REFERENCES};
use leptos::prelude::*;

/// The References section (after the trainer).
#[component]
pub fn ReferencesView() -> impl IntoView {
    let status = RwSignal::new(String::new());
    let items = REFERENCES
        .iter()
        .map(|r| {
            let key = r.key;
            view! {
                <li class="reference" data-testid=format!("ref-{key}") id=format!("ref-{key}")>
                    <p class="ref-citation">
                        {r.citation()} " "
                        <a href=r.url rel="noopener" target="_blank">{link_label(r.url)}</a>
                    </p>
                    <p class="ref-use">{r.used_for}</p>
                    <details class="bibtex">
                        <summary>"BibTeX"</summary>
                        <pre data-testid=format!("bibtex-{key}") tabindex="0"><code>{r.bibtex()}</code></pre>
                    </details>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="panel references" id="references" aria-labelledby="references-title">
            <h2 id="references-title">"References"</h2>
            <p>"To cite the paper DiceLens illustrates:"</p>
            <pre class="cite-bibtex" data-testid="cite-bibtex" tabindex="0"><code>{paper_bibtex()}</code></pre>
            <div class="cite-row">
                <button type="button" data-testid="cite"
                    on:click=move |_| crate::hooks::copy(paper_bibtex(), status, "BibTeX")>
                    "Cite (copy BibTeX)"
                </button>
                <span class="hint" role="status" data-testid="cite-status">{move || status.get()}</span>
            </div>
            <p class="hint">
                "The works DiceLens builds on, and what it uses each for. Each entry opens to its BibTeX; "
                "the whole list is the repository's docs/CITATION.bib."
            </p>
            <ol class="reference-list" data-testid="references">{items}</ol>
        </section>
    }
}

/// A short label for a link: `arXiv 2104.08717`, `doi.org`, or the host.
fn link_label(url: &str) -> String {
    if let Some(id) = url.strip_prefix("https://arxiv.org/abs/") {
        format!("arXiv {id}")
    } else if let Some(doi) = url.strip_prefix("https://doi.org/") {
        format!("doi:{doi}")
    } else {
        url.trim_start_matches("https://").to_string()
    }
}
