package report

import (
	"encoding/xml"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

type svgElement struct {
	name  string
	attrs map[string]string
	text  string
}

// parseSVG decodes every element of an SVG, failing on malformed XML.
func parseSVG(t *testing.T, s string) []svgElement {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(s))
	var out []svgElement
	var open []int
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("latency.svg is not well-formed XML: %v", err)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			e := svgElement{name: x.Name.Local, attrs: map[string]string{}}
			for _, a := range x.Attr {
				e.attrs[a.Name.Local] = a.Value
			}
			out = append(out, e)
			open = append(open, len(out)-1)
		case xml.EndElement:
			open = open[:len(open)-1]
		case xml.CharData:
			if len(open) > 0 {
				out[open[len(open)-1]].text += string(x)
			}
		}
	}
	if len(open) != 0 {
		t.Fatal("unclosed elements")
	}
	return out
}

func num(t *testing.T, e svgElement, attr string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(e.attrs[attr], 64)
	if err != nil {
		t.Fatalf("%s %s=%q: %v", e.name, attr, e.attrs[attr], err)
	}
	return f
}

// TestWriteLatencySVG: the chart is well-formed SVG with an axis, tick
// labels, a legend and, per adapter, three bars whose lengths follow
// p50 ≤ p95 ≤ p99 and never overlap another bar.
func TestWriteLatencySVG(t *testing.T) {
	r := fullCertification()
	r.Specs[0].Adapter = "a<b & \"c\"" // labels are escaped
	var b strings.Builder
	ok, err := WriteLatencySVG(&b, r)
	if err != nil || !ok {
		t.Fatalf("WriteLatencySVG: %v, %v", ok, err)
	}
	els := parseSVG(t, b.String())
	if els[0].name != "svg" || els[0].attrs["viewBox"] == "" || els[0].attrs["width"] == "" {
		t.Fatalf("root element %+v", els[0])
	}
	width := num(t, els[0], "width")
	var texts []string
	type bar struct{ x, y, w, h float64 }
	var bars []bar
	fills := map[string]int{}
	for _, e := range els[1:] {
		switch e.name {
		case "text":
			texts = append(texts, e.text)
		case "rect":
			if e.attrs["fill"] == "#ffffff" || e.attrs["width"] == "12" {
				continue // background, legend swatches
			}
			bars = append(bars, bar{num(t, e, "x"), num(t, e, "y"), num(t, e, "width"), num(t, e, "height")})
			fills[e.attrs["fill"]]++
		}
	}
	all := strings.Join(texts, "\n")
	// SELECT 1's tail spans 113 µs to 9967 µs: a logarithmic axis over whole
	// decades; the vector query's 196–245 µs a linear one from 0.
	for _, w := range []string{"p50", "p95", "p99", "latency (µs, logarithmic scale)", "latency (µs)", "100", "1000", "10000", "250", "pgx", "rust:tokio-postgres", "SELECT 1 (FR-013), per adapter", "Vector query (top-5 cosine over 200 × 128), per adapter", "0"} {
		if !strings.Contains(all, w) {
			t.Errorf("the chart has no text %q", w)
		}
	}
	if len(bars) != 2*15*3 || len(fills) != 3 {
		t.Errorf("%d bars in %d colours, want 90 (15 adapters × 3 percentiles × 2 statements) in 3", len(bars), len(fills))
	}
	for i := 0; i+2 < len(bars); i += 3 {
		p50, p95, p99 := bars[i], bars[i+1], bars[i+2]
		if !(p50.w <= p95.w && p95.w <= p99.w) {
			t.Errorf("bars %d: widths %v %v %v do not follow p50 ≤ p95 ≤ p99", i/3, p50.w, p95.w, p99.w)
		}
		if p99.x+p99.w > width {
			t.Errorf("bar %d runs off the chart", i/3)
		}
	}
	for i := 1; i < len(bars); i++ {
		if bars[i].y < bars[i-1].y+bars[i-1].h {
			t.Errorf("bar %d overlaps the one before", i)
		}
	}

	var none strings.Builder
	if ok, err := WriteLatencySVG(&none, fixture2()); ok || err != nil || none.Len() > 0 {
		t.Errorf("a run without latency: %v, %v, %d bytes", ok, err, none.Len())
	}
}

// fixture2 is the fixture without any measurement.
func fixture2() Run {
	r := fixture()
	for i := range r.Specs {
		r.Specs[i].Latency, r.Specs[i].BulkInsert, r.Specs[i].VectorLatency = nil, nil, nil
	}
	return r
}

func TestNiceScale(t *testing.T) {
	a := scaleFor([]latencyRow{{P50: 113 * time.Microsecond, P95: 2865 * time.Microsecond, P99: 9967 * time.Microsecond}})
	if !a.log || a.lo != 100 || a.hi != 10000 || a.pos(1000) != 0.5 {
		t.Errorf("log axis %+v, pos(1000) = %v", a, a.pos(1000))
	}
	for _, tt := range []struct{ max, step, top float64 }{
		{9967, 2000, 10000}, {245, 50, 250}, {113, 50, 150}, {1, 0.2, 1}, {0, 1, 1},
	} {
		step, top := niceScale(tt.max)
		if step != tt.step || top != tt.top {
			t.Errorf("niceScale(%v) = %v, %v; want %v, %v", tt.max, step, top, tt.step, tt.top)
		}
	}
}
