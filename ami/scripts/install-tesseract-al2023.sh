#!/usr/bin/env bash
# Builds Leptonica and Tesseract from pinned, checksummed sources on Amazon Linux 2023 (which packages
# neither), installs them under /usr/local, and installs the language data the worker uses: jpn, jpn_vert,
# eng and osd from tessdata_fast 4.1.0 into /usr/local/share/tessdata. Run as root by build-ami.sh.
#
# Checksums: Leptonica 1.85.0 and Tesseract 5.5.3 as pinned by Homebrew's formulae; the traineddata files are
# byte-identical to Debian's tesseract-ocr-{jpn,jpn-vert,eng,osd} 1:4.1.0 packages, which the test suite uses.
set -euo pipefail

LEPTONICA_VERSION="1.85.0"
LEPTONICA_URL="https://github.com/DanBloomberg/leptonica/releases/download/${LEPTONICA_VERSION}/leptonica-${LEPTONICA_VERSION}.tar.gz"
LEPTONICA_SHA256="3745ae3bf271a6801a2292eead83ac926e3a9bc1bf622e9cd4dd0f3786e17205"
TESSERACT_VERSION="5.5.3"
TESSERACT_URL="https://github.com/tesseract-ocr/tesseract/archive/refs/tags/${TESSERACT_VERSION}.tar.gz"
TESSERACT_SHA256="9218e62793116d42a9f6d14cd9348518b27f382096eea3d0f2d1a24616bb5884"
TESSDATA_VERSION="4.1.0"
TESSDATA_BASE="https://github.com/tesseract-ocr/tessdata_fast/raw/${TESSDATA_VERSION}"
TESSDATA_DIR="/usr/local/share/tessdata"
declare -A TESSDATA_SHA256=(
  [eng]="7d4322bd2a7749724879683fc3912cb542f19906c83bcc1a52132556427170b2"
  [jpn]="1f5de9236d2e85f5fdf4b3c500f2d4926f8d9449f28f5394472d9e8d83b91b4d"
  [jpn_vert]="bf1e2640954691797e2dc14f38533e601b59ee37958698ae0f0b81dc6f09c71b"
  [osd]="9cf5d576fcc47564f11265841e5ca839001e7e6f38ff7f7aacf46d15a96b00ff"
)

# Libraries the binaries keep using, and what is only needed to compile (removed again at the end).
RUNTIME_PACKAGES=(libjpeg-turbo libpng libtiff libwebp openjpeg2 giflib zlib libgomp libarchive)
BUILD_PACKAGES=(gcc gcc-c++ make cmake pkgconf-pkg-config libjpeg-turbo-devel libpng-devel libtiff-devel
  libwebp-devel openjpeg2-devel giflib-devel zlib-devel libarchive-devel)

download() { # URL FILE SHA256
  curl -fsSL --retry 5 --retry-delay 2 --proto '=https' --tlsv1.2 -o "$2" "$1"
  echo "$3  $2" | sha256sum --check --quiet -
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
jobs="$(nproc)"

dnf install -y -q "${RUNTIME_PACKAGES[@]}"
dnf install -y -q "${BUILD_PACKAGES[@]}"

echo "install-tesseract: Leptonica $LEPTONICA_VERSION"
download "$LEPTONICA_URL" "$work/leptonica.tar.gz" "$LEPTONICA_SHA256"
tar -xzf "$work/leptonica.tar.gz" -C "$work"
cmake -S "$work/leptonica-$LEPTONICA_VERSION" -B "$work/leptonica-build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX=/usr/local -DBUILD_SHARED_LIBS=ON -DSW_BUILD=OFF -DBUILD_PROG=OFF >/dev/null
cmake --build "$work/leptonica-build" --parallel "$jobs" >/dev/null
cmake --install "$work/leptonica-build" >/dev/null

cat >/etc/ld.so.conf.d/usr-local.conf <<'EOF'
/usr/local/lib
/usr/local/lib64
EOF
ldconfig

echo "install-tesseract: Tesseract $TESSERACT_VERSION"
download "$TESSERACT_URL" "$work/tesseract.tar.gz" "$TESSERACT_SHA256"
tar -xzf "$work/tesseract.tar.gz" -C "$work"
cmake -S "$work/tesseract-$TESSERACT_VERSION" -B "$work/tesseract-build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX=/usr/local -DCMAKE_PREFIX_PATH=/usr/local -DBUILD_SHARED_LIBS=ON \
  -DBUILD_TRAINING_TOOLS=OFF -DBUILD_TESTS=OFF -DGRAPHICS_DISABLED=ON -DDISABLE_CURL=ON \
  -DENABLE_LTO=OFF >/dev/null
cmake --build "$work/tesseract-build" --parallel "$jobs" >/dev/null
cmake --install "$work/tesseract-build" >/dev/null
ldconfig

echo "install-tesseract: language data (tessdata_fast $TESSDATA_VERSION) into $TESSDATA_DIR"
install -d -m 0755 "$TESSDATA_DIR"
for language in "${!TESSDATA_SHA256[@]}"; do
  download "$TESSDATA_BASE/$language.traineddata" "$work/$language.traineddata" "${TESSDATA_SHA256[$language]}"
  install -m 0644 "$work/$language.traineddata" "$TESSDATA_DIR/$language.traineddata"
done

dnf remove -y -q "${BUILD_PACKAGES[@]}"

installed="$(TESSDATA_PREFIX="$TESSDATA_DIR" /usr/local/bin/tesseract --list-langs 2>&1)"
for language in "${!TESSDATA_SHA256[@]}"; do
  grep -qx "$language" <<<"$installed" || {
    echo "install-tesseract: tesseract does not list $language:" >&2
    echo "$installed" >&2
    exit 1
  }
done
/usr/local/bin/tesseract --version | head -n 1
