//! Contract `cpg/1` in Rust: the Arrow schemas and primary keys of the evidence and output
//! tables, the view catalogue and the registered codes, read from
//! `backends/contract/contract.json`. That file is generated from the Python definitions
//! (`schemas.py`, `views.py`, `codes.py`) by `python -m backends.contract.export`, and a pytest
//! fails when it is stale; the crate compiles it in and parses it once, so nothing here is
//! written down a second time. `schema_string` is `fingerprint.schema_string` (CONTRACT §14).

use std::sync::{Arc, LazyLock};

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The generated contract file, relative to this source file.
const CONTRACT_JSON: &str = include_str!("../../contract/contract.json");

/// The stage kind of a view (`spec.ViewKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ViewKind {
    Normalize,
    Relate,
    Cpg,
    Output,
}

impl ViewKind {
    /// The kind as the spec spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ViewKind::Normalize => "normalize",
            ViewKind::Relate => "relate",
            ViewKind::Cpg => "cpg",
            ViewKind::Output => "output",
        }
    }
}

/// One evidence or output table (`schemas.TableContract`).
#[derive(Debug, Clone, PartialEq)]
pub struct TableDef {
    pub name: &'static str,
    pub primary_key: Vec<&'static str>,
    pub schema: SchemaRef,
}

/// One catalogue view (`views.ViewDef`).
#[derive(Debug, Clone, PartialEq)]
pub struct ViewDef {
    pub name: &'static str,
    pub kind: ViewKind,
    pub inputs: Vec<&'static str>,
    pub primary_key: Vec<&'static str>,
    schema: SchemaRef,
}

impl ViewDef {
    /// The view's contract Arrow schema.
    pub fn arrow_schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

/// One registered warning or error code (`codes.CodeInfo`; its meaning stays in Python).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeDef {
    pub code: &'static str,
    pub severity: &'static str,
    pub stage: &'static str,
}

/// The whole contract, as parsed from the file.
#[derive(Debug)]
pub struct Contract {
    pub version: &'static str,
    /// The ten evidence tables, in `schemas.EVIDENCE_TABLES` order.
    pub evidence: Vec<TableDef>,
    /// The five output tables, in `schemas.OUTPUT_TABLES` order.
    pub outputs: Vec<TableDef>,
    /// `views.VIEW_CATALOG`, in catalogue order.
    pub views: Vec<ViewDef>,
    /// `codes.WARNING_CODES`, in registry order.
    pub warning_codes: Vec<CodeDef>,
    /// `codes.ERROR_CODES`, in registry order.
    pub error_codes: Vec<CodeDef>,
}

// The file's layout (`backends/contract/export.py`, `document`). Strings are borrowed from the
// compiled-in text; names, types and codes hold no JSON escapes.

#[derive(Deserialize)]
struct Document<'a> {
    contract_version: &'a str,
    #[serde(borrow)]
    tables: Vec<TableDoc<'a>>,
    #[serde(borrow)]
    views: Vec<ViewDoc<'a>>,
    #[serde(borrow)]
    codes: CodesDoc<'a>,
}

#[derive(Deserialize)]
struct ColumnDoc<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    type_text: &'a str,
    nullable: bool,
}

#[derive(Deserialize)]
struct TableDoc<'a> {
    name: &'a str,
    layer: &'a str,
    #[serde(borrow)]
    primary_key: Vec<&'a str>,
    #[serde(borrow)]
    columns: Vec<ColumnDoc<'a>>,
}

#[derive(Deserialize)]
struct ViewDoc<'a> {
    name: &'a str,
    kind: ViewKind,
    #[serde(borrow)]
    inputs: Vec<&'a str>,
    #[serde(borrow)]
    primary_key: Vec<&'a str>,
    #[serde(borrow)]
    columns: Vec<ColumnDoc<'a>>,
}

#[derive(Deserialize)]
struct CodesDoc<'a> {
    #[serde(borrow)]
    warning: Vec<CodeDoc<'a>>,
    #[serde(borrow)]
    error: Vec<CodeDoc<'a>>,
}

#[derive(Deserialize)]
struct CodeDoc<'a> {
    code: &'a str,
    severity: &'a str,
    stage: &'a str,
}

fn codes(docs: Vec<CodeDoc<'static>>) -> Vec<CodeDef> {
    docs.into_iter()
        .map(|c| CodeDef {
            code: c.code,
            severity: c.severity,
            stage: c.stage,
        })
        .collect()
}

