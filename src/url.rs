//! The address bar has one writer.
//!
//! Each owner of URL keys registers a codec: a function from its (reactive) state to its
//! keys and values. The theory views' parameters ([`dicelens_plot::query`], through
//! [`crate::state::AppState`]), the page mode (`embed`, `controls`, `parent`, `view`), the tour
//! (`tour`, `reveal`) and the trainer (`tr…`) each own their keys. One effect composes every
//! codec into the query and writes it with `replaceState`; the share link and the embed
//! snippet are computed from the same codecs, so they are reactive and never stale.
//!
//! Reading happens once, at start-up, from [`initial`]: each owner parses its own keys with
//! its own codec (lenient: clamp or ignore, with a notice).

use std::sync::Arc;

use leptos::prelude::*;

/// Keys and values, in order.
pub type Pairs = Vec<(String, String)>;

/// One owner's codec.
#[derive(Clone)]
struct Codec {
    owner: &'static str,
    /// Whether the share link carries these keys (the page mode's do not: a link opens the
    /// whole page at this state).
    shared: bool,
    pairs: Arc<dyn Fn() -> Pairs + Send + Sync>,
    /// Reads (tracked) the state `pairs` formats, without formatting it; `None`: `pairs` is
    /// cheap enough to track itself.
    track: Option<Arc<dyn Fn() + Send + Sync>>,
}

/// Every registered codec (in context, from [`UrlCodecs::provide`]).
#[derive(Clone, Copy)]
pub struct UrlCodecs(RwSignal<Vec<Codec>>);

impl UrlCodecs {
    /// Creates the registry and puts it in context.
    pub fn provide() -> Self {
        let me = Self(RwSignal::new(Vec::new()));
        provide_context(me);
        me
    }

    /// The registry in context.
    pub fn get() -> Option<Self> {
        use_context::<Self>()
    }

    /// Registers (or replaces) `owner`'s codec. `shared`: whether share links carry its keys.
    /// The codec is removed when the calling component is cleaned up.
    pub fn register(
        self,
        owner: &'static str,
        shared: bool,
        pairs: impl Fn() -> Pairs + Send + Sync + 'static,
    ) {
        self.add(Codec {
            owner,
            shared,
            pairs: Arc::new(pairs),
            track: None,
        });
    }

    /// [`UrlCodecs::register`], with `track`: a cheaper function that reads the same state as
    /// `pairs` without formatting it. The address bar's writer tracks every change through it
    /// and formats only when it writes, once the input rests (the views' parameters: about 25
    /// numbers to format on every slider move otherwise).
    pub fn register_tracked(
        self,
        owner: &'static str,
        shared: bool,
        track: impl Fn() + Send + Sync + 'static,
        pairs: impl Fn() -> Pairs + Send + Sync + 'static,
    ) {
        self.add(Codec {
            owner,
            shared,
            pairs: Arc::new(pairs),
            track: Some(Arc::new(track)),
        });
    }

    fn add(self, codec: Codec) {
        let owner = codec.owner;
        self.0.update(|v| {
            v.retain(|c| c.owner != owner);
            v.push(codec);
        });
        let list = self.0;
        on_cleanup(move || {
            let _ = list.try_update(|v| v.retain(|c| c.owner != owner));
        });
    }

    /// Reads every codec's state (tracked) without composing the query: an effect that calls
    /// this reruns when any of it changes.
    pub fn track(self) {
        for c in self.0.get() {
            match &c.track {
                Some(t) => t(),
                None => {
                    let _ = (c.pairs)();
                }
            }
        }
    }

    /// The composed keys and values (tracked: a memo or an effect that calls this reruns when
    /// any codec's state changes). `shared_only`: only the codecs a share link carries.
    pub fn pairs(self, shared_only: bool) -> Pairs {
        let codecs = self.0.get();
        compose(
            codecs
                .iter()
                .filter(|c| !shared_only || c.shared)
                .map(|c| (c.pairs)()),
        )
    }
}

/// Concatenates the owners' pairs in registration order. Owners own disjoint keys (a test
/// checks); if two wrote the same key, the first one's value would be kept.
pub fn compose(parts: impl Iterator<Item = Pairs>) -> Pairs {
    let mut out: Pairs = Vec::new();
    for (k, v) in parts.flatten() {
        if !out.iter().any(|(key, _)| *key == k) {
            out.push((k, v));
        }
    }
    out
}

