// Package java holds the Java driver backend (backend/: pgjdbc 42.7 behind
// HikariCP, and a bare pgjdbc connection as the FR-013 baseline) and embeds
// its source, so the suite binary can build the backend image
// (containers.JavaBuild) wherever it runs: the image compiles it with javac.
// backend/manifest.json lists the adapters it serves and their
// capabilities; the suite reads it before the spec tree is built, and the
// protocol specs check that `describe` agrees with it.
package java

import "embed"

// Source is the backend: backend/manifest.json, the Java sources
// (backend/src) and their unit tests (backend/test).
//
//go:embed backend/manifest.json backend/src backend/test
var Source embed.FS
