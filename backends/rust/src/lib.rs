//! `codeanatomy_engine`: the new CPG engine on DataFusion + delta-rs.
//!
//! The Python package `backends.rust` wraps the compiled module `backends.rust._engine`
//! (built with the `python` feature). Nothing panics across that boundary.

pub mod contract;
pub mod delta;
pub mod engine;
pub mod error;
pub mod explain;
pub mod fingerprint;
pub mod ids;
pub mod metrics;
pub mod plan;
pub mod run;
pub mod spec;
pub mod storage;
pub mod views;

#[cfg(feature = "python")]
mod python;

/// Engine version string (crate version plus the DataFusion and delta-rs it was built on).
pub fn version_string() -> String {
    format!(
        "codeanatomy_engine {} (datafusion {}, deltalake-core {})",
        env!("CARGO_PKG_VERSION"),
        datafusion::DATAFUSION_VERSION,
        deltalake::crate_version(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_names_the_engines_it_was_built_on() {
        let v = super::version_string();
        assert!(v.starts_with("codeanatomy_engine "));
        assert!(v.contains("datafusion 55."));
    }
}
