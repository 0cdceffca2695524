// Package pgwireconformance holds the files the suite reads at run time —
// the spec list (conformance.yaml) and the reviewed expected-failure lists
// of each target — embedded, so that a driver repository importing the
// suite (package conformance) reads the suite's own copies, never files
// relative to its working directory.
package pgwireconformance

import "embed"

// ConformanceYAML is conformance.yaml: every spec of the suite.
//
//go:embed conformance.yaml
var ConformanceYAML []byte

// Expectations holds expectations/*.yaml, the reviewed expected-failure
// lists of the suite's targets.
//
//go:embed expectations/*.yaml
var Expectations embed.FS
