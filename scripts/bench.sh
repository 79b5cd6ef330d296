#!/usr/bin/env bash
# The benchmark command: prints one JSON line per figure (see docs/PERFORMANCE.md, "The benchmark"),
# then issue 13's table of them. Speed is measured here, never asserted in timed tests.
# BENCH_NO_BUILD=1 measures the dist/ as it is (or DICELENS_DIST); BENCH_ONLY=a,b limits the
# browser figures (names in e2e/bench.mjs and e2e/bench_page.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
cargo build --release -q -p dicelens-cli --bin dicelens-bench >&2
./target/release/dicelens-bench | tee -a "$out"
if [ -z "${BENCH_NO_BUILD:-}" ]; then
  trunk build --release 2>&1 | tail -1 >&2
fi
# Kernels in WASM, trainer frame time, slider input to drawn, dist/ size.
node e2e/bench.mjs | tee -a "$out"
# Issue 13: first plot on Slow 4G, bytes before it, frames while dragging, trainer steps/s.
node e2e/bench_page.mjs | tee -a "$out"
echo
node e2e/bench_table.mjs "$out"
