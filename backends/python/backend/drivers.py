"""The five adapters this backend serves. Every adapter exposes the same
async object model (Engine, Conn, Tx, Cursor; PROTOCOL.md "Objects"); the
sync drivers are written sync and run on a thread pool (see Threaded) so the
protocol loop never blocks."""

import asyncio
import ssl
import collections
import concurrent.futures
import contextlib
import functools
import re
import threading
import time
import urllib.parse

from .sqlconv import to_format, to_named
from .values import JsonText

# Sync drivers run here. Threads cannot be cancelled, so a call the client
# gave up on (a pool wait of 30 s) keeps its thread: the pool is large so
# such calls cannot starve the others. Big enough that the concurrency specs (50
# callers) are limited by the engine's pool, not by threads.
EXECUTOR = concurrent.futures.ThreadPoolExecutor(max_workers=256, thread_name_prefix="sync-driver")


def qualname(obj_or_type):
    t = obj_or_type if isinstance(obj_or_type, type) else type(obj_or_type)
    return f"{t.__module__}.{t.__qualname__}"


def type_name(oid):
    import psycopg
    t = psycopg.adapters.types.get(oid) if oid is not None else None
    return t.name if t else f"oid:{oid}"


class Buffered:
    """A cursor over rows already read from the driver."""

    complete = True  # nothing left on the connection

    def __init__(self, columns, rows):
        self.columns = columns
        self._rows = list(rows)
        self._i = 0

    def fetchone(self):
        if self._i >= len(self._rows):
            return None
        self._i += 1
        return self._rows[self._i - 1]

    def fetchmany(self, n):
        out = self._rows[self._i:self._i + n]
        self._i += len(out)
        return out

    def fetchall(self):
        out = self._rows[self._i:]
        self._i = len(self._rows)
        return out

    def close(self):
        self._rows = []

    def on_loop(self):
        """The same rows behind the async cursor methods."""
        return AsyncBuffered(self.columns, self._rows[self._i:])


class AsyncBuffered(Buffered):
    def on_loop(self):
        return self

    async def fetchone(self):
        return Buffered.fetchone(self)

    async def fetchmany(self, n):
        return Buffered.fetchmany(self, n)

    async def fetchall(self):
        return Buffered.fetchall(self)

    async def close(self):
        Buffered.close(self)


# A caller's deadline on a sync driver: the statement runs on an EXECUTOR
# thread, which asyncio cannot interrupt. While a driver call runs, the
# thread registers how to cancel it (the driver's own cancel, e.g. psycopg's
# Connection.cancel_safe, which sends a CancelRequest); when the awaiting
# request is cancelled (timeout_ms passed, or the client's `cancel`), the
# statement is cancelled on the server, as an application enforcing a
# deadline on a sync driver does from another thread.
_RUNNING = {}  # thread id -> the cancel function of the statement it runs
_RUNNING_LOCK = threading.Lock()


@contextlib.contextmanager
def cancellable(cancel):
    """Marks the current thread's driver call as cancellable by cancel()."""
    tid = threading.get_ident()
    with _RUNNING_LOCK:
        _RUNNING[tid] = cancel
    try:
        yield
    finally:
        with _RUNNING_LOCK:
            _RUNNING.pop(tid, None)


def _cancel_thread(tid):
    with _RUNNING_LOCK:
        cancel = _RUNNING.get(tid)
    if cancel is not None:
        try:
            cancel()
        except Exception:
            pass  # best effort: the statement may have just finished


class Threaded:
    """Runs a sync object's methods on EXECUTOR; objects they return
    (connections, transactions, cursors) come back wrapped too. Cancelling
    the awaiting coroutine cancels the driver statement the thread runs."""

    def __init__(self, obj):
        self._obj = obj

    def __getattr__(self, name):
        attr = getattr(self._obj, name)
        if not callable(attr):
            return attr

        async def call(*a, **kw):
            loop = asyncio.get_running_loop()
            where = {}

            def run():
                where["tid"] = threading.get_ident()
                return attr(*a, **kw)

            fut = loop.run_in_executor(EXECUTOR, run)
            try:
                r = await asyncio.shield(fut)
            except asyncio.CancelledError:
                # What the call still returns nobody will hold: give it back.
                fut.add_done_callback(_discard)
                if "tid" in where:
                    await loop.run_in_executor(None, _cancel_thread, where["tid"])
                raise
            if isinstance(r, Buffered):
                return r.on_loop()  # rows in memory: fetching needs no thread
            if isinstance(r, SyncObject):
                return Threaded(r)
            return r
        return call

    @property
    def wrapped(self):
        return self._obj


