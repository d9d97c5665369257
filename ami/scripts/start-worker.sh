#!/usr/bin/env bash
# /usr/local/bin/start-worker.sh: the ExecStart of file-processor-worker.service.
#
# systemd has already loaded the environment (the unit's defaults, /etc/file-processor/worker.env written by
# User Data, /etc/file-processor/instance.env written on first boot). This script checks that the required
# variables are there, prepares TEMP_DIR, and replaces itself with the worker, so the worker is the unit's main
# process and receives SIGTERM itself (KillMode=mixed).
#
# Exit status 78 (EX_CONFIG) means the configuration is incomplete; the unit does not restart on it.
#
#   start-worker.sh                  run the worker (what the unit does)
#   start-worker.sh --validate-only  check the config and every service, change nothing (first boot runs this)
set -euo pipefail

APP_DIR="${APP_DIR:-/app}"
EXTRACTKIT="${APP_DIR}/venv/bin/extractkit"
EX_CONFIG=78

log() {
  # One JSON line, like the worker's own log lines, so the CloudWatch agent ships it the same way.
  local level=$1 message=$2
  message=${message//\\/\\\\}
  message=${message//\"/\\\"}
  printf '{"time":"%s","level":"%s","logger":"start-worker","message":"%s"}\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$level" "$message" >&2
}

missing=()
for name in AWS_REGION S3_BUCKET SQS_QUEUE_URL OPENSEARCH_ENDPOINT OPENSEARCH_INDEX; do
  if [[ -z "${!name:-}" ]]; then
    missing+=("$name")
  fi
done
if ((${#missing[@]} > 0)); then
  log ERROR "missing ${missing[*]}: User Data writes them to /etc/file-processor/worker.env"
  exit "$EX_CONFIG"
fi

drain="${DRAIN_TIMEOUT:-120}"
if [[ ! "$drain" =~ ^[0-9]+$ ]]; then
  log ERROR "DRAIN_TIMEOUT must be whole seconds, got '$drain'"
  exit "$EX_CONFIG"
fi

if [[ ! -x "$EXTRACTKIT" ]]; then
  log ERROR "$EXTRACTKIT is missing: the image was not built by build-ami.sh"
  exit "$EX_CONFIG"
fi

# TEMP_DIR sits in the unit's private /tmp, which starts empty: create it, readable by this user only.
temp_dir="${TEMP_DIR:-/tmp/file-processor}"
umask 0077
mkdir -p -- "$temp_dir"

export TEMP_DIR="$temp_dir"
export OMP_THREAD_LIMIT="${OMP_THREAD_LIMIT:-1}"
export PYTHONDONTWRITEBYTECODE="${PYTHONDONTWRITEBYTECODE:-1}"
export PYTHONUNBUFFERED="${PYTHONUNBUFFERED:-1}"

if [[ "${1:-}" == "--validate-only" ]]; then
  exec "$EXTRACTKIT" run --validate-only
elif [[ $# -gt 0 ]]; then
  log ERROR "unknown argument '$1' (expected nothing or --validate-only)"
  exit 64
fi
log INFO "starting extractkit run (queue ${SQS_QUEUE_URL}, index ${OPENSEARCH_INDEX}, drain ${drain} s)"
exec "$EXTRACTKIT" run
