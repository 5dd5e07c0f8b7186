//! Canonical JSON and `spec_hash` of a `SemanticExecutionSpec` (CONTRACT.md, "Spec hash").

use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("spec is not valid JSON: {0}")]
    InvalidJson(#[from] serde_json::Error),
    #[error("spec could not be canonicalized: {0}")]
    Canonicalize(String),
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
}
