//! The page's side of the trainer's worker: created on demand ([`start`]), commands queued
//! until it says it is ready ([`send`]), its reports applied in animation frames to the
//! views that [`subscribe`]. Nothing here waits for the worker: commands are posted, reports
//! arrive as messages.
//!
//! The worker is `trainer-worker.js` (assets/), which loads `dicelens-worker.js` and
//! `dicelens-worker_bg.wasm` (built by Trunk from crates/worker). If either fails to load,
//! the phase becomes [`Phase::Failed`] with the reason, and the views say so.

use std::cell::RefCell;
use std::rc::Rc;

use dicelens_worker::js::{packet_from_js, packet_to_js};
use dicelens_worker::protocol::{FromWorker, Packet, ToWorker};
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

struct Client {
    worker: Option<web_sys::Worker>,
    phase: Phase,
    queue: Vec<Packet>,
    inbox: Vec<FromWorker>,
    frame_pending: bool,
    listeners: Vec<(u64, Listener)>,
    next_id: u64,
}

thread_local! {
    static CLIENT: RefCell<Client> = RefCell::new(Client {
        worker: None,
        phase: Phase::Idle,
        queue: Vec::new(),
        inbox: Vec::new(),
        frame_pending: false,
        listeners: Vec::new(),
        next_id: 0,
    });
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

/// Sends a command: at once when the worker is ready, else once it is (it is started by
/// [`start`], not here). Commands to a worker that failed are dropped (the views say so).
pub fn send(cmd: ToWorker) {
    let p = cmd.to_packet();
    CLIENT.with(|c| {
        let mut c = c.borrow_mut();
        match (&c.phase, &c.worker) {
            (Phase::Ready, Some(w)) => post(w, std::slice::from_ref(&p)),
            (Phase::Failed(_), _) => {}
            _ => c.queue.push(p),
        }
    });
}

/// Creates the worker if it was not yet (the trainer came near the screen, `view=trainer`,
/// Play, or an example set).
pub fn start() {
    if CLIENT.with(|c| c.borrow().phase != Phase::Idle) {
        return;
    }
    let opts = web_sys::WorkerOptions::new();
    opts.set_name("dicelens-trainer");
    let worker = match web_sys::Worker::new_with_options(WORKER_URL, &opts) {
        Ok(w) => w,
        Err(e) => {
            let why = js_message(&e, "the browser refused to start a worker");
            set_phase(Phase::Failed(format!(
                "The trainer's code could not be loaded ({why})."
            )));
            return;
        }
    };
    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(on_message);
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
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
    CLIENT.with(|c| c.borrow_mut().worker = Some(worker));
    set_phase(Phase::Loading);
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
        if let Some(w) = c.worker.take() {
            w.terminate();
        }
        c.queue.clear();
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

fn on_message(ev: web_sys::MessageEvent) {
    let data = ev.data();
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
        CLIENT.with(|c| {
            let mut c = c.borrow_mut();
            let q = std::mem::take(&mut c.queue);
            if let Some(w) = &c.worker {
                post(w, &q);
            }
        });
        set_phase(Phase::Ready);
    }
    if msgs.is_empty() {
        return;
    }
    let request = CLIENT.with(|c| {
        let mut c = c.borrow_mut();
        c.inbox.extend(msgs);
        !std::mem::replace(&mut c.frame_pending, true)
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
