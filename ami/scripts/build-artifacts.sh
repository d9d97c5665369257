#!/usr/bin/env bash
# Builds what the AMI installs from this repository:
#   - ami/dist/extractkit-<version>-py3-none-any.whl   (python -m build --wheel);
#   - ami/requirements.lock                           (with --lock: pip-compile of the project's [all] extra,
#                                                      every pin with its hashes; committed to git).
# Then it proves the two go together: a clean virtualenv installs the lock with --require-hashes and
# --only-binary, the wheel with --no-deps, and `pip check` and `extractkit --version` pass.
#
#   bash ami/scripts/build-artifacts.sh            wheel, then check it against the committed lock
#   bash ami/scripts/build-artifacts.sh --lock     regenerate the lock first (after a dependency change)
#
# Environment: PYTHON (default python3.11, else python3; the AMI runs 3.11), DIST_DIR (default ami/dist),
# LOCK_FILE (default ami/requirements.lock).
set -euo pipefail

AMI_DIR="$(cd "$(dirname "$0")/.." && pwd)"
REPO="$(cd "$AMI_DIR/.." && pwd)"
DIST_DIR="${DIST_DIR:-$AMI_DIR/dist}"
LOCK_FILE="${LOCK_FILE:-$AMI_DIR/requirements.lock}"
BUILD_VERSION="1.6.1"
PIP_TOOLS_VERSION="7.6.2"
# A pip that normalises extra names (PEP 685): older ones miss extras such as legacy_office in the metadata,
# which setuptools writes as legacy-office, and leave their dependencies out of the lock.
PIP_VERSION="26.3"

if [[ -z "${PYTHON:-}" ]]; then
  if command -v python3.11 >/dev/null 2>&1; then PYTHON=python3.11; else PYTHON=python3; fi
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "build-artifacts: $PYTHON is not Python 3.11, the AMI's Python; the lock's markers would not match" >&2
  exit 1
fi

regenerate_lock=0
for argument in "$@"; do
  case "$argument" in
    --lock) regenerate_lock=1 ;;
    *)
      echo "usage: $0 [--lock]" >&2
      exit 64
      ;;
  esac
done

# Resolve against PyPI alone: a local wheel folder would put its own files and hashes into the lock.
unset PIP_FIND_LINKS PIP_NO_INDEX PIP_EXTRA_INDEX_URL
export PIP_DISABLE_PIP_VERSION_CHECK=1

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$PYTHON" -m venv "$work/tools"
"$work/tools/bin/python" -m pip install -q "pip==$PIP_VERSION"
"$work/tools/bin/python" -m pip install -q "build==$BUILD_VERSION" "pip-tools==$PIP_TOOLS_VERSION"

if ((regenerate_lock)); then
  echo "build-artifacts: resolving the [all] extra into $LOCK_FILE"
  # The [all] extra names the project itself (extractkit[pdf,office,...]): keep that self-reference out.
  # --rebuild: pip-tools caches the dependencies of extractkit==<version>, which stay stale while the version
  # does not change.
  (cd "$REPO" && "$work/tools/bin/pip-compile" --quiet --rebuild --extra all --generate-hashes --strip-extras \
    --no-emit-index-url --no-emit-find-links --unsafe-package extractkit --newline LF \
    --output-file "$work/requirements.lock" pyproject.toml)
  {
    echo "# The worker AMI's Python dependencies: every pin with its hashes. Generated, do not edit:"
    echo "#   bash ami/scripts/build-artifacts.sh --lock"
    echo "# extractkit itself comes from the wheel built next to this file, so pip-compile lists it as unpinned below."
    sed -e "s#--output-file=$work/requirements.lock#--output-file=ami/requirements.lock#" "$work/requirements.lock"
  } >"$LOCK_FILE"
fi
[[ -f "$LOCK_FILE" ]] || {
  echo "build-artifacts: $LOCK_FILE is missing; run with --lock" >&2
  exit 1
}

echo "build-artifacts: building the wheel into $DIST_DIR"
mkdir -p "$DIST_DIR"
rm -f "$DIST_DIR"/extractkit-*.whl
"$work/tools/bin/python" -m build --wheel --outdir "$DIST_DIR" "$REPO" >"$work/build.log" 2>&1 || {
  cat "$work/build.log" >&2
  exit 1
}
wheels=("$DIST_DIR"/extractkit-*.whl)
cp "$LOCK_FILE" "$DIST_DIR/requirements.lock"

echo "build-artifacts: installing ${wheels[0]##*/} with the lock into a clean virtualenv"
bash "$AMI_DIR/scripts/install-app.sh" "$work/check-venv" "$DIST_DIR" "$LOCK_FILE" "$PYTHON"
echo "build-artifacts: ok: ${wheels[0]} and $LOCK_FILE"
