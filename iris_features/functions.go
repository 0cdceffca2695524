package iris_features

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
)

// clockSlack is how far apart two sessions' CURRENT_TIMESTAMP may be.
const clockSlack = 2 * time.Second

var _ = harness.ForEachAdapter("IRIS features: server functions", Label("functions"), func(s *harness.Subject) {
	s.It("returns CURRENT_TIMESTAMP as a time that agrees with the server's clock", harness.Reqs("FR-004", "T027", "T028"), func(ctx SpecContext) {
		obs := harness.Observer(ctx)
		e, _ := s.Open(ctx, 1)

		before := serverNow(ctx, obs)
		v, err := adapter.Scalar(ctx, e, "SELECT CURRENT_TIMESTAMP")
		Expect(err).NotTo(HaveOccurred())
		after := serverNow(ctx, obs)

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
		obs := harness.Observer(ctx)
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
			switch b := before.(type) {
			case time.Time:
				got, ok := v.(time.Time)
				Expect(ok).To(BeTrue(), "%s came back as %s, the observer reads a time", name, show(v))
				Expect(got).To(BeTemporally(">=", b.Add(-clockSlack)), name)
				Expect(got).To(BeTemporally("<=", after.(time.Time).Add(clockSlack)), name)
			default:
				// The adapter returns the value as the same Go type the
				// observer's pgx reads and normalises (text as a string). A
				// function that did not change between the observer's two
				// reads (version, database, $ZVERSION) must also read the
				// same; one that did ($HOROLOG ticks) is only checked for
				// a value.
				Expect(fmt.Sprintf("%T", v)).To(Equal(fmt.Sprintf("%T", before)), "%s came back as %s; the observer reads %s", name, show(v), show(before))
				if reflect.DeepEqual(before, after) {
					Expect(v).To(Equal(before), "%s through the adapter vs the observer", name)
				}
			}
		}
	}, SpecTimeout(30*time.Second))
})

// serverNow is CURRENT_TIMESTAMP as the observer reads it.
func serverNow(ctx context.Context, obs *pgx.Conn) time.Time {
	GinkgoHelper()
	var t time.Time
	Expect(obs.QueryRow(ctx, "SELECT CURRENT_TIMESTAMP").Scan(&t)).To(Succeed(), "observer: SELECT CURRENT_TIMESTAMP")
	return t
}

// observed runs a one-value query through the observer, normalised the way
// adapters normalise.
func observed(ctx context.Context, obs *pgx.Conn, sql string) any {
	GinkgoHelper()
	var v any
	Expect(obs.QueryRow(ctx, sql).Scan(&v)).To(Succeed(), "observer: %s", sql)
	Expect(v).NotTo(BeNil(), "observer: %s returned NULL", sql)
	return adapter.Normalize(v)
}
