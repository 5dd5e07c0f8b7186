//! PyO3 boundary: the private module `backends.rust._engine`.
//!
//! Every call runs with the GIL released and inside `catch_unwind`: an engine error becomes
//! the Python exception of its stage (with `.code`, `.stage`, `.context`), a panic becomes
//! `InternalError` with code INTERNAL_PANIC. Nothing unwinds into Python.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::error::{EngineError as CoreError, EngineResult, ErrorCode, Stage};
use crate::storage::Storage;

create_exception!(
    _engine,
    EngineError,
    PyException,
    "Base of every engine error: `.code`, `.stage`, `.context` (dict)."
);

/// Declares one stage exception deriving from the base.
macro_rules! stage_exception {
    ($name:ident, $doc:expr) => {
        create_exception!(_engine, $name, EngineError, $doc);
    };
}

stage_exception!(SpecError, "The spec is invalid (stage validate).");
stage_exception!(CompileError, "The view graph is invalid (stage compile).");
stage_exception!(
    RegisterError,
    "An input cannot be registered (stage register)."
);
stage_exception!(PlanError, "A view cannot be planned (stage plan).");
stage_exception!(ExecuteError, "Executing the plan failed (stage execute).");
stage_exception!(CommitError, "Committing an output failed (stage commit).");
stage_exception!(
    InternalError,
    "An internal error or a caught panic (stage internal)."
);

fn to_py_err(py: Python<'_>, e: &CoreError) -> PyErr {
    let message = e.message.clone();
    let err = match e.stage() {
        Stage::Validate => SpecError::new_err(message),
        Stage::Compile => CompileError::new_err(message),
        Stage::Register => RegisterError::new_err(message),
        Stage::Plan => PlanError::new_err(message),
        Stage::Execute => ExecuteError::new_err(message),
        Stage::Commit => CommitError::new_err(message),
        Stage::Internal => InternalError::new_err(message),
    };
    let value = err.value(py);
    let context = py
        .import("json")
        .and_then(|json| json.call_method1("loads", (e.context_json(),)))
        .map(Bound::unbind)
        .unwrap_or_else(|_| PyDict::new(py).into_any().unbind());
    // Attribute writes on a fresh exception instance cannot fail in practice; ignore if they do.
    let _ = value.setattr("code", e.code.as_str());
    let _ = value.setattr("stage", e.stage().as_str());
    let _ = value.setattr("context", context);
    err
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Panics are caught at the boundary and become `INTERNAL_PANIC` exceptions that carry the
/// panic message, so the default hook's report on stderr (with a backtrace when RUST_BACKTRACE
/// is set) would only repeat it on a user's terminal; it is kept for `codeanatomy --debug`,
/// which sets CODEANATOMY_DEBUG.
fn quiet_panics() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::env::var_os("CODEANATOMY_DEBUG").is_some() {
            report(info);
        }
    }));
}

/// Run `f` without the GIL, catching panics; map errors to the stage exceptions, with every
/// secret of `storage` scrubbed (a panic message included).
fn guarded<T: Send>(
    py: Python<'_>,
    storage: &Storage,
    f: impl FnOnce() -> EngineResult<T> + Send,
) -> PyResult<T> {
    let outcome = py.detach(|| catch_unwind(AssertUnwindSafe(f)));
    let result = match outcome {
        Ok(r) => r,
        Err(payload) => Err(CoreError::new(
            ErrorCode::InternalPanic,
            format!("the engine panicked: {}", panic_message(payload.as_ref())),
        )),
    };
    result.map_err(|e| to_py_err(py, &storage.scrub_error(e)))
}

#[pyfunction]
fn version() -> String {
    crate::version_string()
}

/// SHA-256 (lowercase hex) of the RFC 8785 canonical form of a spec JSON document.
#[pyfunction]
fn spec_hash(json: &str) -> PyResult<String> {
    crate::spec::spec_hash(json).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
}

