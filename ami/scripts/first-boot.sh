#!/usr/bin/env bash
# /usr/local/sbin/file-processor-first-boot: what User Data runs once per instance (cloud-init runcmd), after
# cloud-init has written /etc/file-processor/worker.env from the User Data.
#
#   1. checks the env file;
#   2. reads the instance's facts from instance metadata through IMDSv2 (a session token, never a plain GET)
#      and writes them to /etc/file-processor/instance.env;
#   3. starts the CloudWatch agent with the image's config (log group from the env file);
#   4. runs `extractkit run --validate-only` as appuser with the unit's environment;
#   5. enables and starts file-processor-worker.service, then waits until it is active and /readyz answers.
#
# Any failure exits non-zero with an ERROR line (cloud-init records the failure; the log reaches CloudWatch
# because the agent starts before the validation).
set -euo pipefail

ETC_DIR="${FILE_PROCESSOR_ETC:-/etc/file-processor}"
ENV_FILE="$ETC_DIR/worker.env"
INSTANCE_ENV_FILE="$ETC_DIR/instance.env"
LOG_FILE="${FIRST_BOOT_LOG:-/var/log/user-data.log}"
UNIT="file-processor-worker.service"
IMDS="${AWS_EC2_METADATA_SERVICE_ENDPOINT:-http://169.254.169.254}"
IMDS="${IMDS%/}"
CW_AGENT_CTL="${CW_AGENT_CTL:-/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl}"
CW_AGENT_ETC="${CW_AGENT_ETC:-/opt/aws/amazon-cloudwatch-agent/etc}"
CW_TEMPLATE="$CW_AGENT_ETC/file-processor.template.json"
CW_CONFIG="$CW_AGENT_ETC/file-processor.json"
READY_TIMEOUT="${READY_TIMEOUT:-120}"

exec > >(tee -a "$LOG_FILE") 2>&1

