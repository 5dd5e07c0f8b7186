//! The `span_conflicts` and `diagnostics` views (§13.4).

use super::base::{source_rows, syntax_errors, SYNTAX_SOURCES};
use super::inputs::Inputs;
use super::memo::materialize;
use super::udf::{json_quote, stable_id};
use super::util::{asc, c, first_by, join, null_i64, sel, union_all};
use crate::contract::CONTRACT;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::functions::expr_fn::concat;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{ExprFunctionExt, JoinType};
use datafusion::prelude::{cast, lit, when, DataFrame, Expr};

/// An integer column as decimal text.
pub fn txt(e: Expr) -> Expr {
    cast(e, DataType::Utf8)
}

fn diag_id(code: Expr, path: Expr, b: Expr, e: Expr, source: Expr, ordinal: Expr) -> Expr {
    stable_id(lit("DIAGNOSTIC"), vec![code, path, b, e, source, ordinal])
}

/// Tables whose emptiness yields `SEM_MISSING_EVIDENCE`, in contract order.
const MISSING_CHECKED: [&str; 6] = ["ast", "cst", "tree_sitter", "bytecode", "symtable", "scip"];

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
    // A definition conflicts with another source when no row of that source with the same
    // kind and qualname has the same span; the first such row by ordinal is reported.
    let j = materialize("span_conflicts.pairs", j)?;
    let same = c("o_b").eq(c("w_b")).and(c("o_e").eq(c("w_e")));
    let matched = sel(
        j.clone().filter(same)?,
        vec![
            (c("w_path"), "m_path"),
            (c("w_ordinal"), "m_ordinal"),
            (c("o_src"), "m_src"),
        ],
    )?
    .distinct()?;
    let j = join(
        j,
        matched,
        JoinType::LeftAnti,
        &[
            ("w_path", "m_path"),
            ("w_ordinal", "m_ordinal"),
            ("o_src", "m_src"),
        ],
        None,
    )?;
    let j = first_by(
        j,
        vec![c("w_path"), c("w_ordinal"), c("o_src")],
        vec![asc(c("o_ordinal"))],
    )?;
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

/// The registered stage of a warning code (`codes.WARNING_CODES`); `extract` for any other.
fn stage_of(code: Expr) -> Result<Expr> {
    let mut it = CONTRACT.warning_codes.iter();
    let Some(first) = it.next() else {
        return Ok(lit("extract"));
    };
    let mut case = when(code.clone().eq(lit(first.code)), lit(first.stage));
    for w in it {
        case = case.when(code.clone().eq(lit(w.code)), lit(w.stage));
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