class SyncObject:
    def discard(self):
        """Called when the caller gave up on the call that returned this
        object: let go of what it holds (a cursor's borrowed connection, an
        acquired connection), or the pool keeps it forever."""


def _discard(fut):
    if fut.cancelled() or fut.exception() is not None:
        return
    r = fut.result()
    if isinstance(r, SyncObject):
        EXECUTOR.submit(r.discard)


# The query path of an engine (PROTOCOL.md, engine.bench): borrow a
# connection, run the statement exactly as Conn.query does, fetch every row,
# close the cursor, give the connection back. The `query` request on an
# engine calls query_all, and engine.bench times query_all itself, so FR-013
# measures what an application runs and nothing cheaper.

class AsyncEngineBase:
    async def query_cursor(self, sql, params, stream=False):
        """A cursor on a connection borrowed for the cursor's life (as a
        pool's Query holds one until its rows are closed): a streaming
        driver streams from an engine too."""
        conn = await self.acquire()
        try:
            cur = await conn.query(sql, params, stream)
            if not getattr(cur, "complete", False):
                return AsyncBorrowed(cur, conn)
            try:  # all read already: the connection goes back at once
                rows = await cur.fetchall()
            finally:
                await cur.close()
        except BaseException:
            await conn.release()
            raise
        await conn.release()
        return AsyncBuffered(cur.columns, rows)

    async def query_all(self, sql, params):
        cur = await self.query_cursor(sql, params)
        try:
            return cur.columns, await cur.fetchall()
        finally:
            await cur.close()

    async def bench(self, sql, n):
        out = []
        for _ in range(n):
            t0 = time.perf_counter_ns()
            await self.query_all(sql, [])
            out.append(time.perf_counter_ns() - t0)
        return out


class SyncEngineBase(SyncObject):
    """The sync twin: query_all and bench run on one EXECUTOR thread each
    (Threaded), so the timed code is the driver's, not the thread hop."""

    def query_cursor(self, sql, params, stream=False):
        conn = self.acquire()
        try:
            cur = conn.query(sql, params, stream)
            if not getattr(cur, "complete", False):
                return Borrowed(cur, conn)
            try:
                rows = cur.fetchall()
            finally:
                cur.close()
        except BaseException:
            conn.release()
            raise
        conn.release()
        return Buffered(cur.columns, rows)

    def query_all(self, sql, params):
        cur = self.query_cursor(sql, params)
        try:
            return cur.columns, cur.fetchall()
        finally:
            cur.close()

    def bench(self, sql, n):
        out = []
        for _ in range(n):
            t0 = time.perf_counter_ns()
            self.query_all(sql, [])
            out.append(time.perf_counter_ns() - t0)
        return out


class Borrowed(SyncObject):
    """An engine's cursor: closing it gives its connection back."""

    def __init__(self, cur, conn):
        self.cur, self.conn, self.columns = cur, conn, cur.columns

    def fetchone(self):
        return self.cur.fetchone()

    def fetchmany(self, n):
        return self.cur.fetchmany(n)

    def fetchall(self):
        return self.cur.fetchall()

    def close(self):
        try:
            self.cur.close()
        finally:
            self.conn.release()

    discard = close


class AsyncBorrowed:
    def __init__(self, cur, conn):
        self.cur, self.conn, self.columns = cur, conn, cur.columns

    async def fetchone(self):
        return await self.cur.fetchone()

    async def fetchmany(self, n):
        return await self.cur.fetchmany(n)

    async def fetchall(self):
        return await self.cur.fetchall()

    async def close(self):
        try:
            await self.cur.close()
        finally:
            await self.conn.release()


def _format_many(sql, rows):
    if not rows:
        return to_format(sql, [])[0], []
    q, _ = to_format(sql, list(range(len(rows[0]))))
    idx = to_format(sql, list(range(len(rows[0]))))[1]
    return q, [[r[i] for i in idx] for r in rows]


