//! Numerically stable scalar primitives shared by the losses and the families.

/// `log(1 + e^x)` without overflow for large `x` or loss of precision for very negative `x`.
#[inline]
pub fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// `log σ(x) = −softplus(−x)`; finite for every finite `x` (about `x` for `x ≪ 0`).
#[inline]
pub fn log_sigmoid(x: f64) -> f64 {
    -softplus(-x)
}

/// The logistic function `σ(x) = 1 / (1 + e^{−x})`, evaluated on the side that cannot overflow.
#[inline]
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `x · log(x / y)` with the convention `0 · log 0 = 0` (the limit), used by every KL term.
#[inline]
pub fn xlogx_over_y(x: f64, y: f64) -> f64 {
    if x <= 0.0 {
        0.0
    } else {
        x * (x / y).ln()
    }
}

/// Quantile function of the standard normal distribution, `Φ⁻¹(p)` for `p ∈ (0, 1)`.
///
/// P. J. Acklam's rational approximation (relative error below 1.2e-9), which is far
/// below the quadrature error of the families that use it.
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const P_LOW: f64 = 0.02425;
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    if p < P_LOW {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - P_LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -normal_quantile(1.0 - p)
    }
}

/// `M` mid-point quantiles of the standard normal, `Φ⁻¹((j + ½)/M)`: an equal-weight
/// quadrature for expectations over `ε ~ N(0, 1)`.
pub fn normal_midpoints(m: usize) -> Vec<f64> {
    (0..m)
        .map(|j| normal_quantile((j as f64 + 0.5) / m as f64))
        .collect()
}

/// The complementary error function `erfc(x) = 1 − erf(x)`, to about 1e-14 relative.
///
/// For `|x| < 2.5` the series `erf(x) = (2/√π) e^{−x²} Σ_n (2x²)^n x / (1·3···(2n+1))`
/// (positive terms, no cancellation); beyond, the continued fraction
/// `erfc(x) = e^{−x²}/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + …))))` evaluated backwards;
/// `erfc(−x) = 2 − erfc(x)`.
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    let frac_2_sqrt_pi = std::f64::consts::FRAC_2_SQRT_PI;
    if x < 2.5 {
        let x2 = x * x;
        let mut term = x;
        let mut sum = x;
        let mut n = 0.0;
        while term > 1e-17 * sum {
            n += 1.0;
            term *= 2.0 * x2 / (2.0 * n + 1.0);
            sum += term;
        }
        1.0 - frac_2_sqrt_pi * (-x2).exp() * sum
    } else if x > 27.3 {
        0.0
    } else {
        let mut t = x;
        for k in (1..=80).rev() {
            t = x + 0.5 * k as f64 / t;
        }
        0.5 * frac_2_sqrt_pi * (-x * x).exp() / t
    }
}

/// The standard normal distribution function `Φ(x) = ½ erfc(−x/√2)`.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x * std::f64::consts::FRAC_1_SQRT_2)
}

/// The 1-D minimisers live in [`crate::optim`]; re-exported here for their callers.
/// `E[σ(T·z)]` for `z ~ N(m, σ²)`, accurate to about 1e-5 relative for any `T·σ` (the family's
/// `M`-point quadrature is not: at `T = 10` and `M = 64` its step-like integrand gave optima
/// that jumped by a few percent between neighbouring `T`).
///
/// With `a = Tσ` and the step at `ε₀ = −m/σ`, `σ(a(ε − ε₀)) = 1{ε > ε₀} + r(ε)`, so
/// `E = Φ(m/σ) + (1/a) ∫₀^∞ σ(−s) [φ(ε₀ − s/a) − φ(ε₀ + s/a)] ds`; the remaining integrand
/// is smooth and decays like `e^{−s}`, and Simpson's rule on 128 panels resolves it
/// (to about 1e-5 relative; its nodes move with the step, so the result is smooth in `m`).
pub fn mean_sigmoid_normal(m: f64, sigma: f64, temp: f64) -> f64 {
    if sigma == 0.0 {
        return sigmoid(temp * m);
    }
    let a = temp * sigma;
    let e0 = -m / sigma;
    let base = normal_cdf(m / sigma);
    // Past s = 40 σ(−s) < 5e-18; past s/a = |ε₀| + 12 both densities are below 1e-31.
    let upper = 40f64.min(a * (e0.abs() + 12.0));
    if upper.is_nan() || upper <= 0.0 {
        return base;
    }
    let n = 128;
    let h = upper / n as f64;
    let phi = |e: f64| (-0.5 * e * e).exp() * FRAC_1_SQRT_2PI;
    let f = |s: f64| sigmoid(-s) * (phi(e0 - s / a) - phi(e0 + s / a));
    let mut sum = f(0.0) + f(upper);
    for k in 1..n {
        sum += if k % 2 == 1 { 4.0 } else { 2.0 } * f(h * k as f64);
    }
    (base + sum * h / 3.0 / a).clamp(0.0, 1.0)
}

/// `1/√(2π)`.
pub(crate) const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

