//! The union views `cpg_nodes` / `cpg_edges`, `cpg_props` (§13.5) and `evidence_summary` (§6).

use super::diagnostics::txt;
use super::inputs::{Inputs, ViewPolicy};
use super::udf::{json_get, json_text, stable_id};
use super::util::{asc, c, first_by, join, null_i64, null_str, sel, union_all};
use crate::contract::EVIDENCE_TABLE_NAMES;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::functions::expr_fn::strpos;
use datafusion::functions_aggregate::expr_fn::{count, count_distinct};
use datafusion::logical_expr::JoinType;
use datafusion::prelude::{cast, lit, when, DataFrame, Expr};

/// The union of views with the same (contract) schema.
pub fn union_views(i: &Inputs<'_>, names: &[&str]) -> Result<DataFrame> {
    union_all(names.iter().map(|n| i.get(n)).collect::<Result<Vec<_>>>()?)
}

/// `cpg_edges`: the rows of the edge views `views` at or above the policy's minimum confidence
/// (`round(confidence * 10000) >= min_confidence_bp`; confidences are positive, so rounding is
/// `+0.5` then truncation). Each edge view is already one row per `(kind, src, dst)` and the
/// views' kinds are disjoint, so the union needs no further deduplication.
pub fn cpg_edges(i: &Inputs<'_>, views: &[&str], policy: &ViewPolicy) -> Result<DataFrame> {
    let all = union_views(i, views)?;
    let bp = cast(
        c("confidence") * lit(10000.0f64) + lit(0.5f64),
        DataType::Int64,
    );
    all.filter(bp.gt_eq(lit(policy.min_confidence_bp)))
}

fn bool_text(e: Expr) -> Result<Expr> {
    when(e.clone().is_null(), null_str())
        .when(e, lit("true"))
        .otherwise(lit("false"))
}

/// The rows a group of properties is read from, the node ID of each row, and each property's
/// `(key, value, value_type)`.
struct PropGroup {
    rows: DataFrame,
    node_id: Expr,
    props: Vec<(&'static str, Expr, &'static str)>,
}

/// `cpg_props` (§6, §13.5): one frame per property of each group, unioned; rows with a null
/// value and nodes outside `cpg_nodes` dropped; the first by `(value, value_type)` per
/// `(node_id, key)`.
pub fn cpg_props(i: &Inputs<'_>) -> Result<DataFrame> {
    let d = i.defs()?;
    let classes = d.clone().filter(c("d_kind").eq(lit("CLASS")))?;
    let funcs = d.filter(c("d_kind").eq(lit("FUNCTION")))?;
    let groups = vec![
        PropGroup {
            rows: i.get("repo_scan")?.filter(c("is_python"))?,
            node_id: stable_id(lit("FILE"), vec![c("path")]),
            props: vec![
                ("encoding", c("encoding"), "str"),
                ("newline", c("newline"), "str"),
                ("line_count", txt(c("line_count")), "int"),
                ("is_package", bool_text(c("is_package"))?, "bool"),
                ("module", c("module"), "str"),
            ],
        },
        PropGroup {
            rows: classes,
            node_id: c("d_id"),
            props: vec![
                ("bases", json_get(c("d_detail"), "bases"), "json"),
                ("decorators", json_get(c("d_detail"), "decorators"), "json"),
                ("docstring", json_text(c("d_detail"), "docstring"), "bool"),
            ],
        },
        PropGroup {
            rows: funcs.clone(),
            node_id: c("d_id"),
            props: vec![
                ("is_async", json_text(c("d_detail"), "is_async"), "bool"),
                ("decorators", json_get(c("d_detail"), "decorators"), "json"),
                ("docstring", json_text(c("d_detail"), "docstring"), "bool"),
            ],
        },
        PropGroup {
            rows: generators(i, funcs)?,
            node_id: c("d_id"),
            props: vec![("is_generator", is_generator()?, "bool")],
        },
        PropGroup {
            rows: i.parameter_rows()?,
            node_id: c("x_id"),
            props: vec![
                ("param_kind", json_text(c("detail"), "kind"), "str"),
                ("param_index", json_text(c("detail"), "index"), "int"),
                ("has_default", json_text(c("detail"), "has_default"), "bool"),
            ],
        },
        PropGroup {
            rows: i.import_rows()?,
            node_id: c("i_id"),
            props: vec![
                ("import_kind", c("kind"), "str"),
                ("import_level", txt(c("level")), "int"),
                ("module", c("absolute_module"), "str"),
            ],
        },
        PropGroup {
            rows: i.call_rows()?,
            node_id: c("x_id"),
            props: vec![("callee_expr", c("expr"), "str")],
        },
        PropGroup {
            rows: i.external_modules()?,
            node_id: stable_id(lit("EXTERNAL_MODULE"), vec![c("module")]),
            props: vec![
                ("classification", c("classification"), "str"),
                ("distribution", c("distribution"), "str"),
            ],
        },
        PropGroup {
            rows: i.scip_symbols()?,
            node_id: stable_id(lit("SYMBOL"), vec![c("symbol")]),
            props: vec![("scip_symbol", c("symbol"), "str")],
        },
    ];
    let mut frames = Vec::new();
    for g in groups {
        for (key, value, value_type) in g.props {
            frames.push(sel(
                g.rows.clone(),
                vec![
                    (g.node_id.clone(), "node_id"),
                    (lit(key), "key"),
                    (value, "value"),
                    (lit(value_type), "value_type"),
                ],
            )?);
        }
    }
    let all = union_all(frames)?.filter(c("value").is_not_null())?;
    let nodes = sel(i.get("cpg_nodes")?, vec![(c("node_id"), "nn_id")])?;
    let all = join(
        all,
        nodes,
        JoinType::LeftSemi,
        &[("node_id", "nn_id")],
        None,
    )?;
    first_by(
        all,
        vec![c("node_id"), c("key")],
        vec![asc(c("value")), asc(c("value_type"))],
    )
}

