//! Edge views (§8, §13.2): IMPORTS/RESOLVES_TO, INHERITS_FROM, OVERRIDES, CALLS, REFERENCES,
//! CONTAINS/DEFINES/HAS_PARAMETER, in the CPG_EDGES layout (conformed by the caller).

use super::base::{file_sources, method_class, parents};
use super::inputs::Inputs;
use super::mro::mro;
use super::nodes::name_ref_rows;
use super::udf::{json_list_indexed, stable_id, str_tail};
use super::util::{asc, c, desc, first_by, join, null_i64, null_str, sel, union_all};
use super::world::World;
use datafusion::common::Result;
use datafusion::functions::expr_fn::coalesce;
use datafusion::functions_aggregate::expr_fn::bool_and;
use datafusion::logical_expr::JoinType;
use datafusion::prelude::{lit, when, DataFrame, Expr};

/// Evidence source precedence of §8 (lower wins).
fn source_rank(e: Expr) -> Expr {
    when(e.clone().eq(lit("scip")), lit(0i64))
        .when(e.clone().eq(lit("python_imports")), lit(1i64))
        .when(e.clone().eq(lit("lexical")), lit(2i64))
        .when(e.clone().eq(lit("ast")), lit(3i64))
        .when(e.clone().eq(lit("cst")), lit(4i64))
        .when(e.eq(lit("tree_sitter")), lit(5i64))
        .otherwise(lit(6i64))
        .unwrap_or_else(|_| lit(6i64))
}

/// A CPG_EDGES frame from `df`: one edge per `(kind, src_id, dst_id)`, the highest confidence
/// then the §8 source order (then location, for a total order).
#[allow(clippy::too_many_arguments)]
pub fn edge_frame(
    df: DataFrame,
    kind: Expr,
    src: Expr,
    dst: Expr,
    source: Expr,
    confidence: Expr,
    path: Expr,
    bstart: Expr,
    bend: Expr,
) -> Result<DataFrame> {
    let df = sel(
        df,
        vec![
            (kind, "kind"),
            (src, "src_id"),
            (dst, "dst_id"),
            (source, "evidence_source"),
            (confidence, "confidence"),
            (path, "path"),
            (bstart, "bstart"),
            (bend, "bend"),
        ],
    )?
    .filter(c("src_id").is_not_null().and(c("dst_id").is_not_null()))?;
    dedupe_edges(df)
}

/// Keep one row per `(kind, src_id, dst_id)` by §8 precedence and add `edge_id`.
pub fn dedupe_edges(df: DataFrame) -> Result<DataFrame> {
    let df = first_by(
        df,
        vec![c("kind"), c("src_id"), c("dst_id")],
        vec![
            desc(c("confidence")),
            asc(source_rank(c("evidence_source"))),
            asc(c("path")),
            asc(c("bstart")),
            asc(c("bend")),
        ],
    )?;
    sel(
        df,
        vec![
            (
                stable_id(c("kind"), vec![c("src_id"), c("dst_id")]),
                "edge_id",
            ),
            (c("kind"), "kind"),
            (c("src_id"), "src_id"),
            (c("dst_id"), "dst_id"),
            (c("evidence_source"), "evidence_source"),
            (c("confidence"), "confidence"),
            (c("path"), "path"),
            (c("bstart"), "bstart"),
            (c("bend"), "bend"),
        ],
    )
}

fn conf(cond: Expr, low: f64) -> Result<Expr> {
    when(cond, lit(low)).otherwise(lit(1.0f64))
}

