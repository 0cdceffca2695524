package harness

import (
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/pgwire-conformance/pgwire-conformance/containers"
)

// PinAwayFrom locks the calling goroutine to its OS thread and restricts the
// thread to the CPUs not in cpuset (the target's), so client and server never
// share a core during a measurement. The returned func undoes both. With no
// cpuset, or no CPU left, it does nothing.
func PinAwayFrom(cpuset string) (undo func(), pinned string) {
	target := containers.ParseCPUSet(cpuset)
	if len(target) == 0 {
		return func() {}, ""
	}
	runtime.LockOSThread()
	var old, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		runtime.UnlockOSThread()
		return func() {}, ""
	}
	var names []string
	for cpu := 0; cpu < runtime.NumCPU(); cpu++ {
		if old.IsSet(cpu) && !target[cpu] {
			set.Set(cpu)
			names = append(names, strconv.Itoa(cpu))
		}
	}
	if set.Count() == 0 || unix.SchedSetaffinity(0, &set) != nil {
		runtime.UnlockOSThread()
		return func() {}, ""
	}
	return func() {
		unix.SchedSetaffinity(0, &old)
		runtime.UnlockOSThread()
	}, strings.Join(names, ",")
}
