#!/usr/bin/env bash
# Diagnoses worker instances from an operator's machine, through Session Manager (no SSH, no key pair):
# runs /usr/local/sbin/file-processor-diagnostics (the seed's troubleshooting commands, baked into the AMI)
# on each instance and prints its output, then the queue and DLQ depth and the latest errors in CloudWatch Logs.
#
#   debug-worker.sh INSTANCE_ID...      these instances
#   debug-worker.sh --asg [ASG_NAME]    every instance of the group (default file-processor-asg)
#   debug-worker.sh --shell INSTANCE_ID an interactive shell (aws ssm start-session)
#
# Environment: LOG_GROUP (default /aws/ec2/file-processor), QUEUE_NAME (default file-processor-queue),
# DLQ_NAME (default file-processor-dlq), SINCE_MINUTES (default 60), and the AWS CLI's own.
# shellcheck disable=SC2016 # JMESPath literals in --query are backquoted inside single quotes, on purpose.
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e '/^# shellcheck/d' -e 's/^# \{0,1\}//'
  exit 2
}
log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*"; }

LOG_GROUP="${LOG_GROUP:-/aws/ec2/file-processor}"
QUEUE_NAME="${QUEUE_NAME:-file-processor-queue}"
DLQ_NAME="${DLQ_NAME:-file-processor-dlq}"
SINCE_MINUTES="${SINCE_MINUTES:-60}"
command -v aws >/dev/null || {
  echo "the AWS CLI is needed" >&2
  exit 2
}

case "${1:-}" in
  "" | -h | --help) usage ;;
  --shell)
    [[ $# -eq 2 ]] || usage
    exec aws ssm start-session --target "$2"
    ;;
  --asg)
    asg="${2:-file-processor-asg}"
    read -r -a instances <<<"$(aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$asg" \
      --query 'AutoScalingGroups[0].Instances[?LifecycleState==`InService`].InstanceId' --output text)"
    ((${#instances[@]} > 0)) || {
      echo "no instance in service in $asg" >&2
      exit 1
    }
    ;;
  *) instances=("$@") ;;
esac

log "Running the diagnostics on ${instances[*]}..."
command_id=$(aws ssm send-command --document-name AWS-RunShellScript --instance-ids "${instances[@]}" \
  --comment "file-processor diagnostics" --timeout-seconds 120 \
  --parameters '{"commands":["/usr/local/sbin/file-processor-diagnostics"],"executionTimeout":["120"]}' \
  --query 'Command.CommandId' --output text)
for instance in "${instances[@]}"; do
  aws ssm wait command-executed --command-id "$command_id" --instance-id "$instance" || true
  echo
  echo "################ $instance ################"
  # Session Manager keeps the first 24,000 characters of the output here; the rest is in the worker log.
  aws ssm get-command-invocation --command-id "$command_id" --instance-id "$instance" \
    --query '[Status, StandardOutputContent, StandardErrorContent]' --output text
done

echo
echo "################ Queues ################"
for queue in "$QUEUE_NAME" "$DLQ_NAME"; do
  url=$(aws sqs get-queue-url --queue-name "$queue" --query QueueUrl --output text)
  printf '%s: ' "$queue"
  aws sqs get-queue-attributes --queue-url "$url" --attribute-names ApproximateNumberOfMessages \
    ApproximateNumberOfMessagesNotVisible --query 'Attributes' --output text
done

echo
echo "################ Errors in $LOG_GROUP, last $SINCE_MINUTES minutes ################"
aws logs filter-log-events --log-group-name "$LOG_GROUP" \
  --start-time "$((($(date +%s) - SINCE_MINUTES * 60) * 1000))" \
  --filter-pattern '{ $.level = "ERROR" || $.level = "CRITICAL" }' \
  --max-items 20 --query 'events[].message' --output text
