//! The table fingerprint kernel (CONTRACT §14) over Arrow buffers.
//!
//! Every row is encoded column by column exactly as §14 says (null `0x00`; a value `0x01` then
//! its payload), hashed with XXH64 (seed 0), and the row hashes are summed modulo 2^64. The
//! sum is order-insensitive and duplicate-sensitive. Rows are split into chunks hashed on
//! several threads; the wrapping sum makes the result independent of the split.
//!
//! The final digest (schema string, row count and sum) is computed by the caller
//! (`backends/contract/fingerprint.py`), which owns the schema string as Arrow prints it.

use std::sync::atomic::{AtomicUsize, Ordering};

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, GenericListArray, GenericStringArray, OffsetSizeTrait,
    RecordBatch, StringViewArray,
};
use arrow::datatypes::{
    DataType, Float16Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
    UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use twox_hash::XxHash64;

const NULL: u8 = 0x00;
const SOME: u8 = 0x01;
/// Rows per work item: large enough to amortize the encoders, small enough to balance threads.
const CHUNK: usize = 64 * 1024;

/// Appends the payload of a non-null value at a row (after `SOME`).
type Encode<'a> = Box<dyn Fn(usize, &mut Vec<u8>) + Send + Sync + 'a>;

/// One column's encoder: nulls as `0x00`, values as `0x01` + payload.
struct Column<'a> {
    array: &'a dyn Array,
    encode: Encode<'a>,
}

impl Column<'_> {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        if self.array.is_null(row) {
            out.push(NULL);
        } else {
            out.push(SOME);
            (self.encode)(row, out);
        }
    }
}

fn str_payload(value: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(&(value.len() as u64).to_le_bytes());
    out.extend_from_slice(value.as_bytes());
}

/// §14 floats: binary64 little-endian, `-0.0` as `0.0`, every NaN as the quiet NaN 0x7FF8...
/// (`float_bits`).
fn float_payload(value: f64, out: &mut Vec<u8>) {
    out.extend_from_slice(&float_bits(value).to_le_bytes());
}

fn strings<O: OffsetSizeTrait>(a: &GenericStringArray<O>) -> Encode<'_> {
    Box::new(move |row, out| str_payload(a.value(row), out))
}

fn views(a: &StringViewArray) -> Encode<'_> {
    Box::new(move |row, out| str_payload(a.value(row), out))
}

fn list<'a, O: OffsetSizeTrait>(a: &'a GenericListArray<O>) -> Result<Encode<'a>, String> {
    let values = a.values().as_ref();
    let item = Column {
        array: values,
        encode: encoder(values)?,
    };
    Ok(Box::new(move |row, out| {
        let offsets = a.value_offsets();
        let (start, end) = (offsets[row].as_usize(), offsets[row + 1].as_usize());
        out.extend_from_slice(&((end - start) as u64).to_le_bytes());
        for i in start..end {
            item.write(i, out);
        }
    }))
}

macro_rules! int_encoder {
    ($array:expr, $t:ty) => {{
        let a = $array.as_primitive::<$t>();
        Box::new(move |row: usize, out: &mut Vec<u8>| {
            out.extend_from_slice(&(a.value(row) as i64).to_le_bytes())
        }) as Encode<'_>
    }};
}

/// The payload encoder of `array`'s type; an error names a type §14 does not define.
fn encoder(array: &dyn Array) -> Result<Encode<'_>, String> {
    Ok(match array.data_type() {
        DataType::Utf8 => strings(array.as_string::<i32>()),
        DataType::LargeUtf8 => strings(array.as_string::<i64>()),
        DataType::Utf8View => views(array.as_string_view()),
        DataType::Int8 => int_encoder!(array, Int8Type),
        DataType::Int16 => int_encoder!(array, Int16Type),
        DataType::Int32 => int_encoder!(array, Int32Type),
        DataType::Int64 => int_encoder!(array, Int64Type),
        DataType::UInt8 => int_encoder!(array, UInt8Type),
        DataType::UInt16 => int_encoder!(array, UInt16Type),
        DataType::UInt32 => int_encoder!(array, UInt32Type),
        DataType::UInt64 => int_encoder!(array, UInt64Type),
        DataType::Float16 => {
            let a = array.as_primitive::<Float16Type>();
            Box::new(move |row, out| float_payload(a.value(row).to_f64(), out))
        }
        DataType::Float32 => {
            let a = array.as_primitive::<Float32Type>();
            Box::new(move |row, out| float_payload(f64::from(a.value(row)), out))
        }
        DataType::Float64 => {
            let a = array.as_primitive::<Float64Type>();
            Box::new(move |row, out| float_payload(a.value(row), out))
        }
        DataType::Boolean => {
            let a: &BooleanArray = array.as_boolean();
            Box::new(move |row, out| out.push(u8::from(a.value(row))))
        }
        DataType::List(_) => list(array.as_list::<i32>())?,
        DataType::LargeList(_) => list(array.as_list::<i64>())?,
        other => return Err(format!("no fingerprint encoding for Arrow type {other}")),
    })
}

