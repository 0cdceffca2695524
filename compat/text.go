package compat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// textOf returns the text form of a value the adapter returns for a type Go
// has no plain type for (numeric, json, vector): a string, or the bytes some
// database/sql drivers (lib/pq) hand out for it.
func textOf(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case []byte:
		return string(x), true
	}
	return "", false
}

var decimalRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)

// decimal is the exact rational value of a decimal text (as p/q), or a
// description of why v is not one. Comparing two decimals compares values
// exactly: "1.50" equals "1.5", but a digit lost anywhere does not.
func decimal(v any) string {
	s, ok := textOf(v)
	if !ok {
		return fmt.Sprintf("not decimal text: %#v (%T)", v, v)
	}
	if !decimalRE.MatchString(s) {
		return fmt.Sprintf("not a decimal: %q", s)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return fmt.Sprintf("not a decimal: %q", s)
	}
	return r.RatString()
}

// canonicalJSON decodes a JSON text (numbers kept as written) and encodes
// it again with sorted keys, so two texts compare equal exactly when they
// mean the same JSON value; anything else is described.
func canonicalJSON(v any) string {
	s, ok := textOf(v)
	if !ok {
		return fmt.Sprintf("not JSON text: %#v (%T)", v, v)
	}
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var x any
	if err := d.Decode(&x); err != nil {
		return fmt.Sprintf("not JSON: %q (%v)", s, err)
	}
	if d.More() {
		return fmt.Sprintf("not one JSON value: %q", s)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil {
		return fmt.Sprintf("cannot re-encode %q: %v", s, err)
	}
	return strings.TrimSpace(b.String())
}

// vector parses a vector's text form, "[1,0.5,-2]", into float32s; the
// error, if any, is returned in place of the vector so that it shows in a
// failed comparison.
func vector(v any) any {
	s, ok := textOf(v)
	if !ok {
		return fmt.Sprintf("not vector text: %#v (%T)", v, v)
	}
	t := strings.TrimSpace(s)
	if len(t) < 2 || t[0] != '[' || t[len(t)-1] != ']' {
		return fmt.Sprintf("not a vector: %q", s)
	}
	inner := t[1 : len(t)-1]
	var out []float32
	for _, p := range strings.Split(inner, ",") {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 32)
		if err != nil {
			return fmt.Sprintf("not a vector: %q (%v)", s, err)
		}
		out = append(out, float32(f))
	}
	return out
}
