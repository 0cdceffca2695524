'use strict'
// The protocol machinery without a database, on a fake driver: answers in
// any order, per-object ordering, timeout_ms and cancel, objects closed
// with their engine and with the connection.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const net = require('net')
const { serve } = require('../main')
const json = require('../json')

// The fake driver: `sleep N tag` waits N ms (or until cancelled) and logs
// the tag when it starts; everything it opens is recorded.
const log = []
const engines = []
const sleepOf = (sql, token) => {
  const [, ms, tag] = sql.split(' ')
  log.push(tag)
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => resolve(1), Number(ms))
    token.onCancel(() => {
      clearTimeout(t)
      log.push(`cancelled ${tag}`)
      reject(new Error('stopped'))
    })
  })
}
class FakeConn {
  constructor(e) {
    this.e = e
    e.conns.add(this)
  }
  execute(sql, params, token) {
    return sleepOf(sql, token)
  }
  async release() {
    this.e.conns.delete(this)
  }
}
class FakeEngine {
  constructor() {
    this.closed = false
    this.conns = new Set()
    engines.push(this)
  }
  execute(sql, params, token) {
    return sleepOf(sql, token)
  }
  async acquire() {
    return new FakeConn(this)
  }
  async close() {
    this.closed = true
    for (const c of this.conns) await c.release()
  }
}
const ADAPTERS = { fake: { name: 'fake', driverVersion: () => 'fake 1', open: async () => new FakeEngine() } }
const MANIFEST = { backend: 'node', language: 'javascript', adapters: [{ name: 'fake', driver: 'fake', async: true, capabilities: [] }] }

let server
let port
before(async () => {
  server = serve(ADAPTERS, MANIFEST)
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  port = server.address().port
})
after(() => new Promise((r) => server.close(r)))

// client: one connection; send writes a request, next reads the next
// answer in arrival order.
async function client() {
  const sock = net.connect(port, '127.0.0.1')
  await new Promise((r) => sock.once('connect', r))
  let buf = ''
  const answers = []
  const waiters = []
  sock.on('data', (d) => {
    buf += d
    let i
    while ((i = buf.indexOf('\n')) >= 0) {
      answers.push(json.parse(buf.slice(0, i)))
      buf = buf.slice(i + 1)
      while (waiters.length && answers.length) waiters.shift()(answers.shift())
    }
  })
  let id = 0
  const c = {
    sock,
    send(method, params, extra = {}) {
      const req = { id: ++id, method, params, ...extra }
      sock.write(json.stringify(req) + '\n')
      return req.id
    },
    next(ms = 5000) {
      if (answers.length) return Promise.resolve(answers.shift())
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no answer')), ms)
        waiters.push((a) => {
          clearTimeout(t)
          resolve(a)
        })
      })
    },
    async call(method, params, extra) {
      const want = c.send(method, params, extra)
      const a = await c.next()
      assert.equal(a.id, want, `answer to ${method}`)
      return a
    },
  }
  await c.call('hello', { protocol: 1 })
  return c
}

test('a quick request on an engine is answered before a slow one', async () => {
  const c = await client()
  const e = (await c.call('engine.open', { adapter: 'fake', dsn: 'postgres://x@h/db' })).result.engine
  const slow = c.send('execute', { on: e, sql: 'sleep 300 slow' })
  const quick = c.send('execute', { on: e, sql: 'sleep 0 quick' })
  assert.equal((await c.next()).id, quick)
  assert.equal((await c.next()).id, slow)
  c.sock.destroy()
})

test('requests on one connection run one at a time in arrival order', async () => {
  const c = await client()
  const e = (await c.call('engine.open', { adapter: 'fake', dsn: 'postgres://x@h/db' })).result.engine
  const conn = (await c.call('conn.acquire', { engine: e })).result.conn
  log.length = 0
  const a = c.send('execute', { on: conn, sql: 'sleep 200 first' })
  const b = c.send('execute', { on: conn, sql: 'sleep 0 second' })
  assert.equal((await c.next()).id, a)
  assert.equal((await c.next()).id, b)
  assert.deepEqual(log, ['first', 'second'])
  c.sock.destroy()
})

