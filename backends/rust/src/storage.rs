//! Where the engine's Delta tables live: a local folder or an object store (`s3://` URIs),
//! and the store options of one call.
//!
//! Local paths behave exactly as before: no option reaches them, a table's folder is
//! `Path::join`ed. Any other location (a URI with a scheme, `file://` aside) is joined with `/`
//! and opened with the call's `storage_options`; without options delta-rs reads the standard
//! `AWS_*` environment variables itself (deltalake-aws `with_env_s3`: every variable that names
//! an `AmazonS3ConfigKey`, the options winning over the environment).
//!
//! Credentials never leave the engine: [`Storage::scrub`] replaces every option value (and the
//! `AWS_*` credential variables) in an error's message and context before it is returned.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Once;

use deltalake::{DeltaResult, DeltaTable, DeltaTableBuilder};
use serde_json::Value;

use crate::error::EngineError;

/// The bounded retry of a remote store unless the caller's options say otherwise: object_store
/// retries a failed request 10 times over up to 3 minutes by default, so a wrong port would
/// hang a run for minutes; these make an unreachable endpoint fail in seconds.
pub const REMOTE_DEFAULTS: [(&str, &str); 3] = [
    ("max_retries", "2"),
    ("retry_timeout", "10s"),
    ("connect_timeout", "5s"),
];

/// Environment variables that hold credentials: their values are scrubbed like the options'.
const CREDENTIAL_VARIABLES: [&str; 3] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

/// Option keys whose values are not secrets and help read an error (the endpoint that could not
/// be reached, the region); every other option value is scrubbed. Compared lower-case, without
/// an `aws_` prefix.
const PUBLIC_KEYS: [&str; 6] = [
    "endpoint",
    "endpoint_url",
    "region",
    "default_region",
    "allow_http",
    "conditional_put",
];

/// What replaces a secret in a message.
pub const REDACTED: &str = "[redacted]";

static HANDLERS: Once = Once::new();

/// Register delta-rs' S3 object-store and log-store handlers (`s3://`, `s3a://`), once per
/// process. deltalake registers them from a constructor too; calling it here does not depend on
/// the linker keeping that constructor.
pub fn register_handlers() {
    HANDLERS.call_once(|| deltalake::aws::register_handlers(None));
}

/// Whether `location` is a local folder (a plain path or a `file://` URL).
pub fn is_local(location: &str) -> bool {
    match url::Url::parse(location) {
        Ok(u) => u.scheme() == "file" || u.scheme().len() == 1,
        Err(_) => true,
    }
}

/// The local folder `location` names, if it names one.
pub fn local_dir(location: &str) -> Option<PathBuf> {
    match url::Url::parse(location) {
        Ok(u) if u.scheme() == "file" => u.to_file_path().ok(),
        Ok(u) if u.scheme().len() > 1 => None,
        _ => Some(PathBuf::from(location)),
    }
}

/// The location of table `name` under `root`: `Path::join` for a local folder (as the engine
/// always did), `root/name` for a URI.
pub fn join(root: &str, name: &str) -> String {
    if is_local(root) && !root.starts_with("file:") {
        Path::new(root).join(name).to_string_lossy().into_owned()
    } else {
        format!("{}/{name}", root.trim_end_matches('/'))
    }
}

/// The store options of one engine call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Storage {
    options: HashMap<String, String>,
}

impl Storage {
    /// Storage with the caller's options (given for every remote table of the call).
    pub fn new(options: HashMap<String, String>) -> Self {
        register_handlers();
        Self { options }
    }

    /// The options a table at `url` is opened with: none for a local table; the bounded retry
    /// defaults overridden by the caller's options for a remote one.
    pub fn options_for(&self, url: &url::Url) -> HashMap<String, String> {
        if url.scheme() == "file" {
            return HashMap::new();
        }
        let mut options: HashMap<String, String> = REMOTE_DEFAULTS
            .iter()
            .filter(|(k, _)| !self.has(k))
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        options.extend(self.options.clone());
        options
    }

