package adapter

import (
	"fmt"
	"sync"
)

var (
	mu       sync.Mutex
	registry []Adapter
)

// Register makes an adapter selectable by name. Built-ins register in their
// package's init; a driver author's module registers its own before running
// the suite's spec packages. A second adapter with the same name panics: the
// tree would otherwise certify whichever came last.
func Register(a Adapter) {
	mu.Lock()
	defer mu.Unlock()
	name := a.Info().Name
	for _, x := range registry {
		if x.Info().Name == name {
			panic(fmt.Sprintf("adapter %q registered twice", name))
		}
	}
	registry = append(registry, a)
}

// Lookup returns the adapter registered under name.
func Lookup(name string) (Adapter, bool) {
	mu.Lock()
	defer mu.Unlock()
	for _, a := range registry {
		if a.Info().Name == name {
			return a, true
		}
	}
	return nil, false
}

// Names lists registered adapters in registration order.
func Names() []string {
	mu.Lock()
	defer mu.Unlock()
	out := make([]string, len(registry))
	for i, a := range registry {
		out[i] = a.Info().Name
	}
	return out
}
