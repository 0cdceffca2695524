"""EC-1 and EC-4 probes: provoke the misuse and return what the driver says."""

import asyncio
import subprocess
import sys

from .drivers import EXECUTOR, sqlalchemy_url


def _describe(e):
    return {"raised": f"{type(e).__module__}.{type(e).__qualname__}", "message": str(e)}


def _sync_misuse_sqlalchemy(url):
    """Sync code using an async engine: the sync facade of an AsyncEngine,
    called outside the event loop, as a sync web handler or script would."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine
    eng = create_async_engine(url)
    try:
        with eng.sync_engine.connect() as c:
            c.execute(text("SELECT 1"))
    except Exception as e:
        return _describe(e)
    finally:
        eng.sync_engine.dispose()
    return {"raised": "", "message": ""}


async def sync_misuse(adapter, dsn, profile):
    if adapter != "sqlalchemy-async":
        raise NotImplementedError(f"adapter {adapter} has no sync-misuse probe")
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(EXECUTOR, _sync_misuse_sqlalchemy, sqlalchemy_url(dsn, profile))


_MISSING_GREENLET = r'''
import asyncio, sys, json
sys.modules["greenlet"] = None  # the async dependency is not installed
def describe(e):
    return {"raised": f"{type(e).__module__}.{type(e).__qualname__}", "message": str(e)}
async def main(url):
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine
    eng = create_async_engine(url)
    async with eng.connect() as c:
        await c.execute(text("SELECT 1"))
try:
    asyncio.run(main(sys.argv[1]))
    out = {"raised": "", "message": ""}
except Exception as e:
    out = describe(e)
print(json.dumps(out))
'''


async def missing_async_dependency(adapter, dsn, profile):
    if adapter != "sqlalchemy-async":
        raise NotImplementedError(f"adapter {adapter} has no missing-async-dependency probe")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _MISSING_GREENLET, sqlalchemy_url(dsn, profile),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await proc.communicate()
    import json
    try:
        return json.loads(out.decode().strip().splitlines()[-1])
    except Exception:
        raise RuntimeError(f"probe process failed: {err.decode()[-500:]}") from None
