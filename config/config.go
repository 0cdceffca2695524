// Package config turns flags, environment variables and an optional YAML file
// into one validated Config. Precedence, highest first: flag, environment,
// YAML file (-pgwc.config / PGWC_CONFIG), built-in default.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgwire-conformance/pgwire-conformance/wiretap/divergent"
	"go.yaml.in/yaml/v3"
)

// Providers and profiles the suite knows.
var (
	Providers = []string{"container", "external"}
	Profiles  = []string{"postgres", "iris"}
	// Targets are the servers a container run can start (see Config.Target).
	Targets = []string{"reference", "gateway", "pglite", "divergent", "iris"}
)

// Config is everything a run needs to know before the first spec.
type Config struct {
	Adapters []string `yaml:"adapters"`
	Provider string   `yaml:"provider"`
	// Target names the server implementation a container run starts:
	// reference (PostgreSQL 17 + pgvector), gateway (the reference behind
	// PgBouncer), pglite, divergent (the reference behind a proxy that
	// behaves like iris-pgwire) or iris. Empty: from the profile.
	Target  string `yaml:"target"`
	Profile string `yaml:"profile"`
	// DSN is the external target's connection string (provider external).
	DSN string `yaml:"dsn"`

	BaseImage     string `yaml:"base_image"`
	PostgresImage string `yaml:"postgres_image"`
	IRISImage     string `yaml:"iris_image"`
	PGWireImage   string `yaml:"pgwire_image"`

	// TargetCPUs pins the target's containers: "auto" (the last CPU, when
	// there are at least two), "none", or a docker cpuset such as "2-3".
	TargetCPUs string `yaml:"target_cpus"`

	StartTimeout time.Duration `yaml:"start_timeout"`
	OpTimeout    time.Duration `yaml:"op_timeout"`
	// ConnectTimeout bounds opening an engine and its first query.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`

	LatencyIterations int     `yaml:"latency_iterations"`
	LatencyThreshold  float64 `yaml:"latency_threshold"`
	BulkRows          int     `yaml:"bulk_rows"`

	// TimeoutScale multiplies every spec's timeout (a slow CI machine).
	TimeoutScale float64 `yaml:"timeout_scale"`

	// Divergences are the iris-pgwire behaviours the divergent target's
	// proxy reproduces (package wiretap/divergent): "all", or a list.
	Divergences string `yaml:"divergences"`

	// Strict makes an inconclusive verdict (evidence that decides neither
	// way, e.g. an FR-013 interval straddling the threshold) fail the run.
	Strict bool `yaml:"strict"`

	ReportDir string `yaml:"report_dir"`
	// Expectations is the expected-failure list; empty means
	// expectations/<profile>.yaml.
	Expectations string `yaml:"expectations"`
}

// Defaults returns the configuration used when nothing is set.
func Defaults() Config {
	return Config{
		Adapters:          nil, // nil: every registered adapter
		Provider:          "container",
		Profile:           "postgres",
		BaseImage:         "pgwire-conformance/base:trixie",
		PostgresImage:     "", // empty: build the local PostgreSQL 17 + pgvector image
		IRISImage:         "intersystemsdc/iris-community:latest",
		PGWireImage:       "", // empty: build iris-pgwire 1.0.1 locally
		TargetCPUs:        "auto",
		StartTimeout:      3 * time.Minute,
		OpTimeout:         30 * time.Second,
		ConnectTimeout:    15 * time.Second,
		LatencyIterations: 2000,
		LatencyThreshold:  1.10,
		TimeoutScale:      1,
		Divergences:       "all",
		BulkRows:          100,
		ReportDir:         "_output",
	}
}

// setting binds one field to its flag, environment variable and parser.
type setting struct {
	name  string // flag name without the "pgwc." prefix; also the YAML key with '-' as '_'
	env   string
	usage string
	set   func(c *Config, v string) error
}

func str(p func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *p(c) = strings.TrimSpace(v); return nil }
}

func dur(p func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("not a duration (e.g. 90s, 2m): %q", v)
		}
		*p(c) = d
		return nil
	}
}

func boolean(p func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("not true or false: %q", v)
		}
		*p(c) = b
		return nil
	}
}

func integer(p func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("not a whole number: %q", v)
		}
		*p(c) = n
		return nil
	}
}

