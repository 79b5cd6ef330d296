//! The page's side of the trainer's workers: created on demand ([`start`]), commands queued
//! until they say they are ready ([`send`]), their reports applied in animation frames to the
//! views that [`subscribe`]. Nothing here waits for a worker: commands are posted, reports
//! arrive as messages.
//!
//! On a machine with two or more cores the runs train in two workers ("shards", each with
//! half of them; `dicelens_worker::shards`), linked by a `MessageChannel` over which they keep
//! their runs in lockstep; their reports are merged into what one worker would have said.
//!
//! A worker is `trainer-worker.js` (assets/), which loads `dicelens-worker.js` and
//! `dicelens-worker_bg.wasm` (built by Trunk from crates/worker). The module is downloaded and
//! compiled once: the first worker posts it compiled, and the page passes it on to the other.
//! If either file fails to load, the phase becomes [`Phase::Failed`] with the reason, and the
//! views say so.

use std::cell::RefCell;
use std::rc::Rc;

use dicelens_worker::host::CALM_MS;
use dicelens_worker::js::{packet_from_js, packet_to_js};
use dicelens_worker::protocol::{FromWorker, Packet, ToWorker};
use dicelens_worker::shards::Shards;
use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The worker's script, next to the page.
pub const WORKER_URL: &str = "./trainer-worker.js";

/// Where the worker is.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Not asked for yet.
    Idle,
    /// Its code is being fetched and compiled.
    Loading,
    /// It takes commands.
    Ready,
    /// It could not be loaded or it stopped: the sentence that says so.
    Failed(String),
}

