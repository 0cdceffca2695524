#!/usr/bin/env bash
# Makes sure a Docker engine answers: installs Debian's docker.io and starts
# dockerd when `docker info` fails. Idempotent; safe to run on every `make`.
set -euo pipefail

# A dead engine address can hang the client: every check is bounded.
if timeout 10 docker info >/dev/null 2>&1; then
  exit 0
fi

# DOCKER_HOST names the one engine to use (the suite does not fall back
# either): starting a local dockerd would not make that engine answer.
if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST}" != "unix:///var/run/docker.sock" ]; then
  echo "setup-docker: the engine DOCKER_HOST=${DOCKER_HOST} names does not answer; start it, or unset DOCKER_HOST to use (and start) the local engine" >&2
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup-docker: no Docker engine answers and this is not a Debian-like system; install Docker and start it" >&2
    exit 1
  fi
  echo "setup-docker: installing docker.io from Debian" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq docker.io >/dev/null
fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
  echo "setup-docker: starting dockerd" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd sh -c 'nohup dockerd >/var/log/dockerd.log 2>&1 &'
fi

for _ in $(seq 1 60); do
  if timeout 5 docker info >/dev/null 2>&1; then
    exit 0
  fi
  sleep 0.5
done
echo "setup-docker: dockerd did not answer within 30 s; see /var/log/dockerd.log" >&2
exit 1
