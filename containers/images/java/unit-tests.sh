#!/bin/sh
# The Java backend's unit tests (JUnit 4), in the image: value codec,
# placeholders, DSN, and a replay of the golden fixtures (PROTOCOL.md §7)
# against the backend in this JVM, without a database. The fixtures are
# mounted at /fixtures (scripts/backend-unit-tests.sh does it), or named by
# PGWC_FIXTURES.
set -eu
exec java -Duser.timezone=UTC -Dpgwc.fixtures="${PGWC_FIXTURES:-/fixtures}" \
	-cp "/opt/pgwc/test-classes:$PGWC_CP:/usr/share/java/junit4.jar:/usr/share/java/hamcrest.jar" \
	org.junit.runner.JUnitCore pgwc.AllTests
