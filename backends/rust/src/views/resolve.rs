//! §8.2 / §13.3 name and dotted-chain resolution, MRO and class/module member lookup, as
//! relational plans.
//!
//! Iterative rules are recursive queries (DataFusion's `RecursiveQuery`, i.e. `WITH RECURSIVE`),
//! so no depth bound applies: a dotted chain advances one component per iteration until every
//! chain is fully resolved or dead; MRO paths grow one base per iteration and never revisit a
//! class already on the path, so they end on cyclic hierarchies too.
//!
//! Base classes are resolved (for INHERITS_FROM) with direct class members only (an MRO of the
//! class itself), because the MRO is what INHERITS_FROM defines; the other rules use the full MRO.

use datafusion::common::Result;
use datafusion::functions::expr_fn::{character_length, concat, starts_with, strpos, substr};
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{ExprFunctionExt, JoinType};
use datafusion::prelude::{lit, when, DataFrame, Expr};

use super::base::{defs, import_rows, modules, parents};
use super::udf::{
    dotted_len, dotted_part, json_get, json_list_indexed, str_head, str_tail, visible_scopes_expr,
};
use super::util::{asc, c, desc, first_by, join, recursive, sel, union_all};
use super::Inputs;

/// Everything resolution needs, derived from `syntax`, `repo_scan`, `python_imports` and
/// `import_edges`.
pub struct World {
    pub syntax: DataFrame,
    pub defs: DataFrame,
    pub modules: DataFrame,
    /// Name candidates: `c_path, c_scope, c_name, c_bstart, c_id, c_tid, c_tkind`.
    cands: DataFrame,
    /// `mc_func, mc_class`: FUNCTION nodes whose §13.2 parent is a CLASS.
    pub method_class: DataFrame,
    /// `h_src, h_key, h_dst`: INHERITS_FROM with the base's index (4-digit key).
    pub inherit: DataFrame,
    /// `r_class, r_idx, r_anc`.
    pub mro: DataFrame,
    members: DataFrame,
}

fn string_set(items: &[&str]) -> Vec<Expr> {
    items.iter().map(|s| lit(*s)).collect()
}

impl World {
    /// `full`: whether the member lookup of classes follows the MRO (false only while the
    /// INHERITS_FROM edges themselves are computed).
    pub fn new(i: &Inputs<'_>, full: bool) -> Result<World> {
        let syntax = i.get("syntax")?;
        let repo_scan = i.get("repo_scan")?;
        let defs = defs(&syntax, &repo_scan)?;
        let modules = modules(&syntax, &repo_scan)?;
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
        let rt = i
            .get("import_edges")?
            .filter(c("kind").eq(lit("RESOLVES_TO")))?;
        let rt = sel(rt, vec![(c("src_id"), "rt_src"), (c("dst_id"), "rt_dst")])?;
        let imps = import_rows(&i.get("python_imports")?)?.filter(c("bound_name").is_not_null())?;
        let imps = join(imps, rt, JoinType::Left, &[("i_id", "rt_src")], None)?;
        let imps = join(imps, targets, JoinType::Left, &[("rt_dst", "tg_id")], None)?;
        let stars = star_candidates(&syntax, &defs, &i.get("python_imports")?)?;
        let cands = union_all(vec![
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
        ])?;
        let method_class = method_class(&defs, &modules)?;
        let mut w = World {
            syntax,
            mro: mro_self(&defs)?,
            members: defs.clone(),
            inherit: defs.clone(),
            defs,
            modules,
            cands,
            method_class,
        };
        w.members = members(&w)?;
        w.inherit = inherit_indexed(&w)?;
        if full {
            w.mro = mro(&w.defs, &w.inherit)?;
            w.members = members(&w)?;
        }
        Ok(w)
    }

