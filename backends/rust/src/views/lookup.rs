//! Lookup tables of resolution, each a frame of the resolution world (`world::World`): name
//! candidates (definitions, bound imports, star imports), the trivial MRO used while bases are
//! resolved, member lookup of modules and classes along the MRO, and INHERITS_FROM with base
//! indexes. The MRO itself is computed in `mro`.

use super::udf::{json_get, json_list_indexed, str_head, str_tail};
use super::util::{asc, c, desc, first_by, join, sel, string_set, union_all};
use super::world::World;
use datafusion::common::Result;
use datafusion::functions::expr_fn::{concat, ends_with, starts_with, substr};
use datafusion::logical_expr::{JoinType, LogicalPlanBuilder};
use datafusion::prelude::{lit, DataFrame, Expr};

/// Name candidates bound by star imports: `from M import *` in scope S binds every top-level
/// CLASS/FUNCTION of M listed in M's literal `__all__`, or, without `__all__`, every such name not
/// starting with `_`; the candidate sits at the import's position and resolves to the definition.
pub fn star_candidates(
    syntax: &DataFrame,
    defs: &DataFrame,
    import_rows: DataFrame,
) -> Result<DataFrame> {
    let stars = import_rows.filter(
        c("kind")
            .eq(lit("star"))
            .and(c("target_kind").in_list(string_set(&["module", "package"]), false))
            .and(c("resolved_path").is_not_null()),
    )?;
    let mods = syntax.clone().filter(c("kind").eq(lit("module")))?;
    let has_all = sel(
        mods.clone()
            .filter(json_get(c("detail"), "all").is_not_null())?,
        vec![(c("path"), "ha_path")],
    )?
    .distinct()?;
    let all_names = sel(
        mods.with_column("al_item", json_list_indexed(c("detail"), "all"))?
            .unnest_columns(&["al_item"])?,
        vec![
            (c("path"), "al_path"),
            (substr(c("al_item"), lit(5i64)), "al_name"),
        ],
    )?
    .distinct()?;
    let top = defs.clone().filter(c("d_scope").eq(lit("")))?;
    let top = join(top, has_all, JoinType::Left, &[("d_path", "ha_path")], None)?;
    let top = join(
        top,
        all_names,
        JoinType::Left,
        &[("d_path", "al_path"), ("d_name", "al_name")],
        None,
    )?;
    let exported = top.filter(
        c("al_name").is_not_null().or(c("ha_path")
            .is_null()
            .and(!starts_with(c("d_name"), lit("_")))),
    )?;
    let j = join(
        stars,
        exported,
        JoinType::Inner,
        &[("resolved_path", "d_path")],
        None,
    )?;
    // Several top-level definitions of one name: the last by bstart is the binding.
    let j = first_by(
        j,
        vec![c("i_id"), c("d_name")],
        vec![desc(c("d_bstart")), asc(c("d_id"))],
    )?;
    sel(
        j,
        vec![
            (c("path"), "c_path"),
            (c("scope_qualname"), "c_scope"),
            (c("d_name"), "c_name"),
            (c("bstart"), "c_bstart"),
            (concat(vec![c("i_id"), lit(":"), c("d_id")]), "c_id"),
            (c("d_id"), "c_tid"),
            (c("d_kind"), "c_tkind"),
        ],
    )
}

