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
// docs/results-schema.md describes it. 2: outcome "skipped by filter"
// (was "not run"), "harness error", transcripts, vector latency, harness
// errors, shards.
const SchemaVersion = 2

// Outcome of one spec for one adapter.
type Outcome string

const (
	Passed        Outcome = "passed"
	Failed        Outcome = "failed"
	NotApplicable Outcome = "not applicable"
	Skipped       Outcome = "skipped"
	NotRun        Outcome = "skipped by filter" // filtered out by labels or focus
	// ExpectedFail: listed in the expected-failure list, and failed.
	ExpectedFail Outcome = "expected failure"
	// UnexpectedPass: listed, but passed; fails the run.
	UnexpectedPass Outcome = "unexpected pass"
	// HarnessError: the suite or its containers broke, not the driver: the
	// suite's setup failed (every spec that would have run gets this), or a
	// spec failed with a message starting with HarnessErrorPrefix.
	HarnessError Outcome = "harness error"
	// NoSpec is a requirement's outcome (never a spec's) when the run's tree
	// has no spec for it at all.
	NoSpec Outcome = "no spec"
)

// HarnessErrorPrefix starts the failure message of a spec (or suite node)
// that failed because of the harness, not the driver.
const HarnessErrorPrefix = "harness error:"

// Prefixes classifies specs by the messages the harness gives them.
// HarnessError defaults to HarnessErrorPrefix.
type Prefixes struct {
	NotApplicable, ExpectedFailure, UnexpectedPass, HarnessError string
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
	// HarnessErrors are suite-level failures (setup, teardown, interrupts),
	// with the target's container log tail when there was one.
	HarnessErrors []HarnessFailure `json:"harness_errors,omitempty"`
	// Shards lists the runs a merged report was made from (empty for one run).
	Shards []Shard `json:"shards,omitempty"`
}

// HarnessFailure is a suite-level failure that is not the driver's.
type HarnessFailure struct {
	Node     string `json:"node"` // e.g. SynchronizedBeforeSuite
	Message  string `json:"message"`
	Location string `json:"location,omitempty"`
	// LogTail is the last lines of the target's container logs.
	LogTail string `json:"log_tail,omitempty"`
}

// Shard is one run merged into a report.
type Shard struct {
	Source   string        `json:"source"` // the results file it came from
	Date     time.Time     `json:"date"`
	Commit   string        `json:"commit"`
	Command  string        `json:"command"`
	Duration time.Duration `json:"duration"`
	Specs    int           `json:"specs"` // spec results it contributed
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
	// VectorLatency is the vector query's latency, when a spec records one
	// under VectorLatencyEntry.
	VectorLatency *Latency    `json:"vector_latency,omitempty"`
	BulkInsert    *BulkInsert `json:"bulk_insert,omitempty"`
	// Transcript is what the adapter sent and received, recorded for
	// failed specs only.
	Transcript *Transcript `json:"transcript,omitempty"`
}

// Transcript is the adapter calls of one spec, in order (harness/transcript.go
// records it). Values are redacted: long strings truncated, no DSNs.
type Transcript struct {
	Events []Event `json:"events"`
	// Dropped counts the earliest events left out to bound its size.
	Dropped int `json:"dropped,omitempty"`
}

// Event is one call through the adapter.
type Event struct {
	At       time.Time     `json:"at"`
	Duration time.Duration `json:"duration"`
	// Scope says which object was called: e1 (engine), e1.c2 (connection),
	// e1.c2.tx1 (transaction).
	Scope string `json:"scope"`
	// Op is exec, exec_many, query, acquire, release, begin, commit,
	// rollback, introspect, bench or close.
	Op   string   `json:"op"`
	SQL  string   `json:"sql,omitempty"`
	Args []string `json:"args,omitempty"`
	// ParamRows are exec_many's first parameter rows; Batch counts them all.
	ParamRows [][]string `json:"param_rows,omitempty"`
	Batch     int        `json:"batch,omitempty"`
	Affected  *int64     `json:"rows_affected,omitempty"`
	// Rows are a query's first rows as fetched (at most 5); Fetched counts
	// every row fetched.
	Rows    [][]string `json:"rows,omitempty"`
	Fetched int        `json:"fetched,omitempty"`
	Error   string     `json:"error,omitempty"`
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
	// Raw is T023's comparison with the raw driver when Baseline is not
	// the raw driver itself (an async adapter compared with its sync twin).
	Raw *RawLatency `json:"raw,omitempty"`
}

