# pgwire-conformance. Every target installs what it needs (Docker engine on
# Debian, the local base image); the suite builds the rest of the images.
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
export TESTCONTAINERS_RYUK_DISABLED ?= true

GINKGO      := go tool ginkgo
OUT         := _output
# Packages with plain unit tests: everything but the suite at the root
# (spec packages hold only specs, plus unit tests of their pure helpers).
UNIT_PKGS    = $(shell go list ./... | grep -vE '/pgwire-conformance$$')
SUITE_FLAGS ?= -p --timeout=25m --poll-progress-after=60s
# The built-in adapters: the Go drivers in-process, and the seed's own stack
# (psycopg 3, SQLAlchemy 2.0 async/sync, asyncpg) through the Python backend.
ADAPTERS    ?= pgx,pgx-simple,pgx-stdlib,pgx-stdlib-simple,pq,python:psycopg-async,python:psycopg-sync,python:sqlalchemy-async,python:sqlalchemy-sync,python:asyncpg
export PGWC_ADAPTERS ?= $(ADAPTERS)

.PHONY: all setup images unit vet test certify catalogue clean

all: test

setup:
	@scripts/setup-docker.sh

images: setup
	@scripts/build-base.sh

vet:
	gofmt -l . | (! grep .) || (echo "gofmt: files above need formatting" >&2; exit 1)
	go vet ./...

unit:
	go test -count=1 $(UNIT_PKGS)

# The test command: unit tests, then the whole suite live against the
# reference target for every built-in adapter.
test: vet unit images
	mkdir -p $(OUT)
	$(GINKGO) $(SUITE_FLAGS) --output-dir=$(OUT) --junit-report=junit.xml --json-report=ginkgo.json .
	@go run ./cmd/pgwc-report summary $(OUT)/results.json

# The main job: certify the built-in adapters against the default target and
# write REPORT.md and results.json at the top of the tree.
certify: images
	mkdir -p $(OUT)
	PGWC_REPORT_DIR=. PGWC_COMMAND="make certify" \
		$(GINKGO) $(SUITE_FLAGS) --output-dir=$(OUT) --junit-report=junit.xml --json-report=ginkgo.json .
	@go run ./cmd/pgwc-report summary results.json

# conformance.yaml: every spec (id, requirements, tasks, labels, file:line)
# from a dry run of the tree for the default adapters, with file:line from
# the sources. report.TestConformanceYAML fails when it is stale.
catalogue:
	mkdir -p $(OUT)
	$(GINKGO) --dry-run --output-dir=$(OUT) --json-report=dryrun.json . >/dev/null
	go run ./cmd/pgwc-catalogue -dry-run $(OUT)/dryrun.json -root . -o conformance.yaml

clean:
	rm -rf $(OUT)
