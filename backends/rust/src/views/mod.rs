//! CPG views (CONTRACT §6-§8, §12-§13) as lazy DataFusion plans.
//!
//! `build_view` turns the DataFrames of a view's declared inputs into the view's DataFrame,
//! conformed to the contract schema of the view. Every rule is relational (joins, aggregates,
//! window functions, unions); row-wise logic lives in the scalar UDFs of `udf`. Iterative
//! rules are recursive queries (see `resolve`).

mod base;
mod calls;
mod cpg;
mod diagnostics;
mod edges;
mod lookup;
mod mro;
mod nodes;
mod resolve;
pub mod udf;
mod util;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use datafusion::arrow::array::RecordBatch;
use datafusion::common::{plan_err, Result};
use datafusion::prelude::{DataFrame, SessionContext};

use crate::contract::view_def;

/// Semantic policy knobs the views read (from the spec's policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewPolicy {
    pub use_scip: bool,
    pub min_confidence_bp: i64,
}

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
    crate::engine::explain(label, started, plan.as_ref());
    let table = MemTable::try_new(plan.schema(), partitions.clone())?;
    Ok((ctx.read_table(Arc::new(table))?, partitions))
}

/// The declared inputs of a view, normalized to Utf8 strings, and the workload's memo.
pub struct Inputs<'a> {
    view: &'a str,
    map: &'a HashMap<String, DataFrame>,
    pub memo: &'a Memo,
}

impl Inputs<'_> {
    fn get(&self, name: &str) -> Result<DataFrame> {
        match self.map.get(name) {
            Some(df) => util::norm(df.clone()),
            None => plan_err!("view {} needs input {name}, which was not given", self.view),
        }
    }

    /// CLASS/FUNCTION rows of the syntax view (`base::defs`).
    fn defs(&self) -> Result<DataFrame> {
        self.memo.frame("defs", || {
            base::defs(&self.get("syntax")?, &self.get("repo_scan")?)
        })
    }

    /// MODULE rows of the syntax view (`base::modules`).
    fn modules(&self) -> Result<DataFrame> {
        self.memo.frame("modules", || {
            base::modules(&self.get("syntax")?, &self.get("repo_scan")?)
        })
    }

    /// Located IMPORT rows (`base::import_rows`).
    fn import_rows(&self) -> Result<DataFrame> {
        self.memo.frame("import_rows", || {
            base::import_rows(&self.get("python_imports")?)
        })
    }

    /// ast name load rows with their NAME_REF IDs (`nodes::name_rows`).
    fn name_rows(&self) -> Result<DataFrame> {
        self.memo
            .frame("name_rows", || nodes::name_rows(&self.get("ast")?))
    }

    /// CALL rows of the syntax view with their CALLSITE IDs (`nodes::call_rows`).
    fn call_rows(&self) -> Result<DataFrame> {
        self.memo
            .frame("call_rows", || nodes::call_rows(&self.get("syntax")?))
    }

    /// PARAMETER rows with their owners (`nodes::parameter_rows`).
    fn parameter_rows(&self) -> Result<DataFrame> {
        self.memo.frame("parameter_rows", || {
            nodes::parameter_rows(&self.get("syntax")?, &self.get("repo_scan")?)
        })
    }

    /// Located SCIP occurrences (`calls::scip_occurrences`).
    fn scip_occurrences(&self) -> Result<DataFrame> {
        self.memo.frame("scip_occurrences", || {
            calls::scip_occurrences(self.get("scip")?)
        })
    }

    /// The first SCIP symbol row per symbol (`nodes::scip_symbols`): SYMBOL nodes and props.
    fn scip_symbols(&self) -> Result<DataFrame> {
        self.memo
            .frame("scip_symbols", || nodes::scip_symbols(&self.get("scip")?))
    }

    /// The first `python_external` row per module (`nodes::external_modules`): EXTERNAL_MODULE
    /// nodes and props.
    fn external_modules(&self) -> Result<DataFrame> {
        self.memo.frame("external_modules", || {
            nodes::external_modules(&self.get("python_external")?)
        })
    }

    /// The resolution world, with (`full`) or without the MRO in member lookup.
    fn world(&self, full: bool) -> Result<resolve::World> {
        resolve::World::new(self, full)
    }
}

/// Build the (lazy) DataFrame of catalogue view `name` from the DataFrames of its declared inputs
/// (evidence tables and already-built views, keyed by name).
pub fn build_view(
    _ctx: &SessionContext,
    name: &str,
    inputs: &HashMap<String, DataFrame>,
    policy: &ViewPolicy,
    memo: &Memo,
) -> Result<DataFrame> {
    let Some(def) = view_def(name) else {
        return plan_err!("view {name} is not in the catalogue");
    };
    let i = Inputs {
        view: name,
        map: inputs,
        memo,
    };
    let df = match name {
        "syntax" => base::syntax_rows(
            &i.get("repo_scan")?,
            &i.get("ast")?,
            &i.get("cst")?,
            &i.get("tree_sitter")?,
            &i.get("extract_diagnostics")?,
        )?,
        "file_nodes" => nodes::file_nodes(&i.get("repo_scan")?)?,
        "module_nodes" => nodes::module_nodes(i.modules()?)?,
        "definition_nodes" => nodes::definition_nodes(i.defs()?)?,
        "parameter_nodes" => nodes::parameter_nodes(i.parameter_rows()?)?,
        "callsite_nodes" => nodes::callsite_nodes(i.call_rows()?)?,
        "import_nodes" => nodes::import_nodes(i.import_rows()?)?,
        "symbol_nodes" => nodes::symbol_nodes(i.scip_symbols()?)?,
        "external_nodes" => nodes::external_nodes(i.external_modules()?)?,
        "name_ref_nodes" => nodes::name_ref_nodes(i.name_rows()?, &i.get("reference_edges")?)?,
        "diagnostic_nodes" => nodes::diagnostic_nodes(&i.get("diagnostics")?)?,
        "span_conflicts" => diagnostics::span_conflicts(
            &i.get("syntax")?,
            &i.get("ast")?,
            &i.get("cst")?,
            &i.get("tree_sitter")?,
            &i.get("extract_diagnostics")?,
        )?,
        "import_edges" => edges::import_edges(&i)?,
        "inherit_edges" => edges::inherit_edges(&i.world(false)?)?,
        "override_edges" => edges::override_edges(&i, &i.get("inherit_edges")?)?,
        "call_edges" => calls::call_edges(&i.world(true)?, &i.scip_occurrences()?, memo, policy)?,
        "reference_edges" => calls::reference_edges(
            &i.world(true)?,
            i.name_rows()?,
            &i.get("ast")?,
            &i.scip_occurrences()?,
            memo,
            policy,
        )?,
        "structure_edges" => edges::structure_edges(&i, &i.get("reference_edges")?)?,
        "diagnostics" => diagnostics::diagnostics(&i)?,
        "cpg_nodes" => cpg::union_views(
            &i,
            &[
                "file_nodes",
                "module_nodes",
                "definition_nodes",
                "parameter_nodes",
                "callsite_nodes",
                "import_nodes",
                "name_ref_nodes",
                "symbol_nodes",
                "external_nodes",
                "diagnostic_nodes",
            ],
        )?,
        "cpg_edges" => cpg::cpg_edges(&i, policy)?,
        "cpg_props" => cpg::cpg_props(&i)?,
        "evidence_summary" => cpg::evidence_summary(&i)?,
        other => return plan_err!("view {other} is not implemented"),
    };
    util::conform(df, &def.arrow_schema())
}
