package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/catalogue"
	"github.com/pgwire-conformance/pgwire-conformance/config"
	"github.com/pgwire-conformance/pgwire-conformance/measure"
)

const (
	secret     = "Sup3rS3cret"
	fixtureDSN = "postgres://alice:" + secret + "@db.example:5432/app?sslmode=disable"
	failureMsg = "Expected\n    <int64>: 2\nto equal\n    <int64>: 1"
)

// fixture is a run with two adapters: pgx passes FR-002 where pq fails it,
// FR-011 is not applicable to both, and each outcome occurs at least once.
// Spec IDs are group / text, as SpecsFromGinkgo makes them.
func fixture() Run {
	cfg := config.Defaults()
	cfg.Adapters = []string{"pgx", "pq"}
	cfg.Provider = "external"
	cfg.DSN = fixtureDSN
	us := time.Microsecond
	return withIDs(Run{
		SchemaVersion: SchemaVersion,
		Date:          time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC),
		Suite:         "pgwire-conformance",
		Commit:        "abc1234",
		Command:       "go tool ginkgo -- -pgwc.provider=external",
		Target: Target{
			Provider:      "external",
			Profile:       "postgres",
			DSN:           config.RedactDSN(fixtureDSN),
			Path:          "direct",
			ServerVersion: "PostgreSQL 17.2 | pgvector 0.8",
			Images:        []string{"pgvector/pgvector:pg17"},
		},
		Adapters: []adapter.Info{
			{Name: "pgx", Driver: "pgx/v5", DriverVersion: "v5.12.0", Language: "Go", Capabilities: []adapter.Capability{adapter.Introspects}},
			{Name: "pq", Driver: "lib/pq", DriverVersion: "v1.12.3", Language: "Go", Capabilities: []adapter.Capability{}},
		},
		Config:   cfg.Redacted(),
		Machine:  Machine{Cores: 2, OS: "linux/amd64"},
		Duration: 93 * time.Second,
		Specs: []Spec{
			{Adapter: "pgx", Group: "Contract: queries", Text: "returns one row", Requirements: []string{"FR-002", "T005"},
				Labels: []string{"adapter:pgx", "FR-002"}, Outcome: Passed, Duration: 12 * time.Millisecond},
			{Adapter: "pq", Group: "Contract: queries", Text: "returns one row", Requirements: []string{"FR-002", "T005"},
				Labels: []string{"adapter:pq", "FR-002"}, Outcome: Failed, Message: failureMsg,
				Location: "contract/query.go:42", Duration: 15 * time.Millisecond},
			{Adapter: "pgx", Group: "Contract: ORM", Text: "maps a model", Requirements: []string{"FR-011"},
				Outcome: NotApplicable, Message: "adapter lacks capability orm"},
			{Adapter: "pq", Group: "Contract: ORM", Text: "maps a model", Requirements: []string{"FR-011"},
				Outcome: NotApplicable, Message: "adapter lacks capability orm"},
			{Adapter: "pgx", Group: "Edge cases", Text: "sync misuse | probe", Requirements: []string{"EC-1"},
				Outcome: Skipped, Message: "probe disabled"},
			{Adapter: "pq", Group: "Edge cases", Text: "sync misuse | probe", Requirements: []string{"EC-1"},
				Outcome: NotRun},
			{Adapter: "pgx", Group: "Contract: latency", Text: "SELECT 1 within 10%", Requirements: []string{"FR-013"},
				Outcome: Passed, Duration: 4 * time.Second, Latency: &Latency{
					Statement: "SELECT 1", Baseline: "pgx raw", Path: "direct", Threshold: 1.10,
					Verdict: "inconclusive", MinRounds: 8, MaxRounds: 24,
					Comparison: measure.Comparison{
						Subject:  measure.Summary{N: 2000, P50: 110 * us, P95: 150 * us, P99: 200 * us},
						Baseline: measure.Summary{N: 2000, P50: 100 * us, P95: 140 * us, P99: 190 * us},
						Ratio:    1.1, RatioLow: 1.05, RatioHigh: 1.15, Blocks: 12, Overhead: 10 * us,
						OverheadLow: 4 * us, OverheadHigh: 16 * us, BaselineCenter: 98 * us,
					},
				}},
			{Adapter: "pq", Group: "Contract: bulk insert", Text: "inserts 100 rows", Requirements: []string{"FR-007", "T006"},
				Outcome: Passed, Duration: 30 * time.Millisecond, BulkInsert: &BulkInsert{Rows: 100, Seconds: 0.025, RowsPerSecond: 4000}},
			{Adapter: "pgx", Group: "Contract: pool", Text: "bounds connections", Requirements: []string{"FR-005"},
				Outcome: ExpectedFail, Message: "known: pool ignores PoolMax"},
			{Adapter: "pq", Group: "Contract: pool", Text: "bounds connections", Requirements: []string{"FR-005"},
				Outcome: Passed},
			{Adapter: "pgx", Group: "Contract: transactions", Text: "rolls back", Requirements: []string{"FR-006"},
				Outcome: ExpectedFail, Message: "known: rollback leaks"},
			{Adapter: "pq", Group: "Contract: transactions", Text: "rolls back", Requirements: []string{"FR-006"},
				Outcome: UnexpectedPass, Message: "listed as an expected failure but passed", Location: "contract/tx.go:9"},
		},
	})
}

