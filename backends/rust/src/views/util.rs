//! DataFrame helpers shared by the views: input normalization, schema conformance,
//! deterministic "first row per key" and column renaming for joins.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::{plan_err, DataFusionError, Result, ScalarValue};
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{ExprFunctionExt, JoinType, SortExpr};
use datafusion::prelude::{cast, col, lit, DataFrame, Expr};

use super::memo;
use super::udf::{as_non_null, as_nullable};

/// Name of the helper column `first_by` adds and removes.
const RN: &str = "__rn";

/// An unqualified column reference (no identifier parsing).
pub fn c(name: &str) -> Expr {
    Expr::Column(datafusion::common::Column::new_unqualified(name))
}

/// String literals, for `in_list`.
pub fn string_set(items: &[&str]) -> Vec<Expr> {
    items.iter().map(|s| lit(*s)).collect()
}

/// A typed null literal.
pub fn null_of(t: DataType) -> Expr {
    lit(ScalarValue::try_from(&t).unwrap_or(ScalarValue::Null))
}
/// Typed null Utf8 / Int64 / Int32.
pub fn null_str() -> Expr {
    null_of(DataType::Utf8)
}
pub fn null_i64() -> Expr {
    null_of(DataType::Int64)
}
pub fn null_i32() -> Expr {
    null_of(DataType::Int32)
}

fn normal_type(t: &DataType) -> DataType {
    match t {
        DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
        DataType::List(f) | DataType::LargeList(f) | DataType::ListView(f) => DataType::List(
            Arc::new(Field::new("item", normal_type(f.data_type()), true)),
        ),
        other => other.clone(),
    }
}

/// Evidence as read from Delta may use view/large string types; every view works on Utf8.
pub fn norm(df: DataFrame) -> Result<DataFrame> {
    let fields: Vec<(String, DataType)> = df
        .schema()
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect();
    if fields.iter().all(|(_, t)| normal_type(t) == *t) {
        return Ok(df);
    }
    let exprs: Vec<Expr> = fields
        .iter()
        .map(|(n, t)| {
            let e = c(n);
            if normal_type(t) == *t {
                e.alias(n)
            } else {
                cast(e, normal_type(t)).alias(n)
            }
        })
        .collect();
    df.select(exprs)
}

/// Project `df` onto exactly `schema`: names, order, types and nullability.
pub fn conform(df: DataFrame, schema: &Schema) -> Result<DataFrame> {
    let mut exprs = Vec::with_capacity(schema.fields().len());
    for f in schema.fields() {
        let Ok(src) = df.schema().field_with_unqualified_name(f.name()) else {
            return plan_err!("view output lacks column {}", f.name());
        };
        let mut e = c(f.name());
        if src.data_type() != f.data_type() {
            e = cast(e, f.data_type().clone());
        }
        if src.is_nullable() != f.is_nullable() {
            e = if f.is_nullable() {
                as_nullable(e)
            } else {
                as_non_null(e)
            };
        }
        exprs.push(e.alias(f.name()));
    }
    df.select(exprs)
}

