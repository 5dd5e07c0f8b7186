//! The engine's error model: every error carries a stable `code` and `stage` from
//! `backends/contract/codes.py` `ERROR_CODES`, a message and a JSON-object context.
//! Callers (and the Python exceptions built from it) match on `code`, never on the message.

use std::fmt;

use serde_json::{Map, Value};

/// The registered engine error codes (`codes.ERROR_CODES`, minus Stage-0's `EXTRACTION_FAILED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    SpecInvalid,
    SpecVersionUnsupported,
    ViewCycle,
    ViewUnknown,
    InputTableMissing,
    DeltaVersionMissing,
    DeltaProtocolUnsupported,
    DeltaLogCorrupt,
    InputSchemaMismatch,
    PlanFailed,
    OutputSchemaMismatch,
    ExecutionFailed,
    CommitFailed,
    InternalPanic,
    InternalError,
}

/// Where an error arose (`codes.Stage`, engine stages only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    Validate,
    Compile,
    Register,
    Plan,
    Execute,
    Commit,
    Internal,
}

impl Stage {
    /// The stage as `codes.Stage` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Validate => "validate",
            Stage::Compile => "compile",
            Stage::Register => "register",
            Stage::Plan => "plan",
            Stage::Execute => "execute",
            Stage::Commit => "commit",
            Stage::Internal => "internal",
        }
    }
}

impl ErrorCode {
    /// Every code, for tests and for the Python side's registry check.
    pub const ALL: [ErrorCode; 15] = [
        ErrorCode::SpecInvalid,
        ErrorCode::SpecVersionUnsupported,
        ErrorCode::ViewCycle,
        ErrorCode::ViewUnknown,
        ErrorCode::InputTableMissing,
        ErrorCode::DeltaVersionMissing,
        ErrorCode::DeltaProtocolUnsupported,
        ErrorCode::DeltaLogCorrupt,
        ErrorCode::InputSchemaMismatch,
        ErrorCode::PlanFailed,
        ErrorCode::OutputSchemaMismatch,
        ErrorCode::ExecutionFailed,
        ErrorCode::CommitFailed,
        ErrorCode::InternalPanic,
        ErrorCode::InternalError,
    ];

    /// The registered code string.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::SpecInvalid => "SPEC_INVALID",
            ErrorCode::SpecVersionUnsupported => "SPEC_VERSION_UNSUPPORTED",
            ErrorCode::ViewCycle => "VIEW_CYCLE",
            ErrorCode::ViewUnknown => "VIEW_UNKNOWN",
            ErrorCode::InputTableMissing => "INPUT_TABLE_MISSING",
            ErrorCode::DeltaVersionMissing => "DELTA_VERSION_MISSING",
            ErrorCode::DeltaProtocolUnsupported => "DELTA_PROTOCOL_UNSUPPORTED",
            ErrorCode::DeltaLogCorrupt => "DELTA_LOG_CORRUPT",
            ErrorCode::InputSchemaMismatch => "INPUT_SCHEMA_MISMATCH",
            ErrorCode::PlanFailed => "PLAN_FAILED",
            ErrorCode::OutputSchemaMismatch => "OUTPUT_SCHEMA_MISMATCH",
            ErrorCode::ExecutionFailed => "EXECUTION_FAILED",
            ErrorCode::CommitFailed => "COMMIT_FAILED",
            ErrorCode::InternalPanic => "INTERNAL_PANIC",
            ErrorCode::InternalError => "INTERNAL_ERROR",
        }
    }

    /// The registered stage of the code.
    pub fn stage(self) -> Stage {
        match self {
            ErrorCode::SpecInvalid | ErrorCode::SpecVersionUnsupported => Stage::Validate,
            ErrorCode::ViewCycle | ErrorCode::ViewUnknown => Stage::Compile,
            ErrorCode::InputTableMissing
            | ErrorCode::DeltaVersionMissing
            | ErrorCode::DeltaProtocolUnsupported
            | ErrorCode::DeltaLogCorrupt
            | ErrorCode::InputSchemaMismatch => Stage::Register,
            ErrorCode::PlanFailed | ErrorCode::OutputSchemaMismatch => Stage::Plan,
            ErrorCode::ExecutionFailed => Stage::Execute,
            ErrorCode::CommitFailed => Stage::Commit,
            ErrorCode::InternalPanic | ErrorCode::InternalError => Stage::Internal,
        }
    }
}

/// An engine error: code (with its stage), human message, JSON-object context.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineError {
    pub code: ErrorCode,
    pub message: String,
    pub context: Map<String, Value>,
}

impl EngineError {
    /// An error with an empty context.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            context: Map::new(),
        }
    }

    /// Add one context entry (builder style).
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.context.insert(key.to_owned(), value.into());
        self
    }

    /// The registered stage of this error's code.
    pub fn stage(&self) -> Stage {
        self.code.stage()
    }

    /// The context as §1 JSON (sorted keys, compact).
    pub fn context_json(&self) -> String {
        // serde_json's Map is a BTreeMap (no preserve_order feature): keys come out sorted.
        Value::Object(self.context.clone()).to_string()
    }
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for EngineError {}

/// Result alias of the engine.
pub type EngineResult<T> = Result<T, EngineError>;

/// Wrap a DataFusion error raised while planning view or output `what`.
pub fn plan_failed(what: &str, err: impl fmt::Display) -> EngineError {
    EngineError::new(
        ErrorCode::PlanFailed,
        format!("planning {what} failed: {err}"),
    )
    .with("view", what)
}

/// Wrap an error raised while executing output or view `what`.
pub fn execution_failed(what: &str, err: impl fmt::Display) -> EngineError {
    EngineError::new(
        ErrorCode::ExecutionFailed,
        format!("executing {what} failed: {err}"),
    )
    .with("view", what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_upper_snake_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            let s = c.as_str();
            assert!(
                s.chars().all(|ch| ch.is_ascii_uppercase() || ch == '_'),
                "{s}"
            );
            assert!(seen.insert(s));
        }
    }

    #[test]
    fn codes_are_registered_in_the_contract_with_their_stage() {
        for c in ErrorCode::ALL {
            let registered = crate::contract::CONTRACT
                .error_codes
                .iter()
                .find(|r| r.code == c.as_str())
                .unwrap_or_else(|| panic!("{} not registered", c.as_str()));
            assert_eq!(registered.stage, c.stage().as_str(), "{}", c.as_str());
        }
    }

    #[test]
    fn context_json_has_sorted_keys() {
        let e = EngineError::new(ErrorCode::SpecInvalid, "x")
            .with("z", 1)
            .with("a", "b");
        assert_eq!(e.context_json(), r#"{"a":"b","z":1}"#);
    }
}
