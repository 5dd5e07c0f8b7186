//! Scalar UDFs the views use: stable IDs (CONTRACT §4), JSON `detail` access with §1 re-encoding,
//! dotted-name helpers and nullability adapters. Each one is a pure row-wise function inside the
//! plan; nothing here collects data.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Int64Builder, ListBuilder, StringArray, StringBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use serde_json::Value;

type Kernel = fn(&[ArrayRef], usize) -> Result<ArrayRef>;

/// A row-wise UDF: a kernel over the argument arrays, a return type and a nullability rule
/// (`None` = nullable like its first argument, `Some(b)` = always `b`).
struct RowUdf {
    name: &'static str,
    signature: Signature,
    ret: DataType,
    nullable: Option<bool>,
    kernel: Kernel,
}

impl std::fmt::Debug for RowUdf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RowUdf({})", self.name)
    }
}

impl PartialEq for RowUdf {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}
impl Eq for RowUdf {}
impl Hash for RowUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl ScalarUDFImpl for RowUdf {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if self.ret == DataType::Null {
            return Ok(arg_types[0].clone());
        }
        Ok(self.ret.clone())
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let types: Vec<DataType> = args
            .arg_fields
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        let nullable = match self.nullable {
            Some(b) => b,
            None => args.arg_fields.iter().any(|f| f.is_nullable()),
        };
        Ok(Arc::new(Field::new(
            self.name,
            self.return_type(&types)?,
            nullable,
        )))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let arrays: Vec<ArrayRef> = args
            .args
            .iter()
            .map(|a| a.clone().into_array(n))
            .collect::<Result<_>>()?;
        Ok(ColumnarValue::Array((self.kernel)(&arrays, n)?))
    }
}

/// A row-wise scalar UDF named `name`: `kernel` over the argument arrays, returning `ret`
/// (`DataType::Null`: the type of the first argument), nullable as `nullable` says.
pub fn row_udf(
    name: &'static str,
    signature: Signature,
    ret: DataType,
    nullable: Option<bool>,
    kernel: Kernel,
) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::new_from_impl(RowUdf {
        name,
        signature,
        ret,
        nullable,
        kernel,
    }))
}

fn utf8(a: &ArrayRef) -> Result<Arc<StringArray>> {
    let c = cast(a, &DataType::Utf8)?;
    Ok(Arc::new(c.as_string::<i32>().clone()))
}

fn str_at(a: &StringArray, i: usize) -> Option<&str> {
    if a.is_null(i) {
        None
    } else {
        Some(a.value(i))
    }
}

/// `list<item: string>` (nullable items), the type of list-valued UDFs.
pub fn list_utf8() -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
}

// ---------------------------------------------------------------------------------------------
// Kernels
// ---------------------------------------------------------------------------------------------

/// One argument of `stable_id`: text, or an integer written in decimal (as `ids::stable_id`
/// writes `IdField::Int`); other types are cast to text first.
enum IdArg {
    Text(StringArray),
    Int(arrow::array::Int64Array),
}

impl IdArg {
    fn new(a: &ArrayRef) -> Result<IdArg> {
        Ok(match a.data_type() {
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32 => IdArg::Int(
                cast(a, &DataType::Int64)?
                    .as_primitive::<arrow::datatypes::Int64Type>()
                    .clone(),
            ),
            _ => IdArg::Text(utf8(a)?.as_ref().clone()),
        })
    }

    fn is_null(&self, i: usize) -> bool {
        match self {
            IdArg::Text(a) => a.is_null(i),
            IdArg::Int(a) => a.is_null(i),
        }
    }

    /// Append the field's text at row `i` (nothing for null).
    fn write(&self, i: usize, out: &mut Vec<u8>) {
        use std::io::Write;
        if self.is_null(i) {
            return;
        }
        match self {
            IdArg::Text(a) => out.extend_from_slice(a.value(i).as_bytes()),
            IdArg::Int(a) => {
                let _ = write!(out, "{}", a.value(i));
            }
        }
    }
}

