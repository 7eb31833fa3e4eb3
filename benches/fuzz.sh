#!/usr/bin/env bash
# Runs the seeded property tests (tests/integration/robustness.rs) over many more cases than
# `cargo test` does. Usage: benches/fuzz.sh [CASES]   (default 50000)
set -euo pipefail
cd "$(dirname "$0")/.."
LEAKHOUND_FUZZ_CASES="${1:-50000}" cargo test --release --test integration robustness -- --nocapture
