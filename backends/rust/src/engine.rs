//! The engine core: a DataFusion session, the registered Delta inputs, and the workload's
//! views built lazily in schedule order into ONE plan DAG (every view's DataFrame is composed
//! from its inputs' DataFrames; nothing executes here). Also tier 3 of plan introspection.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, OnceLock};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::physical_plan::displayable;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use serde_json::{json, Value};

use crate::contract::{self, schema_string};
use crate::delta;
use crate::error::{plan_failed, EngineError, EngineResult, ErrorCode};
use crate::explain::explain_enabled;
use crate::plan::Workload;
use crate::storage::Storage;
use crate::views::{self, ViewPolicy};

/// One multi-threaded runtime for the process: DataFusion and delta-rs are async.
pub static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("codeanatomy-engine")
        .build()
        .expect("the tokio runtime starts")
});

/// A session for `workload`: `target_partitions` from the policy (0 = DataFusion's default,
/// the number of cores). String columns are read as `Utf8`, the contract's type, rather than
/// DataFusion 55's default `Utf8View`.
///
/// Tuned for this workload, where independent views already run concurrently (`build_views`):
/// joins and aggregations are not hash-repartitioned (a `RepartitionExec` hashes and copies
/// every probe row; the join builds its table once instead), and batches are 64K rows rather
/// than 8K (fewer, larger batches through the many joins). None of it changes a result.
pub fn session(workload: &Workload) -> SessionContext {
    let mut config = SessionConfig::new().with_batch_size(64 * 1024);
    if workload.spec.policy.target_partitions > 0 {
        config = config.with_target_partitions(workload.spec.policy.target_partitions as usize);
    }
    let options = config.options_mut();
    options.execution.parquet.schema_force_view_types = false;
    options.optimizer.repartition_joins = false;
    options.optimizer.repartition_aggregations = false;
    SessionContext::new_with_config(config)
}

/// Register every input the kept views read (stage register), opened through `storage`.
pub async fn register_inputs(
    ctx: &SessionContext,
    workload: &Workload,
    storage: &Storage,
) -> EngineResult<()> {
    for b in &workload.used_inputs {
        delta::register_input(ctx, b, storage).await?;
    }
    Ok(())
}

/// The lazily built views of a workload, by name.
pub struct BuiltViews {
    pub frames: HashMap<String, DataFrame>,
}

impl BuiltViews {
    /// The DataFrame of kept view `name`.
    pub fn get(&self, name: &str) -> EngineResult<&DataFrame> {
        self.frames.get(name).ok_or_else(|| {
            EngineError::new(
                ErrorCode::InternalError,
                format!("view {name} was not built"),
            )
        })
    }
}

/// Whether a planned schema matches the contract: same column names in order and the same
/// types, where string flavours and list item names are not distinguished. Nullability is not
/// compared here: non-null contract columns are enforced on every batch (see [`conform`]).
pub fn schema_matches(actual: &Schema, expected: &Schema) -> bool {
    delta::schema_differences(actual, expected, false).is_empty()
}

/// Build every kept view (stage plan): PLAN_FAILED when a view cannot be planned,
/// OUTPUT_SCHEMA_MISMATCH when its planned schema differs from the contract. When several views
/// fail, the error is the first failing view's in schedule order.
///
/// Views are built concurrently, each as soon as its inputs are built: one thread per view,
/// waiting on the views it reads (a DAG, so nothing waits on itself). Building a view plans it
/// and materializes the frames it shares (`views::Memo`), so independent views (CALLS and
/// REFERENCES, the node views of one generation, ...) keep both cores busy instead of taking
/// turns. The DataFusion work itself runs on the runtime's worker threads.
pub async fn build_views(ctx: &SessionContext, workload: &Workload) -> EngineResult<BuiltViews> {
    let builder = ViewBuilder::new(ctx, workload);
    tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            for name in workload.schedule() {
                let builder = &builder;
                std::thread::Builder::new()
                    .name(format!("codeanatomy-view-{name}"))
                    .spawn_scoped(scope, move || {
                        let _runtime = builder.handle.enter();
                        // The outcome stays in the view's cell, read below.
                        let _ = builder.get(name);
                    })
                    .map_err(|e| {
                        EngineError::new(
                            ErrorCode::InternalError,
                            format!("cannot start a thread to build view {name}: {e}"),
                        )
                    })?;
            }
            Ok::<(), EngineError>(())
        })
    })?;
    let mut frames = HashMap::new();
    for name in workload.schedule() {
        let df = builder.cells[name.as_str()]
            .get()
            .cloned()
            .unwrap_or_else(|| {
                Err(EngineError::new(
                    ErrorCode::InternalError,
                    format!("view {name} was not built"),
                ))
            })?;
        frames.insert(name.clone(), df);
    }
    Ok(BuiltViews { frames })
}

