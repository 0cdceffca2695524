"""The protocol server without a database: ids in flight, and engine.bench
timing exactly the engine's query path."""

import asyncio
import json
import unittest

from backend import __main__ as server
from backend.drivers import AsyncBuffered, AsyncEngineBase, SyncEngineBase, Threaded


class DuplicateIdInFlight(unittest.TestCase):
    def test_a_second_request_with_an_id_in_flight_is_refused(self):
        async def run():
            release = asyncio.Event()

            async def slow_describe(s, p):
                await release.wait()
                return {"slow": True}

            saved = server.METHODS["describe"]
            server.METHODS["describe"] = slow_describe
            srv = await server.start_server("127.0.0.1", 0)
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", srv.sockets[0].getsockname()[1])
                read = lambda: asyncio.wait_for(reader.readuntil(b"\n"), 10)
                writer.write(b'{"id":1,"method":"hello","params":{"protocol":1}}\n')
                self.assertIn("result", json.loads(await read()))
                writer.write(b'{"id":5,"method":"describe"}\n{"id":5,"method":"describe"}\n')
                first = json.loads(await read())
                self.assertEqual(first["id"], 5)
                self.assertEqual(first["error"]["category"], "protocol")
                self.assertIn("in flight", first["error"]["message"])
                release.set()
                self.assertEqual(json.loads(await read()), {"id": 5, "result": {"slow": True}})
                writer.close()
            finally:
                server.METHODS["describe"] = saved
                srv.close()
                await srv.wait_closed()
        asyncio.run(run())


class Calls:
    def __init__(self):
        self.log = []


class FakeCursor:
    columns = [{"name": "x", "type": "int4"}]

    def __init__(self, calls):
        self.calls = calls


class AsyncCursor(FakeCursor):
    async def fetchall(self):
        self.calls.log.append("fetchall")
        return [[1]]

    async def close(self):
        self.calls.log.append("close")


class AsyncConn:
    def __init__(self, calls):
        self.calls = calls

    async def query(self, sql, params, stream=False):
        self.calls.log.append(("query", sql, tuple(params)) + (("stream",) if stream else ()))
        return AsyncCursor(self.calls)

    async def release(self):
        self.calls.log.append("release")


class AsyncEngine(AsyncEngineBase):
    def __init__(self):
        self.calls = Calls()

    async def acquire(self):
        self.calls.log.append("acquire")
        return AsyncConn(self.calls)


class SyncCursor(FakeCursor):
    def fetchall(self):
        self.calls.log.append("fetchall")
        return [[1]]

    def close(self):
        self.calls.log.append("close")


class SyncConn:
    def __init__(self, calls):
        self.calls = calls

    def query(self, sql, params, stream=False):
        self.calls.log.append(("query", sql, tuple(params)) + (("stream",) if stream else ()))
        return SyncCursor(self.calls)

    def release(self):
        self.calls.log.append("release")


class SyncEngine(SyncEngineBase):
    def __init__(self):
        self.calls = Calls()

    def acquire(self):
        self.calls.log.append("acquire")
        return SyncConn(self.calls)


ONE_RUN = ["acquire", ("query", "SELECT 1", ()), "fetchall", "close", "release"]


