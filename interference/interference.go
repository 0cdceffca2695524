// Package interference measures the CPU other processes take while a
// timing spec measures: what the measured code shares its CPUs with. A busy
// neighbour skews a comparison by itself (measured here: a spinning process
// on the client's CPU took psycopg-async over psycopg-sync from 1.05 to
// 1.17: the sync side, which sleeps between round trips, wakes faster on a
// CPU that is never idle, and the async side, with more work of its own,
// loses more of the CPU), so a round taken under load is not evidence.
package interference

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// clockTick is the kernel's USER_HZ: /proc/<pid>/stat counts CPU time in
// these (100 on every Linux architecture Go runs on).
const clockTick = 10 * time.Millisecond

// Proc is one process's CPU time so far.
type Proc struct {
	Name string
	CPU  time.Duration
	// Start is when the process started (clock ticks since boot): a pid
	// reused meanwhile has another. (Not the name: a kernel worker's name
	// changes with the work it does.)
	Start uint64
	Ours  bool
}

// Snapshot is every process's CPU time at one moment, by pid.
type Snapshot struct {
	At    time.Time
	Procs map[int]Proc
}

// Ours tells the processes whose CPU is part of the measurement (the
// harness itself, the target's and the backends' containers) from the rest,
// by pid and /proc/<pid>/cgroup.
type Ours func(pid int, cgroup string) bool

// Take reads every process's CPU time from /proc.
func Take(ours Ours) (Snapshot, error) {
	return take("/proc", ours)
}

func take(root string, ours Ours) (Snapshot, error) {
	s := Snapshot{At: time.Now(), Procs: map[int]Proc{}}
	entries, err := os.ReadDir(root)
	if err != nil {
		return s, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(root, e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		p, err := ParseStat(string(stat))
		if err != nil {
			continue
		}
		cg, _ := os.ReadFile(filepath.Join(root, e.Name(), "cgroup"))
		p.Ours = ours(pid, string(cg))
		s.Procs[pid] = p
	}
	return s, nil
}

// ParseStat reads a /proc/<pid>/stat line: the command name, the CPU time
// spent in user and system mode by all its threads, and the start time.
func ParseStat(line string) (Proc, error) {
	open, end := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
	if open < 0 || end < open {
		return Proc{}, fmt.Errorf("stat: no command name in %q", line)
	}
	f := strings.Fields(line[end+1:])
	// After the name: state(3) … utime(14) stime(15) … starttime(22),
	// i.e. f[11], f[12], f[19].
	if len(f) < 20 {
		return Proc{}, fmt.Errorf("stat: %d fields after the name, want at least 20", len(f))
	}
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	s, err2 := strconv.ParseUint(f[12], 10, 64)
	start, err3 := strconv.ParseUint(f[19], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return Proc{}, fmt.Errorf("stat: utime %q, stime %q, starttime %q", f[11], f[12], f[19])
	}
	return Proc{Name: line[open+1 : end], CPU: time.Duration(u+s) * clockTick, Start: start}, nil
}

// InContainers returns an Ours that claims pid self and every process in
// one of the given containers (a cgroup path naming the container's ID, as
// Docker's cgroupfs and systemd drivers both do).
func InContainers(self int, ids []string) Ours {
	return func(pid int, cgroup string) bool {
		if pid == self {
			return true
		}
		for _, id := range ids {
			if id != "" && strings.Contains(cgroup, id) {
				return true
			}
		}
		return false
	}
}

// Load is what processes other than ours took between two snapshots.
type Load struct {
	Wall time.Duration
	// CPU is the foreign CPU time; CPU/Wall is how many CPUs' worth.
	CPU time.Duration
	// Top names the biggest foreign consumers, "name[pid] 120ms".
	Top []string
}

// CPUs is the foreign load in CPUs (0.5: half of one CPU, on average).
func (l Load) CPUs() float64 {
	if l.Wall <= 0 {
		return 0
	}
	return l.CPU.Seconds() / l.Wall.Seconds()
}

func (l Load) String() string {
	s := fmt.Sprintf("%.2f CPU foreign over %s", l.CPUs(), l.Wall.Round(time.Millisecond))
	if len(l.Top) > 0 {
		s += " (" + strings.Join(l.Top, ", ") + ")"
	}
	return s
}

// Exceeds reports whether the load is over bound (in CPUs) by more than
// /proc's resolution: CPU time comes in 10 ms ticks, so one tick of a
// daemon reads 0.25 CPU over a 40 ms round, and is no evidence of a busy
// machine.
func (l Load) Exceeds(bound float64) bool {
	return l.CPU > time.Duration(bound*float64(l.Wall))+clockTick
}

// Foreign is the CPU that processes not ours took from before to after.
// A process that started meanwhile counts from zero.
func Foreign(before, after Snapshot) Load {
	type use struct {
		pid  int
		name string
		cpu  time.Duration
	}
	var uses []use
	var total time.Duration
	for pid, p := range after.Procs {
		if p.Ours {
			continue
		}
		d := p.CPU
		if b, ok := before.Procs[pid]; ok && b.Start == p.Start {
			d -= b.CPU
		}
		if d <= 0 {
			continue
		}
		total += d
		uses = append(uses, use{pid, p.Name, d})
	}
	sort.Slice(uses, func(i, j int) bool {
		return uses[i].cpu > uses[j].cpu || uses[i].cpu == uses[j].cpu && uses[i].pid < uses[j].pid
	})
	l := Load{Wall: after.At.Sub(before.At), CPU: total}
	for i, u := range uses {
		if i == 3 {
			break
		}
		l.Top = append(l.Top, fmt.Sprintf("%s[%d] %s", u.name, u.pid, u.cpu))
	}
	return l
}
