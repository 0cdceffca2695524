// Package python holds the Python driver backend (backend/, a Python
// package run as `python3 -m backend`) and embeds its source, so the suite
// binary can build the backend image (containers.PythonBuild) wherever it
// runs. backend/manifest.json lists the adapters it serves and their
// capabilities; the suite reads it before the spec tree is built, and the
// protocol specs check that `describe` agrees with it.
package python

import "embed"

// Source is the backend package: backend/*.py and backend/manifest.json.
//
//go:embed backend/*.py backend/manifest.json
var Source embed.FS