log() {
  local level=$1 message=$2
  message=${message//\\/\\\\}
  message=${message//\"/\\\"}
  printf '{"time":"%s","level":"%s","logger":"first-boot","message":"%s"}\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$level" "$message"
}

fail() {
  log ERROR "$1"
  exit 1
}

# --- 1. the env file ------------------------------------------------------------------------------------------------
[[ -r "$ENV_FILE" ]] || fail "$ENV_FILE is missing: the User Data did not write it"

# Read KEY=VALUE lines the way systemd's EnvironmentFile= does for plain values; nothing is evaluated.
declare -A settings=()
while IFS= read -r line || [[ -n "$line" ]]; do
  [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
  if [[ "$line" =~ ^([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]]; then
    key=${BASH_REMATCH[1]}
    value=${BASH_REMATCH[2]}
    if [[ "$value" =~ ^\"(.*)\"$ || "$value" =~ ^\'(.*)\'$ ]]; then
      value=${BASH_REMATCH[1]}
    fi
    settings[$key]=$value
  else
    fail "$ENV_FILE: cannot read line '$line' (expected KEY=VALUE)"
  fi
done <"$ENV_FILE"

for name in AWS_REGION S3_BUCKET SQS_QUEUE_URL OPENSEARCH_ENDPOINT OPENSEARCH_INDEX; do
  [[ -n "${settings[$name]:-}" ]] || fail "$ENV_FILE has no $name"
done
if grep -Eiq '^(AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AWS_ACCESS_KEY_ID|[A-Z_]*PASSWORD)=' "$ENV_FILE"; then
  fail "$ENV_FILE holds credentials; the worker takes them from the instance role only"
fi
log INFO "env file ok: queue ${settings[SQS_QUEUE_URL]}, index ${settings[OPENSEARCH_INDEX]}"

# --- 2. instance metadata, IMDSv2 only ------------------------------------------------------------------------------
token=$(curl -fsS --retry 5 --retry-connrefused --retry-delay 1 --max-time 5 -X PUT "$IMDS/latest/api/token" \
  -H "X-aws-ec2-metadata-token-ttl-seconds: 300") || fail "no IMDSv2 token from $IMDS"

metadata() {
  curl -fsS --retry 3 --retry-delay 1 --max-time 5 -H "X-aws-ec2-metadata-token: $token" \
    "$IMDS/latest/meta-data/$1"
}

instance_id=$(metadata instance-id) || fail "instance metadata: no instance-id"
availability_zone=$(metadata placement/availability-zone) || fail "instance metadata: no availability zone"
region=$(metadata placement/region) || region=${availability_zone%[a-z]}
instance_type=$(metadata instance-type) || instance_type=unknown
[[ "$instance_id" =~ ^i-[0-9a-f]+$ ]] || fail "instance metadata: unexpected instance id '$instance_id'"
if [[ "${settings[AWS_REGION]}" != "$region" ]]; then
  log WARNING "AWS_REGION is ${settings[AWS_REGION]} but the instance runs in $region; keeping AWS_REGION"
fi

umask 0022
instance_env_tmp=$(mktemp "$ETC_DIR/.instance.env.XXXXXX")
cat >"$instance_env_tmp" <<EOF
# Written by file-processor-first-boot from instance metadata (IMDSv2).
INSTANCE_ID=$instance_id
AVAILABILITY_ZONE=$availability_zone
INSTANCE_TYPE=$instance_type
AWS_DEFAULT_REGION=${settings[AWS_REGION]}
EOF
chmod 0644 "$instance_env_tmp"
mv -f "$instance_env_tmp" "$INSTANCE_ENV_FILE"
log INFO "instance $instance_id ($instance_type) in $availability_zone"

# --- 3. CloudWatch agent --------------------------------------------------------------------------------------------
log_group="${settings[CLOUDWATCH_LOG_GROUP]:-/aws/ec2/file-processor}"
[[ -r "$CW_TEMPLATE" ]] || fail "$CW_TEMPLATE is missing: the image was not built by build-ami.sh"
jq --arg group "$log_group" \
  '(.logs.logs_collected.files.collect_list[].log_group_name) |= $group' "$CW_TEMPLATE" >"$CW_CONFIG.tmp"
mv -f "$CW_CONFIG.tmp" "$CW_CONFIG"
"$CW_AGENT_CTL" -a fetch-config -m ec2 -s -c "file:$CW_CONFIG" >/dev/null ||
  fail "the CloudWatch agent did not start with $CW_CONFIG"
systemctl enable --quiet amazon-cloudwatch-agent.service || true
log INFO "CloudWatch agent started (log group $log_group)"

# --- 4. validate, as appuser, with the unit's environment -----------------------------------------------------------
validate_args=(--quiet --wait --pipe --collect --uid=appuser --gid=appuser
  --property=PrivateTmp=yes --property=NoNewPrivileges=yes
  "--property=EnvironmentFile=$ENV_FILE" "--property=EnvironmentFile=-$INSTANCE_ENV_FILE")
read -r -a unit_environment <<<"$(systemctl show --property=Environment --value "$UNIT")"
for assignment in "${unit_environment[@]}"; do
  validate_args+=("--setenv=$assignment")
done
if ! systemd-run "${validate_args[@]}" /usr/local/bin/start-worker.sh --validate-only; then
  fail "extractkit run --validate-only failed (lines above); the worker was not started"
fi
log INFO "configuration and services validated"

# --- 5. start and verify --------------------------------------------------------------------------------------------
systemd-tmpfiles --create /etc/tmpfiles.d/file-processor.conf || fail "could not create the worker's log file"
systemctl enable --now "$UNIT" || fail "systemctl could not start $UNIT"
health_port="${settings[HEALTH_PORT]:-8080}"
deadline=$((SECONDS + READY_TIMEOUT))
until curl -fsS --max-time 2 "http://127.0.0.1:$health_port/readyz" >/dev/null 2>&1; do
  state=$(systemctl show --property=ActiveState --value "$UNIT")
  if [[ "$state" != active && "$state" != activating ]]; then
    journalctl -u "$UNIT" -n 50 --no-pager || true
    tail -n 50 /var/log/file-processor/worker.log 2>/dev/null || true
    fail "$UNIT is $state, not running"
  fi
  if ((SECONDS > deadline)); then
    tail -n 50 /var/log/file-processor/worker.log 2>/dev/null || true
    fail "$UNIT did not answer /readyz on 127.0.0.1:$health_port within ${READY_TIMEOUT} s"
  fi
  sleep 2
done
log INFO "$UNIT is active and ready"
