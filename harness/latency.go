package harness

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/adapter/pgxadapter"
	"github.com/pgwire-conformance/pgwire-conformance/interference"
	"github.com/pgwire-conformance/pgwire-conformance/measure"
)

// BenchFunc runs a statement n times and returns each run's duration.
type BenchFunc func(ctx context.Context, sql string, n int) ([]time.Duration, error)

// Side opens one side of a comparison on fresh server connections and
// returns its bench function and how to close it.
type Side func(ctx context.Context) (BenchFunc, func(context.Context) error, error)

// BaselineName names the FR-013 reference for Go adapters.
const BaselineName = "pgx.Conn (raw, extended protocol)"

// How a side's iterations are timed, as reports name it.
const (
	// TimingPath: the harness times what an application runs through the
	// adapter's Engine: Query, FetchAll, Close (in-process adapters, and
	// the raw pgx.Conn doing the same work).
	TimingPath = "harness-timed Query+FetchAll+Close through the adapter's Engine (pool of 1)"
	// TimingBench: Engine.Bench, timed next to the driver: inside the
	// backend for remote adapters, so no harness round trip enters.
	TimingBench = "Engine.Bench (engine.bench, timed inside the backend)"
)

// InProcess reports whether the harness can time an adapter's public path
// itself: a Go adapter runs in the test process. A remote adapter's calls
// cross a socket to its backend, whose round trip would swamp the figures,
// so it is timed inside the backend (engine.bench, which PROTOCOL.md
// requires to run the query request's code path).
func InProcess(info adapter.Info) bool { return info.Language == "go" }

// TimingOf names how FR-013 times an adapter.
func TimingOf(info adapter.Info) string {
	if InProcess(info) {
		return TimingPath
	}
	return TimingBench
}

// Baseline is the FR-013 reference for Go adapters: one bare pgx.Conn, no
// pool, no database/sql, doing the work PathSide times an adapter doing.
func Baseline(ctx context.Context) (BenchFunc, func(context.Context) error, error) {
	c, err := rawConn(ctx)
	if err != nil {
		return nil, nil, err
	}
	bench := func(ctx context.Context, sql string, n int) ([]time.Duration, error) {
		return RawLoop(ctx, c, sql, n)
	}
	return bench, c.Close, nil
}

// benchBaseline is the like-for-like reference of a Go adapter's
// Engine.Bench (pgxadapter.BenchLoop: rows read, values not decoded), for
// the cross-check only.
func benchBaseline(ctx context.Context) (BenchFunc, func(context.Context) error, error) {
	c, err := rawConn(ctx)
	if err != nil {
		return nil, nil, err
	}
	bench := func(ctx context.Context, sql string, n int) ([]time.Duration, error) {
		return pgxadapter.BenchLoop(ctx, c, sql, n)
	}
	return bench, c.Close, nil
}

func rawConn(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(Target().DSN)
	if err != nil {
		return nil, fmt.Errorf("baseline: parse the target's DSN: %w", err)
	}
	cfg.RuntimeParams["application_name"] = UniqueName("pgwc_baseline")
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("baseline: connect to %s: %w", Target().RedactedDSN(), err)
	}
	return c, nil
}

