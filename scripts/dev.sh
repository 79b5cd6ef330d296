#!/usr/bin/env bash
# The README's first command: set up every tool (idempotent), then serve the app with live
# reload at http://127.0.0.1:8080/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
exec trunk serve "$@"
