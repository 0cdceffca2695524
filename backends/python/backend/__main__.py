"""python3 -m backend --listen HOST:PORT: serve PROTOCOL.md."""

import argparse
import asyncio
import functools
import gc
import itertools
import json
import os
import platform
import sys
import time

from . import PROTOCOL_VERSION, memory, orm, params as schema, probes, values, webapp
from .drivers import ADAPTERS, EXECUTOR

MAX_MESSAGE = 16 * 1024 * 1024  # bytes per line, newline included
MAX_ID = 2**53 - 1
CLOSE_BOUND = 5  # seconds a left-open cursor may take to close when its engine closes
HERE = os.path.dirname(os.path.abspath(__file__))


def load_manifest():
    for p in (os.path.join(HERE, "manifest.json"),):
        if os.path.exists(p):
            with open(p) as f:
                return json.load(f)
    raise RuntimeError("manifest.json not found next to the backend")


MANIFEST = load_manifest()


class Fail(Exception):
    def __init__(self, category, message, sqlstate=""):
        super().__init__(message)
        self.category, self.message, self.sqlstate = category, message, sqlstate


def classify(e):
    """An exception from a driver -> the protocol's error object."""
    if isinstance(e, Fail):
        return {"category": e.category, "sqlstate": e.sqlstate, "message": e.message}
    base = e
    try:
        import sqlalchemy.exc
        if isinstance(e, sqlalchemy.exc.DBAPIError) and e.orig is not None:
            base = e.orig
    except ImportError:
        pass
    sqlstate = getattr(base, "sqlstate", None) or ""
    msg = str(e) or type(e).__name__
    kind = f"{type(base).__module__}.{type(base).__qualname__}"
    low = msg.lower()
    if isinstance(e, (asyncio.TimeoutError, TimeoutError)) or type(base).__name__.endswith("Timeout"):
        cat = "timeout"
    elif sqlstate.startswith("28") or "password authentication failed" in low:
        cat = "authentication"
    elif sqlstate == "57014":
        cat = "timeout"
    elif sqlstate.startswith("08") or sqlstate in ("57P01", "57P02", "57P03"):
        cat = "connection"
    elif sqlstate:
        cat = "sql"
    elif isinstance(base, (OSError, ConnectionError)) or "connection" in low and ("failed" in low or "closed" in low or "refused" in low):
        cat = "connection"
    elif isinstance(e, (NotImplementedError,)):
        cat = "unsupported"
    elif isinstance(e, (values.ValueError_, IndexError, KeyError, TypeError, ValueError)):
        cat = "misuse"
    else:
        cat = "sql" if "psycopg" in kind or "asyncpg" in kind else "misuse"
    return {"category": cat, "sqlstate": sqlstate, "message": msg, "type": kind}


class Session:
    """One client connection: its objects and in-flight requests."""

    def __init__(self, writer):
        self.writer = writer
        self.wlock = asyncio.Lock()
        self.objects = {}  # id -> (kind, obj, lock, extra)
        self.seq = itertools.count(1)
        self.tasks = {}
        self.hello = False

    def put(self, kind, obj, lock=None, **extra):
        oid = f"{kind[0]}{next(self.seq)}"
        self.objects[oid] = {"kind": kind, "obj": obj, "lock": lock or asyncio.Lock(), **extra}
        return oid

    def get(self, oid, *kinds):
        o = self.objects.get(oid)
        if o is None or o["kind"] not in kinds:
            raise Fail("misuse", f"no open {' or '.join(kinds)} with id {oid!r}")
        return o

    async def send(self, msg):
        data = json.dumps(msg, separators=(",", ":"), allow_nan=False).encode() + b"\n"
        if len(data) > MAX_MESSAGE:
            msg = {"id": msg.get("id"), "error": {"category": "protocol", "sqlstate": "",
                                                  "message": f"response of {len(data)} bytes exceeds the {MAX_MESSAGE}-byte limit"}}
            data = json.dumps(msg).encode() + b"\n"
        async with self.wlock:
            self.writer.write(data)
            await self.writer.drain()

    async def close_cursors_of(self, engine_id):
        """Closes the cursors a query on the engine opened and the client
        left open: each holds one of the engine's connections, and a pool
        may wait for every connection before it closes (asyncpg does)."""
        for oid, o in list(self.objects.items()):
            if o["kind"] == "kursor" and o.get("engine") == engine_id:
                del self.objects[oid]
                try:
                    await asyncio.wait_for(o["obj"].close(), CLOSE_BOUND)
                except Exception:
                    pass  # the engine's close ends the connection anyway

    async def close_all(self):
        for t in list(self.tasks.values()):
            t.cancel()
        for oid, o in list(self.objects.items()):
            if o["kind"] == "engine":
                await self.close_cursors_of(oid)
        for oid, o in reversed(list(self.objects.items())):
            try:
                if o["kind"] == "engine":
                    if o.get("stop_web"):
                        await o["stop_web"]()
                    await o["obj"].close()
            except Exception:
                pass
        self.objects.clear()


