//! The incremental held-out evaluation ([`EvalCursor`]): whatever the chunk sizes, the metrics
//! are bit-identical to the one-shot [`Trainer::evaluate`], the cursor evaluates the weights of
//! the step it was started at, and it refuses another data set.

use dicelens_core::train::{
    DataConfig, Dataset, Metrics, ModelKind, TrainConfig, TrainError, Trainer, EVAL_CHUNK,
};
use dicelens_core::LossKind;
use ndarray::s;

/// Every number in the metrics, as bits (exact, and NaN-proof).
fn bits(m: &Metrics) -> Vec<u64> {
    let opt = |x: Option<f64>| x.map_or(u64::MAX, f64::to_bits);
    let mut v: Vec<u64> = [
        m.loss,
        m.ratio_soft,
        m.ratio_hard,
        m.ratio_hard_small,
        m.dice,
        m.iou,
        m.ece,
        m.saturated,
    ]
    .into_iter()
    .map(opt)
    .collect();
    v.push(m.step as u64);
    for p in &m.points {
        v.extend([p.image as u64, p.class as u64]);
        v.extend([p.u, p.soft, p.hard].map(f64::to_bits));
    }
    for b in &m.size_bins {
        v.extend([b.count as u64, opt(b.ratio_soft), opt(b.ratio_hard)]);
    }
    for r in &m.reliability {
        v.extend([r.count as u64, opt(r.confidence), opt(r.accuracy)]);
    }
    v
}

/// A run trained for a few steps on `test` held-out images (not a multiple of the loss
/// group size, so the last group is short).
fn trained(model: ModelKind, loss: LossKind, classes: usize, test: usize) -> (Trainer, Dataset) {
    let data = Dataset::new(&DataConfig {
        train: 32,
        test,
        classes,
        ..DataConfig::default()
    })
    .unwrap();
    let cfg = TrainConfig {
        model,
        loss,
        batch: 8,
        steps: 100,
        ..TrainConfig::default()
    };
    let mut run = Trainer::new(cfg, &data).unwrap();
    for _ in 0..6 {
        run.step(&data).unwrap();
    }
    (run, data)
}

#[test]
fn chunked_evaluation_is_bit_identical_to_one_shot_for_any_chunk_sizes() {
    for (model, loss, classes) in [
        (ModelKind::Cnn8, LossKind::Ce, 2),
        (ModelKind::Cnn8, LossKind::DiceMonai, 2),
        (ModelKind::Cnn8, LossKind::CeL1, 3),
        (ModelKind::Logistic5, LossKind::LogDiceMonai, 3),
    ] {
        let (run, data) = trained(model, loss, classes, 37);
        let one_shot = run.evaluate(&data).unwrap();
        assert!(one_shot.loss.is_some() && one_shot.ece.is_some());
        let want = bits(&one_shot);
        // Fixed budgets, budgets that straddle the loss groups, and a changing budget as a
        // frame loop produces.
        let schedules: [&[usize]; 7] = [
            &[1],
            &[3],
            &[7],
            &[EVAL_CHUNK],
            &[EVAL_CHUNK + 1],
            &[usize::MAX],
            &[5, 1, 20, 2, 9, 0, 4],
        ];
        for schedule in schedules {
            let mut cursor = run.start_evaluation(&data).unwrap();
            assert_eq!((cursor.done(), cursor.total()), (0, 37));
            let mut calls = 0;
            let m = loop {
                let budget = schedule[calls % schedule.len()];
                let before = cursor.done();
                let out = cursor.evaluate_chunk(&data, budget).unwrap();
                assert!(cursor.done() - before <= budget);
                calls += 1;
                assert!(calls < 1000, "the evaluation must finish");
                if let Some(m) = out {
                    break m;
                }
            };
            assert_eq!(bits(&m), want, "{model:?} {loss:?} schedule {schedule:?}");
            assert_eq!(m, one_shot);
            assert!(cursor.is_finished());
            assert_eq!(cursor.evaluate_chunk(&data, 10).unwrap(), None);
        }
    }
}