/// Keep the first row of each `partition` group by `order` (a total order must be given by the
/// caller so the result does not depend on partitioning).
///
/// In the engine the input is materialized first and, when no group holds two rows (the common
/// case: IDs are deduplicated), returned as it is. Otherwise the repeated keys are found with
/// one count aggregate; rows of single-row groups pass through an anti join, and only the
/// repeated groups and rows with a null key (one group per key tuple, as in a window) are
/// sorted and cut at each change of key (`first_of_groups`). Partition keys given as
/// expressions rather than columns, and plans built outside the engine (no multi-threaded
/// runtime), are ranked with a `row_number()` window (`rank_first`).
pub fn first_by(df: DataFrame, partition: Vec<Expr>, order: Vec<SortExpr>) -> Result<DataFrame> {
    let keys: Option<Vec<String>> = partition
        .iter()
        .map(|e| match e {
            Expr::Column(col) => Some(col.name.clone()),
            _ => None,
        })
        .collect();
    let Some(keys) = keys else {
        return rank_first(df, partition, order);
    };
    // Outside the engine (plans built lazily, e.g. unit tests) the input is not materialized:
    // reading it three times would triple the plan at every nested `first_by`, so rank it.
    let label = format!("first_by({})", keys.join(","));
    let (df, partitions) = match memo::eagerly(memo::cache_partitions(&label, df.clone())) {
        Some(cached) => cached?,
        None => return rank_first(df, partition, order),
    };
    // Materialized, the rows can be checked: when every group (nulls included, as in a
    // window) holds one row, `first_by` keeps every row and no join is needed.
    if keys_distinct(&partitions, &keys)? {
        return Ok(df);
    }
    let not_null = keys
        .iter()
        .map(|k| c(k).is_not_null())
        .reduce(Expr::and)
        .unwrap_or(lit(true));
    // The keys held by more than one row (usually few): materialized, so both joins below
    // build on this small table and the aggregate runs once.
    let multi = df
        .clone()
        .filter(not_null.clone())?
        .aggregate(
            keys.iter().map(|k| c(k)).collect(),
            vec![count(lit(1i64)).alias("__n")],
        )?
        .filter(col("__n").gt(lit(1i64)))?;
    let multi = multi.select(
        keys.iter()
            .enumerate()
            .map(|(n, k)| c(k).alias(format!("__k{n}")))
            .collect::<Vec<_>>(),
    )?;
    let multi = memo::materialize(&format!("{label}.repeated"), multi)?;
    let on: Vec<(String, String)> = keys
        .iter()
        .enumerate()
        .map(|(n, k)| (k.clone(), format!("__k{n}")))
        .collect();
    let on: Vec<(&str, &str)> = on.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    // Rows of single-row groups pass as they are. Rows with a null key are ranked with their
    // group (null equals null there, as in a window partition) and never match a join key.
    let alone = join(
        df.clone().filter(not_null.clone())?,
        multi.clone(),
        JoinType::LeftAnti,
        &on,
        None,
    )?;
    let grouped =
        join(df.clone(), multi, JoinType::LeftSemi, &on, None)?.union(df.filter(!not_null)?)?;
    alone.union(first_of_groups(grouped, &keys, order)?)
}

/// The first row of each `keys` group by `order`, for frames of the engine: the rows sorted
/// by keys then order, and the first row of each run of equal keys taken (null keys equal, as
/// in a window partition). The same rows as `rank_first`, without `BoundedWindowAggExec`,
/// whose per-group work cost about 1.6 us per row.
fn first_of_groups(df: DataFrame, keys: &[String], order: Vec<SortExpr>) -> Result<DataFrame> {
    use datafusion::arrow::array::UInt32Array;
    use datafusion::arrow::compute::kernels::partition::partition;
    use datafusion::arrow::compute::{concat_batches, take_record_batch};
    use datafusion::prelude::SessionContext;

    let mut sort: Vec<SortExpr> = keys.iter().map(|k| asc(c(k))).collect();
    sort.extend(order);
    let (state, _) = df.clone().into_parts();
    let ctx = SessionContext::new_with_state(state);
    let Some(batches) = memo::eagerly(df.clone().sort(sort)?.collect()) else {
        return plan_err!("first_of_groups runs inside the engine only");
    };
    let batches = batches?;
    let schema = match batches.first() {
        Some(b) => b.schema(),
        None => Arc::new(df.schema().as_arrow().clone()),
    };
    let batch = concat_batches(&schema, &batches)?;
    let firsts = if batch.num_rows() == 0 {
        batch
    } else {
        let columns = key_columns(&batch, keys)?;
        let starts = partition(&columns)?
            .ranges()
            .into_iter()
            .map(|r| r.start as u32);
        take_record_batch(&batch, &UInt32Array::from_iter_values(starts))?
    };
    ctx.read_batch(firsts)
}

