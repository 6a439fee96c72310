#!/usr/bin/env bash
# System packages the tests need beyond Python: Debian's Chromium (the html reports are checked in a
# real headless browser) and poppler-utils (pdftoppm and pdftotext check the pdf reports); and one
# they run faster with, Debian's jemalloc (scripts/jemalloc.sh: `make unit` preloads it into the
# test processes), installed where this script can install packages and skipped where it cannot.
# Idempotent: installs only what is missing, and runs `apt-get update` only when something is.
# Called by `make unit` (so by `make test` and CI) before pytest.
set -euo pipefail

here="$(dirname "$0")"
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
{ command -v pdftoppm >/dev/null && command -v pdftotext >/dev/null; } || missing+=(poppler-utils)
faster=()
[ -n "$(bash "$here/jemalloc.sh")" ] || faster+=(libjemalloc2)

if [ ${#missing[@]} -eq 0 ] && { [ ${#faster[@]} -eq 0 ] || ! command -v apt-get >/dev/null; }; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
elif [ ${#missing[@]} -eq 0 ]; then
    exit 0  # only the faster allocator is missing, and nobody here may install it: run without it
else
    echo "scripts/test-deps.sh: the tests need the Debian packages: ${missing[*]}" >&2
    echo "  install them as root: apt-get install -y ${missing[*]}" >&2
    exit 1
fi

if ! command -v apt-get >/dev/null; then
    echo "scripts/test-deps.sh: no apt-get here; install these packages by hand: ${missing[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq || [ ${#missing[@]} -eq 0 ]
if [ ${#missing[@]} -gt 0 ]; then
    echo "scripts/test-deps.sh: installing ${missing[*]}" >&2
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ${#faster[@]} -gt 0 ]; then
    # Only faster: a failed install leaves the tests as they are, run on the C library's malloc.
    echo "scripts/test-deps.sh: installing ${faster[*]}" >&2
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${faster[@]}" >/dev/null ||
        echo "scripts/test-deps.sh: ${faster[*]} not installed; the tests run without it" >&2
fi