def _parse_dsn(dsn):
    """The suite's DSN (postgres://…) split into URL without query and params."""
    u = urllib.parse.urlsplit(dsn)
    params = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
    return u, params


def _columns_from_description(desc):
    if not desc:
        return []
    return [{"name": d[0], "type": type_name(d[1])} for d in desc]


# ---------------------------------------------------------------- psycopg 3

def _json_as_text():
    """json and jsonb come back as their text, as from the Go adapters: a
    parsed Python value could not tell JSON null or a big JSON number apart
    from SQL values. (asyncpg returns the text already.)"""
    import psycopg
    from psycopg.adapt import Loader

    class JsonTextLoader(Loader):
        def load(self, data):
            return JsonText(bytes(data).decode())

    for name in ("json", "jsonb"):
        psycopg.adapters.register_loader(name, JsonTextLoader)


_json_as_text()


class PsycopgAsyncConn:
    def __init__(self, engine, conn):
        self.engine, self.c = engine, conn

    async def execute(self, sql, params):
        q, p = to_format(sql, params)
        cur = await self.c.execute(q, p)
        return cur.rowcount

    async def executemany(self, sql, rows):
        q, rs = _format_many(sql, rows)
        async with self.c.cursor() as cur:
            await cur.executemany(q, rs)
            return cur.rowcount

    async def query(self, sql, params, stream=False):
        q, p = to_format(sql, params)
        if stream:
            return await PsycopgAsyncStream.open(self.c.cursor(), q, p)
        cur = self.c.cursor()
        await cur.execute(q, p)
        return PsycopgAsyncCursor(cur)

    async def begin(self):
        t = self.c.transaction()
        await t.__aenter__()
        return PsycopgAsyncTx(self, t)

    async def release(self):
        await self.engine.pool.putconn(self.c)


class PsycopgAsyncTx:
    def __init__(self, conn, t):
        self.conn, self.t = conn, t
        self.execute, self.executemany, self.query = conn.execute, conn.executemany, conn.query

    async def commit(self):
        await self.t.__aexit__(None, None, None)

    async def rollback(self):
        import psycopg
        exc = psycopg.Rollback(self.t)
        await self.t.__aexit__(type(exc), exc, None)


# psycopg's ordinary path (execute on a client-side cursor) receives the
# whole result before it returns: right for the usual small result, and
# what engine.bench times. Asked to stream (PROTOCOL.md `query`), the
# adapter reads the result as the server sends it (Cursor.stream, libpq's
# chunked-rows mode): a cursor then holds one chunk, never the whole result.
STREAM_ROWS = 1000


class PsycopgAsyncCursor:
    """A result psycopg has received whole (execute)."""

    complete = True

    def __init__(self, cur):
        self.cur = cur
        self.columns = _columns_from_description(cur.description)

    async def fetchone(self):
        if self.cur.description is None:
            return None
        r = await self.cur.fetchone()
        return list(r) if r is not None else None

    async def fetchmany(self, n):
        if self.cur.description is None:
            return []
        return [list(r) for r in await self.cur.fetchmany(n)]

    async def fetchall(self):
        if self.cur.description is None:
            return []
        return [list(r) for r in await self.cur.fetchall()]

    async def close(self):
        await self.cur.close()


class PsycopgSyncCursor(SyncObject):
    """A result psycopg has received whole (execute)."""

    complete = True

    def __init__(self, cur):
        self.cur = cur
        self.columns = _columns_from_description(cur.description)

    def fetchone(self):
        if self.cur.description is None:
            return None
        r = self.cur.fetchone()
        return list(r) if r is not None else None

    def fetchmany(self, n):
        return [list(r) for r in self.cur.fetchmany(n)] if self.cur.description is not None else []

    def fetchall(self):
        return [list(r) for r in self.cur.fetchall()] if self.cur.description is not None else []

    def close(self):
        self.cur.close()

    discard = close


def _stream_ended(err):
    """stream() raises this once a statement without rows (a command) has
    run: no error, a result without columns."""
    return str(err).startswith("the operation in stream() didn't produce a result")