var settings = []setting{
	{"adapters", "PGWC_ADAPTERS", "comma-separated adapters to certify (default: all registered)", func(c *Config, v string) error {
		c.Adapters = splitList(v)
		return nil
	}},
	{"provider", "PGWC_PROVIDER", "target provider: container or external", str(func(c *Config) *string { return &c.Provider })},
	{"target", "PGWC_TARGET", "target to start: reference, gateway, pglite, divergent or iris (default: reference; iris with the iris profile)", str(func(c *Config) *string { return &c.Target })},
	{"profile", "PGWC_PROFILE", "dialect profile: postgres or iris", str(func(c *Config) *string { return &c.Profile })},
	{"dsn", "PGWC_DSN", "connection string of an external target", str(func(c *Config) *string { return &c.DSN })},
	{"base-image", "PGWC_BASE_IMAGE", "local base image the suite's images build FROM", str(func(c *Config) *string { return &c.BaseImage })},
	{"postgres-image", "PGWC_POSTGRES_IMAGE", "PostgreSQL image to run instead of building one (e.g. pgvector/pgvector:pg17)", str(func(c *Config) *string { return &c.PostgresImage })},
	{"iris-image", "PGWC_IRIS_IMAGE", "IRIS image for the iris profile", str(func(c *Config) *string { return &c.IRISImage })},
	{"pgwire-image", "PGWC_PGWIRE_IMAGE", "iris-pgwire image for the iris profile (default: build iris-pgwire 1.0.1 locally)", str(func(c *Config) *string { return &c.PGWireImage })},
	{"target-cpus", "PGWC_TARGET_CPUS", "pin the target's containers: auto (last CPU), none, or a cpuset like 2-3", str(func(c *Config) *string { return &c.TargetCPUs })},
	{"start-timeout", "PGWC_START_TIMEOUT", "how long the target may take to become ready", dur(func(c *Config) *time.Duration { return &c.StartTimeout })},
	{"op-timeout", "PGWC_OP_TIMEOUT", "deadline of one network operation", dur(func(c *Config) *time.Duration { return &c.OpTimeout })},
	{"connect-timeout", "PGWC_CONNECT_TIMEOUT", "deadline for opening an engine and its first query", dur(func(c *Config) *time.Duration { return &c.ConnectTimeout })},
	{"latency-iterations", "PGWC_LATENCY_ITERATIONS", "queries per side in the FR-013 latency comparison", integer(func(c *Config) *int { return &c.LatencyIterations })},
	{"latency-threshold", "PGWC_LATENCY_THRESHOLD", "FR-013: largest allowed median ratio subject/baseline", func(c *Config, v string) error {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return fmt.Errorf("not a number: %q", v)
		}
		c.LatencyThreshold = f
		return nil
	}},
	{"timeout-scale", "PGWC_TIMEOUT_SCALE", "multiply every spec's timeout (e.g. 2 on a slow machine)", func(c *Config, v string) error {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return fmt.Errorf("not a number: %q", v)
		}
		c.TimeoutScale = f
		return nil
	}},
	{"bulk-rows", "PGWC_BULK_ROWS", "rows in the FR-007 bulk insert", integer(func(c *Config) *int { return &c.BulkRows })},
	{"divergences", "PGWC_DIVERGENCES", "what the divergent target's proxy reproduces of iris-pgwire: all, or a comma-separated list (param-unknown, command-tags, sqlstate-42000, empty-query, binary-leak, rollback-swallowed)", str(func(c *Config) *string { return &c.Divergences })},
	{"strict", "PGWC_STRICT", "inconclusive verdicts (e.g. an FR-013 interval straddling the threshold) fail the run", boolean(func(c *Config) *bool { return &c.Strict })},
	{"report-dir", "PGWC_REPORT_DIR", "where REPORT.md and results.json are written", str(func(c *Config) *string { return &c.ReportDir })},
	{"expectations", "PGWC_EXPECTATIONS", "expected-failure list (default expectations/<target>.yaml; the reference's is postgres.yaml)", str(func(c *Config) *string { return &c.Expectations })},
}

const flagPrefix = "pgwc."

// Flags holds the suite's flags as registered on a FlagSet; Load reads only
// the ones the user actually set, so env and file values are not shadowed.
type Flags struct {
	fs     *flag.FlagSet
	values map[string]*string
	file   *string
}

