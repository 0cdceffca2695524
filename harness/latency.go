package harness

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/adapter/pgxadapter"
	"github.com/pgwire-conformance/pgwire-conformance/measure"
)

// BenchFunc runs a statement n times and returns each run's duration.
type BenchFunc func(ctx context.Context, sql string, n int) ([]time.Duration, error)

// Side opens one side of a comparison on fresh server connections and
// returns its bench function and how to close it.
type Side func(ctx context.Context) (BenchFunc, func(context.Context) error, error)

// BaselineName names the FR-013 reference for Go adapters.
const BaselineName = "pgx.Conn (raw, extended protocol)"

// Baseline is the FR-013 reference for Go adapters: one bare pgx.Conn, no
// pool, no database/sql, timed by the same loop as the pgx adapter.
func Baseline(ctx context.Context) (BenchFunc, func(context.Context) error, error) {
	c, err := pgx.Connect(ctx, Target().DSN)
	if err != nil {
		return nil, nil, fmt.Errorf("baseline: connect to %s: %w", Target().RedactedDSN(), err)
	}
	bench := func(ctx context.Context, sql string, n int) ([]time.Duration, error) {
		return pgxadapter.BenchLoop(ctx, c, sql, n)
	}
	return bench, c.Close, nil
}

// Interleave compares subject with baseline over rounds. Each round opens
// both sides on fresh connections, warms them up, then alternates blocks
// of blockSize runs in random order until each side has its share of
// iterations. Fresh connections per round matter: which core a server
// backend lands on biases a single connection by ±10% on a small machine
// (measured with pgx against itself), so one pair of connections cannot
// decide a 10% threshold; many pairs can.
func Interleave(ctx context.Context, subject, baseline Side, sql string, iterations, rounds, blockSize int, seed uint64) (measure.Comparison, error) {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	perRound := (iterations + rounds - 1) / rounds
	var all []measure.Block
	for r := 0; r < rounds; r++ {
		b, err := round(ctx, subject, baseline, sql, perRound, blockSize, rng)
		if err != nil {
			return measure.Compare(all, seed), fmt.Errorf("round %d: %w", r+1, err)
		}
		all = append(all, b)
	}
	return measure.Compare(all, seed), nil
}

func round(ctx context.Context, subject, baseline Side, sql string, n, blockSize int, rng *rand.Rand) (measure.Block, error) {
	var b measure.Block
	sb, sclose, err := subject(ctx)
	if err != nil {
		return b, fmt.Errorf("open subject: %w", err)
	}
	defer sclose(context.WithoutCancel(ctx))
	bb, bclose, err := baseline(ctx)
	if err != nil {
		return b, fmt.Errorf("open baseline: %w", err)
	}
	defer bclose(context.WithoutCancel(ctx))

	const warmUp = 50
	if _, err := sb(ctx, sql, warmUp); err != nil {
		return b, fmt.Errorf("warm-up (subject): %w", err)
	}
	if _, err := bb(ctx, sql, warmUp); err != nil {
		return b, fmt.Errorf("warm-up (baseline): %w", err)
	}
	for done := 0; done < n; done += blockSize {
		k := min(blockSize, n-done)
		var ds, db []time.Duration
		var err error
		if rng.IntN(2) == 0 {
			if ds, err = sb(ctx, sql, k); err == nil {
				db, err = bb(ctx, sql, k)
			}
		} else {
			if db, err = bb(ctx, sql, k); err == nil {
				ds, err = sb(ctx, sql, k)
			}
		}
		if err != nil {
			return b, err
		}
		b.Subject = append(b.Subject, ds...)
		b.Baseline = append(b.Baseline, db...)
	}
	return b, nil
}

// Side opens the subject adapter on fresh connections for one round.
func (s *Subject) Side(ctx context.Context) (BenchFunc, func(context.Context) error, error) {
	return AdapterSide(s.Adapter)(ctx)
}

// AdapterSide opens a fresh engine of a (one connection) per round and
// times with its Engine.Bench, i.e. next to the driver (inside the backend
// for remote adapters).
func AdapterSide(a adapter.Adapter) Side {
	return func(ctx context.Context) (BenchFunc, func(context.Context) error, error) {
		e, err := a.Open(ctx, adapter.OpenOptions{DSN: Target().DSN, PoolMax: 1, ApplicationName: UniqueName("pgwc_bench")})
		if err != nil {
			return nil, nil, fmt.Errorf("open %s: %w", a.Info().Name, err)
		}
		return e.Bench, e.Close, nil
	}
}

// BaselineOf is the FR-013 reference of an adapter and its name: the raw
// pgx.Conn (Baseline) when the adapter declares none (Go adapters), else
// the adapter it names (Info.Baseline: e.g. an async adapter's sync twin),
// which must be registered.
func BaselineOf(info adapter.Info) (string, Side, error) {
	if info.Baseline == "" {
		return BaselineName, Baseline, nil
	}
	a, ok := adapter.Lookup(info.Baseline)
	if !ok {
		return "", nil, fmt.Errorf("adapter %s names baseline %q, which is not registered", info.Name, info.Baseline)
	}
	return info.Baseline, AdapterSide(a), nil
}

// RawBaselineOf is the raw driver an adapter's T023 overhead is measured
// against: where its chain of baselines ends, at the raw pgx.Conn or at an
// adapter that names itself (the raw-driver baseline of its backend).
func RawBaselineOf(info adapter.Info) (string, Side, error) {
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
	return info.Name, AdapterSide(a), nil
}
