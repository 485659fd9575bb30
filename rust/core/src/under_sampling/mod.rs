//! Under-sampling: which rows to keep.

mod by_class;
mod capsules;
mod cleaning;
mod copies;
mod random;

pub use by_class::Anchors;
pub use cleaning::{edited_nearest_neighbours, tomek_links};
pub use random::random_under_sample_indices;

/// How Edited Nearest Neighbours judges a row from the classes of its `k` neighbours
/// (imbalanced-learn's `kind_sel`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnnRule {
    /// `kind_sel="all"`: keep a row only when all of its k neighbours are of its class.
    All,
    /// `kind_sel="mode"`: keep a row when the most frequent class among its neighbours (the
    /// lowest class code among equally frequent ones, as `scipy.stats.mode`) is its class.
    Mode,
}
