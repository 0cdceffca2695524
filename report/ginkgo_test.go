package report

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pgwire-conformance/pgwire-conformance/catalogue"
	"github.com/pgwire-conformance/pgwire-conformance/measure"
)

var prefixes = Prefixes{NotApplicable: "not applicable: ", ExpectedFailure: "expected failure: ", UnexpectedPass: "unexpected pass: "}

func itReport(adapterName, text string, state types.SpecState, msg string, entries ...types.ReportEntry) types.SpecReport {
	return types.SpecReport{
		LeafNodeType: types.NodeTypeIt, LeafNodeText: text, State: state,
		ContainerHierarchyTexts:  []string{"Edge cases: transactions", "[" + adapterName + "]"},
		ContainerHierarchyLabels: [][]string{{"transactions"}, {"adapter:" + adapterName}},
		LeafNodeLabels:           []string{"fr:FR-006", "ec:EC-5", "task:T031"},
		Failure:                  types.Failure{Message: msg},
		ReportEntries:            entries,
	}
}

func entry(name string, v any) types.ReportEntry {
	return types.ReportEntry{Name: name, Value: types.WrapEntryValue(v)}
}

func convert(reports ...types.SpecReport) []Spec {
	return SpecsFromGinkgo(reports, catalogue.IDsFromLabels, func(labels []string) string {
		for _, l := range labels {
			if a, ok := strings.CutPrefix(l, "adapter:"); ok {
				return a
			}
		}
		return ""
	}, prefixes)
}

func TestSpecsFromGinkgoOutcomes(t *testing.T) {
	specs := convert(
		itReport("a", "passes", types.SpecStatePassed, ""),
		itReport("a", "fails", types.SpecStateFailed, "Expected 1 to equal 0"),
		itReport("a", "harness", types.SpecStateFailed, "harness error: observer: connect refused"),
		itReport("a", "timed out", types.SpecStateTimedout, "A spec timeout occurred"),
		itReport("a", "n/a", types.SpecStateSkipped, "not applicable: adapter a lacks capability \"orm\""),
		itReport("a", "filtered", types.SpecStateSkipped, ""),
		itReport("a", "xfail", types.SpecStateSkipped, "expected failure: known"),
		itReport("a", "xpass", types.SpecStateFailed, "unexpected pass: listed but passed"),
	)
	want := []Outcome{Passed, Failed, HarnessError, Failed, NotApplicable, NotRun, ExpectedFail, UnexpectedPass}
	for i, s := range specs {
		if s.Outcome != want[i] {
			t.Errorf("%s: outcome %q, want %q", s.Text, s.Outcome, want[i])
		}
	}
	if specs[0].ID != "Edge cases: transactions / passes" || specs[0].Adapter != "a" {
		t.Errorf("id %q adapter %q", specs[0].ID, specs[0].Adapter)
	}
}

func TestSpecsFromGinkgoSetupFailure(t *testing.T) {
	setup := types.SpecReport{LeafNodeType: types.NodeTypeSynchronizedBeforeSuite, State: types.SpecStateFailed, ParallelProcess: 1,
		Failure: types.Failure{Message: "harness error: start the postgres target: never answered\n--- last log lines of postgres ---\nFATAL: out of memory"}}
	other := types.SpecReport{LeafNodeType: types.NodeTypeSynchronizedBeforeSuite, State: types.SpecStateFailed, ParallelProcess: 2,
		Failure: types.Failure{Message: "SynchronizedBeforeSuite failed on Ginkgo parallel process #1"}}
	reports := types.SpecReports{setup, other, itReport("pgx", "never ran", types.SpecStateSkipped, "")}
	h := HarnessFailures(reports)
	if len(h) != 1 {
		t.Fatalf("harness failures %+v, want process 1's only", h)
	}
	if h[0].Node != "SynchronizedBeforeSuite" || h[0].Message != "harness error: start the postgres target: never answered" || h[0].LogTail != "--- last log lines of postgres ---\nFATAL: out of memory" {
		t.Errorf("harness failure %+v", h[0])
	}
	specs := convert(reports...)
	if len(specs) != 1 || specs[0].Outcome != HarnessError || !strings.Contains(specs[0].Message, "SynchronizedBeforeSuite failed: harness error: start the postgres target") {
		t.Errorf("spec after a failed setup: %+v", specs)
	}

	r := withIDs(fixture())
	r.Specs = specs
	r.HarnessErrors = h
	md := markdown(t, r)
	he := section(t, md, "Harness errors")
	for _, w := range []string{"1 spec result(s) have no verdict", "### SynchronizedBeforeSuite", "Container log tail</summary>\n\n~~~~\n--- last log lines of postgres ---\nFATAL: out of memory\n~~~~"} {
		if !strings.Contains(he, w) {
			t.Errorf("harness errors section lacks %q:\n%s", w, he)
		}
	}
	if cells := row(t, section(t, md, "Requirements × adapters"), "FR-006"); cells[2] != "🔧" {
		t.Errorf("FR-006 row %q", cells)
	}
	if !strings.Contains(section(t, md, "Failures"), "None") {
		t.Error("a harness error is listed as a driver failure")
	}
}

