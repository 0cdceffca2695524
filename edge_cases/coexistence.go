package edge_cases

import (
	"context"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/profile"
)

// FR-010 asks that a sync and an async engine of one driver work at once on
// one target and see each other's committed writes. Go has no sync/async
// split; its equivalent is two different client stacks in one program (a
// pgxpool next to database/sql, say). The subject runs next to another
// registered adapter, both with engines open at the same time.
var _ = harness.ForEachAdapter("Edge cases: coexistence", Label("transactions"), func(s *harness.Subject) {
	s.It("works at once with another adapter's engine, each seeing the other's committed writes", harness.Reqs("FR-010", "FR-006", "EC-5"), func(ctx SpecContext) {
		other := partner(s)
		GinkgoWriter.Printf("%s runs next to %s\n", s.Info.Name, other.Info.Name)
		obs := harness.Observe(ctx)
		table := harness.NewTable(ctx, obs, "coexist", notesColumns)
		insert := fmt.Sprintf("INSERT INTO %s (id, note) VALUES ($1, $2)", table)
		// Each read is bounded: one engine's open transaction must never
		// hold the other's reads (or its own engine's), and a correct pair
		// answers in milliseconds.
		ids := func(q adapter.Querier) ([]int64, error) {
			rctx, cancel := context.WithTimeout(ctx, coexistReadBound)
			defer cancel()
			return idsOf(rctx, q, table)
		}

		a, appA := s.Open(ctx, 2)
		b, appB := other.Open(ctx, 2)
		me, them := s.Info.Name, other.Info.Name

		By("autocommit writes, alternating")
		harness.Write(ctx, a, 1, insert, int64(1), me)
		Expect(ids(b)).To(Equal([]int64{1}), "%s sees the row %s committed", them, me)
		harness.Write(ctx, b, 1, insert, int64(2), them)
		Expect(ids(a)).To(Equal([]int64{1, 2}), "%s sees the row %s committed", me, them)

		if harness.Profile().Has(profile.ConnectionView) {
			Expect(obs.Sessions(ctx, appA)).To(BeNumerically(">=", 1), "%s holds a server connection", me)
			Expect(obs.Sessions(ctx, appB)).To(BeNumerically(">=", 1), "%s holds a server connection at the same time", them)
		}

		By("interleaved transactions: uncommitted rows stay private until commit")
		txA := beginOn(ctx, a)
		txB := beginOn(ctx, b)
		harness.Write(ctx, txA, 1, insert, int64(3), me)
		harness.Write(ctx, txB, 1, insert, int64(4), them)
		Expect(ids(b)).To(Equal([]int64{1, 2}), "%s does not see %s's uncommitted row", them, me)
		Expect(ids(a)).To(Equal([]int64{1, 2}), "%s does not see %s's uncommitted row", me, them)
		Expect(txA.Commit(ctx)).To(Succeed())
		Expect(ids(txB)).To(Equal([]int64{1, 2, 3, 4}), "inside its open transaction %s sees %s's commit and its own row", them, me)
		Expect(ids(a)).To(Equal([]int64{1, 2, 3}), "%s still does not see %s's uncommitted row", me, them)
		Expect(txB.Commit(ctx)).To(Succeed())
		Expect(ids(a)).To(Equal([]int64{1, 2, 3, 4}), "%s sees %s's commit", me, them)

		By("both engines writing concurrently")
		const perSide = 25
		errs := concurrently(ctx, 2, func(ctx context.Context, side int) error {
			e, who := a, me
			if side == 1 {
				e, who = b, them
			}
			for i := 0; i < perSide; i++ {
				id := int64(100 + 2*i + side)
				if _, err := e.Exec(ctx, insert, id, who); err != nil {
					return fmt.Errorf("%s: insert %d: %w", who, id, err)
				}
			}
			return nil
		})
		Expect(errs).To(BeEmpty(), "every concurrent insert succeeds")

		want := map[int64]string{1: me, 2: them, 3: me, 4: them}
		for i := 0; i < perSide; i++ {
			want[int64(100+2*i)] = me
			want[int64(101+2*i)] = them
		}
		Expect(observedWho(ctx, a, table)).To(Equal(want), "%s sees every committed row of both", me)
		Expect(observedWho(ctx, b, table)).To(Equal(want), "%s sees every committed row of both", them)
		Expect(obs.Notes(ctx, table)).To(Equal(want), "the observer sees every committed row, each written by its own engine")
	}, SpecTimeout(60*time.Second), harness.NeedsFeature{profile.ConcurrentSessions})
})

