//! Native benchmark: every loss value plus gradients on 4×3×256×256 float32 logits (the f32
//! fused path, its batch split over the cores and on one thread, and the f64 reference path),
//! and one
//! training step of the toy CNN (cnn8, batch 16, 32×32, Adam), and the landscape view's two
//! 160×160 loss grids after a slider move.
//! Prints one JSON line per figure. Run through `scripts/bench.sh`.

use dicelens_core::bench::{
    time_workload_f64, time_workload_threads, workload_thread_count, BUILDING_BLOCKS,
};
use dicelens_core::LossKind;
use std::time::Instant;

fn main() {
    let start = Instant::now();
    let now = move || start.elapsed().as_secs_f64() * 1e3;
    // The loss kernel: the f32 fused path (the figure of issue 13, also the browser's) and the
    // f64 reference path.
    // threads: 0 = the kernel's default (the batch split over the available cores).
    for (name, path, kinds, threads, goal) in [
        (
            "native_all_losses_4_gradients",
            "f32-fused",
            &BUILDING_BLOCKS[..],
            0,
            Some(3.0),
        ),
        (
            "native_all_losses_4_gradients_1_thread",
            "f32-fused",
            &BUILDING_BLOCKS[..],
            1,
            None,
        ),
        (
            "native_all_losses_4_gradients_f64",
            "f64",
            &BUILDING_BLOCKS[..],
            1,
            None,
        ),
        (
            "native_all_losses_10_gradients",
            "f32-fused",
            &LossKind::ALL[..],
            0,
            None,
        ),
        (
            "native_all_losses_10_gradients_f64",
            "f64",
            &LossKind::ALL[..],
            1,
            None,
        ),
    ] {
        let t = if path == "f64" {
            time_workload_f64(kinds, 30, &now)
        } else {
            time_workload_threads(kinds, 30, threads, &now)
        };
        if t.is_empty() {
            eprintln!("dicelens-bench: the workload produced a non-finite checksum");
            std::process::exit(1);
        }
        let goal = goal.map_or("null".to_string(), |g: f64| g.to_string());
        // As the kernel chooses them (the f64 rows ask for 1: that path has no threads).
        let threads = workload_thread_count(threads);
        println!(
            "{{\"bench\":\"{name}\",\"path\":\"{path}\",\"threads\":{threads},\"shape\":[4,3,256,256],\"dtype\":\"float32\",\"loss_values\":10,\"gradients\":{},\"median_ms\":{:.3},\"min_ms\":{:.3},\"reps\":{},\"goal_ms\":{goal}}}",
            kinds.len(),
            t[t.len() / 2],
            t[0],
            t.len()
        );
    }
    let t = dicelens_core::bench::time_landscape(30, &now);
    if t.is_empty() {
        eprintln!("dicelens-bench: a landscape grid had no finite value");
        std::process::exit(1);
    }
    println!(
        "{{\"bench\":\"native_landscape_two_grids\",\"grid\":[160,160],\"losses\":[\"dice-fg\",\"ce\"],\"median_ms\":{:.3},\"min_ms\":{:.3},\"reps\":{},\"goal_ms\":null}}",
        t[t.len() / 2],
        t[0],
        t.len()
    );
    // The theory views' heavier computations (moved here from timed tests: speed is measured,
    // never asserted).
    let simplex = || {
        dicelens_core::simplex_view(
            dicelens_core::SimplexTerm::Dice,
            [0.2, 0.3, 0.5],
            [0.3, 0.3, 0.4],
            160,
            6,
        )
        .map(|v| v.grid.values.len())
        .unwrap_or(0)
    };
    let bias = || {
        let us = dicelens_core::log_grid(0.001, 0.5, 32);
        dicelens_core::bias_map(
            dicelens_core::FamilyParams::default(),
            &us,
            &dicelens_core::FamilyLoss::ALL,
        )
        .map(|m| m.len())
        .unwrap_or(0)
    };
    for (name, f) in [
        ("native_simplex_view_160", &simplex as &dyn Fn() -> usize),
        ("native_bias_map_32u_8_losses", &bias),
    ] {
        let _ = f();
        let mut t: Vec<f64> = (0..10)
            .map(|_| {
                let t0 = now();
                std::hint::black_box(f());
                now() - t0
            })
            .collect();
        t.sort_by(f64::total_cmp);
        println!(
            "{{\"bench\":\"{name}\",\"median_ms\":{:.3},\"min_ms\":{:.3},\"reps\":{},\"goal_ms\":null}}",
            t[t.len() / 2],
            t[0],
            t.len()
        );
    }
    let t = dicelens_core::train::bench_step(50, &now);
    if t.is_empty() {
        eprintln!("dicelens-bench: the training step diverged");
        std::process::exit(1);
    }
    println!(
        "{{\"bench\":\"native_cnn_train_step\",\"model\":\"cnn8\",\"batch\":16,\"size\":[32,32],\"optimizer\":\"adam\",\"loss\":\"bce\",\"median_ms\":{:.3},\"min_ms\":{:.3},\"reps\":{},\"goal_ms\":null}}",
        t[t.len() / 2],
        t[0],
        t.len()
    );
}
