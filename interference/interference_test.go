package interference

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// A name with spaces and parentheses: only the last ')' ends it.
	line := "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 3 0 100 1000000 200 18446744073709551615"
	p, err := ParseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Proc{Name: "my (odd) name", CPU: 325 * clockTick, Start: 100}); p != want {
		t.Errorf("ParseStat = %+v; want %+v", p, want)
	}
	for _, bad := range []string{"", "12 no-parens S 1", "12 (short) S 1 2 3"} {
		if _, err := ParseStat(bad); err == nil {
			t.Errorf("ParseStat(%q) accepted", bad)
		}
	}
}

func TestInContainers(t *testing.T) {
	id := strings.Repeat("ab", 32)
	ours := InContainers(7, []string{id})
	for _, c := range []struct {
		pid    int
		cgroup string
		want   bool
	}{
		{7, "0::/user.slice", true},
		{8, "0::/system.slice/docker-" + id + ".scope\n", true}, // systemd driver
		{9, "0::/docker/" + id + "\n", true},                    // cgroupfs driver
		{10, "0::/docker/" + strings.Repeat("cd", 32) + "\n", false},
		{11, "0::/user.slice/session-1.scope\n", false},
	} {
		if got := ours(c.pid, c.cgroup); got != c.want {
			t.Errorf("ours(%d, %q) = %v, want %v", c.pid, c.cgroup, got, c.want)
		}
	}
}

func TestForeign(t *testing.T) {
	t0 := time.Unix(1000, 0)
	before := Snapshot{At: t0, Procs: map[int]Proc{
		1: {Name: "harness", CPU: time.Second, Ours: true},
		2: {Name: "hog", CPU: 5 * time.Second},
		3: {Name: "idle", CPU: time.Second},
		4: {Name: "old", CPU: 9 * time.Second, Start: 1},
		6: {Name: "kworker/0:1-events", CPU: 3 * time.Second, Start: 2},
	}}
	after := Snapshot{At: t0.Add(time.Second), Procs: map[int]Proc{
		1: {Name: "harness", CPU: 2 * time.Second, Ours: true}, // ours: never counted
		2: {Name: "hog", CPU: 5*time.Second + 800*time.Millisecond},
		3: {Name: "idle", CPU: time.Second},
		4: {Name: "new", CPU: 100 * time.Millisecond, Start: 900}, // pid reused: counts from zero
		5: {Name: "born", CPU: 50 * time.Millisecond},
		// A kernel worker renames itself with its work: still one process.
		6: {Name: "kworker/0:1-mm_percpu_wq", CPU: 3*time.Second + 20*time.Millisecond, Start: 2},
	}}
	l := Foreign(before, after)
	if l.CPU != 970*time.Millisecond || l.Wall != time.Second {
		t.Fatalf("Foreign = %s over %s, want 970ms over 1s", l.CPU, l.Wall)
	}
	if got := l.CPUs(); got < 0.969 || got > 0.971 {
		t.Errorf("CPUs = %f, want 0.97", got)
	}
	if len(l.Top) != 3 || !strings.HasPrefix(l.Top[0], "hog[2] 800ms") {
		t.Errorf("Top = %v, want hog first", l.Top)
	}
}

// Take reads a /proc-like tree; entries that are not processes, or whose
// stat is unreadable, are skipped.
func TestTake(t *testing.T) {
	root := t.TempDir()
	write := func(p, s string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("12/stat", "12 (pg) S 1 1 1 0 -1 0 0 0 0 0 10 5 0 0 20 0 1 0 1 1 1 1")
	write("12/cgroup", "0::/docker/abc\n")
	write("13/stat", "garbage")
	write("self/stat", "1 (self) S 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 1 1 1 1")
	s, err := take(root, InContainers(-1, []string{"abc"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Procs) != 1 || s.Procs[12] != (Proc{Name: "pg", CPU: 15 * clockTick, Start: 1, Ours: true}) {
		t.Errorf("take = %+v, want only pid 12, ours, 150ms", s.Procs)
	}
}

// One tick of a daemon over a short round is rounding, not a busy machine;
// a neighbour taking half a CPU over a long round is.
func TestExceeds(t *testing.T) {
	for _, c := range []struct {
		cpu, wall time.Duration
		want      bool
	}{
		{10 * time.Millisecond, 40 * time.Millisecond, false},  // 0.25 CPU, one tick
		{20 * time.Millisecond, 75 * time.Millisecond, false},  // 0.27 CPU, within a tick of the bound
		{40 * time.Millisecond, 75 * time.Millisecond, true},   // 0.53 CPU
		{110 * time.Millisecond, 225 * time.Millisecond, true}, // the spinning neighbour seen live
		{20 * time.Millisecond, 250 * time.Millisecond, false}, // a quiet machine's 0.08
	} {
		if got := (Load{CPU: c.cpu, Wall: c.wall}).Exceeds(0.25); got != c.want {
			t.Errorf("%s over %s: Exceeds(0.25) = %v, want %v", c.cpu, c.wall, got, c.want)
		}
	}
}
