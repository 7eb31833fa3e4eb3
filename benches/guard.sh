#!/usr/bin/env bash
# benches/guard.sh -- the performance regression guard: run the criterion benchmarks and compare
# each figure with the one recorded in benches/guard-figures.txt (also quoted in README.md).
#
# Usage: benches/guard.sh [--record] [--no-run]
#
#   Runs `cargo bench --bench matcher` and `cargo bench --bench enumerate`, reads criterion's
#   estimates (target/criterion/<bench>/new/estimates.json, the mean time per iteration) and
#   prints each benchmark's time next to the recorded one. A benchmark more than TOLERANCE
#   percent (default 15) slower than recorded is a REGRESSION and the script exits 1.
#   --record writes the figures just measured into benches/guard-figures.txt instead.
#   --no-run uses criterion's last estimates instead of running the benchmarks again.
#
# It is a benchmark, not a test: the figures belong to the machine they were recorded on (the
# file says which), so compare on that kind of machine, or record afresh before a change and
# run the guard after it. CI does not run it.

set -euo pipefail
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.."

FIGURES=benches/guard-figures.txt
TOLERANCE=${TOLERANCE:-15}
# criterion's directory names under target/criterion (it writes `matcher/build` as matcher_build)
BENCHES=(matcher/scan/clean matcher/scan/with-secrets matcher_build history/enumerate history/read-blobs)

record=0
run=1
for arg in "$@"; do
    case $arg in
    --record) record=1 ;;
    --no-run) run=0 ;;
    *) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    esac
done

if [[ $run == 1 ]]; then
    cargo bench --bench matcher >&2
    cargo bench --bench enumerate >&2
fi

mean_ns() { # criterion's mean estimate for one benchmark, in nanoseconds
    local estimates=target/criterion/$1/new/estimates.json
    [[ -f $estimates ]] || { echo "guard.sh: $estimates missing (benchmark renamed?)" >&2; exit 2; }
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mean"]["point_estimate"])' \
        "$estimates"
}

if [[ $record == 1 ]]; then
    {
        echo "# benchmark  mean-ns   recorded $(date -u +%Y-%m-%d) on $(nproc) cores:" \
            "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
        for bench in "${BENCHES[@]}"; do
            mean=$(mean_ns "$bench")
            printf '%s %.0f\n' "$bench" "$mean"
        done
    } >"$FIGURES"
    cat "$FIGURES"
    exit 0
fi

[[ -f $FIGURES ]] || { echo "guard.sh: $FIGURES missing: run with --record first" >&2; exit 2; }
head -n1 "$FIGURES"
status=0
printf '%-28s %14s %14s %9s\n' benchmark "recorded (ms)" "now (ms)" change
while read -r bench recorded; do
    [[ $bench == \#* || -z $bench ]] && continue
    now=$(mean_ns "$bench") || exit 2
    verdict=$(awk -v now="$now" -v rec="$recorded" -v tol="$TOLERANCE" 'BEGIN {
        change = (now - rec) / rec * 100
        printf "%+8.1f%% %s", change, (change > tol) ? "REGRESSION" : "ok" }')
    awk -v b="$bench" -v rec="$recorded" -v now="$now" -v v="$verdict" \
        'BEGIN { printf "%-28s %14.2f %14.2f %s\n", b, rec / 1e6, now / 1e6, v }'
    [[ $verdict == *REGRESSION* ]] && status=1
done <"$FIGURES"
exit $status
