"""FR-014: a real FastAPI app (served by uvicorn in the backend's event loop)
on an engine the suite opened, with the seed's /health, /test and /search
endpoints and a per-request session dependency."""

import asyncio
import contextlib

from .sqlconv import to_named


class _Server:
    """uvicorn.Server without signal handling: the backend owns the process."""

    def __new__(cls, config):
        import uvicorn

        class S(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self):
                yield

        return S(config)


def build_app(engine, is_async, search_sql, sleep_sql=""):
    from fastapi import Depends, FastAPI
    from sqlalchemy import text

    app = FastAPI(title="pgwire-conformance backend app")
    search = None
    if search_sql:
        q, _ = to_named(search_sql, [None])
        search = text(q)
    # GET /sleep: a slow endpoint (a server-side sleep the suite gives), to
    # show whether the app serves requests concurrently.
    sleep = text(to_named(sleep_sql, [])[0]) if sleep_sql else None

    if is_async:
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
        Session = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

        async def get_db():
            async with Session() as session:
                yield session

        @app.get("/health")
        async def health(db: AsyncSession = Depends(get_db)):
            result = await db.execute(text("SELECT 1"))
            return {"status": "ok", "db": result.scalar() == 1}

        @app.get("/test")
        async def test(db: AsyncSession = Depends(get_db)):
            result = await db.execute(text("SELECT 1 as value"))
            return {"value": result.scalar()}

        @app.post("/search")
        async def vector_search(query_vector: list[float], db: AsyncSession = Depends(get_db)):
            if search is None:
                return []
            vec = "[" + ",".join(map(str, query_vector)) + "]"
            result = await db.execute(search, {"p1": vec})
            return [{"id": row[0], "score": float(row[1])} for row in result.fetchall()]

        @app.get("/sleep")
        async def slow(db: AsyncSession = Depends(get_db)):
            if sleep is not None:
                (await db.execute(sleep)).fetchall()
            return {"slept": sleep is not None}
    else:
        from sqlalchemy.orm import Session as SyncSession, sessionmaker
        Session = sessionmaker(engine, expire_on_commit=False)

        def get_db():
            with Session() as session:
                yield session

        @app.get("/health")
        def health(db: SyncSession = Depends(get_db)):
            return {"status": "ok", "db": db.execute(text("SELECT 1")).scalar() == 1}

        @app.get("/test")
        def test(db: SyncSession = Depends(get_db)):
            return {"value": db.execute(text("SELECT 1 as value")).scalar()}

        @app.post("/search")
        def vector_search(query_vector: list[float], db: SyncSession = Depends(get_db)):
            if search is None:
                return []
            vec = "[" + ",".join(map(str, query_vector)) + "]"
            return [{"id": r[0], "score": float(r[1])} for r in db.execute(search, {"p1": vec}).fetchall()]

        @app.get("/sleep")
        def slow(db: SyncSession = Depends(get_db)):
            if sleep is not None:
                db.execute(sleep).fetchall()
            return {"slept": sleep is not None}
    return app


def _listen(ports):
    """A listening socket on the first free port of ports (any free port
    when ports is empty)."""
    import socket
    last = None
    for port in ports or [0]:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", int(port)))
        except OSError as e:
            sock.close()
            last = e
            continue
        sock.listen(2048)
        sock.setblocking(False)
        return sock
    raise RuntimeError(f"no free port among {ports}: {last}")


async def start(engine, is_async, search_sql, ports=None, sleep_sql=""):
    """Serve the app on the first free port of ports (any free port when
    empty); returns (port, stop coroutine function)."""
    import uvicorn
    app = build_app(engine, is_async, search_sql, sleep_sql)
    sock = _listen(ports)
    server = _Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    port = sock.getsockname()[1]

    async def stop():
        server.should_exit = True
        await task

    return port, stop
