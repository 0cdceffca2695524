package protocol

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// MaxSafeInt is the largest integer a JSON number carries exactly in every
// language (2^53-1); larger magnitudes travel as {"$int8": "…"}.
const MaxSafeInt = 1<<53 - 1

// Numeric is an exact decimal ({"$numeric": "1.10"}), kept as its text so
// scale and trailing zeros survive.
type Numeric string

// Date is a calendar date without time or zone ({"$date": "2026-01-02"}).
type Date struct{ Year, Month, Day int }

// Timestamp is a timestamp without time zone ({"$timestamp": "…"}).
type Timestamp time.Time

// Vector is a float vector ({"$vector": [1, 2, 3]}), e.g. pgvector's type.
type Vector []float32

// Text is the pgvector text form of v: [1,2,3].
func (v Vector) Text() string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(float64(x), 'g', -1, 32)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// timestamptzLayout is RFC 3339 with microseconds and a numeric offset.
const timestamptzLayout = "2006-01-02T15:04:05.000000-07:00"
const timestampLayout = "2006-01-02T15:04:05.000000"

// EncodeValue turns a Go value into its protocol JSON. Supported: nil,
// bool, every integer type, float32/64 (NaN and ±Inf included), string,
// []byte, time.Time (timestamptz), Timestamp, Date, Numeric, Vector,
// []float32 (as a vector), time.Duration (interval) and []any (array).
func EncodeValue(v any) (json.RawMessage, error) {
	switch x := v.(type) {
	case nil:
		return json.RawMessage("null"), nil
	case bool, string:
		return json.Marshal(x)
	case int:
		return encodeInt(int64(x)), nil
	case int8:
		return encodeInt(int64(x)), nil
	case int16:
		return encodeInt(int64(x)), nil
	case int32:
		return encodeInt(int64(x)), nil
	case int64:
		return encodeInt(x), nil
	case uint8:
		return encodeInt(int64(x)), nil
	case uint16:
		return encodeInt(int64(x)), nil
	case uint32:
		return encodeInt(int64(x)), nil
	case uint64:
		if x > math.MaxInt64 {
			return nil, fmt.Errorf("uint64 %d does not fit int8", x)
		}
		return encodeInt(int64(x)), nil
	case float32:
		return encodeFloat(float64(x)), nil
	case float64:
		return encodeFloat(x), nil
	case []byte:
		if x == nil {
			return json.RawMessage("null"), nil
		}
		return tagged("$bytes", base64.StdEncoding.EncodeToString(x))
	case time.Time:
		return tagged("$timestamptz", x.Format(timestamptzLayout))
	case Timestamp:
		return tagged("$timestamp", time.Time(x).Format(timestampLayout))
	case Date:
		return tagged("$date", fmt.Sprintf("%04d-%02d-%02d", x.Year, x.Month, x.Day))
	case Numeric:
		if !numericPattern.MatchString(string(x)) {
			return nil, fmt.Errorf("numeric %q is not a decimal number", string(x))
		}
		return tagged("$numeric", string(x))
	case Vector:
		return encodeVector(x)
	case []float32:
		return encodeVector(x)
	case time.Duration:
		return tagged("$interval_us", strconv.FormatInt(x.Microseconds(), 10))
	case []any:
		parts := make([]json.RawMessage, len(x))
		for i, e := range x {
			b, err := EncodeValue(e)
			if err != nil {
				return nil, fmt.Errorf("array element %d: %w", i, err)
			}
			parts[i] = b
		}
		return tagged("$array", parts)
	}
	return nil, fmt.Errorf("cannot encode a %T as a protocol value", v)
}

func encodeInt(x int64) json.RawMessage {
	if x > MaxSafeInt || x < -MaxSafeInt {
		b, _ := tagged("$int8", strconv.FormatInt(x, 10))
		return b
	}
	return json.RawMessage(strconv.FormatInt(x, 10))
}

func encodeFloat(f float64) json.RawMessage {
	switch {
	case math.IsNaN(f):
		b, _ := tagged("$float8", "NaN")
		return b
	case math.IsInf(f, 1):
		b, _ := tagged("$float8", "Infinity")
		return b
	case math.IsInf(f, -1):
		b, _ := tagged("$float8", "-Infinity")
		return b
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0" // a float always carries a point or an exponent
	}
	return json.RawMessage(s)
}

func encodeVector(v []float32) (json.RawMessage, error) {
	parts := make([]json.RawMessage, len(v))
	for i, f := range v {
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return nil, fmt.Errorf("vector element %d is %v", i, f)
		}
		parts[i] = json.RawMessage(strconv.FormatFloat(float64(f), 'g', -1, 32))
	}
	return tagged("$vector", parts)
}

func tagged(tag string, v any) (json.RawMessage, error) {
	return json.Marshal(map[string]any{tag: v})
}

var (
	numericPattern = regexp.MustCompile(`^(NaN|[+-]?Infinity|[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)$`)
	datePattern    = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})$`)
	// floatPattern is a decimal float: no hex, no "inf", no underscores,
	// which strconv.ParseFloat would also take.
	floatPattern = regexp.MustCompile(`^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$`)
	// timePattern is a time of day, optionally with a zone offset (timetz).
	timePattern = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?([+-]\d{2}:\d{2})?$`)
	uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// DecodeValue turns protocol JSON into a Go value: nil, bool, int64 (a
