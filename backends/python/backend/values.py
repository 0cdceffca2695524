"""The protocol's typed value encoding (PROTOCOL.md, "Values")."""

import base64
import datetime as dt
import decimal
import json
import math
import uuid

MAX_SAFE = 2**53 - 1


class ValueError_(Exception):
    pass


def encode(v):
    """Python value from a driver -> JSON-able protocol value."""
    if type(v).__name__ == "JsonText":
        return {"$json": str(v)}
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
        return {"$numeric": str(v)}
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


def decode(v):
    """JSON protocol value from the client -> Python value for a driver."""
    if v is None or isinstance(v, (bool, str, int, float)):
        return v
    if isinstance(v, list):
        return [decode(x) for x in v]
    if not isinstance(v, dict) or len(v) != 1:
        raise ValueError_(f"not a protocol value: {json.dumps(v)[:80]}")
    (tag, x), = v.items()
    try:
        if tag == "$int8":
            return int(x)
        if tag == "$float8":
            return float({"Infinity": "inf", "-Infinity": "-inf"}.get(x, x))
        if tag == "$numeric":
            return decimal.Decimal(x)
        if tag == "$bytes":
            return base64.b64decode(x, validate=True)
        if tag == "$date":
            return dt.date.fromisoformat(x)
        if tag == "$timestamptz":
            t = dt.datetime.fromisoformat(x.replace("Z", "+00:00"))
            if t.tzinfo is None:
                raise ValueError_(f"$timestamptz without an offset: {x}")
            return t
        if tag == "$timestamp":
            return dt.datetime.fromisoformat(x)
        if tag == "$time":
            return dt.time.fromisoformat(x)
        if tag == "$interval_us":
            return dt.timedelta(microseconds=int(x))
        if tag == "$uuid":
            return uuid.UUID(x)
        if tag == "$json":
            return json.loads(x)
        if tag == "$array":
            return [decode(y) for y in x]
        if tag == "$vector":
            # Drivers without a vector type bind the text form pgvector reads.
            return "[" + ",".join(repr(float(f)) for f in x) + "]"
    except ValueError_:
        raise
    except Exception as e:  # malformed payload of a known tag
        raise ValueError_(f"malformed {tag} value {json.dumps(x)[:80]}: {e}") from None
    raise ValueError_(f"unknown value tag {tag!r}")
