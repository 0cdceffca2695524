'use strict'
// One protocol connection (PROTOCOL.md): framing, requests answered in any
// order, per-object ordering, timeouts and cancel, and the objects
// (engines, connections, transactions, cursors) that belong to it.

const fs = require('fs')
const json = require('./json')
const values = require('./values')
const schema = require('./schema')
const { Fail, classify } = require('./errors')

const PROTOCOL_VERSION = 1
const MAX_MESSAGE = 16 * 1024 * 1024 // newline included

// Token is one request's cancellation: a timeout or a cancel request sets
// it; a driver registers hooks (onCancel) that stop its server statement.
class Token {
  constructor() {
    this.cancelled = false
    this.reason = ''
    this.hooks = new Set()
  }
  onCancel(fn) {
    if (this.cancelled) {
      fn()
      return () => {}
    }
    this.hooks.add(fn)
    return () => this.hooks.delete(fn)
  }
  cancel(reason) {
    if (this.cancelled) return
    this.cancelled = true
    this.reason = reason
    for (const fn of this.hooks) {
      try {
        fn()
      } catch {
        // best effort: the request is answered already
      }
    }
    this.hooks.clear()
  }
  check() {
    if (this.cancelled) throw new Fail('timeout', this.reason)
  }
}

// Lock runs functions one at a time in the order they were queued: the
// protocol's per-object ordering. A function whose request was cancelled
// while it waited is skipped.
class Lock {
  constructor() {
    this.tail = Promise.resolve()
  }
  run(fn, token) {
    const prev = this.tail
    let release
    this.tail = new Promise((r) => (release = r))
    return prev.then(async () => {
      try {
        if (token) token.check()
        return await fn()
      } finally {
        release()
      }
    })
  }
}

const KIND_PREFIX = { engine: 'e', conn: 'c', tx: 't', cursor: 'k' }

// params decodes a statement's protocol values (already checked to be a
// list) into driver parameters.
function params(list) {
  return (list || []).map((x, i) => {
    try {
      return values.decode(x)
    } catch (e) {
      throw new Fail('misuse', `$${i + 1}: ${e.message}`)
    }
  })
}

function encodeRows(rows) {
  return rows.map((r) => r.map(values.encode))
}

// readMemory reads this process's resident set now and its peak from
// /proc/self/status; resetPeak then starts a new peak period (clear_refs 5).
function readMemory(resetPeak) {
  const status = fs.readFileSync('/proc/self/status', 'utf8')
  const kb = (name) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)
    if (!m) throw new Error(`/proc/self/status has no ${name}`)
    return Number(m[1]) * 1024
  }
  const out = { rss_bytes: kb('VmRSS'), peak_rss_bytes: kb('VmHWM') }
  if (resetPeak) fs.writeFileSync('/proc/self/clear_refs', '5')
  return out
}

class Session {
  // write sends one line (the caller adds nothing); adapters maps an
  // adapter name to its driver (drivers.js); manifest is manifest.json.
  constructor({ write, close, adapters, manifest }) {
    this.write = write
    this.closeTransport = close
    this.adapters = adapters
    this.manifest = manifest
    this.objects = new Map()
    this.inflight = new Map()
    this.seq = 0
    this.hello = false
    this.closed = false
  }

  send(msg) {
    if (this.closed) return
    let line = json.stringify(msg)
    if (Buffer.byteLength(line) + 1 > MAX_MESSAGE) {
      line = json.stringify({
        id: msg.id,
        error: { category: 'protocol', sqlstate: '', message: `response of ${Buffer.byteLength(line) + 1} bytes exceeds the ${MAX_MESSAGE}-byte limit` },
      })
    }
    this.write(line + '\n')
  }

  put(kind, obj, extra = {}) {
    const id = KIND_PREFIX[kind] + ++this.seq
    this.objects.set(id, { kind, obj, lock: extra.lock || new Lock(), ...extra })
    return id
  }

  get(id, ...kinds) {
    const o = typeof id === 'string' ? this.objects.get(id) : undefined
    if (!o || !kinds.includes(o.kind)) throw new Fail('misuse', `no open ${kinds.join(' or ')} with id ${JSON.stringify(id)}`)
    return o
  }

  // onQuerier runs fn on the querier named by `on`: an engine at once (it
  // borrows a pooled connection per call), a connection or transaction
  // after the requests queued on it before.
  onQuerier(on, token, fn) {
    const o = this.get(on, 'engine', 'conn', 'tx')
    if (o.kind === 'engine') return fn(o.obj, o)
    return o.lock.run(() => fn(o.obj, o), token)
  }

