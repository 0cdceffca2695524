package wiretap

import (
	"sync"
	"sync/atomic"
	"time"
)

// Faults injects failures. Every setting takes effect at once, for open and new connections,
// and is safe for concurrent use.
type Faults struct {
	t          *Tap
	latency    atomic.Int64 // time.Duration
	resetAfter atomic.Int64 // n+1 while armed, 0 otherwise
	refuseNew  atomic.Bool
	refuseTLS  atomic.Bool

	mu        sync.Mutex
	blackhole bool
	changed   chan struct{} // closed and replaced when blackhole changes
}

func newFaults(t *Tap) *Faults {
	return &Faults{t: t, changed: make(chan struct{})}
}

// SetLatency delays every message to the client by d from when the tap read it (order kept);
// 0 turns it off.
func (f *Faults) SetLatency(d time.Duration) { f.latency.Store(int64(max(d, 0))) }

// ResetAfterDataRows arms a one-shot fault: in the next result (on any connection) that has
// more than n DataRows, the tap forwards n of them and then aborts both sides of that
// connection with a TCP RST. A negative n disarms it.
func (f *Faults) ResetAfterDataRows(n int) {
	if n < 0 {
		f.resetAfter.Store(0)
		return
	}
	f.resetAfter.Store(int64(n) + 1)
}

// Blackhole stops (on) or resumes (off) forwarding in both directions; sockets stay open and
// what arrived meanwhile flows once it is off.
func (f *Faults) Blackhole(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.blackhole == on {
		return
	}
	f.blackhole = on
	close(f.changed)
	f.changed = make(chan struct{})
}

// RefuseNew makes the tap accept and at once close new client connections.
func (f *Faults) RefuseNew(on bool) { f.refuseNew.Store(on) }

// RefuseTLS makes the tap answer SSLRequest with 'N' even when Options.TLS is set.
func (f *Faults) RefuseTLS(on bool) { f.refuseTLS.Store(on) }

// CloseAll closes every open connection on both sides, as a server restart does.
func (f *Faults) CloseAll() { f.t.closeAll() }

// Clear turns every fault off.
func (f *Faults) Clear() {
	f.SetLatency(0)
	f.ResetAfterDataRows(-1)
	f.Blackhole(false)
	f.RefuseNew(false)
	f.RefuseTLS(false)
}

// waitOpen blocks while the blackhole is on; false if done closed first.
func (f *Faults) waitOpen(done <-chan struct{}) bool {
	for {
		f.mu.Lock()
		on, ch := f.blackhole, f.changed
		f.mu.Unlock()
		if !on {
			return true
		}
		select {
		case <-ch:
		case <-done:
			return false
		}
	}
}

func (f *Faults) blackholed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.blackhole
}

// takeReset reports whether forwarding the row-th consecutive DataRow must instead fire the
// armed reset; it disarms it so that only one connection fires.
func (f *Faults) takeReset(row int) bool {
	armed := f.resetAfter.Load()
	return armed != 0 && int64(row) == armed && f.resetAfter.CompareAndSwap(armed, 0)
}

// sleepUntil waits until at, false if done closed first.
func sleepUntil(at time.Time, done <-chan struct{}) bool {
	d := time.Until(at)
	if d <= 0 {
		return true
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-done:
		return false
	}
}