/// The shared state of one `build_views`: a cell per kept view, filled once by whichever
/// thread needs the view first.
struct ViewBuilder<'a> {
    ctx: &'a SessionContext,
    workload: &'a Workload,
    policy: ViewPolicy,
    /// How many kept views and outputs read each view.
    consumers: HashMap<String, usize>,
    memo: views::Memo,
    cells: HashMap<&'a str, OnceLock<EngineResult<DataFrame>>>,
    handle: tokio::runtime::Handle,
    started: std::time::Instant,
}

impl<'a> ViewBuilder<'a> {
    fn new(ctx: &'a SessionContext, workload: &'a Workload) -> Self {
        let mut consumers: HashMap<String, usize> = HashMap::new();
        for name in workload.schedule() {
            for input in workload.view_inputs(name) {
                *consumers.entry(input).or_default() += 1;
            }
        }
        for output in workload.outputs() {
            *consumers.entry(output.view.clone()).or_default() += 1;
        }
        ViewBuilder {
            ctx,
            workload,
            policy: ViewPolicy {
                use_scip: workload.spec.policy.use_scip,
                min_confidence_bp: workload.spec.policy.min_confidence_bp,
            },
            consumers,
            memo: views::Memo::default(),
            cells: workload
                .schedule()
                .map(|n| (n.as_str(), OnceLock::new()))
                .collect(),
            handle: tokio::runtime::Handle::current(),
            started: std::time::Instant::now(),
        }
    }

    /// The built view `name`, building it (and, first, its inputs) unless another thread did.
    fn get(&self, name: &str) -> EngineResult<DataFrame> {
        match self.cells.get(name) {
            Some(cell) => cell.get_or_init(|| self.build(name)).clone(),
            None => Err(EngineError::new(
                ErrorCode::InternalError,
                format!("view {name} is not kept"),
            )),
        }
    }

    /// `build_frame`, noting when it finished in `CODEANATOMY_ENGINE_EXPLAIN` output.
    fn build(&self, name: &str) -> EngineResult<DataFrame> {
        let df = self.build_frame(name);
        if explain_enabled() {
            eprintln!(
                "=== built {name} at {:.3}s",
                self.started.elapsed().as_secs_f64()
            );
        }
        df
    }

    /// Plan view `name` from its built inputs, check its schema, and materialize it when
    /// several consumers read it.
    fn build_frame(&self, name: &str) -> EngineResult<DataFrame> {
        let mut inputs = HashMap::new();
        for input in self.workload.view_inputs(name) {
            let df = if self.cells.contains_key(input.as_str()) {
                self.get(&input)?
            } else {
                self.handle
                    .block_on(self.ctx.table(input.as_str()))
                    .map_err(|e| plan_failed(name, e))?
            };
            inputs.insert(input, df);
        }
        let mut df = views::build_view(self.ctx, name, &inputs, &self.policy, &self.memo)
            .map_err(|e| plan_failed(name, e))?;
        if name == "evidence_summary" {
            df = pin_versions(self.ctx, df, self.workload).map_err(|e| plan_failed(name, e))?;
        }
        let expected = contract::view_def(name)
            .map(|d| d.arrow_schema())
            .ok_or_else(|| EngineError::new(ErrorCode::ViewUnknown, format!("view {name}")))?;
        let actual: Schema = df.schema().as_arrow().clone();
        if !schema_matches(&actual, &expected) {
            return Err(EngineError::new(
                ErrorCode::OutputSchemaMismatch,
                format!("view {name} plans a schema that differs from the contract"),
            )
            .with("view", name)
            .with("expected_schema", schema_string(&expected))
            .with("actual_schema", schema_string(&actual))
            .with(
                "differences",
                delta::schema_differences(&actual, &expected, false),
            ));
        }
        // A view read by more than one kept view or output is materialized once (an in-memory
        // table the consumers scan). Inlining it instead would re-plan and re-execute the whole
        // upstream DAG once per consumer, which grows multiplicatively with depth.
        if self.consumers.get(name).copied().unwrap_or(0) > 1 {
            self.handle
                .block_on(views::cache(&format!("view {name}"), df))
                .map_err(|e| {
                    EngineError::new(ErrorCode::ExecutionFailed, format!("view {name}: {e}"))
                        .with("view", name)
                })
        } else {
            Ok(df)
        }
    }
}