/// What a subscriber is told.
pub enum Event<'a> {
    /// The phase changed.
    Phase(&'a Phase),
    /// A report.
    Report(&'a FromWorker),
}

type Listener = Rc<dyn Fn(Event)>;

/// Most workers the runs are split over.
const MAX_SHARDS: usize = 2;

struct Client {
    /// One per shard, once started.
    workers: Vec<web_sys::Worker>,
    /// Which workers said they are ready.
    ready: Vec<bool>,
    phase: Phase,
    /// Commands waiting for each worker to be ready (each starts with the worker's place).
    queues: Vec<Vec<Packet>>,
    shards: Shards,
    inbox: Vec<FromWorker>,
    frame_pending: bool,
    listeners: Vec<(u64, Listener)>,
    next_id: u64,
    /// When the workers were last told the page takes input (the page's clock, ms).
    last_calm: f64,
    /// The first worker's compiled module has been passed to the others.
    module_shared: bool,
}

thread_local! {
    static CLIENT: RefCell<Client> = RefCell::new({
        let count = shard_count();
        Client {
            workers: Vec::new(),
            ready: vec![false; count],
            phase: Phase::Idle,
            queues: (0..count)
                .map(|index| vec![ToWorker::Shard { index, count }.to_packet()])
                .collect(),
            shards: Shards::new(count),
            inbox: Vec::new(),
            frame_pending: false,
            listeners: Vec::new(),
            next_id: 0,
            last_calm: f64::NEG_INFINITY,
            module_shared: false,
        }
    });
}

/// Workers to split the runs over: two where the browser reports two or more cores.
fn shard_count() -> usize {
    web_sys::window()
        .map_or(1, |w| w.navigator().hardware_concurrency() as usize)
        .clamp(1, MAX_SHARDS)
}

/// The worker's phase now.
pub fn phase() -> Phase {
    CLIENT.with(|c| c.borrow().phase.clone())
}

/// Calls `f` with every phase change and report from now on (reports in animation frames);
/// returns an id for [`unsubscribe`].
pub fn subscribe(f: impl Fn(Event) + 'static) -> u64 {
    CLIENT.with(|c| {
        let mut c = c.borrow_mut();
        c.next_id += 1;
        let id = c.next_id;
        c.listeners.push((id, Rc::new(f)));
        id
    })
}

/// Stops calling the listener `id`.
pub fn unsubscribe(id: u64) {
    CLIENT.with(|c| c.borrow_mut().listeners.retain(|(i, _)| *i != id));
}

fn listeners() -> Vec<Listener> {
    CLIENT.with(|c| {
        c.borrow()
            .listeners
            .iter()
            .map(|(_, l)| l.clone())
            .collect()
    })
}

fn set_phase(p: Phase) {
    let changed = CLIENT.with(|c| {
        let mut c = c.borrow_mut();
        if c.phase == p {
            return false;
        }
        c.phase = p.clone();
        true
    });
    if changed {
        for l in listeners() {
            l(Event::Phase(&p));
        }
    }
}

fn post(worker: &web_sys::Worker, packets: &[Packet]) {
    let batch = Array::new();
    let transfer = Array::new();
    for p in packets {
        batch.push(&packet_to_js(p, &transfer));
    }
    let _ = worker.post_message_with_transfer(&batch, &transfer);
}

/// Sends a command to the workers it is for: at once to a worker that is ready, else once it
/// is (they are started by [`start`], not here). Commands after a failure are dropped (the
/// views say so).
pub fn send(cmd: ToWorker) {
    let p = cmd.to_packet();
    CLIENT.with(|c| {
        let mut c = c.borrow_mut();
        if matches!(c.phase, Phase::Failed(_)) {
            return;
        }
        c.shards.sent(&cmd);
        for s in c.shards.recipients(&cmd) {
            match (c.ready[s], c.workers.get(s)) {
                (true, Some(w)) => post(w, std::slice::from_ref(&p)),
                _ => c.queues[s].push(p.clone()),
            }
        }
    });
}

/// The page takes input (a slider's `input`, a pointer moving with a button down): tells the
/// ready workers ([`ToWorker::Interacting`], at most every `CALM_MS / 2`), which then work in
/// short slices with pauses for `CALM_MS`, so that a drag keeps a core while runs train.
fn interacting() {
    let now = crate::widgets::perf::now();
    let due = CLIENT.with(|c| {
        let mut c = c.borrow_mut();
        let due = c.phase == Phase::Ready && now - c.last_calm >= CALM_MS / 2.0;
        if due {
            c.last_calm = now;
        }
        due
    });
    if due {
        send(ToWorker::Interacting);
        crate::widgets::perf::count("calm");
    }
}

/// Listens, on the whole document, for the input that [`interacting`] passes on.
fn listen_for_input() {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let on_input = Closure::<dyn FnMut(web_sys::Event)>::new(|_| interacting());
    let on_pointer =
        Closure::<dyn FnMut(web_sys::PointerEvent)>::new(|ev: web_sys::PointerEvent| {
            if ev.buttons() != 0 {
                interacting();
            }
        });
    let opts = web_sys::AddEventListenerOptions::new();
    opts.set_capture(true);
    opts.set_passive(true);
    for (kind, f) in [
        ("input", on_input.as_ref()),
        ("pointermove", on_pointer.as_ref()),
    ] {
        let _ = doc.add_event_listener_with_callback_and_add_event_listener_options(
            kind,
            f.unchecked_ref(),
            &opts,
        );
    }
    on_input.forget();
    on_pointer.forget();
}

/// Creates the workers if they were not yet (the trainer came near the screen,
/// `view=trainer`, Play, or an example set).
pub fn start() {
    if CLIENT.with(|c| c.borrow().phase != Phase::Idle) {
        return;
    }
    listen_for_input();
    let count = CLIENT.with(|c| c.borrow().queues.len());
    let mut workers = Vec::with_capacity(count);
    for s in 0..count {
        let opts = web_sys::WorkerOptions::new();
        opts.set_name(&format!("dicelens-trainer-{s}"));
        let worker = match web_sys::Worker::new_with_options(WORKER_URL, &opts) {
            Ok(w) => w,
            Err(e) => {
                for w in &workers {
                    web_sys::Worker::terminate(w);
                }
                let why = js_message(&e, "the browser refused to start a worker");
                set_phase(Phase::Failed(format!(
                    "The trainer's code could not be loaded ({why})."
                )));
                return;
            }
        };
        let on_message =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev| on_message(s, ev));
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        // A message the page cannot read (the compiled module, in a browser that cannot pass
        // one): the other workers fetch the module themselves.
        let on_message_error = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| {
            share_module(s, &no_module())
        });
        worker.set_onmessageerror(Some(on_message_error.as_ref().unchecked_ref()));
        on_message_error.forget();
        let on_error = Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(|ev: web_sys::ErrorEvent| {
            ev.prevent_default();
            let what = ev.message();
            let why = if what.is_empty() {
                format!("{} did not start", WORKER_URL.trim_start_matches("./"))
            } else {
                what
            };
            fail(why);
        });
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        workers.push(worker);
    }
    CLIENT.with(|c| c.borrow_mut().workers = workers);
    set_phase(Phase::Loading);
}

/// Links the two shards' workers with a `MessageChannel` (each gets one port).
fn link_shards(workers: &[web_sys::Worker]) {
    let [a, b] = workers else { return };
    let Ok(ch) = web_sys::MessageChannel::new() else {
        return;
    };
    for (w, port) in [(a, ch.port1()), (b, ch.port2())] {
        let msg = js_sys::Object::new();
        let _ = Reflect::set(&msg, &"peer".into(), &port);
        let _ = w.post_message_with_transfer(&msg, &Array::of1(&port));
    }
}

