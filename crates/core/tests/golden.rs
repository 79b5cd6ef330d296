//! Golden values from an independent reference implementation.
//!
//! `tests/fixtures/golden.json` is produced by `tools/make_fixtures.py` from PyTorch
//! (`F.cross_entropy`, `F.binary_cross_entropy_with_logits`, autograd for every gradient),
//! MONAI (`DiceLoss`, `DiceCELoss`) and the SegLossBias L1/KL region terms re-implemented in
//! torch, all in float64. Regenerate with
//! `pip install torch monai numpy; python3 tools/make_fixtures.py`.
//!
//! Every loss value, per-class Dice, `u`, `ŝ` and every gradient element of
//! `dicelens_core::Evaluator` must agree to 1e-6 relative (1e-12 absolute floor).

use dicelens_core::{Evaluator, LossKind, Losses, RegionConfig};
use ndarray::{Array3, Array4};
use serde_json::Value;

const REL: f64 = 1e-6;
const ABS: f64 = 1e-12;

/// The fixture's key for each loss (independent of the core's own `LossKind::key`).
const NAMES: [(LossKind, &str); 10] = [
    (LossKind::Ce, "ce"),
    (LossKind::Dice, "dice"),
    (LossKind::DiceMonai, "dice_monai"),
    (LossKind::LogDice, "log_dice"),
    (LossKind::LogDiceMonai, "log_dice_monai"),
    (LossKind::DiceCeMonai, "dice_ce_monai"),
    (LossKind::L1, "l1"),
    (LossKind::Kl, "kl"),
    (LossKind::CeL1, "ce_l1"),
    (LossKind::CeKl, "ce_kl"),
];

fn fixture() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/golden.json");
    let text = std::fs::read_to_string(path).expect("read golden.json");
    serde_json::from_str(&text).expect("parse golden.json")
}

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= REL * actual.abs().max(expected.abs()) + ABS
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn matrix(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().expect("array").iter().map(floats).collect()
}

/// The field of `Losses` for a fixture key, spelled out (not via `Losses::get`).
fn field(l: &Losses, name: &str) -> Option<f64> {
    match name {
        "ce" => Some(l.ce),
        "dice" => Some(l.dice),
        "dice_monai" => Some(l.dice_monai),
        "log_dice" => l.log_dice,
        "log_dice_monai" => Some(l.log_dice_monai),
        "dice_ce_monai" => Some(l.dice_ce_monai),
        "l1" => Some(l.l1),
        "kl" => Some(l.kl),
        "ce_l1" => Some(l.ce_l1),
        "ce_kl" => Some(l.ce_kl),
        _ => panic!("unknown loss {name}"),
    }
}

struct Case {
    name: String,
    eval: Evaluator,
    json: Value,
}

fn cases() -> Vec<Case> {
    let fx = fixture();
    let cases = fx["cases"].as_array().expect("cases");
    assert!(cases.len() >= 10, "fixture has too few cases");
    cases
        .iter()
        .map(|c| {
            let name = c["name"].as_str().expect("name").to_string();
            let shape: Vec<usize> = c["shape"]
                .as_array()
                .expect("shape")
                .iter()
                .map(|v| v.as_u64().expect("dim") as usize)
                .collect();
            let (b, k, h, w) = (shape[0], shape[1], shape[2], shape[3]);
            let logits = Array4::from_shape_vec((b, k, h, w), floats(&c["logits"])).unwrap();
            let labels: Vec<i64> = c["labels"]
                .as_array()
                .expect("labels")
                .iter()
                .map(|v| v.as_i64().expect("label"))
                .collect();
            let labels = Array3::from_shape_vec((b, h, w), labels).unwrap();
            let cfg = RegionConfig {
                lambda: c["lambda"].as_f64().unwrap(),
                temp: c["temp"].as_f64().unwrap(),
            };
            let eval = Evaluator::new(logits.view(), labels.view(), cfg)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            Case {
                name,
                eval,
                json: c.clone(),
            }
        })
        .collect()
}

