//! Frames every view derives from the evidence: the winning source of each file (§7), the
//! `syntax` view, file prefixes, CLASS/FUNCTION and MODULE rows with their node IDs, the §13.2
//! parent of a located row (and so the class of each method), located IMPORT rows and SCIP
//! occurrences. Column names carry a per-frame prefix so joins never clash.

use datafusion::common::Result;
use datafusion::functions::expr_fn::{coalesce, concat};
use datafusion::functions_aggregate::expr_fn::min;
use datafusion::logical_expr::JoinType;
use datafusion::prelude::{lit, when, DataFrame, Expr};

use super::udf::{py_stem, stable_id, str_tail};
use super::util::{asc, c, desc, first_by, join, sel, union_all};

/// The three syntax sources in precedence order (§7).
pub const SYNTAX_SOURCES: [&str; 3] = ["ast", "cst", "tree_sitter"];

/// The span columns shared by evidence rows and nodes, in contract order.
pub const SPAN: [&str; 6] = ["bstart", "bend", "line", "col", "end_line", "end_col"];

/// Columns of the syntax tables (without span), in contract order.
pub const SYNTAX_COLS: [&str; 10] = [
    "path",
    "ordinal",
    "parent_ordinal",
    "kind",
    "name",
    "qualname",
    "scope_qualname",
    "expr",
    "ctx",
    "detail",
];

/// `(e_path, e_source)`: syntax sources with an error-severity warning for a file.
pub fn syntax_errors(diag: &DataFrame) -> Result<DataFrame> {
    let srcs: Vec<Expr> = SYNTAX_SOURCES.iter().map(|s| lit(*s)).collect();
    let df = diag.clone().filter(
        c("severity")
            .eq(lit("error"))
            .and(c("extractor").in_list(srcs, false)),
    )?;
    sel(
        df,
        vec![(c("path"), "e_path"), (c("extractor"), "e_source")],
    )?
    .distinct()
}

/// `(w_path, w_source)`: the winning syntax source of every `ok` Python file (§7).
pub fn winners(repo_scan: &DataFrame, diag: &DataFrame) -> Result<DataFrame> {
    let ok = repo_scan
        .clone()
        .filter(c("status").eq(lit("ok")).and(c("is_python")))?;
    let mut cands = Vec::new();
    for (rank, src) in SYNTAX_SOURCES.iter().enumerate() {
        cands.push(sel(
            ok.clone(),
            vec![
                (c("path"), "w_path"),
                (lit(*src), "w_cand"),
                (lit(rank as i64), "w_rank"),
            ],
        )?);
    }
    let clean = join(
        union_all(cands)?,
        syntax_errors(diag)?,
        JoinType::LeftAnti,
        &[("w_path", "e_path"), ("w_cand", "e_source")],
        None,
    )?;
    // tree_sitter always yields a (partial) tree: it wins when every source has an error.
    let all_ts = sel(
        ok,
        vec![
            (c("path"), "w_path"),
            (lit("tree_sitter"), "w_cand"),
            (lit(2i64), "w_rank"),
        ],
    )?;
    let best = clean
        .union(all_ts)?
        .aggregate(vec![c("w_path")], vec![min(c("w_rank")).alias("w_best")])?;
    let name = when(c("w_best").eq(lit(0i64)), lit("ast"))
        .when(c("w_best").eq(lit(1i64)), lit("cst"))
        .otherwise(lit("tree_sitter"))?;
    sel(best, vec![(c("w_path"), "w_path"), (name, "w_source")])
}

/// The rows of one syntax source with its name in `source` (tree_sitter's `is_error` dropped).
pub fn source_rows(df: &DataFrame, source: &str) -> Result<DataFrame> {
    let mut cols: Vec<(Expr, &str)> = SYNTAX_COLS.iter().map(|n| (c(n), *n)).collect();
    cols.extend(SPAN.iter().map(|n| (c(n), *n)));
    cols.push((lit(source.to_string()), "source"));
    sel(df.clone(), cols)
}

/// The `syntax` view body (before conformance): winner rows with a non-null `bstart`.
pub fn syntax_rows(
    repo_scan: &DataFrame,
    ast: &DataFrame,
    cst: &DataFrame,
    ts: &DataFrame,
    diag: &DataFrame,
) -> Result<DataFrame> {
    let rows = union_all(vec![
        source_rows(ast, "ast")?,
        source_rows(cst, "cst")?,
        source_rows(ts, "tree_sitter")?,
    ])?;
    let names: Vec<Expr> = rows.schema().fields().iter().map(|f| c(f.name())).collect();
    join(
        rows.filter(c("bstart").is_not_null())?,
        winners(repo_scan, diag)?,
        JoinType::Inner,
        &[("path", "w_path"), ("source", "w_source")],
        None,
    )?
    .select(names)
}

