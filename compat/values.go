package compat

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/profile"
)

// valueTimeout bounds each round-trip spec; each needs well under a second.
const valueTimeout = SpecTimeout(30 * time.Second)

// Every spec below inserts its values with parameters through the adapter
// (row id i+1 holds value i), reads them back through the adapter, and has
// the observer read what the server stored; both must equal what was sent.
var _ = harness.ForEachAdapter("Compat: value round trips", Label("compat"), func(s *harness.Subject) {
	s.It("round-trips int2, int4 and int8 at their minimum and maximum", harness.Reqs("COMPAT", "FR-002", "T005"), func(ctx SpecContext) {
		obs, table, e := valueTable(ctx, s, "rt_int", "a {smallint}, b {int}, c {bigint}")
		sent := [][]any{
			{int16(math.MinInt16), int32(math.MinInt32), int64(math.MinInt64)},
			{int16(math.MaxInt16), int32(math.MaxInt32), int64(math.MaxInt64)},
			{int16(0), int32(0), int64(0)},
			{int16(-1), int32(-1), int64(-1)},
			{nil, nil, nil},
		}
		got := roundTrip(ctx, e, table, "a, b, c", "$2, $3, $4", sent)
		for i, row := range sent {
			want := []any{int64(i + 1)}
			for _, v := range row {
				want = append(want, asInt64(v))
			}
			Expect(got[i]).To(Equal(want), "row %d through the adapter (integers come back as int64)", i+1)
		}

		for i, r := range observedRows(ctx, obs, fmt.Sprintf("SELECT id, a, b, c FROM %s ORDER BY id", table), len(sent)) {
			var want, seen []any
			for j, v := range sent[i] {
				want = append(want, asInt64(v))
				seen = append(seen, intText(r[j]))
			}
			Expect(seen).To(Equal(want), "row %d as the observer sees it", i+1)
		}
	}, valueTimeout)

	s.It("round-trips numeric exactly, without losing digits", harness.Reqs("COMPAT", "FR-002", "T005"), func(ctx SpecContext) {
		obs, table, e := valueTable(ctx, s, "rt_numeric", "v {numeric}")
		sent := []string{
			"12345678901234567890.123456789",
			"-98765432109876543210.000000001",
			"0.000000000000000000000000000001",
			"99999999999999999999999999999999999999",
			"0",
		}
		rows := append(column(sent), []any{nil})
		got := roundTrip(ctx, e, table, "v", "$2", rows)
		for i, want := range sent {
			Expect(decimal(got[i][1])).To(Equal(decimal(want)), "row %d through the adapter: sent %s, got %#v", i+1, want, got[i][1])
		}
		Expect(got[len(sent)][1]).To(BeNil(), "a NULL numeric comes back as NULL")

		obsRows := observed(ctx, obs, fmt.Sprintf("SELECT id, v FROM %s ORDER BY id", table), len(rows))
		for i, want := range sent {
			Expect(obsRows[i]).NotTo(BeNil(), "row %d: the server stored NULL", i+1)
			Expect(decimal(*obsRows[i])).To(Equal(decimal(want)), "row %d as the observer sees it: %s", i+1, *obsRows[i])
		}
		Expect(obsRows[len(sent)]).To(BeNil(), "the NULL row as the observer sees it")
	}, valueTimeout)

	s.It("round-trips float8 bit for bit, including 0.1, 1e308 and -0", harness.Reqs("COMPAT", "FR-002", "T005"), func(ctx SpecContext) {
		obs, table, e := valueTable(ctx, s, "rt_float", "v {double}")
		sent := []float64{0.1, 1e308, math.Copysign(0, -1), 0, -1.5, math.Pi, 1.0 / 3, math.MaxFloat64, -2.2250738585072014e-308, 123456789.000001}
		rows := column(sent)
		got := roundTrip(ctx, e, table, "v", "$2", rows)
		for i, want := range sent {
			Expect(got[i][1]).To(BeAssignableToTypeOf(float64(0)), "row %d: float8 comes back as float64", i+1)
			Expect(bits(got[i][1].(float64))).To(Equal(bits(want)), "row %d through the adapter: sent %v, got %v", i+1, want, got[i][1])
		}

		for i, v := range observed(ctx, obs, fmt.Sprintf("SELECT id, v FROM %s ORDER BY id", table), len(sent)) {
			Expect(v).NotTo(BeNil(), "row %d as the observer sees it: NULL", i+1)
			f, err := strconv.ParseFloat(*v, 64)
			Expect(err).NotTo(HaveOccurred(), "row %d as the observer sees it: %q", i+1, *v)
			Expect(bits(f)).To(Equal(bits(sent[i])), "row %d as the observer sees it: %s, sent %v", i+1, *v, sent[i])
		}
	}, valueTimeout)

	s.It("round-trips text, keeping the empty string distinct from NULL", harness.Reqs("COMPAT", "FR-002", "T005"), func(ctx SpecContext) {
		obs, table, e := valueTable(ctx, s, "rt_text", "v {text}")
		sent := []any{
			"",
			nil,
			"plain",
			`it's "quoted"; a \backslash\ and $1 -- not a comment`,
			"ünïcödé ✓ 日本語 😀",
			"  leading and trailing spaces  ",
			"line one\nline two\r\n\ttabbed",
			strings.Repeat("0123456789", 10_000),
		}
		rows := column(sent)
		got := roundTrip(ctx, e, table, "v", "$2", rows)
		for i, want := range sent {
			Expect(got[i][1]).To(same(want), "row %d through the adapter (the empty string must not become NULL, nor NULL the empty string)", i+1)
		}

		obsRows := observed(ctx, obs, fmt.Sprintf("SELECT id, v FROM %s ORDER BY id", table), len(sent))
		for i, want := range sent {
			if want == nil {
				Expect(obsRows[i]).To(BeNil(), "row %d as the observer sees it: NULL", i+1)
				continue
			}
			Expect(obsRows[i]).NotTo(BeNil(), "row %d as the observer sees it: %q, not NULL", i+1, want)
			Expect(*obsRows[i]).To(Equal(want), "row %d as the observer sees it", i+1)
		}
		empty := obs.Int(ctx, fmt.Sprintf("SELECT count(*) FROM %s WHERE v = ''", table))
		null := obs.Int(ctx, fmt.Sprintf("SELECT count(*) FROM %s WHERE v IS NULL", table))
		Expect([]int64{empty, null}).To(Equal([]int64{1, 1}), "the server holds exactly one empty string and one NULL")
	}, valueTimeout)

	s.It("round-trips bool true, false and NULL", harness.Reqs("COMPAT", "FR-002", "T005"), func(ctx SpecContext) {
		obs, table, e := valueTable(ctx, s, "rt_bool", "v {bool}")
		sent := []any{true, false, nil}
		rows := column(sent)
		got := roundTrip(ctx, e, table, "v", "$2", rows)
		for i, want := range sent {
			Expect(got[i][1]).To(same(want), "row %d through the adapter: booleans come back as bool, not 1/0", i+1)
		}
		Expect(adapter.Scalar(ctx, e, fmt.Sprintf("SELECT count(*) FROM %s WHERE v", table))).To(BeEquivalentTo(1),
			"a bool column is usable as a WHERE condition")

		var seen []any
		for _, v := range observed(ctx, obs, fmt.Sprintf("SELECT id, v FROM %s ORDER BY id", table), len(sent)) {
			seen = append(seen, boolText(v))
		}
		Expect(seen).To(Equal(sent), "as the observer sees them")
	}, valueTimeout)

	s.It("round-trips date, from a time value and from an ISO string", harness.Reqs("COMPAT", "FR-002", "T005"), func(ctx SpecContext) {
		obs, table, e := valueTable(ctx, s, "rt_date", "v {date}")
		rows := [][]any{
			{time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
			{time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)},
			{time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC)},
			{"2000-02-29"},
			{nil},
		}
		want := []any{"2024-02-29", "1970-01-01", "1999-12-31", "2000-02-29", nil}
		got := roundTrip(ctx, e, table, "v", "$2", rows)
		for i := range rows {
			Expect(calendarDate(got[i][1])).To(same(want[i]), "row %d through the adapter: %#v", i+1, got[i][1])
		}

		var seen []any
		for _, v := range observed(ctx, obs, fmt.Sprintf("SELECT id, v FROM %s ORDER BY id", table), len(rows)) {
			seen = append(seen, deref(v))
		}
		Expect(seen).To(Equal(want), "as the observer sees them")
	}, valueTimeout)

	s.It("round-trips timestamptz to the microsecond, from non-UTC zones", harness.Reqs("COMPAT", "FR-002", "T005"), func(ctx SpecContext) {
		obs, table, e := valueTable(ctx, s, "rt_timestamptz", "v {timestamptz}")
		india := time.FixedZone("UTC+05:30", 5*3600+30*60)
		pacific := time.FixedZone("UTC-08:00", -8*3600)
		want := []time.Time{
			time.Date(2024, 2, 29, 23, 59, 58, 123456000, india),
			time.Date(1999, 12, 31, 23, 59, 59, 999999000, time.UTC),
			time.Date(2038, 1, 19, 3, 14, 8, 1000, pacific),
			time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC),
			time.Date(2024, 2, 29, 23, 59, 58, 123456000, india),
		}
		rows := [][]any{{want[0]}, {want[1]}, {want[2]}, {want[3]}, {"2024-02-29 23:59:58.123456+05:30"}}
		got := roundTrip(ctx, e, table, "v", "$2", rows)
		for i, w := range want {
			Expect(got[i][1]).To(BeAssignableToTypeOf(time.Time{}), "row %d: timestamptz comes back as a time", i+1)
			Expect(got[i][1].(time.Time).UTC()).To(Equal(w.UTC()), "row %d through the adapter: the same instant, to the microsecond", i+1)
		}

		var seen []time.Time
		for i, v := range observed(ctx, obs, fmt.Sprintf("SELECT id, v FROM %s ORDER BY id", table), len(rows)) {
			Expect(v).NotTo(BeNil(), "row %d as the observer sees it: NULL", i+1)
			t, err := harness.ParseTime(*v)
			Expect(err).NotTo(HaveOccurred(), "row %d as the observer sees it", i+1)
			seen = append(seen, t.UTC())
		}
		utc := make([]time.Time, len(want))
		for i, w := range want {
			utc[i] = w.UTC()
		}
		Expect(seen).To(Equal(utc), "as the observer sees them")
	}, valueTimeout)

	s.It("round-trips bytea: empty, NULL and every byte 0x00-0xFF", harness.Reqs("COMPAT", "FR-002", "T005"), func(ctx SpecContext) {
		obs, table, e := valueTable(ctx, s, "rt_bytea", "v {bytea}")
		all := make([]byte, 256)
		for i := range all {
			all[i] = byte(i)
		}
		sent := []any{[]byte{}, nil, all, []byte(`\x00'"\\`), []byte{0}}
		rows := column(sent)
		got := roundTrip(ctx, e, table, "v", "$2", rows)
		for i, want := range sent {
			// Equal tells []byte{} from nil: an empty bytea is not NULL.
			Expect(got[i][1]).To(same(want), "row %d through the adapter", i+1)
		}

		for i, v := range observed(ctx, obs, fmt.Sprintf("SELECT id, v FROM %s ORDER BY id", table), len(sent)) {
			if sent[i] == nil {
				Expect(v).To(BeNil(), "row %d as the observer sees it: NULL", i+1)
				continue
			}
			Expect(v).NotTo(BeNil(), "row %d as the observer sees it: %x, not NULL", i+1, sent[i])
			Expect(byteaText(*v)).To(Equal(sent[i]), "row %d as the observer sees it: %.80q", i+1, *v)
		}
	}, valueTimeout)

	s.It("round-trips json and jsonb, keeping JSON null distinct from SQL NULL", harness.Reqs("COMPAT", "FR-002", "T005"), func(ctx SpecContext) {
		obs, table, e := valueTable(ctx, s, "rt_json", "j {json}, jb {jsonb}")
		sent := []any{
			`{"a": 1, "b": [true, null, "x"], "c": {"d": 1.5, "e": "ü \"quoted\" \\ \u00e9"}}`,
			`[]`,
			`"just a string"`,
			`null`,
			`12345678901234567890`,
			nil,
		}
		rows := make([][]any, len(sent))
		for i, v := range sent {
			rows[i] = []any{v, v}
		}
		got := roundTrip(ctx, e, table, "j, jb", "$2, $3", rows)
		for i, want := range sent {
			for col, name := range []string{"json", "jsonb"} {
				v := got[i][col+1]
				if want == nil {
					Expect(v).To(BeNil(), "row %d %s through the adapter: SQL NULL", i+1, name)
					continue
				}
				Expect(canonicalJSON(v)).To(Equal(canonicalJSON(want)), "row %d %s through the adapter: %#v", i+1, name, v)
			}
		}

		for i, r := range observedRows(ctx, obs, fmt.Sprintf("SELECT id, j, jb FROM %s ORDER BY id", table), len(sent)) {
			for col, name := range []string{"json", "jsonb"} {
				v := r[col]
				if sent[i] == nil {
					Expect(v).To(BeNil(), "row %d %s as the observer sees it: SQL NULL", i+1, name)
					continue
				}
				Expect(v).NotTo(BeNil(), "row %d %s as the observer sees it: %s, not SQL NULL", i+1, name, sent[i])
				Expect(canonicalJSON(*v)).To(Equal(canonicalJSON(sent[i])), "row %d %s as the observer sees it: %s", i+1, name, *v)
			}
		}
	}, valueTimeout)

	s.It("round-trips a vector through the profile's vector parameter", harness.Reqs("COMPAT", "FR-004", "EC-3", "T025"), func(ctx SpecContext) {
		p := harness.Profile()
		obs, table, e := valueTable(ctx, s, "rt_vector", "v "+p.VectorType(4))
		sent := [][]float32{{1, 0.1, -2.5, 3e-5}, {0.5, 0, -0.25, 1e6}, nil}
		rows := make([][]any, len(sent))
		for i, v := range sent {
			if v == nil {
				rows[i] = []any{nil}
			} else {
				rows[i] = []any{profile.VectorLiteral(v)}
			}
		}
		got := roundTrip(ctx, e, table, "v", p.VectorParam(2), rows)
		for i, want := range sent {
			if want == nil {
				Expect(got[i][1]).To(BeNil(), "row %d through the adapter: NULL", i+1)
				continue
			}
			Expect(vector(got[i][1])).To(Equal(want), "row %d through the adapter: %#v", i+1, got[i][1])
		}

		obsRows := observed(ctx, obs, fmt.Sprintf("SELECT id, v FROM %s ORDER BY id", table), len(sent))
		for i, want := range sent {
			if want == nil {
				Expect(obsRows[i]).To(BeNil(), "row %d as the observer sees it: NULL", i+1)
				continue
			}
			Expect(obsRows[i]).NotTo(BeNil(), "row %d as the observer sees it", i+1)
			Expect(vector(*obsRows[i])).To(Equal(want), "row %d as the observer sees it: %s", i+1, *obsRows[i])
		}
	}, valueTimeout, Label("vector"))
})

