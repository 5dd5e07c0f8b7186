//! Frames materialized once per workload and shared by the views that read them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use datafusion::arrow::array::RecordBatch;
use datafusion::common::Result;
use datafusion::prelude::{DataFrame, SessionContext};

/// Frames that several views, or several places of one view, derive from the same inputs
/// (the definitions, modules and imports of the syntax evidence, the resolution world, ...),
/// materialized once per workload. DataFusion does not share common subplans: a frame used
/// twice in a plan DAG is planned and executed twice, so without this the definition rows
/// were recomputed in every view that reads them and several times inside one view.
///
/// A frame is materialized (`DataFrame::cache`) only when built inside a multi-threaded
/// Tokio runtime, as the engine does; elsewhere (unit tests on tiny tables) it stays lazy.
/// Keys name a frame of the workload's inputs: the same key must always denote the same rows.
///
/// Views are built concurrently (`engine::build_views`): each key has its own lock, so a frame
/// two views need at once is built by the first and awaited by the second, and frames of
/// different keys build in parallel. A frame's build may read other keys, never its own.
#[derive(Default)]
pub struct Memo {
    frames: Mutex<HashMap<String, Arc<Mutex<Option<DataFrame>>>>>,
}

impl Memo {
    /// The frame memoized under `key`, built (and materialized) on first use.
    pub fn frame(&self, key: &str, build: impl FnOnce() -> Result<DataFrame>) -> Result<DataFrame> {
        let slot = self
            .frames
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key.to_string())
            .or_default()
            .clone();
        let mut built = slot.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(df) = built.as_ref() {
            return Ok(df.clone());
        }
        let df = materialize(key, build()?)?;
        *built = Some(df.clone());
        Ok(df)
    }
}

/// Execute `df` into an in-memory table when a multi-threaded runtime drives the build
/// (`label` names it in the `CODEANATOMY_ENGINE_EXPLAIN` output).
pub fn materialize(label: &str, df: DataFrame) -> Result<DataFrame> {
    match eagerly(cache(label, df.clone())) {
        Some(cached) => cached,
        None => Ok(df),
    }
}

/// Run `work` to completion now when a multi-threaded runtime drives the build (the views are
/// built synchronously inside it); `None` elsewhere (unit tests build plans lazily).
pub fn eagerly<T>(work: impl std::future::Future<Output = T>) -> Option<T> {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => {
            Some(tokio::task::block_in_place(|| h.block_on(work)))
        }
        _ => None,
    }
}

/// Execute `df` and return a DataFrame over its batches (an in-memory table with the same
/// partitions), like `DataFrame::cache`. With `CODEANATOMY_ENGINE_EXPLAIN` set, the executed
/// plan and its metrics are printed to stderr under `label`.
pub async fn cache(label: &str, df: DataFrame) -> Result<DataFrame> {
    Ok(cache_partitions(label, df).await?.0)
}

/// `cache`, also returning the batches of each partition.
pub async fn cache_partitions(
    label: &str,
    df: DataFrame,
) -> Result<(DataFrame, Vec<Vec<RecordBatch>>)> {
    use datafusion::datasource::MemTable;
    use datafusion::physical_plan::collect_partitioned;

    let (state, _) = df.clone().into_parts();
    let ctx = SessionContext::new_with_state(state);
    let started = std::time::Instant::now();
    let plan = df.create_physical_plan().await?;
    let partitions = collect_partitioned(plan.clone(), ctx.task_ctx()).await?;
    crate::explain::explain(label, started, plan.as_ref());
    let table = MemTable::try_new(plan.schema(), partitions.clone())?;
    Ok((ctx.read_table(Arc::new(table))?, partitions))
}
