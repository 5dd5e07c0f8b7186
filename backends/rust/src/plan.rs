//! Compiling a spec into a workload: the rules of CONTRACT §9/§12 that need the whole spec
//! (uniqueness, references, cycles, catalogue conformance), pruning to the requested outputs,
//! and the topological generations that are the schedule. Also the tier 1/2 `PlanReport`.
//!
//! Check order (each failing check stops): names unique and outputs are contract tables
//! (SPEC_INVALID) -> every output view and view input resolves (VIEW_UNKNOWN) -> the graph is
//! acyclic (VIEW_CYCLE) -> every view conforms to the catalogue (VIEW_UNKNOWN) -> each output's
//! view has its table's schema (OUTPUT_SCHEMA_MISMATCH). The cycle check comes before catalogue
//! conformance because the catalogue itself is acyclic: afterwards no cycle could be reported.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::{json, Value};

use crate::contract::{self, OUTPUT_TABLE_NAMES};
use crate::error::{EngineError, EngineResult, ErrorCode};
use crate::spec::{DatasetBinding, OutputSpec, SemanticExecutionSpec};

/// A validated, pruned workload.
#[derive(Debug, Clone)]
pub struct Workload {
    pub spec: SemanticExecutionSpec,
    pub spec_hash: String,
    /// Kept views grouped in topological generations, each sorted by name.
    pub generations: Vec<Vec<String>>,
    /// Every (input or view, view) dependency among kept views, sorted.
    pub edges: Vec<(String, String)>,
    /// Spec inputs the kept views read, in spec order.
    pub used_inputs: Vec<DatasetBinding>,
    /// Spec views not kept, in spec order.
    pub pruned: Vec<String>,
}

impl Workload {
    /// Kept views in schedule order.
    pub fn schedule(&self) -> impl Iterator<Item = &String> {
        self.generations.iter().flatten()
    }

    /// Number of kept views.
    pub fn kept_count(&self) -> usize {
        self.generations.iter().map(Vec::len).sum()
    }

