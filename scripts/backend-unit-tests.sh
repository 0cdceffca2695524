#!/usr/bin/env bash
# Unit tests of the built-in driver backends, each in a throw-away container
# of the backend's own image (built or reused exactly as the suite does):
# only the image has the drivers the tests import. No database is needed;
# the golden fixtures (protocol/testdata) are mounted read-only at /fixtures.
#
#   scripts/backend-unit-tests.sh            # every backend in the table
#   scripts/backend-unit-tests.sh python     # only these
set -euo pipefail
cd "$(dirname "$0")/.."
export TESTCONTAINERS_RYUK_DISABLED="${TESTCONTAINERS_RYUK_DISABLED:-true}"

# One line per backend: NAME, then the command that runs its unit tests
# inside its image (working directory: the image's WORKDIR).
TABLE=$(cat <<'TABLE'
python  python3 -m unittest discover -s backend/tests -t . -v
node    node --test test/
java    /opt/pgwc/unit-tests.sh
rust    /opt/pgwc/unit-tests.sh
TABLE
)

want=("$@")
selected() {
	[[ ${#want[@]} -eq 0 ]] && return 0
	local w
	for w in "${want[@]}"; do [[ $w == "$1" ]] && return 0; done
	return 1
}

scripts/build-base.sh >/dev/null
failed=()
ran=0
while read -r name cmd; do
	[[ -z $name ]] && continue
	selected "$name" || continue
	ran=$((ran + 1))
	echo "== $name backend: unit tests"
	image=$(go run scripts/backend-image.go "$name")
	# The fixtures travel on stdin (no bind mount: the engine may not see
	# this file system) and are unpacked at /tmp/fixtures.
	# shellcheck disable=SC2086 # cmd is a command line from the table
	if ! tar -C protocol/testdata -cf - . | docker run --rm -i --network none \
		-e PGWC_FIXTURES=/tmp/fixtures --entrypoint sh "$image" \
		-c 'mkdir -p /tmp/fixtures && tar -xf - -C /tmp/fixtures && exec "$@"' sh $cmd; then
		failed+=("$name")
	fi
done <<<"$TABLE"

if [[ $ran -eq 0 ]]; then
	echo "backend-unit-tests: no backend named ${want[*]} in the table" >&2
	exit 2
fi
if [[ ${#failed[@]} -gt 0 ]]; then
	echo "backend-unit-tests: FAILED: ${failed[*]}" >&2
	exit 1
fi
echo "backend-unit-tests: ok ($ran backend(s))"