    /// Whether the caller set option `key`, in the options (any case, with or without `aws_`)
    /// or as an environment variable `KEY` or `AWS_KEY` (object_store reads those).
    fn has(&self, key: &str) -> bool {
        let bare = |k: &str| {
            let k = k.to_ascii_lowercase();
            k.strip_prefix("aws_").unwrap_or(k.as_str()).to_owned()
        };
        let key = bare(key);
        self.options.keys().any(|k| bare(k.as_str()) == key)
            || [
                key.to_ascii_uppercase(),
                format!("AWS_{}", key.to_ascii_uppercase()),
            ]
            .iter()
            .any(|name| std::env::var_os(name).is_some())
    }

    /// A table builder for `url` with this call's options.
    pub fn builder(&self, url: url::Url) -> DeltaResult<DeltaTableBuilder> {
        let options = self.options_for(&url);
        let builder = DeltaTableBuilder::from_url(url)?;
        Ok(if options.is_empty() {
            builder
        } else {
            builder.with_storage_options(options)
        })
    }

    /// The table at `url` for writing: loaded when it exists, uninitialized when not.
    pub async fn table_for_write(&self, url: url::Url) -> DeltaResult<DeltaTable> {
        let options = self.options_for(&url);
        if options.is_empty() {
            DeltaTable::try_from_url(url).await
        } else {
            DeltaTable::try_from_url_with_storage_options(url, options).await
        }
    }

    /// Every value that must not appear in a message: all option values but those of
    /// [`PUBLIC_KEYS`] and plain flags and numbers, and the credential environment variables.
    /// Longest first, so a secret that contains another is replaced whole.
    fn secrets(&self) -> Vec<String> {
        let public = |k: &str, v: &str| {
            let k = k.to_ascii_lowercase();
            PUBLIC_KEYS.contains(&k.strip_prefix("aws_").unwrap_or(k.as_str()))
                || is_flag_or_number(v)
        };
        let mut secrets: Vec<String> = self
            .options
            .iter()
            .filter(|(k, v)| !public(k.as_str(), v.as_str()))
            .map(|(_, v)| v.clone())
            .chain(
                CREDENTIAL_VARIABLES
                    .iter()
                    .filter_map(|name| std::env::var(name).ok()),
            )
            .filter(|v| !v.is_empty())
            .collect();
        secrets.sort();
        secrets.dedup();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets
    }

    /// `text` with every secret replaced by [`REDACTED`].
    pub fn scrub(&self, text: &str) -> String {
        scrub_text(text, &self.secrets())
    }

    /// `error` with every secret replaced in its message and (recursively) its context.
    pub fn scrub_error(&self, mut error: EngineError) -> EngineError {
        let secrets = self.secrets();
        if secrets.is_empty() {
            return error;
        }
        error.message = scrub_text(&error.message, &secrets);
        for value in error.context.values_mut() {
            scrub_value(value, &secrets);
        }
        error
    }
}

/// `true`, `false`, or a number with an optional unit (`3`, `10s`, `1.5`): not secrets, and
/// replacing them would mangle every message that contains the word or digit.
fn is_flag_or_number(value: &str) -> bool {
    value.eq_ignore_ascii_case("true")
        || value.eq_ignore_ascii_case("false")
        || (value.len() <= 8 && value.starts_with(|c: char| c.is_ascii_digit()) && {
            let unit = value.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
            unit.len() <= 3 && unit.chars().all(|c| c.is_ascii_alphabetic())
        })
}

fn scrub_text(text: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .fold(text.to_owned(), |t, s| t.replace(s.as_str(), REDACTED))
}

