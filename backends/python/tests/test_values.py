"""values.py: the typed value codec (PROTOCOL.md §3)."""

import datetime as dt
import decimal
import math
import unittest
import uuid

from backend import values
from backend.values import JsonText, ValueError_, VectorText, decode, encode


class Encode(unittest.TestCase):
    def test_canonical_forms(self):
        tz = dt.timezone(dt.timedelta(hours=5, minutes=30))
        cases = [
            (None, None), (True, True), (0, 0), (2**53 - 1, 2**53 - 1),
            (2**53, {"$int8": "9007199254740992"}), (-2**63, {"$int8": "-9223372036854775808"}),
            (2.0, 2.0), (math.inf, {"$float8": "Infinity"}), (-math.inf, {"$float8": "-Infinity"}),
            (decimal.Decimal("1.10"), {"$numeric": "1.10"}),
            (decimal.Decimal("0.0000001"), {"$numeric": "0.0000001"}),
            (decimal.Decimal("NaN"), {"$numeric": "NaN"}),
            (b"", {"$bytes": ""}), (b"\x00\xff\n", {"$bytes": "AP8K"}),
            (dt.date(2026, 1, 2), {"$date": "2026-01-02"}),
            (dt.datetime(2026, 1, 2, 3, 4, 5, 123456, tz), {"$timestamptz": "2026-01-02T03:04:05.123456+05:30"}),
            (dt.datetime(2026, 1, 2, 3, 4, 5), {"$timestamp": "2026-01-02T03:04:05.000000"}),
            (dt.time(3, 4, 5), {"$time": "03:04:05.000000"}),
            (dt.timedelta(minutes=90), {"$interval_us": "5400000000"}),
            (uuid.UUID("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"), {"$uuid": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}),
            (JsonText("null"), {"$json": "null"}),
            ([1, None, [2]], {"$array": [1, None, {"$array": [2]}]}),
            (VectorText([0.5, -2.0]), {"$vector": [0.5, -2.0]}),
        ]
        for v, want in cases:
            with self.subTest(v=v):
                self.assertEqual(encode(v), want)
        self.assertTrue(math.isnan(decode(encode(math.nan))))
        neg = encode(-0.0)
        self.assertEqual(math.copysign(1, neg), -1.0)


class Decode(unittest.TestCase):
    def test_round_trips(self):
        for v in [None, "", "null", 42, {"$int8": "9223372036854775807"}, 0.5, -0.0,
                  {"$numeric": "-123456789012345678901234567890.123456789012"},
                  {"$bytes": "AP8K"}, {"$date": "2024-02-29"},
                  {"$timestamptz": "2026-01-02T03:04:05.000001-08:00"},
                  {"$timestamp": "1999-12-31T23:59:59.999999"}, {"$time": "23:59:59.999999"},
                  {"$interval_us": "-1"}, {"$uuid": "00000000-0000-0000-0000-000000000000"},
                  {"$json": "{\"b\": 1, \"a\": [1.50, null]}"},
                  {"$array": [{"$array": [1, 2]}, {"$array": [3, None]}]},
                  {"$vector": [0.5, -2.25]}, {"$vector": []}]:
            with self.subTest(v=v):
                self.assertEqual(encode(decode(v)), v)

    def test_json_null_is_not_sql_null(self):
        self.assertIsNone(decode(None))
        j = decode({"$json": "null"})
        self.assertIsInstance(j, str)  # drivers bind the document's text
        self.assertEqual(encode(j), {"$json": "null"})

    def test_vector_binds_as_pgvector_text(self):
        v = decode({"$vector": [1, 0.5, -2]})
        self.assertIsInstance(v, str)
        self.assertEqual(v, "[1.0,0.5,-2.0]")

    def test_z_becomes_an_offset(self):
        self.assertEqual(encode(decode({"$timestamptz": "2026-01-02T03:04:05Z"})),
                         {"$timestamptz": "2026-01-02T03:04:05.000000+00:00"})

    def test_refuses_malformed(self):
        bad = [
            [1, 2], {}, {"a": 1}, {"$nope": "x"}, {"$int8": "1", "$date": "2026-01-02"},
            2**64, {"$int8": "9223372036854775808"}, {"$int8": 5}, {"$int8": " 5"}, {"$int8": "1_000"},
            {"$int8": "٣"},  # a non-ASCII digit
            {"$float8": "inf"}, {"$float8": "nan"}, {"$float8": "1e999"},
            {"$numeric": "1,10"}, {"$numeric": "1_000"}, {"$numeric": " 1"}, {"$numeric": "Inf"},
            {"$bytes": "***"}, {"$bytes": "AP8"},
            {"$date": "2026-02-30"}, {"$date": "20260102"}, {"$date": "2026-1-2"},
            {"$timestamptz": "2026-01-02 03:04:05+00:00"}, {"$timestamptz": "2026-01-02T03:04:05"},
            {"$timestamp": "2026-01-02T03:04:05+01:00"}, {"$time": "25:00:00"},
            {"$interval_us": "1.5"}, {"$interval_us": 90},
            {"$uuid": "a0eebc999c0b4ef8bb6d6bb9bd380a11"}, {"$uuid": "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"},
            {"$json": "{nope"}, {"$json": "NaN"},
            {"$array": "x"}, {"$array": [[1]]}, {"$vector": ["1.5"]}, {"$vector": [True]}, {"$vector": "[1]"},
        ]
        for v in bad:
            with self.subTest(v=v):
                with self.assertRaises(ValueError_):
                    decode(v)

    def test_loads_refuses_nan_literals(self):
        with self.assertRaises(ValueError):
            values.loads('{"value": NaN}')


if __name__ == "__main__":
    unittest.main()
