'use strict'
// The protocol's typed values (PROTOCOL.md §3) on the JS side.
//
// decode turns a parsed protocol value into what the drivers bind: JS
// null, booleans, strings, safe integers and Buffers as they are, and
// everything JSON or JS cannot carry exactly as a small wrapper whose
// toPostgres() (node-postgres) and toString() (postgres.js) give the text
// PostgreSQL reads. encode is the inverse for values the drivers return;
// the drivers are configured (pgTypes below) to hand back the same wrappers
// built from the server's text, so nothing passes through a lossy JS Date
// or a double.

const { Float, Int8, formatFloat } = require('./json')

class MisuseError extends Error {}

const MAX_SAFE = Number.MAX_SAFE_INTEGER
const INT8_MIN = -(2n ** 63n)
const INT8_MAX = 2n ** 63n - 1n

// Float is also a driver parameter: its text keeps -0, NaN and ±Infinity.
Float.prototype.toPostgres = function () {
  return floatText(this.value)
}
Float.prototype.toString = Float.prototype.toPostgres

function floatText(x) {
  if (Number.isNaN(x)) return 'NaN'
  if (x === Infinity) return 'Infinity'
  if (x === -Infinity) return '-Infinity'
  if (Object.is(x, -0)) return '-0'
  return String(x)
}

// Text is the base of the wrappers that are PostgreSQL text with a tag.
class Text {
  constructor(text) {
    this.text = text
  }
  toPostgres() {
    return this.text
  }
  toString() {
    return this.text
  }
}
class Numeric extends Text {}
class PgDate extends Text {}
class Timestamp extends Text {}
class TimestampTz extends Text {}
class Time extends Text {}
class Uuid extends Text {}
class Json extends Text {}
class Interval {
  constructor(us) {
    this.us = BigInt(us)
  }
  toPostgres() {
    return `${this.us} microseconds`
  }
  toString() {
    return this.toPostgres()
  }
}
class Vector {
  constructor(values) {
    this.values = values
  }
  toPostgres() {
    return '[' + this.values.map(floatText).join(',') + ']'
  }
  toString() {
    return this.toPostgres()
  }
}

const NUMERIC = /^(NaN|[+-]?Infinity|[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)$/
const INTEGER = /^[+-]?\d+$/
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const CLOCK = '(\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d{1,9}))?'
const TIMESTAMPTZ = new RegExp(`^(\\d{4})-(\\d{2})-(\\d{2})[Tt]${CLOCK}([Zz]|[+-]\\d{2}:\\d{2})$`)
const TIMESTAMP = new RegExp(`^(\\d{4})-(\\d{2})-(\\d{2})T${CLOCK}$`)
const TIME = new RegExp(`^${CLOCK}$`)
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/

function validDate(y, m, d) {
  const t = new Date(Date.UTC(2000, m - 1, d))
  t.setUTCFullYear(y)
  return m >= 1 && m <= 12 && t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d
}

function validClock(h, mi, s) {
  return h <= 23 && mi <= 59 && s <= 59
}

function micros(frac) {
  return ((frac || '') + '000000').slice(0, 6)
}

function isTagged(v) {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Float || v instanceof Int8) return false
  const keys = Object.keys(v)
  return keys.length === 1 && keys[0].startsWith('$')
}

function decodeInt8Text(s) {
  if (typeof s !== 'string' || !INTEGER.test(s)) throw new MisuseError(`malformed $int8 value ${JSON.stringify(s)}: want an integer string`)
  const b = BigInt(s)
  if (b < INT8_MIN || b > INT8_MAX) throw new MisuseError(`$int8 value ${s} is out of int8 range`)
  return new Int8(b.toString())
}

