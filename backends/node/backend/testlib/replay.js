'use strict'
// Replays the golden fixtures (protocol/testdata/*.jsonl, PROTOCOL.md §7)
// against a backend on a TCP address: one fresh connection per file.

const fs = require('fs')
const net = require('net')
const path = require('path')
const json = require('../json')

const MAX_LINE = 16 * 1024 * 1024 + 1024
const EXCHANGE_MS = 30000

// fixturesDir is where the fixtures are: $PGWC_FIXTURES (the unit-test
// script unpacks them there in the image), else the repository's copy.
function fixturesDir() {
  return process.env.PGWC_FIXTURES || path.join(__dirname, '..', '..', '..', '..', 'protocol', 'testdata')
}

function load(file) {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      try {
        return json.parse(l)
      } catch (e) {
        throw new Error(`${path.basename(file)}:${i + 1}: ${e.message}`)
      }
    })
}

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof json.Float) && !(v instanceof json.Int8)
}

// match reports why value does not match pattern ('' when it does), by
// the rules of protocol/testdata/README.md.
function match(pattern, value, where = '$', inError = false) {
  if (pattern === '<any>') return ''
  const show = (v) => (v === undefined ? 'nothing' : json.stringify(v))
  const miss = () => `${where}: want ${show(pattern)}, got ${show(value)}`
  if (pattern instanceof json.Float) {
    return value instanceof json.Float && Object.is(value.value, pattern.value) ? '' : miss()
  }
  if (pattern instanceof json.Int8) {
    return value instanceof json.Int8 && BigInt(value.text) === BigInt(pattern.text) ? '' : miss()
  }
  if (typeof pattern === 'number') return typeof value === 'number' && value === pattern ? '' : miss()
  if (pattern === null || typeof pattern === 'string' || typeof pattern === 'boolean') return value === pattern ? '' : miss()
  if (Array.isArray(pattern)) {
    if (!Array.isArray(value) || value.length !== pattern.length) return miss()
    for (let i = 0; i < pattern.length; i++) {
      const m = match(pattern[i], value[i], `${where}[${i}]`)
      if (m) return m
    }
    return ''
  }
  if (!isPlainObject(value)) return miss()
  for (const k of Object.keys(pattern)) {
    if (!(k in value)) {
      if (pattern[k] === '<absent-or-any>') continue
      return `${where}: key ${k} missing in ${show(value)}`
    }
    if (pattern[k] === '<absent-or-any>') continue
    const m = match(pattern[k], value[k], `${where}.${k}`, where === '$' && k === 'error')
    if (m) return m
  }
  for (const k of Object.keys(value)) {
    if (k in pattern) continue
    if (inError && k === 'type') continue
    return `${where}: unexpected key ${k} in ${show(value)}`
  }
  return ''
}

// Lines reads newline-terminated lines from a socket.
class Lines {
  constructor(sock) {
    this.sock = sock
    this.parts = []
    this.size = 0
    this.lines = []
    this.ended = false
    this.waiter = null
    sock.on('data', (c) => {
      let start = 0
      for (;;) {
        const nl = c.indexOf(0x0a, start)
        if (nl < 0) break
        this.parts.push(c.subarray(start, nl))
        this.lines.push(Buffer.concat(this.parts).toString('utf8'))
        this.parts = []
        this.size = 0
        start = nl + 1
      }
      if (start < c.length) {
        this.parts.push(Buffer.from(c.subarray(start)))
        this.size += c.length - start
        if (this.size > MAX_LINE) sock.destroy(new Error('response line over the limit'))
      }
      this.wake()
    })
    const end = () => {
      this.ended = true
      this.wake()
    }
    sock.on('end', end)
    sock.on('close', end)
    sock.on('error', end)
  }
  wake() {
    if (this.waiter) {
      const w = this.waiter
      this.waiter = null
      w()
    }
  }
  // next is the next line, or null once the connection ended.
  async next(ms) {
    const deadline = Date.now() + ms
    while (!this.lines.length && !this.ended) {
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no answer within ${ms} ms`)
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left)
        this.waiter = () => {
          clearTimeout(t)
          resolve()
        }
      })
    }
    return this.lines.length ? this.lines.shift() : null
  }
}

function connect(port, host) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host, () => resolve(s))
    s.once('error', reject)
  })
}

// replay runs the exchanges of one file on a fresh connection and returns
// the failures, one message each.
async function replay(port, host, exchanges, label) {
  const sock = await connect(port, host)
  sock.on('error', () => {})
  const lines = new Lines(sock)
  const failures = []
  try {
    for (const [i, x] of exchanges.entries()) {
      const name = `${label}:${i + 1} (${x.name})`
      if (x.send !== undefined) sock.write(json.stringify(x.send) + '\n')
      else if (x.send_raw !== undefined) sock.write(x.send_raw + '\n')
      else if (x.send_big !== undefined) {
        const { head, fill, tail, size } = x.send_big
        const n = size - Buffer.byteLength(head) - Buffer.byteLength(tail) - 1
        // Written while the answer is read: the backend may close first.
        sock.write(Buffer.from(head + fill.repeat(n) + tail + '\n'), () => {})
      }
      if (x.expect !== undefined) {
        let line
        try {
          line = await lines.next(EXCHANGE_MS)
        } catch (e) {
          failures.push(`${name}: ${e.message}`)
          break
        }
        if (line === null) {
          failures.push(`${name}: the backend closed the connection instead of answering`)
          break
        }
        let got
        try {
          got = json.parse(line)
        } catch (e) {
          failures.push(`${name}: the answer is not JSON (${e.message}): ${line.slice(0, 200)}`)
          continue
        }
        const m = match(x.expect, got)
        if (m) failures.push(`${name}: ${m}`)
      }
      if (x.expect_close === true) {
        let line
        try {
          line = await lines.next(EXCHANGE_MS)
        } catch (e) {
          failures.push(`${name}: the connection was not closed: ${e.message}`)
          break
        }
        if (line !== null) failures.push(`${name}: want the connection closed, got ${line.slice(0, 200)}`)
      }
    }
  } finally {
    sock.destroy()
  }
  return failures
}

module.exports = { fixturesDir, load, match, replay }
