package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/pgwire-conformance/pgwire-conformance/catalogue"
)

// JUnit XML as CI systems read it (Jenkins, GitLab, GitHub test
// reporters): a testsuite per adapter (per adapter and target in a merge
// across targets), a testcase per spec with classname = the spec group,
// the spec's requirement and task IDs, outcome and file:line as
// properties. A failure or an unexpected pass is a <failure>, a harness
// error an <error>; every outcome without a verdict is <skipped> with a
// message that starts with the outcome ("not applicable: …", "expected
// failure: …", "inconclusive: …", "not reached: …") and the property
// "outcome" says which.

type junitSuites struct {
	XMLName   xml.Name     `xml:"testsuites"`
	Name      string       `xml:"name,attr"`
	Tests     int          `xml:"tests,attr"`
	Failures  int          `xml:"failures,attr"`
	Errors    int          `xml:"errors,attr"`
	Skipped   int          `xml:"skipped,attr"`
	Time      string       `xml:"time,attr"`
	Timestamp string       `xml:"timestamp,attr,omitempty"`
	Suites    []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name       string          `xml:"name,attr"`
	Classname  string          `xml:"classname,attr"`
	Time       string          `xml:"time,attr"`
	File       string          `xml:"file,attr,omitempty"`
	Line       int             `xml:"line,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Failure    *junitResult    `xml:"failure,omitempty"`
	Error      *junitResult    `xml:"error,omitempty"`
	Skipped    *junitSkipped   `xml:"skipped,omitempty"`
}

type junitResult struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// WriteJUnit renders the run as junit.xml.
func WriteJUnit(w io.Writer, r Run) error {
	doc := junitSuites{Name: r.Suite, Time: seconds(r.Duration)}
	if !r.Date.IsZero() {
		doc.Timestamp = r.Date.UTC().Format(time.RFC3339)
	}
	gates := map[Ref][]GateVerdict{}
	for _, g := range ComputeGates(r) {
		ref := Ref{g.Adapter, g.Target}
		gates[ref] = append(gates[ref], g)
	}
	info := map[string]int{}
	for i, a := range r.Adapters {
		info[a.Name] = i
	}
	refs := r.subjects()
	for _, t := range r.targetNames() {
		refs = append(refs, Ref{ServerAdapter, t})
	}
	for _, ref := range refs {
		specs := r.specsOf(ref)
		if len(specs) == 0 && ref.Adapter == ServerAdapter {
			continue
		}
		s := junitSuite{Name: ref.String(), Timestamp: doc.Timestamp}
		target := r.Target
		if ref.Target != "" {
			target = r.onTarget(ref.Target).Target
		}
		s.Properties = append(s.Properties, junitProperty{"target", target.TargetName()}, junitProperty{"server_version", target.ServerVersion})
		if i, ok := info[ref.Adapter]; ok {
			a := r.Adapters[i]
			caps := make([]string, len(a.Capabilities))
			for i, c := range a.Capabilities {
				caps[i] = string(c)
			}
			s.Properties = append(s.Properties,
				junitProperty{"driver", a.Driver}, junitProperty{"driver_version", a.DriverVersion},
				junitProperty{"language", a.Language}, junitProperty{"async", strconv.FormatBool(a.Async)},
				junitProperty{"capabilities", strings.Join(caps, ",")})
		}
		for _, g := range gates[ref] {
			s.Properties = append(s.Properties, junitProperty{"gate:" + g.Gate, string(g.Verdict) + ": " + g.Reason})
		}
		var total time.Duration
		for _, sp := range specs {
			c := junitCaseOf(sp)
			total += sp.Duration
			s.Tests++
			switch {
			case c.Failure != nil:
				s.Failures++
			case c.Error != nil:
				s.Errors++
			case c.Skipped != nil:
				s.Skipped++
			}
			s.Cases = append(s.Cases, c)
		}
		s.Time = seconds(total)
		doc.add(s)
	}
	if len(r.HarnessErrors) > 0 {
		s := junitSuite{Name: "harness", Timestamp: doc.Timestamp}
		for _, h := range r.HarnessErrors {
			body := h.Message
			if h.LogTail != "" {
				body += "\n\n" + h.LogTail
			}
			file, line := splitLocation(h.Location)
			s.Cases = append(s.Cases, junitCase{Name: h.Node, Classname: "harness", Time: "0", File: file, Line: line,
				Properties: []junitProperty{{"outcome", string(HarnessError)}},
				Error:      &junitResult{Message: firstLine(h.Message), Type: string(HarnessError), Body: body}})
			s.Tests++
			s.Errors++
		}
		s.Time = "0"
		doc.add(s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encode junit.xml: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func (d *junitSuites) add(s junitSuite) {
	d.Tests += s.Tests
	d.Failures += s.Failures
	d.Errors += s.Errors
	d.Skipped += s.Skipped
	d.Suites = append(d.Suites, s)
}

func junitCaseOf(s Spec) junitCase {
	file, line := splitLocation(s.Location)
	c := junitCase{Name: s.Text, Classname: s.Group, Time: seconds(s.Duration), File: file, Line: line}
	c.Properties = append(c.Properties, junitProperty{"id", s.ID}, junitProperty{"outcome", string(s.Outcome)})
	for _, id := range s.Requirements {
		name := "requirement"
		if e, ok := catalogue.Lookup(id); ok && e.Kind == catalogue.Task {
			name = "task"
		}
		c.Properties = append(c.Properties, junitProperty{name, id})
	}
	if s.Location != "" {
		c.Properties = append(c.Properties, junitProperty{"location", s.Location})
	}
	switch s.Outcome {
	case Passed:
	case Failed, UnexpectedPass:
		c.Failure = &junitResult{Message: firstLine(s.Message), Type: string(s.Outcome), Body: failureBody(s)}
	case HarnessError:
		c.Error = &junitResult{Message: firstLine(s.Message), Type: string(s.Outcome), Body: failureBody(s)}
	default:
		msg := string(s.Outcome)
		if s.Message != "" && s.Message != msg && !strings.HasPrefix(s.Message, msg+":") {
			msg += ": " + s.Message
		} else if s.Message != "" {
			msg = s.Message
		}
		c.Skipped = &junitSkipped{Message: msg}
	}
	return c
}

// failureBody is a failure's message with what the adapter sent and
// received and the wire messages, in full.
func failureBody(s Spec) string {
	var b strings.Builder
	b.WriteString(s.Message)
	if s.Transcript != nil && len(s.Transcript.Events) > 0 {
		b.WriteString("\n\nWhat the adapter sent and received:\n")
		b.WriteString(strings.Join(s.Transcript.Lines(), "\n"))
	}
	if len(s.Wire) > 0 {
		b.WriteString("\n\nWire messages (adapter ⇄ target):\n")
		b.WriteString(strings.Join(s.Wire, "\n"))
	}
	return b.String()
}

// splitLocation splits "path/file.go:42".
func splitLocation(loc string) (string, int) {
	i := strings.LastIndex(loc, ":")
	if i < 0 {
		return loc, 0
	}
	n, err := strconv.Atoi(loc[i+1:])
	if err != nil {
		return loc, 0
	}
	return loc[:i], n
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }
