//! Over-sampling: new rows for the classes that need them.

mod interpolate;
mod nominal;
mod random;
mod smote;

pub use interpolate::{interpolate, Draw};
pub use nominal::{smoten, smotenc, smotenc_neighbors, Vdm};
pub use random::{random_over_sample_indices, smoothed_bootstrap};
pub use smote::{smote, smote_class_neighbors};

/// Row indices of each class, in row order: `rows[c]` lists the rows whose code is `c`.
pub fn class_rows(codes: &[u32], n_classes: usize) -> crate::Result<Vec<Vec<usize>>> {
    let mut counts = vec![0usize; n_classes];
    for &c in codes {
        let c = c as usize;
        if c >= n_classes {
            return Err(crate::CoreError::InvalidArgument(format!(
                "class code {c} is out of range for {n_classes} classes"
            )));
        }
        counts[c] += 1;
    }
    let mut rows: Vec<Vec<usize>> = counts.iter().map(|&n| Vec::with_capacity(n)).collect();
    for (i, &c) in codes.iter().enumerate() {
        rows[c as usize].push(i);
    }
    Ok(rows)
}
