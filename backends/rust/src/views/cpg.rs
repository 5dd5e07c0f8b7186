//! Diagnostics (§13.4), the union views `cpg_nodes` / `cpg_edges`, `cpg_props` (§13.5) and
//! `evidence_summary` (§6).

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::functions::expr_fn::{concat, strpos};
use datafusion::functions_aggregate::expr_fn::{count, count_distinct};
use datafusion::functions_aggregate::min_max::max_udaf;
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::{ExprFunctionExt, JoinType};
use datafusion::prelude::{cast, lit, when, DataFrame, Expr};

use super::base::{defs, import_rows, source_rows, syntax_errors, SYNTAX_SOURCES};
use super::nodes::{call_rows, parameter_rows};
use super::udf::{json_get, json_quote, json_text, stable_id};
use super::util::{asc, c, first_by, join, null_i64, null_str, sel, union_all};
use super::Inputs;
use super::ViewPolicy;
use crate::contract::EVIDENCE_TABLE_NAMES;

/// Stage of each registered warning code (codes.py `WARNING_CODES`).
const CODE_STAGES: [(&str, &str); 20] = [
    ("SCAN_SYMLINK_ESCAPE", "scan"),
    ("SCAN_SYMLINK_LOOP", "scan"),
    ("SCAN_UNREADABLE", "scan"),
    ("SCAN_BINARY_FILE", "scan"),
    ("SCAN_DECODE_ERROR", "scan"),
    ("SCAN_EMPTY_FILE", "scan"),
    ("EXTRACT_SYNTAX_ERROR", "extract"),
    ("EXTRACT_PARTIAL_PARSE", "extract"),
    ("EXTRACT_RECURSION_LIMIT", "extract"),
    ("EXTRACT_WORKER_CRASHED", "extract"),
    ("EXTRACT_TIMEOUT", "extract"),
    ("EXTRACT_FAILED", "extract"),
    ("EXTRACT_SPAN_UNMAPPED", "extract"),
    ("SCIP_UNAVAILABLE", "extract"),
    ("SCIP_FAILED", "extract"),
    ("SCIP_DOCUMENT_SKIPPED", "extract"),
    ("IMPORT_UNRESOLVED", "extract"),
    ("IMPORT_SOURCES_DISAGREE", "extract"),
    ("SEM_SPAN_CONFLICT", "normalize"),
    ("SEM_MISSING_EVIDENCE", "normalize"),
];

/// Tables whose emptiness yields `SEM_MISSING_EVIDENCE`, in contract order.
const MISSING_CHECKED: [&str; 6] = ["ast", "cst", "tree_sitter", "bytecode", "symtable", "scip"];

fn txt(e: Expr) -> Expr {
    cast(e, DataType::Utf8)
}

fn diag_id(code: Expr, path: Expr, b: Expr, e: Expr, source: Expr, ordinal: Expr) -> Expr {
    stable_id(lit("DIAGNOSTIC"), vec![code, path, b, e, source, ordinal])
}

/// DIAGNOSTICS columns from `(expr, name)` pairs in contract order.
#[allow(clippy::too_many_arguments)]
fn diag_frame(
    df: DataFrame,
    id: Expr,
    code: Expr,
    severity: Expr,
    stage: Expr,
    source: Expr,
    path: Expr,
    bstart: Expr,
    bend: Expr,
    message: Expr,
    context: Expr,
) -> Result<DataFrame> {
    sel(
        df,
        vec![
            (id, "diagnostic_id"),
            (code, "code"),
            (severity, "severity"),
            (stage, "stage"),
            (source, "source"),
            (path, "path"),
            (bstart, "bstart"),
            (bend, "bend"),
            (message, "message"),
            (context, "context"),
        ],
    )
}