class BenchTimesTheQueryPath(unittest.TestCase):
    """PROTOCOL.md engine.bench: every timed run is the query request's own
    code path on the engine: borrow, query, fetch all, close, give back."""

    def _session_with(self, engine):
        s = server.Session(writer=None)
        return s, s.put("engine", engine, adapter="fake", is_async=True)

    def test_async_engine(self):
        async def run():
            e = AsyncEngine()
            s, eid = self._session_with(e)
            r = await server.m_engine_bench(s, {"engine": eid, "sql": "SELECT 1", "n": 3})
            self.assertEqual(len(r["durations_ns"]), 3)
            self.assertEqual(e.calls.log, ONE_RUN * 3)
            e.calls.log.clear()
            q = await server.m_query(s, {"on": eid, "sql": "SELECT 1"})
            self.assertEqual(q["columns"], FakeCursor.columns)
            self.assertEqual(e.calls.log, ONE_RUN[:2], "the connection stays borrowed while the cursor is open")
            await server.m_fetch(s, {"cursor": q["cursor"]}, "all")
            await server.m_cursor_close(s, {"cursor": q["cursor"]})
            self.assertEqual(e.calls.log, ONE_RUN, "query on an engine runs the same path")
        asyncio.run(run())

    def test_sync_engine_on_the_thread_pool(self):
        async def run():
            e = SyncEngine()
            s, eid = self._session_with(Threaded(e))
            r = await server.m_engine_bench(s, {"engine": eid, "sql": "SELECT 1", "n": 2})
            self.assertEqual(len(r["durations_ns"]), 2)
            self.assertEqual(e.calls.log, ONE_RUN * 2)
            e.calls.log.clear()
            q = await server.m_query(s, {"on": eid, "sql": "SELECT 1"})
            await server.m_fetch(s, {"cursor": q["cursor"]}, "all")
            await server.m_cursor_close(s, {"cursor": q["cursor"]})
            self.assertEqual(e.calls.log, ONE_RUN)
        asyncio.run(run())

    def test_complete_result_gives_its_connection_back_at_once(self):
        # A result read whole with the query (a buffering driver, or a
        # streamed one that fit in its first chunk) holds no connection.
        async def run():
            e = AsyncEngine()

            async def query(sql, params, stream=False):
                e.calls.log.append(("query", sql, tuple(params)))
                return AsyncBuffered(FakeCursor.columns, [[1]])
            conn = AsyncConn(e.calls)
            conn.query = query

            async def acquire():
                e.calls.log.append("acquire")
                return conn
            e.acquire = acquire
            s, eid = self._session_with(e)
            q = await server.m_query(s, {"on": eid, "sql": "SELECT 1"})
            self.assertEqual(e.calls.log, ["acquire", ("query", "SELECT 1", ()), "release"])
            rows = await server.m_fetch(s, {"cursor": q["cursor"]}, "all")
            self.assertEqual(len(rows["rows"]), 1)
        asyncio.run(run())

    def test_stream_is_passed_on_and_checked(self):
        # PROTOCOL.md query: "stream": true reaches the adapter's query;
        # anything but a boolean is a protocol error; bench never streams.
        async def run():
            e = AsyncEngine()
            s, eid = self._session_with(e)
            q = await server.m_query(s, {"on": eid, "sql": "SELECT 1", "stream": True})
            self.assertEqual(e.calls.log[:2], ["acquire", ("query", "SELECT 1", (), "stream")])
            await server.m_cursor_close(s, {"cursor": q["cursor"]})
            with self.assertRaises(server.Fail) as caught:
                await server.m_query(s, {"on": eid, "sql": "SELECT 1", "stream": "yes"})
            self.assertEqual(caught.exception.category, "protocol")
            e.calls.log.clear()
            await server.m_engine_bench(s, {"engine": eid, "sql": "SELECT 1", "n": 1})
            self.assertEqual(e.calls.log, ONE_RUN)
        asyncio.run(run())

    def test_query_and_bench_share_one_function(self):
        # Both handlers reach the engine through query_cursor: replacing
        # it changes what both run.
        async def run():
            e = AsyncEngine()
            seen = []

            async def query_cursor(sql, params, stream=False):
                seen.append(sql)
                return AsyncCursor(e.calls)
            e.query_cursor = query_cursor
            s, eid = self._session_with(e)
            await server.m_query(s, {"on": eid, "sql": "A"})
            await server.m_engine_bench(s, {"engine": eid, "sql": "B", "n": 2})
            self.assertEqual(seen, ["A", "B", "B"])
        asyncio.run(run())


if __name__ == "__main__":
    unittest.main()


class AsyncpgCloseAfterTerminate(unittest.TestCase):
    """A TLS teardown race after the sessions ended is no close failure;
    any other error still is."""

    def run_close(self, exc):
        from backend.drivers import AsyncpgEngine
        import ssl

        class Pool:
            terminated = False

            async def close(self):
                raise exc

            def terminate(self):
                self.terminated = True

        e = AsyncpgEngine()
        e.pool = Pool()
        asyncio.run(e.close())
        return e.pool.terminated

    def test_ssl_shutdown_race_terminates_the_pool(self):
        import ssl
        self.assertTrue(self.run_close(ssl.SSLError(1, "[SSL: SHUTDOWN_WHILE_IN_INIT] shutdown while in init")))

    def test_other_errors_still_fail_close(self):
        with self.assertRaises(RuntimeError):
            self.run_close(RuntimeError("the pool is broken"))
