#!/usr/bin/env bash
# The last step before imaging (Packer runs it after build-ami.sh): the image must hold nothing of the builder
# instance. It refuses to start while sensitive variables or credentials are present, then removes
# temporary files, logs, caches, shell history, SSH host and user keys, cloud-init's per-instance state and the
# machine id, and checks that the env files User Data writes are not baked in.
#
#   ami-cleanup.sh
#
# AMI_CLEANUP_ROOT=DIR runs it against a copy of a filesystem under DIR instead of / (the tests do), skipping
# the commands that act on the running system (dnf, journalctl, cloud-init).
set -euo pipefail

ROOT="${AMI_CLEANUP_ROOT:-}"
if [[ -n "$ROOT" ]]; then
  [[ -d "$ROOT" && "$ROOT" == /* && "$ROOT" != / ]] || {
    echo "ami-cleanup: AMI_CLEANUP_ROOT must be an absolute directory other than /" >&2
    exit 2
  }
  ROOT="${ROOT%/}"
elif [[ $(id -u) -ne 0 ]]; then
  echo "ami-cleanup: run as root" >&2
  exit 2
fi
SENSITIVE='^(SQS_QUEUE_URL|SQS_DLQ_URL|OPENSEARCH_[A-Z_]*|S3_BUCKET|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|[A-Z_]*PASSWORD)='

echo "==================================="
echo "AMI Cleanup Script"
echo "==================================="

# 0. Refuse before touching anything: the image would carry these to every instance.
echo "[0/9] Checking for sensitive environment variables and credentials..."
refuse=0
if env | grep -E "$SENSITIVE" >/dev/null; then
  echo "WARNING: sensitive environment variables are set:"
  env | grep -E "$SENSITIVE" | cut -d= -f1 | sed 's/^/  /'
  echo "Unset them (User Data provides them at launch) before creating the AMI."
  refuse=1
fi
for credentials in "$ROOT"/root/.aws/credentials "$ROOT"/home/*/.aws/credentials "$ROOT"/app/.aws/credentials; do
  if [[ -e "$credentials" ]]; then
    echo "WARNING: $credentials exists: instances take credentials from their instance role only."
    refuse=1
  fi
done
if ((refuse)); then
  exit 1
fi

# 1. Temporary files.
echo "[1/9] Removing temporary files..."
find "$ROOT/tmp" "$ROOT/var/tmp" -mindepth 1 -delete 2>/dev/null || true

# 2. Logs: rotated copies removed; the rest emptied, not removed, so services keep their files and permissions.
echo "[2/9] Clearing log files..."
if [[ -d "$ROOT/var/log" ]]; then
  find "$ROOT/var/log" -type f -regextype posix-extended \
    -regex '.*(\.gz|\.[0-9]+|-[0-9]{8})$' -delete
  find "$ROOT/var/log" -type f -exec truncate -s 0 {} +
  rm -rf "$ROOT/var/log/journal/"* "$ROOT/var/log/amazon/ssm/"* "$ROOT/var/log/file-processor/"*
fi
rm -rf "$ROOT/opt/aws/amazon-cloudwatch-agent/logs/"*
if [[ -z "$ROOT" ]]; then
  journalctl --rotate >/dev/null 2>&1 || true
  journalctl --vacuum-time=1s >/dev/null 2>&1 || true
fi

# 3. Caches. The venv's bytecode is kept: pip compiled it from the installed sources at build time, it holds
# nothing instance-specific, and the worker cannot rewrite it (the unit mounts /app read-only).
echo "[3/9] Removing caches..."
find "$ROOT/app" -path "$ROOT/app/venv" -prune -o -type d -name __pycache__ -prune -exec rm -rf {} + 2>/dev/null || true
find "$ROOT/app" -path "$ROOT/app/venv" -prune -o -type f \( -name '*.pyc' -o -name '*.pyo' \) -delete 2>/dev/null || true
rm -rf "$ROOT"/root/.cache "$ROOT"/home/*/.cache "$ROOT/app/.cache" "$ROOT/var/cache/dnf/"*
if [[ -z "$ROOT" ]]; then
  dnf clean all -q || true
fi

# 4. Shell history.
echo "[4/9] Clearing command history..."
rm -f "$ROOT"/root/.bash_history "$ROOT"/home/*/.bash_history "$ROOT/app/.bash_history" \
  "$ROOT"/root/.python_history "$ROOT"/home/*/.python_history "$ROOT"/root/.lesshst "$ROOT"/home/*/.lesshst

# 5. SSH: host keys are generated again at first boot; no user key may be carried to the instances.
echo "[5/9] Removing SSH host keys and authorized keys..."
rm -f "$ROOT"/etc/ssh/ssh_host_*
rm -f "$ROOT"/root/.ssh/authorized_keys "$ROOT"/home/*/.ssh/authorized_keys

# 6. cloud-init's state of the builder instance, so each worker runs its own first boot.
echo "[6/9] Clearing cloud-init state and logs..."
if [[ -z "$ROOT" ]] && command -v cloud-init >/dev/null 2>&1; then
  cloud-init clean --logs
fi
rm -rf "$ROOT"/var/lib/cloud/instances/* "$ROOT"/var/lib/cloud/instance "$ROOT"/var/log/cloud-init*.log

# 7. The machine id, regenerated at first boot (journald, DHCP and others key on it).
echo "[7/9] Resetting the machine id..."
if [[ -f "$ROOT/etc/machine-id" ]]; then
  : >"$ROOT/etc/machine-id"
fi
rm -f "$ROOT/var/lib/dbus/machine-id"

# 8. The runtime configuration comes from User Data: none may be baked in.
echo "[8/9] Removing runtime configuration..."
rm -f "$ROOT"/etc/file-processor/*.env "$ROOT"/etc/profile.d/file-processor.sh \
  "$ROOT/opt/aws/amazon-cloudwatch-agent/etc/file-processor.json"

# 9. Check.
echo "[9/9] Checking..."
leftovers=()
for path in "$ROOT"/etc/ssh/ssh_host_* "$ROOT"/etc/file-processor/*.env "$ROOT"/root/.bash_history \
  "$ROOT"/home/*/.ssh/authorized_keys "$ROOT"/var/lib/cloud/instances/*; do
  [[ -e "$path" ]] && leftovers+=("$path")
done
if ((${#leftovers[@]} > 0)); then
  echo "ami-cleanup: still present: ${leftovers[*]}" >&2
  exit 1
fi

echo "==================================="
echo "AMI Cleanup Complete!"
echo "==================================="
echo "Ready to create the AMI (Packer does, from the stopped builder)."
