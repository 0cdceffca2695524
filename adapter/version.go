package adapter

import "runtime/debug"

// ModuleVersion returns the version of a Go module linked into this binary,
// or "unknown" when build information is missing (e.g. a stripped binary).
func ModuleVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, m := range bi.Deps {
		if m.Path == path {
			if m.Replace != nil {
				return m.Replace.Version
			}
			return m.Version
		}
	}
	return "unknown"
}
