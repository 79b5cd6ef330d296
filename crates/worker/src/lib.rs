//! DiceLens's trainer in a Web Worker, as its own small wasm module loaded on demand.
//!
//! - [`protocol`]: the messages between the page and the worker and their exact encoding
//!   (the page's side links only this module of the crate);
//! - [`engine`]: the scheduler (time-sliced steps and evaluations, lockstep, the rate limit);
//! - [`host`]: the worker's state: commands in, slices of work, reports out (no browser types);
//! - [`shards`]: the page's side of two workers: which gets a command, their reports merged;
//! - `web` (wasm32 only): the worker's entry point, its message loop and its yields.

pub mod engine;
pub mod host;
pub mod js;
pub mod protocol;
pub mod shards;
#[cfg(target_arch = "wasm32")]
pub mod web;