def _described(pgconn):
    """The columns of an empty result: stream() keeps none when no row came,
    so ask the server to describe the statement just run (libpq's unnamed
    statement, alive until the next one)."""
    r = pgconn.describe_prepared(b"")
    return [{"name": r.fname(i).decode(), "type": type_name(r.ftype(i))} for i in range(r.nfields)]


class PsycopgAsyncStream:
    """The first chunk is read at once: it brings the columns and any
    error, and a result that fits in it is complete (its connection can go
    back to the pool before the caller fetches)."""

    def __init__(self, cur, rows, pending, columns):
        self.cur, self.rows, self.columns = cur, rows, columns
        self.pending = collections.deque(pending)
        self.complete = rows is None

    @classmethod
    async def open(cls, cur, q, p):
        import psycopg
        rows, pending = cur.stream(q, p, size=STREAM_ROWS), []
        try:
            async for r in rows:
                pending.append(r)
                if len(pending) > STREAM_ROWS:
                    return cls(cur, rows, pending, _columns_from_description(cur.description))
        except psycopg.ProgrammingError as err:
            if not _stream_ended(err):
                raise
            return cls(cur, None, [], [])
        if pending:
            return cls(cur, None, pending, _columns_from_description(cur.description))
        # libpq blocks: off the event loop (no one else uses this connection now).
        return cls(cur, None, [], await asyncio.to_thread(_described, cur.connection.pgconn))

    async def fetchone(self):
        if self.pending:
            return list(self.pending.popleft())
        if self.rows is None:
            return None
        r = await anext(self.rows, None)
        if r is None:
            self.rows = None
            return None
        return list(r)

    async def fetchmany(self, n):
        out = []
        while len(out) < n and (r := await self.fetchone()) is not None:
            out.append(r)
        return out

    async def fetchall(self):
        return await self.fetchmany(float("inf"))

    async def close(self):
        if self.rows is not None:
            await self.rows.aclose()  # psycopg cancels the rest and drains it
            self.rows = None
        await self.cur.close()


class PsycopgAsyncEngine(AsyncEngineBase):
    @classmethod
    async def open(cls, dsn, pool_max, app, profile):
        from psycopg_pool import AsyncConnectionPool
        e = cls()
        e.pool = AsyncConnectionPool(dsn, min_size=0, max_size=pool_max or 10, open=False,
                                     kwargs={"application_name": app, "autocommit": True})
        await e.pool.open(wait=False)
        return e

    async def acquire(self):
        return PsycopgAsyncConn(self, await self.pool.getconn())

    async def introspect(self):
        async with self.pool.connection() as c:
            return {"dialect": "", "is_async": True, "pool_class": qualname(self.pool), "connection_class": qualname(c)}

    async def close(self):
        await self.pool.close()


class PsycopgSyncConn(SyncObject):
    def __init__(self, engine, conn):
        self.engine, self.c = engine, conn

    def execute(self, sql, params):
        q, p = to_format(sql, params)
        with cancellable(self.c.cancel_safe):
            return self.c.execute(q, p).rowcount

    def executemany(self, sql, rows):
        q, rs = _format_many(sql, rows)
        with self.c.cursor() as cur, cancellable(self.c.cancel_safe):
            cur.executemany(q, rs)
            return cur.rowcount

    def query(self, sql, params, stream=False):
        q, p = to_format(sql, params)
        if stream:
            return PsycopgSyncStream.open(self.c, q, p)
        cur = self.c.cursor()
        with cancellable(self.c.cancel_safe):
            cur.execute(q, p)
        return PsycopgSyncCursor(cur)

    def begin(self):
        t = self.c.transaction()
        t.__enter__()
        return PsycopgSyncTx(self, t)

    def release(self):
        self.engine.pool.putconn(self.c)

    discard = release


class PsycopgSyncTx(SyncObject):
    def __init__(self, conn, t):
        self.conn, self.t = conn, t
        self.execute, self.executemany, self.query = conn.execute, conn.executemany, conn.query

    def commit(self):
        self.t.__exit__(None, None, None)

    def rollback(self):
        import psycopg
        exc = psycopg.Rollback(self.t)
        self.t.__exit__(type(exc), exc, None)


