//! Work for views that are off screen waits until every on-screen plot has been drawn.
//!
//! A view's expensive memo reads its inputs through [`deferred`]: while the view is on screen
//! (or within 200 px of it) the inputs are live; while it is off screen, changes reach it on
//! the next task (`setTimeout 0`), after the microtasks that recompute and redraw what the user
//! sees. Off-screen readouts therefore stay correct, a moment later.

use leptos::html;
use leptos::prelude::*;

/// Whether the element behind `node` is on screen (true until the observer first reports).
pub fn use_on_screen(node: NodeRef<html::Section>) -> RwSignal<bool> {
    use_visibility(node, true)
}

/// Whether the element behind `node` is on screen, `initial` until the observer first reports.
pub fn use_visibility(node: NodeRef<html::Section>, initial: bool) -> RwSignal<bool> {
    let on_screen = RwSignal::new(initial);
    Effect::new(move |_| {
        if let Some(el) = node.get() {
            crate::hooks::use_visibility(&el, on_screen);
        }
    });
    on_screen
}

/// When an off-screen view catches up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Delay {
    /// On the next task (`setTimeout 0`), after the on-screen plots are drawn.
    Task,
    /// On the next animation frame, after the browser has painted what is on screen (a
    /// progressive view's coarse pass).
    Frame,
    /// This many milliseconds after the last change (while a slider is dragged, not at all).
    Quiet(u32),
}

/// `key` as a view should read it: live while `on_screen`, otherwise one task late.
pub fn deferred<K>(on_screen: RwSignal<bool>, key: Memo<K>) -> Signal<K>
where
    K: Clone + PartialEq + Send + Sync + 'static,
{
    deferred_by(on_screen, key, Delay::Task)
}

/// `key` as a view should read it: live while `on_screen`, otherwise after `delay`.
pub fn deferred_by<K>(on_screen: RwSignal<bool>, key: Memo<K>, delay: Delay) -> Signal<K>
where
    K: Clone + PartialEq + Send + Sync + 'static,
{
    lagged(on_screen, key, None, delay)
}

/// `key` as a view should read it: after `on` while `on_screen` (live when `None`), after
/// `off` otherwise. A view's second, exact pass reads its key this way: one frame late on
/// screen, and only after a pause off screen, where nobody waits for it.
pub fn lagged<K>(
    on_screen: RwSignal<bool>,
    key: Memo<K>,
    on: Option<Delay>,
    off: Delay,
) -> Signal<K>
where
    K: Clone + PartialEq + Send + Sync + 'static,
{
    let lagged = RwSignal::new(key.get_untracked());
    let pending = StoredValue::new(false);
    let generation = StoredValue::new(0u64);
    // Effects only talk to the outside world: here, a timer.
    Effect::new(move |_| {
        key.track();
        let Some(delay) = (if on_screen.get() { on } else { Some(off) }) else {
            // Nobody reads `lagged` while live: keeping it current costs nothing.
            lagged.set(key.get_untracked());
            return;
        };
        generation.update_value(|g| *g += 1);
        let my = generation.get_value();
        let catch_up = move || {
            pending.set_value(false);
            lagged.set(key.get_untracked());
        };
        match delay {
            Delay::Quiet(ms) => set_timeout(
                move || {
                    if generation.get_value() == my {
                        catch_up();
                    }
                },
                std::time::Duration::from_millis(ms as u64),
            ),
            _ if pending.get_value() => {}
            Delay::Task => {
                pending.set_value(true);
                set_timeout(catch_up, std::time::Duration::ZERO);
            }
            Delay::Frame => {
                pending.set_value(true);
                request_animation_frame(catch_up);
            }
        }
    });
    Signal::derive(move || {
        if on_screen.get() && on.is_none() {
            key.get()
        } else {
            lagged.get()
        }
    })
}
