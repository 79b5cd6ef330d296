//! Browser hooks with cleanup. Each `use_*` connects an observer or a listener for the
//! calling component and disconnects it when that component's reactive owner is cleaned up,
//! so nothing keeps running for a view that is gone.

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

/// Device pixels per CSS pixel, within `[1, 4]` (canvases are drawn at this density).
pub fn device_pixel_ratio() -> f64 {
    web_sys::window()
        .map(|w| w.device_pixel_ratio())
        .unwrap_or(1.0)
        .clamp(1.0, 4.0)
}

/// Runs `disconnect` when the current reactive owner is cleaned up. The closure stays on this
/// thread (web objects are not `Send`); the cleanup only holds a handle to it.
pub fn on_cleanup_local(disconnect: impl FnOnce() + 'static) {
    let slot = StoredValue::new_local(Some(Box::new(disconnect) as Box<dyn FnOnce()>));
    on_cleanup(move || {
        if let Some(Some(f)) = slot.try_update_value(|v| v.take()) {
            f();
        }
    });
}

/// Sets `visible` whenever `el` enters or leaves the viewport (with a 200 px margin, so a plot
/// about to scroll in is already drawn); stops observing on cleanup.
pub fn use_visibility(el: &web_sys::Element, visible: RwSignal<bool>) {
    use_visibility_margin(el, visible, "200px 0px");
}

/// Sets `visible` whenever `el` enters or leaves the viewport grown by `margin` (a CSS
/// `rootMargin`, such as `"0px"`); stops observing on cleanup.
pub fn use_visibility_margin(el: &web_sys::Element, visible: RwSignal<bool>, margin: &str) {
    let cb = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
        for e in entries.iter() {
            if let Ok(entry) = e.dyn_into::<web_sys::IntersectionObserverEntry>() {
                let _ = visible.try_set(entry.is_intersecting());
            }
        }
    });
    let init = web_sys::IntersectionObserverInit::new();
    init.set_root_margin(margin);
    if let Ok(obs) =
        web_sys::IntersectionObserver::new_with_options(cb.as_ref().unchecked_ref(), &init)
    {
        obs.observe(el);
        on_cleanup_local(move || {
            obs.disconnect();
            drop(cb);
        });
    }
}

/// Keeps `width` equal to `el`'s client width (CSS pixels), read when the browser reports a
/// resize, after its own layout. A draw then never reads a layout property itself: reading
/// one after the readouts' text changed forced a layout of the whole page (about 3 ms per
/// slider move in a CPU profile). Stops observing on cleanup.
pub fn use_width(el: &web_sys::Element, width: RwSignal<f64>) {
    let target = el.clone();
    let cb = Closure::<dyn FnMut(js_sys::Array)>::new(move |_entries: js_sys::Array| {
        let w = target.client_width() as f64;
        if width
            .try_get_untracked()
            .is_some_and(|old| (w - old).abs() >= 0.5)
        {
            width.set(w);
        }
    });
    if let Ok(obs) = web_sys::ResizeObserver::new(cb.as_ref().unchecked_ref()) {
        obs.observe(el);
        on_cleanup_local(move || {
            obs.disconnect();
            drop(cb);
        });
    }
}

/// Calls `on_resize` with `el`'s border-box height whenever it changes; stops on cleanup.
pub fn use_height(el: &web_sys::Element, on_resize: impl Fn(f64) + 'static) {
    let target = el.clone();
    let cb = Closure::<dyn FnMut(js_sys::Array)>::new(move |_entries: js_sys::Array| {
        on_resize(target.get_bounding_client_rect().height());
    });
    if let Ok(obs) = web_sys::ResizeObserver::new(cb.as_ref().unchecked_ref()) {
        obs.observe(el);
        on_cleanup_local(move || {
            obs.disconnect();
            drop(cb);
        });
    }
}

/// Calls `handler` with every `message` event the window receives; stops on cleanup.
pub fn use_window_message(handler: impl FnMut(web_sys::MessageEvent) + 'static) {
    let Some(win) = web_sys::window() else { return };
    let cb = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(handler);
    if win
        .add_event_listener_with_callback("message", cb.as_ref().unchecked_ref())
        .is_ok()
    {
        on_cleanup_local(move || {
            let _ = win.remove_event_listener_with_callback("message", cb.as_ref().unchecked_ref());
        });
    }
}