func markdown(t *testing.T, r Run) string {
	t.Helper()
	var b strings.Builder
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatalf("WriteMarkdown: %v", err)
	}
	return b.String()
}

// row returns the cells of the matrix row for id.
func row(t *testing.T, md, id string) []string {
	t.Helper()
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| "+id+" |") {
			cells := strings.Split(strings.Trim(line, "|"), "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			return cells
		}
	}
	t.Fatalf("no matrix row for %s in:\n%s", id, md)
	return nil
}

// section returns the text from heading to the next "## " heading.
func section(t *testing.T, md, heading string) string {
	t.Helper()
	_, rest, ok := strings.Cut(md, "\n## "+heading+"\n")
	if !ok {
		t.Fatalf("no section %q in:\n%s", heading, md)
	}
	body, _, _ := strings.Cut(rest, "\n## ")
	return body
}

func TestWriteMarkdownMatrix(t *testing.T) {
	md := markdown(t, fixture())
	tests := []struct {
		id      string
		pgx, pq string
	}{
		{"FR-002", "✅", "❌"},
		{"FR-011", "➖", "➖"},
		{"EC-1", "⏭", "·"},
		{"FR-013", "✅", "∅"},
		{"FR-007", "∅", "✅"},
		{"FR-001", "∅", "∅"},
		{"FR-005", "⚠️", "✅"},
		{"FR-006", "⚠️", "❗"},
	}
	m := section(t, md, "Requirements × adapters")
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			cells := row(t, m, tt.id)
			if len(cells) != 4 {
				t.Fatalf("row %s has cells %q, want id, title and two adapters", tt.id, cells)
			}
			if cells[1] != Title(tt.id) {
				t.Errorf("title cell %q, want %q", cells[1], Title(tt.id))
			}
			if cells[2] != tt.pgx || cells[3] != tt.pq {
				t.Errorf("row %s: pgx %q, pq %q; want %q, %q", tt.id, cells[2], cells[3], tt.pgx, tt.pq)
			}
		})
	}
	// Every certified entry has a row, tasks none.
	for _, e := range catalogue.Certified() {
		row(t, m, e.ID)
	}
	if strings.Contains(m, "| T005 |") {
		t.Error("the matrix has a row for a task")
	}
	if !strings.Contains(m, "| | requirement | pgx | pq |\n|---|---|:-:|:-:|\n") {
		t.Error("matrix header does not name both adapters")
	}
	if Title("FR-013") == "" || strings.Contains(Title("FR-013"), "Async latency within 10% of sync") {
		t.Errorf("FR-013's display title %q is the seed's, not driver-agnostic", Title("FR-013"))
	}
}

