//! Contract `cpg/1` in Rust: Arrow schemas of the ten evidence tables and of every catalogue
//! view, and the view catalogue itself. Mirrors `backends/contract/schemas.py` and `views.py`
//! exactly (names, types, nullability, column order); `schema_string` mirrors
//! `fingerprint.schema_string` (CONTRACT §14). A pytest checks both sides agree.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use sha2::{Digest, Sha256};

/// The contract version this engine implements.
pub const CONTRACT_VERSION: &str = "cpg/1";

fn req(name: &str, t: DataType) -> Field {
    Field::new(name, t, false)
}

fn opt(name: &str, t: DataType) -> Field {
    Field::new(name, t, true)
}

fn str_list() -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
}

use DataType::{Boolean as BOOL, Float64 as F64, Int32 as I32, Int64 as I64, Utf8 as STR};

fn span_fields() -> Vec<Field> {
    vec![
        opt("bstart", I64),
        opt("bend", I64),
        opt("line", I32),
        opt("col", I32),
        opt("end_line", I32),
        opt("end_col", I32),
    ]
}

fn with_span(mut fields: Vec<Field>) -> SchemaRef {
    fields.extend(span_fields());
    Arc::new(Schema::new(fields))
}

fn syntax_fields() -> Vec<Field> {
    vec![
        req("path", STR),
        req("ordinal", I32),
        opt("parent_ordinal", I32),
        req("kind", STR),
        opt("name", STR),
        opt("qualname", STR),
        req("scope_qualname", STR),
        opt("expr", STR),
        opt("ctx", STR),
        opt("detail", STR),
    ]
}

fn repo_scan() -> SchemaRef {
    Arc::new(Schema::new(vec![
        req("path", STR),
        req("status", STR),
        opt("file_sha256", STR),
        opt("size_bytes", I64),
        req("is_python", BOOL),
        req("is_symlink", BOOL),
        opt("module", STR),
        req("is_package", BOOL),
        opt("source_root", STR),
        opt("encoding", STR),
        req("has_bom", BOOL),
        opt("newline", STR),
        opt("line_count", I32),
        opt("text_sha256", STR),
    ]))
}

fn tree_sitter() -> SchemaRef {
    let mut f = syntax_fields();
    f.push(req("is_error", BOOL));
    with_span(f)
}

fn syntax_view() -> SchemaRef {
    let mut f = syntax_fields();
    f.extend(span_fields());
    f.push(req("source", STR));
    Arc::new(Schema::new(f))
}

fn bytecode() -> SchemaRef {
    with_span(vec![
        req("path", STR),
        req("ordinal", I32),
        req("kind", STR),
        req("code_qualname", STR),
        opt("opname", STR),
        opt("name", STR),
        opt("detail", STR),
    ])
}

fn symtable() -> SchemaRef {
    with_span(vec![
        req("path", STR),
        req("ordinal", I32),
        req("kind", STR),
        req("scope_qualname", STR),
        req("scope_type", STR),
        opt("name", STR),
        opt("flags", str_list()),
        opt("detail", STR),
    ])
}

fn python_imports() -> SchemaRef {
    with_span(vec![
        req("path", STR),
        req("ordinal", I32),
        req("kind", STR),
        req("scope_qualname", STR),
        opt("module", STR),
        req("level", I32),
        opt("name", STR),
        opt("asname", STR),
        opt("bound_name", STR),
        opt("absolute_module", STR),
        req("target_kind", STR),
        opt("resolved_module", STR),
        opt("resolved_path", STR),
        opt("resolved_name", STR),
        req("in_try", BOOL),
        req("in_type_checking", BOOL),
        req("in_function", BOOL),
        req("conditional", BOOL),
        req("sources", str_list()),
        req("sources_agree", BOOL),
    ])
}

fn python_external() -> SchemaRef {
    with_span(vec![
        req("path", STR),
        req("ordinal", I32),
        req("module", STR),
        req("top_level", STR),
        req("classification", STR),
        opt("distribution", STR),
        opt("distribution_version", STR),
    ])
}

fn scip() -> SchemaRef {
    with_span(vec![
        req("kind", STR),
        opt("path", STR),
        req("ordinal", I32),
        req("symbol", STR),
        opt("roles", I32),
        opt("is_definition", BOOL),
        opt("related_symbol", STR),
        opt("relationship", STR),
        opt("symbol_kind", STR),
        opt("display_name", STR),
        opt("enclosing_symbol", STR),
        opt("documentation", STR),
    ])
}

fn extract_diagnostics() -> SchemaRef {
    with_span(vec![
        req("path", STR),
        req("extractor", STR),
        req("ordinal", I32),
        req("code", STR),
        req("severity", STR),
        req("message", STR),
        opt("detail", STR),
    ])
}

