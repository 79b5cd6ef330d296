//! One component per view of the paper's analysis.

pub mod ambiguous;
pub mod bias_map;
pub mod data;
pub mod decomposition;
pub mod family;
pub mod gradients;
pub mod landscape;
pub mod matching;
pub mod pooled;
pub mod references;
pub mod region_terms;
pub mod simplex;
pub mod temperature;
