'use strict'
// node main.js --listen HOST:PORT: serve PROTOCOL.md for node-postgres and
// postgres.js.

const net = require('net')
const path = require('path')
const fs = require('fs')
const { Session, Framer, MAX_MESSAGE } = require('./session')

const MANIFEST = JSON.parse(fs.readFileSync(path.join(__dirname, 'manifest.json'), 'utf8'))

// serve makes the protocol server; adapters defaults to the real drivers
// (tests pass their own).
function serve(adapters = require('./drivers').ADAPTERS, manifest = MANIFEST) {
  const sessions = new Set()
  const server = net.createServer((socket) => {
    socket.setNoDelay(true)
    const s = new Session({
      write: (line) => {
        if (!socket.destroyed) socket.write(line)
      },
      close: () => socket.end(),
      adapters,
      manifest,
    })
    sessions.add(s)
    const framer = new Framer(
      (line) => s.handleLine(line),
      () => {
        s.send({ id: null, error: { category: 'protocol', sqlstate: '', message: `message exceeds the ${MAX_MESSAGE}-byte limit; closing the connection` } })
        // Half-close after the answer but keep reading (and dropping) what
        // the client still sends: closing with unread input would reset
        // the connection and could destroy the answer in flight.
        socket.end()
        setTimeout(() => socket.destroy(), 30000).unref()
      }
    )
    socket.on('data', (chunk) => framer.push(chunk))
    const done = () => {
      sessions.delete(s)
      s.close().catch(() => {})
    }
    socket.on('close', done)
    socket.on('error', () => socket.destroy())
  })
  server.sessions = sessions
  return server
}

function main(argv) {
  let listen = '0.0.0.0:7687'
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--listen' && i + 1 < argv.length) listen = argv[++i]
    else if (argv[i].startsWith('--listen=')) listen = argv[i].slice('--listen='.length)
  }
  const cut = listen.lastIndexOf(':')
  const host = cut > 0 ? listen.slice(0, cut) : '0.0.0.0'
  const port = Number(listen.slice(cut + 1))
  // A driver's stray error (an idle connection the server closed, seen by
  // no one) must not take down the backend and every session with it.
  process.on('uncaughtException', (e) => console.error('pgwire-conformance node backend: uncaught:', e))
  process.on('unhandledRejection', (e) => console.error('pgwire-conformance node backend: unhandled rejection:', e))
  const server = serve()
  server.listen(port, host, () => {
    console.log(`pgwire-conformance node backend: protocol 1 listening on ${host}:${server.address().port}`)
  })
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0))
}

if (require.main === module) main(process.argv.slice(2))

module.exports = { serve, MANIFEST }
