package iris_features

import (
	"context"
	"sort"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
)

// clockSlack is how far apart two sessions' CURRENT_TIMESTAMP may be.
const clockSlack = 2 * time.Second

var _ = harness.ForEachAdapter("IRIS features: server functions", Label("functions"), func(s *harness.Subject) {
	s.It("returns CURRENT_TIMESTAMP as a time that agrees with the server's clock", harness.Reqs("FR-004", "T027", "T028"), func(ctx SpecContext) {
		obs := harness.Observe(ctx)
		e, _ := s.Open(ctx, 1)

		before := obs.Now(ctx)
		v, err := adapter.Scalar(ctx, e, "SELECT CURRENT_TIMESTAMP")
		Expect(err).NotTo(HaveOccurred())
		after := obs.Now(ctx)

		got, ok := v.(time.Time)
		Expect(ok).To(BeTrue(), "CURRENT_TIMESTAMP came back as %s, want a time", show(v))
		Expect(got).To(BeTemporally(">=", before.Add(-clockSlack)), "adapter's CURRENT_TIMESTAMP %s vs the observer's %s before it", got, before)
		Expect(got).To(BeTemporally("<=", after.Add(clockSlack)), "adapter's CURRENT_TIMESTAMP %s vs the observer's %s after it", got, after)
	}, SpecTimeout(30*time.Second))

	s.It("returns a value for every server function of the profile", harness.Reqs("FR-004", "T027", "T028"), func(ctx SpecContext) {
		fns := harness.Profile().ServerFunctions()
		Expect(fns).NotTo(BeEmpty(), "the profile names server functions")
		names := make([]string, 0, len(fns))
		for n := range fns {
			names = append(names, n)
		}
		sort.Strings(names)
		obs := harness.Observe(ctx)
		e, _ := s.Open(ctx, 1)

		for _, name := range names {
			sql := fns[name]
			before := observed(ctx, obs, sql)
			v, err := adapter.Scalar(ctx, e, sql)
			Expect(err).NotTo(HaveOccurred(), "%s: %s", name, sql)
			after := observed(ctx, obs, sql)

			Expect(v).NotTo(BeNil(), "%s returned NULL", name)
			if str, ok := v.(string); ok {
				Expect(str).NotTo(BeEmpty(), "%s returned an empty string", name)
			}
			// The observer reads text. A value whose text is a timestamp
			// must come back through the adapter as a time, within the
			// observer's two readings; any other as its text (a string,
			// or a number printing the same). A function that did not
			// change between the two reads (version, database, $ZVERSION)
			// must also read the same; one that did ($HOROLOG ticks) is
			// only checked for its kind of value.
			if b, err := harness.ParseTime(before); err == nil {
				a, err := harness.ParseTime(after)
				Expect(err).NotTo(HaveOccurred(), "%s: the observer read a timestamp, then %q", name, after)
				got, ok := v.(time.Time)
				Expect(ok).To(BeTrue(), "%s came back as %s; the observer reads a timestamp (%s)", name, show(v), before)
				Expect(got).To(BeTemporally(">=", b.Add(-clockSlack)), name)
				Expect(got).To(BeTemporally("<=", a.Add(clockSlack)), name)
				continue
			}
			text, ok := asText(v)
			Expect(ok).To(BeTrue(), "%s came back as %s; the observer reads text %q", name, show(v), before)
			if before == after {
				Expect(text).To(Equal(before), "%s through the adapter vs the observer", name)
			}
		}
	}, SpecTimeout(30*time.Second))
})

// observed runs a one-value query through the observer and returns its
// text; NULL fails the spec.
func observed(ctx context.Context, obs *harness.Observer, sql string) string {
	GinkgoHelper()
	t := obs.Text(ctx, sql)
	Expect(t).NotTo(BeNil(), "observer: %s returned NULL", sql)
	return *t
}

// asText is the text form of a value an adapter returned for a server
// function: a string as is, a number as servers print it.
func asText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	}
	return "", false
}