class PsycopgSyncStream(SyncObject):
    """PsycopgAsyncStream's sync twin (see there)."""

    def __init__(self, conn, cur, rows, pending, columns):
        self.conn, self.cur, self.rows, self.columns = conn, cur, rows, columns
        self.pending = collections.deque(pending)
        self.complete = rows is None

    @classmethod
    def open(cls, conn, q, p):
        import psycopg
        cur = conn.cursor()
        rows, pending = cur.stream(q, p, size=STREAM_ROWS), []
        try:
            with cancellable(conn.cancel_safe):
                for r in rows:
                    pending.append(r)
                    if len(pending) > STREAM_ROWS:
                        return cls(conn, cur, rows, pending, _columns_from_description(cur.description))
        except psycopg.ProgrammingError as err:
            if not _stream_ended(err):
                raise
            return cls(conn, cur, None, [], [])
        if pending:
            return cls(conn, cur, None, pending, _columns_from_description(cur.description))
        return cls(conn, cur, None, [], _described(conn.pgconn))

    def fetchone(self):
        if self.pending:
            return list(self.pending.popleft())
        if self.rows is None:
            return None
        with cancellable(self.conn.cancel_safe):
            r = next(self.rows, None)
        if r is None:
            self.rows = None
            return None
        return list(r)

    def fetchmany(self, n):
        out = []
        while len(out) < n and (r := self.fetchone()) is not None:
            out.append(r)
        return out

    def fetchall(self):
        return self.fetchmany(float("inf"))

    def close(self):
        if self.rows is not None:
            self.rows.close()  # psycopg cancels the rest and drains it
            self.rows = None
        self.cur.close()

    discard = close


class PsycopgSyncEngine(SyncEngineBase):
    @classmethod
    def open(cls, dsn, pool_max, app, profile):
        from psycopg_pool import ConnectionPool
        e = cls()
        e.pool = ConnectionPool(dsn, min_size=0, max_size=pool_max or 10, open=False,
                                kwargs={"application_name": app, "autocommit": True})
        e.pool.open(wait=False)
        return e

    def acquire(self):
        return PsycopgSyncConn(self, self.pool.getconn())

    def introspect(self):
        with self.pool.connection() as c:
            return {"dialect": "", "is_async": False, "pool_class": qualname(self.pool), "connection_class": qualname(c)}

    def close(self):
        self.pool.close()


# ---------------------------------------------------------------- SQLAlchemy 2.0

def sqlalchemy_url(dsn, profile):
    """The suite's postgres:// DSN as a SQLAlchemy URL for the profile's
    dialect: postgresql+psycopg:// (reference) or iris+psycopg:// (IRIS, when
    the sqlalchemy-iris dialect is installed)."""
    scheme = "iris+psycopg" if profile == "iris" else "postgresql+psycopg"
    u = urllib.parse.urlsplit(dsn)
    if u.scheme not in ("postgres", "postgresql"):
        raise ValueError(f"DSN scheme {u.scheme!r}: want postgres://")
    return urllib.parse.urlunsplit((scheme,) + tuple(u[1:]))


def _row(r):
    return list(r)


def _sa_columns(result):
    names = list(result.keys())
    if getattr(result, "cursor", None) is None:
        result = getattr(result, "_real_result", result)  # an AsyncResult's CursorResult
    desc = None
    try:
        desc = result.cursor.description if result.cursor is not None else None
    except Exception:
        desc = None
    if desc and len(desc) == len(names):
        return [{"name": n, "type": type_name(d[1])} for n, d in zip(names, desc)]
    return [{"name": n, "type": ""} for n in names]


