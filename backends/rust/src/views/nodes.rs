//! Node views (§7, §13.1): FILE, MODULE, CLASS/FUNCTION, PARAMETER, CALLSITE, IMPORT, SYMBOL,
//! EXTERNAL_MODULE, NAME_REF and DIAGNOSTIC rows in the CPG_NODES layout (conformed by the caller).

use datafusion::common::Result;
use datafusion::functions::expr_fn::concat;
use datafusion::logical_expr::JoinType;
use datafusion::prelude::{lit, when, DataFrame, Expr};

use super::base::{prefixes, with_span_id, SPAN};
use super::udf::{stable_id, str_tail};
use super::util::{asc, c, first_by, join, null_i32, null_i64, null_str, sel};

/// Build a CPG_NODES frame from `df`: `id`, `kind`, `path`, span columns named `{sp}{col}` (or
/// all null when `sp` is None), `name`, `qualname`, `evidence_source`.
#[allow(clippy::too_many_arguments)]
fn node_frame(
    df: DataFrame,
    id: Expr,
    kind: Expr,
    path: Expr,
    sp: Option<&str>,
    name: Expr,
    qualname: Expr,
    source: Expr,
) -> Result<DataFrame> {
    let mut cols: Vec<(Expr, String)> = vec![
        (id, "node_id".into()),
        (kind, "kind".into()),
        (path, "path".into()),
    ];
    for (i, n) in SPAN.iter().enumerate() {
        let e = match sp {
            Some(p) => c(&format!("{p}{n}")),
            None if i < 2 => null_i64(),
            None => null_i32(),
        };
        cols.push((e, n.to_string()));
    }
    cols.extend([
        (name, "name".to_string()),
        (qualname, "qualname".into()),
        (source, "evidence_source".into()),
    ]);
    sel(
        df,
        cols.iter().map(|(e, n)| (e.clone(), n.as_str())).collect(),
    )
}

/// FILE: every `repo_scan` row with `is_python`.
pub fn file_nodes(repo_scan: &DataFrame) -> Result<DataFrame> {
    let df = repo_scan.clone().filter(c("is_python"))?;
    node_frame(
        df,
        stable_id(lit("FILE"), vec![c("path")]),
        lit("FILE"),
        c("path"),
        None,
        str_tail(c("path"), "/"),
        null_str(),
        lit("repo_scan"),
    )
}

/// MODULE: the winner's module row of every `ok` file.
pub fn module_nodes(m: DataFrame) -> Result<DataFrame> {
    node_frame(
        m,
        c("m_id"),
        lit("MODULE"),
        c("m_path"),
        Some("m_"),
        c("m_name"),
        c("m_qual"),
        c("m_source"),
    )
}

/// CLASS / FUNCTION: the winner's class, function and lambda rows.
pub fn definition_nodes(d: DataFrame) -> Result<DataFrame> {
    node_frame(
        d,
        c("d_id"),
        c("d_kind"),
        c("d_path"),
        Some("d_"),
        c("d_name"),
        c("d_qual"),
        c("d_source"),
    )
}

/// PARAMETER rows joined to their owner (function/lambda row with ordinal = parent_ordinal).
pub fn parameter_rows(syntax: &DataFrame, repo_scan: &DataFrame) -> Result<DataFrame> {
    let params = syntax.clone().filter(c("kind").eq(lit("parameter")))?;
    let owners = syntax
        .clone()
        .filter(c("kind").in_list(vec![lit("function"), lit("lambda")], false))?;
    let owners = join(
        owners,
        prefixes(repo_scan)?,
        JoinType::Inner,
        &[("path", "p_path")],
        None,
    )?;
    let owners = sel(
        owners,
        vec![
            (c("path"), "o_path"),
            (c("ordinal"), "o_ordinal"),
            (
                stable_id(lit("FUNCTION"), vec![c("path"), c("bstart"), c("bend")]),
                "o_id",
            ),
            (concat(vec![c("p_prefix"), c("qualname")]), "o_qual"),
        ],
    )?;
    let df = join(
        params,
        owners,
        JoinType::Left,
        &[("path", "o_path"), ("parent_ordinal", "o_ordinal")],
        None,
    )?;
    with_span_id(df, "PARAMETER", "x_id")
}

/// PARAMETER: qualname = owner's full qualname + "." + name.
pub fn parameter_nodes(df: DataFrame) -> Result<DataFrame> {
    let qual = when(
        c("o_qual").is_not_null(),
        concat(vec![c("o_qual"), lit("."), c("name")]),
    )
    .otherwise(null_str())?;
    node_frame(
        df,
        c("x_id"),
        lit("PARAMETER"),
        c("path"),
        Some(""),
        c("name"),
        qual,
        c("source"),
    )
}

/// Winner `call` rows with their CALLSITE ID in `x_id` (first by `(path, ordinal)` per ID).
pub fn call_rows(syntax: &DataFrame) -> Result<DataFrame> {
    let df = syntax.clone().filter(c("kind").eq(lit("call")))?;
    with_span_id(df, "CALLSITE", "x_id")
}

