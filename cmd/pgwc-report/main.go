// Command pgwc-report works on results files (results.json) of the suite.
//
//	pgwc-report merge -o DIR [-force] results1.json results2.json …
//
// merges the results of sharded runs (split by adapter or by label across
// CI machines) into one REPORT.md and results.json in DIR. It refuses runs
// against different targets (profile, provider, server version) or from
// different suite versions unless -force, files of another schema version,
// and shards that ran the same spec for the same adapter.
//
//	pgwc-report summary results.json
//
// prints one closing line, "conformance: N passed, N failed, N skipped":
// failed counts failures, unexpected passes and harness errors; skipped
// counts expected failures, not-applicable and filtered specs.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pgwire-conformance/pgwire-conformance/report"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = "usage: pgwc-report merge -o DIR [-force] results.json … | pgwc-report summary results.json"

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 2 && args[0] == "summary" {
		return summary(args[1], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "merge" {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "directory to write REPORT.md and results.json into (required)")
	force := fs.Bool("force", false, "merge runs of different targets or suite versions")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	files := fs.Args()
	if *out == "" || len(files) == 0 {
		fmt.Fprintln(stderr, "usage: pgwc-report merge -o DIR [-force] results.json …")
		return 2
	}
	runs := make([]report.Run, len(files))
	for i, f := range files {
		r, err := report.ReadResults(f)
		if err != nil {
			fmt.Fprintf(stderr, "pgwc-report: %v\n", err)
			return 1
		}
		runs[i] = r
	}
	cmd := "go run ./cmd/pgwc-report merge -o " + *out
	if *force {
		cmd += " -force"
	}
	merged, err := report.Merge(runs, files, report.MergeOptions{Force: *force, Command: cmd + " " + strings.Join(files, " ")})
	if err != nil {
		fmt.Fprintf(stderr, "pgwc-report: %v\n", err)
		return 1
	}
	if err := report.WriteFiles(*out, merged); err != nil {
		fmt.Fprintf(stderr, "pgwc-report: %v\n", err)
		return 1
	}
	c := report.Counts(merged.Specs)
	fmt.Fprintf(stdout, "pgwc-report: merged %d runs (%d spec results: %d passed, %d failed, %d harness errors) into %s/REPORT.md and results.json\n",
		len(runs), len(merged.Specs), c[report.Passed], c[report.Failed], c[report.HarnessError], *out)
	return 0
}

// summary prints a results file's closing line; it exits 1 when anything
// failed, so a script can rely on it too.
func summary(file string, stdout, stderr io.Writer) int {
	r, err := report.ReadResults(file)
	if err != nil {
		fmt.Fprintf(stderr, "pgwc-report: %v\n", err)
		return 1
	}
	c := report.Counts(r.Specs)
	failed := c[report.Failed] + c[report.UnexpectedPass] + c[report.HarnessError] + len(r.HarnessErrors)
	skipped := len(r.Specs) - c[report.Passed] - c[report.Failed] - c[report.UnexpectedPass] - c[report.HarnessError]
	fmt.Fprintf(stdout, "conformance: %d passed, %d failed, %d skipped\n", c[report.Passed], failed, skipped)
	if failed > 0 {
		return 1
	}
	return 0
}
