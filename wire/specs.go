package wire

import (
	"context"
	"fmt"
	"math/big"
	"strings"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/harness"
)

// flowDoc is the protocol chapter every spec cites a section of.
const flowDoc = "https://www.postgresql.org/docs/17/protocol-flow.html"

// checks names the protocol section a spec checks, in its report.
func checks(section string) {
	ginkgo.By(fmt.Sprintf("checks PostgreSQL 17 protocol, Message Flow, %s (%s)", section, flowDoc))
}

// Sections of the protocol's Message Flow (PostgreSQL 17, chapter 53.2).
const (
	secStartup     = "53.2.1 Start-up"
	secSimple      = "53.2.2 Simple Query"
	secExtended    = "53.2.3 Extended Query"
	secPipelining  = "53.2.4 Pipelining"
	secCopy        = "53.2.6 COPY Operations"
	secAsync       = "53.2.7 Asynchronous Operations"
	secCancel      = "53.2.8 Canceling Requests in Progress"
	secTermination = "53.2.9 Termination"
	secSSL         = "53.2.10 SSL Session Encryption"
)

// notesColumns is a spec table of (id, note), both nullable so that a
// statement a server runs with NULL parameters leaves a trace.
const notesColumns = "id {bigint}, note {text}"

// lit writes v as an SQL literal of the run's profile.
func lit(v any) string {
	ginkgo.GinkgoHelper()
	s, err := harness.Profile().Literal(v)
	if err != nil {
		harness.HarnessFail("literal %#v: %v", v, err)
	}
	return s
}

// observed reads rows through the observer, as text ("NULL" for NULL). Its
// failure is the spec's (a Gomega failure), not a harness error: these
// reads check what the server did — a table a statement dropped, a row it
// wrote with NULLs — so they must be able to fail the spec.
func observed(ctx context.Context, obs *harness.Observer, sql string) [][]string {
	ginkgo.GinkgoHelper()
	rows, err := obs.TryRows(ctx, sql)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "the observer reads %q", sql)
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = make([]string, len(r))
		for j, v := range r {
			if v == nil {
				out[i][j] = "NULL"
			} else {
				out[i][j] = *v
			}
		}
	}
	return out
}

// exact is a decimal text's exact value ("1.50" and "1.5" are equal), or a
// description of why it is none, for comparisons.
func exact(s string) string {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok {
		return fmt.Sprintf("not a decimal: %q", s)
	}
	return r.RatString()
}
