'use strict'
// JSON that keeps what PROTOCOL.md §3 needs and JSON.parse loses: whether a
// number was written as an integer (42) or a float (2.0), and integers
// beyond 2^53. parse returns plain JS values except for numbers: an integer
// is a JS number when safe and an Int8 otherwise; a number with a point or
// an exponent is a Float. stringify writes a Float always with a point or
// an exponent, so a float8 of 2 goes out as 2.0.

class Float {
  constructor(value) {
    this.value = value
  }
}

// Int8 is an integer as its decimal text: from a bare JSON integer beyond
// 2^53, a {"$int8": …} value or an int8 column.
class Int8 {
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

class JSONSyntaxError extends Error {}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y
const WS = /[ \t\r\n]*/y

function parse(text) {
  let pos = 0

  function fail(what) {
    throw new JSONSyntaxError(`${what} at offset ${pos}`)
  }
  function ws() {
    WS.lastIndex = pos
    WS.test(text)
    pos = WS.lastIndex
  }
  function value(depth) {
    if (depth > 512) fail('nesting too deep')
    ws()
    const c = text[pos]
    if (c === '{') {
      pos++
      const out = {}
      ws()
      if (text[pos] === '}') {
        pos++
        return out
      }
      for (;;) {
        ws()
        if (text[pos] !== '"') fail('expected a string key')
        const k = string()
        ws()
        if (text[pos] !== ':') fail("expected ':'")
        pos++
        const v = value(depth + 1)
        Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true })
        ws()
        if (text[pos] === ',') {
          pos++
          continue
        }
        if (text[pos] === '}') {
          pos++
          return out
        }
        fail("expected ',' or '}'")
      }
    }
    if (c === '[') {
      pos++
      const out = []
      ws()
      if (text[pos] === ']') {
        pos++
        return out
      }
      for (;;) {
        out.push(value(depth + 1))
        ws()
        if (text[pos] === ',') {
          pos++
          continue
        }
        if (text[pos] === ']') {
          pos++
          return out
        }
        fail("expected ',' or ']'")
      }
    }
    if (c === '"') return string()
    if (text.startsWith('true', pos)) {
      pos += 4
      return true
    }
    if (text.startsWith('false', pos)) {
      pos += 5
      return false
    }
    if (text.startsWith('null', pos)) {
      pos += 4
      return null
    }
    NUMBER.lastIndex = pos
    const m = NUMBER.exec(text)
    if (!m) fail('unexpected character')
    pos = NUMBER.lastIndex
    const lexeme = m[0]
    if (m[1] !== undefined || m[2] !== undefined) return new Float(Number(lexeme))
    const n = Number(lexeme)
    if (Number.isSafeInteger(n)) return n === 0 ? 0 : n
    return new Int8(BigInt(lexeme).toString())
  }
  // string reads a JSON string starting at pos: the closing quote is the
  // first one not escaped; JSON.parse of the slice checks and unescapes.
  function string() {
    const start = pos
    let i = pos + 1
    for (;;) {
      const q = text.indexOf('"', i)
      if (q < 0) fail('unterminated string')
      let back = 0
      while (text[q - 1 - back] === '\\') back++
      if (back % 2 === 0) {
        pos = q + 1
        break
      }
      i = q + 1
    }
    try {
      return JSON.parse(text.slice(start, pos))
    } catch (e) {
      pos = start
      fail(`malformed string (${e.message})`)
    }
  }

  const v = value(0)
  ws()
  if (pos !== text.length) fail('trailing data')
  return v
}

// formatFloat writes a finite number so that it reads back as a float:
// with a point or an exponent (2 → "2.0", -0 → "-0.0").
function formatFloat(x) {
  if (!Number.isFinite(x)) throw new RangeError(`${x} is not a JSON number`)
  if (Object.is(x, -0)) return '-0.0'
  const s = String(x)
  return /[.eE]/.test(s) ? s : s + '.0'
}

function stringify(v) {
  if (v === null || v === undefined) return 'null'
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false'
    case 'string':
      return JSON.stringify(v)
    case 'number':
      if (!Number.isFinite(v)) throw new RangeError(`${v} is not a JSON number`)
      return String(v)
    case 'bigint':
      return v.toString()
  }
  if (v instanceof Float) return formatFloat(v.value)
  if (v instanceof Int8) return v.text
  if (Array.isArray(v)) {
    let out = '['
    for (let i = 0; i < v.length; i++) {
      if (i) out += ','
      out += stringify(v[i])
    }
    return out + ']'
  }
  let out = '{'
  let first = true
  for (const k of Object.keys(v)) {
    if (v[k] === undefined) continue
    if (!first) out += ','
    first = false
    out += JSON.stringify(k) + ':' + stringify(v[k])
  }
  return out + '}'
}

module.exports = { parse, stringify, formatFloat, Float, Int8, JSONSyntaxError }
