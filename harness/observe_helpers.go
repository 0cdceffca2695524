package harness

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	gtypes "github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
)

// Soft gathers a spec's mismatches instead of stopping at the first, so a
// spec that finds two defects reports both (a wrong 25P02 and a COMMIT
// that claims success). Use its Expect for checks that must not hide the
// ones after them, and call Verify where the spec ends: it fails the spec
// once with every mismatch, through Gomega, so expected-failure lists see
// it like any other assertion. Each mismatch is also written to
// GinkgoWriter when it happens, so a later hard failure cannot hide it.
type Soft struct {
	gomega.Gomega
	mu       sync.Mutex
	failures []string
}

// NewSoft starts gathering.
func NewSoft() *Soft {
	s := &Soft{}
	s.Gomega = gomega.NewGomega(func(message string, callerSkip ...int) {
		skip := 0
		if len(callerSkip) > 0 {
			skip = callerSkip[0]
		}
		msg := fmt.Sprintf("%s\n(%s)", message, gtypes.NewCodeLocation(skip+1))
		ginkgo.GinkgoWriter.Printf("mismatch, reported when the spec ends: %s\n", msg)
		s.mu.Lock()
		s.failures = append(s.failures, msg)
		s.mu.Unlock()
	})
	return s
}

// Failures returns the mismatches gathered so far.
func (s *Soft) Failures() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.failures...)
}

// Verify fails the spec with every gathered mismatch, if there is any.
func (s *Soft) Verify() {
	ginkgo.GinkgoHelper()
	gomega.Expect(s.Failures()).To(noMismatches{})
}

// noMismatches matches an empty list of mismatches and prints them all.
type noMismatches struct{}

var _ types.GomegaMatcher = noMismatches{}

func (noMismatches) Match(actual any) (bool, error) {
	f, ok := actual.([]string)
	if !ok {
		return false, fmt.Errorf("noMismatches wants []string, got %T", actual)
	}
	return len(f) == 0, nil
}

func (noMismatches) FailureMessage(actual any) string {
	f, _ := actual.([]string)
	var b strings.Builder
	fmt.Fprintf(&b, "%d check(s) failed:", len(f))
	for i, m := range f {
		fmt.Fprintf(&b, "\n%d) %s", i+1, m)
	}
	return b.String()
}

func (noMismatches) NegatedFailureMessage(any) string { return "expected mismatches, found none" }

// RowsAffectedSpec names the spec that certifies rows-affected counts;
// other specs only record them (Write).
const RowsAffectedSpec = `"reports rows affected by INSERT, UPDATE and DELETE"`

// Write runs a writing statement through the adapter under test (q) and
// fails the spec if it errs: the statement must have run. The rows it
// reports affected are recorded, not asserted: a server whose command tags
// are wrong (iris-pgwire's "INSERT 0 0 0") must still reach the check the
// spec is about; the count has its own spec (RowsAffectedSpec). It returns
// the count.
func Write(ctx context.Context, q adapter.Querier, want int64, sql string, args ...any) int64 {
	ginkgo.GinkgoHelper()
	n, err := q.Exec(ctx, sql, args...)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "through the adapter: %s", clip(sql))
	NoteRowsAffected(n, want, sql)
	return n
}

// NoteRowsAffected records a rows-affected count a spec does not assert.
func NoteRowsAffected(got, want int64, sql string) {
	if got == want {
		ginkgo.GinkgoWriter.Printf("rows affected %d, as expected: %s\n", got, clip(sql))
		return
	}
	ginkgo.GinkgoWriter.Printf("rows affected %d, expected %d (not this spec's subject; see %s): %s\n", got, want, RowsAffectedSpec, clip(sql))
}

// Sessions counts the target's sessions tagged app (TrySessions); a
// failure is a harness error. Specs using it need
// NeedsFeature{profile.ConnectionView}.
func (o *Observer) Sessions(ctx context.Context, app string) int {
	ginkgo.GinkgoHelper()
	n, err := o.TrySessions(ctx, app)
	if err != nil {
		HarnessFail("observer could not count the sessions of %s: %v", app, err)
	}
	return n
}

// ConnectionPoll is what PollSessions saw.
type ConnectionPoll struct {
	Polls int // samples taken
	Max   int // most server connections seen at once
	Err   error
}

// PollSessions counts the server sessions tagged app through the observer
// every 10 ms while the spec's work runs; finish stops it, takes one last
// sample and returns what it saw. each, when not nil, runs after every
// count (to sample more); its error, like the count's, ends the polling
// and is the result's Err. The observer is the poller's until finish
// returns. Specs using it need NeedsFeature{profile.ConnectionView}.
func PollSessions(ctx context.Context, obs *Observer, app string, each func() error) (finish func() ConnectionPoll) {
	stop := make(chan struct{})
	polled := make(chan ConnectionPoll, 1)
	go func() {
		defer ginkgo.GinkgoRecover()
		polled <- pollSessions(ctx, obs, app, stop, each)
	}()
	return func() ConnectionPoll {
		ginkgo.GinkgoHelper()
		close(stop)
		var p ConnectionPoll
		gomega.Eventually(polled).WithContext(ctx).WithTimeout(5 * time.Second).Should(gomega.Receive(&p))
		return p
	}
}

func pollSessions(ctx context.Context, obs *Observer, app string, stop <-chan struct{}, each func() error) ConnectionPoll {
	var p ConnectionPoll
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	sample := func() bool {
		n, err := obs.TrySessions(ctx, app)
		if err == nil && each != nil {
			err = each()
		}
		if err != nil {
			p.Err = err
			return false
		}
		p.Polls++
		p.Max = max(p.Max, n)
		return true
	}
	for {
		if !sample() {
			return p
		}
		select {
		case <-stop:
			sample()
			return p
		case <-ctx.Done():
			p.Err = ctx.Err()
			return p
		case <-tick.C:
		}
	}
}
