//! Protocol values to and from tokio-postgres.
//!
//! Parameters: tokio-postgres binds every parameter as the type the server
//! inferred for it (`Statement::params()`), in binary by default. `Param`
//! picks, per parameter, the Rust type a tokio-postgres user would bind
//! (i16/i32/i64, f32/f64, &str, Vec<u8>, chrono, uuid) and lets the driver
//! encode it; where no Rust type of the driver fits (numeric, json, a
//! string for a date, a vector), it asks the driver for the text format
//! (`ToSql::encode_format`) and sends the value's text, which the server
//! parses as it would a literal.
//!
//! Results: tokio-postgres reads every column in binary. `Cell` uses the
//! driver's `FromSql` for the types it has (bool, integers, floats, text,
//! bytea, chrono dates and times, uuid, json) and decodes the rest from
//! their documented binary formats itself: numeric to exact text (the
//! driver has no numeric type; rust_decimal's 28 digits would lose some),
//! interval, timetz, arrays (recursively), domains (as their base type),
//! enums, and pgvector's vector.

use bytes::{BufMut, BytesMut};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use fallible_iterator::FallibleIterator;
use postgres_protocol::types as pt;
use std::error::Error as StdError;
use std::fmt::Write as _;
use tokio_postgres::types::{to_sql_checked, Format, FromSql, IsNull, Json as PgJson, Kind, ToSql, Type};

use crate::codec::{Value, TIMESTAMPTZ_FORMAT, TIMESTAMP_FORMAT, TIME_FORMAT};
use crate::errors::UnsupportedType;

type BoxErr = Box<dyn StdError + Sync + Send>;

/// A protocol value bound as a statement parameter.
#[derive(Debug)]
pub struct Param(pub Value);

fn is_texty(ty: &Type) -> bool {
    <&str as ToSql>::accepts(ty)
}

fn is_vector(ty: &Type) -> bool {
    matches!(ty.kind(), Kind::Simple) && ty.name() == "vector"
}

/// binary reports whether v goes to a parameter of type ty through one of
/// the driver's binary encoders; false means the text format.
fn binary(v: &Value, ty: &Type) -> bool {
    if let Kind::Domain(base) = ty.kind() {
        return binary(v, base);
    }
    match (v, ty) {
        (Value::Null, _) => true,
        (Value::Bool(_), &Type::BOOL) => true,
        (Value::Int(i), &Type::INT2) => i16::try_from(*i).is_ok(),
        (Value::Int(i), &Type::INT4) => i32::try_from(*i).is_ok(),
        (Value::Int(_), &Type::INT8) => true,
        (Value::Int(i), &Type::OID) => u32::try_from(*i).is_ok(),
        (Value::Int(_) | Value::Float(_), &Type::FLOAT4 | &Type::FLOAT8) => true,
        (Value::Text(_), t) => is_texty(t),
        (Value::Bytes(_), &Type::BYTEA) => true,
        (Value::Date(_), &Type::DATE) => true,
        (Value::Timestamptz(_), &Type::TIMESTAMPTZ) => true,
        (Value::Timestamp(_), &Type::TIMESTAMP) => true,
        (Value::Time(_), &Type::TIME) => true,
        (Value::Interval(_), &Type::INTERVAL) => true,
        (Value::Uuid(_), &Type::UUID) => true,
        (Value::Array(items), t) => match t.kind() {
            Kind::Array(member) => rectangular(items).is_some() && flatten(items).iter().all(|x| binary(x, member)),
            _ => false,
        },
        _ => false,
    }
}

