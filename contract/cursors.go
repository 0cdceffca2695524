package contract

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/protocol"
)

// Large results for the streaming specs are made server-side as the cross
// product of five copies of a ten-row digits table: ids 0…99 999, each with
// a 256-byte payload that depends on the id, in plain SQL both profiles run.
const (
	bigRows    = 100_000
	padBytes   = 128 // per digit; the payload is two pads
	bigPayload = 2 * padBytes
)

var _ = harness.ForEachAdapter("Contract: cursors", Label("contract", "cursors"), func(s *harness.Subject) {
	s.It("fetches one, many and all rows with the documented end-of-result behaviour", harness.Reqs("FR-012", "T005"), func(ctx SpecContext) {
		obs := harness.Observe(ctx)
		table := tenRowTable(ctx, obs)
		e, _ := s.Open(ctx, 1)
		query := fmt.Sprintf("SELECT id FROM %s ORDER BY id", table)

		By("FetchMany(3) four times gives 3, 3, 3 and 1 rows, then none")
		rows, err := e.Query(ctx, query)
		Expect(err).NotTo(HaveOccurred())
		var ids []int64
		for i, want := range []int{3, 3, 3, 1, 0, 0} {
			batch, err := rows.FetchMany(ctx, 3)
			Expect(err).NotTo(HaveOccurred(), "FetchMany call %d", i+1)
			Expect(batch).To(HaveLen(want), "FetchMany(3) call %d on a 10-row result", i+1)
			for _, r := range batch {
				ids = append(ids, r[0].(int64))
			}
		}
		Expect(ids).To(Equal(seq(1, 10)), "every row once, in order")
		row, err := rows.FetchOne(ctx)
		Expect(err).NotTo(HaveOccurred(), "FetchOne after the end is not an error")
		Expect(row).To(BeNil(), "FetchOne after the end gives nil")
		Expect(rows.FetchAll(ctx)).To(BeEmpty(), "FetchAll after the end gives no rows")
		Expect(rows.Close(ctx)).To(Succeed())

		By("FetchOne ten times, then nil (twice)")
		rows, err = e.Query(ctx, query)
		Expect(err).NotTo(HaveOccurred())
		ids = nil
		for i := 1; i <= 10; i++ {
			row, err := rows.FetchOne(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(row).To(HaveLen(1), "row %d", i)
			ids = append(ids, row[0].(int64))
		}
		Expect(ids).To(Equal(seq(1, 10)))
		for i := 0; i < 2; i++ {
			row, err := rows.FetchOne(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(row).To(BeNil(), "FetchOne past the end gives nil, every time")
		}
		Expect(rows.Close(ctx)).To(Succeed())

		By("FetchOne, FetchMany and FetchAll mixed on one cursor continue where the last stopped")
		rows, err = e.Query(ctx, query)
		Expect(err).NotTo(HaveOccurred())
		first, err := rows.FetchOne(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(first).To(Equal([]any{int64(1)}))
		next, err := rows.FetchMany(ctx, 4)
		Expect(err).NotTo(HaveOccurred())
		Expect(next).To(Equal([][]any{{int64(2)}, {int64(3)}, {int64(4)}, {int64(5)}}))
		rest, err := rows.FetchAll(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(rest).To(Equal([][]any{{int64(6)}, {int64(7)}, {int64(8)}, {int64(9)}, {int64(10)}}))
		Expect(rows.FetchMany(ctx, 3)).To(BeEmpty(), "FetchMany after FetchAll gives no rows")
		Expect(rows.Close(ctx)).To(Succeed())
	})

	s.It("reports column names and types, also for an empty result", harness.Reqs("FR-012", "T005"), func(ctx SpecContext) {
		obs := harness.Observe(ctx)
		table := harness.NewTable(ctx, obs, "cur_types", "id {bigint} PRIMARY KEY, name {text}, score {double}, active {bool}, seen_at {timestamptz}")
		at := time.Date(2024, 2, 29, 12, 30, 15, 250000000, time.UTC)
		obs.Exec(ctx, fmt.Sprintf("INSERT INTO %s (id, name, score, active, seen_at) VALUES ($1, $2, $3, $4, $5)", table),
			int64(1), "one", 1.5, true, at)
		e, _ := s.Open(ctx, 1)
		want := []adapter.Column{
			{Name: "id", Type: "int8"}, {Name: "name", Type: "text"}, {Name: "score", Type: "float8"},
			{Name: "active", Type: "bool"}, {Name: "seen_at", Type: "timestamptz"},
		}

		rows, err := e.Query(ctx, fmt.Sprintf("SELECT id, name, score, active, seen_at FROM %s", table))
		Expect(err).NotTo(HaveOccurred())
		Expect(rows.Columns()).To(Equal(want), "column names and server types, before the first fetch")
		all, err := rows.FetchAll(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(rows.Close(ctx)).To(Succeed())
		Expect(all).To(HaveLen(1))
		Expect(all[0]).To(HaveLen(5))
		Expect(all[0][:4]).To(Equal([]any{int64(1), "one", 1.5, true}), "values come back as the column types say")
		Expect(all[0][4]).To(BeAssignableToTypeOf(time.Time{}), "a timestamptz comes back as a time")
		Expect(all[0][4].(time.Time).Equal(at)).To(BeTrue(), "timestamptz %v, want %v", all[0][4], at)

		rows, err = e.Query(ctx, fmt.Sprintf("SELECT id AS renamed, name, score, active, seen_at FROM %s WHERE 1 = 0", table))
		Expect(err).NotTo(HaveOccurred())
		empty := append([]adapter.Column{{Name: "renamed", Type: "int8"}}, want[1:]...)
		Expect(rows.Columns()).To(Equal(empty), "an empty result still describes its columns (aliases included)")
		Expect(rows.FetchAll(ctx)).To(BeEmpty())
		Expect(rows.Close(ctx)).To(Succeed())
	})

	// Two kinds of evidence. The wire: when the first batch is handed over,
	// the result's end (its CommandComplete) must not have reached the
	// driver yet — 25 MiB is far more than socket buffers take in for a
	// driver that has stopped reading after 1000 rows, so only a
	// driver that read the result whole has been sent it all. Memory:
	// streaming 100 000 rows (~25 MiB of payload text) in
	// batches of 1000 may grow the live heap by at most 8 MiB and the heap in
	// use by at most 32 MiB. A driver or adapter that buffers the whole
	// result holds over 25 MiB live. The live heap is measured after a
	// forced GC every 10 batches, so garbage the collector simply has not
	// reached yet cannot pass for buffering (nor hide it). A driver in a
	// backend is measured where it runs: the backend reports its own peak
	// resident memory (process.memory), which may grow by at most 16 MiB; a
	// backend that cannot report it is not applicable — never a pass it
	// cannot prove.
	s.It("streams a 100 000-row result with FetchMany(1000) in bounded client memory", harness.Reqs("FR-012", "T005"), func(ctx SpecContext) {
		const liveBound, inUseBound, backendBound = 8 << 20, 32 << 20, 16 << 20
		var backend processMemory
		if pm, ok := s.Adapter.(processMemory); ok {
			backend = pm
			if _, err := pm.Memory(ctx, false); protocol.IsCategory(err, "unsupported") {
				Skip(harness.NotApplicable + "the backend of " + s.Info.Name + " cannot report its memory (process.memory is unsupported), so streaming in bounded memory cannot be proved for it")
			} else if err != nil {
				harness.HarnessFail("process.memory of %s: %v", s.Info.Name, err)
			}
		}
		obs := harness.Observe(ctx)
		query := bigResult(ctx, obs)
		e, _ := s.Open(ctx, 1)

		seen := make([]bool, bigRows)
		var count, sum int64
		var bad string
		var mem memSampler
		var before protocol.MemoryResult
		if backend != nil {
			var err error
			before, err = backend.Memory(ctx, true)
			Expect(err).NotTo(HaveOccurred(), "process.memory (reset the peak) of %s's backend", s.Info.Name)
		}
		mem.start()
		wire := harness.Wire(e).Watch()
		start := time.Now()
		// Asked as an application reading a large result asks: a driver
		// that streams only when told to (a server-side cursor, a fetch
		// size) is told.
		rows, err := e.Query(adapter.Streaming(ctx), query)
		Expect(err).NotTo(HaveOccurred())
		for batchNo := 1; ; batchNo++ {
			batch, err := rows.FetchMany(ctx, 1000)
			Expect(err).NotTo(HaveOccurred(), "FetchMany batch %d", batchNo)
			if batchNo == 1 {
				// The wire's view, whatever the client's memory does: when
				// the first 1000 rows are handed over, a streaming driver has
				// taken in those and what its socket buffers hold (a few MiB
				// at most); one that reads the whole result first has been
				// sent all 24 MiB, end included.
				sofar := wire.Stats()
				Expect(sofar.CommandTags[fmt.Sprintf("SELECT %d", bigRows)]).To(BeZero(),
					"the whole result (%.1f MiB, its CommandComplete included) had reached the driver before it handed over the first 1000 rows: it reads the result whole instead of streaming it", mib(sofar.BytesToClient))
			}
			if len(batch) == 0 {
				break
			}
			Expect(len(batch)).To(BeNumerically("<=", 1000), "FetchMany(1000) returns at most 1000 rows")
			// Checked by hand, not by Expect per row: gomega's allocations
			// would swamp the heap being measured.
			for _, r := range batch {
				if bad == "" {
					bad = checkBigRow(r, seen)
				}
				if id, ok := r[0].(int64); ok {
					count++
					sum += id
				}
			}
			batch = nil
			mem.sample(batchNo%10 == 0)
		}
		Expect(rows.Close(ctx)).To(Succeed())
		elapsed := time.Since(start)
		mem.sample(true)

		resultBytes := int64(bigRows) * bigPayload
		Expect(bad).To(BeEmpty(), "every row has an id in range, seen once, and its own payload")
		Expect(count).To(Equal(int64(bigRows)), "rows streamed")
		Expect(sum).To(Equal(int64(bigRows)*(bigRows-1)/2), "checksum (sum) of the ids")
		if backend != nil {
			after, err := backend.Memory(ctx, false)
			Expect(err).NotTo(HaveOccurred(), "process.memory of %s's backend", s.Info.Name)
			growth, what := after.Growth(before)
			GinkgoWriter.Printf("%s: %d rows (%.1f MiB of payload) in %s; the backend's %s grew %.1f MiB (resident set from %.1f MiB)\n",
				s.Info.Name, count, mib(resultBytes), elapsed, what, mib(growth), mib(before.RSSBytes))
			Expect(growth).To(BeNumerically("<", backendBound),
				"the backend's %s grew %.1f MiB while streaming %.1f MiB: the result must not be held whole (bound %d MiB)", what, mib(growth), mib(resultBytes), backendBound>>20)
			return
		}
		GinkgoWriter.Printf("%s: %d rows (%.1f MiB of payload) in %s; peak live heap growth %.1f MiB, peak heap-in-use growth %.1f MiB, allocated %.1f MiB\n",
			s.Info.Name, count, mib(resultBytes), elapsed, mib(mem.liveGrowth), mib(mem.inUseGrowth), mib(mem.allocated))
		Expect(mem.allocated).To(BeNumerically(">=", resultBytes),
			"the payload passed through this process's heap (otherwise the measurement proves nothing)")
		Expect(mem.liveGrowth).To(BeNumerically("<", liveBound),
			"live heap growth while streaming %.1f MiB must stay under %d MiB: the result must not be held whole", mib(resultBytes), liveBound>>20)
		Expect(mem.inUseGrowth).To(BeNumerically("<", inUseBound),
			"heap in use while streaming must stay within %d MiB of where it started", inUseBound>>20)
		// Serial: the memory measured is a whole process's (this one, or a
		// backend every adapter of a language shares).
	}, Serial, SpecTimeout(90*time.Second))

	s.It("returns the connection when a cursor is closed early, with pool max 1", harness.Reqs("FR-012", "FR-005", "EC-2", "T005", "T014"), func(ctx SpecContext) {
		obs := harness.Observe(ctx)
		query := bigResult(ctx, obs)
		e, _ := s.Open(ctx, 1)

		rows, err := e.Query(adapter.Streaming(ctx), query)
		Expect(err).NotTo(HaveOccurred())
		first, err := rows.FetchMany(ctx, 10)
		Expect(err).NotTo(HaveOccurred())
		Expect(first).To(HaveLen(10), "the first 10 rows of 100 000")
		closeCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		start := time.Now()
		Expect(rows.Close(closeCtx)).To(Succeed(), "closing a cursor that has rows left")

		// The pool has one connection: this query can only run if Close gave
		// it back, clean (no rows of the abandoned result left to read).
		next, cancelNext := context.WithTimeout(ctx, 5*time.Second)
		defer cancelNext()
		got, err := adapter.QueryAll(next, e, "SELECT 42 AS answer")
		elapsed := time.Since(start)
		Expect(err).NotTo(HaveOccurred(), "with pool max 1 the next query must get the connection back within 5 s")
		Expect(got).To(Equal([][]any{{int64(42)}}), "the next query sees its own result, not the rest of the closed one")
		GinkgoWriter.Printf("%s: close after 10 rows and next query took %s\n", s.Info.Name, elapsed)

		// And the connection is fully usable again, on a fresh large result.
		got, err = adapter.QueryAll(next, e, query+" LIMIT 3")
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(HaveLen(3))
	})
})

// processMemory is what an adapter whose driver runs in another process
// (a backend) offers to report that process's memory.
type processMemory interface {
	Memory(ctx context.Context, resetPeak bool) (protocol.MemoryResult, error)
}

// tenRowTable creates a spec-owned table holding ids 1…10, inserted in a
// scrambled order so that ORDER BY must do the ordering.
func tenRowTable(ctx context.Context, obs *harness.Observer) string {
	GinkgoHelper()
	table := harness.NewTable(ctx, obs, "cur_ten", "id {bigint} PRIMARY KEY")
	for _, i := range []int64{4, 9, 1, 7, 10, 2, 6, 3, 8, 5} {
		obs.Exec(ctx, fmt.Sprintf("INSERT INTO %s (id) VALUES ($1)", table), i)
	}
	return table
}

// bigResult creates the digits table and returns the query of the 100 000
// rows (id, payload), unordered: ordering is not what is certified, and an
// unordered cross product streams from the server without a sort.
func bigResult(ctx context.Context, obs *harness.Observer) string {
	GinkgoHelper()
	digits := harness.NewTable(ctx, obs, "cur_digits", "d {bigint} PRIMARY KEY, pad {text} NOT NULL")
	for d := int64(0); d < 10; d++ {
		obs.Exec(ctx, fmt.Sprintf("INSERT INTO %s (d, pad) VALUES ($1, $2)", digits), d, pad(d))
	}
	return fmt.Sprintf("SELECT a.d * 10000 + b.d * 1000 + c.d * 100 + x.d * 10 + y.d AS id, x.pad || y.pad AS payload "+
		"FROM %[1]s a, %[1]s b, %[1]s c, %[1]s x, %[1]s y", digits)
}

func pad(d int64) string { return strings.Repeat(string(rune('a'+d)), padBytes) }

var pads = func() (p [10]string) {
	for d := range p {
		p[d] = pad(int64(d))
	}
	return p
}()

// checkBigRow checks one (id, payload) row of the big result, without
// allocating: the id is new and in range, the payload is the pads of its
// last two digits. It returns what is wrong, or "".
func checkBigRow(r []any, seen []bool) string {
	if len(r) != 2 {
		return fmt.Sprintf("row has %d columns, want 2: %#v", len(r), r)
	}
	id, ok := r[0].(int64)
	if !ok {
		return fmt.Sprintf("id is %T, want int64: %#v", r[0], r[0])
	}
	if id < 0 || id >= bigRows || seen[id] {
		return fmt.Sprintf("id %d out of range or seen twice", id)
	}
	seen[id] = true
	p, ok := r[1].(string)
	if !ok || len(p) != bigPayload || p[:padBytes] != pads[id/10%10] || p[padBytes:] != pads[id%10] {
		return fmt.Sprintf("payload of row %d is wrong: %.40q…", id, fmt.Sprint(r[1]))
	}
	return ""
}

func seq(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// memSampler tracks this process's heap while a result streams: the growth
// of the live heap (after a forced GC) and of the heap in use over where it
// started, and the bytes allocated meanwhile.
type memSampler struct {
	baseLive, baseInUse, baseAlloc uint64
	liveGrowth, inUseGrowth        int64
	allocated                      int64
}

func (m *memSampler) start() {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.baseLive, m.baseInUse, m.baseAlloc = ms.HeapAlloc, ms.HeapInuse, ms.TotalAlloc
}

// sample reads the heap in use; with gc it first collects, so HeapAlloc is
// the live heap.
func (m *memSampler) sample(gc bool) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.inUseGrowth = max(m.inUseGrowth, int64(ms.HeapInuse)-int64(m.baseInUse))
	m.allocated = int64(ms.TotalAlloc - m.baseAlloc)
	if gc {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		m.liveGrowth = max(m.liveGrowth, int64(ms.HeapAlloc)-int64(m.baseLive))
	}
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
