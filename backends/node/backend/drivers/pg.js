'use strict'
// node-postgres: node:pg (pg.Pool, pg-cursor cursors) and node:pg-raw (one
// bare pg.Client, no pool: the FR-013 baseline).

const pg = require('pg')
const Cursor = require('pg-cursor')
const values = require('../values')
const { Fail } = require('../errors')
const { version } = require('./version')
const { HeldConn } = require('./held')
const { benchQuery } = require('./bench')

// First batch a cursor reads when it is opened (which runs the statement
// and surfaces its error at `query`), and the least it reads after: the
// suite's own FetchMany size, so a batch is one round trip.
const PREFETCH = 1000
const BATCH = 1000

// clientConfig is the pg.Client configuration of an engine: the URL as
// given, the engine's application_name, every column read from the
// server's text into the protocol's exact values (values.pgTypes), and
// libpq's connect_timeout from the URL (pg reads it only for pg-native).
function clientConfig(dsn, app) {
  let u
  try {
    u = new URL(dsn)
  } catch {
    throw new Fail('misuse', 'dsn is not a URL (want postgres://user:password@host:port/db)')
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new Fail('misuse', `DSN scheme ${JSON.stringify(u.protocol)}: want postgres://`)
  const cfg = { connectionString: dsn, types: values.pgTypes }
  if (app) cfg.application_name = app
  const ct = Number(u.searchParams.get('connect_timeout'))
  if (ct > 0) cfg.connectionTimeoutMillis = ct * 1000
  return cfg
}

// cancelBackend asks the server to cancel what client runs now (a
// CancelRequest on a connection of its own), best effort.
function cancelBackend(client) {
  if (client.processID === null || client.processID === undefined) return
  const con = new pg.Connection()
  const timer = setTimeout(() => con.stream.destroy(), 5000)
  timer.unref()
  con.on('error', () => {})
  con.stream.on('close', () => clearTimeout(timer))
  con.on('connect', () => con.cancel(client.processID, client.secretKey))
  con.connect(client.port, client.host)
}

function columnsOf(fields) {
  return (fields || []).map((f) => ({ name: f.name, type: values.typeName(f.dataTypeID) }))
}

// serverError: the server reported it, so the connection is still good.
function serverError(e) {
  return e instanceof pg.DatabaseError || (e && typeof e.severity === 'string' && /^[0-9A-Z]{5}$/.test(e.code || ''))
}

// run is client.query with the request's cancellation: a cancel or a
// timeout sends the server a CancelRequest for the running statement.
async function run(client, sql, params, token) {
  const off = token ? token.onCancel(() => cancelBackend(client)) : () => {}
  try {
    return await client.query({ text: sql, values: params, rowMode: 'array', types: values.pgTypes })
  } finally {
    off()
  }
}

// rowcount is what the driver reports: the last statement's count, -1
// for a statement without one.
function rowcount(res) {
  const r = Array.isArray(res) ? res[res.length - 1] : res
  return r && typeof r.rowCount === 'number' ? r.rowCount : -1
}

// executemany is node-postgres's batch path: pipeline mode (the client
// writes every statement without waiting for the one before), switched on
// for the batch on a client that is idle (pg-cursor, used by `query`, is
// refused in pipeline mode, so it is not on for good).
async function executemany(client, sql, rows, token) {
  if (!rows.length) return 0
  const was = client.pipeline
  client.pipeline = true
  // pg writes every protocol message with a write of its own; corked, the
  // whole pipeline leaves in one write instead of racing the server.
  const stream = client.connection && client.connection.stream
  if (stream && typeof stream.cork === 'function') stream.cork()
  let settled
  try {
    const pending = rows.map((r) => run(client, sql, r, token))
    if (stream && typeof stream.uncork === 'function') stream.uncork()
    settled = await Promise.allSettled(pending)
  } finally {
    client.pipeline = was
  }
  const failed = settled.find((x) => x.status === 'rejected')
  if (failed) throw failed.reason
  let total = 0
  let counted = false
  for (const x of settled) {
    const n = rowcount(x.value)
    if (n >= 0) {
      total += n
      counted = true
    }
  }
  return counted ? total : -1
}

// PgCursor streams a result with pg-cursor on a client: opened with a
// first batch, then read in batches as fetched. done(err) is called once
// the cursor no longer needs the client (end, error or close).
class PgCursor {
  constructor(client, done, cancelled) {
    this.client = client
    this.onDone = done
    this.cancelled = cancelled || (() => {})
    this.buf = []
    this.finished = false
    this.error = null
    this.columns = []
  }

  async open(sql, params, token) {
    this.cursor = this.client.query(new Cursor(sql, params, { rowMode: 'array', types: values.pgTypes }))
    this.buf = await this.read(PREFETCH, token)
    this.columns = columnsOf(this.cursor._result.fields)
  }

  finish(err) {
    if (this.finished) return
    this.finished = true
    const done = this.onDone
    this.onDone = null
    if (done) done(err)
  }

  async read(n, token) {
    if (this.error) throw this.error
    if (this.finished) return []
    const off = token
      ? token.onCancel(() => {
          this.cancelled()
          cancelBackend(this.client)
        })
      : () => {}
    try {
      const rows = await this.cursor.read(n)
      if (this.cursor.state === 'done') this.finish()
      return rows
    } catch (e) {
      this.error = e
      this.finish(e)
      throw e
    } finally {
      off()
    }
  }

  async fetchMany(n, token) {
    while (this.buf.length < n && !this.finished) {
      const rows = await this.read(Math.max(n - this.buf.length, BATCH), token)
      if (!rows.length) break
      for (const r of rows) this.buf.push(r)
    }
    return this.buf.splice(0, n)
  }

  async fetchAll(token) {
    if (!this.finished) {
      // Execute with no row limit: the rest in one go.
      const rows = await this.read(0, token)
      for (const r of rows) this.buf.push(r)
    }
    const out = this.buf
    this.buf = []
    return out
  }

  // bufferRest reads what is left so the client is free for another
  // statement, and the cursor still gives those rows (DB-API semantics).
  async bufferRest(token) {
    if (!this.finished && !this.error) {
      const rows = await this.read(0, token)
      for (const r of rows) this.buf.push(r)
    }
  }

  async close() {
    this.buf = []
    if (this.finished) return
    try {
      await this.cursor.close()
      this.finish()
    } catch (e) {
      this.finish(e)
    }
  }
}

// Buffered is a cursor over rows already read (pg-raw: client.query).
class Buffered {
  constructor(res) {
    const r = Array.isArray(res) ? res[res.length - 1] : res
    this.columns = columnsOf(r.fields)
    this.rows = r.rows || []
  }
  async fetchMany(n) {
    return this.rows.splice(0, n)
  }
  async fetchAll() {
    const out = this.rows
    this.rows = []
    return out
  }
  async close() {
    this.rows = []
  }
}

// Conn is a client held out of the pool (or pg-raw's client, held).
class Conn extends HeldConn {
  constructor(client, streaming, release) {
    super(release)
    this.client = client
    this.streaming = streaming
  }
  async statement(sql, token) {
    await this.settle(token)
    return run(this.client, sql, [], token)
  }
  async execute(sql, params, token) {
    await this.settle(token)
    return rowcount(await run(this.client, sql, params, token))
  }
  async executemany(sql, rows, token) {
    await this.settle(token)
    return executemany(this.client, sql, rows, token)
  }
  async query(sql, params, token) {
    await this.settle(token)
    if (!this.streaming) return new Buffered(await run(this.client, sql, params, token))
    const cur = new PgCursor(this.client, null)
    await cur.open(sql, params, token)
    this.cursor = cur
    return cur
  }
}

// Engine is what both adapters share: statements borrow a client per call
// (lease), connections hold one until release. Subclasses say where
// clients come from (borrow/return) and how a query reads its rows.
class Engine {
  constructor() {
    this.lent = new Set()
    this.ended = false
  }

  // borrow checks a client out; cancelled meanwhile, it goes straight back.
  async borrow(token) {
    if (this.ended) throw new Fail('misuse', 'the engine is closed')
    const client = await this.checkout()
    const lease = { client, broken: null, cancelled: false, released: false }
    lease.onError = (e) => (lease.broken = e)
    client.on('error', lease.onError)
    this.lent.add(lease)
    if (token && token.cancelled) {
      this.giveBack(lease)
      token.check()
    }
    return lease
  }

  // giveBack returns a client; one that lost its connection or had a
  // statement cancelled (a late CancelRequest could hit the next
  // statement) is destroyed instead.
  giveBack(lease, err) {
    if (lease.released) return
    lease.released = true
    this.lent.delete(lease)
    lease.client.removeListener('error', lease.onError)
    const destroy = lease.broken || lease.cancelled || (err && !serverError(err))
    this.checkin(lease.client, destroy ? lease.broken || err || new Error('statement cancelled') : null)
  }

  async withClient(token, fn) {
    const lease = await this.borrow(token)
    const off = token ? token.onCancel(() => (lease.cancelled = true)) : () => {}
    try {
      const r = await fn(lease.client)
      off()
      this.giveBack(lease)
      return r
    } catch (e) {
      off()
      this.giveBack(lease, e)
      throw e
    }
  }

  execute(sql, params, token) {
    return this.withClient(token, async (c) => rowcount(await run(c, sql, params, token)))
  }

  executemany(sql, rows, token) {
    return this.withClient(token, (c) => executemany(c, sql, rows, token))
  }

  async acquire(token) {
    const lease = await this.borrow(token)
    return new Conn(lease.client, this.streaming, () => this.giveBack(lease))
  }

  // bench runs exactly what a `query` request on the engine runs.
  bench(sql, n, token) {
    return benchQuery(this, sql, n, token)
  }

  // webSession is one request's session for the web app: a client checked
  // out for the request and returned after it.
  webSession(fn) {
    return this.withClient(null, (c) => fn({ query: async (sql, params) => (await run(c, sql, params, null)).rows }))
  }

  webapp(searchSQL, sleepSQL, ports) {
    return require('../webapp').start(this, searchSQL, sleepSQL, ports)
  }

  async close() {
    if (this.ended) return
    this.ended = true
    // Clients still lent out (held connections, open cursors) end first.
    for (const lease of [...this.lent]) this.giveBack(lease, lease.broken || new Error('engine closed'))
    await this.shutdown()
  }
}

// PoolEngine is node:pg: a pg.Pool (pg-pool); a query streams through
// pg-cursor and keeps its client until the cursor ends or is closed.
class PoolEngine extends Engine {
  constructor(cfg, poolMax) {
    super()
    this.streaming = true
    this.pool = new pg.Pool({ ...cfg, max: poolMax || 10 })
    // An idle client the server closed: pg-pool drops it and reports here.
    this.pool.on('error', () => {})
  }

  checkout() {
    return this.pool.connect()
  }

  checkin(client, destroy) {
    client.release(destroy || undefined)
  }

  async query(sql, params, token) {
    const lease = await this.borrow(token)
    const cur = new PgCursor(lease.client, (err) => this.giveBack(lease, err), () => (lease.cancelled = true))
    await cur.open(sql, params, token)
    return cur
  }

  async introspect(token) {
    return this.withClient(token, async (c) => ({
      dialect: '',
      is_async: true,
      pool_class: this.pool instanceof pg.Pool ? 'pg.Pool' : this.pool.constructor.name,
      connection_class: c instanceof pg.Client ? 'pg.Client' : c.constructor.name,
    }))
  }

  shutdown() {
    return this.pool.end()
  }
}

// RawEngine is node:pg-raw, the FR-013 baseline: bare pg.Client objects
// and client.query, no pg-pool and no cursor. A caller takes an idle
// client or connects a new one (at most pool_max), so concurrent callers
// each have their own, and puts it back after; an idle engine runs every
// statement on the same client.
class RawEngine extends Engine {
  constructor(cfg, poolMax) {
    super()
    this.streaming = false
    this.cfg = cfg
    this.max = poolMax || 10
    this.idle = []
    this.open = 0
    this.waiters = []
  }

  async checkout() {
    for (;;) {
      if (this.ended) throw new Fail('misuse', 'the engine is closed')
      const c = this.idle.pop()
      if (c && c.broken) {
        this.open--
        c.end().catch(() => {})
        continue
      }
      if (c) return c
      if (this.open < this.max) {
        this.open++
        const client = new pg.Client(this.cfg)
        // Errors of an idle client (the server closed it): it is dropped
        // when next checked in or found broken.
        client.on('error', (e) => (client.broken = e))
        try {
          await client.connect()
        } catch (e) {
          this.open--
          this.wake()
          throw e
        }
        return client
      }
      await new Promise((r) => this.waiters.push(r))
    }
  }

  checkin(client, destroy) {
    if (destroy || client.broken || this.ended) {
      this.open--
      client.end().catch(() => {})
    } else {
      this.idle.push(client)
    }
    this.wake()
  }

  wake() {
    const w = this.waiters.shift()
    if (w) w()
  }

  query(sql, params, token) {
    return this.withClient(token, async (c) => new Buffered(await run(c, sql, params, token)))
  }

  async introspect() {
    return { dialect: '', is_async: true, pool_class: '(none: bare pg.Client objects, no pg-pool)', connection_class: 'pg.Client' }
  }

  async shutdown() {
    for (const w of this.waiters.splice(0)) w()
    await Promise.all(this.idle.splice(0).map((c) => c.end().catch(() => {})))
  }
}

const PG_VERSION = version('pg')
const CURSOR_VERSION = version('pg-cursor')
const POOL_VERSION = version('pg-pool')

const ADAPTERS = {
  pg: {
    name: 'pg',
    driverVersion: () => `pg ${PG_VERSION}, pg-pool ${POOL_VERSION}, pg-cursor ${CURSOR_VERSION}`,
    async open({ dsn, poolMax, app }) {
      return new PoolEngine(clientConfig(dsn, app), poolMax)
    },
  },
  'pg-raw': {
    name: 'pg-raw',
    driverVersion: () => `pg ${PG_VERSION}`,
    async open({ dsn, poolMax, app }) {
      return new RawEngine(clientConfig(dsn, app), poolMax)
    },
  },
}

module.exports = { ADAPTERS, PgCursor, clientConfig, cancelBackend }