#[test]
fn loss_values_match_pytorch_and_monai() {
    for case in cases() {
        let l = case.eval.losses();
        for (_, name) in NAMES {
            let expected = case.json["losses"][name].as_f64();
            let actual = field(&l, name);
            match (actual, expected) {
                (Some(a), Some(e)) => assert!(
                    close(a, e),
                    "{}: {name} = {a:.17e}, reference {e:.17e}",
                    case.name
                ),
                (None, None) => {}
                (a, e) => panic!("{}: {name} is {a:?}, reference {e:?}", case.name),
            }
        }
        // `Losses::get` agrees with the fields for every kind.
        for (kind, name) in NAMES {
            assert_eq!(l.get(kind), field(&l, name), "{}: get({kind:?})", case.name);
        }
        assert_eq!(l.lambda, case.json["lambda"].as_f64().unwrap());
        assert_eq!(l.temp, case.json["temp"].as_f64().unwrap());
    }
}

#[test]
fn per_image_dice_u_and_s_hat_match() {
    for case in cases() {
        let l = case.eval.losses();
        for (key, actual) in [
            ("dice_per_class", &l.dice_per_class),
            ("u", &l.u),
            ("s_hat", &l.s_hat),
        ] {
            let expected = matrix(&case.json[key]);
            assert_eq!(actual.len(), expected.len(), "{}: {key} rows", case.name);
            for (b, (ra, re)) in actual.iter().zip(&expected).enumerate() {
                assert_eq!(ra.len(), re.len(), "{}: {key}[{b}] length", case.name);
                for (k, (&a, &e)) in ra.iter().zip(re).enumerate() {
                    assert!(
                        close(a, e),
                        "{}: {key}[{b}][{k}] = {a:.17e}, reference {e:.17e}",
                        case.name
                    );
                }
            }
        }
    }
}

#[test]
fn gradients_match_autograd() {
    let mut checked = 0;
    for case in cases() {
        for (kind, name) in NAMES {
            let expected = &case.json["grads"][name];
            let actual = case.eval.gradient(kind);
            if expected.is_null() {
                assert!(
                    actual.is_err(),
                    "{}: gradient({kind:?}) should be Err where the reference is null",
                    case.name
                );
                continue;
            }
            let g = actual.unwrap_or_else(|e| panic!("{}: gradient({kind:?}): {e}", case.name));
            assert_eq!(
                g.dim(),
                case.eval.dim(),
                "{}: {name} gradient shape",
                case.name
            );
            let expected = floats(expected);
            let flat: Vec<f64> = g.iter().copied().collect(); // (B, K, H, W) order
            assert_eq!(
                flat.len(),
                expected.len(),
                "{}: {name} gradient size",
                case.name
            );
            for (i, (&a, &e)) in flat.iter().zip(&expected).enumerate() {
                assert!(
                    close(a, e),
                    "{}: d{name}/dz[{i}] = {a:.17e}, reference {e:.17e}",
                    case.name
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 120, "only {checked} gradients compared");
}

#[test]
fn fixture_covers_the_edge_cases() {
    let all = cases();
    // Null plain log-Dice appears in both modes (absent class, empty foreground).
    let nulls: Vec<&str> = all
        .iter()
        .filter(|c| c.json["losses"]["log_dice"].is_null())
        .map(|c| c.name.as_str())
        .collect();
    assert!(nulls.iter().any(|n| n.starts_with("mc_")), "{nulls:?}");
    assert!(nulls.iter().any(|n| n.starts_with("bin_")), "{nulls:?}");
    // Both modes, both temperatures and both weights.
    for t in [1.0, 10.0] {
        for lam in [0.1, 1.0] {
            assert!(all
                .iter()
                .any(|c| c.json["temp"].as_f64() == Some(t)
                    && c.json["lambda"].as_f64() == Some(lam)));
        }
    }
    assert!(all.iter().any(|c| c.eval.dim().1 == 1));
    assert!(all.iter().any(|c| c.eval.dim().1 >= 3));
}
