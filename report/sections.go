package report

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/catalogue"
	"github.com/pgwire-conformance/pgwire-conformance/measure"
)

// WriteMarkdown renders the run as REPORT.md, for a driver's maintainer:
// the run's standing, the gate verdicts per adapter, the verdict per
// requirement and adapter, every failure with its transcripts, passes as
// counts, then what the run observed (performance, the server's own wire
// behaviour; the drivers' failure modes and connection setup in DRIVERS.md)
// and how it ran. The full per-spec list is results.json's (and
// junit.xml's).
func WriteMarkdown(w io.Writer, r Run) error {
	sections := []func(*printer, Run){
		writeHeader, writeGates, writeMatrices, writeServer,
		nil, // the failures: their details get what the rest leaves of the budget
		writeHarnessErrors, writeExpectedFailures, writePasses, writeDriversLink,
		func(p *printer, r Run) { writePerformance(p, relabel(r)) }, writeRunDetails,
	}
	parts := make([]string, len(sections))
	rest := 0
	for i, write := range sections {
		if write == nil {
			continue
		}
		var b strings.Builder
		p := &printer{w: &b}
		write(p, r)
		if p.err != nil {
			return p.err
		}
		parts[i] = b.String()
		rest += b.Len()
	}
	for i, write := range sections {
		if write == nil {
			var b strings.Builder
			writeFailures(&printer{w: &b}, r, max(minFailureBudget, ReportBudget-rest))
			parts[i] = b.String()
		}
	}
	_, err := io.WriteString(w, strings.Join(parts, ""))
	return err
}

// ReportBudget is the size REPORT.md aims to stay under: failure details
// are cut to fit it (never below minFailureBudget), the rest is compact by
// design. A committed full certification must stay under 30 KB (issue 11).
const (
	ReportBudget     = 29 * 1024
	minFailureBudget = 4 * 1024
)

// relabel names each spec result's adapter with its target in a merge
// across targets ("pgx @ reference"), for sections that list adapters.
func relabel(r Run) Run {
	if !r.MultiTarget() {
		return r
	}
	out := r
	out.Specs = make([]Spec, len(r.Specs))
	for i, s := range r.Specs {
		s.Adapter, s.Target = Ref{s.Adapter, s.Target}.String(), ""
		out.Specs[i] = s
	}
	return out
}

// standing is the run's completeness in a few words, and whether it is a
// certification at all.
func standing(r Run) (string, bool) {
	var why []string
	if r.Interrupted {
		n := Counts(r.Specs)[Unreached]
		why = append(why, fmt.Sprintf("INTERRUPTED (%s): %d spec result(s) not reached", oneLineTrim(r.InterruptReason, 160), n))
	}
	if r.Partial != "" {
		why = append(why, "PARTIAL ("+r.Partial+"): it certifies only what it ran")
	}
	if n := len(r.HarnessErrors) + Counts(r.Specs)[HarnessError]; n > 0 {
		why = append(why, fmt.Sprintf("HARNESS ERRORS: %d, so some specs have no verdict", n))
	}
	if len(why) == 0 {
		return "complete: every spec ran for every adapter, no harness error", true
	}
	return strings.Join(why, "; "), false
}

func writeHeader(p *printer, r Run) {
	p.f("# pgwire-conformance certification report\n\n")
	st, complete := standing(r)
	if !complete {
		p.f("> [!CAUTION]\n> **This run is not a full certification.** %s.\n\n", mdEscape(st))
	}
	p.f("| | |\n|---|---|\n")
	p.f("| Date | %s |\n", r.Date.UTC().Format(time.RFC3339))
	p.f("| Suite | %s, commit %s |\n", mdEscape(r.Suite), code(r.Commit))
	if im := r.Implementation; im != (Implementation{}) {
		parts := []string{"**" + mdEscape(strings.TrimSpace(im.Name+" "+im.Version)) + "**"}
		for _, x := range []string{im.URL, im.Contact} {
			if x != "" {
				parts = append(parts, mdEscape(x))
			}
		}
		p.f("| Implementation under test | %s |\n", strings.Join(parts, " · "))
	}
	targets := []Target{r.Target}
	if r.MultiTarget() {
		targets = r.Targets
	}
	for _, t := range targets {
		p.f("| Target | %s |\n", targetLine(t))
	}
	if complete {
		p.f("| Run | %s; %s |\n", st, r.Duration.Round(time.Second))
	} else {
		p.f("| Run | **%s**; %s |\n", mdEscape(st), r.Duration.Round(time.Second))
	}
	c := Counts(r.Specs)
	var parts []string
	for _, o := range []Outcome{Passed, Failed, UnexpectedPass, HarnessError, Inconclusive, ExpectedFail, NotApplicable, Skipped, Unreached, NotRun} {
		if c[o] > 0 || o == Passed || o == Failed {
			parts = append(parts, fmt.Sprintf("%d %s", c[o], o))
		}
	}
	p.f("| Spec results | %s |\n", strings.Join(parts, " · "))
	if len(r.Shards) > 0 {
		p.f("| Merged from | %d runs: %s |\n", len(r.Shards), shardList(r.Shards))
	}
	p.f("\n")
}

