#!/usr/bin/env bash
# The benchmark command: prints one JSON line per figure (see docs/PERFORMANCE.md, "The benchmark").
# Speed is measured here, never asserted in timed tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
cargo build --release -q -p dicelens-cli --bin dicelens-bench >&2
./target/release/dicelens-bench
trunk build --release >&2 2>&1 | tail -1 >&2
node e2e/bench.mjs
