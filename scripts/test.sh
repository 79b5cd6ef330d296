#!/usr/bin/env bash
# The README's second command: set up every tool (idempotent), then run every check and test:
# format, clippy (native and wasm32), native tests, a release build, and browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== clippy (native)"
cargo clippy --workspace --all-targets -- -D warnings
echo "== clippy (wasm32)"
cargo clippy --target wasm32-unknown-unknown -p dicelens-app -p dicelens-core -p dicelens-plot -p dicelens-worker --all-targets -- -D warnings
echo "== cargo test"
cargo test --workspace
echo "== trunk build --release"
trunk build --release
echo "== browser tests (Chromium via Playwright; the smoke suite also in Firefox ESR and WebKitGTK)"
node --test --test-concurrency=1 e2e/
