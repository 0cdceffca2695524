package report

import (
	"encoding/json"
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
// Spec.ID is left empty: SpecsFromGinkgo derives it, and the round trip
// covers it either way.
func fixture() Run {
	cfg := config.Defaults()
	cfg.Adapters = []string{"pgx", "pq"}
	cfg.Provider = "external"
	cfg.DSN = fixtureDSN
	us := time.Microsecond
	return Run{
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
					Comparison: measure.Comparison{
						Subject:  measure.Summary{N: 2000, P50: 110 * us, P95: 150 * us, P99: 200 * us},
						Baseline: measure.Summary{N: 2000, P50: 100 * us, P95: 140 * us, P99: 190 * us},
						Ratio:    1.1, RatioLow: 1.05, RatioHigh: 1.15, Blocks: 200, Overhead: 10 * us,
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
	}
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
		id       string
		pgx, pq  string
		wantBoth bool
	}{
		{"FR-002", "✅ pass", "❌ FAIL", false},
		{"FR-011", "➖ n/a", "➖ n/a", false},
		{"EC-1", "⏭ skipped", "· filtered", false},
		{"FR-013", "✅ pass", "∅ no spec", false},
		{"FR-007", "∅ no spec", "✅ pass", false},
		{"FR-001", "∅ no spec", "∅ no spec", false},
		{"FR-005", "⚠️ xfail", "✅ pass", false},
		{"FR-006", "⚠️ xfail", "❗ XPASS", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			cells := row(t, md, tt.id)
			if len(cells) != 4 {
				t.Fatalf("row %s has cells %q, want id, title and two adapters", tt.id, cells)
			}
			e, _ := catalogue.Lookup(tt.id)
			if cells[1] != e.Title {
				t.Errorf("title cell %q, want %q", cells[1], e.Title)
			}
			if cells[2] != tt.pgx || cells[3] != tt.pq {
				t.Errorf("row %s: pgx %q, pq %q; want %q, %q", tt.id, cells[2], cells[3], tt.pgx, tt.pq)
			}
		})
	}
	// Every certified entry has a row, tasks none.
	for _, e := range catalogue.Certified() {
		row(t, md, e.ID)
	}
	if strings.Contains(section(t, md, "Requirements × adapters"), "| T005 |") {
		t.Error("the matrix has a row for a task")
	}
	if !strings.Contains(md, "| requirement | title | pgx | pq |\n|---|---|---|---|\n") {
		t.Error("matrix header does not name both adapters")
	}
}

func TestWriteMarkdownHeader(t *testing.T) {
	md := markdown(t, fixture())
	header, _, _ := strings.Cut(md, "\n## ")
	want := []string{
		"| Date | 2025-03-04T05:06:07Z |",
		"| Suite | pgwire-conformance (commit `abc1234`) |",
		"| Target | profile `postgres`, provider `external`, reached via direct |",
		`| Server | PostgreSQL 17.2 \| pgvector 0.8 |`,
		"| Images | `pgvector/pgvector:pg17` |",
		"| DSN | `postgres://alice:xxxxx@db.example:5432/app?sslmode=disable` |",
		"| Machine | 2 cores, linux/amd64 |",
		"| Run time | 1m33s |",
	}
	for _, w := range want {
		if !strings.Contains(header, w+"\n") {
			t.Errorf("header lacks line %q:\n%s", w, header)
		}
	}
	_, specs, _ := strings.Cut(header, "\n| Specs | ")
	specs, _, _ = strings.Cut(specs, "\n")
	for _, w := range []string{"4 passed", "1 failed", "2 expected failures", "1 unexpected passes", "2 not applicable", "1 skipped", "1 skipped by filter", "0 harness errors"} {
		if !strings.Contains(specs, w) {
			t.Errorf("Specs line %q lacks %q", specs, w)
		}
	}
}

func TestWriteMarkdownHasNoPassword(t *testing.T) {
	md := markdown(t, fixture())
	if strings.Contains(md, secret) {
		t.Errorf("REPORT.md contains the password:\n%s", md)
	}
	if !strings.Contains(section(t, md, "Configuration"), "| dsn | `postgres://alice:xxxxx@db.example:5432/app?sslmode=disable` |") {
		t.Error("configuration table lacks the redacted DSN")
	}
}