// valueTable creates the spec's table prefix (id {bigint} PRIMARY KEY, then
// cols, written with {type} tokens) through the observer and opens the
// adapter's engine with one connection. A spec whose column types the
// profile lacks (IRIS has no json) is not applicable there.
func valueTable(ctx SpecContext, s *harness.Subject, prefix, cols string) (*harness.Observer, string, adapter.Engine) {
	GinkgoHelper()
	p := harness.Profile()
	if lacks := p.Lacks(cols); len(lacks) > 0 {
		Skip(fmt.Sprintf("%sprofile %s has no column type for {%s}", harness.NotApplicable, p.Name, strings.Join(lacks, "}, {")))
	}
	obs := harness.Observe(ctx)
	table := harness.NewTable(ctx, obs, prefix, "id {bigint} PRIMARY KEY, "+cols)
	e, _ := s.Open(ctx, 1)
	return obs, table, e
}

// roundTrip inserts rows into table's columns cols through the engine (row
// id i+1 holds rows[i], given to params: "$2, $3", …) and reads them back
// through it, id first.
func roundTrip(ctx context.Context, e adapter.Engine, table, cols, params string, rows [][]any) [][]any {
	GinkgoHelper()
	insertRows(ctx, e, fmt.Sprintf("INSERT INTO %s (id, %s) VALUES ($1, %s)", table, cols, params), rows)
	return readBack(ctx, e, fmt.Sprintf("SELECT id, %s FROM %s ORDER BY id", cols, table), len(rows))
}