/// A column prepared for the column-wise encoder: the §14 payload is written by a typed loop
/// over the rows of a chunk (integers and floats are widened to 64 bits once per batch), or,
/// for lists, by the per-cell encoder into a column-local buffer first.
enum Writer<'a> {
    Str32(&'a GenericStringArray<i32>),
    Str64(&'a GenericStringArray<i64>),
    View(&'a StringViewArray),
    I64(&'a arrow::array::Int64Array),
    U64(&'a arrow::array::UInt64Array),
    F64(&'a arrow::array::Float64Array),
    Bool(&'a BooleanArray),
    Nested(Column<'a>),
}

/// Widen integers to Int64 and floats to Float64 (exact conversions), so one loop per family
/// encodes them; other arrays are kept.
fn widen(array: &ArrayRef) -> Result<ArrayRef, String> {
    let to = match array.data_type() {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => DataType::Int64,
        DataType::Float16 | DataType::Float32 => DataType::Float64,
        _ => return Ok(array.clone()),
    };
    arrow::compute::cast(array, &to).map_err(|e| e.to_string())
}

fn writer(array: &dyn Array) -> Result<Writer<'_>, String> {
    Ok(match array.data_type() {
        DataType::Utf8 => Writer::Str32(array.as_string::<i32>()),
        DataType::LargeUtf8 => Writer::Str64(array.as_string::<i64>()),
        DataType::Utf8View => Writer::View(array.as_string_view()),
        DataType::Int64 => Writer::I64(array.as_primitive::<Int64Type>()),
        DataType::UInt64 => Writer::U64(array.as_primitive::<UInt64Type>()),
        DataType::Float64 => Writer::F64(array.as_primitive::<Float64Type>()),
        DataType::Boolean => Writer::Bool(array.as_boolean()),
        _ => Writer::Nested(Column {
            array,
            encode: encoder(array)?,
        }),
    })
}

/// The binary64 bits §14 writes for a float.
fn float_bits(value: f64) -> u64 {
    if value == 0.0 {
        0
    } else if value.is_nan() {
        0x7FF8_0000_0000_0000
    } else {
        value.to_bits()
    }
}

/// Encoded cells of one column over rows `start..end`: lengths added to `lens`, bytes written
/// at `cursor` (one write cursor per row) when `buf` is given.
fn column_pass(
    w: &Writer<'_>,
    start: usize,
    end: usize,
    lens: &mut [usize],
    mut buf: Option<(&mut [u8], &mut [usize])>,
    nested: &mut Vec<u8>,
    nested_offsets: &mut Vec<usize>,
) {
    macro_rules! each {
        ($array:expr, |$row:ident| $len:expr, |$out:ident, $r:ident| $write:block) => {{
            let a = $array;
            for (i, $row) in (start..end).enumerate() {
                if a.is_null($row) {
                    lens[i] += 1;
                    if let Some((b, cur)) = buf.as_mut() {
                        b[cur[i]] = NULL;
                        cur[i] += 1;
                    }
                    continue;
                }
                let n = 1 + $len;
                lens[i] += n;
                if let Some((b, cur)) = buf.as_mut() {
                    let $out = &mut b[cur[i]..cur[i] + n];
                    $out[0] = SOME;
                    let $r = $row;
                    $write
                    cur[i] += n;
                }
            }
        }};
    }
    macro_rules! strs {
        ($a:expr) => {
            each!($a, |row| 8 + $a.value(row).len(), |out, r| {
                let v = $a.value(r).as_bytes();
                out[1..9].copy_from_slice(&(v.len() as u64).to_le_bytes());
                out[9..].copy_from_slice(v);
            })
        };
    }
    match w {
        Writer::Str32(a) => strs!(*a),
        Writer::Str64(a) => strs!(*a),
        Writer::View(a) => strs!(*a),
        Writer::I64(a) => each!(*a, |row| 8, |out, r| {
            out[1..].copy_from_slice(&a.value(r).to_le_bytes());
        }),
        Writer::U64(a) => each!(*a, |row| 8, |out, r| {
            out[1..].copy_from_slice(&a.value(r).to_le_bytes());
        }),
        Writer::F64(a) => each!(*a, |row| 8, |out, r| {
            out[1..].copy_from_slice(&float_bits(a.value(r)).to_le_bytes());
        }),
        Writer::Bool(a) => each!(*a, |row| 1, |out, r| {
            out[1] = u8::from(a.value(r));
        }),
        Writer::Nested(col) => {
            if buf.is_none() {
                nested.clear();
                nested_offsets.clear();
                nested_offsets.push(0);
                for row in start..end {
                    col.write(row, nested);
                    nested_offsets.push(nested.len());
                }
            }
            for i in 0..end - start {
                let cell = &nested[nested_offsets[i]..nested_offsets[i + 1]];
                if let Some((b, cur)) = buf.as_mut() {
                    b[cur[i]..cur[i] + cell.len()].copy_from_slice(cell);
                    cur[i] += cell.len();
                } else {
                    lens[i] += cell.len();
                }
            }
        }
    }
}

/// Per-thread buffers reused from chunk to chunk (every byte of `buf` up to the chunk's size
/// is overwritten before it is hashed, so it is never cleared).
#[derive(Default)]
struct Scratch {
    lens: Vec<usize>,
    offsets: Vec<usize>,
    cursor: Vec<usize>,
    buf: Vec<u8>,
    nested: Vec<Vec<u8>>,
    nested_offsets: Vec<Vec<usize>>,
}

/// The XXH64 row-hash sum of rows `start..end` of `columns` (already widened): every row's
/// encoding is laid out in one buffer column by column, then each row's bytes are hashed.
fn chunk_sum(
    columns: &[ArrayRef],
    start: usize,
    end: usize,
    s: &mut Scratch,
) -> Result<u64, String> {
    let writers = columns
        .iter()
        .map(|a| writer(a.as_ref()))
        .collect::<Result<Vec<_>, String>>()?;
    let rows = end - start;
    s.lens.clear();
    s.lens.resize(rows, 0);
    s.nested.resize(writers.len(), Vec::new());
    s.nested_offsets.resize(writers.len(), Vec::new());
    for (c, w) in writers.iter().enumerate() {
        column_pass(
            w,
            start,
            end,
            &mut s.lens,
            None,
            &mut s.nested[c],
            &mut s.nested_offsets[c],
        );
    }
    s.offsets.clear();
    s.offsets.push(0usize);
    let mut total = 0;
    for n in &s.lens {
        total += n;
        s.offsets.push(total);
    }
    if s.buf.len() < total {
        s.buf.resize(total, 0);
    }
    s.cursor.clear();
    s.cursor.extend_from_slice(&s.offsets[..rows]);
    for (c, w) in writers.iter().enumerate() {
        column_pass(
            w,
            start,
            end,
            &mut s.lens,
            Some((&mut s.buf, &mut s.cursor)),
            &mut s.nested[c],
            &mut s.nested_offsets[c],
        );
    }
    let mut sum = 0u64;
    for i in 0..rows {
        sum = sum.wrapping_add(XxHash64::oneshot(0, &s.buf[s.offsets[i]..s.offsets[i + 1]]));
    }
    Ok(sum)
}

/// `(rows, sum of row hashes mod 2^64)` of `batches`, hashed on `threads` threads (0 = one
/// per available core). Unsupported column types give an error naming the type.
pub fn row_hash_sum(batches: &[RecordBatch], threads: usize) -> Result<(u64, u64), String> {
    let mut items = Vec::new();
    let mut widened: Vec<Vec<ArrayRef>> = Vec::with_capacity(batches.len());
    for (b, batch) in batches.iter().enumerate() {
        // Type errors surface even for empty tables.
        for column in batch.columns() {
            encoder(column.as_ref()).map(drop)?;
        }
        widened.push(
            batch
                .columns()
                .iter()
                .map(widen)
                .collect::<Result<Vec<_>, String>>()?,
        );
        let mut start = 0;
        while start < batch.num_rows() {
            let end = (start + CHUNK).min(batch.num_rows());
            items.push((b, start, end));
            start = end;
        }
    }
    let rows: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .min(items.len().max(1));
    let next = AtomicUsize::new(0);
    let work = || -> Result<u64, String> {
        let mut sum = 0u64;
        let mut scratch = Scratch::default();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(&(b, start, end)) = items.get(i) else {
                return Ok(sum);
            };
            sum = sum.wrapping_add(chunk_sum(&widened[b], start, end, &mut scratch)?);
        }
    };
    let sums: Vec<Result<u64, String>> = if threads <= 1 {
        vec![work()]
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads).map(|_| s.spawn(work)).collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err("hash thread panicked".into()))
                })
                .collect()
        })
    };
    let mut total = 0u64;
    for s in sums {
        total = total.wrapping_add(s?);
    }
    Ok((rows, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int64Array, ListArray, StringArray};
    use arrow::datatypes::{Field, Schema};
    use std::sync::Arc;

    fn batch(ids: Vec<Option<&str>>, ns: Vec<Option<i64>>) -> RecordBatch {
        RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("id", DataType::Utf8, true),
                Field::new("n", DataType::Int64, true),
            ])),
            vec![
                Arc::new(StringArray::from(ids)),
                Arc::new(Int64Array::from(ns)),
            ],
        )
        .unwrap()
    }

    #[test]
    fn xxh64_matches_the_published_vectors() {
        assert_eq!(XxHash64::oneshot(0, b""), 0xEF46_DB37_51D8_E999);
        assert_eq!(XxHash64::oneshot(0, b"a"), 0xD24E_C4F1_A98C_6E5B);
    }

    #[test]
    fn one_row_is_the_hash_of_its_encoding() {
        let b = batch(vec![Some("é")], vec![None]);
        let mut enc = vec![SOME];
        enc.extend_from_slice(&2u64.to_le_bytes());
        enc.extend_from_slice("é".as_bytes());
        enc.push(NULL);
        assert_eq!(
            row_hash_sum(&[b], 1).unwrap(),
            (1, XxHash64::oneshot(0, &enc))
        );
    }

    #[test]
    fn order_and_split_do_not_matter_but_duplicates_do() {
        let a = batch(
            vec![Some("x"), Some("y"), None],
            vec![Some(1), None, Some(3)],
        );
        let b1 = batch(vec![None], vec![Some(3)]);
        let b2 = batch(vec![Some("y"), Some("x")], vec![None, Some(1)]);
        let whole = row_hash_sum(std::slice::from_ref(&a), 1).unwrap();
        assert_eq!(row_hash_sum(&[b1, b2], 2).unwrap(), whole);
        let dup = row_hash_sum(&[a.clone(), a.slice(0, 1)], 2).unwrap();
        assert_ne!(dup.1, whole.1);
        assert_eq!(dup.0, 4);
    }

    #[test]
    fn negative_zero_and_nans_are_canonical() {
        let f = |v: f64| {
            let b = RecordBatch::try_new(
                Arc::new(Schema::new(vec![Field::new("f", DataType::Float64, false)])),
                vec![Arc::new(Float64Array::from(vec![v]))],
            )
            .unwrap();
            row_hash_sum(&[b], 1).unwrap()
        };
        assert_eq!(f(-0.0), f(0.0));
        assert_eq!(f(f64::NAN), f(-f64::NAN));
        assert_ne!(f(1.0), f(0.0));
    }

    #[test]
    fn lists_encode_their_count_and_items() {
        let l = ListArray::from_iter_primitive::<Int64Type, _, _>(vec![Some(vec![Some(1), None])]);
        let b = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new(
                "l",
                l.data_type().clone(),
                true,
            )])),
            vec![Arc::new(l)],
        )
        .unwrap();
        let mut enc = vec![SOME];
        enc.extend_from_slice(&2u64.to_le_bytes());
        enc.push(SOME);
        enc.extend_from_slice(&1i64.to_le_bytes());
        enc.push(NULL);
        assert_eq!(row_hash_sum(&[b], 1).unwrap().1, XxHash64::oneshot(0, &enc));
    }

    #[test]
    fn an_unsupported_type_is_an_error() {
        let b = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("d", DataType::Date32, true)])),
            vec![Arc::new(arrow::array::Date32Array::from(vec![1]))],
        )
        .unwrap();
        assert!(row_hash_sum(&[b], 1).unwrap_err().contains("Date32"));
    }
}
