#!/usr/bin/env bash
# /usr/local/sbin/file-processor-diagnostics: the seed's troubleshooting commands, on one worker instance.
# ami/deploy/debug-worker.sh runs it through Session Manager (no SSH); as root on the instance it runs as is.
# Nothing here changes state. The env file holds no secrets, so its values are printed.
set -uo pipefail

UNIT="file-processor-worker.service"
ETC_DIR="/etc/file-processor"
IMDS="${AWS_EC2_METADATA_SERVICE_ENDPOINT:-http://169.254.169.254}"

section() { printf '\n===== [%s] %s =====\n' "$1" "$2"; }

section 1 "System"
uname -a
grep -E '^(PRETTY_NAME|VERSION_ID)=' /etc/os-release
cat /app/VERSION 2>/dev/null
uptime

section 2 "Instance metadata (IMDSv2)"
token=$(curl -fsS --max-time 2 -X PUT "$IMDS/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 60")
for path in instance-id instance-type placement/availability-zone autoscaling/target-lifecycle-state \
  spot/instance-action iam/security-credentials/; do
  printf '%-36s %s\n' "$path" "$(curl -fsS --max-time 2 -H "X-aws-ec2-metadata-token: $token" \
    "$IMDS/latest/meta-data/$path" 2>/dev/null || echo '-')"
done

section 3 "Environment (env files written by User Data and first boot)"
cat "$ETC_DIR/worker.env" "$ETC_DIR/instance.env" 2>&1

section 4 "Worker service"
systemctl status "$UNIT" --no-pager --lines=0
systemctl show "$UNIT" --property=ActiveState,SubState,NRestarts,ExecMainStatus,ExecMainStartTimestamp
health_port=$(sed -n 's/^HEALTH_PORT=//p' "$ETC_DIR/worker.env" 2>/dev/null)
for endpoint in healthz readyz; do
  printf '/%s: %s\n' "$endpoint" "$(curl -sS --max-time 2 "http://127.0.0.1:${health_port:-8080}/$endpoint" 2>&1)"
done

section 5 "Recent logs"
journalctl -u "$UNIT" -n 20 --no-pager
tail -n 50 /var/log/file-processor/worker.log
tail -n 20 /var/log/user-data.log 2>/dev/null

section 6 "Disk"
df -h / /tmp

section 7 "Memory"
free -h
journalctl -k --since "-1 day" --no-pager 2>/dev/null | grep -iE 'out of memory|oom-kill' | tail -n 5

section 8 "Services (validate-only as appuser: credentials, bucket, queue, DLQ, cluster)"
systemd-run --quiet --wait --pipe --collect --uid=appuser --gid=appuser --property=PrivateTmp=yes \
  "--property=EnvironmentFile=$ETC_DIR/worker.env" "--property=EnvironmentFile=-$ETC_DIR/instance.env" \
  /usr/local/bin/start-worker.sh --validate-only
echo "validate-only exit status: $?"

section 9 "CloudWatch agent"
systemctl is-active amazon-cloudwatch-agent.service
tail -n 10 /opt/aws/amazon-cloudwatch-agent/logs/amazon-cloudwatch-agent.log 2>/dev/null