// targetLine is a target in one line: name, what it is, the server's
// version, how it was reached.
func targetLine(t Target) string {
	s := "**" + mdEscape(t.TargetName()) + "**"
	if t.Implementation != "" {
		s += ": " + mdEscape(t.Implementation)
	}
	server := t.ServerVersion
	if server == "" {
		server = "(unknown: the target did not answer)"
	}
	if t.Implementation == "" || !strings.Contains(t.Implementation, shortVersion(server)) {
		s += " — " + mdEscape(oneLineTrim(server, 110))
	}
	var how []string
	if t.Profile != "" {
		how = append(how, "profile "+code(t.Profile))
	}
	if t.Provider != "" {
		how = append(how, t.Provider)
	}
	if t.Path != "" {
		how = append(how, "via "+mdEscape(t.Path))
	}
	if len(how) > 0 {
		s += " (" + strings.Join(how, ", ") + ")"
	}
	return s
}

func shardList(sh []Shard) string {
	names := make([]string, len(sh))
	for i, s := range sh {
		names[i] = code(s.Source)
	}
	return strings.Join(names, ", ")
}

// gateLegend says how a gate's verdict derives from its specs (GateOf).
const gateLegend = "Each gate judges the adapter's specs that name its requirement or seed task (the final gate: every spec of a functional requirement or edge case), in this order: " +
	"❌ **not certified** when one failed, or passed although listed as an expected failure; " +
	"⚠️ **not certified (known)** when one fails as listed in the reviewed expected-failure list; " +
	"❔ **inconclusive** when one has no verdict (harness error, inconclusive measurement, not reached, filtered out) or there is none; " +
	"✅ **certified** when at least one passed and every other is not applicable; ➖ **not applicable** when none applies to the adapter."

func writeGates(p *printer, r Run) {
	p.f("## Certification verdicts\n\n%s\n\n| adapter |", gateLegend)
	for _, g := range Gates {
		p.f(" %s |", g.Label())
	}
	p.f("\n|---|%s\n", strings.Repeat("---|", len(Gates)))
	verdicts := ComputeGates(r)
	if len(verdicts) == 0 {
		p.f("| (no adapter ran) |%s\n", strings.Repeat(" |", len(Gates)))
		return
	}
	for i := 0; i < len(verdicts); i += len(Gates) {
		v := verdicts[i]
		name := Ref{v.Adapter, v.Target}.String()
		if a, ok := r.adapterInfo(v.Adapter); ok && a.Fixture {
			name += " (fixture: broken on purpose)"
		}
		p.f("| %s |", mdEscape(name))
		for _, g := range verdicts[i : i+len(Gates)] {
			_, reason, _ := strings.Cut(g.Reason, ": ")
			p.f(" %s — %s |", verdictSymbol[g.Verdict], mdEscape(reason))
		}
		p.f("\n")
	}
}

// short outcome symbols for matrices; the legend spells them out.
var cellSymbol = map[Outcome]string{
	Passed: "✅", Failed: "❌", UnexpectedPass: "❗", HarnessError: "🔧", Inconclusive: "❔",
	ExpectedFail: "⚠️", NotApplicable: "➖", Skipped: "⏭", Unreached: "⏹", NotRun: "·", NoSpec: "∅",
}

const matrixLegend = "✅ pass · ❌ fail · ❗ passed although listed as an expected failure · 🔧 harness error (no verdict) · " +
	"❔ inconclusive · ⚠️ expected failure (listed and reviewed) · ➖ not applicable · ⏭ skipped · ⏹ not reached · · filtered out · ∅ no spec. " +
	"A cell shows the first of these, in this order, that any of the requirement's specs has."