fn scrub_value(value: &mut Value, secrets: &[String]) {
    match value {
        Value::String(s) => *s = scrub_text(s, secrets),
        Value::Array(items) => items.iter_mut().for_each(|v| scrub_value(v, secrets)),
        Value::Object(map) => map.values_mut().for_each(|v| scrub_value(v, secrets)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn storage(pairs: &[(&str, &str)]) -> Storage {
        Storage::new(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn local_roots_join_as_paths_and_uris_with_a_slash() {
        assert_eq!(join("/tmp/out", "cpg_nodes"), "/tmp/out/cpg_nodes");
        assert_eq!(join("/tmp/out/", "cpg_nodes"), "/tmp/out/cpg_nodes");
        assert_eq!(join("rel/out", "t"), "rel/out/t");
        assert_eq!(join("s3://b/p/outputs", "t"), "s3://b/p/outputs/t");
        assert_eq!(join("s3://b/p/outputs/", "t"), "s3://b/p/outputs/t");
        assert_eq!(join("file:///tmp/out", "t"), "file:///tmp/out/t");
    }

    #[test]
    fn only_uris_with_a_scheme_are_remote() {
        assert!(is_local("/tmp/x"));
        assert!(is_local("relative/x"));
        assert!(is_local("file:///tmp/x"));
        assert!(is_local("C:\\data\\x"));
        assert!(!is_local("s3://bucket/x"));
        assert_eq!(local_dir("s3://bucket/x"), None);
        assert_eq!(local_dir("/tmp/x"), Some(PathBuf::from("/tmp/x")));
    }

    #[test]
    fn local_tables_get_no_options_and_remote_ones_bounded_retries() {
        let s = storage(&[("AWS_SECRET_ACCESS_KEY", "s"), ("max_retries", "7")]);
        let local = url::Url::parse("file:///tmp/x").unwrap();
        assert!(s.options_for(&local).is_empty());
        let remote = s.options_for(&url::Url::parse("s3://b/x").unwrap());
        assert_eq!(remote["max_retries"], "7", "the caller's option wins");
        assert_eq!(remote["retry_timeout"], "10s");
        assert_eq!(remote["AWS_SECRET_ACCESS_KEY"], "s");
    }

    #[test]
    fn secrets_are_scrubbed_from_message_and_context() {
        let s = storage(&[
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE123"),
            ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG"),
            ("aws_session_token", "tok-abc"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:8333"),
            ("AWS_ALLOW_HTTP", "true"),
            ("max_retries", "3"),
        ]);
        let e = EngineError::new(
            ErrorCode::CommitFailed,
            "cannot open s3://b/t: key AKIDEXAMPLE123 with wJalrXUtnFEMI/K7MDENG at \
             http://127.0.0.1:8333 refused (true) after 3 retries",
        )
        .with("cause", "token tok-abc")
        .with(
            "nested",
            serde_json::json!({"a": ["x wJalrXUtnFEMI/K7MDENG y"], "n": 3}),
        );
        let e = s.scrub_error(e);
        let all = format!("{} {}", e.message, e.context_json());
        for secret in ["AKIDEXAMPLE123", "wJalrXUtnFEMI/K7MDENG", "tok-abc"] {
            assert!(!all.contains(secret), "{secret} in {all}");
        }
        assert!(all.contains(REDACTED));
        // The endpoint, the table and plain flags stay readable.
        assert!(e.message.contains("http://127.0.0.1:8333"), "{}", e.message);
        assert!(e.message.contains("s3://b/t"));
        assert!(e.message.contains("(true) after 3 retries"));
        assert_eq!(e.context["nested"]["n"], 3);
    }

    #[test]
    fn nothing_is_scrubbed_without_secrets() {
        // The vacuous case: no options, no credential variables set for these names.
        let s = storage(&[]);
        let e = EngineError::new(ErrorCode::CommitFailed, "plain").with("k", "v");
        if CREDENTIAL_VARIABLES
            .iter()
            .all(|n| std::env::var_os(n).is_none())
        {
            assert_eq!(s.scrub_error(e.clone()), e);
        }
        assert_eq!(scrub_text("plain", &[]), "plain");
    }

    #[test]
    fn flags_and_numbers_are_not_secrets_but_digit_led_keys_are() {
        for public in ["true", "FALSE", "3", "10s", "500ms", "1.5"] {
            assert!(is_flag_or_number(public), "{public}");
        }
        for secret in ["9abcdefg", "12ab34cd", "abc", "s3cret", "1234567890123"] {
            assert!(!is_flag_or_number(secret), "{secret}");
        }
    }

    #[test]
    fn a_longer_secret_is_replaced_whole() {
        let secrets = vec!["abcdef".to_owned(), "abc".to_owned()];
        assert_eq!(
            scrub_text("x abcdef abc", &secrets),
            "x [redacted] [redacted]"
        );
    }
}
