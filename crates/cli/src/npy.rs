//! The `.npy` reader and writer now live in the core (`dicelens_core::npy`), so the app can read
//! the files a user drops in; this re-export keeps the CLI's paths working.

pub use dicelens_core::npy::*;