fn cpg_nodes() -> SchemaRef {
    let mut f = vec![req("node_id", STR), req("kind", STR), opt("path", STR)];
    f.extend(span_fields());
    f.extend([
        opt("name", STR),
        opt("qualname", STR),
        req("evidence_source", STR),
    ]);
    Arc::new(Schema::new(f))
}

fn cpg_edges() -> SchemaRef {
    Arc::new(Schema::new(vec![
        req("edge_id", STR),
        req("kind", STR),
        req("src_id", STR),
        req("dst_id", STR),
        req("evidence_source", STR),
        req("confidence", F64),
        opt("path", STR),
        opt("bstart", I64),
        opt("bend", I64),
    ]))
}

fn cpg_props() -> SchemaRef {
    Arc::new(Schema::new(vec![
        req("node_id", STR),
        req("key", STR),
        req("value", STR),
        req("value_type", STR),
    ]))
}

fn diagnostics() -> SchemaRef {
    Arc::new(Schema::new(vec![
        req("diagnostic_id", STR),
        req("code", STR),
        req("severity", STR),
        req("stage", STR),
        req("source", STR),
        opt("path", STR),
        opt("bstart", I64),
        opt("bend", I64),
        req("message", STR),
        opt("context", STR),
    ]))
}

fn evidence_summary() -> SchemaRef {
    Arc::new(Schema::new(vec![
        req("source", STR),
        req("files", I64),
        req("rows", I64),
        req("files_with_warnings", I64),
        req("warnings", I64),
        opt("delta_version", I64),
    ]))
}

/// The ten evidence tables, in `schemas.EVIDENCE_TABLES` order.
pub const EVIDENCE_TABLE_NAMES: [&str; 10] = [
    "repo_scan",
    "ast",
    "cst",
    "tree_sitter",
    "bytecode",
    "symtable",
    "python_imports",
    "python_external",
    "scip",
    "extract_diagnostics",
];

/// The five output tables, in `schemas.OUTPUT_TABLES` order.
pub const OUTPUT_TABLE_NAMES: [&str; 5] = [
    "cpg_nodes",
    "cpg_edges",
    "cpg_props",
    "diagnostics",
    "evidence_summary",
];

/// The contract schema of an evidence table, or `None` for an unknown name.
pub fn evidence_schema(name: &str) -> Option<SchemaRef> {
    Some(match name {
        "repo_scan" => repo_scan(),
        "ast" | "cst" => with_span(syntax_fields()),
        "tree_sitter" => tree_sitter(),
        "bytecode" => bytecode(),
        "symtable" => symtable(),
        "python_imports" => python_imports(),
        "python_external" => python_external(),
        "scip" => scip(),
        "extract_diagnostics" => extract_diagnostics(),
        _ => return None,
    })
}

/// The contract schema of an output table, or `None` for an unknown name.
pub fn output_schema(name: &str) -> Option<SchemaRef> {
    Some(match name {
        "cpg_nodes" => cpg_nodes(),
        "cpg_edges" => cpg_edges(),
        "cpg_props" => cpg_props(),
        "diagnostics" => diagnostics(),
        "evidence_summary" => evidence_summary(),
        _ => return None,
    })
}

/// The stage kind of a view (`spec.ViewKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// Which contract schema a view produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewSchema {
    Syntax,
    Nodes,
    Edges,
    Props,
    Diagnostics,
    EvidenceSummary,
}

impl ViewSchema {
    /// The Arrow schema.
    pub fn schema(self) -> SchemaRef {
        match self {
            ViewSchema::Syntax => syntax_view(),
            ViewSchema::Nodes => cpg_nodes(),
            ViewSchema::Edges => cpg_edges(),
            ViewSchema::Props => cpg_props(),
            ViewSchema::Diagnostics => diagnostics(),
            ViewSchema::EvidenceSummary => evidence_summary(),
        }
    }
}

/// One catalogue view (`views.ViewDef`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewDef {
    pub name: &'static str,
    pub kind: ViewKind,
    pub inputs: &'static [&'static str],
    pub schema: ViewSchema,
}

impl ViewDef {
    /// The view's contract Arrow schema.
    pub fn arrow_schema(&self) -> SchemaRef {
        self.schema.schema()
    }
}

const SYNTAX_INPUTS: &[&str] = &[
    "repo_scan",
    "ast",
    "cst",
    "tree_sitter",
    "extract_diagnostics",
];

