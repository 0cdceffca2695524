'use strict'

// HeldConn is what a connection held out of a pool does the same in every
// Node driver: a statement on it first buffers the rest of a cursor still
// open on it (so the connection is free and that cursor still answers), a
// transaction is BEGIN … COMMIT on it, and release gives it back.
// Subclasses provide statement(sql, token).
class HeldConn {
  constructor(release) {
    this.giveBack = release
    this.cursor = null
  }
  async settle(token) {
    if (this.cursor) {
      await this.cursor.bufferRest(token)
      this.cursor = null
    }
  }
  async begin(token) {
    await this.statement('BEGIN', token)
    return new Tx(this)
  }
  async release() {
    if (this.cursor) await this.cursor.close()
    this.cursor = null
    this.giveBack()
  }
}

// Tx is a transaction on a held connection: neither driver has a
// transaction object there; BEGIN, COMMIT and ROLLBACK are statements.
class Tx {
  constructor(conn) {
    this.conn = conn
  }
  execute(sql, params, token) {
    return this.conn.execute(sql, params, token)
  }
  executemany(sql, rows, token) {
    return this.conn.executemany(sql, rows, token)
  }
  query(sql, params, token) {
    return this.conn.query(sql, params, token)
  }
  async commit(token) {
    await this.conn.statement('COMMIT', token)
  }
  async rollback(token) {
    await this.conn.statement('ROLLBACK', token)
  }
}

module.exports = { HeldConn, Tx }
