// Package report turns a run into REPORT.md and results.json. It reads only
// the run's own data (Ginkgo's report, the target and adapter descriptions),
// never anything written by hand.
package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/measure"
)

// SchemaVersion of results.json; bump on any incompatible change.
// docs/results-schema.md describes it. 2: outcome "skipped by filter"
// (was "not run"), "harness error", transcripts, vector latency, harness
// errors, shards. 3: slim spec results (group, text, requirements and
// labels come from conformance.yaml by id), one line per spec result,
// gate verdicts, targets of a merge across targets.
const SchemaVersion = 3

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
	// Unreached: the filter selected the spec but an interrupted run never
	// reached it: not a verdict.
	Unreached Outcome = "not reached"
	// Inconclusive: the spec measured but its evidence decides neither way
	// (FR-013: the confidence interval straddles the threshold). Not a
	// pass, not a failure; it fails the run only in strict mode.
	Inconclusive Outcome = "inconclusive"
	// NoSpec is a requirement's outcome (never a spec's) when the run's tree
	// has no spec for it at all.
	NoSpec Outcome = "no spec"
)

// InconclusivePrefix starts the skip (or, in strict mode, failure) message
// of a spec whose evidence decided neither way.
const InconclusivePrefix = "inconclusive: "

// HarnessErrorPrefix starts the failure message of a spec (or suite node)
// that failed because of the harness, not the driver.
const HarnessErrorPrefix = "harness error:"

// Prefixes classifies specs by the messages the harness gives them.
// HarnessError defaults to HarnessErrorPrefix.
type Prefixes struct {
	NotApplicable, ExpectedFailure, UnexpectedPass, HarnessError string
	// Inconclusive defaults to InconclusivePrefix.
	Inconclusive string
}

// Run is everything a report shows.
type Run struct {
	SchemaVersion int       `json:"schema_version"`
	Date          time.Time `json:"date"`
	Suite         string    `json:"suite"`
	Commit        string    `json:"commit"`
	Command       string    `json:"command"`
	// Implementation is what the run certifies, as the caller of
	// conformance.Run named it (empty for the suite's own built-ins).
	Implementation Implementation    `json:"implementation,omitempty"`
	Target         Target            `json:"target"`
	Adapters       []adapter.Info    `json:"adapters"`
	Config         map[string]string `json:"config"`
	Machine        Machine           `json:"machine"`
	Duration       time.Duration     `json:"duration"`
	Specs          []Spec            `json:"specs"`
	// HarnessErrors are suite-level failures (setup, teardown, interrupts),
	// with the target's container log tail when there was one.
	HarnessErrors []HarnessFailure `json:"harness_errors,omitempty"`
	// Shards lists the runs a merged report was made from (empty for one run).
	Shards []Shard `json:"shards,omitempty"`
	// Interrupted says the run did not finish (Ctrl-C, a suite timeout, an
	// abort): specs it did not reach are not verdicts. Reason says why.
	Interrupted     bool   `json:"interrupted,omitempty"`
	InterruptReason string `json:"interrupt_reason,omitempty"`
	// Partial says the run selected a subset of the tree (label filter,
	// focus, skip): it certifies only what it ran.
	Partial string `json:"partial,omitempty"`
	// Targets lists every target of a report merged across targets
	// (Spec.Target names one by its Name); empty for one target.
	Targets []Target `json:"targets,omitempty"`
	// Gates are the adapters' verdicts on the seed's gates, derived from
	// Specs (ComputeGates) whenever results are written.
	Gates []GateVerdict `json:"gates,omitempty"`
}