// number without point or exponent, or $int8), float64 (with point or
// exponent, or $float8), string, []byte ($bytes), time.Time ($timestamptz),
// Timestamp, Date, Numeric, Vector, time.Duration ($interval_us), string
// for $time, $uuid and $json, []any ($array).
func DecodeValue(raw json.RawMessage) (any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, errors.New("empty value")
	}
	switch raw[0] {
	case 'n':
		if string(raw) == "null" {
			return nil, nil
		}
	case 't', 'f':
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return nil, fmt.Errorf("malformed value %s", clip(raw))
		}
		return b, nil
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("malformed string %s: %v", clip(raw), err)
		}
		return s, nil
	case '[':
		return nil, fmt.Errorf("a bare JSON array is not a value (arrays travel as $array, vectors as $vector): %s", clip(raw))
	case '{':
		return decodeTagged(raw)
	default:
		return decodeNumber(raw)
	}
	return nil, fmt.Errorf("malformed value %s", clip(raw))
}

func decodeNumber(raw json.RawMessage) (any, error) {
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return nil, fmt.Errorf("malformed value %s", clip(raw))
	}
	s := n.String()
	if strings.ContainsAny(s, ".eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("float %s: %w", s, err)
		}
		return f, nil
	}
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("integer %s does not fit int8", s)
	}
	return i, nil
}

func decodeTagged(raw json.RawMessage) (any, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("malformed value %s: %v", clip(raw), err)
	}
	if len(m) != 1 {
		return nil, fmt.Errorf("a typed value has exactly one $tag, got %s", clip(raw))
	}
	for tag, body := range m {
		v, err := decodeTag(tag, body)
		if err != nil {
			return nil, fmt.Errorf("%s value %s: %w", tag, clip(body), err)
		}
		return v, nil
	}
	panic("unreachable")
}

func decodeTag(tag string, body json.RawMessage) (any, error) {
	if tag == "$array" {
		var parts []json.RawMessage
		if err := json.Unmarshal(body, &parts); err != nil {
			return nil, errors.New("not a JSON array")
		}
		out := make([]any, len(parts))
		for i, p := range parts {
			v, err := DecodeValue(p)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
			out[i] = v
		}
		return out, nil
	}
	if tag == "$vector" {
		var fs []float64
		if err := json.Unmarshal(body, &fs); err != nil {
			return nil, errors.New("not a JSON array of numbers")
		}
		v := make(Vector, len(fs))
		for i, f := range fs {
			v[i] = float32(f)
		}
		return v, nil
	}
	var s string
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, errors.New("the body must be a JSON string")
	}
	switch tag {
	case "$int8":
		if strings.ContainsAny(s, ".eE") {
			return nil, errors.New("not an integer")
		}
		if _, ok := new(big.Int).SetString(s, 10); !ok {
			return nil, errors.New("not an integer")
		}
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, errors.New("out of int8 range")
		}
		return i, nil
	case "$float8":
		switch s {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
		if !floatPattern.MatchString(s) {
			return nil, errors.New("want NaN, Infinity, -Infinity or a decimal float")
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, errors.New("not a float8")
		}
		return f, nil
	case "$numeric":
		if !numericPattern.MatchString(s) {
			return nil, errors.New("not a decimal number")
		}
		return Numeric(s), nil
	case "$bytes":
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("not standard base64: %v", err)
		}
		return b, nil
	case "$date":
		m := datePattern.FindStringSubmatch(s)
		if m == nil {
			return nil, errors.New("want YYYY-MM-DD")
		}
		if _, err := time.Parse("2006-01-02", s); err != nil {
			return nil, errors.New("not a calendar date")
		}
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		d, _ := strconv.Atoi(m[3])
		return Date{y, mo, d}, nil
	case "$timestamptz":
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, errors.New("want RFC 3339 with an offset, e.g. 2026-01-02T03:04:05.123456+00:00")
		}
		return t, nil
	case "$timestamp":
		t, err := time.Parse("2006-01-02T15:04:05.999999999", s)
		if err != nil {
			return nil, errors.New("want 2026-01-02T03:04:05.123456 without an offset")
		}
		return Timestamp(t), nil
	case "$interval_us":
		us, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, errors.New("want microseconds as an integer string")
		}
		return time.Duration(us) * time.Microsecond, nil
	case "$time":
		if !timePattern.MatchString(s) {
			return nil, errors.New("want HH:MM:SS[.ffffff]")
		}
		return s, nil
	case "$uuid":
		if !uuidPattern.MatchString(s) {
			return nil, errors.New("want a UUID as 8-4-4-4-12 hex digits")
		}
		return s, nil
	case "$json":
		if !json.Valid([]byte(s)) {
			return nil, errors.New("not a JSON document")
		}
		return s, nil
	}
	return nil, errors.New("unknown tag")
}

func clip(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}
