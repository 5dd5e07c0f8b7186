//! Debug aid: `CODEANATOMY_ENGINE_EXPLAIN=1` prints every materialized view's executed plan with
//! its metrics, and when each view was built, to stderr. Read by the engine and by the views
//! (which materialize shared frames), so it sits below both.

use datafusion::physical_plan::ExecutionPlan;

/// Whether `CODEANATOMY_ENGINE_EXPLAIN` is set.
pub fn explain_enabled() -> bool {
    std::env::var_os("CODEANATOMY_ENGINE_EXPLAIN").is_some()
}

/// With `CODEANATOMY_ENGINE_EXPLAIN` set, print an executed plan with its metrics and the time
/// since `started` under `label`.
pub fn explain(label: &str, started: std::time::Instant, plan: &dyn ExecutionPlan) {
    if explain_enabled() {
        eprintln!(
            "=== {label}: {:.3}s\n{}",
            started.elapsed().as_secs_f64(),
            datafusion::physical_plan::display::DisplayableExecutionPlan::with_metrics(plan)
                .indent(true)
        );
    }
}
