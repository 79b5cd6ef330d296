//! One component per view of the paper's analysis.

pub mod region_terms;
