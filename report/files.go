package report

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pgwire-conformance/pgwire-conformance/config"
)

// WriteFiles writes REPORT.md, results.json, junit.xml and, when the run
// measured performance, latency.svg and PERFORMANCE.md into dir. Every byte written passes
// through the run's redaction: a secret that slipped into a message, a
// transcript or a log tail stops here.
func WriteFiles(dir string, r Run) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report dir %s: %w", dir, err)
	}
	var md, junit bytes.Buffer
	if err := WriteMarkdown(&md, r); err != nil {
		return fmt.Errorf("render REPORT.md: %w", err)
	}
	results, err := EncodeResults(r)
	if err != nil {
		return err
	}
	if err := WriteJUnit(&junit, r); err != nil {
		return err
	}
	files := []struct {
		name string
		b    []byte
	}{{"REPORT.md", md.Bytes()}, {"results.json", results}, {"junit.xml", junit.Bytes()}}
	for _, opt := range []struct {
		name  string
		write func(io.Writer, Run) (bool, error)
	}{{LatencySVG, WriteLatencySVG}, {PerformanceMD, WritePerformance}, {DriversMD, WriteDrivers}} {
		var b bytes.Buffer
		wrote, err := opt.write(&b, r)
		if err != nil {
			return fmt.Errorf("render %s: %w", opt.name, err)
		}
		if wrote {
			files = append(files, struct {
				name string
				b    []byte
			}{opt.name, b.Bytes()})
		} else if err := os.Remove(filepath.Join(dir, opt.name)); err != nil && !os.IsNotExist(err) {
			// A file left from an earlier run would show figures this
			// run did not measure.
			return fmt.Errorf("remove the stale %s: %w", opt.name, err)
		}
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), []byte(config.Redact(string(f.b))), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
	}
	return nil
}

// PublishResults writes r's results as root/reports/<suite version>/<target>/results.json
// and returns that path.
func PublishResults(root string, r Run) (string, error) {
	dir := filepath.Join(root, PublishDir(r))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	b, err := EncodeResults(r)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "results.json")
	return path, os.WriteFile(path, []byte(config.Redact(string(b))), 0o644)
}

// PublishDir is where a certification's results are kept, relative to the
// repository's top: reports/<suite version>/<target>.
func PublishDir(r Run) string {
	version := strings.TrimSpace(strings.TrimPrefix(r.Suite, "pgwire-conformance"))
	if version == "" {
		version = "unversioned"
	}
	name := r.Target.TargetName()
	if r.MultiTarget() {
		name = "merged"
	}
	return filepath.Join("reports", pathSafe(version), pathSafe(name))
}

// pathSafe keeps a name to one path element.
func pathSafe(s string) string {
	return strings.Map(func(c rune) rune {
		if c == '/' || c == '\\' || c == ' ' || c == ':' {
			return '_'
		}
		return c
	}, s)
}
