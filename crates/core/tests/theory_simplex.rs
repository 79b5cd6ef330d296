//! Three classes on the simplex: the region terms' minimizers against THEORY.md, the
//! geometry used for dragging, the heat grid and its contours.

use dicelens_core::simplex::{contour_levels, vertex, TRIANGLE_HEIGHT};
use dicelens_core::{
    bary_to_xy, contours, heat_grid, project_to_simplex, simplex_point, simplex_view, xy_to_bary,
    LossError, SimplexTerm,
};

const US: [[f64; 3]; 6] = [
    [0.2, 0.3, 0.5],
    [0.7, 0.2, 0.1],
    [0.1, 0.6, 0.3],
    [1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0],
    [0.01, 0.01, 0.98],
    [0.45, 0.45, 0.1],
];

/// Every point of a fine barycentric grid, boundary included.
fn grid_points(n: usize) -> Vec<[f64; 3]> {
    let mut out = Vec::new();
    for j in 0..=n {
        for i in 0..=(n - j) {
            let (b1, b2) = (i as f64 / n as f64, j as f64 / n as f64);
            out.push([(1.0 - b1 - b2).max(0.0), b1, b2]);
        }
    }
    out
}

#[test]
fn minimizers_beat_a_fine_grid() {
    for u in US {
        for t in SimplexTerm::ALL {
            let (m, v) = t.minimizer(u);
            assert!((t.value(u, m) - v).abs() < 1e-12, "{t:?} {u:?}");
            for s in grid_points(120) {
                assert!(t.value(u, s) >= v - 1e-12, "{t:?} u={u:?} s={s:?}");
            }
        }
    }
}

#[test]
fn kl_and_l1_sit_at_u_dice_at_the_vertex_of_the_largest_class() {
    for u in US {
        assert_eq!(SimplexTerm::Kl.minimizer(u), (u, 0.0));
        assert_eq!(SimplexTerm::L1.minimizer(u), (u, 0.0));
        let (m, v) = SimplexTerm::Dice.minimizer(u);
        // THEORY.md: compare log(1 + 1/u_j); the largest u_j has the smallest.
        let mut j = 0;
        for k in 1..3 {
            if (1.0 + 1.0 / u[k]).ln() < (1.0 + 1.0 / u[j]).ln() {
                j = k;
            }
        }
        assert_eq!(m, vertex(j), "u={u:?}");
        let expect = ((1.0 + 1.0 / u[j]).ln() - 3.0 * 2f64.ln()) / 3.0;
        assert!((v - expect).abs() < 1e-12);
    }
}

#[test]
fn dice_is_concave_on_the_simplex() {
    let u = [0.2, 0.3, 0.5];
    let t = SimplexTerm::Dice;
    let pts = grid_points(20);
    for a in pts.iter().step_by(7) {
        for b in pts.iter().step_by(5) {
            let mid = [0, 1, 2].map(|k| 0.5 * (a[k] + b[k]));
            assert!(t.value(u, mid) >= 0.5 * (t.value(u, *a) + t.value(u, *b)) - 1e-12);
        }
    }
}

#[test]
fn absent_class_makes_dice_unbounded_below() {
    let u = [0.0, 0.3, 0.7];
    let (m, v) = SimplexTerm::Dice.minimizer(u);
    assert_eq!(m, vertex(2));
    assert_eq!(v, f64::NEG_INFINITY);
    assert_eq!(SimplexTerm::Dice.value(u, m), f64::NEG_INFINITY);
    assert!(SimplexTerm::Dice.value(u, [0.2, 0.3, 0.5]).is_finite());
    // KL treats 0·log 0 = 0 and stays minimal at u.
    assert_eq!(SimplexTerm::Kl.value(u, u), 0.0);
}

#[test]
fn inputs_are_validated_and_renormalised() {
    assert_eq!(
        simplex_point("u", [1.0, 1.0, 2.0]).unwrap(),
        [0.25, 0.25, 0.5]
    );
    for bad in [
        [f64::NAN, 0.5, 0.5],
        [0.5, f64::INFINITY, 0.1],
        [-0.1, 0.6, 0.5],
        [0.0, 0.0, 0.0],
    ] {
        assert!(
            matches!(
                simplex_point("u", bad),
                Err(LossError::BadParameter { name: "u", .. })
            ),
            "{bad:?}"
        );
    }
    assert!(heat_grid(SimplexTerm::Kl, [0.0, 0.0, 0.0], 10).is_err());
    assert!(heat_grid(SimplexTerm::Kl, [0.2, 0.3, 0.5], 0).is_err());
    assert!(simplex_view(SimplexTerm::Kl, [0.2, 0.3, 0.5], [-1.0, 0.0, 0.0], 10, 3).is_err());
}