/// The Arrow type of a contract type text (the inverse of [`type_string`]).
fn parse_type(text: &str) -> Result<DataType, String> {
    Ok(match text {
        "string" => DataType::Utf8,
        "bool" => DataType::Boolean,
        "int32" => DataType::Int32,
        "int64" => DataType::Int64,
        "double" => DataType::Float64,
        _ => match text
            .strip_prefix("list<item: ")
            .and_then(|t| t.strip_suffix('>'))
        {
            Some(item) => DataType::List(Arc::new(Field::new("item", parse_type(item)?, true))),
            None => return Err(format!("unknown column type {text:?}")),
        },
    })
}

fn schema_of(columns: &[ColumnDoc<'_>]) -> Result<SchemaRef, String> {
    let fields = columns
        .iter()
        .map(|c| Ok(Field::new(c.name, parse_type(c.type_text)?, c.nullable)))
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Arc::new(Schema::new(fields)))
}

impl Contract {
    /// Parse the contract file's text.
    pub fn parse(text: &'static str) -> Result<Contract, String> {
        let doc: Document<'static> = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut evidence = Vec::new();
        let mut outputs = Vec::new();
        for t in doc.tables {
            let table = TableDef {
                name: t.name,
                primary_key: t.primary_key,
                schema: schema_of(&t.columns).map_err(|e| format!("table {}: {e}", t.name))?,
            };
            match t.layer {
                "evidence" => evidence.push(table),
                "output" => outputs.push(table),
                other => return Err(format!("table {}: unknown layer {other:?}", t.name)),
            }
        }
        let views = doc
            .views
            .into_iter()
            .map(|v| {
                Ok(ViewDef {
                    name: v.name,
                    kind: v.kind,
                    inputs: v.inputs,
                    primary_key: v.primary_key,
                    schema: schema_of(&v.columns).map_err(|e| format!("view {}: {e}", v.name))?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Contract {
            version: doc.contract_version,
            evidence,
            outputs,
            views,
            warning_codes: codes(doc.codes.warning),
            error_codes: codes(doc.codes.error),
        })
    }
}

/// The contract this engine implements, parsed on first use. The file is generated and
/// checked by the test suite, so a parse error is a build defect, not an input error.
pub static CONTRACT: LazyLock<Contract> = LazyLock::new(|| {
    Contract::parse(CONTRACT_JSON)
        .unwrap_or_else(|e| panic!("backends/contract/contract.json does not parse: {e}"))
});

/// The contract version this engine implements (`schemas.CONTRACT_VERSION`).
pub fn version() -> &'static str {
    CONTRACT.version
}

/// The ten evidence table names, in `schemas.EVIDENCE_TABLES` order.
pub static EVIDENCE_TABLE_NAMES: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| CONTRACT.evidence.iter().map(|t| t.name).collect());

/// The five output table names, in `schemas.OUTPUT_TABLES` order.
pub static OUTPUT_TABLE_NAMES: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| CONTRACT.outputs.iter().map(|t| t.name).collect());

/// `VIEW_CATALOG` in catalogue order.
pub static VIEW_CATALOG: LazyLock<&'static [ViewDef]> = LazyLock::new(|| &CONTRACT.views);

fn find(tables: &[TableDef], name: &str) -> Option<SchemaRef> {
    tables
        .iter()
        .find(|t| t.name == name)
        .map(|t| t.schema.clone())
}

/// The contract schema of an evidence table, or `None` for an unknown name.
pub fn evidence_schema(name: &str) -> Option<SchemaRef> {
    find(&CONTRACT.evidence, name)
}

/// The contract schema of an output table, or `None` for an unknown name.
pub fn output_schema(name: &str) -> Option<SchemaRef> {
    find(&CONTRACT.outputs, name)
}

/// The catalogue entry of view `name`, or `None`.
pub fn view_def(name: &str) -> Option<&'static ViewDef> {
    CONTRACT.views.iter().find(|v| v.name == name)
}

