//! CALLS (§8.3) and REFERENCES (§8.6): the SCIP target of a use first (§13.3), else the
//! lexical resolution of `World::resolve`.

use super::base::{file_sources, parents};
use super::edges::edge_frame;
use super::inputs::ViewPolicy;
use super::memo::{materialize, Memo};
use super::util::{asc, c, desc, first_by, join, null_str, sel, union_all};
use super::world::World;
use datafusion::common::Result;
use datafusion::functions::expr_fn::{ends_with, octet_length};
use datafusion::logical_expr::JoinType;
use datafusion::prelude::{lit, when, DataFrame};

/// §13.3 SCIP target of uses `u_id, u_path, u_bstart, u_end`: `(sc_use, sc_tid)`, from
/// the located SCIP occurrences (`base::scip_occurrences`).
fn scip_targets(
    uses: &DataFrame,
    scip: &DataFrame,
    w: &World,
    memo: &Memo,
    with_modules: bool,
) -> Result<DataFrame> {
    // Materialized once for CALLS and REFERENCES: with exact row counts the joins below build
    // their hash table on the smaller side (the filter's default 20% estimate made the 661K
    // reference occurrences look smaller than the uses).
    let refs = memo.frame("scip.references", || {
        sel(
            scip.clone().filter(c("is_definition").eq(lit(false)))?,
            vec![
                (c("path"), "o_path"),
                (c("bstart"), "o_bstart"),
                (c("bend"), "o_bend"),
                (c("symbol"), "o_symbol"),
                (c("ordinal"), "o_ordinal"),
            ],
        )
    })?;
    let u = sel(
        uses.clone(),
        vec![
            (c("u_id"), "q_id"),
            (c("u_path"), "q_path"),
            (c("u_bstart"), "q_bstart"),
            (c("u_end"), "q_end"),
        ],
    )?;
    let j = join(
        u,
        refs,
        JoinType::Inner,
        &[("q_path", "o_path"), ("q_end", "o_bend")],
        Some(c("o_bstart").gt_eq(c("q_bstart"))),
    )?;
    // Only the columns read below are kept before each materialization.
    let j = first_by(
        j.select_columns(&["q_id", "o_bstart", "o_ordinal", "o_symbol"])?,
        vec![c("q_id")],
        vec![desc(c("o_bstart")), desc(c("o_ordinal"))],
    )?;
    let defs_occ = scip_definitions(scip, memo)?;
    let j = join(
        j,
        defs_occ,
        JoinType::Inner,
        &[("o_symbol", "g_symbol")],
        None,
    )?;
    let j = materialize(
        "scip.targets",
        j.select_columns(&["q_id", "o_symbol", "g_path", "g_bstart", "g_bend"])?,
    )?;
    let want = when(ends_with(c("o_symbol"), lit("#")), lit("CLASS"))
        .when(ends_with(c("o_symbol"), lit("().")), lit("FUNCTION"))
        .when(ends_with(c("o_symbol"), lit("/__init__:")), lit("MODULE"))
        .otherwise(null_str())?;
    let j = j.with_column("q_want", want)?;
    let dd = sel(
        w.defs.clone(),
        vec![
            (c("d_id"), "t_id"),
            (c("d_kind"), "t_kind"),
            (c("d_path"), "t_path"),
            (c("d_bstart"), "t_bstart"),
            (c("d_bend"), "t_bend"),
            (c("d_name"), "t_name"),
        ],
    )?;
    let inside = c("t_bstart")
        .lt_eq(c("g_bstart"))
        .and(c("t_bend").gt_eq(c("g_bend")))
        .and(octet_length(c("t_name")).eq(c("g_bend") - c("g_bstart")));
    let by_def = join(
        j.clone(),
        dd,
        JoinType::Inner,
        &[("g_path", "t_path"), ("q_want", "t_kind")],
        Some(inside),
    )?;
    let by_def = first_by(
        by_def,
        vec![c("q_id")],
        vec![desc(c("t_bstart")), asc(c("t_bend")), asc(c("t_id"))],
    )?;
    let mut out = vec![sel(
        by_def,
        vec![(c("q_id"), "sc_use"), (c("t_id"), "sc_tid")],
    )?];
    if with_modules {
        let mm = sel(
            w.modules.clone(),
            vec![(c("m_id"), "mm_id"), (c("m_path"), "mm_path")],
        )?;
        let by_mod = join(
            j.filter(c("q_want").eq(lit("MODULE")))?,
            mm,
            JoinType::Inner,
            &[("g_path", "mm_path")],
            None,
        )?;
        out.push(sel(
            by_mod,
            vec![(c("q_id"), "sc_use"), (c("mm_id"), "sc_tid")],
        )?);
    }
    union_all(out)
}

/// The definition occurrence of each SCIP symbol, `g_symbol, g_path, g_bstart, g_bend` (the
/// first by path, start and ordinal), memoized: CALLS and REFERENCES both read it.
fn scip_definitions(scip: &DataFrame, memo: &Memo) -> Result<DataFrame> {
    memo.frame("scip.definitions", || {
        let defs = scip.clone().filter(
            c("is_definition")
                .eq(lit(true))
                .and(c("path").is_not_null()),
        )?;
        let defs = first_by(
            defs,
            vec![c("symbol")],
            vec![asc(c("path")), asc(c("bstart")), asc(c("ordinal"))],
        )?;
        sel(
            defs,
            vec![
                (c("symbol"), "g_symbol"),
                (c("path"), "g_path"),
                (c("bstart"), "g_bstart"),
                (c("bend"), "g_bend"),
            ],
        )
    })
}