def params_of(p, key="params"):
    return [values.decode(v) for v in p.get(key) or []]


def need(p, key):
    if key not in p:
        raise Fail("protocol", f"missing parameter {key!r}")
    return p[key]


def encode_rows(rows):
    return [[values.encode(v) for v in r] for r in rows]


async def querier(s, target):
    """An engine runs statements on a connection borrowed for the call."""
    o = s.get(target, "engine", "conn", "tx")
    return o


async def on_querier(s, target, fn):
    o = s.get(target, "engine", "conn", "tx")
    if o["kind"] == "engine":
        c = await o["obj"].acquire()
        try:
            return await fn(c)
        finally:
            await c.release()
    async with o["lock"]:
        return await fn(o["obj"])


async def m_hello(s, p):
    v = p.get("protocol")
    if v != PROTOCOL_VERSION:
        raise Fail("protocol", f"protocol version {v!r} not supported; this backend speaks {PROTOCOL_VERSION}")
    s.hello = True
    return {"protocol": PROTOCOL_VERSION, "backend": MANIFEST["backend"]}


async def m_describe(s, p):
    out = []
    for a in MANIFEST["adapters"]:
        ad = ADAPTERS[a["name"]]
        out.append(dict(a, driver_version=ad.driver_version()))
    return {"backend": MANIFEST["backend"], "protocol": PROTOCOL_VERSION,
            "language": f"Python {platform.python_version()}", "adapters": out}


def adapter_of(p):
    name = need(p, "adapter")
    if name not in ADAPTERS:
        raise Fail("misuse", f"unknown adapter {name!r} (this backend serves {', '.join(ADAPTERS)})")
    return ADAPTERS[name]


async def m_engine_open(s, p):
    ad = adapter_of(p)
    e = await ad.open(need(p, "dsn"), int(p.get("pool_max") or 0), p.get("application_name") or "", p.get("profile") or "postgres")
    return {"engine": s.put("engine", e, adapter=ad.name, is_async=ad.is_async)}


async def m_engine_close(s, p):
    o = s.get(need(p, "engine"), "engine")
    del s.objects[p["engine"]]
    await s.close_cursors_of(p["engine"])
    if o.get("stop_web"):
        await o["stop_web"]()
    await o["obj"].close()
    return {}


async def m_engine_introspect(s, p):
    return await s.get(need(p, "engine"), "engine")["obj"].introspect()


async def m_engine_bench(s, p):
    n = int(need(p, "n"))
    if n < 0 or n > 1_000_000:
        raise Fail("misuse", f"n={n}: want 0..1000000")
    engine = s.get(need(p, "engine"), "engine")["obj"]
    # The process has served every other spec of the run: its heap is far
    # larger than an application's. Frozen, it stays out of the collector's
    # way, so a side that allocates more (the async one) pays for its own
    # garbage, not for scanning the leftovers of earlier sessions. (No
    # gc.collect() first: a full collection of that heap costs tens of
    # milliseconds per call, and FR-013 makes ~20 calls a round; garbage
    # frozen for the call is collected after it.)
    gc.freeze()
    try:
        d = await engine.bench(need(p, "sql"), n)
    finally:
        gc.unfreeze()
    return {"durations_ns": d}


async def m_conn_acquire(s, p):
    e = s.get(need(p, "engine"), "engine")
    c = await e["obj"].acquire()
    return {"conn": s.put("conn", c, engine=p["engine"])}


async def m_conn_release(s, p):
    o = s.get(need(p, "conn"), "conn")
    async with o["lock"]:
        del s.objects[p["conn"]]
        await o["obj"].release()
    return {}


async def m_execute(s, p):
    sql, args = need(p, "sql"), params_of(p)
    return {"rowcount": await on_querier(s, need(p, "on"), lambda q: q.execute(sql, args))}


async def m_executemany(s, p):
    sql = need(p, "sql")
    rows = [[values.decode(v) for v in r] for r in need(p, "rows")]
    return {"rowcount": await on_querier(s, need(p, "on"), lambda q: q.executemany(sql, rows))}


