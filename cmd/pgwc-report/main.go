// Command pgwc-report works on results files (results.json) of the suite.
//
//	pgwc-report merge -o DIR [-force] [-conformance FILE] results1.json results2.json …
//
// merges results into one REPORT.md, results.json, junit.xml (and
// latency.svg, PERFORMANCE.md) in DIR: shards of one certification (split by
// adapter or by label across CI machines), and runs against different
// targets, which give a report with a target × requirement view. It refuses
// runs of different suite versions unless -force, files of another schema
// version, and shards that ran the same spec for the same adapter on the
// same target.
//
//	pgwc-report summary [-strict] [-conformance FILE] results.json
//
// prints one closing line,
//
//	conformance: N passed, N failed, N unexpected passes, N harness errors, N inconclusive, N not reached, N expected failures, N not applicable, N skipped
//
// and exits 1 when a spec failed, passed against the expected-failure list
// or hit a harness error, or the run was interrupted; with -strict also
// when a spec was inconclusive.
//
//	pgwc-report publish [-root DIR] [-conformance FILE] results.json
//
// publishes a finished certification: REPORT.md next to results.json (with
// latency.svg and PERFORMANCE.md when there) is copied to DIR, the
// repository's top where users look for it, and the slimmed results to
// DIR/reports/<suite version>/<target>/results.json — but only when the run
// certifies everything it was asked to: an interrupted run, a filtered one
// or one with harness errors is refused, so the committed report is never
// replaced by a partial one.
//
// Spec results name their specs by ID only; -conformance gives the
// conformance.yaml of the suite version that wrote them when it is not this
// one (default: this suite's own).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pgwire-conformance/pgwire-conformance/report"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = "usage: pgwc-report merge -o DIR [-force] [-conformance FILE] results.json … | pgwc-report summary [-strict] [-conformance FILE] results.json | pgwc-report publish [-root DIR] [-conformance FILE] results.json"

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	switch args[0] {
	case "merge":
		return merge(args[1:], stdout, stderr)
	case "summary":
		return summary(args[1:], stdout, stderr)
	case "publish":
		return publish(args[1:], stdout, stderr)
	}
	fmt.Fprintln(stderr, usage)
	return 2
}

// reader reads results files, hydrating them from the -conformance file or
// the suite's own conformance.yaml, and warns about spec IDs it does not
// know.
type reader struct {
	conformance string
	stderr      io.Writer
}

func (rd *reader) flags(fs *flag.FlagSet) {
	fs.StringVar(&rd.conformance, "conformance", "", "conformance.yaml of the suite version that wrote the results (default: this suite's own)")
}

func (rd *reader) read(path string) (report.Run, error) {
	c, err := report.SuiteConformance()
	if rd.conformance != "" {
		c, err = report.ReadConformance(rd.conformance)
	}
	if err != nil {
		return report.Run{}, err
	}
	r, err := report.ReadResultsWith(path, c)
	if err != nil {
		return r, err
	}
	if u := report.Unresolved(r); len(u) > 0 {
		fmt.Fprintf(rd.stderr, "pgwc-report: warning: %s names %d spec(s) the conformance.yaml in use does not list (results of another suite version? give its conformance.yaml with -conformance); they count for no requirement, e.g. %q\n", path, len(u), u[0])
	}
	return r, nil
}

func merge(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "directory to write REPORT.md, results.json and junit.xml into (required)")
	force := fs.Bool("force", false, "merge runs of different suite versions")
	rd := &reader{stderr: stderr}
	rd.flags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	files := fs.Args()
	if *out == "" || len(files) == 0 {
		fmt.Fprintln(stderr, "usage: pgwc-report merge -o DIR [-force] [-conformance FILE] results.json …")
		return 2
	}
	runs := make([]report.Run, len(files))
	for i, f := range files {
		r, err := rd.read(f)
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
	targets := ""
	if merged.MultiTarget() {
		targets = fmt.Sprintf(" across %d targets", len(merged.Targets))
	}
	fmt.Fprintf(stdout, "pgwc-report: merged %d runs%s (%d spec results: %d passed, %d failed, %d harness errors) into %s/REPORT.md, results.json and junit.xml\n",
		len(runs), targets, len(merged.Specs), c[report.Passed], c[report.Failed], c[report.HarnessError], *out)
	return 0
}

// Summary is the closing line's counts and what they mean for the exit
// code.
type Summary struct {
	Passed, Failed, UnexpectedPasses, HarnessErrors, Inconclusive, Unreached, ExpectedFailures, NotApplicable, Skipped int
	Interrupted                                                                                                        bool
}

