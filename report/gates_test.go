package report

import (
	"strings"
	"testing"

	"github.com/pgwire-conformance/pgwire-conformance/measure"
)

func gateSpec(o Outcome, msg string, ids ...string) Spec {
	return Spec{Adapter: "a", ID: "G / " + string(o) + " " + strings.Join(ids, ","), Group: "G", Text: string(o), Requirements: ids, Outcome: o, Message: msg}
}

// TestGateOf: a gate's verdict derives from its specs' outcomes in the
// documented order; specs of other requirements do not count.
func TestGateOf(t *testing.T) {
	perf, web, all := Gates[0], Gates[1], Gates[3]
	lat := &Latency{Baseline: "python:sqlalchemy-sync", Threshold: 1.10, Comparison: measure.Comparison{Ratio: 1.35, RatioLow: 1.31, RatioHigh: 1.40, Blocks: 12}}
	withLatency := func(s Spec) Spec { s.Latency = lat; return s }
	tests := []struct {
		name   string
		gate   Gate
		specs  []Spec
		want   Verdict
		reason string
	}{
		{"no spec", perf, nil, GateInconclusive, "FR-013: no spec for it in this run"},
		{"other requirements only", perf, []Spec{gateSpec(Failed, "boom", "FR-002")}, GateInconclusive, "no spec"},
		{"passed", web, []Spec{gateSpec(Passed, "", "FR-014"), gateSpec(NotApplicable, "adapter a lacks capability \"orm\"", "T020")}, Certified, "FR-014: 1 passed, 1 not applicable"},
		{"all not applicable", web, []Spec{gateSpec(NotApplicable, "adapter a lacks capability \"webapp\"", "FR-014")}, GateNotApplicable, `FR-014: not applicable: adapter a lacks capability "webapp"`},
		{"listed expected failure", perf, []Spec{withLatency(gateSpec(ExpectedFail, "async overhead (issue 7) — got: ratio 1.35", "FR-013", "T022"))}, NotCertifiedKnown,
			"FR-013: 1.35× python:sqlalchemy-sync [1.31–1.40], threshold 1.10, listed expected failure"},
		{"expected failure without figures", web, []Spec{gateSpec(ExpectedFail, "no web app yet (issue 3) — got: 404", "FR-014"), gateSpec(Passed, "", "FR-014")}, NotCertifiedKnown,
			"FR-014: listed expected failure: no web app yet (issue 3)"},
		{"failure beats expected failure", perf, []Spec{gateSpec(ExpectedFail, "x", "FR-013"), withLatency(gateSpec(Failed, "beyond", "T022"))}, NotCertified,
			"FR-013: 1.35× python:sqlalchemy-sync [1.31–1.40], threshold 1.10, failed"},
		{"unexpected pass", web, []Spec{gateSpec(UnexpectedPass, "listed but passed", "FR-014")}, NotCertified, "passed but listed as an expected failure"},
		{"expected failure beats harness error", web, []Spec{gateSpec(HarnessError, "x", "FR-014"), gateSpec(ExpectedFail, "known", "FR-014")}, NotCertifiedKnown, "known"},
		{"harness error beats pass", web, []Spec{gateSpec(Passed, "", "FR-014"), gateSpec(HarnessError, "harness error: target down", "FR-014")}, GateInconclusive, "FR-014: 1 harness error"},
		{"filtered out", web, []Spec{gateSpec(Passed, "", "FR-014"), gateSpec(NotRun, "", "FR-014"), gateSpec(Unreached, "", "T020")}, GateInconclusive, "1 not reached, 1 skipped by filter"},
		{"inconclusive measurement", perf, []Spec{withLatency(gateSpec(Inconclusive, "interval contains 1.10", "FR-013"))}, GateInconclusive,
			"FR-013: 1.35× python:sqlalchemy-sync [1.31–1.40], threshold 1.10: interval contains the threshold; 1 inconclusive"},
		{"final gate: any FR or EC", all, []Spec{gateSpec(Passed, "", "FR-001"), gateSpec(ExpectedFail, "known", "EC-5", "T031"), gateSpec(Failed, "x", "COMPAT")}, NotCertifiedKnown,
			"FRs and ECs: 1 listed expected failure(s) (EC-5)"},
		{"final gate: failures by requirement", all, []Spec{gateSpec(Failed, "boom\nmore", "FR-009", "EC-2"), gateSpec(Failed, "x", "FR-002")}, NotCertified,
			"FRs and ECs: 2 failed (FR-002, FR-009, EC-2); first: failed \"failed\": boom more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, reason, specs := GateOf(tt.gate, tt.specs)
			if v != tt.want || !strings.Contains(reason, tt.reason) {
				t.Errorf("GateOf = %q, %q; want %q, reason containing %q", v, reason, tt.want, tt.reason)
			}
			if decided := v != Certified && v != GateNotApplicable && !strings.Contains(reason, "no spec"); decided != (len(specs) > 0) {
				t.Errorf("deciding specs %v for verdict %q", specs, v)
			}
			if strings.Contains(reason, "\n") {
				t.Errorf("reason %q is not one line", reason)
			}
		})
	}
}

