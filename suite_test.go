// The suite of this repository: the built-in adapters certified against the
// configured target, through the same library call a driver repository
// makes (package conformance). Flags go after `--`, e.g.
// `go tool ginkgo -p . -- -pgwc.adapters=pq`.
package pgwireconformance_test

import (
	"testing"

	_ "github.com/onsi/ginkgo/v2" // marks the package as a Ginkgo suite for the ginkgo CLI (-p, filters)

	"github.com/pgwire-conformance/pgwire-conformance/conformance"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Options{})
}
