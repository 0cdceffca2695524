package containers

import "testing"

func TestComplementCPUs(t *testing.T) {
	for _, c := range []struct {
		set  string
		n    int
		want string
	}{
		{"1", 2, "0"},
		{"3", 4, "0,1,2"},
		{"2-3", 4, "0,1"},
		{"0,2-3", 4, "1"},
		{"", 2, ""},     // nothing pinned: the backend floats
		{"0-1", 2, ""},  // no CPU left
		{"7", 2, ""},    // pinned outside this machine's CPUs
		{"1,1", 2, "0"}, // repeated
		{"x,1", 2, "0"}, // junk ignored
	} {
		if got := ComplementCPUs(c.set, c.n); got != c.want {
			t.Errorf("ComplementCPUs(%q, %d) = %q, want %q", c.set, c.n, got, c.want)
		}
	}
	var s *Stack
	if got := s.OtherCPUs(2); got != "" {
		t.Errorf("nil stack: OtherCPUs = %q, want empty", got)
	}
	s = &Stack{services: []Service{{Alias: "postgres", CPUs: "1"}, {Alias: "other"}}}
	if got := s.OtherCPUs(2); got != "0" {
		t.Errorf("OtherCPUs = %q, want 0", got)
	}
}