#[test]
fn geometry_round_trips_and_projects_onto_the_triangle() {
    assert_eq!(bary_to_xy(vertex(0)), (0.0, 0.0));
    assert_eq!(bary_to_xy(vertex(1)), (1.0, 0.0));
    assert_eq!(bary_to_xy(vertex(2)), (0.5, TRIANGLE_HEIGHT));
    for s in grid_points(9) {
        let (x, y) = bary_to_xy(s);
        let b = xy_to_bary(x, y);
        let p = project_to_simplex(x, y);
        for k in 0..3 {
            assert!((b[k] - s[k]).abs() < 1e-12 && (p[k] - s[k]).abs() < 1e-12);
        }
    }
    let close = |a: [f64; 3], b: [f64; 3]| (0..3).all(|k| (a[k] - b[k]).abs() < 1e-12);
    assert!(close(project_to_simplex(-1.0, -1.0), vertex(0)));
    assert!(close(project_to_simplex(2.0, -0.1), vertex(1)));
    assert!(close(project_to_simplex(0.5, 3.0), vertex(2)));
    assert!(close(project_to_simplex(0.5, -0.3), [0.5, 0.5, 0.0]));
    // Outside the left edge: lands on the class-0–class-2 edge (ŝ₁ = 0).
    let p = project_to_simplex(0.0, 0.6);
    assert!(p[1].abs() < 1e-12 && p.iter().all(|&v| v >= 0.0));
    assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert!(close(project_to_simplex(f64::NAN, 0.0), [1.0 / 3.0; 3]));
}

#[test]
fn heat_grid_matches_pointwise_values() {
    let u = [0.2, 0.3, 0.5];
    for t in SimplexTerm::ALL {
        let g = heat_grid(t, u, 40).unwrap();
        assert_eq!(g.values.len(), 41 * 42 / 2);
        for j in 0..=40 {
            for i in 0..=(40 - j) {
                let v = t.value(u, g.bary(i, j));
                let w = g.at(i, j);
                assert!(v == w || (v - w).abs() < 1e-15, "{t:?} ({i},{j})");
            }
        }
        assert!(g.min <= g.color_max && g.color_max <= g.max);
        assert_eq!(g.triangles(1).len(), 40 * 40);
        assert_eq!(g.triangles(2).len(), 20 * 20);
    }
    // KL's grid minimum is 0 where the grid hits u (u is on the 1/40 grid).
    let g = heat_grid(SimplexTerm::Kl, u, 40).unwrap();
    assert!(g.min.abs() < 1e-12);
    assert!(g.max.is_finite());
    assert!(g.values.iter().any(|v| v.is_infinite()));
}

#[test]
fn contours_lie_on_their_level() {
    let u = [0.2, 0.3, 0.5];
    for t in SimplexTerm::ALL {
        let g = heat_grid(t, u, 120).unwrap();
        let levels = contour_levels(&g, 4);
        assert_eq!(levels.len(), 4);
        let cs = contours(&g, &levels);
        for c in &cs {
            assert!(!c.segments.is_empty(), "{t:?} level {}", c.level);
            for seg in &c.segments {
                for &(x, y) in seg {
                    let b = project_to_simplex(x, y);
                    let v = t.value(u, b);
                    // Away from the edges, where KL is +∞ and no interpolation is linear.
                    if b.iter().all(|&x| x > 2.0 / 120.0) {
                        assert!(
                            (v - c.level).abs() < 0.05 * (g.color_max - g.min),
                            "{t:?}: {v} vs {}",
                            c.level
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn view_has_every_minimum_and_value() {
    let v = simplex_view(SimplexTerm::Dice, [2.0, 3.0, 5.0], [0.3, 0.3, 0.4], 60, 5).unwrap();
    assert_eq!(v.u, [0.2, 0.3, 0.5]);
    assert_eq!(v.minima.len(), 3);
    assert_eq!(v.values.len(), 3);
    assert_eq!(v.contours.len(), 5);
    let dice_min = v.minima.iter().find(|m| m.0 == SimplexTerm::Dice).unwrap();
    assert_eq!(dice_min.1, vertex(2));
    for (t, val) in &v.values {
        assert_eq!(*val, t.value(v.u, v.s));
    }
    assert_eq!(SimplexTerm::from_key("dice"), Some(SimplexTerm::Dice));
    assert_eq!(SimplexTerm::from_key("nope"), None);
}

/// Shapes at the app's resolution (speed is measured by `dicelens-bench`, not asserted here).
#[test]
fn heat_grid_160_has_every_cell() {
    let u = [0.2, 0.3, 0.5];
    for t in SimplexTerm::ALL {
        let g = simplex_view(t, u, [0.3, 0.3, 0.4], 160, 6).unwrap();
        assert_eq!(g.grid.values.len(), 161 * 162 / 2);
        // Every cell off the triangle's edges is finite (KL is +∞ where some ŝ_k = 0).
        assert!(g.grid.values.iter().filter(|v| v.is_finite()).count() >= 161 * 162 / 2 - 3 * 161);
    }
}