// coexistReadBound bounds each read of the coexistence spec.
const coexistReadBound = 10 * time.Second

// partner picks the adapter the subject runs next to: of the others
// selected for this run, the first on a different client stack (the first
// word of Info.Driver: "pgx/v5" for pgxpool, "database/sql" …), else the
// first other; with none selected, the built-in pgx (pgx-stdlib next to pgx).
func partner(s *harness.Subject) *harness.Subject {
	GinkgoHelper()
	stack := func(i adapter.Info) string { return strings.Fields(i.Driver + " ?")[0] }
	var pick adapter.Adapter
	for _, a := range harness.Selected() {
		if i := a.Info(); i.Name != s.Info.Name && stack(i) != stack(s.Info) {
			pick = a
			break
		}
	}
	for _, a := range harness.Selected() {
		if pick == nil && a.Info().Name != s.Info.Name {
			pick = a
		}
	}
	for _, name := range []string{"pgx", "pgx-stdlib"} {
		if a, ok := adapter.Lookup(name); ok && pick == nil && name != s.Info.Name {
			pick = a
		}
	}
	subject := s.Info.Name
	Expect(pick).NotTo(BeNil(), "FR-010 needs a second registered adapter to run next to %s", subject)
	return &harness.Subject{Adapter: pick, Info: pick.Info(), Group: "coexistence partner"}
}

// beginOn holds a connection of e and starts a transaction on it; both are
// cleaned up when the spec ends. Begin runs under harness.Within so that a
// driver ignoring its context cannot return after the spec has ended.
func beginOn(ctx context.Context, e adapter.Engine) adapter.Tx {
	GinkgoHelper()
	c := harness.Acquire(ctx, e)
	var tx adapter.Tx
	err, answered := harness.Within(ctx, harness.Config().OpTimeout, func(ctx context.Context) error {
		var err error
		tx, err = c.Begin(ctx)
		return err
	})
	Expect(answered).To(BeTrue(), "begin a transaction: no answer within %s, and the driver ignored its context", harness.Config().OpTimeout)
	Expect(err).NotTo(HaveOccurred(), "begin a transaction")
	DeferCleanup(func(ctx context.Context) {
		_ = tx.Rollback(ctx) // after Commit or Rollback this is a no-op error
	})
	return tx
}

// idsOf lists table's ids, ascending, through an adapter.
func idsOf(ctx context.Context, q adapter.Querier, table string) ([]int64, error) {
	all, err := adapter.QueryAll(ctx, q, fmt.Sprintf("SELECT id FROM %s ORDER BY id", table))
	if err != nil {
		return nil, err
	}
	out := []int64{}
	for _, r := range all {
		id, ok := r[0].(int64)
		if !ok {
			return nil, fmt.Errorf("id is %T, want int64", r[0])
		}
		out = append(out, id)
	}
	return out, nil
}

// observedWho reads table (id, note) through an adapter.
func observedWho(ctx context.Context, q adapter.Querier, table string) (map[int64]string, error) {
	all, err := adapter.QueryAll(ctx, q, fmt.Sprintf("SELECT id, note FROM %s", table))
	if err != nil {
		return nil, err
	}
	out := map[int64]string{}
	for _, r := range all {
		id, ok1 := r[0].(int64)
		who, ok2 := r[1].(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("row %#v: want (int64, string)", r)
		}
		out[id] = who
	}
	return out, nil
}
