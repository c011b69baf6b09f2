#!/usr/bin/env bash
# Sets up everything (scripts/setup.sh) and runs a whole demo hall on this machine: `hallq demo`.
# With a display (or under `xvfb-run`) the kiosk, board and terminal open as windows; without one the
# hall runs headless with simulated citizens and clerks and a live view in this terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/hallq demo "$@"
