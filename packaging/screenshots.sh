#!/usr/bin/env bash
# Screenshots of the real windows under Xvfb: the live app, the style panel and the kiosk.
# Installs Xvfb and the X libraries Qt's xcb platform needs (Debian), then writes PNGs into
# build/screenshots/. Run from the repository root after `make setup`.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=(xvfb xauth libxcb-icccm4 libxcb-cursor0 libxcb-image0 libxcb-keysyms1 libxcb-randr0
      libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
export FACELENS_MODELS="${FACELENS_MODELS:-$PWD/build/models}"
out=build/screenshots
mkdir -p "$out"
run() { xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python "$@"; }
run packaging/screenshot_app.py --out "$out/app.png"
run packaging/screenshot_dialogs.py "$out"
run packaging/screenshot_style.py "$out/style_panel.png"
run packaging/screenshot_kiosk.py "$out"
run packaging/screenshot_first_run.py "$out"
ls -l "$out"
