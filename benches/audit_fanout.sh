#!/usr/bin/env bash
# What one `audit` process saves over separate runs: 20 repositories served as file:// URLs
# (copies of one generated repository), audited in one process (which mirrors repository i+1
# while scanning repository i) against the sum of 20 `history URL` runs, each mirroring and
# scanning in turn.
#
#   benches/audit_fanout.sh [LEAKHOUND_BINARY] [COMMITS]
set -euo pipefail
binary=$(realpath "${1:-target/release/leakhound}")
commits=${2:-2000}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$here/gen_repo.py" "$work/origin" --commits "$commits" >/dev/null
for i in $(seq -w 1 20); do
    git clone -q --no-local --mirror "$work/origin" "$work/repo-$i.git"
    echo "file://$work/repo-$i.git" >>"$work/repos.txt"
done
start=$(date +%s.%N)
"$binary" audit --repos "$work/repos.txt" --clone-cache "$work/cache-audit" --no-progress \
    --format json --output /dev/null 2>/dev/null || true
audit=$(echo "$(date +%s.%N) - $start" | bc)
start=$(date +%s.%N)
while read -r url; do
    "$binary" history "$url" --clone-cache "$work/cache-single" --no-progress \
        --format json --output /dev/null 2>/dev/null || true
done <"$work/repos.txt"
single=$(echo "$(date +%s.%N) - $start" | bc)
printf 'one audit of 20 repositories: %.2f s; 20 history runs: %.2f s (%s commits each, %s cores)\n' \
    "$audit" "$single" "$commits" "$(nproc)"
