//! DiceLens core: segmentation losses, their gradients and decompositions, and the families
//! that turn the theory of Liu et al. (*Do we really need Dice?*, MedIA 2024) into curves.
//!
//! No web dependency: this crate builds for native and `wasm32-unknown-unknown` and is
//! tested natively. The math is specified in `docs/THEORY.md`.

#![deny(missing_docs)]

pub mod ambiguous;
pub mod audit;
pub mod bench;
pub mod biasmap;
pub mod claims;
pub mod conventions;
pub mod error;
pub mod family;
pub mod gradients;
pub mod landscape;
pub mod losses;
pub mod losses32;
pub mod matching;
pub mod math32;
pub mod npy;
pub mod optim;
pub mod pooled;
pub mod pytorch;
pub mod references;
pub mod region;
pub mod simplex;
pub mod special;
pub mod sweep;
pub mod temperature;
pub mod train;

pub use ambiguous::{ambiguous_view, Ambiguous, AmbiguousLoss, AmbiguousOptimum, AmbiguousView};
pub use biasmap::{bias_map, log_grid, ClassParts, FamilyDecomposition};
pub use conventions::{dice_loss, dice_loss_from, training_loss_from, Convention};
pub use error::LossError;
pub use family::{Family, FamilyCurves, FamilyLoss, FamilyParams, FamilyPoint, Minimizer};
pub use gradients::{gradient_curves, pixel_gradient, pixel_gradients, GradCurves, GradParams};
pub use landscape::{Landscape, LandscapeParams, LandscapePoint};
pub use losses::{
    evaluate, CeDecomposition, ClassStats, DiceDecomposition, Evaluator, LossKind, Losses, Mode,
    RegionConfig, MONAI_SMOOTH, PROPORTION_EPS,
};
pub use losses32::{losses_and_gradients_f32, Fused32};
pub use matching::{matching_view, ClassMatching, MatchingView};
pub use region::{region_curves, RegionCurves, RegionTerm};
pub use simplex::{
    bary_to_xy, contours, heat_grid, project_to_simplex, simplex_point, simplex_view, xy_to_bary,
    Contour, HeatGrid, SimplexTerm, SimplexView,
};
