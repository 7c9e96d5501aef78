#!/usr/bin/env bash
# Runs every test: unit tests, kernel tests in throwaway network namespaces,
# and the lab's end-to-end tests. Installs what it needs first (Debian 12, root).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
echo "== building (release)"
cargo build --release --workspace --all-targets
echo "== testing"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# Kernel and lab tests are #[ignore = "needs root and network namespaces"], so a
# plain `cargo test` (any user) runs only the pure tests; --include-ignored runs
# them too, and each fails loudly if it cannot create namespaces (netns::require_root).
# They share the machine's CPUs and create namespaces: two at a time.
cargo test --release --workspace --no-fail-fast -- --include-ignored --test-threads=2 2>&1 | tee "$log" || status=$?
# One closing line with the totals of every test binary.
grep -E '^test result:' "$log" | awk '{p+=$4; f+=$6; s+=$8} END {printf "tests: %d passed, %d failed, %d skipped\n", p, f, s}'
exit "$status"
