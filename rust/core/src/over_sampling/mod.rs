//! Over-sampling: new rows for the classes that need them.

mod interpolate;
mod nominal;
mod random;
mod smote;

pub use interpolate::{interpolate, Draw};
pub use nominal::{smoten, smotenc, smotenc_neighbors, Vdm};
pub use random::{random_over_sample_indices, smoothed_bootstrap};
pub use smote::{smote, smote_class_block, smote_class_neighbors, smote_full};
