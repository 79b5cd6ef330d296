//! DiceLens web app entry point: mount only.

mod app;
mod state;
mod views;
mod widgets;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}

/// Benchmark hook (used by `scripts/bench.sh` through `window.wasmBindings`): times every
/// loss and gradient on 4×3×256×256 float32 logits, the same workload as the native
/// benchmark, and returns the per-repetition times in milliseconds.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn bench_all_losses_and_gradients(reps: u32) -> Vec<f64> {
    use dicelens_core::bench::{all_losses_and_gradients, workload};
    let (logits, labels) = workload(4, 3, 256, 256);
    let cfg = dicelens_core::RegionConfig::default();
    let mut check = all_losses_and_gradients(&logits, &labels, cfg);
    let times = (0..reps.clamp(1, 200))
        .map(|_| {
            let t = widgets::perf::now();
            check += all_losses_and_gradients(&logits, &labels, cfg);
            widgets::perf::now() - t
        })
        .collect();
    if !check.is_finite() {
        web_sys::console::warn_1(&"benchmark checksum is not finite".into());
    }
    times
}
