//! Tests of the views: tiny in-memory evidence tables per rule (built here, read through
//! MemTable), plus an opt-in end-to-end run over real evidence.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::Arc;

use datafusion::arrow::json::{ArrayWriter, ReaderBuilder};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use serde_json::{json, Map, Value};

use super::{build_view, Memo, ViewPolicy};
use crate::contract::{evidence_schema, EVIDENCE_TABLE_NAMES, VIEW_CATALOG};
use crate::ids::{stable_id, IdField};

type Row = Map<String, Value>;

/// Non-null defaults of each evidence table, so a test names only the columns it is about.
fn defaults(table: &str) -> Value {
    match table {
        "repo_scan" => json!({"status": "ok", "is_python": true, "is_symlink": false,
            "is_package": false, "has_bom": false}),
        "ast" | "cst" | "tree_sitter" => json!({"scope_qualname": "", "is_error": false}),
        "bytecode" => json!({"code_qualname": ""}),
        "python_imports" => json!({"level": 0, "target_kind": "external", "in_try": false,
            "in_type_checking": false, "in_function": false, "conditional": false,
            "sources": ["ast"], "sources_agree": true, "scope_qualname": ""}),
        "python_external" => json!({"top_level": "x", "classification": "stdlib"}),
        "extract_diagnostics" => json!({"severity": "warning", "message": "m", "code": "X"}),
        "scip" => json!({"symbol": ""}),
        _ => json!({}),
    }
}

/// An evidence DataFrame of `table` from JSON rows (defaults filled, ordinal = row index
/// per path unless given).
fn evidence(ctx: &SessionContext, table: &str, rows: &[Value]) -> DataFrame {
    let schema = evidence_schema(table).unwrap();
    let mut text = String::new();
    let mut ordinals: HashMap<String, i64> = HashMap::new();
    for r in rows {
        let mut row: Row = defaults(table).as_object().unwrap().clone();
        for (k, v) in r.as_object().unwrap() {
            row.insert(k.clone(), v.clone());
        }
        if schema.field_with_name("ordinal").is_ok() && !row.contains_key("ordinal") {
            let key = row.get("path").map(|p| p.to_string()).unwrap_or_default();
            let n = ordinals.entry(key).or_insert(0);
            row.insert("ordinal".into(), json!(*n));
            *n += 1;
        }
        text.push_str(&Value::Object(row).to_string());
        text.push('\n');
    }
    let batches: Vec<RecordBatch> = ReaderBuilder::new(schema.clone())
        .build(Cursor::new(text))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mem = MemTable::try_new(schema, vec![batches]).unwrap();
    ctx.read_table(Arc::new(mem)).unwrap()
}

/// Evidence tables for a test: the given ones, every other table empty.
struct World {
    ctx: SessionContext,
    tables: HashMap<String, Vec<Value>>,
}

impl World {
    fn new() -> World {
        World::with_partitions(2)
    }
    fn with_partitions(n: usize) -> World {
        let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(n));
        World {
            ctx,
            tables: HashMap::new(),
        }
    }
    fn add(&mut self, table: &str, rows: Vec<Value>) -> &mut Self {
        self.tables
            .entry(table.to_string())
            .or_default()
            .extend(rows);
        self
    }
    /// Python source rows: one file `path` parsed by ast only (cst/tree_sitter get the same
    /// rows unless a test sets them).
    fn syntax(&mut self, rows: Vec<Value>) -> &mut Self {
        self.add("ast", rows)
    }

    /// Every catalogue view, built lazily in catalogue order and collected as JSON rows.
    fn run(&self, policy: ViewPolicy) -> HashMap<String, Vec<Row>> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut frames: HashMap<String, DataFrame> = HashMap::new();
        for &t in EVIDENCE_TABLE_NAMES.iter() {
            let rows = self.tables.get(t).cloned().unwrap_or_default();
            frames.insert(t.to_string(), evidence(&self.ctx, t, &rows));
        }
        let mut out = HashMap::new();
        let memo = Memo::default();
        for def in VIEW_CATALOG.iter() {
            let inputs: HashMap<String, DataFrame> = def
                .inputs
                .iter()
                .map(|i| (i.to_string(), frames[&i.to_string()].clone()))
                .collect();
            let name = def.name.to_string();
            let df = build_view(&self.ctx, &name, &inputs, &policy, &memo).unwrap();
            assert_eq!(
                df.schema().as_arrow().fields(),
                def.arrow_schema().fields(),
                "schema of {name}"
            );
            let batches = rt.block_on(df.clone().collect()).unwrap();
            out.insert(name.clone(), to_rows(&batches));
            frames.insert(name, df);
        }
        out
    }
}

