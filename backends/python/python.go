// Package python holds the Python driver backend (backend/, a Python
// package run as `python3 -m backend`) and embeds its source, so the suite
// binary can build the backend image (containers.PythonBuild) wherever it
// runs. backend/manifest.json lists the adapters it serves and their
// capabilities; the suite reads it before the spec tree is built, and the
// protocol specs check that `describe` agrees with it.
package python

import "embed"

// Source is the backend package (backend/*.py, backend/manifest.json) and
// its unit tests (tests/*.py). The tests ship in the image, where
// containers.EnsureBackend puts them at backend/tests/, because only the
// image has the drivers they import (scripts/backend-unit-tests.sh).
//
//go:embed backend/*.py backend/manifest.json tests/*.py
var Source embed.FS
