'use strict'
// The methods' params (PROTOCOL.md §2: params are checked before anything
// else happens). A transcription of protocol/messages.go, the schema: every
// key is required unless optional, a required key that is null is refused
// unless it is a raw protocol value (SQL NULL) or nullable, an optional key
// that is null counts as absent, and unknown keys are ignored.

const { Float, Int8 } = require('./json')

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

class ParamError extends Error {}

// Field kinds: how a JSON value must look.
const K = {
  string: (v) => typeof v === 'string',
  bool: (v) => typeof v === 'boolean',
  // A Go int: an integer written without point or exponent, in int64.
  int: (v) => typeof v === 'number' || (v instanceof Int8 && BigInt(v.text) >= INT64_MIN && BigInt(v.text) <= INT64_MAX),
  uint: (v) => (typeof v === 'number' && v >= 0) || (v instanceof Int8 && BigInt(v.text) >= 0n && BigInt(v.text) <= 2n ** 64n - 1n),
  float: (v) => typeof v === 'number' || v instanceof Float || v instanceof Int8,
  raw: () => true,
  object: (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Float) && !(v instanceof Int8),
}

function field(kind, opts = {}) {
  return { kind, ...opts }
}
const opt = (kind) => field(kind, { optional: true })
const listOf = (item, opts = {}) => field('list', { item, ...opts })

const ORM_ROW = { id: field('int'), name: field('string'), score: field('float', { nullable: true }) }
const ORM_OP = { op: field('string'), id: opt('int'), row: field('struct', { optional: true, fields: ORM_ROW }), set: opt('object') }

const ENGINE = { engine: field('string') }
const CURSOR = { cursor: field('string') }
const CONN = { conn: field('string') }
const TX = { tx: field('string') }
const STATEMENT = { on: field('string'), sql: field('string'), params: listOf(field('raw'), { optional: true }) }
const PROBE = { adapter: field('string'), dsn: opt('string'), profile: opt('string') }

const SCHEMAS = {
  hello: { protocol: field('int'), client: opt('string') },
  describe: {},
  echo: { value: field('raw') },
  cancel: { request: field('uint') },
  'engine.open': { adapter: field('string'), dsn: field('string'), pool_max: opt('int'), application_name: opt('string'), profile: opt('string') },
  'engine.close': ENGINE,
  'engine.introspect': ENGINE,
  'engine.bench': { engine: field('string'), sql: field('string'), n: field('int') },
  execute: STATEMENT,
  executemany: { on: field('string'), sql: field('string'), rows: listOf(listOf(field('raw'))) },
  query: STATEMENT,
  'cursor.fetchone': CURSOR,
  'cursor.fetchmany': { cursor: field('string'), n: field('int') },
  'cursor.fetchall': CURSOR,
  'cursor.close': CURSOR,
  'conn.acquire': ENGINE,
  'conn.release': CONN,
  'tx.begin': CONN,
  'tx.commit': TX,
  'tx.rollback': TX,
  'webapp.start': { engine: field('string'), search_sql: opt('string'), sleep_sql: opt('string'), ports: listOf(field('int'), { optional: true }) },
  'orm.run': { engine: field('string'), table: field('string'), ops: listOf(field('struct', { fields: ORM_OP })) },
  'probe.sync_misuse': PROBE,
  'probe.missing_async_dependency': PROBE,
  'process.memory': { reset_peak: opt('bool') },
}

function describeKind(f) {
  if (f.kind === 'list') return `a list of ${describeKind(f.item)}s`
  if (f.kind === 'struct') return 'an object'
  return { string: 'string', bool: 'boolean', int: 'integer', uint: 'non-negative integer', float: 'number', raw: 'value', object: 'object' }[f.kind]
}

function checkValue(f, v, where) {
  if (v === null) {
    if (f.kind === 'raw' || f.nullable) return
    throw new ParamError(`parameter ${where} must not be null`)
  }
  if (f.kind === 'list') {
    if (!Array.isArray(v)) throw new ParamError(`parameter ${where} must be ${describeKind(f)}`)
    v.forEach((x, i) => checkValue(f.item, x, `${where}[${i}]`))
    return
  }
  if (f.kind === 'struct') {
    if (!K.object(v)) throw new ParamError(`parameter ${where} must be an object`)
    checkFields(f.fields, v, ` in ${where}`)
    return
  }
  if (!K[f.kind](v)) throw new ParamError(`parameter ${where} must be a ${describeKind(f)}`)
}

function checkFields(fields, obj, where) {
  for (const [name, f] of Object.entries(fields)) {
    if (!Object.prototype.hasOwnProperty.call(obj, name)) {
      if (!f.optional) throw new ParamError(`missing parameter ${JSON.stringify(name)}${where}`)
      continue
    }
    // An optional key that is null counts as absent: the Go client sends
    // an empty optional list as null (QueryParams.Params).
    if (obj[name] === null && f.optional && f.kind !== 'raw') continue
    checkValue(f, obj[name], JSON.stringify(name) + where)
  }
}

// check validates params of a known method; it throws ParamError.
function check(method, params) {
  checkFields(SCHEMAS[method], params, '')
}

// num reads a checked int field as a JS number.
function num(v) {
  return v instanceof Int8 ? Number(v.text) : v
}

module.exports = { check, num, isObject: K.object, SCHEMAS, ParamError }
