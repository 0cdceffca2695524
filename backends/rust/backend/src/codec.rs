//! The protocol's typed value encoding (PROTOCOL.md §3): JSON values in,
//! `Value`s for the driver, JSON values out. Malformed or unknown typed
//! values are refused, never guessed at.

use base64::Engine as _;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde_json::{Map, Number, Value as Json};

/// Largest integer a plain JSON number carries (2^53-1).
pub const MAX_SAFE: i64 = (1 << 53) - 1;

/// A value as the protocol knows it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    /// Exact decimal text, scale kept ("1.10", "NaN", "-Infinity").
    Numeric(String),
    Bytes(Vec<u8>),
    Date(NaiveDate),
    Timestamptz(DateTime<FixedOffset>),
    Timestamp(NaiveDateTime),
    /// Time of day; `TimeTz` carries a zone offset the server sent.
    Time(NaiveTime),
    TimeTz(NaiveTime, FixedOffset),
    /// Microseconds.
    Interval(i64),
    Uuid(uuid::Uuid),
    /// The JSON document's text, verbatim.
    Json(String),
    Array(Vec<Value>),
    Vector(Vec<f32>),
}

/// A value the protocol refuses (category `misuse`).
#[derive(Debug, Clone, PartialEq)]
pub struct Malformed(pub String);

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn bad<T>(msg: impl Into<String>) -> Result<T, Malformed> {
    Err(Malformed(msg.into()))
}

fn clip(j: &Json) -> String {
    let s = j.to_string();
    if s.len() > 80 {
        let mut end = 80;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    } else {
        s
    }
}

/// decode reads one protocol value.
pub fn decode(j: &Json) -> Result<Value, Malformed> {
    match j {
        Json::Null => Ok(Value::Null),
        Json::Bool(b) => Ok(Value::Bool(*b)),
        Json::String(s) => Ok(Value::Text(s.clone())),
        Json::Number(n) => decode_number(n),
        Json::Array(_) => bad(format!(
            "a bare JSON array is not a value (arrays travel as $array, vectors as $vector): {}",
            clip(j)
        )),
        Json::Object(m) => decode_tagged(m, j),
    }
}

/// number_text is a JSON number's text as sent (arbitrary_precision keeps it).
fn number_text(n: &Number) -> String {
    n.to_string()
}

fn is_integer_text(s: &str) -> bool {
    !s.contains(['.', 'e', 'E'])
}

fn decode_number(n: &Number) -> Result<Value, Malformed> {
    let s = number_text(n);
    if is_integer_text(&s) {
        match s.parse::<i64>() {
            Ok(i) => Ok(Value::Int(i)),
            Err(_) => bad(format!("integer {s} does not fit int8")),
        }
    } else {
        match s.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::Float(f)),
            _ => bad(format!("float {s} is not a finite float8")),
        }
    }
}

fn body_str<'a>(tag: &str, body: &'a Json) -> Result<&'a str, Malformed> {
    body.as_str().ok_or_else(|| Malformed(format!("{tag} value {}: the body must be a JSON string", clip(body))))
}

