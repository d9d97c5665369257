#!/usr/bin/env bash
# Rolling deployment of a new worker AMI (the recommended way):
#   1. waits until the AMI is available;
#   2. creates a launch template version with the new ImageId (from the version the group runs now);
#   3. starts an instance refresh to that version: 90% of the capacity stays healthy, new instances launch
#      before old ones terminate, checkpoints at 50% and 100% with a 5-minute bake, automatic rollback on
#      failure or when the DLQ or worker-error alarm fires;
#   4. follows the refresh until it ends; on failure it makes sure the group is rolled back, and only on
#      success makes the new version the launch template's default.
# Old instances are drained by the terminating lifecycle hook: nothing in flight is lost.
#
#   deploy-new-ami.sh NEW_AMI_ID
#
# Environment: ASG_NAME (default file-processor-asg), ALARM_NAMES (default "<name>-dlq-not-empty
# <name>-worker-errors", with <name> the group name without -asg), TIMEOUT_MINUTES (default 120),
# POLL_SECONDS (default 30), and the AWS CLI's own (AWS_REGION, AWS_PROFILE).
# Exit status: 0 deployed, 1 failed and rolled back, 2 usage or pre-flight error, 3 needs an operator.
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

[[ $# -eq 1 && "$1" != -* ]] || usage
NEW_AMI_ID=$1
[[ "$NEW_AMI_ID" =~ ^ami-[0-9a-f]{8,17}$ ]] || die "not an AMI id: $NEW_AMI_ID"
ASG_NAME="${ASG_NAME:-file-processor-asg}"
NAME_PREFIX="${ASG_NAME%-asg}"
read -r -a ALARMS <<<"${ALARM_NAMES:-$NAME_PREFIX-dlq-not-empty $NAME_PREFIX-worker-errors}"
TIMEOUT_MINUTES="${TIMEOUT_MINUTES:-120}"
POLL_SECONDS="${POLL_SECONDS:-30}"
command -v aws >/dev/null || die "the AWS CLI is needed"
command -v jq >/dev/null || die "jq is needed"

echo "==================================="
echo "Rolling Update Deployment"
echo "Group: $ASG_NAME   New AMI: $NEW_AMI_ID"
echo "==================================="

log "[1/5] Waiting for $NEW_AMI_ID to be available..."
aws ec2 wait image-available --image-ids "$NEW_AMI_ID"

group_json=$(aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$ASG_NAME" \
  --query 'AutoScalingGroups[0]' --output json)
[[ "$group_json" != null ]] || die "no Auto Scaling group named $ASG_NAME"
template_id=$(jq -r '.LaunchTemplate.LaunchTemplateId // empty' <<<"$group_json")
[[ -n "$template_id" ]] || die "$ASG_NAME does not use a launch template directly"
running_version=$(jq -r '.LaunchTemplate.Version' <<<"$group_json")
source_version=$(aws ec2 describe-launch-template-versions --launch-template-id "$template_id" \
  --versions "$running_version" --query 'LaunchTemplateVersions[0].VersionNumber' --output text)
active=$(aws autoscaling describe-instance-refreshes --auto-scaling-group-name "$ASG_NAME" --max-records 1 \
  --query 'InstanceRefreshes[?Status==`Pending`||Status==`InProgress`||Status==`Baking`||Status==`RollbackInProgress`] | length(@)' \
  --output text)
[[ "$active" == 0 ]] || die "an instance refresh is already running on $ASG_NAME"

log "[2/5] Creating a launch template version from version $source_version with $NEW_AMI_ID..."
new_version=$(aws ec2 create-launch-template-version --launch-template-id "$template_id" \
  --source-version "$source_version" \
  --launch-template-data "$(jq -cn --arg ami "$NEW_AMI_ID" '{ImageId: $ami}')" \
  --version-description "AMI update: $NEW_AMI_ID" \
  --query 'LaunchTemplateVersion.VersionNumber' --output text)
log "Created version $new_version of $template_id"

log "[3/5] Starting the instance refresh..."
preferences=$(jq -cn --argjson alarms "$(printf '%s\n' "${ALARMS[@]}" | jq -R . | jq -s .)" '{
  MinHealthyPercentage: 90,
  MaxHealthyPercentage: 120,
  InstanceWarmup: 300,
  CheckpointPercentages: [50, 100],
  CheckpointDelay: 300,
  SkipMatching: true,
  AutoRollback: true,
  ScaleInProtectedInstances: "Wait",
  StandbyInstances: "Wait",
  AlarmSpecification: {Alarms: $alarms}
}')
desired=$(jq -cn --arg id "$template_id" --arg version "$new_version" \
  '{LaunchTemplate: {LaunchTemplateId: $id, Version: $version}}')
refresh_id=$(aws autoscaling start-instance-refresh --auto-scaling-group-name "$ASG_NAME" --strategy Rolling \
  --desired-configuration "$desired" --preferences "$preferences" --query 'InstanceRefreshId' --output text)
log "Instance refresh $refresh_id started"
trap 'log "Interrupted: the refresh goes on in AWS. Follow it with: aws autoscaling describe-instance-refreshes --auto-scaling-group-name $ASG_NAME --instance-refresh-ids $refresh_id"' INT

log "[4/5] Following the refresh (up to $TIMEOUT_MINUTES minutes)..."
deadline=$((SECONDS + TIMEOUT_MINUTES * 60))
rollback_requested=0
last=""
while true; do
  read -r status percentage reason < <(aws autoscaling describe-instance-refreshes \
    --auto-scaling-group-name "$ASG_NAME" --instance-refresh-ids "$refresh_id" \
    --query 'InstanceRefreshes[0].[Status, PercentageComplete, StatusReason]' --output text)
  if [[ "$status $percentage" != "$last" ]]; then
    log "Status: $status - Progress: ${percentage}%${reason:+ - $reason}"
    last="$status $percentage"
  fi
  case "$status" in
    Successful)
      break
      ;;
    RollbackSuccessful)
      die "the refresh failed and the group is back on version $source_version: ${reason:-no status reason given}" 1
      ;;
    RollbackFailed)
      die "the rollback failed: the group runs a mix of versions; see the status reason and the activity history" 3
      ;;
    Failed | Cancelled)
      if ((rollback_requested)); then
        die "the refresh ended as $status after the rollback request: check the group" 3
      fi
      log "The refresh ended as $status without a rollback: rolling back..."
      aws autoscaling rollback-instance-refresh --auto-scaling-group-name "$ASG_NAME" >/dev/null ||
        die "rollback-instance-refresh refused; the group may already run version $source_version only" 1
      rollback_requested=1
      ;;
  esac
  if ((SECONDS > deadline)) && ((rollback_requested == 0)); then
    log "Timed out after $TIMEOUT_MINUTES minutes: rolling back..."
    aws autoscaling rollback-instance-refresh --auto-scaling-group-name "$ASG_NAME" >/dev/null ||
      die "could not roll back the refresh; cancel it with: aws autoscaling cancel-instance-refresh --auto-scaling-group-name $ASG_NAME" 3
    rollback_requested=1
    deadline=$((SECONDS + TIMEOUT_MINUTES * 60))
  elif ((SECONDS > deadline)); then
    die "the rollback did not finish within $TIMEOUT_MINUTES minutes" 3
  fi
  sleep "$POLL_SECONDS"
done

log "[5/5] Making version $new_version the launch template's default..."
aws ec2 modify-launch-template --launch-template-id "$template_id" --default-version "$new_version" >/dev/null

echo "==================================="
echo "Deployment Complete: $ASG_NAME runs $NEW_AMI_ID (launch template $template_id version $new_version)."
echo "Set ami_id = \"$NEW_AMI_ID\" in the Terraform variables, or the next apply puts the old AMI back."
echo "==================================="
