//! Native benchmark: every loss and every gradient on 4×3×256×256 float32 logits.
//! Prints one JSON line. Run through `scripts/bench.sh`.

use dicelens_core::bench::{all_losses_and_gradients, workload};
use dicelens_core::RegionConfig;
use std::time::Instant;

fn main() {
    let (logits, labels) = workload(4, 3, 256, 256);
    let cfg = RegionConfig::default();
    if std::env::var("DICELENS_BENCH_PARTS").is_ok() {
        use dicelens_core::{Evaluator, LossKind};
        let t = Instant::now();
        let Ok(ev) = Evaluator::new(logits.view(), labels.view(), cfg) else {
            return;
        };
        eprintln!("new {:?}", t.elapsed());
        let t = Instant::now();
        let _ = ev.losses();
        eprintln!("losses {:?}", t.elapsed());
        for k in LossKind::ALL {
            let t = Instant::now();
            let _ = ev.gradient(k);
            eprintln!("grad {k:?} {:?}", t.elapsed());
        }
    }
    let mut check = 0.0;
    for _ in 0..3 {
        check += all_losses_and_gradients(&logits, &labels, cfg);
    }
    let reps = 30;
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        check += all_losses_and_gradients(&logits, &labels, cfg);
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{{\"bench\":\"native_all_losses_and_gradients\",\"shape\":[4,3,256,256],\"dtype\":\"float32\",\"losses\":10,\"gradients\":10,\"median_ms\":{:.3},\"min_ms\":{:.3},\"reps\":{reps},\"goal_ms\":2.2,\"checksum\":{check:.6}}}",
        times[reps / 2],
        times[0]
    );
}