/// `key=value&…`, encoded as the browser's `URLSearchParams` does.
pub fn encode(pairs: &Pairs) -> String {
    let Ok(q) = web_sys::UrlSearchParams::new() else {
        return String::new();
    };
    for (k, v) in pairs {
        q.append(k, v);
    }
    String::from(q.to_string())
}

/// The query the page was opened with (read once by each owner's codec).
pub fn initial() -> Option<web_sys::UrlSearchParams> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search).ok()
}

/// A getter over the initial query, for the owners' parsers.
pub fn initial_getter() -> impl Fn(&str) -> Option<String> {
    let q = initial();
    move |k: &str| q.as_ref().and_then(|q| q.get(k))
}

/// The initial query's pairs that no owner reads (a host page's own keys, say), kept in the
/// address bar as they came.
pub fn foreign_pairs(is_owned: impl Fn(&str) -> bool) -> Pairs {
    let Some(q) = initial() else {
        return Vec::new();
    };
    let mut out = Pairs::new();
    let Ok(Some(iter)) = js_sys::try_iter(&q) else {
        return out;
    };
    for entry in iter.flatten() {
        let pair = js_sys::Array::from(&entry);
        if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
            if !is_owned(&k) && out.len() < 16 {
                out.push((k, v));
            }
        }
    }
    out
}

/// This page's address with `pairs` as its query (for share links and embed snippets).
pub fn page_url(pairs: &Pairs) -> String {
    let Some(win) = web_sys::window() else {
        return String::new();
    };
    let loc = win.location();
    let query = encode(pairs);
    format!(
        "{}{}{}{}",
        loc.origin().unwrap_or_default(),
        loc.pathname().unwrap_or_default(),
        if query.is_empty() { "" } else { "?" },
        query
    )
}

thread_local! {
    /// A write of the address bar is scheduled.
    static WRITE_DUE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The attribute on `<html>` while a URL write waits (tests wait for it to go).
const PENDING_ATTR: &str = "data-url-pending";

fn root_element() -> Option<web_sys::Element> {
    web_sys::window()?.document()?.document_element()
}

/// Composes every codec into the query and puts it in the address bar with `replaceState` (no
/// history entry, no scroll jump), keeping the path and the `#fragment`, when it differs from
/// the address bar's: opening a clean link leaves the address alone.
fn write_now(codecs: UrlCodecs) {
    WRITE_DUE.with(|d| d.set(false));
    let query = untrack(|| encode(&codecs.pairs(false)));
    if let Some(win) = web_sys::window() {
        let loc = win.location();
        let current = loc.search().unwrap_or_default();
        if current.trim_start_matches('?') != query {
            let path = loc.pathname().unwrap_or_default();
            let hash = loc.hash().unwrap_or_default();
            let url = if query.is_empty() {
                format!("{path}{hash}")
            } else {
                format!("{path}?{query}{hash}")
            };
            if let Ok(h) = win.history() {
                let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
            }
        }
    }
    if let Some(r) = root_element() {
        let _ = r.remove_attribute(PENDING_ATTR);
    }
}

/// The one writer: an effect that tracks every codec's state and, once the input rests
/// ([`crate::widgets::deferred::after_rest`]), composes the query and writes it. One
/// `replaceState` costs 1 to 14 ms in Chromium, a whole frame's budget, so none runs while a
/// slider is dragged; composing waits too (formatting every number on every move cost
/// 0.2–0.3 ms). The last state is always written; `<html data-url-pending>` is set while a
/// write waits.
pub fn start_writer(codecs: UrlCodecs) {
    Effect::new(move |_| {
        codecs.track();
        if WRITE_DUE.with(|d| d.replace(true)) {
            return;
        }
        if let Some(r) = root_element() {
            let _ = r.set_attribute(PENDING_ATTR, "");
        }
        crate::widgets::deferred::after_rest(false, move || write_now(codecs));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Pairs {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn owners_keys_are_composed_in_order() {
        let out = compose(
            [
                p(&[("embed", "family")]),
                p(&[("u", "0.1"), ("s", "0.3")]),
                p(&[]),
                p(&[("tour", "2")]),
            ]
            .into_iter(),
        );
        assert_eq!(
            out,
            p(&[
                ("embed", "family"),
                ("u", "0.1"),
                ("s", "0.3"),
                ("tour", "2")
            ])
        );
    }
}
