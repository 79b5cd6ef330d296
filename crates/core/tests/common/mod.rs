//! Helpers shared by the core's integration tests.
// Each test binary uses only some of these.
#![allow(dead_code)]

/// splitmix64 with Box-Muller normals: deterministic, no `rand` dependency.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    /// Standard normal.
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
    /// Uniform integer in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + ((self.uniform() * (hi - lo + 1) as f64) as usize).min(hi - lo)
    }
    /// Uniform integer in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.uniform() * n as f64) as usize).min(n - 1)
    }
}

/// A file the tests compare against: with `DICELENS_BLESS` set, `want` is written to it first
/// (regenerating it); returns its contents, and panics saying how to regenerate it if it cannot
/// be read.
pub fn blessed_file(path: &std::path::Path, want: &str) -> String {
    if std::env::var_os("DICELENS_BLESS").is_some() {
        std::fs::write(path, want)
            .unwrap_or_else(|e| panic!("{}: {e} (could not regenerate it)", path.display()));
    }
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (regenerate with DICELENS_BLESS=1)", path.display()))
}