func TestWriteMarkdownHeader(t *testing.T) {
	md := markdown(t, fixture())
	header, _, _ := strings.Cut(md, "\n## ")
	want := []string{
		"| Date | 2025-03-04T05:06:07Z |",
		"| Suite | pgwire-conformance, commit `abc1234` |",
		"| Target | **postgres** — PostgreSQL 17.2 \\| pgvector 0.8 (profile `postgres`, external, via direct) |",
		"| Run | complete: every spec ran for every adapter, no harness error; 1m33s |",
	}
	for _, w := range want {
		if !strings.Contains(header, w+"\n") {
			t.Errorf("header lacks line %q:\n%s", w, header)
		}
	}
	if strings.Contains(header, "CAUTION") {
		t.Errorf("a complete run is flagged:\n%s", header)
	}
	_, specs, _ := strings.Cut(header, "\n| Spec results | ")
	specs, _, _ = strings.Cut(specs, "\n")
	for _, w := range []string{"4 passed", "1 failed", "2 expected failure", "1 unexpected pass", "2 not applicable", "1 skipped", "1 skipped by filter"} {
		if !strings.Contains(specs, w) {
			t.Errorf("Spec results line %q lacks %q", specs, w)
		}
	}
	if !strings.Contains(md, "\n- DSN (postgres): `postgres://alice:xxxxx@db.example:5432/app?sslmode=disable`\n") || !strings.Contains(md, "- Images (postgres): `pgvector/pgvector:pg17`") {
		t.Errorf("run details lack the DSN or images:\n%s", section(t, md, "How the run ran"))
	}
}

// TestWriteMarkdownStanding: an interrupted, partial or broken run says so
// loudly, before anything else.
func TestWriteMarkdownStanding(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(*Run)
		want   string
	}{
		{"interrupted", func(r *Run) {
			r.Interrupted, r.InterruptReason = true, "Interrupted by User"
			r.Specs[0].Outcome = Unreached
		}, "INTERRUPTED (Interrupted by User): 1 spec result(s) not reached"},
		{"partial", func(r *Run) { r.Partial = "label filter contract" }, "PARTIAL (label filter contract): it certifies only what it ran"},
		{"harness errors", func(r *Run) { r.HarnessErrors = []HarnessFailure{{Node: "health monitor", Message: "target down"}} }, "HARNESS ERRORS: 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := fixture()
			tt.change(&r)
			md := markdown(t, r)
			if !strings.HasPrefix(md, "# pgwire-conformance certification report\n\n> [!CAUTION]\n> **This run is not a full certification.** ") || !strings.Contains(md[:400], tt.want) {
				t.Errorf("report does not open with %q:\n%s", tt.want, md[:min(len(md), 600)])
			}
		})
	}
}

func TestWriteMarkdownImplementation(t *testing.T) {
	r := fixture()
	r.Implementation = Implementation{Name: "acme-pg", Version: "2.1.0", URL: "https://example.org/acme-pg", Contact: "maintainers@example.org"}
	if md := markdown(t, r); !strings.Contains(md, "| Implementation under test | **acme-pg 2.1.0** · https://example.org/acme-pg · maintainers@example.org |") {
		t.Errorf("header lacks the implementation:\n%s", md[:800])
	}
}

func TestWriteMarkdownHasNoPassword(t *testing.T) {
	md := markdown(t, fixture())
	if strings.Contains(md, secret) {
		t.Errorf("REPORT.md contains the password:\n%s", md)
	}
	if !strings.Contains(section(t, md, "How the run ran"), "dsn=`postgres://alice:xxxxx@db.example:5432/app?sslmode=disable`") {
		t.Error("settings lack the redacted DSN")
	}
}

