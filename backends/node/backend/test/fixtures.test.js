'use strict'
// The golden fixtures (protocol/testdata) replayed against this backend's
// own server on a loopback port, without a database.

const { test, describe, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('fs')
const path = require('path')
const { serve } = require('../main')
const json = require('../json')
const { fixturesDir, load, match, replay } = require('../testlib/replay')

const FILES = ['handshake', 'params', 'values', 'values_malformed', 'objects', 'oversize']

describe('golden fixtures', () => {
  let server
  let port
  before(async () => {
    server = serve()
    await new Promise((r) => server.listen(0, '127.0.0.1', r))
    port = server.address().port
  })
  after(() => new Promise((r) => server.close(r)))

  test('every fixture file is here', () => {
    const have = fs.readdirSync(fixturesDir())
    for (const f of FILES) assert.ok(have.includes(`${f}.jsonl`), `${f}.jsonl in ${fixturesDir()}`)
  })

  for (const f of fs.existsSync(fixturesDir()) ? fs.readdirSync(fixturesDir()).filter((x) => x.endsWith('.jsonl')).sort() : []) {
    test(`replays ${f}`, async () => {
      const failures = await replay(port, '127.0.0.1', load(path.join(fixturesDir(), f)), f)
      assert.deepEqual(failures, [])
    })
  }
})

// The matcher must be able to fail, by the same rules as Go's.
test('the fixture matcher follows the README rules', () => {
  const cases = [
    ['{"v":2.0}', '{"v":2}', false],
    ['{"v":2}', '{"v":2.0}', false],
    ['{"v":1e300}', '{"v":1.0E300}', true],
    ['{"v":-0.0}', '{"v":0.0}', false],
    ['{"v":null}', '{"v":"null"}', false],
    ['{"v":true}', '{"v":1}', false],
    ['{"v":9007199254740993}', '{"v":9007199254740993}', true],
    ['{"v":9007199254740993}', '{"v":9007199254740992}', false],
    ['{"id":1,"result":{}}', '{"id":1,"result":{},"x":1}', false],
    ['{"id":1,"result":"<any>"}', '{"id":1,"result":{"a":[1]}}', true],
    ['{"a":"<absent-or-any>"}', '{}', true],
    ['{"id":1,"error":{"category":"misuse","sqlstate":"","message":"<any>"}}', '{"id":1,"error":{"category":"misuse","sqlstate":"","message":"m","type":"X"}}', true],
    ['{"id":1,"result":{"type":1}}', '{"id":1,"result":{"type":1,"x":2}}', false],
    ['{"id":1,"result":{"v":[1,2]}}', '{"id":1,"result":{"v":[1]}}', false],
    ['{"id":1,"result":{"v":"a\\u00e9"}}', '{"id":1,"result":{"v":"aé"}}', true],
  ]
  for (const [pattern, value, ok] of cases) {
    const m = match(json.parse(pattern), json.parse(value))
    assert.equal(m === '', ok, `${pattern} vs ${value}: ${m || 'matched'}`)
  }
})
