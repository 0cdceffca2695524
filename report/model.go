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
	// ExpectedFail: listed in the expected-failure list, and failed.
	ExpectedFail Outcome = "expected failure"
	// UnexpectedPass: listed, but passed; fails the run.
	UnexpectedPass Outcome = "unexpected pass"
)

// Prefixes classifies specs by the messages the harness gives them.
type Prefixes struct {
	NotApplicable, ExpectedFailure, UnexpectedPass string
}

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
	ID           string        `json:"id"` // group / text, the key of expected-failure lists
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
	Rounds     int                `json:"rounds"`
	ServerCPUs string             `json:"server_cpus,omitempty"`
	ClientCPUs string             `json:"client_cpus,omitempty"`
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
func SpecsFromGinkgo(specs types.SpecReports, reqs func([]string) []string, adapterOf func([]string) string, pre Prefixes) []Spec {
	var out []Spec
	for _, sr := range specs {
		if sr.LeafNodeType != types.NodeTypeIt {
			continue
		}
		labels := sr.Labels()
		s := Spec{
			Adapter:      adapterOf(labels),
			Group:        group(sr.ContainerHierarchyTexts),
			Text:         sr.LeafNodeText,
			Requirements: reqs(labels),
			Labels:       labels,
			Location:     sr.LeafNodeLocation.String(),
			Duration:     sr.RunTime,
		}
		switch {
		case sr.State == types.SpecStatePassed:
			s.Outcome = Passed
		case sr.State.Is(types.SpecStateFailureStates) && strings.HasPrefix(sr.Failure.Message, pre.UnexpectedPass):
			s.Outcome = UnexpectedPass
			s.Message = strings.TrimPrefix(sr.Failure.Message, pre.UnexpectedPass)
		case sr.State == types.SpecStateSkipped && strings.HasPrefix(sr.Failure.Message, pre.ExpectedFailure):
			s.Outcome = ExpectedFail
			s.Message = strings.TrimPrefix(sr.Failure.Message, pre.ExpectedFailure)
		case sr.State.Is(types.SpecStateFailureStates):
			s.Outcome = Failed
			s.Message = sr.Failure.Message
			if sr.Failure.Location.FileName != "" {
				s.Location = sr.Failure.Location.String()
			}
		case sr.State == types.SpecStateSkipped && strings.HasPrefix(sr.Failure.Message, pre.NotApplicable):
			s.Outcome = NotApplicable
			s.Message = strings.TrimPrefix(sr.Failure.Message, pre.NotApplicable)
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
				if entryValue(e, &l) {
					s.Latency = &l
				}
			case BulkEntry:
				var b BulkInsert
				if entryValue(e, &b) {
					s.BulkInsert = &b
				}
			}
		}
		s.ID = s.Group + " / " + s.Text
		out = append(out, s)
	}
	return out
}

// group is the spec group without the per-adapter "[name]" container.
func group(texts []string) string {
	var keep []string
	for _, t := range texts {
		if !(strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]")) {
			keep = append(keep, t)
		}
	}
	return strings.Join(keep, " / ")
}

// entryValue decodes a report entry's value: the raw value in the process
// that recorded it, its JSON form when it came from another process.
func entryValue(e types.ReportEntry, into any) bool {
	b := []byte(e.Value.AsJSON)
	if raw := e.Value.GetRawValue(); raw != nil {
		var err error
		if b, err = json.Marshal(raw); err != nil {
			return false
		}
	}
	return len(b) > 0 && json.Unmarshal(b, into) == nil
}
