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

use datafusion::common::{plan_err, Result};
use datafusion::prelude::{DataFrame, SessionContext};

use crate::contract::view_def;

/// Semantic policy knobs the views read (from the spec's policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewPolicy {
    pub use_scip: bool,
    pub min_confidence_bp: i64,
}

/// The declared inputs of a view, normalized to Utf8 strings.
struct Inputs<'a> {
    view: &'a str,
    map: &'a HashMap<String, DataFrame>,
}

impl Inputs<'_> {
    fn get(&self, name: &str) -> Result<DataFrame> {
        match self.map.get(name) {
            Some(df) => util::norm(df.clone()),
            None => plan_err!("view {} needs input {name}, which was not given", self.view),
        }
    }
}

/// Build the (lazy) DataFrame of catalogue view `name` from the DataFrames of its declared inputs
/// (evidence tables and already-built views, keyed by name).
pub fn build_view(
    _ctx: &SessionContext,
    name: &str,
    inputs: &HashMap<String, DataFrame>,
    policy: &ViewPolicy,
) -> Result<DataFrame> {
    let Some(def) = view_def(name) else {
        return plan_err!("view {name} is not in the catalogue");
    };
    let i = Inputs {
        view: name,
        map: inputs,
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
        "module_nodes" => nodes::module_nodes(&i.get("syntax")?, &i.get("repo_scan")?)?,
        "definition_nodes" => nodes::definition_nodes(&i.get("syntax")?, &i.get("repo_scan")?)?,
        "parameter_nodes" => nodes::parameter_nodes(&i.get("syntax")?, &i.get("repo_scan")?)?,
        "callsite_nodes" => nodes::callsite_nodes(&i.get("syntax")?)?,
        "import_nodes" => nodes::import_nodes(&i.get("python_imports")?)?,
        "symbol_nodes" => nodes::symbol_nodes(&i.get("scip")?)?,
        "external_nodes" => nodes::external_nodes(&i.get("python_external")?)?,
        "name_ref_nodes" => nodes::name_ref_nodes(&i.get("ast")?, &i.get("reference_edges")?)?,
        "diagnostic_nodes" => nodes::diagnostic_nodes(&i.get("diagnostics")?)?,
        "span_conflicts" => diagnostics::span_conflicts(
            &i.get("syntax")?,
            &i.get("ast")?,
            &i.get("cst")?,
            &i.get("tree_sitter")?,
            &i.get("extract_diagnostics")?,
        )?,
        "import_edges" => edges::import_edges(
            &i.get("python_imports")?,
            &i.get("syntax")?,
            &i.get("repo_scan")?,
        )?,
        "inherit_edges" => edges::inherit_edges(&resolve::World::new(&i, false)?)?,
        "override_edges" => edges::override_edges(
            &i.get("syntax")?,
            &i.get("repo_scan")?,
            &i.get("inherit_edges")?,
        )?,
        "call_edges" => {
            calls::call_edges(&resolve::World::new(&i, true)?, &i.get("scip")?, policy)?
        }
        "reference_edges" => calls::reference_edges(
            &resolve::World::new(&i, true)?,
            &i.get("ast")?,
            &i.get("scip")?,
            policy,
        )?,
        "structure_edges" => edges::structure_edges(
            &i.get("syntax")?,
            &i.get("repo_scan")?,
            &i.get("python_imports")?,
            &i.get("ast")?,
            &i.get("reference_edges")?,
        )?,
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
