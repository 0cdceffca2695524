package report

import (
	"fmt"
	"strings"
	"time"
)

// Lines renders a transcript one call per line, times relative to the first
// call:
//
//	+1.2ms e1.c1.tx1 exec INSERT INTO t VALUES ($1, $2) [1, "x"] → 1 row affected (0.3ms)
func (t Transcript) Lines() []string {
	var out []string
	if t.Dropped > 0 {
		out = append(out, fmt.Sprintf("… %d earlier calls left out", t.Dropped))
	}
	var t0 time.Time
	if len(t.Events) > 0 {
		t0 = t.Events[0].At
	}
	for _, e := range t.Events {
		out = append(out, e.line(t0))
	}
	return out
}

func (e Event) line(t0 time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "+%s %s %s", ms(e.At.Sub(t0)), e.Scope, e.Op)
	if e.SQL != "" {
		b.WriteString(" " + oneLine(e.SQL))
	}
	if len(e.Args) > 0 {
		b.WriteString(" [" + strings.Join(e.Args, ", ") + "]")
	}
	if e.Batch > 0 {
		rows := make([]string, len(e.ParamRows))
		for i, r := range e.ParamRows {
			rows[i] = "[" + strings.Join(r, ", ") + "]"
		}
		fmt.Fprintf(&b, " × %d rows %s", e.Batch, strings.Join(rows, " "))
		if e.Batch > len(e.ParamRows) {
			b.WriteString(" …")
		}
	}
	switch {
	case e.InProgress:
		b.WriteString(" → STILL IN PROGRESS when the spec ended")
		return b.String()
	case e.Error != "":
		b.WriteString(" → ERROR " + oneLine(e.Error))
	case e.Affected != nil:
		fmt.Fprintf(&b, " → %d row(s) affected", *e.Affected)
	case e.Op == "query":
		rows := make([]string, len(e.Rows))
		for i, r := range e.Rows {
			rows[i] = "[" + strings.Join(r, ", ") + "]"
		}
		fmt.Fprintf(&b, " → %d row(s) fetched", e.Fetched)
		if len(rows) > 0 {
			b.WriteString(": " + strings.Join(rows, " "))
			if e.Fetched > len(rows) {
				b.WriteString(" …")
			}
		}
	default:
		b.WriteString(" → ok")
	}
	fmt.Fprintf(&b, " (%s)", ms(e.Duration))
	return b.String()
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/1e6)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
