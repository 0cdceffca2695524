package report

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// CallSite is one spec declaration in the Go sources: a call
// s.It(text, req, body, …) on a *harness.Subject (any X.It call with three
// or more arguments in a file that imports the harness, but ginkgo's). conformance.yaml comes
// from a Ginkgo dry run (what the tree really builds, with each spec's
// file:line); the call sites are what the staleness check compares it
// with, without building or running anything.
type CallSite struct {
	File string // path:line of the call, from the module root
	// Text is the spec text when it is a string literal (or + of them),
	// else "" (built at run time, e.g. in a loop).
	Text string
	// IDs are the requirement and task IDs when every one is a literal.
	IDs []string
}

// SpecCallSites finds every spec declaration in the non-test Go files
// under root (skipping testdata, vendor, hidden and _ directories).
func SpecCallSites(root string) ([]CallSite, error) {
	fset := token.NewFileSet()
	var out []CallSite
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("parse %s: %w", path, err)
		}
		harness, ginkgo := importName(f, "/harness"), importName(f, "/ginkgo/v2")
		if harness == "" {
			return nil // spec files declare specs on a *harness.Subject
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) < 3 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "It" {
				return true
			}
			// Subject.It(text, req, body, …); ginkgo's own It takes no Req.
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == ginkgo {
				return true
			}
			cs := CallSite{File: filepath.ToSlash(rel) + ":" + strconv.Itoa(fset.Position(call.Pos()).Line)}
			cs.IDs, _ = reqIDs(call.Args[1], harness)
			if text, ok := literalString(call.Args[0]); ok {
				cs.Text = text
			}
			out = append(out, cs)
			return true
		})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out, err
}

// importName is the local name of the package whose path ends in suffix,
// "" if f does not import it ("." when dot-imported).
func importName(f *ast.File, suffix string) string {
	for _, im := range f.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		if !strings.HasSuffix(p, suffix) {
			continue
		}
		if im.Name != nil {
			return im.Name.Name
		}
		return p[strings.LastIndex(p, "/")+1:]
	}
	return ""
}

// reqIDs reads harness.Reqs(…) or harness.Req{…} when every ID is a
// literal; ok is false for anything else (a variable, a constant).
func reqIDs(e ast.Expr, harness string) (ids []string, ok bool) {
	var args []ast.Expr
	isHarness := func(x ast.Expr, name string) bool {
		sel, ok := x.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != name {
			return false
		}
		id, ok := sel.X.(*ast.Ident)
		return ok && id.Name == harness
	}
	switch x := e.(type) {
	case *ast.CallExpr:
		if !isHarness(x.Fun, "Reqs") {
			return nil, false
		}
		args = x.Args
	case *ast.CompositeLit:
		if !isHarness(x.Type, "Req") {
			return nil, false
		}
		args = x.Elts
	default:
		return nil, false
	}
	for _, a := range args {
		s, ok := literalString(a)
		if !ok {
			return nil, false
		}
		ids = append(ids, s)
	}
	return ids, true
}

// literalString evaluates a string literal, or + of them.
func literalString(e ast.Expr) (string, bool) {
	switch x := e.(type) {
	case *ast.BasicLit:
		if x.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(x.Value)
		return s, err == nil
	case *ast.ParenExpr:
		return literalString(x.X)
	case *ast.BinaryExpr:
		if x.Op != token.ADD {
			return "", false
		}
		a, ok1 := literalString(x.X)
		b, ok2 := literalString(x.Y)
		return a + b, ok1 && ok2
	}
	return "", false
}

// Stale compares conformance.yaml with the spec declarations in the
// sources and says how it is out of date: every declaration must be listed
// at its file:line (a declaration in a loop lists several specs there),
// every listed spec must sit on a declaration, and where the declaration
// spells its text and IDs out, they must be the listed ones.
func Stale(listed []ConformanceSpec, sites []CallSite) []string {
	var problems []string
	at := make(map[string]CallSite, len(sites))
	for _, s := range sites {
		at[s.File] = s
	}
	covered := map[string]bool{}
	for _, l := range listed {
		s, ok := at[l.File]
		if !ok {
			problems = append(problems, fmt.Sprintf("conformance.yaml lists %q at %s, where the sources declare no spec (moved or removed?)", l.ID, l.File))
			continue
		}
		covered[l.File] = true
		if s.Text != "" && s.Text != l.Text {
			problems = append(problems, fmt.Sprintf("%s: spec text %q, conformance.yaml has %q", l.File, s.Text, l.Text))
		}
		if s.IDs != nil {
			want := append(append([]string(nil), l.Requirements...), l.Tasks...)
			if !sameSet(s.IDs, want) {
				problems = append(problems, fmt.Sprintf("%s: spec %q names %v, conformance.yaml has %v", l.File, l.ID, s.IDs, want))
			}
		}
	}
	for _, s := range sites {
		if !covered[s.File] {
			what := "a spec"
			if s.Text != "" {
				what = strconv.Quote(s.Text)
			}
			problems = append(problems, fmt.Sprintf("%s: %s is declared here but not in conformance.yaml", s.File, what))
		}
	}
	sort.Strings(problems)
	return problems
}

func sameSet(a, b []string) bool {
	return strings.Join(sortedSet(a), "\x00") == strings.Join(sortedSet(b), "\x00")
}

// ModuleRoot walks up from dir to the directory holding go.mod.
func ModuleRoot(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
		d = parent
	}
}
