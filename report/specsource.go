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

// UnresolvedSpec is an s.It call site whose text (or group) is not a
// constant, e.g. made in a loop: only a dry run knows its specs.
type UnresolvedSpec struct {
	Group  string // "" when the group is not constant either
	File   string // path:line
	Reason string
}

// ScanSpecSources finds every spec in the Go sources under root without
// running anything: each harness.ForEachAdapter(group, Label(…), func(s
// *harness.Subject) {…}) and the s.It(text, harness.Reqs(…), …) calls in its
// body, or in functions it calls with s. Text, IDs and labels must be
// constants (literals, constants, + of them) to be resolved; other call
// sites come back as UnresolvedSpec.
func ScanSpecSources(root string) ([]ConformanceSpec, []UnresolvedSpec, error) {
	sc := &scanner{root: root, fset: token.NewFileSet(), consts: map[string]map[string]string{}, funcs: map[string]*ast.FuncDecl{}}
	if err := sc.parse(); err != nil {
		return nil, nil, err
	}
	for _, pf := range sc.files {
		sc.file = pf
		ast.Inspect(pf.f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || !sc.isHarness(call.Fun, "ForEachAdapter") || len(call.Args) != 3 {
				return true
			}
			sc.forEachAdapter(call)
			return false
		})
	}
	sortSpecs(sc.specs)
	sort.Slice(sc.unresolved, func(i, j int) bool { return sc.unresolved[i].File < sc.unresolved[j].File })
	return sc.specs, sc.unresolved, nil
}

type parsedFile struct {
	f       *ast.File
	pkg     string // directory, relative to root: the key of funcs and consts
	harness string // the harness import's local name
	imports map[string]string
}

type scanner struct {
	root       string
	fset       *token.FileSet
	files      []*parsedFile
	consts     map[string]map[string]string // package name → const → value
	funcs      map[string]*ast.FuncDecl     // dir + "." + name
	file       *parsedFile
	specs      []ConformanceSpec
	unresolved []UnresolvedSpec
}

func (sc *scanner) parse() error {
	return filepath.WalkDir(sc.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != sc.root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(sc.fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("parse %s: %w", path, err)
		}
		dir, _ := filepath.Rel(sc.root, filepath.Dir(path))
		pf := &parsedFile{f: f, pkg: filepath.ToSlash(dir), imports: map[string]string{}}
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			local := p[strings.LastIndex(p, "/")+1:]
			if im.Name != nil {
				local = im.Name.Name
			}
			pf.imports[local] = p
			if strings.HasSuffix(p, "/harness") {
				pf.harness = local
			}
		}
		sc.files = append(sc.files, pf)
		pkg := f.Name.Name
		if sc.consts[pkg] == nil {
			sc.consts[pkg] = map[string]string{}
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.GenDecl:
				if d.Tok != token.CONST {
					continue
				}
				for _, spec := range d.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if i < len(vs.Values) {
							if v, ok := sc.constString(vs.Values[i], pkg, nil); ok {
								sc.consts[pkg][n.Name] = v
							}
						}
					}
				}
			case *ast.FuncDecl:
				if d.Recv == nil {
					sc.funcs[pf.pkg+"."+d.Name.Name] = d
				}
			}
		}
		return nil
	})
}

// constString evaluates a constant string expression: a literal, a
// constant of the package (or of pkg.Name), or + of them.
func (sc *scanner) constString(e ast.Expr, pkg string, pf *parsedFile) (string, bool) {
	switch x := e.(type) {
	case *ast.BasicLit:
		if x.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(x.Value)
		return s, err == nil
	case *ast.ParenExpr:
		return sc.constString(x.X, pkg, pf)
	case *ast.BinaryExpr:
		if x.Op != token.ADD {
			return "", false
		}
		a, ok1 := sc.constString(x.X, pkg, pf)
		b, ok2 := sc.constString(x.Y, pkg, pf)
		return a + b, ok1 && ok2
	case *ast.Ident:
		v, ok := sc.consts[pkg][x.Name]
		return v, ok
	case *ast.SelectorExpr:
		if id, ok := x.X.(*ast.Ident); ok {
			v, ok := sc.consts[id.Name][x.Sel.Name]
			return v, ok
		}
	case *ast.CallExpr: // a conversion such as adapter.Capability("x")
		if len(x.Args) == 1 {
			return sc.constString(x.Args[0], pkg, pf)
		}
	}
	return "", false
}

func (sc *scanner) str(e ast.Expr) (string, bool) {
	// Constants of the file's package first, then after a second parse
	// pass they are all known (parse collects every package's before scanning).
	return sc.constString(e, sc.file.f.Name.Name, sc.file)
}

