#!/usr/bin/env bash
# Installs the tools that tests/ami uses to check ami/ offline, when any is missing:
#   - Debian packages: packer (amazon-ebs builder built in), shellcheck, systemd (systemd-analyze);
#   - .venv-ami-tools/: a virtualenv of its own with checkov (its pins clash with the project's);
#   - .venv-ami-tools/cloud-init/: Debian's cloud-init package, unpacked rather than installed, with
#     .venv-ami-tools/bin/cloud-init to run it. Installing the package would enable cloud-init's boot
#     services and network hooks on this machine; unpacked, it only validates files.
# Fast and silent when everything is already there. Runs apt-get as root, or through sudo.
set -euo pipefail

cd "$(dirname "$0")/.."
TOOLS_VENV="${AMI_TOOLS_VENV:-.venv-ami-tools}"
PYTHON="${PYTHON:-python3}"
CHECKOV_VERSION="3.3.30"
# cloud-init's own imports; checkov's pins decide the versions of the ones it shares.
CLOUD_INIT_PYTHON_DEPS=(configobj==5.0.9 jsonpatch==1.33 PyYAML jsonschema Jinja2 requests)
PACKAGES=(packer shellcheck systemd)

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  SUDO=(sudo)
fi

apt_updated=0
apt_update() {
  if ((apt_updated == 0)); then
    "${SUDO[@]}" apt-get update -qq
    apt_updated=1
  fi
}

have_apt() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-ami-tools: $1 needs apt-get; install it with your package manager" >&2
    exit 1
  fi
  if [[ $(id -u) -ne 0 ]] && ! command -v sudo >/dev/null 2>&1; then
    echo "install-ami-tools: $1 needs root; run as root or install sudo" >&2
    exit 1
  fi
}

# 1. Debian packages.
missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]} > 0)); then
  have_apt "installing ${missing[*]}"
  echo "install-ami-tools: installing ${missing[*]}"
  apt_update
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# 2. checkov in its own virtualenv. The venv ignores itself in git (and so in ruff).
requirements=("checkov==$CHECKOV_VERSION" "${CLOUD_INIT_PYTHON_DEPS[@]}")
checkov_marker="$TOOLS_VENV/.installed-$(printf '%s\n' "${requirements[@]}" | sha256sum | cut -c1-12)"
if [[ ! -f "$checkov_marker" ]]; then
  echo "install-ami-tools: installing checkov $CHECKOV_VERSION into $TOOLS_VENV"
  if [[ ! -x "$TOOLS_VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$TOOLS_VENV"
  fi
  printf '*\n' >"$TOOLS_VENV/.gitignore"
  "$TOOLS_VENV/bin/python" -m pip install -q --disable-pip-version-check "${requirements[@]}"
  rm -f "$TOOLS_VENV"/.installed-* "$TOOLS_VENV"/.checkov-*
  touch "$checkov_marker"
fi

# 3. Debian's cloud-init, unpacked into the tools venv (never installed: no services, no hooks).
cloud_init_dir="$TOOLS_VENV/cloud-init"
if [[ ! -x "$TOOLS_VENV/bin/cloud-init" || ! -d "$cloud_init_dir/usr/lib/python3/dist-packages/cloudinit" ]]; then
  have_apt "fetching cloud-init"
  if ! apt-cache show cloud-init >/dev/null 2>&1; then
    apt_update
  fi
  download_dir="$(mktemp -d)"
  trap 'rm -rf "$download_dir"' EXIT
  chmod 0755 "$download_dir"
  echo "install-ami-tools: fetching Debian's cloud-init into $cloud_init_dir"
  (cd "$download_dir" && apt-get download -qq cloud-init 2>/dev/null) ||
    (apt_update && cd "$download_dir" && apt-get download -qq cloud-init)
  rm -rf "$cloud_init_dir"
  mkdir -p "$cloud_init_dir"
  dpkg-deb -x "$download_dir"/cloud-init_*.deb "$cloud_init_dir"
  dpkg-deb -f "$download_dir"/cloud-init_*.deb Version >"$cloud_init_dir/VERSION"
  cat >"$TOOLS_VENV/bin/cloud-init" <<'EOF'
#!/usr/bin/env bash
# Debian's cloud-init, run from the unpacked package (validation commands only: schema, devel).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
export PYTHONPATH="$here/cloud-init/usr/lib/python3/dist-packages${PYTHONPATH:+:$PYTHONPATH}"
exec "$here/bin/python" -c 'import sys; from cloudinit.cmd.main import main; sys.argv[0] = "cloud-init"; sys.exit(main())' "$@"
EOF
  chmod 0755 "$TOOLS_VENV/bin/cloud-init"
fi
