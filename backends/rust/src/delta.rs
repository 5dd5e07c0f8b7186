//! Delta inputs and outputs.
//!
//! Inputs: every bound evidence table is opened at its pinned version through delta-rs' log
//! replay, its protocol checked strictly, its schema compared with the contract, and registered
//! as a Delta `TableProvider` (never a listing/parquet table over the folder: that would read
//! files the log has removed). Outputs: staged record batches are committed incrementally
//! (`commit_table`: create, one keyed merge, nothing when unchanged, or an overwrite).
//!
//! Every table is opened through the call's [`Storage`]: a local folder as before, an object
//! store (`s3://`) with the call's options. A store that cannot be reached, refuses the
//! credentials or lacks the bucket is INPUT_TABLE_MISSING for an input and COMMIT_FAILED for an
//! output, with the store's reason in the message and its kind in context `store_error`.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::{Column, TableReference};
use datafusion::datasource::MemTable;
use datafusion::prelude::{lit, Expr, SessionContext};
use deltalake::protocol::SaveMode;
use deltalake::{DeltaTable, DeltaTableError};

use crate::contract::{self, schema_string};
use crate::error::{EngineError, EngineResult, ErrorCode};
use crate::spec::DatasetBinding;
use crate::storage::{self, Storage};

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

/// The object-store error under `err`, if a store request failed (found by type along the
/// error's source chain: delta-rs wraps it in several variants).
fn store_error<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a deltalake::ObjectStoreError> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(store) = e.downcast_ref::<deltalake::ObjectStoreError>() {
            return Some(store);
        }
        current = e.source();
    }
    None
}

/// The kind of a store failure, for context `store_error`, from the object-store error's variant
/// name (`NotFound`, `PermissionDenied`, `Unauthenticated`; any other is `unavailable`: a
/// refused connection, a timeout, a missing bucket...).
fn store_error_kind(variant: &str) -> &'static str {
    match variant {
        "NotFound" => "not_found",
        "PermissionDenied" => "permission_denied",
        "Unauthenticated" => "unauthenticated",
        _ => "unavailable",
    }
}

/// The kind of store failure behind `err`, when a store request failed. delta-rs wraps the
/// store's error either in `DeltaTableError::ObjectStore` (found by type) or in delta-kernel's
/// `Error::ObjectStore`, a type this crate cannot name and that hides its source: that one is
/// recognised by its Debug form, `ObjectStore(<Variant> { .. })`.
fn store_failure(err: &DeltaTableError) -> Option<&'static str> {
    if let Some(store) = store_error(err) {
        let debug = format!("{store:?}");
        return Some(store_error_kind(variant_name(&debug)));
    }
    if let DeltaTableError::KernelError(kernel) = err {
        let debug = format!("{kernel:?}");
        if let Some(inner) = debug.strip_prefix("ObjectStore(") {
            return Some(store_error_kind(variant_name(inner)));
        }
    }
    None
}

