//! The worker's browser glue: decode the page's packets into [`Host::handle`], run
//! [`Host::work`] in slices paced by [`Host::pace`] ([`crate::host::SLICE_MS`], or short ones
//! with pauses while the page takes input) and yield between them (a `MessageChannel` message,
//! so commands are taken between slices; a timeout for a pause, or when only the rate limit
//! holds the runs back), and post the reports in batches at most every [`REPORT_EVERY_MS`].
//!
//! A packet crosses as `{h: Float64Array, f: Float32Array, u: Uint8Array}`; a batch is an
//! array of them, their buffers transferred.

use std::cell::RefCell;

use js_sys::Array;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageChannel, MessageEvent, MessagePort};

use crate::host::Host;
pub use crate::js::{packet_from_js, packet_to_js};
use crate::protocol::{FromWorker, ToWorker};

/// Shortest time between two batches of reports while training (10 a second; a pause, a
/// Step or an idle worker posts at once). At 30 a second the page's main thread spent about a
/// quarter of a core applying them (step counter and status lines, each a layout and a paint),
/// on the core whose other hyperthread runs the worker; at 10, about 15%.
pub const REPORT_EVERY_MS: f64 = 100.0;
/// The wait before the next slice while Play is on but the rate limit holds the runs (ms).
const IDLE_WAIT_MS: i32 = 4;

struct State {
    host: Host,
    out: Vec<FromWorker>,
    last_post: f64,
    /// A slice is scheduled.
    scheduled: bool,
    channel: MessageChannel,
    /// The port to the other shard's worker (with two shards).
    peer: Option<MessagePort>,
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn now() -> f64 {
    scope().performance().map_or(0.0, |p| p.now())
}

fn post(msgs: Vec<FromWorker>) {
    if msgs.is_empty() {
        return;
    }
    let batch = Array::new();
    let transfer = Array::new();
    for m in &msgs {
        batch.push(&packet_to_js(&m.to_packet(), &transfer));
    }
    let _ = scope().post_message_with_transfer(&batch, &transfer);
}

/// Schedules the next slice: at once after the current task (`wait_ms` 0), or after
/// `wait_ms`.
fn schedule(st: &mut State, wait_ms: i32) {
    if st.scheduled {
        return;
    }
    st.scheduled = true;
    if wait_ms > 0 {
        let cb = Closure::once_into_js(run_slice);
        let _ = scope()
            .set_timeout_with_callback_and_timeout_and_arguments_0(cb.unchecked_ref(), wait_ms);
    } else {
        let _ = st.channel.port2().post_message(&JsValue::NULL);
    }
}

/// Tells the other shard this one's progress, when it changed (once linked).
fn tell_peer(st: &mut State) {
    let Some(port) = &st.peer else { return };
    if let Some(p) = st.host.peer_report() {
        let transfer = Array::new();
        let _ = port
            .post_message_with_transferable(&packet_to_js(&p.to_packet(), &transfer), &transfer);
    }
}

/// The other shard's progress (a packet from its worker).
fn on_peer(ev: MessageEvent) {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let Some(st) = s.as_mut() else { return };
        if let Ok(cmd @ ToWorker::Peer(_)) = ToWorker::from_packet(&packet_from_js(&ev.data())) {
            let mut out = std::mem::take(&mut st.out);
            st.host.handle(cmd, &mut out);
            st.out = out;
            schedule(st, 0);
        }
    });
}

fn run_slice() {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let Some(st) = s.as_mut() else { return };
        st.scheduled = false;
        let start = now();
        let pace = st.host.pace(start);
        let mut out = std::mem::take(&mut st.out);
        let worked = st.host.work(&now, start + pace.slice_ms, &mut out);
        st.out = out;
        tell_peer(st);
        let t = now();
        let busy = st.host.busy();
        if !st.out.is_empty() && (t - st.last_post >= REPORT_EVERY_MS || !busy || !worked) {
            st.last_post = t;
            post(std::mem::take(&mut st.out));
        }
        if worked {
            schedule(st, pace.wait_ms);
        } else if busy || !st.out.is_empty() {
            schedule(st, IDLE_WAIT_MS);
        }
    });
}

fn on_command(ev: MessageEvent) {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let Some(st) = s.as_mut() else { return };
        let data = ev.data();
        // The page links the two shards' workers: `{peer: MessagePort}`.
        if let Some(port) = js_sys::Reflect::get(&data, &"peer".into())
            .ok()
            .and_then(|p| p.dyn_into::<MessagePort>().ok())
        {
            let cb = Closure::<dyn FnMut(MessageEvent)>::new(on_peer);
            port.set_onmessage(Some(cb.as_ref().unchecked_ref()));
            cb.forget();
            st.peer = Some(port);
            tell_peer(st);
            return;
        }
        let packets: Vec<JsValue> = if Array::is_array(&data) {
            Array::from(&data).iter().collect()
        } else {
            vec![data]
        };
        for p in packets {
            match ToWorker::from_packet(&packet_from_js(&p)) {
                Ok(cmd) => {
                    let mut out = std::mem::take(&mut st.out);
                    st.host.handle(cmd, &mut out);
                    st.out = out;
                }
                Err(e) => st.out.push(FromWorker::Error(format!(
                    "the trainer got a bad message: {e}"
                ))),
            }
        }
        schedule(st, 0);
    });
}

/// The worker's entry point: listens for commands and says it is ready (outside a worker,
/// e.g. a page that loads the module for its benchmark hook, it does nothing).
pub fn start() {
    if js_sys::global()
        .dyn_into::<DedicatedWorkerGlobalScope>()
        .is_err()
    {
        return;
    }
    let Ok(channel) = MessageChannel::new() else {
        post(vec![FromWorker::Error(
            "the trainer's worker could not open a message channel".into(),
        )]);
        return;
    };
    let tick = Closure::<dyn FnMut(MessageEvent)>::new(|_ev: MessageEvent| run_slice());
    channel
        .port1()
        .set_onmessage(Some(tick.as_ref().unchecked_ref()));
    tick.forget();
    let cmd = Closure::<dyn FnMut(MessageEvent)>::new(on_command);
    scope().set_onmessage(Some(cmd.as_ref().unchecked_ref()));
    cmd.forget();
    STATE.with(|s| {
        *s.borrow_mut() = Some(State {
            host: Host::default(),
            out: Vec::new(),
            last_post: 0.0,
            scheduled: false,
            channel,
            peer: None,
        })
    });
    post(vec![FromWorker::Ready]);
}