// RawLoop times n iterations of an application's work on a bare pgx.Conn:
// Query, every value decoded (rows.Values), Close. It is the FR-013
// baseline of the Go adapters.
func RawLoop(ctx context.Context, c *pgx.Conn, sql string, n int) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		start := time.Now()
		rows, err := c.Query(ctx, sql)
		if err != nil {
			return out, err
		}
		for rows.Next() {
			if _, err := rows.Values(); err != nil {
				rows.Close()
				return out, err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return out, err
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

// PathLoop times n iterations of an application's work through an
// adapter's Engine: Query, FetchAll, Close. Exec is left out on purpose:
// measured, every Go adapter's Exec of SELECT 1 is within 1% of pgx.Conn's
// while its Query path differs by up to 18%, so timing both in one
// iteration would halve the differences FR-013 is about at twice the cost
// (docs/fr-013.md).
func PathLoop(ctx context.Context, e adapter.Engine, sql string, n int) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		start := time.Now()
		rows, err := e.Query(ctx, sql)
		if err != nil {
			return out, err
		}
		_, err = rows.FetchAll(ctx)
		if cerr := rows.Close(ctx); err == nil {
			err = cerr
		}
		if err != nil {
			return out, err
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

// PathSide opens a fresh engine of a (one connection) per round and times
// its public path with PathLoop.
func PathSide(a adapter.Adapter) Side {
	return func(ctx context.Context) (BenchFunc, func(context.Context) error, error) {
		e, err := openForBench(ctx, a)
		if err != nil {
			return nil, nil, err
		}
		bench := func(ctx context.Context, sql string, n int) ([]time.Duration, error) {
			return PathLoop(ctx, e, sql, n)
		}
		return bench, e.Close, nil
	}
}

// AdapterSide opens a fresh engine of a (one connection) per round and
// times with its Engine.Bench, i.e. next to the driver (inside the backend
// for remote adapters).
func AdapterSide(a adapter.Adapter) Side {
	return func(ctx context.Context) (BenchFunc, func(context.Context) error, error) {
		e, err := openForBench(ctx, a)
		if err != nil {
			return nil, nil, err
		}
		return e.Bench, e.Close, nil
	}
}

func openForBench(ctx context.Context, a adapter.Adapter) (adapter.Engine, error) {
	e, err := a.Open(ctx, adapter.OpenOptions{DSN: Target().DSN, PoolMax: 1, ApplicationName: UniqueName("pgwc_bench")})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", a.Info().Name, err)
	}
	return e, nil
}

// SideOf is how FR-013 times adapter a when the subject is described by
// subject: the public path for in-process subjects, Engine.Bench for
// remote ones. Both sides of a comparison are timed the same way.
func SideOf(subject adapter.Info, a adapter.Adapter) Side {
	if InProcess(subject) {
		return PathSide(a)
	}
	return AdapterSide(a)
}

// Side opens the subject adapter for one round, timed as FR-013 times it.
func (s *Subject) Side(ctx context.Context) (BenchFunc, func(context.Context) error, error) {
	return SideOf(s.Info, s.Adapter)(ctx)
}

// CrossCheckOf is the comparison reported next to an in-process adapter's
// verdict, never deciding it: its own Engine.Bench against the raw
// driver's bench loop, the figure FR-013 used to rest on. ok is false for
// remote adapters, whose Engine.Bench is the verdict's source.
func CrossCheckOf(s *Subject) (subject, baseline Side, ok bool) {
	if !InProcess(s.Info) {
		return nil, nil, false
	}
	return AdapterSide(s.Adapter), benchBaseline, true
}

// Plan is one sequential comparison.
type Plan struct {
	SQL string
	// PerRound is the timed iterations per side per round, in blocks of
	// BlockSize alternating in random order, after WarmUp untimed ones.
	PerRound, BlockSize, WarmUp int
	// SideBudget, when set, lowers PerRound (down to MinPerRound) so that
	// each side of a round takes about that long, judged by the round's
	// warm-up: a slow path (a backend, or iris-pgwire's ~4 ms round trip)
	// gets fewer runs per round, not a longer spec.
	SideBudget  time.Duration
	MinPerRound int
	Method      measure.Method
	// Threshold stops the comparison as soon as its interval clears it
	// (measure.Sequential); ≤ 0 runs Method.MinRounds rounds.
	Threshold float64
	Seed      uint64
	// Progress, when set, sees every round's p50 ratio as it completes.
	Progress func(round int, c measure.Comparison)
}

// Interleave compares subject with baseline round by round until the plan
// stops. Each round opens both sides on fresh connections, warms them up,
// then alternates blocks of runs in random order. Fresh connections per
// round matter: which core a server backend lands on biases a single
// connection by ±10% on a small machine (measured with pgx against itself),
// so one pair of connections cannot decide a 10% threshold; many pairs can,
// and the interval is made from the spread between them.
//
// A round that would not finish before ctx's deadline is not started: the
// comparison returns what it has (usually inconclusive) instead of failing
// the spec on its timeout.
func Interleave(ctx context.Context, subject, baseline Side, p Plan) (measure.Comparison, error) {
	rng := rand.New(rand.NewPCG(p.Seed, 0x9e3779b97f4a7c15))
	seq := measure.Sequential{Method: p.Method, Threshold: p.Threshold}
	var slowest time.Duration
	var disturbed []interference.Load
	result := func() measure.Comparison {
		c := seq.Result()
		c.Discarded = len(disturbed)
		for _, l := range disturbed {
			if l.CPUs() > c.ForeignMax {
				c.ForeignMax, c.ForeignTop = l.CPUs(), strings.Join(l.Top, ", ")
			}
		}
		return c
	}
	for {
		if dl, ok := ctx.Deadline(); ok && seq.Rounds() >= 2 && time.Until(dl) < 3*slowest {
			return result(), nil
		}
		start := time.Now()
		watch := watchForeign()
		r, err := round(ctx, subject, baseline, p, rng)
		if err != nil {
			return result(), fmt.Errorf("round %d: %w", seq.Rounds()+1, err)
		}
		slowest = max(slowest, time.Since(start))
		// A round taken while other processes had the CPUs is no evidence
		// of the driver's cost: it is measured again, up to a budget.
		load, watched := watch()
		if watched && load.Exceeds(ForeignBound) {
			disturbed = append(disturbed, load)
			if p.Progress != nil {
				p.Progress(seq.Rounds()+len(disturbed), measure.Comparison{Discarded: 1, ForeignMax: load.CPUs(), ForeignTop: strings.Join(load.Top, ", ")})
			}
			if len(disturbed) >= max(p.Method.MaxRounds, 1) {
				return result(), nil
			}
			continue
		}
		stop := seq.Add(r)
		if p.Progress != nil {
			rc := measure.Compare([]measure.Round{r}, p.Method)
			rc.ForeignMax, rc.ForeignTop = load.CPUs(), strings.Join(load.Top, ", ")
			p.Progress(seq.Rounds(), rc)
		}
		if stop {
			return result(), nil
		}
	}
}

func round(ctx context.Context, subject, baseline Side, p Plan, rng *rand.Rand) (r measure.Round, err error) {
	sb, sclose, err := subject(ctx)
	if err != nil {
		return r, fmt.Errorf("open subject: %w", err)
	}
	defer func() { err = errors.Join(err, closeSide("subject", sclose, ctx)) }()
	bb, bclose, err := baseline(ctx)
	if err != nil {
		return r, fmt.Errorf("open baseline: %w", err)
	}
	defer func() { err = errors.Join(err, closeSide("baseline", bclose, ctx)) }()

	ws, err := sb(ctx, p.SQL, p.WarmUp)
	if err != nil {
		return r, fmt.Errorf("warm-up (subject): %w", err)
	}
	wb, err := bb(ctx, p.SQL, p.WarmUp)
	if err != nil {
		return r, fmt.Errorf("warm-up (baseline): %w", err)
	}
	n := p.perRound(max(warmedUp(ws), warmedUp(wb)))
	block := max(1, p.BlockSize)
	for done := 0; done < n; done += block {
		k := min(block, n-done)
		first, second := sb, bb
		subjectFirst := rng.IntN(2) == 0
		if !subjectFirst {
			first, second = bb, sb
		}
		d1, err := first(ctx, p.SQL, k)
		if err != nil {
			return r, err
		}
		d2, err := second(ctx, p.SQL, k)
		if err != nil {
			return r, err
		}
		if !subjectFirst {
			d1, d2 = d2, d1
		}
		r.Subject = append(r.Subject, d1...)
		r.Baseline = append(r.Baseline, d2...)
	}
	return r, nil
}

// perRound is the runs per side of a round whose round trip is about rtt
// (see SideBudget), a multiple of the block size.
func (p Plan) perRound(rtt time.Duration) int {
	n := p.PerRound
	if p.SideBudget > 0 && rtt > 0 {
		n = min(n, max(p.MinPerRound, int(p.SideBudget/rtt)))
	}
	if b := max(1, p.BlockSize); n%b != 0 {
		n += b - n%b
	}
	return n
}

// warmedUp is the typical duration of a warm-up's second half (the first
// runs pay for connecting, preparing, caching).
func warmedUp(d []time.Duration) time.Duration {
	return measure.Summarize(d[len(d)/2:]).P50
}

func closeSide(name string, close func(context.Context) error, ctx context.Context) error {
	cctx, cancel := detach(ctx)
	defer cancel()
	if err := close(cctx); err != nil {
		return fmt.Errorf("close %s: %w", name, err)
	}
	return nil
}

// BaselineOf is the FR-013 reference of an adapter and its name: the raw
// pgx.Conn (Baseline) when the adapter declares none (Go adapters), else
// the adapter it names (Info.Baseline: e.g. an async adapter's sync twin),
// which must be registered; timed as the adapter is (SideOf).
func BaselineOf(info adapter.Info) (string, Side, error) {
	if info.Baseline == "" {
		return BaselineName, Baseline, nil
	}
	a, ok := adapter.Lookup(info.Baseline)
	if !ok {
		return "", nil, fmt.Errorf("adapter %s names baseline %q, which is not registered", info.Name, info.Baseline)
	}
	return info.Baseline, SideOf(info, a), nil
}

// RawBaselineOf is the raw driver an adapter's T023 overhead is measured
// against: where its chain of baselines ends, at the raw pgx.Conn or at an
// adapter that names itself (the raw-driver baseline of its backend).
func RawBaselineOf(info adapter.Info) (string, Side, error) {
	subject := info
	seen := map[string]bool{}
	for info.Baseline != "" && info.Baseline != info.Name {
		if seen[info.Name] {
			return "", nil, fmt.Errorf("the baselines of adapter %s form a cycle", info.Name)
		}
		seen[info.Name] = true
		a, ok := adapter.Lookup(info.Baseline)
		if !ok {
			return "", nil, fmt.Errorf("adapter %s names baseline %q, which is not registered", info.Name, info.Baseline)
		}
		info = a.Info()
	}
	if info.Baseline == "" {
		return BaselineName, Baseline, nil
	}
	a, _ := adapter.Lookup(info.Name)
	if a == nil {
		return "", nil, fmt.Errorf("raw baseline %s is not registered", info.Name)
	}
	return info.Name, SideOf(subject, a), nil
}

// ForeignBound is the most CPU (in CPUs' worth, averaged over a round) that
// processes other than the harness, the target and the backends may take
// during a timing round (beyond one 10 ms tick of /proc's resolution)
// before the round is measured again. A spinning process on the client's
// CPU (0.50-0.64 measured) moved psycopg-async's FR-013 ratio from 1.05 to
// 1.17 on this project's machine; a quiet machine read 0.00-0.08.
const ForeignBound = 0.25

// watchForeign starts watching what other processes take of the CPUs and
// returns how to read it: ok is false where the harness cannot tell (no
// /proc, or not the process that holds the containers).
func watchForeign() func() (interference.Load, bool) {
	mu.Lock()
	ours := oursFn
	mu.Unlock()
	if ours == nil {
		return func() (interference.Load, bool) { return interference.Load{}, false }
	}
	before, err := interference.Take(ours())
	if err != nil {
		return func() (interference.Load, bool) { return interference.Load{}, false }
	}
	return func() (interference.Load, bool) {
		after, err := interference.Take(ours())
		if err != nil {
			return interference.Load{}, false
		}
		return interference.Foreign(before, after), true
	}
}

var oursFn func() interference.Ours

// SetOurs tells the harness which processes are part of a measurement (the
// harness, the target's and the backends' containers): every other
// process's CPU during a timing round is interference.
func SetOurs(f func() interference.Ours) {
	mu.Lock()
	defer mu.Unlock()
	oursFn = f
}