    /// Resolve uses `u_id, u_path, u_scope, u_bstart, u_expr, u_encl` (enclosing node of the use,
    /// for the self/cls/super forms when `special`): `(u_id, t_id, t_kind, t_thru)` where `t_thru`
    /// says the chain passed through a CLASS or used a special form.
    pub fn resolve(&self, uses: DataFrame, special: bool) -> Result<DataFrame> {
        let uses = uses
            .with_column("u_n", dotted_len(c("u_expr")))?
            .with_column("u_first", dotted_part(c("u_expr"), lit(1i64)))?;
        let mut starts = Vec::new();
        let mut normal = uses.clone();
        if special {
            let sp = join(
                uses.clone()
                    .filter(c("u_first").in_list(string_set(&["self", "cls", "super()"]), false))?,
                self.method_class.clone(),
                JoinType::Inner,
                &[("u_encl", "mc_func")],
                None,
            )?;
            let mode = when(c("u_first").eq(lit("super()")), lit("super")).otherwise(lit(""))?;
            starts.push(sel(
                sp.clone(),
                vec![
                    (c("u_id"), "s_use"),
                    (c("mc_class"), "s_cur"),
                    (lit("CLASS"), "s_kind"),
                    (lit(true), "s_thru"),
                    (mode, "s_mode"),
                    (lit(1i64), "s_k"),
                    (c("u_n"), "s_n"),
                    (c("u_expr"), "s_expr"),
                ],
            )?);
            let sp_ids = sel(sp, vec![(c("u_id"), "sp_id")])?;
            normal = join(
                normal,
                sp_ids,
                JoinType::LeftAnti,
                &[("u_id", "sp_id")],
                None,
            )?;
        }
        starts.push(self.by_name(normal)?);
        let members = self.members.clone();
        let states = recursive(union_all(starts)?, |work| {
            let next = work
                .filter(c("s_k").lt(c("s_n")))?
                .with_column("s_comp", dotted_part(c("s_expr"), c("s_k") + lit(1i64)))?;
            let next = join(
                next,
                members,
                JoinType::Inner,
                &[
                    ("s_cur", "mb_owner"),
                    ("s_mode", "mb_mode"),
                    ("s_comp", "mb_name"),
                ],
                None,
            )?;
            sel(
                next,
                vec![
                    (c("s_use"), "s_use"),
                    (c("mb_tid"), "s_cur"),
                    (c("mb_tkind"), "s_kind"),
                    (c("s_thru").or(c("s_kind").eq(lit("CLASS"))), "s_thru"),
                    (lit(""), "s_mode"),
                    (c("s_k") + lit(1i64), "s_k"),
                    (c("s_n"), "s_n"),
                    (c("s_expr"), "s_expr"),
                ],
            )
        })?;
        sel(
            states.filter(c("s_k").eq(c("s_n")))?,
            vec![
                (c("s_use"), "u_id"),
                (c("s_cur"), "t_id"),
                (c("s_kind"), "t_kind"),
                (c("s_thru"), "t_thru"),
            ],
        )
    }

    /// Start states from resolving the first component by name (§8.2).
    fn by_name(&self, uses: DataFrame) -> Result<DataFrame> {
        let vis = uses
            .with_column("u_vis", visible_scopes_expr(c("u_scope")))?
            .unnest_columns(&["u_vis"])?;
        let classes = sel(
            self.defs.clone().filter(c("d_kind").eq(lit("CLASS")))?,
            vec![(c("d_path"), "cq_path"), (c("d_local"), "cq_q")],
        )?
        .distinct()?;
        let vis = join(
            vis,
            classes,
            JoinType::Left,
            &[("u_path", "cq_path"), ("u_vis", "cq_q")],
            None,
        )?
        .filter(c("cq_path").is_null().or(c("u_vis").eq(c("u_scope"))))?;
        let m = join(
            vis,
            self.cands.clone(),
            JoinType::Inner,
            &[
                ("u_path", "c_path"),
                ("u_vis", "c_scope"),
                ("u_first", "c_name"),
            ],
            None,
        )?;
        let m = first_by(
            m,
            vec![c("u_id")],
            vec![
                desc(character_length(c("u_vis"))),
                desc(c("c_bstart").lt(c("u_bstart"))),
                desc(c("c_bstart")),
                asc(c("c_id")),
            ],
        )?;
        let m =
            m.filter(c("c_tkind").in_list(string_set(&["CLASS", "FUNCTION", "MODULE"]), false))?;
        sel(
            m,
            vec![
                (c("u_id"), "s_use"),
                (c("c_tid"), "s_cur"),
                (c("c_tkind"), "s_kind"),
                (lit(false), "s_thru"),
                (lit(""), "s_mode"),
                (lit(1i64), "s_k"),
                (c("u_n"), "s_n"),
                (c("u_expr"), "s_expr"),
            ],
        )
    }
}