/// `(p_path, p_prefix, p_module)`: the qualname prefix of each scanned file (§13.1).
pub fn prefixes(repo_scan: &DataFrame) -> Result<DataFrame> {
    let prefix = when(
        c("module").is_not_null(),
        concat(vec![c("module"), lit(".")]),
    )
    .otherwise(concat(vec![c("path"), lit(":")]))?;
    sel(
        repo_scan.clone(),
        vec![
            (c("path"), "p_path"),
            (prefix, "p_prefix"),
            (c("module"), "p_module"),
        ],
    )
}

fn span_sel(prefix: &str) -> Vec<(Expr, String)> {
    SPAN.iter()
        .map(|n| (c(n), format!("{prefix}{n}")))
        .collect()
}

/// CLASS/FUNCTION rows of `syntax` with node IDs (first by `(path, ordinal)` per ID):
/// `d_id, d_kind, d_path, d_<span>, d_name, d_local, d_scope, d_qual, d_detail, d_ordinal,
/// d_parent_ordinal, d_rowkind, d_source`.
pub fn defs(syntax: &DataFrame, repo_scan: &DataFrame) -> Result<DataFrame> {
    let rows = syntax
        .clone()
        .filter(c("kind").in_list(vec![lit("class"), lit("function"), lit("lambda")], false))?;
    let rows = join(
        rows,
        prefixes(repo_scan)?,
        JoinType::Left,
        &[("path", "p_path")],
        None,
    )?;
    let kind = when(c("kind").eq(lit("class")), lit("CLASS")).otherwise(lit("FUNCTION"))?;
    let mut cols: Vec<(Expr, String)> = vec![
        (
            stable_id(kind.clone(), vec![c("path"), c("bstart"), c("bend")]),
            "d_id".into(),
        ),
        (kind, "d_kind".into()),
        (c("path"), "d_path".into()),
    ];
    cols.extend(span_sel("d_"));
    cols.extend([
        (c("name"), "d_name".to_string()),
        (c("qualname"), "d_local".into()),
        (c("scope_qualname"), "d_scope".into()),
        (concat(vec![c("p_prefix"), c("qualname")]), "d_qual".into()),
        (c("detail"), "d_detail".into()),
        (c("ordinal"), "d_ordinal".into()),
        (c("parent_ordinal"), "d_parent_ordinal".into()),
        (c("kind"), "d_rowkind".into()),
        (c("source"), "d_source".into()),
    ]);
    let df = sel(
        rows,
        cols.iter().map(|(e, n)| (e.clone(), n.as_str())).collect(),
    )?;
    first_by(
        df,
        vec![c("d_id")],
        vec![asc(c("d_path")), asc(c("d_ordinal"))],
    )
}

/// MODULE rows of `syntax` with node IDs: `m_id, m_path, m_<span>, m_module, m_name, m_qual,
/// m_source, m_ordinal`.
pub fn modules(syntax: &DataFrame, repo_scan: &DataFrame) -> Result<DataFrame> {
    let rows = syntax.clone().filter(c("kind").eq(lit("module")))?;
    let rows = join(
        rows,
        prefixes(repo_scan)?,
        JoinType::Inner,
        &[("path", "p_path")],
        None,
    )?;
    let name = coalesce(vec![str_tail(c("p_module"), "."), py_stem(c("path"))]);
    let qual = coalesce(vec![c("p_module"), concat(vec![c("path"), lit(":")])]);
    let mut cols: Vec<(Expr, String)> = vec![
        (
            stable_id(lit("MODULE"), vec![c("path"), c("bstart"), c("bend")]),
            "m_id".into(),
        ),
        (c("path"), "m_path".into()),
    ];
    cols.extend(span_sel("m_"));
    cols.extend([
        (c("p_module"), "m_module".to_string()),
        (name, "m_name".into()),
        (qual, "m_qual".into()),
        (c("source"), "m_source".into()),
        (c("ordinal"), "m_ordinal".into()),
    ]);
    let df = sel(
        rows,
        cols.iter().map(|(e, n)| (e.clone(), n.as_str())).collect(),
    )?;
    // One MODULE per file: the first module row by ordinal.
    first_by(df, vec![c("m_path")], vec![asc(c("m_ordinal"))])
}

