//! Delta inputs and outputs.
//!
//! Inputs: every bound evidence table is opened at its pinned version through delta-rs' log
//! replay, its protocol checked strictly, its schema compared with the contract, and registered
//! as a Delta `TableProvider` (never a listing/parquet table over the folder: that would read
//! files the log has removed). Outputs: staged record batches are committed with an overwrite.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;
use deltalake::protocol::SaveMode;
use deltalake::{DeltaTable, DeltaTableBuilder, DeltaTableError};

use crate::contract::{self, schema_string};
use crate::error::{EngineError, EngineResult, ErrorCode};
use crate::spec::DatasetBinding;

/// The reader protocol this engine accepts: reader version 1 (no features), or version 3 with
/// only these reader features. Column mapping (v2) and deletion vectors change what a scan must
/// do; we refuse them rather than risk silently wrong rows.
const SUPPORTED_READER_FEATURES: [&str; 3] =
    ["timestampNtz", "v2Checkpoint", "vacuumProtocolCheck"];

/// The table URL of a spec `uri` (a local path, or a `file://` URL).
pub fn table_url(uri: &str) -> EngineResult<url::Url> {
    deltalake::ensure_table_uri(uri).map_err(|e| {
        EngineError::new(
            ErrorCode::InputTableMissing,
            format!("invalid table location {uri}: {e}"),
        )
        .with("uri", uri)
    })
}

/// The local folder of `uri`, when it names one.
fn local_dir(uri: &str) -> Option<PathBuf> {
    match url::Url::parse(uri) {
        Ok(u) if u.scheme() == "file" => u.to_file_path().ok(),
        Ok(u) if u.scheme().len() > 1 => None,
        _ => Some(PathBuf::from(uri)),
    }
}

fn binding_error(code: ErrorCode, b: &DatasetBinding, message: String) -> EngineError {
    EngineError::new(code, message)
        .with("table", b.name.as_str())
        .with("uri", b.uri.as_str())
        .with("delta_version", b.delta_version)
}

/// Map a delta-rs load error to a contract code. delta-rs reports a missing version, a
/// corrupt log and an unsupported feature through several variants; the text is the only
/// stable discriminator across them, so the classification is by variant first, text second.
fn classify_load_error(b: &DatasetBinding, err: DeltaTableError) -> EngineError {
    let text = err.to_string();
    let lower = text.to_lowercase();
    let code = match &err {
        DeltaTableError::InvalidVersion(_) => ErrorCode::DeltaVersionMissing,
        DeltaTableError::NotATable(_) => ErrorCode::InputTableMissing,
        DeltaTableError::InvalidJsonLog { .. } => ErrorCode::DeltaLogCorrupt,
        _ if lower.contains("unsupported") && lower.contains("feature") => {
            ErrorCode::DeltaProtocolUnsupported
        }
        _ if lower.contains("version")
            && (lower.contains("not found")
                || lower.contains("invalid version")
                || lower.contains("does not exist")) =>
        {
            ErrorCode::DeltaVersionMissing
        }
        _ => ErrorCode::DeltaLogCorrupt,
    };
    binding_error(
        code,
        b,
        format!(
            "cannot open Delta table {} at version {}: {text}",
            b.uri, b.delta_version
        ),
    )
    .with("cause", text)
}

fn url_of(b: &DatasetBinding) -> EngineResult<url::Url> {
    table_url(&b.uri)
}

/// Explain a failed pinned load: when the table loads at its latest version and that version is
/// older than the pin, the pinned version is missing (delta-rs reports this as a generic log
/// segment error); otherwise classify the error itself.
async fn load_failure(b: &DatasetBinding, url: url::Url, err: DeltaTableError) -> EngineError {
    if let Ok(builder) = DeltaTableBuilder::from_url(url) {
        if let Ok(latest) = builder.load().await {
            if let Some(v) = latest.version() {
                if (v as i64) < b.delta_version {
                    return binding_error(
                        ErrorCode::DeltaVersionMissing,
                        b,
                        format!(
                            "Delta table {} has no version {} (latest is {v})",
                            b.uri, b.delta_version
                        ),
                    )
                    .with("latest_version", v as i64);
                }
            }
        }
    }
    classify_load_error(b, err)
}