func writeMatrices(p *printer, r Run) {
	if r.MultiTarget() {
		writeTargetMatrix(p, r)
		for _, t := range r.Targets {
			p.f("\n## Requirements × adapters on %s\n\n", mdEscape(t.Name))
			writeMatrix(p, r.onTarget(t.Name))
		}
		return
	}
	p.f("\n## Requirements × adapters\n\n")
	writeMatrix(p, r)
}

func writeMatrix(p *printer, r Run) {
	var names []string
	for _, a := range r.Adapters {
		if a.Name != ServerAdapter && len(r.specsOf(Ref{a.Name, ""})) > 0 {
			names = append(names, a.Name)
		}
	}
	p.f("%s\n\n| | requirement |", matrixLegend)
	for _, n := range names {
		p.f(" %s |", mdEscape(n))
	}
	p.f("\n|---|---|%s\n", strings.Repeat(":-:|", len(names)))
	for _, e := range catalogue.Certified() {
		p.f("| %s | %s |", e.ID, mdEscape(Title(e.ID)))
		for _, n := range names {
			p.f(" %s |", cellSymbol[RequirementOutcome(r.Specs, n, e.ID)])
		}
		p.f("\n")
	}
}

// writeTargetMatrix is the target × requirement view of a merge across
// targets: per target, how many adapters have each outcome.
func writeTargetMatrix(p *printer, r Run) {
	p.f("\n## Targets × requirements\n\nPer target, how many adapters have each outcome for the requirement (%s).\n\n| | requirement |", "symbols as in the matrices below")
	for _, t := range r.Targets {
		p.f(" %s |", mdEscape(t.Name))
	}
	p.f("\n|---|---|%s\n", strings.Repeat("---|", len(r.Targets)))
	for _, e := range catalogue.Certified() {
		p.f("| %s | %s |", e.ID, mdEscape(Title(e.ID)))
		for _, t := range r.Targets {
			sub := r.onTarget(t.Name)
			c := map[Outcome]int{}
			for _, ref := range sub.subjects() {
				c[RequirementOutcome(sub.Specs, ref.Adapter, e.ID)]++
			}
			p.f(" %s |", outcomeTally(c))
		}
		p.f("\n")
	}
}

// outcomeTally is "❌ 1 · ✅ 9": counts by outcome, worst first.
func outcomeTally(c map[Outcome]int) string {
	var parts []string
	for _, o := range append(append([]Outcome(nil), outcomeOrder...), NoSpec) {
		if c[o] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", cellSymbol[o], c[o]))
		}
	}
	if len(parts) == 0 {
		return "∅"
	}
	return strings.Join(parts, " · ")
}

// writeServer is the server-level (wire) specs' own matrix: spec groups ×
// targets.
func writeServer(p *printer, r Run) {
	groups := map[string]bool{}
	var order []string
	for _, s := range r.Specs {
		if s.Adapter == ServerAdapter && !groups[s.Group] {
			groups[s.Group] = true
			order = append(order, s.Group)
		}
	}
	if len(order) == 0 {
		return
	}
	sort.Strings(order)
	p.f("\n## The target's own wire behaviour\n\nMessage-level specs against the target itself, below any driver (adapter %s): the outcomes of each group's specs.\n\n| group | requirements |", code(ServerAdapter))
	targets := r.targetNames()
	for _, t := range targets {
		if t == "" {
			t = "outcomes"
		}
		p.f(" %s |", mdEscape(t))
	}
	p.f("\n|---|---|%s\n", strings.Repeat("---|", len(targets)))
	for _, g := range order {
		reqs := map[string]bool{}
		var ids []string
		for _, s := range r.Specs {
			if s.Adapter == ServerAdapter && s.Group == g {
				for _, id := range s.Requirements {
					if e, ok := catalogue.Lookup(id); ok && e.Kind != catalogue.Task && !reqs[id] {
						reqs[id] = true
						ids = append(ids, id)
					}
				}
			}
		}
		sort.Slice(ids, func(i, j int) bool { return catalogueRank(ids[i]) < catalogueRank(ids[j]) })
		p.f("| %s | %s |", mdEscape(g), strings.Join(ids, ", "))
		for _, t := range targets {
			c := map[Outcome]int{}
			for _, s := range r.Specs {
				if s.Adapter == ServerAdapter && s.Group == g && s.Target == t {
					c[s.Outcome]++
				}
			}
			p.f(" %s |", outcomeTally(c))
		}
		p.f("\n")
	}
}

