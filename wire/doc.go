// Package wire holds the message-level specs: they certify the target
// itself, below any driver, by sending frontend messages with pgx's
// pgproto3 and asserting the backend messages that come back — the pgtest
// approach of CockroachDB, Materialize and Doltgres. Each spec names the
// section of the PostgreSQL protocol's "Message Flow" it checks
// (https://www.postgresql.org/docs/17/protocol-flow.html) and runs once per
// run (harness.ForTarget, adapter "server"), so iris-pgwire's protocol
// divergences (shared/docs/iris-pgwire.md) show as failures of the server,
// not of every driver.
//
// Every network operation runs under the spec's context and a bound of its
// own (a server that does not answer fails the spec within seconds, with
// what was sent and what came back); the messages of each spec form a
// transcript attached to its report when it fails. Rows are verified through
// the harness's independent observer, never through the connection under
// test.
package wire
