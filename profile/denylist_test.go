package profile

// The specs must send no PostgreSQL-only SQL on the iris profile: they ask
// the profile for DDL types ({type} tokens), casts (Cast, VectorParam),
// session facts (SessionSQL) and the clock (Now). This test reads the spec
// packages' Go source and fails on PostgreSQL-only constructs in any string
// literal that holds SQL, after rendering its {type} tokens as IRIS's.
//
// A literal holds SQL when it starts with a statement keyword (SELECT,
// INSERT, CREATE, …, upper case as the specs write SQL), contains a {type}
// token, a $n placeholder, a :: cast or an upper-case clause (FROM, WHERE,
// PRIMARY KEY, …), or is an argument of a function whose name ends in
// "Table" or is "DDL" (column lists: NewTable, valueTable). Column lists
// are also checked for PostgreSQL's own type names (text, bool, bytea, …).
// A token IRIS has no type for ({json}) is dropped: DDL panics on it, so a
// spec must check HasType/Lacks before it can send one.
//
// Exempt — because that SQL never runs on iris — are literals
//   - on a line carrying, or just below a line carrying, a comment with
//     "pgwc:postgres-only" (say why next to it), and
//   - inside a spec (an s.It call) declaring NeedsFeature{…} with a feature
//     the IRIS profile lacks.
// _test.go files are not scanned: unit tests send nothing to a target.

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// specPackages are the directories whose SQL is sent to the target.
var specPackages = []string{"contract", "edge_cases", "compat", "integration", "iris_features", "fixtures"}

// postgresOnlyMarker exempts a line of SQL that only runs on PostgreSQL.
const postgresOnlyMarker = "pgwc:postgres-only"

// features maps the names specs write (profile.ConnectionView) to the
// features, for the NeedsFeature exemption.
var features = map[string]Feature{
	"TransactionalDDL":   TransactionalDDL,
	"ConnectionView":     ConnectionView,
	"VectorOperators":    VectorOperators,
	"CopyFromStdin":      CopyFromStdin,
	"ConcurrentSessions": ConcurrentSessions,
}

type construct struct {
	name string
	re   *regexp.Regexp
}

// postgresOnly are constructs IRIS (through iris-pgwire) does not take, in
// any SQL.
var postgresOnly = []construct{
	{":: cast (use Profile.Cast or VectorParam)", regexp.MustCompile(`::\s*[A-Za-z_%]`)},
	{"PostgreSQL integer type name (use {bigint}, {int}, {smallint})", regexp.MustCompile(`(?i)\bint[248]\b`)},
	{"PostgreSQL float type name (use {double}, {real})", regexp.MustCompile(`(?i)\bfloat[48]\b`)},
	{"timestamptz (use {timestamptz})", regexp.MustCompile(`(?i)\btimestamptz\b`)},
	{"serial type (use {identity})", regexp.MustCompile(`(?i)\b(small|big)?serial\b`)},
	{"GENERATED … AS IDENTITY (use {identity})", regexp.MustCompile(`(?i)\bGENERATED\b[^,;]*\bAS\s+IDENTITY\b`)},
	{"inet_server_*/inet_client_* (use Profile.SessionSQL)", regexp.MustCompile(`(?i)\binet_(server|client)_\w+`)},
	{"current_setting/set_config (use Profile.SessionSQL)", regexp.MustCompile(`(?i)\b(current_setting|set_config)\s*\(`)},
	{"current_database() (use Profile.SessionSQL)", regexp.MustCompile(`(?i)\bcurrent_database\s*\(`)},
	{"current_query()", regexp.MustCompile(`(?i)\bcurrent_query\s*\(`)},
	{"pg_ catalogue or function", regexp.MustCompile(`(?i)\bpg_[a-z_]+`)},
	{"array_agg/generate_series", regexp.MustCompile(`(?i)\b(array_agg|generate_series)\s*\(`)},
	{"ILIKE", regexp.MustCompile(`(?i)\bILIKE\b`)},
}

// postgresTypeNames are PostgreSQL's own column types, checked in column
// lists only (the words are common elsewhere).
var postgresTypeNames = construct{"PostgreSQL column type (use its {type} token)",
	regexp.MustCompile(`(?i)\b(text|bool|boolean|bytea|jsonb?|uuid)\b`)}

