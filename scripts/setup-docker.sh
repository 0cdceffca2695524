#!/usr/bin/env bash
# Makes sure a Docker engine answers: installs Debian's docker.io and starts
# dockerd when `docker info` fails. Idempotent; safe to run on every `make`.
set -euo pipefail

if docker info >/dev/null 2>&1; then
  exit 0
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
  if docker info >/dev/null 2>&1; then
    exit 0
  fi
  sleep 0.5
done
echo "setup-docker: dockerd did not answer within 30 s; see /var/log/dockerd.log" >&2
exit 1