/// `stable_id(kind, f1, f2, ...)` (CONTRACT §4, `ids::stable_id`), one reused buffer per batch:
/// no per-row allocation besides the output.
fn k_stable_id(args: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    use sha2::{Digest, Sha256};
    let cols: Vec<IdArg> = args.iter().map(IdArg::new).collect::<Result<_>>()?;
    let mut out = StringBuilder::with_capacity(n, n * 32);
    let mut text: Vec<u8> = Vec::with_capacity(128);
    let mut hex_id = [0u8; 32];
    for i in 0..n {
        if cols[0].is_null(i) {
            return exec_err!("stable_id: null kind");
        }
        text.clear();
        text.extend_from_slice(b"cpg1\x1f");
        cols[0].write(i, &mut text);
        for col in &cols[1..] {
            text.push(0x1f);
            col.write(i, &mut text);
        }
        let digest = Sha256::digest(&text);
        hex::encode_to_slice(&digest[..16], &mut hex_id)
            .map_err(|e| datafusion::error::DataFusionError::Execution(e.to_string()))?;
        out.append_value(std::str::from_utf8(&hex_id).unwrap_or_default());
    }
    Ok(Arc::new(out.finish()))
}

/// §1 JSON: sorted keys, no whitespace, non-ASCII kept (serde_json escapes exactly the
/// characters Python's `json.dumps(..., ensure_ascii=False)` escapes, with lowercase hex).
pub fn canonical_json(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).unwrap_or_default());
                out.push(':');
                canonical_json(&map[k.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&serde_json::to_string(other).unwrap_or_default()),
    }
}

/// The value under `key` of the JSON object `detail` (the last one when a key repeats, as in
/// a parsed `Value`); `None` when it is missing or null, or `detail` is not a JSON object.
/// Only that value is built: the others are skipped (`IgnoredAny`), not parsed into a tree.
fn json_field(detail: Option<&str>, key: Option<&str>) -> Option<Value> {
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

    struct Pick<'k>(&'k str);

    impl<'de> Visitor<'de> for Pick<'_> {
        type Value = Option<Value>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut found = None;
            while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if k == self.0 {
                    found = Some(map.next_value::<Value>()?);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(found)
        }
    }

    impl<'de> DeserializeSeed<'de> for Pick<'_> {
        type Value = Option<Value>;

        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
    }

    let mut de = serde_json::Deserializer::from_str(detail?);
    let found = Pick(key?).deserialize(&mut de).ok()?;
    de.end().ok()?;
    match found {
        None | Some(Value::Null) => None,
        found => found,
    }
}

