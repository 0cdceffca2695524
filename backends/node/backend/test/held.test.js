'use strict'
// What every Node driver's held connection shares: a statement first
// buffers a cursor left open on the connection; a transaction is BEGIN …
// COMMIT/ROLLBACK statements; release closes the cursor and gives back.
// And the bench times the engine's own query path.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { HeldConn } = require('../drivers/held')
const { benchQuery } = require('../drivers/bench')

class FakeConn extends HeldConn {
  constructor(log) {
    super(() => log.push('given back'))
    this.log = log
  }
  async statement(sql, token) {
    await this.settle(token)
    this.log.push(sql)
  }
  async execute(sql) {
    await this.settle()
    this.log.push(sql)
    return 1
  }
}

const cursor = (log) => ({
  bufferRest: async () => log.push('cursor buffered'),
  close: async () => log.push('cursor closed'),
})

test('a statement first buffers the cursor left open on the connection', async () => {
  const log = []
  const c = new FakeConn(log)
  c.cursor = cursor(log)
  await c.execute('UPDATE t SET x = 1')
  assert.deepEqual(log, ['cursor buffered', 'UPDATE t SET x = 1'])
  assert.equal(c.cursor, null)
})

test('a transaction is BEGIN, its statements, and COMMIT or ROLLBACK on the connection', async () => {
  const log = []
  const c = new FakeConn(log)
  const tx = await c.begin()
  await tx.execute('INSERT 1')
  await tx.commit()
  const tx2 = await c.begin()
  await tx2.rollback()
  assert.deepEqual(log, ['BEGIN', 'INSERT 1', 'COMMIT', 'BEGIN', 'ROLLBACK'])
})

test('release closes an open cursor, then gives the connection back', async () => {
  const log = []
  const c = new FakeConn(log)
  c.cursor = cursor(log)
  await c.release()
  assert.deepEqual(log, ['cursor closed', 'given back'])
})

test('the bench runs the engine\'s query, fetches all and closes, n times', async () => {
  const log = []
  const engine = {
    query: async (sql, params) => {
      log.push(`query ${sql} ${params.length}`)
      return { fetchAll: async () => log.push('fetchAll'), close: async () => log.push('close') }
    },
  }
  let checks = 0
  const out = await benchQuery(engine, 'SELECT 1', 2, { check: () => checks++ })
  assert.equal(out.length, 2)
  assert.ok(out.every((ns) => typeof ns === 'bigint' && ns >= 0n))
  assert.equal(checks, 2)
  assert.deepEqual(log, ['query SELECT 1 0', 'fetchAll', 'close', 'query SELECT 1 0', 'fetchAll', 'close'])
})
