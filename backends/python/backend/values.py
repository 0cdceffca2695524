"""The protocol's typed value encoding (PROTOCOL.md §3, "Values").

decode() is strict: a body that is not exactly what §3 allows is refused
(ValueError_, answered with category misuse), never guessed at. encode()
writes the canonical encoding, so echo answers what the golden fixtures
(protocol/testdata/values.jsonl) expect."""

import base64
import binascii
import datetime as dt
import decimal
import json
import math
import re
import uuid

MAX_SAFE = 2**53 - 1
INT8_MIN, INT8_MAX = -2**63, 2**63 - 1


class ValueError_(Exception):
    pass


class JsonText(str):
    """A JSON document's text (json/jsonb): kept as text so JSON null, big
    numbers and key order survive; drivers bind it as a string."""


class VectorText(str):
    """A vector parameter: the text form pgvector reads ("[1.0,0.5]"), which
    drivers without a vector type bind as a string; .floats keeps the
    elements so echo gives back a $vector."""

    def __new__(cls, floats):
        s = super().__new__(cls, "[" + ",".join(repr(f) for f in floats) + "]")
        s.floats = list(floats)
        return s


# Regular expressions use [0-9], not \d, which also matches non-ASCII digits.
_INT = re.compile(r"[+-]?[0-9]+\Z")
_FLOAT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")
_NUMERIC = re.compile(r"(NaN|[+-]?Infinity|[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?)\Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
_OFFSET = r"(Z|[+-][0-9]{2}:[0-9]{2})"
_TIMESTAMPTZ = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T" + _TIME + _OFFSET + r"\Z")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T" + _TIME + r"\Z")
_TIMEOFDAY = re.compile(_TIME + r"([+-][0-9]{2}:[0-9]{2})?\Z")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")