async def m_query(s, p):
    sql, args, target = need(p, "sql"), params_of(p), need(p, "on")
    stream = p.get("stream", False)
    if not isinstance(stream, bool):
        raise Fail("protocol", f"stream: want true or false, got {stream!r}")
    o = s.get(target, "engine", "conn", "tx")
    if o["kind"] == "engine":
        # The engine's query path, which engine.bench times (drivers.py):
        # a cursor left with rows to read holds its borrowed connection
        # until it is closed.
        cur = await o["obj"].query_cursor(sql, args, stream)
        return {"cursor": s.put("kursor", cur, engine=target), "columns": cur.columns}
    async with o["lock"]:
        cur = await o["obj"].query(sql, args, stream)
    return {"cursor": s.put("kursor", cur, lock=o["lock"]), "columns": cur.columns}


async def m_fetch(s, p, how):
    o = s.get(need(p, "cursor"), "kursor")
    async with o["lock"]:
        cur = o["obj"]
        if how == "one":
            r = await cur.fetchone()
            return {"row": None if r is None else encode_rows([r])[0]}
        if how == "many":
            return {"rows": encode_rows(await cur.fetchmany(int(need(p, "n"))))}
        return {"rows": encode_rows(await cur.fetchall())}


async def m_cursor_close(s, p):
    o = s.get(need(p, "cursor"), "kursor")
    del s.objects[p["cursor"]]
    async with o["lock"]:
        await o["obj"].close()
    return {}


async def m_tx_begin(s, p):
    c = s.get(need(p, "conn"), "conn")
    async with c["lock"]:
        t = await c["obj"].begin()
    return {"tx": s.put("tx", t, lock=c["lock"])}


async def m_tx_end(s, p, commit):
    o = s.get(need(p, "tx"), "tx")
    del s.objects[p["tx"]]
    async with o["lock"]:
        await (o["obj"].commit() if commit else o["obj"].rollback())
    return {}


async def m_webapp_start(s, p):
    o = s.get(need(p, "engine"), "engine")
    if o["adapter"] not in ("sqlalchemy-async", "sqlalchemy-sync"):
        raise Fail("unsupported", f"adapter {o['adapter']} has no web app")
    if o.get("stop_web"):
        return {"port": o["web_port"]}
    eng = o["obj"].engine if o["is_async"] else o["obj"].wrapped.engine
    port, stop = await webapp.start(eng, o["is_async"], p.get("search_sql") or "", [int(x) for x in p.get("ports") or []],
                                    p.get("sleep_sql") or "")
    o["stop_web"], o["web_port"] = stop, port
    return {"port": port}


async def m_orm_run(s, p):
    o = s.get(need(p, "engine"), "engine")
    if o["adapter"] not in ("sqlalchemy-async", "sqlalchemy-sync"):
        raise Fail("unsupported", f"adapter {o['adapter']} has no ORM")
    table, ops = need(p, "table"), need(p, "ops")
    if not isinstance(table, str) or not table or not isinstance(ops, list):
        raise Fail("misuse", "orm.run wants a table name and a list of ops")
    if o["is_async"]:
        results = await orm.run_async(o["obj"].engine, table, ops)
    else:
        loop = asyncio.get_running_loop()
        results = await loop.run_in_executor(EXECUTOR, functools.partial(orm.run_sync, o["obj"].wrapped.engine, table, ops))
    return {"results": results}


async def m_probe(s, p, fn):
    adapter_of(p)
    try:
        return await fn(need(p, "adapter"), p.get("dsn") or "", p.get("profile") or "postgres")
    except NotImplementedError as e:
        raise Fail("unsupported", str(e))


async def m_echo(s, p):
    return {"value": values.encode(values.decode(p["value"]))}


async def m_process_memory(s, p):
    try:
        return memory.read(bool(p.get("reset_peak")))
    except memory.Unsupported as e:
        raise Fail("unsupported", str(e))


async def m_cancel(s, p):
    t = s.tasks.get(need(p, "request"))
    # Once only: a request already being cancelled (its timeout_ms passed)
    # is recovering its driver connection (psycopg waits for its own
    # CancelRequest to land); a second cancel would interrupt that.
    if t is not None and not t.cancelling():
        t.cancel()
    return {"cancelled": t is not None}


