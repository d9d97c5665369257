#!/usr/bin/env bash
# Blue/green deployment of a new worker AMI: a second ("green") Auto Scaling group runs the new image next to
# the current ("blue") one. SQS needs no traffic switch: green consumes from the same queue as soon as it runs.
#
#   blue-green-deploy.sh NEW_AMI_ID             create green, prove it healthy, drain blue to zero, promote
#   blue-green-deploy.sh --rollback GREEN_ASG   give blue its capacity back, drain green, delete green
#
# Every wait is a waiter or a health query with a deadline, never a fixed sleep:
#   - aws ec2 wait image-available, instance-status-ok, instance-terminated;
#   - the green group's InService/Healthy count;
#   - Session Manager: each green instance online, then its worker's /readyz (aws ssm wait command-executed).
# If green does not become healthy, it is deleted and blue is left untouched (rollback). Blue is only drained,
# not deleted, so `--rollback` can bring it back; its terminating lifecycle hook drains its workers.
#
# Environment: BLUE_ASG (default file-processor-asg), HEALTH_PORT (default 8080), TIMEOUT_MINUTES
# (default 30), POLL_SECONDS (default 15), and the AWS CLI's own.
# Exit status: 0 done, 1 green unhealthy (rolled back), 2 usage or pre-flight error, 3 needs an operator.
# shellcheck disable=SC2016 # JMESPath literals in --query are backquoted inside single quotes, on purpose.
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e '/^# shellcheck/d' -e 's/^# \{0,1\}//'
  exit 2
}
log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() {
  log "ERROR: $*" >&2
  exit "${2:-2}"
}

BLUE_ASG="${BLUE_ASG:-file-processor-asg}"
HEALTH_PORT="${HEALTH_PORT:-8080}"
TIMEOUT_MINUTES="${TIMEOUT_MINUTES:-30}"
POLL_SECONDS="${POLL_SECONDS:-15}"
command -v aws >/dev/null || die "the AWS CLI is needed"
command -v jq >/dev/null || die "jq is needed"

describe_group() { # NAME -> the group's JSON, or null
  aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$1" \
    --query 'AutoScalingGroups[0]' --output json
}

instance_ids() { # NAME -> ids of the group's instances, one line
  aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$1" \
    --query 'AutoScalingGroups[0].Instances[].InstanceId' --output text | tr '\t' ' '
}