/// The `keys` columns of `batch`.
fn key_columns(batch: &RecordBatch, keys: &[String]) -> Result<Vec<ArrayRef>> {
    keys.iter()
        .map(|k| {
            batch
                .column_by_name(k)
                .cloned()
                .ok_or_else(|| DataFusionError::Plan(format!("first_by: no column {k}")))
        })
        .collect()
}

/// Whether no two rows of `partitions` share their `keys` (a null key equal to a null key, as
/// in a window partition). Rows are compared by a hash of their keys: distinct hashes prove
/// distinct keys; a repeated hash (equal keys, or a collision) answers `false`, and the caller
/// then ranks the repeated groups exactly. Cheaper than counting the groups with an aggregate.
pub fn keys_distinct(partitions: &[Vec<RecordBatch>], keys: &[String]) -> Result<bool> {
    use datafusion::common::hash_utils::{create_hashes, RandomState};

    let state = RandomState::default();
    let rows = partitions.iter().flatten().map(RecordBatch::num_rows).sum();
    let mut hashes: Vec<u64> = Vec::with_capacity(rows);
    for batch in partitions.iter().flatten() {
        let columns = key_columns(batch, keys)?;
        let start = hashes.len();
        hashes.resize(start + batch.num_rows(), 0);
        create_hashes(&columns, &state, &mut hashes[start..])?;
    }
    hashes.sort_unstable();
    Ok(hashes.windows(2).all(|w| w[0] != w[1]))
}

/// `first_by` with a `row_number()` window over every row.
fn rank_first(df: DataFrame, partition: Vec<Expr>, order: Vec<SortExpr>) -> Result<DataFrame> {
    let names: Vec<String> = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let rn = row_number()
        .partition_by(partition)
        .order_by(order)
        .build()?
        .alias(RN);
    let df = df.window(vec![rn])?.filter(col(RN).eq(lit(1u64)))?;
    df.select(names.iter().map(|n| c(n)).collect::<Vec<_>>())
}

/// Ascending / descending sort keys (nulls last).
pub fn asc(e: Expr) -> SortExpr {
    e.sort(true, false)
}
pub fn desc(e: Expr) -> SortExpr {
    e.sort(false, false)
}

/// Select `(expr, name)` pairs.
pub fn sel(df: DataFrame, cols: Vec<(Expr, &str)>) -> Result<DataFrame> {
    df.select(
        cols.into_iter()
            .map(|(e, n)| e.alias(n))
            .collect::<Vec<_>>(),
    )
}

/// Inner/left/semi/anti equi-join on pairs of column names (columns must not clash).
pub fn join(
    left: DataFrame,
    right: DataFrame,
    how: JoinType,
    on: &[(&str, &str)],
    filter: Option<Expr>,
) -> Result<DataFrame> {
    let l: Vec<&str> = on.iter().map(|p| p.0).collect();
    let r: Vec<&str> = on.iter().map(|p| p.1).collect();
    left.join(right, how, &l, &r, filter)
}

/// Union of frames with identical column names (by position).
pub fn union_all(frames: Vec<DataFrame>) -> Result<DataFrame> {
    let mut it = frames.into_iter();
    let Some(mut acc) = it.next() else {
        return plan_err!("union of no frames");
    };
    for f in it {
        acc = acc.union(f)?;
    }
    Ok(acc)
}

