#!/usr/bin/env bash
# History benchmark on real repositories, side by side with the peers: runs
# benches/compare.sh (HISTORY_ONLY=1) on each of curl/curl, git/git and
# trufflesecurity/trufflehog. Each is cloned once with `git clone --no-local --mirror` into
# $BENCH_CACHE/<name> (every ref, as `history` reads them) from $SOURCE_<NAME> if set (a local
# mirror), else from GitHub; delete the directory to refresh it.
#
#   benches/real_repos.sh [curl git trufflehog]
#
# Environment: as compare.sh (LEAKHOUND, RUNS, PEERS, BENCH_CACHE, LEAKHOUND_HISTORY_ARGS);
# PRECOMMIT is forced off. The corpus commits measured are printed before each table.
set -euo pipefail
SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
BENCH_CACHE=${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/leakhound-bench}
declare -A URL=(
    [curl]=https://github.com/curl/curl.git
    [git]=https://github.com/git/git.git
    [trufflehog]=https://github.com/trufflesecurity/trufflehog.git
)
names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=(trufflehog curl git)
for name in "${names[@]}"; do
    [[ -n ${URL[$name]:-} ]] || { echo "real_repos.sh: unknown repository $name" >&2; exit 2; }
    dir=$BENCH_CACHE/$name
    if [[ ! -d $dir ]]; then
        source_var=SOURCE_${name^^}
        git clone --no-local --mirror -q "${!source_var:-${URL[$name]}}" "$dir"
    fi
    echo "== $name: HEAD $(git -C "$dir" rev-parse HEAD), $(git -C "$dir" rev-list --all --count) commits, $(nproc) cores"
    HISTORY_ONLY=1 PRECOMMIT=0 HISTORY_REPO=$dir "$SCRIPT_DIR/compare.sh" "$dir"
done
