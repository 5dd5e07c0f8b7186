//! The resolution world: the frames name resolution reads (definitions, modules, name
//! candidates, methods, INHERITS_FROM, the MRO, member lookup), and §8.2 resolution of uses
//! over them.
//!
//! A dotted chain is resolved by a recursive query (DataFusion's `RecursiveQuery`, i.e. `WITH
//! RECURSIVE`), so no depth bound applies: it advances one component per iteration, through the
//! member lookup, until every chain is fully resolved or dead.

use super::udf::{dotted_len, dotted_part, visible_scopes_expr};
use super::util::{asc, c, desc, first_by, join, recursive, sel, string_set, union_all};
use datafusion::common::Result;
use datafusion::functions::expr_fn::character_length;
use datafusion::logical_expr::JoinType;
use datafusion::prelude::{lit, when, DataFrame};

/// Everything resolution needs, derived from `syntax`, `repo_scan`, `python_imports` and
/// `import_edges` (built by `Inputs::world`, memoized per workload).
pub struct World {
    pub syntax: DataFrame,
    /// CALL rows of the syntax view (`nodes::call_rows`).
    pub calls: DataFrame,
    pub defs: DataFrame,
    pub modules: DataFrame,
    /// Name candidates: `c_path, c_scope, c_name, c_bstart, c_id, c_tid, c_tkind`.
    pub cands: DataFrame,
    /// `mc_func, mc_class`: FUNCTION nodes whose §13.2 parent is a CLASS.
    pub method_class: DataFrame,
    /// `h_src, h_key, h_dst`: INHERITS_FROM with the base's index (4-digit key).
    pub inherit: DataFrame,
    /// `r_class, r_idx, r_anc`.
    pub mro: DataFrame,
    /// Member lookup (`lookup::members`): `mb_owner, mb_mode, mb_name -> mb_tid, mb_tkind`.
    pub members: DataFrame,
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
