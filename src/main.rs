//! DiceLens web app entry point: mount only.

mod app;
mod embed;
mod executor;
mod hooks;
mod registry;
mod state;
mod tour;
mod trainer;
mod url;
mod views;
mod widgets;

fn main() {
    console_error_panic_hook::set_once();
    // Before mounting, so that leptos runs its effects on this queue (src/executor.rs).
    #[cfg(target_arch = "wasm32")]
    executor::install();
    leptos::mount::mount_to_body(app::App);
    // The first paint (index.html: the header and a picture drawn at build time) gives way to
    // the app in the same task, so no frame shows both.
    if let Some(fp) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("first-paint"))
    {
        fp.remove();
    }
    // Two frames after mounting, every view has been laid out and its size remembered: from
    // then on a view far from the screen skips rendering at that size (style/main.css).
    leptos::prelude::request_animation_frame(|| {
        leptos::prelude::request_animation_frame(|| {
            if let Some(main) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.query_selector("main").ok().flatten())
            {
                let _ = main.class_list().add_1("settled");
            }
        });
    });
}

/// Test hook (used by `e2e/engines/suite.mjs` through `window.wasmBindings`): the `f32` loss
/// kernel's fingerprint ([`dicelens_core::bench::kernel_digest`]), which must equal the native
/// build's on file.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn kernel_digest() -> String {
    dicelens_core::bench::kernel_digest()
}

/// Benchmark hook (used by `scripts/bench.sh` through `window.wasmBindings`): every loss value
/// plus the gradients of CE, Dice, L1 and KL (`all = false`) or of all ten losses (`all = true`)
/// on 4×3×256×256 float32 logits, the same workload as the native benchmark. Returns the sorted
/// per-repetition times in milliseconds.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn bench_losses_and_gradients(all: bool, reps: u32) -> Vec<f64> {
    use dicelens_core::bench::{time_workload, BUILDING_BLOCKS};
    let kinds: &[dicelens_core::LossKind] = if all {
        &dicelens_core::LossKind::ALL
    } else {
        &BUILDING_BLOCKS
    };
    time_workload(kinds, reps.clamp(1, 200) as usize, &widgets::perf::now)
}