/// IMPORTS (importer MODULE -> MODULE / EXTERNAL_MODULE) and RESOLVES_TO (IMPORT -> target), §8.1.
pub fn import_edges(i: &Inputs<'_>) -> Result<DataFrame> {
    let imps = i.import_rows()?;
    let mods = i.modules()?;
    let d = i.defs()?;
    let importer = sel(
        mods.clone(),
        vec![(c("m_id"), "im_id"), (c("m_path"), "im_path")],
    )?;
    let target = sel(mods, vec![(c("m_id"), "tm_id"), (c("m_path"), "tm_path")])?;
    let ext_id = stable_id(lit("EXTERNAL_MODULE"), vec![c("absolute_module")]);
    let is_mod = c("target_kind").in_list(vec![lit("module"), lit("package")], false);
    let is_ext = c("target_kind")
        .eq(lit("external"))
        .and(c("absolute_module").is_not_null());

    // IMPORTS
    let j = join(
        imps.clone(),
        importer,
        JoinType::Inner,
        &[("path", "im_path")],
        None,
    )?;
    let j = join(
        j,
        target.clone(),
        JoinType::Left,
        &[("resolved_path", "tm_path")],
        None,
    )?;
    let dst = when(
        is_mod.clone().or(c("target_kind").eq(lit("attribute"))),
        c("tm_id"),
    )
    .when(is_ext.clone(), ext_id.clone())
    .otherwise(null_str())?;
    let pairs = sel(
        j,
        vec![
            (c("im_id"), "x_src"),
            (dst, "x_dst"),
            (c("path"), "x_path"),
            (c("conditional"), "x_cond"),
        ],
    )?
    .filter(c("x_dst").is_not_null())?
    .aggregate(
        vec![c("x_src"), c("x_dst"), c("x_path")],
        vec![bool_and(c("x_cond")).alias("x_all")],
    )?;
    let imports_e = edge_frame(
        pairs,
        lit("IMPORTS"),
        c("x_src"),
        c("x_dst"),
        lit("python_imports"),
        conf(c("x_all"), 0.9)?,
        c("x_path"),
        null_i64(),
        null_i64(),
    )?;

    // RESOLVES_TO
    let top = sel(
        d.filter(c("d_scope").eq(lit("")))?,
        vec![
            (c("d_id"), "a_id"),
            (c("d_path"), "a_path"),
            (c("d_name"), "a_name"),
            (c("d_bstart"), "a_bstart"),
        ],
    )?;
    let j = join(
        imps,
        top,
        JoinType::Left,
        &[("resolved_path", "a_path"), ("resolved_name", "a_name")],
        Some(c("target_kind").eq(lit("attribute"))),
    )?;
    let j = first_by(
        j,
        vec![c("i_id")],
        vec![desc(c("a_bstart")), asc(c("a_id"))],
    )?;
    let j = join(
        j,
        target,
        JoinType::Left,
        &[("resolved_path", "tm_path")],
        None,
    )?;
    let dst = when(is_mod, c("tm_id"))
        .when(
            c("target_kind").eq(lit("attribute")),
            coalesce(vec![c("a_id"), c("tm_id")]),
        )
        .when(is_ext, ext_id)
        .otherwise(null_str())?;
    let resolves = edge_frame(
        j,
        lit("RESOLVES_TO"),
        c("i_id"),
        dst,
        lit("python_imports"),
        conf(c("conditional"), 0.9)?,
        c("path"),
        c("bstart"),
        c("bend"),
    )?;
    imports_e.union(resolves)
}

/// INHERITS_FROM (§8.5): bases resolved to CLASS nodes, at the subclass's span.
pub fn inherit_edges(w: &World) -> Result<DataFrame> {
    edge_frame(
        w.inherit.clone(),
        lit("INHERITS_FROM"),
        c("h_src"),
        c("h_dst"),
        lit("lexical"),
        lit(0.8f64),
        c("h_path"),
        c("h_bstart"),
        c("h_bend"),
    )
}

/// INHERITS_FROM with base indexes recovered from `inherit_edges` (override_edges does not read
/// python_imports, so it cannot re-resolve bases): the first base whose last component is the
/// base class's name, else after every named base, by ID.
fn inherit_from_edges(d: &DataFrame, inherit_edges: &DataFrame) -> Result<DataFrame> {
    let e = sel(
        inherit_edges.clone(),
        vec![(c("src_id"), "e_src"), (c("dst_id"), "e_dst")],
    )?;
    let names = sel(
        d.clone(),
        vec![(c("d_id"), "n_id"), (c("d_name"), "n_name")],
    )?;
    let e = join(e, names, JoinType::Inner, &[("e_dst", "n_id")], None)?;
    let bases = sel(
        d.clone().filter(c("d_kind").eq(lit("CLASS")))?,
        vec![
            (c("d_id"), "b_id"),
            (json_list_indexed(c("d_detail"), "bases"), "b_item"),
        ],
    )?
    .unnest_columns(&["b_item"])?;
    let j = join(
        e,
        bases,
        JoinType::Left,
        &[("e_src", "b_id")],
        Some(
            str_tail(
                datafusion::functions::expr_fn::substr(c("b_item"), lit(5i64)),
                ".",
            )
            .eq(c("n_name")),
        ),
    )?;
    let key = coalesce(vec![
        datafusion::functions::expr_fn::left(c("b_item"), lit(4i64)),
        datafusion::functions::expr_fn::concat(vec![lit("9999"), c("e_dst")]),
    ]);
    let j = sel(
        j,
        vec![(c("e_src"), "h_src"), (key, "h_key"), (c("e_dst"), "h_dst")],
    )?;
    first_by(j, vec![c("h_src"), c("h_dst")], vec![asc(c("h_key"))])
}

