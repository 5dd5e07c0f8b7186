//! CPG views (CONTRACT §6-§8, §12-§13) as lazy DataFusion plans.
//!
//! `build_view` turns the DataFrames of a view's declared inputs into the view's DataFrame,
//! conformed to the contract schema of the view. Every rule is relational (joins, aggregates,
//! window functions, unions); row-wise logic lives in the scalar UDFs of `udf`. Dotted-chain
//! resolution is a recursive query (`world`); the MRO is one UDF over all inheritance edges
//! (`mro`), since C3 is a global merge rather than a join pattern.
//!
//! The modules form layers, each using only those below it: `memo`, `udf` and `util` at the
//! bottom; the frames derived from the evidence (`base`, `nodes`) and the resolution world
//! (`world`, `lookup`, `mro`); `inputs`, what a view reads; the views themselves (`edges`,
//! `calls`, `diagnostics`, `cpg`); this module's `build_view` on top.

mod base;
mod calls;
mod cpg;
mod diagnostics;
mod edges;
mod inputs;
mod lookup;
mod memo;
mod mro;
mod nodes;
pub mod udf;
mod util;
mod world;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use datafusion::common::{plan_err, Result};
use datafusion::prelude::{DataFrame, SessionContext};

use crate::contract::view_def;
use inputs::Inputs;
pub use inputs::ViewPolicy;
pub use memo::{cache, Memo};

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
    let i = Inputs::new(name, inputs, memo);
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
        // The union of the node views and of the edge views the catalogue declares as inputs.
        "cpg_nodes" => cpg::union_views(&i, &def.inputs)?,
        "cpg_edges" => cpg::cpg_edges(&i, &def.inputs, policy)?,
        "cpg_props" => cpg::cpg_props(&i)?,
        "evidence_summary" => cpg::evidence_summary(&i)?,
        other => return plan_err!("view {other} is not implemented"),
    };
    util::conform(df, &def.arrow_schema())
}
