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

use super::base::parents;
use super::lookup::{inherit_indexed, members, mro, mro_self, star_candidates};
use super::udf::{dotted_len, dotted_part, visible_scopes_expr};
use super::util::{asc, c, desc, first_by, join, recursive, sel, union_all};
use super::Inputs;
use datafusion::common::Result;
use datafusion::functions::expr_fn::character_length;
use datafusion::logical_expr::JoinType;
use datafusion::prelude::{lit, when, DataFrame, Expr};

/// Everything resolution needs, derived from `syntax`, `repo_scan`, `python_imports` and
/// `import_edges`.
pub struct World {
    pub syntax: DataFrame,
    /// CALL rows of the syntax view (`nodes::call_rows`).
    pub calls: DataFrame,
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

pub fn string_set(items: &[&str]) -> Vec<Expr> {
    items.iter().map(|s| lit(*s)).collect()
}

impl World {
    /// `full`: whether the member lookup of classes follows the MRO (false only while the
    /// INHERITS_FROM edges themselves are computed).
    ///
    /// Every frame of the world is memoized per workload (`Memo`): CALLS, REFERENCES and
    /// INHERITS_FROM share them.
    pub fn new(i: &Inputs<'_>, full: bool) -> Result<World> {
        let syntax = i.get("syntax")?;
        let defs = i.defs()?;
        let modules = i.modules()?;
        let cands = i
            .memo
            .frame("world.cands", || candidates(i, &syntax, &defs, &modules))?;
        let method_class = i
            .memo
            .frame("world.method_class", || method_class(&defs, &modules))?;
        let mut w = World {
            syntax,
            calls: i.call_rows()?,
            mro: i.memo.frame("world.mro_self", || mro_self(&defs))?,
            members: defs.clone(),
            inherit: defs.clone(),
            defs,
            modules,
            cands,
            method_class,
        };
        w.members = i.memo.frame("world.members_self", || members(&w))?;
        w.inherit = i.memo.frame("world.inherit", || inherit_indexed(&w))?;
        if full {
            w.mro = i.memo.frame("world.mro", || mro(&w.defs, &w.inherit))?;
            w.members = i.memo.frame("world.members", || members(&w))?;
        }
        Ok(w)
    }
}

/// Name candidates of the world (`c_path, c_scope, c_name, c_bstart, c_id, c_tid, c_tkind`):
/// star-import candidates, definitions and bound imports with their RESOLVES_TO targets.
fn candidates(
    i: &Inputs<'_>,
    syntax: &DataFrame,
    defs: &DataFrame,
    modules: &DataFrame,
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
    let rt = i
        .get("import_edges")?
        .filter(c("kind").eq(lit("RESOLVES_TO")))?;
    let rt = sel(rt, vec![(c("src_id"), "rt_src"), (c("dst_id"), "rt_dst")])?;
    let imps = i.import_rows()?.filter(c("bound_name").is_not_null())?;
    let imps = join(imps, rt, JoinType::Left, &[("i_id", "rt_src")], None)?;
    let imps = join(imps, targets, JoinType::Left, &[("rt_dst", "tg_id")], None)?;
    let stars = star_candidates(syntax, defs, i.import_rows()?)?;
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

impl World {
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
                // A bare `cls` in a method is the class; a bare `self`/`super()` is nothing.
                uses.clone().filter(
                    c("u_first")
                        .in_list(string_set(&["self", "cls", "super()"]), false)
                        .and(c("u_n").gt(lit(1i64)).or(c("u_first").eq(lit("cls")))),
                )?,
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
        // Only a use whose first component names a candidate of its file can match below: the
        // rest (builtins, locals, parameters, most of them) is dropped before every use is
        // repeated once per visible scope.
        let names = sel(
            self.cands.clone(),
            vec![(c("c_path"), "cn_path"), (c("c_name"), "cn_name")],
        )?
        .distinct()?;
        let uses = join(
            uses,
            names,
            JoinType::LeftSemi,
            &[("u_path", "cn_path"), ("u_first", "cn_name")],
            None,
        )?;
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
