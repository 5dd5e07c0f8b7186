//! The `SemanticExecutionSpec` (CONTRACT.md §9), mirrored from `backends/contract/spec.py`:
//! serde model (unknown fields rejected), decoding with errors that name the JSON path,
//! canonical JSON and `spec_hash`.
//!
//! Graph rules (catalogue conformance, references, cycles) live in `plan.rs`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::contract;
use crate::error::{EngineError, EngineResult, ErrorCode};

/// The spec version this engine reads.
pub const SPEC_VERSION: i64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("spec is not valid JSON: {0}")]
    InvalidJson(#[from] serde_json::Error),
    #[error("spec could not be canonicalized: {0}")]
    Canonicalize(String),
}

/// An input Delta table pinned to one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetBinding {
    pub name: String,
    pub uri: String,
    pub delta_version: i64,
    #[serde(default)]
    pub schema_hash: Option<String>,
}

/// The stage kind of a view as the spec spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpecViewKind {
    Normalize,
    Relate,
    Cpg,
    Output,
}

impl SpecViewKind {
    /// The kind as text.
    pub fn as_str(self) -> &'static str {
        match self {
            SpecViewKind::Normalize => "normalize",
            SpecViewKind::Relate => "relate",
            SpecViewKind::Cpg => "cpg",
            SpecViewKind::Output => "output",
        }
    }
}

/// One named view and the inputs/views it reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewSpec {
    pub name: String,
    pub kind: SpecViewKind,
    pub inputs: Vec<String>,
}

/// A requested output table, produced by one view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    pub table: String,
    pub view: String,
}

/// Knobs that change results or execution (confidence in basis points, no floats).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpecPolicy {
    pub use_scip: bool,
    pub min_confidence_bp: i64,
    pub target_partitions: i64,
}

impl Default for SpecPolicy {
    fn default() -> Self {
        Self {
            use_scip: true,
            min_confidence_bp: 0,
            target_partitions: 0,
        }
    }
}

fn default_spec_version() -> i64 {
    SPEC_VERSION
}

fn default_contract_version() -> String {
    contract::version().to_owned()
}

/// The full spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SemanticExecutionSpec {
    #[serde(default = "default_spec_version")]
    pub spec_version: i64,
    #[serde(default = "default_contract_version")]
    pub contract_version: String,
    #[serde(default)]
    pub inputs: Vec<DatasetBinding>,
    #[serde(default)]
    pub views: Vec<ViewSpec>,
    #[serde(default)]
    pub outputs: Vec<OutputSpec>,
    #[serde(default)]
    pub policy: SpecPolicy,
}

impl SemanticExecutionSpec {
    /// `spec_hash` of the spec with every field present (defaults included), equal to
    /// `backends.contract.spec.spec_hash` of the same spec.
    pub fn spec_hash(&self) -> String {
        let value = serde_json::to_value(self).expect("a spec always serializes");
        let bytes = serde_json_canonicalizer::to_vec(&value).expect("a spec always canonicalizes");
        hex::encode(Sha256::digest(&bytes))
    }
}

/// RFC 8785 (JCS) canonical bytes of a JSON document.
pub fn canonical_json(json: &str) -> Result<Vec<u8>, SpecError> {
    let value: serde_json::Value = serde_json::from_str(json)?;
    serde_json_canonicalizer::to_vec(&value).map_err(|e| SpecError::Canonicalize(e.to_string()))
}

/// SHA-256 hex digest of the canonical JSON.
pub fn spec_hash(json: &str) -> Result<String, SpecError> {
    let bytes = canonical_json(json)?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

fn invalid(path: &str, message: impl Into<String>) -> EngineError {
    EngineError::new(ErrorCode::SpecInvalid, message).with("path", path)
}

/// The JSON path of the first part of `value` that does not decode as `T` (or `$`).
fn locate<T: for<'de> Deserialize<'de>>(value: &Value, path: String) -> (String, String) {
    match serde_json::from_value::<T>(value.clone()) {
        Ok(_) => (path, String::new()),
        Err(e) => (path, e.to_string()),
    }
}

fn locate_list<T: for<'de> Deserialize<'de>>(value: &Value, path: &str) -> (String, String) {
    if let Value::Array(items) = value {
        for (i, item) in items.iter().enumerate() {
            let (p, msg) = locate::<T>(item, format!("{path}[{i}]"));
            if !msg.is_empty() {
                return (p, msg);
            }
        }
    }
    locate::<Vec<T>>(value, path.to_owned())
}

/// Find the path of a decoding error by decoding each section on its own.
fn error_path(value: &Value, fallback: &str) -> (String, String) {
    let Value::Object(map) = value else {
        return ("$".into(), "the spec must be a JSON object".into());
    };
    const KNOWN: [&str; 6] = [
        "spec_version",
        "contract_version",
        "inputs",
        "views",
        "outputs",
        "policy",
    ];
    if let Some(key) = map.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return (format!("$.{key}"), format!("unknown field `{key}`"));
    }
    let found = map.iter().map(|(key, v)| {
        let path = format!("$.{key}");
        match key.as_str() {
            "spec_version" => locate::<i64>(v, path),
            "contract_version" => locate::<String>(v, path),
            "inputs" => locate_list::<DatasetBinding>(v, &path),
            "views" => locate_list::<ViewSpec>(v, &path),
            "outputs" => locate_list::<OutputSpec>(v, &path),
            _ => locate::<SpecPolicy>(v, path),
        }
    });
    for (path, msg) in found {
        if !msg.is_empty() {
            return (path, msg);
        }
    }
    ("$".into(), fallback.to_owned())
}

