#!/usr/bin/env bash
# The main job: a multi-cluster lab in network namespaces, one routeagent per
# node, real traffic across clusters, then everything removed again.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release -p routeagent
exec ./target/release/routeagent lab demo "$@"
