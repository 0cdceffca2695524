//go:build ignore

// backend-image builds (or reuses) a built-in backend's image exactly as
// the suite does (content-addressed tag, containers.EnsureBackend) and
// prints its tag: scripts/backend-unit-tests.sh runs the backend's unit
// tests in it.
//
//	go run scripts/backend-image.go python
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/pgwire-conformance/pgwire-conformance/adapter/remote"
	"github.com/pgwire-conformance/pgwire-conformance/containers"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run scripts/backend-image.go BACKEND")
		os.Exit(2)
	}
	be := os.Args[1]
	bi, ok := remote.Builtins[be]
	if !ok {
		fmt.Fprintf(os.Stderr, "backend-image: %q is not a built-in backend\n", be)
		os.Exit(2)
	}
	base := os.Getenv("PGWC_BASE_IMAGE")
	if base == "" {
		base = "pgwire-conformance/base:trixie"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cli, err := containers.Docker(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "backend-image: %v\n", err)
		os.Exit(1)
	}
	defer cli.Close()
	tag, built, err := containers.EnsureBackend(ctx, cli, base, bi.Build, bi.Source, bi.Dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "backend-image %s: %v\n", be, err)
		os.Exit(1)
	}
	if built {
		fmt.Fprintf(os.Stderr, "built image %s\n", tag)
	}
	fmt.Println(tag)
}
