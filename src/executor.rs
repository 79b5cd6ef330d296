//! The app's task queue. Leptos runs every effect as an async task; this queue runs them in a
//! microtask, as `wasm-bindgen-futures`' own queue does, and also survives a nested microtask
//! checkpoint.
//!
//! Some engines run microtasks while a task is still being polled: WebKit sometimes, Firefox
//! around `window.open` (wasm-bindgen issues #2562 and #3635). `wasm-bindgen-futures`' queue
//! then polls a task that is already being polled, and panics with "already borrowed". A panic
//! kills the page: in the WebKit smoke suite it hit about one load in ten on a loaded machine.
//! Here a nested run returns at once, and the run further up the stack polls what is queued.
//! [`Queue`] is plain Rust, so `tests` below replay that nesting natively.

// Natively only the tests use the queue.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, RawWaker, RawWakerVTable, Waker};

type LocalFuture = Pin<Box<dyn Future<Output = ()>>>;

/// One spawned future and whether it waits in the queue.
struct Task {
    future: RefCell<Option<LocalFuture>>,
    queued: Cell<bool>,
    queue: Weak<Queue>,
}

/// Tasks waiting to be polled, and how to ask the host to run them soon.
pub struct Queue {
    tasks: RefCell<VecDeque<Rc<Task>>>,
    /// A host call to [`Queue::run`] is pending.
    scheduled: Cell<bool>,
    /// A [`Queue::run`] is on the stack.
    running: Cell<bool>,
    schedule: Box<dyn Fn()>,
}

impl Queue {
    /// A queue that calls `schedule` when it needs [`Queue::run`] to be called soon (in the
    /// browser: queue a microtask).
    pub fn new(schedule: Box<dyn Fn()>) -> Rc<Self> {
        Rc::new(Queue {
            tasks: RefCell::default(),
            scheduled: Cell::new(false),
            running: Cell::new(false),
            schedule,
        })
    }

    /// Queues `fut` to be polled on the next run.
    pub fn spawn(self: &Rc<Self>, fut: LocalFuture) {
        let task = Rc::new(Task {
            future: RefCell::new(Some(fut)),
            queued: Cell::new(false),
            queue: Rc::downgrade(self),
        });
        task.wake();
    }

    fn push(&self, task: Rc<Task>) {
        self.tasks.borrow_mut().push_back(task);
        if !self.scheduled.replace(true) {
            (self.schedule)();
        }
    }

    /// Polls the tasks queued when it starts; tasks woken meanwhile wait for the next run. A
    /// call made while a run is on the stack (a nested microtask checkpoint) returns at once,
    /// spending the host call it stood for; the outer run then asks for another if tasks wait
    /// and none is pending (without nesting, a task woken during the run already asked).
    pub fn run(&self) {
        if self.running.replace(true) {
            self.scheduled.set(false);
            return;
        }
        self.scheduled.set(false);
        let mut left = self.tasks.borrow().len();
        while left > 0 {
            left -= 1;
            let Some(task) = self.tasks.borrow_mut().pop_front() else {
                break;
            };
            task.poll();
        }
        self.running.set(false);
        if !self.tasks.borrow().is_empty() && !self.scheduled.replace(true) {
            (self.schedule)();
        }
    }

    /// Tasks waiting to be polled.
    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.tasks.borrow().len()
    }
}

impl Task {
    fn wake(self: Rc<Self>) {
        if self.queued.replace(true) {
            return;
        }
        if let Some(q) = self.queue.upgrade() {
            q.push(self);
        }
    }

    fn poll(self: Rc<Self>) {
        self.queued.set(false);
        // Only a run polls, and runs never nest, so the future is free; should that ever
        // fail, the task is put back rather than polled twice.
        let Ok(mut slot) = self.future.try_borrow_mut() else {
            self.clone().wake();
            return;
        };
        let Some(fut) = slot.as_mut() else { return };
        let waker = waker(self.clone());
        if fut
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_ready()
        {
            *slot = None;
        }
    }
}

/// A waker holding an `Rc<Task>` (the page has one thread).
fn waker(task: Rc<Task>) -> Waker {
    unsafe fn clone(p: *const ()) -> RawWaker {
        // SAFETY: `p` came from `Rc::into_raw` in `raw` and the waker still holds it.
        let task = unsafe { std::mem::ManuallyDrop::new(Rc::from_raw(p as *const Task)) };
        raw(Rc::clone(&task))
    }
    unsafe fn wake(p: *const ()) {
        // SAFETY: as in `clone`; this consumes the waker's reference.
        unsafe { Rc::from_raw(p as *const Task) }.wake();
    }
    unsafe fn wake_by_ref(p: *const ()) {
        // SAFETY: as in `clone`; the waker keeps its reference.
        let task = unsafe { std::mem::ManuallyDrop::new(Rc::from_raw(p as *const Task)) };
        Rc::clone(&task).wake();
    }
    unsafe fn drop(p: *const ()) {
        // SAFETY: as in `clone`; this releases the waker's reference.
        std::mem::drop(unsafe { Rc::from_raw(p as *const Task) });
    }
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop);
    fn raw(task: Rc<Task>) -> RawWaker {
        RawWaker::new(Rc::into_raw(task) as *const (), &VTABLE)
    }
    // SAFETY: the vtable's functions keep the `Rc` counts balanced, and the waker never leaves
    // this thread (wasm32 in the browser has one; the native tests stay on theirs).
    unsafe { Waker::from_raw(raw(task)) }
}

/// The page's queue, run from a microtask, installed as leptos's executor.
#[cfg(target_arch = "wasm32")]
mod browser {
    use super::Queue;
    use std::rc::Rc;
    use wasm_bindgen::prelude::*;