// Failure details REPORT.md shows; results.json and junit.xml keep all.
const (
	messageLines   = 12
	messageChars   = 1200
	transcriptTail = 8
	wireTail       = 14
	lineChars      = 200
)

// failureGroup is one failure (same spec, outcome and first message line)
// and the adapters it happened to.
type failureGroup struct {
	spec     Spec
	adapters []string
}

// groupFailures groups spec results of the given outcomes that failed the
// same way, worst outcome first, in the run's order otherwise.
func groupFailures(r Run, outcomes ...Outcome) []failureGroup {
	var out []failureGroup
	index := map[string]int{}
	for _, o := range outcomes {
		for _, s := range r.Specs {
			if s.Outcome != o {
				continue
			}
			k := string(o) + "\x00" + s.ID + "\x00" + firstLine(s.Message)
			name := Ref{s.Adapter, s.Target}.String()
			if i, ok := index[k]; ok {
				out[i].adapters = append(out[i].adapters, name)
				continue
			}
			index[k] = len(out)
			out = append(out, failureGroup{spec: s, adapters: []string{name}})
		}
	}
	return out
}

func writeFailures(p *printer, r Run, budget int) {
	groups := groupFailures(r, Failed, UnexpectedPass, HarnessError, Inconclusive)
	var kept []failureGroup
	for _, g := range groups {
		// Specs that never ran because setup failed are counted under
		// harness errors, not listed one by one.
		if !(g.spec.Outcome == HarnessError && strings.HasPrefix(g.spec.Message, "did not run:")) {
			kept = append(kept, g)
		}
	}
	p.f("\n## Failures\n\n")
	if len(kept) == 0 {
		p.f("None: no spec failed, passed against the expected-failure list, hit a harness error or ended inconclusive.\n")
		return
	}
	c := Counts(r.Specs)
	p.f("%d failed, %d passed although listed as expected failures, %d harness errors, %d inconclusive. Each with its message, the adapter's last calls and the last wire messages; results.json and junit.xml hold them in full.\n\n",
		c[Failed], c[UnexpectedPass], c[HarnessError], c[Inconclusive])
	used := 0
	var rest []failureGroup
	for _, g := range kept {
		var b strings.Builder
		writeFailure(&b, g)
		if used+b.Len() > budget && used > 0 {
			rest = append(rest, g)
			continue
		}
		used += b.Len()
		p.f("%s", b.String())
	}
	if len(rest) > 0 {
		p.f("More failures, without their details (see results.json or junit.xml):\n\n")
		for _, g := range rest {
			s := g.spec
			p.f("- %s %s — %s: %s\n", cellSymbol[s.Outcome], mdEscape(strings.Join(g.adapters, ", ")), mdEscape(s.ID), mdEscape(oneLineTrim(s.Message, 140)))
		}
	}
}

func writeFailure(b *strings.Builder, g failureGroup) {
	s := g.spec
	fmt.Fprintf(b, "### %s %s — %s\n\n", cellSymbol[s.Outcome], mdEscape(strings.Join(g.adapters, ", ")), mdEscape(s.ID))
	fmt.Fprintf(b, "%s · %s · %s\n\n~~~~\n%s\n~~~~\n\n", s.Outcome, strings.Join(s.Requirements, ", "), code(s.Location), fence(trimLines(s.Message, messageLines, messageChars)))
	if s.Transcript != nil && len(s.Transcript.Events) > 0 {
		lines := s.Transcript.Lines()
		fmt.Fprintf(b, "<details><summary>SQL transcript: the adapter's last %d of %d calls</summary>\n\n~~~~\n%s\n~~~~\n\n</details>\n\n",
			min(transcriptTail, len(lines)), len(lines), fence(tail(lines, transcriptTail)))
	}
	if len(s.Wire) > 0 {
		fmt.Fprintf(b, "<details><summary>Wire transcript: the last %d of %d messages</summary>\n\n~~~~\n%s\n~~~~\n\n</details>\n\n",
			min(wireTail, len(s.Wire)), len(s.Wire), fence(tail(s.Wire, wireTail)))
	}
}

