//! The audit on generated data with known answers, against `dicelens eval`'s batch
//! computation, and every kind of bad input.

mod common;

use common::Rng;
use dicelens_core::audit::{
    audit_arrays, audit_npy, example_set, histogram, labels_from_pixels, probs_from_pixels,
    AuditConfig, AuditError, Auditor, ExampleKind, NpyPlan, PredKind, PredSpec, SizeSample,
    HIST_BINS, MAX_FILE_BYTES,
};
use dicelens_core::npy::{write_f64, write_i64, write_raw};
use dicelens_core::{Evaluator, LossKind, RegionConfig};
use ndarray::{Array3, Array4};

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

/// Binary 16×16 images: image `i` has `c_i` foreground pixels (the first ones in row-major
/// order) predicted with probability `pf_i`; the background gets `pb_i`.
fn binary_set(c: &[usize], pf: &[f64], pb: &[f64]) -> (Array3<i64>, Array4<f64>) {
    let n = 256;
    let b = c.len();
    let mut y = Array3::<i64>::zeros((b, 16, 16));
    let mut z = Array4::<f64>::zeros((b, 1, 16, 16));
    for i in 0..b {
        for j in 0..n {
            let fg = j < c[i];
            y[[i, j / 16, j % 16]] = fg as i64;
            z[[i, 0, j / 16, j % 16]] = logit(if fg { pf[i] } else { pb[i] });
        }
    }
    (y, z)
}

