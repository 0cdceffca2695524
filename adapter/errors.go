package adapter

import (
	"errors"

	"github.com/lib/pq"
)

// SQLState returns the five-character SQLSTATE a server error carries, or ""
// when err (or anything it wraps) is not a server error. Adapters return
// their driver's native errors; this reads the code from any of them that
// has a SQLState() method (pgconn.PgError, lib/pq's *pq.Error) and, for
// older lib/pq releases without that method, from pq.Error's Code field.
func SQLState(err error) string {
	if err == nil {
		return ""
	}
	var s interface{ SQLState() string }
	if errors.As(err, &s) {
		return s.SQLState()
	}
	var pe *pq.Error
	if errors.As(err, &pe) {
		return string(pe.Code)
	}
	return ""
}