func TestWriteMarkdownFailures(t *testing.T) {
	md := markdown(t, fixture())
	f := section(t, md, "Failures")
	if !strings.Contains(f, "### [pq] returns one row\n") {
		t.Errorf("failure section lacks the failed spec's heading:\n%s", f)
	}
	if !strings.Contains(f, "FR-002, T005 — `contract/query.go:42`") {
		t.Errorf("failure section lacks requirements and location:\n%s", f)
	}
	if !strings.Contains(f, "~~~~\n"+failureMsg+"\n~~~~") {
		t.Errorf("failure section lacks the message in a code block:\n%s", f)
	}
	if !strings.Contains(f, "### [pq] rolls back\n") || !strings.Contains(f, "listed as an expected failure but passed") {
		t.Errorf("failure section lacks the unexpected pass:\n%s", f)
	}
	if strings.Contains(f, "[pgx]") {
		t.Errorf("failure section lists a spec that did not fail (an expected failure, or a pass):\n%s", f)
	}

	r := fixture()
	r.Specs = r.Specs[:1]
	if f := section(t, markdown(t, r), "Failures"); strings.TrimSpace(f) != "None." {
		t.Errorf("failure section of a clean run = %q, want None.", f)
	}
}

func TestWriteMarkdownPerformance(t *testing.T) {
	md := markdown(t, fixture())
	p := section(t, md, "Performance")
	for _, w := range []string{
		"| pgx | 2000 | 110 µs | 150 µs | 200 µs | pgx raw | 100 µs | 1.100 | 1.050–1.150 | 1.10 | 10 µs | direct |",
		"x-axis [\"pgx\"]",
		"bar [110]",
		"line [100]",
		"| pq | 100 | 0.025 | 4000 |",
		"~95% block-bootstrap",
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
	if p := section(t, markdown(t, r), "Performance"); !strings.Contains(p, "| pgx (T023) | 2000 | 110 µs | 150 µs | 200 µs | python:psycopg-sync | 80 µs | 1.375 | 1.300–1.400 | — | 30 µs | direct |") ||
		strings.Count(p, "line [100]") != 1 {
		t.Errorf("performance section lacks the T023 row (or charts it):\n%s", p)
	}

	r = fixture()
	for i := range r.Specs {
		r.Specs[i].Latency, r.Specs[i].BulkInsert = nil, nil
	}
	if strings.Contains(markdown(t, r), "## Performance") {
		t.Error("a run without measurements has a performance section")
	}
}

func TestWriteMarkdownSpecs(t *testing.T) {
	s := section(t, markdown(t, fixture()), "Specs")
	for _, w := range []string{
		"| pq | returns one row | FR-002 T005 | ❌ FAIL | 15ms |",
		"| pgx | maps a model | FR-011 | ➖ n/a: adapter lacks capability orm | 0s |",
		`| pgx | sync misuse \| probe | EC-1 | ⏭ skipped: probe disabled | 0s |`,
		`| pq | sync misuse \| probe | EC-1 | · filtered | 0s |`,
		"| pgx | bounds connections | FR-005 | ⚠️ xfail: known: pool ignores PoolMax | 0s |",
		"| pq | rolls back | FR-006 | ❗ XPASS | 0s |",
	} {
		if !strings.Contains(s, w+"\n") {
			t.Errorf("specs section lacks %q:\n%s", w, s)
		}
	}
}

// TestWriteMarkdownEmptyConfigValue: an empty setting must not become an
// empty code span (two backticks), which Markdown shows literally.
func TestWriteMarkdownEmptyConfigValue(t *testing.T) {
	r := fixture()
	r.Config = map[string]string{"postgres_image": ""}
	if md := markdown(t, r); strings.Contains(md, "| postgres_image | `` |") {
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

func TestWriteFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "out")
	r := fixture()
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

	raw, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), secret) {
		t.Error("results.json contains the password")
	}
	var back Run
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&back); err != nil {
		t.Fatalf("results.json does not decode into Run: %v", err)
	}
	if !back.Date.Equal(r.Date) {
		t.Errorf("Date %v, want %v", back.Date, r.Date)
	}
	back.Date = r.Date
	if !reflect.DeepEqual(back, r) {
		t.Errorf("results.json does not round-trip:\n got %+v\nwant %+v", back, r)
	}
	var top map[string]any
	if err := json.Unmarshal(raw, &top); err != nil {
		t.Fatal(err)
	}
	if v, _ := top["schema_version"].(float64); int(v) != SchemaVersion {
		t.Errorf("schema_version = %v, want %d", top["schema_version"], SchemaVersion)
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