// RawLatency is the subject against the raw driver, measured in the same
// spec as its Latency (T023: absolute overhead over the raw driver).
type RawLatency struct {
	Baseline   string             `json:"baseline"`
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
	// FlakyEntry notes that a spec listed as flaky passed this run.
	FlakyEntry = "flaky"
	// VectorLatencyEntry holds a Latency (or a bare measure.Summary) of
	// the vector query.
	VectorLatencyEntry = "vector-latency"
	// TranscriptEntry holds a Transcript, attached to failed specs.
	TranscriptEntry = "transcript"
)

// SpecsFromGinkgo converts Ginkgo's spec reports. reqs and adapterOf read
// the harness's labels; notApplicable is the skip-message prefix of specs an
// adapter's capabilities rule out. When the suite's setup failed, specs that
// did not run are harness errors (see also HarnessFailures).
func SpecsFromGinkgo(specs types.SpecReports, reqs func([]string) []string, adapterOf func([]string) string, pre Prefixes) []Spec {
	if pre.HarnessError == "" {
		pre.HarnessError = HarnessErrorPrefix
	}
	setup := setupFailure(specs)
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
		case sr.State.Is(types.SpecStateFailureStates) && strings.HasPrefix(sr.Failure.Message, pre.HarnessError):
			s.Outcome = HarnessError
			s.Message = sr.Failure.Message
			if sr.Failure.Location.FileName != "" {
				s.Location = sr.Failure.Location.String()
			}
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
		case setup != nil && sr.State != types.SpecStatePending:
			s.Outcome = HarnessError
			s.Message = "did not run: the suite's " + setup.Node + " failed: " + firstLine(setup.Message)
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
			case VectorLatencyEntry:
				s.VectorLatency = vectorLatency(e)
			case BulkEntry:
				var b BulkInsert
				if entryValue(e, &b) {
					s.BulkInsert = &b
				}
			case FlakyEntry:
				var note string
				if entryValue(e, &note) && s.Outcome == Passed {
					s.Message = note
				}
			case TranscriptEntry:
				var t Transcript
				if entryValue(e, &t) {
					s.Transcript = &t
				}
			}
		}
		s.ID = s.Group + " / " + s.Text
		out = append(out, s)
	}
	return out
}

// vectorLatency reads a vector-latency entry: a Latency, or a bare Summary.
func vectorLatency(e types.ReportEntry) *Latency {
	var l Latency
	if entryValue(e, &l) && l.Comparison.Subject.N > 0 {
		return &l
	}
	var sum measure.Summary
	if entryValue(e, &sum) && sum.N > 0 {
		return &Latency{Statement: "vector query", Comparison: measure.Comparison{Subject: sum}}
	}
	return nil
}

// suiteNodes are the node types whose failure is the harness's.
const suiteNodes = types.NodeTypeBeforeSuite | types.NodeTypeSynchronizedBeforeSuite |
	types.NodeTypeAfterSuite | types.NodeTypeSynchronizedAfterSuite |
	types.NodeTypeReportBeforeSuite | types.NodeTypeReportAfterSuite | types.NodeTypeCleanupAfterSuite

// HarnessFailures returns the suite-level nodes that failed. In a parallel
// run every process reports its setup node; the processes that only learnt
// of process 1's failure are left out when process 1's own is there.
func HarnessFailures(specs types.SpecReports) []HarnessFailure {
	var out []HarnessFailure
	seen := map[string]bool{}
	for _, sr := range specs {
		if !sr.LeafNodeType.Is(suiteNodes) || !sr.State.Is(types.SpecStateFailureStates) {
			continue
		}
		msg := sr.Failure.Message
		if sr.ParallelProcess > 1 && strings.Contains(msg, "failed on Ginkgo parallel process #1") {
			continue
		}
		key := sr.LeafNodeType.String() + "\x00" + msg
		if seen[key] {
			continue
		}
		seen[key] = true
		f := HarnessFailure{Node: sr.LeafNodeType.String(), Message: msg}
		if sr.Failure.Location.FileName != "" {
			f.Location = sr.Failure.Location.String()
		}
		f.Message, f.LogTail = splitLogTail(msg)
		out = append(out, f)
	}
	return out
}

// LogTailMarker starts the container log tail appended to a harness error's
// message ("--- last log lines ---", "--- last log lines of postgres ---").
const LogTailMarker = "--- last log lines"

func splitLogTail(msg string) (string, string) {
	i := strings.Index(msg, LogTailMarker)
	if i < 0 {
		return msg, ""
	}
	return strings.TrimSpace(msg[:i]), strings.Trim(msg[i:], "\n")
}

// setupFailure is the failed BeforeSuite node, if any: then no spec ran.
func setupFailure(specs types.SpecReports) *HarnessFailure {
	for _, f := range HarnessFailures(specs) {
		if strings.Contains(f.Node, "BeforeSuite") && !strings.HasPrefix(f.Node, "Report") {
			return &f
		}
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
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
