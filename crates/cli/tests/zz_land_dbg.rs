use dicelens_core::landscape::*;
use dicelens_core::FamilyLoss;
use dicelens_plot::landscape::*;
use dicelens_plot::PlotStyle;
use plotters::prelude::*;
use resvg::{tiny_skia, usvg};
#[test]
fn dump() {
    for (name, loss, a) in [("ce", FamilyLoss::Ce, 0.05), ("dice", FamilyLoss::DiceFg, 0.05), ("cel1", FamilyLoss::CeL1, 0.0)] {
        let p = LandscapeParams { amb_a: a, lambda: 1.0, temp: 10.0, ..Default::default() };
        let g = grid(loss, &p, DEFAULT_B_RANGE, DEFAULT_LOG_T_RANGE, 160, 160);
        let contours = g.contours(&g.contour_levels(10));
        let m = minimum(&g, &p);
        if let Some(m) = m { println!("{name}: {m:?} {}", m.run_off.map(|r| r.description()).unwrap_or_default()); }
        let gd = descend(loss, &p, (4.0, 2.0), Method::Gd { lr: 1.0 }, 2000);
        let adam = descend(loss, &p, (4.0, 2.0), Method::Adam { lr: 0.05, beta1: 0.9, beta2: 0.999 }, 2000);
        println!("  gd {:?} {} {:?}  adam {:?} {} {:?}", gd.status, gd.points.len(), gd.points.last(), adam.status, adam.points.len(), adam.points.last());
        let paths = vec![
            LandscapePath { points: gd.points, color: RGBColor(230, 159, 0), label: "GD".into() },
            LandscapePath { points: adam.points, color: RGBColor(213, 94, 0), label: "Adam".into() },
        ];
        let data = LandscapeData { grid: &g, contours: &contours, minimum: m, paths: &paths, hover: Some((-2.0, 0.7)), title: name, heat: HeatMap::Cells };
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, (640, 480)).into_drawing_area();
            let t0 = std::time::Instant::now();
            draw_landscape(&root, &data, &PlotStyle::default()).unwrap();
            println!("  draw {:?} rects {}", t0.elapsed(), 0);
            root.present().unwrap();
        }
        println!("  rects {}", out.matches("<rect").count());
        let mut opt = usvg::Options::default();
        opt.fontdb_mut().load_system_fonts();
        opt.fontdb_mut().set_sans_serif_family("DejaVu Sans");
        let tree = usvg::Tree::from_str(&out, &opt).unwrap();
        let mut pm = tiny_skia::Pixmap::new(640, 480).unwrap();
        resvg::render(&tree, tiny_skia::Transform::identity(), &mut pm.as_mut());
        std::fs::write(format!("/tmp/scratch/land_{name}.png"), pm.encode_png().unwrap()).unwrap();
    }
}