var (
	statementStart = regexp.MustCompile(`^[\s(]*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|WITH|SET|SHOW|BEGIN|START|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|TRUNCATE|COPY|VALUES|EXPLAIN|DECLARE|FETCH|CLOSE|LISTEN|NOTIFY|CALL|GRANT|PREPARE|EXECUTE|DEALLOCATE|DISCARD|RESET|LOCK|VACUUM|ANALYZE)\b`)
	sqlSignal      = regexp.MustCompile(`\$\d|::\s*[A-Za-z_%]|\b(FROM|WHERE|ORDER BY|GROUP BY|PRIMARY KEY|NOT NULL|RETURNING|CREATE TABLE|ALTER TABLE)\b`)
	columnList     = regexp.MustCompile(`\b(PRIMARY KEY|CREATE TABLE|ALTER TABLE)\b`)
)

// finding is one PostgreSQL-only construct in a spec's SQL.
type finding struct {
	pos       token.Position
	construct string
	sql       string
}

func (f finding) String() string {
	return fmt.Sprintf("%s: %s in %q", f.pos, f.construct, f.sql)
}

// renderIRIS writes a literal's {type} tokens as IRIS's types; tokens IRIS
// lacks, and tokens that are no type ({a}), are dropped.
func renderIRIS(s string) string {
	return tokenRE.ReplaceAllStringFunc(s, func(tok string) string {
		if name := tok[1 : len(tok)-1]; IRIS.HasType(name) {
			return IRIS.DDL(tok)
		}
		return ""
	})
}

// checkSQL returns the PostgreSQL-only constructs in one literal, or nil
// when it holds no SQL.
func checkSQL(lit string, ddlArg bool) []string {
	hasToken := tokenRE.MatchString(lit)
	if !(statementStart.MatchString(lit) || hasToken || sqlSignal.MatchString(lit) || ddlArg) {
		return nil
	}
	sql := renderIRIS(lit)
	var out []string
	for _, c := range postgresOnly {
		if c.re.MatchString(sql) {
			out = append(out, c.name)
		}
	}
	if (ddlArg || hasToken || columnList.MatchString(lit)) && postgresTypeNames.re.MatchString(sql) {
		out = append(out, postgresTypeNames.name)
	}
	return out
}

// scanDir scans the non-test Go files of dir.
func scanDir(t *testing.T, dir string) []finding {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no Go files in %s", dir)
	}
	var out []finding
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		fs, err := scanFile(name, src)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fs...)
	}
	return out
}

// span is a stretch of a file, [from, to).
type span struct{ from, to token.Pos }

func inAny(p token.Pos, spans []span) bool {
	for _, s := range spans {
		if p >= s.from && p < s.to {
			return true
		}
	}
	return false
}

// scanFile returns the findings of one Go source file.
func scanFile(name string, src []byte) ([]finding, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	marked := map[int]bool{}
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			if strings.Contains(c.Text, postgresOnlyMarker) {
				line := fset.Position(c.Pos()).Line
				marked[line], marked[line+1] = true, true
			}
		}
	}
	var exempt, ddlArgs []span
	var bad error
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		switch fn := calleeName(call); {
		case fn == "It":
			postgresOnly, err := needsFeatureIRISLacks(call)
			if err != nil && bad == nil {
				bad = fmt.Errorf("%s: %w", fset.Position(call.Pos()), err)
			}
			if postgresOnly {
				exempt = append(exempt, span{call.Pos(), call.End()})
			}
		case fn == "DDL" || strings.HasSuffix(fn, "Table"):
			for _, a := range call.Args {
				ddlArgs = append(ddlArgs, span{a.Pos(), a.End()})
			}
		}
		return true
	})
	if bad != nil {
		return nil, bad
	}
	var out []finding
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		pos := fset.Position(lit.Pos())
		if marked[pos.Line] || inAny(lit.Pos(), exempt) {
			return true
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			return true
		}
		for _, c := range checkSQL(s, inAny(lit.Pos(), ddlArgs)) {
			out = append(out, finding{pos: pos, construct: c, sql: s})
		}
		return true
	})
	return out, nil
}

// calleeName is the called function's own name: It for s.It(…), NewTable
// for harness.NewTable(…).
func calleeName(call *ast.CallExpr) string {
	switch fn := call.Fun.(type) {
	case *ast.Ident:
		return fn.Name
	case *ast.SelectorExpr:
		return fn.Sel.Name
	}
	return ""
}

