package harness

import (
	"context"
	"strings"
	"testing"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
)

type fakeAdapter struct{ info adapter.Info }

func (f fakeAdapter) Info() adapter.Info { return f.info }
func (f fakeAdapter) Open(context.Context, adapter.OpenOptions) (adapter.Engine, error) {
	return nil, adapter.ErrNotSupported
}

func TestBaselines(t *testing.T) {
	for name, base := range map[string]string{
		"lt:raw": "lt:raw", "lt:sync": "lt:raw", "lt:async": "lt:sync", "lt:go": "",
		"lt:lost": "lt:nowhere", "lt:c1": "lt:c2", "lt:c2": "lt:c1",
	} {
		adapter.Register(fakeAdapter{adapter.Info{Name: name, Baseline: base}})
	}
	info := func(n string) adapter.Info { a, _ := adapter.Lookup(n); return a.Info() }
	for _, c := range []struct{ name, base, raw string }{
		{"lt:go", BaselineName, BaselineName},
		{"lt:sync", "lt:raw", "lt:raw"},
		{"lt:async", "lt:sync", "lt:raw"},
	} {
		b, side, err := BaselineOf(info(c.name))
		if err != nil || b != c.base || side == nil {
			t.Errorf("BaselineOf(%s) = %q, %v; want %q", c.name, b, err, c.base)
		}
		r, side, err := RawBaselineOf(info(c.name))
		if err != nil || r != c.raw || side == nil {
			t.Errorf("RawBaselineOf(%s) = %q, %v; want %q", c.name, r, err, c.raw)
		}
	}
	if _, _, err := BaselineOf(info("lt:lost")); err == nil || !strings.Contains(err.Error(), "not registered") {
		t.Errorf("BaselineOf(lt:lost): %v, want not registered", err)
	}
	if _, _, err := RawBaselineOf(info("lt:lost")); err == nil || !strings.Contains(err.Error(), "not registered") {
		t.Errorf("RawBaselineOf(lt:lost): %v, want not registered", err)
	}
	if _, _, err := RawBaselineOf(info("lt:c1")); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("RawBaselineOf(lt:c1): %v, want a cycle", err)
	}
	if !info("lt:raw").IsOwnBaseline() || info("lt:sync").IsOwnBaseline() || info("lt:go").IsOwnBaseline() {
		t.Error("IsOwnBaseline wrong")
	}
}