fn decode_tagged(m: &Map<String, Json>, whole: &Json) -> Result<Value, Malformed> {
    if m.len() != 1 {
        return bad(format!("a typed value has exactly one $tag, got {}", clip(whole)));
    }
    let (tag, body) = m.iter().next().expect("one entry");
    if !tag.starts_with('$') {
        return bad(format!("a bare JSON object is not a value: {}", clip(whole)));
    }
    let fail = |why: &str| Malformed(format!("{tag} value {}: {why}", clip(body)));
    match tag.as_str() {
        "$array" => {
            let items = body.as_array().ok_or_else(|| fail("not a JSON array"))?;
            let mut out = Vec::with_capacity(items.len());
            for (i, it) in items.iter().enumerate() {
                out.push(decode(it).map_err(|e| Malformed(format!("$array element {i}: {e}")))?);
            }
            Ok(Value::Array(out))
        }
        "$vector" => {
            let items = body.as_array().ok_or_else(|| fail("not a JSON array of numbers"))?;
            let mut out = Vec::with_capacity(items.len());
            for it in items {
                let n = match it {
                    Json::Number(n) => n,
                    _ => return Err(fail("not a JSON array of numbers")),
                };
                let f: f64 = number_text(n).parse().map_err(|_| fail("not a JSON array of numbers"))?;
                let x = f as f32;
                if !x.is_finite() {
                    return Err(fail("an element is not a finite float4"));
                }
                out.push(x);
            }
            Ok(Value::Vector(out))
        }
        "$int8" => {
            let s = body_str(tag, body)?;
            parse_int8(s).map(Value::Int).ok_or_else(|| fail("not an integer within int8"))
        }
        "$float8" => {
            let s = body_str(tag, body)?;
            parse_float8(s).map(Value::Float).ok_or_else(|| fail("want NaN, Infinity, -Infinity or a decimal float"))
        }
        "$numeric" => {
            let s = body_str(tag, body)?;
            if is_numeric_text(s) {
                Ok(Value::Numeric(s.to_string()))
            } else {
                Err(fail("not a decimal number"))
            }
        }
        "$bytes" => {
            let s = body_str(tag, body)?;
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .map(Value::Bytes)
                .map_err(|e| fail(&format!("not standard base64 with padding: {e}")))
        }
        "$date" => parse_date(body_str(tag, body)?).map(Value::Date).ok_or_else(|| fail("want a calendar date YYYY-MM-DD")),
        "$timestamptz" => parse_timestamptz(body_str(tag, body)?)
            .map(Value::Timestamptz)
            .ok_or_else(|| fail("want RFC 3339 with T and an offset, e.g. 2026-01-02T03:04:05.123456+00:00")),
        "$timestamp" => parse_timestamp(body_str(tag, body)?)
            .map(Value::Timestamp)
            .ok_or_else(|| fail("want 2026-01-02T03:04:05.123456 without an offset")),
        "$time" => parse_time(body_str(tag, body)?).map(Value::Time).ok_or_else(|| fail("want HH:MM:SS[.ffffff]")),
        "$interval_us" => {
            let s = body_str(tag, body)?;
            parse_int8(s).map(Value::Interval).ok_or_else(|| fail("want microseconds as an integer string"))
        }
        "$uuid" => parse_uuid(body_str(tag, body)?).map(Value::Uuid).ok_or_else(|| fail("want a hyphenated UUID")),
        "$json" => {
            let s = body_str(tag, body)?;
            match serde_json::from_str::<Box<serde_json::value::RawValue>>(s) {
                Ok(_) => Ok(Value::Json(s.to_string())),
                Err(e) => Err(fail(&format!("not a JSON document: {e}"))),
            }
        }
        _ => bad(format!("unknown value tag {tag}")),
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// parse_int8 reads [+-]digits within int8.
pub fn parse_int8(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if !all_digits(digits) {
        return None;
    }
    s.parse().ok()
}

fn is_decimal_float(s: &str) -> bool {
    // [+-]? (digits[.digits?] | .digits) ([eE][+-]?digits)?
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mant, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mant_ok = match mant.split_once('.') {
        Some((a, b)) => (all_digits(a) && (b.is_empty() || all_digits(b))) || (a.is_empty() && all_digits(b)),
        None => all_digits(mant),
    };
    let exp_ok = match exp {
        None => true,
        Some(e) => all_digits(e.strip_prefix(['+', '-']).unwrap_or(e)),
    };
    mant_ok && exp_ok
}

fn parse_float8(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ if is_decimal_float(s) => s.parse().ok(),
        _ => None,
    }
}

/// is_numeric_text: the decimal text PROTOCOL.md §3 allows for $numeric.
pub fn is_numeric_text(s: &str) -> bool {
    matches!(s, "NaN" | "Infinity" | "+Infinity" | "-Infinity") || is_decimal_float(s)
}

fn digits_at(s: &[u8], from: usize, n: usize) -> Option<u32> {
    let part = s.get(from..from + n)?;
    if !part.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(part).ok()?.parse().ok()
}

/// parse_date reads exactly YYYY-MM-DD, a real calendar date.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(digits_at(b, 0, 4)? as i32, digits_at(b, 5, 2)?, digits_at(b, 8, 2)?)
}

/// parse_time reads HH:MM:SS with an optional fraction of up to 9 digits.
pub fn parse_time(s: &str) -> Option<NaiveTime> {
    let b = s.as_bytes();
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let (h, m, sec) = (digits_at(b, 0, 2)?, digits_at(b, 3, 2)?, digits_at(b, 6, 2)?);
    let nanos = match &s[8..] {
        "" => 0,
        frac => {
            let f = frac.strip_prefix('.')?;
            if f.is_empty() || f.len() > 9 || !all_digits(f) {
                return None;
            }
            format!("{f:0<9}").parse().ok()?
        }
    };
    NaiveTime::from_hms_nano_opt(h, m, sec, nanos)
}

