#!/usr/bin/env bash
# CI: the memo's manual flow (AWS CLI + curl) on the containers backend with a real LocalStack
# (nanogrid/localstack:local). `nanogrid-harness up` must name the emulator, answer
# /_localstack/health on AWS_ENDPOINT_URL, run the uploaded-by-hand function, and leave no
# container behind. Uses the AWS CLI on PATH, else installs one in a throwaway venv.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'localstack-memo-flow: %s\n' "$*" >&2; }
die() { log "FAILED: $*"; [[ -n ${up_log:-} ]] && tail -30 "$up_log" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/nanogrid-memo-flow.XXXXXX")
up_log=$work/up.log
up_pid=
cleanup() {
    if [[ -n $up_pid ]]; then
        kill -INT "$up_pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$up_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$up_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

if ! aws --version >/dev/null 2>&1; then
    log "installing the AWS CLI in $work/awscli"
    .venv/bin/python -m venv "$work/awscli"
    "$work/awscli/bin/pip" install --quiet awscli 2> >(grep -v "is ignored" >&2)
    PATH=$work/awscli/bin:$PATH
fi
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test

harness_containers() { docker ps -aq --filter label=nanogrid.harness | sort; }
before=$(harness_containers)
log "nanogrid-harness up --backend containers with nanogrid/localstack:local"
NANOGRID_AWS_IMAGE=nanogrid/localstack:local NANOGRID_REDIS_IMAGE=nanogrid/redis:local \
    setsid .venv/bin/nanogrid-harness up --workers 1 --backend containers \
    --run-dir "$work/run" >"$up_log" 2>&1 &
up_pid=$!
for _ in $(seq 1 1800); do
    grep -q '^CONTROLLER_URL=' "$up_log" && break
    kill -0 "$up_pid" 2>/dev/null || die "up exited before printing CONTROLLER_URL"
    sleep 0.1
done
grep -q '^CONTROLLER_URL=' "$up_log" || die "up printed no CONTROLLER_URL within 180 s"
set -a
# shellcheck disable=SC1090
source <(grep -E '^[A-Z][A-Z0-9_]*=' "$up_log")
set +a
[[ $NANOGRID_EMULATOR == localstack ]] || die "up names the emulator '$NANOGRID_EMULATOR'"
grep -q '^deviation: dynamodb' "$up_log" || die "up states no DynamoDB deviation"
health=$(curl -sf "$AWS_ENDPOINT_URL/_localstack/health") || die "no /_localstack/health"
for service in s3 sqs dynamodb cloudwatch; do
    grep -qE "\"$service\": *\"(available|running)\"" <<<"$health" \
        || die "LocalStack does not serve $service: $health"
done

.venv/bin/python - "$work/function.zip" <<'PY'
import sys, zipfile
code = 'print("Hello from NanoGrid Plus!")\nprint("Test function is working!")\nprint("Result: 42")\n'
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("main.py", code)
PY
aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp "$work/function.zip" \
    s3://nanogrid-code-bucket/functions/test-manual/v1.zip >/dev/null || die "aws s3 cp"
aws --endpoint-url "$AWS_ENDPOINT_URL" dynamodb put-item --table-name nanogrid-functions \
    --item '{"functionId":{"S":"test-manual"},"s3Key":{"S":"functions/test-manual/v1.zip"},"runtime":{"S":"python"}}' \
    || die "aws dynamodb put-item"
out=$(curl -s -X POST "$CONTROLLER_URL/run" -H "Content-Type: application/json" \
    -d '{"functionId": "test-manual", "inputData": {}}')
grep -q '"SUCCESS"' <<<"$out" || die "run not SUCCESS: $out"
grep -q 'Result: 42' <<<"$out" || die "stdout wrong: $out"

kill -INT "$up_pid"
for _ in $(seq 1 300); do kill -0 "$up_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$up_pid" 2>/dev/null && die "up did not stop on SIGINT"
up_pid=
left=$(comm -13 <(echo "$before") <(harness_containers) | grep -c . || true)
[[ $left -eq 0 ]] || die "$left harness containers left after up stopped"
version=$(grep -oE '"version": *"[^"]*"' <<<"$health" | head -1)
log "memo flow SUCCESS on LocalStack ($version, $NANOGRID_EMULATOR_IMAGE); nothing left"