/// FUNCTION rows (`funcs`) joined with the first `code` row of their bytecode: `b_flags`.
fn generators(i: &Inputs<'_>, funcs: DataFrame) -> Result<DataFrame> {
    let code = i.get("bytecode")?.filter(c("kind").eq(lit("code")))?;
    let code = first_by(
        code,
        vec![c("path"), c("code_qualname")],
        vec![asc(c("ordinal"))],
    )?;
    let code = sel(
        code,
        vec![
            (c("path"), "b_path"),
            (c("code_qualname"), "b_q"),
            (json_get(c("detail"), "flags"), "b_flags"),
        ],
    )?;
    join(
        funcs,
        code,
        JoinType::Inner,
        &[("d_path", "b_path"), ("d_local", "b_q")],
        None,
    )
}

/// Whether the code object's flags (`b_flags`) name `GENERATOR`.
fn is_generator() -> Result<Expr> {
    when(
        strpos(c("b_flags"), lit("\"GENERATOR\"")).gt(lit(0i64)),
        lit("true"),
    )
    .otherwise(lit("false"))
}

/// `evidence_summary`: one row per evidence table (§6). `delta_version` is not known to the
/// views (the engine pins inputs): null here.
pub fn evidence_summary(i: &Inputs<'_>) -> Result<DataFrame> {
    let diag = i.get("extract_diagnostics")?;
    let nonempty = |e: Expr| {
        when(e.clone().is_not_null().and(e.clone().not_eq(lit(""))), e).otherwise(null_str())
    };
    let mut frames = Vec::new();
    for &name in EVIDENCE_TABLE_NAMES.iter() {
        let t = i.get(name)?.aggregate(
            vec![],
            vec![
                count(lit(1i64)).alias("s_rows"),
                count_distinct(nonempty(c("path"))?).alias("s_files"),
            ],
        )?;
        let t = t.with_column("s_key", lit(1i64))?;
        let w = diag
            .clone()
            .filter(c("extractor").eq(lit(name)))?
            .aggregate(
                vec![],
                vec![
                    count(lit(1i64)).alias("w_n"),
                    count_distinct(nonempty(c("path"))?).alias("w_files"),
                ],
            )?
            .with_column("w_key", lit(1i64))?;
        let j = join(t, w, JoinType::Inner, &[("s_key", "w_key")], None)?;
        frames.push(sel(
            j,
            vec![
                (lit(name), "source"),
                (c("s_files"), "files"),
                (c("s_rows"), "rows"),
                (c("w_files"), "files_with_warnings"),
                (c("w_n"), "warnings"),
                (null_i64(), "delta_version"),
            ],
        )?);
    }
    union_all(frames)
}
