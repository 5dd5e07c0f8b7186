//! `run` and `plan`: the engine's two entry points, from spec JSON to result JSON.
//!
//! Atomicity guarantee of `run`: every output (and every `views_dir` view) is planned and
//! executed to completion, its record batches staged in memory and checked against the
//! contract schema, BEFORE the first commit. So a spec, register, plan or execution error
//! leaves every output table exactly as it was. Commits then run concurrently, one per Delta
//! table; each commit is atomic (a reader sees the old or the new version, never a partial
//! one). Should a commit itself fail (e.g. disk full), the tables whose commit succeeded in
//! this run keep their new version: the COMMIT_FAILED error lists them in `context.committed`.
//!
//! Commits are incremental (`delta::commit_batches`, CONTRACT "Incremental writes"): a table
//! that exists gets one MERGE holding exactly the changed rows, or no commit when nothing
//! changed; each result entry names the version before, the write mode and the rows
//! inserted, updated and deleted. A table without the change data feed gets it turned on in
//! a commit of its own before its overwrite.
//!
//! Tables live in local folders or in an object store (`s3://` URIs for the inputs, the
//! outputs and the views): every table of a call is opened with the call's [`Storage`], and
//! every error returned is scrubbed of its secrets (`Storage::scrub_error`).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::physical_plan::{collect, ExecutionPlan};
use datafusion::prelude::SessionContext;
use serde_json::{json, Value};
use std::sync::Arc;

use crate::contract;
use crate::delta::{self, WriteOutcome};
use crate::engine::{self, BuiltViews, RUNTIME};
use crate::error::{execution_failed, plan_failed, EngineError, EngineResult, ErrorCode};
use crate::metrics;
use crate::plan::{self, Workload};
use crate::spec;
use crate::storage::{self, Storage};

/// Validate and compile a spec document (stages validate and compile).
pub fn compile(spec_json: &str) -> EngineResult<Workload> {
    plan::compile(spec::decode_spec(spec_json)?)
}

/// `PlanReport` JSON of tier 1, 2 or 3. Tier 3 registers the inputs (opened through `storage`)
/// and plans every kept view.
pub fn plan(spec_json: &str, tier: u8, storage: &Storage) -> EngineResult<Value> {
    storage::register_handlers();
    plan_report(spec_json, tier, storage).map_err(|e| storage.scrub_error(e))
}

fn plan_report(spec_json: &str, tier: u8, storage: &Storage) -> EngineResult<Value> {
    if !(1..=3).contains(&tier) {
        return Err(EngineError::new(
            ErrorCode::SpecInvalid,
            format!("plan tier {tier} does not exist (1, 2 or 3)"),
        )
        .with("tier", tier));
    }
    let workload = compile(spec_json)?;
    let mut report = workload.plan_report(tier);
    if tier == 3 {
        report["validation"] = RUNTIME.block_on(async {
            let ctx = engine::session(&workload);
            engine::register_inputs(&ctx, &workload, storage).await?;
            let built = engine::build_views(&ctx, &workload).await?;
            engine::validation(&ctx, &workload, &built).await
        })?;
    }
    Ok(report)
}

/// One executed view: its conformed batches and the executed physical plan.
struct Executed {
    batches: Vec<RecordBatch>,
    plan: Arc<dyn ExecutionPlan>,
}

impl Executed {
    fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

async fn execute_view(
    ctx: &SessionContext,
    built: &BuiltViews,
    name: &str,
) -> EngineResult<Executed> {
    let df = built.get(name)?.clone();
    let plan = df
        .create_physical_plan()
        .await
        .map_err(|e| plan_failed(name, e))?;
    let t = Instant::now();
    let raw = collect(plan.clone(), ctx.task_ctx())
        .await
        .map_err(|e| execution_failed(name, e))?;
    crate::explain::explain(&format!("view {name}"), t, plan.as_ref());
    let schema = contract::view_def(name)
        .map(|d| d.arrow_schema())
        .ok_or_else(|| EngineError::new(ErrorCode::InternalError, format!("view {name}")))?;
    let batches = raw
        .iter()
        .map(|b| engine::conform(name, b, &schema))
        .collect::<EngineResult<Vec<_>>>()?;
    Ok(Executed { batches, plan })
}

/// One Delta table to commit: its location, contract schema and primary key, and its rows.
struct Job<'a> {
    dir: String,
    schema: SchemaRef,
    key: Vec<&'static str>,
    executed: &'a Executed,
}