// column makes the rows of a one-column insert, a value a row.
func column[T any](values []T) [][]any {
	rows := make([][]any, len(values))
	for i, v := range values {
		rows[i] = []any{v}
	}
	return rows
}

// insertRows runs insert once per row through the engine with the row's id
// (1, 2, …) as $1 and the row's values after it; each must succeed (the
// rows each reports affected are only recorded: harness.Write).
func insertRows(ctx context.Context, e adapter.Engine, insert string, rows [][]any) {
	GinkgoHelper()
	for i, r := range rows {
		args := append([]any{int64(i + 1)}, r...)
		harness.Write(ctx, e, 1, insert, args...)
	}
}

// readBack runs query (ids first, ordered) through the engine and checks it
// returns n rows with ids 1…n.
func readBack(ctx context.Context, e adapter.Engine, query string, n int) [][]any {
	GinkgoHelper()
	rows, err := e.Query(ctx, query)
	Expect(err).NotTo(HaveOccurred(), "query through the adapter")
	all, err := rows.FetchAll(ctx)
	Expect(err).NotTo(HaveOccurred(), "fetch through the adapter")
	Expect(rows.Close(ctx)).To(Succeed())
	Expect(all).To(HaveLen(n), "rows read back through the adapter")
	for i, r := range all {
		Expect(r[0]).To(Equal(int64(i+1)), "id of row %d", i+1)
	}
	return all
}

