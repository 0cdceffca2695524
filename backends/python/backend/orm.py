"""FR-011: SQLAlchemy's ORM on an engine the suite opened. A declarative
model is mapped onto a table the suite created (id BIGINT PRIMARY KEY,
name TEXT, score DOUBLE PRECISION) and orm.run's ops run in one session:
AsyncSession for the async adapter, Session for the sync one."""

import threading

_models = {}
_lock = threading.Lock()


def model_for(table):
    """The declarative model mapped onto table (one class per table, each in
    its own registry so tables of parallel specs do not collide)."""
    with _lock:
        m = _models.get(table)
        if m is not None:
            return m
        from sqlalchemy import BigInteger, Double, Text
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class Item(Base):
            __tablename__ = table
            id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
            name: Mapped[str] = mapped_column(Text)
            score: Mapped[float | None] = mapped_column(Double)

        _models[table] = Item
        return Item


FIELDS = ("name", "score")


def _row(obj):
    if obj is None:
        return None
    return {"id": obj.id, "name": obj.name, "score": None if obj.score is None else float(obj.score)}


def _new(Item, row):
    if not isinstance(row, dict) or "id" not in row:
        raise ValueError("add: want row {id, name, score}")
    return Item(id=int(row["id"]), name=row.get("name"), score=None if row.get("score") is None else float(row["score"]))


def _set(obj, values):
    if not isinstance(values, dict) or not values:
        raise ValueError("update: want set {attribute: value}")
    for k, v in values.items():
        if k not in FIELDS:
            raise ValueError(f"update: unknown attribute {k!r} (the model has {', '.join(FIELDS)})")
        setattr(obj, k, float(v) if k == "score" and v is not None else v)


def _qualname(obj):
    t = type(obj)
    return f"{t.__module__}.{t.__qualname__}"


def _steps(s, Item, ops):
    """ops on session s, as a generator of its session calls: each step
    yields a call, which the driver makes (awaiting it on an AsyncSession)
    and sends the result back; the generator returns the ops' results. One
    body for both session kinds; run_async and run_sync drive it."""
    out = []
    for op in ops:
        kind = op.get("op")
        r = {"op": kind, "row": None, "session": _qualname(s)}
        if kind == "add":
            obj = _new(Item, op.get("row"))
            s.add(obj)
            yield s.commit
            yield lambda: s.refresh(obj)  # read back what was committed
            r["row"] = _row(obj)
        elif kind == "get":
            r["row"] = _row((yield lambda: s.get(Item, int(op["id"]), populate_existing=True)))
        elif kind == "update":
            obj = yield lambda: s.get(Item, int(op["id"]), populate_existing=True)
            if obj is not None:
                _set(obj, op.get("set"))
                yield s.commit
                yield lambda: s.refresh(obj)
                r["row"] = _row(obj)
        elif kind == "delete":
            obj = yield lambda: s.get(Item, int(op["id"]), populate_existing=True)
            if obj is not None:
                yield lambda: s.delete(obj)
                yield s.commit
                r["deleted"] = True
        else:
            raise ValueError(f"unknown orm op {kind!r}: want add, get, update or delete")
        out.append(r)
    return out


async def run_async(engine, table, ops):
    from sqlalchemy.ext.asyncio import AsyncSession
    async with AsyncSession(engine, expire_on_commit=True) as s:
        steps = _steps(s, model_for(table), ops)
        try:
            call = next(steps)
            while True:
                call = steps.send(await call())
        except StopIteration as done:
            return done.value


def run_sync(engine, table, ops):
    from sqlalchemy.orm import Session
    with Session(engine, expire_on_commit=True) as s:
        steps = _steps(s, model_for(table), ops)
        try:
            call = next(steps)
            while True:
                call = steps.send(call())
        except StopIteration as done:
            return done.value
