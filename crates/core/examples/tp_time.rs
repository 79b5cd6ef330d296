use dicelens_core::pooled::{pooled_view, BatchSizes};
use dicelens_core::temperature::{temperature_curves, temperature_here};
use dicelens_core::FamilyParams;
fn main() {
    let p = FamilyParams { u: 0.1, kappa: 0.5, sigma: 1.0, lambda: 1.0, temp: 10.0, ..FamilyParams::default() };
    let t = std::time::Instant::now();
    let c = temperature_curves(&p, 40).unwrap();
    println!("curves {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let h = temperature_here(&p, 0.3).unwrap();
    println!("here {:?}", t.elapsed());
    for (l, v) in &c.curves { println!("{:?} {:?}", l, v.iter().step_by(6).map(|o| (o.temp, (o.soft*100.0).round()/100.0, (o.hard*100.0).round()/100.0)).collect::<Vec<_>>()); }
    println!("ce {:?} here {:?} {} {} {:?}", c.ce, h.s, h.hard, h.s_t, h.current);
    let t = std::time::Instant::now();
    for lam in [0.1, 1.0] { for temp in [1.0, 10.0] {
    let v = pooled_view(&FamilyParams{lambda: lam, temp, ..p}, &BatchSizes::default()).unwrap();
    println!("lam {lam} T {temp}");
    for o in &v.optima { println!("  {:?} soft {:?}\n     hard {:?} pooled {} {} spread {}", o.loss, o.soft.iter().map(|x| (x*100.0).round()/100.0).collect::<Vec<_>>(), o.hard.iter().map(|x| (x*100.0).round()/100.0).collect::<Vec<_>>(), o.pooled_soft, o.pooled_hard, o.hard_spread()); }
    }}
    println!("pooled x4 {:?}", t.elapsed());
}
