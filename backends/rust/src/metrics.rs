//! What a run reports besides its outputs: per-operator metrics walked from executed physical
//! plans, and the semantic warnings read from the `diagnostics` view's rows.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::physical_plan::ExecutionPlan;
use serde_json::{json, Value};

/// One `OperatorMetric` per node of an executed plan (pre-order), for output/view `view`:
/// `operator` = the node's name, `rows` = output_rows, `elapsed_ms` = elapsed_compute.
pub fn operator_metrics(view: &str, plan: &Arc<dyn ExecutionPlan>, out: &mut Vec<Value>) {
    let (rows, nanos) = plan
        .metrics()
        .map(|m| {
            let m = m.aggregate_by_name();
            (
                m.output_rows().unwrap_or(0),
                m.elapsed_compute().unwrap_or(0),
            )
        })
        .unwrap_or((0, 0));
    out.push(json!({
        "view": view,
        "operator": plan.name(),
        "rows": rows,
        "elapsed_ms": nanos as f64 / 1e6,
    }));
    for child in plan.children() {
        operator_metrics(view, child, out);
    }
}

fn text(batch: &RecordBatch, column: &str, row: usize) -> Option<String> {
    let col = batch.column_by_name(column)?;
    if col.is_null(row) {
        return None;
    }
    let col = datafusion::arrow::compute::cast(col, &datafusion::arrow::datatypes::DataType::Utf8)
        .ok()?;
    Some(col.as_string::<i32>().value(row).to_owned())
}

/// One `RunWarning` per row of the `diagnostics` view with `source = "semantic"`, ordered by
/// (code, path, bstart, bend, message) so the list is deterministic.
pub fn semantic_warnings(batches: &[RecordBatch]) -> Vec<Value> {
    let mut rows = Vec::new();
    for b in batches {
        for r in 0..b.num_rows() {
            if text(b, "source", r).as_deref() != Some("semantic") {
                continue;
            }
            let bstart = b
                .column_by_name("bstart")
                .and_then(|c| c.as_primitive_opt::<datafusion::arrow::datatypes::Int64Type>())
                .and_then(|c| (!c.is_null(r)).then(|| c.value(r)));
            let bend = b
                .column_by_name("bend")
                .and_then(|c| c.as_primitive_opt::<datafusion::arrow::datatypes::Int64Type>())
                .and_then(|c| (!c.is_null(r)).then(|| c.value(r)));
            let key = (
                text(b, "code", r),
                text(b, "path", r),
                bstart,
                bend,
                text(b, "message", r),
            );
            let warning = json!({
                "code": text(b, "code", r),
                "severity": text(b, "severity", r),
                "stage": text(b, "stage", r),
                "message": text(b, "message", r),
                "context": text(b, "context", r),
            });
            rows.push((key, warning));
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows.into_iter().map(|(_, w)| w).collect()
}
