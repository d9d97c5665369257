#!/usr/bin/env bash
# Installs extractkit into a fresh virtualenv the way the AMI does: the locked dependencies first (hashes
# required, wheels only, nothing unpinned), then extractkit's own wheel without dependencies, then `pip check`.
#
#   install-app.sh VENV DIST_DIR LOCK_FILE [PYTHON]
#
# build-ami.sh runs it for /app/venv; build-artifacts.sh and the start-path test run it into a scratch folder.
set -euo pipefail

if (($# < 3 || $# > 4)); then
  echo "usage: $0 VENV DIST_DIR LOCK_FILE [PYTHON]" >&2
  exit 64
fi
venv=$1
dist_dir=$2
lock_file=$3
python=${4:-python3.11}

shopt -s nullglob
wheels=("$dist_dir"/extractkit-*-py3-none-any.whl)
shopt -u nullglob
if ((${#wheels[@]} != 1)); then
  echo "install-app: expected exactly one extractkit wheel in $dist_dir, found ${#wheels[@]}" >&2
  exit 1
fi
[[ -r "$lock_file" ]] || {
  echo "install-app: cannot read $lock_file" >&2
  exit 1
}
[[ ! -e "$venv" ]] || {
  echo "install-app: $venv already exists; the install starts from a fresh virtualenv" >&2
  exit 1
}

export PIP_DISABLE_PIP_VERSION_CHECK=1
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --require-hashes --only-binary=:all: --no-deps -r "$lock_file"
"$venv/bin/python" -m pip install --quiet --no-deps "${wheels[0]}"
"$venv/bin/python" -m pip check
"$venv/bin/extractkit" --version
