// Package compat holds the specs for the places where a PostgreSQL-wire
// server can diverge from PostgreSQL in ways that hurt users (see
// shared/docs/iris-pgwire.md, "SQL dialect"): values that must round-trip
// exactly through the adapter under test (integers at their limits, exact
// numerics, floats including -0, the empty string as distinct from NULL,
// booleans, dates, timestamps, bytea, json, vectors), LIMIT … OFFSET,
// multi-row VALUES and INSERT … RETURNING. Each spec writes through the
// adapter into a table of its own and checks what the server stored through
// the harness's independent observer. The package also checks that an
// adapter runs on the query protocol it declares (protocol:simple or
// protocol:extended).
package compat
