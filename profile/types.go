package profile

import (
	"fmt"
	"slices"
)

// Cast is SQL giving expr (usually a parameter, "$1") the type of a {type}
// token (see DDL), so that a spec states the type a parameter has instead
// of leaving it to the server's parameter description. PostgreSQL writes
// expr::int8 (the form the specs always sent there); IRIS writes the
// standard CAST(expr AS BIGINT) — unverified on a live IRIS whether
// iris-pgwire then describes the parameter with the cast's type. {identity}
// is no cast type; it and unknown tokens are suite bugs and panic.
func (p Profile) Cast(expr, token string) string {
	t, ok := p.types[token]
	if !ok || token == "identity" {
		panic(fmt.Sprintf("profile %s: no cast to {%s}", p.Name, token))
	}
	if p.Name == Postgres.Name {
		return expr + "::" + t
	}
	return "CAST(" + expr + " AS " + t + ")"
}

// Lacks returns the {type} tokens of a column list (see DDL) the profile
// has no type for, in order of appearance: a spec whose table needs one is
// not applicable on the profile.
func (p Profile) Lacks(columns string) []string {
	var out []string
	for _, m := range tokenRE.FindAllStringSubmatch(columns, -1) {
		if !p.HasType(m[1]) && !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}
