//! Library half of the `dicelens` CLI: the `.npy` reader and writer (shared with the tests).

pub mod npy;
