//! Page modes: the full page, one embedded view (`?embed=<view>`), and the guided tour
//! (`?tour=<n>`); and the `postMessage` bridge an embed offers its host page.
//!
//! The bridge: when the page author names the host's origin (`parent=https://course.example`),
//! the embed posts `{type: "dicelens:state", view, state: {u, s, …}}` to that origin whenever
//! its state changes, and accepts `{type: "dicelens:set", state: {u: 0.2, …}}` from that origin
//! only. Values are validated exactly like URL values (clamped with a notice, never a panic) and
//! are only ever set as numbers or inserted as text, never as HTML.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::state::{query, AppState, MAX_VALUE_LEN, VIEWS};

/// Longest `parent=` value considered.
const MAX_ORIGIN_LEN: usize = 200;

/// How the page is shown.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageMode {
    /// The one view shown without page chrome (`embed=`), if any.
    pub embed: Option<&'static str>,
    /// Whether the embedded view shows its controls (`controls=0` hides them).
    pub controls: bool,
    /// The host page's origin for `postMessage` (`parent=`), if valid.
    pub parent: Option<String>,
    /// The tour step to open (`tour=`, 1-based), if any.
    pub tour: Option<usize>,
    /// `reveal=1`: the tour shows its answers without asking the predict-first question.
    pub reveal: bool,
}

/// A valid `http(s)` origin (`scheme://host[:port]`, no path), as the browser serialises it.
pub fn parse_origin(raw: &str) -> Option<String> {
    if raw.len() > MAX_ORIGIN_LEN {
        return None;
    }
    let url = web_sys::Url::new(raw).ok()?;
    let origin = url.origin();
    let scheme_ok = matches!(url.protocol().as_str(), "http:" | "https:");
    // `https://a.example/` and `https://a.example` name the same origin; anything with a path,
    // query, credentials or fragment is refused, so the author's intent is unambiguous.
    let bare = raw.trim_end_matches('/') == origin;
    (scheme_ok && bare && origin != "null").then_some(origin)
}

/// Number of tour steps (kept here so URL parsing and the tour agree).
pub const TOUR_STEPS: usize = crate::tour::STEPS.len();

impl PageMode {
    /// Reads `embed`, `controls`, `parent` and `tour` from the URL; malformed values are
    /// ignored with a notice (the normal page loads).
    pub fn from_url(notices: &mut Vec<String>) -> Self {
        let q = query();
        let get = |k: &str| q.as_ref().and_then(|q| q.get(k));
        let short = |v: &str| v.chars().take(MAX_VALUE_LEN).collect::<String>();
        let mut mode = PageMode {
            controls: true,
            ..PageMode::default()
        };
        if let Some(v) = get("embed") {
            match VIEWS.iter().find(|k| **k == v) {
                Some(k) => mode.embed = Some(k),
                None => notices.push(format!(
                    "URL value embed={} is not a view ({}); showing the whole page.",
                    short(&v),
                    VIEWS.join(", ")
                )),
            }
        }
        match get("controls").as_deref() {
            None | Some("1") => {}
            Some("0") => mode.controls = false,
            Some(v) => notices.push(format!(
                "URL value controls={} is not 0 or 1; showing the controls.",
                short(v)
            )),
        }
        if let Some(v) = get("parent") {
            match parse_origin(&v) {
                Some(o) => mode.parent = Some(o),
                None => notices.push(format!(
                    "URL value parent={} is not an origin like https://course.example; \
                     messages to and from the host page are off.",
                    short(&v)
                )),
            }
        }
        if let Some(v) = get("tour") {
            match v.trim().parse::<usize>() {
                Ok(n) if (1..=TOUR_STEPS).contains(&n) => mode.tour = Some(n),
                _ => notices.push(format!(
                    "URL value tour={} is not a step from 1 to {TOUR_STEPS}; the tour is closed.",
                    short(&v)
                )),
            }
        }
        match get("reveal").as_deref() {
            None | Some("0") => {}
            Some("1") => mode.reveal = true,
            Some(v) => notices.push(format!(
                "URL value reveal={} is not 0 or 1; the tour asks before it answers.",
                short(v)
            )),
        }
        mode
    }
}

/// The page's URL with the current state and the given extra keys, for share links, embed
/// snippets and "open in DiceLens". Page-mode keys (`embed`, `controls`, `parent`, `tour`,
/// `view`) are dropped unless given in `extra`.
pub fn state_url(state: &AppState, extra: &[(&str, String)]) -> String {
    let Some(win) = web_sys::window() else {
        return String::new();
    };
    let Some(q) = query() else {
        return String::new();
    };
    for k in ["embed", "controls", "parent", "tour", "reveal", "view"] {
        q.delete(k);
    }
    for (k, v) in state.url_pairs() {
        q.set(k, &v);
    }
    for (k, v) in extra {
        q.set(k, v);
    }
    let loc = win.location();
    format!(
        "{}{}?{}",
        loc.origin().unwrap_or_default(),
        loc.pathname().unwrap_or_default(),
        String::from(q.to_string())
    )
}

/// The origin of the page this one is embedded in, where the browser tells
/// (`location.ancestorOrigins`, else the referrer).
pub fn embedding_origin() -> Option<String> {
    let win = web_sys::window()?;
    let loc = js_sys::Reflect::get(&win, &"location".into()).ok()?;
    if let Ok(list) = js_sys::Reflect::get(&loc, &"ancestorOrigins".into()) {
        if let Some(o) = js_sys::Reflect::get(&list, &0.into())
            .ok()
            .and_then(|o| o.as_string())
        {
            return Some(o);
        }
    }
    let referrer = win.document()?.referrer();
    web_sys::Url::new(&referrer).ok().map(|u| u.origin())
}

