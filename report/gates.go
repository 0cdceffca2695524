package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pgwire-conformance/pgwire-conformance/catalogue"
)

// Gate is one of the seed's certification gates ("Performance Gate: T022
// must pass to meet FR-013", "FastAPI Gate: T020 …", "IRIS Gate: T028 …",
// "Final Gate: T033 validates all 14 functional requirements").
type Gate struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Requirement and Task are the IDs whose specs the gate judges; the
	// final gate (All) judges every spec that names a functional
	// requirement or an edge case.
	Requirement string `json:"requirement,omitempty"`
	Task        string `json:"task"`
	All         bool   `json:"all,omitempty"`
}

// Gates are the seed's gates, in the order REPORT.md shows them.
var Gates = []Gate{
	{ID: "performance", Name: "Performance", Requirement: "FR-013", Task: "T022"},
	{ID: "fastapi", Name: "FastAPI", Requirement: "FR-014", Task: "T020"},
	{ID: "iris", Name: "IRIS features", Requirement: "FR-004", Task: "T028"},
	{ID: "all", Name: "All FRs and edge cases", Task: "T033", All: true},
}

// Label is the gate's column heading: "Performance (FR-013 / T022)".
func (g Gate) Label() string {
	if g.All {
		return g.Name + " (" + g.Task + ")"
	}
	return fmt.Sprintf("%s (%s / %s)", g.Name, g.Requirement, g.Task)
}

// covers reports whether a spec with these IDs belongs to the gate.
func (g Gate) covers(ids []string) bool {
	for _, id := range ids {
		if g.All {
			if e, ok := catalogue.Lookup(id); ok && (e.Kind == catalogue.Functional || e.Kind == catalogue.EdgeCase) {
				return true
			}
			continue
		}
		if id == g.Requirement || id == g.Task {
			return true
		}
	}
	return false
}

// Verdict is a gate's outcome for one adapter.
type Verdict string

const (
	Certified    Verdict = "certified"
	NotCertified Verdict = "not certified"
	// NotCertifiedKnown: the gate's only failures are listed, reviewed
	// expected failures. Known is not certified.
	NotCertifiedKnown Verdict = "not certified (known)"
	GateNotApplicable Verdict = "not applicable"
	// GateInconclusive: nothing failed, but some spec reached no verdict
	// (harness error, inconclusive measurement, not reached, filtered out,
	// skipped), or the run has no spec for the gate.
	GateInconclusive Verdict = "inconclusive"
)

var verdictSymbol = map[Verdict]string{
	Certified:         "✅ certified",
	NotCertified:      "❌ not certified",
	NotCertifiedKnown: "⚠️ not certified (known)",
	GateNotApplicable: "➖ not applicable",
	GateInconclusive:  "❔ inconclusive",
}

// GateVerdict is one adapter's verdict on one gate, with its reason in one
// line and the specs that decided it (results.json's "gates").
type GateVerdict struct {
	Adapter string  `json:"adapter"`
	Target  string  `json:"target,omitempty"`
	Gate    string  `json:"gate"`
	Verdict Verdict `json:"verdict"`
	Reason  string  `json:"reason"`
	// Specs are the IDs of the specs that decided a verdict other than
	// certified (the failures, the expected failures, the undecided).
	Specs []string `json:"specs,omitempty"`
}

// GateOf derives a gate's verdict from the outcomes of its specs, the
// adapter's specs that name the gate's requirement or task (any FR or EC
// for the final gate), in this order:
//
//  1. not certified: a spec failed, or passed although listed as an
//     expected failure (the list is stale);
//  2. not certified (known): a spec failed as listed in the reviewed
//     expected-failure list;
//  3. inconclusive: a spec has no verdict (harness error, inconclusive,
//     not reached, skipped by filter or for another reason), or there is
//     no spec at all;
//  4. certified: at least one spec passed, every other is not applicable;
//  5. not applicable: every spec is not applicable to the adapter.
func GateOf(g Gate, specs []Spec) (Verdict, string, []string) {
	by := map[Outcome][]Spec{}
	for _, s := range specs {
		if g.covers(s.Requirements) {
			by[s.Outcome] = append(by[s.Outcome], s)
		}
	}
	prefix := g.Requirement
	if g.All {
		prefix = "FRs and ECs"
	}
	n := 0
	for _, l := range by {
		n += len(l)
	}
	if n == 0 {
		return GateInconclusive, prefix + ": no spec for it in this run", nil
	}
	if bad := append(append([]Spec(nil), by[Failed]...), by[UnexpectedPass]...); len(bad) > 0 {
		return NotCertified, prefix + ": " + describeBad(g, bad), ids(bad)
	}
	if xf := by[ExpectedFail]; len(xf) > 0 {
		return NotCertifiedKnown, prefix + ": " + describeKnown(g, xf), ids(xf)
	}
	var undecided []Spec
	for _, o := range []Outcome{HarnessError, Inconclusive, Unreached, NotRun, Skipped} {
		undecided = append(undecided, by[o]...)
	}
	if len(undecided) > 0 {
		return GateInconclusive, prefix + ": " + describeUndecided(g, undecided), ids(undecided)
	}
	if pass := by[Passed]; len(pass) > 0 {
		reason := fmt.Sprintf("%d passed", len(pass))
		if na := len(by[NotApplicable]); na > 0 {
			reason += fmt.Sprintf(", %d not applicable", na)
		}
		if l := latencyOf(pass); l != nil && !g.All {
			reason = latencyLine(l)
		}
		return Certified, prefix + ": " + reason, nil
	}
	na := by[NotApplicable]
	return GateNotApplicable, prefix + ": not applicable: " + oneLineTrim(na[0].Message, 90), nil
}

