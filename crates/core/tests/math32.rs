//! Accuracy of the vectorisable `f32` `exp` / `ln` / `ln_1p` of `math32` against `std` in `f64`
//! (correctly rounded to well below an `f32` ulp), over strided sweeps of every float in wide
//! ranges, and their special values.

use dicelens_core::math32::{exp_f32, exp_nonpos_f32, ln_1p_f32, ln_f32, ln_normal_f32};

/// Max relative error of `exp_f32` / `ln_f32` over their normal range: within one ulp
/// (2^-23 ≈ 1.19e-7 relative at most). Measured: 7.9e-8 for both.
const MAX_REL: f64 = 1.2e-7;

/// Every `stride`-th float with bits in `[lo, hi]` (both inclusive), as `f32`.
fn floats(lo: f32, hi: f32, stride: u32) -> impl Iterator<Item = f32> {
    let to_key = |x: f32| {
        let b = x.to_bits() as i64;
        if b & 0x8000_0000 != 0 {
            -(b & 0x7fff_ffff)
        } else {
            b
        }
    };
    let from_key = |k: i64| {
        if k < 0 {
            f32::from_bits((-k) as u32 | 0x8000_0000)
        } else {
            f32::from_bits(k as u32)
        }
    };
    let (a, b) = (to_key(lo), to_key(hi));
    (a..=b)
        .step_by(stride as usize)
        .chain(std::iter::once(b))
        .map(from_key)
}

fn rel(y: f32, r: f64) -> f64 {
    if r == 0.0 {
        (y as f64).abs()
    } else {
        ((y as f64 - r) / r).abs()
    }
}

#[test]
fn exp_relative_error_over_the_normal_range() {
    // ln(f32::MIN_POSITIVE) ≈ −87.336 to ln(f32::MAX) ≈ 88.722.
    let (mut worst, mut at, mut count) = (0.0f64, 0.0f32, 0usize);
    for x in floats(-87.33, 88.72, 211) {
        let e = rel(exp_f32(x), (x as f64).exp());
        if e > worst {
            (worst, at) = (e, x);
        }
        count += 1;
    }
    // Every float in [−1, 1], densely: the range the softmax of moderate logits lives in.
    for x in floats(-1.0, 1.0, 211) {
        let e = rel(exp_f32(x), (x as f64).exp());
        if e > worst {
            (worst, at) = (e, x);
        }
        count += 1;
    }
    println!("exp_f32: max relative error {worst:.3e} at x = {at} over {count} floats");
    assert!(count > 10_000_000, "{count}");
    assert!(worst <= MAX_REL, "max rel err {worst:e} at x = {at}");
}

#[test]
fn exp_subnormal_results_are_within_one_subnormal_ulp() {
    let tiny = f64::powi(2.0, -149);
    let mut worst = 0.0f64;
    for x in floats(-104.0, -87.34, 13) {
        let (y, r) = (exp_f32(x) as f64, (x as f64).exp());
        worst = worst.max((y - r).abs() / tiny);
        assert!(
            y >= 0.0 && y < f32::MIN_POSITIVE as f64 * 1.0001,
            "x = {x}, y = {y:e}"
        );
    }
    println!("exp_f32: max error in the subnormals {worst:.3} ulp");
    assert!(worst <= 1.0, "{worst}");
}

#[test]
fn exp_special_values() {
    assert_eq!(exp_f32(0.0), 1.0);
    assert_eq!(exp_f32(-0.0), 1.0);
    assert_eq!(exp_f32(f32::from_bits(1)), 1.0);
    assert_eq!(exp_f32(-f32::from_bits(1)), 1.0);
    assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
    assert_eq!(exp_f32(f32::INFINITY), f32::INFINITY);
    assert!(exp_f32(f32::NAN).is_nan());
    for x in [-104.0, -200.0, -1e10, f32::MIN] {
        assert_eq!(exp_f32(x), 0.0, "x = {x}");
    }
    for x in [88.73, 89.0, 100.0, 1e10, f32::MAX] {
        assert_eq!(exp_f32(x), f32::INFINITY, "x = {x}");
    }
    // Just below the overflow threshold: finite and accurate.
    let x = 88.722f32;
    let y = exp_f32(x);
    assert!(y.is_finite() && rel(y, (x as f64).exp()) <= MAX_REL, "{y}");
    // exp(−87.3) is the smallest normal range, exp(−100) a subnormal, both positive.
    assert!(exp_f32(-87.3) >= f32::MIN_POSITIVE);
    assert!(exp_f32(-100.0) > 0.0 && exp_f32(-100.0) < f32::MIN_POSITIVE);
}