/// parse_timestamp reads YYYY-MM-DDTHH:MM:SS[.f] without an offset.
pub fn parse_timestamp(s: &str) -> Option<NaiveDateTime> {
    if s.len() < 19 || s.as_bytes()[10] != b'T' {
        return None;
    }
    Some(NaiveDateTime::new(parse_date(&s[..10])?, parse_time(&s[11..])?))
}

/// parse_timestamptz reads YYYY-MM-DDTHH:MM:SS[.f] followed by Z or ±HH:MM.
pub fn parse_timestamptz(s: &str) -> Option<DateTime<FixedOffset>> {
    if s.len() < 20 || s.as_bytes()[10] != b'T' {
        return None;
    }
    let (local, offset) = if let Some(rest) = s.strip_suffix('Z') {
        (rest, 0)
    } else {
        let b = s.as_bytes();
        let i = s.len().checked_sub(6)?;
        if !matches!(b[i], b'+' | b'-') || b[i + 3] != b':' {
            return None;
        }
        let secs = (digits_at(b, i + 1, 2)? * 3600 + digits_at(b, i + 4, 2)? * 60) as i32;
        (&s[..i], if b[i] == b'-' { -secs } else { secs })
    };
    let naive = parse_timestamp(local)?;
    let tz = FixedOffset::east_opt(offset)?;
    naive.and_local_timezone(tz).single()
}

/// parse_uuid reads the hyphenated 8-4-4-4-12 form only.
pub fn parse_uuid(s: &str) -> Option<uuid::Uuid> {
    let b = s.as_bytes();
    if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
        return None;
    }
    uuid::Uuid::parse_str(s).ok()
}

/// float_json is a float as a JSON number with a point or an exponent.
fn float_json(f: f64) -> Json {
    if f.is_nan() {
        return tagged("$float8", Json::String("NaN".into()));
    }
    if f.is_infinite() {
        let s = if f > 0.0 { "Infinity" } else { "-Infinity" };
        return tagged("$float8", Json::String(s.into()));
    }
    Json::Number(Number::from_f64(f).expect("finite"))
}

fn f32_json(x: f32) -> Json {
    // The float4's own shortest text (Debug keeps ".0" and uses exponents),
    // so 0.1f32 travels as 0.1, not as its float8 widening.
    serde_json::from_str::<Number>(&format!("{x:?}")).map(Json::Number).unwrap_or(Json::Null)
}

fn tagged(tag: &str, body: Json) -> Json {
    let mut m = Map::with_capacity(1);
    m.insert(tag.to_string(), body);
    Json::Object(m)
}

pub const TIMESTAMPTZ_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6f%:z";
pub const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6f";
pub const TIME_FORMAT: &str = "%H:%M:%S%.6f";

fn time_text(t: &NaiveTime) -> String {
    // %.6f truncates; a leap second (nanos >= 1e9) is shown as :60.
    if t.nanosecond() >= 1_000_000_000 {
        return format!("{}:60.{:06}", t.format("%H:%M"), (t.nanosecond() - 1_000_000_000) / 1000);
    }
    t.format(TIME_FORMAT).to_string()
}

