// Package edge_cases holds the specs for behaviour beyond the happy path,
// run once per adapter: transactions (commit, rollback, transactional DDL,
// errors inside a transaction, savepoints), error reporting (SQLSTATE codes,
// unreachable server, wrong password, statement timeout) and the pool under
// concurrent use (non-blocking, bounded, recovering from killed
// connections), and an engine coexisting with another adapter's (FR-010).
// Server-specific SQL comes from the profile. Every spec acts only through the adapter under test and
// checks the server's view through the harness's independent observer.
package edge_cases