// needsFeatureIRISLacks reports whether an It call declares
// NeedsFeature{…} with a feature the IRIS profile lacks.
func needsFeatureIRISLacks(call *ast.CallExpr) (bool, error) {
	lacks := false
	for _, a := range call.Args {
		cl, ok := a.(*ast.CompositeLit)
		if !ok {
			continue
		}
		if t, ok := cl.Type.(*ast.SelectorExpr); !ok || t.Sel.Name != "NeedsFeature" {
			if id, ok := cl.Type.(*ast.Ident); !ok || id.Name != "NeedsFeature" {
				continue
			}
		}
		for _, e := range cl.Elts {
			sel, ok := e.(*ast.SelectorExpr)
			if !ok {
				return false, fmt.Errorf("NeedsFeature element %T: write profile.Name", e)
			}
			f, ok := features[sel.Sel.Name]
			if !ok {
				return false, fmt.Errorf("feature %s is not in denylist_test.go's features map", sel.Sel.Name)
			}
			if !IRIS.Has(f) {
				lacks = true
			}
		}
	}
	return lacks, nil
}

// TestSpecsSendNoPostgresOnlySQL is the guard: every spec package's SQL
// must be the profile's, on iris.
func TestSpecsSendNoPostgresOnlySQL(t *testing.T) {
	var all []finding
	for _, pkg := range specPackages {
		all = append(all, scanDir(t, filepath.Join("..", pkg))...)
	}
	for _, f := range all {
		t.Errorf("PostgreSQL-only SQL a spec would send on the iris profile: %s", f)
	}
	if len(all) > 0 {
		t.Logf("write the SQL through the profile (DDL tokens, Cast, SessionSQL, Now), or mark SQL that only runs on PostgreSQL with a %q comment", postgresOnlyMarker)
	}
}

// TestDenylistScanner proves the guard can fail: testdata/denylist/spec.go
// marks every line the scanner must flag with "// want: <construct
// words>"; no other line may be flagged.
func TestDenylistScanner(t *testing.T) {
	name := filepath.Join("testdata", "denylist", "spec.go")
	src, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	got, err := scanFile(name, src)
	if err != nil {
		t.Fatal(err)
	}
	flagged := map[int][]string{}
	for _, f := range got {
		flagged[f.pos.Line] = append(flagged[f.pos.Line], f.construct)
	}
	want := map[int]string{}
	for i, line := range strings.Split(string(src), "\n") {
		if _, w, ok := strings.Cut(line, "// want: "); ok {
			want[i+1] = w
		}
	}
	if len(want) == 0 {
		t.Fatal("the testdata marks no line as wanted")
	}
	lines := map[int]bool{}
	for l := range flagged {
		lines[l] = true
	}
	for l := range want {
		lines[l] = true
	}
	var sorted []int
	for l := range lines {
		sorted = append(sorted, l)
	}
	sort.Ints(sorted)
	for _, l := range sorted {
		w, wanted := want[l]
		cs := flagged[l]
		switch {
		case !wanted:
			t.Errorf("%s:%d flagged %q, want nothing", name, l, cs)
		case len(cs) == 0:
			t.Errorf("%s:%d not flagged, want %s", name, l, w)
		default:
			for _, word := range strings.Fields(w) {
				if !strings.Contains(strings.Join(cs, "; "), word) {
					t.Errorf("%s:%d flagged %q, want one naming %q", name, l, cs, word)
				}
			}
		}
	}
}

func TestCheckSQL(t *testing.T) {
	for _, c := range []struct {
		lit    string
		ddlArg bool
		want   int // findings
	}{
		{"id {bigint} PRIMARY KEY, note {text} NOT NULL", false, 0},
		{"id int8 PRIMARY KEY", false, 1},
		{"id int8", true, 1},
		{"id int8", false, 0}, // not recognisably SQL outside a column-list argument
		{"a timestamptz comes back as a time", false, 0},
		{"j {json}, jb {jsonb}", true, 0}, // dropped: IRIS lacks them, DDL would panic
		{"note text", true, 1},
		{"SELECT 'some text'", false, 0},
		{"SELECT $1::int8", false, 2},
		{"SELECT count(*) FROM pg_stat_activity", false, 1},
		{"id {identity} PRIMARY KEY", false, 0},
		{"id int8 GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", false, 2},
		{"SELECT inet_server_port()", false, 1},
		{"rows affected by the first INSERT", false, 0},
	} {
		if got := checkSQL(c.lit, c.ddlArg); len(got) != c.want {
			t.Errorf("checkSQL(%q, ddlArg %v) = %q, want %d finding(s)", c.lit, c.ddlArg, got, c.want)
		}
	}
}
