package harness

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgwire-conformance/pgwire-conformance/adapter/pgxadapter"
	"github.com/pgwire-conformance/pgwire-conformance/measure"
)

// BenchFunc runs a statement n times and returns each run's duration.
type BenchFunc func(ctx context.Context, sql string, n int) ([]time.Duration, error)

// Baseline is the FR-013 reference for Go adapters: one bare pgx.Conn, no
// pool, no database/sql, timed by the same loop as the pgx adapter.
type Baseline struct {
	Name string
	conn *pgx.Conn
}

// OpenBaseline connects the baseline; Close it when done.
func OpenBaseline(ctx context.Context) (*Baseline, error) {
	c, err := pgx.Connect(ctx, Target().DSN)
	if err != nil {
		return nil, fmt.Errorf("baseline: connect to %s: %w", Target().RedactedDSN(), err)
	}
	return &Baseline{Name: "pgx.Conn (raw, extended protocol)", conn: c}, nil
}

// Bench times sql n times on the baseline connection.
func (b *Baseline) Bench(ctx context.Context, sql string, n int) ([]time.Duration, error) {
	return pgxadapter.BenchLoop(ctx, b.conn, sql, n)
}

// Close closes the baseline connection.
func (b *Baseline) Close(ctx context.Context) error { return b.conn.Close(ctx) }

// Interleave measures subject and baseline in alternating blocks of
// blockSize until each side has iterations samples, after a warm-up of one
// block each. Which side goes first in a block is random, so neither always
// profits from a warm cache or a quiet moment.
func Interleave(ctx context.Context, subject, baseline BenchFunc, sql string, iterations, blockSize int, seed uint64) (measure.Comparison, error) {
	if _, err := subject(ctx, sql, blockSize); err != nil {
		return measure.Comparison{}, fmt.Errorf("warm-up (subject): %w", err)
	}
	if _, err := baseline(ctx, sql, blockSize); err != nil {
		return measure.Comparison{}, fmt.Errorf("warm-up (baseline): %w", err)
	}
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	var blocks []measure.Block
	for done := 0; done < iterations; done += blockSize {
		n := min(blockSize, iterations-done)
		var b measure.Block
		var err error
		if rng.IntN(2) == 0 {
			if b.Subject, err = subject(ctx, sql, n); err == nil {
				b.Baseline, err = baseline(ctx, sql, n)
			}
		} else {
			if b.Baseline, err = baseline(ctx, sql, n); err == nil {
				b.Subject, err = subject(ctx, sql, n)
			}
		}
		if err != nil {
			return measure.Compare(blocks), fmt.Errorf("block %d: %w", len(blocks)+1, err)
		}
		blocks = append(blocks, b)
	}
	return measure.Compare(blocks), nil
}
