'use strict'
// The value codec: lossless JSON, protocol values ↔ driver parameters,
// and the server-text parsers both drivers are configured with.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const json = require('../json')
const v = require('../values')

const roundTrip = (text) => json.stringify(v.encode(v.decode(json.parse(text))))

test('json keeps integers, floats and big integers apart', () => {
  assert.equal(json.parse('2'), 2)
  assert.ok(json.parse('2.0') instanceof json.Float)
  assert.ok(json.parse('1e3') instanceof json.Float)
  assert.ok(json.parse('9007199254740993') instanceof json.Int8)
  assert.equal(json.parse('9007199254740993').text, '9007199254740993')
  assert.equal(json.stringify(json.parse('{"a":[2.0,-0.0,1e+300,5e-324,3]}')), '{"a":[2.0,-0.0,1e+300,5e-324,3]}')
  assert.equal(json.stringify(json.parse('"\\u0000\\ud83d\\ude00"')), JSON.stringify('\u0000\ud83d\ude00'))
  for (const bad of ['', '{', '[1,]', '{"a":1} {"b":2}', 'nul', '"\\x"', '01', '1.', '{"a" 1}']) {
    assert.throws(() => json.parse(bad), json.JSONSyntaxError, bad)
  }
})

test('json parses strings with escaped quotes and backslashes', () => {
  assert.equal(json.parse('"a\\\\"'), 'a\\')
  assert.equal(json.parse('"a\\"b"'), 'a"b')
  assert.deepEqual(json.parse('["a\\\\\\"", "b"]'), ['a\\"', 'b'])
})

test('echo encodes canonically', () => {
  const cases = [
    ['null', 'null'],
    ['42', '42'],
    ['{"$int8":"42"}', '42'],
    ['{"$int8":"9223372036854775807"}', '{"$int8":"9223372036854775807"}'],
    ['9007199254740993', '{"$int8":"9007199254740993"}'],
    ['2.0', '2.0'],
    ['-0.0', '-0.0'],
    ['{"$float8":"NaN"}', '{"$float8":"NaN"}'],
    ['{"$float8":"-Infinity"}', '{"$float8":"-Infinity"}'],
    ['{"$float8":"2"}', '2.0'],
    ['{"$numeric":"1.50e1"}', '{"$numeric":"15.0"}'],
    ['{"$numeric":"1E-7"}', '{"$numeric":"0.0000001"}'],
    ['{"$bytes":""}', '{"$bytes":""}'],
    ['{"$bytes":"AP8K"}', '{"$bytes":"AP8K"}'],
    ['{"$timestamptz":"2026-01-02T03:04:05Z"}', '{"$timestamptz":"2026-01-02T03:04:05.000000+00:00"}'],
    ['{"$timestamptz":"2026-01-02T03:04:05.1-08:00"}', '{"$timestamptz":"2026-01-02T03:04:05.100000-08:00"}'],
    ['{"$timestamp":"2026-01-02T03:04:05"}', '{"$timestamp":"2026-01-02T03:04:05.000000"}'],
    ['{"$time":"12:34:56.5"}', '{"$time":"12:34:56.500000"}'],
    ['{"$interval_us":"-1"}', '{"$interval_us":"-1"}'],
    ['{"$uuid":"A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"}', '{"$uuid":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}'],
    ['{"$json":"{\\"b\\": 1, \\"a\\": [1.50]}"}', '{"$json":"{\\"b\\": 1, \\"a\\": [1.50]}"}'],
    ['{"$array":[1,null,{"$date":"2026-01-02"}]}', '{"$array":[1,null,{"$date":"2026-01-02"}]}'],
    ['{"$vector":[0.5,-2.25]}', '{"$vector":[0.5,-2.25]}'],
  ]
  for (const [in_, want] of cases) assert.equal(roundTrip(in_), want, in_)
})

test('malformed values are refused as misuse', () => {
  for (const bad of [
    '{"$date":"2026-02-30"}', '{"$date":"2026-1-2"}', '{"$int8":"1.5"}', '{"$int8":"9223372036854775808"}', '{"$int8":5}',
    '18446744073709551616', '{"$float8":"inf"}', '{"$numeric":"1,10"}', '{"$bytes":"AP8"}', '{"$timestamptz":"2026-01-02 03:04:05+00:00"}',
    '{"$timestamptz":"2026-01-02T03:04:05"}', '{"$timestamp":"2026-01-02T03:04:05+01:00"}', '{"$time":"25:00:00"}',
    '{"$interval_us":"1.5"}', '{"$uuid":"a0eebc999c0b4ef8bb6d6bb9bd380a11"}', '{"$json":"{nope"}', '{"$array":[[1]]}',
    '{"$vector":["a"]}', '{"$vector":[{"$float8":"NaN"}]}', '{"$nope":"x"}', '{"a":1}', '{}', '[1]', '{"$int8":"1","$date":"2026-01-02"}',
  ]) {
    assert.throws(() => v.decode(json.parse(bad)), v.MisuseError, bad)
  }
})

