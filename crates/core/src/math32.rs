//! `f32` `exp`, `ln` and `ln(1 + x)` written so that loops over slices vectorise (4 lanes of
//! SSE2 natively, WASM `simd128` in the browser: `.cargo/config.toml` enables it).
//!
//! Each function is branch-free straight-line code: the special cases are selects, the integer
//! part of the range reduction comes from the bits of a float (no float→int conversion), and
//! `2^n` is built from bits. A loop such as `for v in s { *v = exp_f32(*v) }` therefore compiles
//! to lane-wise code; the loss kernel of [`crate::losses32`] runs its softmax and log-sum-exp
//! through them. No fused multiply-add is used, so every platform computes the same bits.
//!
//! Accuracy (`tests/math32.rs` sweeps strided floats of their whole ranges against `std` in
//! `f64`): [`exp_f32`] and [`ln_f32`] are within one ulp, relative error ≤ 1.2e-7 asserted
//! (7.9e-8 measured for both), also for subnormal inputs of [`ln_f32`]; subnormal results of
//! [`exp_f32`] are within one subnormal ulp (0.75 measured); [`ln_1p_f32`] ≤ 2.5e-7
//! (1.75e-7 measured).
//! Polynomials: Cephes `expf` / `logf` (S. L. Moshier), the constants below.

/// `e^x` in `f32`: `+∞` above `ln(f32::MAX)`, subnormal down to `−103.97`, then `0`;
/// `exp(−∞) = 0`, `exp(+∞) = +∞`, `exp(NaN) = NaN`.
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // ln 2 = LN2_HI + LN2_LO, LN2_HI with 9 significant bits so that n·LN2_HI is exact.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5·2^23: adding it rounds to an integer held in the low mantissa bits.
    const MAGIC: f32 = 12_582_912.0;
    // Clamped so that n stays in [−150, 145]; NaN is restored at the end.
    let xc = x.clamp(-104.0, 100.0);
    let t = xc * LOG2E + MAGIC;
    let n = t - MAGIC;
    let r = (xc - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.987_569_1e-4;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    // Cephes' 5.0000001201e-1, which is 0.5 in f32.
    p = p * r + 0.5;
    let p = (p * (r * r) + r) + 1.0;
    // n from the low mantissa bits of t (two's complement), split into two halves so that
    // each 2^half is a normal float: the product rounds once, also into the subnormals.
    let ni = (t.to_bits() as i32).wrapping_sub(0x4B40_0000);
    let n1 = ni >> 1;
    let n2 = ni - n1;
    let s1 = f32::from_bits(((n1 + 127) as u32) << 23);
    let s2 = f32::from_bits(((n2 + 127) as u32) << 23);
    let y = (p * s1) * s2;
    if x.is_nan() {
        x
    } else {
        y
    }
}

/// `e^x` for `x ≤ 0` (softmax arguments `z − max z`), a cheaper [`exp_f32`]: the same
/// polynomial and accuracy down to `ln(f32::MIN_POSITIVE) ≈ −87.34`, and `0` below (no
/// subnormal results: a probability under `1.2e-38` is 0); `exp(−∞) = 0`, `NaN` stays `NaN`.
/// Callers pass `x ≤ 0`; above 88.7 the result is meaningless (no overflow to `+∞`).
#[inline(always)]
pub fn exp_nonpos_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    const MAGIC: f32 = 12_582_912.0;
    // ln(f32::MIN_POSITIVE): below it the result would be subnormal.
    const LOW: f32 = -87.336_54;
    let xc = if x < LOW { LOW } else { x };
    let t = xc * LOG2E + MAGIC;
    let n = t - MAGIC;
    let r = (xc - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.987_569_1e-4;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    // Cephes' 5.0000001201e-1, which is 0.5 in f32.
    p = p * r + 0.5;
    let p = (p * (r * r) + r) + 1.0;
    // n ∈ [−126, 0]: 2^n is a normal float.
    let ni = (t.to_bits() as i32).wrapping_sub(0x4B40_0000);
    let y = p * f32::from_bits(((ni + 127) as u32) << 23);
    if x < LOW {
        0.0
    } else {
        y
    }
}

/// `ln x` in `f32`: `ln 0 = −∞`, `ln(+∞) = +∞`, `NaN` for `x < 0` and `NaN`; subnormal `x`
/// are exact inputs (scaled by `2^23` first).
#[inline(always)]
pub fn ln_f32(x: f32) -> f32 {
    let sub = x < f32::MIN_POSITIVE;
    let xs = if sub { x * 8_388_608.0 } else { x };
    let bits = xs.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 126;
    if sub {
        e -= 23;
    }
    let r = ln_parts(e, bits);
    if x.is_nan() || x < 0.0 {
        f32::NAN
    } else if x == 0.0 {
        f32::NEG_INFINITY
    } else if x == f32::INFINITY {
        x
    } else {
        r
    }
}

/// `ln x` for a positive, normal, finite `x` (a softmax's `Σ_k e^{z_k − max z} ∈ [1, K]`):
/// [`ln_f32`] without its special cases, the same bits there. Other inputs give meaningless
/// values (`NaN` stays `NaN` only by luck: callers refuse such input).
#[inline(always)]
pub fn ln_normal_f32(x: f32) -> f32 {
    let bits = x.to_bits();
    ln_parts(((bits >> 23) & 0xff) as i32 - 126, bits)
}

/// Cephes' `logf` from `x`'s exponent `e` (with `x = m · 2^e`, `m ∈ [0.5, 1)`) and its bits
/// (for the mantissa): the one polynomial of [`ln_f32`] and [`ln_normal_f32`].
#[inline(always)]
fn ln_parts(e: i32, bits: u32) -> f32 {
    const SQRT_HALF: f32 = std::f32::consts::FRAC_1_SQRT_2;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // m ∈ [0.5, 1); moved to [√½, √2) below.
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f00_0000);
    let low = m < SQRT_HALF;
    let f = if low { (m + m) - 1.0 } else { m - 1.0 };
    let e = if low { e - 1 } else { e } as f32;
    let z = f * f;
    let mut y = 7.037_683_6e-2;
    y = y * f - 1.151_461e-1;
    y = y * f + 1.167_699_9e-1;
    y = y * f - 1.242_014_1e-1;
    y = y * f + 1.424_932_3e-1;
    y = y * f - 1.666_805_8e-1;
    y = y * f + 2.000_071_5e-1;
    y = y * f - 2.499_999_4e-1;
    // Cephes' 3.3333331174e-1, rounded to f32.
    y = y * f + 0.333_333_3;
    let mut y = y * f * z;
    y += e * LN2_LO;
    y -= 0.5 * z;
    (f + y) + e * LN2_HI
}

/// `ln(1 + x)` for `x ≥ 0` (accurate also where `1 + x` rounds to 1), via
/// `ln(u) · x / (u − 1)` with `u = 1 + x`; `+∞` at `+∞`, `NaN` at `NaN`.
#[inline(always)]
pub fn ln_1p_f32(x: f32) -> f32 {
    let u = 1.0 + x;
    let d = u - 1.0;
    let l = ln_f32(u);
    if d == 0.0 {
        x
    } else if u == f32::INFINITY {
        u
    } else {
        l * (x / d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_points() {
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(ln_f32(1.0), 0.0);
        assert_eq!(ln_1p_f32(0.0), 0.0);
    }
}
