//! Diagnostics (§13.4), the union views `cpg_nodes` / `cpg_edges`, `cpg_props` (§13.5) and
//! `evidence_summary` (§6).

use super::diagnostics::txt;
use super::udf::{json_get, json_text, stable_id};
use super::util::{asc, c, first_by, join, null_i64, null_str, sel, union_all};
use super::Inputs;
use super::ViewPolicy;
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

/// `cpg_edges`: the six edge views at or above the policy's minimum confidence
/// (`round(confidence * 10000) >= min_confidence_bp`; confidences are positive, so rounding is
/// `+0.5` then truncation). Each edge view is already one row per `(kind, src, dst)` and the
/// views' kinds are disjoint, so the union needs no further deduplication.
pub fn cpg_edges(i: &Inputs<'_>, policy: &ViewPolicy) -> Result<DataFrame> {
    let all = union_views(
        i,
        &[
            "structure_edges",
            "import_edges",
            "inherit_edges",
            "override_edges",
            "call_edges",
            "reference_edges",
        ],
    )?;
    let bp = cast(
        c("confidence") * lit(10000.0f64) + lit(0.5f64),
        DataType::Int64,
    );
    all.filter(bp.gt_eq(lit(policy.min_confidence_bp)))
}

fn prop(df: DataFrame, id: Expr, key: &str, value: Expr, vtype: &str) -> Result<DataFrame> {
    sel(
        df,
        vec![
            (id, "node_id"),
            (lit(key.to_string()), "key"),
            (value, "value"),
            (lit(vtype.to_string()), "value_type"),
        ],
    )
}

fn bool_text(e: Expr) -> Result<Expr> {
    when(e.clone().is_null(), null_str())
        .when(e, lit("true"))
        .otherwise(lit("false"))
}

/// `cpg_props` (§6, §13.5).
pub fn cpg_props(i: &Inputs<'_>) -> Result<DataFrame> {
    let repo_scan = i.get("repo_scan")?;
    let mut p = Vec::new();

    let files = repo_scan.clone().filter(c("is_python"))?;
    let fid = stable_id(lit("FILE"), vec![c("path")]);
    p.push(prop(
        files.clone(),
        fid.clone(),
        "encoding",
        c("encoding"),
        "str",
    )?);
    p.push(prop(
        files.clone(),
        fid.clone(),
        "newline",
        c("newline"),
        "str",
    )?);
    p.push(prop(
        files.clone(),
        fid.clone(),
        "line_count",
        txt(c("line_count")),
        "int",
    )?);
    p.push(prop(
        files.clone(),
        fid.clone(),
        "is_package",
        bool_text(c("is_package"))?,
        "bool",
    )?);
    p.push(prop(files, fid, "module", c("module"), "str")?);

    let d = i.defs()?;
    let classes = d.clone().filter(c("d_kind").eq(lit("CLASS")))?;
    p.push(prop(
        classes.clone(),
        c("d_id"),
        "bases",
        json_get(c("d_detail"), "bases"),
        "json",
    )?);
    p.push(prop(
        classes.clone(),
        c("d_id"),
        "decorators",
        json_get(c("d_detail"), "decorators"),
        "json",
    )?);
    p.push(prop(
        classes,
        c("d_id"),
        "docstring",
        json_text(c("d_detail"), "docstring"),
        "bool",
    )?);
    let funcs = d.filter(c("d_kind").eq(lit("FUNCTION")))?;
    p.push(prop(
        funcs.clone(),
        c("d_id"),
        "is_async",
        json_text(c("d_detail"), "is_async"),
        "bool",
    )?);
    p.push(prop(
        funcs.clone(),
        c("d_id"),
        "decorators",
        json_get(c("d_detail"), "decorators"),
        "json",
    )?);
    p.push(prop(
        funcs.clone(),
        c("d_id"),
        "docstring",
        json_text(c("d_detail"), "docstring"),
        "bool",
    )?);
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
    let gen_ = join(
        funcs,
        code,
        JoinType::Inner,
        &[("d_path", "b_path"), ("d_local", "b_q")],
        None,
    )?;
    let is_gen = when(
        strpos(c("b_flags"), lit("\"GENERATOR\"")).gt(lit(0i64)),
        lit("true"),
    )
    .otherwise(lit("false"))?;
    p.push(prop(gen_, c("d_id"), "is_generator", is_gen, "bool")?);

    let params = i.parameter_rows()?;
    p.push(prop(
        params.clone(),
        c("x_id"),
        "param_kind",
        json_text(c("detail"), "kind"),
        "str",
    )?);
    p.push(prop(
        params.clone(),
        c("x_id"),
        "param_index",
        json_text(c("detail"), "index"),
        "int",
    )?);
    p.push(prop(
        params,
        c("x_id"),
        "has_default",
        json_text(c("detail"), "has_default"),
        "bool",
    )?);

    let imps = i.import_rows()?;
    p.push(prop(
        imps.clone(),
        c("i_id"),
        "import_kind",
        c("kind"),
        "str",
    )?);
    p.push(prop(
        imps.clone(),
        c("i_id"),
        "import_level",
        txt(c("level")),
        "int",
    )?);
    p.push(prop(
        imps,
        c("i_id"),
        "module",
        c("absolute_module"),
        "str",
    )?);

    p.push(prop(
        i.call_rows()?,
        c("x_id"),
        "callee_expr",
        c("expr"),
        "str",
    )?);

    let ext = i.external_modules()?;
    let eid = stable_id(lit("EXTERNAL_MODULE"), vec![c("module")]);
    p.push(prop(
        ext.clone(),
        eid.clone(),
        "classification",
        c("classification"),
        "str",
    )?);
    p.push(prop(ext, eid, "distribution", c("distribution"), "str")?);

    let sym = i.scip_symbols()?;
    p.push(prop(
        sym,
        stable_id(lit("SYMBOL"), vec![c("symbol")]),
        "scip_symbol",
        c("symbol"),
        "str",
    )?);

    let all = union_all(p)?.filter(c("value").is_not_null())?;
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

/// `evidence_summary`: one row per evidence table (§6). `delta_version` is not known to the
/// views (the engine pins inputs): null here.
pub fn evidence_summary(i: &Inputs<'_>) -> Result<DataFrame> {
    let diag = i.get("extract_diagnostics")?;
    let nonempty = |e: Expr| {
        when(e.clone().is_not_null().and(e.clone().not_eq(lit(""))), e).otherwise(null_str())
    };
    let mut frames = Vec::new();
    for name in EVIDENCE_TABLE_NAMES {
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