// observed reads (id, value) rows through the observer and checks the ids
// are 1…n; each value is its text, a NULL a nil pointer.
func observed(ctx context.Context, obs *harness.Observer, query string, n int) []*string {
	GinkgoHelper()
	var out []*string
	for _, r := range observedRows(ctx, obs, query, n) {
		Expect(r).To(HaveLen(1), "observer: %s gives (id, value) rows", query)
		out = append(out, r[0])
	}
	return out
}

// observedRows reads (id, values...) rows through the observer, checks the
// ids are 1…n and returns each row's values (after the id) as text.
func observedRows(ctx context.Context, obs *harness.Observer, query string, n int) [][]*string {
	GinkgoHelper()
	var out [][]*string
	for i, r := range obs.Rows(ctx, query) {
		Expect(r).NotTo(BeEmpty(), "observer: %s", query)
		Expect(r[0]).NotTo(BeNil(), "observer: row %d has a NULL id", i+1)
		id, err := harness.ParseInt(*r[0])
		Expect(err).NotTo(HaveOccurred(), "observer: id of row %d", i+1)
		Expect(id).To(Equal(int64(i+1)), "observer: row %d has id %d", i+1, id)
		out = append(out, r[1:])
	}
	Expect(out).To(HaveLen(n), "rows the observer sees")
	return out
}

