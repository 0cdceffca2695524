// Package catalogue holds every requirement the suite certifies: the seed's
// functional requirements (FR-001…FR-014), its edge cases (EC-1…EC-5), its
// tasks (T001…T033) and the suite's own additions. Specs name these IDs;
// reports group by them. One place, so a typo fails when the tree is built.
package catalogue

import (
	"fmt"
	"sort"
	"strings"
)

// Kind tells what sort of entry an ID names.
type Kind string

const (
	Functional Kind = "requirement"
	EdgeCase   Kind = "edge case"
	Task       Kind = "task"
	Suite      Kind = "suite addition"
)

// Entry is one requirement, edge case or task.
type Entry struct {
	ID    string
	Kind  Kind
	Title string
	// Tasks lists the seed tasks that trace to a requirement.
	Tasks []string
}

var entries = []Entry{
	{"FR-001", Functional, "Engine can be created from the target's URL", []string{"T004", "T018"}},
	{"FR-002", Functional, "Queries run without AwaitRequired-style errors", []string{"T005", "T018"}},
	{"FR-003", Functional, "URL resolves to the async dialect variant", []string{"T010", "T011", "T012"}},
	{"FR-004", Functional, "IRIS features kept: VECTOR, INFORMATION_SCHEMA, functions", []string{"T009", "T025", "T026", "T027", "T028"}},
	{"FR-005", Functional, "Async connection pool", []string{"T014"}},
	{"FR-006", Functional, "Async commit and rollback", []string{"T031"}},
	{"FR-007", Functional, "Efficient bulk insert", []string{"T006", "T017"}},
	{"FR-008", Functional, "Works on an async connection class, non-blocking", []string{"T003", "T013"}},
	{"FR-009", Functional, "Clear error messages", []string{"T029", "T030"}},
	{"FR-010", Functional, "Sync and async coexist", nil},
	{"FR-011", Functional, "Async ORM models and sessions", []string{"T008", "T020"}},
	{"FR-012", Functional, "Async cursor operations", nil},
	{"FR-013", Functional, "Async latency within 10% of sync", []string{"T007", "T021", "T022", "T023", "T024"}},
	{"FR-014", Functional, "Web framework (FastAPI-equivalent) works", []string{"T008", "T009", "T019", "T020"}},

	{"EC-1", EdgeCase, "Async engine used from sync code gives a clear error", []string{"T029"}},
	{"EC-2", EdgeCase, "Connection pooling in async mode", []string{"T014"}},
	{"EC-3", EdgeCase, "VECTOR types in async queries", []string{"T025"}},
	{"EC-4", EdgeCase, "Missing async dependency gives a helpful error", []string{"T030"}},
	{"EC-5", EdgeCase, "Transactions in async context", []string{"T031"}},

	{"COMPAT", Suite, "iris-pgwire divergences: value round trips, OFFSET, multi-row VALUES, RETURNING", nil},

	{"T001", Task, "Verify sync benchmark baseline", nil},
	{"T002", Task, "Document async failure modes", nil},
	{"T003", Task, "Contract: dialect imports the async DBAPI", nil},
	{"T004", Task, "Contract: async engine creation", nil},
	{"T005", Task, "Contract: async query execution", nil},
	{"T006", Task, "Contract: async bulk insert", nil},
	{"T007", Task, "Contract: async performance within 10%", nil},
	{"T008", Task, "Web integration: async session per request", nil},
	{"T009", Task, "Web integration: async vector query", nil},
	{"T010", Task, "get_async_dialect_cls()", nil},
	{"T011", Task, "Async dialect class skeleton", nil},
	{"T012", Task, "DBAPI inheritance in the async dialect", nil},
	{"T013", Task, "import_dbapi() returns the async module", nil},
	{"T014", Task, "get_pool_class() returns the async pool", nil},
	{"T015", Task, "create_connect_args(): URL to connection arguments", nil},
	{"T016", Task, "on_connect() without IRIS-only cursor attributes", nil},
	{"T017", Task, "do_executemany() for async bulk operations", nil},
	{"T018", Task, "All contract tests pass", nil},
	{"T019", Task, "Web application scaffold", nil},
	{"T020", Task, "Web integration tests pass", nil},
	{"T021", Task, "Async vs sync benchmark", nil},
	{"T022", Task, "Verify the 10% latency threshold", nil},
	{"T023", Task, "Profile async overhead vs the raw driver", nil},
	{"T024", Task, "Document performance results", nil},
	{"T025", Task, "VECTOR type support in async mode", nil},
	{"T026", Task, "INFORMATION_SCHEMA queries async", nil},
	{"T027", Task, "IRIS function calls async", nil},
	{"T028", Task, "All FR-004 requirements pass", nil},
	{"T029", Task, "Async engine with sync code paths", nil},
	{"T030", Task, "Missing async dependencies", nil},
	{"T031", Task, "Transaction rollback in async context", nil},
	{"T032", Task, "Edge case acceptance scenarios", nil},
	{"T033", Task, "Final acceptance validation", nil},
}

var byID = func() map[string]Entry {
	m := make(map[string]Entry, len(entries))
	for _, e := range entries {
		m[e.ID] = e
	}
	return m
}()

// Lookup returns the entry for id.
func Lookup(id string) (Entry, bool) {
	e, ok := byID[id]
	return e, ok
}

// All returns every entry in catalogue order.
func All() []Entry {
	return append([]Entry(nil), entries...)
}

// OfKind returns the entries of one kind in catalogue order.
func OfKind(k Kind) []Entry {
	var out []Entry
	for _, e := range entries {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// Certified returns the entries a report's matrix has rows for: the
// functional requirements, the edge cases and the suite's additions.
func Certified() []Entry {
	var out []Entry
	for _, e := range entries {
		if e.Kind != Task {
			out = append(out, e)
		}
	}
	return out
}

// Check validates a spec's IDs: every one must exist, and a spec must name at
// least one requirement or edge case (tasks alone say nothing certifiable).
func Check(ids []string) error {
	if len(ids) == 0 {
		return fmt.Errorf("no requirement IDs")
	}
	var unknown []string
	certified := false
	for _, id := range ids {
		e, ok := byID[id]
		if !ok {
			unknown = append(unknown, id)
			continue
		}
		if e.Kind != Task {
			certified = true
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("unknown requirement ID(s) %s", strings.Join(unknown, ", "))
	}
	if !certified {
		return fmt.Errorf("IDs %s name only tasks; add the requirement or edge case they check", strings.Join(ids, ", "))
	}
	return nil
}

// labelPrefixes are the label sets a spec's IDs go in, by kind; an ID the
// catalogue does not know goes in req:.
var labelPrefixes = map[Kind]string{Functional: "fr:", EdgeCase: "ec:", Task: "task:"}

// Labels turns IDs into the label-set labels specs carry: fr:FR-001,
// ec:EC-2, task:T004, req:COMPAT.
func Labels(ids []string) []string {
	var out []string
	for _, id := range ids {
		prefix := "req:"
		if e, ok := byID[id]; ok && labelPrefixes[e.Kind] != "" {
			prefix = labelPrefixes[e.Kind]
		}
		out = append(out, prefix+id)
	}
	return out
}

// IDsFromLabels reads the IDs back out of a spec's labels (the inverse of
// Labels); other labels are ignored.
func IDsFromLabels(labels []string) []string {
	var out []string
	for _, l := range labels {
		for _, p := range []string{"fr:", "ec:", "task:", "req:"} {
			if id, ok := strings.CutPrefix(l, p); ok {
				out = append(out, id)
			}
		}
	}
	return out
}
