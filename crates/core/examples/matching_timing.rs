//! Native time of one evaluation of the matching view (the app recomputes it per slider move):
//! `cargo run --release -p dicelens-core --example matching_timing`.

use dicelens_core::matching::{matching_view, step_for};

fn main() {
    let states = [
        ([0.7, 0.25, 0.05], [0.5, 0.3, 0.2], 0.5, 1.0),
        ([0.7, 0.25, 0.05], [0.5, 0.3, 0.2], 5.0, 4.0),
        ([0.05, 0.25, 0.7], [0.2, 0.3, 0.5], 2.0, 4.0),
        ([0.34, 0.33, 0.33], [0.1, 0.1, 0.8], 4.0, 2.0),
        ([0.998, 0.001, 0.001], [0.0001, 0.0001, 0.9998], 5.0, 0.3),
    ];
    for (u, s, kappa, sigma) in states {
        let reps = 50;
        let t = std::time::Instant::now();
        let mut iterations = 0;
        for _ in 0..reps {
            iterations = matching_view(u, s, kappa, sigma).expect("view").iterations;
        }
        let ms = t.elapsed().as_secs_f64() * 1e3 / reps as f64;
        println!(
            "u3={u:?} s3={s:?} κ={kappa} σ={sigma}: {ms:.2} ms (grid step {:.3}, {iterations} Newton steps)",
            step_for(sigma)
        );
    }
}
