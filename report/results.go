package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"

	pgwc "github.com/pgwire-conformance/pgwire-conformance"
	"github.com/pgwire-conformance/pgwire-conformance/catalogue"
)

// EncodeResults renders r as results.json (docs/results-schema.md): the
// run's fields indented, then one line per spec result and per gate
// verdict, so that a file of a thousand results stays small and diffs
// line by line. The gates are derived afresh from the specs.
func EncodeResults(r Run) ([]byte, error) {
	r.Gates = ComputeGates(r)
	specs, gates := r.Specs, r.Gates
	r.Specs, r.Gates = nil, nil
	head, err := marshal(r, "  ")
	if err != nil {
		return nil, fmt.Errorf("encode results: %w", err)
	}
	var lines []any
	for _, s := range specs {
		if s.Outcome != Failed && s.Outcome != HarnessError {
			s.Location = "" // the spec's own file:line is conformance.yaml's
		}
		lines = append(lines, s)
	}
	specArray, err := lineArray(lines)
	if err != nil {
		return nil, fmt.Errorf("encode spec results: %w", err)
	}
	head = bytes.Replace(head, []byte(`"specs": null`), append([]byte(`"specs": `), specArray...), 1)
	if len(gates) > 0 {
		lines = lines[:0]
		for _, g := range gates {
			lines = append(lines, g)
		}
		gateArray, err := lineArray(lines)
		if err != nil {
			return nil, fmt.Errorf("encode gates: %w", err)
		}
		// Gates go last, after the run's own fields.
		head = bytes.TrimSuffix(head, []byte("\n}"))
		head = append(head, []byte(",\n  \"gates\": ")...)
		head = append(head, gateArray...)
		head = append(head, []byte("\n}")...)
	}
	return append(head, '\n'), nil
}

// marshal is JSON without HTML escaping (SQL has < and >), indented.
func marshal(v any, indent string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// lineArray is a JSON array with one compact element per line, indented
// as a top-level field's value.
func lineArray(items []any) ([]byte, error) {
	if len(items) == 0 {
		return []byte("[]"), nil
	}
	var b bytes.Buffer
	b.WriteString("[")
	for i, it := range items {
		line, err := marshal(it, "")
		if err != nil {
			return nil, err
		}
		b.WriteString("\n    ")
		b.Write(line)
		if i < len(items)-1 {
			b.WriteString(",")
		}
	}
	b.WriteString("\n  ]")
	return b.Bytes(), nil
}

// ReadResults reads a results.json, refusing anything that is not one of
// this schema version, and completes its spec results from the suite's
// conformance.yaml (Hydrate).
func ReadResults(path string) (Run, error) {
	c, err := SuiteConformance()
	if err != nil {
		return Run{}, err
	}
	return ReadResultsWith(path, c)
}

// ReadResultsWith reads a results.json and hydrates it from c: the
// conformance.yaml of the suite version that wrote it, when that is not
// this one.
func ReadResultsWith(path string, c Conformance) (Run, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Run{}, err
	}
	return DecodeResults(b, path, c)
}

// DecodeResults decodes results.json's content (name is for errors) and
// hydrates it from c.
func DecodeResults(b []byte, name string, c Conformance) (Run, error) {
	var r Run
	var head struct {
		SchemaVersion *int `json:"schema_version"`
	}
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '[' && json.Valid(t) {
		return r, fmt.Errorf("%s: not a results file (a JSON array: a Ginkgo JSON report? merge the results.json files the suite writes)", name)
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return r, fmt.Errorf("%s: not a results file (malformed JSON: %v)", name, err)
	}
	if head.SchemaVersion == nil {
		return r, fmt.Errorf("%s: not a results file (no schema_version)", name)
	}
	if *head.SchemaVersion != SchemaVersion {
		return r, fmt.Errorf("%s: schema_version %d, this tool reads %d: regenerate it with this suite version", name, *head.SchemaVersion, SchemaVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("%s: not a results file of schema %d: %v", name, SchemaVersion, err)
	}
	Hydrate(&r, c)
	return r, nil
}

// Hydrate fills in what results.json leaves to conformance.yaml: each spec
// result's group, text, requirements, labels and (unless it failed
// elsewhere) file:line, found by its ID. It returns the IDs c does not
// list (results of another suite version): their group and text are split
// from the ID, and they name no requirement.
func Hydrate(r *Run, c Conformance) (unknown []string) {
	by := make(map[string]ConformanceSpec, len(c.Specs))
	for _, cs := range c.Specs {
		by[cs.ID] = cs
	}
	seen := map[string]bool{}
	for i := range r.Specs {
		s := &r.Specs[i]
		cs, ok := by[s.ID]
		if !ok {
			s.Group, s.Text, _ = strings.Cut(s.ID, " / ")
			if !seen[s.ID] {
				seen[s.ID] = true
				unknown = append(unknown, s.ID)
			}
			continue
		}
		ids := append(append([]string(nil), cs.Requirements...), cs.Tasks...)
		s.Group, s.Text, s.Requirements = cs.Group, cs.Text, ids
		s.Labels = append(append(append([]string(nil), cs.Labels...), catalogue.Labels(ids)...), "adapter:"+s.Adapter)
		if s.Location == "" {
			s.Location = cs.File
		}
	}
	return unknown
}

// Unresolved lists the spec IDs of r that name no requirement: after
// ReadResults, specs the suite's conformance.yaml does not list.
func Unresolved(r Run) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range r.Specs {
		if len(s.Requirements) == 0 && !seen[s.ID] {
			seen[s.ID] = true
			out = append(out, s.ID)
		}
	}
	return out
}

var suiteConformance = sync.OnceValues(func() (Conformance, error) {
	return ParseConformance(pgwc.ConformanceYAML, "conformance.yaml (embedded)")
})

// SuiteConformance is the suite's own conformance.yaml, embedded.
func SuiteConformance() (Conformance, error) { return suiteConformance() }