test('timeout_ms answers with category timeout and stops the request', async () => {
  const c = await client()
  const e = (await c.call('engine.open', { adapter: 'fake', dsn: 'postgres://x@h/db' })).result.engine
  log.length = 0
  const start = Date.now()
  const a = await c.call('execute', { on: e, sql: 'sleep 10000 long' }, { timeout_ms: 100 })
  assert.equal(a.error.category, 'timeout')
  assert.ok(Date.now() - start < 2000, 'answered at the deadline')
  assert.deepEqual(log, ['long', 'cancelled long'])
  c.sock.destroy()
})

test('cancel answers the request with category timeout', async () => {
  const c = await client()
  const e = (await c.call('engine.open', { adapter: 'fake', dsn: 'postgres://x@h/db' })).result.engine
  const victim = c.send('execute', { on: e, sql: 'sleep 10000 victim' })
  const cancel = c.send('cancel', { request: victim })
  const first = await c.next()
  const second = await c.next()
  assert.deepEqual([first.id, first.error && first.error.category], [victim, 'timeout'])
  assert.deepEqual([second.id, second.result], [cancel, { cancelled: true }])
  assert.deepEqual((await c.call('cancel', { request: victim })).result, { cancelled: false }, 'no longer in flight')
  c.sock.destroy()
})

test('engine.close forgets its connections; a closed connection closes its engines', async () => {
  const c = await client()
  const e = (await c.call('engine.open', { adapter: 'fake', dsn: 'postgres://x@h/db' })).result.engine
  const conn = (await c.call('conn.acquire', { engine: e })).result.conn
  const eng = engines[engines.length - 1]
  assert.equal(eng.conns.size, 1)
  assert.deepEqual((await c.call('engine.close', { engine: e })).result, {})
  assert.ok(eng.closed)
  assert.equal(eng.conns.size, 0)
  assert.equal((await c.call('execute', { on: conn, sql: 'sleep 0 x' })).error.category, 'misuse')

  const e2 = (await c.call('engine.open', { adapter: 'fake', dsn: 'postgres://x@h/db' })).result.engine
  assert.ok(e2)
  const eng2 = engines[engines.length - 1]
  c.sock.destroy()
  for (let i = 0; i < 100 && !eng2.closed; i++) await new Promise((r) => setTimeout(r, 10))
  assert.ok(eng2.closed, 'the engine closes with the connection')
})

test('a duplicate id in flight is refused; params are checked before look-ups', async () => {
  const c = await client()
  const e = (await c.call('engine.open', { adapter: 'fake', dsn: 'postgres://x@h/db' })).result.engine
  c.sock.write(json.stringify({ id: 100, method: 'execute', params: { on: e, sql: 'sleep 300 dup' } }) + '\n')
  c.sock.write(json.stringify({ id: 100, method: 'describe' }) + '\n')
  const dup = await c.next()
  assert.deepEqual([dup.id, dup.error.category], [100, 'protocol'])
  assert.ok((await c.next()).result, 'the first request 100 completes')
  assert.equal((await c.call('execute', { on: 'nope' })).error.category, 'protocol')
  assert.equal((await c.call('execute', { on: 'nope', sql: 'x' })).error.category, 'misuse')
  assert.equal((await c.call('execute', { on: e, sql: null })).error.category, 'protocol', 'a required key that is null')
  assert.deepEqual((await c.call('execute', { on: e, sql: 'sleep 0 x', params: null })).result, { rowcount: 1 }, 'an optional key that is null is absent')
  c.sock.destroy()
})

test('process.memory reads the resident set and resets its peak', { skip: process.platform !== 'linux' }, async () => {
  const c = await client()
  const a = await c.call('process.memory', { reset_peak: true })
  assert.ok(a.result.rss_bytes > 0 && a.result.peak_rss_bytes >= a.result.rss_bytes, json.stringify(a))
  const b = await c.call('process.memory', {})
  assert.ok(b.result.peak_rss_bytes > 0)
  c.sock.destroy()
})
