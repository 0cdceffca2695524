package pgxexecmode_test

import (
	"testing"

	"github.com/jackc/pgx/v5"
	_ "github.com/onsi/ginkgo/v2" // lets the ginkgo CLI run this package as a suite
	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/adapter/pgxadapter"
	"github.com/pgwire-conformance/pgwire-conformance/conformance"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Options{
		Adapters:       []adapter.Adapter{pgxadapter.New("pgx-exec", pgx.QueryExecModeExec)},
		Implementation: conformance.Implementation{Name: "pgx in QueryExecModeExec", Version: "v5.12.0", URL: "https://github.com/jackc/pgx"},
		Expectations:   "expectations.yaml",
	})
}