/// Posts the state to the host page (only to `parent`'s origin).
pub fn post_state(state: &AppState, view: &str, parent: &str) {
    let Some(win) = web_sys::window() else { return };
    let Ok(Some(host)) = win.parent() else { return };
    if host == win {
        return;
    }
    let st = js_sys::Object::new();
    for (k, v) in state.url_pairs() {
        let value: JsValue = match v.parse::<f64>() {
            Ok(x) if !v.contains(',') => x.into(),
            _ => v.into(),
        };
        let _ = js_sys::Reflect::set(&st, &k.into(), &value);
    }
    let msg = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&msg, &"type".into(), &"dicelens:state".into());
    let _ = js_sys::Reflect::set(&msg, &"view".into(), &view.into());
    let _ = js_sys::Reflect::set(&msg, &"state".into(), &st);
    let _ = host.post_message(&msg, parent);
}

/// A message value as the string a URL would carry (numbers, strings, arrays of numbers).
fn as_url_value(v: &JsValue) -> Option<String> {
    if let Some(x) = v.as_f64() {
        return Some(format!("{x}"));
    }
    if let Some(s) = v.as_string() {
        return Some(s);
    }
    if js_sys::Array::is_array(v) {
        let a: js_sys::Array = v.clone().unchecked_into();
        let parts: Option<Vec<String>> = a
            .iter()
            .map(|x| x.as_f64().map(|x| format!("{x}")))
            .collect();
        return parts.map(|p| p.join(","));
    }
    None
}

/// Clicks the trainer's button with this test id, if it is on the page and enabled (the
/// host's `dicelens:play` / `dicelens:pause`; the trainer owns its own loop).
fn press(testid: &str) -> bool {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return false;
    };
    let Ok(Some(el)) = doc.query_selector(&format!("[data-testid=\"{testid}\"]")) else {
        return false;
    };
    let Ok(button) = el.dyn_into::<web_sys::HtmlElement>() else {
        return false;
    };
    if button.has_attribute("disabled")
        || js_sys::Reflect::get(&button, &"disabled".into())
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(false)
    {
        return false;
    }
    button.click();
    true
}

/// Posts `{type: "dicelens:resize", height}` to `parent` whenever the page's content height
/// changes, so a host page can size its iframe (docs/URL.md has the host snippet).
pub fn post_resizes(parent: String) {
    let Some(win) = web_sys::window() else { return };
    let Some(root) = win.document().and_then(|d| d.document_element()) else {
        return;
    };
    let last = std::cell::Cell::new(0i32);
    let measured = root.clone();
    let cb = Closure::<dyn FnMut(js_sys::Array)>::new(move |_entries: js_sys::Array| {
        // The root element's own box (its height is the content's, not the iframe's), so a
        // host that sizes the iframe to it can also shrink it.
        let h = measured.get_bounding_client_rect().height().ceil() as i32;
        if h == last.get() {
            return;
        }
        last.set(h);
        let Some(win) = web_sys::window() else { return };
        let Ok(Some(host)) = win.parent() else { return };
        if host == win {
            return;
        }
        let msg = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&msg, &"type".into(), &"dicelens:resize".into());
        let _ = js_sys::Reflect::set(&msg, &"height".into(), &h.into());
        let _ = host.post_message(&msg, &parent);
    });
    if let Ok(obs) = web_sys::ResizeObserver::new(cb.as_ref().unchecked_ref()) {
        obs.observe(&root);
        if let Some(body) = win.document().and_then(|d| d.body()) {
            obs.observe(&body);
        }
        // Observes for the page's lifetime (an embed never unmounts).
        std::mem::forget(obs);
    }
    cb.forget();
}

/// Listens for messages from `parent`: `dicelens:set` (validated state), `dicelens:get`
/// (answered with `dicelens:state`), and `dicelens:play` / `dicelens:pause` (the trainer).
pub fn listen(state: AppState, parent: String, view: &'static str) {
    let cb = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
        // Only the origin the page author named may steer the widget.
        if ev.origin() != parent {
            return;
        }
        let data = ev.data();
        let kind = js_sys::Reflect::get(&data, &"type".into())
            .ok()
            .and_then(|t| t.as_string());
        match kind.as_deref() {
            Some("dicelens:set") => {}
            Some("dicelens:get") => {
                post_state(&state, view, &parent);
                return;
            }
            Some(k @ ("dicelens:play" | "dicelens:pause")) => {
                let id = if k == "dicelens:play" {
                    "play"
                } else {
                    "pause"
                };
                if !press(id) {
                    let msg = if view == "trainer" {
                        format!("{k} was ignored: the trainer is already in that state.")
                    } else {
                        format!("{k} was ignored: only the trainer embed plays and pauses.")
                    };
                    state.notices.update(|n| n.push(msg));
                }
                return;
            }
            _ => return,
        }
        let Ok(st) = js_sys::Reflect::get(&data, &"state".into()) else {
            return;
        };
        if !st.is_object() {
            state.notices.update(|n| {
                n.push("A dicelens:set message without a state object was ignored.".into())
            });
            return;
        }
        let get = |k: &str| {
            js_sys::Reflect::get(&st, &k.into())
                .ok()
                .filter(|v| !v.is_undefined())
                .and_then(|v| as_url_value(&v))
        };
        let notices = state.apply(&get);
        if !notices.is_empty() {
            state.notices.update(|n| {
                n.extend(
                    notices
                        .into_iter()
                        .map(|s| s.replacen("URL value", "dicelens:set value", 1)),
                )
            });
        }
    });
    if let Some(win) = web_sys::window() {
        let _ = win.add_event_listener_with_callback("message", cb.as_ref().unchecked_ref());
    }
    // Lives as long as the page.
    cb.forget();
}
