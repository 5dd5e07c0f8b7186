//! The MRO (CONTRACT §13.3): Python's C3 linearization over INHERITS_FROM, falling back to
//! depth-first left-to-right when C3 fails. The inheritance edges are aggregated into one list
//! inside the plan and a UDF linearizes every class at once (C3 is a global merge, not a join
//! pattern); the result is unnested back into rows `r_class, r_idx, r_anc`.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListBuilder, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::functions::expr_fn::{concat, split_part};
use datafusion::functions_aggregate::expr_fn::array_agg;
use datafusion::logical_expr::{ScalarUDF, Signature, Volatility};
use datafusion::prelude::{cast, col, lit, DataFrame, Expr};

use super::lookup::mro_self;
use super::udf::{list_utf8, row_udf};

const US: &str = "\u{1f}";

/// `cpg_linearize(list of "src US key US dst")`: the `class US idx US ancestor` rows of
/// [`linearize_all`] for the edges of each list (a null list stays null).
fn k_linearize(args: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let lists = args[0].as_list::<i32>();
    let mut out = ListBuilder::new(StringBuilder::new());
    for i in 0..n {
        if lists.is_null(i) {
            out.append(true);
            continue;
        }
        let items = lists.value(i);
        let items = datafusion::arrow::compute::cast(&items, &DataType::Utf8)?;
        let items = items.as_string::<i32>();
        let edges: Vec<&str> = (0..items.len())
            .filter(|&k| !items.is_null(k))
            .map(|k| items.value(k))
            .collect();
        for row in linearize_all(&edges) {
            out.values().append_value(row);
        }
        out.append(true);
    }
    Ok(Arc::new(out.finish()))
}

static LINEARIZE: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| {
    row_udf(
        "cpg_linearize",
        Signature::any(1, Volatility::Immutable),
        list_utf8(),
        Some(true),
        k_linearize,
    )
});

/// Bases of every class with any, in bases order (by key, then id), deduplicated.
fn bases_of(edges: &[&str]) -> BTreeMap<String, Vec<String>> {
    let mut keyed: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for e in edges {
        let mut parts = e.splitn(3, US);
        if let (Some(src), Some(key), Some(dst)) = (parts.next(), parts.next(), parts.next()) {
            keyed
                .entry(src.to_string())
                .or_default()
                .push((key.to_string(), dst.to_string()));
        }
    }
    keyed
        .into_iter()
        .map(|(src, mut v)| {
            v.sort();
            let mut seen = HashSet::new();
            let bases = v
                .into_iter()
                .filter(|(_, d)| seen.insert(d.clone()))
                .map(|(_, d)| d)
                .collect();
            (src, bases)
        })
        .collect()
}

fn c3(
    class: &str,
    bases: &BTreeMap<String, Vec<String>>,
    active: &mut Vec<String>,
) -> Option<Vec<String>> {
    if active.iter().any(|a| a == class) {
        return None;
    }
    active.push(class.to_string());
    let own: Vec<String> = bases.get(class).cloned().unwrap_or_default();
    let mut seqs: Vec<Vec<String>> = Vec::new();
    for b in &own {
        let lin = c3(b, bases, active);
        match lin {
            Some(l) => seqs.push(l),
            None => {
                active.pop();
                return None;
            }
        }
    }
    active.pop();
    seqs.push(own);
    let mut out = vec![class.to_string()];
    loop {
        seqs.retain(|s| !s.is_empty());
        if seqs.is_empty() {
            return Some(out);
        }
        let head = seqs
            .iter()
            .map(|s| s[0].clone())
            .find(|h| !seqs.iter().any(|s| s[1..].contains(h)))?;
        out.push(head.clone());
        for s in &mut seqs {
            if s[0] == head {
                s.remove(0);
            }
        }
    }
}