impl ToSql for Param {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxErr> {
        if matches!(self.0, Value::Null) {
            return Ok(IsNull::Yes);
        }
        if !binary(&self.0, ty) {
            out.put_slice(text_of(&self.0).as_bytes());
            return Ok(IsNull::No);
        }
        let ty = match ty.kind() {
            Kind::Domain(base) => base,
            _ => ty,
        };
        match (&self.0, ty) {
            (Value::Bool(b), _) => b.to_sql(ty, out),
            (Value::Int(i), &Type::INT2) => (*i as i16).to_sql(ty, out),
            (Value::Int(i), &Type::INT4) => (*i as i32).to_sql(ty, out),
            (Value::Int(i), &Type::OID) => (*i as u32).to_sql(ty, out),
            (Value::Int(i), &Type::INT8) => i.to_sql(ty, out),
            (Value::Int(i), &Type::FLOAT4) => (*i as f32).to_sql(ty, out),
            (Value::Int(i), &Type::FLOAT8) => (*i as f64).to_sql(ty, out),
            (Value::Float(f), &Type::FLOAT4) => (*f as f32).to_sql(ty, out),
            (Value::Float(f), _) => f.to_sql(ty, out),
            (Value::Text(s), _) => s.as_str().to_sql(ty, out),
            (Value::Bytes(b), _) => b.as_slice().to_sql(ty, out),
            (Value::Date(d), _) => d.to_sql(ty, out),
            (Value::Timestamptz(t), _) => t.to_sql(ty, out),
            (Value::Timestamp(t), _) => t.to_sql(ty, out),
            (Value::Time(t), _) => t.to_sql(ty, out),
            (Value::Interval(us), _) => {
                // interval's binary form: microseconds, days, months.
                out.put_i64(*us);
                out.put_i32(0);
                out.put_i32(0);
                Ok(IsNull::No)
            }
            (Value::Uuid(u), _) => u.to_sql(ty, out),
            (Value::Array(items), _) => {
                let member = match ty.kind() {
                    Kind::Array(m) => m.clone(),
                    _ => return Err("array parameter for a non-array type".into()),
                };
                let dims = rectangular(items).ok_or("arrays must be rectangular")?;
                let flat = flatten(items);
                pt::array_to_sql(
                    dims.iter().map(|&n| pt::ArrayDimension { len: n as i32, lower_bound: 1 }),
                    member.oid(),
                    flat.into_iter(),
                    |v, buf| match Param(v.clone()).to_sql(&member, buf)? {
                        IsNull::Yes => Ok(postgres_protocol::IsNull::Yes),
                        IsNull::No => Ok(postgres_protocol::IsNull::No),
                    },
                    out,
                )?;
                Ok(IsNull::No)
            }
            (v, t) => Err(format!("no binary encoding of {v:?} for {}", t.name()).into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn encode_format(&self, ty: &Type) -> Format {
        if binary(&self.0, ty) {
            Format::Binary
        } else {
            Format::Text
        }
    }

    to_sql_checked!();
}

/// rectangular returns the dimensions of a (possibly nested) array, or
/// None when its sub-arrays differ in length or depth.
fn rectangular(items: &[Value]) -> Option<Vec<usize>> {
    let mut dims = vec![items.len()];
    if let Some(Value::Array(first)) = items.first() {
        let inner = rectangular(first)?;
        for it in items {
            match it {
                Value::Array(x) if rectangular(x).as_ref() == Some(&inner) => {}
                _ => return None,
            }
        }
        dims.extend(inner);
    } else if items.iter().any(|x| matches!(x, Value::Array(_))) {
        return None;
    }
    Some(dims)
}

fn flatten(items: &[Value]) -> Vec<&Value> {
    let mut out = Vec::new();
    for it in items {
        match it {
            Value::Array(inner) => out.extend(flatten(inner)),
            x => out.push(x),
        }
    }
    out
}

fn float_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity".into() } else { "-Infinity".into() }
    } else {
        format!("{f:?}")
    }
}

/// text_of is a value's text as the server's input functions read it.
pub fn text_of(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => float_text(*f),
        Value::Text(s) | Value::Numeric(s) | Value::Json(s) => s.clone(),
        Value::Bytes(b) => {
            let mut s = String::with_capacity(2 + 2 * b.len());
            s.push_str("\\x");
            for x in b {
                let _ = write!(s, "{x:02x}");
            }
            s
        }
        Value::Date(d) => d.format("%Y-%m-%d").to_string(),
        Value::Timestamptz(t) => t.format(TIMESTAMPTZ_FORMAT).to_string(),
        Value::Timestamp(t) => t.format(TIMESTAMP_FORMAT).to_string(),
        Value::Time(t) => t.format(TIME_FORMAT).to_string(),
        Value::TimeTz(t, off) => format!("{}{}", t.format(TIME_FORMAT), off),
        Value::Interval(us) => format!("{us} microseconds"),
        Value::Uuid(u) => u.hyphenated().to_string(),
        Value::Array(items) => array_literal(items),
        Value::Vector(xs) => {
            let parts: Vec<String> = xs.iter().map(|x| format!("{x:?}")).collect();
            format!("[{}]", parts.join(","))
        }
    }
}

/// array_literal is the text form of an array: {a,"b c",NULL,{1,2}}.
fn array_literal(items: &[Value]) -> String {
    let mut s = String::from("{");
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        match it {
            Value::Null => s.push_str("NULL"),
            Value::Array(inner) => s.push_str(&array_literal(inner)),
            x => {
                s.push('"');
                for c in text_of(x).chars() {
                    if c == '"' || c == '\\' {
                        s.push('\\');
                    }
                    s.push(c);
                }
                s.push('"');
            }
        }
    }
    s.push('}');
    s
}