  // handleLine answers one request line (without its newline).
  handleLine(line) {
    let req
    try {
      req = json.parse(line)
    } catch (e) {
      this.send({ id: null, error: { category: 'protocol', sqlstate: '', message: `malformed request: ${e.message}` } })
      return
    }
    if (req === null || typeof req !== 'object' || Array.isArray(req) || req instanceof json.Float || req instanceof json.Int8) {
      this.send({ id: null, error: { category: 'protocol', sqlstate: '', message: 'malformed request: a request is a JSON object' } })
      return
    }
    const id = req.id
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
      this.send({ id: null, error: { category: 'protocol', sqlstate: '', message: 'malformed request: its id must be an integer from 0 to 2^53-1' } })
      return
    }
    if (this.inflight.has(id)) {
      this.send({ id, error: { category: 'protocol', sqlstate: '', message: `request id ${id} is already in flight` } })
      return
    }
    const token = new Token()
    const entry = { token, answered: false, timer: null }
    this.inflight.set(id, entry)
    const answer = (msg) => {
      if (entry.answered) return
      entry.answered = true
      if (entry.timer) clearTimeout(entry.timer)
      this.inflight.delete(id)
      this.send(msg)
    }
    entry.answer = answer
    const fail = (e) => answer({ id, error: classify(e) })
    let result
    try {
      const method = req.method
      if (method === undefined) throw new Fail('protocol', 'request without a method')
      if (typeof method !== 'string') throw new Fail('protocol', 'the method must be a string')
      const handler = Object.prototype.hasOwnProperty.call(METHODS, method) ? METHODS[method] : undefined
      if (!handler) throw new Fail('protocol', `unknown method ${JSON.stringify(method)}`)
      if (!this.hello && method !== 'hello') throw new Fail('protocol', 'the first request must be hello')
      const p = req.params === undefined || req.params === null ? {} : req.params
      if (!schema.isObject(p)) throw new Fail('protocol', 'params must be a JSON object')
      const t = req.timeout_ms
      if (t !== undefined && t !== null && !(typeof t === 'number' && t >= 0)) {
        throw new Fail('protocol', 'timeout_ms must be a non-negative integer')
      }
      try {
        schema.check(method, p)
      } catch (e) {
        throw new Fail('protocol', `${method}: ${e.message}`)
      }
      if (typeof t === 'number' && t > 0) {
        entry.timer = setTimeout(() => {
          token.cancel(`timeout: the request did not finish within its ${t} ms`)
          answer({ id, error: { category: 'timeout', sqlstate: '', message: token.reason } })
        }, t)
      }
      // The handler's synchronous part (object look-ups, queueing on
      // locks) runs now, in arrival order.
      result = handler(this, p, token)
    } catch (e) {
      fail(e)
      return
    }
    Promise.resolve(result).then((r) => answer({ id, result: r || {} }), fail)
  }

  // cancelRequest answers request n with category timeout and stops it.
  cancelRequest(n) {
    const entry = this.inflight.get(n)
    if (!entry) return false
    entry.token.cancel('cancelled by the client')
    entry.answer({ id: n, error: { category: 'timeout', sqlstate: '', message: 'cancelled by the client' } })
    return true
  }

  // dropChildren forgets every object opened through engine id (its
  // connections, transactions and cursors); the engine's close releases
  // what they held.
  dropChildren(engineID) {
    for (const [id, o] of this.objects) {
      if (o.engine === engineID) this.objects.delete(id)
    }
  }

  async closeEngine(id, o) {
    this.objects.delete(id)
    this.dropChildren(id)
    if (o.stopWeb) await o.stopWeb().catch(() => {})
    await o.obj.close()
  }

  // close ends every object of this connection (the transport is gone).
  async close() {
    if (this.closed) return
    this.closed = true
    for (const entry of this.inflight.values()) entry.token.cancel('the client closed the connection')
    this.inflight.clear()
    const engines = [...this.objects].filter(([, o]) => o.kind === 'engine')
    await Promise.all(engines.map(([id, o]) => this.closeEngine(id, o).catch(() => {})))
    this.objects.clear()
  }
}

function adapterOf(s, p) {
  const a = Object.prototype.hasOwnProperty.call(s.adapters, p.adapter) ? s.adapters[p.adapter] : undefined
  if (!a) throw new Fail('misuse', `unknown adapter ${JSON.stringify(p.adapter)} (this backend serves ${Object.keys(s.adapters).join(', ')})`)
  return a
}