/// The incremental-write fields of a result entry (CONTRACT "Incremental writes").
fn write_fields(entry: &mut Value, w: &WriteOutcome) {
    entry["version_before"] = json!(w.version_before);
    entry["mode"] = json!(w.mode.as_str());
    entry["rows_inserted"] = json!(w.rows_inserted);
    entry["rows_updated"] = json!(w.rows_updated);
    entry["rows_deleted"] = json!(w.rows_deleted);
    entry["reason"] = json!(w.reason);
}

fn secs(since: Instant) -> f64 {
    since.elapsed().as_secs_f64()
}

/// Run a spec with local folders: outputs committed under `outputs_dir/<table>`, every kept
/// view under `views_dir/<view>` when given. Returns the `RunResult` JSON value.
pub fn run(spec_json: &str, outputs_dir: &Path, views_dir: Option<&Path>) -> EngineResult<Value> {
    run_at(
        spec_json,
        &outputs_dir.to_string_lossy(),
        views_dir.map(|d| d.to_string_lossy()).as_deref(),
        &Storage::default(),
    )
}

/// Run a spec: outputs committed under `outputs_dir/<table>`, every kept view under
/// `views_dir/<view>` when given, where each root is a local folder or an object-store URI;
/// every table (inputs included) is opened with `storage`. Returns the `RunResult` JSON value.
pub fn run_at(
    spec_json: &str,
    outputs_dir: &str,
    views_dir: Option<&str>,
    storage: &Storage,
) -> EngineResult<Value> {
    storage::register_handlers();
    compile(spec_json)
        .and_then(|workload| {
            RUNTIME.block_on(run_workload(&workload, outputs_dir, views_dir, storage))
        })
        .map_err(|e| storage.scrub_error(e))
}