fn k_json_get(args: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let (d, k) = (utf8(&args[0])?, utf8(&args[1])?);
    let mut out = StringBuilder::new();
    let mut s = String::new();
    for i in 0..n {
        match json_field(str_at(&d, i), str_at(&k, i)) {
            Some(v) => {
                s.clear();
                canonical_json(&v, &mut s);
                out.append_value(&s);
            }
            None => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

fn k_json_text(args: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let (d, k) = (utf8(&args[0])?, utf8(&args[1])?);
    let mut out = StringBuilder::new();
    let mut s = String::new();
    for i in 0..n {
        match json_field(str_at(&d, i), str_at(&k, i)) {
            Some(Value::String(text)) => out.append_value(text),
            Some(v) => {
                s.clear();
                canonical_json(&v, &mut s);
                out.append_value(&s);
            }
            None => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

/// The string items of a JSON list, each prefixed with its 0-based index as 4 digits
/// (`"0000" + item`), so that unnesting keeps the list order as a sortable key.
fn k_json_list_indexed(args: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let (d, k) = (utf8(&args[0])?, utf8(&args[1])?);
    let mut out = ListBuilder::new(StringBuilder::new());
    for i in 0..n {
        if let Some(Value::Array(items)) = json_field(str_at(&d, i), str_at(&k, i)) {
            for (j, item) in items.iter().enumerate() {
                if let Value::String(s) = item {
                    out.values().append_value(format!("{j:04}{s}"));
                }
            }
        }
        out.append(true);
    }
    Ok(Arc::new(out.finish()))
}

fn k_json_quote(args: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let a = utf8(&args[0])?;
    let mut out = StringBuilder::new();
    for i in 0..n {
        match str_at(&a, i) {
            Some(s) => out.append_value(serde_json::to_string(s).unwrap_or_default()),
            None => out.append_value("null"),
        }
    }
    Ok(Arc::new(out.finish()))
}

/// §8.2 visible scopes of `S`, innermost first: `S`, then each prefix obtained by removing the
/// last `.`-component (and a trailing `.<locals>`), down to `""`.
pub fn visible_scopes(s: &str) -> Vec<String> {
    let mut out = vec![s.to_string()];
    let mut cur = s.to_string();
    while !cur.is_empty() {
        cur = match cur.rfind('.') {
            Some(p) => cur[..p].to_string(),
            None => String::new(),
        };
        if let Some(stripped) = cur.strip_suffix(".<locals>") {
            cur = stripped.to_string();
        } else if cur == "<locals>" {
            cur = String::new();
        }
        out.push(cur.clone());
    }
    out
}

fn k_visible_scopes(args: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let a = utf8(&args[0])?;
    let mut out = ListBuilder::new(StringBuilder::new());
    for i in 0..n {
        if let Some(s) = str_at(&a, i) {
            for v in visible_scopes(s) {
                out.values().append_value(v);
            }
        }
        out.append(true);
    }
    Ok(Arc::new(out.finish()))
}

/// Component `k` (1-based, Int64) of a dotted name, null past the end.
fn k_dotted_part(args: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let a = utf8(&args[0])?;
    let k = cast(&args[1], &DataType::Int64)?;
    let k = k.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
    let mut out = StringBuilder::new();
    for i in 0..n {
        let part = match (str_at(&a, i), k.is_null(i)) {
            (Some(s), false) if k.value(i) >= 1 => s.split('.').nth((k.value(i) - 1) as usize),
            _ => None,
        };
        out.append_option(part);
    }
    Ok(Arc::new(out.finish()))
}

fn k_dotted_len(args: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let a = utf8(&args[0])?;
    let mut out = Int64Builder::new();
    for i in 0..n {
        out.append_option(str_at(&a, i).map(|s| s.split('.').count() as i64));
    }
    Ok(Arc::new(out.finish()))
}

/// Everything after the last `sep` (the whole string when there is none).
fn k_tail(args: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let (a, sep) = (utf8(&args[0])?, utf8(&args[1])?);
    let mut out = StringBuilder::new();
    for i in 0..n {
        out.append_option(match (str_at(&a, i), str_at(&sep, i)) {
            (Some(s), Some(p)) => Some(s.rsplit(p).next().unwrap_or(s)),
            _ => None,
        });
    }
    Ok(Arc::new(out.finish()))
}

/// Everything before the last `sep`, null when there is none.
fn k_head(args: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let (a, sep) = (utf8(&args[0])?, utf8(&args[1])?);
    let mut out = StringBuilder::new();
    for i in 0..n {
        out.append_option(match (str_at(&a, i), str_at(&sep, i)) {
            (Some(s), Some(p)) => s.rfind(p).map(|pos| &s[..pos]),
            _ => None,
        });
    }
    Ok(Arc::new(out.finish()))
}

/// A file name without its `.py` / `.pyi` suffix.
fn k_py_stem(args: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let a = utf8(&args[0])?;
    let mut out = StringBuilder::new();
    for i in 0..n {
        out.append_option(str_at(&a, i).map(|s| {
            let name = s.rsplit('/').next().unwrap_or(s);
            name.strip_suffix(".pyi")
                .or_else(|| name.strip_suffix(".py"))
                .unwrap_or(name)
        }));
    }
    Ok(Arc::new(out.finish()))
}

fn k_identity(args: &[ArrayRef], _n: usize) -> Result<ArrayRef> {
    Ok(args[0].clone())
}

fn k_non_null(args: &[ArrayRef], _n: usize) -> Result<ArrayRef> {
    if args[0].null_count() > 0 {
        return exec_err!("a column the contract declares non-nullable holds a null");
    }
    Ok(args[0].clone())
}

// ---------------------------------------------------------------------------------------------
// Expression builders
// ---------------------------------------------------------------------------------------------

macro_rules! udf {
    ($static:ident, $name:literal, $sig:expr, $ret:expr, $nullable:expr, $kernel:expr) => {
        static $static: LazyLock<Arc<ScalarUDF>> =
            LazyLock::new(|| row_udf($name, $sig, $ret, $nullable, $kernel));
    };
}

const IMM: Volatility = Volatility::Immutable;
udf!(
    STABLE_ID,
    "stable_id",
    Signature::variadic_any(IMM),
    DataType::Utf8,
    Some(false),
    k_stable_id
);
udf!(
    JSON_GET,
    "json_get",
    Signature::any(2, IMM),
    DataType::Utf8,
    Some(true),
    k_json_get
);
udf!(
    JSON_TEXT,
    "json_text",
    Signature::any(2, IMM),
    DataType::Utf8,
    Some(true),
    k_json_text
);
udf!(
    JSON_LIST_IX,
    "json_list_indexed",
    Signature::any(2, IMM),
    list_utf8(),
    Some(true),
    k_json_list_indexed
);
udf!(
    JSON_QUOTE,
    "json_quote",
    Signature::any(1, IMM),
    DataType::Utf8,
    Some(false),
    k_json_quote
);
udf!(
    VISIBLE,
    "visible_scopes",
    Signature::any(1, IMM),
    list_utf8(),
    Some(true),
    k_visible_scopes
);
udf!(
    DOT_PART,
    "dotted_part",
    Signature::any(2, IMM),
    DataType::Utf8,
    Some(true),
    k_dotted_part
);
udf!(
    DOT_LEN,
    "dotted_len",
    Signature::any(1, IMM),
    DataType::Int64,
    None,
    k_dotted_len
);
udf!(
    TAIL,
    "str_tail",
    Signature::any(2, IMM),
    DataType::Utf8,
    None,
    k_tail
);
udf!(
    HEAD,
    "str_head",
    Signature::any(2, IMM),
    DataType::Utf8,
    Some(true),
    k_head
);
udf!(
    PY_STEM,
    "py_stem",
    Signature::any(1, IMM),
    DataType::Utf8,
    None,
    k_py_stem
);
udf!(
    NULLABLE,
    "as_nullable",
    Signature::any(1, IMM),
    DataType::Null,
    Some(true),
    k_identity
);
udf!(
    NON_NULL,
    "as_non_null",
    Signature::any(1, IMM),
    DataType::Null,
    Some(false),
    k_non_null
);

/// `stable_id(kind, fields...)` per CONTRACT §4 (nulls as "", integers base 10).
pub fn stable_id(kind: Expr, fields: Vec<Expr>) -> Expr {
    let mut args = vec![kind];
    args.extend(fields);
    STABLE_ID.call(args)
}
/// The value of `detail[key]` re-encoded as §1 JSON; null when missing or JSON null.
pub fn json_get(detail: Expr, key: &str) -> Expr {
    JSON_GET.call(vec![detail, datafusion::prelude::lit(key)])
}
/// `detail[key]` as text: strings as is, other values as §1 JSON (`true`, `3`, `[...]`).
pub fn json_text(detail: Expr, key: &str) -> Expr {
    JSON_TEXT.call(vec![detail, datafusion::prelude::lit(key)])
}
/// `detail[key]` (a list of strings) as `List<Utf8>` of `"NNNN" + item` (index-prefixed).
pub fn json_list_indexed(detail: Expr, key: &str) -> Expr {
    JSON_LIST_IX.call(vec![detail, datafusion::prelude::lit(key)])
}
/// A string as a JSON string literal (`null` for null).
pub fn json_quote(e: Expr) -> Expr {
    JSON_QUOTE.call(vec![e])
}
/// The §8.2 visible scopes of a scope qualname, innermost first.
pub fn visible_scopes_expr(e: Expr) -> Expr {
    VISIBLE.call(vec![e])
}
/// Component `k` (1-based) of a dotted expression.
pub fn dotted_part(e: Expr, k: Expr) -> Expr {
    DOT_PART.call(vec![e, k])
}
/// Number of `.`-components of a dotted expression.
pub fn dotted_len(e: Expr) -> Expr {
    DOT_LEN.call(vec![e])
}
/// The part after the last `sep`.
pub fn str_tail(e: Expr, sep: &str) -> Expr {
    TAIL.call(vec![e, datafusion::prelude::lit(sep)])
}
/// The part before the last `sep` (null without one).
pub fn str_head(e: Expr, sep: &str) -> Expr {
    HEAD.call(vec![e, datafusion::prelude::lit(sep)])
}
/// A path's file name without `.py`/`.pyi`.
pub fn py_stem(e: Expr) -> Expr {
    PY_STEM.call(vec![e])
}
/// The same values, declared nullable.
pub fn as_nullable(e: Expr) -> Expr {
    NULLABLE.call(vec![e])
}
/// The same values, declared non-nullable (errors at run time on a null).
pub fn as_non_null(e: Expr) -> Expr {
    NON_NULL.call(vec![e])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_field_equals_a_lookup_in_the_parsed_value() {
        fn reference(detail: &str, key: &str) -> Option<Value> {
            let v: Value = serde_json::from_str(detail).ok()?;
            match v.get(key) {
                None | Some(Value::Null) => None,
                Some(x) => Some(x.clone()),
            }
        }
        let details = [
            r#"{"a": 1, "b": {"c": [1, 2, {"d": null}]}, "e": "x\"y"}"#,
            r#"{"a": 1, "a": 2}"#,
            r#"{"k\u00e9y": true, "key": null}"#,
            r#"{"bases": ["A", "B"], "flags": ["GENERATOR"], "docstring": false}"#,
            r#"[1, 2]"#,
            r#""a""#,
            r#"{"a": 1} trailing"#,
            r#"{"a": "#,
            r#"{}"#,
        ];
        for detail in details {
            for key in [
                "a",
                "b",
                "e",
                "kéy",
                "key",
                "bases",
                "flags",
                "docstring",
                "zz",
            ] {
                assert_eq!(
                    json_field(Some(detail), Some(key)),
                    reference(detail, key),
                    "{detail} / {key}"
                );
            }
        }
        assert_eq!(json_field(None, Some("a")), None);
        assert_eq!(json_field(Some("{}"), None), None);
    }

    #[test]
    fn visible_scopes_strip_locals_down_to_module() {
        assert_eq!(
            visible_scopes("f.<locals>.g"),
            vec!["f.<locals>.g", "f", ""]
        );
        assert_eq!(visible_scopes("C.m"), vec!["C.m", "C", ""]);
        assert_eq!(visible_scopes(""), vec![""]);
    }

    #[test]
    fn the_stable_id_kernel_equals_ids_stable_id() {
        use crate::ids::{stable_id, IdField};
        use datafusion::arrow::array::{Int32Array, Int64Array};
        let kind: ArrayRef = Arc::new(StringArray::from(vec!["NAME_REF", "CALLSITE", "FILE"]));
        let path: ArrayRef = Arc::new(StringArray::from(vec![Some("a/é.py"), None, Some("b")]));
        let start: ArrayRef = Arc::new(Int64Array::from(vec![Some(0), Some(-12), None]));
        let ord: ArrayRef = Arc::new(Int32Array::from(vec![7, 8, 9]));
        let ids = k_stable_id(&[kind, path, start, ord], 3).unwrap();
        let ids = ids.as_string::<i32>();
        let expect = [
            stable_id(
                "NAME_REF",
                &[IdField::Text("a/é.py"), IdField::Int(0), IdField::Int(7)],
            ),
            stable_id(
                "CALLSITE",
                &[IdField::Null, IdField::Int(-12), IdField::Int(8)],
            ),
            stable_id(
                "FILE",
                &[IdField::Text("b"), IdField::Null, IdField::Int(9)],
            ),
        ];
        for (i, e) in expect.iter().enumerate() {
            assert_eq!(ids.value(i), e);
        }
    }

    #[test]
    fn canonical_json_sorts_keys_and_keeps_unicode() {
        let v: Value = serde_json::from_str(r#"{"b":[1,"é"],"a":{"z":true,"y":null}}"#).unwrap();
        let mut s = String::new();
        canonical_json(&v, &mut s);
        assert_eq!(s, r#"{"a":{"y":null,"z":true},"b":[1,"é"]}"#);
    }
}
