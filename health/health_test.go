package health

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestMonitorRecordsOutagesAndStalls(t *testing.T) {
	var state atomic.Int32 // 0 up, 1 down, 2 stalled
	probe := Probe{Name: "target", Ping: func(ctx context.Context) error {
		switch state.Load() {
		case 1:
			return errors.New("connection refused")
		case 2:
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}}
	m := Start([]Probe{probe}, 5*time.Millisecond, 20*time.Millisecond)
	waitFor := func(cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("condition not reached; outages %+v", m.Outages())
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	time.Sleep(20 * time.Millisecond)
	if len(m.Outages()) != 0 {
		t.Fatalf("outages while up: %+v", m.Outages())
	}
	state.Store(1)
	waitFor(func() bool { return len(m.Outages()) == 1 })
	state.Store(0)
	waitFor(func() bool { return !m.Outages()[0].Ongoing() })
	state.Store(2)
	waitFor(func() bool { return len(m.Outages()) == 2 })
	out := m.Stop()
	if out[0].Cause != "connection refused" || !out[1].Ongoing() {
		t.Errorf("outages %+v", out)
	}
	if d := out[1].Describe(); d == "" || out[0].Describe() == "" {
		t.Error("empty description")
	}
}

func TestOverlapping(t *testing.T) {
	base := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	outs := []Outage{
		{What: "target", From: base.Add(10 * time.Second), To: base.Add(20 * time.Second)},
		{What: "backend python", From: base.Add(60 * time.Second)},
	}
	at := func(s int) time.Time { return base.Add(time.Duration(s) * time.Second) }
	for _, c := range []struct {
		start, end int
		want       string
	}{
		{0, 5, ""},
		{0, 10, "target"},
		{15, 16, "target"},
		{21, 30, ""},
		{50, 70, "backend python"},
		{100, 110, "backend python"}, // ongoing: every later spec overlaps
	} {
		o, ok := Overlapping(outs, at(c.start), at(c.end), 500*time.Millisecond)
		if got := map[bool]string{true: o.What}[ok]; got != c.want {
			t.Errorf("[%d,%d]: got %q, want %q", c.start, c.end, got, c.want)
		}
	}
}

// A pause on purpose (Hold) is no outage, even for a ping already in flight
// when the hold began; after release, a real failure still is one.
func TestHoldIsNoOutage(t *testing.T) {
	var down atomic.Bool
	probe := Probe{Name: "backend java", Ping: func(ctx context.Context) error {
		if down.Load() {
			<-ctx.Done() // a paused container answers nothing
			return ctx.Err()
		}
		return nil
	}}
	m := Start([]Probe{probe}, 2*time.Millisecond, 15*time.Millisecond)
	release := m.Hold("backend java")
	down.Store(true)
	time.Sleep(60 * time.Millisecond)
	down.Store(false)
	release()
	time.Sleep(20 * time.Millisecond)
	if out := m.Outages(); len(out) != 0 {
		t.Fatalf("a hold was recorded as an outage: %+v", out)
	}
	down.Store(true)
	deadline := time.Now().Add(2 * time.Second)
	for len(m.Outages()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("a failure after the hold was released was not recorded")
		}
		time.Sleep(2 * time.Millisecond)
	}
	m.Stop()
}

// A run that ends while a ping waits on a dead target (its last specs
// failing fast) still learns the target was gone: Stop waits for the ping.
func TestStopKeepsThePingInFlight(t *testing.T) {
	var dead atomic.Bool
	pinging := make(chan struct{}, 1)
	probe := Probe{Name: "target", Ping: func(ctx context.Context) error {
		if !dead.Load() {
			return nil
		}
		select {
		case pinging <- struct{}{}:
		default:
		}
		<-ctx.Done() // a killed host: no answer until the bound
		return ctx.Err()
	}}
	m := Start([]Probe{probe}, time.Millisecond, 100*time.Millisecond)
	dead.Store(true)
	<-pinging
	out := m.Stop()
	if len(out) != 1 || !out[0].Ongoing() {
		t.Fatalf("the ping in flight at Stop was lost: %+v", out)
	}
}

// A target that died after the last tick is seen by the last look at Stop.
func TestStopLooksOnceMore(t *testing.T) {
	var dead atomic.Bool
	var pings atomic.Int32
	probe := Probe{Name: "target", Ping: func(ctx context.Context) error {
		pings.Add(1)
		if dead.Load() {
			return errors.New("connection refused")
		}
		return nil
	}}
	m := Start([]Probe{probe}, time.Hour, time.Second)
	for pings.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	dead.Store(true)
	if out := m.Stop(); len(out) != 1 || out[0].Cause != "connection refused" {
		t.Fatalf("the target that died after the last tick was not seen at Stop: %+v", out)
	}
}
