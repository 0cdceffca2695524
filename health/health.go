// Package health watches the things a run depends on but does not certify —
// the target server and the driver backends — with probes of the suite's
// own, so that a failure caused by a dead or stalled target is reported as
// what it is (a harness error naming the cause), not charged to the driver
// whose spec happened to be running. The verdict rests on the monitor's
// evidence, never on the driver's error message.
package health

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Probe checks one dependency once; it must honour ctx's deadline.
type Probe struct {
	Name string // "target", "backend python"
	Ping func(ctx context.Context) error
}

// Outage is a stretch of time during which a probe failed or took longer
// than the monitor's bound.
type Outage struct {
	What string    `json:"what"`
	From time.Time `json:"from"`
	// To is when the probe answered again; zero while it has not.
	To    time.Time `json:"to,omitempty"`
	Cause string    `json:"cause"`
}

// Ongoing reports whether the outage had not ended when last looked at.
func (o Outage) Ongoing() bool { return o.To.IsZero() }

// Duration is the outage's length (up to now while ongoing).
func (o Outage) Duration(now time.Time) time.Duration {
	if o.Ongoing() {
		return now.Sub(o.From)
	}
	return o.To.Sub(o.From)
}

// Describe is the outage in one line: "target stopped answering at
// 12:03:04 (connection refused) and never came back" or "target stalled
// 12:03:04–12:04:04 (60s): i/o timeout".
func (o Outage) Describe() string {
	at := o.From.Format("15:04:05")
	if o.Ongoing() {
		return fmt.Sprintf("%s stopped answering at %s (%s) and had not come back when the run ended", o.What, at, o.Cause)
	}
	return fmt.Sprintf("%s stalled %s–%s (%s): %s", o.What, at, o.To.Format("15:04:05"), o.To.Sub(o.From).Round(time.Second), o.Cause)
}

// Monitor runs every probe on a ticker and records outages.
type Monitor struct {
	every, bound time.Duration
	mu           sync.Mutex
	held         map[string]int       // probes not run while the suite itself holds the thing still
	released     map[string]time.Time // when each hold last ended
	outages      []Outage
	open         map[string]int // probe name → index of its ongoing outage
	cancel       context.CancelFunc
	done         sync.WaitGroup
}

// Start probes every `every`; a probe that fails, or does not answer within
// `bound`, starts an outage that ends at its next success.
func Start(probes []Probe, every, bound time.Duration) *Monitor {
	ctx, cancel := context.WithCancel(context.Background())
	m := &Monitor{every: every, bound: bound, open: map[string]int{}, held: map[string]int{}, released: map[string]time.Time{}, cancel: cancel}
	for _, p := range probes {
		m.done.Add(1)
		go m.watch(ctx, p)
	}
	return m
}

func (m *Monitor) watch(ctx context.Context, p Probe) {
	defer m.done.Done()
	t := time.NewTicker(m.every)
	defer t.Stop()
	for {
		if !m.isHeld(p.Name) {
			m.ping(p)
		}
		select {
		case <-ctx.Done():
			// One last look when the run ends: its last specs may have
			// failed faster than the next tick.
			if !m.isHeld(p.Name) {
				m.ping(p)
			}
			return
		case <-t.C:
		}
	}
}

// ping probes once and records what it found. The ping is bounded on its
// own, not by the monitor's life: a run that ends while a ping waits on a
// dead target must still learn the target was gone (Stop waits for it, at
// most its bound).
func (m *Monitor) ping(p Probe) {
	start := time.Now()
	pctx, cancel := context.WithTimeout(context.Background(), m.bound)
	err := p.Ping(pctx)
	cancel()
	// A ping that failed against a hold (a pause on purpose) proves nothing.
	if err == nil || !m.heldDuring(p.Name, start) {
		m.record(p.Name, start, err)
	}
}

func (m *Monitor) record(name string, at time.Time, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i, open := m.open[name]
	switch {
	case err != nil && !open:
		m.open[name] = len(m.outages)
		m.outages = append(m.outages, Outage{What: name, From: at, Cause: oneLine(err.Error())})
	case err == nil && open:
		m.outages[i].To = at
		delete(m.open, name)
	}
}

// Hold stops probing the named things until the returned release is
// called: the suite itself holds them still (paused on purpose), which is
// no outage.
func (m *Monitor) Hold(names ...string) (release func()) {
	if m == nil {
		return func() {}
	}
	m.mu.Lock()
	for _, n := range names {
		m.held[n]++
	}
	m.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			m.mu.Lock()
			defer m.mu.Unlock()
			now := time.Now()
			for _, n := range names {
				m.held[n]--
				m.released[n] = now
			}
		})
	}
}

// heldDuring: is name held now, or was a hold released after since?
func (m *Monitor) heldDuring(name string, since time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.held[name] > 0 || m.released[name].After(since)
}

func (m *Monitor) isHeld(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.held[name] > 0
}

// Outages returns what was seen so far, oldest first.
func (m *Monitor) Outages() []Outage {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Outage(nil), m.outages...)
}

// Stop ends the probes and returns every outage seen.
func (m *Monitor) Stop() []Outage {
	if m == nil {
		return nil
	}
	m.cancel()
	m.done.Wait()
	return m.Outages()
}

// Overlapping returns the first outage that overlaps [start, end] (with
// slack either side, since a spec feels an outage a little before the
// probe sees it), if any.
func Overlapping(outages []Outage, start, end time.Time, slack time.Duration) (Outage, bool) {
	sorted := append([]Outage(nil), outages...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].From.Before(sorted[j].From) })
	for _, o := range sorted {
		to := o.To
		if o.Ongoing() {
			to = end.Add(slack)
		}
		if o.From.Before(end.Add(slack)) && to.After(start.Add(-slack)) {
			return o, true
		}
	}
	return Outage{}, false
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