/// `SEM_SPAN_CONFLICT` rows (§13.4).
pub fn span_conflicts(
    syntax: &DataFrame,
    ast: &DataFrame,
    cst: &DataFrame,
    ts: &DataFrame,
    diag: &DataFrame,
) -> Result<DataFrame> {
    let def_kinds = || vec![lit("class"), lit("function"), lit("lambda")];
    let w = sel(
        syntax
            .clone()
            .filter(c("kind").in_list(def_kinds(), false))?,
        vec![
            (c("path"), "w_path"),
            (c("ordinal"), "w_ordinal"),
            (c("kind"), "w_kind"),
            (c("qualname"), "w_q"),
            (c("bstart"), "w_b"),
            (c("bend"), "w_e"),
            (c("source"), "w_source"),
        ],
    )?;
    let mut others = Vec::new();
    for (rank, (src, df)) in SYNTAX_SOURCES.iter().zip([ast, cst, ts]).enumerate() {
        let rows = source_rows(df, src)?.filter(
            c("kind")
                .in_list(def_kinds(), false)
                .and(c("bstart").is_not_null()),
        )?;
        others.push(sel(
            rows,
            vec![
                (c("path"), "o_path"),
                (c("kind"), "o_kind"),
                (c("qualname"), "o_q"),
                (c("bstart"), "o_b"),
                (c("bend"), "o_e"),
                (c("ordinal"), "o_ordinal"),
                (lit(*src), "o_src"),
                (lit(rank as i64), "o_rank"),
            ],
        )?);
    }
    let o = join(
        union_all(others)?,
        syntax_errors(diag)?,
        JoinType::LeftAnti,
        &[("o_path", "e_path"), ("o_src", "e_source")],
        None,
    )?;
    let j = join(
        w,
        o,
        JoinType::Inner,
        &[("w_path", "o_path"), ("w_kind", "o_kind"), ("w_q", "o_q")],
        Some(c("o_src").not_eq(c("w_source"))),
    )?;
    let part = vec![c("w_path"), c("w_ordinal"), c("o_src")];
    let same =
        when(c("o_b").eq(c("w_b")).and(c("o_e").eq(c("w_e"))), lit(1i64)).otherwise(lit(0i64))?;
    let j = j.window(vec![
        Expr::from(WindowFunction::new(max_udaf(), vec![same]))
            .partition_by(part.clone())
            .build()?
            .alias("x_same"),
        row_number()
            .partition_by(part)
            .order_by(vec![asc(c("o_ordinal"))])
            .build()?
            .alias("x_rn"),
    ])?;
    let j = j.filter(c("x_same").eq(lit(0i64)).and(c("x_rn").eq(lit(1u64))))?;
    let j = j.window(vec![row_number()
        .partition_by(vec![c("w_path")])
        .order_by(vec![
            asc(c("w_b")),
            asc(c("w_e")),
            asc(c("o_rank")),
            asc(c("w_ordinal")),
        ])
        .build()?
        .alias("x_ord")])?;
    let j = j.with_column("x_ord", cast(c("x_ord"), DataType::Int64) - lit(1i64))?;
    let message = concat(vec![
        c("w_kind"),
        lit(" "),
        c("w_q"),
        lit(" spans "),
        c("w_source"),
        lit(" ["),
        txt(c("w_b")),
        lit(","),
        txt(c("w_e")),
        lit(") but "),
        c("o_src"),
        lit(" ["),
        txt(c("o_b")),
        lit(","),
        txt(c("o_e")),
        lit(")"),
    ]);
    let context = concat(vec![
        lit("{\"kind\":"),
        json_quote(c("w_kind")),
        lit(",\"other\":"),
        json_quote(c("o_src")),
        lit(",\"other_bend\":"),
        txt(c("o_e")),
        lit(",\"other_bstart\":"),
        txt(c("o_b")),
        lit(",\"qualname\":"),
        json_quote(c("w_q")),
        lit(",\"winner\":"),
        json_quote(c("w_source")),
        lit("}"),
    ]);
    diag_frame(
        j,
        diag_id(
            lit("SEM_SPAN_CONFLICT"),
            c("w_path"),
            c("w_b"),
            c("w_e"),
            lit("semantic"),
            c("x_ord"),
        ),
        lit("SEM_SPAN_CONFLICT"),
        lit("warning"),
        lit("normalize"),
        lit("semantic"),
        c("w_path"),
        c("w_b"),
        c("w_e"),
        message,
        context,
    )
}

