//! Work that waits: for the plots on screen, and for the input to rest.
//!
//! A view's expensive memo reads its inputs through [`deferred`] or [`lagged`]. While the view
//! is on screen (or within 200 px of it) the inputs of its cheap pass are live. Everything
//! else waits until the input rests ([`REST_MS`] after the last slider move, typed value or
//! drag on a plot, see [`perf::mark_input`]): an off-screen view catches up on the next task
//! after that, an on-screen view's exact pass (the family's sweep, the bias map, the 160×160
//! landscapes) on the next animation frame after that. While a slider is dragged, a frame
//! therefore does only the input's own cheap work: no pass that cannot finish inside the frame
//! starts while input is still arriving (issue 13). Off-screen readouts stay correct, a moment
//! after the input rests.

use leptos::html;
use leptos::prelude::*;

use super::perf;

/// Input counts as still arriving until this long after the last input event (ms): longer
/// than the gaps between the events of a drag or of a held arrow key.
pub const REST_MS: f64 = 150.0;

/// Runs `f` once the input has rested for [`REST_MS`]: on the next animation frame (`frame`)
/// or the next task after it has. When the input was recent, the rest is confirmed on an
/// animation frame first (input arrives before the frame's callbacks): a long frame that
/// delayed the input must not pass for a rest.
pub fn after_rest<F>(frame: bool, f: F)
where
    F: Fn() + Copy + 'static,
{
    let since = perf::since_input();
    if since >= REST_MS {
        if frame {
            request_animation_frame(f);
        } else {
            set_timeout(f, std::time::Duration::ZERO);
        }
        return;
    }
    let wait = (REST_MS - since).ceil().max(1.0) as u64;
    set_timeout(
        move || {
            if perf::since_input() < REST_MS {
                return after_rest(frame, f);
            }
            request_animation_frame(move || {
                if perf::since_input() < REST_MS {
                    after_rest(frame, f);
                } else if frame {
                    f();
                } else {
                    set_timeout(f, std::time::Duration::ZERO);
                }
            });
        },
        std::time::Duration::from_millis(wait),
    );
}

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

/// Whether a block of readouts (a caption, a text alternative, a table) is on screen, with no
/// margin: true until the observer first reports. Readouts off screen follow the input once
/// it rests ([`deferred`]). Text that changes on every frame of a drag leaves layout garbage
/// behind, and off screen nobody reads it: keeping it live cost a major garbage collection
/// about every 1.4 s of a drag (docs/PERFORMANCE.md, stops 20 and 21).
pub fn use_readouts_seen(node: NodeRef<html::Div>) -> RwSignal<bool> {
    let seen = RwSignal::new(true);
    Effect::new(move |_| {
        if let Some(el) = node.get() {
            crate::hooks::use_visibility_margin(&el, seen, "0px");
        }
    });
    seen
}

/// Readouts of `key` as they should be shown: live while `seen`, otherwise once the input
/// rests; and whether, while off screen, they wait for the input to rest: they are behind
/// `key`, or `upstream()` says `key` itself waits (for `aria-busy` on their block).
pub fn readouts<K>(
    seen: RwSignal<bool>,
    key: Memo<K>,
    upstream: impl Fn() -> bool + Send + Sync + 'static,
) -> (Signal<K>, Signal<bool>)
where
    K: Clone + PartialEq + Send + Sync + 'static,
{
    let shown = deferred(seen, key);
    let waiting =
        Memo::new(move |_| !seen.get() && (upstream() || shown.with(|a| key.with(|b| a != b))));
    (shown, waiting.into())
}

/// When a lagging key catches up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Delay {
    /// Once the input rests, on the next task (`setTimeout 0`), after the on-screen plots are
    /// drawn (without input: one task late).
    Task,
    /// Once the input rests, on the next animation frame, after the browser has painted what
    /// is on screen (a progressive view's coarse pass; without input: one frame late).
    Frame,
    /// This many milliseconds after the last change (while a slider is dragged, not at all).
    Quiet(u32),
}

/// `key` as a view should read it: live while `on_screen`, otherwise once the input rests.
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
/// `off` otherwise. A view's second, exact pass reads its key this way: on screen on the frame
/// after the input rests, and only after a pause off screen, where nobody waits for it.
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
                after_rest(false, catch_up);
            }
            Delay::Frame => {
                pending.set_value(true);
                after_rest(true, catch_up);
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