// decode: protocol value (from json.parse) → driver parameter.
function decode(v) {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v
  if (typeof v === 'number') return v
  if (v instanceof Int8) return decodeInt8Text(v.text)
  if (v instanceof Float) return v
  if (Array.isArray(v)) throw new MisuseError('a bare JSON array is not a value (arrays travel as $array, vectors as $vector)')
  if (typeof v !== 'object') throw new MisuseError(`not a protocol value: ${String(v)}`)
  const keys = Object.keys(v)
  if (keys.length !== 1 || !keys[0].startsWith('$')) {
    throw new MisuseError(`a typed value is an object with exactly one $tag, got keys ${JSON.stringify(keys)}`)
  }
  const tag = keys[0]
  const x = v[tag]
  const bad = (why) => new MisuseError(`malformed ${tag} value ${clip(x)}: ${why}`)
  if (tag === '$array') {
    if (!Array.isArray(x)) throw bad('not a JSON array')
    return x.map((e, i) => {
      try {
        return decode(e)
      } catch (err) {
        throw new MisuseError(`$array element ${i}: ${err.message}`)
      }
    })
  }
  if (tag === '$vector') {
    if (!Array.isArray(x)) throw bad('not a JSON array of numbers')
    return new Vector(
      x.map((e) => {
        if (typeof e === 'number') return e
        if (e instanceof Float) return e.value
        throw bad('not a JSON array of numbers')
      })
    )
  }
  if (typeof x !== 'string') throw bad('the body must be a JSON string')
  let m
  switch (tag) {
    case '$int8':
      return decodeInt8Text(x)
    case '$float8':
      if (x === 'NaN') return new Float(NaN)
      if (x === 'Infinity') return new Float(Infinity)
      if (x === '-Infinity') return new Float(-Infinity)
      if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(x)) throw bad('not a float')
      return new Float(Number(x))
    case '$numeric':
      if (!NUMERIC.test(x)) throw bad('not a decimal number')
      return new Numeric(plainNumeric(x))
    case '$bytes':
      if (!BASE64.test(x)) throw bad('not standard base64 with padding')
      return Buffer.from(x, 'base64')
    case '$date':
      m = DATE.exec(x)
      if (!m) throw bad('want YYYY-MM-DD')
      if (!validDate(+m[1], +m[2], +m[3])) throw bad('not a calendar date')
      return new PgDate(x)
    case '$timestamptz':
      m = TIMESTAMPTZ.exec(x)
      if (!m) throw bad('want RFC 3339 with an offset, e.g. 2026-01-02T03:04:05.123456+00:00')
      if (!validDate(+m[1], +m[2], +m[3]) || !validClock(+m[4], +m[5], +m[6])) throw bad('not a valid date and time')
      return new TimestampTz(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${micros(m[7])}${/[Zz]/.test(m[8]) ? '+00:00' : m[8]}`)
    case '$timestamp':
      m = TIMESTAMP.exec(x)
      if (!m) throw bad('want 2026-01-02T03:04:05.123456 without an offset')
      if (!validDate(+m[1], +m[2], +m[3]) || !validClock(+m[4], +m[5], +m[6])) throw bad('not a valid date and time')
      return new Timestamp(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${micros(m[7])}`)
    case '$time':
      m = TIME.exec(x)
      if (!m || !validClock(+m[1], +m[2], +m[3])) throw bad('want HH:MM:SS[.ffffff]')
      return new Time(`${m[1]}:${m[2]}:${m[3]}.${micros(m[4])}`)
    case '$interval_us':
      if (!INTEGER.test(x)) throw bad('want microseconds as an integer string')
      return new Interval(x)
    case '$uuid':
      if (!UUID.test(x)) throw bad('not a UUID')
      return new Uuid(x.toLowerCase())
    case '$json':
      try {
        JSON.parse(x)
      } catch (e) {
        throw bad(`not a JSON document (${e.message})`)
      }
      return new Json(x)
  }
  throw new MisuseError(`unknown value tag ${JSON.stringify(tag)}`)
}

// plainNumeric writes a decimal (NUMERIC matched) in plain notation with
// its scale kept, as PostgreSQL does: 1.50e1 → 15.0, 1e-7 → 0.0000001.
function plainNumeric(x) {
  if (/^[+-]?Infinity$/.test(x)) return x.replace('+', '')
  if (x === 'NaN') return x
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(x)
  const sign = m[1] === '-' ? '-' : ''
  const int = m[2] || ''
  const frac = m[3] || ''
  const exp = m[4] === undefined ? 0 : Number(m[4])
  const digits = int + frac
  const point = int.length + exp
  let body
  if (point <= 0) body = '0.' + '0'.repeat(-point) + digits
  else if (point >= digits.length) body = digits + '0'.repeat(point - digits.length)
  else body = digits.slice(0, point) + '.' + digits.slice(point)
  body = body.replace(/^0+(?=\d)/, '')
  if (body.startsWith('.')) body = '0' + body
  return /[1-9]/.test(body) ? sign + body : body
}

