//! pyo3 bindings of equipoise-core, the compiled module `equipoise._core`: extract arguments,
//! release the GIL, call the core, convert. No algorithm lives here. This file only declares the
//! binding modules and registers their functions; what they share is in `common`.

mod batch;
mod chunks;
mod common;
mod neighbors;
mod over_sampling;
mod runtime;
mod streaming;
mod under_sampling;
mod variants;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    runtime::register(m)?;
    over_sampling::register(m)?;
    variants::register(m)?;
    under_sampling::register(m)?;
    neighbors::register(m)?;
    batch::register(m)?;
    streaming::register(m)?;
    chunks::register(m)?;
    Ok(())
}
