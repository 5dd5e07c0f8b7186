//! What a view reads: its declared inputs (evidence tables and other views), the frames derived
//! from them once per workload (definitions, modules, imports, the resolution world, ...) and
//! the semantic policy.

use std::collections::HashMap;

use datafusion::common::{plan_err, Result};
use datafusion::prelude::DataFrame;

use super::base::{self, method_class};
use super::lookup::{candidates, inherit_indexed, members, mro_self};
use super::memo::Memo;
use super::mro::mro;
use super::nodes;
use super::util;
use super::world::World;

/// Semantic policy knobs the views read (from the spec's policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewPolicy {
    pub use_scip: bool,
    pub min_confidence_bp: i64,
}

/// The declared inputs of a view, normalized to Utf8 strings, and the workload's memo.
pub struct Inputs<'a> {
    view: &'a str,
    map: &'a HashMap<String, DataFrame>,
    pub memo: &'a Memo,
}

impl<'a> Inputs<'a> {
    /// The inputs `map` of view `view`.
    pub fn new(view: &'a str, map: &'a HashMap<String, DataFrame>, memo: &'a Memo) -> Self {
        Inputs { view, map, memo }
    }

    pub(super) fn get(&self, name: &str) -> Result<DataFrame> {
        match self.map.get(name) {
            Some(df) => util::norm(df.clone()),
            None => plan_err!("view {} needs input {name}, which was not given", self.view),
        }
    }

    /// CLASS/FUNCTION rows of the syntax view (`base::defs`).
    pub(super) fn defs(&self) -> Result<DataFrame> {
        self.memo.frame("defs", || {
            base::defs(&self.get("syntax")?, &self.get("repo_scan")?)
        })
    }

    /// MODULE rows of the syntax view (`base::modules`).
    pub(super) fn modules(&self) -> Result<DataFrame> {
        self.memo.frame("modules", || {
            base::modules(&self.get("syntax")?, &self.get("repo_scan")?)
        })
    }

    /// Located IMPORT rows (`base::import_rows`).
    pub(super) fn import_rows(&self) -> Result<DataFrame> {
        self.memo.frame("import_rows", || {
            base::import_rows(&self.get("python_imports")?)
        })
    }

    /// ast name load rows with their NAME_REF IDs (`nodes::name_rows`).
    pub(super) fn name_rows(&self) -> Result<DataFrame> {
        self.memo
            .frame("name_rows", || nodes::name_rows(&self.get("ast")?))
    }

    /// CALL rows of the syntax view with their CALLSITE IDs (`nodes::call_rows`).
    pub(super) fn call_rows(&self) -> Result<DataFrame> {
        self.memo
            .frame("call_rows", || nodes::call_rows(&self.get("syntax")?))
    }

    /// PARAMETER rows with their owners (`nodes::parameter_rows`).
    pub(super) fn parameter_rows(&self) -> Result<DataFrame> {
        self.memo.frame("parameter_rows", || {
            nodes::parameter_rows(&self.get("syntax")?, &self.get("repo_scan")?)
        })
    }

    /// Located SCIP occurrences (`base::scip_occurrences`).
    pub(super) fn scip_occurrences(&self) -> Result<DataFrame> {
        self.memo.frame("scip_occurrences", || {
            base::scip_occurrences(self.get("scip")?)
        })
    }

    /// The first SCIP symbol row per symbol (`nodes::scip_symbols`): SYMBOL nodes and props.
    pub(super) fn scip_symbols(&self) -> Result<DataFrame> {
        self.memo
            .frame("scip_symbols", || nodes::scip_symbols(&self.get("scip")?))
    }

    /// The first `python_external` row per module (`nodes::external_modules`): EXTERNAL_MODULE
    /// nodes and props.
    pub(super) fn external_modules(&self) -> Result<DataFrame> {
        self.memo.frame("external_modules", || {
            nodes::external_modules(&self.get("python_external")?)
        })
    }

    /// The resolution world, with (`full`) or without the MRO in member lookup. Base classes
    /// are resolved (for INHERITS_FROM) with direct class members only (an MRO of the class
    /// itself), because the MRO is what INHERITS_FROM defines; the other rules use the full MRO.
    ///
    /// Every frame of the world is memoized per workload (`Memo`): CALLS, REFERENCES and
    /// INHERITS_FROM share them.
    pub(super) fn world(&self, full: bool) -> Result<World> {
        let syntax = self.get("syntax")?;
        let defs = self.defs()?;
        let modules = self.modules()?;
        let cands = self.memo.frame("world.cands", || {
            candidates(
                &syntax,
                &defs,
                &modules,
                self.import_rows()?,
                self.get("import_edges")?,
            )
        })?;
        let method_class = self
            .memo
            .frame("world.method_class", || method_class(&defs, &modules))?;
        let mut w = World {
            syntax,
            calls: self.call_rows()?,
            mro: self.memo.frame("world.mro_self", || mro_self(&defs))?,
            members: defs.clone(),
            inherit: defs.clone(),
            defs,
            modules,
            cands,
            method_class,
        };
        w.members = self.memo.frame("world.members_self", || members(&w))?;
        w.inherit = self.memo.frame("world.inherit", || inherit_indexed(&w))?;
        if full {
            w.mro = self.memo.frame("world.mro", || mro(&w.defs, &w.inherit))?;
            w.members = self.memo.frame("world.members", || members(&w))?;
        }
        Ok(w)
    }
}
