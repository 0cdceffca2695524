//go:build !linux

package harness

// PinAwayFrom is a no-op where thread affinity is not available.
func PinAwayFrom(cpuset string) (undo func(), pinned string) { return func() {}, "" }