#[test]
fn binary_known_answers() {
    // u = 2/256 (small), 10/256 (medium), 64/256 (large), 128/256 (large).
    let c = [2usize, 10, 64, 128];
    let pf = [0.9, 0.8, 0.7, 0.6];
    let pb = [0.1, 0.6, 0.2, 0.3];
    let (y, z) = binary_set(&c, &pf, &pb);
    let r = audit_arrays(
        y.view(),
        Some((z.view(), PredKind::Logits)),
        AuditConfig::default(),
    )
    .unwrap();
    let n = 256.0;
    assert_eq!(r.n_images, 4);
    assert_eq!(r.classes, 2);
    assert_eq!(r.sizes.len(), 4);
    for (s, &ci) in r.sizes.iter().zip(&c) {
        assert_eq!(s.u, ci as f64 / n);
    }
    let soft = |i: usize| (c[i] as f64 * pf[i] + (n - c[i] as f64) * pb[i]) / c[i] as f64;
    // Thresholded: p > 0.5 → image 1 predicts everything (pb = 0.6), the others the foreground.
    let hard = [1.0, n / 10.0, 1.0, 1.0];
    let small = r.bin("small").unwrap();
    assert_eq!(small.n, 1);
    assert!(close(small.ratio_soft.unwrap(), soft(0), 1e-9));
    assert!(close(small.ratio_hard.unwrap(), hard[0], 1e-12));
    let medium = r.bin("medium").unwrap();
    assert_eq!(medium.n, 1);
    assert!(close(medium.ratio_soft.unwrap(), soft(1), 1e-9));
    assert!(close(medium.ratio_hard.unwrap(), hard[1], 1e-12));
    let large = r.bin("large").unwrap();
    assert_eq!(large.n, 2);
    assert!(close(
        large.ratio_soft.unwrap(),
        (soft(2) + soft(3)) / 2.0,
        1e-9
    ));
    assert!(close(large.ratio_hard.unwrap(), 1.0, 1e-12));
    let m = r.metrics.as_ref().unwrap();
    // Dice of image 1: 2·10/(10 + 256); the others 1. IoU 10/256.
    let dice = (3.0 + 20.0 / 266.0) / 4.0;
    let iou = (3.0 + 10.0 / 256.0) / 4.0;
    assert!(close(m.dice.unwrap(), dice, 1e-12), "{:?}", m.dice);
    assert!(close(m.iou.unwrap(), iou, 1e-12));
    // ECE: every pixel's confidence is its foreground probability; the fraction of foreground
    // in each confidence bin is 1 (foreground probabilities) or 0 (background ones), except
    // where a foreground and a background probability share a bin (0.6: image 1's background
    // and image 3's foreground).
    let total = 4.0 * n;
    let (mut conf, mut hits, mut cnt) = ([0.0f64; 10], [0.0f64; 10], [0.0f64; 10]);
    for i in 0..4 {
        for (p, hit, count) in [(pf[i], 1.0, c[i] as f64), (pb[i], 0.0, n - c[i] as f64)] {
            let j = ((p * 10.0) as usize).min(9);
            conf[j] += p * count;
            hits[j] += hit * count;
            cnt[j] += count;
        }
    }
    let ece: f64 = (0..10)
        .filter(|&j| cnt[j] > 0.0)
        .map(|j| cnt[j] / total * (conf[j] / cnt[j] - hits[j] / cnt[j]).abs())
        .sum();
    assert!(close(m.ece.unwrap(), ece, 1e-9), "{:?} vs {ece}", m.ece);
    assert_eq!(m.saturated, Some(0.0));
    // The losses are dicelens eval's on the whole batch.
    let batch = Evaluator::new(z.view(), y.view(), RegionConfig::default())
        .unwrap()
        .losses();
    for kind in LossKind::ALL {
        match (r.loss(kind), batch.get(kind)) {
            (Some(a), Some(b)) => assert!(close(a, b, 1e-12), "{kind:?}: {a} vs {b}"),
            (a, b) => assert_eq!(a.is_some(), b.is_some(), "{kind:?}"),
        }
    }
    // CE's region term is KL(u‖ŝ) over (background, foreground), here in closed form.
    let l = r.losses.as_ref().unwrap();
    let j = LossKind::ALL
        .iter()
        .position(|&k| k == LossKind::Ce)
        .unwrap();
    for i in 0..4 {
        let u = c[i] as f64 / n;
        let s = (c[i] as f64 * pf[i] + (n - c[i] as f64) * pb[i]) / n;
        let kl = u * (u / s).ln() + (1.0 - u) * ((1.0 - u) / (1.0 - s)).ln();
        assert!(close(l.per_image[i].region[j].unwrap(), kl, 1e-9));
        // Dice's region term log((u + ŝ)/(2u)) (foreground only in binary mode).
        let jd = LossKind::ALL
            .iter()
            .position(|&k| k == LossKind::Dice)
            .unwrap();
        let rd = ((u + s) / (2.0 * u)).ln();
        assert!(close(l.per_image[i].region[jd].unwrap(), rd, 1e-9));
    }
    // A saturated prediction.
    let (y2, z2) = binary_set(&[30], &[0.99], &[0.005]);
    let r2 = audit_arrays(
        y2.view(),
        Some((z2.view(), PredKind::Logits)),
        AuditConfig::default(),
    )
    .unwrap();
    assert!(close(r2.metrics.unwrap().saturated.unwrap(), 1.0, 0.0));
}

#[test]
fn probabilities_give_the_logits_answers() {
    let c = [3usize, 15, 100];
    let (y, z) = binary_set(&c, &[0.7, 0.9, 0.55], &[0.2, 0.05, 0.45]);
    let p = z.mapv(sigmoid);
    let a = audit_arrays(
        y.view(),
        Some((z.view(), PredKind::Logits)),
        AuditConfig::default(),
    )
    .unwrap();
    let b = audit_arrays(
        y.view(),
        Some((p.view(), PredKind::Probs)),
        AuditConfig::default(),
    )
    .unwrap();
    assert!(a.bins.iter().all(|b| b.n == 1));
    for (x, w) in a.bins.iter().zip(&b.bins) {
        assert_eq!(x.n, w.n);
        assert!(close(x.ratio_soft.unwrap(), w.ratio_soft.unwrap(), 1e-9));
        assert_eq!(x.ratio_hard, w.ratio_hard);
    }
    for kind in LossKind::ALL {
        assert!(
            close(a.loss(kind).unwrap(), b.loss(kind).unwrap(), 1e-9),
            "{kind:?}"
        );
    }
    // Two-channel softmax probabilities (background, foreground): the same sizes.
    let mut p2 = Array4::<f64>::zeros((3, 2, 16, 16));
    for i in 0..3 {
        for h in 0..16 {
            for w in 0..16 {
                let q = p[[i, 0, h, w]];
                p2[[i, 0, h, w]] = 1.0 - q;
                p2[[i, 1, h, w]] = q;
            }
        }
    }
    let d = audit_arrays(
        y.view(),
        Some((p2.view(), PredKind::Probs)),
        AuditConfig::default(),
    )
    .unwrap();
    for (x, w) in a.bins.iter().zip(&d.bins) {
        assert!(close(x.ratio_soft.unwrap(), w.ratio_soft.unwrap(), 1e-9));
    }
    let (ma, md) = (a.metrics.unwrap(), d.metrics.unwrap());
    assert!(close(ma.dice.unwrap(), md.dice.unwrap(), 1e-12));
    assert!(close(ma.ece.unwrap(), md.ece.unwrap(), 1e-9));
}

