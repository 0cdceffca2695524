#!/bin/sh
# The Rust backend's unit tests, compiled in the image's build stage: the
# codec, numeric/interval/vector/array decoding and parameter planning
# (unit), then a replay of the golden fixtures (PROTOCOL.md §7) against the
# backend in-process, without a database (fixtures). PGWC_FIXTURES names
# the fixtures' directory (scripts/backend-unit-tests.sh unpacks them).
set -eu
/opt/pgwc/tests/unit
PGWC_FIXTURES="${PGWC_FIXTURES:-/fixtures}" exec /opt/pgwc/tests/fixtures --nocapture
