// Package report turns a run into REPORT.md and results.json. It reads only
// the run's own data (Ginkgo's report, the target and adapter descriptions),
// never anything written by hand.
package report

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/measure"
)

// SchemaVersion of results.json; bump on any incompatible change.
const SchemaVersion = 1

// Outcome of one spec for one adapter.
type Outcome string

const (
	Passed        Outcome = "passed"
	Failed        Outcome = "failed"
	NotApplicable Outcome = "not applicable"
	Skipped       Outcome = "skipped"
	NotRun        Outcome = "not run" // filtered out by labels or focus
)

// Run is everything a report shows.
type Run struct {
	SchemaVersion int               `json:"schema_version"`
	Date          time.Time         `json:"date"`
	Suite         string            `json:"suite"`
	Commit        string            `json:"commit"`
	Command       string            `json:"command"`
	Target        Target            `json:"target"`
	Adapters      []adapter.Info    `json:"adapters"`
	Config        map[string]string `json:"config"`
	Machine       Machine           `json:"machine"`
	Duration      time.Duration     `json:"duration"`
	Specs         []Spec            `json:"specs"`
}

// Target is the server as reports show it (no password).
type Target struct {
	Provider      string   `json:"provider"`
	Profile       string   `json:"profile"`
	DSN           string   `json:"dsn"`
	Path          string   `json:"path"`
	ServerVersion string   `json:"server_version"`
	Images        []string `json:"images,omitempty"`
}

// Machine is where the run happened.
type Machine struct {
	Cores int    `json:"cores"`
	OS    string `json:"os"`
}

// Spec is one spec's result for one adapter.
type Spec struct {
	Adapter      string        `json:"adapter"`
	Group        string        `json:"group"`
	Text         string        `json:"text"`
	Requirements []string      `json:"requirements"`
	Labels       []string      `json:"labels"`
	Outcome      Outcome       `json:"outcome"`
	Message      string        `json:"message,omitempty"`
	Location     string        `json:"location,omitempty"`
	Duration     time.Duration `json:"duration"`
	Latency      *Latency      `json:"latency,omitempty"`
	BulkInsert   *BulkInsert   `json:"bulk_insert,omitempty"`
}

// Latency is the FR-013 measurement a latency spec records.
type Latency struct {
	Statement  string             `json:"statement"`
	Baseline   string             `json:"baseline"`
	Path       string             `json:"path"`
	Threshold  float64            `json:"threshold"`
	Comparison measure.Comparison `json:"comparison"`
}

// BulkInsert is the FR-007 measurement.
type BulkInsert struct {
	Rows          int     `json:"rows"`
	Seconds       float64 `json:"seconds"`
	RowsPerSecond float64 `json:"rows_per_second"`
}

// Report-entry names specs record measurements under.
const (
	LatencyEntry = "latency"
	BulkEntry    = "bulk-insert"
)

// SpecsFromGinkgo converts Ginkgo's spec reports. reqs and adapterOf read
// the harness's labels; notApplicable is the skip-message prefix of specs an
// adapter's capabilities rule out.
func SpecsFromGinkgo(specs types.SpecReports, reqs func([]string) []string, adapterOf func([]string) string, notApplicable string) []Spec {
	var out []Spec
	for _, sr := range specs {
		if sr.LeafNodeType != types.NodeTypeIt {
			continue
		}
		labels := sr.Labels()
		s := Spec{
			Adapter:      adapterOf(labels),
			Group:        strings.Join(sr.ContainerHierarchyTexts, " / "),
			Text:         sr.LeafNodeText,
			Requirements: reqs(labels),
			Labels:       labels,
			Location:     sr.LeafNodeLocation.String(),
			Duration:     sr.RunTime,
		}
		switch {
		case sr.State == types.SpecStatePassed:
			s.Outcome = Passed
		case sr.State.Is(types.SpecStateFailureStates):
			s.Outcome = Failed
			s.Message = sr.Failure.Message
			if sr.Failure.Location.FileName != "" {
				s.Location = sr.Failure.Location.String()
			}
		case sr.State == types.SpecStateSkipped && strings.HasPrefix(sr.Failure.Message, notApplicable):
			s.Outcome = NotApplicable
			s.Message = strings.TrimPrefix(sr.Failure.Message, notApplicable)
		case sr.State == types.SpecStateSkipped && sr.Failure.Message != "":
			s.Outcome = Skipped
			s.Message = sr.Failure.Message
		default:
			s.Outcome = NotRun
		}
		for _, e := range sr.ReportEntries {
			switch e.Name {
			case LatencyEntry:
				var l Latency
				if json.Unmarshal([]byte(e.Value.AsJSON), &l) == nil {
					s.Latency = &l
				}
			case BulkEntry:
				var b BulkInsert
				if json.Unmarshal([]byte(e.Value.AsJSON), &b) == nil {
					s.BulkInsert = &b
				}
			}
		}
		out = append(out, s)
	}
	return out
}
