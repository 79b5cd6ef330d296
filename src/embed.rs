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

use crate::state::{AppState, MAX_VALUE_LEN};

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
    /// The view to scroll to (`view=`), if valid.
    pub view: Option<&'static str>,
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
        let get = crate::url::initial_getter();
        let short = |v: &str| v.chars().take(MAX_VALUE_LEN).collect::<String>();
        let mut mode = PageMode {
            controls: true,
            ..PageMode::default()
        };
        if let Some(v) = get("embed") {
            match crate::registry::by_key(&v) {
                Some(spec) => mode.embed = Some(spec.key),
                None => notices.push(format!(
                    "URL value embed={} is not a view ({}); showing the whole page.",
                    short(&v),
                    crate::registry::keys().join(", ")
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
        if let Some(v) = get("view") {
            match crate::registry::by_key(&v) {
                Some(spec) => mode.view = Some(spec.key),
                None => notices.push(format!(
                    "URL value view={} is not a view ({}); showing the whole page.",
                    short(&v),
                    crate::registry::keys().join(", ")
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

/// The keys the page mode owns (the tour's are [`crate::tour::TOUR_KEYS`]).
pub const PAGE_KEYS: [&str; 4] = ["embed", "controls", "parent", "view"];

impl PageMode {
    /// The page mode's own keys as the address bar keeps them: an embed stays an embed, and
    /// `view=` stays until the reader changes the page's state.
    pub fn url_pairs(&self) -> crate::url::Pairs {
        let mut out = Vec::new();
        if let Some(e) = self.embed {
            out.push(("embed".to_string(), e.to_string()));
            if !self.controls {
                out.push(("controls".into(), "0".into()));
            }
            if let Some(p) = &self.parent {
                out.push(("parent".into(), p.clone()));
            }
        }
        if let Some(v) = self.view {
            out.push(("view".into(), v.to_string()));
        }
        out
    }
}

/// The page's URL with the current state of every shared codec (the views', the trainer's)
/// and the given extra keys, for share links, embed snippets and "open in DiceLens". Tracked:
/// called in a memo or a closure in the view, it follows the state.
pub fn state_url(extra: &[(&str, String)]) -> String {
    let mut pairs = crate::url::UrlCodecs::get()
        .map(|c| c.pairs(true))
        .unwrap_or_default();
    for (k, v) in extra {
        pairs.retain(|(q, _)| q != k);
        pairs.push((k.to_string(), v.clone()));
    }
    crate::url::page_url(&pairs)
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

/// A `dicelens:set` value, as the bridge reads it from the message.
#[derive(Debug, Clone, PartialEq)]
pub enum SetValue {
    /// A number.
    Num(f64),
    /// A string.
    Text(String),
    /// An array; `None` where an element is not a number.
    Nums(Vec<Option<f64>>),
    /// Anything else (an object, `null`, a boolean).
    Other,
}

impl SetValue {
    /// Reads a message value.
    fn from_js(v: &JsValue) -> Self {
        if let Some(x) = v.as_f64() {
            return Self::Num(x);
        }
        if let Some(s) = v.as_string() {
            return Self::Text(s);
        }
        if js_sys::Array::is_array(v) {
            let a: js_sys::Array = v.clone().unchecked_into();
            // Long arrays are cut (the codec refuses long values anyway).
            return Self::Nums(a.iter().take(64).map(|x| x.as_f64()).collect());
        }
        Self::Other
    }

    /// The string a URL would carry, for the one codec (`None`: not a usable value, ignored
    /// with a notice).
    pub fn as_url_value(&self) -> Option<String> {
        match self {
            Self::Num(x) => Some(format!("{x}")),
            Self::Text(s) => Some(s.clone()),
            Self::Nums(v) => v
                .iter()
                .map(|x| x.map(|x| format!("{x}")))
                .collect::<Option<Vec<_>>>()
                .map(|p| p.join(",")),
            Self::Other => None,
        }
    }
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
    let last = std::rc::Rc::new(std::cell::Cell::new(0i32));
    let measured = root.clone();
    let post = move |_: f64| {
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
    };
    let post = std::rc::Rc::new(post);
    let p2 = post.clone();
    crate::hooks::use_height(&root, move |h| post(h));
    if let Some(body) = win.document().and_then(|d| d.body()) {
        crate::hooks::use_height(&body, move |h| p2(h));
    }
}

/// Listens for messages from `parent`: `dicelens:set` (validated state), `dicelens:get`
/// (answered with `dicelens:state`), and `dicelens:play` / `dicelens:pause` (the trainer).
pub fn listen(state: AppState, parent: String, view: &'static str) {
    crate::hooks::use_window_message(move |ev: web_sys::MessageEvent| {
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
                .and_then(|v| SetValue::from_js(&v).as_url_value())
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicelens_plot::figure::PARAMS;
    use dicelens_plot::query::{Mode, KEYS};

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            dicelens_core::train::rng::splitmix64(&mut self.0)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn num(&mut self) -> f64 {
            match self.below(6) {
                0 => f64::NAN,
                1 => f64::INFINITY,
                2 => -1e300,
                _ => ((self.next() >> 11) as f64 / (1u64 << 53) as f64 - 0.2) * 12.0,
            }
        }
    }

    fn random_value(r: &mut Rng) -> SetValue {
        match r.below(5) {
            0 => SetValue::Num(r.num()),
            1 => SetValue::Nums(
                (0..r.below(5))
                    .map(|_| (r.below(8) > 0).then(|| r.num()))
                    .collect(),
            ),
            2 => SetValue::Text(
                ["kl", "monai", "1", "0", "x", "", "0.2,0.3", "🙂"][r.below(8)].into(),
            ),
            3 => SetValue::Text("7".repeat(r.below(300))),
            _ => SetValue::Other,
        }
    }

    /// 10,000 random `dicelens:set` payloads: the app's state lands inside the schema, equals
    /// what the one codec makes of the same values, and each unusable value gets one notice.
    #[test]
    fn random_set_payloads_land_inside_the_schema() {
        let mut r = Rng(7);
        let state = AppState::new();
        let keys: Vec<&str> = KEYS.iter().copied().chain(["temp", "type", "zz"]).collect();
        for case in 0..10_000 {
            let payload: Vec<(&str, SetValue)> = (0..1 + r.below(5))
                .map(|_| (keys[r.below(keys.len())], random_value(&mut r)))
                .collect();
            let get = |k: &str| {
                payload
                    .iter()
                    .find(|(q, _)| *q == k)
                    .and_then(|(_, v)| v.as_url_value())
            };
            let before = state.params_untracked();
            let mut want = before;
            let problems = want.apply_query(&get, Mode::Lenient).expect("lenient");
            let notices = state.apply(&get);
            let now = state.params_untracked();
            let ctx = format!("case {case}: {payload:?}");
            assert_eq!(now, want, "{ctx}");
            assert_eq!(notices.len(), problems.len(), "{ctx}");
            for p in PARAMS {
                let v = now.get(p.key).expect("key");
                assert!(
                    v.is_finite() && (p.lo..=p.hi).contains(&v),
                    "{ctx}: {}={v}",
                    p.key
                );
            }
            // An unusable value leaves its key as it was.
            for (k, v) in &payload {
                if v.as_url_value().is_none() {
                    let mut only = before;
                    let (_, rest): (Vec<_>, Vec<_>) = payload.iter().partition(|(q, _)| q == k);
                    let get_rest = |q: &str| {
                        rest.iter()
                            .find(|(x, _)| *x == q)
                            .and_then(|(_, v)| v.as_url_value())
                    };
                    let _ = only.apply_query(&get_rest, Mode::Lenient);
                    if payload.iter().filter(|(q, _)| q == k).count() == 1 {
                        assert_eq!(now, only, "{ctx}: {k} ignored");
                    }
                }
            }
        }
    }
}