/// Check the table's reader protocol against what this engine supports.
fn check_protocol(b: &DatasetBinding, table: &DeltaTable) -> EngineResult<()> {
    let state = table.snapshot().map_err(|e| classify_load_error(b, e))?;
    let proto = serde_json::to_value(state.protocol()).unwrap_or_default();
    let reader = proto["minReaderVersion"].as_i64().unwrap_or(0);
    let features: Vec<String> = proto["readerFeatures"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f.as_str().map_or_else(|| f.to_string(), str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let unsupported: Vec<&String> = features
        .iter()
        .filter(|f| !SUPPORTED_READER_FEATURES.contains(&f.as_str()))
        .collect();
    if reader == 2 || reader > 3 || !unsupported.is_empty() {
        return Err(binding_error(
            ErrorCode::DeltaProtocolUnsupported,
            b,
            format!(
                "Delta table {} needs reader version {reader} with features {features:?}; \
                 this engine reads version 1, or 3 with {SUPPORTED_READER_FEATURES:?}",
                b.uri
            ),
        )
        .with("min_reader_version", reader)
        .with("reader_features", features));
    }
    Ok(())
}

/// Logical equality for input schemas: the same names, nullability and Arrow types, where
/// string flavours (Utf8 / LargeUtf8 / Utf8View) and list item names are not distinguished,
/// because Delta stores neither.
fn same_type(a: &DataType, b: &DataType) -> bool {
    use DataType::*;
    match (a, b) {
        (Utf8 | LargeUtf8 | Utf8View, Utf8 | LargeUtf8 | Utf8View) => true,
        (List(x) | LargeList(x) | ListView(x), List(y) | LargeList(y) | ListView(y)) => {
            same_type(x.data_type(), y.data_type())
        }
        _ => a == b,
    }
}

/// Differences between a schema and its contract schema (empty when they agree); nullability
/// is compared only when `nullability` is set.
pub fn schema_differences(actual: &Schema, expected: &Schema, nullability: bool) -> Vec<String> {
    let mut diffs = Vec::new();
    if actual.fields().len() != expected.fields().len() {
        diffs.push(format!(
            "{} columns, contract has {}",
            actual.fields().len(),
            expected.fields().len()
        ));
    }
    for (a, e) in actual.fields().iter().zip(expected.fields()) {
        if a.name() != e.name()
            || (nullability && a.is_nullable() != e.is_nullable())
            || !same_type(a.data_type(), e.data_type())
        {
            diffs.push(format!(
                "column {}:{}:{} where the contract has {}:{}:{}",
                a.name(),
                contract::type_string(a.data_type()),
                a.is_nullable(),
                e.name(),
                contract::type_string(e.data_type()),
                e.is_nullable()
            ));
        }
    }
    diffs
}

/// Open one bound input at its pinned version, strictly checked (no registration).
pub async fn open_input(b: &DatasetBinding) -> EngineResult<DeltaTable> {
    let expected = contract::evidence_schema(&b.name).ok_or_else(|| {
        binding_error(
            ErrorCode::SpecInvalid,
            b,
            format!("{} is not an evidence table", b.name),
        )
    })?;
    if let Some(hash) = &b.schema_hash {
        let contract_hash = contract::schema_hash(&expected);
        if *hash != contract_hash {
            return Err(binding_error(
                ErrorCode::InputSchemaMismatch,
                b,
                format!(
                    "binding {} pins schema_hash {hash}, the contract's is {contract_hash}",
                    b.name
                ),
            ));
        }
    }
    if b.delta_version < 0 {
        return Err(binding_error(
            ErrorCode::DeltaVersionMissing,
            b,
            format!("Delta version {} does not exist", b.delta_version),
        ));
    }
    // ensure_table_uri creates missing local folders: test for the log first.
    if let Some(dir) = local_dir(&b.uri) {
        if !dir.join("_delta_log").is_dir() {
            return Err(binding_error(
                ErrorCode::InputTableMissing,
                b,
                format!("no Delta table at {} (no _delta_log)", b.uri),
            ));
        }
    }
    let builder = DeltaTableBuilder::from_url(url_of(b)?).map_err(|e| classify_load_error(b, e))?;
    let table = match builder.with_version(b.delta_version as u64).load().await {
        Ok(table) => table,
        Err(err) => return Err(load_failure(b, url_of(b)?, err).await),
    };
    check_protocol(b, &table)?;
    let actual = table
        .snapshot()
        .map_err(|e| classify_load_error(b, e))?
        .snapshot()
        .arrow_schema();
    let diffs = schema_differences(&actual, &expected, true);
    if !diffs.is_empty() {
        return Err(binding_error(
            ErrorCode::InputSchemaMismatch,
            b,
            format!(
                "input {} differs from the contract: {}",
                b.name,
                diffs.join("; ")
            ),
        )
        .with("differences", diffs)
        .with("actual_schema", schema_string(&actual))
        .with("expected_schema", schema_string(&expected)));
    }
    Ok(table)
}

/// Open and register one input under its binding name as a Delta table provider.
pub async fn register_input(ctx: &SessionContext, b: &DatasetBinding) -> EngineResult<()> {
    let table = open_input(b).await?;
    // With the session, the scan takes the session's parquet settings: strings are read as
    // `Utf8` (the contract's type, `engine::session`) instead of `Utf8View` cast afterwards.
    let provider = table
        .table_provider()
        .with_session(Arc::new(ctx.state()))
        .await
        .map_err(|e| {
            binding_error(
                ErrorCode::DeltaLogCorrupt,
                b,
                format!("cannot scan Delta table {}: {e}", b.uri),
            )
        })?;
    table.update_datafusion_session(&ctx.state()).map_err(|e| {
        binding_error(
            ErrorCode::InternalError,
            b,
            format!("cannot register object store: {e}"),
        )
    })?;
    ctx.register_table(b.name.as_str(), provider).map_err(|e| {
        binding_error(
            ErrorCode::InternalError,
            b,
            format!("cannot register {}: {e}", b.name),
        )
    })?;
    Ok(())
}

/// Commit staged batches as the new version of the Delta table at `dir` (created or
/// overwritten). Returns the committed version.
pub async fn commit_batches(
    dir: &Path,
    schema: Arc<Schema>,
    batches: Vec<RecordBatch>,
) -> EngineResult<i64> {
    let uri = dir.to_string_lossy().to_string();
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        EngineError::new(ErrorCode::CommitFailed, format!("{what} {uri}: {e}"))
            .with("uri", uri.as_str())
    };
    let url = deltalake::ensure_table_uri(&uri).map_err(|e| fail("cannot create", &e))?;
    let ops = DeltaTable::try_from_url(url)
        .await
        .map_err(|e| fail("cannot open", &e))?;
    let batches = if batches.is_empty() {
        vec![RecordBatch::new_empty(schema)]
    } else {
        batches
    };
    let table = ops
        .write(batches)
        .with_save_mode(SaveMode::Overwrite)
        .with_schema_mode(deltalake::operations::write::SchemaMode::Overwrite)
        .with_writer_properties(writer_properties())
        .await
        .map_err(|e| fail("cannot commit", &e))?;
    Ok(table.version().map_or(0, |v| v as i64))
}

/// Parquet settings of committed files: snappy (the Delta default), and no dictionary for the
/// ID columns, whose values are (nearly) all distinct: the writer would intern every value
/// until its dictionary page overflows and then fall back to plain encoding anyway.
fn writer_properties() -> deltalake::parquet::file::properties::WriterProperties {
    use deltalake::parquet::basic::Compression;
    use deltalake::parquet::file::properties::WriterProperties;
    use deltalake::parquet::schema::types::ColumnPath;
    let mut builder = WriterProperties::builder().set_compression(Compression::SNAPPY);
    for column in ["node_id", "edge_id", "src_id", "dst_id", "diagnostic_id"] {
        builder = builder.set_column_dictionary_enabled(ColumnPath::from(column), false);
    }
    builder.build()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use datafusion::arrow::datatypes::Field;

    /// A fresh, empty temporary folder (removed on drop).
    pub struct TempDir(pub PathBuf);

    impl TempDir {
        pub fn new(tag: &str) -> Self {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static N: AtomicUsize = AtomicUsize::new(0);
            let p = std::env::temp_dir().join(format!(
                "ca_engine_{tag}_{}_{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            ));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            Self(p)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    pub fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Runtime::new().unwrap()
    }

    /// Write an empty Delta table with `schema` at `dir`.
    pub fn write_empty(dir: &Path, schema: Arc<Schema>) {
        rt().block_on(commit_batches(dir, schema, vec![])).unwrap();
    }

    fn binding(name: &str, dir: &Path, version: i64) -> DatasetBinding {
        DatasetBinding {
            name: name.into(),
            uri: dir.to_string_lossy().into(),
            delta_version: version,
            schema_hash: None,
        }
    }

    fn open_code(b: &DatasetBinding) -> Option<ErrorCode> {
        rt().block_on(open_input(b)).err().map(|e| e.code)
    }

    fn first_commit(dir: &Path) -> PathBuf {
        dir.join("_delta_log/00000000000000000000.json")
    }

    #[test]
    fn a_contract_table_opens() {
        let tmp = TempDir::new("ok");
        let t = tmp.0.join("repo_scan");
        write_empty(&t, contract::evidence_schema("repo_scan").unwrap());
        assert_eq!(open_code(&binding("repo_scan", &t, 0)), None);
    }

    #[test]
    fn a_missing_table_is_input_table_missing() {
        let tmp = TempDir::new("missing");
        let b = binding("ast", &tmp.0.join("nope"), 0);
        assert_eq!(open_code(&b), Some(ErrorCode::InputTableMissing));
        assert!(
            !tmp.0.join("nope").exists(),
            "opening must not create the folder"
        );
    }

    #[test]
    fn a_missing_version_is_delta_version_missing() {
        let tmp = TempDir::new("version");
        let t = tmp.0.join("ast");
        write_empty(&t, contract::evidence_schema("ast").unwrap());
        assert_eq!(
            open_code(&binding("ast", &t, 7)),
            Some(ErrorCode::DeltaVersionMissing)
        );
    }

    #[test]
    fn a_garbage_commit_is_delta_log_corrupt() {
        let tmp = TempDir::new("corrupt");
        let t = tmp.0.join("ast");
        write_empty(&t, contract::evidence_schema("ast").unwrap());
        std::fs::write(first_commit(&t), "garbage{{{\n").unwrap();
        assert_eq!(
            open_code(&binding("ast", &t, 0)),
            Some(ErrorCode::DeltaLogCorrupt)
        );
    }

    #[test]
    fn an_unknown_reader_feature_is_delta_protocol_unsupported() {
        for feature in ["madeUpFeature", "deletionVectors"] {
            let tmp = TempDir::new("proto");
            let t = tmp.0.join("ast");
            write_empty(&t, contract::evidence_schema("ast").unwrap());
            let log = std::fs::read_to_string(first_commit(&t)).unwrap();
            let edited: Vec<String> = log
                .lines()
                .map(|line| {
                    let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
                    if v.get("protocol").is_some() {
                        v["protocol"] = serde_json::json!({
                            "minReaderVersion": 3, "minWriterVersion": 7,
                            "readerFeatures": [feature], "writerFeatures": [feature]});
                    }
                    v.to_string()
                })
                .collect();
            std::fs::write(first_commit(&t), edited.join("\n") + "\n").unwrap();
            assert_eq!(
                open_code(&binding("ast", &t, 0)),
                Some(ErrorCode::DeltaProtocolUnsupported),
                "{feature}"
            );
        }
    }

    #[test]
    fn another_schema_is_input_schema_mismatch() {
        let tmp = TempDir::new("schema");
        let t = tmp.0.join("ast");
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
        write_empty(&t, schema);
        assert_eq!(
            open_code(&binding("ast", &t, 0)),
            Some(ErrorCode::InputSchemaMismatch)
        );
    }

    #[test]
    fn a_wrong_pinned_schema_hash_is_input_schema_mismatch() {
        let tmp = TempDir::new("hash");
        let t = tmp.0.join("ast");
        write_empty(&t, contract::evidence_schema("ast").unwrap());
        let mut b = binding("ast", &t, 0);
        b.schema_hash = Some("00".into());
        assert_eq!(open_code(&b), Some(ErrorCode::InputSchemaMismatch));
    }
}
