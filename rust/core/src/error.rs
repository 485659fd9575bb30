//! The one error type of the core; the bindings map it to Python exceptions in one place.

use thiserror::Error;

/// Everything that can go wrong in the core. Messages name the problem for the end user.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CoreError {
    /// A NaN or infinite value in the features.
    #[error("Input X contains {what} (first at row {row}, column {col}); remove or impute it before resampling")]
    NonFinite {
        what: &'static str,
        row: usize,
        col: usize,
    },
    /// A value so large that a squared Euclidean distance over the row could overflow the dtype:
    /// every distance computed would be infinite, and the neighbours arbitrary.
    #[error("Input X contains a value too large for Euclidean distances ({value:e} at row {row}, column {col}; with {d} features the largest safe magnitude is {limit:e}, as squared distances would overflow {dtype}): scale the features first")]
    TooLarge {
        value: f64,
        row: usize,
        col: usize,
        d: usize,
        limit: f64,
        dtype: &'static str,
    },
    /// A class has too few rows for the requested number of neighbours.
    #[error("Expected n_neighbors <= n_samples_fit, but n_neighbors = {needed}, n_samples_fit = {available}: class {class} has {available} rows, fewer than k_neighbors + 1 = {needed}")]
    TooFewSamples {
        class: u32,
        available: usize,
        needed: usize,
    },
    /// Shapes or indices that do not fit together.
    #[error("{0}")]
    Shape(String),
    /// Any other invalid argument.
    #[error("{0}")]
    InvalidArgument(String),
    /// The call was asked to stop before it finished (Ctrl-C; see `crate::cancel`). Its partial
    /// work has been dropped.
    #[error("interrupted")]
    Interrupted,
}

pub type Result<T> = std::result::Result<T, CoreError>;