class SAAsyncConn:
    def __init__(self, engine, conn):
        self.engine, self.c, self.tx = engine, conn, None

    async def _run(self, stmt, params):
        try:
            r = await self.c.execute(stmt, params)
        except BaseException:
            if self.tx is None and self.c.in_transaction():
                await self.c.rollback()
            raise
        return r

    async def _end(self):
        if self.tx is None and self.c.in_transaction():
            await self.c.commit()

    async def execute(self, sql, params):
        from sqlalchemy import text
        q, p = to_named(sql, params)
        r = await self._run(text(q), p)
        n = r.rowcount
        await self._end()
        return n

    async def executemany(self, sql, rows):
        from sqlalchemy import text
        q, _ = to_named(sql, rows[0] if rows else [])
        r = await self._run(text(q), [{f"p{i + 1}": v for i, v in enumerate(row)} for row in rows])
        n = r.rowcount
        await self._end()
        return n

    async def query(self, sql, params, stream=False):
        from sqlalchemy import text
        q, p = to_named(sql, params)
        if stream:
            # A server-side cursor (psycopg's named cursor), as
            # AsyncConnection.stream() gives an application.
            try:
                r = await self.c.stream(text(q), p)
            except BaseException:
                if self.tx is None and self.c.in_transaction():
                    await self.c.rollback()
                raise
            return SAAsyncStream(self, r)
        r = await self._run(text(q), p)
        if not r.returns_rows:
            await self._end()
            return AsyncBuffered([], [])
        cols = _sa_columns(r)
        rows = [_row(x) for x in r.fetchall()]
        await self._end()
        return AsyncBuffered(cols, rows)

    async def begin(self):
        self.tx = await self.c.begin()
        return SAAsyncTx(self)

    async def release(self):
        await self.c.close()


class SAAsyncStream:
    """Rows of a server-side cursor, a batch at a time; closing it ends the
    statement's transaction as the adapter's other statements end theirs."""

    complete = False

    def __init__(self, conn, result):
        self.conn, self.r = conn, result
        self.columns = _sa_columns(result)

    async def fetchone(self):
        r = await self.r.fetchone()
        return _row(r) if r is not None else None

    async def fetchmany(self, n):
        return [_row(x) for x in await self.r.fetchmany(n)]

    async def fetchall(self):
        return [_row(x) for x in await self.r.fetchall()]

    async def close(self):
        try:
            await self.r.close()
        finally:
            await self.conn._end()


class SAAsyncTx:
    def __init__(self, conn):
        self.conn = conn
        self.execute, self.executemany, self.query = conn.execute, conn.executemany, conn.query

    async def commit(self):
        t, self.conn.tx = self.conn.tx, None
        await t.commit()

    async def rollback(self):
        t, self.conn.tx = self.conn.tx, None
        await t.rollback()


class SAAsyncEngine(AsyncEngineBase):
    @classmethod
    async def open(cls, dsn, pool_max, app, profile):
        from sqlalchemy.ext.asyncio import create_async_engine
        e = cls()
        e.engine = create_async_engine(sqlalchemy_url(dsn, profile), pool_size=pool_max or 5, max_overflow=0,
                                       connect_args={"application_name": app})
        return e

    async def acquire(self):
        return SAAsyncConn(self, await self.engine.connect())

    async def introspect(self):
        async with self.engine.connect() as c:
            raw = await c.get_raw_connection()
            cc = qualname(raw.driver_connection)
        return {"dialect": qualname(self.engine.dialect), "is_async": bool(self.engine.dialect.is_async),
                "pool_class": qualname(self.engine.pool), "connection_class": cc}

    async def close(self):
        await self.engine.dispose()


class SASyncConn(SyncObject):
    def __init__(self, engine, conn):
        self.engine, self.c, self.tx = engine, conn, None

    def _run(self, stmt, params, options=None):
        try:
            with cancellable(lambda: self.c.connection.driver_connection.cancel_safe()):
                return self.c.execute(stmt, params, execution_options=options or {})
        except BaseException:
            if self.tx is None and self.c.in_transaction():
                self.c.rollback()
            raise

    def _end(self):
        if self.tx is None and self.c.in_transaction():
            self.c.commit()

    def execute(self, sql, params):
        from sqlalchemy import text
        q, p = to_named(sql, params)
        n = self._run(text(q), p).rowcount
        self._end()
        return n

    def executemany(self, sql, rows):
        from sqlalchemy import text
        q, _ = to_named(sql, rows[0] if rows else [])
        n = self._run(text(q), [{f"p{i + 1}": v for i, v in enumerate(row)} for row in rows]).rowcount
        self._end()
        return n

    def query(self, sql, params, stream=False):
        from sqlalchemy import text
        q, p = to_named(sql, params)
        if stream:
            # A server-side cursor (psycopg's named cursor), as
            # execution_options(stream_results=True) gives an application.
            return SASyncStream(self, self._run(text(q), p, {"stream_results": True, "max_row_buffer": 1000}))
        r = self._run(text(q), p)
        if not r.returns_rows:
            self._end()
            return Buffered([], [])
        cols = _sa_columns(r)
        rows = [_row(x) for x in r.fetchall()]
        self._end()
        return Buffered(cols, rows)

    def begin(self):
        self.tx = self.c.begin()
        return SASyncTx(self)

    def release(self):
        self.c.close()

    discard = release


