package report

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// RequirementOutcome derives one requirement's (or task's) outcome for one
// adapter from its specs, the first of: failed, unexpected pass, harness
// error, expected failure, passed, not applicable, skipped, skipped by
// filter; no spec when the run has none for it.
func RequirementOutcome(specs []Spec, adapterName, id string) Outcome {
	seen := map[Outcome]bool{}
	any := false
	for _, s := range specs {
		if s.Adapter != adapterName || !hasID(s.Requirements, id) {
			continue
		}
		seen[s.Outcome] = true
		any = true
	}
	for _, o := range outcomeOrder {
		if seen[o] {
			return o
		}
	}
	if any {
		return NotRun
	}
	return NoSpec
}

// outcomeOrder is the precedence RequirementOutcome applies.
var outcomeOrder = []Outcome{Failed, UnexpectedPass, HarnessError, Inconclusive, ExpectedFail, Passed, NotApplicable, Skipped, Unreached, NotRun}

func hasID(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

var symbol = map[Outcome]string{
	Passed:         "✅ pass",
	Failed:         "❌ FAIL",
	NotApplicable:  "➖ n/a",
	Skipped:        "⏭ skipped",
	NotRun:         "· filtered",
	ExpectedFail:   "⚠️ xfail",
	UnexpectedPass: "❗ XPASS",
	HarnessError:   "🔧 harness error",
	Inconclusive:   "❔ inconclusive",
	Unreached:      "⏹ not reached",
	NoSpec:         "∅ no spec",
}

// Counts tallies outcomes.
func Counts(specs []Spec) map[Outcome]int {
	c := map[Outcome]int{}
	for _, s := range specs {
		c[s.Outcome]++
	}
	return c
}

func writeLatency(p *printer, r Run) {
	var rows []Spec
	for _, s := range r.Specs {
		if s.Latency != nil || s.BulkInsert != nil || s.VectorLatency != nil {
			rows = append(rows, s)
		}
	}
	if len(rows) == 0 {
		return
	}
	p.f("\n## Performance\n\n")
	p.f("FR-013 compares each adapter's `SELECT 1` with a baseline measured in the same run: the raw pgx.Conn for Go adapters (both timed by the harness through the adapter's public path: Query, FetchAll, Close), the adapter a remote adapter declares (an async adapter's sync twin; both timed inside the backend by `engine.bench`). ")
	p.f("Each round opens both sides on fresh connections and alternates blocks of 10 in random order; a round's ratio compares the interquartile geometric means of its two sides, and the interval is a widened Student t interval over the rounds' log ratios. ")
	p.f("The comparison stops as soon as the interval clears the threshold (from the first look on) or at its budget of rounds. Verdict: pass when the whole interval is below the threshold, fail when it is above, inconclusive when it contains it (docs/fr-013.md).\n\n")
	p.f("**Against a local PostgreSQL answering in ~40–100 µs a fixed driver overhead weighs 40–100 times more than behind iris-pgwire (~%.0f ms per round trip): the overhead columns give it in µs and as a fraction of that round trip, which is what a user of the real target would see.**\n\n", float64(IRISPGWireRoundTrip)/1e6)
	p.f("| adapter | verdict | ratio | interval | threshold | rounds | overhead | overhead interval | baseline | baseline round trip | p50 | p95 | p99 | baseline p50 | behind iris-pgwire | Engine.Bench cross-check | path |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	charted := false // latency.svg (WriteLatencySVG) plots what this table lists
	vector := map[string]*Latency{}
	for _, s := range rows {
		if s.VectorLatency != nil {
			vector[s.Adapter] = s.VectorLatency
		}
	}
	for _, s := range rows {
		if l := s.Latency; l != nil && l.HasVerdict() {
			c := l.Comparison
			f, flo, fhi := l.BehindPGWire()
			cross := "—"
			if x := l.CrossCheck; x != nil && x.Comparison.Blocks > 0 {
				cross = fmt.Sprintf("%.3f [%.3f–%.3f]", x.Comparison.Ratio, x.Comparison.RatioLow, x.Comparison.RatioHigh)
			}
			p.f("| %s | %s | %.3f | %.3f–%.3f | %.2f | %s | %s | %s–%s | %s | %s | %s | %s | %s | %s | %+.2f%% [%+.2f%%, %+.2f%%] | %s | %s |\n",
				s.Adapter, verdictCell(l.Verdict), c.Ratio, c.RatioLow, c.RatioHigh, l.Threshold, roundsCell(l),
				usSigned(c.Overhead), usSigned(c.OverheadLow), usSigned(c.OverheadHigh), l.Baseline, us(c.BaselineRoundTrip()),
				us(c.Subject.P50), us(c.Subject.P95), us(c.Subject.P99), us(c.Baseline.P50), 100*f, 100*flo, 100*fhi, cross, l.Path)
			if r := l.Raw; r != nil {
				c := r.Comparison
				p.f("| %s (T023) | — | %.3f | %.3f–%.3f | — | %d | %s | %s–%s | %s | %s | %s | %s | %s | %s | — | — | %s |\n",
					s.Adapter, c.Ratio, c.RatioLow, c.RatioHigh, c.Blocks, usSigned(c.Overhead), usSigned(c.OverheadLow), usSigned(c.OverheadHigh),
					r.Baseline, us(c.BaselineRoundTrip()), us(c.Subject.P50), us(c.Subject.P95), us(c.Subject.P99), us(c.Baseline.P50), l.Path)
			}
			charted = true
		}
	}
	var t001 []Spec
	for _, s := range rows {
		if s.Latency != nil && len(s.Latency.Baselines) > 0 {
			t001 = append(t001, s)
		}
	}
	if len(t001) > 0 {
		p.f("\nT001: each FR-013 baseline timed alone, on the path its comparison uses (the subject's p50 alongside for scale):\n\n| adapter | baseline | statement | n | p50 | p95 | p99 | subject p50 | timing |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, s := range t001 {
			for _, b := range s.Latency.Baselines {
				p.f("| %s | %s | %s | %d | %s | %s | %s | %s | %s |\n", s.Adapter, b.Baseline, mdEscape(b.Statement), b.Summary.N,
					us(b.Summary.P50), us(b.Summary.P95), us(b.Summary.P99), us(b.Subject.P50), mdEscape(b.Timing))
			}
		}
	}
	if len(vector) > 0 {
		p.f("\nVector query latency:\n\n| adapter | statement | n | p50 | p95 | p99 | baseline p50 | ratio |\n|---|---|---|---|---|---|---|---|\n")
		for _, s := range rows {
			if l := s.VectorLatency; l != nil {
				c := l.Comparison
				base, ratio := "—", "—"
				if c.Baseline.N > 0 {
					base, ratio = us(c.Baseline.P50), fmt.Sprintf("%.3f", c.Ratio)
				}
				p.f("| %s | %s | %d | %s | %s | %s | %s | %s |\n", s.Adapter, code(l.Statement), c.Subject.N,
					us(c.Subject.P50), us(c.Subject.P95), us(c.Subject.P99), base, ratio)
			}
		}
	}
	if charted || len(vector) > 0 {
		p.f("\n![p50, p95 and p99 latency per adapter](%s)\n\n[%s](%s): p50, p95 and p99 latency per adapter, SELECT 1 and the vector query (µs).\n", LatencySVG, LatencySVG, LatencySVG)
	}
	p.f("\nFR-007 bulk insert:\n\n| adapter | rows | seconds | rows/s |\n|---|---|---|---|\n")
	for _, s := range rows {
		if b := s.BulkInsert; b != nil {
			p.f("| %s | %d | %.3f | %.0f |\n", s.Adapter, b.Rows, b.Seconds, b.RowsPerSecond)
		}
	}
}

func fence(s string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "~~~~", "~ ~ ~ ~")
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/1e3) }

// verdictCell shows an FR-013 verdict with the outcome symbols.
func verdictCell(v string) string {
	switch v {
	case "pass":
		return symbol[Passed]
	case "fail":
		return symbol[Failed]
	case "inconclusive":
		return symbol[Inconclusive]
	}
	return "—"
}

// roundsCell is the rounds a comparison ran, out of its budget.
func roundsCell(l *Latency) string {
	if l.MaxRounds > 0 {
		return fmt.Sprintf("%d of %d", l.Comparison.Blocks, l.MaxRounds)
	}
	return fmt.Sprint(l.Comparison.Blocks)
}

// code renders s as inline code, or "(none)" when empty: an empty code span
// shows as two literal backticks.
func code(s string) string {
	if s == "" {
		return "(none)"
	}
	return "`" + strings.ReplaceAll(s, "`", "'") + "`"
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
