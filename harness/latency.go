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
	e, err := s.Adapter.Open(ctx, adapter.OpenOptions{DSN: Target().DSN, PoolMax: 1, ApplicationName: UniqueName("pgwc_bench")})
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", s.Info.Name, err)
	}
	return e.Bench, e.Close, nil
}