/// Calls `handler` on every `name` event the window receives; stops on cleanup.
pub fn use_window_event(name: &'static str, handler: impl FnMut(web_sys::Event) + 'static) {
    let Some(win) = web_sys::window() else { return };
    let cb = Closure::<dyn FnMut(web_sys::Event)>::new(handler);
    if win
        .add_event_listener_with_callback(name, cb.as_ref().unchecked_ref())
        .is_ok()
    {
        on_cleanup_local(move || {
            let _ = win.remove_event_listener_with_callback(name, cb.as_ref().unchecked_ref());
        });
    }
}

/// The colour scheme the plots are drawn in (in context).
#[derive(Clone, Copy)]
pub struct DarkScheme(pub RwSignal<bool>);

/// True when the user prefers a dark colour scheme.
fn prefers_dark() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .map(|m| m.matches())
        .unwrap_or(false)
}

/// Puts the colour scheme in context for everything below the caller (the page's root): the
/// user's preference, following it while the page is open (the page's CSS follows it by
/// itself; the canvases redraw). Stops listening on cleanup.
pub fn provide_dark_scheme() -> RwSignal<bool> {
    let dark = RwSignal::new(prefers_dark());
    provide_context(DarkScheme(dark));
    let query = web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten());
    if let Some(q) = query {
        let list = q.clone();
        let cb = Closure::<dyn FnMut()>::new(move || {
            let _ = dark.try_set(list.matches());
        });
        if q.add_event_listener_with_callback("change", cb.as_ref().unchecked_ref())
            .is_ok()
        {
            on_cleanup_local(move || {
                let _ =
                    q.remove_event_listener_with_callback("change", cb.as_ref().unchecked_ref());
            });
        }
    }
    dark
}

/// Whether plots are drawn dark (from context; the preference at this moment if no root
/// provided one).
pub fn use_dark_scheme() -> Signal<bool> {
    match use_context::<DarkScheme>() {
        Some(DarkScheme(d)) => d.into(),
        None => Signal::stored(prefers_dark()),
    }
}

/// Copies `text` to the clipboard; reports the outcome in `status`.
pub fn copy(text: String, status: RwSignal<String>, what: &'static str) {
    let Some(win) = web_sys::window() else { return };
    let promise = win.navigator().clipboard().write_text(&text);
    leptos::task::spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(promise).await {
            Ok(_) => status.set(format!("{what} copied to the clipboard.")),
            Err(_) => status.set(format!(
                "The browser refused clipboard access: select the {} above and copy it.",
                what.to_lowercase()
            )),
        }
    });
}

/// Calls `f` once, the first time `el` comes within `margin` (CSS `rootMargin`, e.g.
/// `"1500px 0px"`) of the viewport; stops observing then or on cleanup.
pub fn on_near(el: &web_sys::Element, margin: &str, f: impl Fn() + 'static) {
    let done = std::rc::Rc::new(std::cell::Cell::new(false));
    let slot: std::rc::Rc<std::cell::RefCell<Option<web_sys::IntersectionObserver>>> =
        std::rc::Rc::default();
    let (d, s) = (done.clone(), slot.clone());
    let cb = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
        let near = entries.iter().any(|e| {
            e.dyn_into::<web_sys::IntersectionObserverEntry>()
                .is_ok_and(|entry| entry.is_intersecting())
        });
        if near && !d.replace(true) {
            f();
            if let Some(obs) = s.borrow_mut().take() {
                obs.disconnect();
            }
        }
    });
    let init = web_sys::IntersectionObserverInit::new();
    init.set_root_margin(margin);
    if let Ok(obs) =
        web_sys::IntersectionObserver::new_with_options(cb.as_ref().unchecked_ref(), &init)
    {
        obs.observe(el);
        *slot.borrow_mut() = Some(obs);
        on_cleanup_local(move || {
            if let Some(obs) = slot.borrow_mut().take() {
                obs.disconnect();
            }
            drop(cb);
        });
    }
}
