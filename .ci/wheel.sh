#!/usr/bin/env bash
# The binary wheel: built with maturin (pyproject.toml, `bindings = "bin"`), installed with pip
# into a fresh virtualenv, and smoke-tested: the installed `leakhound` must report its version,
# find a planted token (exit 1) and pass a clean tree (exit 0). Run by .ci/run after the tests.
# maturin comes from PyPI; if PyPI cannot be reached the step says so and is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 -m venv "$work/build"
if ! "$work/build/bin/pip" install --quiet "maturin>=1.5,<2"; then
    echo "== wheel: skipped (cannot install maturin from PyPI)"
    exit 0
fi
"$work/build/bin/maturin" build --release --quiet --out "$work/wheels"
python3 -m venv "$work/install"
"$work/install/bin/pip" install --quiet --no-index "$work"/wheels/leakhound-*.whl
leakhound="$work/install/bin/leakhound"
"$leakhound" --version

mkdir -p "$work/clean" "$work/planted"
echo "nothing to see" >"$work/clean/readme.txt"
"$leakhound" scan "$work/clean" --no-progress --quiet
# A GitHub token with valid check digits (CRC32 of the body in base62), made up here.
python3 - "$work/planted/deploy.env" <<'PY'
import random, sys, zlib
alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
rng = random.Random(7)
body = "".join(rng.choice(alphabet) for _ in range(30))
value, digits = zlib.crc32(body.encode()), ""
for _ in range(6):
    digits = alphabet[value % 62] + digits
    value //= 62
open(sys.argv[1], "w").write("GH_TOKEN=ghp_" + body + digits + "\n")
PY
status=0
"$leakhound" scan "$work/planted" --no-progress --quiet >/dev/null || status=$?
if [ "$status" -ne 1 ]; then
    echo "== wheel: the installed leakhound exited $status on a planted token (expected 1)" >&2
    exit 1
fi
echo "== wheel: built, installed and smoke-tested ($(ls "$work"/wheels))"