/// `evidence_summary.delta_version` is the pinned version of each input (CONTRACT §6): the
/// views see DataFrames only, so the engine joins the spec's pins in by `source`.
fn pin_versions(
    ctx: &SessionContext,
    df: DataFrame,
    workload: &Workload,
) -> datafusion::error::Result<DataFrame> {
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field};
    use datafusion::common::JoinType;
    use datafusion::prelude::col;

    let inputs = &workload.spec.inputs;
    let pins = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("pin_source", DataType::Utf8, false),
            Field::new("pin_version", DataType::Int64, true),
        ])),
        vec![
            Arc::new(StringArray::from_iter_values(
                inputs.iter().map(|b| b.name.as_str()),
            )),
            Arc::new(Int64Array::from_iter_values(
                inputs.iter().map(|b| b.delta_version),
            )),
        ],
    )?;
    let columns: Vec<String> = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let joined = df.join(
        ctx.read_batch(pins)?,
        JoinType::Left,
        &["source"],
        &["pin_source"],
        None,
    )?;
    let select = columns
        .iter()
        .map(|c| {
            if c == "delta_version" {
                col("pin_version").alias("delta_version")
            } else {
                col(c.as_str())
            }
        })
        .collect::<Vec<_>>();
    joined.select(select)
}

/// Cast a batch to the contract schema of its view (same columns in order): string flavours
/// to `Utf8`, nullability as the contract says. EXECUTION_FAILED when a non-null contract
/// column holds a null (arrow refuses the batch).
pub fn conform(view: &str, batch: &RecordBatch, schema: &SchemaRef) -> EngineResult<RecordBatch> {
    let columns = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(field, col)| {
            if col.data_type() == field.data_type() {
                Ok(col.clone())
            } else {
                cast(col, field.data_type())
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| crate::error::execution_failed(view, e))?;
    RecordBatch::try_new(schema.clone(), columns).map_err(|e| {
        EngineError::new(
            ErrorCode::ExecutionFailed,
            format!("view {view} produced rows that break its contract schema: {e}"),
        )
        .with("view", view)
    })
}

/// Tier 3 validation envelopes, one per kept view in schedule order.
pub async fn validation(
    ctx: &SessionContext,
    workload: &Workload,
    built: &BuiltViews,
) -> EngineResult<Value> {
    let mut checks = Vec::new();
    for name in workload.schedule() {
        let df = built.get(name)?;
        let expected = contract::view_def(name)
            .map(|d| d.arrow_schema())
            .unwrap_or_else(|| Arc::new(Schema::empty()));
        let actual: Schema = df.schema().as_arrow().clone();
        let logical = df
            .clone()
            .into_optimized_plan()
            .map_err(|e| plan_failed(name, e))?;
        let physical = ctx
            .state()
            .create_physical_plan(&logical)
            .await
            .map_err(|e| plan_failed(name, e))?;
        checks.push(json!({
            "view": name,
            "schema_ok": schema_matches(&actual, &expected),
            "expected_schema": schema_string(&expected),
            "actual_schema": schema_string(&actual),
            "logical_plan": logical.display_indent().to_string(),
            "physical_plan": displayable(physical.as_ref()).indent(true).to_string(),
        }));
    }
    Ok(Value::Array(checks))
}
