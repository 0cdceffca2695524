package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestRedactRegisteredSecrets(t *testing.T) {
	RegisterDSN("postgres://conformance:9f8e7d6c5b4a39281716@db:5432/conformance?sslmode=disable")
	RegisterSecret("SYS")
	RegisterSecret("")

	type cfg struct {
		Host     string
		Password string
	}
	cases := []string{
		// Gomega's dump of a pgconn.Config-like struct.
		fmt.Sprintf("%#v", cfg{Host: "db", Password: "9f8e7d6c5b4a39281716"}),
		fmt.Sprintf("%+v", cfg{Host: "db", Password: "9f8e7d6c5b4a39281716"}),
		"failed to connect: password 9f8e7d6c5b4a39281716 refused",
		`{"dsn":"postgres://conformance:9f8e7d6c5b4a39281716@db/x"}`,
		"login _SYSTEM/SYS failed",
	}
	for _, c := range cases {
		got := Redact(c)
		if strings.Contains(got, "9f8e7d6c5b4a39281716") || strings.Contains(got, "/SYS ") {
			t.Errorf("Redact(%q) = %q: secret left", c, got)
		}
	}
	if got := Redact("login _SYSTEM/SYS failed"); !strings.Contains(got, "_SYSTEM") {
		t.Errorf("short secret garbled the user name: %q", got)
	}
}

func TestRedactUnregisteredPasswords(t *testing.T) {
	for in, want := range map[string]string{
		`Password:"hunter2x"`:                    `Password:` + Mask,
		`password=hunter2x host=db`:              `password=` + Mask + ` host=db`,
		`"password": "hunter2x"`:                 `"password": ` + Mask,
		"postgres://u:hunter2x@db/x":             "postgres://u:" + Mask + "@db/x",
		"no secret here":                         "no secret here",
		`Password:""`:                            `Password:""`,
		"https://example.com/a:b@c is not a URL": "https://example.com/a:b@c is not a URL",
		"authenticates with password: asks for exactly password, accepts it": "authenticates with password: asks for exactly password, accepts it",
		`password: 'hunter2x'`: `password: ` + Mask,
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