test('parameters give PostgreSQL their exact text', () => {
  assert.equal(v.decode(json.parse('-0.0')).toPostgres(), '-0')
  assert.equal(v.decode(json.parse('{"$float8":"Infinity"}')).toPostgres(), 'Infinity')
  assert.equal(v.decode(json.parse('1e+308')).toPostgres(), '1e+308')
  assert.equal(v.decode(json.parse('{"$int8":"-9223372036854775808"}')).toPostgres(), '-9223372036854775808')
  assert.equal(v.decode(json.parse('{"$interval_us":"5400000000"}')).toPostgres(), '5400000000 microseconds')
  assert.equal(v.decode(json.parse('{"$vector":[1,0.5,-2]}')).toPostgres(), '[1,0.5,-2]')
  assert.equal(String(v.decode(json.parse('{"$timestamptz":"2024-02-29T23:59:58.123456+05:30"}'))), '2024-02-29T23:59:58.123456+05:30')
  assert.deepEqual(v.decode(json.parse('{"$bytes":"AP8="}')), Buffer.from([0, 255]))
})

test('server text becomes exact values', () => {
  const p = (oid, s) => json.stringify(v.encode(v.parserFor(oid)(s)))
  assert.equal(p(20, '9223372036854775807'), '{"$int8":"9223372036854775807"}')
  assert.equal(p(20, '42'), '42')
  assert.equal(p(23, '-7'), '-7')
  assert.equal(p(701, '2'), '2.0')
  assert.equal(p(701, '-0'), '-0.0')
  assert.equal(p(701, 'NaN'), '{"$float8":"NaN"}')
  assert.equal(p(700, '-Infinity'), '{"$float8":"-Infinity"}')
  assert.equal(p(1700, '1.10'), '{"$numeric":"1.10"}')
  assert.equal(p(16, 't'), 'true')
  assert.equal(p(17, '\\x00ff'), '{"$bytes":"AP8="}')
  assert.equal(p(17, 'a\\\\b\\000'), json.stringify({ $bytes: Buffer.from('a\\b\0').toString('base64') }))
  assert.equal(p(1082, '2024-02-29'), '{"$date":"2024-02-29"}')
  assert.equal(p(1082, 'infinity'), '"infinity"')
  assert.equal(p(1114, '2026-01-02 03:04:05.5'), '{"$timestamp":"2026-01-02T03:04:05.500000"}')
  assert.equal(p(1083, '03:04:05'), '{"$time":"03:04:05.000000"}')
  assert.equal(p(2950, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'), '{"$uuid":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}')
  assert.equal(p(3802, '{"a": 12345678901234567890}'), '{"$json":"{\\"a\\": 12345678901234567890}"}')
  assert.equal(p(16400, '[1,2,3]'), '"[1,2,3]"') // pgvector: its text
})

test('timestamptz text in any session time zone becomes UTC, microseconds kept', () => {
  const t = (s) => v.parseTimestamptz(s).text
  assert.equal(t('2024-02-29 23:59:58.123456+05:30'), '2024-02-29T18:29:58.123456+00:00')
  assert.equal(t('2038-01-19 03:14:08.000001-08'), '2038-01-19T11:14:08.000001+00:00')
  assert.equal(t('1969-07-20 20:17:40+00'), '1969-07-20T20:17:40.000000+00:00')
  assert.equal(t('1890-01-01 00:00:00+00:53:28'), '1889-12-31T23:06:32.000000+00:00')
  assert.equal(t('0001-01-01 00:00:00+00'), '0001-01-01T00:00:00.000000+00:00')
  assert.equal(v.parseTimestamptz('infinity'), 'infinity')
  assert.equal(v.parseTimestamptz('2000-01-01 00:00:00+00 BC'), '2000-01-01 00:00:00+00 BC')
})

test('interval text becomes microseconds (a month is 30 days)', () => {
  const us = (s) => v.parseInterval(s).us.toString()
  assert.equal(us('01:30:00'), '5400000000')
  assert.equal(us('-00:00:00.000001'), '-1')
  assert.equal(us('1 day -01:00:00'), String(23n * 3600n * 1000000n))
  assert.equal(us('1 year 2 mons 3 days 04:05:06.789'), String(((365n + 60n + 3n) * 86400n + 4n * 3600n + 5n * 60n + 6n) * 1000000n + 789000n))
  assert.equal(us('00:00:00'), '0')
  assert.equal(v.parseInterval('P1Y'), 'P1Y') // another IntervalStyle: left as written
})

test('array literals become nested arrays of exact values', () => {
  const p = (oid, s) => json.stringify(v.encode(v.parserFor(oid)(s)))
  assert.equal(p(1016, '{1,NULL,9223372036854775807}'), '{"$array":[1,null,{"$int8":"9223372036854775807"}]}')
  assert.equal(p(1009, '{"a b",NULL,"NULL","c\\"d",e}'), '{"$array":["a b",null,"NULL","c\\"d","e"]}')
  assert.equal(p(1007, '{{1,2},{3,4}}'), '{"$array":[{"$array":[1,2]},{"$array":[3,4]}]}')
  assert.equal(p(1007, '[0:1]={5,6}'), '{"$array":[5,6]}')
  assert.equal(p(1001, '{"\\\\x00ff"}'), '{"$array":[{"$bytes":"AP8="}]}')
  assert.equal(p(1022, '{}'), '{"$array":[]}')
})

test('type names are the server names, oid:N when unknown', () => {
  assert.equal(v.typeName(23), 'int4')
  assert.equal(v.typeName(1184), 'timestamptz')
  assert.equal(v.typeName(1007), '_int4')
  assert.equal(v.typeName(2278), 'void')
  assert.equal(v.typeName(16400), 'oid:16400')
})