// intText reads an integer the observer returned as text; NULL is nil.
func intText(v *string) any {
	GinkgoHelper()
	if v == nil {
		return nil
	}
	n, err := harness.ParseInt(*v)
	Expect(err).NotTo(HaveOccurred(), "observer: integer text")
	return n
}

// boolText reads a boolean the observer returned as text: PostgreSQL
// writes t/f, IRIS's BIT 1/0; NULL is nil. Anything else is returned as
// is, to show in the failed comparison.
func boolText(v *string) any {
	if v == nil {
		return nil
	}
	switch strings.ToLower(strings.TrimSpace(*v)) {
	case "t", "true", "1":
		return true
	case "f", "false", "0":
		return false
	}
	return "not a boolean: " + *v
}

// byteaText reads binary data the observer returned as text: PostgreSQL's
// hex form (\x0aff…); anything else (a server's raw bytes) is taken as is.
func byteaText(s string) []byte {
	if h, ok := strings.CutPrefix(s, `\x`); ok {
		if b, err := hex.DecodeString(h); err == nil {
			return b
		}
	}
	return []byte(s)
}

// asInt64 widens a sent integer to the int64 the adapter returns.
func asInt64(v any) any {
	switch x := v.(type) {
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	}
	return v
}

// same is Equal(want), or BeNil() for a NULL (Equal refuses nil).
func same(want any) types.GomegaMatcher {
	if want == nil {
		return BeNil()
	}
	return Equal(want)
}

// deref turns a scanned pointer into its value, or an untyped nil for NULL.
func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func bits(f float64) string { return fmt.Sprintf("%016x", math.Float64bits(f)) }

// calendarDate is the date a returned date value names, in the value's own
// zone; it must be midnight there. Anything else is reported as is.
func calendarDate(v any) any {
	t, ok := v.(time.Time)
	if !ok {
		return v
	}
	if h, m, s := t.Clock(); h != 0 || m != 0 || s != 0 || t.Nanosecond() != 0 {
		return "not midnight: " + t.String()
	}
	return t.Format("2006-01-02")
}