/// The §13.2 parent of located rows `(r_key, r_path, r_scope, r_bstart, r_bend)`:
/// `(r_key, par_id, par_kind)`. The MODULE of the file when the scope is `""` or no enclosing
/// CLASS/FUNCTION with that qualname contains the row; else the one with the largest `bstart`.
pub fn parents(rows: DataFrame, defs: &DataFrame, modules: &DataFrame) -> Result<DataFrame> {
    let d = sel(
        defs.clone(),
        vec![
            (c("d_id"), "pd_id"),
            (c("d_kind"), "pd_kind"),
            (c("d_path"), "pd_path"),
            (c("d_local"), "pd_local"),
            (c("d_bstart"), "pd_bstart"),
            (c("d_bend"), "pd_bend"),
        ],
    )?;
    let within = c("pd_bstart")
        .lt_eq(c("r_bstart"))
        .and(c("pd_bend").gt_eq(c("r_bend")))
        .and(c("r_scope").not_eq(lit("")));
    let j = join(
        rows,
        d,
        JoinType::Left,
        &[("r_path", "pd_path"), ("r_scope", "pd_local")],
        Some(within),
    )?;
    let j = first_by(
        j,
        vec![c("r_key")],
        vec![desc(c("pd_bstart")), asc(c("pd_bend")), asc(c("pd_id"))],
    )?;
    let m = sel(
        modules.clone(),
        vec![(c("m_id"), "pm_id"), (c("m_path"), "pm_path")],
    )?;
    let j = join(j, m, JoinType::Inner, &[("r_path", "pm_path")], None)?;
    sel(
        j,
        vec![
            (c("r_key"), "r_key"),
            (coalesce(vec![c("pd_id"), c("pm_id")]), "par_id"),
            (coalesce(vec![c("pd_kind"), lit("MODULE")]), "par_kind"),
        ],
    )
}

/// `(s_path, s_source)`: the winning source of every file that has syntax rows.
pub fn file_sources(syntax: &DataFrame) -> Result<DataFrame> {
    sel(
        syntax.clone(),
        vec![(c("path"), "s_path"), (c("source"), "s_source")],
    )?
    .distinct()
}

/// Every column of located rows `df` plus their node ID `stable_id(kind, path, bstart, bend)`
/// in column `id`, keeping the first row by `(path, ordinal)` of each ID.
pub fn with_span_id(df: DataFrame, kind: &str, id: &str) -> Result<DataFrame> {
    let df = df.with_column(
        id,
        stable_id(
            lit(kind.to_string()),
            vec![c("path"), c("bstart"), c("bend")],
        ),
    )?;
    first_by(df, vec![c(id)], vec![asc(c("path")), asc(c("ordinal"))])
}

/// IMPORT rows of `python_imports` with a span: `i_id, i_path, i_scope, i_bound, i_bstart,
/// i_bend, i_ordinal, i_conditional` plus every original column.
pub fn import_rows(imports: &DataFrame) -> Result<DataFrame> {
    let df = imports.clone().filter(c("bstart").is_not_null())?;
    with_span_id(df, "IMPORT", "i_id")
}

/// `mc_func, mc_class`: FUNCTION nodes whose §13.2 parent is a CLASS (methods).
pub fn method_class(defs: &DataFrame, modules: &DataFrame) -> Result<DataFrame> {
    let funcs = defs.clone().filter(c("d_kind").eq(lit("FUNCTION")))?;
    let rows = sel(
        funcs,
        vec![
            (c("d_id"), "r_key"),
            (c("d_path"), "r_path"),
            (c("d_scope"), "r_scope"),
            (c("d_bstart"), "r_bstart"),
            (c("d_bend"), "r_bend"),
        ],
    )?;
    sel(
        parents(rows, defs, modules)?.filter(c("par_kind").eq(lit("CLASS")))?,
        vec![(c("r_key"), "mc_func"), (c("par_id"), "mc_class")],
    )
}

/// Located SCIP occurrences (`kind = occurrence`, with a span): the columns `scip_targets`
/// reads.
pub fn scip_occurrences(scip: DataFrame) -> Result<DataFrame> {
    let occ = scip.filter(
        c("kind")
            .eq(lit("occurrence"))
            .and(c("bstart").is_not_null()),
    )?;
    sel(
        occ,
        [
            "path",
            "bstart",
            "bend",
            "symbol",
            "ordinal",
            "is_definition",
        ]
        .iter()
        .map(|n| (c(n), *n))
        .collect(),
    )
}
