package config

import (
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var known = []string{"pgx", "pgx-stdlib", "pq"}

// env is a fake environment for Load.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// load runs Load with a fresh FlagSet parsed from args and the fake env.
func load(t *testing.T, args []string, e env) (Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse flags %v: %v", args, err)
	}
	return Load(f, e.get, known)
}

func writeYAML(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pgwc.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadDefaults(t *testing.T) {
	c, err := load(t, nil, env{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Defaults()
	want.Adapters = known
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Load with nothing set:\n got %+v\nwant %+v", c, want)
	}
}

func TestLoadPrecedence(t *testing.T) {
	file := writeYAML(t, `
op_timeout: 10s
bulk_rows: 200
latency_iterations: 500
report_dir: from-file
`)
	// op_timeout: file only. bulk_rows: file < env. latency_iterations and
	// report_dir: file < env < flag. start_timeout: default only.
	e := env{
		"PGWC_CONFIG":             file,
		"PGWC_BULK_ROWS":          "300",
		"PGWC_LATENCY_ITERATIONS": "600",
		"PGWC_REPORT_DIR":         "from-env",
	}
	c, err := load(t, []string{"-pgwc.latency-iterations=700", "-pgwc.report-dir", "from-flag"}, e)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.StartTimeout != Defaults().StartTimeout {
		t.Errorf("StartTimeout = %v, want default %v", c.StartTimeout, Defaults().StartTimeout)
	}
	if c.OpTimeout != 10*time.Second {
		t.Errorf("OpTimeout = %v, want 10s from the file", c.OpTimeout)
	}
	if c.BulkRows != 300 {
		t.Errorf("BulkRows = %d, want 300 from env (beats file)", c.BulkRows)
	}
	if c.LatencyIterations != 700 {
		t.Errorf("LatencyIterations = %d, want 700 from flag (beats env and file)", c.LatencyIterations)
	}
	if c.ReportDir != "from-flag" {
		t.Errorf("ReportDir = %q, want from-flag", c.ReportDir)
	}
}

func TestLoadConfigFlagBeatsConfigEnv(t *testing.T) {
	fromEnv := writeYAML(t, "report_dir: env-file\n")
	fromFlag := writeYAML(t, "report_dir: flag-file\n")
	c, err := load(t, []string{"-pgwc.config=" + fromFlag}, env{"PGWC_CONFIG": fromEnv})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.ReportDir != "flag-file" {
		t.Errorf("ReportDir = %q, want the -pgwc.config file's value", c.ReportDir)
	}
}

func TestLoadUnsetFlagDoesNotShadowEnv(t *testing.T) {
	// A flag parsed with other flags set must not reset env values to "".
	c, err := load(t, []string{"-pgwc.bulk-rows=5"}, env{"PGWC_PROFILE": "iris"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Profile != "iris" || c.BulkRows != 5 {
		t.Errorf("Profile, BulkRows = %q, %d; want iris, 5", c.Profile, c.BulkRows)
	}
}

func TestLoadYAMLAdapters(t *testing.T) {
	for name, body := range map[string]string{
		"flow list":  "adapters: [pq, pgx]\n",
		"block list": "adapters:\n  - pq\n  - pgx\n",
		"string":     "adapters: pq, pgx\n",
	} {
		t.Run(name, func(t *testing.T) {
			c, err := load(t, nil, env{"PGWC_CONFIG": writeYAML(t, body)})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if want := []string{"pq", "pgx"}; !reflect.DeepEqual(c.Adapters, want) {
				t.Errorf("Adapters = %q, want %q", c.Adapters, want)
			}
		})
	}
}

func TestLoadYAMLTypes(t *testing.T) {
	file := writeYAML(t, `
provider: external
profile: iris
dsn: postgres://u@db:5432/app
start_timeout: 90s
latency_threshold: 1.25
bulk_rows: 42
`)
	c, err := load(t, nil, env{"PGWC_CONFIG": file})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Provider != "external" || c.Profile != "iris" || c.DSN != "postgres://u@db:5432/app" ||
		c.StartTimeout != 90*time.Second || c.LatencyThreshold != 1.25 || c.BulkRows != 42 {
		t.Errorf("Load from YAML gave %+v", c)
	}
}

func TestLoadEmptyYAMLFile(t *testing.T) {
	c, err := load(t, nil, env{"PGWC_CONFIG": writeYAML(t, "")})
	if err != nil {
		t.Fatalf("Load with an empty file: %v", err)
	}
	if c.Provider != Defaults().Provider {
		t.Errorf("Provider = %q, want default", c.Provider)
	}
}

func TestLoadYAMLErrors(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
	}{
		{"unknown key", "provider: container\nlatency_treshold: 2\n", []string{"unknown setting", `"latency_treshold"`}},
		{"flag spelling of a key", "report-dir: x\n", []string{"unknown setting", `"report-dir"`}},
		{"not a map", "- a\n- b\n", []string{"not a YAML map"}},
		{"bad duration", "op_timeout: 30\n", []string{"op_timeout", "not a duration"}},
		{"bad number", "bulk_rows: many\n", []string{"bulk_rows", "not a whole number"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writeYAML(t, tt.body)
			_, err := load(t, nil, env{"PGWC_CONFIG": file})
			if err == nil {
				t.Fatal("Load accepted the file")
			}
			for _, w := range append(tt.want, file) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := load(t, nil, env{"PGWC_CONFIG": missing})
	if err == nil || !strings.Contains(err.Error(), "config file") || !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("Load with a missing file: error %v, want one naming the file", err)
	}
}

func TestLoadBadEnvNamesVariable(t *testing.T) {
	tests := []struct{ env, value, want string }{
		{"PGWC_START_TIMEOUT", "soon", "not a duration"},
		{"PGWC_OP_TIMEOUT", "30", "not a duration"},
		{"PGWC_LATENCY_ITERATIONS", "1e3", "not a whole number"},
		{"PGWC_BULK_ROWS", "ten", "not a whole number"},
		{"PGWC_LATENCY_THRESHOLD", "10%", "not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			_, err := load(t, nil, env{tt.env: tt.value})
			if err == nil {
				t.Fatalf("Load accepted %s=%q", tt.env, tt.value)
			}
			for _, w := range []string{tt.env, tt.want, tt.value} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadBadFlagNamesFlag(t *testing.T) {
	_, err := load(t, []string{"-pgwc.op-timeout=later"}, env{})
	if err == nil || !strings.Contains(err.Error(), "-pgwc.op-timeout") || !strings.Contains(err.Error(), "not a duration") {
		t.Errorf("error %v, want one naming -pgwc.op-timeout", err)
	}
}

func TestLoadAdaptersFromEnvAndFlag(t *testing.T) {
	c, err := load(t, nil, env{"PGWC_ADAPTERS": " pq , pgx ,"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if want := []string{"pq", "pgx"}; !reflect.DeepEqual(c.Adapters, want) {
		t.Errorf("Adapters from env = %q, want %q", c.Adapters, want)
	}
	c, err = load(t, []string{"-pgwc.adapters=pgx-stdlib"}, env{"PGWC_ADAPTERS": "pq"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if want := []string{"pgx-stdlib"}; !reflect.DeepEqual(c.Adapters, want) {
		t.Errorf("Adapters from flag = %q, want %q", c.Adapters, want)
	}
}

func TestLoadValidates(t *testing.T) {
	_, err := load(t, nil, env{"PGWC_ADAPTERS": "pgx,jdbc"})
	if err == nil || !strings.Contains(err.Error(), `unknown adapter "jdbc"`) {
		t.Errorf("Load with an unknown adapter: error %v", err)
	}
}

// valid returns a configuration Validate accepts.
func valid() Config {
	c := Defaults()
	c.Adapters = []string{"pgx"}
	return c
}

func TestValidateAcceptsDefaults(t *testing.T) {
	if err := valid().Validate(known); err != nil {
		t.Fatalf("Validate(defaults): %v", err)
	}
	ext := valid()
	ext.Provider = "external"
	ext.DSN = "postgres://u:pw@db:5432/app?sslmode=disable"
	if err := ext.Validate(known); err != nil {
		t.Fatalf("Validate(external URL DSN): %v", err)
	}
	ext.DSN = "host=db port=5432 user=u password='s e c' dbname=app"
	if err := ext.Validate(known); err != nil {
		t.Fatalf("Validate(external keyword/value DSN): %v", err)
	}
}

func TestValidateErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		want   []string
	}{
		{"unknown provider", func(c *Config) { c.Provider = "k8s" }, []string{`unknown provider "k8s"`, "container, external"}},
		{"empty provider", func(c *Config) { c.Provider = "" }, []string{`unknown provider ""`}},
		{"unknown profile", func(c *Config) { c.Profile = "mysql" }, []string{`unknown profile "mysql"`, "postgres, iris"}},
		{"unknown adapter", func(c *Config) { c.Adapters = []string{"pgx", "jdbc"} }, []string{`unknown adapter "jdbc"`, "pgx, pgx-stdlib, pq"}},
		{"adapter twice", func(c *Config) { c.Adapters = []string{"pq", "pq"} }, []string{`adapter "pq" listed twice`}},
		{"external without DSN", func(c *Config) { c.Provider = "external" }, []string{"provider external needs a DSN", "PGWC_DSN"}},
		{"malformed URL DSN", func(c *Config) {
			c.Provider = "external"
			c.DSN = "postgres://u:pw@host:notaport/db"
		}, []string{"malformed DSN"}},
		{"malformed keyword/value DSN", func(c *Config) {
			c.Provider = "external"
			c.DSN = "host=db port=notaport password=pw"
		}, []string{"malformed DSN"}},
		{"DSN with container", func(c *Config) { c.DSN = "postgres://u@db/app" }, []string{"only used with provider external"}},
		{"no image", func(c *Config) { c.BaseImage, c.PostgresImage = "", "" }, []string{"base image is empty"}},
		{"bad target CPUs", func(c *Config) { c.TargetCPUs = "last" }, []string{`target CPUs "last"`, "auto, none"}},
		{"empty target CPUs", func(c *Config) { c.TargetCPUs = "" }, []string{`target CPUs ""`}},
		{"zero start timeout", func(c *Config) { c.StartTimeout = 0 }, []string{"start timeout 0s", "between 10s and 1h0m0s"}},
		{"negative op timeout", func(c *Config) { c.OpTimeout = -time.Second }, []string{"op timeout -1s", "between 1s"}},
		{"op timeout 1ns", func(c *Config) { c.OpTimeout = time.Nanosecond }, []string{"op timeout 1ns"}},
		{"threshold Inf", func(c *Config) { c.LatencyThreshold = math.Inf(1) }, []string{"latency threshold +Inf"}},
		{"threshold NaN", func(c *Config) { c.LatencyThreshold = math.NaN() }, []string{"latency threshold NaN"}},
		{"bulk rows 1e9", func(c *Config) { c.BulkRows = 1_000_000_000 }, []string{"bulk rows 1000000000", "between 1 and 100000"}},
		{"timeout scale 0", func(c *Config) { c.TimeoutScale = 0 }, []string{"timeout scale 0"}},
		{"few iterations", func(c *Config) { c.LatencyIterations = 99 }, []string{"latency iterations 99", "at least 100"}},
		{"threshold below 1", func(c *Config) { c.LatencyThreshold = 0.9 }, []string{"latency threshold 0.9", "between 1 and 10"}},
		{"no bulk rows", func(c *Config) { c.BulkRows = 0 }, []string{"bulk rows 0", "between 1"}},
		{"no report dir", func(c *Config) { c.ReportDir = "" }, []string{"report dir is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.mutate(&c)
			err := c.Validate(known)
			if err == nil {
				t.Fatalf("Validate accepted %+v", c)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error %q is more than one line", msg)
			}
		})
	}
}

func TestValidateImageAlternatives(t *testing.T) {
	c := valid()
	c.BaseImage, c.PostgresImage = "", "pgvector/pgvector:pg17"
	if err := c.Validate(known); err != nil {
		t.Errorf("Validate with only a PostgreSQL image: %v", err)
	}
}

func TestValidateTargetCPUs(t *testing.T) {
	for _, v := range []string{"auto", "none", "1", "2-3", "0,2-3,5"} {
		c := valid()
		c.TargetCPUs = v
		if err := c.Validate(known); err != nil {
			t.Errorf("Validate with target CPUs %q: %v", v, err)
		}
	}
	for _, v := range []string{"2-", "-1", "1,,2", "auto,1", " 1"} {
		c := valid()
		c.TargetCPUs = v
		if err := c.Validate(known); err == nil {
			t.Errorf("Validate accepted target CPUs %q", v)
		}
	}
}

func TestExpectationsPath(t *testing.T) {
	c := valid()
	c.Profile = "iris"
	if got := c.ExpectationsPath(); got != "expectations/iris.yaml" {
		t.Errorf("default ExpectationsPath = %q", got)
	}
	c.Expectations = "mine.yaml"
	if got := c.ExpectationsPath(); got != "mine.yaml" {
		t.Errorf("ExpectationsPath = %q, want mine.yaml", got)
	}
}

func TestValidateMalformedDSNHidesPassword(t *testing.T) {
	for _, dsn := range []string{
		"postgres://u:pw@host:notaport/db",
		"postgres://u:Sup3rS3cret@host:notaport/db",
		"postgresql://u:Sup3rS3cret@host:99999999/db",
		"postgres://u@host:notaport/db?password=Sup3rS3cret",
		"postgres://u:Sup3rS3cret@host/db?sslmode=bogus",
		"host=db port=notaport password=Sup3rS3cret",
		"host=db port=notaport password='Sup3r S3cret'",
		"host=db sslmode=bogus password=Sup3rS3cret",
	} {
		t.Run(dsn, func(t *testing.T) {
			c := valid()
			c.Provider = "external"
			c.DSN = dsn
			err := c.Validate(known)
			if err == nil {
				t.Fatal("Validate accepted a malformed DSN")
			}
			msg := err.Error()
			if !strings.Contains(msg, "malformed DSN") {
				t.Errorf("error %q does not say the DSN is malformed", msg)
			}
			for _, pw := range []string{"Sup3rS3cret", "Sup3r S3cret", "u:pw@"} {
				if strings.Contains(dsn, pw) && strings.Contains(msg, pw) {
					t.Errorf("error %q leaks the password %q", msg, pw)
				}
			}
		})
	}
}

func TestRedactedHasNoPassword(t *testing.T) {
	for _, dsn := range []string{
		"postgres://u:Sup3rS3cret@db:5432/app",
		"postgres://u@db:5432/app?password=Sup3rS3cret&sslmode=disable",
		"host=db user=u password=Sup3rS3cret dbname=app",
		"host=db user=u password='Sup3rS3cret' dbname=app",
		"postgres://u:Sup3rS3cret@db:notaport/app",
	} {
		c := valid()
		c.Provider = "external"
		c.DSN = dsn
		r := c.Redacted()
		for k, v := range r {
			if strings.Contains(v, "Sup3rS3cret") {
				t.Errorf("Redacted()[%q] = %q leaks the password of %q", k, v, dsn)
			}
		}
		if r["dsn"] == "" {
			t.Errorf("Redacted()[dsn] is empty for %q", dsn)
		}
	}
}

func TestRedactedCoversEverySetting(t *testing.T) {
	r := Defaults().Redacted()
	for _, s := range settings {
		key := strings.ReplaceAll(s.name, "-", "_")
		if _, ok := r[key]; !ok {
			t.Errorf("Redacted has no %q", key)
		}
	}
	if got := r["latency_threshold"]; got != "1.10" {
		t.Errorf("latency_threshold = %q, want 1.10", got)
	}
}

func TestDocumentationListsEveryFlag(t *testing.T) {
	docs := Documentation()
	if len(docs) != len(settings) {
		t.Fatalf("Documentation has %d rows, want %d", len(docs), len(settings))
	}
	for i, row := range docs {
		if !strings.HasPrefix(row[0], "-pgwc.") || !strings.HasPrefix(row[1], "PGWC_") || row[3] == "" {
			t.Errorf("row %d = %q", i, row)
		}
	}
}

// docs/configuration.md is generated from the settings list: a setting
// added, renamed or redocumented without `make config-docs` fails here.
func TestConfigurationDocIsCurrent(t *testing.T) {
	got, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatalf("docs/configuration.md: %v (run make config-docs)", err)
	}
	if string(got) != Markdown() {
		t.Fatal("docs/configuration.md is stale: run make config-docs")
	}
}
