package adapter

import (
	"context"
	"os/exec"
	"runtime/debug"
	"strings"
	"time"
)

// ModuleVersion returns the version of a Go module linked into this binary.
// Test binaries carry no module list (golang/go#33976), so it falls back to
// asking the go command about the module the suite was built in; "unknown"
// when neither answers.
func ModuleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == path {
				if m.Replace != nil {
					return m.Replace.Version
				}
				return m.Version
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Version}}", path).Output()
	if v := strings.TrimSpace(string(out)); err == nil && v != "" {
		return v
	}
	return "unknown"
}
