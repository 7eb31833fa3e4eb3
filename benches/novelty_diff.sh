#!/usr/bin/env bash
# Differential check of history's novelty scanning: runs `leakhound history` on a repository
# twice, matching only what each version of a file changed (the default) and matching every
# version whole (`--full-blob-scan`), and prints the set difference of the findings as users
# see them: (rule, path, line, column, introducing commit, status, occurrences).
#
#   benches/novelty_diff.sh REPO [LEAKHOUND_BINARY]
#
# Exit 0 when both runs report the same findings, 1 when they differ.
set -euo pipefail
repo=${1:?usage: novelty_diff.sh REPO [BINARY]}
binary=${2:-target/release/leakhound}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for mode in novelty full; do
    extra=()
    [ "$mode" = full ] && extra=(--full-blob-scan)
    /usr/bin/time -f "$mode: %e s, %M KB peak" "$binary" history "$repo" --format json \
        --no-progress --allow-missing "${extra[@]}" >"$work/$mode.json" \
        2>"$work/$mode.err" || true
    tail -n 2 "$work/$mode.err"
done
python3 - "$work/novelty.json" "$work/full.json" <<'PY'
import json, sys

def load(path):
    with open(path) as handle:
        findings = json.load(handle)
    def key(f):
        occurrences = tuple(sorted(
            (o["path"], o["line"], o["column"], o.get("commit")) for o in f.get("occurrences", [])))
        return (f["rule_id"], f["path"], f["line"], f["column"], f.get("commit"), f.get("status"),
                f.get("fingerprint"), occurrences)
    return {key(f): f for f in findings}

novelty, full = load(sys.argv[1]), load(sys.argv[2])
only_novelty = sorted(set(novelty) - set(full))
only_full = sorted(set(full) - set(novelty))
print(f"findings: novelty {len(novelty)}, full {len(full)}; "
      f"only with novelty {len(only_novelty)}, only with full scan {len(only_full)}")
for label, keys in (("only novelty", only_novelty), ("only full", only_full)):
    for k in keys[:40]:
        rule, path, line, column, commit, status, fingerprint, occurrences = k
        print(f"  {label}: {rule} {path}:{line}:{column} {commit} {status} "
              f"{fingerprint} occurrences={len(occurrences)}")
sys.exit(1 if only_novelty or only_full else 0)
PY
