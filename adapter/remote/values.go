package remote

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/protocol"
)

// rawValue keeps one protocol value undecoded until decodeRow.
type rawValue = json.RawMessage

// decodeRow decodes a row and normalises it to the types every adapter
// returns (adapter.Normalize): exact decimals and vectors as their text,
// dates and timestamps without zone as UTC times.
func decodeRow(row []rawValue) ([]any, error) {
	out := make([]any, len(row))
	for i, raw := range row {
		v, err := protocol.DecodeValue(raw)
		if err != nil {
			return nil, fmt.Errorf("column %d: %w", i+1, err)
		}
		out[i] = normalize(v)
	}
	return out, nil
}

func normalize(v any) any {
	switch x := v.(type) {
	case protocol.Numeric:
		return string(x)
	case protocol.Vector:
		return x.Text()
	case protocol.Date:
		return time.Date(x.Year, time.Month(x.Month), x.Day, 0, 0, 0, 0, time.UTC)
	case protocol.Timestamp:
		return time.Time(x).UTC()
	case []any:
		for i := range x {
			x[i] = normalize(x[i])
		}
		return x
	}
	return adapter.Normalize(v)
}