METHODS = {
    "hello": m_hello,
    "describe": m_describe,
    "echo": m_echo,
    "cancel": m_cancel,
    "engine.open": m_engine_open,
    "engine.close": m_engine_close,
    "engine.introspect": m_engine_introspect,
    "engine.bench": m_engine_bench,
    "conn.acquire": m_conn_acquire,
    "conn.release": m_conn_release,
    "execute": m_execute,
    "executemany": m_executemany,
    "query": m_query,
    "cursor.fetchone": lambda s, p: m_fetch(s, p, "one"),
    "cursor.fetchmany": lambda s, p: m_fetch(s, p, "many"),
    "cursor.fetchall": lambda s, p: m_fetch(s, p, "all"),
    "cursor.close": m_cursor_close,
    "tx.begin": m_tx_begin,
    "tx.commit": lambda s, p: m_tx_end(s, p, True),
    "tx.rollback": lambda s, p: m_tx_end(s, p, False),
    "webapp.start": m_webapp_start,
    "orm.run": m_orm_run,
    "probe.sync_misuse": lambda s, p: m_probe(s, p, probes.sync_misuse),
    "probe.missing_async_dependency": lambda s, p: m_probe(s, p, probes.missing_async_dependency),
    "process.memory": m_process_memory,
}
assert set(METHODS) == set(schema.SCHEMA), "every method has a params schema"


async def dispatch(s, req):
    rid = req.get("id")
    try:
        method = req.get("method")
        if not isinstance(method, str):
            raise Fail("protocol", "request without a method")
        if method not in METHODS:
            raise Fail("protocol", f"unknown method {method!r}")
        if not s.hello and method != "hello":
            raise Fail("protocol", "the first request must be hello")
        params = req.get("params")
        params = {} if params is None else params
        if not isinstance(params, dict):
            raise Fail("protocol", "params must be an object")
        try:
            schema.check(method, params)
        except schema.Invalid as e:
            raise Fail("protocol", str(e))
        timeout = req.get("timeout_ms")
        if timeout is not None and not (isinstance(timeout, int) and not isinstance(timeout, bool) and timeout >= 0):
            raise Fail("protocol", "timeout_ms must be a non-negative integer")
        coro = METHODS[method](s, params)
        if timeout:
            result = await asyncio.wait_for(coro, timeout / 1000)
        else:
            result = await coro
        msg = {"id": rid, "result": result}
    except asyncio.CancelledError:
        msg = {"id": rid, "error": {"category": "timeout", "sqlstate": "", "message": "cancelled by the client"}}
    except Exception as e:
        msg = {"id": rid, "error": classify(e)}
    # The id is free again before the client can see the answer.
    s.tasks.pop(rid, None)
    await s.send(msg)


async def serve_client(reader, writer):
    s = Session(writer)
    try:
        while True:
            try:
                line = await reader.readuntil(b"\n")
            except asyncio.IncompleteReadError:
                break
            except asyncio.LimitOverrunError:
                await s.send({"id": None, "error": {"category": "protocol", "sqlstate": "",
                                                    "message": f"message exceeds the {MAX_MESSAGE}-byte limit; closing the connection"}})
                break
            try:
                req = values.loads(line)
                rid = req.get("id") if isinstance(req, dict) else None
                if not isinstance(rid, int) or isinstance(rid, bool) or not 0 <= rid <= MAX_ID:
                    raise ValueError("a request is an object with an integer id from 0 to 2^53-1")
            except ValueError as e:
                await s.send({"id": None, "error": {"category": "protocol", "sqlstate": "", "message": f"malformed request: {e}"}})
                continue
            if req["id"] in s.tasks:
                await s.send({"id": req["id"], "error": {"category": "protocol", "sqlstate": "", "message": "request id already in flight"}})
                continue
            s.tasks[req["id"]] = asyncio.create_task(dispatch(s, req))
    finally:
        await s.close_all()
        writer.close()


async def start_server(host, port):
    """The protocol server on host:port (port 0: any free port)."""
    # The reader refuses a line whose newline comes after limit bytes: so a
    # line of MAX_MESSAGE bytes, newline included, is the longest accepted.
    return await asyncio.start_server(serve_client, host, port, limit=MAX_MESSAGE - 1)


async def main(listen):
    host, _, port = listen.rpartition(":")
    server = await start_server(host or "0.0.0.0", int(port))
    print(f"pgwire-conformance python backend: protocol {PROTOCOL_VERSION} listening on {listen}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(prog="python3 -m backend")
    ap.add_argument("--listen", default="0.0.0.0:7687")
    args = ap.parse_args()
    try:
        asyncio.run(main(args.listen))
    except KeyboardInterrupt:
        pass
