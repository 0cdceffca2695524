package report

import (
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/onsi/ginkgo/v2/types"
)

// suiteRoot is the suite's module directory, where this package's source
// was compiled from (this repository, or the module cache of a driver
// repository that imports the suite).
var suiteRoot = func() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	return filepath.Dir(filepath.Dir(file))
}()

// Location is a code location as reports show it: path:line from the
// suite's module root for the suite's own files (so that reports do not
// depend on where the tree was checked out), absolute otherwise.
func Location(l types.CodeLocation) string {
	if l.FileName == "" {
		return ""
	}
	name := l.FileName
	if suiteRoot != "" {
		if rel, ok := strings.CutPrefix(name, suiteRoot+string(filepath.Separator)); ok {
			name = filepath.ToSlash(rel)
		}
	}
	return name + ":" + strconv.Itoa(l.LineNumber)
}