#[test]
fn three_classes_and_labels_only() {
    // 8×8 images: class 1 on the first c1 pixels, class 2 on the next c2.
    let cases = [(10usize, 1usize), (20, 5), (0, 30)];
    let mut y = Array3::<i64>::zeros((3, 8, 8));
    for (i, &(c1, c2)) in cases.iter().enumerate() {
        for j in 0..64 {
            y[[i, j / 8, j % 8]] = if j < c1 {
                1
            } else if j < c1 + c2 {
                2
            } else {
                0
            };
        }
    }
    let r = audit_arrays(y.view(), None, AuditConfig::default()).unwrap();
    assert_eq!(r.classes, 3);
    assert_eq!(r.sizes.len(), 6);
    assert_eq!(r.absent, 1);
    let us: Vec<f64> = r.sizes.iter().map(|s| s.u).collect();
    let want: Vec<f64> = cases
        .iter()
        .flat_map(|&(a, b)| [a as f64 / 64.0, b as f64 / 64.0])
        .collect();
    assert_eq!(us, want);
    // Bins: u = 1/64 small; 5/64, 10/64, 20/64, 30/64 → 0 medium? 5/64 = 0.078 medium.
    assert_eq!(r.bin("small").unwrap().n, 1);
    assert_eq!(r.bin("medium").unwrap().n, 1);
    assert_eq!(r.bin("large").unwrap().n, 3);
    assert!(r.bins.iter().all(|b| b.ratio_soft.is_none()));
    assert!(r.metrics.is_none() && r.losses.is_none());
    assert_eq!(r.hist.iter().map(|b| b.count).sum::<usize>(), 5);
    // A perfect 3-channel prediction: every ratio 1, Dice 1.
    let mut z = Array4::<f64>::zeros((3, 3, 8, 8));
    for i in 0..3 {
        for h in 0..8 {
            for w in 0..8 {
                z[[i, y[[i, h, w]] as usize, h, w]] = 40.0;
            }
        }
    }
    let r = audit_arrays(
        y.view(),
        Some((z.view(), PredKind::Logits)),
        AuditConfig::default(),
    )
    .unwrap();
    for b in &r.bins {
        assert!(close(b.ratio_hard.unwrap(), 1.0, 1e-12));
        assert!(close(b.ratio_soft.unwrap(), 1.0, 1e-9));
    }
    let m = r.metrics.unwrap();
    assert_eq!(m.dice, Some(1.0));
    assert_eq!(m.iou, Some(1.0));
    assert!(close(m.saturated.unwrap(), 1.0, 0.0));
}

