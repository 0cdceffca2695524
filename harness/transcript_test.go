package harness

import (
	"strings"
	"testing"
	"time"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
)

func TestTranscriptValue(t *testing.T) {
	long := strings.Repeat("é", 250)
	for _, tt := range []struct {
		in   any
		want string
	}{
		{nil, "NULL"},
		{"it's", `"it's"`},
		{int64(42), "42"},
		{[]byte{0, 0xff}, `'\x00ff'`},
		{time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC), "2025-01-02T03:04:05.000006Z"},
		{[]float32{1, 2.5}, "[1 2.5]"},
	} {
		if got := value(tt.in); got != tt.want {
			t.Errorf("value(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
	got := value(long)
	if !strings.HasSuffix(got, `…(250 chars)"`) || len([]rune(got)) != 200+len([]rune(`…(250 chars)`))+2 {
		t.Errorf("a 250-character string is not cut to 200: %q", got)
	}
	if got := value(make([]byte, 300)); !strings.HasSuffix(got, "…' (300 bytes)") {
		t.Errorf("300 bytes: %q", got)
	}
}

func TestTranscriptBounded(t *testing.T) {
	tr := &transcript{}
	for i := 0; i < transcriptMaxEvents+10; i++ {
		tr.finish(tr.start("e1", "exec", "SELECT 1"), nil, nil)
	}
	s := tr.snapshot()
	if len(s.Events) != transcriptMaxEvents || s.Dropped != 10 {
		t.Errorf("%d events, %d dropped; want %d, 10", len(s.Events), s.Dropped, transcriptMaxEvents)
	}
	r := &tRows{t: tr, ev: tr.start("e1", "query", "SELECT")}
	for i := 0; i < 1000; i++ {
		r.saw([][]any{{i}}, nil)
	}
	if r.ev.Fetched != 1000 || len(r.ev.Rows) != transcriptMaxRows {
		t.Errorf("fetched %d, kept %d rows; want 1000, %d", r.ev.Fetched, len(r.ev.Rows), transcriptMaxRows)
	}
	if !strings.Contains(s.String(), "… 10 earlier calls left out") && !strings.Contains(s.String(), "earlier lines in results.json") {
		t.Errorf("String() does not say lines were left out: %q", s.String()[:100])
	}
}

type bareEngine struct{ adapter.Engine }

func TestUnderlying(t *testing.T) {
	own := &bareEngine{}
	if got := Underlying(own); got != adapter.Engine(own) {
		t.Errorf("an unwrapped engine: got %v", got)
	}
	wrapped := &tEngine{e: own}
	if got := Underlying(wrapped); got != adapter.Engine(own) {
		t.Errorf("a transcribed engine: got %v, want the adapter's own", got)
	}
}