// tail is the last n lines, each cut to lineChars.
func tail(lines []string, n int) string {
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = cut(l, lineChars)
	}
	return strings.Join(out, "\n")
}

// trimLines keeps the first n lines and at most chars characters.
func trimLines(s string, n, chars int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	more := ""
	if len(lines) > n {
		more = fmt.Sprintf("\n… %d more lines", len(lines)-n)
		lines = lines[:n]
	}
	return cut(strings.Join(lines, "\n"), chars) + more
}

func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// writeHarnessErrors lists suite-level failures with their container log
// tails, and how many specs they kept from a verdict.
func writeHarnessErrors(p *printer, r Run) {
	n := Counts(r.Specs)[HarnessError]
	if len(r.HarnessErrors) == 0 && n == 0 {
		return
	}
	p.f("\n## Harness errors\n\nThe suite or its containers broke, not the driver: %d spec result(s) have no verdict.\n\n", n)
	for _, h := range r.HarnessErrors {
		p.f("### %s\n\n%s\n\n~~~~\n%s\n~~~~\n\n", mdEscape(h.Node), code(h.Location), fence(trimLines(h.Message, messageLines, messageChars)))
		if h.LogTail != "" {
			p.f("<details><summary>Container log tail</summary>\n\n~~~~\n%s\n~~~~\n\n</details>\n\n", fence(tail(strings.Split(h.LogTail, "\n"), 20)))
		}
	}
}

// writeExpectedFailures lists the reviewed expected failures, one line per
// spec and reason with the adapters it holds for.
func writeExpectedFailures(p *printer, r Run) {
	groups := map[string]*failureGroup{}
	var order []string
	for _, s := range r.Specs {
		if s.Outcome != ExpectedFail {
			continue
		}
		k := s.ID + "\x00" + reasonOf(s.Message)
		if g, ok := groups[k]; ok {
			g.adapters = append(g.adapters, Ref{s.Adapter, s.Target}.String())
			continue
		}
		groups[k] = &failureGroup{spec: s, adapters: []string{Ref{s.Adapter, s.Target}.String()}}
		order = append(order, k)
	}
	if len(order) == 0 {
		return
	}
	p.f("\n## Expected failures\n\nFailures listed, with their reason, in the target's reviewed expected-failure list. They do not fail the run, but a gate they touch is *not certified (known)*.\n\n| adapters | spec | requirements | listed reason |\n|---|---|---|---|\n")
	for _, k := range order {
		g := groups[k]
		p.f("| %s | %s | %s | %s |\n", mdEscape(strings.Join(g.adapters, ", ")), mdEscape(g.spec.ID), strings.Join(nonTasks(g.spec.Requirements), ", "), mdEscape(oneLineTrim(reasonOf(g.spec.Message), expectedReasonChars)))
	}
}

// writePasses collapses passes into counts per requirement.
func writePasses(p *printer, r Run) {
	type tally struct{ passed, na, other int }
	t := map[string]*tally{}
	for _, s := range r.Specs {
		if s.Adapter == ServerAdapter {
			continue
		}
		for _, id := range s.Requirements {
			if t[id] == nil {
				t[id] = &tally{}
			}
			switch s.Outcome {
			case Passed:
				t[id].passed++
			case NotApplicable:
				t[id].na++
			case Skipped, NotRun, Unreached:
				t[id].other++
			}
		}
	}
	p.f("\n## Passes\n\nSpec results per requirement, all adapters together (every spec and adapter is in results.json).\n\n| requirement | passed | not applicable | skipped, filtered or not reached |\n|---|--:|--:|--:|\n")
	for _, e := range catalogue.Certified() {
		x := t[e.ID]
		if x == nil {
			x = &tally{}
		}
		p.f("| %s | %d | %d | %d |\n", e.ID, x.passed, x.na, x.other)
	}
}

