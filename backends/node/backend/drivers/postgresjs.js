'use strict'
// postgres.js: node:postgres. Its own pool (the `sql` function), cursors
// (query.cursor), reserved connections (sql.reserve) for held
// connections, raw SQL through sql.unsafe with $n parameters.

const postgres = require('postgres')
const values = require('../values')
const { Fail } = require('../errors')
const { version } = require('./version')
const { HeldConn } = require('./held')
const { benchQuery } = require('./bench')

// Rows per cursor round trip: the suite's own FetchMany size.
const BATCH = 1000

// postgres.js's own serializers for the types overridden below (its
// types.js), used for every value that is not one of the protocol's
// wrappers: plain values keep the driver's own behaviour.
const DEFAULT_SERIALIZE = {
  16: (x) => (x === true ? 't' : 'f'),
  17: (x) => '\\x' + Buffer.from(x).toString('hex'),
  114: (x) => JSON.stringify(x),
  3802: (x) => JSON.stringify(x),
  1082: (x) => (x instanceof Date ? x : new Date(x)).toISOString(),
  1114: (x) => (x instanceof Date ? x : new Date(x)).toISOString(),
  1184: (x) => (x instanceof Date ? x : new Date(x)).toISOString(),
}

// TYPES reads every column from the server's text into the protocol's
// exact values (no JS Date, no double for int8 or numeric, json as its
// text), and binds the protocol's wrappers as their PostgreSQL text.
const TYPES = {}
for (const oid of [16, 17, 20, 21, 23, 26, 114, 700, 701, 1082, 1083, 1114, 1184, 1186, 1700, 2950, 3802]) {
  const plain = DEFAULT_SERIALIZE[oid] || ((x) => '' + x)
  TYPES[`pgwc_${oid}`] = {
    to: oid,
    from: [oid],
    parse: values.parserFor(oid),
    serialize: (x) => (x !== null && typeof x === 'object' && typeof x.toPostgres === 'function' ? x.toPostgres() : plain(x)),
  }
}

function columnsOf(cols) {
  return (cols || []).map((c) => ({ name: c.name, type: values.typeName(c.type) }))
}

function count(res) {
  const r = Array.isArray(res) && Array.isArray(res[0]) && res[0].command !== undefined ? res[res.length - 1] : res
  return r && typeof r.count === 'number' ? r.count : -1
}

// run awaits a postgres.js query with the request's cancellation: a
// cancel or timeout has the engine send the server a CancelRequest.
async function run(engine, q, token) {
  const off = token ? token.onCancel(() => engine.cancel(q)) : () => {}
  try {
    return await q
  } finally {
    off()
  }
}

async function executemany(engine, sql, text, rows, token) {
  // postgres.js's batch path: a prepared statement, so the queries after
  // the first are pipelined on the connection; all are awaited before the
  // total is reported.
  const settled = await Promise.allSettled(rows.map((r) => run(engine, sql.unsafe(text, r, { prepare: true }), token)))
  const failed = settled.find((s) => s.status === 'rejected')
  if (failed) throw failed.reason
  let total = 0
  let counted = false
  for (const s of settled) {
    const n = count(s.value)
    if (n >= 0) {
      total += n
      counted = true
    }
  }
  return counted || rows.length === 0 ? total : -1
}

// Cursor streams with query.cursor(BATCH); opened with its first batch,
// which runs the statement.
class Cursor {
  constructor(engine, q) {
    this.engine = engine
    this.q = q
    this.it = q.cursor(BATCH)[Symbol.asyncIterator]()
    this.buf = []
    this.finished = false
    this.columns = []
  }

  async open(token) {
    await this.more(token)
    const cols = this.columns.length ? null : this.q.statement && this.q.statement.columns
    if (cols) this.columns = columnsOf(cols)
  }

  async more(token) {
    const off = token ? token.onCancel(() => this.engine.cancel(this.q)) : () => {}
    try {
      const r = await this.it.next()
      if (r.done) {
        this.finished = true
        return false
      }
      if (!this.columns.length && r.value.columns) this.columns = columnsOf(r.value.columns)
      for (const row of r.value) this.buf.push(row)
      return true
    } catch (e) {
      this.finished = true
      throw e
    } finally {
      off()
    }
  }

  async fetchMany(n, token) {
    while (this.buf.length < n && !this.finished) if (!(await this.more(token))) break
    return this.buf.splice(0, n)
  }

  async fetchAll(token) {
    while (!this.finished) await this.more(token)
    const out = this.buf
    this.buf = []
    return out
  }

  async bufferRest(token) {
    while (!this.finished) await this.more(token)
  }

  async close() {
    this.buf = []
    if (this.finished) return
    this.finished = true
    // The iterator's return() has the connection close the portal; in
    // cursor mode the query's own promise never settles, so nothing here
    // waits for it: postgres.js queues what comes next on that connection.
    this.it.return()
  }
}

