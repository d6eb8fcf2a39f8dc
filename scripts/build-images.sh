#!/usr/bin/env bash
# Build the local stand-in images where no image registry is reachable; reuse them when present.
#
#   scripts/build-images.sh            # builds what is missing, prints the build time
#   FORCE=1 scripts/build-images.sh    # rebuilds all three
#
#   nanogrid/python:local  Debian bookworm python3: the Docker runtime's function image
#   nanogrid/redis:local   Debian bookworm redis-server on 6379 (stand-in for redis:7)
#   nanogrid/moto:local    moto's server on 4566 (stand-in for localstack/localstack:4.x)
#
# Needs root, debootstrap and a running Docker engine. The Debian mirror is read from this
# machine's apt sources (override: MIRROR=...). moto's wheels are downloaded on the host with
# the project's pip (same Python minor version as bookworm's python3: 3.11) and installed in
# the image offline. Set MOTO_SPEC to change the moto requirement.
set -euo pipefail

PYTHON_IMAGE=nanogrid/python:local
REDIS_IMAGE=nanogrid/redis:local
MOTO_IMAGE=nanogrid/moto:local
MOTO_SPEC=${MOTO_SPEC:-"moto[server]>=5.1,<6"}
SUITE=bookworm
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PIP=${PIP:-"$ROOT/.venv/bin/pip"}

log() { printf 'build-images: %s\n' "$*" >&2; }

present() { docker image inspect "$1" >/dev/null 2>&1; }

mirror() {
    if [[ -n ${MIRROR:-} ]]; then echo "$MIRROR"; return; fi
    local found
    found=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}')
    if [[ -z $found ]]; then
        found=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
            | awk '$2 !~ /security/ {print $2; exit}')
    fi
    [[ -n $found ]] || { log "no Debian mirror in the apt sources: set MIRROR"; exit 1; }
    echo "$found"
}

missing=()
for image in "$PYTHON_IMAGE" "$REDIS_IMAGE" "$MOTO_IMAGE"; do
    if [[ -n ${FORCE:-} ]] || ! present "$image"; then missing+=("$image"); fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
    log "all images present: $PYTHON_IMAGE $REDIS_IMAGE $MOTO_IMAGE"
    exit 0
fi

began=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/nanogrid-images.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs

log "debootstrap $SUITE (python3, python3-venv, redis-server) from $(mirror)"
debootstrap --variant=minbase --include=python3,python3-venv,redis-server \
    "$SUITE" "$rootfs" "$(mirror)" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

import_rootfs() {  # NAME DIR CHANGE...
    local name=$1 dir=$2
    shift 2
    local changes=()
    for change in "$@"; do changes+=(--change "$change"); done
    tar -C "$dir" -c . | docker import "${changes[@]}" - "$name" >/dev/null
    log "built $name"
}

for image in "${missing[@]}"; do
    case $image in
    "$PYTHON_IMAGE")
        import_rootfs "$image" "$rootfs" 'ENV LANG=C.UTF-8' 'CMD ["python3"]' ;;
    "$REDIS_IMAGE")
        import_rootfs "$image" "$rootfs" 'EXPOSE 6379' \
            'CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--save", "", "--appendonly", "no"]' ;;
    "$MOTO_IMAGE")
        "$PIP" download --quiet --only-binary=:all: --python-version 3.11 \
            --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 \
            -d "$rootfs/wheels" "$MOTO_SPEC" 2> >(grep -v 'is ignored: it is neither' >&2)
        chroot "$rootfs" python3 -m venv /opt/moto
        chroot "$rootfs" /opt/moto/bin/pip install --quiet --no-index \
            --find-links /wheels "$MOTO_SPEC"
        rm -rf "$rootfs/wheels"
        import_rootfs "$image" "$rootfs" 'EXPOSE 4566' \
            'CMD ["/opt/moto/bin/moto_server", "--host", "0.0.0.0", "--port", "4566"]' ;;
    esac
done
log "built ${missing[*]} in $((SECONDS - began))s"