    /// The spec's inputs of view `name` (deduplicated, spec order).
    pub fn view_inputs(&self, name: &str) -> Vec<String> {
        let mut seen = HashSet::new();
        self.spec
            .views
            .iter()
            .find(|v| v.name == name)
            .map(|v| {
                v.inputs
                    .iter()
                    .filter(|i| seen.insert(i.as_str()))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The requested outputs in spec order.
    pub fn outputs(&self) -> &[OutputSpec] {
        &self.spec.outputs
    }

    /// Tier 1 / tier 2 plan report (CONTRACT §12 "Plan introspection"); tier 3 adds
    /// `validation` elsewhere (it needs registered inputs).
    pub fn plan_report(&self, tier: u8) -> Value {
        let mut graph = BTreeMap::new();
        graph.insert("inputs", self.used_inputs.len());
        graph.insert("views", self.kept_count());
        graph.insert("edges", self.edges.len());
        graph.insert("generations", self.generations.len());
        graph.insert("pruned", self.pruned.len());
        let mut report = json!({
            "backend": "rust",
            "tier": tier,
            "spec_hash": self.spec_hash,
            "outputs": self.spec.outputs.iter().map(|o| o.table.as_str()).collect::<Vec<_>>(),
            "graph": graph,
            "edges": Value::Null,
            "schedule": Value::Null,
            "validation": Value::Null,
        });
        if tier >= 2 {
            report["edges"] = json!(self
                .edges
                .iter()
                .map(|(a, b)| [a.as_str(), b.as_str()])
                .collect::<Vec<_>>());
            report["schedule"] = json!(self.generations);
        }
        report
    }
}

fn invalid(path: String, message: String) -> EngineError {
    EngineError::new(ErrorCode::SpecInvalid, message).with("path", path)
}

fn unknown(message: String) -> EngineError {
    EngineError::new(ErrorCode::ViewUnknown, message)
}

fn check_unique<'a>(
    what: &str,
    names: impl Iterator<Item = &'a str>,
    seen: &mut HashSet<&'a str>,
) -> EngineResult<()> {
    for (i, name) in names.enumerate() {
        if !seen.insert(name) {
            return Err(invalid(
                format!("$.{what}[{i}]"),
                format!("name {name:?} is used twice in the spec"),
            )
            .with("name", name));
        }
    }
    Ok(())
}

fn check_names(spec: &SemanticExecutionSpec) -> EngineResult<()> {
    let mut names = HashSet::new();
    check_unique(
        "inputs",
        spec.inputs.iter().map(|b| b.name.as_str()),
        &mut names,
    )?;
    check_unique(
        "views",
        spec.views.iter().map(|v| v.name.as_str()),
        &mut names,
    )?;
    for (i, b) in spec.inputs.iter().enumerate() {
        if contract::evidence_schema(&b.name).is_none() {
            return Err(invalid(
                format!("$.inputs[{i}].name"),
                format!(
                    "input {:?} is not an evidence table of the contract",
                    b.name
                ),
            ));
        }
        if b.delta_version < 0 {
            return Err(invalid(
                format!("$.inputs[{i}].delta_version"),
                format!("input {:?} pins a negative Delta version", b.name),
            ));
        }
    }
    let mut tables = HashSet::new();
    for (i, o) in spec.outputs.iter().enumerate() {
        if !OUTPUT_TABLE_NAMES.contains(&o.table.as_str()) {
            return Err(invalid(
                format!("$.outputs[{i}].table"),
                format!("{:?} is not an output table of the contract", o.table),
            ));
        }
        if !tables.insert(o.table.as_str()) {
            return Err(invalid(
                format!("$.outputs[{i}].table"),
                format!("output table {:?} is requested twice", o.table),
            ));
        }
    }
    let p = &spec.policy;
    if !(0..=10_000).contains(&p.min_confidence_bp) {
        return Err(invalid(
            "$.policy.min_confidence_bp".into(),
            format!(
                "min_confidence_bp {} is outside 0..=10000",
                p.min_confidence_bp
            ),
        ));
    }
    if !(0..=4096).contains(&p.target_partitions) {
        return Err(invalid(
            "$.policy.target_partitions".into(),
            format!(
                "target_partitions {} is outside 0..=4096",
                p.target_partitions
            ),
        ));
    }
    Ok(())
}

fn check_references(spec: &SemanticExecutionSpec) -> EngineResult<()> {
    let inputs: HashSet<&str> = spec.inputs.iter().map(|b| b.name.as_str()).collect();
    let views: HashSet<&str> = spec.views.iter().map(|v| v.name.as_str()).collect();
    for o in &spec.outputs {
        if !views.contains(o.view.as_str()) {
            return Err(unknown(format!(
                "output {} names view {:?}, which the spec does not define",
                o.table, o.view
            ))
            .with("table", o.table.as_str())
            .with("view", o.view.as_str()));
        }
    }
    for v in &spec.views {
        for input in &v.inputs {
            if !inputs.contains(input.as_str()) && !views.contains(input.as_str()) {
                return Err(unknown(format!(
                    "view {} reads {input:?}, which is neither a spec input nor a view",
                    v.name
                ))
                .with("view", v.name.as_str())
                .with("input", input.as_str()));
            }
        }
    }
    Ok(())
}

/// The first cycle found by depth-first search over view -> view-input edges, closed (the
/// first name repeated at the end), or `None`.
fn find_cycle(deps: &BTreeMap<&str, Vec<&str>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit<'a>(
        n: &'a str,
        deps: &BTreeMap<&'a str, Vec<&'a str>>,
        marks: &mut HashMap<&'a str, Mark>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        marks.insert(n, Mark::Open);
        stack.push(n);
        for &d in deps.get(n).into_iter().flatten() {
            match marks.get(d) {
                Some(Mark::Open) => {
                    let start = stack.iter().position(|s| *s == d).unwrap_or(0);
                    let mut cycle: Vec<String> =
                        stack[start..].iter().map(|s| s.to_string()).collect();
                    cycle.push(d.to_owned());
                    return Some(cycle);
                }
                Some(Mark::Done) => {}
                None => {
                    if let Some(c) = visit(d, deps, marks, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        marks.insert(n, Mark::Done);
        None
    }
    let mut marks = HashMap::new();
    for &n in deps.keys() {
        if !marks.contains_key(n) {
            if let Some(c) = visit(n, deps, &mut marks, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

fn check_catalogue(spec: &SemanticExecutionSpec) -> EngineResult<()> {
    for v in &spec.views {
        let Some(def) = contract::view_def(&v.name) else {
            return Err(
                unknown(format!("view {:?} is not in the view catalogue", v.name))
                    .with("view", v.name.as_str()),
            );
        };
        if def.kind.as_str() != v.kind.as_str() {
            return Err(unknown(format!(
                "view {} has kind {} in the spec but {} in the catalogue",
                v.name,
                v.kind.as_str(),
                def.kind.as_str()
            ))
            .with("view", v.name.as_str())
            .with("kind", v.kind.as_str())
            .with("catalogue_kind", def.kind.as_str()));
        }
        let declared: BTreeSet<&str> = v.inputs.iter().map(String::as_str).collect();
        let catalogue: BTreeSet<&str> = def.inputs.iter().copied().collect();
        if declared != catalogue {
            return Err(unknown(format!(
                "view {} declares inputs {declared:?}; the catalogue's are {catalogue:?}",
                v.name
            ))
            .with("view", v.name.as_str())
            .with("inputs", declared.into_iter().collect::<Vec<_>>())
            .with(
                "catalogue_inputs",
                catalogue.into_iter().collect::<Vec<_>>(),
            ));
        }
    }
    Ok(())
}

fn check_output_schemas(spec: &SemanticExecutionSpec) -> EngineResult<()> {
    for o in &spec.outputs {
        let (Some(def), Some(table)) = (
            contract::view_def(&o.view),
            contract::output_schema(&o.table),
        ) else {
            continue;
        };
        let view_schema = def.arrow_schema();
        if view_schema != table {
            return Err(EngineError::new(
                ErrorCode::OutputSchemaMismatch,
                format!(
                    "view {} cannot produce output table {}: schemas differ",
                    o.view, o.table
                ),
            )
            .with("table", o.table.as_str())
            .with("view", o.view.as_str())
            .with("expected_schema", contract::schema_string(&table))
            .with("actual_schema", contract::schema_string(&view_schema)));
        }
    }
    Ok(())
}

/// Validate `spec` and compute its pruned schedule.
pub fn compile(spec: SemanticExecutionSpec) -> EngineResult<Workload> {
    check_names(&spec)?;
    check_references(&spec)?;
    let view_names: HashSet<&str> = spec.views.iter().map(|v| v.name.as_str()).collect();
    let deps: BTreeMap<&str, Vec<&str>> = spec
        .views
        .iter()
        .map(|v| {
            let ds = v
                .inputs
                .iter()
                .map(String::as_str)
                .filter(|i| view_names.contains(i))
                .collect();
            (v.name.as_str(), ds)
        })
        .collect();
    if let Some(cycle) = find_cycle(&deps) {
        return Err(EngineError::new(
            ErrorCode::ViewCycle,
            format!("the view graph has a cycle: {}", cycle.join(" -> ")),
        )
        .with("cycle", cycle));
    }
    check_catalogue(&spec)?;
    check_output_schemas(&spec)?;

    // Prune: views reachable from the outputs.
    let mut kept: BTreeSet<&str> = BTreeSet::new();
    let mut todo: Vec<&str> = spec.outputs.iter().map(|o| o.view.as_str()).collect();
    while let Some(n) = todo.pop() {
        if kept.insert(n) {
            todo.extend(deps.get(n).into_iter().flatten().copied());
        }
    }
    // Generations: 0 reads only inputs, else 1 + the largest generation of its view inputs.
    let mut generation: BTreeMap<&str, usize> = BTreeMap::new();
    while generation.len() < kept.len() {
        for &n in &kept {
            if generation.contains_key(n) {
                continue;
            }
            let ds = &deps[n];
            if ds.iter().all(|d| generation.contains_key(d)) {
                let g = ds.iter().map(|d| generation[d] + 1).max().unwrap_or(0);
                generation.insert(n, g);
            }
        }
    }
    let count = generation.values().max().map_or(0, |m| m + 1);
    let mut generations = vec![Vec::new(); count];
    for (n, g) in &generation {
        generations[*g].push(n.to_string());
    }
    let mut edges = BTreeSet::new();
    let mut read_inputs = HashSet::new();
    for v in spec.views.iter().filter(|v| kept.contains(v.name.as_str())) {
        for i in &v.inputs {
            edges.insert((i.clone(), v.name.clone()));
            if !view_names.contains(i.as_str()) {
                read_inputs.insert(i.as_str());
            }
        }
    }
    let used_inputs = spec
        .inputs
        .iter()
        .filter(|b| read_inputs.contains(b.name.as_str()))
        .cloned()
        .collect();
    let pruned = spec
        .views
        .iter()
        .filter(|v| !kept.contains(v.name.as_str()))
        .map(|v| v.name.clone())
        .collect();
    let spec_hash = spec.spec_hash();
    Ok(Workload {
        spec,
        spec_hash,
        generations,
        edges: edges.into_iter().collect(),
        used_inputs,
        pruned,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{EVIDENCE_TABLE_NAMES, VIEW_CATALOG};
    use crate::spec::decode_spec;

    /// The default workload (views.default_spec) as JSON, with `outputs` as given.
    fn default_json(outputs: &[(&str, &str)]) -> Value {
        let inputs: Vec<Value> = EVIDENCE_TABLE_NAMES
            .iter()
            .map(|n| json!({"name": n, "uri": format!("/ev/{n}"), "delta_version": 0}))
            .collect();
        let views: Vec<Value> = VIEW_CATALOG
            .iter()
            .map(|v| json!({"name": v.name, "kind": v.kind.as_str(), "inputs": v.inputs}))
            .collect();
        let outputs: Vec<Value> = outputs
            .iter()
            .map(|(t, v)| json!({"table": t, "view": v}))
            .collect();
        json!({"inputs": inputs, "views": views, "outputs": outputs})
    }

    fn compile_json(v: &Value) -> EngineResult<Workload> {
        compile(decode_spec(&v.to_string())?)
    }

    fn code_of(v: &Value) -> ErrorCode {
        compile_json(v).expect_err("spec must be rejected").code
    }

    #[test]
    fn the_default_workload_keeps_every_view() {
        let outs: Vec<(&str, &str)> = OUTPUT_TABLE_NAMES.iter().map(|t| (*t, *t)).collect();
        let w = compile_json(&default_json(&outs)).unwrap();
        assert_eq!(w.kept_count(), VIEW_CATALOG.len());
        assert!(w.pruned.is_empty());
        assert_eq!(w.used_inputs.len(), 10);
    }

    #[test]
    fn generations_read_only_earlier_generations() {
        let w = compile_json(&default_json(&[("cpg_props", "cpg_props")])).unwrap();
        let gen_of = |n: &str| w.generations.iter().position(|g| g.iter().any(|x| x == n));
        for (i, g) in w.generations.iter().enumerate() {
            let mut sorted = g.clone();
            sorted.sort();
            assert_eq!(&sorted, g, "generation {i} is sorted");
            for v in g {
                let view_gens: Vec<usize> =
                    w.view_inputs(v).iter().filter_map(|d| gen_of(d)).collect();
                let expected = view_gens.iter().max().map_or(0, |m| m + 1);
                assert_eq!(i, expected, "{v}");
            }
        }
    }

    #[test]
    fn pruning_keeps_only_what_outputs_need() {
        let w = compile_json(&default_json(&[("cpg_nodes", "file_nodes")])).unwrap();
        assert_eq!(w.generations, vec![vec!["file_nodes".to_string()]]);
        assert_eq!(w.edges, vec![("repo_scan".into(), "file_nodes".into())]);
        assert_eq!(w.used_inputs.len(), 1);
        let r = w.plan_report(1);
        assert_eq!(r["graph"]["pruned"], VIEW_CATALOG.len() - 1);
        assert_eq!(r["edges"], Value::Null);
        let r2 = w.plan_report(2);
        assert_eq!(r2["schedule"], json!([["file_nodes"]]));
        assert_eq!(r2["edges"], json!([["repo_scan", "file_nodes"]]));
    }

    #[test]
    fn invalid_graphs_get_their_codes() {
        let mut unknown_input = default_json(&[("cpg_nodes", "file_nodes")]);
        unknown_input["views"][1]["inputs"] = json!(["ghost"]);
        let mut other_inputs = default_json(&[("cpg_nodes", "file_nodes")]);
        other_inputs["views"][1]["inputs"] = json!(["repo_scan", "ast"]);
        let mut not_catalogued = default_json(&[("cpg_nodes", "file_nodes")]);
        not_catalogued["views"][1]["name"] = json!("files");
        let mut cycle = default_json(&[("cpg_nodes", "file_nodes")]);
        cycle["views"][0]["inputs"] = json!(["repo_scan", "file_nodes"]);
        cycle["views"][1]["inputs"] = json!(["syntax"]);
        let mut dup = default_json(&[("cpg_nodes", "file_nodes")]);
        dup["views"][2]["name"] = json!("syntax");
        let cases = [
            (unknown_input, ErrorCode::ViewUnknown),
            (other_inputs, ErrorCode::ViewUnknown),
            (not_catalogued, ErrorCode::ViewUnknown),
            (cycle, ErrorCode::ViewCycle),
            (dup, ErrorCode::SpecInvalid),
            (
                default_json(&[("cpg_nodes", "ghost")]),
                ErrorCode::ViewUnknown,
            ),
            (
                default_json(&[("nodes", "file_nodes")]),
                ErrorCode::SpecInvalid,
            ),
            (
                default_json(&[("cpg_edges", "file_nodes")]),
                ErrorCode::OutputSchemaMismatch,
            ),
        ];
        for (spec, code) in cases {
            assert_eq!(code_of(&spec), code, "{spec}");
        }
    }

    #[test]
    fn a_cycle_is_named() {
        let mut cycle = default_json(&[("cpg_nodes", "file_nodes")]);
        cycle["views"][0]["inputs"] = json!(["repo_scan", "file_nodes"]);
        cycle["views"][1]["inputs"] = json!(["syntax"]);
        let err = compile_json(&cycle).unwrap_err();
        let named: Vec<&str> = err.context["cycle"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(named.first(), named.last());
        assert!(named.contains(&"syntax") && named.contains(&"file_nodes"));
    }
}
