'use strict'
// Errors → the protocol's error object (PROTOCOL.md §2, "Error object").

const { MisuseError } = require('./values')
const { JSONSyntaxError } = require('./json')

// Fail is an error the backend raises itself, with its category.
class Fail extends Error {
  constructor(category, message, sqlstate = '') {
    super(message)
    this.category = category
    this.sqlstate = sqlstate
  }
}

const SQLSTATE = /^[0-9A-Z]{5}$/

// serverError tells a server-reported error (node-postgres DatabaseError,
// postgres.js PostgresError) from a Node system error whose code looks
// like a SQLSTATE (EPIPE).
function serverError(e) {
  return (
    e !== null &&
    typeof e === 'object' &&
    typeof e.code === 'string' &&
    SQLSTATE.test(e.code) &&
    (e.name === 'PostgresError' || e.constructor?.name === 'DatabaseError' || typeof e.severity === 'string')
  )
}

// Connection errors that are no server error: Node's socket errors
// (ECONNREFUSED, ENOTFOUND, ECONNRESET, …), node-postgres's "Connection
// terminated…", postgres.js's CONNECTION_* and CONNECT_TIMEOUT codes.
function connectionError(e, msg) {
  const code = typeof e?.code === 'string' ? e.code : ''
  if (typeof e?.syscall === 'string' || /^E[A-Z]+$/.test(code)) return true
  if (/^CONNECT(ION)?_/.test(code)) return true
  return /connection terminated|connection (is )?closed|not queryable|connection (refused|reset)|could not connect|socket (hang up|closed)/i.test(msg)
}

function typeOf(e) {
  if (e === null || typeof e !== 'object') return typeof e
  const name = e.constructor?.name || 'Error'
  if (e.name === 'PostgresError') return 'postgres.PostgresError'
  if (name === 'DatabaseError') return 'pg.DatabaseError'
  return e.code && !SQLSTATE.test(e.code) ? `${name}(${e.code})` : name
}

function classify(e) {
  if (e instanceof Fail) return { category: e.category, sqlstate: e.sqlstate, message: e.message }
  if (e instanceof MisuseError) return { category: 'misuse', sqlstate: '', message: e.message, type: 'MisuseError' }
  if (e instanceof JSONSyntaxError) return { category: 'protocol', sqlstate: '', message: e.message, type: 'JSONSyntaxError' }
  const msg = (e && (e.message || String(e))) || 'unknown error'
  const type = typeOf(e)
  if (serverError(e)) {
    const s = e.code
    let category = 'sql'
    if (s.startsWith('28')) category = 'authentication'
    else if (s === '57014') category = 'timeout'
    else if (s.startsWith('08') || s === '57P01' || s === '57P02' || s === '57P03') category = 'connection'
    return { category, sqlstate: s, message: msg, type }
  }
  // pg-pool's wait for a free client (connectionTimeoutMillis) passing.
  if (/timeout exceeded when trying to connect/i.test(msg)) return { category: 'timeout', sqlstate: '', message: msg, type }
  if (/password authentication failed/i.test(msg)) return { category: 'authentication', sqlstate: '', message: msg, type }
  if (connectionError(e, msg)) return { category: 'connection', sqlstate: '', message: msg, type }
  return { category: 'misuse', sqlstate: '', message: msg, type }
}

module.exports = { Fail, classify }