# Wait until NAME has COUNT instances InService and Healthy, until the deadline.
wait_in_service() {
  local name=$1 count=$2 deadline=$((SECONDS + TIMEOUT_MINUTES * 60)) healthy
  while true; do
    healthy=$(aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$name" \
      --query 'AutoScalingGroups[0].Instances[?LifecycleState==`InService` && HealthStatus==`Healthy`] | length(@)' \
      --output text)
    log "$name: $healthy of $count instances in service"
    ((healthy >= count)) && return 0
    ((SECONDS < deadline)) || return 1
    sleep "$POLL_SECONDS"
  done
}

# Every instance answers /readyz from its worker, asked through Session Manager.
workers_ready() {
  local ids=("$@") deadline=$((SECONDS + TIMEOUT_MINUTES * 60)) online command_id id status
  while true; do
    online=$(aws ssm describe-instance-information \
      --filters "Key=InstanceIds,Values=$(
        IFS=,
        echo "${ids[*]}"
      )" \
      --query 'InstanceInformationList[?PingStatus==`Online`] | length(@)' --output text)
    log "Session Manager: $online of ${#ids[@]} instances online"
    ((online >= ${#ids[@]})) && break
    ((SECONDS < deadline)) || return 1
    sleep "$POLL_SECONDS"
  done
  command_id=$(aws ssm send-command --document-name AWS-RunShellScript --instance-ids "${ids[@]}" \
    --comment "file-processor blue/green readiness" \
    --parameters "$(jq -cn --arg port "$HEALTH_PORT" \
      '{commands: ["systemctl is-active --quiet file-processor-worker.service", "curl -fsS --max-time 5 http://127.0.0.1:\($port)/readyz"]}')" \
    --query 'Command.CommandId' --output text)
  for id in "${ids[@]}"; do
    aws ssm wait command-executed --command-id "$command_id" --instance-id "$id" || true
    status=$(aws ssm get-command-invocation --command-id "$command_id" --instance-id "$id" \
      --query 'Status' --output text)
    log "$id: readiness check $status"
    [[ "$status" == Success ]] || return 1
  done
}

# Set min/max/desired of NAME to zero and wait until its instances are terminated (drained by the hook).
drain_group() {
  local name=$1 ids
  read -r -a ids <<<"$(instance_ids "$name")"
  aws autoscaling suspend-processes --auto-scaling-group-name "$name" \
    --scaling-processes ScheduledActions AlarmNotification
  aws autoscaling update-auto-scaling-group --auto-scaling-group-name "$name" \
    --min-size 0 --max-size 0 --desired-capacity 0
  if ((${#ids[@]} > 0)); then
    log "Waiting for ${#ids[@]} instances of $name to drain and terminate..."
    aws ec2 wait instance-terminated --instance-ids "${ids[@]}"
  fi
}

tag_group() { # NAME KEY VALUE: a group tag that instances do not inherit
  aws autoscaling create-or-update-tags --tags "$(jq -cn --arg name "$1" --arg key "$2" --arg value "$3" \
    '[{ResourceId: $name, ResourceType: "auto-scaling-group", Key: $key, Value: $value, PropagateAtLaunch: false}]')"
}

delete_group() { # NAME: drain, then delete the group
  drain_group "$1" || true
  aws autoscaling delete-auto-scaling-group --auto-scaling-group-name "$1" --force-delete
  log "Deleted $1"
}

# --- rollback -------------------------------------------------------------------------------------------------------
if [[ "${1:-}" == "--rollback" ]]; then
  [[ $# -eq 2 ]] || usage
  green=$2
  blue_json=$(describe_group "$BLUE_ASG")
  [[ "$blue_json" != null ]] || die "no group named $BLUE_ASG"
  restore=$(jq -r '.Tags[]? | select(.Key == "BlueGreenRestore") | .Value' <<<"$blue_json")
  [[ "$restore" =~ ^[0-9]+:[0-9]+:[0-9]+$ ]] || die "$BLUE_ASG has no BlueGreenRestore tag: nothing to roll back to"
  IFS=: read -r min max desired <<<"$restore"
  log "Restoring $BLUE_ASG to min $min, max $max, desired $desired..."
  aws autoscaling update-auto-scaling-group --auto-scaling-group-name "$BLUE_ASG" \
    --min-size "$min" --max-size "$max" --desired-capacity "$desired"
  aws autoscaling resume-processes --auto-scaling-group-name "$BLUE_ASG"
  wait_in_service "$BLUE_ASG" "$desired" || die "$BLUE_ASG did not come back; $green still runs" 3
  delete_group "$green"
  tag_group "$BLUE_ASG" Active true
  log "Rolled back: $BLUE_ASG is active again."
  exit 0
fi

# --- deploy ---------------------------------------------------------------------------------------------------------
[[ $# -eq 1 && "$1" != -* ]] || usage
NEW_AMI_ID=$1
[[ "$NEW_AMI_ID" =~ ^ami-[0-9a-f]{8,17}$ ]] || die "not an AMI id: $NEW_AMI_ID"
GREEN_ASG="${BLUE_ASG}-green-$(date -u +%Y%m%d%H%M%S)"

echo "==================================="
echo "Blue/Green Deployment"
echo "Blue: $BLUE_ASG   Green: $GREEN_ASG   New AMI: $NEW_AMI_ID"
echo "==================================="

log "[1/6] Waiting for $NEW_AMI_ID and reading the blue group..."
aws ec2 wait image-available --image-ids "$NEW_AMI_ID"
blue_json=$(describe_group "$BLUE_ASG")
[[ "$blue_json" != null ]] || die "no group named $BLUE_ASG"
template_id=$(jq -r '.LaunchTemplate.LaunchTemplateId // empty' <<<"$blue_json")
[[ -n "$template_id" ]] || die "$BLUE_ASG does not use a launch template directly"
blue_version=$(aws ec2 describe-launch-template-versions --launch-template-id "$template_id" \
  --versions "$(jq -r '.LaunchTemplate.Version' <<<"$blue_json")" \
  --query 'LaunchTemplateVersions[0].VersionNumber' --output text)
read -r blue_min blue_max blue_desired < <(jq -r '"\(.MinSize) \(.MaxSize) \(.DesiredCapacity)"' <<<"$blue_json")
((blue_desired >= 1)) || die "$BLUE_ASG runs no instance; deploy with deploy-new-ami.sh instead"

log "[2/6] Creating the green launch template version (from $blue_version)..."
green_version=$(aws ec2 create-launch-template-version --launch-template-id "$template_id" \
  --source-version "$blue_version" \
  --launch-template-data "$(jq -cn --arg ami "$NEW_AMI_ID" '{ImageId: $ami}')" \
  --version-description "Green: $NEW_AMI_ID" --query 'LaunchTemplateVersion.VersionNumber' --output text)

log "[3/6] Creating $GREEN_ASG like $BLUE_ASG..."
hooks=$(aws autoscaling describe-lifecycle-hooks --auto-scaling-group-name "$BLUE_ASG" --output json |
  jq -c '[.LifecycleHooks[] | {LifecycleHookName, LifecycleTransition, HeartbeatTimeout, DefaultResult}]')
tags=$(jq -c --arg green "$GREEN_ASG" '[.Tags[] | select(.Key | startswith("aws:") | not)
  | select(.Key != "Active" and .Key != "BlueGreenRestore")
  | {Key, Value: (if .Key == "Name" then .Value + "-green" else .Value end), PropagateAtLaunch}]
  + [{Key: "Color", Value: "green", PropagateAtLaunch: true}]' <<<"$blue_json")
aws autoscaling create-auto-scaling-group --auto-scaling-group-name "$GREEN_ASG" \
  --launch-template "LaunchTemplateId=$template_id,Version=$green_version" \
  --min-size "$blue_min" --max-size "$blue_max" --desired-capacity "$blue_desired" \
  --vpc-zone-identifier "$(jq -r '.VPCZoneIdentifier' <<<"$blue_json")" \
  --health-check-type "$(jq -r '.HealthCheckType' <<<"$blue_json")" \
  --health-check-grace-period "$(jq -r '.HealthCheckGracePeriod' <<<"$blue_json")" \
  --default-instance-warmup "$(jq -r '.DefaultInstanceWarmup // 300' <<<"$blue_json")" \
  --termination-policies OldestLaunchTemplate OldestInstance \
  --lifecycle-hook-specification-list "$hooks" \
  --tags "$tags"
aws autoscaling enable-metrics-collection --auto-scaling-group-name "$GREEN_ASG" --granularity 1Minute
# The target-tracking policy, pointed at green's own in-service count.
aws autoscaling describe-policies --auto-scaling-group-name "$BLUE_ASG" --policy-types TargetTrackingScaling \
  --output json | jq -c '.ScalingPolicies[]' | while IFS= read -r policy; do
  configuration=$(jq -c --arg blue "$BLUE_ASG" --arg green "$GREEN_ASG" '.TargetTrackingConfiguration
    | walk(if type == "object" and .Name == "AutoScalingGroupName" and .Value == $blue then .Value = $green else . end)' \
    <<<"$policy")
  aws autoscaling put-scaling-policy --auto-scaling-group-name "$GREEN_ASG" \
    --policy-name "$(jq -r '.PolicyName' <<<"$policy")" --policy-type TargetTrackingScaling \
    --target-tracking-configuration "$configuration" >/dev/null
done

rollback_green() {
  log "ROLLBACK: $1; deleting $GREEN_ASG, $BLUE_ASG is untouched."
  delete_group "$GREEN_ASG"
  aws ec2 delete-launch-template-versions --launch-template-id "$template_id" --versions "$green_version" >/dev/null
  exit 1
}

log "[4/6] Waiting for green to become healthy..."
wait_in_service "$GREEN_ASG" "$blue_desired" || rollback_green "green did not reach $blue_desired instances in service"
read -r -a green_ids <<<"$(instance_ids "$GREEN_ASG")"
aws ec2 wait instance-status-ok --instance-ids "${green_ids[@]}" || rollback_green "green instances failed their status checks"
workers_ready "${green_ids[@]}" || rollback_green "green workers are not ready"
log "Green is healthy (${#green_ids[@]} instances)"

log "[5/6] Draining blue ($BLUE_ASG) to zero..."
tag_group "$BLUE_ASG" BlueGreenRestore "$blue_min:$blue_max:$blue_desired"
drain_group "$BLUE_ASG" || die "blue did not drain; both groups run. Roll back with: $0 --rollback $GREEN_ASG" 3

log "[6/6] Promoting green..."
tag_group "$GREEN_ASG" Active true
tag_group "$BLUE_ASG" Active false

echo "==================================="
echo "Blue/Green Deployment Complete!"
echo "Active: $GREEN_ASG ($NEW_AMI_ID)   Drained, kept for rollback: $BLUE_ASG"
echo "Roll back with: $0 --rollback $GREEN_ASG"
echo "==================================="