func TestWriteMarkdownFailures(t *testing.T) {
	md := markdown(t, fixture())
	f := section(t, md, "Failures")
	if !strings.Contains(f, "### ❌ pq — Contract: queries / returns one row\n") {
		t.Errorf("failure section lacks the failed spec's heading:\n%s", f)
	}
	if !strings.Contains(f, "failed · FR-002, T005 · `contract/query.go:42`") {
		t.Errorf("failure section lacks requirements and location:\n%s", f)
	}
	if !strings.Contains(f, "~~~~\n"+failureMsg+"\n~~~~") {
		t.Errorf("failure section lacks the message in a code block:\n%s", f)
	}
	if !strings.Contains(f, "### ❗ pq — Contract: transactions / rolls back\n") || !strings.Contains(f, "listed as an expected failure but passed") {
		t.Errorf("failure section lacks the unexpected pass:\n%s", f)
	}
	if strings.Contains(f, "pgx") {
		t.Errorf("failure section lists a spec that did not fail (an expected failure, or a pass):\n%s", f)
	}
	x := section(t, md, "Expected failures")
	if !strings.Contains(x, "| pgx | Contract: pool / bounds connections | FR-005 | known: pool ignores PoolMax |") {
		t.Errorf("expected failures lack the listed one:\n%s", x)
	}

	r := fixture()
	r.Specs = r.Specs[:1]
	if f := section(t, markdown(t, r), "Failures"); !strings.HasPrefix(strings.TrimSpace(f), "None") {
		t.Errorf("failure section of a clean run = %q, want None", f)
	}
}

// TestWriteMarkdownFailuresGrouped: the same failure for several adapters
// is one entry; past the budget, failures are one line each.
func TestWriteMarkdownFailuresGrouped(t *testing.T) {
	r := fixture()
	for _, a := range []string{"pgx-stdlib", "pgx-simple"} {
		s := r.Specs[1]
		s.Adapter = a
		r.Specs = append(r.Specs, s)
	}
	f := section(t, markdown(t, r), "Failures")
	if !strings.Contains(f, "### ❌ pq, pgx-stdlib, pgx-simple — Contract: queries / returns one row\n") || strings.Count(f, "returns one row") != 1 {
		t.Errorf("the same failure of three adapters is not one entry:\n%s", f)
	}
	r = fixture()
	long := strings.Repeat("a long failure message line\n", 40)
	for i := 0; i < 60; i++ {
		r.Specs = append(r.Specs, Spec{Adapter: "pq", ID: fmt.Sprintf("G / spec %d", i), Group: "G", Text: fmt.Sprintf("spec %d", i), Requirements: []string{"FR-002"}, Outcome: Failed, Message: fmt.Sprintf("failure %d\n%s", i, long)})
	}
	f = section(t, markdown(t, r), "Failures")
	if md := markdown(t, r); len(md) > ReportBudget+2000 || !strings.Contains(f, "More failures, without their details") || !strings.Contains(f, "- ❌ pq — G / spec 59: failure 59") {
		t.Errorf("60 long failures: %d bytes of failures; want the report's budget kept and the rest one line each:\n%s", len(f), f[max(0, len(f)-1500):])
	}
}

// performance is PERFORMANCE.md of a run.
func performance(t *testing.T, r Run) string {
	t.Helper()
	var b strings.Builder
	if _, err := WritePerformance(&b, r); err != nil {
		t.Fatalf("WritePerformance: %v", err)
	}
	return b.String()
}

func TestWriteMarkdownPerformance(t *testing.T) {
	md := performance(t, fixture())
	p := section(t, md, "Performance")
	for _, w := range []string{
		"| pgx | ❔ inconclusive | 1.100 | 1.050–1.150 | 1.10 | 12 of 24 | +10.0 µs | +4.0 µs–+16.0 µs | pgx raw | 98 µs | 110 µs | 150 µs | 200 µs | 100 µs | +0.25% [+0.10%, +0.40%] | — | direct |",
		"![p50, p95 and p99 latency per adapter](latency.svg)",
		"| pq | 100 | 0.025 | 4000 |",
		"Student t interval over the rounds",
		"behind iris-pgwire (~4 ms per round trip)",
	} {
		if !strings.Contains(p, w) {
			t.Errorf("performance section lacks %q:\n%s", w, p)
		}
	}
	if strings.Contains(md, "%!") {
		t.Errorf("a format verb went wrong:\n%s", md)
	}

	// A remote adapter compared with its sync twin also shows T023's
	// comparison with the raw driver, in a row of its own.
	r := fixture()
	for i := range r.Specs {
		if l := r.Specs[i].Latency; l != nil {
			l.Raw = &RawLatency{Baseline: "python:psycopg-sync", Comparison: measure.Comparison{
				Subject:  measure.Summary{N: 2000, P50: 110 * time.Microsecond, P95: 150 * time.Microsecond, P99: 200 * time.Microsecond},
				Baseline: measure.Summary{N: 2000, P50: 80 * time.Microsecond, P95: 90 * time.Microsecond, P99: 99 * time.Microsecond},
				Ratio:    1.375, RatioLow: 1.3, RatioHigh: 1.4, Blocks: 16, Overhead: 30 * time.Microsecond,
			}}
		}
	}
	if p := section(t, performance(t, r), "Performance"); !strings.Contains(p, "| pgx (T023) | — | 1.375 | 1.300–1.400 | — | 16 | +30.0 µs | +0.0 µs–+0.0 µs | python:psycopg-sync | 80 µs | 110 µs | 150 µs | 200 µs | 80 µs | — | — | direct |") {
		t.Errorf("performance section lacks the T023 row (or charts it):\n%s", p)
	}

	r = fixture()
	for i := range r.Specs {
		r.Specs[i].Latency, r.Specs[i].BulkInsert = nil, nil
	}
	if strings.Contains(markdown(t, r), "## Performance") || performance(t, r) != "" {
		t.Error("a run without measurements has a performance section")
	}
}

