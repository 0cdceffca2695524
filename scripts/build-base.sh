#!/usr/bin/env bash
# Makes the local base image every suite image is built FROM.
# Prefers debian:trixie-slim where a registry answers; otherwise debootstraps a
# trixie minbase from the Debian mirror apt already uses and imports it.
set -euo pipefail

BASE_IMAGE="${PGWC_BASE_IMAGE:-pgwire-conformance/base:trixie}"
MIRROR="${PGWC_DEBIAN_MIRROR:-}"

if timeout 10 docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  exit 0
fi

if timeout 20 docker pull -q debian:trixie-slim >/dev/null 2>&1; then
  docker tag debian:trixie-slim "$BASE_IMAGE"
  echo "build-base: $BASE_IMAGE from debian:trixie-slim" >&2
  exit 0
fi

if [ -z "$MIRROR" ]; then
  # The mirror apt is configured with (deb822 or one-line sources).
  MIRROR=$(grep -rhoE '^(URIs:\s*|deb\s+(\[[^]]*\]\s+)?)https?://[^ ]*debian/?' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
    | grep -v security | head -1 | grep -oE 'https?://[^ ]*' || true)
  MIRROR="${MIRROR:-http://deb.debian.org/debian}"
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "build-base: $BASE_IMAGE is missing, no registry answers and debootstrap is unavailable" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

dir=$(mktemp -d /tmp/pgwc-base.XXXXXX)
trap 'rm -rf "$dir"' EXIT
echo "build-base: debootstrap trixie minbase from $MIRROR" >&2
debootstrap --variant=minbase trixie "$dir" "$MIRROR" >"$dir.log" 2>&1 || {
  echo "build-base: debootstrap failed; last lines of $dir.log:" >&2
  tail -5 "$dir.log" >&2
  exit 1
}
rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
tar -C "$dir" -c . | docker import - "$BASE_IMAGE" >/dev/null
rm -f "$dir.log"
echo "build-base: imported $BASE_IMAGE" >&2
