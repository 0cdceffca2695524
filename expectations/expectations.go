// Package expectations reads the reviewed lists of specs an adapter is known
// to fail on a profile (CockroachDB's blocklists). They are strict both ways:
// a listed spec that fails is reported as an expected failure, and a listed
// spec that passes fails the run, so the lists never go stale.
package expectations

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Expectation says why a spec is expected to fail and where that is tracked.
type Expectation struct {
	Reason string `yaml:"reason"`
	Link   string `yaml:"link,omitempty"`
	// Flaky marks a spec that fails in some runs and passes in others for a
	// reason the entry states (CockroachDB's ignore list): either outcome is
	// accepted and reported as it happened, so the list stays strict for
	// everything else.
	Flaky bool `yaml:"flaky,omitempty"`
}

// List maps adapter name → spec ID → expectation.
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

// Parse decodes a list from YAML; name is used in errors.
func Parse(b []byte, name string, knownAdapters []string) (List, error) {
	var l List
	if err := yaml.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("expected failures %s: %w", name, err)
	}
	if l == nil {
		l = List{}
	}
	for a, specs := range l {
		if !contains(knownAdapters, a) {
			return nil, fmt.Errorf("expected failures %s: unknown adapter %q", name, a)
		}
		for id, e := range specs {
			if strings.TrimSpace(e.Reason) == "" {
				return nil, fmt.Errorf("expected failures %s: %s / %q has no reason", name, a, id)
			}
		}
	}
	return l, nil
}

// Lookup returns the expectation for a spec of an adapter.
func (l List) Lookup(adapter, id string) (Expectation, bool) {
	e, ok := l[adapter][id]
	return e, ok
}

// Render writes a list as YAML in a stable order, for the regenerated list a
// run prints.
func Render(l List) string {
	var b strings.Builder
	adapters := make([]string, 0, len(l))
	for a := range l {
		adapters = append(adapters, a)
	}
	sort.Strings(adapters)
	for _, a := range adapters {
		fmt.Fprintf(&b, "%s:\n", a)
		ids := make([]string, 0, len(l[a]))
		for id := range l[a] {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			e := l[a][id]
			fmt.Fprintf(&b, "  %q:\n    reason: %q\n", id, e.Reason)
			if e.Link != "" {
				fmt.Fprintf(&b, "    link: %q\n", e.Link)
			}
			if e.Flaky {
				fmt.Fprintf(&b, "    flaky: true\n")
			}
		}
	}
	return b.String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