pub use crate::optim::{brent, golden};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_cdf_matches_known_values() {
        // Reference values: scipy.stats.norm.cdf / scipy.special.erfc.
        let cases = [
            (0.0, 0.5),
            (1.0, 0.841_344_746_068_542_9),
            (-1.959_963_984_540_054, 0.025),
            (3.0, 0.998_650_101_968_369_9),
            (-3.0, 0.001_349_898_031_630_095_7),
            (-5.0, 2.866_515_718_791_946e-7),
            (-8.0, 6.220_960_574_271_819e-16),
            (0.5, 0.691_462_461_274_013_1),
            (-2.2, 0.013_903_447_513_498_61),
            (-3.6, 1.591_085_901_575_34e-4),
        ];
        for (x, want) in cases {
            let got = normal_cdf(x);
            assert!(
                ((got - want) / want).abs() < 1e-12,
                "Φ({x}) = {got}, want {want}"
            );
        }
        assert!((erfc(1.0) - 0.157_299_207_050_285_13).abs() < 1e-15);
        assert!((erfc(3.0) / 2.209_049_699_858_544e-5 - 1.0).abs() < 1e-12);
        assert_eq!(normal_cdf(-40.0), 0.0);
        assert_eq!(normal_cdf(40.0), 1.0);
        // Round trip with the quantile (Acklam's, 1.2e-9 relative).
        for p in [0.001, 0.02, 0.3, 0.7, 0.99] {
            assert!((normal_cdf(normal_quantile(p)) - p).abs() < 1e-8 * p.max(1e-3));
        }
    }

    #[test]
    fn quantile_matches_known_values() {
        // Reference values: scipy.stats.norm.ppf.
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-8);
        assert!((normal_quantile(0.5)).abs() < 1e-12);
        assert!((normal_quantile(0.001) + 3.090_232_306_167_813_5).abs() < 1e-8);
        assert!((normal_quantile(0.8) - 0.841_621_233_572_914_2).abs() < 1e-8);
    }

    #[test]
    fn stable_at_extremes() {
        assert_eq!(sigmoid(1e4), 1.0);
        assert_eq!(sigmoid(-1e4), 0.0);
        assert!((log_sigmoid(-1e4) + 1e4).abs() < 1e-9);
        assert_eq!(log_sigmoid(1e4), 0.0);
        assert!((softplus(0.0) - 2f64.ln()).abs() < 1e-15);
        assert_eq!(xlogx_over_y(0.0, 0.0), 0.0);
    }

    #[test]
    fn midpoints_are_symmetric_and_centered() {
        let e = normal_midpoints(64);
        let mean: f64 = e.iter().sum::<f64>() / 64.0;
        assert!(mean.abs() < 1e-12);
        assert!((e[0] + e[63]).abs() < 1e-9);
    }
}

/// `e^x`, branch-free so that loops over slices vectorise (glibc's `exp` is a call per
/// element). Range reduction `x = k ln 2 + r`, `|r| ≤ ln 2 / 2`, then a degree-13 Taylor
/// polynomial (truncation error below 2e-17 relative) and `2^k` built in the exponent bits.
/// Relative error about 2 ulp for `x ∈ [−708, 709]`; `0` below (as `exp` underflows), `+∞` above.
#[inline(always)]
pub fn exp_fast(x: f64) -> f64 {
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    // 1.5·2^52: adding it rounds to an integer held in the low mantissa bits.
    const MAGIC: f64 = 6_755_399_441_055_744.0;
    let xc = x.clamp(-708.0, 709.0);
    let t = xc * LOG2E + MAGIC;
    let k = t - MAGIC;
    let r = (xc - k * LN2_HI) - k * LN2_LO;
    // Horner form of Σ_{j≤13} r^j / j!.
    let mut p = 1.0 / 6_227_020_800.0;
    p = p * r + 1.0 / 479_001_600.0;
    p = p * r + 1.0 / 39_916_800.0;
    p = p * r + 1.0 / 3_628_800.0;
    p = p * r + 1.0 / 362_880.0;
    p = p * r + 1.0 / 40_320.0;
    p = p * r + 1.0 / 5_040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    // (k + 1023) << 52 as the bits of 2^k: the low bits of t hold k (two's complement).
    let scale = f64::from_bits((t.to_bits() << 52).wrapping_add(1023u64 << 52));
    let y = p * scale;
    if x < -708.0 {
        0.0
    } else if x > 709.0 {
        f64::INFINITY
    } else {
        y
    }
}

#[cfg(test)]
mod exp_tests {
    use super::exp_fast;

    #[test]
    fn exp_fast_matches_std() {
        let mut worst = 0.0f64;
        let mut x = -708.0;
        while x < 709.0 {
            let (a, b) = (exp_fast(x), x.exp());
            worst = worst.max(((a - b) / b).abs());
            x += 0.012_345;
        }
        for &x in &[
            0.0,
            1e-300,
            -1e-300,
            0.5,
            -0.5,
            1.0,
            -1.0,
            0.346_573_590_279_972_6,
        ] {
            let (a, b) = (exp_fast(x), f64::exp(x));
            worst = worst.max(((a - b) / b).abs());
        }
        assert!(worst < 1e-15, "worst relative error {worst}");
        assert_eq!(exp_fast(-1e4), 0.0);
        assert_eq!(exp_fast(-709.5), 0.0);
        assert_eq!(exp_fast(1e4), f64::INFINITY);
        assert!(exp_fast(f64::NAN).is_nan() || exp_fast(f64::NAN) == 0.0);
    }
}
