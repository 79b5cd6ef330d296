//! Native benchmark: every loss value plus gradients on 4×3×256×256 float32 logits.
//! Prints one JSON line per figure. Run through `scripts/bench.sh`.

use dicelens_core::bench::{time_workload, BUILDING_BLOCKS};
use dicelens_core::LossKind;
use std::time::Instant;

fn main() {
    let start = Instant::now();
    let now = move || start.elapsed().as_secs_f64() * 1e3;
    for (name, kinds, goal) in [
        (
            "native_all_losses_4_gradients",
            &BUILDING_BLOCKS[..],
            Some(2.2),
        ),
        ("native_all_losses_10_gradients", &LossKind::ALL[..], None),
    ] {
        let t = time_workload(kinds, 30, &now);
        if t.is_empty() {
            eprintln!("dicelens-bench: the workload produced a non-finite checksum");
            std::process::exit(1);
        }
        let goal = goal.map_or("null".to_string(), |g: f64| g.to_string());
        println!(
            "{{\"bench\":\"{name}\",\"shape\":[4,3,256,256],\"dtype\":\"float32\",\"loss_values\":10,\"gradients\":{},\"median_ms\":{:.3},\"min_ms\":{:.3},\"reps\":{},\"goal_ms\":{goal}}}",
            kinds.len(),
            t[t.len() / 2],
            t[0],
            t.len()
        );
    }
}
