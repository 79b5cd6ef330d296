//! Reusable widgets: the plot canvas, proportion sliders, timing hooks.

pub mod badge;
pub mod deferred;
pub mod export;
pub mod paint;
pub mod perf;
pub mod plot_canvas;
pub mod share;
pub mod slider;