/// OVERRIDES (§8.5): a method of C -> the first same-named FUNCTION directly in a class of C's
/// MRO after C (the last such definition by bstart within that class).
pub fn override_edges(i: &Inputs<'_>, inherit_edges: &DataFrame) -> Result<DataFrame> {
    let d = i.defs()?;
    let m = i.modules()?;
    let mc = method_class(&d, &m)?;
    let order =
        mro(&d, &inherit_from_edges(&d, inherit_edges)?)?.filter(c("r_idx").gt_eq(lit(1i64)))?;
    let meth = join(mc, d.clone(), JoinType::Inner, &[("mc_func", "d_id")], None)?;
    let meth = sel(
        meth,
        vec![
            (c("mc_func"), "f_id"),
            (c("mc_class"), "f_class"),
            (c("d_name"), "f_name"),
            (c("d_path"), "f_path"),
            (c("d_bstart"), "f_bstart"),
            (c("d_bend"), "f_bend"),
        ],
    )?;
    let j = join(
        meth,
        order,
        JoinType::Inner,
        &[("f_class", "r_class")],
        None,
    )?;
    let anc = sel(
        d.clone().filter(c("d_kind").eq(lit("CLASS")))?,
        vec![
            (c("d_id"), "a_id"),
            (c("d_path"), "a_path"),
            (c("d_local"), "a_local"),
        ],
    )?;
    let j = join(j, anc, JoinType::Inner, &[("r_anc", "a_id")], None)?;
    let funcs = sel(
        d.filter(c("d_kind").eq(lit("FUNCTION")))?,
        vec![
            (c("d_id"), "g_id"),
            (c("d_path"), "g_path"),
            (c("d_scope"), "g_scope"),
            (c("d_name"), "g_name"),
            (c("d_bstart"), "g_bstart"),
        ],
    )?;
    let j = join(
        j,
        funcs,
        JoinType::Inner,
        &[
            ("a_path", "g_path"),
            ("a_local", "g_scope"),
            ("f_name", "g_name"),
        ],
        None,
    )?;
    let j = first_by(
        j,
        vec![c("f_id")],
        vec![asc(c("r_idx")), desc(c("g_bstart")), asc(c("g_id"))],
    )?;
    edge_frame(
        j,
        lit("OVERRIDES"),
        c("f_id"),
        c("g_id"),
        lit("lexical"),
        lit(0.8f64),
        c("f_path"),
        c("f_bstart"),
        c("f_bend"),
    )
}

/// CONTAINS, DEFINES, HAS_PARAMETER (§8.4, §13.2).
pub fn structure_edges(i: &Inputs<'_>, reference_edges: &DataFrame) -> Result<DataFrame> {
    let syntax = &i.get("syntax")?;
    let d = i.defs()?;
    let m = i.modules()?;
    let win = file_sources(syntax)?;
    let file_mod = edge_frame(
        m.clone(),
        lit("CONTAINS"),
        stable_id(lit("FILE"), vec![c("m_path")]),
        c("m_id"),
        c("m_source"),
        lit(1.0f64),
        c("m_path"),
        null_i64(),
        null_i64(),
    )?;
    let row_cols = |df: DataFrame, id: &str, ekind: &str| {
        sel(
            df,
            vec![
                (c(id), "r_key"),
                (c("path"), "r_path"),
                (c("scope_qualname"), "r_scope"),
                (c("bstart"), "r_bstart"),
                (c("bend"), "r_bend"),
                (lit(ekind.to_string()), "r_ekind"),
            ],
        )
    };
    let def_rows = sel(
        d.clone(),
        vec![
            (c("d_id"), "r_key"),
            (c("d_path"), "r_path"),
            (c("d_scope"), "r_scope"),
            (c("d_bstart"), "r_bstart"),
            (c("d_bend"), "r_bend"),
            (lit("DEFINES"), "r_ekind"),
        ],
    )?;
    let rows = union_all(vec![
        row_cols(i.call_rows()?, "x_id", "CONTAINS")?,
        row_cols(i.import_rows()?, "i_id", "CONTAINS")?,
        row_cols(
            name_ref_rows(i.name_rows()?, reference_edges)?,
            "x_id",
            "CONTAINS",
        )?,
        def_rows,
    ])?;
    let par = sel(
        parents(rows.clone(), &d, &m)?,
        vec![(c("r_key"), "q_key"), (c("par_id"), "q_par")],
    )?;
    let j = join(rows, par, JoinType::Inner, &[("r_key", "q_key")], None)?;
    let j = join(
        j,
        win.clone(),
        JoinType::Inner,
        &[("r_path", "s_path")],
        None,
    )?;
    let tree = edge_frame(
        j,
        c("r_ekind"),
        c("q_par"),
        c("r_key"),
        c("s_source"),
        lit(1.0f64),
        c("r_path"),
        c("r_bstart"),
        c("r_bend"),
    )?;
    let params = i.parameter_rows()?.filter(c("o_id").is_not_null())?;
    let has = edge_frame(
        params,
        lit("HAS_PARAMETER"),
        c("o_id"),
        c("x_id"),
        c("source"),
        lit(1.0f64),
        c("path"),
        c("bstart"),
        c("bend"),
    )?;
    union_all(vec![file_mod, tree, has])
}
