// Package expectations reads the reviewed lists of specs an adapter is known
// to fail on a profile (CockroachDB's blocklists). They are strict both ways:
// a listed spec that fails is reported as an expected failure, and a listed
// spec that passes fails the run, so the lists never go stale. They are
// strict about names too: an entry naming no spec of the suite is an error
// (CheckSpecIDs, Strict), with the closest spec ID suggested.
package expectations

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// AnyAdapter is the adapter key of entries that hold for every adapter (a
// server divergence every driver meets); an entry under the adapter's own
// name wins over it.
const AnyAdapter = "*"

// How an entry was reviewed: from the server's or driver's source code
// only, or from a live run that failed as the reason says.
const (
	ReviewedCode = "code"
	ReviewedLive = "live"
)

// Expectation says why a spec is expected to fail and where that is tracked.
type Expectation struct {
	Reason string `yaml:"reason"`
	Link   string `yaml:"link,omitempty"`
	// Source is where the failing behaviour lives or was found, e.g.
	// "iris-pgwire 1.0.1 src/iris_pgwire/protocol.py (read from code)".
	Source string `yaml:"source,omitempty"`
	// Reviewed is ReviewedCode or ReviewedLive ("" for lists that predate
	// the field).
	Reviewed string `yaml:"reviewed,omitempty"`
	// Intermittent marks a failure that shows only in some runs because the
	// target makes a race possible (PGlite's one shared session: two
	// connections of a pool preparing the same statement name, depending
	// on how the pool spreads the work). It holds text the failure must
	// contain; a pass is then accepted, and a failure for any other cause
	// is not.
	Intermittent string `yaml:"intermittent,omitempty"`
}

// Outcome is how a listed spec's run compares with its entry.
type Outcome int

const (
	// AsListed: the spec failed, as listed.
	AsListed Outcome = iota
	// PassedIntermittent: the spec passed, and its entry is intermittent.
	PassedIntermittent
	// UnexpectedPass: the spec passed, and its entry says it always fails.
	UnexpectedPass
	// OtherCause: the spec failed, but without the intermittent entry's
	// text: its failure is not the listed one.
	OtherCause
)

// Judge compares a listed spec's failure (nil when it passed) with the
// entry.
func (e Expectation) Judge(failure error) Outcome {
	switch {
	case failure == nil && e.Intermittent != "":
		return PassedIntermittent
	case failure == nil:
		return UnexpectedPass
	case e.Intermittent != "" && !strings.Contains(failure.Error(), e.Intermittent):
		return OtherCause
	}
	return AsListed
}

// List maps adapter name (or AnyAdapter) → spec ID → expectation.
type List map[string]map[string]Expectation

// SpecID names a spec independently of the adapter it runs for.
func SpecID(group, text string) string { return group + " / " + text }

// Load reads a list. A missing file is an empty list; anything malformed,
// or an entry without a reason, is an error.
func Load(path string, knownAdapters []string) (List, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return List{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("expected failures: %w", err)
	}
	return Parse(b, path, knownAdapters)
}

// Parse decodes a list from YAML; name is used in errors. A key it does
// not know is an error, not ignored: an entry must not say more than the
// list enforces (an old "flaky: true" would otherwise pass unnoticed).
// AnyAdapter is always a known adapter.
func Parse(b []byte, name string, knownAdapters []string) (List, error) {
	var l List
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&l); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("expected failures %s: %w (the file maps adapter → spec ID → reason, link, source, reviewed)", name, err)
	}
	if l == nil {
		l = List{}
	}
	for _, a := range l.adapters() {
		if a != AnyAdapter && !contains(knownAdapters, a) {
			return nil, fmt.Errorf("expected failures %s: unknown adapter %q", name, a)
		}
		for _, id := range l.ids(a) {
			e := l[a][id]
			if strings.TrimSpace(e.Reason) == "" {
				return nil, fmt.Errorf("expected failures %s: %s / %q has no reason", name, a, id)
			}
			switch e.Reviewed {
			case "", ReviewedCode, ReviewedLive:
			default:
				return nil, fmt.Errorf("expected failures %s: %s / %q: reviewed is %q, want %s or %s", name, a, id, e.Reviewed, ReviewedCode, ReviewedLive)
			}
		}
	}
	return l, nil
}

// Lookup returns the expectation for a spec of an adapter: the adapter's
// own entry, else the AnyAdapter entry.
func (l List) Lookup(adapter, id string) (Expectation, bool) {
	if e, ok := l[adapter][id]; ok {
		return e, true
	}
	e, ok := l[AnyAdapter][id]
	return e, ok
}

// CheckSpecIDs fails on every entry that names no spec in specIDs (the
// suite's spec list, conformance.yaml), suggesting the closest ID: a
// renamed spec must not leave a stale entry that silently stops applying.
// name is used in the error.
func CheckSpecIDs(l List, name string, specIDs []string) error {
	known := make(map[string]bool, len(specIDs))
	for _, id := range specIDs {
		known[id] = true
	}
	var problems []string
	for _, a := range l.adapters() {
		for _, id := range l.ids(a) {
			if known[id] {
				continue
			}
			p := fmt.Sprintf("%s / %q names no spec of the suite", a, id)
			if s := Closest(id, specIDs); s != "" {
				p += fmt.Sprintf(" (did you mean %q?)", s)
			}
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("expected failures %s: %s", name, strings.Join(problems, "; "))
	}
	return nil
}

// Closest returns the candidate nearest to s ("" when there is none), for
// "did you mean" suggestions: the fewest edits turning s into the start of
// the candidate (an ID cut short or mistyped early matches its spec, not a
// short ID that happens to be close), then the fewest into all of it.
func Closest(s string, candidates []string) string {
	best, bestP, bestD := "", -1, -1
	for _, c := range candidates {
		p, d := editDistances(s, c)
		if bestP < 0 || p < bestP || p == bestP && (d < bestD || d == bestD && c < best) {
			best, bestP, bestD = c, p, d
		}
	}
	return best
}

// editDistances is the edit distance, in runes, from a to the nearest
// prefix of b, and from a to all of b.
func editDistances(a, b string) (prefix, full int) {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return slices.Min(prev), prev[len(rb)]
}

// Render writes a list as YAML in a stable order, for the regenerated list a
// run prints.
func Render(l List) string {
	var b strings.Builder
	for _, a := range l.adapters() {
		fmt.Fprintf(&b, "%q:\n", a)
		for _, id := range l.ids(a) {
			e := l[a][id]
			fmt.Fprintf(&b, "  %q:\n    reason: %q\n", id, e.Reason)
			if e.Link != "" {
				fmt.Fprintf(&b, "    link: %q\n", e.Link)
			}
			if e.Source != "" {
				fmt.Fprintf(&b, "    source: %q\n", e.Source)
			}
			if e.Reviewed != "" {
				fmt.Fprintf(&b, "    reviewed: %s\n", e.Reviewed)
			}
			if e.Intermittent != "" {
				fmt.Fprintf(&b, "    intermittent: %q\n", e.Intermittent)
			}
		}
	}
	return b.String()
}

// adapters returns the list's adapter keys in order.
func (l List) adapters() []string {
	out := make([]string, 0, len(l))
	for a := range l {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// ids returns one adapter's spec IDs in order.
func (l List) ids(adapter string) []string {
	out := make([]string, 0, len(l[adapter]))
	for id := range l[adapter] {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