// Summarize counts a run's results for the closing line.
func Summarize(r report.Run) Summary {
	c := report.Counts(r.Specs)
	return Summary{
		Passed: c[report.Passed], Failed: c[report.Failed], UnexpectedPasses: c[report.UnexpectedPass],
		HarnessErrors: c[report.HarnessError] + len(r.HarnessErrors), Inconclusive: c[report.Inconclusive],
		Unreached: c[report.Unreached], ExpectedFailures: c[report.ExpectedFail], NotApplicable: c[report.NotApplicable],
		Skipped: c[report.Skipped] + c[report.NotRun], Interrupted: r.Interrupted,
	}
}

// Line is the closing line.
func (s Summary) Line() string {
	return fmt.Sprintf("conformance: %d passed, %d failed, %d unexpected passes, %d harness errors, %d inconclusive, %d not reached, %d expected failures, %d not applicable, %d skipped",
		s.Passed, s.Failed, s.UnexpectedPasses, s.HarnessErrors, s.Inconclusive, s.Unreached, s.ExpectedFailures, s.NotApplicable, s.Skipped)
}

// Fails reports whether the run fails: a failure, an unexpected pass, a
// harness error or an interruption; in strict mode an inconclusive spec too.
func (s Summary) Fails(strict bool) bool {
	return s.Failed+s.UnexpectedPasses+s.HarnessErrors > 0 || s.Interrupted || (strict && s.Inconclusive > 0)
}

// summary prints a results file's closing line; it exits 1 when the run
// fails, so a script can rely on it too.
func summary(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("summary", flag.ContinueOnError)
	fs.SetOutput(stderr)
	strict := fs.Bool("strict", false, "fail on inconclusive specs too")
	rd := &reader{stderr: stderr}
	rd.flags(fs)
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: pgwc-report summary [-strict] [-conformance FILE] results.json")
		return 2
	}
	r, err := rd.read(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "pgwc-report: %v\n", err)
		return 1
	}
	s := Summarize(r)
	// What failed is printed with its message, so a CI log that keeps only
	// the last lines still says why.
	for _, sp := range r.Specs {
		if sp.Outcome == report.Failed || sp.Outcome == report.UnexpectedPass || sp.Outcome == report.HarnessError || (*strict && sp.Outcome == report.Inconclusive) {
			fmt.Fprintf(stdout, "%s [%s] %s: %s\n", sp.Outcome, sp.Adapter, sp.ID, firstLines(sp.Message, 6))
		}
	}
	fmt.Fprintln(stdout, s.Line())
	if s.Fails(*strict) {
		return 1
	}
	return 0
}

// publish copies a complete run's report to the top of the tree and its
// results under reports/<version>/<target>/.
func publish(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("publish", flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("root", ".", "repository top: REPORT.md goes here, results under reports/")
	rd := &reader{stderr: stderr}
	rd.flags(fs)
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: pgwc-report publish [-root DIR] [-conformance FILE] results.json")
		return 2
	}
	file := fs.Arg(0)
	r, err := rd.read(file)
	if err != nil {
		fmt.Fprintf(stderr, "pgwc-report: %v\n", err)
		return 1
	}
	if ok, why := r.Complete(); !ok {
		fmt.Fprintf(stderr, "pgwc-report: not publishing %s: %s; the committed report stays as it was\n", file, why)
		return 1
	}
	src := filepath.Dir(file)
	md, err := os.ReadFile(filepath.Join(src, "REPORT.md"))
	if err != nil {
		fmt.Fprintf(stderr, "pgwc-report: %v\n", err)
		return 1
	}
	dest, err := report.PublishResults(*root, r)
	if err != nil {
		fmt.Fprintf(stderr, "pgwc-report: %v\n", err)
		return 1
	}
	if err := os.WriteFile(filepath.Join(*root, "REPORT.md"), md, 0o644); err != nil {
		fmt.Fprintf(stderr, "pgwc-report: %v\n", err)
		return 1
	}
	// The files REPORT.md links go next to it, or go when the run has none.
	for _, name := range []string{report.LatencySVG, report.PerformanceMD, report.DriversMD} {
		if err := copyOrRemove(filepath.Join(src, name), filepath.Join(*root, name)); err != nil {
			fmt.Fprintf(stderr, "pgwc-report: %v\n", err)
			return 1
		}
	}
	fmt.Fprintf(stdout, "pgwc-report: published REPORT.md and %s\n", dest)
	return 0
}

// copyOrRemove copies src to dst, or removes dst when src does not exist.
func copyOrRemove(src, dst string) error {
	if filepath.Clean(src) == filepath.Clean(dst) {
		return nil
	}
	b, err := os.ReadFile(src)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.Remove(dst); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

// firstLines keeps a message's first n lines.
func firstLines(msg string, n int) string {
	lines := strings.SplitN(strings.TrimSpace(msg), "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, "\n    ")
}
