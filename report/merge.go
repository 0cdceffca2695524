package report

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
)

// MergeOptions tune Merge.
type MergeOptions struct {
	// Force merges runs of different suite versions.
	Force bool
	// Command is the merged report's "how to reproduce" command.
	Command string
}

// Merge combines runs into one: shards of one certification (split by
// adapter or by label across CI machines) into one run, and runs against
// different targets into a report with a target × requirement view (each
// spec result then names its target). Runs must come from one suite
// (version and commit) unless opt.Force. A spec × adapter that ran twice
// on one target is an error; one that a shard's label filter left out is
// superseded by the shard that ran it.
func Merge(runs []Run, sources []string, opt MergeOptions) (Run, error) {
	if len(runs) == 0 {
		return Run{}, errors.New("nothing to merge")
	}
	if len(sources) != len(runs) {
		return Run{}, errors.New("merge: one source name per run")
	}
	first := runs[0]
	for i, r := range runs {
		if r.SchemaVersion != SchemaVersion {
			return Run{}, fmt.Errorf("%s: schema_version %d, want %d", sources[i], r.SchemaVersion, SchemaVersion)
		}
		if !opt.Force && (first.Suite != r.Suite || first.Commit != r.Commit) {
			return Run{}, fmt.Errorf("%s and %s come from different suite versions (%s %s vs %s %s): refusing to merge without -force", sources[0], sources[i], first.Suite, first.Commit, r.Suite, r.Commit)
		}
	}
	targets := mergeTargets(runs)

	out := Run{
		SchemaVersion:  SchemaVersion,
		Suite:          first.Suite,
		Commit:         first.Commit,
		Command:        opt.Command,
		Implementation: first.Implementation,
		Target:         first.Target,
		Targets:        targets.targets(),
		Machine:        first.Machine,
		Config:         map[string]string{},
	}
	if len(out.Targets) > 0 {
		out.Target = out.Targets[0]
	}
	type key struct{ target, adapter, id string }
	index := map[key]int{}
	from := map[key]string{}
	adapters := map[string]bool{}
	configValues := map[string][]string{}
	var interrupts []string
	for i, r := range runs {
		src := sources[i]
		if r.Date.After(out.Date) {
			out.Date = r.Date
		}
		if r.Duration > out.Duration {
			out.Duration = r.Duration // shards run side by side: the slowest bounds the wall time
		}
		if out.Implementation == (Implementation{}) {
			out.Implementation = r.Implementation
		}
		if r.Interrupted {
			interrupts = append(interrupts, src+": "+r.InterruptReason)
		}
		if len(r.Shards) > 0 {
			out.Shards = append(out.Shards, r.Shards...)
		} else {
			out.Shards = append(out.Shards, Shard{Source: src, Date: r.Date, Commit: r.Commit, Command: r.Command, Duration: r.Duration, Specs: len(r.Specs)})
		}
		if r.Machine.Cores != out.Machine.Cores || r.Machine.OS != out.Machine.OS {
			out.Machine.OS = strings.TrimSuffix(out.Machine.OS, " (and others: see shards)") + " (and others: see shards)"
		}
		for _, a := range r.Adapters {
			if !adapters[a.Name] {
				adapters[a.Name] = true
				out.Adapters = append(out.Adapters, a)
			}
		}
		for k, v := range r.Config {
			if k == "adapters" {
				continue
			}
			if !contains(configValues[k], v) {
				configValues[k] = append(configValues[k], v)
			}
		}
		out.HarnessErrors = append(out.HarnessErrors, r.HarnessErrors...)
		for _, s := range r.Specs {
			s.Target = targets.nameOf(r, s)
			k := key{s.Target, s.Adapter, s.ID}
			j, dup := index[k]
			switch {
			case !dup:
				index[k] = len(out.Specs)
				from[k] = src
				out.Specs = append(out.Specs, s)
			case s.Outcome == NotRun:
				// filtered out here, kept from the shard that has it
			case out.Specs[j].Outcome == NotRun:
				out.Specs[j] = s
				from[k] = src
			default:
				return Run{}, fmt.Errorf("[%s] %s ran in two shards (%s and %s): shards must not overlap", Ref{s.Adapter, s.Target}, s.ID, from[k], src)
			}
		}
	}
	if len(interrupts) > 0 {
		out.Interrupted, out.InterruptReason = true, strings.Join(interrupts, "; ")
	}
	if n := Counts(out.Specs)[NotRun]; n > 0 {
		out.Partial = fmt.Sprintf("%d spec result(s) were left out by every shard's filter", n)
	}
	names := make([]string, len(out.Adapters))
	for i, a := range out.Adapters {
		names[i] = a.Name
	}
	out.Config["adapters"] = strings.Join(names, ",")
	for k, vs := range configValues {
		out.Config[k] = strings.Join(vs, " | ")
	}
	sort.SliceStable(out.Specs, func(i, j int) bool {
		a, b := out.Specs[i], out.Specs[j]
		if a.Target != b.Target {
			return targets.rank(a.Target) < targets.rank(b.Target)
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return adapterRank(out.Adapters, a.Adapter) < adapterRank(out.Adapters, b.Adapter)
	})
	if out.Date.IsZero() {
		out.Date = time.Now()
	}
	return out, nil
}

// mergedTargets are the distinct targets of the runs being merged (as the
// runs describe them) and the name each gets in the merge, unique among
// them.
type mergedTargets struct {
	list  []Target
	names []string
}

// mergeTargets finds the distinct targets, in the order the runs name
// them, and names each uniquely: its own name, then with its server
// version, then with a number.
func mergeTargets(runs []Run) mergedTargets {
	var m mergedTargets
	for _, r := range runs {
		for _, t := range runTargets(r) {
			if m.find(t) < 0 {
				m.list = append(m.list, t)
			}
		}
	}
	used := map[string]int{}
	for _, t := range m.list {
		used[t.TargetName()]++
	}
	seen := map[string]int{}
	for _, t := range m.list {
		name := t.TargetName()
		if used[name] > 1 {
			name += " (" + shortVersion(t.ServerVersion) + ")"
		}
		if seen[name]++; seen[name] > 1 {
			name = fmt.Sprintf("%s #%d", name, seen[name])
		}
		m.names = append(m.names, name)
	}
	return m
}

// targets are the merged run's targets, under their merged names (nil
// when there is one).
func (m mergedTargets) targets() []Target {
	if len(m.list) < 2 {
		return nil
	}
	out := make([]Target, len(m.list))
	for i, t := range m.list {
		t.Name = m.names[i]
		out[i] = t
	}
	return out
}

// runTargets are a run's targets: its one target, or a merged run's.
func runTargets(r Run) []Target {
	if r.MultiTarget() {
		return r.Targets
	}
	return []Target{r.Target}
}

func (m mergedTargets) find(t Target) int {
	for i, x := range m.list {
		if targetDiff(x, t) == "" {
			return i
		}
	}
	return -1
}

// nameOf is the merged name of the target s ran against ("" when the merge
// has one target).
func (m mergedTargets) nameOf(r Run, s Spec) string {
	if len(m.list) < 2 {
		return ""
	}
	t := r.Target
	if r.MultiTarget() {
		for _, x := range r.Targets {
			if x.Name == s.Target {
				t = x
			}
		}
	}
	return m.names[m.find(t)]
}

func (m mergedTargets) rank(name string) int {
	for i, n := range m.names {
		if n == name {
			return i
		}
	}
	return len(m.names)
}

// targetDiff says how two targets differ ("" when they are one target).
func targetDiff(a, b Target) string {
	var d []string
	if a.TargetName() != b.TargetName() {
		d = append(d, fmt.Sprintf("name %q vs %q", a.TargetName(), b.TargetName()))
	}
	if a.Profile != b.Profile {
		d = append(d, fmt.Sprintf("profile %q vs %q", a.Profile, b.Profile))
	}
	if a.Provider != b.Provider {
		d = append(d, fmt.Sprintf("provider %q vs %q", a.Provider, b.Provider))
	}
	if a.ServerVersion != b.ServerVersion {
		d = append(d, fmt.Sprintf("server version %q vs %q", a.ServerVersion, b.ServerVersion))
	}
	return strings.Join(d, ", ")
}

func adapterRank(as []adapter.Info, name string) int {
	for i, a := range as {
		if a.Name == name {
			return i
		}
	}
	return len(as)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
