#!/usr/bin/env bash
# Peak memory on keyword-dense input: a 40 MB single line of `token=a;` (and of `password=a;`,
# whose keyword belongs to context rules) scanned as a file and as two versions in history.
# The bar (issue 11): peak RSS at most twice the file plus 64 MiB.
#
#   benches/dense_memory.sh [LEAKHOUND_BINARY]
set -euo pipefail
binary=$(realpath "${1:-target/release/leakhound}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for word in token password; do
    python3 -c "import sys; sys.stdout.write('$word=a;' * (40_000_000 // len('$word=a;')))" \
        >"$work/$word.txt"
    size=$(stat -c %s "$work/$word.txt")
    bar=$(( (2 * size + 64 * 1024 * 1024) / 1024 ))
    /usr/bin/time -f "scan    $word: %e s, %M KB peak (bar $bar KB)" \
        "$binary" scan "$work/$word.txt" --no-progress --quiet --max-file-size 100000000 || true
    repo="$work/repo-$word"
    git init -q "$repo"
    cp "$work/$word.txt" "$repo/dense.txt"
    git -C "$repo" add dense.txt
    git -C "$repo" -c user.name=b -c user.email=b@b commit -qm one
    echo x >>"$repo/dense.txt"
    git -C "$repo" -c user.name=b -c user.email=b@b commit -qam two
    /usr/bin/time -f "history $word: %e s, %M KB peak (bar $bar KB)" \
        "$binary" history "$repo" --no-progress --quiet --max-file-size 100000000 || true
done

# The memory budget: eight 90 MB keyword-dense files on 8 threads, without a binding budget and
# with two that bind (one file's reservation is its size, so 100M admits one at a time).
python3 -c "import sys; sys.stdout.write('token=a;' * (90_000_000 // 8))" >"$work/big-1.txt"
for i in 2 3 4 5 6 7 8; do cp "$work/big-1.txt" "$work/big-$i.txt"; done
mkdir "$work/big" && mv "$work"/big-*.txt "$work/big/"
for budget in "" 200M 100M; do
    /usr/bin/time -f "scan 8 x 90 MB, 8 threads, budget ${budget:-default}: %e s, %M KB peak" \
        "$binary" scan "$work/big" --threads 8 --no-progress --quiet ${budget:+--memory-budget "$budget"} || true
done