#[test]
fn npy_files_stream_to_the_same_report() {
    let mut rng = Rng(0xa0d1);
    let (b, k, h, w) = (5, 3, 12, 10);
    let y: Vec<i64> = (0..b * h * w).map(|_| rng.below(k) as i64).collect();
    let z: Vec<f64> = (0..b * k * h * w).map(|_| 2.0 * rng.normal()).collect();
    let yb = write_i64(&[b, h, w], &y);
    let zb = write_f64(&[b, k, h, w], &z);
    let a = audit_npy(&yb, Some(&zb), PredKind::Logits, AuditConfig::default()).unwrap();
    let ya = Array3::from_shape_vec((b, h, w), y.clone()).unwrap();
    let za = Array4::from_shape_vec((b, k, h, w), z.clone()).unwrap();
    let c = audit_arrays(
        ya.view(),
        Some((za.view(), PredKind::Logits)),
        AuditConfig::default(),
    )
    .unwrap();
    assert_eq!(a, c);
    // uint8 labels and float32 logits; a single (H, W) image.
    let y8: Vec<u8> = y.iter().map(|&v| v as u8).collect();
    let z32: Vec<u8> = z.iter().flat_map(|&v| (v as f32).to_le_bytes()).collect();
    let d = audit_npy(
        &write_raw("|u1", &[b, h, w], y8.clone()),
        Some(&write_raw("<f4", &[b, k, h, w], z32)),
        PredKind::Logits,
        AuditConfig::default(),
    )
    .unwrap();
    assert_eq!(d.n_images, b);
    assert_eq!(d.sizes, c.sizes);
    let one = audit_npy(
        &write_raw("|u1", &[h, w], y8[..h * w].to_vec()),
        Some(&write_f64(&[k, h, w], &z[..k * h * w])),
        PredKind::Logits,
        AuditConfig::default(),
    )
    .unwrap();
    assert_eq!(one.n_images, 1);
    assert_eq!(one.sizes[..k - 1], c.sizes[..k - 1]);
    // Byte ranges of the plan are consecutive images.
    let plan = NpyPlan::new(
        &yb,
        yb.len() as u64,
        Some((&zb, zb.len() as u64)),
        PredKind::Logits,
    )
    .unwrap();
    assert_eq!(plan.labels_range(1).start, plan.labels_range(0).end);
    assert_eq!(plan.preds_range(4).unwrap().end, zb.len() as u64);
}

fn err(labels: &[u8], preds: Option<&[u8]>, kind: PredKind) -> String {
    let e = audit_npy(labels, preds, kind, AuditConfig::default()).unwrap_err();
    e.to_string()
}

