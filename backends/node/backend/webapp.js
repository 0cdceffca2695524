'use strict'
// FR-014: the seed's web app on Node's own http server, on an engine the
// suite opened: GET /health, GET /test, POST /search and GET /sleep (the
// suite's slow statement), each request with a session of its own
// (engine.webSession: a pooled connection checked out for the request and
// returned after it).

const http = require('http')
const values = require('./values')
const { Float, Int8 } = require('./json')

const MAX_BODY = 1 << 20

function plain(v) {
  if (v instanceof Float) return v.value
  if (v instanceof Int8) return Number(v.text)
  if (v instanceof values.Numeric) return Number(v.text)
  return v
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const parts = []
    let size = 0
    req.on('data', (c) => {
      size += c.length
      if (size > MAX_BODY) {
        reject(Object.assign(new Error('request body too large'), { status: 413 }))
        req.destroy()
        return
      }
      parts.push(c)
    })
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')))
    req.on('error', reject)
  })
}

function app(engine, searchSQL, sleepSQL) {
  const routes = {
    'GET /health': async () =>
      engine.webSession(async (db) => {
        const rows = await db.query('SELECT 1', [])
        return { status: 'ok', db: plain(rows[0][0]) === 1 }
      }),
    'GET /test': async () =>
      engine.webSession(async (db) => {
        const rows = await db.query('SELECT 1 AS value', [])
        return { value: plain(rows[0][0]) }
      }),
    'GET /sleep': async () => {
      if (!sleepSQL) return { slept: false }
      return engine.webSession(async (db) => {
        await db.query(sleepSQL, [])
        return { slept: true }
      })
    },
    'POST /search': async (req) => {
      let q
      try {
        q = JSON.parse(await readBody(req))
      } catch (e) {
        throw Object.assign(new Error(`body: ${e.message}`), { status: e.status || 422 })
      }
      if (!Array.isArray(q) || !q.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        throw Object.assign(new Error('body: want a JSON array of numbers'), { status: 422 })
      }
      if (!searchSQL) return []
      const vec = '[' + q.map(String).join(',') + ']'
      return engine.webSession(async (db) => {
        const rows = await db.query(searchSQL, [vec])
        return rows.map((r) => ({ id: plain(r[0]), score: plain(r[1]) }))
      })
    },
  }
  return async (req, res) => {
    const route = routes[`${req.method} ${req.url.split('?')[0]}`]
    let status = 200
    let body
    try {
      if (!route) {
        status = 404
        body = { detail: 'Not Found' }
      } else {
        body = await route(req)
      }
    } catch (e) {
      status = e.status || 500
      body = { detail: e.message }
    }
    const data = JSON.stringify(body)
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) })
    res.end(data)
  }
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    const onError = (e) => {
      server.removeListener('listening', onListening)
      reject(e)
    }
    const onListening = () => {
      server.removeListener('error', onError)
      resolve(server.address().port)
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(port, '0.0.0.0')
  })
}

// start serves the app on the first free port of ports (any free port
// when empty) and returns it with a function that stops the server.
async function start(engine, searchSQL, sleepSQL, ports) {
  const server = http.createServer(app(engine, searchSQL, sleepSQL))
  server.keepAliveTimeout = 5000
  let port
  let last
  for (const p of ports.length ? ports : [0]) {
    try {
      port = await listen(server, p)
      break
    } catch (e) {
      last = e
    }
  }
  if (port === undefined) throw new Error(`no free port among ${ports.join(', ')}: ${last && last.message}`)
  const stop = () =>
    new Promise((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  return { port, stop }
}

module.exports = { start }
