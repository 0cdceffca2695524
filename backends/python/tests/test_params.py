"""params.py: every method's params schema."""

import unittest

from backend import params


class Check(unittest.TestCase):
    def test_accepts_well_formed(self):
        params.check("execute", {"on": "e1", "sql": "SELECT 1"})
        params.check("execute", {"on": "e1", "sql": "SELECT $1", "params": [None], "unknown": 1})
        params.check("echo", {"value": None})
        params.check("query", {"on": "e1", "sql": "SELECT 1", "params": None})
        params.check("process.memory", {})
        params.check("orm.run", {"engine": "e1", "table": "t", "ops": [{"op": "get", "id": 1}]})

    def test_refuses_missing_ill_typed_and_null(self):
        for method, p in [("execute", {"on": "e1"}), ("execute", {"on": "e1", "sql": None}),
                          ("engine.bench", {"engine": "e1", "sql": "x", "n": True}),
                          ("cancel", {"request": -1}), ("webapp.start", {"engine": "e1", "ports": ["8100"]}),
                          ("executemany", {"on": "e1", "sql": "x", "rows": [1]}),
                          ("orm.run", {"engine": "e1", "table": "t", "ops": [{"id": 1}]}),
                          ("process.memory", {"reset_peak": 1})]:
            with self.subTest(method=method, params=p):
                with self.assertRaises(params.Invalid):
                    params.check(method, p)


if __name__ == "__main__":
    unittest.main()