// writeFailureModes is T002's "async failure modes": per async adapter,
// what each misuse or fault probe made the driver raise (adapters whose
// driver raised the same share a row).
func writeFailureModes(p *printer, r Run) {
	type row struct {
		names []string
		fm    FailureMode
	}
	var rows []*row
	index := map[string]*row{}
	for _, ref := range r.subjects() {
		a, ok := r.adapterInfo(ref.Adapter)
		if !ok || !a.Async {
			continue
		}
		for _, s := range r.specsOf(ref) {
			for _, fm := range s.FailureModes {
				k := fmt.Sprint(fm.Probe, "\x00", fm.Class, "\x00", failureModeLine(fm.Message), "\x00", fm.NamesFix)
				if x, ok := index[k]; ok {
					if x.names[len(x.names)-1] != ref.String() {
						x.names = append(x.names, ref.String())
					}
					continue
				}
				x := &row{names: []string{ref.String()}, fm: fm}
				index[k] = x
				rows = append(rows, x)
			}
		}
	}
	if len(rows) == 0 {
		return
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].fm.Probe < rows[j].fm.Probe })
	p.f("\n## Async failure modes\n\nT002, from this run's own probes: what each async adapter's driver raised when misused or when the server failed, how soon, and whether the message tells the user what to do (full messages in results.json).\n\n| probe | adapters | error class | message | after | names the fix |\n|---|---|---|---|--:|:-:|\n")
	for _, x := range rows {
		fix := "no"
		if x.fm.NamesFix {
			fix = "yes"
		}
		p.f("| %s | %s | %s | %s | %s | %s |\n", mdEscape(x.fm.Probe), mdEscape(strings.Join(x.names, ", ")), code(x.fm.Class), mdEscape(failureModeLine(x.fm.Message)), x.fm.Elapsed.Round(time.Millisecond), fix)
	}
}

// failureModeChars bounds a failure mode's message in REPORT.md, and
// expectedReasonChars an expected failure's reason (both are whole in
// results.json).
const (
	failureModeChars    = 80
	expectedReasonChars = 80
)

// backendWhere is where a backend adapter's error came from ("backend
// python at 172.27.0.3:7687: …", "(backend node at …, query)"): the same
// in every row, and it would keep drivers that raised the same error apart.
var backendWhere = regexp.MustCompile(`^backend \S+ at \S+: |\s*\(backend \S+ at [^)]*\)`)

// failureModeLine is a failure mode's message as REPORT.md shows it.
func failureModeLine(msg string) string {
	return oneLineTrim(backendWhere.ReplaceAllString(msg, ""), failureModeChars)
}

// writeConnectionSetup is T016's list: what each adapter's driver did to
// set up a connection, adapters that did the same thing on one row.
func writeConnectionSetup(p *printer, r Run) {
	type row struct {
		names []string
		cs    ConnectionSetup
	}
	var rows []*row
	index := map[string]*row{}
	for _, ref := range r.subjects() {
		for _, s := range r.specsOf(ref) {
			if s.ConnectionSetup == nil {
				continue
			}
			cs := *s.ConnectionSetup
			k := fmt.Sprint(cs.Auth, cs.TLS, startupLine(cs.Startup), cs.OnConnect)
			if x, ok := index[k]; ok {
				x.names = append(x.names, ref.String())
				continue
			}
			x := &row{names: []string{ref.String()}, cs: cs}
			index[k] = x
			rows = append(rows, x)
		}
	}
	if len(rows) == 0 {
		return
	}
	p.f("\n## Connection setup\n\nT016, as the wire tap saw it: the startup parameters each driver sent, how it authenticated, and every statement it ran on a new connection before the spec's first (adapters that did the same share a row; the session the server reported is in results.json).\n\n| adapters | auth | TLS | startup parameters | statements on connect |\n|---|---|---|---|---|\n")
	for _, x := range rows {
		tls := "no"
		if x.cs.TLS {
			tls = "yes"
		}
		on := "none"
		if len(x.cs.OnConnect) > 0 {
			var stmts []string
			for i, s := range x.cs.OnConnect {
				if i == onConnectShown {
					stmts = append(stmts, fmt.Sprintf("(+%d more, in results.json)", len(x.cs.OnConnect)-i))
					break
				}
				stmts = append(stmts, code(oneLineTrim(s, 60)))
			}
			on = strings.Join(stmts, "; ")
		}
		auth := x.cs.Auth
		if auth == "" {
			auth = "—"
		}
		p.f("| %s | %s | %s | %s | %s |\n", mdEscape(strings.Join(x.names, ", ")), mdEscape(auth), tls, mdEscape(startupLine(x.cs.Startup)), mdEscape(on))
	}
}

// onConnectShown bounds the statements on connect REPORT.md shows per row.
const onConnectShown = 4

