package adapter

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Normalize maps a driver's Go value onto the small set of types every
// adapter returns: nil, bool, int64, float64, string, []byte, time.Time, or
// a string for anything else (numeric, json, vector in text form). Specs then
// compare values across drivers exactly.
func Normalize(v any) any {
	switch x := v.(type) {
	case nil, bool, int64, float64, string, time.Time:
		return x
	case []byte:
		if x == nil {
			return nil // SQL NULL; an empty bytea stays a non-nil empty slice
		}
		return append([]byte{}, x...)
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case float32:
		return float64(x)
	case fmt.Stringer:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}

// Fetcher gives a cursor FetchMany and FetchAll from its FetchOne, for
// adapters whose driver has no batch fetch of its own. Embed it and set One.
type Fetcher struct {
	One func(context.Context) ([]any, error)
}

// FetchMany returns up to n rows.
func (f Fetcher) FetchMany(ctx context.Context, n int) ([][]any, error) {
	return FetchN(ctx, fetchOneFunc(f.One), n)
}

// FetchAll returns every remaining row.
func (f Fetcher) FetchAll(ctx context.Context) ([][]any, error) {
	return FetchN(ctx, fetchOneFunc(f.One), -1)
}

type fetchOneFunc func(context.Context) ([]any, error)

func (f fetchOneFunc) FetchOne(ctx context.Context) ([]any, error) { return f(ctx) }

// FetchN builds FetchMany (n ≥ 0) and FetchAll (n < 0) from FetchOne, for
// adapters whose driver has no batch fetch of its own.
func FetchN(ctx context.Context, r interface {
	FetchOne(context.Context) ([]any, error)
}, n int) ([][]any, error) {
	var out [][]any
	for n < 0 || len(out) < n {
		row, err := r.FetchOne(ctx)
		if err != nil {
			return out, err
		}
		if row == nil {
			break
		}
		out = append(out, row)
	}
	return out, nil
}

// WithParam adds a connection parameter to a DSN in URL or keyword/value form.
func WithParam(dsn, key, value string) (string, error) {
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse DSN URL: %w", err)
		}
		// Rebuild the query by hand: url.Values.Encode writes a space as '+',
		// which libpq and pgconn read as a literal plus, and re-encoding
		// would change the other parameters the same way. Keep them raw and
		// percent-encode only the new one, which every parser decodes alike.
		var params []string
		for _, p := range strings.Split(u.RawQuery, "&") {
			k, _, _ := strings.Cut(p, "=")
			if dk, err := url.QueryUnescape(k); p == "" || err == nil && dk == key {
				continue // empty, or the parameter being replaced
			}
			params = append(params, p)
		}
		esc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
		u.RawQuery = strings.Join(append(params, esc(key)+"="+esc(value)), "&")
		return u.String(), nil
	}
	return strings.TrimSpace(dsn) + " " + key + "='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(value) + "'", nil
}