    thread_local! {
        static QUEUE: Rc<Queue> = Queue::new(Box::new(schedule));
        // `Fn`, not `FnMut`: a nested checkpoint calls it again while it runs, which
        // wasm-bindgen refuses for an `FnMut` closure.
        static RUN: Closure<dyn Fn()> = Closure::new(|| QUEUE.with(|q| q.run()));
    }

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_name = queueMicrotask)]
        fn queue_microtask(f: &js_sys::Function);
    }

    fn schedule() {
        RUN.with(|f| queue_microtask(f.as_ref().unchecked_ref()));
    }

    struct PageExecutor;

    impl any_spawner::CustomExecutor for PageExecutor {
        fn spawn(&self, fut: any_spawner::PinnedFuture<()>) {
            QUEUE.with(|q| q.spawn(fut));
        }
        fn spawn_local(&self, fut: any_spawner::PinnedLocalFuture<()>) {
            QUEUE.with(|q| q.spawn(fut));
        }
        fn poll_local(&self) {}
    }

    /// Makes this queue leptos's executor; call before mounting (leptos's own
    /// `init_wasm_bindgen` then finds one set and keeps it).
    pub fn install() {
        let _ = any_spawner::Executor::init_local_custom_executor(PageExecutor);
    }
}

#[cfg(target_arch = "wasm32")]
pub use browser::install;

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::task::Poll;

    /// A host whose "microtasks" are a list the test drains by hand.
    fn host() -> (Rc<Queue>, Rc<Cell<usize>>) {
        let pending = Rc::new(Cell::new(0usize));
        let p = pending.clone();
        (Queue::new(Box::new(move || p.set(p.get() + 1))), pending)
    }

    /// Runs the host's pending microtasks until none are left; returns how many ran.
    fn drain(q: &Queue, pending: &Cell<usize>) -> usize {
        let mut n = 0;
        while pending.get() > 0 {
            pending.set(pending.get() - 1);
            q.run();
            n += 1;
            assert!(n < 1000, "the queue keeps asking for runs");
        }
        n
    }

    /// A future that is pending `n` times, waking itself each time, then ready.
    fn yields(n: usize, log: Rc<RefCell<Vec<usize>>>, id: usize) -> LocalFuture {
        let left = Cell::new(n);
        Box::pin(std::future::poll_fn(move |cx| {
            log.borrow_mut().push(id);
            if left.get() == 0 {
                Poll::Ready(())
            } else {
                left.set(left.get() - 1);
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }))
    }

    #[test]
    fn runs_every_task_to_the_end() {
        let (q, pending) = host();
        let log = Rc::new(RefCell::new(Vec::new()));
        q.spawn(yields(2, log.clone(), 1));
        q.spawn(yields(0, log.clone(), 2));
        assert_eq!(pending.get(), 1, "one microtask for both");
        drain(&q, &pending);
        assert_eq!(*log.borrow(), vec![1, 2, 1, 1]);
        assert_eq!(q.waiting(), 0);
    }

    /// What WebKit does sometimes: the microtask the queue asked for runs while a task is
    /// still being polled. wasm-bindgen-futures' queue panics here ("already borrowed").
    #[test]
    fn a_nested_run_neither_polls_twice_nor_loses_a_wake() {
        let (q, pending) = host();
        let log = Rc::new(RefCell::new(Vec::new()));
        let polls = Rc::new(Cell::new(0));
        let (q2, pending2, log2, polls2) = (
            Rc::downgrade(&q),
            pending.clone(),
            log.clone(),
            polls.clone(),
        );
        q.spawn(Box::pin(std::future::poll_fn(move |cx| {
            polls2.set(polls2.get() + 1);
            log2.borrow_mut().push(0);
            if polls2.get() == 3 {
                return Poll::Ready(());
            }
            // Wake itself (it is queued again), then the host runs its microtasks right
            // here, inside this poll.
            cx.waker().wake_by_ref();
            let q = q2.upgrade().unwrap();
            let mut nested = 0;
            while pending2.get() > 0 {
                pending2.set(pending2.get() - 1);
                q.run();
                nested += 1;
                assert!(nested < 10, "nested runs keep asking for runs");
            }
            Poll::Pending
        })));
        q.spawn(yields(1, log.clone(), 7));
        drain(&q, &pending);
        assert_eq!(polls.get(), 3, "the nested task ran to the end");
        assert_eq!(
            log.borrow().iter().filter(|&&x| x == 7).count(),
            2,
            "the other task too: {:?}",
            log.borrow()
        );
        assert_eq!(q.waiting(), 0);
        assert_eq!(pending.get(), 0);
    }

    #[test]
    fn a_task_woken_after_it_finished_is_not_polled() {
        let (q, pending) = host();
        let slot: Rc<RefCell<Option<Waker>>> = Rc::default();
        let s = slot.clone();
        let polls = Rc::new(Cell::new(0));
        let p = polls.clone();
        q.spawn(Box::pin(std::future::poll_fn(move |cx| {
            p.set(p.get() + 1);
            *s.borrow_mut() = Some(cx.waker().clone());
            Poll::Ready(())
        })));
        drain(&q, &pending);
        slot.borrow_mut().take().unwrap().wake();
        drain(&q, &pending);
        assert_eq!(polls.get(), 1);
    }

    #[test]
    fn a_queue_that_is_gone_drops_wakes() {
        let (q, _pending) = host();
        let slot: Rc<RefCell<Option<Waker>>> = Rc::default();
        let s = slot.clone();
        q.spawn(Box::pin(std::future::poll_fn(move |cx| {
            *s.borrow_mut() = Some(cx.waker().clone());
            Poll::<()>::Pending
        })));
        q.run();
        drop(q);
        slot.borrow_mut().take().unwrap().wake();
    }
}