/// Arrow's Python-style type text (`pyarrow.DataType.__str__`) for the types the contract uses.
pub fn type_string(t: &DataType) -> String {
    match t {
        DataType::Utf8 => "string".into(),
        DataType::LargeUtf8 => "large_string".into(),
        DataType::Utf8View => "string_view".into(),
        DataType::Int8 => "int8".into(),
        DataType::Int16 => "int16".into(),
        DataType::Int32 => "int32".into(),
        DataType::Int64 => "int64".into(),
        DataType::UInt8 => "uint8".into(),
        DataType::UInt16 => "uint16".into(),
        DataType::UInt32 => "uint32".into(),
        DataType::UInt64 => "uint64".into(),
        DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        DataType::Boolean => "bool".into(),
        DataType::Null => "null".into(),
        DataType::List(f) => format!("list<{}: {}>", f.name(), type_string(f.data_type())),
        DataType::LargeList(f) => {
            format!("large_list<{}: {}>", f.name(), type_string(f.data_type()))
        }
        other => format!("{other}"),
    }
}

/// `name:type:nullable` per column joined by `,` (CONTRACT §14, `fingerprint.schema_string`).
pub fn schema_string(schema: &Schema) -> String {
    schema
        .fields()
        .iter()
        .map(|f| {
            format!(
                "{}:{}:{}",
                f.name(),
                type_string(f.data_type()),
                f.is_nullable()
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// SHA-256 hex of [`schema_string`] (CONTRACT §14 `schema_hash`).
pub fn schema_hash(schema: &Schema) -> String {
    hex::encode(Sha256::digest(schema_string(schema).as_bytes()))
}

/// The contract schema of any table or view name: evidence table, output table or catalogue view.
pub fn any_schema(name: &str) -> Option<SchemaRef> {
    evidence_schema(name)
        .or_else(|| view_def(name).map(|v| v.arrow_schema()))
        .or_else(|| output_schema(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_file_parses() {
        let c = Contract::parse(CONTRACT_JSON).unwrap();
        assert_eq!(c.version, "cpg/1");
        assert_eq!((c.evidence.len(), c.outputs.len()), (10, 5));
        assert!(!c.warning_codes.is_empty() && !c.error_codes.is_empty());
    }

    #[test]
    fn every_column_type_prints_as_the_file_spells_it() {
        let doc: Document = serde_json::from_str(CONTRACT_JSON).unwrap();
        let columns = doc
            .tables
            .iter()
            .flat_map(|t| &t.columns)
            .chain(doc.views.iter().flat_map(|v| &v.columns));
        for col in columns {
            assert_eq!(
                type_string(&parse_type(col.type_text).unwrap()),
                col.type_text
            );
        }
    }

    #[test]
    fn an_unknown_type_is_an_error_naming_it() {
        let err = parse_type("list<item: decimal128(5, 2)>").unwrap_err();
        assert!(err.contains("decimal128"), "{err}");
    }

    #[test]
    fn catalogue_has_23_unique_views() {
        let mut names: Vec<_> = VIEW_CATALOG.iter().map(|v| v.name).collect();
        assert_eq!(names.len(), 23);
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 23);
    }

    #[test]
    fn every_view_input_is_evidence_or_an_earlier_view() {
        for (i, v) in VIEW_CATALOG.iter().enumerate() {
            for input in &v.inputs {
                let earlier = VIEW_CATALOG[..i].iter().any(|w| w.name == *input);
                assert!(
                    earlier || evidence_schema(input).is_some(),
                    "{}: {input}",
                    v.name
                );
            }
        }
    }

    #[test]
    fn every_key_column_is_a_column_of_its_table_or_view() {
        let keyed = CONTRACT
            .evidence
            .iter()
            .chain(&CONTRACT.outputs)
            .map(|t| (t.name, &t.primary_key, t.schema.clone()))
            .chain(
                VIEW_CATALOG
                    .iter()
                    .map(|v| (v.name, &v.primary_key, v.arrow_schema())),
            );
        for (name, key, schema) in keyed {
            assert!(!key.is_empty(), "{name} has no key");
            for k in key {
                assert!(schema.field_with_name(k).is_ok(), "{name}.{k}");
            }
        }
    }

    #[test]
    fn output_views_have_the_output_schemas() {
        for t in OUTPUT_TABLE_NAMES.iter() {
            assert_eq!(
                view_def(t).unwrap().arrow_schema(),
                output_schema(t).unwrap()
            );
        }
    }

    #[test]
    fn schema_string_prints_types_as_pyarrow() {
        let s = schema_string(&evidence_schema("symtable").unwrap());
        assert!(s.contains("flags:list<item: string>:true"));
        assert!(s.starts_with("path:string:false,ordinal:int32:false"));
        assert!(
            schema_string(&output_schema("cpg_edges").unwrap()).contains("confidence:double:false")
        );
    }
}