const fn v(
    name: &'static str,
    kind: ViewKind,
    inputs: &'static [&'static str],
    schema: ViewSchema,
) -> ViewDef {
    ViewDef {
        name,
        kind,
        inputs,
        schema,
    }
}

/// `VIEW_CATALOG` in catalogue order.
pub static VIEW_CATALOG: LazyLock<Vec<ViewDef>> = LazyLock::new(|| {
    use ViewKind::*;
    use ViewSchema::*;
    vec![
        v("syntax", Normalize, SYNTAX_INPUTS, Syntax),
        v("file_nodes", Normalize, &["repo_scan"], Nodes),
        v("module_nodes", Normalize, &["syntax", "repo_scan"], Nodes),
        v(
            "definition_nodes",
            Normalize,
            &["syntax", "repo_scan"],
            Nodes,
        ),
        v(
            "parameter_nodes",
            Normalize,
            &["syntax", "repo_scan"],
            Nodes,
        ),
        v("callsite_nodes", Normalize, &["syntax"], Nodes),
        v("import_nodes", Normalize, &["python_imports"], Nodes),
        v("symbol_nodes", Normalize, &["scip"], Nodes),
        v("external_nodes", Normalize, &["python_external"], Nodes),
        v(
            "span_conflicts",
            Normalize,
            &["syntax", "ast", "cst", "tree_sitter", "extract_diagnostics"],
            Diagnostics,
        ),
        v(
            "import_edges",
            Relate,
            &["python_imports", "syntax", "repo_scan"],
            Edges,
        ),
        v(
            "inherit_edges",
            Relate,
            &["syntax", "repo_scan", "python_imports", "import_edges"],
            Edges,
        ),
        v(
            "override_edges",
            Relate,
            &["syntax", "repo_scan", "inherit_edges"],
            Edges,
        ),
        v(
            "call_edges",
            Relate,
            &[
                "syntax",
                "repo_scan",
                "python_imports",
                "import_edges",
                "inherit_edges",
                "scip",
            ],
            Edges,
        ),
        v(
            "reference_edges",
            Relate,
            &[
                "syntax",
                "repo_scan",
                "python_imports",
                "import_edges",
                "inherit_edges",
                "ast",
                "scip",
            ],
            Edges,
        ),
        v(
            "name_ref_nodes",
            Normalize,
            &["ast", "reference_edges"],
            Nodes,
        ),
        v(
            "structure_edges",
            Relate,
            &[
                "syntax",
                "repo_scan",
                "python_imports",
                "ast",
                "reference_edges",
            ],
            Edges,
        ),
        v(
            "diagnostics",
            Cpg,
            &[
                "extract_diagnostics",
                "span_conflicts",
                "repo_scan",
                "ast",
                "cst",
                "tree_sitter",
                "bytecode",
                "symtable",
                "scip",
            ],
            Diagnostics,
        ),
        v("diagnostic_nodes", Normalize, &["diagnostics"], Nodes),
        v(
            "cpg_nodes",
            Cpg,
            &[
                "file_nodes",
                "module_nodes",
                "definition_nodes",
                "parameter_nodes",
                "callsite_nodes",
                "import_nodes",
                "name_ref_nodes",
                "symbol_nodes",
                "external_nodes",
                "diagnostic_nodes",
            ],
            Nodes,
        ),
        v(
            "cpg_edges",
            Cpg,
            &[
                "structure_edges",
                "import_edges",
                "inherit_edges",
                "override_edges",
                "call_edges",
                "reference_edges",
            ],
            Edges,
        ),
        v(
            "cpg_props",
            Cpg,
            &[
                "cpg_nodes",
                "repo_scan",
                "syntax",
                "bytecode",
                "python_imports",
                "python_external",
                "scip",
            ],
            Props,
        ),
        v(
            "evidence_summary",
            Cpg,
            &EVIDENCE_TABLE_NAMES,
            EvidenceSummary,
        ),
    ]
});

/// The catalogue entry of view `name`, or `None`.
pub fn view_def(name: &str) -> Option<&'static ViewDef> {
    VIEW_CATALOG.iter().find(|v| v.name == name)
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
            for input in v.inputs {
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
    fn output_views_have_the_output_schemas() {
        for t in OUTPUT_TABLE_NAMES {
            assert_eq!(
                view_def(t).unwrap().arrow_schema(),
                output_schema(t).unwrap()
            );
        }
    }

    #[test]
    fn schema_string_prints_types_as_pyarrow() {
        let s = schema_string(&symtable());
        assert!(s.contains("flags:list<item: string>:true"));
        assert!(s.starts_with("path:string:false,ordinal:int32:false"));
        assert!(schema_string(&cpg_edges()).contains("confidence:double:false"));
    }
}