static RECURSION_IDS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A recursive query (`WITH RECURSIVE ... UNION ALL`): `base` rows, then `step(work)` applied
/// to the rows of the previous iteration until a step yields no rows. `step` must return the
/// columns of `base` in order. Each iteration reads only the previous one, so the plan stays
/// linear in size whatever the depth.
pub fn recursive(
    base: DataFrame,
    step: impl FnOnce(DataFrame) -> Result<DataFrame>,
) -> Result<DataFrame> {
    use datafusion::catalog::cte_worktable::CteWorkTable;
    use datafusion::datasource::provider_as_source;
    use datafusion::logical_expr::LogicalPlanBuilder;
    let n = RECURSION_IDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("__rec{n}");
    let names: Vec<String> = base
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let schema = Arc::new(Schema::new(
        base.schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect::<Vec<_>>(),
    ));
    let (state, base_plan) = base.into_parts();
    let source = provider_as_source(Arc::new(CteWorkTable::new(&name, schema)));
    let work = LogicalPlanBuilder::scan(name.clone(), source, None)?.build()?;
    let stepped = step(DataFrame::new(state.clone(), work))?;
    let stepped = stepped.select(names.iter().map(|n| c(n)).collect::<Vec<_>>())?;
    let plan = LogicalPlanBuilder::from(base_plan)
        .to_recursive_query(name, stepped.into_unoptimized_plan(), false)?
        .build()?;
    Ok(DataFrame::new(state, plan))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::datasource::MemTable;
    use datafusion::prelude::SessionContext;

    /// Rows `(k1, k2, v)`: single-row groups, repeated groups, and null keys (one group).
    fn frame(ctx: &SessionContext) -> DataFrame {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k1", DataType::Utf8, true),
            Field::new("k2", DataType::Int64, false),
            Field::new("v", DataType::Int64, false),
        ]));
        let k1 = [
            Some("a"),
            Some("a"),
            Some("b"),
            None,
            None,
            Some("c"),
            Some("a"),
            None,
        ];
        let k2 = [1, 1, 1, 1, 1, 2, 2, 2];
        let v = [5, 3, 9, 7, 4, 1, 8, 6];
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(k1.to_vec())),
                Arc::new(Int64Array::from(k2.to_vec())),
                Arc::new(Int64Array::from(v.to_vec())),
            ],
        )
        .unwrap();
        let (a, b) = (batch.slice(0, 4), batch.slice(4, 4));
        let table = MemTable::try_new(schema, vec![vec![a], vec![b]]).unwrap();
        ctx.read_table(Arc::new(table)).unwrap()
    }

    fn sorted(df: DataFrame, rt: &tokio::runtime::Runtime) -> String {
        let df = df
            .sort(vec![asc(c("k1")), asc(c("k2")), asc(c("v"))])
            .unwrap();
        pretty_format_batches(&rt.block_on(df.collect()).unwrap())
            .unwrap()
            .to_string()
    }

    #[test]
    fn first_by_in_the_engine_equals_the_ranked_window() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let ctx = SessionContext::new();
        let keys = || vec![c("k1"), c("k2")];
        let order = || vec![asc(c("v"))];
        // Inside the runtime the input is materialized and only repeated groups are ranked.
        let engine = rt.block_on(async { first_by(frame(&ctx), keys(), order()) });
        let window = rank_first(frame(&ctx), keys(), order()).unwrap();
        let expected = sorted(window, &rt);
        assert_eq!(sorted(engine.unwrap(), &rt), expected);
        // (a,1) keeps v=3, the null group of k2=1 keeps v=4, (a,2) and (null,2) are alone.
        assert!(expected.contains("| a  | 1  | 3 |"), "{expected}");
        assert!(expected.contains("|    | 1  | 4 |"), "{expected}");
        assert_eq!(expected.lines().count(), 6 + 4, "six groups: {expected}");
    }

    #[test]
    fn distinct_key_hashes_prove_distinct_keys() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let ctx = SessionContext::new();
        let parts = vec![rt.block_on(frame(&ctx).collect()).unwrap()];
        let keys = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert!(keys_distinct(&parts, &keys(&["v"])).unwrap());
        assert!(!keys_distinct(&parts, &keys(&["k1", "k2"])).unwrap());
        // Two null keys form one group: not distinct.
        let nulls = vec![rt
            .block_on(frame(&ctx).filter(c("k1").is_null()).unwrap().collect())
            .unwrap()];
        assert!(!keys_distinct(&nulls, &keys(&["k1"])).unwrap());
        assert!(keys_distinct(&parts, &keys(&["nope"])).is_err());
    }
}
