//! Stable IDs of CPG contract v1 (CONTRACT.md §4), identical to `backends/contract/ids.py`.
//!
//! `stable_id(kind, fields) = hex(sha256(utf8("cpg1" US kind US f1 US f2 ...)))[0:32]`.

use sha2::{Digest, Sha256};

const ID_PREFIX: &str = "cpg1";
const US: char = '\u{1f}';

/// One ID field: text, an integer, or null (written as the empty string).
#[derive(Debug, Clone, PartialEq)]
pub enum IdField<'a> {
    Text(&'a str),
    Int(i64),
    Null,
}

/// The stable ID of an entity of `kind` identified by `fields`, in contract order.
pub fn stable_id(kind: &str, fields: &[IdField<'_>]) -> String {
    let mut text = String::with_capacity(64);
    text.push_str(ID_PREFIX);
    text.push(US);
    text.push_str(kind);
    for field in fields {
        text.push(US);
        match field {
            IdField::Text(s) => text.push_str(s),
            IdField::Int(i) => text.push_str(&i.to_string()),
            IdField::Null => {}
        }
    }
    let digest = Sha256::digest(text.as_bytes());
    hex::encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared vectors of backends/contract/id_vectors.json (computed with coreutils).
    #[test]
    fn matches_the_shared_vectors() {
        let raw = include_str!("../../contract/id_vectors.json");
        let doc: serde_json::Value = serde_json::from_str(raw).unwrap();
        let vectors = doc["vectors"].as_array().unwrap();
        assert!(vectors.len() >= 5);
        for v in vectors {
            let fields: Vec<IdField<'_>> = v["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| match f {
                    serde_json::Value::String(s) => IdField::Text(s.as_str()),
                    serde_json::Value::Number(n) => IdField::Int(n.as_i64().unwrap()),
                    serde_json::Value::Null => IdField::Null,
                    other => panic!("unexpected field {other}"),
                })
                .collect();
            assert_eq!(
                stable_id(v["kind"].as_str().unwrap(), &fields),
                v["id"].as_str().unwrap(),
                "vector {v}"
            );
        }
    }
}