// startupLine lists startup parameters as k=v, sorted; values that differ
// per connection (the application name an engine was opened with) are
// left out so that adapters doing the same thing compare equal.
func startupLine(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := m[k]
		if k == "application_name" {
			v = "…"
		}
		parts[i] = k + "=" + v
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, ", ")
}

func (r Run) adapterInfo(name string) (adapter.Info, bool) {
	for _, a := range r.Adapters {
		if a.Name == name {
			return a, true
		}
	}
	return adapter.Info{}, false
}

// writeRunDetails ends the report: the adapters, the settings, the
// machine, and how to reproduce the run.
func writeRunDetails(p *printer, r Run) {
	p.f("\n## Adapters\n\n| adapter | driver | version | language | async | capabilities |\n|---|---|---|---|---|---|\n")
	for _, a := range r.Adapters {
		caps := make([]string, len(a.Capabilities))
		for i, c := range a.Capabilities {
			caps[i] = string(c)
		}
		name := a.Name
		if a.Fixture {
			name += " (fixture: broken on purpose)"
		}
		p.f("| %s | %s | %s | %s | %v | %s |\n", mdEscape(name), mdEscape(a.Driver), mdEscape(a.DriverVersion), mdEscape(a.Language), a.Async, strings.Join(caps, ", "))
	}
	p.f("\n## How the run ran\n\n")
	p.f("- Machine: %d cores, %s\n", r.Machine.Cores, mdEscape(r.Machine.OS))
	targets := []Target{r.Target}
	if r.MultiTarget() {
		targets = r.Targets
	}
	for _, t := range targets {
		if len(t.Images) > 0 {
			p.f("- Images (%s): %s\n", mdEscape(t.TargetName()), "`"+strings.Join(t.Images, "`, `")+"`")
		}
		if t.DSN != "" {
			p.f("- DSN (%s): %s\n", mdEscape(t.TargetName()), code(t.DSN))
		}
	}
	keys := make([]string, 0, len(r.Config))
	for k := range r.Config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	settings := make([]string, 0, len(keys))
	for _, k := range keys {
		settings = append(settings, k+"="+code(r.Config[k]))
	}
	if len(settings) > 0 {
		p.f("- Settings (secrets redacted): %s\n", strings.Join(settings, " · "))
	}
	p.f("\nTo reproduce:\n\n```sh\n%s\n```\n", r.Command)
	if len(r.Shards) > 0 {
		p.f("\nMerged from these runs, each reproduced by its own command:\n\n")
		for _, sh := range r.Shards {
			p.f("- %s: `%s` (commit %s, %s)\n", mdEscape(sh.Source), sh.Command, code(sh.Commit), sh.Date.UTC().Format(time.RFC3339))
		}
	}
}

// DriversMD is the file, next to REPORT.md, with what the run saw the
// drivers do (T002's async failure modes, T016's connection setup):
// evidence a driver's maintainer reads once, kept out of REPORT.md so that
// it stays short.
const DriversMD = "DRIVERS.md"

// WriteDrivers renders DRIVERS.md; it reports false (and writes nothing)
// when the run observed neither.
func WriteDrivers(w io.Writer, r Run) (bool, error) {
	var b strings.Builder
	p := &printer{w: &b}
	writeFailureModes(p, r)
	writeConnectionSetup(p, r)
	if p.err != nil || b.Len() == 0 {
		return false, p.err
	}
	p = &printer{w: w}
	p.f("# pgwire-conformance: what the drivers did\n\nThe run of REPORT.md (%s, %s, commit %s) on %s.\n", r.Date.UTC().Format(time.RFC3339), mdEscape(r.Suite), code(r.Commit), targetsLine(r))
	p.f("%s", b.String())
	return true, p.err
}

// writeDriversLink points REPORT.md's reader at DRIVERS.md.
func writeDriversLink(p *printer, r Run) {
	var b strings.Builder
	if wrote, _ := WriteDrivers(&b, r); !wrote {
		return
	}
	p.f("\n## What the drivers did\n\nT002's async failure modes (what each async driver raised when misused or when the server failed, how soon, and whether the message names the fix) and T016's connection setup (startup parameters, authentication, statements on connect, as the wire tap saw them): [%s](%s).\n", DriversMD, DriversMD)
}

// PerformanceMD is the file, next to REPORT.md, with every performance
// figure of the run (FR-013's rounds, cross-check and T023 comparison, T001's
// baselines, the vector query, bulk insert): REPORT.md shows the figures a
// driver's maintainer needs and links it.
const PerformanceMD = "PERFORMANCE.md"

