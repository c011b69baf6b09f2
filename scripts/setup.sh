#!/usr/bin/env bash
# Installs what hallq needs on a fresh Debian machine: Debian packages, a venv in .venv with hallq and
# all extras. Run it as root or as a user: only the Debian packages need root, and for them it calls
# sudo itself when not root (a Debian root shell often has no sudo). Safe to run again: it only adds
# what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
DEB_PACKAGES=(python3-venv python3-dev build-essential mosquitto espeak-ng alsa-utils xvfb xauth
  fonts-noto-cjk fonts-wqy-microhei poppler-utils fontconfig chromium tesseract-ocr tesseract-ocr-chi-sim imagemagick sox zbar-tools
  libgl1 libgles2 libegl1 libmtdev1 libsdl2-2.0-0 libsdl2-image-2.0-0 libsdl2-ttf-2.0-0 libsdl2-mixer-2.0-0
  libusb-1.0-0 xclip x11-utils)
missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    echo "setup.sh: installing ${missing[*]} needs root: run this script as root, or install sudo" >&2
    exit 1
  fi
}
if [ ${#missing[@]} -gt 0 ]; then
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[all]"
