#!/usr/bin/env bash
# CI: a Docker engine and the local images, so the suite can run with REQUIRE_DOCKER=1.
# Installs docker.io, docker-compose and debootstrap when absent (apt-get, as root), starts
# dockerd in the background when no engine answers (there is no init system), waits for it,
# and builds the local stand-in images (scripts/build-images.sh; reused when present).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'docker-setup: %s\n' "$*" >&2; }

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null; then
    missing+=(docker-compose)
fi
if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
    log_file=${DOCKERD_LOG:-/tmp/dockerd.log}
    log "starting dockerd (log: $log_file)"
    nohup dockerd >"$log_file" 2>&1 &
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && break
        sleep 0.5
    done
    docker info >/dev/null 2>&1 || { tail -20 "$log_file" >&2; log "dockerd did not come up"; exit 1; }
fi
log "engine $(docker version --format '{{.Server.Version}}') answers"

scripts/build-images.sh