// WritePerformance renders PERFORMANCE.md; it reports false (and writes
// nothing) when the run measured nothing.
func WritePerformance(w io.Writer, r Run) (bool, error) {
	if !hasPerformance(r) {
		return false, nil
	}
	p := &printer{w: w}
	p.f("# pgwire-conformance performance figures\n\nThe run of REPORT.md (%s, %s, commit %s) on %s.\n", r.Date.UTC().Format(time.RFC3339), mdEscape(r.Suite), code(r.Commit), targetsLine(r))
	writeLatency(p, relabel(r))
	return true, p.err
}

func hasPerformance(r Run) bool {
	for _, s := range r.Specs {
		if s.Latency != nil || s.BulkInsert != nil || s.VectorLatency != nil {
			return true
		}
	}
	return false
}

func targetsLine(r Run) string {
	if !r.MultiTarget() {
		return targetLine(r.Target)
	}
	var t []string
	for _, x := range r.Targets {
		t = append(t, targetLine(x))
	}
	return strings.Join(t, "; ")
}

// writePerformance is REPORT.md's performance section: per adapter, the
// FR-013 verdict and its evidence and SELECT 1's percentiles (the vector
// query and bulk insert are in PERFORMANCE.md).
func writePerformance(p *printer, r Run) {
	if !hasPerformance(r) {
		return
	}
	type row struct{ lat *Latency }
	rows := map[string]*row{}
	var order []string
	for _, s := range r.Specs {
		if s.Latency == nil || !s.Latency.HasVerdict() {
			continue
		}
		x := rows[s.Adapter]
		if x == nil {
			x = &row{}
			rows[s.Adapter] = x
			order = append(order, s.Adapter)
		}
		x.lat = s.Latency
	}
	p.f("\n## Performance\n\nFR-013: each adapter's `SELECT 1` against its baseline, timed in the same run (ratio of typical latencies with its confidence interval; pass when the whole interval is below the threshold). "+
		"Against a local server a fixed driver overhead weighs far more than behind iris-pgwire (~%.0f ms a round trip): the column \"behind iris-pgwire\" gives the overhead as a share of that round trip. "+
		"Chart: [%s](%s); every figure (rounds, cross-checks, T023 against the raw driver, T001 baselines, the vector query's latency, FR-007 bulk insert): [%s](%s).\n\n",
		float64(IRISPGWireRoundTrip)/1e6, LatencySVG, LatencySVG, PerformanceMD, PerformanceMD)
	p.f("| adapter | FR-013 | ratio [interval] | baseline | overhead [interval] | behind iris-pgwire | SELECT 1 p50 / p95 / p99 |\n|---|---|---|---|---|---|---|\n")
	for _, name := range order {
		x := rows[name]
		verdict, ratio, base, over, iris, sel := "—", "—", "—", "—", "—", "—"
		if l := x.lat; l != nil {
			c := l.Comparison
			f, flo, fhi := l.BehindPGWire()
			verdict = verdictCell(l.Verdict)
			ratio = fmt.Sprintf("%.3f [%.3f–%.3f] ≤ %.2f", c.Ratio, c.RatioLow, c.RatioHigh, l.Threshold)
			base = mdEscape(l.Baseline)
			over = fmt.Sprintf("%s [%s, %s]", usSigned(c.Overhead), usSigned(c.OverheadLow), usSigned(c.OverheadHigh))
			iris = fmt.Sprintf("%+.2f%% [%+.2f%%, %+.2f%%]", 100*f, 100*flo, 100*fhi)
			sel = percentiles(c.Subject)
		}
		p.f("| %s | %s | %s | %s | %s | %s | %s |\n", mdEscape(name), verdict, ratio, base, over, iris, sel)
	}
}

// percentiles is "113 / 2865 / 9967 µs".
func percentiles(s measure.Summary) string {
	if s.N == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f / %.0f / %.0f µs", micros(s.P50), micros(s.P95), micros(s.P99))
}

// nonTasks are the requirements, edge cases and suite additions among ids.
func nonTasks(ids []string) []string {
	var out []string
	for _, id := range ids {
		if e, ok := catalogue.Lookup(id); !ok || e.Kind != catalogue.Task {
			out = append(out, id)
		}
	}
	return out
}
