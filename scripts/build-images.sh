#!/usr/bin/env bash
# Build the local stand-in images where no image registry is reachable; reuse them when present.
#
#   scripts/build-images.sh            # builds what is missing, prints the build time
#   FORCE=1 scripts/build-images.sh    # rebuilds all five
#
#   nanogrid/python:local      Debian bookworm python3: the Docker runtime's function image
#   nanogrid/redis:local       Debian bookworm redis-server on 6379 (stand-in for redis:7)
#   nanogrid/moto:local        moto's server on 4566 (a second AWS emulator)
#   nanogrid/localstack:local  LocalStack (localstack-core from the package index) on 4566,
#                              stand-in for localstack/localstack:4.x; see below
#   nanogrid/legacy-controller:local  examples/legacy-controller as a component image
#                              (FROM the moto image, redis-py added offline)
#
# Needs root, debootstrap and a running Docker engine. The Debian mirror is read from this
# machine's apt sources (override: MIRROR=...). Python packages are downloaded on the host with
# the project's pip and installed in the image offline. Set MOTO_SPEC to change the moto
# requirement, LOCALSTACK_VERSION the localstack-core release (default 4.14.0, the last one
# published without an auth token).
#
# LocalStack 4.14 uses Python 3.12 syntax, so its image is Debian trixie (python3 3.13): the
# wheels are gathered in two steps, first built or fetched for this host's Python (which turns
# the few packages published only as source into pure-Python wheels), then the compiled ones
# fetched again for 3.13. scripts/localstack-ext/constraints.txt pins the dependencies whose
# newest releases break localstack-core. LocalStack's own DynamoDB runs DynamoDB Local, a
# Java jar downloaded from AWS at first use (on no package index, under AWS's own licence):
# the image instead sets PROVIDER_OVERRIDE_DYNAMODB=moto, a provider from
# scripts/localstack-ext that serves DynamoDB through LocalStack's gateway with the moto
# backend LocalStack bundles. Every image carries the labels nanogrid.emulator and
# nanogrid.emulator.version (and nanogrid.emulator.dynamodb), which reports name.
set -euo pipefail

PYTHON_IMAGE=nanogrid/python:local
REDIS_IMAGE=nanogrid/redis:local
MOTO_IMAGE=nanogrid/moto:local
LOCALSTACK_IMAGE=nanogrid/localstack:local
LEGACY_IMAGE=nanogrid/legacy-controller:local
MOTO_SPEC=${MOTO_SPEC:-"moto[server]>=5.1,<6"}
LOCALSTACK_VERSION=${LOCALSTACK_VERSION:-4.14.0}
LOCALSTACK_SPEC="localstack-core[runtime]==$LOCALSTACK_VERSION"
SUITE=bookworm
LOCALSTACK_SUITE=trixie
LOCALSTACK_PYTHON=3.13
# Bump when an emulator image's recipe changes: one built by an older recipe is rebuilt.
RECIPE=2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PIP=${PIP:-"$ROOT/.venv/bin/pip"}
EXT=$ROOT/scripts/localstack-ext
PLATFORMS=(--platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64
    --platform manylinux_2_34_x86_64)

log() { printf 'build-images: %s\n' "$*" >&2; }

present() {  # IMAGE: present (an emulator image: built by this recipe, for its labels)
    case $1 in
    "$MOTO_IMAGE" | "$LOCALSTACK_IMAGE")
        [[ $(docker image inspect --format '{{index .Config.Labels "nanogrid.recipe"}}' "$1" \
            2>/dev/null) == "$RECIPE" ]] ;;
    *) docker image inspect "$1" >/dev/null 2>&1 ;;
    esac
}

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
IMAGES=("$PYTHON_IMAGE" "$REDIS_IMAGE" "$MOTO_IMAGE" "$LOCALSTACK_IMAGE" "$LEGACY_IMAGE")
for image in "${IMAGES[@]}"; do
    if [[ -n ${FORCE:-} ]] || ! present "$image"; then missing+=("$image"); fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
    log "all images present: ${IMAGES[*]}"
    exit 0
fi

began=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/nanogrid-images.XXXXXX")
trap 'rm -rf "$work"' EXIT

