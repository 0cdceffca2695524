"""Replaying the golden fixtures (protocol/testdata, PROTOCOL.md §7) against
the backend's protocol server on a loopback socket, with the fixtures'
matching rules."""

import asyncio
import json
import math
import os

ANY, ABSENT_OR_ANY = "<any>", "<absent-or-any>"
MAX_MESSAGE = 16 * 1024 * 1024
EXCHANGE_TIMEOUT = 30


def fixtures_dir():
    """$PGWC_FIXTURES, else protocol/testdata above this file (a checkout)."""
    d = os.environ.get("PGWC_FIXTURES")
    if d:
        return d
    here = os.path.dirname(os.path.abspath(__file__))
    while True:
        cand = os.path.join(here, "protocol", "testdata")
        if os.path.isdir(cand):
            return cand
        parent = os.path.dirname(here)
        if parent == here:
            raise RuntimeError("golden fixtures not found: set PGWC_FIXTURES to protocol/testdata "
                               "(scripts/backend-unit-tests.sh mounts it at /fixtures)")
        here = parent


def load(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if line.strip():
                e = json.loads(line)
                e["line"] = i
                out.append(e)
    return out


def _same_number(p, r):
    if isinstance(p, bool) or isinstance(r, bool):
        return False
    if isinstance(p, int) and isinstance(r, int):
        return p == r
    if isinstance(p, float) and isinstance(r, float):
        return p == r and math.copysign(1, p) == math.copysign(1, r)
    return False  # an integer never matches a float


def match(p, r, at="$", error_object=False):
    """None when response r matches pattern p, else what differs."""
    if p == ANY and isinstance(p, str):
        return None
    if isinstance(p, dict):
        if not isinstance(r, dict):
            return f"{at}: want an object, got {json.dumps(r)[:80]}"
        for k, want in p.items():
            if want == ABSENT_OR_ANY:
                continue
            if k not in r:
                return f"{at}: key {k!r} is missing"
            d = match(want, r[k], f"{at}.{k}", at == "$" and k == "error")
            if d:
                return d
        for k in r:
            if k not in p and not (error_object and k == "type"):
                return f"{at}: unexpected key {k!r}"
        return None
    if isinstance(p, list):
        if not isinstance(r, list) or len(r) != len(p):
            return f"{at}: want an array of {len(p)}, got {json.dumps(r)[:80]}"
        for i, (a, b) in enumerate(zip(p, r)):
            d = match(a, b, f"{at}[{i}]")
            if d:
                return d
        return None
    if isinstance(p, (int, float)) and not isinstance(p, bool):
        return None if _same_number(p, r) else f"{at}: want {p!r}, got {r!r}"
    if p is None or isinstance(p, (str, bool)):
        return None if (type(p) is type(r) and p == r) else f"{at}: want {json.dumps(p)}, got {json.dumps(r)[:80]}"
    return f"{at}: unexpected pattern {p!r}"


def line_of(e):
    if "send" in e:
        return json.dumps(e["send"], separators=(",", ":")).encode() + b"\n"
    if "send_raw" in e:
        return e["send_raw"].encode() + b"\n"
    b = e["send_big"]
    n = b["size"] - len(b["head"]) - len(b["tail"]) - 1
    return (b["head"] + b["fill"] * n + b["tail"]).encode() + b"\n"


async def replay(host, port, exchanges, name):
    """Replay one fixture file on a fresh connection; returns the failures."""
    reader, writer = await asyncio.open_connection(host, port, limit=MAX_MESSAGE + 1)
    failures = []
    try:
        for e in exchanges:
            where = f"{name}:{e['line']} ({e['name']})"
            writer.write(line_of(e))
            drain = asyncio.ensure_future(writer.drain())
            if "expect" in e:
                try:
                    line = await asyncio.wait_for(reader.readuntil(b"\n"), EXCHANGE_TIMEOUT)
                except (asyncio.IncompleteReadError, ConnectionError, asyncio.TimeoutError) as err:
                    failures.append(f"{where}: no response: {err!r}")
                    drain.cancel()
                    return failures
                d = match(e["expect"], json.loads(line))
                if d:
                    failures.append(f"{where}: {d}\n  expected: {json.dumps(e['expect'])}\n  got:      {line[:300]!r}")
            if e.get("expect_close"):
                try:
                    rest = await asyncio.wait_for(reader.read(1), EXCHANGE_TIMEOUT)
                    if rest:
                        failures.append(f"{where}: the backend must close the connection, it sent more")
                except ConnectionError:
                    pass
                except asyncio.TimeoutError:
                    failures.append(f"{where}: the backend must close the connection; still open")
                drain.cancel()
                return failures
            try:
                await asyncio.wait_for(drain, EXCHANGE_TIMEOUT)
            except ConnectionError as err:
                failures.append(f"{where}: send: {err!r}")
                return failures
    finally:
        writer.close()
    return failures