#[test]
fn bad_inputs_get_one_clear_message() {
    let y = write_i64(&[2, 4, 4], &[0; 32]);
    let z = write_f64(&[2, 1, 4, 4], &[0.0; 32]);
    // Not a .npy file.
    assert!(err(b"PNG\x89 definitely not", None, PredKind::Logits).contains("not a .npy file"));
    // A 2 GB file: refused from its length alone, before the header is read.
    let huge = NpyPlan::new(&y, 2_000_000_000, None, PredKind::Logits).unwrap_err();
    assert!(
        matches!(
            huge,
            AuditError::FileTooLarge {
                size: 2_000_000_000,
                ..
            }
        ),
        "{huge}"
    );
    assert!(huge.to_string().contains("2.00 GB"), "{huge}");
    let huge =
        NpyPlan::new(&y, 100, Some((b"", MAX_FILE_BYTES + 1)), PredKind::Logits).unwrap_err();
    assert!(
        huge.to_string().starts_with("predictions file is"),
        "{huge}"
    );
    // A header that promises more than the file has.
    let mut short = z.clone();
    short.truncate(z.len() - 8);
    assert!(err(&y, Some(&short), PredKind::Logits).contains("truncated"));
    // Wrong dtypes.
    let fy = write_f64(&[2, 4, 4], &[0.0; 32]);
    assert!(err(&fy, None, PredKind::Logits).contains("labels must be integers"));
    let iz = write_i64(&[2, 1, 4, 4], &[0; 32]);
    assert!(err(&y, Some(&iz), PredKind::Logits).contains("predictions must be float32"));
    let be = write_raw(">f8", &[2, 1, 4, 4], vec![0; 256]);
    assert!(err(&y, Some(&be), PredKind::Logits).contains("unsupported dtype"));
    // Wrong ranks and mismatched shapes.
    let y4 = write_i64(&[1, 2, 4, 4], &[0; 32]);
    assert!(err(&y4, None, PredKind::Logits).contains("expected (B, H, W) or (H, W)"));
    let z3 = write_f64(&[3, 1, 4, 4], &[0.0; 48]);
    let e = err(&y, Some(&z3), PredKind::Logits);
    assert!(e.starts_with("shape mismatch: labels are [2, 4, 4]"), "{e}");
    let z5 = write_f64(&[2, 1, 4, 5], &[0.0; 40]);
    assert!(err(&y, Some(&z5), PredKind::Logits).contains("shape mismatch"));
    // NaN.
    let mut zn = vec![0.0; 32];
    zn[21] = f64::NAN;
    let e = err(&y, Some(&write_f64(&[2, 1, 4, 4], &zn)), PredKind::Logits);
    assert!(
        e.contains("logit in image 1 (channel 0, pixel 5) is NaN"),
        "{e}"
    );
    // Labels out of range: 2 with one channel, 3 with three, negative without predictions.
    let mut yl = vec![0i64; 32];
    yl[3] = 2;
    let e = err(&write_i64(&[2, 4, 4], &yl), Some(&z), PredKind::Logits);
    assert!(
        e.contains("label 2 in image 0 (pixel 3) is outside {0, 1}"),
        "{e}"
    );
    yl[3] = 3;
    let z3c = write_f64(&[2, 3, 4, 4], &[0.0; 96]);
    let e = err(&write_i64(&[2, 4, 4], &yl), Some(&z3c), PredKind::Logits);
    assert!(e.contains("outside 0..2"), "{e}");
    yl[3] = -1;
    assert!(err(&write_i64(&[2, 4, 4], &yl), None, PredKind::Logits).contains("label -1"));
    // Probabilities outside [0, 1], or not summing to 1.
    let mut p = vec![0.5; 32];
    p[0] = 1.5;
    let e = err(&y, Some(&write_f64(&[2, 1, 4, 4], &p)), PredKind::Probs);
    assert!(e.contains("outside [0, 1]"), "{e}");
    let e = err(
        &y,
        Some(&write_f64(&[2, 2, 4, 4], &[0.7; 64])),
        PredKind::Probs,
    );
    assert!(e.contains("sum to 1.4"), "{e}");
    // Fortran order.
    let mut f = write_i64(&[2, 4, 4], &[0; 32]);
    let at = f.windows(5).position(|w| w == b"False").unwrap();
    f[at..at + 5].copy_from_slice(b"True ");
    assert!(err(&f, None, PredKind::Logits).contains("Fortran"));
    // Limits from the header alone (no data needed beyond the header).
    let many = write_raw("|u1", &[257, 1, 1], vec![0; 257]);
    assert!(err(&many, None, PredKind::Logits).contains("the number of images is 257, at most 256"));
    let wide = write_raw("|u1", &[1, 1, 513], vec![0; 513]);
    assert!(err(&wide, None, PredKind::Logits).contains("the image width is 513, at most 512"));
    let y1 = write_i64(&[1, 1, 1], &[0]);
    let k17 = write_f64(&[1, 17, 1, 1], &[0.0; 17]);
    assert!(err(&y1, Some(&k17), PredKind::Logits).contains("channels is 17, at most 16"));
    let empty = write_i64(&[0, 4, 4], &[]);
    assert!(err(&empty, None, PredKind::Logits).starts_with("empty input"));
}

#[test]
fn a_failed_image_leaves_the_audit_as_it_was() {
    let spec = PredSpec {
        kind: PredKind::Logits,
        channels: 1,
    };
    let mut a = Auditor::new(2, 2, Some(spec), AuditConfig::default()).unwrap();
    a.add(&[0, 1, 0, 0], Some(&[0.0; 4])).unwrap();
    assert!(a.add(&[0, 5, 0, 0], Some(&[0.0; 4])).is_err());
    assert!(a.add(&[0, 1, 0, 0], Some(&[f64::INFINITY; 4])).is_err());
    assert!(a.add(&[0, 1, 0], Some(&[0.0; 4])).is_err());
    a.add(&[1, 1, 0, 0], Some(&[0.0; 4])).unwrap();
    let r = a.finish().unwrap();
    assert_eq!(r.n_images, 2);
    assert_eq!(r.losses.unwrap().per_image.len(), 2);
    assert_eq!(r.metrics.unwrap().points.len(), 2);
    let none = Auditor::new(2, 2, None, AuditConfig::default()).unwrap();
    assert!(none.finish().unwrap_err().to_string().contains("no images"));
}

