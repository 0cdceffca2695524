# pgwire-conformance. Every target installs what it needs (Docker engine on
# Debian, the local base image); the suite builds the rest of the images.
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
export TESTCONTAINERS_RYUK_DISABLED ?= true

GINKGO      := go tool ginkgo
OUT         := _output
# Packages with plain unit tests: everything but the suite at the root.
UNIT_PKGS    = $(shell go list ./... | grep -vE '/pgwire-conformance$$')
SUITE_FLAGS ?= -p --timeout=40m --poll-progress-after=90s
# The built-in adapters: the Go drivers in-process, and through their
# backends the seed's own stack (psycopg 3, SQLAlchemy 2.0, asyncpg),
# pgjdbc, node-postgres and postgres.js, and tokio-postgres.
ADAPTERS    ?= pgx,pgx-simple,pgx-stdlib,pgx-stdlib-simple,pq,python:psycopg-async,python:psycopg-sync,python:sqlalchemy-async,python:sqlalchemy-sync,python:asyncpg,java:pgjdbc,java:pgjdbc-simple,node:pg,node:postgres,rust:tokio-postgres
# The fixtures broken on purpose (adapter/broken): each must fail exactly
# the specs expectations/selftest.yaml lists for it, and nothing else.
FIXTURES    ?= broken-norollback,broken-execmany,broken-introspection,broken-execmany-loop,broken-noop-rollback,broken-rollback-aborted,broken-ctx-ignored,broken-rowcount,broken-serial,broken-pool-unbounded,broken-protocol-label,broken-tls-fallback,broken-tls-noverify,broken-buffered
# The divergent target (the reference behind a proxy behaving like
# iris-pgwire 1.0.1) runs these adapters' specs in make test.
DIVERGENT_ADAPTERS ?= pgx,pgx-simple,pgx-stdlib,pq,python:psycopg-async
export PGWC_ADAPTERS ?= $(ADAPTERS)

.PHONY: all setup images vet unit backend-unit test suite fixtures selftest-latency targets example secrets certify catalogue config-docs clean

all: test

setup:
	@scripts/setup-docker.sh

images: setup
	@scripts/build-base.sh

vet:
	gofmt -l . | (! grep .) || (echo "gofmt: files above need formatting" >&2; exit 1)
	go vet ./...
	cd examples/pgx-execmode && go vet ./...

unit:
	go test -count=1 $(UNIT_PKGS)

# Each backend's own unit tests (golden protocol fixtures, codecs), in its image.
backend-unit: images
	scripts/backend-unit-tests.sh

# The test command: unit tests, then the suite live — every built-in
# adapter on the reference target, the broken fixtures, the FR-013
# self-test, the wire specs on every other target this machine can run and
# the divergent target, the example driver repository, and the secrets
# check.
test: vet unit backend-unit suite fixtures selftest-latency targets example secrets
	@go run ./cmd/pgwc-report summary $(OUT)/reference/results.json

suite: images
	mkdir -p $(OUT)/reference
	PGWC_REPORT_DIR=$(OUT)/reference $(GINKGO) $(SUITE_FLAGS) --output-dir=$(OUT)/reference --json-report=ginkgo.json .

fixtures: images
	mkdir -p $(OUT)/fixtures
	PGWC_ADAPTERS=$(FIXTURES) PGWC_EXPECTATIONS=expectations/selftest.yaml PGWC_REPORT_DIR=$(OUT)/fixtures \
		$(GINKGO) $(SUITE_FLAGS) --label-filter='!performance && !wire' .

# FR-013 self-test (docs/fr-013.md): A/A must pass, +25% and
# broken-slowquery must fail (strict: inconclusive fails too); +5% must not fail.
selftest-latency: images
	PGWC_ADAPTERS=selftest-aa,selftest-plus25,broken-slowquery PGWC_STRICT=true \
	PGWC_EXPECTATIONS=expectations/selftest.yaml PGWC_REPORT_DIR=$(OUT)/selftest-latency \
		$(GINKGO) --label-filter='fr: containsAny FR-013' .
	PGWC_ADAPTERS=selftest-plus5 PGWC_EXPECTATIONS=expectations/selftest.yaml \
	PGWC_REPORT_DIR=$(OUT)/selftest-latency-plus5 \
		$(GINKGO) --label-filter='fr: containsAny FR-013' .

# The message-level wire specs on the other targets, and the whole suite
# for a few adapters on the divergent target (the iris path, on every commit).
# Every target runs even when one fails; the recipe fails at the end.
targets: images
	status=0; \
	for t in gateway pglite; do \
		PGWC_TARGET=$$t PGWC_ADAPTERS=pgx PGWC_REPORT_DIR=$(OUT)/$$t \
			$(GINKGO) --label-filter=wire . || status=1; \
	done; \
	PGWC_TARGET=divergent PGWC_ADAPTERS=$(DIVERGENT_ADAPTERS) PGWC_REPORT_DIR=$(OUT)/divergent \
		$(GINKGO) $(SUITE_FLAGS) --label-filter='!performance' . || status=1; \
	exit $$status

# A driver repository certifying its own adapter through the library.
example: images
	cd examples/pgx-execmode && PGWC_ADAPTERS= PGWC_REPORT_DIR=$(CURDIR)/$(OUT)/example go test -count=1 -timeout=20m ./...

# No password in any output, whatever happens to the target mid-run.
secrets: images
	PGWC_SELFTEST=1 go test -count=1 -timeout=20m ./selftest/

# The main job: certify the built-in adapters against the default target;
# publish REPORT.md (and reports/<version>/<target>/) only from a complete run.
certify: images
	mkdir -p $(OUT)/certify
	PGWC_REPORT_DIR=$(OUT)/certify PGWC_COMMAND="make certify" \
		$(GINKGO) $(SUITE_FLAGS) --output-dir=$(OUT)/certify --json-report=ginkgo.json . ; status=$$?; \
	go run ./cmd/pgwc-report summary $(OUT)/certify/results.json; \
	go run ./cmd/pgwc-report publish $(OUT)/certify/results.json && exit $$status

# conformance.yaml: every spec (id, requirements, tasks, labels, file:line)
# from a dry run. report.TestConformanceYAML fails when it is stale.
catalogue:
	mkdir -p $(OUT)
	$(GINKGO) --dry-run --output-dir=$(OUT) --json-report=dryrun.json . >/dev/null
	go run ./cmd/pgwc-catalogue -dry-run $(OUT)/dryrun.json -root . -o conformance.yaml

# docs/configuration.md: the settings table, generated from config's own list.
config-docs:
	go run ./cmd/pgwc-config-docs > docs/configuration.md

clean:
	rm -rf $(OUT)
