#!/usr/bin/env bash
# Sets up everything (scripts/setup.sh) and runs every test: ruff, mypy, then pytest under Xvfb.
# Screenshots and WAV files the tests make land in artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
ruff check hallq server kiosk caller display hardware tests bench
ruff format --check hallq server kiosk caller display hardware tests bench
mypy hallq server kiosk caller display hardware
mkdir -p artifacts
# Two workers (one per core of a small CI machine; most tests wait on processes they start), each
# taking whole test files so a module's dispatcher starts once; HALLQ_TEST_WORKERS=0 runs in one process.
xvfb-run -a -s "-screen 0 1920x1920x24" python -m pytest -q -p no:cacheprovider --durations=15 \
    -n "${HALLQ_TEST_WORKERS:-2}" --dist loadfile "$@"
