#!/usr/bin/env bash
# Installs the Debian packages extractkit needs (libmagic, Tesseract with Japanese and English, poppler,
# fonts for the generated fixtures) when any is missing. Runs apt-get as root, or through sudo.
set -euo pipefail

PACKAGES=(
  libmagic1
  tesseract-ocr tesseract-ocr-jpn tesseract-ocr-jpn-vert tesseract-ocr-eng tesseract-ocr-osd
  poppler-utils poppler-data
  fonts-ipafont-gothic fonts-ipafont-mincho fonts-dejavu-core
)
if [[ "${1:-}" == "--with-test-tools" ]]; then
  # The test servers: OpenSearch and the Maven downloads need Java 17 and Maven; readiness checks use curl.
  PACKAGES+=(shellcheck openjdk-17-jdk-headless maven curl)
  # The OCR script tests: simplified Chinese for Tesseract and a font with its glyphs to render pages.
  PACKAGES+=(tesseract-ocr-chi-sim fonts-wqy-microhei)
fi

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "extractkit: missing system packages (${missing[*]}) and no apt-get here; install them with your package manager" >&2
  exit 1
fi
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "extractkit: missing system packages (${missing[*]}); run 'make' as root or install them with apt-get" >&2
    exit 1
  fi
fi
echo "Installing system packages: ${missing[*]}"
"${SUDO[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