// RegisterFlags adds -pgwc.* flags to fs (flag.CommandLine in the suite).
func RegisterFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{fs: fs, values: map[string]*string{}}
	for _, s := range settings {
		f.values[s.name] = fs.String(flagPrefix+s.name, "", s.usage+" (env "+s.env+")")
	}
	f.file = fs.String(flagPrefix+"config", "", "YAML configuration file (env PGWC_CONFIG)")
	return f
}

// Values are the -pgwc.* flags given on the command line, by name (without
// the prefix), for the report's reproduce line.
func (f *Flags) Values() map[string]string { return f.set() }

func (f *Flags) set() map[string]string {
	out := map[string]string{}
	if f == nil {
		return out
	}
	f.fs.Visit(func(fl *flag.Flag) {
		if name, ok := strings.CutPrefix(fl.Name, flagPrefix); ok {
			out[name] = fl.Value.String()
		}
	})
	return out
}

// Load builds the configuration from defaults, the YAML file, env and flags,
// then validates it against the registered adapter names.
func Load(f *Flags, getenv func(string) string, knownAdapters []string) (Config, error) {
	return LoadWith(Defaults(), f, getenv, knownAdapters)
}

// LoadWith is Load from other defaults (a driver repository's options).
func LoadWith(base Config, f *Flags, getenv func(string) string, knownAdapters []string) (Config, error) {
	c := base
	// The iris target implies the iris profile, so an unset profile is told
	// apart from a set one until every source is read.
	baseProfile := c.Profile
	c.Profile = ""
	flags := f.set()

	file := flags["config"]
	if file == "" {
		file = getenv("PGWC_CONFIG")
	}
	if file != "" {
		fh, err := os.Open(file)
		if err != nil {
			return c, fmt.Errorf("config file: %w", err)
		}
		err = decodeYAML(fh, &c)
		fh.Close()
		if err != nil {
			return c, fmt.Errorf("config file %s: %w", file, err)
		}
	}
	for _, s := range settings {
		if v := getenv(s.env); v != "" {
			if err := s.set(&c, v); err != nil {
				return c, fmt.Errorf("%s: %w", s.env, err)
			}
		}
	}
	for _, s := range settings {
		if v, ok := flags[s.name]; ok {
			if err := s.set(&c, v); err != nil {
				return c, fmt.Errorf("-%s%s: %w", flagPrefix, s.name, err)
			}
		}
	}
	if c.Profile == "" {
		c.Profile = baseProfile
		if c.Target == "iris" {
			c.Profile = "iris"
		}
	}
	if len(c.Adapters) == 0 {
		c.Adapters = append([]string(nil), knownAdapters...)
	}
	return c, c.Validate(knownAdapters)
}

// decodeYAML reads a YAML file strictly: an unknown key is an error, since a
// misspelt setting silently ignored would certify the wrong thing.
func decodeYAML(r io.Reader, c *Config) error {
	var raw map[string]any
	dec := yaml.NewDecoder(r)
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return fmt.Errorf("not a YAML map of settings: %w", err)
	}
	byKey := map[string]setting{}
	for _, s := range settings {
		byKey[strings.ReplaceAll(s.name, "-", "_")] = s
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s, ok := byKey[k]
		if !ok {
			return fmt.Errorf("unknown setting %q", k)
		}
		if err := s.set(c, scalar(raw[k])); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	return nil
}

