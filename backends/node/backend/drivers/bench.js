'use strict'

// benchQuery times what a `query` request on the engine runs (the
// driver's own path: a cursor or a buffered result), then fetchall and
// close, n times; nanoseconds each.
async function benchQuery(engine, sql, n, token) {
  const out = []
  for (let i = 0; i < n; i++) {
    token.check()
    const t0 = process.hrtime.bigint()
    const cur = await engine.query(sql, [], token)
    await cur.fetchAll(token)
    await cur.close()
    out.push(process.hrtime.bigint() - t0)
  }
  return out
}

module.exports = { benchQuery }
