package integration

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/adapter/remote"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
)

// ormColumns is the table the backend's ORM model is mapped onto
// (PROTOCOL.md, orm.run).
const ormColumns = "id {bigint} PRIMARY KEY, name {text}, score {double}"

const ormTimeout = SpecTimeout(60 * time.Second)

// ormSubject is an engine with an ORM, its table and the observer.
type ormSubject struct {
	orm   remote.ORM
	table string
	obs   *harness.Observer
}

func startORM(ctx SpecContext, s *harness.Subject) *ormSubject {
	GinkgoHelper()
	obs := harness.Observe(ctx)
	table := harness.NewTable(ctx, obs, "orm_items", ormColumns)
	e, _ := s.Open(ctx, 2)
	o, ok := harness.Underlying(e).(remote.ORM)
	Expect(ok).To(BeTrue(), "adapter %s declares %q but its engines do not implement remote.ORM", s.Info.Name, adapter.ORM)
	return &ormSubject{orm: o, table: table, obs: obs}
}

// run runs ops in one session and returns the results.
func (o *ormSubject) run(ctx context.Context, ops ...remote.ORMOp) []remote.ORMResult {
	GinkgoHelper()
	res, err := o.orm.RunORM(ctx, o.table, ops)
	Expect(err).NotTo(HaveOccurred(), "orm.run %+v", ops)
	Expect(res).To(HaveLen(len(ops)))
	for i := range ops {
		Expect(res[i].Op).To(Equal(ops[i].Op), "result %d answers op %d", i, i)
	}
	return res
}

// stored reads row id through the observer; nil when it is not there.
func (o *ormSubject) stored(ctx context.Context, id int64) *remote.ORMRow {
	GinkgoHelper()
	rows := o.obs.Rows(ctx, fmt.Sprintf("SELECT name, score FROM %s WHERE id = $1", o.table), id)
	if len(rows) == 0 {
		return nil
	}
	Expect(rows).To(HaveLen(1), "observer: rows with id %d in %s", id, o.table)
	name, score := rows[0][0], rows[0][1]
	Expect(name).NotTo(BeNil(), "observer: row %d of %s has a NULL name", id, o.table)
	r := remote.ORMRow{ID: id, Name: *name}
	if score != nil {
		f, err := strconv.ParseFloat(*score, 64)
		Expect(err).NotTo(HaveOccurred(), "observer: score of row %d of %s", id, o.table)
		r.Score = &f
	}
	return &r
}

func score(f float64) *float64 { return &f }

// checkSession: the async adapter's ORM runs on the async session.
func checkSession(s *harness.Subject, res remote.ORMResult) {
	GinkgoHelper()
	if s.Info.Async {
		Expect(res.Session).To(ContainSubstring("AsyncSession"), "the async adapter's ORM session")
	} else {
		Expect(res.Session).NotTo(BeEmpty())
		Expect(strings.Contains(res.Session, "Async")).To(BeFalse(), "the sync adapter's ORM session is %s", res.Session)
	}
}

var _ = harness.ForEachAdapter("Integration: ORM", Label("orm"), func(s *harness.Subject) {
	s.It("maps a model onto a table: add, get, update and delete each commit, as the observer sees", harness.Reqs("FR-011", "T008", "T020"), func(ctx SpecContext) {
		o := startORM(ctx, s)
		alpha := remote.ORMRow{ID: 7, Name: "alpha", Score: score(1.5)}

		res := o.run(ctx, remote.ORMOp{Op: "add", Row: &alpha})
		checkSession(s, res[0])
		Expect(res[0].Row).To(Equal(&alpha), "the added object, reloaded after the commit")
		Expect(o.stored(ctx, 7)).To(Equal(&alpha), "observer: the row after add+commit")

		res = o.run(ctx, remote.ORMOp{Op: "get", ID: 7})
		Expect(res[0].Row).To(Equal(&alpha), "get by primary key")
		res = o.run(ctx, remote.ORMOp{Op: "get", ID: 8})
		Expect(res[0].Row).To(BeNil(), "get of a missing primary key")

		res = o.run(ctx, remote.ORMOp{Op: "update", ID: 7, Set: map[string]any{"name": "beta", "score": 2.25}})
		beta := remote.ORMRow{ID: 7, Name: "beta", Score: score(2.25)}
		Expect(res[0].Row).To(Equal(&beta), "the updated object, reloaded after the commit")
		Expect(o.stored(ctx, 7)).To(Equal(&beta), "observer: the row after update+commit")

		res = o.run(ctx, remote.ORMOp{Op: "delete", ID: 7})
		Expect(res[0].Deleted).To(BeTrue(), "delete found the object")
		Expect(o.stored(ctx, 7)).To(BeNil(), "observer: the row is gone after delete+commit")
		res = o.run(ctx, remote.ORMOp{Op: "get", ID: 7})
		Expect(res[0].Row).To(BeNil(), "get after delete")
	}, harness.Needs{adapter.ORM}, ormTimeout)

	s.It("runs add, get, update, get, delete, get in one session and reads back each step", harness.Reqs("FR-011", "T008", "T020"), func(ctx SpecContext) {
		o := startORM(ctx, s)
		// A row the session does not touch stays as it was.
		o.obs.Exec(ctx, fmt.Sprintf("INSERT INTO %s (id, name, score) VALUES (1, 'bystander', NULL)", o.table))
		gamma := remote.ORMRow{ID: 42, Name: "gamma", Score: nil}
		res := o.run(ctx,
			remote.ORMOp{Op: "add", Row: &gamma},
			remote.ORMOp{Op: "get", ID: 42},
			remote.ORMOp{Op: "update", ID: 42, Set: map[string]any{"score": -0.5}},
			remote.ORMOp{Op: "get", ID: 42},
			remote.ORMOp{Op: "delete", ID: 42},
			remote.ORMOp{Op: "get", ID: 42},
			remote.ORMOp{Op: "get", ID: 1},
		)
		for _, r := range res {
			checkSession(s, r)
		}
		updated := remote.ORMRow{ID: 42, Name: "gamma", Score: score(-0.5)}
		Expect(res[0].Row).To(Equal(&gamma), "add")
		Expect(res[1].Row).To(Equal(&gamma), "get after add")
		Expect(res[2].Row).To(Equal(&updated), "update")
		Expect(res[3].Row).To(Equal(&updated), "get after update")
		Expect(res[4].Deleted).To(BeTrue(), "delete")
		Expect(res[5].Row).To(BeNil(), "get after delete")
		Expect(res[6].Row).To(Equal(&remote.ORMRow{ID: 1, Name: "bystander"}), "get of the row inserted by the observer")
		Expect(o.stored(ctx, 42)).To(BeNil(), "observer: the deleted row is gone")
		Expect(o.stored(ctx, 1)).To(Equal(&remote.ORMRow{ID: 1, Name: "bystander"}), "observer: the untouched row")
	}, harness.Needs{adapter.ORM}, ormTimeout)
})