fn stage_of(code: Expr) -> Result<Expr> {
    let mut it = CODE_STAGES.iter();
    let (c0, s0) = it.next().copied().unwrap_or(("", "extract"));
    let mut case = when(code.clone().eq(lit(c0)), lit(s0));
    for (cd, st) in it {
        case = case.when(code.clone().eq(lit(*cd)), lit(*st));
    }
    case.otherwise(lit("extract"))
}

/// `diagnostics`: Stage-0 rows, span conflicts, SEM_MISSING_EVIDENCE (§13.4).
pub fn diagnostics(i: &Inputs<'_>) -> Result<DataFrame> {
    let ed = i.get("extract_diagnostics")?;
    let stage0 = diag_frame(
        ed,
        diag_id(
            c("code"),
            c("path"),
            c("bstart"),
            c("bend"),
            c("extractor"),
            c("ordinal"),
        ),
        c("code"),
        c("severity"),
        stage_of(c("code"))?,
        c("extractor"),
        c("path"),
        c("bstart"),
        c("bend"),
        c("message"),
        c("detail"),
    )?;
    let conflicts = i.get("span_conflicts")?;
    let ok = i
        .get("repo_scan")?
        .filter(c("status").eq(lit("ok")).and(c("is_python")))?
        .aggregate(vec![], vec![count(lit(1i64)).alias("k_ok")])?
        .with_column("k_key", lit(1i64))?;
    let mut frames = vec![stage0, conflicts];
    for (idx, t) in MISSING_CHECKED.iter().enumerate() {
        let n = i
            .get(t)?
            .aggregate(vec![], vec![count(lit(1i64)).alias("k_n")])?
            .with_column("k_key2", lit(1i64))?;
        let j = join(n, ok.clone(), JoinType::Inner, &[("k_key2", "k_key")], None)?
            .filter(c("k_n").eq(lit(0i64)).and(c("k_ok").gt(lit(0i64))))?;
        frames.push(diag_frame(
            j,
            diag_id(
                lit("SEM_MISSING_EVIDENCE"),
                lit(""),
                null_i64(),
                null_i64(),
                lit("semantic"),
                lit(idx as i64),
            ),
            lit("SEM_MISSING_EVIDENCE"),
            lit("warning"),
            lit("normalize"),
            lit("semantic"),
            lit(""),
            null_i64(),
            null_i64(),
            lit(format!("evidence table {t} has no rows")),
            lit(format!("{{\"table\":\"{t}\"}}")),
        )?);
    }
    union_all(frames)
}

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
    let syntax = i.get("syntax")?;
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

    let d = defs(&syntax, &repo_scan)?;
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

    let params = parameter_rows(&syntax, &repo_scan)?;
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

    let imps = import_rows(&i.get("python_imports")?)?;
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
        call_rows(&syntax)?,
        c("x_id"),
        "callee_expr",
        c("expr"),
        "str",
    )?);

    let ext = first_by(
        i.get("python_external")?,
        vec![c("module")],
        vec![asc(c("path")), asc(c("ordinal"))],
    )?;
    let eid = stable_id(lit("EXTERNAL_MODULE"), vec![c("module")]);
    p.push(prop(
        ext.clone(),
        eid.clone(),
        "classification",
        c("classification"),
        "str",
    )?);
    p.push(prop(ext, eid, "distribution", c("distribution"), "str")?);

    let sym = i
        .get("scip")?
        .filter(c("kind").eq(lit("symbol")).and(c("path").is_not_null()))?;
    let sym = first_by(
        sym,
        vec![c("symbol")],
        vec![asc(c("path")), asc(c("ordinal"))],
    )?;
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
