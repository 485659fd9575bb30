//! equipoise-core: resampling methods for imbalanced classification.
//!
//! Pure Rust, no Python. Every algorithm takes a dense feature view (`ArrayView2<F>`, `F` = `f32` or
//! `f64`), dense class codes and options, and returns new rows or index arrays. Work is parallel with
//! rayon; every random stream is derived from (seed, purpose, class, chunk), never from a thread, so
//! the output is identical whatever the number of threads.

pub mod batch;
pub mod cancel;
pub mod classes;
pub mod error;
pub mod float;
mod isa;
pub mod neighbors;
pub mod over_sampling;
pub mod rng;
pub mod threads;
pub mod under_sampling;
pub mod validate;

pub use error::{CoreError, Result};
pub use float::Float;
