package broken

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
)

func TestPace(t *testing.T) {
	p := pace{factor: 0.25}
	rt := 200 * time.Microsecond
	// Until the first refresh (16 round trips) it waits nothing.
	start := time.Now()
	for i := 0; i < 15; i++ {
		p.after(rt)
	}
	if p.wait != 0 {
		t.Errorf("waits %s before it has a median", p.wait)
	}
	p.after(rt)
	if p.wait != 50*time.Microsecond {
		t.Fatalf("after 16 round trips of %s it waits %s, want 25%% of it", rt, p.wait)
	}
	// The median, not the mean: one stall does not move it.
	for i := 0; i < 15; i++ {
		p.after(rt)
	}
	p.after(time.Second)
	if p.wait != 50*time.Microsecond {
		t.Errorf("a stalled round trip moved the wait to %s", p.wait)
	}
	if el := time.Since(start); el < 17*50*time.Microsecond {
		t.Errorf("17 slowed calls took %s, want at least %s", el, 17*50*time.Microsecond)
	}
	none := pace{}
	for i := 0; i < 40; i++ {
		none.after(time.Second)
	}
	if none.wait != 0 {
		t.Errorf("factor 0 waits %s", none.wait)
	}
}

func TestSpin(t *testing.T) {
	for _, d := range []time.Duration{0, 30 * time.Microsecond, time.Millisecond} {
		start := time.Now()
		spin(d)
		if el := time.Since(start); el < d || el > d+20*time.Millisecond {
			t.Errorf("spin(%s) took %s", d, el)
		}
	}
}

func TestSlowQuery(t *testing.T) {
	ctx := context.Background()
	const delay = 5 * time.Millisecond
	f := &fake{}
	a := SlowQuery(f, delay)
	e, err := a.Open(ctx, adapter.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	slow := func(what string, call func() error) {
		t.Helper()
		start := time.Now()
		call()
		if el := time.Since(start); el < delay {
			t.Errorf("%s took %s, want at least %s", what, el, delay)
		}
	}
	slow("engine Exec", func() error { _, err := e.Exec(ctx, "SELECT 1"); return err })
	slow("engine Query", func() error { _, err := e.Query(ctx, "SELECT 1"); return err })
	c, _ := e.Acquire(ctx)
	slow("conn Exec", func() error { _, err := c.Exec(ctx, "SELECT 1"); return err })
	slow("conn Query", func() error { _, err := c.Query(ctx, "SELECT 1"); return err })
	tx, _ := c.Begin(ctx)
	slow("tx Exec", func() error { _, err := tx.Exec(ctx, "SELECT 1"); return err })

	// Engine.Bench is the inner adapter's, untouched: the point.
	start := time.Now()
	d, err := e.Bench(ctx, "SELECT 1", 3)
	if err != nil || len(d) != 3 {
		t.Fatalf("Bench: %v, %d durations", err, len(d))
	}
	if el := time.Since(start); el >= delay {
		t.Errorf("Bench took %s: it must not be slowed", el)
	}
	if got := strings.Count(strings.Join(f.log, "\n"), "bench SELECT 1"); got != 3 {
		t.Errorf("inner Bench ran %d times, want 3", got)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.Query(cctx, "SELECT 1"); !errors.Is(err, context.Canceled) {
		t.Errorf("Query under a cancelled context: %v, want context.Canceled", err)
	}
}

func TestLatencyFixturesRegistered(t *testing.T) {
	for _, name := range []string{SelfTestAAName, SelfTestPlus5Name, SelfTestPlus10Name, SelfTestPlus25Name, SlowQueryName} {
		a, ok := adapter.Lookup(name)
		if !ok {
			t.Errorf("%s is not registered", name)
			continue
		}
		i := a.Info()
		if i.Name != name || !i.Fixture || i.Language != "go" || i.Baseline != "" {
			t.Errorf("%s: Info %+v: want a Go fixture compared with the raw pgx.Conn", name, i)
		}
		if !strings.Contains(i.Driver, "fixture") {
			t.Errorf("%s: driver %q does not say it is a fixture", name, i.Driver)
		}
	}
	a, _ := adapter.Lookup(SelfTestAAName)
	if _, err := a.Open(context.Background(), adapter.OpenOptions{DSN: "postgres://%zz"}); err == nil || !strings.Contains(err.Error(), SelfTestAAName) {
		t.Errorf("Open with a bad DSN: %v, want an error naming the fixture", err)
	}
}
