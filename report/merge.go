package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
)

// ReadResults reads a results.json, refusing anything that is not one of
// this schema version.
func ReadResults(path string) (Run, error) {
	var r Run
	b, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	var head struct {
		SchemaVersion *int `json:"schema_version"`
	}
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '[' && json.Valid(t) {
		return r, fmt.Errorf("%s: not a results file (a JSON array: a Ginkgo JSON report? merge the results.json files the suite writes)", path)
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return r, fmt.Errorf("%s: not a results file (malformed JSON: %v)", path, err)
	}
	if head.SchemaVersion == nil {
		return r, fmt.Errorf("%s: not a results file (no schema_version)", path)
	}
	if *head.SchemaVersion != SchemaVersion {
		return r, fmt.Errorf("%s: schema_version %d, this tool reads %d: regenerate it with this suite version", path, *head.SchemaVersion, SchemaVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("%s: not a results file of schema %d: %v", path, SchemaVersion, err)
	}
	return r, nil
}

// MergeOptions tune Merge.
type MergeOptions struct {
	// Force merges runs of different targets or suite versions.
	Force bool
	// Command is the merged report's "how to reproduce" command.
	Command string
}

// Merge combines the results of sharded runs (split by adapter or by label)
// into one run. Runs must share the target (profile, provider, server
// version) and the suite (version and commit) unless opt.Force. A spec ×
// adapter that ran in two shards is an error; one that a shard's label
// filter left out is superseded by the shard that ran it.
func Merge(runs []Run, sources []string, opt MergeOptions) (Run, error) {
	if len(runs) == 0 {
		return Run{}, errors.New("nothing to merge")
	}
	if len(sources) != len(runs) {
		return Run{}, errors.New("merge: one source name per run")
	}
	first := runs[0]
	for i, r := range runs[1:] {
		if r.SchemaVersion != SchemaVersion {
			return Run{}, fmt.Errorf("%s: schema_version %d, want %d", sources[i+1], r.SchemaVersion, SchemaVersion)
		}
		if opt.Force {
			continue
		}
		if d := targetDiff(first.Target, r.Target); d != "" {
			return Run{}, fmt.Errorf("%s and %s ran against different targets (%s): refusing to merge without -force", sources[0], sources[i+1], d)
		}
		if first.Suite != r.Suite || first.Commit != r.Commit {
			return Run{}, fmt.Errorf("%s and %s come from different suite versions (%s %s vs %s %s): refusing to merge without -force", sources[0], sources[i+1], first.Suite, first.Commit, r.Suite, r.Commit)
		}
	}

	out := Run{
		SchemaVersion: SchemaVersion,
		Suite:         first.Suite,
		Commit:        first.Commit,
		Command:       opt.Command,
		Target:        first.Target,
		Machine:       first.Machine,
		Config:        map[string]string{},
	}
	type key struct{ adapter, id string }
	index := map[key]int{}
	from := map[key]string{}
	adapters := map[string]bool{}
	configValues := map[string][]string{}
	for i, r := range runs {
		src := sources[i]
		if r.Date.After(out.Date) {
			out.Date = r.Date
		}
		if r.Duration > out.Duration {
			out.Duration = r.Duration // shards run side by side: the slowest bounds the wall time
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
			k := key{s.Adapter, s.ID}
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
				return Run{}, fmt.Errorf("[%s] %s ran in two shards (%s and %s): shards must not overlap", s.Adapter, s.ID, from[k], src)
			}
		}
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
		if out.Specs[i].ID != out.Specs[j].ID {
			return out.Specs[i].ID < out.Specs[j].ID
		}
		return adapterRank(out.Adapters, out.Specs[i].Adapter) < adapterRank(out.Adapters, out.Specs[j].Adapter)
	})
	if out.Date.IsZero() {
		out.Date = time.Now()
	}
	return out, nil
}

func targetDiff(a, b Target) string {
	var d []string
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