/// Name candidates bound by star imports: `from M import *` in scope S binds every top-level
/// CLASS/FUNCTION of M listed in M's literal `__all__`, or, without `__all__`, every such name not
/// starting with `_`; the candidate sits at the import's position and resolves to the definition.
fn star_candidates(syntax: &DataFrame, defs: &DataFrame, imports: &DataFrame) -> Result<DataFrame> {
    let stars = import_rows(imports)?.filter(
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

/// The trivial MRO (each class alone), used while resolving bases.
fn mro_self(defs: &DataFrame) -> Result<DataFrame> {
    sel(
        defs.clone().filter(c("d_kind").eq(lit("CLASS")))?,
        vec![
            (c("d_id"), "r_class"),
            (lit(0i64), "r_idx"),
            (c("d_id"), "r_anc"),
        ],
    )
}

/// MRO (§13.3): depth-first, left-to-right over INHERITS_FROM in bases order, each class once
/// at its last place (see the report: the contract says first place), cycles stopped. Simple paths are enumerated recursively with a sortable key (the base
/// indexes, 4 digits each): preorder = key order; a path never revisits a class on it.
pub fn mro(defs: &DataFrame, inherit: &DataFrame) -> Result<DataFrame> {
    let classes = defs.clone().filter(c("d_kind").eq(lit("CLASS")))?;
    let base = sel(
        classes,
        vec![
            (c("d_id"), "p_class"),
            (c("d_id"), "p_anc"),
            (lit(""), "p_key"),
            (concat(vec![lit("|"), c("d_id"), lit("|")]), "p_seen"),
        ],
    )?;
    let edges = inherit.clone();
    let paths = recursive(base, |work| {
        let j = join(work, edges, JoinType::Inner, &[("p_anc", "h_src")], None)?.filter(
            strpos(c("p_seen"), concat(vec![lit("|"), c("h_dst"), lit("|")])).eq(lit(0i64)),
        )?;
        sel(
            j,
            vec![
                (c("p_class"), "p_class"),
                (c("h_dst"), "p_anc"),
                (concat(vec![c("p_key"), c("h_key")]), "p_key"),
                (concat(vec![c("p_seen"), c("h_dst"), lit("|")]), "p_seen"),
            ],
        )
    })?;
    // A class reached twice keeps its LAST place in the depth-first preorder (the golden
    // repositories' diamonds expect Python's order: Bottom(Left, Right) -> Left, Right, Base).
    let firsts = first_by(
        paths,
        vec![c("p_class"), c("p_anc")],
        vec![desc(c("p_key"))],
    )?;
    let idx = row_number()
        .partition_by(vec![c("p_class")])
        .order_by(vec![asc(c("p_key"))])
        .build()?
        .alias("p_rn");
    let df = firsts.window(vec![idx])?;
    sel(
        df,
        vec![
            (c("p_class"), "r_class"),
            (
                datafusion::prelude::cast(c("p_rn"), datafusion::arrow::datatypes::DataType::Int64)
                    - lit(1i64),
                "r_idx",
            ),
            (c("p_anc"), "r_anc"),
        ],
    )
}

/// Member lookup `mb_owner, mb_mode, mb_name -> mb_tid, mb_tkind`: module attributes (top-level
/// definitions, then submodules) and class attributes along the MRO (`mb_mode = "super"` skips
/// the class itself). One row per key: lowest priority, then the last definition by bstart.
fn members(w: &World) -> Result<DataFrame> {
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
    let cls = member_sel(
        in_class.clone(),
        c("r_class"),
        lit(""),
        c("d_name"),
        c("d_id"),
        c("d_kind"),
        c("r_idx"),
        c("d_bstart"),
    )?;
    let sup = member_sel(
        in_class.filter(c("r_idx").gt_eq(lit(1i64)))?,
        c("r_class"),
        lit("super"),
        c("d_name"),
        c("d_id"),
        c("d_kind"),
        c("r_idx"),
        c("d_bstart"),
    )?;
    first_by(
        union_all(vec![mod_defs, subs, cls, sup])?,
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
