"""The params of every method (PROTOCOL.md §2 and §4), checked before a
request does anything: a missing required key, a key of the wrong JSON type
or a required key that is null is a protocol error (an optional key that is
null counts as absent). This mirrors the Go
structs of protocol/messages.go (required unless tagged optional); the
golden fixture protocol/testdata/params.jsonl holds both to it. Unknown
keys are ignored."""


class Invalid(Exception):
    pass


def _int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def _is_list_of(pred):
    return lambda x: isinstance(x, list) and all(pred(y) for y in x)


def _is_op(x):
    return isinstance(x, dict) and isinstance(x.get("op"), str)


TYPES = {
    "str": (lambda x: isinstance(x, str), "a string"),
    "int": (_int, "an integer"),
    "uint": (lambda x: _int(x) and x >= 0, "a non-negative integer"),
    "bool": (lambda x: isinstance(x, bool), "a boolean"),
    "value": (lambda x: True, "a value"),  # checked by values.decode (misuse)
    "values": (_is_list_of(lambda x: True), "an array of values"),
    "rows": (_is_list_of(lambda r: isinstance(r, list)), "an array of arrays of values"),
    "ints": (_is_list_of(_int), "an array of integers"),
    "ops": (_is_list_of(_is_op), 'an array of objects with a string "op"'),
}

REQ, OPT = True, False
_ENGINE = {"engine": ("str", REQ)}
_STATEMENT = {"on": ("str", REQ), "sql": ("str", REQ), "params": ("values", OPT)}
_CURSOR = {"cursor": ("str", REQ)}
_PROBE = {"adapter": ("str", REQ), "dsn": ("str", OPT), "profile": ("str", OPT)}

SCHEMA = {
    "hello": {"protocol": ("int", REQ), "client": ("str", OPT)},
    "describe": {},
    "echo": {"value": ("value", REQ)},
    "cancel": {"request": ("uint", REQ)},
    "engine.open": {"adapter": ("str", REQ), "dsn": ("str", REQ), "pool_max": ("int", OPT),
                    "application_name": ("str", OPT), "profile": ("str", OPT)},
    "engine.close": _ENGINE,
    "engine.introspect": _ENGINE,
    "engine.bench": {"engine": ("str", REQ), "sql": ("str", REQ), "n": ("int", REQ)},
    "execute": _STATEMENT,
    "executemany": {"on": ("str", REQ), "sql": ("str", REQ), "rows": ("rows", REQ)},
    "query": _STATEMENT,
    "cursor.fetchone": _CURSOR,
    "cursor.fetchmany": {"cursor": ("str", REQ), "n": ("int", REQ)},
    "cursor.fetchall": _CURSOR,
    "cursor.close": _CURSOR,
    "conn.acquire": _ENGINE,
    "conn.release": {"conn": ("str", REQ)},
    "tx.begin": {"conn": ("str", REQ)},
    "tx.commit": {"tx": ("str", REQ)},
    "tx.rollback": {"tx": ("str", REQ)},
    "webapp.start": {"engine": ("str", REQ), "search_sql": ("str", OPT), "sleep_sql": ("str", OPT), "ports": ("ints", OPT)},
    "orm.run": {"engine": ("str", REQ), "table": ("str", REQ), "ops": ("ops", REQ)},
    "probe.sync_misuse": _PROBE,
    "probe.missing_async_dependency": _PROBE,
    "process.memory": {"reset_peak": ("bool", OPT)},
}


def check(method, params):
    """Raise Invalid unless params fit method's schema."""
    for key, (kind, required) in SCHEMA[method].items():
        v = params.get(key)
        if v is None and kind != "value" and not required:
            continue  # an optional key may be absent or null
        if key not in params:
            raise Invalid(f"{method}: missing parameter {key!r}")
        if v is None and kind != "value":
            raise Invalid(f"{method}: parameter {key!r} must not be null")
        ok, what = TYPES[kind]
        if not ok(v):
            raise Invalid(f"{method}: parameter {key!r} must be {what}")