/// encode writes one protocol value.
pub fn encode(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) if (-MAX_SAFE..=MAX_SAFE).contains(i) => Json::Number((*i).into()),
        Value::Int(i) => tagged("$int8", Json::String(i.to_string())),
        Value::Float(f) => float_json(*f),
        Value::Text(s) => Json::String(s.clone()),
        Value::Numeric(s) => tagged("$numeric", Json::String(s.clone())),
        Value::Bytes(b) => tagged("$bytes", Json::String(base64::engine::general_purpose::STANDARD.encode(b))),
        Value::Date(d) => tagged("$date", Json::String(d.format("%Y-%m-%d").to_string())),
        Value::Timestamptz(t) => tagged("$timestamptz", Json::String(t.format(TIMESTAMPTZ_FORMAT).to_string())),
        Value::Timestamp(t) => tagged("$timestamp", Json::String(t.format(TIMESTAMP_FORMAT).to_string())),
        Value::Time(t) => tagged("$time", Json::String(time_text(t))),
        Value::TimeTz(t, off) => tagged("$time", Json::String(format!("{}{}", time_text(t), off))),
        Value::Interval(us) => tagged("$interval_us", Json::String(us.to_string())),
        Value::Uuid(u) => tagged("$uuid", Json::String(u.hyphenated().to_string())),
        Value::Json(s) => tagged("$json", Json::String(s.clone())),
        Value::Array(items) => tagged("$array", Json::Array(items.iter().map(encode).collect())),
        Value::Vector(xs) => tagged("$vector", Json::Array(xs.iter().map(|x| f32_json(*x)).collect())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(s: &str) -> Json {
        serde_json::from_str(s).unwrap()
    }

    fn echo(s: &str) -> String {
        encode(&decode(&j(s)).unwrap()).to_string()
    }

    #[test]
    fn numbers_keep_their_kind() {
        assert_eq!(echo("42"), "42");
        assert_eq!(echo("2.0"), "2.0");
        assert_eq!(echo("-0.0"), "-0.0");
        assert_eq!(echo("5e-324"), "5e-324");
        assert_eq!(decode(&j("1e300")).unwrap(), Value::Float(1e300));
        assert_eq!(echo("9007199254740993"), r#"{"$int8":"9007199254740993"}"#);
        assert_eq!(echo(r#"{"$int8":"42"}"#), "42");
        assert_eq!(echo(r#"{"$int8":"-9223372036854775808"}"#), r#"{"$int8":"-9223372036854775808"}"#);
        assert!(decode(&j("18446744073709551616")).is_err(), "an integer beyond int8 is refused, not rounded");
    }

    #[test]
    fn typed_values_round_trip_canonically() {
        for (input, want) in [
            (r#"{"$float8":"NaN"}"#, r#"{"$float8":"NaN"}"#),
            (r#"{"$float8":"-Infinity"}"#, r#"{"$float8":"-Infinity"}"#),
            (r#"{"$numeric":"1.10"}"#, r#"{"$numeric":"1.10"}"#),
            (r#"{"$bytes":""}"#, r#"{"$bytes":""}"#),
            (r#"{"$date":"0001-01-01"}"#, r#"{"$date":"0001-01-01"}"#),
            (r#"{"$timestamptz":"2026-01-02T03:04:05.123456Z"}"#, r#"{"$timestamptz":"2026-01-02T03:04:05.123456+00:00"}"#),
            (r#"{"$timestamptz":"2026-01-02T03:04:05-08:00"}"#, r#"{"$timestamptz":"2026-01-02T03:04:05.000000-08:00"}"#),
            (r#"{"$timestamp":"2026-01-02T03:04:05"}"#, r#"{"$timestamp":"2026-01-02T03:04:05.000000"}"#),
            (r#"{"$time":"12:34:56"}"#, r#"{"$time":"12:34:56.000000"}"#),
            (r#"{"$interval_us":"-1"}"#, r#"{"$interval_us":"-1"}"#),
            (r#"{"$uuid":"A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"}"#, r#"{"$uuid":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}"#),
            (r#"{"$json":"{\"b\": 1, \"a\": [1.50, null]}"}"#, r#"{"$json":"{\"b\": 1, \"a\": [1.50, null]}"}"#),
            (r#"{"$array":[{"$array":[1,2]},null]}"#, r#"{"$array":[{"$array":[1,2]},null]}"#),
            (r#"{"$vector":[0.1,-2.25,1]}"#, r#"{"$vector":[0.1,-2.25,1.0]}"#),
        ] {
            assert_eq!(echo(input), want, "echo of {input}");
        }
    }

    #[test]
    fn malformed_values_are_refused() {
        for input in [
            r#"{"$date":"2026-02-30"}"#,
            r#"{"$date":"2026-1-2"}"#,
            r#"{"$int8":" 5"}"#,
            r#"{"$int8":"1_000"}"#,
            r#"{"$int8":5}"#,
            r#"{"$float8":"inf"}"#,
            r#"{"$numeric":"1,10"}"#,
            r#"{"$numeric":""}"#,
            r#"{"$bytes":"AP8"}"#,
            r#"{"$timestamptz":"2026-01-02 03:04:05+00:00"}"#,
            r#"{"$timestamptz":"2026-01-02T03:04:05"}"#,
            r#"{"$timestamp":"2026-01-02T03:04:05+01:00"}"#,
            r#"{"$timestamp":"2026-01-02"}"#,
            r#"{"$time":"25:00:00"}"#,
            r#"{"$uuid":"a0eebc999c0b4ef8bb6d6bb9bd380a11"}"#,
            r#"{"$json":"{nope"}"#,
            r#"{"$array":[[1]]}"#,
            r#"{"$vector":[true]}"#,
            r#"{"$vector":[1e300]}"#,
            r#"{"$nope":"x"}"#,
            r#"{"a":1}"#,
            r#"{}"#,
            r#"[1,2]"#,
        ] {
            assert!(decode(&j(input)).is_err(), "{input} must be refused");
        }
    }
}
