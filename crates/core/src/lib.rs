//! DiceLens core: segmentation losses, their gradients and decompositions, and the families
//! that turn the theory of Liu et al. (*Do we really need Dice?*, MedIA 2024) into curves.
//!
//! No web dependency: this crate builds for native and `wasm32-unknown-unknown` and is
//! tested natively. The math is specified in `shared/THEORY.md`.

#![deny(missing_docs)]

pub mod bench;
pub mod error;
pub mod family;
pub mod losses;
pub mod region;
pub mod special;
pub mod sweep;

pub use error::LossError;
pub use family::{Family, FamilyCurves, FamilyLoss, FamilyParams, FamilyPoint, Minimizer};
pub use losses::{
    evaluate, CeDecomposition, ClassStats, DiceDecomposition, Evaluator, LossKind, Losses, Mode,
    RegionConfig, MONAI_SMOOTH, PROPORTION_EPS,
};
pub use region::{region_curves, RegionCurves, RegionTerm};
