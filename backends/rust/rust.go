// Package rust holds the Rust driver backend (backend/, a cargo package:
// tokio-postgres behind PROTOCOL.md) and embeds its source, so the suite
// binary can build the backend image (containers.RustBuild) wherever it
// runs. backend/manifest.json lists the adapters it serves and their
// capabilities; the suite reads it before the spec tree is built, and the
// protocol specs check that `describe` agrees with it.
package rust

import "embed"

// Source is the cargo package without its build output (target/).
//
//go:embed backend/Cargo.toml backend/build.rs backend/manifest.json backend/src backend/tests
var Source embed.FS
