use dicelens_core::temperature::{temperature_curves, temperature_here, T_POINTS};
use dicelens_core::FamilyParams;
fn main() {
    for (kappa, sigma) in [(0.5, 1.0), (2.0, 4.0), (5.0, 4.0)] {
        let p = FamilyParams {
            u: 0.01,
            kappa,
            sigma,
            lambda: 1.0,
            temp: 20.0,
            ..FamilyParams::default()
        };
        let t = std::time::Instant::now();
        let c = temperature_curves(&p, T_POINTS).unwrap();
        let e1 = t.elapsed();
        let t = std::time::Instant::now();
        let _h = temperature_here(&p, 0.3).unwrap();
        println!("σ={sigma}: curves {:?} here {:?}", e1, t.elapsed());
        for (l, v) in &c.curves {
            println!(
                "  {:?} {:?}",
                l,
                v.iter()
                    .map(|o| (o.soft * 100.0).round() / 100.0)
                    .collect::<Vec<_>>()
            );
        }
    }
}