// TestWriteMarkdownPerformanceSummary: REPORT.md gives each adapter's FR-013
// verdict with its evidence and links the chart and PERFORMANCE.md.
func TestWriteMarkdownPerformanceSummary(t *testing.T) {
	p := section(t, markdown(t, fixture()), "Performance")
	for _, w := range []string{
		"| pgx | ❔ inconclusive | 1.100 [1.050–1.150] ≤ 1.10 | pgx raw | +10.0 µs [+4.0 µs, +16.0 µs] | +0.25% [+0.10%, +0.40%] | 110 / 150 / 200 µs |",
		"[latency.svg](latency.svg)", "[PERFORMANCE.md](PERFORMANCE.md)",
	} {
		if !strings.Contains(p, w) {
			t.Errorf("performance summary lacks %q:\n%s", w, p)
		}
	}
	// Bulk insert (pq's only figure) is PERFORMANCE.md's.
	if strings.Contains(p, "| pq |") {
		t.Errorf("performance summary has a row without an FR-013 verdict:\n%s", p)
	}
}

// TestDriversFile: the drivers' failure modes and connection setup go to
// DRIVERS.md, which REPORT.md links; a run that saw neither has no file.
func TestDriversFile(t *testing.T) {
	r := fixture()
	r.Adapters = append(r.Adapters, adapter.Info{Name: "python:psycopg-async", Async: true})
	r.Specs = append(r.Specs,
		Spec{Adapter: "python:psycopg-async", ID: "Edge cases: failure modes / x", Outcome: Passed,
			FailureModes: []FailureMode{{Probe: "use after close", Class: "misuse error", Message: "backend python at 172.27.0.3:7687: misuse error: no open engine (backend python at 172.27.0.3:7687, query)", Elapsed: time.Millisecond}}},
		Spec{Adapter: "pgx", ID: "Contract: connection setup / y", Outcome: Passed,
			ConnectionSetup: &ConnectionSetup{Auth: "SCRAM-SHA-256", Startup: map[string]string{"user": "u", "application_name": "a1"}, OnConnect: []string{"SET a", "SET b", "SET c", "SET d", "SET e", "SET f"}}})
	var b strings.Builder
	wrote, err := WriteDrivers(&b, r)
	if err != nil || !wrote {
		t.Fatalf("WriteDrivers: %v, %v", wrote, err)
	}
	d := b.String()
	for _, w := range []string{"## Async failure modes", "| use after close | python:psycopg-async | `misuse error` | misuse error: no open engine |", "## Connection setup", "(+2 more, in results.json)"} {
		if !strings.Contains(d, w) {
			t.Errorf("DRIVERS.md lacks %q:\n%s", w, d)
		}
	}
	md := markdown(t, r)
	if strings.Contains(md, "## Async failure modes") || !strings.Contains(md, "[DRIVERS.md](DRIVERS.md)") {
		t.Errorf("REPORT.md should link DRIVERS.md instead of holding it:\n%s", md)
	}
	r.Specs = r.Specs[:len(r.Specs)-2]
	if wrote, _ := WriteDrivers(&b, r); wrote || strings.Contains(markdown(t, r), "DRIVERS.md") {
		t.Error("a run that saw no failure mode and no connection setup has DRIVERS.md")
	}
}