/// Edges from uses (`u_id, u_path, u_bstart, u_bend, ...`): SCIP first, then lexical.
#[allow(clippy::too_many_arguments)]
fn resolved_edges(
    w: &World,
    uses: DataFrame,
    scip: &DataFrame,
    memo: &Memo,
    policy: &ViewPolicy,
    kind: &str,
    kinds: &[&str],
    special: bool,
) -> Result<DataFrame> {
    // Read three times below (locations, SCIP, lexical resolution): materialized once.
    let uses = materialize("uses", uses)?;
    let loc = sel(
        uses.clone(),
        vec![
            (c("u_id"), "l_id"),
            (c("u_path"), "l_path"),
            (c("u_bstart"), "l_bstart"),
            (c("u_bend"), "l_bend"),
        ],
    )?;
    let lex = w
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
            special,
        )?
        .filter(c("t_kind").in_list(kinds.iter().map(|k| lit(*k)).collect(), false))?;
    let lex = sel(
        lex,
        vec![
            (c("u_id"), "e_use"),
            (c("t_id"), "e_dst"),
            (lit("lexical"), "e_src_name"),
            (
                when(c("t_thru"), lit(0.7f64)).otherwise(lit(0.8f64))?,
                "e_conf",
            ),
        ],
    )?;
    let mut all = lex;
    if policy.use_scip {
        let st = scip_targets(&uses, scip, w, memo, kinds.contains(&"MODULE"))?;
        let st = sel(
            st,
            vec![
                (c("sc_use"), "e_use"),
                (c("sc_tid"), "e_dst"),
                (lit("scip"), "e_src_name"),
                (lit(1.0f64), "e_conf"),
            ],
        )?;
        let found = sel(st.clone(), vec![(c("e_use"), "f_use")])?.distinct()?;
        all = join(all, found, JoinType::LeftAnti, &[("e_use", "f_use")], None)?.union(st)?;
    }
    let j = join(all, loc, JoinType::Inner, &[("e_use", "l_id")], None)?;
    edge_frame(
        j,
        lit(kind.to_string()),
        c("e_use"),
        c("e_dst"),
        c("e_src_name"),
        c("e_conf"),
        c("l_path"),
        c("l_bstart"),
        c("l_bend"),
    )
}

/// CALLS (§8.3): CALLSITE -> CLASS/FUNCTION.
pub fn call_edges(
    w: &World,
    scip: &DataFrame,
    memo: &Memo,
    policy: &ViewPolicy,
) -> Result<DataFrame> {
    let calls = w.calls.clone().filter(c("expr").is_not_null())?;
    let rows = sel(
        calls.clone(),
        vec![
            (c("x_id"), "r_key"),
            (c("path"), "r_path"),
            (c("scope_qualname"), "r_scope"),
            (c("bstart"), "r_bstart"),
            (c("bend"), "r_bend"),
        ],
    )?;
    let par = parents(rows, &w.defs, &w.modules)?;
    let calls = join(calls, par, JoinType::Left, &[("x_id", "r_key")], None)?;
    let uses = sel(
        calls,
        vec![
            (c("x_id"), "u_id"),
            (c("path"), "u_path"),
            (c("scope_qualname"), "u_scope"),
            (c("bstart"), "u_bstart"),
            (c("bend"), "u_bend"),
            (c("bstart") + octet_length(c("expr")), "u_end"),
            (c("expr"), "u_expr"),
            (c("par_id"), "u_encl"),
        ],
    )?;
    resolved_edges(
        w,
        uses,
        scip,
        memo,
        policy,
        "CALLS",
        &["CLASS", "FUNCTION"],
        true,
    )
}

/// ast name load rows of ast-winner files that are not callees.
fn reference_names(w: &World, names: DataFrame, ast: &DataFrame) -> Result<DataFrame> {
    let ast_files = file_sources(&w.syntax)?.filter(c("s_source").eq(lit("ast")))?;
    let names = join(
        names,
        ast_files,
        JoinType::LeftSemi,
        &[("path", "s_path")],
        None,
    )?;
    let callees = sel(
        ast.clone()
            .filter(c("kind").eq(lit("call")).and(c("expr").is_not_null()))?,
        vec![
            (c("path"), "k_path"),
            (c("bstart"), "k_bstart"),
            (c("bstart") + octet_length(c("expr")), "k_end"),
        ],
    )?;
    join(
        names,
        callees,
        JoinType::LeftAnti,
        &[
            ("path", "k_path"),
            ("bstart", "k_bstart"),
            ("bend", "k_end"),
        ],
        None,
    )
}

/// REFERENCES (§8.6): NAME_REF -> CLASS/FUNCTION/MODULE.
pub fn reference_edges(
    w: &World,
    names: DataFrame,
    ast: &DataFrame,
    scip: &DataFrame,
    memo: &Memo,
    policy: &ViewPolicy,
) -> Result<DataFrame> {
    let names = reference_names(w, names, ast)?;
    let uses = sel(
        names,
        vec![
            (c("x_id"), "u_id"),
            (c("path"), "u_path"),
            (c("scope_qualname"), "u_scope"),
            (c("bstart"), "u_bstart"),
            (c("bend"), "u_bend"),
            (c("bend"), "u_end"),
            (c("name"), "u_expr"),
            (null_str(), "u_encl"),
        ],
    )?;
    resolved_edges(
        w,
        uses,
        scip,
        memo,
        policy,
        "REFERENCES",
        &["CLASS", "FUNCTION", "MODULE"],
        false,
    )
}
