#!/usr/bin/env bash
# The console page in headless Chromium, fed by live traffic through the real binary
# (console_page_test.py says what it checks).
#   console_page_test.sh PATH_TO_PORTICO [SCREENSHOT.png]
# Exits 77 (skipped) when Debian's chromium is not installed; PORTICO_CHROMIUM names another.
set -euo pipefail
binary=${1:?usage: console_page_test.sh PATH_TO_PORTICO [SCREENSHOT.png]}
chromium=${PORTICO_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "skipped: no chromium at $chromium (apt-get install chromium)"
  exit 77
fi
# Debian's python3 first: the test needs only its standard library.
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3)
here=$(cd "$(dirname "$0")" && pwd)
args=(--binary "$binary" --chromium "$chromium")
if [ -n "${2:-}" ]; then
  args+=(--screenshot "$2")
fi
exec "$python" -B "$here/console_page_test.py" "${args[@]}"