/// Run a spec; returns the RunResult JSON. `outputs_dir` and `views_dir` are local folders or
/// object-store URIs (`s3://bucket/prefix`); `storage_options` are given to every table the
/// call opens on a store (without them delta-rs reads the standard `AWS_*` variables).
#[pyfunction]
#[pyo3(signature = (spec_json, outputs_dir, views_dir=None, storage_options=None))]
fn run(
    py: Python<'_>,
    spec_json: &str,
    outputs_dir: &str,
    views_dir: Option<&str>,
    storage_options: Option<HashMap<String, String>>,
) -> PyResult<String> {
    let storage = Storage::new(storage_options.unwrap_or_default());
    guarded(py, &storage, || {
        crate::run::run_at(spec_json, outputs_dir, views_dir, &storage).map(|v| v.to_string())
    })
}

/// Plan introspection of tier 1, 2 or 3; returns the PlanReport JSON. Tier 3 opens the inputs
/// with `storage_options`.
#[pyfunction]
#[pyo3(signature = (spec_json, tier, storage_options=None))]
fn plan(
    py: Python<'_>,
    spec_json: &str,
    tier: u8,
    storage_options: Option<HashMap<String, String>>,
) -> PyResult<String> {
    let storage = Storage::new(storage_options.unwrap_or_default());
    guarded(py, &storage, || {
        crate::run::plan(spec_json, tier, &storage).map(|v| v.to_string())
    })
}

/// CONTRACT §14 schema string of an evidence table, output table or catalogue view.
#[pyfunction]
fn schema_string_of(table: &str) -> PyResult<String> {
    crate::contract::any_schema(table)
        .map(|s| crate::contract::schema_string(&s))
        .ok_or_else(|| pyo3::exceptions::PyKeyError::new_err(table.to_owned()))
}

/// CONTRACT §14 row-hash sum of an Arrow table (anything with `__arrow_c_stream__`, e.g. a
/// `pyarrow.Table`): `(rows, sum of XXH64 row hashes mod 2^64)`, hashed on `threads` threads
/// (0 = one per core) with the GIL released. TypeError for a column type §14 does not define.
#[pyfunction]
#[pyo3(signature = (table, threads=0))]
fn row_hash_sum(py: Python<'_>, table: &Bound<'_, PyAny>, threads: usize) -> PyResult<(u64, u64)> {
    use arrow::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
    use pyo3::types::{PyCapsule, PyCapsuleMethods};

    let capsule = table.call_method0("__arrow_c_stream__")?;
    let capsule = capsule.cast::<PyCapsule>()?;
    let pointer = capsule.pointer_checked(Some(c"arrow_array_stream"))?;
    // SAFETY: the capsule holds a valid FFI_ArrowArrayStream (Arrow PyCapsule interface);
    // `from_raw` moves it out and leaves a released stream behind, as the interface requires.
    let reader =
        unsafe { ArrowArrayStreamReader::from_raw(pointer.as_ptr() as *mut FFI_ArrowArrayStream) }
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    py.detach(|| crate::fingerprint::row_hash_sum(&batches, threads))
        .map_err(pyo3::exceptions::PyTypeError::new_err)
}

/// Panics on purpose (tests the boundary): raises InternalError INTERNAL_PANIC.
#[pyfunction]
fn _panic_for_test(py: Python<'_>) -> PyResult<()> {
    guarded(py, &Storage::default(), || -> EngineResult<()> {
        panic!("deliberate test panic")
    })
}

#[pymodule]
fn _engine(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    quiet_panics();
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_function(wrap_pyfunction!(spec_hash, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(plan, m)?)?;
    m.add_function(wrap_pyfunction!(schema_string_of, m)?)?;
    m.add_function(wrap_pyfunction!(row_hash_sum, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_test, m)?)?;
    let base = py.get_type::<EngineError>();
    // Class-level defaults so the attributes exist on the type (stubs declare them).
    base.setattr("code", "INTERNAL_ERROR")?;
    base.setattr("stage", "internal")?;
    base.setattr("context", PyDict::new(py))?;
    m.add("EngineError", base)?;
    m.add("SpecError", py.get_type::<SpecError>())?;
    m.add("CompileError", py.get_type::<CompileError>())?;
    m.add("RegisterError", py.get_type::<RegisterError>())?;
    m.add("PlanError", py.get_type::<PlanError>())?;
    m.add("ExecuteError", py.get_type::<ExecuteError>())?;
    m.add("CommitError", py.get_type::<CommitError>())?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    Ok(())
}
