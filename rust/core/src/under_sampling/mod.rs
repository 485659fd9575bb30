//! Under-sampling: which rows to keep.

mod random;

pub use random::random_under_sample_indices;