/// Name candidates of the world (`c_path, c_scope, c_name, c_bstart, c_id, c_tid, c_tkind`):
/// star-import candidates, definitions and bound imports (`base::import_rows`) with their
/// RESOLVES_TO targets (`import_edges`).
pub fn candidates(
    syntax: &DataFrame,
    defs: &DataFrame,
    modules: &DataFrame,
    import_rows: DataFrame,
    import_edges: DataFrame,
) -> Result<DataFrame> {
    let targets = union_all(vec![
        sel(
            defs.clone(),
            vec![(c("d_id"), "tg_id"), (c("d_kind"), "tg_kind")],
        )?,
        sel(
            modules.clone(),
            vec![(c("m_id"), "tg_id"), (lit("MODULE"), "tg_kind")],
        )?,
    ])?;
    let rt = import_edges.filter(c("kind").eq(lit("RESOLVES_TO")))?;
    let rt = sel(rt, vec![(c("src_id"), "rt_src"), (c("dst_id"), "rt_dst")])?;
    let imps = import_rows.clone().filter(c("bound_name").is_not_null())?;
    let imps = join(imps, rt, JoinType::Left, &[("i_id", "rt_src")], None)?;
    let imps = join(imps, targets, JoinType::Left, &[("rt_dst", "tg_id")], None)?;
    let stars = star_candidates(syntax, defs, import_rows)?;
    union_all(vec![
        stars,
        sel(
            defs.clone(),
            vec![
                (c("d_path"), "c_path"),
                (c("d_scope"), "c_scope"),
                (c("d_name"), "c_name"),
                (c("d_bstart"), "c_bstart"),
                (c("d_id"), "c_id"),
                (c("d_id"), "c_tid"),
                (c("d_kind"), "c_tkind"),
            ],
        )?,
        sel(
            imps,
            vec![
                (c("path"), "c_path"),
                (c("scope_qualname"), "c_scope"),
                (c("bound_name"), "c_name"),
                (c("bstart"), "c_bstart"),
                (c("i_id"), "c_id"),
                (c("tg_id"), "c_tid"),
                (c("tg_kind"), "c_tkind"),
            ],
        )?,
    ])
}

/// The trivial MRO (each class alone), used while resolving bases.
pub fn mro_self(defs: &DataFrame) -> Result<DataFrame> {
    sel(
        defs.clone().filter(c("d_kind").eq(lit("CLASS")))?,
        vec![
            (c("d_id"), "r_class"),
            (lit(0i64), "r_idx"),
            (c("d_id"), "r_anc"),
        ],
    )
}

/// Member lookup `mb_owner, mb_mode, mb_name -> mb_tid, mb_tkind`: module attributes (top-level
/// definitions, then submodules) and class attributes along the MRO (`mb_mode = "super"` skips
/// the class itself). One row per key: lowest priority, then the last definition by bstart.
pub fn members(w: &World) -> Result<DataFrame> {
    let top = w.defs.clone().filter(c("d_scope").eq(lit("")))?;
    let mods = sel(
        w.modules.clone(),
        vec![
            (c("m_id"), "o_id"),
            (c("m_path"), "o_path"),
            (c("m_module"), "o_module"),
        ],
    )?;
    let mod_defs = join(
        top,
        mods.clone(),
        JoinType::Inner,
        &[("d_path", "o_path")],
        None,
    )?;
    let mod_defs = member_sel(
        mod_defs,
        c("o_id"),
        lit(""),
        c("d_name"),
        c("d_id"),
        c("d_kind"),
        lit(0i64),
        c("d_bstart"),
    )?;
    let subs = w.modules.clone().filter(c("m_module").is_not_null())?;
    // The repo module `M.X` is the module map's file: `.py` wins over `.pyi` (§8.1).
    let subs = first_by(
        subs,
        vec![c("m_module")],
        vec![asc(ends_with(c("m_path"), lit(".pyi"))), asc(c("m_path"))],
    )?;
    let subs = subs.with_column("m_parent", str_head(c("m_module"), "."))?;
    let subs = join(
        subs,
        mods,
        JoinType::Inner,
        &[("m_parent", "o_module")],
        None,
    )?;
    let subs = member_sel(
        subs,
        c("o_id"),
        lit(""),
        str_tail(c("m_module"), "."),
        c("m_id"),
        lit("MODULE"),
        lit(1i64),
        c("m_bstart"),
    )?;
    let anc = sel(
        w.defs.clone().filter(c("d_kind").eq(lit("CLASS")))?,
        vec![
            (c("d_id"), "a_id"),
            (c("d_path"), "a_path"),
            (c("d_local"), "a_local"),
        ],
    )?;
    let chain = join(
        w.mro.clone(),
        anc,
        JoinType::Inner,
        &[("r_anc", "a_id")],
        None,
    )?;
    let in_class = join(
        chain,
        w.defs.clone(),
        JoinType::Inner,
        &[("a_path", "d_path"), ("a_local", "d_scope")],
        None,
    )?;
    // Both lookup modes from one copy of the MRO plan: "" reads the whole MRO, "super" skips
    // the class itself (index 0).
    let (state, _) = in_class.clone().into_parts();
    let modes = LogicalPlanBuilder::values(vec![
        vec![lit(""), lit(0i64)],
        vec![lit("super"), lit(1i64)],
    ])?
    .build()?;
    let modes = sel(
        DataFrame::new(state, modes),
        vec![(c("column1"), "md_mode"), (c("column2"), "md_min")],
    )?;
    let in_class = in_class.join(
        modes,
        JoinType::Inner,
        &[],
        &[],
        Some(c("r_idx").gt_eq(c("md_min"))),
    )?;
    let cls = member_sel(
        in_class,
        c("r_class"),
        c("md_mode"),
        c("d_name"),
        c("d_id"),
        c("d_kind"),
        c("r_idx"),
        c("d_bstart"),
    )?;
    first_by(
        union_all(vec![mod_defs, subs, cls])?,
        vec![c("mb_owner"), c("mb_mode"), c("mb_name")],
        vec![asc(c("mb_prio")), desc(c("mb_bstart")), asc(c("mb_tid"))],
    )
}

