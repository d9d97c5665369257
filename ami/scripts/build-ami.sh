#!/usr/bin/env bash
# Provisions an Amazon Linux 2023 builder into the file-processor worker image. Packer runs it as root with
# the build folder uploaded to /tmp/ami-build (dist/ with the wheel, requirements.lock, scripts/, systemd/,
# cloudwatch/, README.md); ami-cleanup.sh runs after it.
#
#   build-ami.sh [BUILD_DIR]
set -euo pipefail

BUILD_DIR="${1:-/tmp/ami-build}"
APP_DIR="/app"
APP_USER="appuser"
APP_UID="1000"
PYTHON_VERSION="3.11"
STEPS=12

step() { echo "[$1/$STEPS] $2"; }
die() {
  echo "build-ami: $*" >&2
  exit 1
}

[[ $(id -u) -eq 0 ]] || die "run as root (Packer runs it through sudo)"
# shellcheck source=/dev/null
. /etc/os-release
[[ "${ID:-}" == "amzn" && "${VERSION_ID:-}" == 2023 ]] || die "this script provisions Amazon Linux 2023, not ${PRETTY_NAME:-an unknown OS}"
for needed in dist requirements.lock scripts systemd cloudwatch; do
  [[ -e "$BUILD_DIR/$needed" ]] || die "$BUILD_DIR/$needed is missing (see ami/packer/worker.pkr.hcl)"
done

echo "==================================="
echo "AMI build: file-processor worker ${IMAGE_VERSION:-unversioned} (${GIT_COMMIT:-unknown commit})"
echo "==================================="

# AL2023 locks dnf to the release the base AMI shipped with: plain `dnf update` installs nothing newer than
# that release. --releasever=latest moves to the newest one, so the image starts with current patches.
step 1 "Updating OS packages to the latest Amazon Linux 2023 release..."
dnf upgrade -y -q --releasever=latest

step 2 "Installing system dependencies..."
dnf install -y -q --releasever=latest \
  "python${PYTHON_VERSION}" \
  "python${PYTHON_VERSION}-pip" \
  poppler-utils \
  poppler-data \
  ImageMagick \
  file-libs \
  jq \
  tar \
  gzip \
  logrotate \
  amazon-cloudwatch-agent
rpm -q amazon-ssm-agent >/dev/null || dnf install -y -q amazon-ssm-agent

step 3 "Installing Tesseract OCR (jpn, jpn_vert, eng, osd)..."
bash "$BUILD_DIR/scripts/install-tesseract-al2023.sh"

step 4 "Creating the application user ($APP_USER, uid $APP_UID)..."
if id -u "$APP_USER" >/dev/null 2>&1; then
  [[ "$(id -u "$APP_USER")" == "$APP_UID" ]] || die "$APP_USER exists with uid $(id -u "$APP_USER"), not $APP_UID"
else
  holder="$(getent passwd "$APP_UID" | cut -d: -f1 || true)"
  [[ -z "$holder" ]] || die "uid $APP_UID belongs to $holder; the builder's user data (builder-user-data.yaml) moves ec2-user to 1001"
  useradd --uid "$APP_UID" --user-group --home-dir "$APP_DIR" --no-create-home --shell /sbin/nologin \
    --comment "file-processor worker" "$APP_USER"
fi

step 5 "Creating the directory structure..."
# The code belongs to root and is only readable by the worker: a compromised worker cannot change it.
install -d -o root -g "$APP_USER" -m 0750 "$APP_DIR"
install -d -o "$APP_USER" -g "$APP_USER" -m 0750 /var/log/file-processor
install -d -o "$APP_USER" -g "$APP_USER" -m 0700 /tmp/file-processor
install -d -o root -g root -m 0755 /etc/file-processor /usr/share/doc/file-processor
# At every boot: /tmp/file-processor (/tmp is a tmpfs on AL2023; the unit itself uses its private /tmp) and the
# worker log, owned by appuser so that logrotate can rotate it as appuser (systemd only appends to it).
cat >/etc/tmpfiles.d/file-processor.conf <<EOF
d /tmp/file-processor 0700 $APP_USER $APP_USER -
d /var/log/file-processor 0750 $APP_USER $APP_USER -
f /var/log/file-processor/worker.log 0640 $APP_USER $APP_USER -
EOF

