//! Four `f32` lanes ([`F32x4`]) for the `f32` convolution kernels of [`super::conv`]:
//! WASM SIMD (`simd128`, enabled in `.cargo/config.toml`) in the browser, SSE2 natively on
//! x86-64 (part of its baseline), and plain arrays elsewhere.
//!
//! Only lane-wise multiply and add are offered, each rounded on its own exactly as the scalar
//! `a * b` and `a + b` (no fused multiply-add, no horizontal operation), so a kernel written
//! with them computes every lane bit for bit like the scalar loop it stands for, on every
//! platform. The kernels vectorise across independent outputs (neighbouring pixels of a row)
//! and never reorder a sum. Relying on the auto-vectoriser instead left the WASM build with
//! lane shuffles and spills in the hot loops (a cnn8 training step took ~18 ms).

/// Four `f32` lanes.
#[derive(Clone, Copy)]
pub(crate) struct F32x4(imp::Lanes);

impl F32x4 {
    /// `v` in every lane.
    #[inline(always)]
    pub(crate) fn splat(v: f32) -> Self {
        Self(imp::splat(v))
    }

    /// `s[0..4]` (panics if `s` is shorter).
    #[inline(always)]
    pub(crate) fn load(s: &[f32]) -> Self {
        Self(imp::load(s[..4].try_into().expect("4 lanes")))
    }

    /// Writes the lanes to `s[0..4]` (panics if `s` is shorter).
    #[inline(always)]
    pub(crate) fn store(self, s: &mut [f32]) {
        imp::store(self.0, (&mut s[..4]).try_into().expect("4 lanes"));
    }

    /// Lane-wise `self + o`.
    #[inline(always)]
    pub(crate) fn add(self, o: Self) -> Self {
        Self(imp::add(self.0, o.0))
    }

    /// Lane-wise `self * o`.
    #[inline(always)]
    pub(crate) fn mul(self, o: Self) -> Self {
        Self(imp::mul(self.0, o.0))
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use core::arch::wasm32::*;
    pub(super) type Lanes = v128;
    #[inline(always)]
    pub(super) fn splat(v: f32) -> Lanes {
        f32x4_splat(v)
    }
    #[inline(always)]
    pub(super) fn load(a: &[f32; 4]) -> Lanes {
        // SAFETY: `a` is 16 readable bytes, and `v128.load` accepts any alignment.
        unsafe { v128_load(a.as_ptr().cast()) }
    }
    #[inline(always)]
    pub(super) fn store(v: Lanes, a: &mut [f32; 4]) {
        // SAFETY: `a` is 16 writable bytes, and `v128.store` accepts any alignment.
        unsafe { v128_store(a.as_mut_ptr().cast(), v) }
    }
    #[inline(always)]
    pub(super) fn add(a: Lanes, b: Lanes) -> Lanes {
        f32x4_add(a, b)
    }
    #[inline(always)]
    pub(super) fn mul(a: Lanes, b: Lanes) -> Lanes {
        f32x4_mul(a, b)
    }
}

#[cfg(target_arch = "x86_64")]
mod imp {
    use core::arch::x86_64::*;
    pub(super) type Lanes = __m128;
    #[inline(always)]
    pub(super) fn splat(v: f32) -> Lanes {
        // SAFETY: SSE is part of the x86-64 baseline.
        unsafe { _mm_set1_ps(v) }
    }
    #[inline(always)]
    pub(super) fn load(a: &[f32; 4]) -> Lanes {
        // SAFETY: `a` is 16 readable bytes, and `movups` accepts any alignment.
        unsafe { _mm_loadu_ps(a.as_ptr()) }
    }
    #[inline(always)]
    pub(super) fn store(v: Lanes, a: &mut [f32; 4]) {
        // SAFETY: `a` is 16 writable bytes, and `movups` accepts any alignment.
        unsafe { _mm_storeu_ps(a.as_mut_ptr(), v) }
    }
    #[inline(always)]
    pub(super) fn add(a: Lanes, b: Lanes) -> Lanes {
        // SAFETY: SSE is part of the x86-64 baseline.
        unsafe { _mm_add_ps(a, b) }
    }
    #[inline(always)]
    pub(super) fn mul(a: Lanes, b: Lanes) -> Lanes {
        // SAFETY: SSE is part of the x86-64 baseline.
        unsafe { _mm_mul_ps(a, b) }
    }
}

#[cfg(not(any(
    all(target_arch = "wasm32", target_feature = "simd128"),
    target_arch = "x86_64"
)))]
mod imp {
    pub(super) type Lanes = [f32; 4];
    #[inline(always)]
    pub(super) fn splat(v: f32) -> Lanes {
        [v; 4]
    }
    #[inline(always)]
    pub(super) fn load(a: &[f32; 4]) -> Lanes {
        *a
    }
    #[inline(always)]
    pub(super) fn store(v: Lanes, a: &mut [f32; 4]) {
        *a = v;
    }
    #[inline(always)]
    pub(super) fn add(a: Lanes, b: Lanes) -> Lanes {
        std::array::from_fn(|j| a[j] + b[j])
    }
    #[inline(always)]
    pub(super) fn mul(a: Lanes, b: Lanes) -> Lanes {
        std::array::from_fn(|j| a[j] * b[j])
    }
}