class SASyncStream(SyncObject):
    """SAAsyncStream's sync twin."""

    complete = False

    def __init__(self, conn, result):
        self.conn, self.r = conn, result
        self.columns = _sa_columns(result)

    def fetchone(self):
        r = self.r.fetchone()
        return _row(r) if r is not None else None

    def fetchmany(self, n):
        return [_row(x) for x in self.r.fetchmany(n)]

    def fetchall(self):
        return [_row(x) for x in self.r.fetchall()]

    def close(self):
        try:
            self.r.close()
        finally:
            self.conn._end()

    discard = close


class SASyncTx(SyncObject):
    def __init__(self, conn):
        self.conn = conn
        self.execute, self.executemany, self.query = conn.execute, conn.executemany, conn.query

    def commit(self):
        t, self.conn.tx = self.conn.tx, None
        t.commit()

    def rollback(self):
        t, self.conn.tx = self.conn.tx, None
        t.rollback()


class SASyncEngine(SyncEngineBase):
    @classmethod
    def open(cls, dsn, pool_max, app, profile):
        from sqlalchemy import create_engine
        e = cls()
        e.engine = create_engine(sqlalchemy_url(dsn, profile), pool_size=pool_max or 5, max_overflow=0,
                                 connect_args={"application_name": app})
        return e

    def acquire(self):
        return SASyncConn(self, self.engine.connect())

    def introspect(self):
        with self.engine.connect() as c:
            cc = qualname(c.connection.driver_connection)
        return {"dialect": qualname(self.engine.dialect), "is_async": bool(self.engine.dialect.is_async),
                "pool_class": qualname(self.engine.pool), "connection_class": cc}

    def close(self):
        self.engine.dispose()


# ---------------------------------------------------------------- asyncpg

_TAG_COUNT = re.compile(r"(\d+)$")


def _status_rowcount(status):
    m = _TAG_COUNT.search(status or "")
    return int(m.group(1)) if m else -1


class AsyncpgConn:
    def __init__(self, engine, conn):
        self.engine, self.c, self.tx = engine, conn, None

    async def execute(self, sql, params):
        return _status_rowcount(await self.c.execute(sql, *params))

    async def executemany(self, sql, rows):
        await self.c.executemany(sql, rows)
        return -1  # asyncpg's executemany reports no row count

    async def query(self, sql, params, stream=False):
        # Through the statement cache asyncpg's own fetch() uses: the public
        # prepare() bypasses it, which would cost every query a Parse round
        # trip no asyncpg application pays (the columns' types need the
        # prepared statement, so fetch() itself will not do).
        prepare = getattr(self.c, "_prepare", None)
        stmt = await (prepare(sql, use_cache=True) if prepare else self.c.prepare(sql))
        cols = [{"name": a.name, "type": a.type.name} for a in stmt.get_attributes()]
        if stream:
            return await AsyncpgStream.open(self.c, stmt, params, cols)
        rows = await stmt.fetch(*params)
        return AsyncBuffered(cols, [list(r.values()) for r in rows])

    async def begin(self):
        t = self.c.transaction()
        await t.start()
        return AsyncpgTx(self, t)

    async def release(self):
        await self.engine.pool.release(self.c)


class AsyncpgStream:
    """asyncpg's cursor (PreparedStatement.cursor), which only runs inside a
    transaction: outside one the adapter opens one for it, ended when the
    cursor is closed, as an application streaming with asyncpg does."""

    complete = False

    def __init__(self, cur, tx, cols):
        self.cur, self.tx, self.columns, self.done = cur, tx, cols, False

    @classmethod
    async def open(cls, conn, stmt, params, cols):
        tx = None
        if not conn.is_in_transaction():
            tx = conn.transaction()
            await tx.start()
        try:
            return cls(await stmt.cursor(*params), tx, cols)
        except BaseException:
            if tx is not None:
                await tx.rollback()
            raise

    async def fetchone(self):
        r = None if self.done else await self.cur.fetchrow()
        self.done = r is None
        return list(r.values()) if r is not None else None

    async def fetchmany(self, n):
        rows = [] if self.done else await self.cur.fetch(n)
        self.done = len(rows) < n
        return [list(r.values()) for r in rows]

    async def fetchall(self):
        out = []
        while batch := await self.fetchmany(1000):
            out.extend(batch)
        return out

    async def close(self):
        if self.tx is None:
            return
        tx, self.tx = self.tx, None
        try:
            await tx.commit()
        except Exception:
            await tx.rollback()  # the statement failed: its error was reported


