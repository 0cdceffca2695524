package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pgwire-conformance/pgwire-conformance/report"
)

func td(name string) string { return filepath.Join("..", "..", "report", "testdata", name) }

func TestMerge(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "merged")
	var out, errb bytes.Buffer
	if code := run([]string{"merge", "-o", dir, td("shard-pgx.json"), td("shard-pq.json")}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "merged 2 runs (12 spec results") {
		t.Errorf("stdout %q", out.String())
	}
	r, err := report.ReadResults(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Shards) != 2 || !strings.HasPrefix(r.Command, "go run ./cmd/pgwc-report merge -o ") {
		t.Errorf("merged run: shards %d, command %q", len(r.Shards), r.Command)
	}
	if _, err := os.Stat(filepath.Join(dir, "REPORT.md")); err != nil {
		t.Error(err)
	}
}

func TestMergeRefuses(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"merge", "-o", "x", td("shard-pgx.json"), td("other-target.json")}, 1, "refusing to merge without -force"},
		{[]string{"merge", "-o", "x", td("malformed.json")}, 1, "malformed.json: not a results file"},
		{[]string{"merge", "-o", "x", td("schema-v1.json")}, 1, "schema_version 1"},
		{[]string{"merge", td("shard-pgx.json")}, 2, "usage"},
		{[]string{"split"}, 2, "usage"},
	} {
		var out, errb bytes.Buffer
		code := run(tt.args, &out, &errb)
		if code != tt.code || !strings.Contains(errb.String(), tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q", tt.args, code, errb.String(), tt.code, tt.want)
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"merge", "-force", "-o", t.TempDir(), td("shard-pgx.json"), td("other-target.json")}, &out, &errb); code != 0 {
		t.Errorf("-force: exit %d: %s", code, errb.String())
	}
}

func TestSummary(t *testing.T) {
	var out, errOut strings.Builder
	code := run([]string{"summary", td("full.json")}, &out, &errOut)
	line := strings.TrimSpace(out.String())
	if !regexp.MustCompile(`^conformance: \d+ passed, \d+ failed, \d+ skipped$`).MatchString(line) {
		t.Fatalf("summary line %q (stderr %q)", line, errOut.String())
	}
	if failed := strings.Contains(line, " 0 failed"); failed != (code == 0) {
		t.Errorf("exit code %d does not match %q", code, line)
	}
	if code := run([]string{"summary", td("malformed.json")}, &out, &errOut); code != 1 {
		t.Errorf("malformed file: exit %d, want 1", code)
	}
}
