//! PyO3 boundary: the private module `backends.rust._engine`.

use pyo3::prelude::*;

#[pyfunction]
fn version() -> String {
    crate::version_string()
}

/// SHA-256 (lowercase hex) of the RFC 8785 canonical form of a spec JSON document.
#[pyfunction]
fn spec_hash(json: &str) -> PyResult<String> {
    crate::spec::spec_hash(json).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
}

#[pymodule]
fn _engine(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_function(wrap_pyfunction!(spec_hash, m)?)?;
    Ok(())
}