/// The worker could not be loaded, or it stopped: says which, with `why`.
fn fail(why: String) {
    let sentence = CLIENT.with(|c| {
        let mut c = c.borrow_mut();
        let sentence = if c.phase == Phase::Ready {
            format!("The trainer stopped ({why}).")
        } else {
            format!("The trainer's code could not be loaded ({why}).")
        };
        for w in c.workers.drain(..) {
            w.terminate();
        }
        c.queues.clear();
        c.inbox.clear();
        sentence
    });
    set_phase(Phase::Failed(sentence));
}

fn js_message(e: &JsValue, fallback: &str) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|err| String::from(err.message()))
        })
        .unwrap_or_else(|| fallback.to_string())
}

/// `{module: null}`: the other workers fetch the module themselves.
fn no_module() -> JsValue {
    let msg = js_sys::Object::new();
    let _ = Reflect::set(&msg, &"module".into(), &JsValue::NULL);
    msg.into()
}

/// Passes the first worker's compiled module (`{module}`, or `{module: null}` where it could
/// not post it) to the other workers, which wait for it (assets/trainer-worker.js): once, and
/// only from the first worker (the others have started by then and would take a second one
/// for a bad command).
fn share_module(from: usize, msg: &JsValue) {
    CLIENT.with(|c| {
        let mut c = c.borrow_mut();
        if from != 0 || std::mem::replace(&mut c.module_shared, true) {
            return;
        }
        for w in c.workers.iter().skip(1) {
            if w.post_message(msg).is_err() {
                let _ = w.post_message(&no_module());
            }
        }
    });
}

fn on_message(shard: usize, ev: web_sys::MessageEvent) {
    let data = ev.data();
    if Reflect::has(&data, &"module".into()).unwrap_or(false) {
        share_module(shard, &data);
        return;
    }
    // The loader's own message: the glue or the module could not be loaded.
    if let Some(why) = Reflect::get(&data, &"loadError".into())
        .ok()
        .and_then(|v| v.as_string())
    {
        fail(why);
        return;
    }
    if !Array::is_array(&data) {
        return;
    }
    let mut msgs = Vec::new();
    for p in Array::from(&data).iter() {
        match FromWorker::from_packet(&packet_from_js(&p)) {
            Ok(m) => msgs.push(m),
            Err(e) => msgs.push(FromWorker::Error(format!(
                "the page could not read the trainer's report: {e}"
            ))),
        }
    }
    let mut ready = false;
    msgs.retain(|m| {
        let r = matches!(m, FromWorker::Ready);
        ready |= r;
        !r
    });
    if ready {
        let all = CLIENT.with(|c| {
            let mut c = c.borrow_mut();
            let q = c
                .queues
                .get_mut(shard)
                .map(std::mem::take)
                .unwrap_or_default();
            if let Some(w) = c.workers.get(shard) {
                post(w, &q);
            }
            if let Some(r) = c.ready.get_mut(shard) {
                *r = true;
            }
            let all = c.ready.iter().all(|&r| r);
            if all {
                link_shards(&c.workers);
            }
            all
        });
        if all {
            set_phase(Phase::Ready);
        }
    }
    if msgs.is_empty() {
        return;
    }
    let request = CLIENT.with(|c| {
        let mut c = c.borrow_mut();
        let c = &mut *c;
        for m in msgs {
            let merged = c.shards.receive(shard, m);
            c.inbox.extend(merged);
        }
        !c.inbox.is_empty() && !std::mem::replace(&mut c.frame_pending, true)
    });
    if request {
        request_frame();
    }
}

fn request_frame() {
    let cb = Closure::once_into_js(apply_frame);
    if let Some(w) = web_sys::window() {
        let _ = w.request_animation_frame(cb.unchecked_ref());
    }
}

/// Applies the reports that arrived, in order, in an animation frame; a plot redraw ends the
/// frame's share (the rest waits for the next frame), so a frame redraws at most one plot.
fn apply_frame() {
    let (batch, more) = CLIENT.with(|c| {
        let mut c = c.borrow_mut();
        let cut = c
            .inbox
            .iter()
            .position(|m| matches!(m, FromWorker::Plot(_)))
            .map_or(c.inbox.len(), |i| i + 1);
        let batch: Vec<FromWorker> = c.inbox.drain(..cut).collect();
        let more = !c.inbox.is_empty();
        c.frame_pending = more;
        (batch, more)
    });
    let ls = listeners();
    for m in &batch {
        for l in &ls {
            l(Event::Report(m));
        }
    }
    if more {
        request_frame();
    }
}