/// CALLSITE: the winner's call rows.
pub fn callsite_nodes(df: DataFrame) -> Result<DataFrame> {
    node_frame(
        df,
        c("x_id"),
        lit("CALLSITE"),
        c("path"),
        Some(""),
        c("name"),
        null_str(),
        c("source"),
    )
}

/// IMPORT: every located python_imports row.
pub fn import_nodes(df: DataFrame) -> Result<DataFrame> {
    let name = when(c("kind").eq(lit("star")), lit("*"))
        .when(c("kind").eq(lit("dynamic")), c("module"))
        .otherwise(c("bound_name"))?;
    node_frame(
        df,
        c("i_id"),
        lit("IMPORT"),
        c("path"),
        Some(""),
        name,
        null_str(),
        lit("python_imports"),
    )
}

/// SYMBOL: distinct symbols of scip `symbol` rows with a path.
pub fn symbol_nodes(symbols: DataFrame) -> Result<DataFrame> {
    node_frame(
        symbols,
        stable_id(lit("SYMBOL"), vec![c("symbol")]),
        lit("SYMBOL"),
        null_str(),
        None,
        c("display_name"),
        null_str(),
        lit("scip"),
    )
}

/// SCIP `symbol` rows with a path, the first per symbol (by path, ordinal).
pub fn scip_symbols(scip: &DataFrame) -> Result<DataFrame> {
    let df = scip
        .clone()
        .filter(c("kind").eq(lit("symbol")).and(c("path").is_not_null()))?;
    first_by(
        df,
        vec![c("symbol")],
        vec![asc(c("path")), asc(c("ordinal"))],
    )
}

/// `python_external` rows, the first per module (by path, ordinal).
pub fn external_modules(external: &DataFrame) -> Result<DataFrame> {
    first_by(
        external.clone(),
        vec![c("module")],
        vec![asc(c("path")), asc(c("ordinal"))],
    )
}

/// EXTERNAL_MODULE: distinct modules of python_external.
pub fn external_nodes(modules: DataFrame) -> Result<DataFrame> {
    node_frame(
        modules,
        stable_id(lit("EXTERNAL_MODULE"), vec![c("module")]),
        lit("EXTERNAL_MODULE"),
        null_str(),
        None,
        c("module"),
        c("module"),
        lit("python_external"),
    )
}

/// ast `name` load rows with their NAME_REF ID in `x_id`.
pub fn name_rows(ast: &DataFrame) -> Result<DataFrame> {
    let df = ast.clone().filter(
        c("kind")
            .eq(lit("name"))
            .and(c("ctx").eq(lit("load")))
            .and(c("bstart").is_not_null()),
    )?;
    // Only the columns the consumers read (references, NAME_REF nodes, CONTAINS): the rows
    // are materialized, and the ast's text columns (expr, detail, ...) would triple their size.
    let mut keep = vec!["path", "ordinal", "name", "scope_qualname"];
    keep.extend(SPAN);
    let df = df.select_columns(&keep)?;
    with_span_id(df, "NAME_REF", "x_id")
}

/// NAME_REF rows (ast name rows) that are the source of a REFERENCES edge.
pub fn name_ref_rows(names: DataFrame, reference_edges: &DataFrame) -> Result<DataFrame> {
    let srcs = sel(reference_edges.clone(), vec![(c("src_id"), "ref_src")])?.distinct()?;
    join(
        names,
        srcs,
        JoinType::LeftSemi,
        &[("x_id", "ref_src")],
        None,
    )
}

/// NAME_REF nodes.
pub fn name_ref_nodes(names: DataFrame, reference_edges: &DataFrame) -> Result<DataFrame> {
    let df = name_ref_rows(names, reference_edges)?;
    node_frame(
        df,
        c("x_id"),
        lit("NAME_REF"),
        c("path"),
        Some(""),
        c("name"),
        null_str(),
        lit("ast"),
    )
}

/// DIAGNOSTIC nodes: one per `diagnostics` row.
pub fn diagnostic_nodes(diagnostics: &DataFrame) -> Result<DataFrame> {
    let df = sel(
        diagnostics.clone(),
        vec![
            (c("diagnostic_id"), "n_id"),
            (c("code"), "n_code"),
            (c("source"), "n_source"),
            (c("path"), "n_path"),
            (c("bstart"), "n_bstart"),
            (c("bend"), "n_bend"),
            (null_i32(), "n_line"),
            (null_i32(), "n_col"),
            (null_i32(), "n_end_line"),
            (null_i32(), "n_end_col"),
        ],
    )?;
    node_frame(
        df,
        c("n_id"),
        lit("DIAGNOSTIC"),
        c("n_path"),
        Some("n_"),
        c("n_code"),
        null_str(),
        c("n_source"),
    )
}