func ids(specs []Spec) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range specs {
		if !seen[s.ID] {
			seen[s.ID] = true
			out = append(out, s.ID)
		}
	}
	sort.Strings(out)
	return out
}

// latencyOf is the FR-013 comparison among specs, if one recorded it.
func latencyOf(specs []Spec) *Latency {
	for _, s := range specs {
		if s.Latency != nil && s.Latency.HasVerdict() {
			return s.Latency
		}
	}
	return nil
}

// latencyLine is an FR-013 comparison in a few words:
// "1.35× python:sqlalchemy-sync [1.31–1.40], threshold 1.10".
func latencyLine(l *Latency) string {
	c := l.Comparison
	return fmt.Sprintf("%.2f× %s [%.2f–%.2f], threshold %.2f", c.Ratio, l.Baseline, c.RatioLow, c.RatioHigh, l.Threshold)
}

func describeBad(g Gate, bad []Spec) string {
	s := bad[0]
	what := "failed"
	if s.Outcome == UnexpectedPass {
		what = "passed but listed as an expected failure"
	}
	var d string
	if l := latencyOf(bad); l != nil && !g.All {
		d = latencyLine(l) + ", " + what
	} else {
		d = fmt.Sprintf("%s %q: %s", what, oneLineTrim(s.Text, 60), oneLineTrim(s.Message, 70))
		if g.All {
			d = fmt.Sprintf("%d failed (%s); first: %s", len(bad), strings.Join(reqsOf(bad), ", "), d)
			return d
		}
	}
	if len(bad) > 1 {
		d += fmt.Sprintf(" (+%d more)", len(bad)-1)
	}
	return d
}

func describeKnown(g Gate, xf []Spec) string {
	if g.All {
		return fmt.Sprintf("%d listed expected failure(s) (%s)", len(xf), strings.Join(reqsOf(xf), ", "))
	}
	if l := latencyOf(xf); l != nil {
		return latencyLine(l) + ", listed expected failure"
	}
	d := "listed expected failure: " + oneLineTrim(reasonOf(xf[0].Message), 80)
	if len(xf) > 1 {
		d += fmt.Sprintf(" (+%d more)", len(xf)-1)
	}
	return d
}

// reasonOf is an expected failure's listed reason, without what the run
// got (the harness appends " — got: …").
func reasonOf(msg string) string {
	r, _, _ := strings.Cut(msg, " — got: ")
	return r
}

func describeUndecided(g Gate, u []Spec) string {
	c := map[Outcome]int{}
	for _, s := range u {
		c[s.Outcome]++
	}
	var parts []string
	for _, o := range []Outcome{HarnessError, Inconclusive, Unreached, NotRun, Skipped} {
		if c[o] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[o], o))
		}
	}
	d := strings.Join(parts, ", ")
	if g.All {
		// The gate of one requirement tells the measurement.
		return d + " (" + strings.Join(reqsOf(u), ", ") + ")"
	}
	for _, s := range u {
		if s.Outcome == Inconclusive {
			if l := s.Latency; l != nil && l.HasVerdict() {
				return latencyLine(l) + ": interval contains the threshold; " + d
			}
		}
	}
	return d
}

// reqsOf lists the functional requirements and edge cases the specs name.
func reqsOf(specs []Spec) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range specs {
		for _, id := range s.Requirements {
			if e, ok := catalogue.Lookup(id); ok && (e.Kind == catalogue.Functional || e.Kind == catalogue.EdgeCase) && !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return catalogueRank(out[i]) < catalogueRank(out[j]) })
	return out
}

var rank = func() map[string]int {
	m := map[string]int{}
	for i, e := range catalogue.All() {
		m[e.ID] = i
	}
	return m
}()

func catalogueRank(id string) int {
	if r, ok := rank[id]; ok {
		return r
	}
	return len(rank)
}

// ComputeGates is every adapter's verdict on every gate (per target when
// the run merges several). Server-level specs certify the target, not an
// adapter: they have no gate.
func ComputeGates(r Run) []GateVerdict {
	var out []GateVerdict
	for _, ref := range r.subjects() {
		specs := r.specsOf(ref)
		for _, g := range Gates {
			v, reason, decided := GateOf(g, specs)
			out = append(out, GateVerdict{Adapter: ref.Adapter, Target: ref.Target, Gate: g.ID, Verdict: v, Reason: reason, Specs: decided})
		}
	}
	return out
}

// oneLineTrim is s on one line, cut to at most n runes with an ellipsis.
func oneLineTrim(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
