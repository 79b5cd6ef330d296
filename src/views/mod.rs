//! One component per view of the paper's analysis.

pub mod ambiguous;
pub mod bias_map;
pub mod decomposition;
pub mod family;
pub mod landscape;
pub mod pooled;
pub mod region_terms;
pub mod simplex;
pub mod temperature;
pub mod trainer;