function clip(x) {
  let s
  try {
    s = JSON.stringify(x)
  } catch {
    s = String(x)
  }
  if (s === undefined) s = String(x)
  return s.length > 80 ? s.slice(0, 80) + '…' : s
}

function intValue(b) {
  return b >= -BigInt(MAX_SAFE) && b <= BigInt(MAX_SAFE) ? Number(b) : { $int8: b.toString() }
}

function floatValue(x) {
  if (Number.isNaN(x)) return { $float8: 'NaN' }
  if (x === Infinity) return { $float8: 'Infinity' }
  if (x === -Infinity) return { $float8: '-Infinity' }
  return new Float(x)
}

// encode: value from a driver → protocol value (for json.stringify).
function encode(v) {
  if (v === null || v === undefined) return null
  switch (typeof v) {
    case 'boolean':
    case 'string':
      return v
    case 'number':
      if (Number.isSafeInteger(v)) return Object.is(v, -0) ? 0 : v
      if (Number.isInteger(v)) return intValue(BigInt(v))
      return floatValue(v)
    case 'bigint':
      return intValue(v)
  }
  if (v instanceof Int8) return intValue(BigInt(v.text))
  if (v instanceof Float) return floatValue(v.value)
  if (v instanceof Numeric) return { $numeric: v.text }
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return { $bytes: Buffer.from(v).toString('base64') }
  if (v instanceof PgDate) return { $date: v.text }
  if (v instanceof Timestamp) return { $timestamp: v.text }
  if (v instanceof TimestampTz) return { $timestamptz: v.text }
  if (v instanceof Time) return { $time: v.text }
  if (v instanceof Interval) return { $interval_us: v.us.toString() }
  if (v instanceof Uuid) return { $uuid: v.text }
  if (v instanceof Json) return { $json: v.text }
  if (v instanceof Vector) return { $vector: v.values.map((x) => new Float(x)) }
  if (Array.isArray(v)) return { $array: v.map(encode) }
  if (v instanceof Date) {
    // Only reached if a driver parser was missed: a JS Date has milliseconds.
    return Number.isNaN(v.getTime()) ? String(v) : { $timestamptz: v.toISOString().replace('Z', '000+00:00') }
  }
  if (typeof v === 'object') return { $json: JSON.stringify(v) }
  return String(v)
}

// ------------------------------------------------------------------
// Server text → wrappers: the parsers both drivers are configured with.

function parseInt8(s) {
  return new Int8(s)
}

function parseFloatText(s) {
  return new Float(Number(s)) // Number() reads NaN, Infinity and -Infinity as the server writes them
}

function parseBool(s) {
  return s === 't' || s === 'true'
}

function parseBytea(s) {
  if (s.startsWith('\\x')) return Buffer.from(s.slice(2), 'hex')
  // bytea_output = escape: octal escapes and doubled backslashes.
  const out = []
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '\\') {
      out.push(s.charCodeAt(i))
    } else if (s[i + 1] === '\\') {
      out.push(0x5c)
      i++
    } else {
      out.push(parseInt(s.substr(i + 1, 3), 8))
      i += 3
    }
  }
  return Buffer.from(out)
}

function parseDate(s) {
  return DATE.test(s) ? new PgDate(s) : s // infinity, BC dates: as the server wrote them
}

const PG_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/
const PG_TIMESTAMPTZ = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?([+-])(\d{2})(?::(\d{2}))?(?::(\d{2}))?$/

