#!/usr/bin/env bash
# System packages the tests need beyond Python: Debian's Chromium (the html reports are checked in a
# real headless browser) and poppler-utils (pdftoppm and pdftotext check the pdf reports).
# Idempotent: installs only what is missing, and runs `apt-get update` only when something is.
# Called by `make unit` (so by `make test` and CI) before pytest.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
{ command -v pdftoppm >/dev/null && command -v pdftotext >/dev/null; } || missing+=(poppler-utils)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    echo "scripts/test-deps.sh: the tests need the Debian packages: ${missing[*]}" >&2
    echo "  install them as root: apt-get install -y ${missing[*]}" >&2
    exit 1
fi

if ! command -v apt-get >/dev/null; then
    echo "scripts/test-deps.sh: no apt-get here; install these packages by hand: ${missing[*]}" >&2
    exit 1
fi

echo "scripts/test-deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