// Complete reports whether the run certifies everything it was asked to:
// not interrupted, not filtered, and no harness error. Only a complete
// run may replace a committed certification report.
func (r Run) Complete() (bool, string) {
	switch {
	case r.Interrupted:
		return false, "the run was interrupted: " + r.InterruptReason
	case r.Partial != "":
		return false, "the run was partial: " + r.Partial
	case len(r.HarnessErrors) > 0 || Counts(r.Specs)[HarnessError] > 0:
		return false, fmt.Sprintf("the run had %d harness error(s): the suite or its target broke, so some specs were not judged", len(r.HarnessErrors)+Counts(r.Specs)[HarnessError])
	}
	return true, ""
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

// Implementation names a driver (or dialect, or backend) under
// certification, for the report's header (Gateway API's
// ConformanceReport.Implementation).
type Implementation struct {
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
	URL     string `json:"url,omitempty"`
	Contact string `json:"contact,omitempty"`
}

// Target is the server as reports show it (no password).
type Target struct {
	// Name is the target (reference, gateway, pglite, divergent, iris,
	// external); Implementation what its wire server is and what is behind.
	Name           string   `json:"name,omitempty"`
	Implementation string   `json:"implementation,omitempty"`
	Provider       string   `json:"provider"`
	Profile        string   `json:"profile"`
	DSN            string   `json:"dsn"`
	Path           string   `json:"path"`
	ServerVersion  string   `json:"server_version"`
	Images         []string `json:"images,omitempty"`
}

// Machine is where the run happened.
type Machine struct {
	Cores int    `json:"cores"`
	OS    string `json:"os"`
}

// Spec is one spec's result for one adapter.
//
// results.json holds only what the run observed: Group, Text,
// Requirements and Labels are conformance.yaml's, found again by ID when
// results are read (Hydrate); Location is written for failures only.
type Spec struct {
	Adapter string `json:"adapter"`
	// Target is the target's Name in a report merged across targets.
	Target       string        `json:"target,omitempty"`
	ID           string        `json:"id"` // group / text, the key of expected-failure lists
	Group        string        `json:"-"`
	Text         string        `json:"-"`
	Requirements []string      `json:"-"`
	Labels       []string      `json:"-"`
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
	// Wire is the protocol messages between the adapter and the target, as
	// the wire tap saw them, for failed specs only.
	Wire []string `json:"wire,omitempty"`
	// ConnectionSetup is what the driver did on connect (T016's spec).
	ConnectionSetup *ConnectionSetup `json:"connection_setup,omitempty"`
	// FailureModes are what the spec's misuse or fault probes observed.
	FailureModes []FailureMode `json:"failure_modes,omitempty"`
	// Clients are where a failed spec's connections came from, as the
	// target saw them (used to attribute the failure; not written out).
	Clients []string `json:"-"`
	// Divergences are the divergent target's injected behaviours this
	// spec's connections met (the divergent target only).
	Divergences []string `json:"divergences,omitempty"`
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
	// InProgress: the call had not returned when the transcript was taken
	// (the spec timed out or failed while it ran).
	InProgress bool `json:"in_progress,omitempty"`
}

// Latency is the FR-013 measurement a latency spec records (docs/fr-013.md).
type Latency struct {
	Statement string  `json:"statement"`
	Baseline  string  `json:"baseline"`
	Path      string  `json:"path"`
	Threshold float64 `json:"threshold"`
	// Rounds is how many rounds the comparison ran: from MinRounds (the
	// first look) to MaxRounds (the budget), stopping as soon as the
	// interval cleared the threshold.
	Rounds     int                `json:"rounds"`
	MinRounds  int                `json:"min_rounds,omitempty"`
	MaxRounds  int                `json:"max_rounds,omitempty"`
	ServerCPUs string             `json:"server_cpus,omitempty"`
	ClientCPUs string             `json:"client_cpus,omitempty"`
	Comparison measure.Comparison `json:"comparison"`
	// Verdict is FR-013's three-way outcome from the ratio's interval:
	// pass, fail or inconclusive (measure.Verdict).
	Verdict string `json:"verdict,omitempty"`
	// Timing says what one timed iteration is and who timed it.
	Timing string `json:"timing,omitempty"`
	// Raw is T023's comparison with the raw driver when Baseline is not
	// the raw driver itself (an async adapter compared with its sync twin).
	Raw *RawLatency `json:"raw,omitempty"`
	// CrossCheck is an in-process adapter's own Engine.Bench against the
	// raw driver's bench loop: shown next to the verdict, never its source.
	CrossCheck *RawLatency `json:"cross_check,omitempty"`
	// Baselines are T001's figures: each baseline of the adapter's FR-013
	// comparisons timed on the comparison's path (a T001 spec records
	// only these).
	Baselines []BaselineFigures `json:"baselines,omitempty"`
}

// RawLatency is the subject against the raw driver, measured in the same
// spec as its Latency (T023: absolute overhead over the raw driver).
type RawLatency struct {
	Baseline   string             `json:"baseline"`
	Comparison measure.Comparison `json:"comparison"`
}

// BaselineFigures is one baseline timed on one statement (T001), with the
// subject timed the same way for scale.
type BaselineFigures struct {
	Baseline  string          `json:"baseline"`
	Statement string          `json:"statement"`
	Timing    string          `json:"timing"`
	Summary   measure.Summary `json:"summary"`
	Subject   measure.Summary `json:"subject"`
}

// IRISPGWireRoundTrip is the round trip of a query through iris-pgwire,
// the server this suite certifies for (its project's published figure: a
// simple query through PGWire 3.82 ms on average, IRIS direct 0.21 ms). FR-013's ratios are measured against a local PostgreSQL
// answering in ~40–100 µs, which magnifies a driver's fixed overhead
// 40–100 times over what a user behind iris-pgwire sees.
const IRISPGWireRoundTrip = 4 * time.Millisecond

// HasVerdict reports whether l is an FR-013 comparison (not T001 figures).
func (l Latency) HasVerdict() bool { return l.Comparison.Blocks > 0 }

// BehindPGWire is the overhead and its interval as fractions of
// iris-pgwire's round trip: what the same per-query cost would add there.
func (l Latency) BehindPGWire() (frac, lo, hi float64) {
	c, rt := l.Comparison, float64(IRISPGWireRoundTrip)
	return float64(c.Overhead) / rt, float64(c.OverheadLow) / rt, float64(c.OverheadHigh) / rt
}

// Describe is the verdict's evidence in one line, for messages and logs.
func (l Latency) Describe(subject string) string {
	c := l.Comparison
	f, flo, fhi := l.BehindPGWire()
	return fmt.Sprintf("%s / %s = %.3f [%.3f, %.3f] (%.0f%% interval over %d rounds, widened ×%.2f; threshold %.2f); overhead %s [%s, %s] per query over a %s baseline round trip (%s); behind iris-pgwire (~%.0f ms round trip) that overhead would be %+.2f%% [%+.2f%%, %+.2f%%], not the %+.0f%% measured against this local server",
		subject, l.Baseline, c.Ratio, c.RatioLow, c.RatioHigh, 100*c.Confidence, c.Blocks, c.Widen, l.Threshold,
		usSigned(c.Overhead), usSigned(c.OverheadLow), usSigned(c.OverheadHigh), us(c.BaselineRoundTrip()), c.Statistic,
		float64(IRISPGWireRoundTrip)/1e6, 100*f, 100*flo, 100*fhi, 100*(c.Ratio-1)) + c.DescribeDiscarded()
}

func usSigned(d time.Duration) string { return fmt.Sprintf("%+.1f µs", float64(d)/1e3) }

// BulkInsert is the FR-007 measurement.
type BulkInsert struct {
	Rows          int     `json:"rows"`
	Seconds       float64 `json:"seconds"`
	RowsPerSecond float64 `json:"rows_per_second"`
	// RoundTrips is how often the driver waited for the server during the
	// insert, as the wire tap counted them; Method is how it batched, as
	// the wire shows (pipelined, multi-row statement, COPY, or a loop).
	RoundTrips int    `json:"round_trips,omitempty"`
	Method     string `json:"method,omitempty"`
}

// Report-entry names specs record measurements under.
const (
	LatencyEntry = "latency"
	BulkEntry    = "bulk-insert"
	// VectorLatencyEntry holds a Latency (or a bare measure.Summary) of
	// the vector query.
	VectorLatencyEntry = "vector-latency"
	// TranscriptEntry holds a Transcript, attached to failed specs.
	TranscriptEntry = "transcript"
	// HarnessEntry holds the cause (a string) the harness found, by its own
	// probes, for a failed spec that is not the driver's fault: the target
	// or a backend stopped answering, or the observer could not do its job.
	HarnessEntry = "harness-error"
	// WireEntry holds the wire transcript (string lines) of a failed spec:
	// the protocol messages between the adapter and the target.
	WireEntry = "wire-transcript"
	// ClientsEntry holds the client addresses ([]string) a failed spec's
	// connections came from, as the target saw them.
	ClientsEntry = "clients"
	// ConnectionSetupEntry holds a ConnectionSetup (T016).
	ConnectionSetupEntry = "connection-setup"
	// FailureModeEntry holds a FailureMode (T002): what a misuse or fault
	// probe made the driver raise.
	FailureModeEntry = "failure-mode"
)

// FailureMode is one observation behind the report's "async failure
// modes" section (T002): the exact error a probe produced, its class, and
// whether the message names the fix.
type FailureMode struct {
	// Probe: "sync use of an async engine", "missing async dependency",
	// "use after close", "cancellation", "pool exhaustion", "connection lost".
	Probe string `json:"probe"`
	// Class is the error's type (Go: the innermost error type; a backend:
	// the driver's exception class).
	Class   string `json:"class"`
	Message string `json:"message"`
	// Elapsed is how long the call took to fail.
	Elapsed time.Duration `json:"elapsed,omitempty"`
	// NamesFix says whether the message tells the user what to do (or what
	// went wrong in terms they can act on), as the probe's spec judged.
	NamesFix bool `json:"names_fix"`
}

// ConnectionSetup is what a driver did to set up a connection, as the wire
// tap saw it (T016): the startup parameters it sent, the session the server
// then reported, and every statement it ran before the spec's first.
type ConnectionSetup struct {
	Startup   map[string]string `json:"startup"`
	Server    map[string]string `json:"server"`
	OnConnect []string          `json:"on_connect"`
	// Auth is the authentication method used; TLS whether it was on.
	Auth string `json:"auth,omitempty"`
	TLS  bool   `json:"tls,omitempty"`
}

// SpecsFromGinkgo converts Ginkgo's spec reports. reqs and adapterOf read
// the harness's labels; notApplicable is the skip-message prefix of specs an
// adapter's capabilities rule out. When the suite's setup failed, specs that
// did not run are harness errors (see also HarnessFailures).
func SpecsFromGinkgo(specs types.SpecReports, reqs func([]string) []string, adapterOf func([]string) string, pre Prefixes) []Spec {
	if pre.HarnessError == "" {
		pre.HarnessError = HarnessErrorPrefix
	}
	if pre.Inconclusive == "" {
		pre.Inconclusive = InconclusivePrefix
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
			Location:     Location(sr.LeafNodeLocation),
			Duration:     sr.RunTime,
		}
		switch {
		case sr.State == types.SpecStatePassed:
			s.Outcome = Passed
		case (sr.State == types.SpecStateSkipped || sr.State.Is(types.SpecStateFailureStates)) && strings.HasPrefix(sr.Failure.Message, pre.Inconclusive):
			s.Outcome = Inconclusive
			s.Message = strings.TrimPrefix(sr.Failure.Message, pre.Inconclusive)
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
				s.Location = Location(sr.Failure.Location)
			}
		case sr.State.Is(types.SpecStateFailureStates):
			s.Outcome = Failed
			s.Message = sr.Failure.Message
			if sr.Failure.Location.FileName != "" {
				s.Location = Location(sr.Failure.Location)
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
			case TranscriptEntry:
				var t Transcript
				if entryValue(e, &t) {
					s.Transcript = &t
				}
			case WireEntry:
				var lines []string
				if entryValue(e, &lines) {
					s.Wire = lines
				}
			case ClientsEntry:
				var addrs []string
				if entryValue(e, &addrs) {
					s.Clients = append(s.Clients, addrs...)
				}
			case FailureModeEntry:
				var fm FailureMode
				if entryValue(e, &fm) {
					s.FailureModes = append(s.FailureModes, fm)
				}
			case ConnectionSetupEntry:
				var cs ConnectionSetup
				if entryValue(e, &cs) {
					s.ConnectionSetup = &cs
				}
			case HarnessEntry:
				var cause string
				if entryValue(e, &cause) && s.Outcome == Failed {
					s.Outcome = HarnessError
					s.Message = HarnessErrorPrefix + " " + cause + " (the spec's own failure: " + firstLine(s.Message) + ")"
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
			f.Location = Location(sr.Failure.Location)
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

// GroupOf is the spec group without the per-adapter "[name]" container:
// the first half of a spec ID.
func GroupOf(texts []string) string { return group(texts) }

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