class AsyncpgTx:
    def __init__(self, conn, t):
        self.conn, self.t = conn, t
        self.execute, self.executemany, self.query = conn.execute, conn.executemany, conn.query

    async def commit(self):
        await self.t.commit()

    async def rollback(self):
        await self.t.rollback()


class AsyncpgEngine(AsyncEngineBase):
    @classmethod
    async def open(cls, dsn, pool_max, app, profile):
        import asyncpg
        u, params = _parse_dsn(dsn)
        kw = {}
        # asyncpg would send unknown URL parameters as server settings.
        if "connect_timeout" in params:
            kw["timeout"] = float(params.pop("connect_timeout"))
        dsn = urllib.parse.urlunsplit(u._replace(query=urllib.parse.urlencode(params)))
        e = cls()
        e.pool = await asyncpg.create_pool(dsn, min_size=0, max_size=pool_max or 10,
                                           server_settings={"application_name": app}, **kw)
        return e

    async def acquire(self):
        return AsyncpgConn(self, await self.pool.acquire())

    async def introspect(self):
        async with self.pool.acquire() as c:
            real = getattr(c, "_con", c)
            return {"dialect": "", "is_async": True, "pool_class": qualname(self.pool), "connection_class": qualname(real)}

    async def close(self):
        # Pool.close() waits for every connection to be released; a
        # connection whose statement the server never answers would hold
        # it forever, so after a bound the pool is terminated instead.
        try:
            await asyncio.wait_for(self.pool.close(), 10)
        except (asyncio.TimeoutError, TimeoutError):
            self.pool.terminate()
        except ssl.SSLError:
            # The connections sent Terminate (the wire shows it) and the
            # server ended the session; asyncio's TLS shutdown then raced
            # the server's close_notify (SHUTDOWN_WHILE_IN_INIT). Nothing
            # is left open that terminate() does not end.
            self.pool.terminate()


# ---------------------------------------------------------------- registry

class Adapter:
    def __init__(self, name, engine_cls, is_async, driver_module):
        self.name, self.engine_cls, self.is_async, self.driver_module = name, engine_cls, is_async, driver_module

    def driver_version(self):
        import importlib
        parts = []
        for m in self.driver_module.split("+"):
            parts.append(f"{m} {importlib.import_module(m).__version__}")
        return ", ".join(parts)

    async def open(self, dsn, pool_max, app, profile):
        if self.is_async:
            return await self.engine_cls.open(dsn, pool_max, app, profile)
        loop = asyncio.get_running_loop()
        e = await loop.run_in_executor(EXECUTOR, functools.partial(self.engine_cls.open, dsn, pool_max, app, profile))
        return Threaded(e)


# FR-013 baselines are declared in manifest.json ("baseline"): each async
# adapter is compared with the sync adapter of the same driver (the seed's
# criterion); sqlalchemy-sync with raw psycopg-sync (T023's overhead over raw
# psycopg); psycopg-sync is the raw-driver baseline itself. asyncpg has no
# sync variant, so it is compared with psycopg-sync, the raw sync driver.
ADAPTERS = {a.name: a for a in [
    Adapter("psycopg-async", PsycopgAsyncEngine, True, "psycopg"),
    Adapter("psycopg-sync", PsycopgSyncEngine, False, "psycopg"),
    Adapter("sqlalchemy-async", SAAsyncEngine, True, "sqlalchemy+psycopg"),
    Adapter("sqlalchemy-sync", SASyncEngine, False, "sqlalchemy+psycopg"),
    Adapter("asyncpg", AsyncpgEngine, True, "asyncpg"),
]}
