//! The trainer's worker (built by Trunk as `dicelens-worker.js` + `dicelens-worker_bg.wasm`,
//! loaded by `assets/trainer-worker.js`). The page links the crate's library for its
//! protocol only; what is exported to JavaScript lives here, so the page's module never
//! carries the training code.

fn main() {
    #[cfg(target_arch = "wasm32")]
    dicelens_worker::web::start();
}

/// Benchmark hook (`e2e/bench.mjs` loads this module into a page for it): `reps` cnn8
/// training steps (binary CE, Adam, batch 16, 32×32), the native benchmark's workload; the
/// sorted per-step times in milliseconds.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn bench_train_step(reps: u32) -> Vec<f64> {
    use wasm_bindgen::JsCast;
    let perf = js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok());
    let clock = move || perf.as_ref().map_or(0.0, |p| p.now());
    dicelens_core::train::bench_step(reps.clamp(1, 500) as usize, &clock)
}
