#!/usr/bin/env bash
# benches/decode_overhead.sh -- what looking inside encoded text costs on the worst ordinary
# case: a tree full of base64 images (data: URIs), where every image is one long base64 run
# that the decoder must find and then reject (it decodes to binary).
#
# Usage: benches/decode_overhead.sh [FILES] [IMAGE_BYTES]   (defaults: 400 files, 60000 bytes)
# Needs hyperfine (apt-get install hyperfine); uses target/release/leakhound (builds it if absent).
# Prints `leakhound scan` with and without --no-decode; the issue's budget is +30%.
set -euo pipefail
cd "$(dirname "$0")/.."
files="${1:-400}"
image_bytes="${2:-60000}"
binary="${LEAKHOUND:-target/release/leakhound}"
[ -x "$binary" ] || cargo build --release
corpus="$(mktemp -d "${TMPDIR:-/tmp}/leakhound-b64.XXXXXX")"
trap 'rm -rf "$corpus"' EXIT
python3 - "$corpus" "$files" "$image_bytes" <<'PY'
import base64, random, sys
out, files, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(1)
for i in range(files):
    image = bytes(rng.getrandbits(8) for _ in range(size))
    with open(f"{out}/page{i}.html", "w") as f:
        f.write('<html><body><img src="data:image/png;base64,'
                + base64.b64encode(image).decode() + '"/>\n<p>text</p></body></html>\n')
PY
echo "corpus: $files HTML files with ${image_bytes}-byte base64 images ($(du -sh "$corpus" | cut -f1)), $(nproc) cores"
hyperfine --warmup 2 --runs 15 -N -i \
    -n decode "$binary scan $corpus --no-progress --output /dev/null" \
    -n no-decode "$binary scan $corpus --no-progress --output /dev/null --no-decode"
