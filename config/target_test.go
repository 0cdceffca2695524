package config

import (
	"strings"
	"testing"
)

func TestLoadTargetSetting(t *testing.T) {
	for _, c := range []struct {
		name        string
		args        []string
		env         env
		wantTarget  string
		wantProfile string
		wantExp     string
	}{
		{"default", nil, env{}, "reference", "postgres", "expectations/postgres.yaml"},
		{"env", nil, env{"PGWC_TARGET": "gateway"}, "gateway", "postgres", "expectations/gateway.yaml"},
		{"flag beats env", []string{"-pgwc.target=pglite"}, env{"PGWC_TARGET": "gateway"}, "pglite", "postgres", "expectations/pglite.yaml"},
		{"profile iris alone means target iris", nil, env{"PGWC_PROFILE": "iris"}, "iris", "iris", "expectations/iris.yaml"},
		{"target iris implies profile iris", nil, env{"PGWC_TARGET": "iris"}, "iris", "iris", "expectations/iris.yaml"},
		{"reference named", nil, env{"PGWC_TARGET": "reference"}, "reference", "postgres", "expectations/postgres.yaml"},
		{"divergent", nil, env{"PGWC_TARGET": "divergent"}, "divergent", "postgres", "expectations/divergent.yaml"},
		{"external keeps its profile's list", nil, env{"PGWC_PROVIDER": "external", "PGWC_DSN": "postgres://u@h/db"}, "external", "postgres", "expectations/postgres.yaml"},
		{"explicit list wins", nil, env{"PGWC_TARGET": "gateway", "PGWC_EXPECTATIONS": "mine.yaml"}, "gateway", "postgres", "mine.yaml"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := load(t, c.args, c.env)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := cfg.TargetName(); got != c.wantTarget {
				t.Errorf("TargetName = %q, want %q", got, c.wantTarget)
			}
			if cfg.Profile != c.wantProfile {
				t.Errorf("Profile = %q, want %q", cfg.Profile, c.wantProfile)
			}
			if got := cfg.ExpectationsPath(); got != c.wantExp {
				t.Errorf("ExpectationsPath = %q, want %q", got, c.wantExp)
			}
			if got := cfg.Redacted()["target"]; got != c.wantTarget {
				t.Errorf("Redacted()[target] = %q, want %q", got, c.wantTarget)
			}
		})
	}
}

func TestLoadTargetErrors(t *testing.T) {
	for _, c := range []struct {
		env  env
		want string
	}{
		{env{"PGWC_TARGET": "pgbouncer"}, `unknown target "pgbouncer"`},
		{env{"PGWC_TARGET": "iris", "PGWC_PROFILE": "postgres"}, "target iris needs profile iris"},
		{env{"PGWC_TARGET": "gateway", "PGWC_PROFILE": "iris"}, "profile iris needs target iris"},
		{env{"PGWC_TARGET": "pglite", "PGWC_PROFILE": "iris"}, "profile iris needs target iris"},
	} {
		_, err := load(t, nil, c.env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Load(%v) error = %v, want it to say %q", c.env, err, c.want)
		}
	}
	// divergent takes either profile.
	if _, err := load(t, nil, env{"PGWC_TARGET": "divergent", "PGWC_PROFILE": "iris"}); err != nil {
		t.Errorf("divergent with the iris profile: %v", err)
	}
}