// Validate reports the first thing wrong with c, in one line.
func (c Config) Validate(knownAdapters []string) error {
	if !contains(Providers, c.Provider) {
		return fmt.Errorf("unknown provider %q (want one of %s)", c.Provider, strings.Join(Providers, ", "))
	}
	if !contains(Profiles, c.Profile) {
		return fmt.Errorf("unknown profile %q (want one of %s)", c.Profile, strings.Join(Profiles, ", "))
	}
	if err := c.validateTarget(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, a := range c.Adapters {
		if !contains(knownAdapters, a) {
			return fmt.Errorf("unknown adapter %q (registered: %s)", a, strings.Join(knownAdapters, ", "))
		}
		if seen[a] {
			return fmt.Errorf("adapter %q listed twice", a)
		}
		seen[a] = true
	}
	switch c.Provider {
	case "external":
		if c.DSN == "" {
			return errors.New("provider external needs a DSN (PGWC_DSN or -pgwc.dsn)")
		}
		if _, err := pgconn.ParseConfig(c.DSN); err != nil {
			return fmt.Errorf("malformed DSN %s: %s", RedactDSN(c.DSN), RedactText(OneLine(err.Error()), c.DSN))
		}
	case "container":
		if c.DSN != "" {
			return errors.New("a DSN is only used with provider external; unset PGWC_DSN or set PGWC_PROVIDER=external")
		}
		if c.BaseImage == "" && c.PostgresImage == "" {
			return errors.New("base image is empty: set PGWC_BASE_IMAGE or PGWC_POSTGRES_IMAGE")
		}
	}
	if !cpusetPattern.MatchString(c.TargetCPUs) {
		return fmt.Errorf("target CPUs %q: want auto, none, or a cpuset such as 1 or 2-3", c.TargetCPUs)
	}
	// Every number has a finite, sane range: a value outside it is a
	// mistake (Inf would let a 12× slower driver pass FR-013; 1ns would
	// fail every spec for a reason that is not the driver's).
	for _, r := range []struct {
		name     string
		v        time.Duration
		min, max time.Duration
	}{
		{"start timeout", c.StartTimeout, 10 * time.Second, time.Hour},
		{"op timeout", c.OpTimeout, time.Second, 10 * time.Minute},
		{"connect timeout", c.ConnectTimeout, time.Second, 10 * time.Minute},
	} {
		if r.v < r.min || r.v > r.max {
			return fmt.Errorf("%s %s: want between %s and %s", r.name, r.v, r.min, r.max)
		}
	}
	for _, r := range []struct {
		name     string
		v        int
		min, max int
		why      string
	}{
		{"latency iterations", c.LatencyIterations, 100, 100_000, "at least 100 for a meaningful median"},
		{"bulk rows", c.BulkRows, 1, 100_000, "the seed's bar is 100 rows in 10 s"},
	} {
		if r.v < r.min || r.v > r.max {
			return fmt.Errorf("%s %d: want between %d and %d (%s)", r.name, r.v, r.min, r.max, r.why)
		}
	}
	for _, r := range []struct {
		name     string
		v        float64
		min, max float64
	}{
		{"latency threshold", c.LatencyThreshold, 1, 10},
		{"timeout scale", c.TimeoutScale, 0.25, 20},
	} {
		if math.IsNaN(r.v) || math.IsInf(r.v, 0) || r.v < r.min || r.v > r.max {
			return fmt.Errorf("%s %v: want a number between %g and %g", r.name, r.v, r.min, r.max)
		}
	}
	if _, err := divergent.Parse(c.Divergences); err != nil {
		return fmt.Errorf("divergences: %w", err)
	}
	if c.ReportDir == "" {
		return errors.New("report dir is empty")
	}
	return nil
}

var cpusetPattern = regexp.MustCompile(`^(auto|none|\d+(-\d+)?(,\d+(-\d+)?)*)$`)

// Redacted returns the configuration as name → value with secrets masked,
// for logs and reports.
func (c Config) Redacted() map[string]string {
	return map[string]string{
		"adapters":           strings.Join(c.Adapters, ","),
		"provider":           c.Provider,
		"target":             c.TargetName(),
		"profile":            c.Profile,
		"dsn":                RedactDSN(c.DSN),
		"base_image":         c.BaseImage,
		"postgres_image":     c.PostgresImage,
		"iris_image":         c.IRISImage,
		"pgwire_image":       c.PGWireImage,
		"target_cpus":        c.TargetCPUs,
		"start_timeout":      c.StartTimeout.String(),
		"op_timeout":         c.OpTimeout.String(),
		"connect_timeout":    c.ConnectTimeout.String(),
		"latency_iterations": strconv.Itoa(c.LatencyIterations),
		"latency_threshold":  strconv.FormatFloat(c.LatencyThreshold, 'f', 2, 64),
		"bulk_rows":          strconv.Itoa(c.BulkRows),
		"strict":             strconv.FormatBool(c.Strict),
		"divergences":        c.Divergences,
		"timeout_scale":      strconv.FormatFloat(c.TimeoutScale, 'g', -1, 64),
		"report_dir":         c.ReportDir,
		"expectations":       c.ExpectationsPath(),
	}
}

// Documentation lists every setting as flag, env, default and usage, for the README.
func Documentation() [][4]string {
	def := Defaults().Redacted()
	var rows [][4]string
	for _, s := range settings {
		rows = append(rows, [4]string{"-" + flagPrefix + s.name, s.env, def[strings.ReplaceAll(s.name, "-", "_")], s.usage})
	}
	return rows
}

// scalar renders a YAML value the way its flag would be written; a list
// becomes comma-separated.
func scalar(v any) string {
	if list, ok := v.([]any); ok {
		parts := make([]string, len(list))
		for i, x := range list {
			parts[i] = fmt.Sprint(x)
		}
		return strings.Join(parts, ",")
	}
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// OneLine folds a multi-line message (driver errors often are) into one
// line, so a user-facing error stays one line without losing its cause.
func OneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// TargetName is the target the run certifies against: the configured one,
// else iris for the iris profile, reference otherwise; "external" for an
// external provider without a target name.
func (c Config) TargetName() string {
	switch {
	case c.Target != "":
		return c.Target
	case c.Provider == "external":
		return "external"
	case c.Profile == "iris":
		return "iris"
	}
	return "reference"
}

// ExpectationsPath is the expected-failure list this run uses: by default
// the target's own, expectations/<target>.yaml, except that the reference
// keeps expectations/postgres.yaml and an external server (which could be
// anything) the list of its profile.
func (c Config) ExpectationsPath() string {
	if c.Expectations != "" {
		return c.Expectations
	}
	switch t := c.TargetName(); t {
	case "reference":
		return "expectations/postgres.yaml"
	case "external":
		return "expectations/" + c.Profile + ".yaml"
	default:
		return "expectations/" + t + ".yaml"
	}
}

// validateTarget checks the target's name and that the profile fits it:
// the iris target speaks IRIS SQL, the PostgreSQL-backed ones PostgreSQL's
// (divergent, the reference behind a proxy mimicking iris-pgwire, takes
// either).
func (c Config) validateTarget() error {
	if c.Target == "" {
		return nil
	}
	if !contains(Targets, c.Target) {
		return fmt.Errorf("unknown target %q (want one of %s)", c.Target, strings.Join(Targets, ", "))
	}
	switch {
	case c.Target == "iris" && c.Profile != "iris":
		return fmt.Errorf("target iris needs profile iris, not %q (unset PGWC_PROFILE)", c.Profile)
	case c.Target != "iris" && c.Target != "divergent" && c.Profile == "iris":
		return fmt.Errorf("target %s speaks PostgreSQL's SQL: profile iris needs target iris (unset PGWC_TARGET or PGWC_PROFILE)", c.Target)
	}
	return nil
}

// Markdown is docs/configuration.md: every setting, generated from the list
// the flags, environment variables and YAML keys are read from, so the page
// cannot drift from the code (TestConfigurationDocIsCurrent).
func Markdown() string {
	var b strings.Builder
	b.WriteString(`# Configuration

<!-- Generated by ` + "`make config-docs`" + ` (cmd/pgwc-config-docs) from config.settings; do not edit. -->

Flags go after ` + "`--`" + ` (` + "`go tool ginkgo . -- -pgwc.adapters=pq`" + `). Precedence, highest
first: flag, environment variable, YAML file (` + "`-pgwc.config`" + ` / ` + "`PGWC_CONFIG`" + `; keys
are the flag names with ` + "`_`" + ` for ` + "`-`" + `, e.g. ` + "`latency_iterations: 5000`" + `; unknown
keys are an error), default. Every value is validated before the first spec:
a bad one ends the run within seconds, with one line naming the setting, and
a non-zero exit. Passwords are never printed: DSNs are redacted everywhere.

| flag | env | default | meaning |
|---|---|---|---|
`)
	for _, r := range Documentation() {
		def := r[2]
		if def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | `%s` | %s |\n", r[0], r[1], def, strings.ReplaceAll(r[3], "|", `\|`))
	}
	b.WriteString(`
Also read from the environment: ` + "`PGWC_BACKEND_<NAME>=tcp://host:port`" + ` (a driver
backend you run yourself instead of the built-in image), ` + "`PGWC_COMMAND`" + ` (the
command REPORT.md gives to reproduce the run; the Makefile sets it),
` + "`DOCKER_HOST`" + ` and the other testcontainers settings.
`)
	return b.String()
}
