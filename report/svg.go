package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// LatencySVG is the chart's file name, next to REPORT.md.
const LatencySVG = "latency.svg"

// latencyPanel is one statement's latency percentiles per adapter.
type latencyPanel struct {
	Title string
	Rows  []latencyRow
}

type latencyRow struct {
	Label         string
	P50, P95, P99 time.Duration
}

// latencyPanels gathers the chart's data: SELECT 1 as FR-013 timed it, and
// the vector query, per adapter (per adapter and target in a merge).
func latencyPanels(r Run) []latencyPanel {
	sel := latencyPanel{Title: "SELECT 1 (FR-013), per adapter"}
	vec := latencyPanel{Title: "Vector top-k query, per adapter"}
	for _, s := range r.Specs {
		label := Ref{s.Adapter, s.Target}.String()
		if l := s.Latency; l != nil && l.HasVerdict() && l.Comparison.Subject.N > 0 {
			c := l.Comparison.Subject
			sel.Rows = append(sel.Rows, latencyRow{label, c.P50, c.P95, c.P99})
		}
		if l := s.VectorLatency; l != nil && l.Comparison.Subject.N > 0 {
			c := l.Comparison.Subject
			if l.Statement != "" {
				vec.Title = "Vector query (" + l.Statement + "), per adapter"
			}
			vec.Rows = append(vec.Rows, latencyRow{label, c.P50, c.P95, c.P99})
		}
	}
	var out []latencyPanel
	for _, p := range []latencyPanel{sel, vec} {
		if len(p.Rows) > 0 {
			out = append(out, p)
		}
	}
	return out
}

// Chart geometry, in SVG user units (pixels).
const (
	svgWidth     = 880
	svgBar       = 7   // height of one percentile's bar
	svgBarGap    = 1   // between an adapter's bars
	svgRowGap    = 12  // between adapters
	svgPanelHead = 46  // panel title and legend
	svgAxis      = 40  // tick labels and axis title below the bars
	svgRight     = 125 // room for the values printed after the longest bar
)

var percentileColors = [3]struct{ name, color string }{
	{"p50", "#4c78a8"},
	{"p95", "#f58518"},
	{"p99", "#b22222"},
}

// WriteLatencySVG draws p50/p95/p99 latency per adapter as horizontal bars,
// one panel per statement, each with its own µs axis (logarithmic when the
// percentiles span more than logSpread, as tails on a busy machine do),
// tick labels and a legend. It reports false (and writes nothing) when the run measured no
// latency.
func WriteLatencySVG(w io.Writer, r Run) (bool, error) {
	panels := latencyPanels(r)
	if len(panels) == 0 {
		return false, nil
	}
	labelWidth := 0
	for _, p := range panels {
		for _, row := range p.Rows {
			labelWidth = max(labelWidth, textWidth(row.Label))
		}
	}
	left := min(max(labelWidth+16, 80), 300)
	plot := svgWidth - left - svgRight
	rowHeight := 3*svgBar + 2*svgBarGap + svgRowGap
	height := 10
	for _, p := range panels {
		height += svgPanelHead + len(p.Rows)*rowHeight + svgAxis
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", svgWidth, height, svgWidth, height)
	fmt.Fprintf(&b, `<title>Latency percentiles per adapter (µs)</title>`+"\n")
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>`+"\n", svgWidth, height)
	y := 10
	for _, p := range panels {
		ax := scaleFor(p.Rows)
		x := func(v float64) int { return left + int(math.Round(ax.pos(v)*float64(plot))) }
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="13" font-weight="bold">%s</text>`+"\n", 10, y+16, esc(p.Title))
		// Legend, top right of the panel.
		lx := svgWidth - 3*60 - 10
		for i, pc := range percentileColors {
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n", lx+i*60, y+6, pc.color, lx+i*60+16, y+16, pc.name)
		}
		top0 := y + svgPanelHead
		bottom := top0 + len(p.Rows)*rowHeight
		// Grid lines and ticks.
		for _, v := range ax.ticks {
			fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#dddddd"/>`+"\n", x(v), top0-4, x(v), bottom)
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", x(v), bottom+14, formatTick(v))
		}
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333333"/>`+"\n", left, bottom, left+plot, bottom)
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333333"/>`+"\n", left, top0-4, left, bottom)
		title := "latency (µs)"
		if ax.log {
			title = "latency (µs, logarithmic scale)"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", left+plot/2, bottom+30, title)
		for i, row := range p.Rows {
			ry := top0 + i*rowHeight
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", left-8, ry+rowHeight/2, esc(row.Label))
			for j, v := range []time.Duration{row.P50, row.P95, row.P99} {
				by := ry + j*(svgBar+svgBarGap)
				fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s %s: %.0f µs</title></rect>`+"\n",
					left, by, x(micros(v))-left, svgBar, percentileColors[j].color, esc(row.Label), percentileColors[j].name, micros(v))
			}
			fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="9" fill="#555555">%.0f / %.0f / %.0f µs</text>`+"\n",
				x(micros(row.P99))+4, ry+2*(svgBar+svgBarGap)+svgBar, micros(row.P50), micros(row.P95), micros(row.P99))
		}
		y = bottom + svgAxis
	}
	b.WriteString("</svg>\n")
	_, err := w.Write(b.Bytes())
	return true, err
}

func micros(d time.Duration) float64 { return float64(d) / 1e3 }

// axis maps latencies (µs) to [0, 1] of the plot's width.
type axis struct {
	log    bool
	lo, hi float64
	ticks  []float64
}

func (a axis) pos(v float64) float64 {
	if a.log {
		if v <= a.lo {
			return 0
		}
		return math.Log10(v/a.lo) / math.Log10(a.hi/a.lo)
	}
	return v / a.hi
}

// logSpread is the ratio of the largest p99 to the smallest p50 above which
// a linear axis would shrink the p50 bars to nothing: then the axis is
// logarithmic.
const logSpread = 20

// scaleFor picks the panel's axis: linear from 0 with 1-2-5 ticks, or
// logarithmic over whole decades when the percentiles span more than
// logSpread.
func scaleFor(rows []latencyRow) axis {
	lo, hi := math.Inf(1), 0.0
	for _, r := range rows {
		for _, v := range []time.Duration{r.P50, r.P95, r.P99} {
			if m := micros(v); m > 0 {
				lo, hi = math.Min(lo, m), math.Max(hi, m)
			}
		}
	}
	if hi == 0 || hi/lo <= logSpread {
		step, top := niceScale(hi)
		a := axis{hi: top}
		for v := 0.0; v <= top+step/2; v += step {
			a.ticks = append(a.ticks, v)
		}
		return a
	}
	a := axis{log: true, lo: math.Pow(10, math.Floor(math.Log10(lo))), hi: math.Pow(10, math.Ceil(math.Log10(hi)))}
	for d := a.lo; d <= a.hi*1.001; d *= 10 {
		for _, m := range []float64{1, 2, 5} {
			if v := d * m; v <= a.hi*1.001 {
				a.ticks = append(a.ticks, v)
			}
		}
	}
	return a
}

// niceScale picks a tick step of 1, 2 or 5 × 10^k giving 4–10 ticks, and the
// axis end: the first tick at or above maxV.
func niceScale(maxV float64) (step, top float64) {
	if maxV <= 0 {
		return 1, 1
	}
	raw := maxV / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		step = m * mag
		if step >= raw {
			break
		}
	}
	top = math.Ceil(maxV/step) * step
	return step, top
}

func formatTick(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}

// textWidth estimates a label's width at font size 11.
func textWidth(s string) int { return len([]rune(s)) * 6 }

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