func transcriptOf(n int) Transcript {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var tr Transcript
	one := int64(1)
	for i := 0; i < n; i++ {
		tr.Events = append(tr.Events, Event{At: t0.Add(time.Duration(i) * time.Millisecond), Duration: 500 * time.Microsecond, Scope: "e1.c1.tx1", Op: "exec",
			SQL: fmt.Sprintf("INSERT INTO t (id) VALUES ($1) -- %d", i), Args: []string{fmt.Sprint(i)}, Affected: &one})
	}
	tr.Events = append(tr.Events,
		Event{At: t0.Add(time.Duration(n) * time.Millisecond), Scope: "e1.c1.tx1", Op: "query", SQL: "SELECT count(*)\n  FROM t", Rows: [][]string{{"1"}}, Fetched: 1},
		Event{At: t0.Add(time.Duration(n+1) * time.Millisecond), Scope: "e1.c1.tx1", Op: "rollback"},
		Event{At: t0.Add(time.Duration(n+2) * time.Millisecond), Scope: "e1", Op: "exec_many", SQL: "INSERT", Batch: 7, ParamRows: [][]string{{"1", `"a"`}}, Error: "ERROR: boom (SQLSTATE 42P01)"},
	)
	return tr
}

func TestTranscriptLines(t *testing.T) {
	lines := transcriptOf(1).Lines()
	want := []string{
		`+0.0ms e1.c1.tx1 exec INSERT INTO t (id) VALUES ($1) -- 0 [0] → 1 row(s) affected (0.5ms)`,
		`+1.0ms e1.c1.tx1 query SELECT count(*) FROM t → 1 row(s) fetched: [1] (0.0ms)`,
		`+2.0ms e1.c1.tx1 rollback → ok (0.0ms)`,
		`+3.0ms e1 exec_many INSERT × 7 rows [1, "a"] … → ERROR ERROR: boom (SQLSTATE 42P01) (0.0ms)`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if l := (Transcript{Dropped: 3}).Lines(); len(l) != 1 || l[0] != "… 3 earlier calls left out" {
		t.Errorf("dropped: %q", l)
	}
}

func TestSpecsFromGinkgoEntries(t *testing.T) {
	tr := transcriptOf(30)
	vec := Latency{Statement: "SELECT id FROM v ORDER BY v <=> $1 LIMIT 5", Comparison: measure.Comparison{Subject: measure.Summary{N: 200, P50: 300 * time.Microsecond, P95: 400 * time.Microsecond, P99: 500 * time.Microsecond}}}
	specs := convert(
		itReport("a", "fails with a transcript", types.SpecStateFailed, "after Rollback the server must hold none", entry(TranscriptEntry, tr)),
		itReport("a", "vector", types.SpecStatePassed, "", entry(VectorLatencyEntry, vec)),
		itReport("b", "vector summary", types.SpecStatePassed, "", entry(VectorLatencyEntry, measure.Summary{N: 100, P50: 250 * time.Microsecond})),
	)
	if specs[0].Transcript == nil || len(specs[0].Transcript.Events) != 33 {
		t.Fatalf("transcript not read: %+v", specs[0].Transcript)
	}
	if specs[1].VectorLatency == nil || specs[1].VectorLatency.Comparison.Subject.N != 200 {
		t.Errorf("vector latency: %+v", specs[1].VectorLatency)
	}
	if specs[2].VectorLatency == nil || specs[2].VectorLatency.Comparison.Subject.P50 != 250*time.Microsecond {
		t.Errorf("vector summary: %+v", specs[2].VectorLatency)
	}
	// From another process the value arrives as JSON only.
	e := entry(TranscriptEntry, tr)
	b, err := json.Marshal(e.Value)
	if err != nil {
		t.Fatal(err)
	}
	e.Value = types.ReportEntryValue{}
	if err := json.Unmarshal(b, &e.Value); err != nil {
		t.Fatal(err)
	}
	if s := convert(itReport("a", "remote", types.SpecStateFailed, "x", e)); s[0].Transcript == nil || len(s[0].Transcript.Events) != 33 {
		t.Error("transcript from another process not read")
	}

	r := withIDs(fixture())
	r.Specs = append(r.Specs, specs...)
	r.Specs = append(r.Specs, Spec{Adapter: "pgx", ID: "V / vector", Text: "vector", VectorLatency: specs[1].VectorLatency, Outcome: Passed})
	md := markdown(t, r)
	f := section(t, md, "Failures")
	if !strings.Contains(f, "<summary>SQL transcript: the adapter's last 8 of 33 calls</summary>") {
		t.Errorf("failure lacks the transcript heading:\n%s", f)
	}
	if !strings.Contains(f, "+31.0ms e1.c1.tx1 rollback → ok") || strings.Contains(f, "-- 24 [24]") || !strings.Contains(f, "-- 25 [25]") {
		t.Errorf("failure does not show exactly the transcript's last 8 lines:\n%s", f)
	}
	p := section(t, performance(t, r), "Performance")
	for _, w := range []string{"| pgx | `SELECT id FROM v ORDER BY v <=> $1 LIMIT 5` | 200 | 300 µs | 400 µs | 500 µs | — | — |", "](latency.svg)"} {
		if !strings.Contains(p, w) {
			t.Errorf("performance lacks %q:\n%s", w, p)
		}
	}
}

// TestLocation: the suite's own files are shown from its module root,
// others as they are.
func TestLocation(t *testing.T) {
	root, err := ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	if got := Location(types.CodeLocation{FileName: filepath.Join(root, "edge_cases", "transactions.go"), LineNumber: 83}); got != "edge_cases/transactions.go:83" {
		t.Errorf("suite file: %q", got)
	}
	if got := Location(types.CodeLocation{FileName: "/elsewhere/driver_test.go", LineNumber: 7}); got != "/elsewhere/driver_test.go:7" {
		t.Errorf("other file: %q", got)
	}
	if Location(types.CodeLocation{}) != "" {
		t.Error("no location")
	}
}
