//! Under-sampling: which rows to keep.

mod by_class;
mod cleaning;
mod random;

pub use cleaning::{edited_nearest_neighbours, knn_of_rows, knn_query, tomek_links, KindSel};
pub use random::random_under_sample_indices;