function parseTimestamp(s) {
  const m = PG_TIMESTAMP.exec(s)
  if (!m) return s
  return new Timestamp(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${micros(m[7])}`)
}

function pad(n, w) {
  return String(n).padStart(w, '0')
}

// parseTimestamptz converts the server's text (in the session's TimeZone,
// whose offset may have seconds) to UTC with the microseconds untouched.
function parseTimestamptz(s) {
  const m = PG_TIMESTAMPTZ.exec(s)
  if (!m) return s
  const off = (m[8] === '-' ? -1 : 1) * ((+m[9]) * 3600 + (+(m[10] || 0)) * 60 + (+(m[11] || 0)))
  const t = new Date(0)
  t.setUTCFullYear(+m[1], +m[2] - 1, +m[3])
  t.setUTCHours(+m[4], +m[5], +m[6] - off, 0)
  const y = t.getUTCFullYear()
  if (y < 1 || y > 9999) return s
  return new TimestampTz(
    `${pad(y, 4)}-${pad(t.getUTCMonth() + 1, 2)}-${pad(t.getUTCDate(), 2)}T${pad(t.getUTCHours(), 2)}:${pad(t.getUTCMinutes(), 2)}:${pad(t.getUTCSeconds(), 2)}.${micros(m[7])}+00:00`
  )
}

function parseTime(s) {
  const m = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/.exec(s)
  return m ? new Time(`${m[1]}:${m[2]}:${m[3]}.${micros(m[4])}`) : s
}

// parseInterval reads IntervalStyle postgres ("1 year 2 mons 3 days
// 04:05:06.789"); a month counts 30 days and a year 365, as psycopg does.
function parseInterval(s) {
  const re = /([+-]?\d+) (years?|mons?|days?)|([+-])?(\d+):(\d{2}):(\d{2})(?:\.(\d{1,6}))?/g
  let us = 0n
  let matched = ''
  let m
  while ((m = re.exec(s)) !== null) {
    matched += m[0]
    if (m[2]) {
      const n = BigInt(m[1])
      const day = 86400000000n
      us += m[2].startsWith('y') ? n * 365n * day : m[2].startsWith('m') ? n * 30n * day : n * day
    } else {
      const t = BigInt(m[4]) * 3600000000n + BigInt(m[5]) * 60000000n + BigInt(m[6]) * 1000000n + BigInt(micros(m[7]))
      us += m[3] === '-' ? -t : t
    }
  }
  if (matched.replace(/\s/g, '') !== s.replace(/\s/g, '')) return s // another IntervalStyle: as written
  return new Interval(us)
}

// parseArray reads a PostgreSQL array literal ({1,2,NULL}, {{"a b"}},
// [0:1]={…}) with elem for each element's text.
function parseArray(s, elem) {
  let i = 0
  if (s[0] === '[') {
    i = s.indexOf('=') + 1
    if (i === 0) return s
  }
  function list() {
    if (s[i] !== '{') throw new Error('array literal: expected {')
    i++
    const out = []
    if (s[i] === '}') {
      i++
      return out
    }
    for (;;) {
      if (s[i] === '{') {
        out.push(list())
      } else if (s[i] === '"') {
        i++
        let t = ''
        while (s[i] !== '"') {
          if (s[i] === '\\') i++
          if (i >= s.length) throw new Error('array literal: unterminated quote')
          t += s[i++]
        }
        i++
        out.push(elem(t))
      } else {
        let j = i
        while (j < s.length && s[j] !== ',' && s[j] !== '}') j++
        const t = s.slice(i, j)
        i = j
        out.push(t === 'NULL' ? null : elem(t))
      }
      if (s[i] === ',') {
        i++
        continue
      }
      if (s[i] === '}') {
        i++
        return out
      }
      throw new Error('array literal: expected , or }')
    }
  }
  try {
    return list()
  } catch {
    return s
  }
}

const identity = (s) => s
const parseInt4 = (s) => parseInt(s, 10)

// Element parsers by the element type's OID.
const SCALAR = {
  16: parseBool,
  17: parseBytea,
  20: parseInt8,
  21: parseInt4,
  23: parseInt4,
  26: parseInt4,
  114: (s) => new Json(s),
  700: parseFloatText,
  701: parseFloatText,
  1082: parseDate,
  1083: parseTime,
  1114: parseTimestamp,
  1184: parseTimestamptz,
  1186: parseInterval,
  1700: (s) => new Numeric(s),
  2950: (s) => new Uuid(s),
  3802: (s) => new Json(s),
}

// Array OID → element OID (text-like elements parse as strings).
const ARRAY_OF = {
  199: 114, 1000: 16, 1001: 17, 1002: 18, 1003: 19, 1005: 21, 1007: 23, 1009: 25, 1014: 1042, 1015: 1043,
  1016: 20, 1021: 700, 1022: 701, 1028: 26, 1115: 1114, 1182: 1082, 1183: 1083, 1185: 1184, 1187: 1186,
  1231: 1700, 2951: 2950, 3807: 3802,
}

// parserFor is the text parser of a column type (identity: the text).
function parserFor(oid) {
  if (SCALAR[oid]) return SCALAR[oid]
  const elem = ARRAY_OF[oid]
  if (elem !== undefined) {
    const p = SCALAR[elem] || identity
    return (s) => parseArray(s, p)
  }
  return identity
}

// TYPE_NAMES are the server's names of the built-in types (pg_type.typname;
// arrays as _elem, as pgx names them); other OIDs are reported oid:N.
const TYPE_NAMES = {
  16: 'bool', 17: 'bytea', 18: 'char', 19: 'name', 20: 'int8', 21: 'int2', 23: 'int4', 24: 'regproc', 25: 'text', 26: 'oid',
  27: 'tid', 28: 'xid', 29: 'cid', 114: 'json', 142: 'xml', 194: 'pg_node_tree', 600: 'point', 601: 'lseg', 602: 'path',
  603: 'box', 604: 'polygon', 628: 'line', 650: 'cidr', 700: 'float4', 701: 'float8', 705: 'unknown', 718: 'circle',
  774: 'macaddr8', 790: 'money', 829: 'macaddr', 869: 'inet', 1033: 'aclitem', 1042: 'bpchar', 1043: 'varchar',
  1082: 'date', 1083: 'time', 1114: 'timestamp', 1184: 'timestamptz', 1186: 'interval', 1266: 'timetz', 1560: 'bit',
  1562: 'varbit', 1700: 'numeric', 2202: 'regprocedure', 2203: 'regoper', 2204: 'regoperator', 2205: 'regclass',
  2206: 'regtype', 2249: 'record', 2275: 'cstring', 2278: 'void', 2950: 'uuid', 3220: 'pg_lsn', 3614: 'tsvector',
  3615: 'tsquery', 3802: 'jsonb', 3904: 'int4range', 3906: 'numrange', 3908: 'tsrange', 3910: 'tstzrange',
  3912: 'daterange', 3926: 'int8range', 4072: 'jsonpath', 4089: 'regnamespace', 4096: 'regrole', 5038: 'pg_snapshot',
  199: '_json', 1000: '_bool', 1001: '_bytea', 1002: '_char', 1003: '_name', 1005: '_int2', 1007: '_int4', 1009: '_text',
  1014: '_bpchar', 1015: '_varchar', 1016: '_int8', 1021: '_float4', 1022: '_float8', 1028: '_oid', 1115: '_timestamp',
  1182: '_date', 1183: '_time', 1185: '_timestamptz', 1187: '_interval', 1231: '_numeric', 1270: '_timetz',
  2951: '_uuid', 3807: '_jsonb',
}

function typeName(oid) {
  return TYPE_NAMES[oid] || `oid:${oid}`
}

// pgTypes is node-postgres's `types` option: every column is parsed from
// the server's text by parserFor (binary results are not requested).
const pgTypes = {
  getTypeParser(oid, format) {
    if (format === 'binary') return (b) => b
    return parserFor(oid)
  },
}

module.exports = {
  decode,
  encode,
  isTagged,
  parserFor,
  parseArray,
  parseTimestamptz,
  parseInterval,
  typeName,
  pgTypes,
  floatText,
  plainNumeric,
  MisuseError,
  Float,
  Int8,
  Numeric,
  PgDate,
  Timestamp,
  TimestampTz,
  Time,
  Interval,
  Uuid,
  Json,
  Vector,
  ARRAY_OF,
  SCALAR,
}