// isHarness reports whether fun is harness.<name> in the current file.
func (sc *scanner) isHarness(fun ast.Expr, name string) bool {
	sel, ok := fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != name {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && sc.file.harness != "" && id.Name == sc.file.harness
}

// labels evaluates Label("a", "b") (ginkgo's, dot-imported or not).
func (sc *scanner) labels(e ast.Expr) ([]string, bool) {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return nil, false
	}
	switch f := call.Fun.(type) {
	case *ast.Ident:
		if f.Name != "Label" {
			return nil, false
		}
	case *ast.SelectorExpr:
		if f.Sel.Name != "Label" {
			return nil, false
		}
	default:
		return nil, false
	}
	var out []string
	for _, a := range call.Args {
		s, ok := sc.str(a)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func (sc *scanner) pos(n ast.Node) string {
	p := sc.fset.Position(n.Pos())
	rel, err := filepath.Rel(sc.root, p.Filename)
	if err != nil {
		rel = p.Filename
	}
	return filepath.ToSlash(rel) + ":" + strconv.Itoa(p.Line)
}

func (sc *scanner) forEachAdapter(call *ast.CallExpr) {
	group, gok := sc.str(call.Args[0])
	groupLabels, _ := sc.labels(call.Args[1])
	var body *ast.BlockStmt
	var subj string
	switch f := call.Args[2].(type) {
	case *ast.FuncLit:
		body, subj = f.Body, subjectParam(f.Type, sc.file.harness)
	case *ast.Ident:
		if d := sc.funcs[sc.file.pkg+"."+f.Name]; d != nil {
			body, subj = d.Body, subjectParam(d.Type, sc.file.harness)
		}
	}
	if body == nil || subj == "" {
		sc.unresolved = append(sc.unresolved, UnresolvedSpec{Group: group, File: sc.pos(call), Reason: "the ForEachAdapter body is not a function literal or a function of this package"})
		return
	}
	if !gok {
		group = ""
	}
	sc.walk(body, subj, group, gok, groupLabels, map[string]bool{})
}

// subjectParam is the name of a *harness.Subject parameter, or "".
func subjectParam(ft *ast.FuncType, harness string) string {
	for _, f := range ft.Params.List {
		star, ok := f.Type.(*ast.StarExpr)
		if !ok {
			continue
		}
		sel, ok := star.X.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "Subject" {
			continue
		}
		if id, ok := sel.X.(*ast.Ident); ok && id.Name == harness && len(f.Names) > 0 {
			return f.Names[0].Name
		}
	}
	return ""
}

// walk finds s.It calls in body, following calls to functions of the same
// package that are passed s.
func (sc *scanner) walk(body *ast.BlockStmt, subj, group string, groupOK bool, groupLabels []string, visiting map[string]bool) {
	ast.Inspect(body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "It" {
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == subj {
				sc.spec(call, group, groupOK, groupLabels)
				return true
			}
		}
		if id, ok := call.Fun.(*ast.Ident); ok {
			key := sc.file.pkg + "." + id.Name
			d := sc.funcs[key]
			if d == nil || visiting[key] {
				return true
			}
			for i, a := range call.Args {
				if aid, ok := a.(*ast.Ident); ok && aid.Name == subj {
					if p := paramName(d.Type, i); p != "" && subjectParam(d.Type, sc.file.harness) == p {
						visiting[key] = true
						sc.walk(d.Body, p, group, groupOK, groupLabels, visiting)
						delete(visiting, key)
					}
				}
			}
		}
		return true
	})
}

func paramName(ft *ast.FuncType, i int) string {
	k := 0
	for _, f := range ft.Params.List {
		for _, n := range f.Names {
			if k == i {
				return n.Name
			}
			k++
		}
		if len(f.Names) == 0 {
			k++
		}
	}
	return ""
}

func (sc *scanner) spec(call *ast.CallExpr, group string, groupOK bool, groupLabels []string) {
	where := sc.pos(call)
	if len(call.Args) < 3 {
		sc.unresolved = append(sc.unresolved, UnresolvedSpec{Group: group, File: where, Reason: "s.It with fewer than 3 arguments"})
		return
	}
	text, ok := sc.str(call.Args[0])
	if !ok || !groupOK {
		sc.unresolved = append(sc.unresolved, UnresolvedSpec{Group: group, File: where, Reason: "spec text or group is not a constant"})
		return
	}
	ids, ok := sc.reqs(call.Args[1])
	if !ok {
		sc.unresolved = append(sc.unresolved, UnresolvedSpec{Group: group, File: where, Reason: "requirement IDs are not constants in harness.Reqs(…)"})
		return
	}
	labels := append([]string(nil), groupLabels...)
	var needs []string
	for _, d := range call.Args[3:] {
		if l, ok := sc.labels(d); ok {
			labels = append(labels, l...)
			continue
		}
		if cl, ok := d.(*ast.CompositeLit); ok && (sc.isHarness(cl.Type, "Needs") || sc.isHarness(cl.Type, "NeedsFeature")) {
			for _, el := range cl.Elts {
				if v, ok := sc.str(el); ok {
					needs = append(needs, v)
				} else {
					needs = append(needs, exprString(el))
				}
			}
		}
	}
	var plain []string
	for _, l := range labels {
		if !strings.Contains(l, ":") {
			plain = append(plain, l)
		}
	}
	rq, tasks := SplitIDs(ids)
	sc.specs = append(sc.specs, ConformanceSpec{
		ID: group + " / " + text, Group: group, Text: text,
		Requirements: rq, Tasks: tasks, Labels: sortedSet(plain), Needs: sortedSet(needs), File: where,
	})
}

// reqs evaluates harness.Reqs("FR-001", …) or harness.Req{…}.
func (sc *scanner) reqs(e ast.Expr) ([]string, bool) {
	var args []ast.Expr
	switch x := e.(type) {
	case *ast.CallExpr:
		if !sc.isHarness(x.Fun, "Reqs") {
			return nil, false
		}
		args = x.Args
	case *ast.CompositeLit:
		if !sc.isHarness(x.Type, "Req") {
			return nil, false
		}
		args = x.Elts
	default:
		return nil, false
	}
	var out []string
	for _, a := range args {
		s, ok := sc.str(a)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func exprString(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return exprString(x.X) + "." + x.Sel.Name
	}
	return fmt.Sprintf("%T", e)
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
