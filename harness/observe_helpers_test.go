package harness

import (
	"strings"
	"testing"

	"github.com/onsi/gomega"
)

// TestSoftGathersEveryMismatch: checks after a failed soft check still run,
// and Verify fails once, through Gomega's handler (where expected-failure
// lists intercept it), naming every mismatch with its line.
func TestSoftGathersEveryMismatch(t *testing.T) {
	var failures []string
	gomega.RegisterFailHandler(func(message string, _ ...int) { failures = append(failures, message) })
	defer gomega.RegisterFailHandler(nil)

	s := NewSoft()
	if s.Expect("INSERT 0 0 0").To(gomega.Equal("INSERT 0 1"), "command tag") {
		t.Error("a failed soft check reported success")
	}
	s.Expect(1).To(gomega.Equal(1), "a passing check")
	s.Expect("COMMIT").To(gomega.Equal("ROLLBACK"), "the reply to COMMIT")
	if len(failures) != 0 {
		t.Fatalf("soft checks stopped the caller or failed at once: %q", failures)
	}
	if got := s.Failures(); len(got) != 2 || !strings.Contains(got[0], "command tag") || !strings.Contains(got[1], "the reply to COMMIT") {
		t.Fatalf("Failures = %q, want the two mismatches in order", got)
	}
	if !strings.Contains(s.Failures()[0], "observe_helpers_test.go:") {
		t.Errorf("a mismatch does not name its line: %q", s.Failures()[0])
	}

	s.Verify()
	if len(failures) != 1 {
		t.Fatalf("Verify failed %d times, want once: %q", len(failures), failures)
	}
	for _, want := range []string{"2 check(s) failed", "1) command tag", "2) the reply to COMMIT"} {
		if !strings.Contains(failures[0], want) {
			t.Errorf("Verify's failure %q lacks %q", failures[0], want)
		}
	}

	failures = nil
	NewSoft().Verify()
	if len(failures) != 0 {
		t.Errorf("Verify with no mismatch failed: %q", failures)
	}
}
