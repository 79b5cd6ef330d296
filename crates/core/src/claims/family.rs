//! Claims about the logit-shift family, the bias map, the region terms and the landscapes.