// TestComputeGates: one verdict per adapter and gate, none for the server.
func TestComputeGates(t *testing.T) {
	r := fixture()
	r.Specs = append(r.Specs, Spec{Adapter: ServerAdapter, ID: "Wire / x", Requirements: []string{"FR-002"}, Outcome: Failed})
	got := ComputeGates(r)
	if len(got) != 2*len(Gates) {
		t.Fatalf("%d verdicts, want %d", len(got), 2*len(Gates))
	}
	byKey := map[string]GateVerdict{}
	for _, g := range got {
		if g.Adapter == ServerAdapter {
			t.Errorf("the server has a gate verdict: %+v", g)
		}
		byKey[g.Adapter+" "+g.Gate] = g
	}
	// The spec's outcome decides; its figures are the reason.
	if g := byKey["pgx performance"]; g.Verdict != Certified || g.Reason != "FR-013: 1.10× pgx raw [1.05–1.15], threshold 1.10" {
		t.Errorf("pgx performance: %+v", g)
	}
	if g := byKey["pq all"]; g.Verdict != NotCertified || len(g.Specs) != 2 {
		t.Errorf("pq final gate: %+v", g)
	}
	if g := byKey["pgx all"]; g.Verdict != NotCertifiedKnown {
		t.Errorf("pgx final gate: %+v", g)
	}
	if g := byKey["pq fastapi"]; g.Verdict != GateInconclusive || g.Reason != "FR-014: no spec for it in this run" {
		t.Errorf("pq fastapi: %+v", g)
	}
}

// TestWriteMarkdownGatesFirst: REPORT.md opens with the gate table, one row
// per adapter, the verdict and its reason in each cell.
func TestWriteMarkdownGatesFirst(t *testing.T) {
	md := markdown(t, fixture())
	_, rest, _ := strings.Cut(md, "\n## ")
	if !strings.HasPrefix(rest, "Certification verdicts\n") {
		t.Fatalf("the first section is not the gates:\n%s", md[:600])
	}
	g := section(t, md, "Certification verdicts")
	if !strings.Contains(g, "| adapter | Performance (FR-013 / T022) | FastAPI (FR-014 / T020) | IRIS features (FR-004 / T028) | All FRs and edge cases (T033) |") {
		t.Errorf("gate header:\n%s", g)
	}
	cells := row(t, g, "pq")
	if len(cells) != 5 || cells[4] != `❌ not certified — 2 failed (FR-002, FR-006); first: failed "returns one row": Expected <int64>: 2 to equal <int64>: 1` {
		t.Errorf("pq's gate row %q", cells)
	}
	if cells := row(t, g, "pgx"); cells[1] != "✅ certified — 1.10× pgx raw [1.05–1.15], threshold 1.10" || cells[4] != "⚠️ not certified (known) — 2 listed expected failure(s) (FR-005, FR-006)" {
		t.Errorf("pgx's gate row %q", cells)
	}
}