#[test]
fn png_pixels() {
    // Grey {0, 255}: non-zero is foreground, in RGBA as a canvas gives it.
    let rgba: Vec<u8> = [0u8, 255, 255, 0]
        .iter()
        .flat_map(|&v| [v, v, v, 255])
        .collect();
    assert_eq!(
        labels_from_pixels("m.png", &rgba, 4).unwrap(),
        vec![0, 1, 1, 0]
    );
    // Class values.
    assert_eq!(
        labels_from_pixels("m.png", &[0, 2, 1, 2], 1).unwrap(),
        vec![0, 2, 1, 2]
    );
    // Two levels, one zero: binary.
    assert_eq!(
        labels_from_pixels("m.png", &[0, 128, 0, 0], 1).unwrap(),
        vec![0, 1, 0, 0]
    );
    // A photo: many grey levels.
    let photo: Vec<u8> = (0..=255u8).collect();
    let e = labels_from_pixels("photo.png", &photo, 1)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("photo.png is not a mask: it has 256 grey levels"),
        "{e}"
    );
    // Three levels, not class indices.
    assert!(labels_from_pixels("m.png", &[0, 100, 200, 0], 1).is_err());
    // Colour.
    let e = labels_from_pixels("c.png", &[10, 20, 30, 255], 4)
        .unwrap_err()
        .to_string();
    assert!(e.contains("colour image"), "{e}");
    // Probability maps.
    assert_eq!(
        probs_from_pixels("p.png", &[0, 0, 255, 0], 2).unwrap(),
        vec![0.0, 1.0]
    );
    assert!(labels_from_pixels("x.png", &[1, 2, 3], 2).is_err());
}

#[test]
fn histogram_edges_and_mean() {
    let sizes: Vec<SizeSample> = [1e-6, 1e-4, 0.5, 1.0, 0.0]
        .iter()
        .map(|&u| SizeSample {
            image: 0,
            class: 1,
            u,
        })
        .collect();
    let h = histogram(&sizes);
    assert_eq!(h.len(), HIST_BINS);
    assert_eq!(h[0].count, 2);
    assert_eq!(
        h[HIST_BINS - 1].count,
        1 + (0.5 >= h[HIST_BINS - 1].lo) as usize
    );
    assert_eq!(h.iter().map(|b| b.count).sum::<usize>(), 4);
    for b in &h {
        if let Some(m) = b.mean_u {
            assert!(m >= b.lo.min(1e-6) && m <= b.hi);
        }
    }
}

#[test]
fn example_sets_are_deterministic_and_differ() {
    let a = example_set(ExampleKind::Ce).unwrap();
    let b = example_set(ExampleKind::Ce).unwrap();
    assert_eq!(a, b);
    let d = example_set(ExampleKind::Dice).unwrap();
    assert_eq!(a.labels, d.labels);
    assert_ne!(a.logits, d.logits);
    for set in [&a, &d] {
        let z = set.logits.mapv(f64::from);
        let r = audit_arrays(
            set.labels.view(),
            Some((z.view(), PredKind::Logits)),
            AuditConfig::default(),
        )
        .unwrap();
        assert_eq!(r.n_images, 48);
        assert!(r.bins.iter().all(|b| b.n > 0), "{:?}", r.bins);
        assert!(r.bins.iter().all(|b| b.ratio_soft.is_some()));
        assert!(r.metrics.unwrap().dice.unwrap() > 0.3);
    }
    // The two runs differ where the paper says: CE's thresholded prediction under-segments
    // small objects more than Dice's.
    let ratio = |s: &dicelens_core::audit::ExampleSet| {
        let z = s.logits.mapv(f64::from);
        audit_arrays(
            s.labels.view(),
            Some((z.view(), PredKind::Logits)),
            AuditConfig::default(),
        )
        .unwrap()
        .bin("small")
        .unwrap()
        .ratio_hard
        .unwrap()
    };
    assert!(ratio(&a) < ratio(&d));
}