/// The leading identifier of a Debug form (`PermissionDenied { .. }` -> `PermissionDenied`).
fn variant_name(debug: &str) -> &str {
    let end = debug
        .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .unwrap_or(debug.len());
    &debug[..end]
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
    if let Some(kind) = store_failure(&err) {
        return binding_error(
            ErrorCode::InputTableMissing,
            b,
            format!("cannot read Delta table {} from its store: {text}", b.uri),
        )
        .with("store_error", kind)
        .with("cause", text);
    }
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
async fn load_failure(
    b: &DatasetBinding,
    storage: &Storage,
    url: url::Url,
    err: DeltaTableError,
) -> EngineError {
    // A store that failed once (unreachable, refused) is not asked again.
    if store_failure(&err).is_some() {
        return classify_load_error(b, err);
    }
    if let Ok(builder) = storage.builder(url) {
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
pub async fn open_input(b: &DatasetBinding, storage: &Storage) -> EngineResult<DeltaTable> {
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
    if let Some(dir) = storage::local_dir(&b.uri) {
        if !dir.join("_delta_log").is_dir() {
            return Err(binding_error(
                ErrorCode::InputTableMissing,
                b,
                format!("no Delta table at {} (no _delta_log)", b.uri),
            ));
        }
    }
    let builder = storage
        .builder(url_of(b)?)
        .map_err(|e| classify_load_error(b, e))?;
    let table = match builder.with_version(b.delta_version as u64).load().await {
        Ok(table) => table,
        Err(err) => return Err(load_failure(b, storage, url_of(b)?, err).await),
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
pub async fn register_input(
    ctx: &SessionContext,
    b: &DatasetBinding,
    storage: &Storage,
) -> EngineResult<()> {
    let table = open_input(b, storage).await?;
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

/// The table property that turns on the change data feed of every table this engine writes.
pub const CDF_PROPERTY: &str = "delta.enableChangeDataFeed";

/// How a commit wrote its table (CONTRACT "Incremental writes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// The table did not exist: created (version 0) with the change data feed on.
    Create,
    /// One MERGE keyed on the primary key committed exactly the rows that changed.
    Merge,
    /// The rows equal the table's: nothing was committed, the version stays.
    Unchanged,
    /// Another schema, no change data feed, or duplicate keys in the table: overwritten.
    Overwrite,
}

impl WriteMode {
    /// The mode as the run result spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            WriteMode::Create => "create",
            WriteMode::Merge => "merge",
            WriteMode::Unchanged => "unchanged",
            WriteMode::Overwrite => "overwrite",
        }
    }
}

/// What one commit did to its table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOutcome {
    /// The table's version after the write (equal to `version_before` when unchanged).
    pub version: i64,
    /// The table's version before the write; `None` when the table did not exist.
    pub version_before: Option<i64>,
    pub mode: WriteMode,
    /// Rows inserted: every row for create and overwrite, the merge metric for a merge.
    pub rows_inserted: u64,
    /// Rows updated in place (merge only; 0 otherwise).
    pub rows_updated: u64,
    /// Rows deleted: the merge metric; for an overwrite the rows of the replaced version
    /// (from the Delta file statistics; `None` when a file has none); 0 for create.
    pub rows_deleted: Option<u64>,
    /// Why an overwrite was needed (CONTRACT §15 wording); empty for the other modes.
    pub reason: &'static str,
}

/// Commit staged batches to the Delta table at `dir`, incrementally (CONTRACT "Incremental
/// writes"): a missing table is created with the change data feed on; a table with the same
/// schema and the change data feed on gets ONE merge keyed on `key` (null-safe) that updates
/// the rows whose non-key columns differ, inserts the new keys and deletes the vanished ones,
/// and nothing at all when no row differs; any other table (or one whose rows share a key) is
/// overwritten (schema included) after turning its change data feed on. Rows that share a
/// key, or a `key` that is empty or names a missing column, are COMMIT_FAILED (context
/// `reason`: `duplicate_key`, `key_missing`) and nothing is written. `uri` is a local folder
/// or an object-store URI, opened with `storage`'s options.
pub async fn commit_table(
    uri: &str,
    storage: &Storage,
    schema: Arc<Schema>,
    key: &[&str],
    batches: Vec<RecordBatch>,
) -> EngineResult<WriteOutcome> {
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        EngineError::new(ErrorCode::CommitFailed, format!("{what} {uri}: {e}")).with("uri", uri)
    };
    // A store error also names its kind (context `store_error`).
    let store_fail = |what: &str, e: &DeltaTableError| match store_failure(e) {
        Some(kind) => fail(what, e).with("store_error", kind),
        None => fail(what, e),
    };
    let url = deltalake::ensure_table_uri(uri).map_err(|e| fail("cannot create", &e))?;
    let table = storage
        .table_for_write(url)
        .await
        .map_err(|e| store_fail("cannot open", &e))?;
    let missing: Vec<&str> = key
        .iter()
        .filter(|k| schema.index_of(k).is_err())
        .copied()
        .collect();
    if key.is_empty() || !missing.is_empty() {
        return Err(fail(
            "cannot key",
            &format!("key {key:?} is empty or names missing columns {missing:?}"),
        )
        .with("reason", "key_missing"));
    }
    let (repeated, examples) = duplicate_keys(&batches, &schema, key, 5)
        .map_err(|e| fail("cannot key the rows of", &e))?;
    if repeated > 0 {
        return Err(fail(
            "cannot commit",
            &format!(
                "{repeated} values of the key {key:?} occur more than once, e.g. {}",
                examples.join(", ")
            ),
        )
        .with("reason", "duplicate_key")
        .with("duplicates", repeated)
        .with("examples", examples));
    }
    let rows = batches.iter().map(|b| b.num_rows() as u64).sum::<u64>();
    let batches = if batches.is_empty() {
        vec![RecordBatch::new_empty(schema.clone())]
    } else {
        batches
    };
    let Some(before) = table.version() else {
        let table = table
            .write(batches)
            .with_save_mode(SaveMode::Overwrite)
            .with_configuration([(CDF_PROPERTY, Some("true"))])
            .with_writer_properties(writer_properties())
            .await
            .map_err(|e| store_fail("cannot commit", &e))?;
        return Ok(WriteOutcome {
            version: version_of(&table),
            version_before: None,
            mode: WriteMode::Create,
            rows_inserted: rows,
            rows_updated: 0,
            rows_deleted: Some(0),
            reason: "",
        });
    };
    let before = before as i64;
    let state = table.snapshot().map_err(|e| fail("cannot read", &e))?;
    let cdf_on = state
        .metadata()
        .configuration()
        .get(CDF_PROPERTY)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let same_schema =
        schema_differences(&state.snapshot().arrow_schema(), &schema, true).is_empty();
    let mut reason = if !cdf_on {
        "the change data feed was off"
    } else {
        "the schema changed"
    };
    if cdf_on && same_schema {
        reason = "the table held duplicate keys";
        let merged = merge_batches(table.clone(), before, schema.clone(), key, batches.clone())
            .await
            .map_err(|e| store_fail("cannot merge into", &e))?;
        if let Some(outcome) = merged {
            return Ok(outcome);
        }
    }
    let replaced = state
        .log_data()
        .iter()
        .map(|f| f.num_records().map(|n| n as u64))
        .sum::<Option<u64>>();
    let mut table = table;
    if !cdf_on {
        // A write keeps an existing table's configuration: the property is its own commit,
        // before the overwrite, so the overwrite itself is in the change data feed.
        table = table
            .set_tbl_properties()
            .with_properties(HashMap::from([(
                CDF_PROPERTY.to_owned(),
                "true".to_owned(),
            )]))
            .await
            .map_err(|e| store_fail("cannot enable the change data feed of", &e))?;
    }
    let table = table
        .write(batches)
        .with_save_mode(SaveMode::Overwrite)
        .with_schema_mode(deltalake::operations::write::SchemaMode::Overwrite)
        .with_writer_properties(writer_properties())
        .await
        .map_err(|e| store_fail("cannot commit", &e))?;
    Ok(WriteOutcome {
        version: version_of(&table),
        version_before: Some(before),
        mode: WriteMode::Overwrite,
        rows_inserted: rows,
        rows_updated: 0,
        rows_deleted: replaced,
        reason,
    })
}

/// [`commit_table`] into the local folder `dir`.
pub async fn commit_batches(
    dir: &Path,
    schema: Arc<Schema>,
    key: &[&str],
    batches: Vec<RecordBatch>,
) -> EngineResult<WriteOutcome> {
    let uri = dir.to_string_lossy();
    commit_table(&uri, &Storage::default(), schema, key, batches).await
}

fn version_of(table: &DeltaTable) -> i64 {
    table.version().map_or(0, |v| v as i64)
}

/// The keys that occur more than once among `batches` (nulls equal, as in the merge), at
/// most `limit` of them, each as its key values printed.
fn duplicate_keys(
    batches: &[RecordBatch],
    schema: &Schema,
    key: &[&str],
    limit: usize,
) -> Result<(usize, Vec<String>), datafusion::arrow::error::ArrowError> {
    use datafusion::arrow::row::{RowConverter, SortField};
    use datafusion::arrow::util::display::array_value_to_string;
    let idx = key
        .iter()
        .map(|k| schema.index_of(k))
        .collect::<Result<Vec<_>, _>>()?;
    let converter = RowConverter::new(
        idx.iter()
            .map(|&i| SortField::new(schema.field(i).data_type().clone()))
            .collect(),
    )?;
    let mut seen = HashSet::new();
    let mut reported = HashSet::new();
    let mut examples = Vec::new();
    for batch in batches {
        let columns: Vec<_> = idx.iter().map(|&i| batch.column(i).clone()).collect();
        let rows = converter.convert_columns(&columns)?;
        for (r, row) in rows.iter().enumerate() {
            if !seen.insert(row.owned()) && reported.insert(row.owned()) && examples.len() < limit {
                let values = columns
                    .iter()
                    .map(|c| {
                        if c.is_null(r) {
                            Ok("null".to_owned())
                        } else {
                            array_value_to_string(c, r)
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                examples.push(format!("({})", values.join(", ")));
            }
        }
    }
    Ok((reported.len(), examples))
}

/// `left IS NOT DISTINCT FROM right` (DataFusion's Expr has no builder method for it).
fn not_distinct(left: Expr, right: Expr) -> Expr {
    use datafusion::logical_expr::{BinaryExpr, Operator};
    Expr::BinaryExpr(BinaryExpr::new(
        Box::new(left),
        Operator::IsNotDistinctFrom,
        Box::new(right),
    ))
}

/// `target.c` or `source.c`.
fn side(alias: &str, column: &str) -> Expr {
    Expr::Column(Column::new(Some(TableReference::bare(alias)), column))
}

/// The merge's join predicate: `target.k IS NOT DISTINCT FROM source.k` for every key column
/// (a null key matches a null key). DataFusion plans a conjunction of these as hash-join keys
/// with nulls equal; mixing them with `=` would leave them as a filter over the `=` join.
fn key_predicate(key: &[&str]) -> Expr {
    key.iter()
        .map(|k| not_distinct(side("target", k), side("source", k)))
        .reduce(Expr::and)
        .unwrap_or_else(|| lit(false))
}

/// The operation column of the merge source (never written to the table).
const OP_COLUMN: &str = "__codeanatomy_op";

/// Session of the diff: strings read from Delta as `Utf8`, like the engine's session.
fn diff_session() -> SessionContext {
    let mut config = datafusion::prelude::SessionConfig::new();
    config
        .options_mut()
        .execution
        .parquet
        .schema_force_view_types = false;
    SessionContext::new_with_config(config)
}

/// The target's rows cast to the contract schema (Delta stores no string flavour).
async fn target_frame(
    ctx: &SessionContext,
    table: &DeltaTable,
    schema: &Schema,
) -> Result<datafusion::prelude::DataFrame, DeltaTableError> {
    table.update_datafusion_session(&ctx.state())?;
    let provider = table
        .table_provider()
        .with_session(Arc::new(ctx.state()))
        .await?;
    let frame = ctx.read_table(provider)?;
    let columns: Vec<Expr> = schema
        .fields()
        .iter()
        .map(|f| {
            datafusion::prelude::cast(
                datafusion::prelude::col(Column::from_name(f.name())),
                f.data_type().clone(),
            )
            .alias(f.name())
        })
        .collect();
    Ok(frame.select(columns)?)
}

/// Whether two target rows share a key (then a merge cannot replace them one for one).
async fn target_has_duplicate_keys(
    target: &datafusion::prelude::DataFrame,
    key: &[&str],
) -> Result<bool, DeltaTableError> {
    use datafusion::functions_aggregate::count::count_all;
    let keys: Vec<Expr> = key
        .iter()
        .map(|k| datafusion::prelude::col(Column::from_name(*k)))
        .collect();
    let repeated = target
        .clone()
        .aggregate(keys, vec![count_all().alias("n")])?
        .filter(datafusion::prelude::col("n").gt(lit(1i64)))?
        .count()
        .await?;
    Ok(repeated > 0)
}

/// The rows to write: `upserts` are the source rows no target row equals in every column
/// (new keys and changed rows), `deletes` the target rows whose key the source lacks.
struct Diff {
    upserts: Vec<RecordBatch>,
    deletes: Vec<RecordBatch>,
}

impl Diff {
    fn upserted(&self) -> u64 {
        self.upserts.iter().map(|b| b.num_rows() as u64).sum()
    }

    fn deleted(&self) -> u64 {
        self.deletes.iter().map(|b| b.num_rows() as u64).sum()
    }
}

async fn diff(
    source: datafusion::prelude::DataFrame,
    target: datafusion::prelude::DataFrame,
    key: &[&str],
) -> Result<Diff, DeltaTableError> {
    // EXCEPT ALL: an anti join on every column, nulls equal.
    let upserts = source.clone().except(target.clone())?.collect().await?;
    let renamed: Vec<Expr> = key
        .iter()
        .map(|k| datafusion::prelude::col(Column::from_name(*k)).alias(format!("__source_{k}")))
        .collect();
    let on: Vec<Expr> = key
        .iter()
        .map(|k| {
            not_distinct(
                datafusion::prelude::col(Column::from_name(*k)),
                datafusion::prelude::col(format!("__source_{k}")),
            )
        })
        .collect();
    let deletes = target
        .join_on(
            source.select(renamed)?,
            datafusion::common::JoinType::LeftAnti,
            on,
        )?
        .collect()
        .await?;
    Ok(Diff { upserts, deletes })
}

/// One merge commit of exactly the changed rows, or none when no row differs. The diff is
/// computed first and the merge only carries the changed rows, tagged with their operation:
/// its clauses then read source columns only (no `IS DISTINCT FROM` per matched row, no
/// "not matched by source" clause that would read every target row again).
async fn merge_batches(
    table: DeltaTable,
    before: i64,
    schema: Arc<Schema>,
    key: &[&str],
    batches: Vec<RecordBatch>,
) -> Result<Option<WriteOutcome>, DeltaTableError> {
    let ctx = diff_session();
    let source = ctx.read_table(Arc::new(MemTable::try_new(schema.clone(), vec![batches])?))?;
    let target = target_frame(&ctx, &table, &schema).await?;
    if target_has_duplicate_keys(&target, key).await? {
        return Ok(None);
    }
    let diff = diff(source, target, key).await?;
    let (upserted, deleted) = (diff.upserted(), diff.deleted());
    if upserted == 0 && deleted == 0 {
        return Ok(Some(WriteOutcome {
            version: before,
            version_before: Some(before),
            mode: WriteMode::Unchanged,
            rows_inserted: 0,
            rows_updated: 0,
            rows_deleted: Some(0),
            reason: "",
        }));
    }
    let tagged_schema = Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .cloned()
            .chain([Arc::new(Field::new(OP_COLUMN, DataType::Utf8, false))])
            .collect::<Vec<_>>(),
    ));
    let tag = |batches: Vec<RecordBatch>, op: &str| {
        batches
            .into_iter()
            .map(|b| {
                let ops = Arc::new(datafusion::arrow::array::StringArray::from(vec![
                    op;
                    b.num_rows(
                    )
                ]));
                let mut columns = b.columns().to_vec();
                columns.push(ops);
                RecordBatch::try_new(tagged_schema.clone(), columns)
            })
            .collect::<Result<Vec<_>, _>>()
    };
    let mut rows = tag(diff.upserts, "upsert")?;
    rows.extend(tag(diff.deletes, "delete")?);
    let source = ctx.read_table(Arc::new(MemTable::try_new(
        tagged_schema.clone(),
        vec![rows],
    )?))?;
    let columns: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let is = |op: &str| side("source", OP_COLUMN).eq(lit(op.to_owned()));
    let (table, metrics) = table
        .merge(source, key_predicate(key))
        .with_source_alias("source")
        .with_target_alias("target")
        .with_writer_properties(writer_properties())
        .when_matched_update(|update| {
            columns.iter().fold(update.predicate(is("upsert")), |u, c| {
                u.update(*c, side("source", c))
            })
        })?
        .when_matched_delete(|delete| delete.predicate(is("delete")))?
        .when_not_matched_insert(|insert| {
            columns.iter().fold(insert.predicate(is("upsert")), |i, c| {
                i.set(*c, side("source", c))
            })
        })?
        .await?;
    let (inserted, updated, removed) = (
        metrics.num_target_rows_inserted as u64,
        metrics.num_target_rows_updated as u64,
        metrics.num_target_rows_deleted as u64,
    );
    if inserted + updated != upserted || removed != deleted {
        return Err(DeltaTableError::Generic(format!(
            "the merge committed {inserted} inserted + {updated} updated and {removed} deleted \
             rows; the diff has {upserted} changed and {deleted} deleted"
        )));
    }
    Ok(Some(WriteOutcome {
        version: version_of(&table),
        version_before: Some(before),
        mode: WriteMode::Merge,
        rows_inserted: inserted,
        rows_updated: updated,
        rows_deleted: Some(removed),
        reason: "",
    }))
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
    use std::path::PathBuf;

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
        let key = schema.field(0).name().clone();
        rt().block_on(commit_batches(dir, schema, &[key.as_str()], vec![]))
            .unwrap();
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
        rt().block_on(open_input(b, &Storage::default()))
            .err()
            .map(|e| e.code)
    }

    fn first_commit(dir: &Path) -> PathBuf {
        dir.join("_delta_log/00000000000000000000.json")
    }

    #[test]
    fn store_failures_are_named_by_their_variant() {
        let denied = DeltaTableError::ObjectStore {
            source: deltalake::ObjectStoreError::PermissionDenied {
                path: "p".into(),
                source: "no".into(),
            },
        };
        assert_eq!(store_failure(&denied), Some("permission_denied"));
        let generic = DeltaTableError::ObjectStore {
            source: deltalake::ObjectStoreError::Generic {
                store: "S3",
                source: "connection refused".into(),
            },
        };
        assert_eq!(store_failure(&generic), Some("unavailable"));
        // The vacuous case: an error that is not the store's.
        assert_eq!(store_failure(&DeltaTableError::NotATable("x".into())), None);
        assert_eq!(
            variant_name("Unauthenticated { path: .. }"),
            "Unauthenticated"
        );
        assert_eq!(variant_name(""), "");
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

    // ---- incremental commits (CONTRACT "Incremental writes") ----

    use datafusion::arrow::array::{Array, Int64Array, StringArray};
    use datafusion::physical_plan::collect;

    /// `id` (the key), `value`, and `tag`: all strings but `value`.
    fn kv_schema(nullable_key: bool) -> Arc<Schema> {
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, nullable_key),
            Field::new("value", DataType::Int64, true),
            Field::new("tag", DataType::Utf8, true),
        ]))
    }

    fn kv_batch(
        schema: &Arc<Schema>,
        rows: &[(Option<&str>, Option<i64>, Option<&str>)],
    ) -> RecordBatch {
        RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(
                    rows.iter().map(|r| r.0).collect::<Vec<_>>(),
                )),
                Arc::new(Int64Array::from(
                    rows.iter().map(|r| r.1).collect::<Vec<_>>(),
                )),
                Arc::new(StringArray::from(
                    rows.iter().map(|r| r.2).collect::<Vec<_>>(),
                )),
            ],
        )
        .unwrap()
    }

    type Row = (Option<String>, Option<i64>, Option<String>);

    fn commit(
        dir: &Path,
        schema: &Arc<Schema>,
        rows: &[(Option<&str>, Option<i64>, Option<&str>)],
    ) -> WriteOutcome {
        let batches = if rows.is_empty() {
            vec![]
        } else {
            vec![kv_batch(schema, rows)]
        };
        rt().block_on(commit_batches(dir, schema.clone(), &["id"], batches))
            .unwrap()
    }

    fn open(dir: &Path) -> DeltaTable {
        rt().block_on(async {
            let url = deltalake::ensure_table_uri(dir.to_string_lossy()).unwrap();
            let mut t = DeltaTable::try_from_url(url).await.unwrap();
            t.load().await.unwrap();
            t
        })
    }

    fn string_at(col: &dyn Array, i: usize) -> Option<String> {
        let c = datafusion::arrow::compute::cast(&col.slice(i, 1), &DataType::Utf8).unwrap();
        let c = c.as_any().downcast_ref::<StringArray>().unwrap();
        c.is_valid(0).then(|| c.value(0).to_owned())
    }

    fn rows_of(batches: &[RecordBatch], extra: Option<&str>) -> Vec<(Row, Option<String>)> {
        let mut out = Vec::new();
        for b in batches {
            let value = datafusion::arrow::compute::cast(
                b.column_by_name("value").unwrap(),
                &DataType::Int64,
            )
            .unwrap();
            let value = value.as_any().downcast_ref::<Int64Array>().unwrap();
            for i in 0..b.num_rows() {
                out.push((
                    (
                        string_at(b.column_by_name("id").unwrap().as_ref(), i),
                        value.is_valid(i).then(|| value.value(i)),
                        string_at(b.column_by_name("tag").unwrap().as_ref(), i),
                    ),
                    extra.and_then(|e| string_at(b.column_by_name(e).unwrap().as_ref(), i)),
                ));
            }
        }
        out.sort();
        out
    }

    /// The table's rows at its latest version, sorted.
    fn content(dir: &Path) -> Vec<Row> {
        let table = open(dir);
        let batches = rt().block_on(async {
            let ctx = SessionContext::new();
            ctx.register_table("t", table.table_provider().await.unwrap())
                .unwrap();
            ctx.sql("select * from t")
                .await
                .unwrap()
                .collect()
                .await
                .unwrap()
        });
        rows_of(&batches, None)
            .into_iter()
            .map(|(r, _)| r)
            .collect()
    }

    /// The change data feed from `version` on: (row, change type), sorted.
    fn changes(dir: &Path, version: u64) -> Vec<(Row, Option<String>)> {
        let table = open(dir);
        let batches = rt().block_on(async {
            let ctx = SessionContext::new();
            let plan = table
                .scan_cdf()
                .with_starting_version(version)
                .build(&ctx.state(), None)
                .await
                .unwrap();
            collect(plan, ctx.task_ctx()).await.unwrap()
        });
        rows_of(&batches, Some("_change_type"))
    }

    fn row(id: Option<&str>, value: i64, tag: Option<&str>) -> Row {
        (id.map(str::to_owned), Some(value), tag.map(str::to_owned))
    }

    fn cdf_on(dir: &Path) -> bool {
        open(dir)
            .snapshot()
            .unwrap()
            .metadata()
            .configuration()
            .get(CDF_PROPERTY)
            .map(String::as_str)
            == Some("true")
    }

    fn log_versions(dir: &Path) -> usize {
        std::fs::read_dir(dir.join("_delta_log"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".json")
            })
            .count()
    }

    const BASE: [(Option<&str>, Option<i64>, Option<&str>); 3] = [
        (Some("a"), Some(1), Some("x")),
        (Some("b"), Some(2), None),
        (Some("c"), Some(3), Some("z")),
    ];

    #[test]
    fn a_missing_table_is_created_at_version_0_with_the_change_data_feed() {
        let tmp = TempDir::new("create");
        let t = tmp.0.join("t");
        let schema = kv_schema(false);
        let w = commit(&t, &schema, &BASE);
        assert_eq!(
            (
                w.version,
                w.version_before,
                w.mode,
                w.rows_inserted,
                w.rows_updated,
                w.rows_deleted
            ),
            (0, None, WriteMode::Create, 3, 0, Some(0))
        );
        assert!(cdf_on(&t));
        assert_eq!(content(&t).len(), 3);
    }

    #[test]
    fn the_same_rows_again_commit_nothing() {
        let tmp = TempDir::new("same");
        let t = tmp.0.join("t");
        let schema = kv_schema(false);
        commit(&t, &schema, &BASE);
        // Another order and other batches: still the same rows.
        let mut shuffled = BASE;
        shuffled.reverse();
        let w = commit(&t, &schema, &shuffled);
        assert_eq!(
            (
                w.version,
                w.version_before,
                w.mode,
                w.rows_inserted,
                w.rows_updated,
                w.rows_deleted
            ),
            (0, Some(0), WriteMode::Unchanged, 0, 0, Some(0))
        );
        assert_eq!(log_versions(&t), 1, "no commit file may be written");
    }

    #[test]
    fn an_empty_table_written_empty_again_commits_nothing() {
        let tmp = TempDir::new("empty");
        let t = tmp.0.join("t");
        let schema = kv_schema(false);
        commit(&t, &schema, &[]);
        let w = commit(&t, &schema, &[]);
        assert_eq!((w.version, w.mode), (0, WriteMode::Unchanged));
    }

    #[test]
    fn a_merge_commits_exactly_the_changed_rows() {
        let tmp = TempDir::new("merge");
        let t = tmp.0.join("t");
        let schema = kv_schema(false);
        commit(&t, &schema, &BASE);
        // a: unchanged; b: tag null -> "y" (a null that becomes a value is a change); c: gone;
        // d: new.
        let next = [
            (Some("a"), Some(1), Some("x")),
            (Some("b"), Some(2), Some("y")),
            (Some("d"), Some(4), None),
        ];
        let w = commit(&t, &schema, &next);
        assert_eq!(
            (
                w.version,
                w.version_before,
                w.mode,
                w.rows_inserted,
                w.rows_updated,
                w.rows_deleted
            ),
            (1, Some(0), WriteMode::Merge, 1, 1, Some(1))
        );
        assert_eq!(
            content(&t),
            vec![
                row(Some("a"), 1, Some("x")),
                row(Some("b"), 2, Some("y")),
                row(Some("d"), 4, None)
            ]
        );
        let s = |x: &str| Some(x.to_owned());
        assert_eq!(
            changes(&t, 1),
            vec![
                (row(Some("b"), 2, None), s("update_preimage")),
                (row(Some("b"), 2, Some("y")), s("update_postimage")),
                (row(Some("c"), 3, Some("z")), s("delete")),
                (row(Some("d"), 4, None), s("insert")),
            ]
        );
        // Merging the same rows once more changes nothing.
        let again = commit(&t, &schema, &next);
        assert_eq!((again.version, again.mode), (1, WriteMode::Unchanged));
    }

    #[test]
    fn no_rows_delete_every_row_in_one_merge() {
        let tmp = TempDir::new("delete_all");
        let t = tmp.0.join("t");
        let schema = kv_schema(false);
        commit(&t, &schema, &BASE);
        let w = commit(&t, &schema, &[]);
        assert_eq!(
            (w.version, w.mode, w.rows_deleted),
            (1, WriteMode::Merge, Some(3))
        );
        assert!(content(&t).is_empty());
        assert_eq!(changes(&t, 1).len(), 3);
    }

    #[test]
    fn null_keys_match_null_keys() {
        let tmp = TempDir::new("nullkey");
        let t = tmp.0.join("t");
        let schema = kv_schema(true);
        let first = [(None, Some(1), Some("x")), (Some("b"), Some(2), None)];
        commit(&t, &schema, &first);
        assert_eq!(commit(&t, &schema, &first).mode, WriteMode::Unchanged);
        let w = commit(
            &t,
            &schema,
            &[(None, Some(9), Some("x")), (Some("b"), Some(2), None)],
        );
        assert_eq!(
            (
                w.version,
                w.mode,
                w.rows_inserted,
                w.rows_updated,
                w.rows_deleted
            ),
            (1, WriteMode::Merge, 0, 1, Some(0)),
            "the null-key row is updated, not deleted and inserted"
        );
        assert_eq!(
            content(&t),
            vec![row(None, 9, Some("x")), row(Some("b"), 2, None)]
        );
    }

    #[test]
    fn the_key_predicate_is_an_equi_join() {
        // Non-nullable keys join with `=`, nullable ones with IS NOT DISTINCT FROM: both must
        // plan as a hash join, never a nested loop join over every pair of rows.
        for (schema, key) in [
            (kv_schema(false), vec!["id"]),
            (kv_schema(true), vec!["id"]),
            (kv_schema(true), vec!["id", "value"]),
            (kv_schema(false), vec!["id", "value"]),
        ] {
            let plan = rt().block_on(async {
                let ctx = SessionContext::new();
                for alias in ["target", "source"] {
                    let t = MemTable::try_new(schema.clone(), vec![vec![kv_batch(&schema, &BASE)]])
                        .unwrap();
                    ctx.register_table(alias, Arc::new(t)).unwrap();
                }
                let target = ctx.table("target").await.unwrap();
                let source = ctx.table("source").await.unwrap();
                let df = source
                    .join(
                        target,
                        datafusion::common::JoinType::Full,
                        &[],
                        &[],
                        Some(key_predicate(&key)),
                    )
                    .unwrap();
                let plan = df.create_physical_plan().await.unwrap();
                let text = datafusion::physical_plan::displayable(plan.as_ref())
                    .indent(true)
                    .to_string();
                text
            });
            assert!(plan.contains("HashJoinExec"), "{key:?}: {plan}");
            assert!(!plan.contains("NestedLoopJoinExec"), "{key:?}: {plan}");
        }
    }

    #[test]
    fn another_schema_is_overwritten() {
        let tmp = TempDir::new("reschema");
        let t = tmp.0.join("t");
        let other = Arc::new(Schema::new(vec![Field::new("id", DataType::Utf8, false)]));
        let batch = RecordBatch::try_new(
            other.clone(),
            vec![Arc::new(StringArray::from(vec!["q", "r"]))],
        )
        .unwrap();
        rt().block_on(commit_batches(&t, other, &["id"], vec![batch]))
            .unwrap();
        let schema = kv_schema(false);
        let w = commit(&t, &schema, &BASE);
        assert_eq!(
            (
                w.version,
                w.version_before,
                w.mode,
                w.rows_inserted,
                w.rows_deleted
            ),
            (1, Some(0), WriteMode::Overwrite, 3, Some(2))
        );
        assert_eq!(w.reason, "the schema changed");
        assert_eq!(content(&t).len(), 3);
        assert!(cdf_on(&t));
        // From now on the table merges.
        assert_eq!(commit(&t, &schema, &BASE).mode, WriteMode::Unchanged);
    }

    #[test]
    fn a_table_without_the_change_data_feed_gets_it_and_is_overwritten() {
        let tmp = TempDir::new("nocdf");
        let t = tmp.0.join("t");
        let schema = kv_schema(false);
        rt().block_on(async {
            let url = deltalake::ensure_table_uri(t.to_string_lossy()).unwrap();
            DeltaTable::try_from_url(url)
                .await
                .unwrap()
                .write(vec![kv_batch(&schema, &BASE)])
                .await
                .unwrap();
        });
        assert!(!cdf_on(&t));
        let w = commit(&t, &schema, &BASE[..2]);
        // Version 1 turns the change data feed on, version 2 is the overwrite.
        assert_eq!(
            (w.version, w.version_before, w.mode),
            (2, Some(0), WriteMode::Overwrite)
        );
        assert_eq!(w.reason, "the change data feed was off");
        assert!(cdf_on(&t));
        assert_eq!(content(&t).len(), 2);
        let again = commit(&t, &schema, &BASE[..1]);
        assert_eq!(
            (again.version, again.mode, again.rows_deleted),
            (3, WriteMode::Merge, Some(1))
        );
    }

    #[test]
    fn rows_that_share_a_key_are_commit_failed_and_change_nothing() {
        let tmp = TempDir::new("dupes");
        let t = tmp.0.join("t");
        let schema = kv_schema(true);
        for rows in [
            vec![
                (Some("a"), Some(1), Some("x")),
                (Some("a"), Some(2), Some("x")),
            ],
            vec![(None, Some(1), Some("x")), (None, Some(1), Some("x"))],
        ] {
            let batch = kv_batch(&schema, &rows);
            let err = rt()
                .block_on(commit_batches(&t, schema.clone(), &["id"], vec![batch]))
                .unwrap_err();
            assert_eq!(err.code, ErrorCode::CommitFailed);
            assert!(
                err.context_json().contains("duplicate_key"),
                "{}",
                err.context_json()
            );
            assert!(!t.join("_delta_log").exists(), "nothing may be written");
        }
        // No key, or a key column the rows lack.
        for key in [&[][..], &["nope"][..]] {
            let err = rt()
                .block_on(commit_batches(&t, schema.clone(), key, vec![]))
                .unwrap_err();
            assert!(
                err.context_json().contains("key_missing"),
                "{}",
                err.context_json()
            );
        }
    }

    #[test]
    fn a_table_holding_duplicate_keys_is_overwritten() {
        let tmp = TempDir::new("target_dupes");
        let t = tmp.0.join("t");
        let schema = kv_schema(false);
        let dupes = [
            (Some("a"), Some(1), Some("x")),
            (Some("a"), Some(2), Some("x")),
        ];
        rt().block_on(async {
            let url = deltalake::ensure_table_uri(t.to_string_lossy()).unwrap();
            DeltaTable::try_from_url(url)
                .await
                .unwrap()
                .write(vec![kv_batch(&schema, &dupes)])
                .with_configuration([(CDF_PROPERTY, Some("true"))])
                .await
                .unwrap();
        });
        let w = commit(&t, &schema, &BASE);
        assert_eq!(
            (w.version, w.mode, w.rows_inserted, w.rows_deleted),
            (1, WriteMode::Overwrite, 3, Some(2))
        );
        assert_eq!(w.reason, "the table held duplicate keys");
        assert_eq!(content(&t).len(), 3);
    }

    /// Timing, run by hand: `cargo test --release ... delta::tests::merge_timing -- --ignored
    /// --nocapture`. 200k rows, then 1% of them changed, 0.5% deleted, 0.5% new.
    #[test]
    #[ignore]
    fn merge_timing() {
        let tmp = TempDir::new("timing");
        let t = tmp.0.join("t");
        let schema = kv_schema(false);
        let n = 200_000usize;
        let ids: Vec<String> = (0..n).map(|i| format!("id{i:08}")).collect();
        // Row i has value i, or -1 when i % 100 == edit.
        let make = |edit: usize| {
            (0..n)
                .map(|i| {
                    let value = if i % 100 == edit { -1 } else { i as i64 };
                    (Some(ids[i].as_str()), Some(value), Some("t"))
                })
                .collect::<Vec<(Option<&str>, Option<i64>, Option<&str>)>>()
        };
        let first = make(100);
        let time = |rows: &[(Option<&str>, Option<i64>, Option<&str>)]| {
            let start = std::time::Instant::now();
            let w = commit(&t, &schema, rows);
            (start.elapsed().as_secs_f64(), w)
        };
        let (create_s, _) = time(&first);
        let (same_s, same) = time(&first);
        let mut next = make(7);
        next.truncate(n - 1000);
        let extra: Vec<String> = (0..1000).map(|i| format!("new{i:05}")).collect();
        next.extend(
            extra
                .iter()
                .map(|id| (Some(id.as_str()), Some(1), Some("t"))),
        );
        let (merge_s, merged) = time(&next);
        eprintln!(
            "200k rows: create {create_s:.3}s, unchanged {same_s:.3}s ({:?}), merge {merge_s:.3}s \
             ({} inserted, {} updated, {:?} deleted)",
            same.mode, merged.rows_inserted, merged.rows_updated, merged.rows_deleted
        );
        assert_eq!(same.mode, WriteMode::Unchanged);
        assert_eq!(merged.mode, WriteMode::Merge);
    }
}
