package report

import "github.com/pgwire-conformance/pgwire-conformance/catalogue"

// displayTitles are the requirement titles REPORT.md shows: written for a
// maintainer of any driver in any language, where the catalogue keeps the
// seed's own wording (SQLAlchemy, FastAPI, IRIS) that specs trace to.
var displayTitles = map[string]string{
	"FR-001": "Connects to the target from its URL (DSN), as the URL says",
	"FR-002": "Runs statements and returns their results, with no async-misuse errors",
	"FR-003": "Resolves the URL to the driver variant it names (sync or async)",
	"FR-004": "Server features: VECTOR values and operators, INFORMATION_SCHEMA, server functions",
	"FR-005": "Connection pool: bounded, reused, recovers dead connections",
	"FR-006": "Commit and rollback do what they say",
	"FR-007": "Bulk insert (executemany or batch) is fast and loses no row",
	"FR-008": "Concurrent work on one engine is not serialised (non-blocking)",
	"FR-009": "Errors are prompt and clear: SQLSTATE, the server's message, what to fix",
	"FR-010": "Works alongside another driver in the same process",
	"FR-011": "ORM models and sessions work (adapters with an ORM)",
	"FR-012": "Cursors: fetch one, many or all; column metadata; close early",
	"FR-013": "Latency within 10% of the adapter's baseline (its sync twin, or the raw driver)",
	"FR-014": "A web application (FastAPI-equivalent) serves requests through the driver",
	"EC-1":   "The async API used from sync code fails with a clear error",
	"EC-2":   "The pool holds up under concurrent use, faults and dead connections",
	"EC-3":   "VECTOR values as parameters and results",
	"EC-4":   "A missing async dependency fails with an error that names it",
	"EC-5":   "Transactions: isolation, rollback, errors inside a transaction",
	"COMPAT": "Values and statements the target handles its own way (iris-pgwire divergences)",
}

// Title is a requirement's title as REPORT.md shows it: the driver-agnostic
// display title, else the catalogue's.
func Title(id string) string {
	if t, ok := displayTitles[id]; ok {
		return t
	}
	if e, ok := catalogue.Lookup(id); ok {
		return e.Title
	}
	return id
}