fn to_rows(batches: &[RecordBatch]) -> Vec<Row> {
    let mut w = ArrayWriter::new(Vec::new());
    for b in batches {
        w.write(b).unwrap();
    }
    w.finish().unwrap();
    let buf = w.into_inner();
    if buf.is_empty() {
        return vec![];
    }
    let v: Value = serde_json::from_slice(&buf).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_object().unwrap().clone())
        .collect()
}

const POLICY: ViewPolicy = ViewPolicy {
    use_scip: true,
    min_confidence_bp: 0,
};

fn span_id(kind: &str, path: &str, b: i64, e: i64) -> String {
    stable_id(
        kind,
        &[IdField::Text(path), IdField::Int(b), IdField::Int(e)],
    )
}

/// Edges of `kind` as `(src, dst, confidence, evidence_source)`.
fn edges(out: &HashMap<String, Vec<Row>>, kind: &str) -> Vec<(String, String, f64, String)> {
    let mut v: Vec<_> = out["cpg_edges"]
        .iter()
        .filter(|r| r["kind"] == kind)
        .map(|r| {
            (
                r["src_id"].as_str().unwrap().to_string(),
                r["dst_id"].as_str().unwrap().to_string(),
                r["confidence"].as_f64().unwrap(),
                r["evidence_source"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v
}

fn module_row(path: &str, end: i64) -> Value {
    json!({"path": path, "kind": "module", "qualname": "", "bstart": 0, "bend": end})
}

fn def_row(path: &str, kind: &str, name: &str, qual: &str, scope: &str, b: i64, e: i64) -> Value {
    json!({"path": path, "kind": kind, "name": name, "qualname": qual, "scope_qualname": scope,
           "bstart": b, "bend": e, "detail": "{}"})
}

fn call_row(path: &str, expr: &str, scope: &str, b: i64) -> Value {
    let name = expr.rsplit('.').next().unwrap();
    json!({"path": path, "kind": "call", "name": name, "expr": expr, "scope_qualname": scope,
           "bstart": b, "bend": b + expr.len() as i64 + 2})
}

fn scan(path: &str, module: &str) -> Value {
    json!({"path": path, "module": module})
}

/// CALLS `(callsite bstart, dst id, confidence)` of file `path`.
fn calls_from(
    out: &HashMap<String, Vec<Row>>,
    path: &str,
    calls: &[(i64, &str)],
) -> Vec<(i64, String, f64)> {
    let mut v = Vec::new();
    for (b, expr) in calls {
        let id = span_id("CALLSITE", path, *b, *b + expr.len() as i64 + 2);
        for (s, d, conf, _) in edges(out, "CALLS") {
            if s == id {
                v.push((*b, d, conf));
            }
        }
    }
    v
}

#[test]
fn lexical_calls_resolve_through_nested_function_scopes() {
    let p = "m.py";
    let mut w = World::new();
    w.add("repo_scan", vec![scan(p, "m")]).syntax(vec![
        module_row(p, 200),
        def_row(p, "function", "g", "g", "", 0, 10),
        def_row(p, "function", "f", "f", "", 20, 100),
        def_row(p, "function", "g", "f.<locals>.g", "f", 30, 40),
        call_row(p, "g", "f", 50),
        call_row(p, "g", "", 150),
    ]);
    let out = w.run(POLICY);
    let got = calls_from(&out, p, &[(50, "g"), (150, "g")]);
    assert_eq!(
        got,
        vec![
            (50, span_id("FUNCTION", p, 30, 40), 0.8),
            (150, span_id("FUNCTION", p, 0, 10), 0.8)
        ]
    );
}

#[test]
fn class_scopes_are_skipped_by_name_resolution_but_self_reaches_methods() {
    let p = "m.py";
    let mut w = World::new();
    w.add("repo_scan", vec![scan(p, "m")]).syntax(vec![
        module_row(p, 300),
        def_row(p, "function", "helper", "helper", "", 0, 10),
        def_row(p, "class", "C", "C", "", 20, 200),
        def_row(p, "function", "helper", "C.helper", "C", 30, 40),
        def_row(p, "function", "m", "C.m", "C", 50, 150),
        call_row(p, "helper", "C.m", 60),
        call_row(p, "self.helper", "C.m", 80),
    ]);
    let out = w.run(POLICY);
    let got = calls_from(&out, p, &[(60, "helper"), (80, "self.helper")]);
    assert_eq!(
        got,
        vec![
            (60, span_id("FUNCTION", p, 0, 10), 0.8),
            (80, span_id("FUNCTION", p, 30, 40), 0.7)
        ]
    );
}

#[test]
fn inheritance_mro_super_and_overrides() {
    let p = "m.py";
    let mut w = World::new();
    w.add("repo_scan", vec![scan(p, "m")]).syntax(vec![
        module_row(p, 400),
        def_row(p, "class", "A", "A", "", 0, 50),
        def_row(p, "function", "run", "A.run", "A", 10, 20),
        def_row(p, "function", "only_a", "A.only_a", "A", 25, 35),
        json!({"path": p, "kind": "class", "name": "B", "qualname": "B", "scope_qualname": "",
               "bstart": 100, "bend": 200, "detail": "{\"bases\":[\"A\"]}"}),
        def_row(p, "function", "run", "B.run", "B", 110, 190),
        call_row(p, "super().run", "B.run", 120),
        call_row(p, "self.only_a", "B.run", 150),
        call_row(p, "B.only_a", "", 300),
    ]);
    let out = w.run(POLICY);
    let (a, b) = (span_id("CLASS", p, 0, 50), span_id("CLASS", p, 100, 200));
    let inh = edges(&out, "INHERITS_FROM");
    assert_eq!(inh, vec![(b, a, 0.8, "lexical".to_string())]);
    let ov = edges(&out, "OVERRIDES");
    let (a_run, b_run) = (
        span_id("FUNCTION", p, 10, 20),
        span_id("FUNCTION", p, 110, 190),
    );
    assert_eq!(ov, vec![(b_run, a_run.clone(), 0.8, "lexical".to_string())]);
    let only_a = span_id("FUNCTION", p, 25, 35);
    let got = calls_from(
        &out,
        p,
        &[
            (120, "super().run"),
            (150, "self.only_a"),
            (300, "B.only_a"),
        ],
    );
    assert_eq!(
        got,
        vec![
            (120, a_run, 0.7),
            (150, only_a.clone(), 0.7),
            (300, only_a, 0.7)
        ]
    );
}

#[test]
fn imports_resolve_across_modules_and_conditional_imports_get_0_9() {
    let mut w = World::new();
    w.add("repo_scan", vec![scan("pkg/a.py", "pkg.a"), scan("pkg/b.py", "pkg.b")])
        .syntax(vec![
            module_row("pkg/a.py", 100),
            call_row("pkg/a.py", "helper", "", 50),
            call_row("pkg/a.py", "b.helper", "", 70),
            module_row("pkg/b.py", 100),
            def_row("pkg/b.py", "function", "helper", "helper", "", 0, 20),
        ])
        .add(
            "python_imports",
            vec![
                json!({"path": "pkg/a.py", "kind": "from", "module": "b", "level": 1, "name": "helper",
                    "bound_name": "helper", "absolute_module": "pkg.b", "target_kind": "attribute",
                    "resolved_module": "pkg.b", "resolved_path": "pkg/b.py", "resolved_name": "helper",
                    "conditional": true, "in_try": true, "bstart": 10, "bend": 16}),
                json!({"path": "pkg/a.py", "kind": "from", "module": null, "level": 1, "name": "b",
                    "bound_name": "b", "absolute_module": "pkg", "target_kind": "module",
                    "resolved_module": "pkg.b", "resolved_path": "pkg/b.py",
                    "bstart": 30, "bend": 31}),
            ],
        );
    let out = w.run(POLICY);
    let (ma, mb) = (
        span_id("MODULE", "pkg/a.py", 0, 100),
        span_id("MODULE", "pkg/b.py", 0, 100),
    );
    let helper = span_id("FUNCTION", "pkg/b.py", 0, 20);
    assert_eq!(
        edges(&out, "IMPORTS"),
        vec![(ma, mb.clone(), 1.0, "python_imports".to_string())]
    );
    let mut rt = edges(&out, "RESOLVES_TO");
    rt.sort_by(|x, y| x.2.partial_cmp(&y.2).unwrap());
    assert_eq!(
        rt,
        vec![
            (
                span_id("IMPORT", "pkg/a.py", 10, 16),
                helper.clone(),
                0.9,
                "python_imports".into()
            ),
            (
                span_id("IMPORT", "pkg/a.py", 30, 31),
                mb,
                1.0,
                "python_imports".into()
            ),
        ]
    );
    let got = calls_from(&out, "pkg/a.py", &[(50, "helper"), (70, "b.helper")]);
    assert_eq!(got, vec![(50, helper.clone(), 0.8), (70, helper, 0.8)]);
}

#[test]
fn scip_targets_win_over_lexical_and_are_disabled_by_policy() {
    let p = "m.py";
    let sym = "scip-python python x . `m`/target().";
    let mut w = World::new();
    w.add("repo_scan", vec![scan(p, "m")])
        .syntax(vec![
            module_row(p, 300),
            def_row(p, "function", "target", "target", "", 0, 30),
            def_row(p, "function", "other", "other", "", 40, 60),
            call_row(p, "other", "", 100),
        ])
        .add(
            "scip",
            vec![
                json!({"kind": "occurrence", "path": p, "symbol": sym, "is_definition": true,
                       "roles": 1, "bstart": 4, "bend": 10}),
                json!({"kind": "occurrence", "path": p, "symbol": sym, "is_definition": false,
                       "roles": 8, "bstart": 100, "bend": 105}),
            ],
        );
    let out = w.run(POLICY);
    let got = edges(&out, "CALLS");
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].1.clone(), got[0].2, got[0].3.as_str()),
        (span_id("FUNCTION", p, 0, 30), 1.0, "scip")
    );
    let out = w.run(ViewPolicy {
        use_scip: false,
        min_confidence_bp: 0,
    });
    let got = edges(&out, "CALLS");
    assert_eq!(
        (got[0].1.clone(), got[0].3.as_str()),
        (span_id("FUNCTION", p, 40, 60), "lexical")
    );
}

#[test]
fn references_create_name_ref_nodes_only_with_a_target_and_skip_callees() {
    let p = "m.py";
    let mut w = World::new();
    w.add("repo_scan", vec![scan(p, "m")]).syntax(vec![
        module_row(p, 300),
        def_row(p, "function", "f", "f", "", 0, 30),
        json!({"path": p, "kind": "name", "name": "f", "ctx": "load", "bstart": 100, "bend": 101}),
        json!({"path": p, "kind": "name", "name": "nope", "ctx": "load", "bstart": 110, "bend": 114}),
        json!({"path": p, "kind": "name", "name": "f", "ctx": "load", "bstart": 120, "bend": 121}),
        call_row(p, "f", "", 120),
    ]);
    let out = w.run(POLICY);
    let r = span_id("NAME_REF", p, 100, 101);
    let f = span_id("FUNCTION", p, 0, 30);
    assert_eq!(
        edges(&out, "REFERENCES"),
        vec![(r.clone(), f, 0.8, "lexical".to_string())]
    );
    let refs: Vec<&Row> = out["cpg_nodes"]
        .iter()
        .filter(|n| n["kind"] == "NAME_REF")
        .collect();
    assert_eq!(refs.len(), 1);
    assert_eq!(refs[0]["node_id"], json!(r));
    let contains = edges(&out, "CONTAINS");
    assert!(contains
        .iter()
        .any(|e| e.1 == r && e.0 == span_id("MODULE", p, 0, 300)));
}

#[test]
fn structure_edges_link_file_module_definitions_parameters_and_callsites() {
    let p = "m.py";
    let mut w = World::new();
    w.add("repo_scan", vec![scan(p, "m")]).syntax(vec![
        module_row(p, 300),
        def_row(p, "function", "f", "f", "", 0, 100),
        json!({"path": p, "kind": "parameter", "name": "x", "scope_qualname": "f", "parent_ordinal": 1,
               "bstart": 6, "bend": 7, "detail": "{\"has_default\":false,\"index\":0,\"kind\":\"positional\"}"}),
        call_row(p, "print", "f", 20),
    ]);
    let out = w.run(POLICY);
    let (file, module) = (
        stable_id("FILE", &[IdField::Text(p)]),
        span_id("MODULE", p, 0, 300),
    );
    let f = span_id("FUNCTION", p, 0, 100);
    let x = span_id("PARAMETER", p, 6, 7);
    let cs = span_id("CALLSITE", p, 20, 27);
    let pairs = |k: &str| {
        edges(&out, k)
            .into_iter()
            .map(|e| (e.0, e.1))
            .collect::<Vec<_>>()
    };
    let mut contains = pairs("CONTAINS");
    contains.sort();
    let mut want = vec![(file, module.clone()), (f.clone(), cs)];
    want.sort();
    assert_eq!(contains, want);
    assert_eq!(pairs("DEFINES"), vec![(module, f.clone())]);
    assert_eq!(pairs("HAS_PARAMETER"), vec![(f, x.clone())]);
    let qual: Vec<&Row> = out["cpg_nodes"]
        .iter()
        .filter(|n| n["node_id"] == json!(x))
        .collect();
    assert_eq!(qual[0]["qualname"], json!("m.f.x"));
}

#[test]
fn span_conflicts_name_the_other_source_and_its_span() {
    let p = "m.py";
    let mut w = World::new();
    w.add("repo_scan", vec![scan(p, "m")])
        .syntax(vec![
            module_row(p, 300),
            def_row(p, "function", "f", "f", "", 0, 100),
        ])
        .add(
            "cst",
            vec![
                module_row(p, 300),
                def_row(p, "function", "f", "f", "", 0, 90),
            ],
        )
        .add(
            "tree_sitter",
            vec![
                module_row(p, 300),
                def_row(p, "function", "f", "f", "", 0, 100),
            ],
        );
    let out = w.run(POLICY);
    let sc = &out["span_conflicts"];
    assert_eq!(sc.len(), 1);
    assert_eq!(
        sc[0]["message"],
        json!("function f spans ast [0,100) but cst [0,90)")
    );
    assert_eq!(
        sc[0]["context"],
        json!(
            "{\"kind\":\"function\",\"other\":\"cst\",\"other_bend\":90,\"other_bstart\":0,\"qualname\":\"f\",\"winner\":\"ast\"}"
        )
    );
    let id = stable_id(
        "DIAGNOSTIC",
        &[
            IdField::Text("SEM_SPAN_CONFLICT"),
            IdField::Text(p),
            IdField::Int(0),
            IdField::Int(100),
            IdField::Text("semantic"),
            IdField::Int(0),
        ],
    );
    assert_eq!(sc[0]["diagnostic_id"], json!(id));
}

#[test]
fn an_error_in_ast_makes_cst_the_winning_source() {
    let p = "m.py";
    let mut w = World::new();
    w.add("repo_scan", vec![scan(p, "m")])
        .syntax(vec![module_row(p, 300)])
        .add("cst", vec![module_row(p, 300), def_row(p, "function", "f", "f", "", 0, 90)])
        .add("extract_diagnostics", vec![json!({"path": p, "extractor": "ast", "severity": "error", "code": "EXTRACT_SYNTAX_ERROR"})]);
    let out = w.run(POLICY);
    assert!(out["syntax"].iter().all(|r| r["source"] == "cst"));
    let f: Vec<&Row> = out["cpg_nodes"]
        .iter()
        .filter(|n| n["kind"] == "FUNCTION")
        .collect();
    assert_eq!(f[0]["evidence_source"], json!("cst"));
    let d: Vec<&Row> = out["diagnostics"]
        .iter()
        .filter(|d| d["code"] == "EXTRACT_SYNTAX_ERROR")
        .collect();
    assert_eq!(
        (d[0]["stage"].clone(), d[0]["severity"].clone()),
        (json!("extract"), json!("error"))
    );
}

#[test]
fn missing_evidence_is_reported_per_empty_table_in_contract_order() {
    let p = "m.py";
    let mut w = World::new();
    w.add("repo_scan", vec![scan(p, "m")])
        .syntax(vec![module_row(p, 10)]);
    let out = w.run(POLICY);
    let mut got: Vec<(String, String)> = out["diagnostics"]
        .iter()
        .filter(|d| d["code"] == "SEM_MISSING_EVIDENCE")
        .map(|d| {
            (
                d["message"].as_str().unwrap().to_string(),
                d["diagnostic_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, String)> = [
        ("cst", 1),
        ("tree_sitter", 2),
        ("bytecode", 3),
        ("symtable", 4),
        ("scip", 5),
    ]
    .iter()
    .map(|(t, i)| {
        let id = stable_id(
            "DIAGNOSTIC",
            &[
                IdField::Text("SEM_MISSING_EVIDENCE"),
                IdField::Text(""),
                IdField::Null,
                IdField::Null,
                IdField::Text("semantic"),
                IdField::Int(*i),
            ],
        );
        (format!("evidence table {t} has no rows"), id)
    })
    .collect();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn min_confidence_drops_lower_edges() {
    let p = "m.py";
    let mut w = World::new();
    w.add("repo_scan", vec![scan(p, "m")]).syntax(vec![
        module_row(p, 300),
        def_row(p, "function", "f", "f", "", 0, 30),
        call_row(p, "f", "", 100),
    ]);
    let low = w.run(ViewPolicy {
        use_scip: true,
        min_confidence_bp: 8000,
    });
    assert_eq!(edges(&low, "CALLS").len(), 1);
    let high = w.run(ViewPolicy {
        use_scip: true,
        min_confidence_bp: 8001,
    });
    assert_eq!(edges(&high, "CALLS").len(), 0);
    assert!(!edges(&high, "CONTAINS").is_empty());
}

#[test]
fn props_are_typed_and_null_values_are_not_written() {
    let p = "m.py";
    let mut w = World::new();
    w.add("repo_scan", vec![json!({"path": p, "module": "m", "encoding": "utf-8", "line_count": 3})])
        .syntax(vec![
            module_row(p, 300),
            json!({"path": p, "kind": "function", "name": "g", "qualname": "g", "bstart": 0, "bend": 30,
                   "detail": "{\"decorators\":[\"a.b\"],\"docstring\":false,\"is_async\":true,\"is_method\":false}"}),
        ])
        .add("bytecode", vec![json!({"path": p, "kind": "code", "code_qualname": "g",
            "detail": "{\"flags\":[\"GENERATOR\",\"OPTIMIZED\"]}"})]);
    let out = w.run(POLICY);
    let g = span_id("FUNCTION", p, 0, 30);
    let mut props: Vec<(String, String, String)> = out["cpg_props"]
        .iter()
        .filter(|r| r["node_id"] == json!(g))
        .map(|r| {
            (
                r["key"].as_str().unwrap().into(),
                r["value"].as_str().unwrap().into(),
                r["value_type"].as_str().unwrap().into(),
            )
        })
        .collect();
    props.sort();
    let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(
        props,
        vec![
            s("decorators", "[\"a.b\"]", "json"),
            s("docstring", "false", "bool"),
            s("is_async", "true", "bool"),
            s("is_generator", "true", "bool"),
        ]
    );
    let file = stable_id("FILE", &[IdField::Text(p)]);
    let mut fp: Vec<String> = out["cpg_props"]
        .iter()
        .filter(|r| r["node_id"] == json!(file))
        .map(|r| {
            format!(
                "{}={}",
                r["key"].as_str().unwrap(),
                r["value"].as_str().unwrap()
            )
        })
        .collect();
    fp.sort();
    assert_eq!(
        fp,
        vec![
            "encoding=utf-8",
            "is_package=false",
            "line_count=3",
            "module=m"
        ]
    );
}

#[test]
fn results_do_not_depend_on_target_partitions() {
    let p = "m.py";
    let build = |n: usize| {
        let mut w = World::with_partitions(n);
        w.add("repo_scan", vec![scan(p, "m")]).syntax(vec![
            module_row(p, 300),
            def_row(p, "function", "f", "f", "", 0, 30),
            def_row(p, "function", "f", "f", "", 40, 60),
            call_row(p, "f", "", 35),
            call_row(p, "f", "", 100),
        ]);
        let out = w.run(POLICY);
        let mut all: Vec<String> = out
            .iter()
            .flat_map(|(k, rows)| {
                rows.iter()
                    .map(move |r| format!("{k}:{}", Value::Object(r.clone())))
            })
            .collect();
        all.sort();
        all
    };
    assert_eq!(build(1), build(4));
}

#[test]
fn stable_id_udf_matches_the_shared_vectors() {
    use datafusion::prelude::lit;
    let raw = include_str!("../../../contract/id_vectors.json");
    let doc: Value = serde_json::from_str(raw).unwrap();
    let ctx = SessionContext::new();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for v in doc["vectors"].as_array().unwrap() {
        let fields: Vec<datafusion::prelude::Expr> = v["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| match f {
                Value::String(s) => lit(s.clone()),
                Value::Number(n) => lit(n.as_i64().unwrap()),
                _ => lit(datafusion::common::ScalarValue::Utf8(None)),
            })
            .collect();
        let e = super::udf::stable_id(lit(v["kind"].as_str().unwrap()), fields).alias("id");
        let one = datafusion::arrow::array::Int64Array::from(vec![0i64]);
        let batch = RecordBatch::try_from_iter(vec![(
            "x",
            Arc::new(one) as datafusion::arrow::array::ArrayRef,
        )])
        .unwrap();
        let df = ctx.read_batch(batch).unwrap().select(vec![e]).unwrap();
        let rows = to_rows(&rt.block_on(df.collect()).unwrap());
        assert_eq!(rows[0]["id"], v["id"], "vector {v}");
    }
}

#[test]
fn a_diamond_keeps_each_class_at_its_last_depth_first_place() {
    let p = "m.py";
    let class = |name: &str, bases: &str, b: i64, e: i64| {
        json!({"path": p, "kind": "class", "name": name, "qualname": name, "scope_qualname": "",
               "bstart": b, "bend": e, "detail": format!("{{\"bases\":{bases}}}")})
    };
    let mut w = World::new();
    w.add("repo_scan", vec![scan(p, "m")]).syntax(vec![
        module_row(p, 500),
        class("Base", "[]", 0, 50),
        def_row(p, "function", "who", "Base.who", "Base", 10, 20),
        class("Left", "[\"Base\"]", 60, 100),
        class("Right", "[\"Base\"]", 110, 200),
        def_row(p, "function", "who", "Right.who", "Right", 120, 130),
        class("Bottom", "[\"Left\",\"Right\"]", 210, 300),
        def_row(p, "function", "who", "Bottom.who", "Bottom", 220, 290),
    ]);
    let out = w.run(POLICY);
    let bottom_who = span_id("FUNCTION", p, 220, 290);
    let right_who = span_id("FUNCTION", p, 120, 130);
    let ov: Vec<_> = edges(&out, "OVERRIDES")
        .into_iter()
        .filter(|e| e.0 == bottom_who)
        .collect();
    assert_eq!(ov.len(), 1);
    assert_eq!(ov[0].1, right_who);
}

#[test]
fn star_imports_bind_exported_top_level_names() {
    let mut w = World::new();
    w.add("repo_scan", vec![scan("a.py", "a"), scan("b.py", "b"), scan("c.py", "c")])
        .syntax(vec![
            module_row("a.py", 300),
            call_row("a.py", "pub", "", 100),
            call_row("a.py", "_hid", "", 120),
            call_row("a.py", "listed", "", 140),
            call_row("a.py", "unlisted", "", 160),
            module_row("b.py", 100),
            def_row("b.py", "function", "pub", "pub", "", 0, 10),
            def_row("b.py", "function", "_hid", "_hid", "", 20, 30),
            json!({"path": "c.py", "kind": "module", "qualname": "", "bstart": 0, "bend": 100,
                   "detail": "{\"all\":[\"listed\"]}"}),
            def_row("c.py", "function", "listed", "listed", "", 0, 10),
            def_row("c.py", "function", "unlisted", "unlisted", "", 20, 30),
        ])
        .add(
            "python_imports",
            ["b", "c"]
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    json!({"path": "a.py", "kind": "star", "module": m, "name": "*", "absolute_module": m,
                           "target_kind": "module", "resolved_module": m, "resolved_path": format!("{m}.py"),
                           "bstart": 10 * i as i64, "bend": 10 * i as i64 + 1})
                })
                .collect(),
        );
    let out = w.run(POLICY);
    let got = calls_from(
        &out,
        "a.py",
        &[
            (100, "pub"),
            (120, "_hid"),
            (140, "listed"),
            (160, "unlisted"),
        ],
    );
    assert_eq!(
        got,
        vec![
            (100, span_id("FUNCTION", "b.py", 0, 10), 0.8),
            (140, span_id("FUNCTION", "c.py", 0, 10), 0.8)
        ]
    );
}

/// End to end over real evidence: `CA_E2E` names a file of `spec.json<TAB>outputs_dir` lines;
/// each spec is run with `run::run` (outputs checked by the Python fact checker afterwards).
#[test]
#[ignore]
fn end_to_end_specs_from_env() {
    let Ok(list) = std::env::var("CA_E2E") else {
        return;
    };
    let text = std::fs::read_to_string(list).unwrap();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (spec, out) = line.split_once('\t').unwrap();
        let json = std::fs::read_to_string(spec).unwrap();
        let t = std::time::Instant::now();
        match crate::run::run(&json, std::path::Path::new(out), None) {
            Ok(_) => println!("ok {spec} in {:.2}s", t.elapsed().as_secs_f64()),
            Err(e) => panic!("{spec}: {e:?}"),
        }
    }
}
