// Package harness is what spec packages build on: the run's configuration and
// target, the per-adapter spec generator, the requirement-aware It, the
// independent observer connection and per-spec tables.
package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/config"
	"github.com/pgwire-conformance/pgwire-conformance/expectations"
	"github.com/pgwire-conformance/pgwire-conformance/profile"
	"github.com/pgwire-conformance/pgwire-conformance/target"
)

var (
	mu  sync.Mutex
	cfg *config.Config
	tgt *target.Target
	exp expectations.List
	// treeErrors are mistakes found while building the spec tree (unknown
	// requirement IDs, empty IDs); the suite fails before any spec on them.
	treeErrors []string
)

// Configure sets the run's configuration. The suite calls it before
// RunSpecs, since the spec tree (one branch per adapter) depends on it.
func Configure(c config.Config) {
	mu.Lock()
	defer mu.Unlock()
	cfg = &c
}

// SetExpectations installs the expected-failure list of this run.
func SetExpectations(l expectations.List) {
	mu.Lock()
	defer mu.Unlock()
	exp = l
}

// Expected returns the expectation for an adapter's spec, if listed.
func Expected(adapterName, specID string) (expectations.Expectation, bool) {
	mu.Lock()
	defer mu.Unlock()
	return exp.Lookup(adapterName, specID)
}

// Config returns the run's configuration; it panics when the suite forgot
// to configure, which is a harness bug, not a driver failure.
func Config() config.Config {
	mu.Lock()
	defer mu.Unlock()
	if cfg == nil {
		panic("harness: Configure was not called before the spec tree was built")
	}
	return *cfg
}

// SetTarget records the running target (on every parallel process).
func SetTarget(t target.Target) {
	mu.Lock()
	defer mu.Unlock()
	tgt = &t
}

// Profile returns the dialect profile of the run.
func Profile() profile.Profile {
	p, err := profile.ForTarget(Config().Profile, Config().TargetName())
	if err != nil {
		panic("harness: " + err.Error()) // config validation rules this out
	}
	return p
}

// Target returns the running target.
func Target() target.Target {
	mu.Lock()
	defer mu.Unlock()
	if tgt == nil {
		panic("harness: no target: SynchronizedBeforeSuite did not run")
	}
	return *tgt
}

// EncodeTarget and DecodeTarget carry the target from process 1 to the others.
func EncodeTarget(t target.Target) []byte {
	b, _ := json.Marshal(t)
	return b
}

// DecodeTarget is the inverse of EncodeTarget.
func DecodeTarget(b []byte) (target.Target, error) {
	var t target.Target
	if err := json.Unmarshal(b, &t); err != nil {
		return t, fmt.Errorf("decode target from process 1: %w", err)
	}
	return t, nil
}

// Selected returns the adapters this run certifies, in configured order.
func Selected() []adapter.Adapter {
	var out []adapter.Adapter
	for _, name := range Config().Adapters {
		a, ok := adapter.Lookup(name)
		if !ok {
			panic(fmt.Sprintf("harness: adapter %q is not registered", name))
		}
		out = append(out, a)
	}
	return out
}

// TreeErrors returns the mistakes found while building the tree.
func TreeErrors() []string {
	mu.Lock()
	defer mu.Unlock()
	out := append([]string(nil), treeErrors...)
	sort.Strings(out)
	return out
}

func treeError(format string, args ...any) {
	mu.Lock()
	defer mu.Unlock()
	treeErrors = append(treeErrors, fmt.Sprintf(format, args...))
}

// detach returns a context for cleanup that outlives a cancelled spec but
// still has a deadline.
func detach(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), Config().OpTimeout)
}

// TargetIfSet returns the target when the suite got as far as starting it.
func TargetIfSet() (target.Target, bool) {
	mu.Lock()
	defer mu.Unlock()
	if tgt == nil {
		return target.Target{}, false
	}
	return *tgt, true
}

// isolator, set on the process that holds the target's containers, stills
// every driver backend but one for the length of a measurement.
var isolator func(ctx context.Context, keepBackend string) (resume func())

// SetIsolator installs how Isolate stills the other backends.
func SetIsolator(f func(ctx context.Context, keepBackend string) (resume func())) {
	mu.Lock()
	defer mu.Unlock()
	isolator = f
}

// Isolate stills every driver backend but keepBackend ("" for none) while
// a timing spec measures, and returns how to resume them: the CPU the
// timed driver runs on is shared with them. A no-op on processes that do
// not hold the containers (timing specs are Serial: Ginkgo runs them on
// process 1, which does).
func Isolate(ctx context.Context, keepBackend string) (resume func()) {
	mu.Lock()
	f := isolator
	mu.Unlock()
	if f == nil {
		return func() {}
	}
	return f(ctx, keepBackend)
}

// BackendOf is the backend an adapter's driver runs in ("" for an
// in-process adapter).
func BackendOf(a adapter.Adapter) string {
	if b, ok := a.(interface{ Backend() string }); ok {
		return b.Backend()
	}
	return ""
}
