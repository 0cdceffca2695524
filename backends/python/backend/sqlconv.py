"""Placeholder conversion: the suite writes $1, $2, ...; psycopg wants %s,
SQLAlchemy's text() wants :name. Quoted literals, quoted identifiers,
dollar-quoted strings and comments are left alone (apart from escaping)."""

import re

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$")
_DIGITS = "0123456789"


def _in_identifier(sql, i):
    """Whether the $ at i continues an identifier or number (col$1, a$1b,
    x$$y): PostgreSQL allows $ inside identifiers, where it is neither a
    parameter nor a dollar quote."""
    return i > 0 and (sql[i - 1].isalnum() or sql[i - 1] in "_$")


def _scan(sql, on_param, on_text, on_literal):
    out = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"":
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            out.append(on_literal(sql[i:j + 1]))
            i = j + 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(on_literal(sql[i:j]))
            i = j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(on_literal(sql[i:j]))
            i = j
        elif c == "$" and i + 1 < n and sql[i + 1] in _DIGITS and not _in_identifier(sql, i):
            j = i + 1
            while j < n and sql[j] in _DIGITS:
                j += 1
            out.append(on_param(int(sql[i + 1:j]), sql[j:j + 2] == "::"))
            i = j
        elif c == "$" and (m := _DOLLAR_TAG.match(sql, i)) and not _in_identifier(sql, i):
            end = sql.find(m.group(0), m.end())
            end = n if end < 0 else end + len(m.group(0))
            out.append(on_literal(sql[i:end]))
            i = end
        else:
            j = i + 1
            while j < n and sql[j] not in "'\"-/$":
                j += 1
            out.append(on_text(sql[i:j]))
            i = j
    return "".join(out)


def to_format(sql, params):
    """$n -> %s for psycopg (params reordered to match); literal % doubled."""
    order = []

    def param(k, _cast):
        if k < 1 or k > len(params):
            raise IndexError(f"placeholder ${k} but {len(params)} parameter(s)")
        order.append(params[k - 1])
        return "%s"

    pct = (lambda s: s.replace("%", "%%")) if params else (lambda s: s)
    out = _scan(sql, param, pct, pct)
    return out, (order if params else None)


def to_named(sql, params):
    """$n -> :pn for SQLAlchemy text(); colons in literals escaped."""
    def param(k, cast):
        if k < 1 or k > len(params):
            raise IndexError(f"placeholder ${k} but {len(params)} parameter(s)")
        # text() does not see ":p1::int8" as a parameter; a space does no harm.
        return f":p{k}" + (" " if cast else "")

    def lit(s):
        return s.replace(":", "\\:")

    def txt(s):
        # A bare ":name" in the SQL text would become a bind parameter.
        return re.sub(r"(?<![:\w\\]):(?=[A-Za-z_])", r"\\:", s)

    out = _scan(sql, param, txt, lit)
    return out, {f"p{i + 1}": v for i, v in enumerate(params)}