#[allow(clippy::too_many_arguments)]
fn member_sel(
    df: DataFrame,
    owner: Expr,
    mode: Expr,
    name: Expr,
    tid: Expr,
    tkind: Expr,
    prio: Expr,
    bstart: Expr,
) -> Result<DataFrame> {
    sel(
        df,
        vec![
            (owner, "mb_owner"),
            (mode, "mb_mode"),
            (name, "mb_name"),
            (tid, "mb_tid"),
            (tkind, "mb_tkind"),
            (
                datafusion::prelude::cast(prio, datafusion::arrow::datatypes::DataType::Int64),
                "mb_prio",
            ),
            (bstart, "mb_bstart"),
        ],
    )
}

/// INHERITS_FROM with base indexes: each `bases` entry of each CLASS resolved from the class's
/// scope at the class's position; kept when the result is a CLASS. `h_src, h_key, h_dst, h_path,
/// h_bstart, h_bend` (first base index per pair).
pub fn inherit_indexed(w: &World) -> Result<DataFrame> {
    let classes = w.defs.clone().filter(c("d_kind").eq(lit("CLASS")))?;
    let bases = classes
        .with_column("b_item", json_list_indexed(c("d_detail"), "bases"))?
        .unnest_columns(&["b_item"])?;
    let uses = sel(
        bases,
        vec![
            (concat(vec![c("d_id"), lit(":"), c("b_item")]), "u_id"),
            (c("d_path"), "u_path"),
            (c("d_scope"), "u_scope"),
            (c("d_bstart"), "u_bstart"),
            (substr(c("b_item"), lit(5i64)), "u_expr"),
            (
                datafusion::prelude::lit(datafusion::common::ScalarValue::Utf8(None)),
                "u_encl",
            ),
            (c("d_id"), "b_class"),
            (c("b_item"), "b_item"),
            (c("d_path"), "b_path"),
            (c("d_bstart"), "b_bstart"),
            (c("d_bend"), "b_bend"),
        ],
    )?;
    let res = w
        .resolve(
            sel(
                uses.clone(),
                vec![
                    (c("u_id"), "u_id"),
                    (c("u_path"), "u_path"),
                    (c("u_scope"), "u_scope"),
                    (c("u_bstart"), "u_bstart"),
                    (c("u_expr"), "u_expr"),
                    (c("u_encl"), "u_encl"),
                ],
            )?,
            false,
        )?
        .filter(c("t_kind").eq(lit("CLASS")))?;
    let res = sel(res, vec![(c("u_id"), "x_use"), (c("t_id"), "x_tid")])?;
    let j = join(uses, res, JoinType::Inner, &[("u_id", "x_use")], None)?;
    let j = sel(
        j,
        vec![
            (c("b_class"), "h_src"),
            (
                datafusion::functions::expr_fn::left(c("b_item"), lit(4i64)),
                "h_key",
            ),
            (c("x_tid"), "h_dst"),
            (c("b_path"), "h_path"),
            (c("b_bstart"), "h_bstart"),
            (c("b_bend"), "h_bend"),
        ],
    )?;
    first_by(j, vec![c("h_src"), c("h_dst")], vec![asc(c("h_key"))])
}