fn dfs(class: &str, bases: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let mut order = Vec::new();
    let mut seen = HashSet::new();
    let mut stack = vec![class.to_string()];
    while let Some(c) = stack.pop() {
        if !seen.insert(c.clone()) {
            continue;
        }
        if let Some(bs) = bases.get(&c) {
            stack.extend(bs.iter().rev().filter(|b| !seen.contains(*b)).cloned());
        }
        order.push(c);
    }
    order
}

/// `class US idx US ancestor` for every ancestor (idx >= 1) of every class with bases.
fn linearize_all(edges: &[&str]) -> Vec<String> {
    let bases = bases_of(edges);
    let mut rows = Vec::new();
    for class in bases.keys() {
        let order = c3(class, &bases, &mut Vec::new()).unwrap_or_else(|| dfs(class, &bases));
        for (i, anc) in order.iter().enumerate().skip(1) {
            rows.push(format!("{class}{US}{i}{US}{anc}"));
        }
    }
    rows
}

/// MRO rows `r_class, r_idx, r_anc` (idx 0 = the class itself) from CLASS definitions
/// (`d_id`, `d_kind`) and inheritance edges `h_src, h_key, h_dst` (`h_key` sorts in bases order).
pub fn mro(defs: &DataFrame, inherit: &DataFrame) -> Result<DataFrame> {
    let own = mro_self(defs)?;
    let encoded = inherit.clone().select(vec![concat(vec![
        col("h_src"),
        lit(US),
        col("h_key"),
        lit(US),
        col("h_dst"),
    ])
    .alias("e")])?;
    let all = encoded.aggregate(vec![], vec![array_agg(col("e")).alias("all")])?;
    let rows = all
        .select(vec![LINEARIZE.call(vec![col("all")]).alias("lin")])?
        .unnest_columns(&["lin"])?
        .filter(col("lin").is_not_null())?;
    let part = |k: i64| -> Expr { split_part(col("lin"), lit(US), lit(k)) };
    let ancestors = rows.select(vec![
        part(1).alias("r_class"),
        cast(part(2), DataType::Int64).alias("r_idx"),
        part(3).alias("r_anc"),
    ])?;
    own.union(ancestors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(src: &str, key: &str, dst: &str) -> String {
        format!("{src}{US}{key}{US}{dst}")
    }

    fn order(rows: &[String], class: &str) -> Vec<String> {
        let mut v: Vec<(usize, String)> = rows
            .iter()
            .filter_map(|r| {
                let p: Vec<&str> = r.split(US).collect();
                (p[0] == class).then(|| (p[1].parse().unwrap(), p[2].to_string()))
            })
            .collect();
        v.sort();
        v.into_iter().map(|(_, a)| a).collect()
    }

    #[test]
    fn c3_puts_the_shared_base_last_in_a_diamond() {
        let edges = [
            e("Bottom", "0000", "Left"),
            e("Bottom", "0001", "Right"),
            e("Left", "0000", "Base"),
            e("Right", "0000", "Base"),
        ];
        let refs: Vec<&str> = edges.iter().map(String::as_str).collect();
        let rows = linearize_all(&refs);
        assert_eq!(order(&rows, "Bottom"), vec!["Left", "Right", "Base"]);
    }

    #[test]
    fn an_inconsistent_hierarchy_falls_back_to_depth_first() {
        // class X(A, B); class Y(B, A); class Z(X, Y): C3 fails for Z.
        let edges = [
            e("X", "0000", "A"),
            e("X", "0001", "B"),
            e("Y", "0000", "B"),
            e("Y", "0001", "A"),
            e("Z", "0000", "X"),
            e("Z", "0001", "Y"),
        ];
        let refs: Vec<&str> = edges.iter().map(String::as_str).collect();
        let rows = linearize_all(&refs);
        assert_eq!(order(&rows, "Z"), vec!["X", "A", "B", "Y"]);
    }

    #[test]
    fn a_cycle_does_not_loop() {
        let edges = [e("A", "0000", "B"), e("B", "0000", "A")];
        let refs: Vec<&str> = edges.iter().map(String::as_str).collect();
        let rows = linearize_all(&refs);
        assert_eq!(order(&rows, "A"), vec!["B"]);
    }
}