/// serde accepts a JSON array for a struct (fields by position); the spec's model does not.
fn check_shape(value: &Value) -> EngineResult<()> {
    let Value::Object(map) = value else {
        return Err(invalid("$", "the spec must be a JSON object"));
    };
    if let Some(policy) = map.get("policy") {
        if !policy.is_object() {
            return Err(invalid("$.policy", "policy must be a JSON object"));
        }
    }
    for key in ["inputs", "views", "outputs"] {
        if let Some(Value::Array(items)) = map.get(key) {
            if let Some(i) = items.iter().position(|item| !item.is_object()) {
                let path = format!("$.{key}[{i}]");
                return Err(invalid(&path, format!("{path} must be a JSON object")));
            }
        }
    }
    Ok(())
}

/// Decode a spec: `SPEC_INVALID` (context `path`) when it is not JSON or does not fit the model,
/// `SPEC_VERSION_UNSUPPORTED` for another spec or contract version.
pub fn decode_spec(json: &str) -> EngineResult<SemanticExecutionSpec> {
    let value: Value = serde_json::from_str(json)
        .map_err(|e| invalid("$", format!("spec is not valid JSON: {e}")))?;
    check_shape(&value)?;
    let spec = match serde_json::from_value::<SemanticExecutionSpec>(value.clone()) {
        Ok(spec) => spec,
        Err(e) => {
            let (path, msg) = error_path(&value, &e.to_string());
            return Err(invalid(&path, format!("spec invalid at {path}: {msg}")));
        }
    };
    if spec.spec_version != SPEC_VERSION {
        return Err(EngineError::new(
            ErrorCode::SpecVersionUnsupported,
            format!(
                "spec_version {} is not supported (this engine reads {SPEC_VERSION})",
                spec.spec_version
            ),
        )
        .with("path", "$.spec_version")
        .with("spec_version", spec.spec_version));
    }
    if spec.contract_version != contract::version() {
        return Err(EngineError::new(
            ErrorCode::SpecVersionUnsupported,
            format!(
                "contract_version {:?} is not supported (this engine implements {})",
                spec.contract_version,
                contract::version()
            ),
        )
        .with("path", "$.contract_version")
        .with("contract_version", spec.contract_version.clone()));
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_order_and_whitespace_do_not_change_the_hash() {
        let a = spec_hash(r#"{"b": 1, "a": [1, 2, {"y": "é", "x": null}]}"#).unwrap();
        let b = spec_hash(r#"{"a":[1,2,{"x":null,"y":"é"}],"b":1}"#).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn canonical_form_is_rfc8785() {
        let bytes = canonical_json(r#"{"b": 1.0, "a": "\u00e9"}"#).unwrap();
        assert_eq!(String::from_utf8(bytes).unwrap(), "{\"a\":\"é\",\"b\":1}");
    }

    #[test]
    fn invalid_json_is_an_error() {
        assert!(spec_hash("{").is_err());
    }

    #[test]
    fn empty_spec_hash_fills_defaults_like_python() {
        // The canonical text of SemanticExecutionSpec() from tests/unit/test_spec_hash.py.
        let text = r#"{"contract_version":"cpg/1","inputs":[],"outputs":[],"policy":{"min_confidence_bp":0,"target_partitions":0,"use_scip":true},"spec_version":1,"views":[]}"#;
        let spec = decode_spec("{}").unwrap();
        assert_eq!(
            spec.spec_hash(),
            hex::encode(Sha256::digest(text.as_bytes()))
        );
    }

    #[test]
    fn absent_schema_hash_is_written_as_null() {
        let spec =
            decode_spec(r#"{"inputs":[{"name":"ast","uri":"u","delta_version":0}]}"#).unwrap();
        let v = serde_json::to_value(&spec).unwrap();
        assert_eq!(v["inputs"][0]["schema_hash"], Value::Null);
    }

    fn invalid_path(json: &str) -> String {
        let err = decode_spec(json).expect_err(json);
        assert_eq!(err.code, ErrorCode::SpecInvalid, "{err}");
        err.context["path"].as_str().unwrap().to_owned()
    }

    #[test]
    fn invalid_specs_name_their_path() {
        let cases = [
            ("[1]", "$"),
            ("{\"bogus\": 1}", "$.bogus"),
            ("{\"policy\": {\"bogus\": 1}}", "$.policy"),
            ("{\"policy\": {\"use_scip\": 1}}", "$.policy"),
            (
                "{\"inputs\": [{\"name\":\"a\",\"uri\":\"u\",\"delta_version\":0}, {\"name\":\"b\"}]}",
                "$.inputs[1]",
            ),
            (
                "{\"views\": [{\"name\":\"a\",\"kind\":\"weird\",\"inputs\":[]}]}",
                "$.views[0]",
            ),
            ("{\"outputs\": {}}", "$.outputs"),
            ("{\"spec_version\": \"1\"}", "$.spec_version"),
            ("{not json", "$"),
            ("{\"policy\": [true, 0, 0]}", "$.policy"),
            ("{\"outputs\": [[\"cpg_nodes\", \"cpg_nodes\"]]}", "$.outputs[0]"),
        ];
        for (json, path) in cases {
            assert_eq!(invalid_path(json), path, "{json}");
        }
    }

    #[test]
    fn unknown_field_message_names_the_field() {
        let err = decode_spec(r#"{"policy": {"bogus": 1}}"#).unwrap_err();
        assert!(err.message.contains("bogus"), "{}", err.message);
    }

    #[test]
    fn other_versions_are_unsupported() {
        for json in [r#"{"spec_version": 2}"#, r#"{"contract_version": "cpg/2"}"#] {
            let err = decode_spec(json).unwrap_err();
            assert_eq!(err.code, ErrorCode::SpecVersionUnsupported, "{json}");
        }
    }
}
