//! Under-sampling: which rows to keep.

mod class_tree;
mod cleaning;
mod random;

pub use class_tree::ClassTree;
pub use cleaning::{
    edited_nearest_neighbours, enn_keep_mask, knn_of_rows, knn_query, tomek_link_mask, tomek_links,
    KindSel,
};
pub use random::random_under_sample_indices;