// created hands a new object to the client, unless its request was
// answered meanwhile (timeout, cancel): then nobody will ever name it, so
// it is closed at once.
async function created(s, token, kind, obj, undo, extra) {
  if (token.cancelled || s.closed) {
    await Promise.resolve()
      .then(undo)
      .catch(() => {})
    throw new Fail('timeout', token.reason || 'the connection closed')
  }
  return s.put(kind, obj, extra)
}

// Every method gets params already checked against its schema (schema.js).
const METHODS = {
  hello(s, p) {
    if (p.protocol !== PROTOCOL_VERSION) {
      throw new Fail('protocol', `protocol version ${json.stringify(p.protocol)} not supported; this backend speaks ${PROTOCOL_VERSION}`)
    }
    s.hello = true
    return { protocol: PROTOCOL_VERSION, backend: s.manifest.backend }
  },

  describe(s) {
    const adapters = s.manifest.adapters.map((a) => ({ ...a, driver_version: s.adapters[a.name].driverVersion() }))
    return { backend: s.manifest.backend, protocol: PROTOCOL_VERSION, language: `Node.js ${process.version}`, adapters }
  },

  echo(s, p) {
    return { value: values.encode(values.decode(p.value)) }
  },

  cancel(s, p) {
    return { cancelled: s.cancelRequest(schema.num(p.request)) }
  },

  'process.memory'(s, p) {
    try {
      return readMemory(p.reset_peak === true)
    } catch (e) {
      throw new Fail('unsupported', `process memory is not readable here: ${e.message}`)
    }
  },

  async 'engine.open'(s, p, token) {
    const a = adapterOf(s, p)
    const e = await a.open({ dsn: p.dsn, poolMax: Math.max(0, schema.num(p.pool_max || 0)), app: p.application_name || '', profile: p.profile || 'postgres' })
    return { engine: await created(s, token, 'engine', e, () => e.close(), { adapter: a.name }) }
  },

  async 'engine.close'(s, p) {
    const o = s.get(p.engine, 'engine')
    await s.closeEngine(p.engine, o)
    return {}
  },

  async 'engine.introspect'(s, p, token) {
    return s.get(p.engine, 'engine').obj.introspect(token)
  },

  async 'engine.bench'(s, p, token) {
    const o = s.get(p.engine, 'engine')
    const n = schema.num(p.n)
    if (n < 0 || n > 1000000) throw new Fail('misuse', `n=${n}: want 0..1000000`)
    const d = await o.obj.bench(p.sql, n, token)
    return { durations_ns: d.map((x) => Number(x)) }
  },

  async 'conn.acquire'(s, p, token) {
    const e = s.get(p.engine, 'engine')
    const c = await e.obj.acquire(token)
    return { conn: await created(s, token, 'conn', c, () => c.release(), { engine: p.engine }) }
  },

  'conn.release'(s, p, token) {
    const o = s.get(p.conn, 'conn')
    return o.lock.run(async () => {
      s.objects.delete(p.conn)
      // Its transaction and cursors go with it.
      for (const [k, x] of s.objects) if (x.conn === p.conn) s.objects.delete(k)
      await o.obj.release()
      return {}
    }, token)
  },

  execute(s, p, token) {
    const args = params(p.params)
    return s.onQuerier(p.on, token, async (q) => ({ rowcount: await q.execute(p.sql, args, token) }))
  },

  executemany(s, p, token) {
    const rows = p.rows.map((r, i) => {
      try {
        return params(r)
      } catch (e) {
        throw new Fail('misuse', `row ${i}: ${e.message}`)
      }
    })
    return s.onQuerier(p.on, token, async (q) => ({ rowcount: await q.executemany(p.sql, rows, token) }))
  },

  query(s, p, token) {
    const args = params(p.params)
    return s.onQuerier(p.on, token, async (q, o) => {
      const cur = await q.query(p.sql, args, token)
      // A cursor of an engine has its own connection and order; one of a
      // connection or transaction is ordered with it.
      const extra = o.kind === 'engine' ? { engine: p.on } : { engine: o.engine, lock: o.lock, conn: o.conn || p.on }
      const id = await created(s, token, 'cursor', cur, () => cur.close(), extra)
      return { cursor: id, columns: cur.columns }
    })
  },

  'cursor.fetchone'(s, p, token) {
    const o = s.get(p.cursor, 'cursor')
    return o.lock.run(async () => {
      const r = await o.obj.fetchMany(1, token)
      return { row: r.length ? r[0].map(values.encode) : null }
    }, token)
  },

  'cursor.fetchmany'(s, p, token) {
    const o = s.get(p.cursor, 'cursor')
    const n = schema.num(p.n)
    if (n < 0) throw new Fail('misuse', `n=${n}: want n >= 0`)
    return o.lock.run(async () => ({ rows: encodeRows(await o.obj.fetchMany(n, token)) }), token)
  },

  'cursor.fetchall'(s, p, token) {
    const o = s.get(p.cursor, 'cursor')
    return o.lock.run(async () => ({ rows: encodeRows(await o.obj.fetchAll(token)) }), token)
  },

  'cursor.close'(s, p) {
    const o = s.get(p.cursor, 'cursor')
    s.objects.delete(p.cursor)
    return o.lock.run(async () => {
      await o.obj.close()
      return {}
    })
  },

  'tx.begin'(s, p, token) {
    const c = s.get(p.conn, 'conn')
    return c.lock.run(async () => {
      const t = await c.obj.begin(token)
      return { tx: await created(s, token, 'tx', t, () => t.rollback(), { lock: c.lock, engine: c.engine, conn: p.conn }) }
    }, token)
  },

  'tx.commit'(s, p, token) {
    return endTx(s, p, token, true)
  },

  'tx.rollback'(s, p, token) {
    return endTx(s, p, token, false)
  },

  async 'webapp.start'(s, p) {
    const o = s.get(p.engine, 'engine')
    if (typeof o.obj.webapp !== 'function') throw new Fail('unsupported', `adapter ${o.adapter} has no web app`)
    if (o.stopWeb) return { port: o.webPort }
    const ports = (p.ports || []).map(schema.num)
    const { port, stop } = await o.obj.webapp(p.search_sql || '', p.sleep_sql || '', ports)
    o.stopWeb = stop
    o.webPort = port
    return { port }
  },

  'orm.run'(s, p) {
    const o = s.get(p.engine, 'engine')
    throw new Fail('unsupported', `adapter ${o.adapter} has no ORM: node-postgres and postgres.js are drivers without one`)
  },

  'probe.sync_misuse'(s, p) {
    const a = adapterOf(s, p)
    throw new Fail('unsupported', `adapter ${a.name} has no sync-misuse probe: its driver has no sync API to misuse`)
  },

  'probe.missing_async_dependency'(s, p) {
    const a = adapterOf(s, p)
    throw new Fail('unsupported', `adapter ${a.name} has no missing-async-dependency probe: its driver has no separate async dependency`)
  },
}

