"""sqlconv.py: $n placeholders for psycopg (%s) and SQLAlchemy text() (:pn)."""

import unittest

from backend.sqlconv import to_format, to_named


class ToFormat(unittest.TestCase):
    def test_converts_and_reorders(self):
        self.assertEqual(to_format("SELECT $2, $1, $2", ["a", "b"]), ("SELECT %s, %s, %s", ["b", "a", "b"]))

    def test_leaves_quoted_text_alone(self):
        sql = "SELECT '$1', \"$1\", $$ $1 $$, $q$ $1 $q$, $1 -- $1\n/* $1 */"
        self.assertEqual(to_format(sql, [7]), ("SELECT '$1', \"$1\", $$ $1 $$, $q$ $1 $q$, %s -- $1\n/* $1 */", [7]))

    def test_dollar_inside_identifiers_is_not_a_placeholder(self):
        # PostgreSQL allows $ inside identifiers: col$1 and a$1b are names.
        self.assertEqual(to_format("SELECT col$1, a$1b, x$$y FROM t WHERE c = $1", [5]),
                         ("SELECT col$1, a$1b, x$$y FROM t WHERE c = %s", [5]))
        self.assertEqual(to_named("SELECT col$1, a$1b FROM t WHERE c = $1", [5]),
                         ("SELECT col$1, a$1b FROM t WHERE c = :p1", {"p1": 5}))
        # Nothing to convert, so no parameter is demanded.
        self.assertEqual(to_format("SELECT col$1 FROM t", []), ("SELECT col$1 FROM t", None))

    def test_percent_is_escaped_only_with_params(self):
        self.assertEqual(to_format("SELECT '%' || $1", ["x"]), ("SELECT '%%' || %s", ["x"]))
        self.assertEqual(to_format("SELECT '%'", []), ("SELECT '%'", None))

    def test_placeholder_without_parameter_is_refused(self):
        with self.assertRaises(IndexError):
            to_format("SELECT $2", [1])


class ToNamed(unittest.TestCase):
    def test_casts_and_colons(self):
        self.assertEqual(to_named("SELECT $1::int8, ':x', $2", [1, 2]),
                         ("SELECT :p1 ::int8, '\\:x', :p2", {"p1": 1, "p2": 2}))


if __name__ == "__main__":
    unittest.main()