step 6 "Installing extractkit and its locked Python dependencies into $APP_DIR/venv..."
rm -rf "$APP_DIR/venv"
PIP_NO_CACHE_DIR=1 bash "$BUILD_DIR/scripts/install-app.sh" \
  "$APP_DIR/venv" "$BUILD_DIR/dist" "$BUILD_DIR/requirements.lock" "python${PYTHON_VERSION}"
install -o root -g "$APP_USER" -m 0640 "$BUILD_DIR/requirements.lock" "$APP_DIR/requirements.lock"
printf '%s\n' "${IMAGE_VERSION:-unversioned} ${GIT_COMMIT:-unknown}" >"$APP_DIR/VERSION"
chown -R root:"$APP_USER" "$APP_DIR"
chmod -R g+rX,g-w,o-rwx "$APP_DIR"

step 7 "Installing the start scripts..."
install -o root -g root -m 0755 "$BUILD_DIR/scripts/start-worker.sh" /usr/local/bin/start-worker.sh
install -o root -g root -m 0750 "$BUILD_DIR/scripts/first-boot.sh" /usr/local/sbin/file-processor-first-boot
install -o root -g root -m 0750 "$BUILD_DIR/scripts/worker-diagnostics.sh" /usr/local/sbin/file-processor-diagnostics
[[ -f "$BUILD_DIR/README.md" ]] && install -m 0644 "$BUILD_DIR/README.md" /usr/share/doc/file-processor/README.md

step 8 "Configuring the systemd service..."
install -o root -g root -m 0644 "$BUILD_DIR/systemd/file-processor-worker.service" \
  /etc/systemd/system/file-processor-worker.service
install -o root -g root -m 0644 "$BUILD_DIR/systemd/file-processor.logrotate" /etc/logrotate.d/file-processor
systemctl daemon-reload
# Not enabled here: first boot enables it after User Data has written the env file and the config validates.
systemctl disable file-processor-worker.service >/dev/null 2>&1 || true
systemd-analyze verify /etc/systemd/system/file-processor-worker.service
systemd-analyze security file-processor-worker.service --threshold=2.5 --no-pager | tail -n 1

step 9 "Installing the CloudWatch agent configuration..."
install -d -m 0755 /opt/aws/amazon-cloudwatch-agent/etc
install -o root -g root -m 0644 "$BUILD_DIR/cloudwatch/amazon-cloudwatch-agent.json" \
  /opt/aws/amazon-cloudwatch-agent/etc/file-processor.template.json
jq empty /opt/aws/amazon-cloudwatch-agent/etc/file-processor.template.json
# Started by first boot with the log group from the env file.
systemctl disable amazon-cloudwatch-agent.service >/dev/null 2>&1 || true

step 10 "Hardening SSH and disabling what the workers do not use..."
install -d -m 0755 /etc/ssh/sshd_config.d
cat >/etc/ssh/sshd_config.d/50-file-processor.conf <<'EOF'
# Access is through Session Manager; sshd stays disabled. If an operator enables it, keys only.
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
X11Forwarding no
AllowTcpForwarding no
EOF
# Packer's own SSH session (tunnelled through Session Manager) stays up until the build ends.
systemctl disable sshd.service >/dev/null 2>&1 || true
for unit in postfix.service rpcbind.service rpcbind.socket cups.service avahi-daemon.service; do
  systemctl disable --now "$unit" >/dev/null 2>&1 || true
done
systemctl enable amazon-ssm-agent.service

step 11 "Removing what the build alone needed..."
dnf autoremove -y -q
dnf clean all -q

step 12 "Checking the image..."
for command in pdftoppm pdfinfo convert file jq; do
  command -v "$command" >/dev/null || die "$command is missing"
done
TESSDATA_PREFIX=/usr/local/share/tessdata /usr/local/bin/tesseract --list-langs 2>&1 | grep -qx jpn_vert || die "tesseract has no jpn_vert"
runuser -u "$APP_USER" -- "$APP_DIR/venv/bin/extractkit" --version
runuser -u "$APP_USER" -- "$APP_DIR/venv/bin/extractkit" plugins >/dev/null
runuser -u "$APP_USER" -- "$APP_DIR/venv/bin/python" -c 'import magic; magic.Magic(mime=True)'

echo "==================================="
echo "AMI build preparation complete: run ami-cleanup.sh next (Packer does)."
echo "==================================="
