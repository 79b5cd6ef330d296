use dicelens_core::matching::matching_view_with;
fn main() {
    let states = [([0.7,0.25,0.05],[0.5,0.3,0.2],5.0,4.0),([0.7,0.25,0.05],[0.5,0.3,0.2],0.5,1.0),([0.05,0.25,0.7],[0.2,0.3,0.5],2.0,4.0),([0.34,0.33,0.33],[0.1,0.1,0.8],4.0,2.0),([0.7,0.25,0.05],[0.5,0.3,0.2],5.0,0.3)];
    for (u,s,k,sg) in states {
        let r = matching_view_with(u,s,k,sg,0.05).unwrap();
        print!("k={k} sg={sg}: ");
        for n in [dicelens_core::matching::step_for(sg)] {
            let t=std::time::Instant::now();
            let reps=20;
            let mut v=None;
            for _ in 0..reps { v=Some(matching_view_with(u,s,k,sg,n).unwrap()); }
            let dt=t.elapsed().as_secs_f64()/reps as f64*1e3;
            let v=v.unwrap();
            let mut e=0.0f64;
            for c in 0..3 { e=e.max((v.classes[c].c-r.classes[c].c).abs()).max((v.classes[c].neg_log_m-r.classes[c].neg_log_m).abs()); }
            print!("h{n}:{e:.1e}/{dt:.2}ms/it{} ", v.iterations);
        }
        println!();
    }
}