function endTx(s, p, token, commit) {
  const o = s.get(p.tx, 'tx')
  s.objects.delete(p.tx)
  return o.lock.run(async () => {
    await (commit ? o.obj.commit(token) : o.obj.rollback(token))
    return {}
  })
}

// Framer splits a byte stream into lines under the size limit. onLine gets
// each line without its newline (and a \r before it); onOversize is called
// once when a line passes the limit, after which nothing more is read.
class Framer {
  constructor(onLine, onOversize) {
    this.onLine = onLine
    this.onOversize = onOversize
    this.parts = []
    this.size = 0
    this.dead = false
  }
  push(chunk) {
    if (this.dead) return
    let start = 0
    for (;;) {
      const nl = chunk.indexOf(0x0a, start)
      if (nl < 0) break
      const piece = chunk.subarray(start, nl)
      if (this.size + piece.length + 1 > MAX_MESSAGE) return this.oversize()
      this.parts.push(piece)
      let buf = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts)
      this.parts = []
      this.size = 0
      if (buf.length && buf[buf.length - 1] === 0x0d) buf = buf.subarray(0, buf.length - 1)
      this.onLine(buf.toString('utf8'))
      if (this.dead) return
      start = nl + 1
    }
    const rest = chunk.subarray(start)
    if (!rest.length) return
    if (this.size + rest.length + 1 > MAX_MESSAGE) return this.oversize()
    // Copy: the caller's chunk may be reused.
    this.parts.push(Buffer.from(rest))
    this.size += rest.length
  }
  oversize() {
    this.dead = true
    this.parts = []
    this.onOversize()
  }
}

module.exports = { Session, Framer, Token, Lock, Fail, PROTOCOL_VERSION, MAX_MESSAGE, readMemory }
