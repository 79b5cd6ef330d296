//! One component per view of the paper's analysis.

pub mod bias_map;
pub mod family;
pub mod region_terms;