#[test]
fn ln_relative_error_over_every_positive_float() {
    let (mut worst, mut at, mut count) = (0.0f64, 0.0f32, 0usize);
    // Normal and subnormal inputs up to f32::MAX.
    for x in floats(f32::from_bits(1), f32::MAX, 251) {
        let e = rel(ln_f32(x), (x as f64).ln());
        if e > worst {
            (worst, at) = (e, x);
        }
        count += 1;
    }
    // Densely around 1, where ln is small: the relative error must stay small there too.
    for x in floats(0.5, 2.0, 17) {
        let e = rel(ln_f32(x), (x as f64).ln());
        if e > worst {
            (worst, at) = (e, x);
        }
        count += 1;
    }
    println!("ln_f32: max relative error {worst:.3e} at x = {at:e} over {count} floats");
    assert!(count > 5_000_000, "{count}");
    assert!(worst <= MAX_REL, "max rel err {worst:e} at x = {at:e}");
}

#[test]
fn ln_special_values() {
    assert_eq!(ln_f32(1.0), 0.0);
    assert_eq!(ln_f32(0.0), f32::NEG_INFINITY);
    assert_eq!(ln_f32(-0.0), f32::NEG_INFINITY);
    assert_eq!(ln_f32(f32::INFINITY), f32::INFINITY);
    for x in [-1.0, -f32::from_bits(1), f32::NEG_INFINITY, f32::NAN] {
        assert!(ln_f32(x).is_nan(), "x = {x}");
    }
    // The smallest subnormal: ln(2^-149) = −149 ln 2.
    let y = ln_f32(f32::from_bits(1));
    assert!(rel(y, -149.0 * std::f64::consts::LN_2) <= MAX_REL, "{y}");
    assert!(rel(ln_f32(f32::MAX), (f32::MAX as f64).ln()) <= MAX_REL);
}

#[test]
fn ln_1p_relative_error() {
    let (mut worst, mut at) = (0.0f64, 0.0f32);
    for x in floats(f32::from_bits(1), f32::MAX, 251).chain(floats(0.0, 2.0, 29)) {
        let e = rel(ln_1p_f32(x), (x as f64).ln_1p());
        if e > worst {
            (worst, at) = (e, x);
        }
    }
    println!("ln_1p_f32: max relative error {worst:.3e} at x = {at:e}");
    // ln(u)·x/(u − 1) adds two roundings to ln's error (measured 1.75e-7).
    assert!(worst <= 2.5e-7, "max rel err {worst:e} at x = {at:e}");
    assert_eq!(ln_1p_f32(0.0), 0.0);
    assert_eq!(ln_1p_f32(f32::from_bits(1)), f32::from_bits(1));
    assert_eq!(ln_1p_f32(f32::INFINITY), f32::INFINITY);
    assert!(ln_1p_f32(f32::NAN).is_nan());
}

#[test]
fn exp_nonpos_matches_exp_over_the_normal_range_and_flushes_below() {
    let mut worst = 0.0f64;
    for x in floats(-87.336, 0.0, 101) {
        let y = exp_nonpos_f32(x);
        worst = worst.max(rel(y, (x as f64).exp()));
        assert_eq!(y, exp_f32(x), "x = {x}: the same polynomial and scaling");
    }
    println!("exp_nonpos_f32: max relative error {worst:.3e}");
    assert!(worst <= MAX_REL, "{worst:e}");
    for x in [-87.34, -87.5, -100.0, -1e30, f32::MIN, f32::NEG_INFINITY] {
        assert_eq!(exp_nonpos_f32(x), 0.0, "x = {x}");
    }
    assert_eq!(exp_nonpos_f32(0.0), 1.0);
    assert_eq!(exp_nonpos_f32(-0.0), 1.0);
    assert!(exp_nonpos_f32(f32::NAN).is_nan());
}

/// `ln_normal_f32` (the softmax's `ln Σ e`) is `ln_f32` without its special cases: the same
/// bits on every positive normal finite float (strided), densely on `[1, 16]`, its use.
#[test]
fn ln_normal_is_ln_on_the_positive_normal_floats() {
    let mut count = 0usize;
    for x in floats(f32::MIN_POSITIVE, f32::MAX, 61).chain(floats(1.0, 16.0, 7)) {
        assert_eq!(
            ln_normal_f32(x).to_bits(),
            ln_f32(x).to_bits(),
            "x = {x:e}: {} vs {}",
            ln_normal_f32(x),
            ln_f32(x)
        );
        count += 1;
    }
    assert!(count > 20_000_000, "{count}");
}