#[test]
fn a_cursor_evaluates_the_weights_of_the_step_it_started_at() {
    let (mut run, data) = trained(ModelKind::Cnn8, LossKind::DiceMonai, 2, 20);
    let at_start = run.evaluate(&data).unwrap();
    let mut cursor = run.start_evaluation(&data).unwrap();
    assert_eq!(cursor.step(), run.steps_done());
    assert_eq!(cursor.evaluate_chunk(&data, 5).unwrap(), None);
    // The run trains on between two slices of the evaluation.
    for _ in 0..3 {
        run.step(&data).unwrap();
    }
    let m = cursor.evaluate_chunk(&data, usize::MAX).unwrap().unwrap();
    assert_eq!(bits(&m), bits(&at_start));
    assert_ne!(bits(&run.evaluate(&data).unwrap()), bits(&at_start));
}

#[test]
fn per_image_logits_equal_batched_logits() {
    // The cursor computes logits one image at a time; the loss groups need them equal to a
    // batched forward pass, bit for bit.
    let (run, data) = trained(ModelKind::Cnn8, LossKind::Ce, 3, 8);
    let imgs = data.test.images.view();
    let batched = run.net().logits(imgs);
    for i in 0..imgs.dim().0 {
        let one = run.net().logits(imgs.slice(s![i..i + 1, .., ..]));
        let a: Vec<u32> = one.iter().map(|v| v.to_bits()).collect();
        let b: Vec<u32> = batched
            .slice(s![i..i + 1, .., .., ..])
            .iter()
            .map(|v| v.to_bits())
            .collect();
        assert_eq!(a, b, "image {i}");
    }
}

#[test]
fn a_cursor_refuses_another_data_set_and_budget_zero_makes_no_progress() {
    let (run, data) = trained(ModelKind::Logistic5, LossKind::Ce, 2, 16);
    let other = Dataset::new(&DataConfig {
        train: 32,
        test: 12,
        ..DataConfig::default()
    })
    .unwrap();
    assert!(matches!(
        run.start_evaluation(
            &Dataset::new(&DataConfig {
                train: 8,
                test: 16,
                ..DataConfig::default()
            })
            .unwrap()
        ),
        Err(TrainError::DatasetMismatch { .. })
    ));
    let mut cursor = run.start_evaluation(&data).unwrap();
    let err = cursor.evaluate_chunk(&other, 4).unwrap_err();
    assert!(err.to_string().contains("16 held-out images"), "{err}");
    assert_eq!(cursor.evaluate_chunk(&data, 0).unwrap(), None);
    assert_eq!(cursor.done(), 0);
    assert!(cursor.evaluate_chunk(&data, 16).unwrap().is_some());
}

#[test]
fn a_step_split_into_slices_is_bit_identical_to_a_whole_step() {
    for (model, loss, classes) in [
        (ModelKind::Cnn8, LossKind::DiceMonai, 2),
        (ModelKind::Cnn8, LossKind::CeKl, 3),
        (ModelKind::Logistic5, LossKind::Ce, 2),
    ] {
        let data = Dataset::new(&DataConfig {
            train: 24,
            test: 8,
            classes,
            ..DataConfig::default()
        })
        .unwrap();
        let cfg = TrainConfig {
            model,
            loss,
            batch: 5,
            steps: 7,
            ..TrainConfig::default()
        };
        let mut whole = Trainer::new(cfg, &data).unwrap();
        let mut sliced = Trainer::new(cfg, &data).unwrap();
        let budgets = [1, 2, 0, 7, 3];
        let mut calls = 0;
        for _ in 0..cfg.steps {
            let want = whole.step(&data).unwrap();
            let got = loop {
                let r = sliced
                    .step_some(&data, budgets[calls % budgets.len()])
                    .unwrap();
                calls += 1;
                // The weights change only when a step finishes.
                if let Some(s) = r {
                    break s;
                }
                assert!(sliced.step_in_progress());
                assert_eq!(sliced.steps_done(), whole.steps_done() - 1);
            };
            assert!(!sliced.step_in_progress());
            assert_eq!(got, want);
            assert_eq!(sliced.last_loss(), whole.last_loss());
            let bits = |t: &Trainer| {
                t.net()
                    .params()
                    .iter()
                    .map(|p| p.to_bits())
                    .collect::<Vec<_>>()
            };
            assert_eq!(bits(&sliced), bits(&whole), "{model:?} {loss:?}");
        }
        assert_eq!(*sliced.status(), dicelens_core::train::Status::Done);
        assert_eq!(
            sliced.step_some(&data, 1).unwrap(),
            Some(dicelens_core::train::Status::Done)
        );
        assert_eq!(
            bits(&sliced.evaluate(&data).unwrap()),
            bits(&whole.evaluate(&data).unwrap())
        );
    }
}