def encode(v):
    """Python value from a driver -> JSON-able protocol value, canonical."""
    if isinstance(v, JsonText) or type(v).__name__ == "JsonText":
        return {"$json": str(v)}
    if isinstance(v, VectorText):
        return {"$vector": list(v.floats)}
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        if -MAX_SAFE <= v <= MAX_SAFE:
            return v
        return {"$int8": str(v)}
    if isinstance(v, float):
        if math.isnan(v):
            return {"$float8": "NaN"}
        if math.isinf(v):
            return {"$float8": "Infinity" if v > 0 else "-Infinity"}
        return v
    if isinstance(v, decimal.Decimal):
        # Plain notation, scale kept: str() would write 1E-7.
        return {"$numeric": format(v, "f")}
    if isinstance(v, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(v)).decode("ascii")}
    if isinstance(v, dt.datetime):
        if v.tzinfo is None:
            return {"$timestamp": v.isoformat(timespec="microseconds")}
        return {"$timestamptz": v.isoformat(timespec="microseconds")}
    if isinstance(v, dt.date):
        return {"$date": v.isoformat()}
    if isinstance(v, dt.time):
        return {"$time": v.isoformat(timespec="microseconds")}
    if isinstance(v, dt.timedelta):
        return {"$interval_us": str(v // dt.timedelta(microseconds=1))}
    if isinstance(v, uuid.UUID):
        return {"$uuid": str(v)}
    if isinstance(v, dict):
        return {"$json": json.dumps(v, separators=(",", ":"), sort_keys=True)}
    if isinstance(v, (list, tuple)):
        return {"$array": [encode(x) for x in v]}
    # pgvector's Python type, numpy arrays and the like.
    if hasattr(v, "tolist"):
        return {"$vector": [float(x) for x in v.tolist()]}
    return str(v)


def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def loads(text):
    """json.loads without Python's NaN/Infinity extensions."""
    return json.loads(text, parse_constant=_reject_constant)


def _str_body(tag, x):
    if not isinstance(x, str):
        raise ValueError_(f"{tag}: the body must be a JSON string, got {json.dumps(x)[:80]}")
    return x


def _int8(tag, x):
    if not _INT.match(x):
        raise ValueError_(f"{tag}: {x!r} is not an integer")
    n = int(x)
    if not INT8_MIN <= n <= INT8_MAX:
        raise ValueError_(f"{tag}: {x} is out of int8 range")
    return n


def _number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def decode(v):
    """JSON protocol value from the client -> Python value for a driver."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        if not INT8_MIN <= v <= INT8_MAX:
            raise ValueError_(f"integer {v} does not fit int8")
        return v
    if isinstance(v, float):
        if math.isinf(v) or math.isnan(v):
            raise ValueError_("a float beyond float8 range")
        return v
    if isinstance(v, list):
        raise ValueError_("a bare JSON array is not a value (arrays travel as $array, vectors as $vector)")
    if not isinstance(v, dict) or len(v) != 1:
        raise ValueError_(f"a typed value has exactly one $tag, got {json.dumps(v)[:80]}")
    (tag, x), = v.items()
    if tag == "$array":
        if not isinstance(x, list):
            raise ValueError_("$array: the body must be a JSON array")
        return [decode(y) for y in x]
    if tag == "$vector":
        if not isinstance(x, list) or not all(_number(f) for f in x):
            raise ValueError_("$vector: the body must be a JSON array of numbers")
        return VectorText([float(f) for f in x])
    try:
        if tag == "$int8":
            return _int8(tag, _str_body(tag, x))
        if tag == "$float8":
            s = _str_body(tag, x)
            special = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
            if s in special:
                return special[s]
            if not _FLOAT.match(s):
                raise ValueError_(f"$float8: want NaN, Infinity, -Infinity or a decimal float, got {s!r}")
            f = float(s)
            if math.isinf(f):
                raise ValueError_(f"$float8: {s} is beyond float8 range")
            return f
        if tag == "$numeric":
            s = _str_body(tag, x)
            if not _NUMERIC.match(s):
                raise ValueError_(f"$numeric: {s!r} is not a decimal number")
            return decimal.Decimal(s)
        if tag == "$bytes":
            return base64.b64decode(_str_body(tag, x), validate=True)
        if tag == "$date":
            s = _str_body(tag, x)
            if not _DATE.match(s):
                raise ValueError_(f"$date: want YYYY-MM-DD, got {s!r}")
            return dt.date.fromisoformat(s)
        if tag == "$timestamptz":
            s = _str_body(tag, x)
            if not _TIMESTAMPTZ.match(s):
                raise ValueError_(f"$timestamptz: want RFC 3339 with an offset, e.g. 2026-01-02T03:04:05.123456+00:00, got {s!r}")
            return dt.datetime.fromisoformat(s[:-1] + "+00:00" if s.endswith("Z") else s)
        if tag == "$timestamp":
            s = _str_body(tag, x)
            if not _TIMESTAMP.match(s):
                raise ValueError_(f"$timestamp: want 2026-01-02T03:04:05.123456 without an offset, got {s!r}")
            return dt.datetime.fromisoformat(s)
        if tag == "$time":
            s = _str_body(tag, x)
            if not _TIMEOFDAY.match(s):
                raise ValueError_(f"$time: want HH:MM:SS[.ffffff], got {s!r}")
            return dt.time.fromisoformat(s)
        if tag == "$interval_us":
            return dt.timedelta(microseconds=_int8(tag, _str_body(tag, x)))
        if tag == "$uuid":
            s = _str_body(tag, x)
            if not _UUID.match(s):
                raise ValueError_(f"$uuid: want 8-4-4-4-12 hex digits, got {s!r}")
            return uuid.UUID(s)
        if tag == "$json":
            s = _str_body(tag, x)
            loads(s)  # must be a JSON document; the text itself is the value
            return JsonText(s)
    except ValueError_:
        raise
    except (ValueError, OverflowError, binascii.Error, decimal.InvalidOperation) as e:
        raise ValueError_(f"malformed {tag} value {json.dumps(x)[:80]}: {e}") from None
    raise ValueError_(f"unknown value tag {tag!r}")