func TestWriteMarkdownPasses(t *testing.T) {
	p := section(t, markdown(t, fixture()), "Passes")
	for _, w := range []string{
		"| FR-002 | 1 | 0 | 0 |",
		"| FR-011 | 0 | 2 | 0 |",
		"| EC-1 | 0 | 0 | 2 |",
	} {
		if !strings.Contains(p, w+"\n") {
			t.Errorf("passes lack %q:\n%s", w, p)
		}
	}
}

// TestWriteMarkdownEmptyConfigValue: an empty setting must not become an
// empty code span (two backticks), which Markdown shows literally.
func TestWriteMarkdownEmptyConfigValue(t *testing.T) {
	r := fixture()
	r.Config = map[string]string{"postgres_image": ""}
	if md := markdown(t, r); strings.Contains(md, "postgres_image=``") {
		t.Errorf("empty value rendered as an empty code span:\n%s", md)
	}
}

func TestRequirementOutcome(t *testing.T) {
	spec := func(adapterName string, o Outcome, ids ...string) Spec {
		return Spec{Adapter: adapterName, Requirements: ids, Outcome: o}
	}
	tests := []struct {
		name  string
		specs []Spec
		want  Outcome
	}{
		{"no specs", nil, NoSpec},
		{"failed beats unexpected pass", []Spec{spec("a", UnexpectedPass, "FR-001"), spec("a", Failed, "FR-001")}, Failed},
		{"unexpected pass beats expected failure", []Spec{spec("a", ExpectedFail, "FR-001"), spec("a", UnexpectedPass, "FR-001")}, UnexpectedPass},
		{"expected failure beats passed", []Spec{spec("a", Passed, "FR-001"), spec("a", ExpectedFail, "FR-001")}, ExpectedFail},
		{"failed beats passed", []Spec{spec("a", Passed, "FR-001"), spec("a", Failed, "FR-001"), spec("a", Passed, "FR-001")}, Failed},
		{"failed beats n/a", []Spec{spec("a", NotApplicable, "FR-001"), spec("a", Failed, "FR-001")}, Failed},
		{"passed beats n/a", []Spec{spec("a", NotApplicable, "FR-001"), spec("a", Passed, "FR-001")}, Passed},
		{"passed beats skipped and not run", []Spec{spec("a", Skipped, "FR-001"), spec("a", NotRun, "FR-001"), spec("a", Passed, "FR-001")}, Passed},
		{"n/a beats skipped", []Spec{spec("a", Skipped, "FR-001"), spec("a", NotApplicable, "FR-001")}, NotApplicable},
		{"skipped beats not run", []Spec{spec("a", NotRun, "FR-001"), spec("a", Skipped, "FR-001")}, Skipped},
		{"only not run", []Spec{spec("a", NotRun, "FR-001")}, NotRun},
		{"other adapter's failure ignored", []Spec{spec("b", Failed, "FR-001"), spec("a", Passed, "FR-001")}, Passed},
		{"other requirement's failure ignored", []Spec{spec("a", Failed, "FR-002"), spec("a", Passed, "FR-001", "T004")}, Passed},
		{"one of several IDs", []Spec{spec("a", Failed, "T004", "FR-001")}, Failed},
		{"prefix is not a match", []Spec{spec("a", Failed, "FR-0010")}, NoSpec},
		{"harness error beats passed", []Spec{spec("a", Passed, "FR-001"), spec("a", HarnessError, "FR-001")}, HarnessError},
		{"failed beats harness error", []Spec{spec("a", HarnessError, "FR-001"), spec("a", Failed, "FR-001")}, Failed},
		{"harness error beats expected failure", []Spec{spec("a", ExpectedFail, "FR-001"), spec("a", HarnessError, "FR-001")}, HarnessError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RequirementOutcome(tt.specs, "a", "FR-001"); got != tt.want {
				t.Errorf("RequirementOutcome = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCounts(t *testing.T) {
	got := Counts(fixture().Specs)
	want := map[Outcome]int{Passed: 4, Failed: 1, ExpectedFail: 2, UnexpectedPass: 1, NotApplicable: 2, Skipped: 1, NotRun: 1}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Counts = %v, want %v", got, want)
	}
}

// fixtureConformance is the spec list the fixture's specs come from: what
// conformance.yaml is to a real run.
func fixtureConformance(r Run) Conformance {
	var c Conformance
	seen := map[string]bool{}
	for _, s := range r.Specs {
		id := s.Group + " / " + s.Text
		if seen[id] {
			continue
		}
		seen[id] = true
		reqs, tasks := SplitIDs(s.Requirements)
		c.Specs = append(c.Specs, ConformanceSpec{ID: id, Group: s.Group, Text: s.Text, Requirements: reqs, Tasks: tasks, File: "specs/" + strings.ToLower(strings.Fields(s.Group)[1]) + ".go:7"})
	}
	return c
}

func TestWriteFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "out")
	r := withIDs(fixture())
	if err := WriteFiles(dir, r); err != nil {
		t.Fatalf("WriteFiles: %v", err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "REPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	if string(md) != markdown(t, r) {
		t.Error("REPORT.md differs from WriteMarkdown's output")
	}
	for _, f := range []string{"junit.xml", LatencySVG} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("WriteFiles wrote no %s: %v", f, err)
		}
	}

	raw, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), secret) {
		t.Error("results.json contains the password")
	}
	back, err := DecodeResults(raw, "results.json", fixtureConformance(r))
	if err != nil {
		t.Fatalf("results.json does not decode: %v", err)
	}
	if len(back.Gates) != 2*len(Gates) {
		t.Errorf("results.json carries %d gate verdicts, want %d", len(back.Gates), 2*len(Gates))
	}
	if !reflect.DeepEqual(back.Gates, ComputeGates(r)) {
		t.Errorf("results.json's gates differ from the run's:\n got %+v\nwant %+v", back.Gates, ComputeGates(r))
	}
	// What results.json leaves out comes back from conformance.yaml: the
	// run's specs, but the labels (the catalogue's) and the file:line of
	// specs that did not fail (the spec's own).
	want := r
	want.Gates = back.Gates
	want.Specs = append([]Spec(nil), r.Specs...)
	for i := range want.Specs {
		s := &want.Specs[i]
		s.Labels = back.Specs[i].Labels
		if s.Outcome != Failed && s.Outcome != HarnessError {
			s.Location = back.Specs[i].Location
		}
		s.Requirements = back.Specs[i].Requirements // order: requirements, then tasks
	}
	if !back.Date.Equal(r.Date) {
		t.Errorf("Date %v, want %v", back.Date, r.Date)
	}
	back.Date = r.Date
	if !reflect.DeepEqual(back, want) {
		t.Errorf("results.json does not round-trip:\n got %+v\nwant %+v", back, want)
	}
	for i, s := range back.Specs {
		if !sameSet(s.Requirements, r.Specs[i].Requirements) || s.Group != r.Specs[i].Group || s.Text != r.Specs[i].Text {
			t.Errorf("spec %d hydrated as %q %q %v, want %q %q %v", i, s.Group, s.Text, s.Requirements, r.Specs[i].Group, r.Specs[i].Text, r.Specs[i].Requirements)
		}
	}
	var top map[string]any
	if err := json.Unmarshal(raw, &top); err != nil {
		t.Fatal(err)
	}
	if v, _ := top["schema_version"].(float64); int(v) != SchemaVersion {
		t.Errorf("schema_version = %v, want %d", top["schema_version"], SchemaVersion)
	}

	// A run without latency leaves no chart behind, not even an old one.
	r.Specs = r.Specs[:2]
	if err := WriteFiles(dir, r); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, LatencySVG)); !os.IsNotExist(err) {
		t.Errorf("a run without latency left %s: %v", LatencySVG, err)
	}
}

func TestWriteFilesBadDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := WriteFiles(filepath.Join(file, "sub"), fixture())
	if err == nil || !strings.Contains(err.Error(), "report dir") {
		t.Errorf("WriteFiles under a file: error %v, want one about the report dir", err)
	}
}