async fn run_workload(
    workload: &Workload,
    outputs_dir: &str,
    views_dir: Option<&str>,
    storage: &Storage,
) -> EngineResult<Value> {
    let mut timings = BTreeMap::new();
    let ctx = engine::session(workload);

    let t = Instant::now();
    engine::register_inputs(&ctx, workload, storage).await?;
    timings.insert("register_s", secs(t));

    let t = Instant::now();
    let built = engine::build_views(&ctx, workload).await?;
    timings.insert("plan_s", secs(t));

    // Execute everything before committing anything (see the module doc).
    let t = Instant::now();
    let mut executed: BTreeMap<String, Executed> = BTreeMap::new();
    let mut to_execute: Vec<String> = workload.outputs().iter().map(|o| o.view.clone()).collect();
    if views_dir.is_some() {
        to_execute.extend(workload.schedule().cloned());
    }
    let mut metric_rows = Vec::new();
    for name in to_execute {
        if executed.contains_key(&name) {
            continue;
        }
        let ex = execute_view(&ctx, &built, &name).await?;
        executed.insert(name, ex);
    }
    for o in workload.outputs() {
        metrics::operator_metrics(&o.table, &executed[&o.view].plan, &mut metric_rows);
    }
    timings.insert("execute_s", secs(t));

    let view_rows: BTreeMap<String, usize> = executed
        .iter()
        .map(|(k, v)| (k.clone(), v.rows()))
        .collect();

    // Semantic warnings: the diagnostics view's semantic rows, when the workload keeps it.
    let t = Instant::now();
    let mut warnings = Vec::new();
    if workload.schedule().any(|v| v == "diagnostics") {
        if !executed.contains_key("diagnostics") {
            let ex = execute_view(&ctx, &built, "diagnostics").await?;
            executed.insert("diagnostics".into(), ex);
        }
        warnings = metrics::semantic_warnings(&executed["diagnostics"].batches);
    }
    timings.insert("semantic_s", secs(t));

    // Every Delta table is committed concurrently (each commit is atomic by itself). When one
    // fails, the tables whose commit succeeded keep their new version and are listed.
    let t = Instant::now();
    let mut jobs: Vec<Job> = Vec::new();
    for o in workload.outputs() {
        let def = contract::CONTRACT
            .outputs
            .iter()
            .find(|d| d.name == o.table)
            .ok_or_else(|| EngineError::new(ErrorCode::InternalError, o.table.clone()))?;
        jobs.push(Job {
            dir: storage::join(outputs_dir, &o.table),
            schema: def.schema.clone(),
            key: def.primary_key.clone(),
            executed: &executed[&o.view],
        });
    }
    if let Some(vdir) = views_dir {
        for name in workload.schedule() {
            let def = contract::view_def(name)
                .ok_or_else(|| EngineError::new(ErrorCode::InternalError, name.clone()))?;
            jobs.push(Job {
                dir: storage::join(vdir, name),
                schema: def.arrow_schema(),
                key: def.primary_key.clone(),
                executed: &executed[name],
            });
        }
    }
    // Each commit is its own task: parquet encoding is CPU work, and futures joined in one
    // task would take turns on one thread.
    let tasks: Vec<_> = jobs
        .iter()
        .map(|job| {
            let (dir, storage, schema, key, batches) = (
                job.dir.clone(),
                storage.clone(),
                job.schema.clone(),
                job.key.clone(),
                job.executed.batches.clone(),
            );
            tokio::spawn(
                async move { delta::commit_table(&dir, &storage, schema, &key, batches).await },
            )
        })
        .collect();
    let results: Vec<EngineResult<WriteOutcome>> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|joined| {
            joined.unwrap_or_else(|e| {
                Err(EngineError::new(
                    ErrorCode::InternalError,
                    format!("a commit task failed: {e}"),
                ))
            })
        })
        .collect();
    let committed: Vec<String> = jobs
        .iter()
        .zip(&results)
        .filter(|(_, r)| r.is_ok())
        .map(|(job, _)| job.dir.clone())
        .collect();
    let mut writes = Vec::new();
    for result in results {
        writes.push(result.map_err(|e| e.with("committed", committed.clone()))?);
    }
    let n_outputs = workload.outputs().len();
    let outputs: Vec<Value> = jobs
        .iter()
        .zip(&writes)
        .zip(workload.outputs())
        .map(|((job, w), o)| {
            let mut entry = json!({
                "table": o.table,
                "uri": job.dir,
                "delta_version": w.version,
                "rows": job.executed.rows(),
                "schema_hash": contract::schema_hash(&job.schema),
            });
            write_fields(&mut entry, w);
            entry
        })
        .collect();
    // The views' writes, when views_dir is given (the jobs after the outputs).
    let view_writes: Vec<Value> = jobs[n_outputs..]
        .iter()
        .zip(&writes[n_outputs..])
        .zip(workload.schedule())
        .map(|((job, w), name)| {
            let mut entry = json!({
                "view": name,
                "uri": job.dir,
                "delta_version": w.version,
                "rows": job.executed.rows(),
            });
            write_fields(&mut entry, w);
            entry
        })
        .collect();
    timings.insert("commit_s", secs(t));

    Ok(json!({
        "backend": "rust",
        "engine_version": crate::version_string(),
        "spec_hash": workload.spec_hash,
        "outputs": outputs,
        "view_writes": view_writes,
        "warnings": warnings,
        "metrics": metric_rows,
        "view_rows": view_rows,
        "timings": timings,
    }))
}