/// A result value read from a row.
#[derive(Debug)]
pub struct Cell(pub Value);

impl<'a> FromSql<'a> for Cell {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Cell, BoxErr> {
        decode(ty, raw).map(Cell)
    }

    fn from_sql_null(_: &Type) -> Result<Cell, BoxErr> {
        Ok(Cell(Value::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// decode reads one column value in the server's binary format.
pub fn decode(ty: &Type, raw: &[u8]) -> Result<Value, BoxErr> {
    Ok(match *ty {
        Type::BOOL => Value::Bool(bool::from_sql(ty, raw)?),
        Type::INT2 => Value::Int(i16::from_sql(ty, raw)?.into()),
        Type::INT4 => Value::Int(i32::from_sql(ty, raw)?.into()),
        Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
        Type::OID => Value::Int(u32::from_sql(ty, raw)?.into()),
        Type::REGCLASS | Type::REGTYPE | Type::REGPROC | Type::REGNAMESPACE | Type::XID | Type::CID => {
            Value::Int(pt::oid_from_sql(raw)?.into())
        }
        Type::FLOAT4 => Value::Float(f32::from_sql(ty, raw)?.into()),
        Type::FLOAT8 => Value::Float(f64::from_sql(ty, raw)?),
        Type::NUMERIC => Value::Numeric(numeric_text(raw)?),
        Type::CHAR => Value::Text(char::from(i8::from_sql(ty, raw)? as u8).to_string()),
        Type::BYTEA => Value::Bytes(Vec::<u8>::from_sql(ty, raw)?),
        Type::DATE => match pt::date_from_sql(raw)? {
            i32::MAX => Value::Text("infinity".into()),
            i32::MIN => Value::Text("-infinity".into()),
            _ => Value::Date(NaiveDate::from_sql(ty, raw)?),
        },
        Type::TIMESTAMP => match pt::timestamp_from_sql(raw)? {
            i64::MAX => Value::Text("infinity".into()),
            i64::MIN => Value::Text("-infinity".into()),
            _ => Value::Timestamp(NaiveDateTime::from_sql(ty, raw)?),
        },
        Type::TIMESTAMPTZ => match pt::timestamp_from_sql(raw)? {
            i64::MAX => Value::Text("infinity".into()),
            i64::MIN => Value::Text("-infinity".into()),
            _ => Value::Timestamptz(DateTime::<Utc>::from_sql(ty, raw)?.fixed_offset()),
        },
        Type::TIME => Value::Time(NaiveTime::from_sql(ty, raw)?),
        Type::TIMETZ => timetz(raw)?,
        Type::INTERVAL => Value::Interval(interval_us(raw)?),
        Type::UUID => Value::Uuid(uuid::Uuid::from_sql(ty, raw)?),
        Type::JSON | Type::JSONB => {
            let PgJson(doc) = PgJson::<Box<serde_json::value::RawValue>>::from_sql(ty, raw)?;
            Value::Json(doc.get().to_string())
        }
        Type::VOID => Value::Null,
        _ => match ty.kind() {
            Kind::Array(member) => array(member, raw)?,
            Kind::Domain(base) => decode(base, raw)?,
            Kind::Enum(_) => Value::Text(String::from_utf8(raw.to_vec())?),
            _ if is_vector(ty) => Value::Vector(vector(raw)?),
            _ if is_texty(ty) => Value::Text(String::from_sql(ty, raw)?),
            _ => return Err(Box::new(UnsupportedType(ty.name().to_string()))),
        },
    })
}

fn take<'a>(raw: &mut &'a [u8], n: usize) -> Result<&'a [u8], BoxErr> {
    if raw.len() < n {
        return Err("value shorter than its binary format".into());
    }
    let (head, rest) = raw.split_at(n);
    *raw = rest;
    Ok(head)
}

fn read_i16(raw: &mut &[u8]) -> Result<i16, BoxErr> {
    Ok(i16::from_be_bytes(take(raw, 2)?.try_into()?))
}
fn read_u16(raw: &mut &[u8]) -> Result<u16, BoxErr> {
    Ok(u16::from_be_bytes(take(raw, 2)?.try_into()?))
}
fn read_i32(raw: &mut &[u8]) -> Result<i32, BoxErr> {
    Ok(i32::from_be_bytes(take(raw, 4)?.try_into()?))
}
fn read_i64(raw: &mut &[u8]) -> Result<i64, BoxErr> {
    Ok(i64::from_be_bytes(take(raw, 8)?.try_into()?))
}

/// numeric_text renders numeric's binary form (ndigits, weight, sign,
/// dscale, then base-10000 digits) exactly as the server's numeric_out does.
pub fn numeric_text(mut raw: &[u8]) -> Result<String, BoxErr> {
    let ndigits = read_i16(&mut raw)?;
    let weight = read_i16(&mut raw)? as i32;
    let sign = read_u16(&mut raw)?;
    let dscale = read_u16(&mut raw)? as usize;
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        0x0000 | 0x4000 => {}
        _ => return Err(format!("numeric with unknown sign 0x{sign:04x}").into()),
    }
    let mut digits = Vec::with_capacity(ndigits.max(0) as usize);
    for _ in 0..ndigits {
        let d = read_i16(&mut raw)?;
        if !(0..10000).contains(&d) {
            return Err(format!("numeric digit {d} out of range").into());
        }
        digits.push(d);
    }
    let digit = |i: i32| -> i16 {
        if i >= 0 && (i as usize) < digits.len() {
            digits[i as usize]
        } else {
            0
        }
    };
    let mut s = String::new();
    if sign == 0x4000 {
        s.push('-');
    }
    // Digit i stands for digit(i) * 10000^(weight - i).
    if weight < 0 {
        s.push('0');
    } else {
        for i in 0..=weight {
            if i == 0 {
                let _ = write!(s, "{}", digit(i));
            } else {
                let _ = write!(s, "{:04}", digit(i));
            }
        }
    }
    if dscale > 0 {
        s.push('.');
        let mut frac = String::with_capacity(dscale + 4);
        let mut i = weight + 1;
        while frac.len() < dscale {
            let _ = write!(frac, "{:04}", digit(i));
            i += 1;
        }
        s.push_str(&frac[..dscale]);
    }
    Ok(s)
}

/// interval_us reads interval's binary form as microseconds, a month
/// counted as 30 days (as pgx and psycopg do).
pub fn interval_us(mut raw: &[u8]) -> Result<i64, BoxErr> {
    let us = read_i64(&mut raw)?;
    let days = read_i32(&mut raw)? as i64;
    let months = read_i32(&mut raw)? as i64;
    const DAY: i64 = 86_400_000_000;
    us.checked_add((days + 30 * months).checked_mul(DAY).ok_or("interval overflows")?)
        .ok_or_else(|| "interval overflows".into())
}

fn timetz(mut raw: &[u8]) -> Result<Value, BoxErr> {
    let us = read_i64(&mut raw)?;
    let west = read_i32(&mut raw)?; // seconds west of UTC
    let t = NaiveTime::from_num_seconds_from_midnight_opt((us / 1_000_000) as u32, ((us % 1_000_000) * 1000) as u32)
        .ok_or("timetz out of range")?;
    let off = FixedOffset::west_opt(west).ok_or("timetz offset out of range")?;
    Ok(Value::TimeTz(t, off))
}

/// vector reads pgvector's binary form: dim, unused, dim float4s.
pub fn vector(mut raw: &[u8]) -> Result<Vec<f32>, BoxErr> {
    let dim = read_u16(&mut raw)? as usize;
    let _unused = read_u16(&mut raw)?;
    let mut out = Vec::with_capacity(dim);
    for _ in 0..dim {
        out.push(f32::from_bits(read_i32(&mut raw)? as u32));
    }
    Ok(out)
}

fn array(member: &Type, raw: &[u8]) -> Result<Value, BoxErr> {
    let arr = pt::array_from_sql(raw)?;
    let dims: Vec<usize> = arr.dimensions().map(|d| Ok(d.len.max(0) as usize)).collect()?;
    let flat: Vec<Value> = arr
        .values()
        .map(|v| match v {
            None => Ok(Value::Null),
            Some(b) => decode(member, b).map_err(|e| -> BoxErr { e }),
        })
        .collect()
        .map_err(|e: BoxErr| e)?;
    if dims.is_empty() {
        return Ok(Value::Array(Vec::new()));
    }
    let mut it = flat.into_iter();
    Ok(nest(&dims, &mut it))
}

fn nest(dims: &[usize], it: &mut impl Iterator<Item = Value>) -> Value {
    let n = dims[0];
    if dims.len() == 1 {
        return Value::Array(it.take(n).collect());
    }
    Value::Array((0..n).map(|_| nest(&dims[1..], it)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_bytes(ndigits: i16, weight: i16, sign: u16, dscale: u16, digits: &[i16]) -> Vec<u8> {
        let mut b = Vec::new();
        for x in [ndigits as u16, weight as u16, sign, dscale] {
            b.extend_from_slice(&x.to_be_bytes());
        }
        for d in digits {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b
    }

    #[test]
    fn numeric_binary_to_exact_text() {
        // As PostgreSQL 17's numeric_send writes them.
        let cases: &[(Vec<u8>, &str)] = &[
            (numeric_bytes(2, 0, 0, 2, &[1, 1000]), "1.10"),
            (numeric_bytes(0, 0, 0, 0, &[]), "0"),
            (numeric_bytes(0, 0, 0, 3, &[]), "0.000"),
            (numeric_bytes(1, -8, 0, 30, &[100]), "0.000000000000000000000000000001"),
            (numeric_bytes(1, -2, 0, 7, &[10]), "0.0000001"),
            (numeric_bytes(2, 1, 0, 2, &[100, 0]), "1000000.00"),
            (numeric_bytes(6, 4, 0x4000, 9, &[1234, 5678, 9012, 3456, 7890, 1234]), "-12345678901234567890.123400000"),
            (numeric_bytes(10, 9, 0, 0, &[99, 9999, 9999, 9999, 9999, 9999, 9999, 9999, 9999, 9999]), "99999999999999999999999999999999999999"),
            (numeric_bytes(0, 0, 0xC000, 0, &[]), "NaN"),
            (numeric_bytes(0, 0, 0xD000, 0, &[]), "Infinity"),
            (numeric_bytes(0, 0, 0xF000, 0, &[]), "-Infinity"),
        ];
        for (raw, want) in cases {
            assert_eq!(numeric_text(raw).unwrap(), *want);
        }
        assert!(numeric_text(&[0, 1]).is_err(), "a truncated numeric is an error, not a guess");
    }

    #[test]
    fn interval_vector_and_arrays() {
        let mut b = Vec::new();
        b.extend_from_slice(&5_400_000_000i64.to_be_bytes());
        b.extend_from_slice(&1i32.to_be_bytes());
        b.extend_from_slice(&1i32.to_be_bytes());
        assert_eq!(interval_us(&b).unwrap(), 5_400_000_000 + 31 * 86_400_000_000);

        let mut v = vec![0, 2, 0, 0];
        v.extend_from_slice(&0.5f32.to_bits().to_be_bytes());
        v.extend_from_slice(&(-2.25f32).to_bits().to_be_bytes());
        assert_eq!(vector(&v).unwrap(), vec![0.5, -2.25]);

        // int4[][] {{1,2},{3,NULL}} through the driver's own encoder.
        let items = vec![
            Value::Array(vec![Value::Int(1), Value::Int(2)]),
            Value::Array(vec![Value::Int(3), Value::Null]),
        ];
        let mut buf = BytesMut::new();
        let p = Param(Value::Array(items.clone()));
        assert!(matches!(p.encode_format(&Type::INT4_ARRAY), Format::Binary));
        p.to_sql(&Type::INT4_ARRAY, &mut buf).unwrap();
        assert_eq!(decode(&Type::INT4_ARRAY, &buf).unwrap(), Value::Array(items));
    }

    #[test]
    fn parameters_pick_binary_or_text() {
        let bin = |v: Value, ty: &Type| matches!(Param(v).encode_format(ty), Format::Binary);
        assert!(bin(Value::Int(7), &Type::INT4));
        assert!(!bin(Value::Int(1 << 40), &Type::INT4), "out of range: text, so the server reports it");
        assert!(!bin(Value::Text("2000-02-29".into()), &Type::DATE));
        assert!(!bin(Value::Numeric("1.10".into()), &Type::NUMERIC));
        assert!(bin(Value::Text("x".into()), &Type::VARCHAR));
        assert!(!bin(Value::Array(vec![Value::Numeric("1".into())]), &Type::NUMERIC_ARRAY));
        assert_eq!(text_of(&Value::Bytes(vec![0, 0xff])), "\\x00ff");
        assert_eq!(
            text_of(&Value::Array(vec![Value::Text("a\"b".into()), Value::Null, Value::Array(vec![Value::Int(1)])])),
            r#"{"a\"b",NULL,{"1"}}"#
        );
        assert_eq!(text_of(&Value::Vector(vec![1.0, 0.1, -2.5])), "[1.0,0.1,-2.5]");
        assert_eq!(text_of(&Value::Float(1e308)), "1e308");
    }
}