bootstrap() {  # SUITE DIR PACKAGES
    log "debootstrap $1 ($3) from $(mirror)"
    debootstrap --variant=minbase --include="$3" "$1" "$2" "$(mirror)" \
        >"$work/debootstrap-$1.log" 2>&1 || { tail -20 "$work/debootstrap-$1.log" >&2; exit 1; }
    rm -rf "$2"/var/cache/apt/archives/*.deb "$2"/var/lib/apt/lists/*
}

import_rootfs() {  # NAME DIR CHANGE...
    local name=$1 dir=$2
    shift 2
    local changes=(--change "LABEL nanogrid.recipe=$RECIPE")
    for change in "$@"; do changes+=(--change "$change"); done
    tar -C "$dir" -c . | docker import "${changes[@]}" - "$name" >/dev/null
    log "built $name ($(docker image inspect --format '{{.Size}}' "$name" | numfmt --to=iec))"
}

in_root() {  # ROOTFS COMMAND...: run in the image's tree, none of this host's pip settings
    local rootfs=$1
    shift
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 chroot "$rootfs" "$@"
}

installed_version() {  # ROOTFS VENV DISTRIBUTION
    in_root "$1" "$2/bin/python" -c \
        "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))" "$3"
}

build_moto() {  # ROOTFS
    local rootfs=$1 version
    "$PIP" download --quiet --only-binary=:all: --python-version 3.11 "${PLATFORMS[@]}" \
        -d "$rootfs/wheels" "$MOTO_SPEC" 2> >(grep -v 'is ignored: it is neither' >&2)
    in_root "$rootfs" python3 -m venv /opt/moto
    in_root "$rootfs" /opt/moto/bin/pip install --quiet --no-index \
        --find-links /wheels "$MOTO_SPEC"
    rm -rf "$rootfs/wheels"
    version=$(installed_version "$rootfs" /opt/moto moto)
    import_rootfs "$MOTO_IMAGE" "$rootfs" 'EXPOSE 4566' \
        "LABEL nanogrid.emulator=moto nanogrid.emulator.version=$version" \
        'CMD ["/opt/moto/bin/moto_server", "--host", "0.0.0.0", "--port", "4566"]'
}

localstack_wheels() {  # DIR
    local dir=$1
    cp -r "$EXT" "$work/localstack-ext"  # pip builds in the source tree: not in the checkout's
    "$PIP" wheel --quiet -w "$dir" -c "$EXT/constraints.txt" "$LOCALSTACK_SPEC" \
        "$work/localstack-ext" 2> >(grep -v 'is ignored: it is neither' >&2)
    "$PIP" download --quiet --only-binary=:all: --python-version "$LOCALSTACK_PYTHON" \
        "${PLATFORMS[@]}" --find-links "$dir" -d "$dir" -c "$EXT/constraints.txt" \
        "$LOCALSTACK_SPEC" 2> >(grep -v 'is ignored: it is neither' >&2)
    cp "$EXT/constraints.txt" "$dir/"
}

build_localstack() {
    local rootfs=$work/rootfs-$LOCALSTACK_SUITE moto_version
    bootstrap "$LOCALSTACK_SUITE" "$rootfs" python3,python3-venv
    localstack_wheels "$rootfs/wheels"
    in_root "$rootfs" python3 -m venv /opt/localstack
    in_root "$rootfs" /opt/localstack/bin/pip install --quiet --no-index --find-links /wheels \
        -c /wheels/constraints.txt "$LOCALSTACK_SPEC" nanogrid-localstack-ext
    rm -rf "$rootfs/wheels"
    mkdir -p "$rootfs/var/lib/localstack" "$rootfs/etc/localstack/init/ready.d"
    moto_version=$(installed_version "$rootfs" /opt/localstack moto-ext)
    # DNS_ADDRESS=0: LocalStack's DNS server needs an upstream resolver on the internet;
    # SKIP_SSL_CERT_DOWNLOAD and DISABLE_EVENTS: nothing is fetched or reported at start.
    import_rootfs "$LOCALSTACK_IMAGE" "$rootfs" 'EXPOSE 4566' \
        "LABEL nanogrid.emulator=localstack nanogrid.emulator.version=$LOCALSTACK_VERSION" \
        "LABEL nanogrid.emulator.dynamodb=moto-ext-$moto_version" \
        'ENV LANG=C.UTF-8 PATH=/opt/localstack/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        'ENV GATEWAY_LISTEN=0.0.0.0:4566 PROVIDER_OVERRIDE_DYNAMODB=moto DNS_ADDRESS=0' \
        'ENV SKIP_SSL_CERT_DOWNLOAD=1 DISABLE_EVENTS=1 LOCALSTACK_VOLUME_DIR=/var/lib/localstack' \
        'WORKDIR /var/lib/localstack' \
        'CMD ["/opt/localstack/bin/python", "-m", "localstack.runtime.main"]'
}

build_legacy() {  # from the moto image (built first when missing: it comes earlier)
    local context=$work/legacy-controller
    mkdir -p "$context/wheels"
    cp "$ROOT/examples/legacy-controller/Dockerfile" "$ROOT/examples/legacy-controller/controller.py" \
        "$context/"
    "$PIP" download --quiet --only-binary=:all: --python-version 3.11 -d "$context/wheels" \
        "redis>=5.2,<9" "async-timeout>=4.0.3" 2> >(grep -v 'is ignored: it is neither' >&2)
    docker build --quiet --label "nanogrid.recipe=$RECIPE" -t "$LEGACY_IMAGE" "$context" >/dev/null
    log "built $LEGACY_IMAGE ($(docker image inspect --format '{{.Size}}' "$LEGACY_IMAGE" | numfmt --to=iec))"
}

bookworm=()
for image in "${missing[@]}"; do
    [[ $image == "$LOCALSTACK_IMAGE" || $image == "$LEGACY_IMAGE" ]] || bookworm+=("$image")
done
if [[ ${#bookworm[@]} -gt 0 ]]; then
    rootfs=$work/rootfs
    bootstrap "$SUITE" "$rootfs" python3,python3-venv,redis-server
fi
for image in "${missing[@]}"; do
    case $image in
    "$PYTHON_IMAGE")
        import_rootfs "$image" "$rootfs" 'ENV LANG=C.UTF-8' 'CMD ["python3"]' ;;
    "$REDIS_IMAGE")
        import_rootfs "$image" "$rootfs" 'EXPOSE 6379' \
            'CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--save", "", "--appendonly", "no"]' ;;
    "$MOTO_IMAGE")
        build_moto "$rootfs" ;;
    "$LOCALSTACK_IMAGE")
        build_localstack ;;
    "$LEGACY_IMAGE")
        build_legacy ;;
    esac
done
log "built ${missing[*]} in $((SECONDS - began))s"