// Conn is a reserved connection (sql.reserve). postgres.js has begin() only
// on the pool, on a connection of its choosing; on a reserved connection
// a transaction is BEGIN … COMMIT, which postgres.js allows there.
class Conn extends HeldConn {
  constructor(engine, reserved, release) {
    super(release)
    this.engine = engine
    this.sql = reserved
  }
  async statement(text, token) {
    await this.settle(token)
    await this.engine.quiet()
    return run(this.engine, this.sql.unsafe(text), token)
  }
  async execute(text, params, token) {
    await this.settle(token)
    await this.engine.quiet()
    return count(await run(this.engine, this.sql.unsafe(text, params).values(), token))
  }
  async executemany(text, rows, token) {
    await this.settle(token)
    await this.engine.quiet()
    return executemany(this.engine, this.sql, text, rows, token)
  }
  async query(text, params, token) {
    await this.settle(token)
    await this.engine.quiet()
    const cur = new Cursor(this.engine, this.sql.unsafe(text, params).values())
    await cur.open(token)
    this.cursor = cur
    return cur
  }
}

class Engine {
  constructor(dsn, poolMax, app) {
    let u
    try {
      u = new URL(dsn)
    } catch {
      throw new Fail('misuse', 'dsn is not a URL (want postgres://user:password@host:port/db)')
    }
    if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new Fail('misuse', `DSN scheme ${JSON.stringify(u.protocol)}: want postgres://`)
    this.sql = postgres(dsn, {
      max: poolMax || 10,
      connection: app ? { application_name: app } : {},
      types: TYPES,
      onnotice: () => {},
    })
    this.reserved = new Set()
    this.ended = false
    this.cancelling = null
  }

  // cancel sends the server a CancelRequest for q (postgres.js's
  // query.cancel). PostgreSQL cancels whatever the backend runs when the
  // request arrives; postgres.js gives no way to retire that connection,
  // so until the request has been delivered (or 5 s passed) the engine
  // starts nothing new (quiet): a late cancel must not hit the next
  // statement on that connection.
  cancel(q) {
    const sent = Promise.resolve()
      .then(() => q.cancel())
      .catch(() => {})
    const bounded = Promise.race([sent, new Promise((r) => setTimeout(r, 5000).unref())])
    const all = Promise.all([this.cancelling, bounded]).then(() => {
      if (this.cancelling === all) this.cancelling = null
    })
    this.cancelling = all
  }

  quiet() {
    return this.cancelling
  }

  async reserve(token) {
    if (this.ended) throw new Fail('misuse', 'the engine is closed')
    const r = await this.sql.reserve()
    const lease = { sql: r, released: false }
    this.reserved.add(lease)
    const release = () => {
      if (lease.released) return
      lease.released = true
      this.reserved.delete(lease)
      r.release()
    }
    if (token && token.cancelled) {
      release()
      token.check()
    }
    return { sql: r, release }
  }

  async execute(text, params, token) {
    if (this.cancelling) await this.cancelling
    return count(await run(this, this.sql.unsafe(text, params).values(), token))
  }

  // executemany runs on the pool itself: postgres.js pipelines queued
  // queries onto a pool connection, but on a reserved one it sends the
  // next only after the last is answered.
  async executemany(text, rows, token) {
    if (this.cancelling) await this.cancelling
    return executemany(this, this.sql, text, rows, token)
  }

  async query(text, params, token) {
    if (this.cancelling) await this.cancelling
    const cur = new Cursor(this, this.sql.unsafe(text, params).values())
    await cur.open(token)
    return cur
  }

  async acquire(token) {
    const { sql, release } = await this.reserve(token)
    return new Conn(this, sql, release)
  }

  async introspect(token) {
    // postgres.js exposes no classes: its pool is the `sql` function
    // (Sql) over Connection objects it makes itself.
    const { release } = await this.reserve(token)
    release()
    return { dialect: '', is_async: true, pool_class: 'postgres.Sql', connection_class: 'postgres.Connection' }
  }

  // bench runs exactly what a `query` request on the engine runs.
  bench(text, n, token) {
    return benchQuery(this, text, n, token)
  }

  async webSession(fn) {
    const { sql, release } = await this.reserve(null)
    try {
      return await fn({ query: (text, params) => sql.unsafe(text, params).values() })
    } finally {
      release()
    }
  }

  webapp(searchSQL, sleepSQL, ports) {
    return require('../webapp').start(this, searchSQL, sleepSQL, ports)
  }

  async close() {
    if (this.ended) return
    this.ended = true
    for (const lease of [...this.reserved]) {
      lease.released = true
      lease.sql.release()
    }
    this.reserved.clear()
    await this.sql.end({ timeout: 2 })
  }
}

const VERSION = version('postgres')

const ADAPTERS = {
  postgres: {
    name: 'postgres',
    driverVersion: () => `postgres ${VERSION}`,
    async open({ dsn, poolMax, app }) {
      return new Engine(dsn, poolMax, app)
    },
  },
}

module.exports = { ADAPTERS, TYPES }
